#!/usr/bin/python3
"""A large threat-intelligence feed for the benchmark: N indicators in a plain list.

usage: intel_feed.py N OUT.txt

The mix of a national feed's: 70% IPv4 addresses, 25% domains, 3% URLs, 1% JA3 hashes and 1%
certificate fingerprints, drawn from a fixed seed (the same file every time), none of them an
address of the documentation ranges the tests use. Lookups on the benchmark capture then
miss, as nearly all lookups of a sensor do.
"""
import random
import sys


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    rnd = random.Random(20261203)
    with open(out, "w") as f:
        f.write(f"# {n} indicators for the benchmark\n")
        for i in range(n):
            k = i % 100
            if k < 70:
                f.write("%d.%d.%d.%d\n" % (rnd.randint(11, 99), rnd.randint(0, 255),
                                           rnd.randint(0, 255), rnd.randint(1, 254)))
            elif k < 95:
                f.write("%08x.bad-%d.example\n" % (rnd.getrandbits(32), i))
            elif k < 98:
                f.write("http://%08x.example/p/%d\n" % (rnd.getrandbits(32), i))
            elif k < 99:
                f.write("%032x\n" % rnd.getrandbits(128))
            else:
                f.write("%040x\n" % rnd.getrandbits(160))
    return 0


if __name__ == "__main__":
    sys.exit(main())
