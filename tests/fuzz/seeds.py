#!/usr/bin/python3
"""Write fuzz seeds (the record format of fuzz.h) from the TCP payloads of a capture.

usage: seeds.py CAPTURE PORT OUTDIR PREFIX

Each TCP connection to PORT becomes one seed file: its payload segments in capture order,
direction bit set for server-to-client, cut into records of at most 64 bytes. The committed
seeds come from tests/tools/medical_live.py's capture (dcmtk and the MLLP peer), which holds
only made-up data.
"""
import os
import struct
import sys


def packets(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        yield data[off + 16:off + 16 + incl]
        off += 16 + incl


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    cap, port, outdir, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    conns = {}
    for frame in packets(cap):
        if len(frame) < 14 + 20 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
            continue
        ihl = (frame[14] & 15) * 4
        tcp = frame[14 + ihl:]
        sport, dport = struct.unpack(">HH", tcp[:4])
        payload = tcp[(tcp[12] >> 4) * 4:]
        if port not in (sport, dport) or not payload:
            continue
        client = sport if dport == port else dport
        conns.setdefault(client, []).append((1 if sport == port else 0, payload))
    os.makedirs(outdir, exist_ok=True)
    for i, client in enumerate(sorted(conns)):
        out = bytearray()
        for direction, payload in conns[client]:
            for k in range(0, len(payload), 64):
                chunk = payload[k:k + 64]
                out.append(direction << 7 | (len(chunk) - 1))
                out += chunk
        with open(os.path.join(outdir, f"{prefix}-{i}"), "wb") as f:
            f.write(out)
    print(f"{len(conns)} seeds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
