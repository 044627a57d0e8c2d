#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tests/evidence/run.sh - the prediction-error evidence of issue 4
# (docs/calibrate.md, "Evidence"): calibrate this testbed on the networks
# of every shipped live scenario, run each of them REPEAT times with the
# profile, and summarise the 90th-percentile prediction error of total
# time and downtime, calibrated and uncalibrated.
#
# Usage (root, from the top of the tree, after make):
#   bash tests/evidence/run.sh [OUTDIR]        (default tests/evidence)
# Environment: MIGLAB_BIN (build/miglab), REPEAT (3), KEEP_PROFILE=1 (use
# OUTDIR/host-profile.ini as it is: the runs only).
# Writes OUTDIR/host-profile.ini, calibrate.txt, runs/NAME.json (the
# result documents without the heartbeat gap lists), runs/NAME.md (the
# Markdown reports), load.txt (uptime before and after each step) and
# summary.md / summary.json (tests/evidence/summarize.py).  A scenario
# whose [expect] outcome is not "completed" (admission-refused) is run
# but left out of the error statistics: it has no live migration to time.
set -u
miglab=${MIGLAB_BIN:-build/miglab}
out=${1:-tests/evidence}
repeat=${REPEAT:-3}
here=$(cd "$(dirname "$0")" && pwd)
[ "$(id -u)" -eq 0 ] || { echo "run.sh: needs root (the testbed)"; exit 77; }
mkdir -p "$out/runs"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

live=()
for s in scenarios/*.ini; do
    grep -Eq '^[[:space:]]*mode[[:space:]]*=[[:space:]]*live' "$s" &&
        live+=("$s")
done
args=()
for s in "${live[@]}"; do args+=(--scenario "$s"); done

load() { echo "$1: $(uptime)" >>"$out/load.txt"; }
if [ "${KEEP_PROFILE:-0}" = 1 ]; then
    load "runs only, with the kept profile"
else
    : >"$out/load.txt"
    load "before calibrate"
    echo "+ $miglab calibrate ${args[*]} --repeat $repeat" \
         "--out $out/host-profile.ini" >"$out/calibrate.txt"
    "$miglab" calibrate "${args[@]}" --repeat "$repeat" \
        --out "$out/host-profile.ini" >>"$out/calibrate.txt" \
        2>"$tmp/cal.log" ||
        { echo "run.sh: calibrate failed"; tail -5 "$tmp/cal.log"; exit 1; }
    load "after calibrate"
fi
for s in "${live[@]}"; do
    n=$(basename "$s" .ini)
    echo "run.sh: $n"
    "$miglab" run "$s" --repeat "$repeat" --profile "$out/host-profile.ini" \
        --report "$tmp/$n" >/dev/null 2>"$tmp/$n.log"
    echo "$n: miglab run exit $?" >>"$out/load.txt"
    [ -s "$tmp/$n/results.json" ] || { tail -3 "$tmp/$n.log"; continue; }
    python3 - "$tmp/$n/results.json" "$out/runs/$n.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for r in d.get("runs", []):
    hb = r.get("heartbeat")
    if isinstance(hb, dict):
        hb["gaps"] = "(%d gaps left out)" % len(hb.get("gaps") or [])
json.dump(d, open(sys.argv[2], "w"), indent=1, sort_keys=True)
PY
    cp "$tmp/$n/report.md" "$out/runs/$n.md"
    load "after $n"
done
python3 "$here/summarize.py" "$out" "${live[@]}"
