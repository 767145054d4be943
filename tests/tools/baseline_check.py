#!/usr/bin/python3
"""The learned baseline across a restart, end to end.

usage: baseline_check.py MIMAMORI WORKDIR SCENARIO_GENERATOR

The baseline_attack scenario (learning.period 10m: ward PCs use the EMR, the CT stores on the
PACS; after it, a PC reaches a service the CT never offered and the CT a PC it never reached)
is cut in two at the end of learning, and read as two runs of the sensor with inventory.state
set, as a sensor restarted between them would:

1. the first run (learning only) raises no baseline alert and leaves the baseline beside the
   state file (PATH.baseline) with what it learned;
2. the second run raises exactly the scenario's expected baseline alerts, with the learning
   period of the first run in their evidence;
3. without the saved baseline the second run is a new learning period: no baseline alert.
"""
import json
import os
import shutil
import struct
import subprocess
import sys

T0 = 1795496400  # the generator's start: 2026-11-24T05:00:00Z
CUT = T0 + 600


def split(pcap, before, after):
    """Classic pcap records before CUT to one file, the rest to the other."""
    with open(pcap, "rb") as f:
        data = f.read()
    head, off = data[:24], 24
    endian = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
    out = {True: bytearray(head), False: bytearray(head)}
    while off + 16 <= len(data):
        ts, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        out[ts < CUT] += data[off:off + 16 + incl]
        off += 16 + incl
    for path, early in ((before, True), (after, False)):
        with open(path, "wb") as f:
            f.write(out[early])


def baseline_alerts(mimamori, site, pcap, eve):
    if os.path.exists(eve):
        os.unlink(eve)
    subprocess.run([mimamori, "-c", site, "-r", pcap, "--eve", eve], check=True,
                   capture_output=True, env=dict(os.environ, TZ="UTC"))
    return [e for e in map(json.loads, open(eve)) if e["event_type"] == "alert"
            and e["alert"]["metadata"]["rule"][0].startswith("baseline.")]


def main():
    mimamori, work, gen = sys.argv[1:4]
    shutil.rmtree(work, ignore_errors=True)
    scen = os.path.join(work, "scenarios")
    os.makedirs(scen)
    subprocess.run([gen, scen, "baseline_attack"], check=True, capture_output=True)
    d = os.path.join(scen, "baseline_attack")
    learn, after = os.path.join(work, "learn.pcap"), os.path.join(work, "after.pcap")
    split(os.path.join(d, "input.pcap"), learn, after)
    state = os.path.join(work, "inventory.state")
    site = os.path.join(work, "site.yaml")
    with open(os.path.join(d, "site.yaml")) as f, open(site, "w") as g:
        g.write(f.read() + "inventory:\n  state: %s\n" % state)
    want = sorted(tuple(line.split()[:3]) for line in open(os.path.join(d, "expected.txt"))
                  if line.startswith("baseline."))
    errors = []

    first = baseline_alerts(mimamori, site, learn, os.path.join(work, "1.json"))
    if first:
        errors.append("alerts while learning: %s" % [a["alert"]["metadata"]["rule"] for a in first])
    lines = open(state + ".baseline").read().splitlines()
    head = json.loads(lines[0])
    if head.get("format") != "mimamori-baseline-state" or head.get("learn_from_us", 0) // 10**6 != T0:
        errors.append("baseline state header: %s" % lines[0])
    if len(lines) - 1 < 10:
        errors.append("baseline state holds %d entries for 11 learned flows" % (len(lines) - 1))

    second = baseline_alerts(mimamori, site, after, os.path.join(work, "2.json"))
    got = sorted((a["alert"]["metadata"]["rule"][0], a["src_ip"], a["dest_ip"]) for a in second)
    if got != want:
        errors.append("after the restart: %s, expected %s" % (got, want))
    for a in second:
        ev = a["alert"]["metadata"]["evidence"]
        if "learned=2026-11-24T05:00..2026-11-24T05:10" not in ev:
            errors.append("evidence without the first run's period: %s" % ev)

    os.unlink(state + ".baseline")
    third = baseline_alerts(mimamori, site, after, os.path.join(work, "3.json"))
    if third:
        errors.append("without the saved baseline, alerts anyway: %s"
                      % [a["alert"]["metadata"]["rule"] for a in third])
    print("learned %d entries; after the restart %d alerts (%d expected); without it %d"
          % (len(lines) - 1, len(second), len(want), len(third)))
    for e in errors:
        print("FAIL", e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
