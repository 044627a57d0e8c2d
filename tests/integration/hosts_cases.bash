# SPDX-License-Identifier: MIT
#
# tests/integration/hosts_cases.bash - the cases of the host daemon tests,
# shared by hosts.sh (every daemon on 127.0.0.1) and hosts_netns.sh (the
# daemons in two network namespaces), so both run exactly the same checks.
# Not itself a test (tests/run-all.sh runs only *.sh).
#
# The sourcing script sources lib.bash, sets `miglab`, `tmp` and
# `allow_net` (an --allow CIDR covering every daemon's address), defines
#   in_host NAME CMD...   exec CMD where host NAME's daemon lives (the
#                         cases call it in a subshell, so the daemon's pid
#                         is the background job's)
#   host_addr NAME        the address host NAME's daemon listens on
# then calls run_host_cases.  Every daemon gets a fresh 32-byte key
# ($tmp/key) and --allow "$allow_net"; control sockets are files in $tmp,
# reachable from outside any namespace.  No timing assertions; every wait
# is bounded.
# shellcheck shell=bash

pids=()

# stop_all_hosts: the EXIT trap's part: no daemon outlives the test
stop_all_hosts() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    pids=()
}

# make_key FILE: 32 random bytes, mode 0600 (mig_psk_load insists)
make_key() {
    (umask 077 && head -c 32 /dev/urandom >"$1")
}

# start_host NAME CAPACITY [KEYFILE [MORE HOST FLAGS...]]: daemon in the
# background; sets port_NAME and pid_NAME
start_host() {
    local name=$1 cap=$2 key=${3:-$tmp/key} i port
    shift $(($# < 3 ? $# : 3))
    in_host "$name" "$miglab" host --listen "$(host_addr "$name"):0" \
        --mem-capacity "$cap" --control "$tmp/$name.sock" --name "$name" \
        --psk "$key" --allow "$allow_net" "$@" \
        >"$tmp/$name.out" 2>"$tmp/$name.err" &
    pids+=($!)
    eval "pid_$name=$!"
    for i in $(seq 1 200); do      # <= 20 s, even under ASan
        grep -q '^listening on' "$tmp/$name.out" 2>/dev/null && break
        sleep 0.1
    done
    port=$(sed -n 's/^listening on .*:\([0-9]*\) control .*/\1/p' \
        "$tmp/$name.out")
    if [ -z "$port" ]; then
        echo "host $name did not start: $(cat "$tmp/$name.err")"
        exit 1
    fi
    eval "port_$name=$port"
}

# stop_host NAME: SIGTERM, exit 0, socket gone
stop_host() {
    local name=$1 pid rc
    eval "pid=\$pid_$name"
    kill -TERM "$pid"
    wait "$pid"; rc=$?
    [ $rc -eq 0 ] && ok || fail "host $name exit $rc: $(tail -5 "$tmp/$name.err")"
    [ ! -e "$tmp/$name.sock" ] && ok || fail "host $name left its socket"
}

# dest NAME: HOST:PORT of host NAME's migration listener
dest() {
    local port
    eval "port=\$port_$1"
    echo "$(host_addr "$1"):$port"
}

A() { MIGLAB_CONTROL="$tmp/A.sock" "$miglab" "$@"; }
B() { "$miglab" "$@" --control "$tmp/B.sock"; }
C() { "$miglab" "$@" --control "$tmp/C.sock"; }
D() { "$miglab" "$@" --control "$tmp/D.sock"; }
E() { "$miglab" "$@" --control "$tmp/E.sock"; }

# state HOSTFN NAME: the guest's state on that host ("" if absent)
state() {
    "$1" list --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(next((g["state"] for g in r["guests"] if g["name"] == sys.argv[1]), ""))' "$2" ||
        echo "?"
}

# writes HOSTFN NAME: the guest's write count so far
writes() {
    "$1" list --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(next(g["writes"] for g in r["guests"] if g["name"] == sys.argv[1]))' "$2"
}

# probe HOSTFN NAME: one heartbeat probe to the guest's responder (UDP,
# docs/host-protocol.md "Heartbeat"), sent from where that host lives;
# prints the guest's write count
probe() {
    local hb
    hb=$("$1" list --json | python3 -c '
import json, sys
r = json.load(sys.stdin)
print(next(g["heartbeat"] for g in r["guests"] if g["name"] == sys.argv[1]))' "$2")
    (in_host "$1" python3 - "$hb") <<'PY'
import socket, struct, sys, time
host, port = sys.argv[1].rsplit(":", 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(10)
s.sendto(b"MLHB" + struct.pack("<IQQ", 0, 42, time.time_ns()), (host, int(port)))
d = s.recv(64)
magic, kind, seq, echo, gns, writes = struct.unpack("<4sIQQQQ", d[:40])
assert magic == b"MLHB" and kind == 1 and seq == 42, d
print(writes)
PY
}

# integrity_ok JSONFILE: the run's integrity check passed
integrity_ok() {
    python3 -c 'import json,sys; i=json.load(open(sys.argv[1]))["integrity"]; assert i["ok"] and i["mismatches"] == 0, i' "$1"
}

case_cli() {
    local c
    for c in host create list migrate console destroy; do
        "$miglab" $c --help | grep -q "usage: miglab $c" && ok ||
            fail "$c --help"
    done
    "$miglab" host --help | grep -q -- "--psk FILE" && ok ||
        fail "host --help lacks --psk"
    "$miglab" migrate --help | grep -q -- "--cc NAME" && ok ||
        fail "migrate --help lacks --cc"
    A create vm1 2>"$tmp/err"; [ $? -eq 2 ] && ok || fail "create without --mem"
    A create vm1 --mem 64M --bogus 1 2>"$tmp/err"
    [ $? -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && ok || fail "unknown flag"
    A migrate vm1 127.0.0.1:1 --policy fast 2>"$tmp/err"
    [ $? -eq 2 ] && ok || fail "bad policy exit"
    "$miglab" list --control "$tmp/none.sock" 2>"$tmp/err"
    [ $? -eq 1 ] && grep -q "cannot reach the host daemon" "$tmp/err" && ok ||
        fail "no daemon: $(cat "$tmp/err")"
    # Daemon flags: one clear line, exit 2.
    "$miglab" host --listen 127.0.0.1:0 --mem-capacity 1G --psk "$tmp/key" \
        --no-auth --control "$tmp/bad.sock" 2>"$tmp/err"
    [ $? -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && ok ||
        fail "--psk with --no-auth: $(cat "$tmp/err")"
    "$miglab" host --listen 127.0.0.1:0 --mem-capacity 1G --psk "$tmp/none" \
        --control "$tmp/bad.sock" 2>"$tmp/err"
    [ $? -eq 2 ] && grep -q "^miglab host: --psk .*none" "$tmp/err" && ok ||
        fail "missing key file: $(cat "$tmp/err")"
    "$miglab" host --listen 127.0.0.1:0 --mem-capacity 1G --allow 10.0.0.0/40 \
        --control "$tmp/bad.sock" 2>"$tmp/err"
    [ $? -eq 2 ] && grep -q "bad --allow" "$tmp/err" && ok ||
        fail "bad --allow: $(cat "$tmp/err")"
    grep -q "senders must prove the pre-shared key" "$tmp/A.err" && ok ||
        fail "no startup note: $(cat "$tmp/A.err")"
}

# Live A -> B of a dirtying guest, then cold B -> A.
case_live_and_cold() {
    local rc
    A create vm1 --mem 64M --workload uniform:rate=20MB/s --vcpus 2 --seed 7 \
        --ip 10.200.0.5 && ok || fail "create"
    probe A vm1 >/dev/null && ok || fail "heartbeat on A"
    [ "$(state A vm1)" = running ] && ok || fail "vm1 not running on A"
    A create vm1 --mem 64M 2>"$tmp/err"; [ $? -eq 2 ] && ok || fail "duplicate"

    A migrate --live vm1 "$(dest B)" --json >"$tmp/live.json" \
        2>"$tmp/live.err"
    rc=$?
    [ $rc -eq 0 ] && ok || fail "live migrate exit $rc: $(cat "$tmp/live.err")"
    grep -q '^pass 1: ' "$tmp/live.err" && ok || fail "no progress lines"
    python3 - "$tmp/live.json" <<'PY' && ok || fail "live JSON"
import json, sys
r = json.load(open(sys.argv[1]))
need = ["mode", "policy", "total_time_s", "downtime_s", "downtime_parts",
        "bytes_sent", "pages_sent", "converged", "stop_reason", "passes",
        "integrity"]
missing = [k for k in need if k not in r]
assert not missing, missing
assert r["mode"] == "live", r["mode"]
i = r["integrity"]
assert i["ok"] is True and i["mismatches"] == 0, i
assert i["pages_checked"] == 16384, i
assert len(r["passes"]) >= 2, r["passes"]
assert r["pages_sent"] == sum(p["pages"] for p in r["passes"])
PY
    [ "$(state A vm1)" = "" ] && ok || fail "vm1 still on A"
    [ "$(state B vm1)" = running ] && ok || fail "vm1 not running on B"
    B list | grep -q '^vm1 .*64.00 MiB .*uniform:rate=20MB/s' && ok ||
        fail "B list: $(B list)"
    probe B vm1 >/dev/null && ok || fail "heartbeat on B"
    B console vm1 >"$tmp/console"
    grep -q "created on host A" "$tmp/console" &&
        grep -q "resumed on host B after [0-9]* ms" "$tmp/console" &&
        grep -q "heartbeats: 1 probes answered on host B" "$tmp/console" &&
        ok || fail "console: $(cat "$tmp/console")"

    B migrate vm1 "$(dest A)" >"$tmp/cold.txt" 2>"$tmp/cold.err"
    rc=$?
    [ $rc -eq 0 ] && ok || fail "cold migrate exit $rc: $(cat "$tmp/cold.err")"
    grep -q "^cold migration of vm1" "$tmp/cold.txt" &&
        grep -q "integrity    ok (16384 pages checked, 0 mismatches)" \
            "$tmp/cold.txt" && ok || fail "cold table: $(cat "$tmp/cold.txt")"
    [ "$(state A vm1)" = running ] && [ "$(state B vm1)" = "" ] && ok ||
        fail "vm1 did not come back"
}

# guest_runs_on HOSTFN NAME: it is listed running and still writes (<= 10 s)
guest_runs_on() {
    local w1 w2 i
    [ "$(state "$1" "$2")" = running ] && ok || fail "$2 not running on $1"
    w1=$(writes "$1" "$2")
    for i in $(seq 1 100); do
        w2=$(writes "$1" "$2")
        [ "$w2" -gt "$w1" ] && break
        sleep 0.1
    done
    [ "$w2" -gt "$w1" ] && ok || fail "$2 frozen on $1"
}

# Refused admission: C holds 32 MiB.
case_refused() {
    local rc
    start_host C 32M
    A migrate --live vm1 "$(dest C)" >"$tmp/ref.out" 2>"$tmp/ref.err"
    rc=$?
    [ $rc -eq 1 ] && ok || fail "refused migrate exit $rc"
    grep -q "migration failed, guest resumed at source: host C refuses guest vm1: needs 64.00 MiB, 32.00 MiB free" \
        "$tmp/ref.err" && ok || fail "refusal message: $(cat "$tmp/ref.err")"
    ! grep -q '^pass' "$tmp/ref.err" && ok || fail "pages sent before refusal"
    [ "$(state C vm1)" = "" ] && ok || fail "vm1 on C"
    guest_runs_on A vm1
    stop_host C
}

# E holds another key: refused before any page, the guest runs on at A,
# E logs the refusal with the peer's address and the reason.
case_auth_mismatch() {
    local rc
    make_key "$tmp/key2"
    start_host E 1G "$tmp/key2"
    A migrate --live vm1 "$(dest E)" --json >"$tmp/auth.json" \
        2>"$tmp/auth.err"
    rc=$?
    [ $rc -ne 0 ] && ok || fail "migrate to another key exit $rc"
    grep -q "authentication" "$tmp/auth.err" && ok ||
        fail "auth message: $(cat "$tmp/auth.err")"
    ! grep -q '^pass' "$tmp/auth.err" && ok || fail "pages sent unauthenticated"
    [ "$(state E vm1)" = "" ] && ok || fail "vm1 on E"
    guest_runs_on A vm1
    grep -q "refused incoming migration from $(host_addr A): bad MAC" \
        "$tmp/E.err" && ok || fail "E's log: $(cat "$tmp/E.err")"
    # An unknown congestion control: a clear error, nothing sent.
    A migrate vm1 "$(dest B)" --cc nosuchcc >/dev/null 2>"$tmp/cc.err"
    rc=$?
    [ $rc -eq 1 ] && grep -q "congestion control 'nosuchcc' is unknown" \
        "$tmp/cc.err" && ok || fail "--cc nosuchcc: $rc $(cat "$tmp/cc.err")"
    guest_runs_on A vm1
    stop_host E
}

# A workload that never converges: the Xen policy's 5-pass cap stops it.
case_pass_cap() {
    A create hot --mem 16M --workload uniform:rate=1GB/s --vcpus 2 \
        >/dev/null && ok || fail "create hot"
    # The transfer is paced to 50 MB/s, far below the 1 GB/s of writes, so
    # no pass can outrun the guest however fast the link is today.
    A migrate --live hot "$(dest B)" --policy xen --max-passes 5 \
        --max-bandwidth 50MB/s --cc reno --json >"$tmp/hot.json" \
        2>"$tmp/hot.err" && ok || fail "hot migrate: $(cat "$tmp/hot.err")"
    python3 - "$tmp/hot.json" <<'PY' && ok || fail "pass cap JSON"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["stop_reason"] == "pass_cap", r["stop_reason"]
assert r["live_passes"] == 5, r["live_passes"]
assert r["converged"] is False
assert r["integrity"]["ok"] is True and r["integrity"]["mismatches"] == 0
PY
    B destroy hot && ok || fail "destroy hot"
}

# An idle guest: pass 1 sends everything, the first CLEAN is empty.
case_idle() {
    A create idle --mem 32M >/dev/null && ok || fail "create idle"
    A migrate --live idle "$(dest B)" --json >"$tmp/idle.json" \
        2>"$tmp/idle.err" && ok || fail "idle migrate: $(cat "$tmp/idle.err")"
    python3 - "$tmp/idle.json" <<'PY' && ok || fail "idle JSON"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["converged"] is True and r["stop_reason"] == "dirty_threshold", r
assert r["live_passes"] == 1, r["live_passes"]
assert r["passes"][-1]["pages"] < 50, r["passes"][-1]
# The pause waited for the live pass to be acknowledged (drain, default).
assert r["drained"] is True and r["drain_s"] >= 0, r
assert r["integrity"]["ok"] is True and r["integrity"]["mismatches"] == 0
PY
    B destroy idle >/dev/null && ok || fail "destroy idle"
}

# A hot/cold guest that converges under Xen's policy: its 1 MiB hot set
# takes 95% of 2 MB/s of writes, so a pass soon leaves < 50 dirty pages.
case_hotcold() {
    A create web --mem 64M --workload hotcold:wss=1M,hot=0.95,rate=2MB/s \
        --vcpus 2 >/dev/null && ok || fail "create web"
    A migrate --live web "$(dest B)" --policy xen --drain off --json \
        >"$tmp/web.json" 2>"$tmp/web.err" && ok ||
        fail "web migrate: $(cat "$tmp/web.err")"
    python3 - "$tmp/web.json" <<'PY' && ok || fail "hot/cold JSON"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["converged"] is True and r["stop_reason"] == "dirty_threshold", r
assert r["live_passes"] < 5, r["live_passes"]
assert r["drained"] is False and r["drain_s"] == 0, r   # --drain off
assert r["integrity"]["ok"] is True and r["integrity"]["mismatches"] == 0
PY
    B destroy web >/dev/null && ok || fail "destroy web"
}

# The destination dies mid-stream: the guest runs on at the source.  The
# transfer is paced to 20 MB/s so the kill lands inside pass 1 (bounded:
# the sender notices within its 30 s channel timeout, normally at once).
case_killed() {
    local mig rc i
    start_host D 1G
    A create big --mem 256M --workload uniform:rate=5MB/s >/dev/null &&
        ok || fail "create big"
    A migrate --live big "$(dest D)" --max-bandwidth 20MB/s \
        >"$tmp/kill.out" 2>"$tmp/kill.err" &
    mig=$!
    for i in $(seq 1 100); do      # until pass 1 is under way (<= 10 s)
        [ "$(state D big)" = incoming ] && break
        sleep 0.1
    done
    [ "$(state D big)" = incoming ] && ok || fail "big never arrived at D"
    kill -KILL "$pid_D"; wait "$pid_D" 2>/dev/null
    pids=("${pids[@]/$pid_D}")
    wait $mig; rc=$?
    [ $rc -eq 1 ] && ok || fail "killed receiver: migrate exit $rc"
    grep -q "migration failed, guest resumed at source" "$tmp/kill.err" &&
        ok || fail "killed receiver message: $(cat "$tmp/kill.err")"
    guest_runs_on A big
    rm -f "$tmp/D.sock"
    # Memory intact: a complete migration afterwards checks every page.
    A migrate --live big "$(dest B)" --json >"$tmp/big.json" \
        2>/dev/null && ok || fail "big migrate after the kill"
    integrity_ok "$tmp/big.json" && ok || fail "big integrity"
    B destroy big >/dev/null && ok || fail "destroy big"
}

# Destroy, then a clean shutdown with a guest left on B.
case_destroy_and_stop() {
    A destroy vm1 && ok || fail "destroy"
    A destroy vm1 2>"$tmp/err"; [ $? -eq 2 ] && ok || fail "destroy twice"
    [ "$(state A vm1)" = "" ] && ok || fail "vm1 survived destroy"
    B create vm2 --mem 16M >/dev/null && ok || fail "create vm2"
    stop_host A
    stop_host B
    pids=()
}

run_host_cases() {
    make_key "$tmp/key"
    start_host A 1G
    start_host B 1G
    case_cli
    case_live_and_cold
    case_refused
    case_auth_mismatch
    case_pass_cap
    case_idle
    case_hotcold
    case_killed
    case_destroy_and_stop
}
