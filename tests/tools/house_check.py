#!/usr/bin/python3
"""What keeps the house one a newcomer can carry on: sizes and the test map.

usage: house_check.py [SOURCE_DIR]

Prints every .c/.h file under sensor/ and include/ longer than 800 lines, every function
longer than 80 lines (from its opening line to its closing brace) that is not one of the named
exceptions below, and every module (a header in include/mimamori/) without its unit test
tests/unit/test_<module>.c; exits 1 if there is any. Functions are found by the committed
clang-format style: a definition starts at column 0 and its body opens with "{" alone on the
next line.
"""
import os
import re
import sys

MAX_FILE, MAX_FUNC = 800, 80
# Parser state machines read best in one piece: the exceptions, each with its reason.
EXCEPTIONS = {
    "hl7_feed": "the MLLP framing state machine, one case per framing state",
}
# Headers that declare no code of their own: nothing to test.
NO_CODE = {"limits"}
DEF = re.compile(r"^[A-Za-z_][\w \*]*?\b(\w+)\(")


def functions(lines):
    """Yields (name, first line number, length) of each function definition."""
    i = 0
    while i < len(lines):
        m = DEF.match(lines[i])
        if m and not lines[i].startswith("typedef"):
            j = i
            while j < len(lines) and not lines[j].rstrip().endswith((")", "{", ";")):
                j += 1
            if j + 1 < len(lines) and lines[j].rstrip().endswith(")") and lines[j + 1] == "{\n":
                k = j + 1
                while k < len(lines) and lines[k] != "}\n":
                    k += 1
                yield m.group(1), i + 1, k - i + 1
                i = k
        i += 1


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    bad = 0
    for d in ("sensor", "include"):
        for dirpath, _, files in sorted(os.walk(os.path.join(root, d))):
            for f in sorted(files):
                if not f.endswith((".c", ".h")):
                    continue
                path = os.path.join(dirpath, f)
                rel = os.path.relpath(path, root)
                with open(path) as fp:
                    lines = fp.readlines()
                if len(lines) > MAX_FILE:
                    print(f"{rel}: {len(lines)} lines (limit {MAX_FILE})")
                    bad += 1
                for name, line, n in functions(lines):
                    if n <= MAX_FUNC:
                        continue
                    why = EXCEPTIONS.get(name)
                    print(f"{rel}:{line}: {name}() is {n} lines (limit {MAX_FUNC})"
                          + (f": allowed, {why}" if why else ""))
                    bad += why is None
    inc = os.path.join(root, "include", "mimamori")
    for h in sorted(os.listdir(inc)):
        mod = h[:-2]
        if h.endswith(".h") and mod not in NO_CODE and not os.path.exists(
                os.path.join(root, "tests", "unit", f"test_{mod}.c")):
            print(f"include/mimamori/{h}: no tests/unit/test_{mod}.c")
            bad += 1
    if bad:
        print(f"{bad} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
