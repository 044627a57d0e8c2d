#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tests/fuzz/run.sh - run libFuzzer targets for their budgets and print one
# table (what `make fuzz` does after building them; docs/fuzzing.md).
#
#   run.sh BUILD_DIR TARGET...
#
# Target NAME is BUILD_DIR/fuzz_NAME.  Budget from the environment:
# FUZZ_SECONDS_NAME (default 60) and, when set, FUZZ_RUNS_NAME (stop after
# that many executions; the target fails if it stops short of them).
# Seeds: tests/fuzz/corpus/NAME/ (read only).  New inputs:
# BUILD_DIR/corpus/NAME/; crashes: BUILD_DIR/crashes/NAME/; full logs:
# BUILD_DIR/logs/NAME.log.  Exit 1 when any target crashed (or fell short),
# else 0.
set -u
build=$1; shift
srcdir=$(cd "$(dirname "$0")/../.." && pwd)
failed=0
rows=()

for t in "$@"; do
    bin="$build/fuzz_$t"
    seeds="$srcdir/tests/fuzz/corpus/$t"
    corpus="$build/corpus/$t" crashes="$build/crashes/$t"
    log="$build/logs/$t.log"
    secs_var="FUZZ_SECONDS_$t" runs_var="FUZZ_RUNS_$t"
    secs=${!secs_var:-60} runs=${!runs_var:-}
    mkdir -p "$corpus" "$crashes" "$build/logs"
    [ -d "$seeds" ] || seeds=""
    args=(-max_total_time="$secs" -print_final_stats=1 -timeout=30
          -artifact_prefix="$crashes/")
    [ -n "$runs" ] && args+=(-runs="$runs")
    echo "fuzz: $t (${runs:+$runs runs, }$secs s at most)" >&2
    start=$(date +%s.%N)
    (cd "$srcdir" && "$bin" "${args[@]}" "$corpus" $seeds) >"$log" 2>&1
    rc=$?
    end=$(date +%s.%N)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    corp=$(grep -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' "$log" | tail -1 |
           sed 's/corp: //')
    ncrash=$(find "$crashes" -type f | wc -l)
    [ $rc -ne 0 ] && [ "$ncrash" -eq 0 ] && ncrash=1   # died without one
    wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.0f", b - a }')
    verdict=ok
    if [ "$ncrash" -gt 0 ]; then
        verdict=CRASH failed=1
        grep -E '^==[0-9]+==ERROR|^SUMMARY|runtime error' "$log" | head -5 >&2
    elif [ -n "$runs" ] && [ "${execs:-0}" -lt "$runs" ]; then
        verdict=SHORT failed=1
    fi
    rows+=("$(awk -v t="$t" -v e="${execs:-0}" -v s="$wall" -v c="$ncrash" \
        -v corp="${corp:-?}" -v v="$verdict" 'BEGIN {
        printf "%-10s %12d %8d %9.0f %8d %14s  %s", t, e, s,
               (s > 0 ? e / s : 0), c, corp, v }')")
done

printf '%-10s %12s %8s %9s %8s %14s  %s\n' target executions seconds \
    exec/s crashes corpus verdict
for r in "${rows[@]}"; do echo "$r"; done
echo "(corpus: inputs/bytes libFuzzer held at the end; logs in $build/logs)"
exit $failed
