#!/usr/bin/python3
"""Check the generated scenarios: each must raise exactly the alerts its expected.txt lists.

usage: run_scenarios.py GENERATOR MIMAMORI WORKDIR

GENERATOR writes the scenario directories into WORKDIR; for each one, mimamori reads
input.pcap with site.yaml (or the embedded default config when there is none), and the alerts,
as "rule src_ip dest_ip count" lines, must equal expected.txt as a multiset. A line
"suppressed N" is compared with the final stats event's detect.alerts_suppressed. The events'
schema is checked by schema_check.py. Every alert carries its rule's next steps (next_ja,
next_en of the rule files, read here with PyYAML) as next_step_ja and next_step_en.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

RULES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "rules")


def next_steps():
    """Rule key -> (next_ja, next_en), as the shipped rule files write them."""
    steps = {}
    for name in os.listdir(RULES):
        if name.endswith(".yaml"):
            for r in (yaml.safe_load(open(os.path.join(RULES, name))) or {}).get("rules") or []:
                steps[r["key"]] = (r.get("next_ja"), r.get("next_en"))
    return steps


def main():
    gen, mimamori, work = sys.argv[1:4]
    shutil.rmtree(work, ignore_errors=True)  # no scenario left over from an older generator
    subprocess.run([gen, work], check=True)
    failed, steps, stepped = 0, next_steps(), 0
    for name in sorted(os.listdir(work)):
        d = os.path.join(work, name)
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            site = os.path.join(d, "site.yaml")
            conf = ["-c", site] if os.path.exists(site) else []  # none: embedded default
            r = subprocess.run([mimamori] + conf + ["-r", os.path.join(d, "input.pcap"),
                                                    "--eve", out.name],
                               capture_output=True, text=True, env=dict(os.environ, TZ="UTC"))
            if r.returncode != 0:
                print(f"FAIL {name}: exit {r.returncode}: {r.stderr.strip()}")
                failed += 1
                continue
            with open(out.name) as f:
                events = [json.loads(line) for line in f]
        got, suppressed = [], 0
        for e in events:
            if e["event_type"] == "alert":
                md = e["alert"]["metadata"]
                got.append(f"{md['rule'][0]} {e['src_ip']} {e['dest_ip']} {md['count'][0]}")
                ja, en = steps.get(md["rule"][0], (None, None))
                if md.get("next_step_ja") != [ja] or md.get("next_step_en") != [en]:
                    print(f"FAIL {name}: {md['rule'][0]} without its next steps")
                    failed += 1
                stepped += 1
            elif e["event_type"] == "stats":
                suppressed = e["stats"].get("detect", {}).get("alerts_suppressed", 0)
        with open(os.path.join(d, "expected.txt")) as f:
            want = [line.strip() for line in f if line.strip()]
        want_supp = 0
        for w in list(want):
            if w.startswith("suppressed "):
                want_supp = int(w.split()[1])
                want.remove(w)
        ok = sorted(got) == sorted(want) and suppressed == want_supp
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {len(got)} alerts, {suppressed} suppressed, "
              f"{len(events)} events")
        if not ok:
            failed += 1
            for g in sorted(set(got) - set(want)):
                print(f"     unexpected: {g}")
            for w in sorted(set(want) - set(got)):
                print(f"     missing:    {w}")
            if suppressed != want_supp:
                print(f"     suppressed {suppressed}, expected {want_supp}")
    print(f"{stepped} alerts, each with its rule's next steps in both languages")
    return 1 if failed else 0 if stepped > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
