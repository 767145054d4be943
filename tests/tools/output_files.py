#!/usr/bin/python3
"""File output: reopened on SIGHUP after logrotate moved it, and rotated by size.

usage: output_files.py MIMAMORI GENERATOR WORKDIR

1. logrotate: the alert_burst capture is fed to the sensor's standard input in two halves; in
   between, the file is renamed (as logrotate does) and the sensor gets SIGHUP. The renamed
   file must hold the events written before, the new file the events after, together every
   event exactly once and in order.
2. rotation: with rotate_size 64KiB and rotate_keep 50, every file stays within the size and
   the files, oldest first, hold every event exactly once and in order.
"""
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livetest import check, failures, pcap_records, wait_for  # noqa: E402



def events(path):
    return [line for line in open(path)] if os.path.exists(path) else []


def same(lines):
    """Events without their flow_id (seeded at random per run) and without stats events (their
    counters differ between runs)."""
    out = []
    for line in lines:
        ev = json.loads(line)
        if ev["event_type"] != "stats":
            ev.pop("flow_id", None)
            out.append(ev)
    return out


def site(work, name, output):
    base = open(os.path.join(work, "scenarios", "alert_burst", "site.yaml")).read()
    path = os.path.join(work, name + ".yaml")
    with open(path, "w") as f:
        f.write(base + "outputs:\n" + output + "delivery:\n  spool_directory: " +
                os.path.join(work, "spool") + "\n")
    return path


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    mimamori, generator, work = sys.argv[1:]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    subprocess.run([generator, os.path.join(work, "scenarios"), "alert_burst"], check=True)
    pcap = os.path.join(work, "scenarios", "alert_burst", "input.pcap")
    hdr, recs = pcap_records(pcap)

    # The whole run once, for the expected event sequence.
    ref = os.path.join(work, "reference.json")
    cfg = site(work, "reference", f"  - {{type: file, path: {ref}}}\n")
    subprocess.run([mimamori, "-c", cfg, "-r", pcap], check=True)
    want = same(events(ref))

    eve = os.path.join(work, "eve.json")
    cfg = site(work, "hup", f"  - {{type: file, path: {eve}}}\n")
    p = subprocess.Popen([mimamori, "-c", cfg, "-r", "-"], stdin=subprocess.PIPE)
    half = len(recs) // 2
    p.stdin.write(hdr + b"".join(recs[:half]))
    p.stdin.flush()
    check(wait_for(lambda: len(events(eve)) >= 100), "the first half's events written")
    os.rename(eve, eve + ".1")  # logrotate's move: the sensor writes on into the old file
    p.send_signal(signal.SIGHUP)
    check(wait_for(lambda: os.path.exists(eve)), "SIGHUP: the sensor reopened its file")
    p.stdin.write(b"".join(recs[half:]))
    p.stdin.close()
    p.wait(timeout=60)
    old, new = events(eve + ".1"), events(eve)
    check(len(old) > 0 and len(new) > 0, f"logrotate: events before ({len(old)}) in the moved "
                                         f"file, after ({len(new)}) in the reopened one")
    got = same(old + new)
    check(got == want, f"logrotate: every event once, in order ({len(got)} of {len(want)})")
    if got != want:
        i = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
        print(f"     first difference at event {i} (moved file holds {len(old)}):\n"
              f"     got  {json.dumps(got[i]) if i < len(got) else None}\n"
              f"     want {json.dumps(want[i]) if i < len(want) else None}")

    rot = os.path.join(work, "rot.json")
    cfg = site(work, "rotate", f"  - {{type: file, path: {rot}, rotate_size: 64KiB, "
                               f"rotate_keep: 50}}\n")
    subprocess.run([mimamori, "-c", cfg, "-r", pcap], check=True)
    files = sorted(glob.glob(rot + ".*"), key=lambda f: -int(f.rsplit(".", 1)[1])) + [rot]
    sizes = [os.path.getsize(f) for f in files]
    check(len(files) > 3 and max(sizes) <= 65536,
          f"rotation: {len(files)} files, largest {max(sizes)} bytes (limit 65536)")
    got = same([e for f in files for e in events(f)])
    check(got == want, f"rotation: every event once, in order across the files ({len(got)})")
    print(f"output_files: {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
