#!/usr/bin/python3
"""Files and functions that have grown past what a newcomer reads in one sitting.

usage: size_check.py [SOURCE_DIR]

Prints every .c/.h file under sensor/ and include/ longer than 800 lines and every function
longer than 80 lines (from its opening line to its closing brace), and exits 1 if any is not
one of the named exceptions below. Functions are found by the committed clang-format style: a
definition starts at column 0 and its body opens with "{" alone on the next line.
"""
import os
import re
import sys

MAX_FILE, MAX_FUNC = 800, 80
# Parser state machines read best in one piece: the exceptions, each with its reason.
EXCEPTIONS = {
    "hl7_feed": "the MLLP framing state machine, one case per framing state",
}
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
    if bad:
        print(f"{bad} over the limits")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
