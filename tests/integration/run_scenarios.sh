#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# run_scenarios.sh - `miglab run` on the seed's example (xm-live-lan:
# downtime in the 60-300 ms band), a lossy WAN link (lossy-wan) and an
# admission refusal (admission-refused: outcome refused, guest still at the
# source), each checked against its own [expect] bounds by the runner's
# exit status, plus per-scenario facts from results.json.  docs/runner.md.
#
# Needs root and network namespaces; otherwise exit 77 with the reason.
set -u
miglab=${MIGLAB_BIN:-build/miglab}
src=${MIGLAB_SRCDIR:-.}
tmp=$(mktemp -d)
name=run_scenarios
start=$(date +%s)
# shellcheck source=tests/integration/lib.bash
. "$src/tests/integration/lib.bash"
need_netns
trap 'rm -rf "$tmp"' EXIT

for s in xm-live-lan lossy-wan admission-refused; do
    "$miglab" run "$src/scenarios/$s.ini" --report "$tmp/$s" \
        >"$tmp/$s.out" 2>"$tmp/$s.err"
    rc=$?
    if [ $rc -eq 0 ]; then ok; else
        fail "$s: exit $rc"
        grep -E "FAIL|error" "$tmp/$s.out" "$tmp/$s.err" | head -5
    fi
    python3 - "$tmp/$s/results.json" "$s" <<'PY' && ok || fail "$s: results"
import json, sys
d = json.load(open(sys.argv[1])); s = sys.argv[2]
r = d["runs"][0]
assert d["emulator"]
if s == "admission-refused":
    assert d["predicted"]["outcome"] == "refused"
    assert r["outcome"] == "refused", r["outcome"]
    names = [e["name"] for e in r["expectations"]]
    assert "guest_at_source" in names, names
else:
    assert r["measured"]["integrity"]["ok"] is True
    assert r["downtime"]["implementation_s"] > 0
if s == "lossy-wan":
    assert d["testbed"]["directions"][0]["loss"] == 0.001
    assert d["cc"]["used"] == "bbr", d["cc"]
PY
    id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["testbed"]["id"])' \
         "$tmp/$s/results.json" 2>/dev/null || echo none)
    if ip netns list | grep -q "^mlab-$id-"; then
        fail "$s: namespaces left behind"
        "$miglab" testbed down "$id" >/dev/null 2>&1
    else ok; fi
done

echo "run_scenarios: $((checks - fails))/$checks checks passed in" \
     "$(( $(date +%s) - start )) s"
[ $fails -eq 0 ]
