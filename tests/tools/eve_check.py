#!/usr/bin/python3
"""Validate EVE JSON lines against Suricata's EVE schema.

usage: eve_check.py SCHEMA FILE...   (FILE '-' reads stdin)
Prints one line per invalid event and a summary; exits 1 if any event is invalid or a line is
not JSON.
"""
import json
import sys

import jsonschema


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    validator = cls(schema)
    bad = total = 0
    for path in sys.argv[2:]:
        stream = sys.stdin if path == "-" else open(path)
        for lineno, line in enumerate(stream, 1):
            total += 1
            try:
                ev = json.loads(line)
            except ValueError as e:
                bad += 1
                print(f"{path}:{lineno}: not JSON: {e}")
                continue
            errors = list(validator.iter_errors(ev))
            if errors:
                bad += 1
                for e in errors[:3]:
                    where = "/".join(str(p) for p in e.absolute_path)
                    print(f"{path}:{lineno}: {where}: {e.message[:200]}")
    print(f"eve_check: {total} events, {bad} invalid")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
