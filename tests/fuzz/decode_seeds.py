#!/usr/bin/python3
"""Write the decoder's fuzz seeds: one frame per file, its first byte the link type as
fuzz_decode.c reads it (0 Ethernet, 1 SLL, 2 SLL2, 3 raw IP, 4 BSD loopback, 5 OpenBSD
loopback). Every frame is built here from made-up addresses, one per encapsulation the decoder
knows, so the fuzzer starts with each layer reachable.

usage: decode_seeds.py OUTDIR
"""
import os
import struct
import sys

MAC = bytes.fromhex("020000000001") + bytes.fromhex("020000000002")


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f">{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ipv4(proto, payload, src=b"\x0a\x01\x00\x01", dst=b"\x0a\x02\x00\x02", frag=0, opts=b""):
    ihl = 5 + len(opts) // 4
    h = struct.pack(">BBHHHBBH4s4s", 0x40 | ihl, 0, 4 * ihl + len(payload), 1, frag, 64, proto,
                    0, src, dst) + opts
    return h[:10] + struct.pack(">H", csum(h)) + h[12:] + payload


def ipv6(nh, payload):
    return struct.pack(">IHBB", 6 << 28, len(payload), nh, 64) + \
        bytes.fromhex("fd000000000000000000000000000001") + \
        bytes.fromhex("fd000000000000000000000000000002") + payload


def tcp(sport=40000, dport=443, flags=0x02, data=b""):
    return struct.pack(">HHIIBBHHH", sport, dport, 1, 0, 5 << 4, flags, 65535, 0, 0) + data


def udp(sport=40000, dport=53, data=b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"):
    return struct.pack(">HHHH", sport, dport, 8 + len(data), 0) + data


def eth(etype, payload):
    return MAC + struct.pack(">H", etype) + payload


def gre(proto, payload, flags=0):
    extra = b"".join(b"\0\0\0\x07" for bit in (0x8000, 0x2000, 0x1000) if flags & bit)
    return struct.pack(">HH", flags, proto) + extra + payload


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = sys.argv[1]
    inner = eth(0x0800, ipv4(6, tcp()))
    frames = {
        "eth-ipv4-tcp": (0, inner),
        "eth-ipv4-udp-dns": (0, eth(0x0800, ipv4(17, udp()))),
        "eth-ipv4-options": (0, eth(0x0800, ipv4(6, tcp(), opts=b"\x94\x04\x00\x00"))),
        "eth-ipv4-fragment": (0, eth(0x0800, ipv4(17, udp(), frag=0x2000))),
        "eth-ipv4-icmp": (0, eth(0x0800, ipv4(1, b"\x08\x00\xf7\xff\x00\x00\x00\x00"))),
        "eth-ipv4-sctp": (0, eth(0x0800, ipv4(132, struct.pack(">HHII", 2905, 2905, 0, 0)))),
        "eth-ipv6-tcp": (0, eth(0x86dd, ipv6(6, tcp()))),
        "eth-ipv6-hbh-udp": (0, eth(0x86dd, ipv6(0, b"\x11\x00" + b"\x01\x04\0\0\0\0" +
                                              udp()))),
        "eth-ipv6-fragment": (0, eth(0x86dd, ipv6(44, b"\x11\x00\x00\x01\x00\x00\x00\x07" +
                                               udp(data=bytes(16))))),  # 24 bytes: 8 | it
        "eth-ipv6-icmpv6": (0, eth(0x86dd, ipv6(58, b"\x80\x00\x00\x00\x00\x01\x00\x01"))),
        "eth-vlan": (0, eth(0x8100, b"\x00\x64\x08\x00" + ipv4(6, tcp()))),
        "eth-qinq": (0, eth(0x88a8, b"\x00\x0a\x81\x00\x00\x64\x08\x00" + ipv4(6, tcp()))),
        "eth-mpls": (0, eth(0x8847, b"\x00\x01\x01\x40" + ipv4(6, tcp()))),
        "eth-mpls-pw-eth": (0, eth(0x8847, b"\x00\x01\x01\x40" + b"\0\0\0\0" + inner)),
        "eth-pppoe": (0, eth(0x8864, b"\x11\x00\x00\x01" + struct.pack(">H", 2 + 40) +
                             b"\x00\x21" + ipv4(6, tcp()))),
        "eth-arp": (0, eth(0x0806, bytes(28))),
        "gre-ipv4": (0, eth(0x0800, ipv4(47, gre(0x0800, ipv4(6, tcp()))))),
        "gre-key-seq-eth": (0, eth(0x0800, ipv4(47, gre(0x6558, inner, 0x3000)))),
        "gre-erspan2": (0, eth(0x0800, ipv4(47, gre(0x88be, b"\x10\x64\x00\x01\x00\x00\x00\x00" +
                                                     inner, 0x1000)))),
        "gre-erspan3": (0, eth(0x0800, ipv4(47, gre(0x22eb, b"\x20\x64\x00\x01" + bytes(7) +
                                                     b"\x01" + bytes(8) + inner, 0x1000)))),
        "gre-pptp": (0, eth(0x0800, ipv4(47, struct.pack(">HHHH", 0x3001, 0x880b, 0, 1) +
                                          b"\0\0\0\1"))),
        "vxlan": (0, eth(0x0800, ipv4(17, udp(40000, 4789, b"\x08\0\0\0\0\0\x01\0" + inner)))),
        "ipip": (0, eth(0x0800, ipv4(4, ipv4(6, tcp())))),
        "ip6-in-ip4": (0, eth(0x0800, ipv4(41, ipv6(6, tcp())))),
        "sll-ipv4": (1, struct.pack(">HHH", 0, 1, 6) + MAC[:6] + b"\0\0" +
                     struct.pack(">H", 0x0800) + ipv4(6, tcp())),
        "sll2-ipv6": (2, struct.pack(">HHIHBB", 0x86dd, 0, 2, 1, 0, 6) + MAC[:6] + b"\0\0" +
                      ipv6(17, udp())),
        "raw-ipv4": (3, ipv4(17, udp())),
        "raw-ipv6": (3, ipv6(6, tcp())),
        "null-ipv4": (4, struct.pack("<I", 2) + ipv4(6, tcp())),
        "loop-ipv6": (5, struct.pack(">I", 24) + ipv6(6, tcp())),
    }
    os.makedirs(out, exist_ok=True)
    for name, (link, frame) in frames.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(bytes([link]) + frame)
    print(f"{len(frames)} seeds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
