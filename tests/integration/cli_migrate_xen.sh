#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# cli_migrate_xen.sh - the rule by which plain `miglab migrate` picks
# libxenlight or a host daemon (docs/xen.md, "Which path"), checked on a
# machine that is not a Xen dom0: its messages and exit codes.  A fake
# capabilities file (MIGLAB_XEN_CAPABILITIES) plays the dom0 for the
# automatic choice.  The real libxenlight path runs in nested Xen
# (ci/nested-xen, the miglab-* cases).
set -u
name=cli_migrate_xen
miglab=${MIGLAB_BIN:-build/miglab}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tests/integration/lib.bash
. "$(dirname "$0")/lib.bash"

[ -e /proc/xen ] && skip "a Xen dom0: the real path is xen_real.sh's and the nested CI's"
echo control_d > "$tmp/caps.dom0"
: > "$tmp/caps.domu"
compiled_out=0
"$miglab" xen migrate vm1 localhost 2>&1 | grep -q "compiled out" && compiled_out=1

# expect RC PATTERN ARGS...: exit status RC, exactly one stderr line
# matching PATTERN, nothing on stdout
expect() {
    local want=$1 pat=$2 rc lines; shift 2
    "$miglab" migrate "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
    rc=$?
    lines=$(grep -c . "$tmp/err")
    if [ $rc -eq "$want" ] && [ "$lines" -eq 1 ] && grep -q -E "$pat" "$tmp/err" &&
        [ ! -s "$tmp/out" ]; then
        ok
    else
        fail "migrate $*: rc=$rc (want $want), $lines stderr lines, want /$pat/: $(cat "$tmp/err" "$tmp/out")"
    fi
}
NOXEN="compiled out|no Xen hypervisor here: .* does not say control_d"
DAEMON="cannot reach the host daemon at"

# --help lists both forms and the rule
"$miglab" migrate --help >"$tmp/out" 2>&1 && grep -q "NAME HOST\[:PORT\]" "$tmp/out" &&
    grep -q "migrate \[--xen\] \[--live\] \[--json\]" "$tmp/out" &&
    grep -q "control_d" "$tmp/out" && grep -q -- "--control PATH or \$MIGLAB_CONTROL" "$tmp/out" &&
    ok || fail "migrate --help: $(cat "$tmp/out")"
"$miglab" migrate --xen --help >"$tmp/out" 2>&1 && grep -q "DOMAIN HOST\[:PORT\]" "$tmp/out" &&
    ok || fail "migrate --xen --help"
"$miglab" xen migrate --help >"$tmp/out" 2>&1 && grep -q "HOST\[:PORT\]" "$tmp/out" &&
    ok || fail "xen migrate --help"

# --xen here: exit 2 and why, whatever else is given
expect 2 "$NOXEN" --xen --live vm1 localhost
expect 2 "$NOXEN" --xen --json vm1 localhost:8003
export MIGLAB_XEN_CAPABILITIES=$tmp/caps.domu
expect 2 "$NOXEN" --xen vm1 localhost
# --xen and --control contradict each other
expect 2 "exclude each other" --xen --control "$tmp/none" vm1 localhost

# a dom0 (fake capabilities) without a host daemon: libxenlight
export MIGLAB_XEN_CAPABILITIES=$tmp/caps.dom0
if [ $compiled_out = 1 ]; then
    # without the backend the rule never picks libxenlight
    expect 1 "$DAEMON" --live vm1 localhost
    expect 2 "compiled out" --xen vm1 localhost
elif [ -S /run/miglab/host.sock ]; then
    echo "$name: a host daemon may answer at /run/miglab/host.sock: automatic choice not checked"
else
    "$miglab" migrate -v --live vm1 localhost </dev/null >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ $rc -eq 1 ] && [ "$(grep -c . "$tmp/err")" -eq 2 ] &&
        grep -q "through libxenlight (a Xen dom0 and no host daemon" "$tmp/err" &&
        grep -q "no Xen hypervisor here: /proc/xen is missing" "$tmp/err" &&
        ok || fail "dom0 without a daemon: rc=$rc: $(cat "$tmp/err")"
    # without -v: the one libxl error line
    expect 1 "^miglab migrate: no Xen hypervisor here" --live vm1 localhost
    # the libxenlight path's flags and HOST[:PORT] are checked as input
    expect 2 "unknown option '--policy' for a Xen domain" --policy qemu vm1 localhost
    expect 2 "bad HOST\[:PORT\] 'localhost:0'" vm1 localhost:0
    expect 2 "two ports" --port 9 vm1 localhost:8003
    expect 2 "need DOMAIN and HOST" vm1
    # --xen with the same input errors
    expect 2 "unknown option '--max-passes'" --xen --max-passes 3 vm1 localhost
fi
# ... but --control, or $MIGLAB_CONTROL, name a host daemon
expect 1 "$DAEMON $tmp/none" --control "$tmp/none" vm1 localhost
MIGLAB_CONTROL=$tmp/env expect 1 "$DAEMON $tmp/env" --live vm1 localhost
# not a dom0 (a domU's capabilities are empty): the host daemon
MIGLAB_XEN_CAPABILITIES=$tmp/caps.domu MIGLAB_CONTROL=$tmp/env expect 1 "$DAEMON" vm1 localhost
MIGLAB_XEN_CAPABILITIES=$tmp/caps.domu expect 1 "$DAEMON /run/miglab/host.sock" vm1 localhost
# the daemon path keeps its own input checks
expect 2 "bad port" --control "$tmp/none" vm1 localhost:0

# `miglab xen migrate` takes HOST:PORT too (usage errors before the backend)
"$miglab" xen migrate --port 9 vm1 localhost:8003 </dev/null >/dev/null 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] && grep -q -E "two ports|compiled out" "$tmp/err" && ok ||
    fail "xen migrate two ports: rc=$rc $(cat "$tmp/err")"

echo "$name: $checks checks, $fails failed"
[ $fails -eq 0 ]
