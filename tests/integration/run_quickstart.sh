#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# run_quickstart.sh - `miglab run scenarios/quickstart.ini` end to end
# (docs/runner.md): testbed, two host daemons, an emulated 1 GiB guest,
# heartbeat prober, capture, live migration, report.  Checks: exit 0; the
# report files exist (Markdown, HTML with inline SVG, JSON with predicted
# and measured keys, JUnit XML that parses); integrity ok; the three
# downtimes present (or a stated reason for the network one); `miglab
# report` re-renders the saved result; the HTML renders in headless
# Chromium when it is installed; nothing of the run is left behind (its
# namespaces, host daemons, state directory).
#
# Needs root and network namespaces; otherwise exit 77 with the reason.
# Sends traffic only to 10.77.x.y inside the namespaces the run creates.
set -u
miglab=${MIGLAB_BIN:-build/miglab}
src=${MIGLAB_SRCDIR:-.}
tmp=$(mktemp -d)
name=run_quickstart
start=$(date +%s)
# shellcheck source=tests/integration/lib.bash
. "$src/tests/integration/lib.bash"
need_netns
trap 'rm -rf "$tmp"' EXIT

rep=$tmp/report
"$miglab" run "$src/scenarios/quickstart.ini" --report "$rep" \
    >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] && ok || { fail "miglab run exit $rc"; tail -20 "$tmp/err"; }
for f in report.md report.html results.json junit.xml; do
    [ -s "$rep/$f" ] && ok || fail "$f missing"
done
grep -q "<svg" "$rep/report.html" && ok || fail "no inline SVG in the HTML"
grep -q "link emulator" "$rep/report.md" && ok || fail "md: no emulator"

python3 - "$rep" <<'PY' && ok || fail "result checks"
import json, sys, xml.dom.minidom
rep = sys.argv[1]
d = json.load(open(rep + "/results.json"))
assert "predicted" in d and d["predicted"]["passes"], "no prediction"
assert d["emulator"], "no emulator name"
runs = d["runs"]
assert len(runs) >= 1, "no runs"
for r in runs:
    assert r["ok"], r.get("error") or r["expectations"]
    m = r["measured"]
    for k in ["total_time_s", "downtime_s", "bytes_sent", "passes",
              "integrity"]:
        assert k in m, "measured lacks " + k
    assert m["integrity"]["ok"] is True, m["integrity"]
    dt = r["downtime"]
    assert dt["implementation_s"] > 0, dt
    assert dt.get("wire_s", 0) > 0, dt.get("wire_note")
    # The network measure, or a stated reason why it is unavailable.
    assert dt.get("network_s", 0) > 0 or dt.get("network_note"), dt
    w = r["wire"]
    assert w["passes"] and not w["passes"][-1]["live"], w.get("decode")
junit = xml.dom.minidom.parse(rep + "/junit.xml")
cases = junit.getElementsByTagName("testcase")
assert len(cases) == sum(len(r["expectations"]) for r in runs), len(cases)
assert not junit.getElementsByTagName("failure")
open(rep + "/id", "w").write(d["testbed"]["id"])
PY

# A saved result re-renders.
"$miglab" report "$rep/results.json" --format junit -o "$tmp/j.xml" &&
    cmp -s "$tmp/j.xml" "$rep/junit.xml" && ok || fail "miglab report junit"
"$miglab" report "$rep/results.json" | grep -q "downtime: wire" && ok ||
    fail "miglab report md"
"$miglab" report "$tmp/nonexistent.json" >/dev/null 2>&1
[ $? -eq 2 ] && ok || fail "report of a missing file: exit 2"

# Headless Chromium renders the page with both charts.
chrome=$(command -v chromium || command -v chromium-browser ||
         command -v google-chrome || true)
if [ -n "$chrome" ]; then
    timeout 60 "$chrome" --headless --no-sandbox --disable-gpu \
        --dump-dom "file://$rep/report.html" >"$tmp/dom" 2>/dev/null
    [ "$(grep -o "<svg" "$tmp/dom" | wc -l)" -ge 2 ] &&
        grep -q "Bytes per pass" "$tmp/dom" && ok ||
        fail "headless Chromium did not render the charts"
else
    echo "note: no Chromium; the headless render check was not made"
fi

# Nothing of this run is left behind.
id=$(cat "$rep/id" 2>/dev/null || echo none)
if ip netns list | grep -q "^mlab-$id-"; then
    fail "namespaces of run $id left behind"
    "$miglab" testbed down "$id" >/dev/null 2>&1
else ok; fi
pgrep -f "miglab host .*/run/miglab/testbed/$id/" >/dev/null &&
    fail "host daemons of run $id left behind" || ok
[ ! -e "/run/miglab/testbed/$id" ] && ok || fail "state dir of $id left"

echo "run_quickstart: $((checks - fails))/$checks checks passed in" \
     "$(( $(date +%s) - start )) s"
[ $fails -eq 0 ]
