#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tests/soak/soak.sh - `make soak`: long-running checks of the host daemon
# (not part of `make check`).  Two `miglab host` daemons on 127.0.0.1
# (ephemeral ports, control sockets in a temp dir):
#
#   1. SOAK_MIGRATIONS (1000, even) live migrations of one 64 MiB guest
#      under a hot/cold dirtying workload, A -> B -> A ..., each verified
#      (`miglab migrate --json` reports integrity.ok).  The daemons' RSS
#      (/proc/PID/status VmRSS) and open fds (/proc/PID/fd) are sampled at
#      the start, every 100 migrations and at the end, always with the
#      guest back on A.  Fails when a daemon's fd count at the end differs
#      from the start, or its RSS grew by more than SOAK_RSS_TOL_KB (8192)
#      between the warm-up sample and the end.  Warm-up: the first fifth
#      of the migrations (200 of 1000; at least the first 100), because
#      the guest's own resident memory grows until its workload has
#      written every page: the 48 MiB cold part gets ~2 MB/s, and on this
#      machine A's RSS measured 64 MiB after 100 migrations, 69.9 after
#      200, 70.8 after 300 and 70.9 after 400.
#   2. 8 guests on A migrated to B at the same time, then back, all
#      verified; B's fd count must return to its start.
#
# Why 8 MiB: after warm-up the guest's pages are all resident, the
# daemons' heaps (glibc arenas of the worker threads, json-c objects,
# stream buffers) have reached their high-water mark, and guest memory is
# mapped and unmapped whole, so RSS should stay flat: it moved by 60 kB
# between 300 and 400 migrations here.  8 MiB over the 800 migrations
# after warm-up catches a leak of ~10 KiB per migration (a stream batch
# buffer, a guest's page bitmap) while staying clear of that noise.
#
# When the daemon has authentication (`miglab host --help` names --psk),
# both run with a fresh 32-byte key file and --allow 127.0.0.1.
# Every wait is bounded; daemons are stopped on exit.  KEEP_TMP=1 keeps
# the temp dir (daemon logs, every migration's JSON).
set -u
name=soak
miglab=${MIGLAB_BIN:-build/miglab}
n_mig=${SOAK_MIGRATIONS:-1000}
rss_tol_kb=${SOAK_RSS_TOL_KB:-8192}
n_conc=8
mem=64M
workload=hotcold:wss=16M,hot=0.9,rate=20MB/s
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    [ -n "${KEEP_TMP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
# shellcheck source=../integration/lib.bash
. "$(dirname "$0")/../integration/lib.bash"

if ! [[ $n_mig =~ ^[0-9]+$ ]] || [ $((n_mig % 2)) -ne 0 ] || [ "$n_mig" -lt 2 ]; then
    echo "$name: SOAK_MIGRATIONS must be an even number >= 2 (back and forth)" >&2
    exit 2
fi
command -v python3 >/dev/null || skip "python3 not installed"

auth=()
if "$miglab" host --help | grep -q -- '--psk'; then
    head -c 32 /dev/urandom >"$tmp/key"
    chmod 600 "$tmp/key"
    auth=(--psk "$tmp/key" --allow 127.0.0.1)
fi

# start_host NAME: daemon in the background; sets pid_NAME and port_NAME
start_host() {
    local h=$1 i port
    "$miglab" host --listen 127.0.0.1:0 --mem-capacity 2G "${auth[@]}" \
        --control "$tmp/$h.sock" --name "$h" \
        >"$tmp/$h.out" 2>"$tmp/$h.err" &
    pids+=($!)
    eval "pid_$h=$!"
    for i in $(seq 1 200); do
        grep -q '^listening on' "$tmp/$h.out" 2>/dev/null && break
        sleep 0.1
    done
    port=$(sed -n 's/^listening on .*:\([0-9]*\) control .*/\1/p' "$tmp/$h.out")
    [ -n "$port" ] || { echo "host $h did not start: $(cat "$tmp/$h.err")"; exit 1; }
    eval "port_$h=$port"
}

rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"; }
nfds()   { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l; }

# sample LABEL: one row of the resource table (guest on A), once the
# daemons have closed the control connection of the last command (their
# workers close it just after replying)
rows=()
sample() {
    local row
    sleep 0.3
    row=$(printf '%-10s %10s %6s %10s %6s' "$1" "$(rss_kb "$pid_A")" \
        "$(nfds "$pid_A")" "$(rss_kb "$pid_B")" "$(nfds "$pid_B")")
    rows+=("$row")
    echo "$row"
}

# migrate GUEST FROM TO OUT: one verified live migration; prints its
# total_time_s, or fails (exit status 1) with the reason on stderr
migrate() {
    local g=$1 from=$2 to=$3 out=$4 port
    eval "port=\$port_$to"
    if ! "$miglab" migrate --live "$g" "127.0.0.1:$port" --json \
            --control "$tmp/$from.sock" >"$out" 2>"$out.err"; then
        echo "migrate $g $from -> $to: exit $?: $(tail -1 "$out.err")" >&2
        return 1
    fi
    python3 - "$out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
i = r.get("integrity", {})
if not (i.get("ok") is True and i.get("checked") is True and
        i.get("mismatches") == 0 and r.get("outcome") == "completed"):
    sys.exit("not verified: outcome %s integrity %s" % (r.get("outcome"), i))
print(r["total_time_s"])
PY
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

start_host A
start_host B
echo "$name: hosts A (:$port_A) and B (:$port_B)${auth:+, PSK auth}"
"$miglab" create soak --mem "$mem" --workload "$workload" --seed 11 \
    --control "$tmp/A.sock" && ok || { fail "create"; exit 1; }

# ---- 1. back and forth ------------------------------------------------------
echo "$name: $n_mig live migrations of a $mem guest ($workload)"
printf '%-10s %10s %6s %10s %6s\n' after A_rss_kB A_fds B_rss_kB B_fds
sample start
mkdir -p "$tmp/m"
warm=$(( (n_mig / 5 / 100) * 100 )); [ "$warm" -lt 100 ] && warm=100
done_mig=0 failures=0 sum_t=0
t0=$(now)
for ((i = 1; i <= n_mig; i++)); do
    if ((i % 2)); then from=A to=B; else from=B to=A; fi
    if t=$(migrate soak $from $to "$tmp/m/$i.json"); then
        sum_t=$(awk -v a="$sum_t" -v b="$t" 'BEGIN { print a + b }')
        ok
    else
        failures=$((failures + 1))
        fail "migration $i ($from -> $to)"
        # a failed migration leaves the guest where it was: stop here
        # rather than alternate the wrong way
        break
    fi
    done_mig=$i
    ((i % 100 == 0)) && sample "$i"
done
wall1=$(elapsed "$t0")
((done_mig % 100)) && sample end
[ "${KEEP_TMP:-}" ] || rm -rf "$tmp/m"

# The verdicts: fds back to the start, RSS flat after warm-up.
read -r _ rssA0 fdA0 rssB0 fdB0 <<<"${rows[0]}"
# the warm-up row: "after" = warm (or the last row if the run was shorter)
wrow=${rows[${#rows[@]} - 1]}
for r in "${rows[@]}"; do
    [ "${r%% *}" = "$warm" ] && wrow=$r
done
read -r _ rssAw _ rssBw _ <<<"$wrow"
read -r _ rssA1 fdA1 rssB1 fdB1 <<<"${rows[${#rows[@]} - 1]}"
[ "$fdA1" -eq "$fdA0" ] && ok || fail "host A fds $fdA0 -> $fdA1"
[ "$fdB1" -eq "$fdB0" ] && ok || fail "host B fds $fdB0 -> $fdB1"
[ $((rssA1 - rssAw)) -le "$rss_tol_kb" ] && ok ||
    fail "host A RSS grew $((rssA1 - rssAw)) kB after warm-up (> $rss_tol_kb)"
[ $((rssB1 - rssBw)) -le "$rss_tol_kb" ] && ok ||
    fail "host B RSS grew $((rssB1 - rssBw)) kB after warm-up (> $rss_tol_kb)"
mean1=$(awk -v s="$sum_t" -v n="$done_mig" 'BEGIN { printf "%.1f", n ? 1000 * s / n : 0 }')
echo "$name: back and forth: $done_mig migrations, $failures failures," \
    "wall ${wall1} s, mean migration ${mean1} ms (total_time_s)"
echo "$name: RSS A ${rssA0} -> ${rssA1} kB (${rssAw} after the $warm-migration warm-up), B ${rssB0} -> ${rssB1} kB (${rssBw});" \
    "fds A ${fdA0} -> ${fdA1}, B ${fdB0} -> ${fdB1}; RSS tolerance ${rss_tol_kb} kB"

# ---- 2. eight at once ---------------------------------------------------------
"$miglab" destroy soak --control "$tmp/A.sock" && ok || fail "destroy soak"
for ((k = 1; k <= n_conc; k++)); do
    "$miglab" create "c$k" --mem "$mem" --workload "$workload" --seed "$k" \
        --control "$tmp/A.sock" && ok || fail "create c$k"
done
fdB_start=$(nfds "$pid_B")
conc_ok=0 conc_fail=0 sum_c=0
t0=$(now)
for dir in "A B" "B A"; do
    read -r from to <<<"$dir"
    jobs_pids=()
    for ((k = 1; k <= n_conc; k++)); do
        migrate "c$k" "$from" "$to" "$tmp/c$k.$from.json" >"$tmp/c$k.$from.t" &
        jobs_pids+=($!)
    done
    for ((k = 1; k <= n_conc; k++)); do
        if wait "${jobs_pids[k - 1]}"; then
            conc_ok=$((conc_ok + 1))
            sum_c=$(awk -v a="$sum_c" -v b="$(cat "$tmp/c$k.$from.t")" 'BEGIN { print a + b }')
            ok
        else
            conc_fail=$((conc_fail + 1))
            fail "concurrent migration c$k $from -> $to"
        fi
    done
done
wall2=$(elapsed "$t0")
fdB_end=$(nfds "$pid_B")
[ "$fdB_end" -eq "$fdB_start" ] && ok || fail "host B fds $fdB_start -> $fdB_end after the concurrent round trip"
mean2=$(awk -v s="$sum_c" -v n="$conc_ok" 'BEGIN { printf "%.1f", n ? 1000 * s / n : 0 }')
echo "$name: $n_conc at once, there and back: $conc_ok migrations, $conc_fail failures," \
    "wall ${wall2} s, mean migration ${mean2} ms; RSS A $(rss_kb "$pid_A") kB B $(rss_kb "$pid_B") kB," \
    "fds A $(nfds "$pid_A") B ${fdB_start} -> ${fdB_end}"

# ---- clean shutdown -----------------------------------------------------------
for h in A B; do
    eval "pid=\$pid_$h"
    kill -TERM "$pid"
    wait "$pid"; rc=$?
    [ $rc -eq 0 ] && ok || fail "host $h exit $rc: $(tail -3 "$tmp/$h.err")"
    [ ! -e "$tmp/$h.sock" ] && ok || fail "host $h left its socket"
done
pids=()

echo "$name: $((checks - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
