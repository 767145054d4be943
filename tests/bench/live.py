#!/usr/bin/python3
"""Live throughput with one and with several packet workers, on a veth pair in a namespace.

usage: live.py MIMAMORI CAPTURE WORKDIR [--workers 1,2] [--alerts-only] [--runs N] [--no-control]
                [--verbose]

For each worker count the sensor captures on one end of a veth pair (MTU 65535, kernel ring of
--ring bytes per handle, default 1 GiB, enough to hold the capture). It is stopped (SIGSTOP)
while tcpreplay sends the capture at top speed into the other end, so the sender does not
compete for the CPU and nothing is dropped; then it is continued and timed until its threads'
CPU time stops growing (the rings are empty). The final stats event gives the packets
processed, the kernel drops and each worker's share. Rate = packets processed / time to drain.

The control: the capture split in two by flow (a symmetric hash of the outer addresses and
ports, as the workers share it), and two separate one-worker sensors, each on its own veth pair
with its half, drained at the same time. They share nothing but the machine, so their rate over
one sensor's is what this machine gives two workers at most, at that moment; two workers are
reported against it too. Runs --runs rounds (default 3), every configuration taking its turn in
each, and keeps each one's best.

A benchmark, not a test: it asserts nothing. Needs root, iproute2 and tcpreplay.
"""
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from livetest import netns_veth, veth  # noqa: E402


def records(f):
    """Each record of an open little-endian pcap after its global header: (header, data)."""
    while True:
        h = f.read(16)
        if len(h) < 16:
            return
        yield h, f.read(struct.unpack("<I", h[8:12])[0])


def sendable(capture, work):
    """A copy tcpreplay accepts: original lengths clamped to what a frame on the veth can be
    (some corpus records claim hundreds of megabytes)."""
    out = os.path.join(work, "sendable.pcap")
    with open(capture, "rb") as f, open(out, "wb") as g:
        g.write(f.read(24))
        for h, data in records(f):
            ts, us, incl, orig = struct.unpack("<IIII", h)
            g.write(struct.pack("<IIII", ts, us, incl, min(max(orig, incl), 65535)) + data)
    return out


def flow_key(frame):
    """A key both directions of a frame's flow share: its outer addresses and ports, ordered
    (the Ethernet addresses when it carries no IP)."""
    off, etype = 14, frame[12:14]
    while etype in (b"\x81\x00", b"\x88\xa8") and len(frame) >= off + 4:
        etype, off = frame[off + 2:off + 4], off + 4
    if etype == b"\x08\x00" and len(frame) >= off + 20:
        ihl, proto = (frame[off] & 15) * 4, frame[off + 9]
        ends = [frame[off + 12:off + 16], frame[off + 16:off + 20]]
        l4 = off + ihl if struct.unpack(">H", frame[off + 6:off + 8])[0] & 0x1fff == 0 else None
    elif etype == b"\x86\xdd" and len(frame) >= off + 40:
        proto = frame[off + 6]
        ends = [frame[off + 8:off + 24], frame[off + 24:off + 40]]
        l4 = off + 40
    else:
        return b"".join(sorted([frame[0:6], frame[6:12]]))
    if l4 is not None and proto in (6, 17, 132) and len(frame) >= l4 + 4:
        ends = [ends[0] + frame[l4:l4 + 2], ends[1] + frame[l4 + 2:l4 + 4]]
    return bytes([proto]) + b"".join(sorted(ends))


def split_by_flow(capture, work):
    """The capture's records in two files, each flow wholly in one."""
    outs = [os.path.join(work, f"half{i}.pcap") for i in (0, 1)]
    with open(capture, "rb") as f:
        files = [open(o, "wb") for o in outs]
        hdr = f.read(24)
        for g in files:
            g.write(hdr)
        for h, data in records(f):
            files[zlib.crc32(flow_key(data)) & 1].write(h + data)
        for g in files:
            g.close()
    return outs


def thread_ticks(pid):
    """CPU ticks (user + system) of each of the process's threads, by name."""
    ticks = {}
    for tid in sorted(os.listdir(f"/proc/{pid}/task"), key=int):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                name, rest = f.read().split("(", 1)[1].rsplit(")", 1)
        except OSError:
            continue
        fields = rest.split()
        ticks[f"{name}/{tid}"] = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks


def cpu_ticks(pid):
    return sum(thread_ticks(pid).values())


def start_sensor(mimamori, ns, work, tag, workers, alerts_only, ring, iface):
    """A sensor capturing on iface in ns, ready (every worker in its fanout groups) and stopped."""
    eve = os.path.join(work, f"eve{tag}.json")
    site = os.path.join(work, f"site{tag}.yaml")
    types = "[alert, stats]" if alerts_only else "[alert, flow, stats]"
    with open(site, "w") as f:
        f.write(f"sensor: {{name: bench, user: nobody, group: nogroup, workers: {workers}, "
                f"buffer_size: {ring}}}\n"
                f"flow: {{max_flows: 1048576}}\n"
                f"outputs: [{{type: file, path: {eve}, types: {types}}}]\n"
                f"delivery: {{spool_directory: {work}/spool{tag}}}\n")
    if os.path.exists(eve):
        os.unlink(eve)
    sock_path = os.path.join(work, f"notify{tag}.sock")
    if os.path.exists(sock_path):
        os.unlink(sock_path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sock_path)
    os.chmod(sock_path, 0o777)
    sock.settimeout(60)
    env = dict(os.environ, NOTIFY_SOCKET=sock_path)
    p = subprocess.Popen(["ip", "netns", "exec", ns, mimamori, "-c", site, "-i", iface],
                         stderr=subprocess.DEVNULL, env=env)
    while not sock.recv(4096).startswith(b"READY=1"):
        pass
    sock.close()
    os.kill(p.pid, signal.SIGSTOP)  # ip netns exec execs the sensor: the same process
    return p, eve


def one_run(mimamori, captures, work, workers, alerts_only, ring):
    """One sensor per capture, each on its own veth pair, drained at the same time: the time to
    drain, the stats (packets, drops and worker shares summed), tcpreplay's report and each
    thread's CPU ticks while draining."""
    ns = f"mm-bench-{os.getpid()}"
    why = netns_veth(ns, "mmb0", "mmb1")
    if why is None:
        for i in range(1, len(captures)):
            why = veth(ns, f"mmb{2 * i}", f"mmb{2 * i + 1}")
    if why is not None:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        sys.exit(f"cannot create a network namespace with veth pairs: {why}")
    sensors = []
    try:
        for i in range(len(captures)):
            for dev in (f"mmb{2 * i}", f"mmb{2 * i + 1}"):
                subprocess.run(["ip", "-n", ns, "link", "set", dev, "mtu", "65535"], check=True)
            tag = f"{workers}" if len(captures) == 1 else f"{workers}_{i}"
            sensors.append(start_sensor(mimamori, ns, work, tag, workers, alerts_only, ring,
                                        f"mmb{2 * i + 1}"))
        sent = ""
        for i, cap in enumerate(captures):
            sent += subprocess.run(["ip", "netns", "exec", ns, "tcpreplay", "-i", f"mmb{2 * i}",
                                    "--topspeed", cap], capture_output=True, text=True).stdout
        pids = [p.pid for p, _ in sensors]
        before = {pid: thread_ticks(pid) for pid in pids}
        t0 = time.perf_counter()
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
        last, last_t, idle = sum(map(cpu_ticks, pids)), t0, 0
        while idle < 100:  # 1 s without CPU time (read every 10 ms): the rings are empty
            time.sleep(0.01)
            now = sum(map(cpu_ticks, pids))
            if now - last > 1:
                last, last_t, idle = now, time.perf_counter(), 0
            else:
                idle += 1
        wall = last_t - t0
        threads = {}
        for pid in pids:
            threads.update({k: v - before[pid].get(k, 0) for k, v in thread_ticks(pid).items()})
        stats = {"pkts": 0, "drops": 0, "shares": []}
        for p, eve in sensors:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=120)
            st = [json.loads(x) for x in open(eve) if '"event_type":"stats"' in x][-1]
            stats["pkts"] += st["stats"]["decoder"]["pkts"]
            stats["drops"] += st["stats"]["capture"]["kernel_drops"]
            stats["shares"] += [w["packets"] for w in st["ndpi"]["capture"].get("workers", [])] \
                or [st["stats"]["decoder"]["pkts"]]
        return wall, stats, sent, threads
    finally:
        for p, _ in sensors:
            if p.poll() is None:
                p.kill()
                p.wait()
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def main():
    args = sys.argv[1:]
    if len(args) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    mimamori, capture, work = args[:3]
    counts, alerts_only, runs, ring, control = [1, 2], False, 3, "1GiB", True
    verbose = False
    rest = args[3:]
    while rest:
        a = rest.pop(0)
        if a == "--workers":
            counts = [int(x) for x in rest.pop(0).split(",")]
        elif a == "--alerts-only":
            alerts_only = True
        elif a == "--runs":
            runs = int(rest.pop(0))
        elif a == "--ring":
            ring = rest.pop(0)
        elif a == "--no-control":
            control = False
        elif a == "--verbose":
            verbose = True
    if os.geteuid() != 0 or shutil.which("tcpreplay") is None:
        print("needs root and tcpreplay")
        return 0
    os.makedirs(work, exist_ok=True)
    os.chmod(work, 0o777)
    capture = sendable(capture, work)
    # (label, workers per sensor, one capture per sensor)
    configs = [(f"{n} worker(s)", n, [capture]) for n in counts]
    if control and 1 in counts:
        configs.append(("2 sensors x 1 worker", 1, split_by_flow(capture, work)))
    print(f"capture {capture}; {'alerts and stats' if alerts_only else 'alerts, flows and stats'}"
          f" to a file; {os.cpu_count()} CPUs; best of {runs}\n")
    bests, walls = {}, {c[0]: [] for c in configs}
    tck = os.sysconf("SC_CLK_TCK")
    for _ in range(runs):  # the configurations take turns: a shared machine's moods hit all alike
        for label, n, caps in configs:
            wall, st, sent, threads = one_run(mimamori, caps, work, n, alerts_only, ring)
            walls[label].append(wall)
            if verbose:
                print(f"{label}: {wall:.2f} s; CPU by thread " + ", ".join(
                    f"{k} {v / tck:.2f}" for k, v in threads.items() if v > 0), flush=True)
            if label not in bests or wall < bests[label][0]:
                bests[label] = (wall, st, sent, threads)
    for label, _, _ in configs:
        wall, st, sent, threads = bests[label]
        sent = [x.strip() for x in sent.splitlines() if "Successful packets" in x or
                "Failed packets" in x]
        print(f"{label}: {st['pkts']} packets in {wall:.2f} s = {st['pkts'] / wall / 1e6:.3f} "
              f"Mpps, kernel drops {st['drops']}, per worker {st['shares']} (tcpreplay: {sent})")
        print("  CPU seconds by thread while draining: " +
              ", ".join(f"{k} {v / tck:.2f}" for k, v in threads.items() if v > 0))
    print("drain times by round: " + "; ".join(
        f"{label} " + " ".join(f"{w:.2f}" for w in walls[label]) for label, _, _ in configs))

    def ratio(x, y):
        best = bests[y][0] / bests[x][0] * bests[x][1]["pkts"] / bests[y][1]["pkts"]
        rounds = [b / a for a, b in zip(walls[x], walls[y])]
        return (f"{best:.2f}x; round by round, in order, "
                f"{', '.join(f'{r:.2f}x' for r in rounds)}; median "
                f"{sorted(rounds)[len(rounds) // 2]:.2f}x")

    if "1 worker(s)" in bests:
        for label, n, caps in configs:
            if label != "1 worker(s)":
                print(f"{label} / 1 worker: {ratio(label, '1 worker(s)')}")
        if "2 worker(s)" in bests and "2 sensors x 1 worker" in bests:
            print("2 workers / 2 sensors x 1 worker (the machine's own bound at that moment): "
                  f"{ratio('2 worker(s)', '2 sensors x 1 worker')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
