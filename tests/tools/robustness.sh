#!/bin/sh
# Run mimamori over every capture in a folder of malformed input. A crash, a sanitizer report
# or an exit code other than 0 fails the test, and so does a folder with no capture in it.
# Exit 1 (refused with a message) passes only for a file that tcpdump cannot read either: a
# capture libpcap can open must be processed, whatever its packets hold.
# usage: robustness.sh MIMAMORI DIR        exits 77 (skipped) when DIR is absent
bin=$1 dir=$2
[ -d "$dir" ] || { echo "SKIP: $dir not found"; exit 77; }
err=$(mktemp) || exit 1
trap 'rm -f "$err"' EXIT
fail=0 n=0 refused=0
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
for f in "$dir"/*; do
    case $f in *.md|*.txt|*.tsv) continue ;; esac
    [ -f "$f" ] || continue
    n=$((n + 1))
    "$bin" -r "$f" --eve /dev/null >/dev/null 2>"$err"
    rc=$?
    if grep -q "Sanitizer\|runtime error" "$err"; then
        echo "FAIL $f: sanitizer report"; head -20 "$err"; fail=$((fail + 1))
    elif [ $rc -eq 1 ] && ! tcpdump -n -r "$f" -c 1 >/dev/null 2>&1 && [ -s "$err" ]; then
        refused=$((refused + 1)); echo "refused $f (unreadable to tcpdump too): $(head -1 "$err")"
    elif [ $rc -ne 0 ]; then
        echo "FAIL $f: exit $rc"; head -20 "$err"; fail=$((fail + 1))
    fi
done
echo "robustness: $n captures, $refused refused as unreadable, $fail failed"
[ $n -gt 0 ] || { echo "FAIL: no capture in $dir"; exit 1; }
[ $fail -eq 0 ]
