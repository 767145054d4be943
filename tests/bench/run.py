#!/usr/bin/python3
"""Throughput and memory benchmark: Mimamori, ndpiReader and a bare libpcap read, side by side.

usage: run.py MIMAMORI BENCH_TOOL WORKDIR [CAPTURE | --corpus PCAPS_DIR] [--copies N]
              [--flows N] [--flood N] [--runs N]

CAPTURE is read as given; with --corpus the benchmark capture is made from every Ethernet
capture under PCAPS_DIR (robustness/ excepted) repeated --copies times (default 10), each copy
in its own address range. The readers take turns on the same file, --runs rounds (default 3);
each one's best time and largest peak RSS are kept. Mimamori runs the
full pipeline with one worker: decode, flows, nDPI, HL7/DICOM, the shipped rules, EVE alerts,
flows and stats to a file. --flows N then measures memory per flow: N DNS flows (query and answer,
classified at once, so their nDPI state is freed), all alive at the end, once without flow
records and once with them (the records made at the end fill the output queue, a cost bounded
by delivery.queue_events rather than by the number of flows). --flood N measures a flood of N
one-packet UDP flows nDPI never finishes (each would keep its classifier state), with
flow.max_flows at N + 1024 and the classifier's default bounds: peak RSS, stats.flow.memuse and
memcap at the end, and how many classifications were given up on to make room.

Prints pps, Gbit/s, ns/packet, peak RSS, flows, bytes/flow and the ratios the goals are stated
in. Mimamori's worker shares the machine with its output thread, ndpiReader runs alone; as a
control, two ndpiReaders also run at once in every round, which shows what a second busy core
costs a reader on this machine at that moment (on a shared VM: from nothing to a third), and
two threads bounce a cache line, which shows what a hand-over between threads costs. A
benchmark, not a test: it asserts nothing and exits 0 unless a program fails.
"""
import json
import os
import resource
import subprocess
import sys
import time


def run(cmd):
    """Wall seconds and peak RSS (KiB) of one command; its stdout."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    p.stdout.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{cmd[0]} failed ({status})")
    return wall, ru.ru_maxrss, out.decode(errors="replace")


def best(cmds, runs, capture, outputs):
    """Each command's best time and largest peak RSS over runs rounds, the commands taking turns
    within a round so that all of them meet the same moods of a shared machine; each one's last
    stdout and its time in every round. Before each run the capture is read into the page cache (this machine's memory
    manager evicts idle pages) and the command's output file, if any, removed (file outputs
    append)."""
    results = [[] for _ in cmds]
    for _ in range(runs):
        for i, cmd in enumerate(cmds):
            with open(capture, "rb") as f:
                while f.read(1 << 20):
                    pass
            if outputs[i] is not None and os.path.exists(outputs[i]):
                os.unlink(outputs[i])
            results[i].append(run(cmd))
    return [(min(r[0] for r in res), max(r[1] for r in res), res[-1][2], [r[0] for r in res],
             [r[2] for r in res]) for res in results]


def last_stats(eve):
    stats = None
    with open(eve) as f:
        for line in f:
            if '"event_type":"stats"' in line:
                stats = json.loads(line)
    return stats


def flood(mimamori, tool, work, n):
    """Peak RSS and the stats' own account under a flood of never-finished flows."""
    fl, site = os.path.join(work, f"flood{n}.pcap"), os.path.join(work, "flood.yaml")
    eve = os.path.join(work, "flood.json")
    subprocess.run([tool, "flood", fl, str(n)], check=True)
    with open(site, "w") as f:
        f.write(f"sensor: {{name: bench}}\nflow: {{max_flows: {n + 1024}}}\n"
                f"outputs: [{{type: file, path: {eve}, types: [alert, stats]}}]\n")
    if os.path.exists(eve):
        os.unlink(eve)
    t, rss, _ = run([mimamori, "-c", site, "-r", fl])
    st = last_stats(eve)
    fs = st["stats"]["flow"]
    print(f"{n} one-packet UDP flows nDPI never finishes: peak RSS {rss / 1024:.1f} MB (goal "
          f"<= 512 MB for 1 M), stats.flow.memuse {fs['memuse'] / 1e6:.1f} MB of memcap "
          f"{fs['memcap'] / 1e6:.1f} MB, {st['ndpi']['classifier']['given_up']} classifications "
          f"given up on, emergency entered {fs['emerg_mode_entered']}, {t:.2f} s")
    return 0


def main():
    args = sys.argv[1:]
    if len(args) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    mimamori, tool, work = args[:3]
    opts = dict(copies=10, flows=0, flood=0, runs=3)
    capture = corpus = None
    rest = args[3:]
    while rest:
        a = rest.pop(0)
        if a == "--corpus":
            corpus = rest.pop(0)
        elif a in ("--copies", "--flows", "--flood", "--runs"):
            opts[a[2:]] = int(rest.pop(0))
        else:
            capture = a
    os.makedirs(work, exist_ok=True)
    if opts["flood"]:
        return flood(mimamori, tool, work, opts["flood"])
    if capture is None:
        if corpus is None or not os.path.isdir(corpus):
            print("give a capture or --corpus DIR (the shared corpus is absent)")
            return 0
        files = sorted(os.path.join(d, f) for d, _, fs in os.walk(corpus) for f in fs
                       if f.endswith((".pcap", ".pcapng", ".cap")) and "robustness" not in d)
        capture = os.path.join(work, "bench.pcap")
        print(f"making {capture}: {len(files)} captures x {opts['copies']} ...", flush=True)
        subprocess.run([tool, "make", capture, str(opts["copies"])] + files, check=True,
                       stdout=subprocess.DEVNULL)
    runs = opts["runs"]
    eve = os.path.join(work, "eve.json")
    site = os.path.join(work, "site.yaml")
    with open(site, "w") as f:
        f.write("sensor: {name: bench}\nflow: {max_flows: 1048576}\n")

    ndpi = ["ndpiReader", "-q", "-i", capture]
    pair = ["sh", "-c", '"$@" & "$@"; wait', "pair"] + ndpi
    (bare_t, bare_rss, out, _, _), (bare1m_t, bare1m_rss, _, _, _), \
        (mm_t, mm_rss, _, mm_all, _), (nd_t, nd_rss, _, nd_all, _), (nd2_t, _, _, nd2_all, _), \
        (_, _, _, _, hand) = \
        best([[tool, "read", capture], [tool, "read-1m", capture],
              [mimamori, "-c", site, "-r", capture, "--eve", eve], ndpi, pair,
              [tool, "handover"]], runs, capture, [None, None, eve, None, None, None])
    fields = out.split()
    packets, nbytes = int(fields[1]), int(fields[3])
    st = last_stats(eve)
    mm_flows = st["stats"]["flow"]["total"]
    alerts = st["stats"]["detect"]["alert"]

    def row(name, t, rss, flows):
        pps = packets / t
        print(f"{name:<22} {pps / 1e6:8.3f} Mpps {nbytes * 8 / t / 1e9:7.2f} Gbit/s "
              f"{1e9 * t / packets:8.0f} ns/pkt {rss / 1024:8.1f} MB peak RSS"
              + (f" {flows:>8} flows" if flows else ""))
        return pps

    print(f"\ncapture: {capture}: {packets} packets, {nbytes} bytes captured (Gbit/s below are "
          f"of these); best of {runs} runs\n")
    bare = row("bare libpcap read", bare_t, bare_rss, None)
    bare1m = row("  with a 1 MiB buffer", bare1m_t, bare1m_rss, None)
    nd = row("ndpiReader 4.2", nd_t, nd_rss, None)
    mm = row("mimamori (1 worker)", mm_t, mm_rss, mm_flows)
    print(f"control: two ndpiReaders at once, each {packets / nd2_t / 1e6:.3f} Mpps, "
          f"{nd_t / nd2_t:.2f} of one alone (rounds in order "
          f"{', '.join(f'{a / b:.2f}' for a, b in zip(nd_all, nd2_all))})")
    print(f"\nmimamori / ndpiReader: {mm / nd:.2f}x packets per second (goal >= 3), "
          f"{mm_rss / nd_rss:.2f} of its peak RSS (goal <= 0.33)")
    rounds = [n / m for m, n in zip(mm_all, nd_all)]
    print(f"  round by round, in order (the two ran one after the other): "
          f"{', '.join(f'{r:.2f}x' for r in rounds)}; median "
          f"{sorted(rounds)[len(rounds) // 2]:.2f}x")
    print("  a cache line from one thread to another and back, by round: " +
          ", ".join(h.split()[1] for h in hand) + " ns")
    print(f"  against an ndpiReader beside another (both then share the machine with a busy "
          f"thread): {mm / (packets / nd2_t):.2f}x")
    print(f"mimamori / bare read:  {mm / bare:.1%} of the floor (goal >= 30%); "
          f"{mm / bare1m:.1%} of the read with Mimamori's own 1 MiB buffer")
    print(f"mimamori: {alerts} alerts, flow table {st['stats']['flow']['memuse']} bytes in use "
          f"at the end")

    if opts["flows"]:
        n = opts["flows"]
        fl = os.path.join(work, f"flows{n}.pcap")
        subprocess.run([tool, "flows", fl, str(n)], check=True)
        empty = os.path.join(work, "empty.pcap")
        subprocess.run([tool, "flows", empty, "1"], check=True)
        print(f"\n{n} concurrent DNS flows (query and answer: classified, nDPI state freed), all "
              f"alive until the end of the capture:")
        # With flow records the n records made at the end fill the output queue (bounded by
        # delivery.queue_events, not by the flows), so the table's own cost is measured apart.
        for label, types in (("alerts and stats only", "[alert, stats]"),
                             ("with flow records", "[alert, flow, stats]")):
            with open(site, "w") as f:
                f.write(f"sensor: {{name: bench}}\nflow: {{max_flows: {n + 1024}}}\n"
                        f"outputs: [{{type: file, path: {eve}, types: {types}}}]\n")
            if os.path.exists(eve):
                os.unlink(eve)
            t, rss, _ = run([mimamori, "-c", site, "-r", fl])
            st = last_stats(eve)
            _, rss1, _ = run([mimamori, "-c", site, "-r", empty])
            print(f"  {label:<22} peak RSS {rss / 1024:6.1f} MB (goal <= 512 MB for 1 M), "
                  f"{(rss - rss1) * 1024 / n:4.0f} bytes per flow over a one-flow run (goal "
                  f"<= 256); flow table {st['stats']['flow']['memuse'] / n:.0f} bytes per flow; "
                  f"{t:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
