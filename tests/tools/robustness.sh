#!/bin/sh
# Run mimamori over every capture in a folder of malformed input. A crash, a sanitizer report
# or an exit code other than 0 (processed) or 1 (refused with a message) fails the test.
# usage: robustness.sh MIMAMORI DIR        exits 77 (skipped) when DIR is absent
bin=$1 dir=$2
[ -d "$dir" ] || { echo "SKIP: $dir not found"; exit 77; }
fail=0 n=0
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
for f in "$dir"/*; do
    case $f in *.md|*.txt|*.tsv) continue ;; esac
    n=$((n + 1))
    "$bin" -r "$f" --eve /dev/null >/dev/null 2>"${TMPDIR:-/tmp}/mm_robust.err"
    rc=$?
    if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
        echo "FAIL $f: exit $rc"; cat "${TMPDIR:-/tmp}/mm_robust.err" | head -20; fail=$((fail + 1))
    elif grep -q "Sanitizer\|runtime error" "${TMPDIR:-/tmp}/mm_robust.err"; then
        echo "FAIL $f: sanitizer report"; head -20 "${TMPDIR:-/tmp}/mm_robust.err"; fail=$((fail + 1))
    elif [ $rc -eq 1 ]; then
        echo "refused $f: $(head -1 "${TMPDIR:-/tmp}/mm_robust.err")"
    fi
done
echo "robustness: $n captures, $fail failed"
[ $fail -eq 0 ]
