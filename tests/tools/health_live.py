#!/usr/bin/python3
"""Sensor health alerts from a live capture on a veth pair in a network namespace the test makes.

usage: health_live.py MIMAMORI WORKDIR

The sensor captures on two interfaces in one process (one end of each of two veth pairs) with a
rules file of short health windows; the test first sends nothing, then replays into the other
end of the first pair three captures it builds of the same kind of traffic
(20 TCP connections, each a request answered by ten 1000-byte segments that the client
acknowledges every second segment): complete; only the client's side (a mirror that misses
the return path); and with two of each server's segments removed (lost before the sensor).
Checked, by the time of each alert: each silent interface is reported before any traffic, the
second (never used) exactly once, by name; flows name their interface; the
complete capture raises no one-way or loss alert; the client-only capture raises the one-way
alert naming one of its connections; the thinned one raises the loss alert, and the stats
count exactly the 40 acknowledged holes, per interface as well.

Needs root, iproute2 and tcpreplay; exits 77 (skipped) without them or without permission to
create network namespaces.
"""
import datetime
import json
import os
import shutil
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livetest import wait_for, Stderr, check, failures, stop, netns_veth, veth  # noqa: E402

RULES = """rules:
""" + "".join(f"""  - key: t.{key}
    signature_id: {sid}
    type: health
    check: {check_}
    severity: 2
    category: Sensor health
    signature: {key}
    message_ja: テスト
    guideline: MHLW-6.0 SO 13.2
{extra}""" for key, sid, check_, extra in (
    ("silence", 1, "silence", "    window: 3s\n"),
    ("one_way", 2, "one_way", "    window: 2s\n    threshold: 20\n    percent: 50\n"),
    ("loss", 3, "upstream_loss", "    window: 2s\n    threshold: 20\n    percent: 5\n")))

CLIENT, SERVER = bytes([10, 9, 0, 5]), bytes([10, 1, 0, 7])
SYN, FIN, PSH, ACK = 0x02, 0x01, 0x08, 0x10


def frame(src, dst, sport, dport, seq, ack, flags, payload_len):
    tcp = struct.pack(">HHIIBBHHH", sport, dport, seq & 0xffffffff, ack & 0xffffffff, 5 << 4,
                      flags, 65535, 0, 0)
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + 20 + payload_len, 1, 0, 64, 6, 0, src, dst)
    eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
    return eth + ip + tcp + b"\x00" * payload_len


def connection(port, drop):
    """One connection as (from_client, frame) pairs; server segments numbered in drop are left
    out."""
    c, s, out = 1000, 50000, []
    out.append((True, frame(CLIENT, SERVER, port, 80, c, 0, SYN, 0)))
    out.append((False, frame(SERVER, CLIENT, 80, port, s, c + 1, SYN | ACK, 0)))
    c, s = c + 1, s + 1
    out.append((True, frame(CLIENT, SERVER, port, 80, c, s, ACK, 0)))
    out.append((True, frame(CLIENT, SERVER, port, 80, c, s, PSH | ACK, 200)))
    c += 200
    for i in range(1, 11):
        if i not in drop:
            out.append((False, frame(SERVER, CLIENT, 80, port, s, c, ACK, 1000)))
        s += 1000
        if i % 2 == 0:
            out.append((True, frame(CLIENT, SERVER, port, 80, c, s, ACK, 0)))
    out.append((True, frame(CLIENT, SERVER, port, 80, c, s, FIN | ACK, 0)))
    out.append((False, frame(SERVER, CLIENT, 80, port, s, c + 1, FIN | ACK, 0)))
    out.append((True, frame(CLIENT, SERVER, port, 80, c + 1, s + 1, ACK, 0)))
    return out


def write_pcap(path, first_port, client_only=False, drop=()):
    ts = int(time.time())
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        n = 0
        for port in range(first_port, first_port + 20):
            for from_client, fr in connection(port, drop):
                if client_only and not from_client:
                    continue
                n += 1
                f.write(struct.pack("<IIII", ts, n, len(fr), len(fr)) + fr)


def alerts(path):
    out = []
    for line in open(path):
        ev = json.loads(line)
        if ev["event_type"] == "alert":
            t = datetime.datetime.strptime(ev["timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
            out.append((t, ev["alert"]["metadata"]["rule"][0], ev["alert"]["metadata"]["evidence"],
                        ev))
    return out


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    mimamori, work = sys.argv[1:]
    if os.geteuid() != 0 or shutil.which("tcpreplay") is None or shutil.which("ip") is None:
        print("skipped: needs root, iproute2 and tcpreplay")
        return 77
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    rules, site = os.path.join(work, "health.yaml"), os.path.join(work, "site.yaml")
    with open(rules, "w") as f:
        f.write(RULES)
    with open(site, "w") as f:
        f.write(f"sensor: {{name: health, user: nobody, group: nogroup}}\nrules: [{rules}]\n"
                f"delivery: {{spool_directory: {work}/spool}}\n")
    caps = {name: os.path.join(work, name + ".pcap") for name in ("full", "one_way", "lossy")}
    write_pcap(caps["full"], 40000)
    write_pcap(caps["one_way"], 41000, client_only=True)
    write_pcap(caps["lossy"], 42000, drop=(3, 7))

    ns = "mm-health-%d" % os.getpid()
    try:
        why = netns_veth(ns, "mmh0", "mmh1") or veth(ns, "mmh2", "mmh3")
        if why is not None:
            print("skipped: cannot create a network namespace with a veth pair here: " + why)
            return 77
        eve = os.path.join(work, "eve.json")
        start = time.time()
        # Two mirror ports in one process; mmh3 never gets a packet.
        # -v: the sensor logs each window it judges, which is what the phases wait for.
        p = subprocess.Popen(["ip", "netns", "exec", ns, mimamori, "-v", "-c", site, "-i",
                              "mmh1", "-i", "mmh3", "--eve", eve], stderr=subprocess.PIPE,
                             text=True)
        perr = Stderr(p)
        # Nothing is sent: the silence alert must come on its own (3 s window, 1 s samples).
        check(wait_for(lambda: os.path.exists(eve) and
                       any(a[1] == "t.silence" for a in alerts(eve))),
              "the silence alert came on its own")
        phase = {}
        for name in ("full", "one_way", "lossy"):
            phase[name] = time.time()
            r = subprocess.run(["ip", "netns", "exec", ns, "tcpreplay", "-i", "mmh0", "--pps",
                                "2000", caps[name]], capture_output=True, text=True, timeout=60)
            check(r.returncode == 0, f"tcpreplay sent the {name} capture")
            # The phase is over when both checks have judged a window on mmh1 with nothing in
            # it: every window that held this capture's packets has had its verdict.
            mark = perr.count()
            check(all(perr.wait(f"health: {k} on mmh1: window judged, 0 of 0,", after=mark)
                      for k in ("t.one_way", "t.loss")),
                  f"the {name} capture's windows were judged")
        err = stop(p, err=perr)
        check(p.returncode == 0, f"SIGTERM: exit 0 ({p.returncode})")
        got = alerts(eve)

        def within(rule, lo, hi):
            return [a for a in got if a[1] == rule and lo <= a[0] < hi]
        quiet = [a for a in within("t.silence", start, phase["full"])
                 if "interface=mmh1" in a[2]]
        check(len(quiet) == 1 and
              any(e.startswith("silent_s=") and int(e[9:]) >= 3 for e in quiet[0][2]) and
              "packets_total=0" in quiet[0][2],
              f"a silent interface is reported before any traffic ({[a[2] for a in quiet]})")
        check("src_ip" not in (quiet[0][3] if quiet else {}) and
              quiet and quiet[0][3]["alert"]["category"] == "Sensor health" and
              quiet[0][3].get("in_iface") == "mmh1",
              "the health alert is about the sensor: category, in_iface, no flow fields")
        dead = [a for a in got if a[1] == "t.silence" and "interface=mmh3" in a[2]]
        check(len(dead) == 1 and dead[0][3].get("in_iface") == "mmh3",
              f"the port that never saw a packet is reported once, by name ({len(dead)})")
        flows = [json.loads(x) for x in open(eve) if '"event_type":"flow"' in x]
        check(flows and all(f.get("in_iface") == "mmh1" for f in flows),
              f"every flow names the interface it came from ({len(flows)} flows)")
        noisy = within("t.one_way", phase["full"], phase["one_way"]) + \
            within("t.loss", phase["full"], phase["one_way"])
        check(not noisy, f"complete traffic raises no one-way or loss alert ({noisy})")
        one = within("t.one_way", phase["one_way"], phase["lossy"])
        check(len(one) == 1 and "one_way_percent=100.00" in one[0][2] and
              any(e.startswith("example=10.9.0.5:41") and e.endswith("->10.1.0.7:80")
                  for e in one[0][2]),
              f"client-only traffic raises the one-way alert ({[a[2] for a in one]})")
        check(not within("t.loss", phase["one_way"], phase["lossy"]),
              "one-way traffic is not taken for loss")
        loss = within("t.loss", phase["lossy"], time.time() + 1)
        check(len(loss) == 1 and any(e.startswith("example=10.9.0.5:42") for e in loss[0][2]),
              f"thinned traffic raises the upstream loss alert ({[a[2] for a in loss]})")
        check(not within("t.one_way", phase["lossy"], time.time() + 1),
              "lost segments are not taken for one-way traffic")
        stats = [json.loads(x) for x in open(eve) if '"event_type":"stats"' in x]
        cap = stats[-1]["ndpi"]["capture"] if stats else {}
        ports = {i["name"]: i for i in cap.get("interfaces", [])}
        check(set(ports) == {"mmh1", "mmh3"} and ports["mmh1"]["packets"] > 0 and
              ports["mmh3"]["packets"] == 0 and ports["mmh1"]["ack_gaps"] == 40,
              f"stats: counters per interface ({ports})")
        check(cap.get("ack_gaps") == 40 and cap.get("one_way_acks") == 20 * 9,
              f"stats: 40 holes acknowledged, 180 one-way ACKs ({cap})")
        check("sensor health: silence (silent_s=" in err, "the health alert is also logged")
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    print(f"health_live: {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
