#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# hosts_netns.sh - the host daemon tests between two network namespaces
# joined by a veth pair: every case of hosts_cases.bash (the ones hosts.sh
# runs over loopback: cold, live idle, live hot/cold converging,
# non-converging stopped by the 5-pass cap, refused admission, another key
# refused, receiver killed mid-stream with the guest intact at the source),
# with host A in one namespace and B, C, D, E in the other, every
# migration crossing the wire and checked for integrity.  Then the guest's
# address moves with it: two `miglab host --guest-dev` daemons; after a
# live migration the address is gone from A's interface, present on B's, a
# gratuitous ARP for it was seen on A's side of the wire, and the heartbeat
# answers from B at the same address.  Needs root and `ip netns`; exits 77
# (skip) otherwise.
set -u
name=hosts_netns.sh
here=$(cd "$(dirname "$0")" && pwd)
miglab=${MIGLAB_BIN:-build/miglab}
tmp=$(mktemp -d)
# shellcheck source=lib.bash
. "$here/lib.bash"
need_netns
# shellcheck source=hosts_cases.bash
. "$here/hosts_cases.bash"
tag=ml$$
nsA=${tag}a nsB=${tag}b
ip netns add "$nsA" 2>/dev/null || skip "cannot create network namespaces"
cleanup() {
    stop_all_hosts
    ip netns del "$nsA" 2>/dev/null
    ip netns del "$nsB" 2>/dev/null
    [ -n "${KEEP_TMP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add "$nsB"
ip link add vA netns "$nsA" type veth peer name vB netns "$nsB"
ip -n "$nsA" addr add 10.77.0.1/24 dev vA
ip -n "$nsB" addr add 10.77.0.2/24 dev vB
for n in "$nsA" "$nsB"; do ip -n "$n" link set lo up; done
ip -n "$nsA" link set vA up
ip -n "$nsB" link set vB up

# Host A (and G, below) in nsA at 10.77.0.1; every other host in nsB.
allow_net=10.77.0.0/24
ns_of() { case $1 in A|G) echo "$nsA" ;; *) echo "$nsB" ;; esac; }
in_host() { local ns; ns=$(ns_of "$1"); shift; exec ip netns exec "$ns" "$@"; }
host_addr() { case $1 in A|G) echo 10.77.0.1 ;; *) echo 10.77.0.2 ;; esac; }

run_host_cases

# ---- the guest's address moves with it (--guest-dev) ----------------------

start_host G 1G "$tmp/key" --guest-dev vA
start_host H 1G "$tmp/key" --guest-dev vB

probe_ip() {   # probe_ip NS: one heartbeat probe to 10.77.0.50:7007
    ip netns exec "$1" python3 - <<'PY'
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(10)
s.sendto(b"MLHB" + struct.pack("<IQQ", 0, 9, 0), ("10.77.0.50", 7007))
d = s.recv(64)
assert d[:4] == b"MLHB" and struct.unpack("<Q", d[8:16])[0] == 9, d
PY
}

"$miglab" create vm1 --mem 64M --ip 10.77.0.50 --control "$tmp/G.sock" &&
    ok || fail "create"
ip -n "$nsA" -4 addr show vA | grep -q 10.77.0.50/32 && ok ||
    fail "address not on A"
probe_ip "$nsB" && ok || fail "heartbeat from B's side before"

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

"$miglab" migrate --live vm1 "$(dest H)" --json \
    --control "$tmp/G.sock" >"$tmp/move.json" 2>"$tmp/mig.err" && ok ||
    fail "migrate: $(cat "$tmp/mig.err")"
integrity_ok "$tmp/move.json" && ok || fail "integrity after the move"
wait $sniffer
grep -q "^garp from $(ip netns exec "$nsB" cat /sys/class/net/vB/address)" \
    "$tmp/garp" && ok || fail "no gratuitous ARP: $(cat "$tmp/garp")"
! ip -n "$nsA" -4 addr show vA | grep -q 10.77.0.50 && ok ||
    fail "address still on A"
ip -n "$nsB" -4 addr show vB | grep -q 10.77.0.50/32 && ok ||
    fail "address not on B"
probe_ip "$nsA" && ok || fail "heartbeat from A's side after"

stop_host G
stop_host H
pids=()
! ip -n "$nsB" -4 addr show vB | grep -q 10.77.0.50 && ok ||
    fail "address left behind by the shutdown"
echo "$checks checks, $fails failed"
[ $fails -eq 0 ]
