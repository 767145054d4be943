#!/usr/bin/python3
"""Reloading a million indicators while traffic is replayed live into a namespace: no packet lost.

usage: intel_live.py MIMAMORI PCAPS WORKDIR

The sensor captures on one end of a veth pair in a namespace of the test's own, with a site
config naming a feed of 1,000,000 indicators (tests/bench/intel_feed.py). tcpreplay sends a
shared TLS capture over and over for several seconds; meanwhile the test sends SIGHUP (a
reload of the config and its million indicators) and then adds the capture's server address,
read by tshark, to the feed file, which the sensor must notice and load by itself. Checks:
both reloads answered in the log while packets flowed; every packet tcpreplay sent counted by
the capture and decoded, none dropped by the kernel; intel alerts on the server address, every
one after the feed changed and none before. Exit 77 (skipped) without root, iproute2,
tcpreplay, tshark or the shared corpus.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livetest import Stderr, check, failures, netns_veth, stop, wait_for  # noqa: E402

FEEDGEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench",
                       "intel_feed.py")


def main():
    mimamori, pcaps, work = sys.argv[1:4]
    pcap = os.path.join(pcaps, "protocols", "443-curl.pcap")
    if os.geteuid() != 0 or not all(shutil.which(t) for t in ("tcpreplay", "ip", "tshark")) \
            or not os.path.exists(pcap):
        print("skipped: needs root, iproute2, tcpreplay, tshark and the shared corpus")
        return 77
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    server = subprocess.run(["tshark", "-r", pcap, "-Y", "tls.handshake.type == 1", "-T",
                             "fields", "-e", "ip.dst"], capture_output=True,
                            text=True).stdout.split()[0]
    feed = os.path.join(work, "feed.txt")
    subprocess.run([sys.executable, FEEDGEN, "1000000", feed], check=True)
    check(server not in open(feed).read().split(), f"the feed does not hold {server} yet")
    site = os.path.join(work, "site.yaml")
    with open(site, "w") as f:
        f.write("sensor: {name: intel-live, user: nobody, group: nogroup}\n"
                f"delivery: {{spool_directory: {work}/spool}}\n"
                f"intel:\n  - {{name: national, path: {feed}, severity: 1}}\n")
    ns = "mm-intel-%d" % os.getpid()
    try:
        why = netns_veth(ns, "mmi0", "mmi1")
        if why is not None:
            print("skipped: cannot create a network namespace with a veth pair here: " + why)
            return 77
        eve = os.path.join(work, "live.json")
        p = subprocess.Popen(["ip", "netns", "exec", ns, mimamori, "-c", site, "-i", "mmi1",
                              "--eve", eve], stderr=subprocess.PIPE, text=True)
        err = Stderr(p)
        check(err.wait("running as nobody", timeout=60), "the sensor started with 1 M indicators")
        sent = {}

        def replay():
            r = subprocess.run(["ip", "netns", "exec", ns, "tcpreplay", "-i", "mmi0", "--pps",
                                "2000", "--loop", "300", pcap], capture_output=True, text=True)
            m = re.search(r"Actual: (\d+) packets", r.stdout)
            sent["n"] = int(m.group(1)) if m and r.returncode == 0 else -1
        t = threading.Thread(target=replay)
        t.start()
        time.sleep(1.5)  # packets flowing before the reload
        mark = err.count()
        p.send_signal(signal.SIGHUP)
        check(err.wait("configuration reloaded", after=mark, timeout=60),
              "SIGHUP: the config and its 1 M indicators reloaded during the replay")
        changed = time.time()
        with open(feed, "a") as f:
            f.write(f"{server}  # the test's server\n")
        mark = err.count()
        check(err.wait("an intel feed changed", after=mark, timeout=60) and
              err.wait("configuration reloaded", after=mark, timeout=60),
              "the changed feed noticed and loaded by the sensor itself")
        t.join(timeout=120)
        check(not t.is_alive() and sent.get("n", -1) > 0 and t.is_alive() is False,
              f"tcpreplay sent {sent.get('n')} packets")
        # The last stats event holds every packet once the sensor has read them all.
        def stats():
            st = [json.loads(x) for x in open(eve) if '"event_type":"stats"' in x] \
                if os.path.exists(eve) else []
            return st[-1]["stats"] if st else None
        stop(p, err=err)
        st = stats()
        cap = st["capture"] if st else {}
        check(st is not None and cap.get("kernel_packets") == sent.get("n") and
              st["decoder"]["pkts"] == sent.get("n") and cap.get("kernel_drops") == 0 and
              cap.get("kernel_ifdrops") == 0,
              f"no packet lost: sent {sent.get('n')}, captured {cap.get('kernel_packets')}, "
              f"decoded {st['decoder']['pkts'] if st else None}, dropped "
              f"{cap.get('kernel_drops')}+{cap.get('kernel_ifdrops')}")
        hits = []
        for line in open(eve):
            e = json.loads(line)
            if e["event_type"] == "alert" and \
                    e["alert"]["metadata"]["rule"] == ["intel.indicator_match"]:
                hits.append(e)
        from datetime import datetime
        before = [e for e in hits if datetime.strptime(
            e["timestamp"], "%Y-%m-%dT%H:%M:%S.%f%z").timestamp() < changed]
        check(len(hits) > 0 and not before and
              all(f"indicator={server}" in e["alert"]["metadata"]["evidence"] for e in hits)
              and all(e["alert"]["severity"] == 1 for e in hits),
              f"{len(hits)} intel alerts on {server}, none before the feed changed")
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    print(("FAIL " if failures else "ok   ") + f"intel_live: {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
