"""Helpers shared by the end-to-end test scripts: pass/fail lines and pcap records."""
import struct

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
