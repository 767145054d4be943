"""Helpers shared by the end-to-end test scripts: pass/fail lines, pcap records, a network
namespace with a veth pair."""
import glob
import shutil
import signal
import struct
import subprocess

failures = []


def check(cond, what):
    """Print 'ok' or 'FAIL' and the check; remember failures."""
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def pcap_records(path):
    """The global header and the records (header and data) of a classic little-endian pcap."""
    data = open(path, "rb").read()
    hdr, off, recs = data[:24], 24, []
    while off + 16 <= len(data):
        incl = struct.unpack("<I", data[off + 8:off + 12])[0]
        recs.append(data[off:off + 16 + incl])
        off += 16 + incl
    return hdr, recs


def netns_veth(ns, a, b):
    """Create namespace ns with a veth pair a <-> b, both up. None, or why it could not."""
    made = subprocess.run(["ip", "netns", "add", ns], capture_output=True, text=True)
    if made.returncode != 0:
        return made.stderr.strip()
    # No IPv6 on the new links: no neighbour discovery or MLD of their own on a test's wire.
    for k in ("all", "default"):
        subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw",
                        f"net.ipv6.conf.{k}.disable_ipv6=1"], capture_output=True)
    return veth(ns, a, b)


def veth(ns, a, b):
    """Add a veth pair a <-> b, both up, to namespace ns. None, or why it could not."""
    for cmd in (["ip", "-n", ns, "link", "add", a, "type", "veth", "peer", "name", b],
                ["ip", "-n", ns, "link", "set", a, "up"], ["ip", "-n", ns, "link", "set", b, "up"]):
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            return r.stderr.strip()
    return None


def stop(p, timeout=60):
    """SIGTERM the sensor and wait; its stderr. A sensor that does not stop is a failure: its
    threads' stacks are printed (gdb, else the kernel's view) and it is killed, so the test
    ends and says where it hung instead of running into CTest's timeout."""
    p.send_signal(signal.SIGTERM)
    try:
        return p.communicate(timeout=timeout)[1] or ""
    except subprocess.TimeoutExpired:
        check(False, f"the sensor stopped within {timeout} s of SIGTERM")
        if shutil.which("gdb"):
            r = subprocess.run(["gdb", "-batch", "-p", str(p.pid), "-ex", "thread apply all bt"],
                               capture_output=True, text=True, timeout=60)
            print(r.stdout[-6000:], flush=True)
        else:
            for task in glob.glob(f"/proc/{p.pid}/task/*"):
                try:
                    print(task, open(task + "/comm").read().strip(),
                          open(task + "/wchan").read().strip(),
                          open(task + "/syscall").read().strip(), flush=True)
                except OSError:
                    pass
        p.kill()
        return p.communicate()[1] or ""
