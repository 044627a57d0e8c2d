#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# cli_xen.sh - `miglab xen` as a user meets it on a machine without Xen
# (or a build without libxenlight): usage errors exit 2, and every
# subcommand says in one stderr line why it cannot run (backend compiled
# out: exit 2; no hypervisor: exit 1).  On a real dom0 it stops after the
# usage checks; xen_real.sh covers that case.
set -u
miglab=${MIGLAB_BIN:-build/miglab}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 checks=0
ok()   { checks=$((checks + 1)); }
fail() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: $*"; }

"$miglab" xen frobnicate >/dev/null 2>"$tmp/err"
[ $? -eq 2 ] && grep -q "unknown subcommand" "$tmp/err" && ok || fail "unknown subcommand"
"$miglab" xen --help >"$tmp/out" 2>&1 && grep -q "miglab xen dirty" "$tmp/out" && ok || fail "--help"
"$miglab" xen dirty --help >"$tmp/out" 2>&1 && ok || fail "dirty --help"

if [ -e /proc/xen ]; then
    echo "cli_xen: $checks checks, $fails failed (a Xen dom0: runtime errors not checked here)"
    [ $fails -eq 0 ]; exit
fi
for sub in "migrate --live vm1 localhost" "receive stdio" "dirty vm1 --duration 1s"; do
    # shellcheck disable=SC2086
    "$miglab" xen $sub </dev/null >"$tmp/out" 2>"$tmp/err"
    rc=$?
    lines=$(grep -c . "$tmp/err")
    if grep -q "compiled out" "$tmp/err"; then
        [ $rc -eq 2 ] && [ "$lines" -eq 1 ] && ok || fail "xen $sub: compiled out: rc=$rc, $lines lines"
    elif grep -q "no Xen hypervisor" "$tmp/err"; then
        [ $rc -eq 1 ] && [ "$lines" -eq 1 ] && ok || fail "xen $sub: no hypervisor: rc=$rc, $lines lines"
    else
        fail "xen $sub: rc=$rc: $(cat "$tmp/err")"
    fi
    [ -s "$tmp/out" ] && fail "xen $sub wrote to stdout"
done
echo "cli_xen: $checks checks, $fails failed"
[ $fails -eq 0 ]
