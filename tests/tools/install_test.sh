#!/bin/sh
# The install a new user follows (README, Running as a daemon), into a DESTDIR: the binary,
# the readers' tools, units, rules, hook, docs and site config land where the units and the
# binary look for them.
# Checked: every program a unit runs exists (ours under DESTDIR) and is executable; the binary
# was built with the same config, spool and log paths the units use; the installed config
# passes --test-config; README.md is the project's (not the rules' README); systemd-analyze
# verify accepts the four units without a single message (a typo in a directive is only a
# warning to systemd, so any output fails) and its offline security analysis rates the
# template OK or better (the exposure score is printed). A second install keeps a site config
# that is there.
# usage: install_test.sh BUILD_DIR SOURCE_DIR      (exit 77 without systemd-analyze)
set -u
build=$1 src=$2
command -v systemd-analyze >/dev/null 2>&1 || { echo "skipped: no systemd-analyze"; exit 77; }
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
fails=0
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
val() { sed -n "s|^$1:[A-Z]*=||p" "$build/CMakeCache.txt"; }

DESTDIR=$dest cmake --install "$build" >/dev/null || { echo "FAIL cmake --install"; exit 1; }
prefix=$(val CMAKE_INSTALL_PREFIX)
units=$dest$prefix/lib/systemd/system
sbin=$(sed -n 's|^ExecStart=\([^ ]*\) .*|\1|p' "$units/mimamori.service")
conf=$(sed -n 's|^ExecStart=[^ ]* -c \([^ ]*\).*|\1|p' "$units/mimamori.service")
hooks=$(sed -n 's|^ExecStart=\([^ ]*\)/mimamori-nft-sync .*|\1|p' "$units/mimamori-blocklist.service")
echo "     prefix $prefix: binary $sbin, config $conf"

# Every program the units run: ours in DESTDIR, the system's on this machine.
for u in "$units"/*; do
    for p in $(sed -n 's/^Exec[A-Za-z]*=[-+@!:]*\([^ ]*\).*/\1/p' "$u"); do
        case $p in
            "$sbin"|"$hooks"/*) f=$dest$p ;;
            *) f=$p ;;
        esac
        [ -x "$f" ] || fail "$(basename "$u") runs $p, which the install did not make executable"
    done
done
[ "$fails" -eq 0 ] && ok "every program the units run is installed and executable"

# The readers' tools beside it, in the prefix's bin, and they run.
for t in mimamori-alerts mimamori-report; do
    if "$dest$prefix/bin/$t" --help >/dev/null; then ok "$t installed in $prefix/bin and runs"
    else fail "$t is not installed in $prefix/bin or does not run"; fi
done

# The binary's own defaults are the units' paths.
for want in "$conf" "$(sed -n 's|.*install -d .* -m 0700 \(.*\)$|\1|p' "$units/mimamori.service")" \
            "$(sed -n 's|.*install -d .* -m 0750 \(.*\)$|\1|p' "$units/mimamori.service")/eve.json"; do
    if grep -aq "$want" "$dest$sbin"; then ok "the binary's default: $want"
    else fail "the binary does not use $want"; fi
done
# --test-config checks the log directory exists, which the unit makes first: made here in
# DESTDIR, and the config pointed at it.
logdir=$(sed -n 's|.*install -d .* -m 0750 \(.*\)$|\1|p' "$units/mimamori.service")
mkdir -p "$dest$logdir"
sed "s|$logdir|$dest$logdir|g" "$dest$conf" > "$dest/test-config.yaml"
if [ -f "$dest$conf" ] && "$dest$sbin" -c "$dest/test-config.yaml" --test-config >/dev/null; then
    ok "the installed site config passes --test-config"
else
    fail "installed site config"
fi
if ! "$dest$sbin" -c "$dest$conf.missing" --test-config >/dev/null 2>&1 &&
   sed "s|$logdir|$dest/nowhere|g" "$dest$conf" > "$dest/nowhere.yaml" &&
   "$dest$sbin" -c "$dest/nowhere.yaml" --test-config 2>&1 | grep -q "does not exist"; then
    ok "--test-config refuses an output whose directory does not exist"
else
    fail "--test-config passed an output in a missing directory"
fi
cmp -s "$dest$prefix/share/doc/mimamori/README.md" "$src/README.md" &&
    ok "README.md installed is the project's" || fail "README.md was overwritten"
[ -f "$dest$prefix/share/mimamori/rules/README.md" ] && ok "the rules' README beside the rules" ||
    fail "rules/README.md not installed"
echo "# kept" >> "$dest$conf"
DESTDIR=$dest cmake --install "$build" >/dev/null
tail -n 1 "$dest$conf" | grep -q "# kept" && ok "a second install keeps the site config" ||
    fail "a second install replaced the site config"

# systemd's checks, on the installed units pointed at DESTDIR.
mkdir "$dest/verify"
for u in "$units"/*; do
    sed -e "s|$sbin|$dest$sbin|g" -e "s|$hooks|$dest$hooks|g" "$u" > "$dest/verify/$(basename "$u")"
done
cd "$dest/verify"
out=$(systemd-analyze verify --man=no ./* 2>&1)
rc=$?
if [ $rc -ne 0 ] || [ -n "$out" ]; then
    fail "systemd-analyze verify (exit $rc):"
    echo "$out"
else
    ok "systemd-analyze verify: the four units accepted without a message"
fi
score=$(systemd-analyze security --offline=yes ./mimamori@.service 2>/dev/null |
        sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) \([A-Z]*\).*/\1 \2/p')
echo "     systemd-analyze security --offline: exposure $score"
case "$score" in
    *" OK"|*" SAFE") ok "exposure rated OK or better" ;;
    *) fail "exposure not rated OK: '$score'" ;;
esac
echo "install_test: $fails failure(s)"
[ "$fails" -eq 0 ]
