#!/usr/bin/python3
"""Events of every capture of a corpus, for comparing two builds.

usage: corpus_events.py MIMAMORI PCAPS_DIR SITE_YAML OUT_DIR

Runs MIMAMORI on each capture under PCAPS_DIR with SITE_YAML and writes its events to
OUT_DIR/<relative path>.json with the flow ids, the output thread's progress and the
classifier's memory use removed (they vary from run to run) and keys sorted, plus
OUT_DIR/exit.tsv with each run's exit code. Two builds that behave the same give
byte-identical trees: compare them with `diff -r`. Exits 77 when PCAPS_DIR is absent.
"""
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile


def strip(e):
    e.pop("flow_id", None)
    e.pop("parent_id", None)
    if e.get("event_type") == "stats":  # what the writer thread had sent by then varies,
        e["ndpi"].pop("outputs", None)    # and so do nDPI's allocations (a few bytes of
        e["ndpi"].pop("output_queue", None)  # memuse from run to run on some captures)
        e["stats"]["flow"].pop("memuse", None)
    return json.dumps(e, sort_keys=True, ensure_ascii=False)


def run(mimamori, pcaps, site, out_dir, rel):
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        p = subprocess.run([mimamori, "-c", site, "-r", os.path.join(pcaps, rel), "--eve",
                            out.name], capture_output=True)
        with open(out.name, encoding="utf-8", errors="replace") as f:
            lines = [strip(json.loads(l)) for l in f if l.strip()]
    dst = os.path.join(out_dir, rel + ".json")
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    with open(dst, "w") as f:
        f.write("\n".join(lines) + "\n")
    return rel, p.returncode, len(lines)


def main():
    mimamori, pcaps, site, out_dir = sys.argv[1:5]
    if not os.path.isdir(pcaps):
        print(f"{pcaps} absent: skipped")
        return 77
    rels = sorted(os.path.relpath(os.path.join(d, f), pcaps) for d, _, fs in os.walk(pcaps)
                  for f in fs if f.endswith((".pcap", ".pcapng", ".cap")))
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as ex:
        res = list(ex.map(lambda r: run(mimamori, pcaps, site, out_dir, r), rels))
    with open(os.path.join(out_dir, "exit.tsv"), "w") as f:
        for rel, rc, n in res:
            f.write(f"{rel}\t{rc}\t{n}\n")
    print(f"{len(res)} captures, {sum(n for _, _, n in res)} events, "
          f"{sum(1 for _, rc, _ in res if rc)} nonzero exits")
    return 0


if __name__ == "__main__":
    sys.exit(main())
