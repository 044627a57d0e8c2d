#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tests/faults/faults.sh - the fault matrix of docs/faults.md: migrations of
# an emulated guest between two `miglab host` daemons on 127.0.0.1, each
# with one fault injected at one protocol phase (MIGLAB_FAULT, ref/fault.h):
# a crash of the sender or the receiver (SIGKILL; the daemon is restarted
# on its --state-dir), a cut link, a stall longer than the timeouts, a
# corrupted byte, a truncated stream, and a refused admission.
#
# The daemons run with --no-auth --allow 127.0.0.1: authentication is
# tested by hosts.sh; here it only has to let the loopback peer in.
#
# Each case ends with a verdict from `miglab list --json` on both hosts:
# exactly one running copy, on the host the protocol says (before GO: the
# source; after the destination's report: the destination), or the
# undefined state at the source (GO sent, no report), which the harness
# resolves as an operator would (`miglab destroy` when the destination runs
# the guest, `miglab resume` when it does not) and checks again.  The
# surviving guest must pass `miglab verify` (every page stamp intact), and
# a completed migration's page-hash check, when it ran, must be ok.
#
#   faults.sh [--full | --reduced]   (default --full)
#   faults.sh --case SIDE PHASE ACTION live|cold   (one case, e.g.
#             --case send pass:2 crash live)
#
# --reduced is one fault per phase (tests/integration/faults.sh, run by
# make check); --full is every phase x every fault plus a cold subset
# (make faults).  Prints the table; exits 1 when any case fails.
# KEEP_TMP=1 keeps the temp dirs (daemon logs).
# shellcheck disable=SC2034,SC2154 # name is lib.bash's; pid_*, port_* by eval
set -u
name=faults
miglab=${MIGLAB_BIN:-build/miglab}
mode=${1:---full}
tmp=$(mktemp -d)
# Guest memory files belong on a tmpfs; any directory works.
shm=$(mktemp -d -p /dev/shm miglab-faults.XXXXXX 2>/dev/null) ||
    shm=$(mktemp -d) || exit 1
# shellcheck source=../integration/lib.bash
. "$(dirname "$0")/../integration/lib.bash"

# The system python3 starts fast; a pyenv shim takes half a second.
py=/usr/bin/python3
[ -x $py ] || py=python3
TIMEOUT=2            # daemons' --timeout; a stall lasts 2 x TIMEOUT + 1 s
MEM=${FAULTS_MEM:-32M}
WORKLOAD=uniform:rate=50MB/s
pid_A="" pid_B=""

cleanup() {
    stop_host A
    stop_host B
    if [ -n "${KEEP_TMP:-}" ]; then echo "kept $tmp $shm"
    else rm -rf "$tmp" "$shm"; fi
}
trap cleanup EXIT

# start_host H DIR CAPACITY [FAULT]: daemon H (A or B) on state dir DIR.
start_host() {
    local h=$1 dir=$2 cap=$3 fault=${4:-} port
    : >"$dir/$h.out"
    MIGLAB_FAULT=$fault "$miglab" host --listen 127.0.0.1:0 \
        --mem-capacity "$cap" --control "$dir/$h.sock" --name "$h" \
        --state-dir "$dir/state$h" --timeout $TIMEOUT \
        --no-auth --allow 127.0.0.1 \
        >>"$dir/$h.out" 2>>"$dir/$h.err" &
    eval "pid_$h=$!"
    # Crashes are the point here: no job-control notice when one dies.
    disown
    for _ in $(seq 1 200); do
        grep -q '^listening on' "$dir/$h.out" 2>/dev/null && break
        sleep 0.1
    done
    port=$(sed -n 's/^listening on .*:\([0-9]*\) control .*/\1/p' \
        "$dir/$h.out" | tail -1)
    [ -n "$port" ] || { echo "host $h did not start: $(cat "$dir/$h.err")"
                        return 1; }
    eval "port_$h=$port"
}

# stop_host H: SIGTERM and wait (a crashed daemon is already gone).
stop_host() {
    local p
    eval "p=\$pid_$1"
    [ -n "$p" ] || return 0
    kill -TERM "$p" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    eval "pid_$1="
}

# alive H: the daemon still runs (a crash fault kills it; a killed one
# may linger as a zombie until the shell reaps it).
alive() {
    local p st
    eval "p=\$pid_$1"
    [ -n "$p" ] || return 1
    st=$(sed 's/^.*) \(.\).*/\1/' "/proc/$p/stat" 2>/dev/null)
    [ -n "$st" ] && [ "$st" != Z ]
}

trace() { [ -z "${FAULTS_TRACE:-}" ] || echo "  $(date +%T.%N | cut -c1-12) $*"; }

ml() { local h=$1; shift; "$miglab" "$@" --control "$dir/$h.sock"; }

# gstate H: the guest's state on H ("" when absent, "?" when H is down).
gstate() {
    ml "$1" list --json 2>/dev/null | $py -c '
import json, sys
r = json.load(sys.stdin)
print(next((g["state"] for g in r["guests"] if g["name"] == "vm"), ""))' ||
        echo "?"
}

# settle: wait (<= 20 s) until neither host holds the guest "incoming" or
# "migrating" (a stalled receiver goes on after the sender gave up).
settle() {
    local i a b
    for _ in $(seq 1 100); do
        a=$(gstate A) b=$(gstate B)
        case "$a $b" in *incoming*|*migrating*) sleep 0.2 ;; *) return ;; esac
    done
}

# expect SIDE PHASE ACTION: the outcome the two-phase commit prescribes.
#   source      runs at the source only
#   dest        runs at the destination only
#   undef+dest  undefined at the source, running at the destination
#   undef+none  undefined at the source, no copy at the destination
#   undef       either of the two undefined outcomes
expect() {
    local side=$1 phase=$2 action=$3
    case "$side:$phase" in
        none:*|send:report|recv:report) echo dest ;;
        refused:*) echo source ;;
        send:ready) [ "$action" = crash ] && echo source || echo undef+none ;;
        send:go) echo undef+none ;;
        recv:ready) case $action in
                        crash) echo undef+none ;;
                        # GO may cross before the cut or not: either way
                        # the state is undefined at the source.
                        cut) echo undef ;;
                        *) echo undef+dest ;;
                    esac ;;
        recv:go) echo undef+dest ;;
        *) echo source ;;
    esac
}

results=()
nfail=0

# run_case SIDE PHASE ACTION MODE: one migration with one fault.
#   SIDE send|recv|none|refused, PHASE like "pass:2", MODE live|cold
run_case() {
    local side=$1 phase=$2 action=$3 mmode=$4 spec="" fa="" fb=""
    local capb=1G exp obs a b rc verdict note="" host bad integ
    local id=$(( ${#results[@]} + 1 )) t0=$SECONDS
    dir=$tmp/case$id
    mkdir -p "$dir"
    case $side in
        send) spec="send:$phase:$action"; fa=$spec ;;
        recv) spec="recv:$phase:$action"; fb=$spec ;;
        refused) spec="admission refused"; capb=16M ;;
        none) spec="no fault" ;;
    esac
    exp=$(expect "$side" "${phase%%:*}" "$action")
    # State dirs on tmpfs, as docs/faults.md asks.
    mkdir -p "$shm/A$id" "$shm/B$id"
    ln -s "$shm/A$id" "$dir/stateA"
    ln -s "$shm/B$id" "$dir/stateB"
    if ! start_host A "$dir" 1G "$fa" || ! start_host B "$dir" "$capb" "$fb"
    then
        obs="daemon did not start"
    else
        ml A create vm --mem "$MEM" --workload "$WORKLOAD" --seed "$id" \
            >/dev/null 2>"$dir/create.err"
        trace created
        sleep 0.3
        local live=()
        [ "$mmode" = live ] && live=(--live --policy xen --max-passes 5)
        timeout 120 "$miglab" migrate "${live[@]}" vm "127.0.0.1:$port_B" \
            --json --control "$dir/A.sock" >"$dir/migrate.json" \
            2>"$dir/migrate.err"
        rc=$?
        trace "migrate exit $rc"
        # A crashed daemon comes back on its state dir, without a fault.
        # (The client sees the crash before the kernel has finished
        # tearing the process down: wait for it, bounded.)
        if [ "$action" = crash ]; then
            local victim=A
            [ "$side" = recv ] && victim=B
            for _ in $(seq 1 100); do alive $victim || break; sleep 0.1; done
        fi
        alive A || start_host A "$dir" 1G
        alive B || start_host B "$dir" "$capb"
        settle
        trace settled
        a=$(gstate A) b=$(gstate B)
        case "$a|$b" in
            running\|) obs=source ;;
            \|running) obs=dest ;;
            undefined\|running) obs=undef+dest ;;
            undefined\|) obs=undef+none ;;
            *) obs="A=${a:-none} B=${b:-none}" ;;
        esac
        # The operator's way out of the undefined state.
        case $obs in
            undef+dest) ml A destroy vm >/dev/null 2>>"$dir/op.err" ;;
            undef+none) ml A resume vm >/dev/null 2>>"$dir/op.err" ;;
        esac
        a=$(gstate A) b=$(gstate B)
        case "$a|$b" in
            running\|) host=A ;;
            \|running) host=B ;;
            *) host=""; note="after resolution A=${a:-none} B=${b:-none}" ;;
        esac
        if [ -n "$host" ]; then
            bad=$(ml $host verify vm --json 2>>"$dir/op.err" |
                  $py -c 'import json,sys; print(json.load(sys.stdin)["bad_pages"])' ||
                  echo "?")
            [ "$bad" = 0 ] || note="verify on $host: bad pages $bad"
        fi
        # A completed migration's page-hash check, when it ran, is ok.
        integ=$($py -c '
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except Exception:
    print("-"); sys.exit()
i = r.get("integrity", {})
print("-" if not i.get("checked") else ("ok" if i.get("ok") else "BAD"))' \
            "$dir/migrate.json")
        [ "$integ" = BAD ] && [ "$obs" = dest ] &&
            note="page hashes differ after the migration"
        [ "$side" = none ] && [ "$integ" != ok ] &&
            note="no integrity verdict: $(tail -1 "$dir/migrate.err")"
        [ "$side" = refused ] && ! grep -q refuses "$dir/migrate.err" &&
            note="no refusal message"
    fi
    trace verified
    stop_host A
    stop_host B
    trace stopped
    # Under make asan the daemons' reports land in their stderr.
    grep -qs "Sanitizer\|runtime error" "$dir"/A.err "$dir"/B.err &&
        note="sanitizer report in a daemon log"
    if { [ "$obs" = "$exp" ] ||
         { [ "$exp" = undef ] && [ "${obs%+*}" = undef ]; }; } &&
       [ -z "$note" ]; then
        verdict=PASS
        ok
    else
        verdict=FAIL
        nfail=$((nfail + 1))
        fail "case $id $spec ($mmode): expected $exp, observed $obs ${note}"
        [ -n "${KEEP_TMP:-}" ] || tail -3 "$dir"/*.err 2>/dev/null | sed 's/^/    /'
    fi
    [ -n "${FAULTS_TRACE:-}" ] && echo "case $id took $((SECONDS - t0)) s"
    results+=("$(printf '%3d  %-26s %-5s %-11s %-11s %s%s' "$id" "$spec" \
        "$mmode" "$exp" "$obs" "$verdict" "${note:+  ($note)}")")
    printf '%s\n' "${results[-1]}"
}

send_phases="handshake pass:1 pass:2 stopcopy state ready go report"
recv_phases="handshake pass state ready go report"
actions="crash cut stall corrupt truncate"

# The operator commands and the test interface: help, one-line errors.
preflight() {
    local c out
    for c in resume verify; do
        "$miglab" $c --help | grep -q "usage: miglab $c" ||
            { fail "$c --help"; nfail=$((nfail + 1)); }
    done
    out=$(MIGLAB_FAULT=send:go:explode "$miglab" host --listen 127.0.0.1:0 \
          --mem-capacity 1G --control "$tmp/x.sock" 2>&1)
    [ $? -eq 2 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] &&
        grep -q "bad fault spec" <<<"$out" ||
        { fail "bad MIGLAB_FAULT: $out"; nfail=$((nfail + 1)); }
}
preflight

printf '%3s  %-26s %-5s %-11s %-11s %s\n' "#" "case" "mode" "expected" \
    "observed" "verdict"
case $mode in
    --case)
        # One case: faults.sh --case SIDE PHASE ACTION live|cold
        shift
        run_case "$@"
        ;;
    --reduced)
        run_case none - - live
        run_case refused - - live
        # One fault per phase, every action at least twice.
        run_case send handshake cut live
        run_case send pass:2 crash live
        run_case send stopcopy corrupt live
        run_case send state truncate live
        run_case send ready stall live
        run_case send go crash live
        run_case send report crash live
        run_case recv handshake truncate live
        run_case recv pass crash live
        run_case recv state corrupt live
        run_case recv ready cut live
        run_case recv go crash live
        run_case recv report stall live
        run_case send stopcopy crash cold
        ;;
    --full)
        run_case none - - live
        run_case refused - - live
        run_case none - - cold
        run_case refused - - cold
        for p in $send_phases; do
            for a in $actions; do run_case send "$p" "$a" live; done
        done
        for p in $recv_phases; do
            for a in $actions; do run_case recv "$p" "$a" live; done
        done
        for p in handshake stopcopy state ready go report; do
            run_case send $p crash cold
        done
        for p in handshake state ready go report; do
            run_case recv $p crash cold
        done
        ;;
    *) echo "usage: $0 [--full | --reduced | --case SIDE PHASE ACTION MODE]" >&2
       exit 2 ;;
esac

echo
echo "fault matrix ($mode): ${#results[@]} cases, $((${#results[@]} - nfail)) passed, $nfail failed"
[ $nfail -eq 0 ]
