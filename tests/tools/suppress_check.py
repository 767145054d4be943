#!/usr/bin/python3
"""The alert lifecycle: suppressions with a scope, an end and a reason; incident keys.

usage: suppress_check.py MIMAMORI GENERATOR WORKDIR

On generated scenarios (packet times 2026-11-24, the model hospital's site file with
maintenance.timezone Asia/Tokyo), with suppress entries added by the test:
- by category and source zone, until the end of 2026-12-31 (Tokyo): the lateral movement alert
  is silenced, counted once under that entry in the stats event (ndpi.suppressions) with its
  reason and its end (2026-12-31T15:00Z);
- until 2026-11-24T13:00 Tokyo (04:00Z, before the packets): it no longer applies, the alert is
  raised, the log says the entry ended and the stats mark it ended; --test-config warns of it;
- an entry naming both or neither of rule and category, an unknown category or a malformed
  until is an error at its line;
- incident keys: an alert and the report of its folded repeats carry the same key, other alerts
  other keys, each "sid-hosts-start".
"""
import json
import os
import re
import shutil
import subprocess
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livetest import check, failures  # noqa: E402



def run(mimamori, site, pcap):
    r = subprocess.run([mimamori, "-c", site, "-r", pcap, "--eve", "-"], capture_output=True,
                       text=True, env=dict(os.environ, TZ="UTC"))
    if r.returncode != 0:
        raise SystemExit(f"FAIL mimamori: {r.stderr}")
    events = [json.loads(x) for x in r.stdout.splitlines()]
    return events, r.stderr


def with_suppress(base, out, entries):
    cfg = yaml.safe_load(open(base))
    cfg["suppress"] = entries
    with open(out, "w") as f:
        yaml.safe_dump(cfg, f, allow_unicode=True)
    return out


def main():
    mimamori, gen, work = sys.argv[1:4]
    shutil.rmtree(work, ignore_errors=True)
    scen = os.path.join(work, "scenarios")
    os.makedirs(scen)
    subprocess.run([gen, scen], check=True, stdout=subprocess.DEVNULL)
    lateral = os.path.join(scen, "lateral_attack")
    base, pcap = os.path.join(lateral, "site.yaml"), os.path.join(lateral, "input.pcap")
    check(yaml.safe_load(open(base))["maintenance"]["timezone"] == "Asia/Tokyo",
          "the scenario's site is on Tokyo time")
    events, _ = run(mimamori, base, pcap)
    alerts = [e for e in events if e["event_type"] == "alert"]
    check(len(alerts) == 1 and alerts[0]["alert"]["category"] == "Lateral movement",
          "without a suppression: one lateral movement alert "
          f"({[(e['alert']['metadata']['rule'][0], e['timestamp']) for e in alerts]})")

    site = with_suppress(base, os.path.join(work, "a.yaml"), [
        {"category": "Lateral movement", "source": ["clinical"], "until": "2026-12-31",
         "reason": "CHG-0042 EMR migration"}])
    events, _ = run(mimamori, site, pcap)
    stats = [e for e in events if e["event_type"] == "stats"][-1]
    supp = stats["ndpi"].get("suppressions", [])
    check(not [e for e in events if e["event_type"] == "alert"],
          "by category and zone, until the end of 2026-12-31: silenced")
    check(len(supp) == 1 and supp[0]["suppressed"] == 1 and supp[0]["ended"] is False and
          supp[0]["reason"] == "CHG-0042 EMR migration" and
          supp[0]["category"] == "Lateral movement" and
          supp[0]["until"].startswith("2026-12-31T15:00:00") and
          re.fullmatch(r".*a\.yaml:\d+:\d+", supp[0]["entry"]),
          f"counted under its entry in the stats: {supp}")
    check(stats["stats"]["detect"]["alerts_suppressed"] == 1, "and in detect.alerts_suppressed")

    site = with_suppress(base, os.path.join(work, "b.yaml"), [
        {"rule": "lateral.admin_protocol_into_core", "until": "2026-11-24T13:00",
         "reason": "CHG-0007"}])
    events, err = run(mimamori, site, pcap)
    supp = [e for e in events if e["event_type"] == "stats"][-1]["ndpi"]["suppressions"]
    check(len([e for e in events if e["event_type"] == "alert"]) == 1 and
          supp[0]["ended"] is True and supp[0]["suppressed"] == 0,
          "until 13:00 Tokyo, before the packets: not applied, marked ended")
    check("suppression for CHG-0007 ended" in err, "the log says it ended")
    r = subprocess.run([mimamori, "-c", site, "--test-config"], capture_output=True, text=True)
    check(r.returncode == 0 and "warning: suppression ended 2026-11-24T13:00" in r.stderr,
          "--test-config warns of the ended entry")

    for entry, want in (({"rule": "lateral.admin_protocol_into_core",
                          "category": "Lateral movement"}, "one of them"),
                        ({"source": ["clinical"]}, "one of them"),
                        ({"category": "Sideways movement"}, "not an alert category"),
                        ({"category": "Lateral movement", "until": "next week"},
                         "YYYY-MM-DD or YYYY-MM-DDTHH:MM")):
        site = with_suppress(base, os.path.join(work, "bad.yaml"), [entry])
        r = subprocess.run([mimamori, "-c", site, "--test-config"], capture_output=True,
                           text=True)
        check(r.returncode == 1 and want in r.stderr and re.search(r"bad\.yaml:\d+:\d+:", r.stderr),
              f"{entry}: an error at its line ({want})")

    # incident keys: the obsolete scenario's Telnet pair is alerted, then its repeat reported
    obs = os.path.join(scen, "obsolete_attack")
    events, _ = run(mimamori, os.path.join(obs, "site.yaml"), os.path.join(obs, "input.pcap"))
    keys = {}
    for e in events:
        if e["event_type"] == "alert":
            md = e["alert"]["metadata"]
            k = md["incident_key"][0]
            check(re.fullmatch(r"%d-[0-9a-f]{12}-\d+" % e["alert"]["signature_id"], k) is not None,
                  f"incident key {k} of {md['rule'][0]}")
            keys.setdefault(k, []).append(any(x.startswith("repeats_since=")
                                              for x in md["evidence"]))
    check(any(v == [False, True] for v in keys.values()),
          "an alert and its repeats' report share one key")
    check(all(v in ([False], [False, True]) for v in keys.values()),
          f"one alert per key, with at most its report ({len(keys)} keys)")
    print(f"{'FAIL' if failures else 'ok  '} suppress_check: {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
