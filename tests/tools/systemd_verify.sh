#!/bin/sh
# systemd units: systemd-analyze verify must accept all four without a single message (a typo in a
# directive is only a warning to systemd, so any output fails), and the offline security
# analysis must rate the template "OK" or better; its exposure score is printed.
# usage: systemd_verify.sh MIMAMORI SYSTEMD_DIR       (exit 77 without systemd-analyze)
set -u
bin=$1 units=$2
command -v systemd-analyze >/dev/null 2>&1 || { echo "skipped: no systemd-analyze"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
hooks=$(cd "$units/../rules/hooks" && pwd)
for u in mimamori.service mimamori@.service mimamori-blocklist.path mimamori-blocklist.service; do
    sed -e "s|/usr/sbin/mimamori|$bin|g" -e "s|/usr/share/mimamori/hooks|$hooks|g" "$units/$u" \
        > "$tmp/$u"
done
cd "$tmp"
out=$(systemd-analyze verify --man=no ./mimamori.service ./mimamori@.service \
      ./mimamori-blocklist.path ./mimamori-blocklist.service 2>&1)
rc=$?
if [ $rc -ne 0 ] || [ -n "$out" ]; then
    echo "FAIL systemd-analyze verify (exit $rc):"
    echo "$out"
    exit 1
fi
echo "ok   systemd-analyze verify: the four units accepted without a message"
score=$(systemd-analyze security --offline=yes ./mimamori@.service 2>/dev/null |
        sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) \([A-Z]*\).*/\1 \2/p')
echo "     systemd-analyze security --offline: exposure $score"
case "$score" in
    *" OK"|*" SAFE") echo "ok   exposure rated OK or better" ;;
    *) echo "FAIL exposure not rated OK: '$score'"; exit 1 ;;
esac
