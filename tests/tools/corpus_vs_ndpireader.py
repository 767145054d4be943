#!/usr/bin/python3
"""Run mimamori and ndpiReader 4.2 over every Ethernet capture of the shared corpus.

usage: corpus_vs_ndpireader.py MIMAMORI PCAP_DIR SCHEMA [MIN_AGREEMENT_PERCENT]

For each capture listed as EN10MB in PCAP_DIR/MANIFEST.tsv it checks that mimamori exits 0
and that every event it writes validates against SCHEMA, then compares its flows with
ndpiReader's (run with -d, so that ndpiReader reports only what it found by DPI): flows are
matched by protocol and the unordered pair of endpoints, and for every flow ndpiReader
classified, the ndpi.protocol mimamori reports must be the same string. Prints per-file
disagreements and the totals; exits 1 below MIN_AGREEMENT_PERCENT (default 98), on a crash,
or on an invalid event. Exits 77 (skipped) when PCAP_DIR is absent.
"""
import collections
import concurrent.futures
import csv
import ipaddress
import json
import re
import os
import subprocess
import sys
import tempfile

import jsonschema

PROTO_NUM = {"TCP": 6, "UDP": 17, "ICMP": 1, "IPv6-ICMP": 58, "SCTP": 132, "GRE": 47, "ESP": 50}


def flow_key(proto, a, pa, b, pb):
    """Protocol and unordered endpoints; addresses canonical, SCTP ports dropped (ndpiReader
    prints them as 0)."""
    proto = int(proto)
    if proto == 132:
        pa = pb = 0
    a = str(ipaddress.ip_address(a))
    b = str(ipaddress.ip_address(b))
    ends = sorted([(a, int(pa or 0)), (b, int(pb or 0))])
    return (proto, ends[0], ends[1])


def run_one(args):
    mimamori, pcap, tmp = args
    base = os.path.join(tmp, os.path.basename(pcap))
    out = {"pcap": pcap, "errors": []}
    eve_path = base + ".eve.json"
    r = subprocess.run([mimamori, "-r", pcap, "--eve", eve_path],
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        out["errors"].append(f"exit {r.returncode}: {r.stderr.strip()[:300]}")
        return out
    events = []
    with open(eve_path) as f:
        for line in f:
            events.append(json.loads(line))
    out["events"] = events
    csv_path = base + ".ndpi.csv"
    nr = subprocess.run(["ndpiReader", "-d", "-i", pcap, "-C", csv_path],
                        capture_output=True, text=True, errors="replace", timeout=300)
    m = re.search(r"Unique flows:\s+(\d+)", nr.stdout)
    out["their_count"] = int(m.group(1)) if m else 0
    theirs = []
    if nr.returncode == 0 and os.path.exists(csv_path):
        with open(csv_path, errors="replace") as f:
            rd = csv.reader(f)
            header = next(rd, None)
            if header:
                idx = {h.lstrip("#"): i for i, h in enumerate(header)}
                for row in rd:
                    try:
                        theirs.append((flow_key(row[idx["protocol"]], row[idx["src_ip"]],
                                                row[idx["src_port"]], row[idx["dst_ip"]],
                                                row[idx["dst_port"]]),
                                       row[idx["ndpi_proto"]]))
                    except (KeyError, IndexError, ValueError):
                        pass
    out["theirs"] = theirs
    return out


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    mimamori, pcap_dir, schema_path = sys.argv[1:4]
    minimum = float(sys.argv[4]) if len(sys.argv) > 4 else 98.0
    manifest = os.path.join(pcap_dir, "MANIFEST.tsv")
    if not os.path.exists(manifest):
        print(f"SKIP: {manifest} not found")
        return 77
    pcaps = []
    with open(manifest) as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if row["linktype"] == "EN10MB":
                pcaps.append(os.path.join(pcap_dir, row["file"]))
    with open(schema_path) as f:
        schema = json.load(f)
    validator = jsonschema.validators.validator_for(schema)(schema)

    failures = 0
    events_total = invalid = 0
    agree = compared = missing = 0
    ours_flows = theirs_flows = 0
    files_same_count = 0
    mismatches = collections.Counter()
    with tempfile.TemporaryDirectory() as tmp:
        jobs = [(mimamori, p, tmp) for p in pcaps]
        with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
            for res in ex.map(run_one, jobs):
                name = os.path.relpath(res["pcap"], pcap_dir)
                if res["errors"]:
                    failures += 1
                    print(f"FAIL {name}: {'; '.join(res['errors'])}")
                    continue
                ours = collections.defaultdict(list)
                for ev in res["events"]:
                    events_total += 1
                    errs = list(validator.iter_errors(ev))
                    if errs:
                        invalid += 1
                        if invalid <= 20:
                            print(f"INVALID {name}: {errs[0].message[:200]}")
                    if ev.get("event_type") != "flow":
                        continue
                    proto = PROTO_NUM.get(ev["proto"], None)
                    if proto is None:
                        proto = int(ev["proto"]) if ev["proto"].isdigit() else -1
                    k = flow_key(proto, ev["src_ip"], ev.get("src_port", 0), ev["dest_ip"],
                                 ev.get("dest_port", 0))
                    ours[k].append(ev["ndpi"]["protocol"])
                n_ours = sum(len(v) for v in ours.values())
                ours_flows += n_ours
                theirs_flows += res["their_count"]
                if n_ours == res["their_count"]:
                    files_same_count += 1
                for k, proto in res["theirs"]:
                    if proto == "Unknown":
                        continue
                    compared += 1
                    got = ours.get(k)
                    if not got:
                        missing += 1
                        mismatches[(name, proto, "(no flow)")] += 1
                    elif proto in got:
                        agree += 1
                    else:
                        mismatches[(name, proto, got[0])] += 1

    pct = 100.0 * agree / compared if compared else 0.0  # nothing compared is no agreement
    for (name, want, got), n in sorted(mismatches.items()):
        print(f"DIFF {name}: ndpiReader {want}, mimamori {got} (x{n})")
    print(f"captures: {len(pcaps)}, crashed or failed: {failures}")
    print(f"events: {events_total}, schema-invalid: {invalid}")
    print(f"flows: mimamori {ours_flows}, ndpiReader {theirs_flows}; "
          f"captures with equal flow counts: {files_same_count}/{len(pcaps) - failures}")
    print(f"DPI-classified flows compared: {compared}, agree: {agree} ({pct:.2f}%), "
          f"missing in mimamori: {missing}")
    # ndpiReader failing on every capture would leave nothing to compare: that is a failure
    # of the test, not 100% agreement. So is a corpus where it classified almost nothing.
    if compared < len(pcaps):
        print(f"FAIL: only {compared} classified flows compared over {len(pcaps)} captures")
    ok = failures == 0 and invalid == 0 and compared >= len(pcaps) and pct >= minimum
    print("RESULT:", "PASS" if ok else "FAIL", f"(agreement {pct:.2f}% vs minimum {minimum}%)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
