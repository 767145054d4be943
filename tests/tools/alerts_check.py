#!/usr/bin/python3
"""Check mimamori-alerts on an EVE file the sensor wrote for the generated scenarios.

usage: alerts_check.py MIMAMORI-ALERTS MIMAMORI GENERATOR WORKDIR

What the view must show is worked out here from the EVE file itself:
- grouping: alerts sharing a host (either end) within 30 minutes of that host's previous alert
  form one incident (union-find over the alerts in time order, written here without looking at
  the tool's); every alert is in exactly one incident;
- ordering: incidents by severity, then the latest activity first;
- filters: --severity, --zone, --host (address, and a name from --inventory), --rule (key,
  file prefix, id, category), --since/--until keep exactly the alerts that match;
- languages: the Japanese view has each incident's lead message_ja and the next_step_ja of
  each of its rules, the zone descriptions; the English view the signature and next_step_en;
- following: alerts appended to a file being followed are printed with their incident;
- bad input: a broken line is counted on stderr and the rest still read; a missing file exits 1,
  a bad option 2.
"""
import json
import os
import subprocess
import sys
import threading
import time
from datetime import datetime

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livetest import check, failures  # noqa: E402
import eve_build  # noqa: E402

WINDOW = 30 * 60


def ts(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def key(e):
    """One alert, as both the EVE file and the tool's --json name it."""
    a = e["alert"] if "alert" in e else e
    return (e["timestamp"], a["signature_id"], e.get("src_ip"), e.get("dest_ip"),
            e.get("src_port", 0))


def expected_groups(alerts):
    alerts = sorted(alerts, key=lambda e: (ts(e["timestamp"]), e["alert"]["signature_id"]))
    parent = list(range(len(alerts)))

    def find(i):
        while parent[i] != i:
            i = parent[i]
        return i

    last = {}  # host -> (alert index, time)
    for i, e in enumerate(alerts):
        hosts = {h for h in (e.get("src_ip"), e.get("dest_ip")) if h}
        if not hosts:
            hosts = {"rule:" + e["alert"]["metadata"]["rule"][0]}
        t = ts(e["timestamp"])
        for h in hosts:
            if h in last and abs(t - last[h][1]) <= WINDOW:
                a, b = find(i), find(last[h][0])
                parent[max(a, b)] = min(a, b)
        for h in hosts:
            last[h] = (i, max(t, last[h][1]) if h in last else t)
    groups = {}
    for i, e in enumerate(alerts):
        groups.setdefault(find(i), set()).add(key(e))
    return sorted(sorted(g) for g in groups.values())


def run(tool, args, **kw):
    return subprocess.run([tool] + args, capture_output=True, text=True,
                          env=dict(os.environ, TZ="UTC", NO_COLOR="1"), **kw)


def incidents(tool, args):
    r = run(tool, ["--json"] + args)
    if r.returncode != 0:
        raise SystemExit(f"FAIL {args}: exit {r.returncode}: {r.stderr}")
    return [json.loads(line) for line in r.stdout.splitlines()]


def kept(tool, args, eve):
    return sorted(key(e) for i in incidents(tool, args + [eve]) for e in i["events"])


def main():
    tool, mimamori, gen, work = sys.argv[1:5]
    eve, inv, _, names = eve_build.build(gen, mimamori, work, None)
    events = [json.loads(line) for line in open(eve)]
    alerts = [e for e in events if e["event_type"] == "alert"]
    print(f"     {len(names)} scenarios, {len(events)} events, {len(alerts)} alerts")
    check(len(alerts) > 50, "the built file has alerts to group")

    got = incidents(tool, [eve])
    check(sorted(sorted(key(e) for e in i["events"]) for i in got) == expected_groups(alerts),
          f"grouping: {len(got)} incidents as worked out here")
    check(sum(i["alerts"] for i in got) == len(alerts), "every alert in one incident")
    order = [(i["severity"], -ts(i["last"])) for i in got]
    check(order == sorted(order), "incidents by severity, then the latest first")
    check(any(i["alerts"] > 1 for i in got), "some incident groups several alerts")
    check(sorted(i["incident"] for i in got) == list(range(1, len(got) + 1)), "numbered 1..n")
    firsts = sorted((ts(i["first"]), i["incident"]) for i in got)
    check([n for _, n in firsts] == sorted(n for _, n in firsts), "numbered in order of start")

    # filters, each against the alerts that match it here
    def want(pred):
        return sorted(key(e) for e in alerts if pred(e))

    md = lambda e: e["alert"]["metadata"]  # noqa: E731
    for sev in (1, 2):
        check(kept(tool, ["--severity", str(sev)], eve) ==
              want(lambda e: e["alert"]["severity"] <= sev), f"--severity {sev}")
    check(kept(tool, ["--zone", "emr"], eve) ==
          want(lambda e: "emr" in md(e).get("src_zone", []) + md(e).get("dest_zone", [])),
          "--zone emr")
    host = alerts[0]["src_ip"]
    check(kept(tool, ["--host", host], eve) ==
          want(lambda e: host in (e.get("src_ip"), e.get("dest_ip"))), f"--host {host}")
    check(kept(tool, ["--rule", "recon"], eve) ==
          want(lambda e: md(e)["rule"][0].startswith("recon.")), "--rule recon (a file prefix)")
    check(kept(tool, ["--rule", "9100301"], eve) ==
          want(lambda e: e["alert"]["signature_id"] == 9100301), "--rule 9100301")
    check(kept(tool, ["--rule", "Remote maintenance"], eve) ==
          want(lambda e: e["alert"]["category"] == "Remote maintenance"), "--rule a category")
    times = sorted({ts(e["timestamp"]) for e in alerts})
    cut = times[len(times) // 2]
    since = datetime.utcfromtimestamp(cut).strftime("%Y-%m-%dT%H:%M:%S") + "+00:00"
    check(kept(tool, ["--since", since], eve) == want(lambda e: ts(e["timestamp"]) >= int(cut)),
          "--since")
    check(kept(tool, ["--until", since], eve) == want(lambda e: ts(e["timestamp"]) < int(cut)),
          "--until")

    # a name from the inventory: the tool's --inventory names a device the alerts do not
    named = os.path.join(work, "named.json")
    with open(named, "w") as f:
        f.write(json.dumps({"ip": host, "names": ["WARD3-PC12"], "zone": "clinical"}) + "\n")
    check(kept(tool, ["--inventory", named, "--host", "ward3-pc12"], eve) ==
          want(lambda e: host in (e.get("src_ip"), e.get("dest_ip"))), "--host by name")
    text = run(tool, ["--inventory", named, eve]).stdout
    check(f"{host} WARD3-PC12" in text, "the name beside the address in the view")

    # languages
    ja = run(tool, ["--all", eve]).stdout
    en = run(tool, ["--all", "--lang", "en", eve]).stdout
    leads_ja = leads_en = steps = 0
    for i in got:
        ev = [e for e in alerts if key(e) in {key(x) for x in i["events"]}]
        lead = min(ev, key=lambda e: (e["alert"]["severity"], ts(e["timestamp"])))
        leads_ja += f"#{i['incident']} " in ja and md(lead)["message_ja"][0] in ja
        leads_en += lead["alert"]["signature"] in en
        steps += all(md(e)["next_step_ja"][0] in ja and md(e)["next_step_en"][0] in en
                     for e in ev)
    check(leads_ja == len(got), f"Japanese view: each incident's lead message ({leads_ja})")
    check(leads_en == len(got), f"English view: each incident's lead signature ({leads_en})")
    check(steps == len(got), "next steps of every rule in both languages")
    check(not any(md(e)["message_ja"][0] in en for e in alerts), "no message_ja in English")
    check(eve_build.DESCRIPTIONS["emr"] in ja, "zone descriptions shown")
    check("インシデント" in ja and "次の対応" in ja and "what to do next" in en, "both languages")

    # a broken line and a missing file
    broken = os.path.join(work, "broken.json")
    with open(eve) as f, open(broken, "w") as out:
        lines = f.readlines()
        out.writelines(lines[:10] + ['{"event_type":"alert", cut\n'] + lines[10:])
    r = run(tool, ["--json", broken])
    check(r.returncode == 0 and "1 line was" in r.stderr and
          sum(json.loads(x)["alerts"] for x in r.stdout.splitlines()) == len(alerts),
          "a broken line counted, the rest read")
    check(run(tool, [os.path.join(work, "missing.json")]).returncode == 1, "missing file: 1")
    check(run(tool, ["--severity", "9", eve]).returncode == 2, "bad option: 2")

    follow(tool, work, lines, [])
    follow(tool, work, lines, ["--json"])
    print(f"{'FAIL' if failures else 'ok  '} alerts_check: {len(failures)} failures")
    return 1 if failures else 0


def follow(tool, work, lines, extra):
    """Half the file, then the rest appended (in pieces, one cut mid-line): every alert of the
    second half is printed as it arrives (with --json: one object each, with its incident)."""
    live = os.path.join(work, "live.json")
    half = len(lines) // 2
    with open(live, "w") as f:
        f.writelines(lines[:half])
    later = [json.loads(x) for x in lines[half:]]
    later = [e for e in later if e["event_type"] == "alert"]
    p = subprocess.Popen([tool, "-f", "--lang", "en", live] + extra, stdout=subprocess.PIPE, text=True,
                         env=dict(os.environ, TZ="UTC", NO_COLOR="1"))
    out = []
    reader = threading.Thread(target=lambda: out.extend(p.stdout), daemon=True)
    reader.start()
    deadline = time.time() + 60  # the first view, then appending (else they would be in it)
    while time.time() < deadline and not any(x.startswith("{") if extra else "incidents" in x
                                             for x in list(out)):
        time.sleep(0.1)
    rest = "".join(lines[half:])
    with open(live, "a") as f:
        for piece in (rest[:len(rest) // 3], rest[len(rest) // 3:]):
            f.write(piece)
            f.flush()
            time.sleep(0.7)
    # An arrival is "#N headline" (the first view's headers are "#N [Severity] ..."), or with
    # --json an object with "new_incident".
    def arrivals():
        if extra:
            return sum(1 for x in list(out) if "new_incident" in json.loads(x))
        return sum(1 for x in list(out) if x.startswith("#") and not x.split()[1].startswith("["))

    deadline = time.time() + 60
    while time.time() < deadline and arrivals() < len(later):
        time.sleep(0.2)
    p.terminate()
    p.wait()
    reader.join(5)
    printed = "".join(out)
    if extra:
        got = [json.loads(x) for x in out if "new_incident" in json.loads(x)]
        check(len(got) == len(later) and all(g["incident"] > 0 for g in got) and
              [g["src_ip"] for g in got] == [e.get("src_ip") for e in later],
              f"following --json: the {len(later)} alerts appended, each with its incident")
        return
    check(arrivals() == len(later) and len(later) > 0 and
          all(f"{e['src_ip']} -> {e['dest_ip']}" + (f":{e['dest_port']}" if e.get("dest_port")
                                                     else "") in printed
              for e in later if e.get("src_ip")),
          f"following: the {len(later)} alerts appended printed as they came")


if __name__ == "__main__":
    sys.exit(main())
