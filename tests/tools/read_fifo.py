#!/usr/bin/python3
"""Reading a capture from a FIFO: the sensor says it waits for a writer, then reads it.

usage: read_fifo.py MIMAMORI DEMO_PCAP WORKDIR

`mimamori -r FIFO` blocks in open() until something writes to the FIFO; before, it did so
without a word, which looks like a hang. Checked: the message naming the FIFO comes while
nothing writes; once the test writes the demo capture into it, the sensor reads it and exits 0
with the same events as a reading of the file.
"""
import json
import os
import select
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livetest import check, failures  # noqa: E402


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    mimamori, pcap, work = sys.argv[1:]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    fifo, eve, ref = (os.path.join(work, n) for n in ("in.fifo", "fifo.json", "file.json"))
    os.mkfifo(fifo)
    subprocess.run([mimamori, "-r", pcap, "--eve", ref], check=True)
    p = subprocess.Popen([mimamori, "-r", fifo, "--eve", eve], stderr=subprocess.PIPE)
    ready, _, _ = select.select([p.stderr], [], [], 20)
    line = p.stderr.readline().decode() if ready else ""
    check(f"{fifo} is a FIFO: waiting for a writer" in line,
          f"the sensor says it waits for a writer ({line.strip()!r})")
    with open(fifo, "wb") as f:
        f.write(open(pcap, "rb").read())
    try:
        p.wait(timeout=60)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    check(p.returncode == 0, f"exit 0 once the capture is written ({p.returncode})")
    def events(path):  # flow ids are seeded afresh each run; stats count the run itself
        out = []
        for line in open(path):
            ev = json.loads(line)
            ev.pop("flow_id", None)
            if ev["event_type"] != "stats":
                out.append(json.dumps(ev, sort_keys=True))
        return sorted(out)
    check(os.path.exists(eve) and events(eve) == events(ref),
          f"the same events as reading the file ({len(events(ref))})")
    print(f"read_fifo: {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
