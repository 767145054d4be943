#!/usr/bin/python3
"""The sensor as a live daemon on a veth pair in a network namespace the test creates.

usage: live_daemon.py MIMAMORI DEMO_PCAP WORKDIR [--workers N]

The sensor captures on one end (as user nobody after start-up); tcpreplay sends the demo capture
into the other. Checked: /proc/PID/task/*/status shows, for every thread, the unprivileged uid
and gid, no capability in any set and no_new_privs, and its name (mimamori, mm-workerN,
mm-output); the stats of a quiet port are in time order, the last stamped at its end (not with the
last packet's time, which a quiet port does not have); a second process started on the same interface, and so the same spools, is refused
with the first one's pid; the alerts equal those of the same capture read with -r (rule, hosts,
count; a source-scoped threshold alert by rule, source and count), across a reload with a
broken config (rejected, reported, the running one kept) and a good one (taken, detector state
kept) in the middle of the replay; SIGTERM ends it with exit 0 and every flow written out. With
--workers N the sensor runs N packet workers fed by the kernel's fanout: it has N + 1 threads
(the workers and the output thread, and now and then the inventory's writer), every flow is written once (both directions went to one
worker), the workers shared the traffic, and the alerts still equal the single-threaded reading.

Needs root, iproute2 and tcpreplay; exits 77 (skipped) without them or without permission to
create network namespaces.
"""
import collections
import datetime
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livetest import (check, failures, stop, netns_veth, pcap_records, wait_for, Stderr,  # noqa: E402
                      count_lines)



# Evidence of a threshold alert about its source (host fan-out, host sweeps, DICOM rejections).
SOURCE_SCOPED = ("distinct_hosts=", "rejections=")


def alerts(path):
    """Alerts by (rule, source, destination, count), and the destinations each source reached.

    A source-scoped threshold alert is identified by its rule, source and count: its destination
    is the flow that completed the count, and with several workers the flows of one source reach
    the detector in the order the workers finish them, not in packet order (README, Reading
    alerts). Such alerts are keyed with destination "*"; dests() says which hosts it may name.
    """
    out, named, dests = collections.Counter(), [], collections.defaultdict(set)
    for line in open(path):
        ev = json.loads(line)
        if ev["event_type"] == "flow":
            dests[ev["src_ip"]].add(ev["dest_ip"])
        if ev["event_type"] != "alert":
            continue
        md = ev["alert"]["metadata"]
        dest = ev["dest_ip"]
        if any(e.startswith(SOURCE_SCOPED) for e in md.get("evidence", [])):
            named.append((ev["src_ip"], dest))
            dest = "*"
        out[(md["rule"][0], ev["src_ip"], dest, md["count"][0])] += 1
    return out, named, dests


def status(pid):
    fields = {}
    for line in open(f"/proc/{pid}/status"):
        k, _, v = line.partition(":")
        fields[k] = v.split()
    return fields


def main():
    args = sys.argv[1:]
    workers = 1
    if len(args) == 5 and args[3] == "--workers":
        workers = int(args.pop())
        args.pop()
    if len(args) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    mimamori, pcap, work = args
    if os.geteuid() != 0 or shutil.which("tcpreplay") is None or shutil.which("ip") is None:
        print("skipped: needs root, iproute2 and tcpreplay")
        return 77
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    site = os.path.join(work, "site.yaml")
    state_dir = os.path.join(work, "state")
    os.makedirs(state_dir)
    os.chmod(state_dir, 0o777)  # the sensor saves it as nobody
    with open(site, "w") as f:
        f.write(f"sensor: {{name: live, user: nobody, group: nogroup, workers: {workers}}}\n"
                f"delivery: {{spool_directory: {work}/spool}}\n"
                f"inventory: {{state: {state_dir}/inventory.state, interval: 1s}}\n"
                f"learning: {{period: 1s}}\n")
    ref = os.path.join(work, "offline.json")
    subprocess.run([mimamori, "-c", site, "-r", pcap, "--eve", ref], check=True)

    ns = "mm-live-%d" % os.getpid()
    try:
        why = netns_veth(ns, "mmd0", "mmd1")
        if why is not None:
            print("skipped: cannot create a network namespace with a veth pair here: " + why)
            return 77
        # A quiet port: the last stats event is stamped no earlier than the one at start.
        quiet = os.path.join(work, "quiet.json")
        began = datetime.datetime.now(datetime.timezone.utc)
        q = subprocess.Popen(["ip", "netns", "exec", ns, mimamori, "-c", site, "-i", "mmd1",
                              "--eve", quiet], stderr=subprocess.PIPE, text=True)
        qerr = Stderr(q)
        check(qerr.wait("running as nobody"), "the quiet sensor started")
        time.sleep(1.5)  # not a wait for an event: the quiet port must be up for over a second
        stop(q, err=qerr)
        st = [json.loads(x) for x in open(quiet) if '"event_type":"stats"' in x]
        stamps = [datetime.datetime.strptime(e["timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z")
                  for e in st]
        check(len(st) >= 1 and stamps == sorted(stamps) and stamps[-1] > began and
              st[-1]["stats"]["uptime"] >= 1,
              f"stats of a quiet port in time order, the last stamped at the end "
              f"({[e['timestamp'] for e in st]}, uptime {[e['stats']['uptime'] for e in st]})")
        eve = os.path.join(work, "live.json")
        # systemd's side of Type=notify: a datagram socket, and a 1 s watchdog.
        sock_path = os.path.join(work, "notify.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(sock_path)
        os.chmod(sock_path, 0o777)
        sock.settimeout(0.1)
        env = dict(os.environ, NOTIFY_SOCKET=sock_path, WATCHDOG_USEC="1000000")
        env.pop("WATCHDOG_PID", None)
        proposed = os.path.join(state_dir, "proposed.yaml")
        p = subprocess.Popen(["ip", "netns", "exec", ns, mimamori, "-c", site, "-i",
                              "mmd1", "--eve", eve, "--propose-config", proposed],
                             stderr=subprocess.PIPE, text=True, env=env)
        perr = Stderr(p)
        # systemd reads its socket at once; so does this thread, or the sensor's sd_notify()
        # would block on a full queue (net.unix.max_dgram_qlen, 10 by default).
        notes, done = [], threading.Event()

        def drain():
            while not done.is_set():
                try:
                    notes.append(sock.recv(4096).decode())
                except socket.timeout:
                    pass
        reader = threading.Thread(target=drain, daemon=True)
        reader.start()

        # Ready comes after the privilege drop; a loaded machine may take a while to get there.
        check(wait_for(lambda: any(n.startswith("READY=1") for n in notes)),
              "sd_notify: READY=1 sent")
        check(p.poll() is None, "the daemon is running")
        # Pings every half interval; a loaded machine may delay one, so wait up to 10 s for two.
        start = time.time()
        wait_for(lambda: sum("WATCHDOG=1" in n for n in notes) >= 2, timeout=10)
        check(sum("WATCHDOG=1" in n for n in notes) >= 2,
              f"sd_notify: watchdog pinged ({sum('WATCHDOG=1' in n for n in notes)} in "
              f"{time.time() - start:.1f} s with a 1 s watchdog)")
        # Every thread: the bounding set and no_new_privs belong to a thread, not the process.
        zero = ["0000000000000000"]

        def comm(tid):
            try:
                return open(f"/proc/{p.pid}/task/{tid}/comm").read().strip()
            except OSError:
                return None  # a thread that ended since the listing
        # The inventory's writer (mm-inventory) comes and goes every inventory.interval.
        tids = [t for t in sorted(os.listdir(f"/proc/{p.pid}/task"))
                if comm(t) not in (None, "mm-inventory")]
        for tid in tids:
            st = status(f"{p.pid}/task/{tid}")
            who = "main thread" if tid == str(p.pid) else f"thread {tid}"
            check(st.get("Uid") == ["65534"] * 4 and st.get("Gid") == ["65534"] * 4,
                  f"{who} runs as nobody/nogroup (Uid {st.get('Uid')}, Gid {st.get('Gid')})")
            check(all(st.get(k) == zero for k in ("CapInh", "CapPrm", "CapEff", "CapBnd",
                                                 "CapAmb")),
                  f"{who}: no capability in any set: " +
                  " ".join(f"{k}={st.get(k, ['?'])[0]}" for k in ("CapPrm", "CapEff", "CapBnd")))
            check(st.get("NoNewPrivs") == ["1"], f"{who}: no_new_privs set")
        threads = len(tids)
        check(threads == workers + 1, f"{workers} worker(s) and the output thread: {threads} "
                                      f"threads")
        names = sorted(comm(tid) for tid in tids)
        want = sorted(["mimamori", "mm-output"] + [f"mm-worker{i}" for i in range(1, workers)])
        check(names == want, f"threads named for top -H: {names}")
        # A second process for the same interface would share the spools: refused at start.
        second = subprocess.Popen(["ip", "netns", "exec", ns, mimamori, "-c", site, "-i",
                                   "mmd1", "--eve", os.path.join(work, "second.json")],
                                  stderr=subprocess.PIPE, text=True)
        try:
            err2 = second.communicate(timeout=30)[1]
        except subprocess.TimeoutExpired:  # it runs beside the first: stopped, and a failure
            err2 = stop(second)
        check(second.returncode == 1 and f"mmd1.lock is held by another mimamori (pid {p.pid})"
              in err2, f"a second process on the same spools is refused: exit "
                       f"{second.returncode}, {err2.strip()[-160:]!r}")
        # The capture in two halves, with a failed and a good reload between them.
        hdr, recs = pcap_records(pcap)
        halves = []
        for i, part in enumerate((recs[:len(recs) // 2], recs[len(recs) // 2:])):
            halves.append(os.path.join(work, f"half{i}.pcap"))
            with open(halves[-1], "wb") as f:
                f.write(hdr + b"".join(part))

        def replay(path):
            return subprocess.run(["ip", "netns", "exec", ns, "tcpreplay", "-i", "mmd0",
                                   "--pps", "3000", path], capture_output=True, text=True,
                                  timeout=120).returncode == 0
        ok = replay(halves[0])
        good = open(site).read()
        with open(site, "w") as f:
            f.write(good + "zones:\n  emr: {networks: [10.1.0.0/33]}\n")  # a broken change
        mark = perr.count()
        p.send_signal(signal.SIGHUP)
        check(perr.wait("keeping the running configuration", after=mark),
              "the broken reload was answered")
        with open(site, "w") as f:
            f.write(good)
        mark = perr.count()
        p.send_signal(signal.SIGHUP)
        check(perr.wait("configuration reloaded", after=mark), "the good reload was answered")
        ok = replay(halves[1]) and ok
        check(ok, "tcpreplay sent the demo capture (two halves)")
        # Every alert raised by a packet (the fold reports come at the end) is the sign that
        # the sensor has read all that was sent: stopped earlier, it would lose the rest.
        live_alerts = sum(1 for line in open(ref) if '"event_type":"alert"' in line and
                          "repeats_since=" not in line)
        wait_for(lambda: count_lines(eve, '"event_type":"alert"') >= live_alerts)
        # The state file is saved every second by a thread beside the packet path: while the
        # sensor runs it must come to hold devices (those whose flows ended: a header line,
        # then one line each, every line whole), and at exit every client of the capture.
        state = os.path.join(state_dir, "inventory.state.mmd1")
        devices = len({json.loads(x)["src_ip"] for x in open(ref)
                       if '"event_type":"flow"' in x and json.loads(x)["src_ip"].startswith(
                           ("10.", "192.168.", "172."))})

        def saved():
            try:
                lines = [json.loads(x) for x in open(state)]
            except (OSError, ValueError):
                return 0
            return len(lines) - 1
        check(wait_for(lambda: saved() >= 1),
              f"the state file was saved while running ({saved()} devices)")
        # learning.period is 1 s: the proposal is written while the sensor runs, and loads.
        check(wait_for(lambda: os.path.exists(proposed)) and p.poll() is None,
              "the proposed config was written while running, once learning.period passed")
        r = subprocess.run([mimamori, "-c", proposed, "--test-config"], capture_output=True,
                           text=True)
        check(r.returncode == 0, "the live proposal passes --test-config " + r.stderr[-200:])
        err = stop(p, err=perr)
        check(saved() >= devices > 0,
              f"the state file at exit holds the capture's clients ({saved()} of {devices})")
        wait_for(lambda: any("STOPPING=1" in n for n in notes), timeout=5)
        done.set()
        reader.join()
        check(any("STOPPING=1" in n for n in notes), "sd_notify: STOPPING=1 sent")
        check(p.returncode == 0, f"SIGTERM: exit 0 ({p.returncode})")
        flows = [json.loads(x) for x in open(eve) if '"event_type":"flow"' in x]
        ref_flows = [json.loads(x) for x in open(ref) if '"event_type":"flow"' in x]
        key = lambda f: (f["src_ip"], f.get("src_port"), f["dest_ip"], f.get("dest_port"),
                         f["proto"])
        # The veth itself adds a few flows of its own (IPv6 neighbour discovery, MLD).
        missing = set(map(key, ref_flows)) - set(map(key, flows))
        check(not missing and any(f["flow"]["reason"] == "shutdown" for f in flows),
              f"SIGTERM: every flow written out ({len(ref_flows)} of the capture, "
              f"{len(flows)} in all; missing {sorted(missing)[:3]})")
        ends = lambda f: tuple(sorted([(f["src_ip"], f.get("src_port", 0)),
                                       (f["dest_ip"], f.get("dest_port", 0))])) + (f["proto"],)
        split = [k for k, n in collections.Counter(map(ends, flows)).items() if n > 1]
        check(not split, f"every flow written once, both directions together ({split[:3]})")
        if workers > 1:
            last = [json.loads(x) for x in open(eve) if '"event_type":"stats"' in x][-1]
            shares = last["ndpi"]["capture"].get("workers", [])
            check(len(shares) == workers and all(w["packets"] > 0 for w in shares) and
                  sum(w["packets"] for w in shares) == last["stats"]["decoder"]["pkts"],
                  f"the {workers} workers shared the packets: {shares}")
        (want, want_named, reached), (got, named, _) = alerts(ref), alerts(eve)
        check(got == want, f"alerts live equal alerts offline ({sum(got.values())} and "
                           f"{sum(want.values())})")
        if got != want:
            print("     offline only:", dict(want - got), "\n     live only:", dict(got - want))
        check(len(named) == len(want_named) and all(d in reached[s] for s, d in named),
              f"source-scoped alerts name a host their source reached ({named}; offline "
              f"{want_named})")
        check("running as nobody" in err, "the daemon said whom it runs as")
        if "keeping the running configuration" not in err:
            print(err)
        check(":6:20: bad network '10.1.0.0/33'" in err and
              "keeping the running configuration" in err,
              "a broken reload is reported with its position and the running config kept")
        check("configuration reloaded" in err, "the good reload was taken")
        stats = [json.loads(x) for x in open(eve) if '"event_type":"stats"' in x]
        engine = stats[-1]["stats"]["detect"]["engines"][0] if stats else {}
        check(engine.get("rules_failed") == 0 and "last_reload" in engine,
              f"stats: the reload recorded ({engine})")
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    print(f"live_daemon: {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
