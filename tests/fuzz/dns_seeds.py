#!/usr/bin/python3
"""Write the DNS parser's fuzz seeds: responses built here from made-up names and addresses
(A, AAAA, CNAME, compression, several questions, a label with bytes a hostname cannot hold).

usage: dns_seeds.py OUTDIR
"""
import os
import struct
import sys


def name(*labels):
    return b"".join(bytes([len(x)]) + x for x in labels) + b"\0"


def rr(owner, rtype, rdata):
    return owner + struct.pack(">HHIH", rtype, 1, 60, len(rdata)) + rdata


def message(questions, answers, flags=0x8180):
    return struct.pack(">HHHHHH", 0x1234, flags, len(questions), len(answers), 0, 0) + \
        b"".join(q + b"\0\1\0\1" for q in questions) + b"".join(answers)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    ptr = b"\xc0\x0c"
    seeds = {
        "a": message([name(b"host", b"example", b"org")], [rr(ptr, 1, bytes([192, 0, 2, 1]))]),
        "aaaa": message([name(b"v6", b"example")],
                        [rr(ptr, 28, bytes.fromhex("20010db8000000000000000000000001"))]),
        "cname": message([name(b"dl", b"example", b"org")],
                         [rr(ptr, 5, name(b"cd") [:-1] + b"\xc0\x0f"),
                          rr(ptr, 1, bytes([203, 0, 113, 7]))]),
        "two-questions": message([name(b"a", b"example"), name(b"b", b"example")],
                                 [rr(ptr, 1, bytes([198, 51, 100, 1]))]),
        "odd-label": message([name(b"Up\0date", b"a.b", b"example")],
                             [rr(ptr, 1, bytes([198, 51, 100, 2]))]),
        "query": message([name(b"host", b"example")], [], flags=0x0100),
    }
    os.makedirs(sys.argv[1], exist_ok=True)
    for k, v in seeds.items():
        with open(os.path.join(sys.argv[1], k), "wb") as f:
            f.write(v)
    print(f"{len(seeds)} seeds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
