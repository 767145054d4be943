#!/usr/bin/python3
"""False alerts per 10,000 flows on benign traffic.

usage: false_alerts.py MIMAMORI PCAPS_DIR SITE_YAML [MAX_PER_10K]

Runs every capture under PCAPS_DIR/protocols (benign application protocols) with SITE_YAML,
counts flows and alerts, and prints alerts per 10,000 flows by rule and in total, and the
distinct (capture, rule, source) outside the Obsolete protocol category: an alert and the later
report of its folded repeats are two events but one finding. With
MAX_PER_10K, exits 1 when the total is higher; also when any run fails or no flow was
seen at all. Exits 77 when the corpus is absent. Any alert on
these captures counts as false: they show ordinary protocol use, not attacks.
"""
import collections
import json
import os
import subprocess
import sys
import tempfile


def main():
    mimamori, pcaps, site = sys.argv[1:4]
    limit = float(sys.argv[4]) if len(sys.argv) > 4 else None
    d = os.path.join(pcaps, "protocols")
    if not os.path.isdir(d):
        print(f"{d} absent: skipped")
        return 77
    flows, obsolete, by_rule, by_file = 0, 0, collections.Counter(), collections.Counter()
    incidents = set()  # (capture, rule, source): an alert and the report of its folded repeats
    failed = []
    files = sorted(f for f in os.listdir(d) if f.endswith((".pcap", ".pcapng", ".cap")))
    for name in files:
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            r = subprocess.run([mimamori, "-c", site, "-r", os.path.join(d, name), "--eve",
                                out.name], capture_output=True, text=True)
            if r.returncode != 0:
                failed.append(f"{name}: exit {r.returncode}: {r.stderr.strip()[:200]}")
            with open(out.name) as f:
                for line in f:
                    e = json.loads(line)
                    if e["event_type"] == "flow":
                        flows += 1
                    elif e["event_type"] == "alert":
                        rule = e["alert"]["metadata"]["rule"][0]
                        by_rule[rule] += 1
                        if e["alert"]["category"] != "Obsolete protocol":
                            incidents.add((name, rule, e.get("src_ip")))
                        if e["alert"]["category"] == "Obsolete protocol":
                            obsolete += 1
                        by_file[f"{name} {rule}"] += 1
    total = sum(by_rule.values())
    rate = 10000.0 * total / max(flows, 1)
    print(f"{len(files)} captures, {flows} flows, {total} alerts: {rate:.1f} per 10,000 flows "
          f"({os.path.basename(site)}); without Obsolete protocol alerts (real uses of "
          f"obsolete protocols): {10000.0 * (total - obsolete) / max(flows, 1):.1f}")
    print(f"  outside Obsolete protocol, distinct (capture, rule, source): {len(incidents)}, "
          f"{10000.0 * len(incidents) / max(flows, 1):.1f} per 10,000 flows")
    for rule, n in by_rule.most_common():
        print(f"  {10000.0 * n / max(flows, 1):6.1f}  {n:5d}  {rule}")
    for key, n in by_file.most_common(15):
        print(f"         {n:5d}  {key}")
    for f in failed:
        print(f"FAIL {f}")
    if flows == 0:
        print("FAIL: no flows at all: a rate over nothing says nothing")
    sys.stdout.flush()
    return 1 if failed or flows == 0 or (limit is not None and rate > limit) else 0


if __name__ == "__main__":
    sys.exit(main())
