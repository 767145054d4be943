"""Helpers shared by the end-to-end test scripts: pass/fail lines, pcap records, a network
namespace with a veth pair, and waiting for what a test needs to see (a line the sensor logs,
an event in a file, any condition) with a deadline, instead of sleeping and hoping."""
import glob
import os
import shutil
import signal
import struct
import subprocess
import threading
import time

failures = []


def check(cond, what):
    """Print 'ok' or 'FAIL' and the check; remember failures."""
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def wait_for(cond, timeout=30.0, step=0.05):
    """Polls cond() until it is true (returns True) or timeout seconds pass (returns False).
    The deadline is for a machine under load; a healthy run returns in a fraction of it."""
    end = time.monotonic() + timeout
    while True:
        if cond():
            return True
        if time.monotonic() >= end:
            return False
        time.sleep(step)


class Stderr:
    """A running process's stderr, read on a thread line by line, so a test can wait for the
    line that says a step happened ("configuration reloaded") while the process runs."""

    def __init__(self, p):
        self.p, self.lines, self.lock = p, [], threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.p.stderr:
            if isinstance(line, bytes):
                line = line.decode(errors="replace")
            with self.lock:
                self.lines.append(line)

    def text(self):
        with self.lock:
            return "".join(self.lines)

    def wait(self, needle, timeout=30.0, after=0):
        """Whether a line containing needle appeared (among lines from index after on)."""
        def seen():
            with self.lock:
                return any(needle in x for x in self.lines[after:])
        return wait_for(seen, timeout)

    def count(self):
        with self.lock:
            return len(self.lines)


def settled(path, quiet=0.5, timeout=30.0):
    """Whether a file being written (a capture, an EVE file) stopped growing for quiet seconds:
    for when what comes last cannot be named, only that everything before it was written."""
    sizes, step = [], 0.05
    need = int(quiet / step)

    def still():
        sizes.append(os.path.getsize(path) if os.path.exists(path) else -1)
        return len(sizes) > need and len(set(sizes[-need:])) == 1 and sizes[-1] >= 0
    return wait_for(still, timeout, step)


def count_lines(path, needle):
    """Lines of a file (an EVE file being written) that contain needle; 0 if it is not there."""
    try:
        with open(path) as f:
            return sum(needle in line for line in f)
    except OSError:
        return 0


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


def stop(p, timeout=60, err=None):
    """SIGTERM the sensor and wait; its stderr (from err, a Stderr reading it, when given). A
    sensor that does not stop is a failure: its threads' stacks are printed (gdb, else the
    kernel's view) and it is killed, so the test ends and says where it hung instead of running
    into CTest's timeout."""
    p.send_signal(signal.SIGTERM)
    try:
        if err is not None:
            p.wait(timeout=timeout)
            err.thread.join(timeout=10)
            return err.text()
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
        if err is not None:
            p.wait()
            return err.text()
        return p.communicate()[1] or ""
