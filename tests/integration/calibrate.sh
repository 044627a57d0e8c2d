#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# calibrate.sh - `miglab calibrate` on the quickstart network
# (docs/calibrate.md), kept short: one repeat, a 64 MiB idle guest, live
# only.  Checks: exit 0; the profile parses and has the measured point
# (goodput, restore, suspend, unpause) with provenance; `miglab predict
# --profile` accepts it, applies the point (limit "measured") and a flag
# still wins over it; `--json` is valid JSON; bad input exits 2 with one
# line; nothing of the run is left behind.  The --help and bad-input
# checks run everywhere; the measurement needs root and network
# namespaces, otherwise exit 77 with the reason.
set -u
miglab=${MIGLAB_BIN:-build/miglab}
src=${MIGLAB_SRCDIR:-.}
tmp=$(mktemp -d)
name=calibrate
# shellcheck source=tests/integration/lib.bash
. "$src/tests/integration/lib.bash"
trap 'rm -rf "$tmp"' EXIT

"$miglab" calibrate --help | grep -q -- "--profile FILE" && ok ||
    fail "calibrate --help"
"$miglab" calibrate --repeat 0 2>"$tmp/e"; rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/e")" -eq 1 ] && ok ||
    fail "--repeat 0: exit $rc, $(cat "$tmp/e")"
"$miglab" calibrate --scenario /nonexistent.ini 2>"$tmp/e"; rc=$?
[ $rc -eq 2 ] && grep -q "/nonexistent.ini" "$tmp/e" && ok ||
    fail "missing scenario: exit $rc"
"$miglab" predict --profile /nonexistent.ini 2>"$tmp/e"; rc=$?
[ $rc -eq 2 ] && ok || fail "predict with a missing profile: exit $rc"
[ "$(id -u)" -eq 0 ] || {
    echo "$name: $checks checks, $fails failed (before the skip)"
    [ $fails -eq 0 ] || exit 1
}
need_netns

count_ns()  { ip netns list 2>/dev/null | grep -c '^mlab-'; }
count_tmp() { find /tmp -maxdepth 1 -name 'miglab-calibrate-*' | wc -l; }
ns_before=$(count_ns) tmp_before=$(count_tmp)
prof=$tmp/profile.ini
"$miglab" calibrate --scenario "$src/scenarios/quickstart.ini" --repeat 1 \
    --mem 64M --no-cold --out "$prof" --json >"$tmp/out.json" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] && ok || { fail "calibrate exit $rc"; tail -20 "$tmp/err"; }
python3 - "$tmp/out.json" <<'PY' && ok || fail "--json output"
import json, sys
d = json.load(open(sys.argv[1]))
p = d["points"][0]
assert p["live"]["repeats"] == 1, p
assert p["costs"]["goodput_Bps"] > 1e6, p
assert p["costs"]["restore_s"] >= 0, p
PY
for k in 'goodput = ' 'restore = ' 'suspend = ' 'unpause = ' \
         'emulator = ' 'kernel = ' 'created = ' 'rtt = 0.5ms'; do
    grep -q "^$k" "$prof" && ok || fail "profile has no '$k'"
done

"$miglab" predict --scenario "$src/scenarios/quickstart.ini" \
    --profile "$prof" --json >"$tmp/pred.json" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] && ok || { fail "predict --profile exit $rc"; cat "$tmp/err"; }
python3 - "$tmp/pred.json" "$prof" <<'PY' && ok || fail "calibrated predict"
import json, re, sys
d = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
assert d["profile"]["point"] == "p1", d["profile"]
assert d["link"]["limit"] == "measured", d["link"]
g = float(re.search(r"^goodput = ([0-9.]+)MB/s", text, re.M).group(1))
assert abs(d["link"]["goodput_Bps"] - g * 1e6) < 1, (d["link"], g)
PY
# A flag beats the profile.
"$miglab" predict --scenario "$src/scenarios/quickstart.ini" \
    --profile "$prof" --restore 77ms --json 2>/dev/null |
    python3 -c 'import json,sys; d=json.load(sys.stdin);
assert abs(d["downtime_parts"]["restore_s"] - 0.077) < 1e-9' && ok ||
    fail "--restore does not override the profile"

# Nothing left behind (other runs on this machine may come and go, so
# compare counts: ours can only add).
[ "$(count_ns)" -le "$ns_before" ] && ok || fail "namespaces left"
[ "$(count_tmp)" -le "$tmp_before" ] && ok ||
    fail "temp scenario directory left"

echo "$name: $checks checks, $fails failed"
[ $fails -eq 0 ]
