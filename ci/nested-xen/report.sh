#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# ci/nested-xen/report.sh - calibrate, predict, compare, report.
#
# Usage: report.sh RESULTS.jsonl OUTDIR [TIMES_JSON]
#   RESULTS.jsonl  the RESULT lines of one boot (ci-init)
#   OUTDIR         writes report.md, report.json and predict/*.json there
# Exit 0 when every expectation holds, 1 otherwise.  Run by run.sh; it can
# be re-run by hand on a kept results.jsonl (no boot needed).
#
# Calibration (same boot, idle guest; docs/model.md has the model):
#   copy rate c   live-passes bytes of an idle prediction / measured pre-copy
#                 time of calib-live-idle (libxc "Saving domain" -> libxl's
#                 suspend request).  On this single-vCPU dom0 the sender and
#                 the receiver share one CPU, so c is CPU-bound, not a link.
#   live restore  the restore cost that makes the idle live prediction's
#                 downtime equal the measured one (suspend 5 ms and unpause
#                 2 ms stay at their defaults; only the sum matters).
#   cold restore  the same for calib-cold-idle, with the same c (cold on
#                 Xen = suspend + full copy + restore; xl restore's start-up
#                 and domain build are inside the cold downtime).  A cold
#                 migration over a channel ("streamed": miglab migrate
#                 without --live) restores while the stream arrives: it is
#                 predicted with the live restore cost and setup instead.
#   setup         measured - predicted total time of the calibration case,
#                 per mode: xl's start-up before the stream (and the xl
#                 restore start for cold).  The model has no fixed setup
#                 cost (only setup_rtts x RTT), so the runner adds it to
#                 the simulator's total and reports it as a column.
# Prediction per case: the case's scenario file (scenarios/<case>.ini)
# overridden with the measured guest (memory, achieved write rate, working
# set), the link (netem case) and the calibrated costs.  --debug re-sends
# and verifies all memory while paused, which the model leaves out: the
# runner adds one sender-only pass over memory (xl save's write time after
# the suspend in calib-cold-idle) to that case's downtime and total.
#
# Expectations ([expect] of the scenario file):
#   prediction_error  |pred - meas| <= e * meas for total time, and
#                     <= e * meas + hb_s for downtime (a heartbeat gap
#                     measures a pause D as a value in [D, D + hb_s))
#   downtime_max, total_time_max   bounds on the MEASURED values
# plus built-in checks: the case ran (rc 0), heartbeats continued, and for
# --debug no page failed verification.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
MIGLAB=${MIGLAB:-$TOP/build/miglab}
RES=${1:?usage: report.sh RESULTS.jsonl OUTDIR [TIMES_JSON]}
OUT=${2:?usage: report.sh RESULTS.jsonl OUTDIR [TIMES_JSON]}
TIMES=${3:-"{}"}
SCEN=$HERE/scenarios
mkdir -p "$OUT/predict"

# Repeated cases (CASE#1..CASE#N) become one record: the median of every
# measured number (the middle run; N is odd by default), the worst rc and
# verify count, and the per-run downtime and total times.
RAW=$RES
RES=$OUT/results-median.jsonl
jq -c -s '
    def med: map(select(. != null)) | sort |
        if length == 0 then null else .[((length - 1) / 2 | floor)] end;
    def base: sub("#[0-9]+$"; "");
    def diff(a; b): if (a != null and b != null) then a - b else null end;
    # A pause cannot start before xl asked the guest to suspend: a
    # heartbeat stall just before that (dom0 busy, seen once in a cold
    # run) is not migration downtime.  Clip the gap start to the request
    # minus one heartbeat; hb_gap_s keeps the raw largest gap.
    def clip: if (.suspend_req_s != null and .downtime_s > 0 and .precopy_s != null) then
            ([.precopy_s, .suspend_req_s - .hb_s] | max) as $st
            | .hb_gap_s = .downtime_s | .downtime_s = ([.total_s - $st, .downtime_s] | min)
        else .hb_gap_s = .downtime_s end;
    map(clip | . + {xfer_s: diff(.suspend_req_s; .stream_s), save_xfer_s: diff(.save_s; .suspended_s),
                    pre_pause_s: (if .downtime_s > 0 then .total_s - .downtime_s else null end)})
    | to_entries | map(.value + {_i: .key}) | group_by(.case | base) | sort_by(.[0]._i) | map(
        . as $runs
        | ($runs[0] + {case: ($runs[0].case | base), runs: ($runs | length),
                       downtime_runs: [$runs[].downtime_s], total_runs: [$runs[].total_s],
                       rc: ([$runs[].rc] | max)}) as $b
        | reduce ("downtime_s", "total_s", "wall_s", "precopy_s", "rate_pps", "pre_rate_pps",
                  "stream_s", "suspend_req_s", "suspended_s", "restored_s", "ready_s",
                  "started_s", "save_s", "restore_s", "hb_age_s", "xfer_s", "save_xfer_s",
                  "hb_gap_s", "pre_pause_s") as $k
              ($b; if has($k) then .[$k] = ([$runs[][$k]] | med) else . end)
        | if has("verify_fail") then .verify_fail = ([$runs[].verify_fail] | max) else . end
        | del(._i)) | .[]' "$RAW" > "$RES" || die "cannot read $RAW"

die() { echo "report: $*" >&2; exit 1; }
r() { jq -rc --arg c "$1" "select(.case == \$c) | $2" "$RES" | tail -1; }
calc() { awk "BEGIN { printf \"%.6f\", $* }"; }
has() { [ -n "$(r "$1" .case)" ]; }

# ini KEY FILE: value of KEY in [expect] of FILE (empty when absent)
ini_expect() {
    awk -v k="$1" '
        /^[ \t]*\[/ { sec = $0; gsub(/[][ \t]/, "", sec); next }
        sec == "expect" && $0 ~ "^[ \t]*" k "[ \t]*=" {
            sub(/^[^=]*=[ \t]*/, ""); sub(/[ \t]*[#;].*$/, ""); print; exit }' "$2"
}
# seconds from a miglab time ("300ms", "2s", "1.5")
secs() {
    awk -v v="$1" 'BEGIN {
        if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.6f", v / 1000 }
        else if (v ~ /us$/) { sub(/us$/, "", v); printf "%.6f", v / 1e6 }
        else { sub(/s$/, "", v); printf "%.6f", v } }'
}

has calib-live-idle || die "no calib-live-idle result: cannot calibrate"
has calib-cold-idle || die "no calib-cold-idle result: cannot calibrate"
MEMB=$(r calib-live-idle .mem_bytes)
PIPE_FLAGS=(--mem "$MEMB" --vcpus 1 --bandwidth 0 --rtt 0.05ms --policy xen)

# Every case here is libxl's sender: it pauses right after the last live
# pass (no drain; ref/policy.h).
predict() {   # name, flags... -> prediction JSON in $OUT/predict/name.json
    local n=$1; shift
    "$MIGLAB" predict "$@" --drain off --json > "$OUT/predict/$n.json" 2> "$OUT/predict/$n.err" ||
        { cat "$OUT/predict/$n.err" >&2; return 1; }
}
pj() { jq -r "$2" "$OUT/predict/$1.json"; }

# --- 1. copy rate from the idle live pre-copy
I_XFER=$(r calib-live-idle .xfer_s)
if [ -n "$I_XFER" ] && [ "$I_XFER" != null ]; then
    XFER_SRC="xl log: Saving domain -> suspend request, median"
else
    I_XFER=$(r calib-live-idle .precopy_s); XFER_SRC="heartbeats: xl start -> pause (no xl markers)"
fi
predict cal-bytes "${PIPE_FLAGS[@]}" --workload idle --copy-rate 1GB/s || die "predict failed"
LIVE_BYTES=$(pj cal-bytes '[.passes[] | select(.live) | .bytes] | add')
COPY=$(calc "$LIVE_BYTES / $I_XFER")
# --- 2. live fixed downtime
predict cal-live0 "${PIPE_FLAGS[@]}" --workload idle --copy-rate "${COPY}B/s" --restore 0 || die "predict failed"
I_GAP=$(r calib-live-idle .downtime_s)
REST_LIVE=$(calc "$I_GAP - $(pj cal-live0 .downtime_s)")
awk -v x="$REST_LIVE" 'BEGIN{exit !(x < 0)}' && REST_LIVE=0
predict cal-live "${PIPE_FLAGS[@]}" --workload idle --copy-rate "${COPY}B/s" --restore "${REST_LIVE}s" || die "predict failed"
# setup = median over runs of (total - downtime) - the model's (total -
# downtime): medians of total and of downtime alone may come from
# different runs.
SETUP_LIVE=$(calc "$(r calib-live-idle .pre_pause_s) - ($(pj cal-live .total_time_s) - $(pj cal-live .downtime_s))")
# --- 3. cold fixed downtime
predict cal-cold0 "${PIPE_FLAGS[@]}" --mode cold --workload idle --copy-rate "${COPY}B/s" --restore 0 || die "predict failed"
C_GAP=$(r calib-cold-idle .downtime_s)
REST_COLD=$(calc "$C_GAP - $(pj cal-cold0 .downtime_s)")
awk -v x="$REST_COLD" 'BEGIN{exit !(x < 0)}' && REST_COLD=0
predict cal-cold "${PIPE_FLAGS[@]}" --mode cold --workload idle --copy-rate "${COPY}B/s" --restore "${REST_COLD}s" || die "predict failed"
SETUP_COLD=$(calc "$(r calib-cold-idle .pre_pause_s) - ($(pj cal-cold .total_time_s) - $(pj cal-cold .downtime_s))")
# --debug: while paused the sender re-sends every page and the receiver
# only compares; the sender-only write of all memory is what xl save does
# after the guest suspended (calib-cold-idle), else one copy at rate c.
FULL_COPY=$(r calib-cold-idle .save_xfer_s)
if [ -n "$FULL_COPY" ] && [ "$FULL_COPY" != null ]; then
    VERIFY_SRC="xl save after the guest suspended (calib-cold-idle), median"
else
    FULL_COPY=$(calc "$(pj cal-cold .bytes_sent) / $COPY"); VERIFY_SRC="memory / copy rate (no xl markers)"
fi

CAL=$(jq -n --arg src "$XFER_SRC" --arg vsrc "$VERIFY_SRC" \
    --argjson copy "$COPY" --argjson xfer "$I_XFER" --argjson lb "$LIVE_BYTES" \
    --argjson rl "$REST_LIVE" --argjson rc "$REST_COLD" \
    --argjson sl "$SETUP_LIVE" --argjson sc "$SETUP_COLD" --argjson fc "$FULL_COPY" \
    '{copy_rate_Bps: $copy, copy_rate_from: $src, idle_precopy_s: $xfer, idle_live_bytes: $lb,
      live: {restore_s: $rl, setup_s: $sl}, cold: {restore_s: $rc, setup_s: $sc},
      verify_pass_s: $fc, verify_pass_from: $vsrc, suspend_s: 0.005, unpause_s: 0.002}')

# --- 4. every measured case
CASES=$(jq -r 'select(.kind == "live" or .kind == "cold" or .kind == "live-debug") | .case' "$RES")
ALL_OK=1
ROWS=()
JCASES="[]"
for c in $CASES; do
    kind=$(r "$c" .kind); rc=$(r "$c" .rc)
    md=$(r "$c" .downtime_s); mt=$(r "$c" .total_s); hb=$(r "$c" .hb_s)
    rate=$(r "$c" .rate_pps); pre=$(r "$c" .pre_rate_pps); set_rate=$(r "$c" .set_rate_pps)
    wss=$(r "$c" .wss_bytes); tr=$(r "$c" .transport)
    awk -v x="$rate" 'BEGIN{exit !(x < 0)}' && rate=$pre     # no pre-copy window: rate before
    flags=("${PIPE_FLAGS[@]}" --copy-rate "${COPY}B/s")
    # (absolute: a relative trace path is taken relative to the scenario)
    trace=$(r "$c" '.trace // ""'); tfile=$(cd "$OUT" && pwd)/vm/logs/$trace
    if [ -n "$trace" ] && [ -s "$tfile" ]; then
        # A captured `miglab xen dirty` trace replaces the hotcold model;
        # the guest must be at least as large as the trace's bitmap.
        tpages=$(awk '$1 == "pages" { print $2; exit }' "$tfile")
        tmem=$(( tpages * 4096 > MEMB ? tpages * 4096 : MEMB ))
        flags+=(--mem "$tmem" --workload "trace:$tfile")
    elif [ "$set_rate" != 0 ]; then
        flags+=(--workload "hotcold:wss=${wss},hot=1,rate=$(calc "$rate * 4096")B/s")
    else
        flags+=(--workload idle)
    fi
    if [ "$tr" = tcp-netem ]; then
        mtu=$(r "$c" .mtu); [ "$mtu" -gt 65535 ] && mtu=65535
        flags+=(--bandwidth "$(r "$c" .link_bps)bit" --rtt "$(r "$c" .rtt_s)s" --mtu "$mtu")
    fi
    if [ "$kind" = cold ] && [ "$(r "$c" '.streamed // false')" = true ]; then
        # A cold migration over a channel (miglab migrate without
        # --live): the receiver restores while the stream arrives, so what
        # follows the last byte is the live path's fixed cost, not xl
        # restore's start-up from a file.
        flags+=(--mode cold --restore "${REST_LIVE}s"); setup=$SETUP_LIVE
    elif [ "$kind" = cold ]; then
        flags+=(--mode cold --restore "${REST_COLD}s"); setup=$SETUP_COLD
    else
        flags+=(--mode live --restore "${REST_LIVE}s"); setup=$SETUP_LIVE
    fi
    sc=$SCEN/$c.ini
    [ -f "$sc" ] && flags=(--scenario "$sc" "${flags[@]}")
    if ! predict "$c" "${flags[@]}"; then
        ALL_OK=0; ROWS+=("| $c | $kind | prediction failed | | | | | | FAIL |"); continue
    fi
    pd=$(pj "$c" .downtime_s); pt=$(calc "$(pj "$c" .total_time_s) + $setup")
    extra=0
    [ "$kind" = live-debug ] && extra=$FULL_COPY
    pd=$(calc "$pd + $extra"); pt=$(calc "$pt + $extra")
    passes=$(pj "$c" .live_passes)

    # expectations
    checks=(); ok=1
    chk() {   # name, 0/1, detail
        checks+=("$(jq -cn --arg n "$1" --argjson p "$2" --arg d "$3" '{check: $n, pass: ($p == 1), detail: $d}')")
        [ "$2" = 1 ] || ok=0
    }
    chk ran "$([ "$rc" = 0 ] && echo 1 || echo 0)" "rc=$rc"
    chk heartbeats "$(awk -v g="$md" 'BEGIN{print (g > 0) ? 1 : 0}')" "guest printed heartbeats after the case"
    [ "$kind" = live-debug ] && { vf=$(r "$c" .verify_fail);
        chk verify "$([ "$vf" = 0 ] && echo 1 || echo 0)" "$vf pages failed verification"; }
    if [ -f "$sc" ]; then
        e=$(ini_expect prediction_error "$sc")
        if [ -n "$e" ]; then
            e=$(awk -v v="$e" 'BEGIN{ if (v ~ /%$/) { sub(/%$/, "", v); v /= 100 } printf "%.6f", v }')
            chk downtime_prediction "$(awk -v p="$pd" -v m="$md" -v e="$e" -v h="$hb" \
                'BEGIN{d = p - m; if (d < 0) d = -d; print (d <= e * m + h) ? 1 : 0}')" \
                "|$pd - $md| <= $e x $md + $hb"
            chk total_prediction "$(awk -v p="$pt" -v m="$mt" -v e="$e" \
                'BEGIN{d = p - m; if (d < 0) d = -d; print (d <= e * m) ? 1 : 0}')" \
                "|$pt - $mt| <= $e x $mt"
        fi
        v=$(ini_expect downtime_max "$sc")
        [ -n "$v" ] && chk downtime_max "$(awk -v m="$md" -v b="$(secs "$v")" 'BEGIN{print (m <= b) ? 1 : 0}')" "measured $md s <= $v"
        v=$(ini_expect total_time_max "$sc")
        [ -n "$v" ] && chk total_time_max "$(awk -v m="$mt" -v b="$(secs "$v")" 'BEGIN{print (m <= b) ? 1 : 0}')" "measured $mt s <= $v"
    fi
    case $c in calib-*) role=calibration ;; *) role=check ;; esac
    [ $ok = 1 ] || ALL_OK=0
    verdict=$([ $ok = 1 ] && echo PASS || echo FAIL)
    failed=$(printf '%s\n' "${checks[@]}" | jq -r 'select(.pass | not) | .check' | paste -sd, -)
    errd=$(awk -v p="$pd" -v m="$md" 'BEGIN{ if (m > 0) printf "%+.0f%%", 100 * (p - m) / m; else print "-" }')
    errt=$(awk -v p="$pt" -v m="$mt" 'BEGIN{ if (m > 0) printf "%+.0f%%", 100 * (p - m) / m; else print "-" }')
    if [ "$set_rate" != 0 ]; then wl="$(printf '%.0f' "$rate") p/s in $((wss / 1048576)) MiB"; else wl=idle; fi
    [ -n "$trace" ] && [ -s "$tfile" ] && wl="$wl; pred. from trace $trace"
    if [ "$tr" = tcp-netem ]; then link="TCP netem $(( $(r "$c" .link_bps) / 1000000 )) Mbit/s, RTT $(calc "$(r "$c" .rtt_s) * 1000" | sed 's/0*$//; s/\.$//') ms"
    elif [ "$tr" = tcp-lo ]; then link="TCP on lo (localhost)"; else link="pipe (localhost)"; fi
    rng() {   # "median" or "median (min-max)" of a per-run list
        jq -r --arg m "$2" --arg k "$1" 'if (.[$k] | length) > 1 then
            "\($m | tonumber * 100 | round / 100) (\(.[$k] | min * 100 | round / 100)-\(.[$k] | max * 100 | round / 100))"
            else "\($m | tonumber * 100 | round / 100)" end' <<< "$(r "$c" .)"
    }
    ROWS+=("$(printf '| %s | %s | %s | %s | %s | %s | %.2f | %s | %s | %.2f | %s | %s | %s%s |' \
        "$c" "$kind" "$(r "$c" .runs)" "$wl" "$link" "$(rng downtime_runs "$md")" "$pd" "$errd" \
        "$(rng total_runs "$mt")" "$pt" "$errt" "$passes" "$verdict" "${failed:+ ($failed)}")")
    JCASES=$(jq -c --argjson meas "$(jq -c --arg c "$c" 'select(.case == $c)' "$RES" | tail -1)" \
        --argjson pred "$(jq -c . "$OUT/predict/$c.json")" \
        --argjson checks "$(printf '%s\n' "${checks[@]}" | jq -cs .)" \
        --arg c "$c" --arg role "$role" --argjson pd "$pd" --argjson pt "$pt" \
        --argjson setup "$setup" --argjson extra "$extra" --arg ok "$verdict" \
        --arg flags "${flags[*]}" \
        '. + [{case: $c, role: $role, verdict: $ok,
               measured: {downtime_s: $meas.downtime_s, total_s: $meas.total_s, wall_s: $meas.wall_s},
               predicted: {downtime_s: $pd, total_s: $pt, simulator_total_s: $pred.total_time_s,
                           setup_added_s: $setup, verify_pass_added_s: $extra,
                           live_passes: $pred.live_passes, bytes_sent: $pred.bytes_sent,
                           stop_reason: $pred.stop_reason},
               predict_flags: $flags, checks: $checks, result: $meas}]' <<< "$JCASES")
done

# dom0 health and the miglab smoke test are checks too
for c in miglab-in-dom0 dom0-health; do
    if has "$c" && [ "$(r "$c" .rc)" = 0 ]; then :; else ALL_OK=0; ROWS+=("| $c | env | | | | | | | | | | FAIL |"); fi
done
# the dirty-trace capture, when the boot ran it
if has dirty-capture && [ "$(r dirty-capture .rc)" != 0 ]; then
    ALL_OK=0; ROWS+=("| dirty-capture | dirty | | | | | | | | | | FAIL (ran) |")
fi

VERDICT=$([ $ALL_OK = 1 ] && echo PASS || echo FAIL)
jq -n --argjson times "$TIMES" --argjson cal "$CAL" --argjson cases "$JCASES" \
    --arg v "$VERDICT" --slurpfile env <(jq -c 'select(.kind == "env" or .kind == "boot")' "$RES") \
    --slurpfile raw "$RAW" \
    '{verdict: $v, times: $times, calibration: $cal, cases: $cases, environment: $env,
      raw_results: $raw}' > "$OUT/report.json"

{
    echo "# nested-Xen CI: measured vs predicted"
    echo
    echo "Verdict: **$VERDICT**. Xen $(r env .xen_version), dom0 $(r env .kernel), QEMU TCG, one vCPU." \
         "Image $(jq -r '.image_s // "?"' <<< "$TIMES") s, boot + tests $(jq -r '.boot_and_tests_s // "?"' <<< "$TIMES") s" \
         "(results from the $(jq -r '.results_from // "?"' <<< "$TIMES"));" \
         "host load during the boot $(jq -r '"\(.host_load.mean // "?") mean, \(.host_load.max // "?") max on \(.host_cpus // "?") CPUs"' <<< "$TIMES")" \
         "(QEMU itself is 1)."
    echo
    echo "| case | kind | runs | guest writes | path | downtime meas. (s) | pred. (s) | err | total meas. (s) | pred. (s) | err | pred. live passes | verdict |"
    echo "|---|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---|"
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "Measured downtime = largest gap between guest heartbeats ($(r calib-live-idle .hb_s) s apart), its"
    echo "start clipped to xl's suspend request minus one heartbeat (raw gap: hb_gap_s in report.json);"
    echo "total = xl start until the guest's first heartbeat after the pause; with several runs, the"
    echo "median (min-max). Predicted = \`miglab predict\` (flags in report.json) + the calibrated setup"
    echo "time; calib-* rows match by construction (downtime exactly, total up to the spread of"
    echo "the per-run setup time); their min-max is the run-to-run noise."
    nb=$(r live-dirty-netem .lo_bytes)
    if [ -n "$nb" ] && [ "$nb" != null ] && [ -f "$OUT/predict/live-dirty-netem.json" ]; then
        printf '\nBytes through netem (stream + ACKs, from tc -s): %.1f MB; predicted stream: %.1f MB.\n' \
            "$(calc "$nb / 1e6")" "$(calc "$(pj live-dirty-netem .bytes_sent) / 1e6")"
    fi
    echo
    # miglab's own measurement of its migrations (libxc progress reports
    # through its xentoollog logger; see docs/xen.md), one row per run.
    ML=$(ls "$OUT"/vm/logs/*.json 2>/dev/null | grep -v -E 'wws\.json$|miglab-dom0\.json$')
    if [ -n "$ML" ]; then
        echo "## miglab migrate (libxenlight path): its own measurement (per run)"
        echo
        echo "Passes and times as \`miglab migrate --json\` measured them from libxc's progress"
        echo "reports (pages per pass = progress total; downtime = suspend request -> receiver's"
        echo "report), next to the heartbeat measurement of the same run and the prediction."
        echo
        echo "| run | outcome | pages per pass (live..., final) | miglab downtime (s) | hb downtime (s) | miglab total (s) | hb total (s) | predicted passes |"
        echo "|---|---|---|---:|---:|---:|---:|---|"
        for f in $ML; do
            run=$(basename "$f" .json); base=${run%%#*}
            hb=$(jq -rc --arg c "$run" 'select(.case == $c) | "\(.downtime_s) \(.total_s)"' "$RAW" | tail -1)
            pp="-"
            [ -f "$OUT/predict/$base.json" ] && pp=$(jq -r '[.passes[] | .pages] | map(tostring) | join(", ")' "$OUT/predict/$base.json")
            jq -r --arg run "$run" --arg hbd "${hb% *}" --arg hbt "${hb#* }" --arg pp "$pp" \
                '"| \($run) | \(.outcome) | \([.passes[] | .pages] | map(tostring) | join(", ")) | \(.downtime_s * 1000 | round / 1000) | \($hbd) | \(.total_time_s * 1000 | round / 1000) | \($hbt) | \($pp) |"' \
                "$f" 2>/dev/null || echo "| $run | (no JSON: failed run) | | | | | | |"
        done
        echo
    fi
    WWS=$(ls "$OUT"/vm/logs/*.wws.json 2>/dev/null | head -1)
    if [ -n "$WWS" ]; then
        echo "## miglab xen dirty: captured trace"
        echo
        jq -r '"\(.intervals) intervals of \(.interval_s) s on \(.pages) pages: \(.dirty_pages_per_s | round) dirty pages/s (mean \(.dirty_per_interval_mean | round) per interval). Writable working set (distinct pages in a window, mean / max):"' "$WWS"
        echo
        echo "| window (s) | distinct mean | distinct max |"
        echo "|---:|---:|---:|"
        jq -r '.wws[] | "| \(.window_s) | \(.distinct_mean | round) | \(.distinct_max) |"' "$WWS"
        echo
        echo "The trace is replayed by \`miglab predict --workload trace:...\` for trace-live-dirty (table above)."
        echo
    fi
    echo "## Calibration (idle guest, same boot)"
    echo
    printf -- '- copy rate %.1f MB/s (%s bytes of live passes in %.3f s; %s)\n' \
        "$(calc "$COPY / 1e6")" "$LIVE_BYTES" "$I_XFER" "$XFER_SRC"
    printf -- '- live: restore %.3f s (with suspend 5 ms, unpause 2 ms), setup %.3f s\n' "$REST_LIVE" "$SETUP_LIVE"
    printf -- '- cold: restore %.3f s, setup %.3f s\n' "$REST_COLD" "$SETUP_COLD"
    printf -- '- --debug verify pass %.3f s (%s), added to that case'"'"'s downtime and total\n' "$FULL_COPY" "$VERIFY_SRC"
    echo
    echo "## xl timeline per case (s after xl started, median over the runs)"
    echo
    echo "| case | stream | suspend req. | suspended | restored | ready | started | guest writes (pages/s) | bytes on netem |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    jq -r 'select(.kind == "live" or .kind == "cold" or .kind == "live-debug") |
        "| \(.case) | \(.stream_s) | \(.suspend_req_s) | \(.suspended_s) | \(.restored_s) | \(.ready_s // "-") | \(.started_s // "-") | \(if .rate_pps < 0 then .pre_rate_pps else .rate_pps end) | \(.lo_bytes // "-") |"' "$RES"
} > "$OUT/report.md"

cat "$OUT/report.md"
echo
echo "report: $OUT/report.md, $OUT/report.json"
[ $ALL_OK = 1 ]
