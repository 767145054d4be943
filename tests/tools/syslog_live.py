#!/usr/bin/python3
"""Alert delivery to a real rsyslog on loopback: UDP, TCP (octet counting) and TLS, an outage,
and a full output queue.

usage: syslog_live.py MIMAMORI GENERATOR WORKDIR

1. transports: the generator's alert_burst capture (150 alerts) is read with a file output and
   three syslog outputs; every alert of the file must reach rsyslog over each transport intact
   and in order, with the RFC 5424 header rsyslog parsed (host, app-name, msgid, facility,
   severity, time) matching the event.
2. outage: the capture is fed to the sensor's standard input in three parts; rsyslog is stopped
   during the second and started again before the third. Every alert must arrive, in order;
   duplicates are counted and reported (the README documents when they can happen).
3. restart: with rsyslog down the sensor exits leaving its events in the spool; the next run
   sends them before its own.
4. client certificate: a TLS input that requires one (x509/certvalid) takes the sensor's
   certificate and accepts nothing without it.
5. queue full (root, network namespaces, tcpreplay): live capture on a veth pair while the file
   output is a FIFO nobody reads and the queue holds 16 events. Capture must see every packet,
   the overflow must be counted, and once the FIFO is read every alert must come out, in order.

Needs rsyslogd with the gtls driver and openssl; exits 77 (skipped) without them. Part 5 is
skipped (and said so) without root or tcpreplay.
"""
import array
import fcntl
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import termios
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from livetest import (check, failures, stop, netns_veth, pcap_records, wait_for,  # noqa: E402
                      Stderr, settled)



def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def make_certs(work):
    def ossl(*args):
        subprocess.run(["openssl"] + list(args), check=True, capture_output=True, cwd=work)
    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
         "-days", "2", "-subj", "/CN=Mimamori test CA")
    ossl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
         "-subj", "/CN=localhost")
    with open(os.path.join(work, "ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                "extendedKeyUsage=serverAuth\n")
    ossl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
         "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf")
    # The sensor's client certificate, for a receiver that requires one.
    ossl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "client.key", "-out", "client.csr",
         "-subj", "/CN=mimamori-sensor")
    with open(os.path.join(work, "client.cnf"), "w") as f:
        f.write("basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n")
    ossl("x509", "-req", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
         "-CAcreateserial", "-out", "client.pem", "-days", "2", "-extfile", "client.cnf")


class Rsyslog:
    """A private rsyslogd: UDP, TCP and TLS inputs on loopback, one file with what it parsed."""

    def __init__(self, work):
        self.work = work
        self.ports = {"udp": free_port(), "tcp": free_port(), "tls": free_port(),
                      "mtls": free_port()}
        self.out = os.path.join(work, "received.txt")
        self.conf = os.path.join(work, "rsyslog.conf")
        w = work
        with open(self.conf, "w") as f:
            f.write(f"""global(workDirectory="{w}" maxMessageSize="64k"
       defaultNetstreamDriverCAFile="{w}/ca.pem"
       defaultNetstreamDriverCertFile="{w}/server.pem"
       defaultNetstreamDriverKeyFile="{w}/server.key")
module(load="imudp")
module(load="imtcp" maxSessions="100")
input(type="imudp" address="127.0.0.1" port="{self.ports['udp']}" name="udp")
input(type="imtcp" address="127.0.0.1" port="{self.ports['tcp']}" name="tcp")
input(type="imtcp" address="127.0.0.1" port="{self.ports['tls']}" name="tls"
      streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
input(type="imtcp" address="127.0.0.1" port="{self.ports['mtls']}" name="mtls"
      streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="x509/certvalid")
template(name="fields" type="string" string="%inputname%\\t%hostname%\\t%app-name%\\t%msgid%\\t%syslogfacility%\\t%syslogseverity%\\t%timereported:::date-rfc3339%\\t%msg%\\n")
action(type="omfile" file="{self.out}" template="fields")
""")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(["rsyslogd", "-n", "-f", self.conf, "-i",
                                      os.path.join(self.work, "rsyslog.pid")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.ports["tls"]), timeout=0.2).close()
                socket.create_connection(("127.0.0.1", self.ports["tcp"]), timeout=0.2).close()
                return True
            except OSError:
                time.sleep(0.1)
        return False

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
            self.proc = None

    def received(self, transport):
        if not os.path.exists(self.out):
            return []
        rows = []
        with open(self.out, errors="replace") as f:
            for line in f:
                parts = line.rstrip("\n").split("\t", 7)
                if len(parts) == 8 and parts[0] == transport:
                    rows.append(parts)
        return rows

    def wait_for(self, transport, n, timeout=30):
        end = time.time() + timeout
        while time.time() < end:
            if len(self.received(transport)) >= n:
                return True
            time.sleep(0.2)
        return False


def alerts_of(path):
    if not os.path.exists(path):
        return []
    return [line.rstrip("\n") for line in open(path) if '"event_type":"alert"' in line]


def site(work, name, outputs, extra=""):
    """The generator's model-hospital site with these outputs."""
    path = os.path.join(work, name + ".yaml")
    base = open(os.path.join(work, "scenarios", "alert_burst", "site.yaml")).read()
    with open(path, "w") as f:
        f.write(base + "outputs:\n" + outputs + "delivery:\n  spool_directory: " +
                os.path.join(work, "spool-" + name) + "\n" + extra)
    return path


def rfc3339(eve_ts):
    """EVE's +0900 offset written as RFC 3339's +09:00."""
    return eve_ts[:-2] + ":" + eve_ts[-2:]


def part_transports(mimamori, work, rs, pcap):
    eve = os.path.join(work, "transports.json")
    outputs = (f"  - {{type: file, path: {eve}}}\n"
               f"  - {{type: syslog, transport: udp, address: '127.0.0.1:{rs.ports['udp']}', types: [alert]}}\n"
               f"  - {{type: syslog, transport: tcp, address: '127.0.0.1:{rs.ports['tcp']}', types: [alert]}}\n"
               f"  - {{type: syslog, transport: tls, address: 'localhost:{rs.ports['tls']}', types: [alert],\n"
               f"      ca: {work}/ca.pem}}\n")
    cfg = site(work, "transports", outputs)
    r = subprocess.run([mimamori, "-c", cfg, "-r", pcap], capture_output=True, text=True,
                       timeout=120)
    check(r.returncode == 0, "transports: sensor exit 0 " + r.stderr.strip()[-200:])
    sent = alerts_of(eve)
    check(len(sent) == 150, f"transports: 150 alerts in the file output ({len(sent)})")
    for t in ("udp", "tcp", "tls"):
        rs.wait_for(t, len(sent), timeout=20)
        got = rs.received(t)
        check([g[7] for g in got] == sent,
              f"{t}: all {len(sent)} alerts arrived intact and in order ({len(got)} received)")
        ok = True
        for g, line in zip(got, sent):
            ev = json.loads(line)
            sev = {1: "2", 2: "3", 3: "4"}[ev["alert"]["severity"]]
            if (g[1] != "hospital-a-core1" and g[1] != ev["host"]) or g[2] != "mimamori" or \
                    g[3] != "alert" or g[4] != "16" or g[5] != sev or \
                    g[6] != rfc3339(ev["timestamp"]):
                ok = False
                print("     header mismatch:", g[:7], ev["host"], ev["timestamp"])
                break
        check(ok, f"{t}: RFC 5424 header as rsyslog parsed it (host, app, msgid, facility, "
                  "severity, time)")


def part_client_cert(mimamori, work, rs):
    """A receiver that requires a client certificate takes the sensor's, and refuses none."""
    pcap = os.path.join(work, "scenarios", "alert_burst", "input.pcap")
    for name, extra, want in (("nocert", "", 0),
                              ("cert", f", cert: {work}/client.pem, key: {work}/client.key", 150)):
        eve = os.path.join(work, f"mtls-{name}.json")
        before = len(rs.received("mtls"))
        outputs = (f"  - {{type: file, path: {eve}, types: [alert]}}\n"
                   f"  - {{type: syslog, transport: tls, address: 'localhost:{rs.ports['mtls']}',"
                   f" types: [alert], ca: {work}/ca.pem{extra}}}\n")
        cfg = site(work, "mtls-" + name, outputs, "  drain_timeout: 1s\n")
        subprocess.run([mimamori, "-c", cfg, "-r", pcap], capture_output=True, timeout=120)
        if want:
            rs.wait_for("mtls", before + want, timeout=20)
        else:
            time.sleep(1)
        got = [g[7] for g in rs.received("mtls")[before:]]
        check(got == alerts_of(eve)[:want] and len(got) == want,
              f"client certificate: {'with' if want else 'without'} it, {len(got)} alerts "
              f"accepted by a receiver that requires one")


def read_all(p, eve):
    """Whether the sensor reading p's stdin took in all that was written (the pipe is empty)
    and has written what it made of it (its EVE file stops growing for half a second: the
    output thread writes within 50 ms, the last flows of a pipe stay open until more comes)."""
    def pipe_empty():
        n = array.array("i", [0])
        fcntl.ioctl(p.stdin.fileno(), termios.FIONREAD, n)
        return n[0] == 0
    return wait_for(pipe_empty) and settled(eve)


def part_outage(mimamori, work, rs, pcap, transport):
    eve = os.path.join(work, f"outage-{transport}.json")
    before = len(rs.received(transport))
    addr = "127.0.0.1" if transport == "tcp" else "localhost"
    outputs = (f"  - {{type: file, path: {eve}}}\n"
               f"  - {{type: syslog, transport: {transport}, address: '{addr}:{rs.ports[transport]}',"
               f" types: [alert, stats]" + (f", ca: {work}/ca.pem" if transport == "tls" else "") +
               "}\n")
    cfg = site(work, "outage-" + transport, outputs, "  drain_timeout: 60s\n")
    hdr, recs = pcap_records(pcap)
    thirds = [recs[:len(recs) // 3], recs[len(recs) // 3:2 * len(recs) // 3],
              recs[2 * len(recs) // 3:]]
    p = subprocess.Popen([mimamori, "-c", cfg, "-r", "-"], stdin=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    perr = Stderr(p)
    p.stdin.write(hdr + b"".join(thirds[0]))
    p.stdin.flush()
    check(read_all(p, eve), f"{transport} outage: the sensor read the first third")
    n1 = len(alerts_of(eve))
    check(rs.wait_for(transport, before + n1, timeout=10),
          f"{transport} outage: the first {n1} alerts delivered before the outage")
    rs.stop()
    p.stdin.write(b"".join(thirds[1]))  # alerts while rsyslog is down
    p.stdin.flush()
    check(read_all(p, eve), f"{transport} outage: the sensor read the second third")
    n2 = len(alerts_of(eve)) - n1
    check(rs.start(), f"{transport} outage: rsyslog restarted")
    p.stdin.write(b"".join(thirds[2]))
    p.stdin.close()
    p.wait(timeout=120)
    perr.thread.join(timeout=10)
    err = perr.text()
    check(p.returncode == 0, f"{transport} outage: sensor exit 0")
    sent = alerts_of(eve)
    rs.wait_for(transport, before + len(sent), timeout=30)
    got = [g[7] for g in rs.received(transport)[before:] if '"event_type":"alert"' in g[7]]
    dups = len(got) - len(set(got))
    unique = []
    for g in got:
        if g not in unique:
            unique.append(g)
    check(unique == sent, f"{transport} outage: all {len(sent)} alerts arrived, in order "
                          f"({n2} produced while rsyslog was down)")
    # The sensor's own account at exit: "syslog ...: sent N, spooled N, replayed N, ...".
    summary = [x for x in err.splitlines() if x.startswith("mimamori: syslog") and "sent " in x]
    nums = dict(zip(["sent", "spooled", "replayed", "re-sent", "dropped"],
                    [int(w.rstrip(",")) for w in summary[-1].split()[-9::2]])) if summary else {}
    print(f"     {transport} outage figures: {len(sent)} alerts ({n1} before, {n2} during the "
          f"outage), syslog {nums}, duplicates received {dups}", flush=True)
    check(nums.get("dropped") == 0 and nums.get("spooled", 0) > 0 and
          nums.get("replayed") == nums.get("spooled"),
          f"{transport} outage: the outage was spooled and replayed, nothing dropped")
    check("down" in err, f"{transport} outage: the sensor said the destination was down")


def part_restart(mimamori, work, rs, pcap):
    """Events spooled while the receiver is down outlive the sensor and go out first next run."""
    eve = os.path.join(work, "restart.json")
    outputs = (f"  - {{type: file, path: {eve}}}\n"
               f"  - {{type: syslog, transport: tcp, address: '127.0.0.1:{rs.ports['tcp']}',"
               f" types: [alert]}}\n")
    cfg = site(work, "restart", outputs, "  drain_timeout: 1s\n")
    rs.stop()
    r = subprocess.run([mimamori, "-c", cfg, "-r", pcap], capture_output=True, text=True,
                       timeout=120)
    check(r.returncode == 0 and "left in the spool" in r.stderr,
          "restart: with rsyslog down the sensor exits leaving its events in the spool")
    check(rs.start(), "restart: rsyslog started")
    before = len(rs.received("tcp"))
    r = subprocess.run([mimamori, "-c", cfg, "-r", pcap], capture_output=True, text=True,
                       timeout=120)
    sent = alerts_of(eve)
    rs.wait_for("tcp", before + len(sent), timeout=30)
    got = [g[7] for g in rs.received("tcp")[before:]]
    # The first run also said, in a Sensor health alert among its own, that syslog was down.
    health = [a for a in sent if '"health.output_failing"' in a]
    check(len(sent) - len(health) == 300 and got == sent,
          f"restart: the {(len(sent) - len(health)) // 2} spooled alerts arrived first, then "
          f"the new ones ({len(got)} received)")
    check(len(health) == 1 and "state=down" in health[0] and "syslog 127.0.0.1" in health[0],
          f"restart: the outage was an alert, delivered late with the rest ({len(health)})")


def part_queue_full(mimamori, work, pcap):
    if os.geteuid() != 0 or shutil.which("tcpreplay") is None or shutil.which("ip") is None:
        print("skip queue full: needs root, iproute2 and tcpreplay")
        return
    ns = "mm-q-%d" % os.getpid()
    fifo = os.path.join(work, "eve.fifo")
    os.mkfifo(fifo)
    outputs = f"  - {{type: file, path: {fifo}}}\n"
    cfg = site(work, "queue", outputs, "  queue_events: 16\n")
    with open(cfg) as f:  # live: run as nobody after start-up
        text = f.read().replace("sensor: {name: scenario}",
                                "sensor: {name: scenario, user: nobody, group: nogroup}")
    with open(cfg, "w") as f:
        f.write(text)
    try:
        why = netns_veth(ns, "mmq0", "mmq1")
        if why is not None:
            print("skip queue full: cannot create a network namespace with a veth pair here: " +
                  why)
            return
        # Opening a FIFO for writing waits for a reader: open it, and never read until later.
        holder = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        p = subprocess.Popen(["ip", "netns", "exec", ns, mimamori, "-c", cfg, "-i", "mmq1"],
                             stderr=subprocess.PIPE, text=True)
        perr = Stderr(p)
        check(perr.wait("running as"), "queue full: the sensor started")
        r = subprocess.run(["ip", "netns", "exec", ns, "tcpreplay", "-i", "mmq0", "--pps",
                            "2000", pcap], capture_output=True, text=True, timeout=120)
        check(r.returncode == 0, "queue full: tcpreplay sent the capture")
        # The sensor may still be working through its ring (slowly, under ASan): wait until
        # the overflow spool has stopped growing before anyone reads the output.
        last, stable, end = -1, 0, time.time() + 60
        while time.time() < end and stable < 10:
            spool = glob.glob(os.path.join(work, "spool-queue", "*.overflow.spool"))
            size = os.path.getsize(spool[0]) if spool else -1
            stable = stable + 1 if size == last and size > 0 else 0
            last = size
            time.sleep(0.2)
        check(p.poll() is None, "queue full: the sensor is still capturing with its output stuck")
        lines = []

        def drain():
            # The descriptor that held the FIFO open reads it: were it closed before another
            # reader opened, the sensor would see no reader at all for a moment (EPIPE).
            os.set_blocking(holder, True)
            with open(holder, closefd=True) as f:
                for line in f:
                    lines.append(line.rstrip("\n"))
        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        err = stop(p, err=perr)
        reader.join(timeout=60)
        check(p.returncode == 0, "queue full: sensor exit 0")
        alerts = [json.loads(x) for x in lines if '"event_type":"alert"' in x]
        servers = [a["dest_ip"] for a in alerts]
        expect = [f"10.3.1.{i}" for i in range(1, 151)]
        check(servers == expect, f"queue full: all 150 alerts came out, in order "
                                 f"({len(alerts)} alerts)")
        stats = [json.loads(x) for x in lines if '"event_type":"stats"' in x]
        st = stats[-1] if stats else {}
        q = st.get("ndpi", {}).get("output_queue", {})
        cap = st.get("stats", {}).get("capture", {})
        print(f"     queue full figures: {q}, capture {cap}", flush=True)
        check(q.get("overflowed", 0) > 0 and q.get("overflow_dropped") == 0,
              "queue full: overflow counted and spooled, none dropped")
        if not q.get("overflowed"):
            print(err)
        check(cap.get("kernel_drops", 1) == 0, "queue full: no packet dropped by the kernel")
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    mimamori, generator, work = sys.argv[1:]
    # rsyslog's TLS driver, wherever the machine's multiarch directory is (not only x86_64).
    gtls = glob.glob("/usr/lib/*/rsyslog/lmnsd_gtls.so") + \
        glob.glob("/usr/lib/rsyslog/lmnsd_gtls.so")
    if shutil.which("rsyslogd") is None or shutil.which("openssl") is None or not gtls:
        print("skipped: needs rsyslog, rsyslog-gnutls and openssl")
        return 77
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    subprocess.run([generator, os.path.join(work, "scenarios"), "alert_burst"], check=True)
    pcap = os.path.join(work, "scenarios", "alert_burst", "input.pcap")
    make_certs(work)
    rs = Rsyslog(work)
    try:
        check(rs.start(), "rsyslog started")
        part_transports(mimamori, work, rs, pcap)
        part_outage(mimamori, work, rs, pcap, "tcp")
        part_outage(mimamori, work, rs, pcap, "tls")
        part_restart(mimamori, work, rs, pcap)
        part_client_cert(mimamori, work, rs)
    finally:
        rs.stop()
    part_queue_full(mimamori, work, pcap)
    print(f"syslog_live: {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
