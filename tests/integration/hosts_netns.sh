#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# hosts_netns.sh - the guest's address moves with it: two `miglab host
# --guest-dev` daemons in two network namespaces joined by a veth pair.
# After a live migration the address is gone from A's interface, present on
# B's, a gratuitous ARP for it was seen on A's side of the wire, and the
# heartbeat answers from B at the same address.  Needs root and `ip netns`;
# exits 77 (skip) otherwise.
set -u
miglab=${MIGLAB_BIN:-build/miglab}
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null; then
    echo "needs root and iproute2"; exit 77
fi
tag=ml$$
nsA=${tag}a nsB=${tag}b
if ! ip netns add "$nsA" 2>/dev/null; then
    echo "cannot create network namespaces"; exit 77
fi
tmp=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    ip netns del "$nsA" 2>/dev/null
    ip netns del "$nsB" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
fails=0 checks=0
ok()   { checks=$((checks + 1)); }
fail() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: $*"; }

ip netns add "$nsB"
ip link add vA netns "$nsA" type veth peer name vB netns "$nsB"
ip -n "$nsA" addr add 10.77.0.1/24 dev vA
ip -n "$nsB" addr add 10.77.0.2/24 dev vB
for n in "$nsA" "$nsB"; do ip -n "$n" link set lo up; done
ip -n "$nsA" link set vA up
ip -n "$nsB" link set vB up

start() {   # start NAME NS ADDR DEV
    ip netns exec "$2" "$miglab" host --listen "$3:0" --mem-capacity 1G \
        --control "$tmp/$1.sock" --name "$1" --guest-dev "$4" \
        >"$tmp/$1.out" 2>"$tmp/$1.err" &
    pids+=($!)
    for i in $(seq 1 200); do
        grep -q '^listening on' "$tmp/$1.out" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "host $1 did not start: $(cat "$tmp/$1.err")"; exit 1
}
start A "$nsA" 10.77.0.1 vA
start B "$nsB" 10.77.0.2 vB
portB=$(sed -n 's/^listening on .*:\([0-9]*\) control .*/\1/p' "$tmp/B.out")

probe() {   # probe NS: one heartbeat probe to 10.77.0.50:7007
    ip netns exec "$1" python3 - <<'PY'
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(10)
s.sendto(b"MLHB" + struct.pack("<IQQ", 0, 9, 0), ("10.77.0.50", 7007))
d = s.recv(64)
assert d[:4] == b"MLHB" and struct.unpack("<Q", d[8:16])[0] == 9, d
PY
}

"$miglab" create vm1 --mem 64M --ip 10.77.0.50 --control "$tmp/A.sock" &&
    ok || fail "create"
ip -n "$nsA" -4 addr show vA | grep -q 10.77.0.50/32 && ok ||
    fail "address not on A"
probe "$nsB" && ok || fail "heartbeat from B's side before"

# Sniff A's side for the gratuitous ARP (bounded: 20 s).
ip netns exec "$nsA" python3 - >"$tmp/garp" 2>&1 <<'PY' &
import socket, struct, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
s.bind(("vA", 0))
s.settimeout(20)
while True:
    f = s.recv(128)
    op = struct.unpack("!H", f[20:22])[0]
    if f[0:6] == b"\xff" * 6 and op == 1 and f[28:32] == f[38:42] == \
            socket.inet_aton("10.77.0.50"):
        print("garp from", f[6:12].hex(":"))
        break
PY
sniffer=$!
sleep 0.5   # let the sniffer bind (its absence only fails the GARP check)

"$miglab" migrate --live vm1 "10.77.0.2:$portB" --control "$tmp/A.sock" \
    >/dev/null 2>"$tmp/mig.err" && ok || fail "migrate: $(cat "$tmp/mig.err")"
wait $sniffer
grep -q "^garp from $(ip netns exec "$nsB" cat /sys/class/net/vB/address)" \
    "$tmp/garp" && ok || fail "no gratuitous ARP: $(cat "$tmp/garp")"
! ip -n "$nsA" -4 addr show vA | grep -q 10.77.0.50 && ok ||
    fail "address still on A"
ip -n "$nsB" -4 addr show vB | grep -q 10.77.0.50/32 && ok ||
    fail "address not on B"
probe "$nsA" && ok || fail "heartbeat from A's side after"

for n in A B; do
    kill -TERM "${pids[0]}"; wait "${pids[0]}" && ok || fail "host exit"
    pids=("${pids[@]:1}")
done
! ip -n "$nsB" -4 addr show vB | grep -q 10.77.0.50 && ok ||
    fail "address left behind by the shutdown"
echo "$checks checks, $fails failed"
[ $fails -eq 0 ]
