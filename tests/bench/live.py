#!/usr/bin/python3
"""Live throughput with one and with several packet workers, on a veth pair in a namespace.

usage: live.py MIMAMORI CAPTURE WORKDIR [--workers 1,2] [--alerts-only] [--runs N]

For each worker count the sensor captures on one end of a veth pair (MTU 65535, kernel ring of
--ring bytes per handle, default 1 GiB, enough to hold the capture). It is stopped (SIGSTOP)
while tcpreplay sends the capture at top speed into the other end, so the sender does not
compete for the CPU and nothing is dropped; then it is continued and timed until its threads'
CPU time stops growing (the rings are empty). The final stats event gives the packets
processed, the kernel drops and each worker's share. Rate = packets processed / time to drain.
Runs --runs rounds (default 3), the worker counts taking turns in each, and keeps each one's
best.

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

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from livetest import netns_veth  # noqa: E402



def sendable(capture, work):
    """A copy tcpreplay accepts: original lengths clamped to what a frame on the veth can be
    (some corpus records claim hundreds of megabytes)."""
    out = os.path.join(work, "sendable.pcap")
    with open(capture, "rb") as f, open(out, "wb") as g:
        g.write(f.read(24))
        while True:
            h = f.read(16)
            if len(h) < 16:
                break
            ts, us, incl, orig = struct.unpack("<IIII", h)
            g.write(struct.pack("<IIII", ts, us, incl, min(max(orig, incl), 65535)))
            g.write(f.read(incl))
    return out


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


def one_run(mimamori, capture, work, workers, alerts_only, ring):
    ns = f"mm-bench-{os.getpid()}"
    eve = os.path.join(work, f"eve{workers}.json")
    site = os.path.join(work, f"site{workers}.yaml")
    types = "[alert, stats]" if alerts_only else "[alert, flow, stats]"
    with open(site, "w") as f:
        f.write(f"sensor: {{name: bench, user: nobody, group: nogroup, workers: {workers}, "
                f"buffer_size: {ring}}}\n"
                f"flow: {{max_flows: 1048576}}\n"
                f"outputs: [{{type: file, path: {eve}, types: {types}}}]\n"
                f"delivery: {{spool_directory: {work}/spool}}\n")
    if os.path.exists(eve):
        os.unlink(eve)
    why = netns_veth(ns, "mmb0", "mmb1")
    if why is not None:
        sys.exit(f"cannot create a network namespace with a veth pair: {why}")
    try:
        for dev in ("mmb0", "mmb1"):
            subprocess.run(["ip", "-n", ns, "link", "set", dev, "mtu", "65535"], check=True)
        # Ready (sd_notify) comes once every worker has joined the fanout groups.
        sock_path = os.path.join(work, "notify.sock")
        if os.path.exists(sock_path):
            os.unlink(sock_path)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(sock_path)
        os.chmod(sock_path, 0o777)
        sock.settimeout(60)
        env = dict(os.environ, NOTIFY_SOCKET=sock_path)
        p = subprocess.Popen(["ip", "netns", "exec", ns, mimamori, "-c", site, "-i", "mmb1"],
                             stderr=subprocess.DEVNULL, env=env)
        while not sock.recv(4096).startswith(b"READY=1"):
            pass
        sock.close()
        pid = p.pid  # ip netns exec execs the sensor: the same process
        os.kill(pid, signal.SIGSTOP)
        sent = subprocess.run(["ip", "netns", "exec", ns, "tcpreplay", "-i", "mmb0", "--topspeed",
                               capture], capture_output=True, text=True)
        before = thread_ticks(pid)
        t0 = time.perf_counter()
        os.kill(pid, signal.SIGCONT)
        last, last_t, idle = cpu_ticks(pid), t0, 0
        while idle < 100:  # 1 s without CPU time (read every 10 ms): the rings are empty
            time.sleep(0.01)
            now = cpu_ticks(pid)
            if now - last > 1:
                last, last_t, idle = now, time.perf_counter(), 0
            else:
                idle += 1
        wall = last_t - t0
        threads = {k: v - before.get(k, 0) for k, v in thread_ticks(pid).items()}
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=120)
        stats = [json.loads(x) for x in open(eve) if '"event_type":"stats"' in x][-1]
        return wall, stats, sent.stdout, threads
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def main():
    args = sys.argv[1:]
    if len(args) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    mimamori, capture, work = args[:3]
    counts, alerts_only, runs, ring = [1, 2], False, 3, "1GiB"
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
    if os.geteuid() != 0 or shutil.which("tcpreplay") is None:
        print("needs root and tcpreplay")
        return 0
    os.makedirs(work, exist_ok=True)
    os.chmod(work, 0o777)
    capture = sendable(capture, work)
    print(f"capture {capture}; {'alerts and stats' if alerts_only else 'alerts, flows and stats'}"
          f" to a file; {os.cpu_count()} CPUs; best of {runs}\n")
    rates, bests, walls = {}, {}, {n: [] for n in counts}
    for _ in range(runs):  # the worker counts take turns: a shared machine's moods hit all alike
        for n in counts:
            wall, st, sent, threads = one_run(mimamori, capture, work, n, alerts_only, ring)
            walls[n].append(wall)
            if n not in bests or wall < bests[n][0]:
                bests[n] = (wall, st, sent, threads)
    for n in counts:
        wall, st, sent, threads = bests[n]
        pkts = st["stats"]["decoder"]["pkts"]
        drops = st["stats"]["capture"]["kernel_drops"]
        shares = [w["packets"] for w in st["ndpi"]["capture"].get("workers", [])]
        rates[n] = pkts / wall
        sent = [x.strip() for x in sent.splitlines() if "Successful packets" in x or
                "Failed packets" in x]
        print(f"{n} worker(s): {pkts} packets in {wall:.2f} s = {pkts / wall / 1e6:.3f} Mpps, "
              f"kernel drops {drops}, per worker {shares or [pkts]} (tcpreplay: {sent})")
        tck = os.sysconf("SC_CLK_TCK")
        print("  CPU seconds by thread while draining: " +
              ", ".join(f"{k} {v / tck:.2f}" for k, v in threads.items() if v > 0))
    print("drain times by round: " + "; ".join(
        f"{n} worker(s) " + " ".join(f"{w:.2f}" for w in walls[n]) for n in counts))
    if 1 in rates:
        for n in counts:
            if n != 1:
                rounds = sorted(a / b for a, b in zip(walls[1], walls[n]))
                print(f"{n} workers / 1: {rates[n] / rates[1]:.2f}x; round by round "
                      f"{', '.join(f'{r:.2f}x' for r in rounds)}, median "
                      f"{rounds[len(rounds) // 2]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
