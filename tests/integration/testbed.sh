#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# testbed.sh - `miglab testbed` measured against its own settings, and bulk
# TCP across it against the simulator's link model (docs/testbed.md).
#
#   1. command line: one error line and exit 2 for bad input;
#   2. bed A, 10 ms each way +-2 ms uniform, 1% loss, 100 Mbit: ping RTT
#      mean within max(10%, 1 ms) of 20 ms, its sd within a factor 2 of
#      theory, one-way loss per direction from a counted UDP burst within a
#      binomial 4-sigma bound, no emulator overruns;  the client reaches
#      both hosts over the bridge;
#   3. bed B, the same without loss, normal jitter: cubic goodput within 5%
#      of the full rate (rate x MSS / what the shaper counts), RTT sd;
#      bed C, the two directions set apart (delay, rate, loss);
#   4. reality check: (RTT, loss, cc) points against `miglab predict`'s
#      link.goodput_Bps, bound justified in docs/testbed.md;
#   5. a crashed testbed (relay killed) is removed by down / clean.
#
# Needs root and network namespaces; otherwise exit 77 (skipped) with the
# reason.  Sends traffic only to 10.77.x.y inside its own namespaces.
set -u
miglab=${MIGLAB_BIN:-build/miglab}
tmp=$(mktemp -d)
ids=""
fails=0 checks=0
start=$(date +%s)

skip() { echo "testbed: skipped: $*"; rm -rf "$tmp"; exit 77; }

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, TUN, tc)"
# This test measures the emulator's accuracy.  In a sanitizer build the
# userspace relay runs several times slower and its TUN queue overflows,
# which reads as loss: the figures would describe the sanitizer, not the
# emulator.  (run_quickstart.sh and hosts_netns.sh still drive the testbed
# under the sanitizers.)
[ -z "${MIGLAB_SANITIZER:-}" ] ||
    skip "accuracy is not measurable in a sanitizer build (relay too slow)"
command -v ip >/dev/null || skip "iproute2 'ip' not installed"
ip netns list >/dev/null 2>&1 || skip "'ip netns' unavailable"
for t in tc iperf3 ping python3; do
    command -v $t >/dev/null || skip "$t not installed (run ci/deps)"
done
[ -c /dev/net/tun ] || skip "/dev/net/tun missing"
command -v nft >/dev/null || command -v iptables >/dev/null ||
    skip "neither nft nor iptables installed (run ci/deps)"

cleanup() {
    for i in $ids; do "$miglab" testbed down "$i" >/dev/null 2>&1; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ok()   { checks=$((checks + 1)); }
fail() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: $*"; }

# A run id unique to this process: [a-z0-9], at most 12 characters.
base="t$(printf '%x' $$)"

# up ID ARGS...: bring a testbed up (JSON in $tmp/ID.up) or fail.
up() {
    local id=$1; shift
    ids="$ids $id"
    if "$miglab" testbed up --id "$id" "$@" --json >"$tmp/$id.up" \
        2>"$tmp/err"; then ok; return 0; fi
    fail "testbed up $id $*: $(cat "$tmp/err")"
    return 1
}

down() {
    "$miglab" testbed down "$1" >/dev/null 2>&1 && ok || fail "down $1"
    ids=$(echo "$ids" | sed "s/ $1\b//")
}

# expect_error EXPECTED-SUBSTRING ARGS...: exit 2 and one stderr line.
expect_error() {
    local want=$1; shift
    "$miglab" testbed "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$? lines
    lines=$(wc -l <"$tmp/err")
    if [ $rc -ne 2 ]; then fail "testbed $*: exit $rc, expected 2"
    elif [ "$lines" -ne 1 ]; then fail "testbed $*: $lines error lines"
    elif ! grep -qF -- "$want" "$tmp/err"; then
        fail "testbed $*: '$(cat "$tmp/err")' does not name '$want'"
    else ok; fi
}

# check NAME PYTHON-EXPR-ON-r: r is the JSON in file $2
check() {
    local name=$1 file=$2 expr=$3
    if python3 - "$file" "$expr" <<'PY'; then ok; else fail "$name"; fi
import json, sys
r = json.load(open(sys.argv[1]))
ok = eval("(" + sys.argv[2] + ")")
sys.exit(0 if ok else 1)
PY
}

# 1. Command line.
"$miglab" testbed --help | grep -q -- "--jitter" && ok || fail "--help"
"$miglab" testbed up --help | grep -q -- "--emulator" && ok || fail "up --help"
expect_error "--rate" up --rate fast
expect_error "--loss" up --loss 100%
expect_error "--delay" up --delay 5parsecs
expect_error "--emulator" up --emulator dummynet
expect_error "--id" up --id "Bad-Id"
expect_error "--bogus" up --bogus 1
expect_error "--rate needs a value" up --rate
expect_error "needs a testbed ID" down
expect_error "no testbed" down nosuch
expect_error "not h1, h2 or cl" exec nosuch h9 -- true
expect_error "--cc" measure nosuch --cc vegas
expect_error "no testbed" measure nosuch
expect_error "unknown subcommand" frobnicate

# Which emulators to measure: ours always, netem where the kernel has it.
emus="miglab"
if "$miglab" testbed up --id "${base}n" --emulator netem >/dev/null \
    2>"$tmp/err"; then
    emus="netem miglab"
    "$miglab" testbed down "${base}n" >/dev/null
elif grep -q "no netem" "$tmp/err"; then
    echo "kernel has no netem: measuring the miglab emulator only"
    ok
else
    fail "--emulator netem: $(cat "$tmp/err")"
fi

# 2. Bed A: everything on.
bed_a() {
a=${base}a${1:0:1}
echo "== bed A ($1): 10 ms +-2 ms uniform each way, 1% loss, 100 Mbit"
# A 2 MiB bottleneck queue (160 ms at the rate) instead of the default
# (one BDP, 250 KB): this bed measures the emulator's random loss, and with
# the default queue a relay that the 2-core host schedules late (after
# make check's other suites) now and then releases its delayed packets in
# a burst the rate limiter's short queue drops, read as several percent of
# extra loss (seen twice in this session's runs).  The queue is checked by the
# runner's scenarios.
if up "$a" --emulator "$1" --rate 100Mbit --delay 10ms --jitter 2ms --loss 1% \
    --queue 2M
then
    name=$(python3 -c 'import json, sys
print(json.load(open(sys.argv[1]))["emulator"])' "$tmp/$a.up")
    echo "emulator: $name"
    check "up JSON names the emulator and hosts" "$tmp/$a.up" \
        'r["emulator"] and r["hosts"]["h1"]["mig_addr"] == "10.77.1.1"
         and r["hosts"]["cl"]["namespace"] == "mlab-'"$a"'-cl"'
    for h in h1 h2 cl; do
        ip netns list | grep -q "^mlab-$a-$h\b" && ok || fail "no netns $h"
    done
    "$miglab" testbed exec "$a" cl -- ping -c 1 -W 2 10.77.0.1 >/dev/null &&
        ok || fail "client cannot reach h1"
    "$miglab" testbed exec "$a" cl -- ping -c 1 -W 2 10.77.0.2 >/dev/null &&
        ok || fail "client cannot reach h2"
    [ "$("$miglab" testbed exec "$a" h2 -- cat /proc/sys/net/ipv4/tcp_wmem |
         awk '{print $3}')" = 33554432 ] && ok || fail "tcp_wmem in h2"
    if "$miglab" testbed measure "$a" --only rtt,loss --pings 300 \
        --json >"$tmp/a.json" 2>"$tmp/err"; then ok
    else fail "measure A: $(cat "$tmp/err")"; fi
    "$miglab" testbed measure "$a" --only rtt --pings 20 | grep -q "emulator" &&
        ok || fail "text report names the emulator"
    python3 - "$tmp/a.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
t = r["rtt"]
print(f"  rtt  mean {t['mean_ms']:.3f} ms (set {t['expected_mean_ms']:.3f}), "
      f"sd {t['sd_ms']:.3f} ms (uniform theory {t['expected_sd_ms']:.3f})")
for l in r["loss"]:
    print(f"  loss {l['dir']}: {l['lost']}/{l['packets']} = "
          f"{100 * l['fraction']:.3f}% (set {100 * l['expected']:.3f}%)")
PY
    check "RTT mean within max(10%, 1 ms)" "$tmp/a.json" \
        'abs(r["rtt"]["mean_ms"] - 20) <= max(2.0, 1.0)'
    check "RTT sd within a factor 2 of theory" "$tmp/a.json" \
        '0.5 <= r["rtt"]["sd_ms"] / r["rtt"]["expected_sd_ms"] <= 2'
    check "loss within binomial 4 sigma, both directions" "$tmp/a.json" \
        'all(l["packets"] >= 5000 and abs(l["fraction"] - l["expected"]) <=
             4 * (l["expected"] * (1 - l["expected"]) / l["packets"]) ** 0.5
             for l in r["loss"])'
    check "no emulator overruns" "$tmp/a.json" \
        'all(v == 0 for k, v in r["overruns"].items() if "relay" in k
             or "tx_dropped" in k)'
    check "measure JSON names the emulator" "$tmp/a.json" \
        'r["emulator"] == "'"$name"'"'
    down "$a"
fi
}

# 3. Bed B: no loss; full-rate goodput with cubic; normal jitter.
bed_b() {
b=${base}b${1:0:1}
echo "== bed B ($1): 10 ms, normal jitter sd 2 ms each way, no loss, 100 Mbit"
if up "$b" --emulator "$1" --rate 100Mbit --delay 10ms --jitter 2ms \
    --jitter-dist normal; then
    if "$miglab" testbed measure "$b" --only rtt,goodput --cc cubic --time 3 \
        --pings 300 --json >"$tmp/b.json" 2>"$tmp/err"; then ok
    else fail "measure B: $(cat "$tmp/err")"; fi
    python3 - "$tmp/b.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
g, t = r["goodput"], r["rtt"]
print(f"  rtt  mean {t['mean_ms']:.3f} ms, sd {t['sd_ms']:.3f} ms "
      f"(normal theory {t['expected_sd_ms']:.3f})")
print(f"  goodput cubic {g['bits_per_second'] / 1e6:.2f} Mbit/s vs full "
      f"rate {g['full_rate_bps'] / 1e6:.2f} (rate x 0.956 = 95.60), "
      f"{g['retransmits']} retransmits")
PY
    check "goodput within 5% of the full rate" "$tmp/b.json" \
        'abs(r["goodput"]["bits_per_second"] / r["goodput"]["full_rate_bps"]
             - 1) <= 0.05'
    check "goodput within 5% of rate x 0.956" "$tmp/b.json" \
        'abs(r["goodput"]["bits_per_second"] / 95.6e6 - 1) <= 0.05'
    check "RTT mean within max(10%, 1 ms) (normal jitter)" "$tmp/b.json" \
        'abs(r["rtt"]["mean_ms"] - 20) <= 2.0'
    check "RTT sd within a factor 2 of theory (normal)" "$tmp/b.json" \
        '0.5 <= r["rtt"]["sd_ms"] / r["rtt"]["expected_sd_ms"] <= 2'
    down "$b"
fi
}

# Bed C: the two directions set apart.
bed_c() {
c=${base}c${1:0:1}
echo "== bed C ($1): h1->h2 2 ms, 50 Mbit, no loss; h2->h1 8 ms, 5% loss"
if up "$c" --emulator "$1" --delay 2ms,8ms --rate 50Mbit,0 --loss 0,5%; then
    if "$miglab" testbed measure "$c" --only rtt,loss --pings 100 \
        --udp-time 1 --json >"$tmp/c.json" 2>"$tmp/err"; then ok
    else fail "measure C: $(cat "$tmp/err")"; fi
    python3 - "$tmp/c.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"  rtt  mean {r['rtt']['mean_ms']:.3f} ms (set 10.000)")
for l in r["loss"]:
    print(f"  loss {l['dir']}: {l['lost']}/{l['packets']} = "
          f"{100 * l['fraction']:.3f}% (set {100 * l['expected']:.3f}%)")
PY
    check "per-direction settings recorded" "$tmp/c.json" \
        'r["settings"][0]["delay_s"] == 0.002 and
         r["settings"][1]["delay_s"] == 0.008 and
         r["settings"][0]["rate_bps"] == 50e6 and
         r["settings"][1]["rate_bps"] == 0'
    check "asymmetric RTT mean within max(10%, 1 ms) of 10 ms" "$tmp/c.json" \
        'abs(r["rtt"]["mean_ms"] - 10) <= 1.0'
    check "loss only h2->h1, within 4 sigma" "$tmp/c.json" \
        'r["loss"][0]["lost"] == 0 and r["loss"][1]["packets"] >= 5000 and
         abs(r["loss"][1]["fraction"] - 0.05) <=
             4 * (0.05 * 0.95 / r["loss"][1]["packets"]) ** 0.5'
    down "$c"
fi
}

for emu in $emus; do
    bed_a "$emu"
    bed_b "$emu"
    bed_c "$emu"
done

# 4. Reality check against the link model.  Bound: docs/link-model.md
# found the model within a factor 1.75 of 20 s relay runs for reno and
# cubic at loss <= 1%; 5 s runs add about +-15% of their own (docs/
# testbed.md), so the loss-limited points get a factor 2.  bbr on a
# 100 Mbit link is link-limited: the model says rate x 0.956 x (1 - p),
# bound 15%.
echo "== reality check: measured bulk TCP vs sim link model"
printf '  %-8s %-6s %-6s %-10s %10s %10s %7s\n' RTT loss cc rate \
    measured model ratio
n=0
while read -r delay rtt loss cc rate bound; do
    n=$((n + 1))
    id=${base}r$n
    up "$id" --delay "$delay" --loss "$loss" --rate "$rate" || continue
    if ! "$miglab" testbed measure "$id" --only goodput --cc "$cc" --time 5 \
        --json >"$tmp/r$n.json" 2>"$tmp/err"; then
        fail "measure $id: $(cat "$tmp/err")"; down "$id"; continue
    fi
    down "$id"
    "$miglab" predict --bandwidth "$rate" --rtt "$rtt" --loss "$loss" \
        --cc "$cc" --window 32M --json >"$tmp/p$n.json" ||
        { fail "predict for $rtt $loss $cc"; continue; }
    python3 - "$tmp/r$n.json" "$tmp/p$n.json" "$rtt" "$loss" "$cc" "$rate" \
        "$bound" <<'PY' && ok || fail "reality check $rtt $loss $cc"
import json, sys
m = json.load(open(sys.argv[1]))["goodput"]["bits_per_second"]
p = json.load(open(sys.argv[2]))["link"]["goodput_Bps"] * 8
bound = float(sys.argv[7])
ratio = p / m
print(f"  {sys.argv[3]:<8} {sys.argv[4]:<6} {sys.argv[5]:<6} "
      f"{sys.argv[6]:<10} {m / 1e6:10.2f} {p / 1e6:10.2f} {ratio:7.3f}")
sys.exit(0 if 1 / bound <= ratio <= bound else 1)
PY
done <<'EOF'
5ms 10ms 1% cubic 1Gbit 2.0
5ms 10ms 1% reno 1Gbit 2.0
10ms 20ms 1% bbr 100Mbit 1.15
EOF

# 5. A crash leaves a relay and namespaces behind: down and clean remove it.
k=${base}k
echo "== crash clean-up"
if up "$k" --delay 1ms; then
    pid=$(cat "/run/miglab/testbed/$k/relay.pid" 2>/dev/null || echo 0)
    [ "$pid" -gt 1 ] && kill -9 "$pid" 2>/dev/null
    down "$k"
    ip netns list | grep -q "^mlab-$k-" && fail "namespaces left" || ok
    [ -e "/run/miglab/testbed/$k" ] && fail "state dir left" || ok
fi
d=${base}d
others=$(ip netns list | grep -c '^mlab-' || true)
if [ "$others" -eq 0 ] && up "$d" --delay 1ms --loss 1%; then
    pid=$(cat "/run/miglab/testbed/$d/relay.pid" 2>/dev/null || echo 0)
    rm -f "/run/miglab/testbed/$d/relay.pid"       # as if up crashed
    "$miglab" testbed clean >/dev/null && ok || fail "clean"
    ids=$(echo "$ids" | sed "s/ $d\b//")
    ip netns list | grep -q '^mlab-' && fail "clean left namespaces" || ok
    [ -e "/run/miglab/testbed/$d" ] && fail "clean left state" || ok
    [ "$pid" -gt 1 ] && [ -e "/proc/$pid" ] &&
        grep -qa relay "/proc/$pid/cmdline" 2>/dev/null &&
        fail "clean left the relay $pid" || ok
else
    echo "  (clean not exercised: other mlab-* namespaces exist)"
fi

echo "testbed: $((checks - fails)) passed, $fails failed," \
    "$(( $(date +%s) - start )) s"
[ $fails -eq 0 ]
