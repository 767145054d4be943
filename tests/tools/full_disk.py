#!/usr/bin/python3
"""A file output on a full disk: no torn line, nothing lost without being counted, and said.

usage: full_disk.py MIMAMORI DEMO_PCAP WORKDIR

The EVE file is on a 16 KiB tmpfs the test mounts (the demo capture makes about 40 KB of
events). Reading the capture, with the spool on another disk: every line of the EVE file is
whole JSON; the sensor's counters say sent = the lines in the file and spooled = the lines in
the spool; the file and the spool together hold every flow of a reading to a roomy disk. Then
with the spool on the full disk too: sent + spooled + dropped = the events handed over, and
sent and spooled are still the lines in the file and the spool. Live, on a veth pair in a
network namespace the test makes, with a second output on a roomy disk: the demo capture is
replayed while the tmpfs is nearly full; the roomy output gets the Sensor health alert naming
the full one (state=down), and, once the test frees the tmpfs, the alert that it recovered
(state=recovered, down_s, events_dropped=0), and the full one gets every alert in the end, from
its spool. Before the fix, a failed write left half a line with the next event glued on, and
the counters said sent for events that never reached the file.

Needs root (mount), and for the live part iproute2 and tcpreplay; exits 77 (skipped) without
root.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livetest import check, failures, stop, netns_veth  # noqa: E402

RULES = """rules:
  - key: t.output
    signature_id: 1
    type: health
    check: output
    severity: 2
    category: Sensor health
    signature: output failing
    message_ja: テスト
    guideline: MHLW-6.0 SO 13.2
    dedup: 1h
"""


def lines(path, quiet=False):
    if not os.path.exists(path):
        return []
    data = open(path, "rb").read()
    if not quiet or not data.endswith(b"\n") and data:
        check(data == b"" or data.endswith(b"\n"),
              f"{os.path.basename(path)} ends with a whole line")
    out = []
    for raw in data.split(b"\n")[:-1] if data else []:
        try:
            out.append(json.loads(raw))
        except ValueError:
            check(False, f"{os.path.basename(path)}: a torn line: {raw[:80]!r}...{raw[-40:]!r}")
    return out


def spooled(path):
    # The sink's spool holds its lines as they are (a file sink's are the EVE lines).
    return lines(path)


def counters(err):
    m = re.search(r"outputs: (\d+) events handed over", err)
    k = re.search(r"file \S+: sent (\d+), spooled (\d+), replayed \d+, re-sent \d+, dropped (\d+)",
                  err)
    return (int(m.group(1)) if m else None,) + (tuple(map(int, k.groups())) if k else (None,) * 3)


def key(ev):
    return (ev.get("src_ip"), ev.get("src_port"), ev.get("dest_ip"), ev.get("dest_port"),
            ev.get("proto"))


def run(mimamori, pcap, work, spool_dir):
    full = os.path.join(work, "full")
    site = os.path.join(work, "site.yaml")
    with open(site, "w") as f:
        f.write(f"sensor: {{name: disk}}\n"
                f"outputs:\n  - {{type: file, path: {full}/eve.json}}\n"
                f"delivery: {{spool_directory: {spool_dir}, drain_timeout: 1s}}\n")
    p = subprocess.run([mimamori, "-c", site, "-r", pcap], capture_output=True, text=True,
                       timeout=120)
    check(p.returncode == 0, f"exit 0 on a full disk ({p.returncode})")
    return p.stderr


def health(path):
    return [e["alert"]["metadata"]["evidence"] for e in lines(path, quiet=True)
            if e["event_type"] == "alert" and e["alert"]["metadata"]["rule"][0] == "t.output"]


def live(mimamori, pcap, work):
    if shutil.which("tcpreplay") is None or shutil.which("ip") is None:
        print("skipped (live part): needs iproute2 and tcpreplay")
        return
    # Room for every event once the test frees it.
    full = os.path.join(work, "full-live")
    os.makedirs(full)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0755", "tmpfs", full],
                   check=True)
    try:
        live_on(mimamori, pcap, work, full)
    finally:
        subprocess.run(["umount", full])


def live_on(mimamori, pcap, work, full):
    rules, site = os.path.join(work, "rules.yaml"), os.path.join(work, "live.yaml")
    roomy = os.path.join(work, "roomy-live.json")
    with open(rules, "w") as f:
        f.write(RULES)
    with open(site, "w") as f:
        f.write(f"sensor: {{name: disk, user: nobody, group: nogroup}}\nrules: [{rules}]\n"
                f"outputs:\n  - {{type: file, path: {full}/eve.json}}\n"
                f"  - {{type: file, path: {roomy}}}\n"
                f"delivery: {{spool_directory: {work}/live-spool}}\n")
    # 4 KiB left: the first events fit, the alerts of the demo capture do not.
    filler = os.path.join(full, "filler")
    with open(filler, "wb") as f:
        f.write(b"x" * (252 << 10))
    ns = "mm-disk-%d" % os.getpid()
    try:
        why = netns_veth(ns, "mmf0", "mmf1")
        if why is not None:
            print("skipped (live part): cannot create a network namespace: " + why)
            return
        p = subprocess.Popen(["ip", "netns", "exec", ns, mimamori, "-c", site, "-i",
                              "mmf1"], stderr=subprocess.PIPE, text=True)
        end = time.time() + 20
        while time.time() < end and not os.path.exists(roomy) and p.poll() is None:
            time.sleep(0.1)
        if p.poll() is not None:
            check(False, f"the live sensor started ({p.stderr.read()[-500:]})")
            return
        r = subprocess.run(["ip", "netns", "exec", ns, "tcpreplay", "-i", "mmf0", "--pps",
                            "2000", pcap], capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, "tcpreplay sent the demo capture")
        end = time.time() + 30
        while time.time() < end and not any("state=down" in e for e in health(roomy)):
            time.sleep(0.2)
        down = [e for e in health(roomy) if "state=down" in e]
        check(len(down) == 1 and f"output=file {full}/eve.json" in down[0],
              f"the roomy output has the alert naming the full one ({down})")
        os.unlink(filler)
        end = time.time() + 60  # the full output is retried with backoff (at most 30 s)
        while time.time() < end and not any("state=recovered" in e for e in health(roomy)):
            time.sleep(0.2)
        up = [e for e in health(roomy) if "state=recovered" in e]
        check(len(up) == 1 and "events_dropped=0" in up[0] and
              any(x.startswith("down_s=") for x in up[0]),
              f"... and the alert that it recovered ({up})")
        err = stop(p)
        check(p.returncode == 0, f"SIGTERM: exit 0 ({p.returncode})")
        alerts = lambda path: sorted(json.dumps(e["alert"], sort_keys=True) for e in lines(path)
                                     if e["event_type"] == "alert")
        check(alerts(os.path.join(full, "eve.json")) == alerts(roomy),
              "the full output has every alert in the end, from its spool")
        if failures:
            print(err[-3000:])
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    mimamori, pcap, work = sys.argv[1:]
    if os.geteuid() != 0:
        print("skipped: needs root to mount a tmpfs")
        return 77
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    ref = os.path.join(work, "roomy.json")
    subprocess.run([mimamori, "-r", pcap, "--eve", ref], check=True)
    want = [e for e in lines(ref) if e["event_type"] == "flow"]

    full = os.path.join(work, "full")
    os.makedirs(full)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k,mode=0755", "tmpfs", full]).returncode != 0:
        print("skipped: cannot mount a tmpfs here")
        return 77
    try:
        # The spool on another disk: what the file could not take waits there.
        spool = os.path.join(work, "spool")
        err = run(mimamori, pcap, work, spool)
        written, waiting = lines(os.path.join(full, "eve.json")), spooled(
            os.path.join(spool, "read.output0.spool"))
        handed, sent, nspooled, dropped = counters(err)
        check(handed is not None and sent is not None, "the counters were printed")
        print(f"     {handed} events: {sent} sent, {nspooled} spooled, {dropped} dropped; "
              f"{len(written)} lines in the file, {len(waiting)} in the spool")
        check(0 < len(written) < (handed or 0), "the disk filled part way (the test means something)")
        check(sent == len(written), f"sent ({sent}) = lines in the file ({len(written)})")
        check(nspooled == len(waiting), f"spooled ({nspooled}) = lines in the spool "
                                        f"({len(waiting)})")
        check(dropped == 0 and sent + nspooled == handed, "every event written or spooled")
        got = [e for e in written + waiting if e["event_type"] == "flow"]
        check(sorted(map(key, got)) == sorted(map(key, want)),
              f"file and spool hold every flow of the roomy reading ({len(got)} of {len(want)})")

        # The spool on the full disk too: what neither takes is dropped, and counted.
        os.unlink(os.path.join(full, "eve.json"))
        shutil.rmtree(spool)
        fspool = os.path.join(full, "spool")
        err = run(mimamori, pcap, work, fspool)
        written, waiting = lines(os.path.join(full, "eve.json")), spooled(
            os.path.join(fspool, "read.output0.spool"))
        handed, sent, nspooled, dropped = counters(err)
        print(f"     {handed} events: {sent} sent, {nspooled} spooled, {dropped} dropped; "
              f"{len(written)} lines in the file, {len(waiting)} in the spool")
        check(dropped is not None and dropped > 0, "events were dropped (the test means "
                                                    "something)")
        check(sent == len(written) and nspooled == len(waiting),
              "sent and spooled are the lines in the file and the spool")
        check(sent + nspooled + dropped == handed,
              f"sent + spooled + dropped = events handed over ({handed})")
        check("dropping (counted)" in err, "the loss was said on stderr")
        os.unlink(os.path.join(full, "eve.json"))
        shutil.rmtree(fspool)
        live(mimamori, pcap, work)
    finally:
        subprocess.run(["umount", full])
    print(f"full_disk: {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
