#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# cli_plan.sh - `miglab plan` as a user meets it: Monte Carlo percentiles
# (a fixed scenario gives its `miglab predict` numbers; thread count does not
# change output), the inverse questions fed back to `miglab predict`, an
# evacuation plan, JSON/CSV/SVG outputs, and one clear error line with exit
# status 2 for bad input.
set -u
miglab=${MIGLAB_BIN:-build/miglab}
src=${MIGLAB_SRCDIR:-.}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 checks=0

ok()   { checks=$((checks + 1)); }
fail() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: $*"; }

# expect_error EXPECTED-SUBSTRING ARGS... : exit 2, one stderr line naming it
expect_error() {
    local want=$1; shift
    "$miglab" plan "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$? lines
    lines=$(wc -l <"$tmp/err")
    if [ $rc -ne 2 ]; then
        fail "plan $*: exit $rc, expected 2 ($(cat "$tmp/err"))"
    elif [ "$lines" -ne 1 ]; then
        fail "plan $*: $lines error lines, expected 1: $(cat "$tmp/err")"
    elif ! grep -qF -- "$want" "$tmp/err"; then
        fail "plan $*: error '$(cat "$tmp/err")' does not name '$want'"
    elif [ -s "$tmp/out" ]; then
        fail "plan $*: printed to stdout on error"
    else
        ok
    fi
}

# py FILE... <<'PY' : run a python check, one check counted
py() { python3 - "$@" && ok || fail "python check at line ${BASH_LINENO[0]}"; }

qs="$src/scenarios/quickstart.ini"

# Help.
"$miglab" --help | grep -q "plan" && ok || fail "miglab --help lists plan"
for s in "" percentiles min-bandwidth max-dirty-rate max-memory evacuate; do
    "$miglab" plan $s --help | grep -q -- "--draws" && ok ||
        fail "plan $s --help"
done
"$miglab" plan evacuate --help | grep -q "capacity=SIZE" && ok ||
    fail "evacuate --help shows the inventory lines"

# A fixed scenario: every percentile is the single prediction.
"$miglab" predict --scenario "$qs" --json >"$tmp/pred.json" || fail predict
"$miglab" plan percentiles --scenario "$qs" --draws 300 --json \
    >"$tmp/fixed.json" || fail "percentiles --json"
py "$tmp/pred.json" "$tmp/fixed.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1])); m = json.load(open(sys.argv[2]))
assert m["draws"] == 300 and m["completed"] == 300, m
assert m["uncertain"] == {}, m["uncertain"]
for k in ["mean", "min", "p50", "p90", "p99", "max"]:
    assert abs(m["downtime_s"][k] - p["downtime_s"]) <= 1e-8 * p["downtime_s"], k
    assert abs(m["total_time_s"][k] - p["total_time_s"]) <= 1e-8 * p["total_time_s"], k
    assert abs(m["bytes"][k] - p["bytes_sent"]) <= 1e-8 * p["bytes_sent"], k
assert m["p_breach"] == {"downtime_max": 0}, m["p_breach"]
assert m["percentile_method"] == "nearest-rank"
PY

# Distributions from flags; 1 and 2 threads give identical output.
dist=(--bandwidth 'uniform(300Mbit,3Gbit)' --rtt 'normal(1ms,0.5ms)'
      --workload 'hotcold:wss=128M,hot=0.9,rate=lognormal(50MB/s,0.5)'
      --mem '[1G, 2G]' --loss 'choice(0, 1e-5)')
"$miglab" plan percentiles --scenario "$qs" "${dist[@]}" --draws 3000 \
    --seed 5 --threads 1 --json >"$tmp/t1.json" || fail "threads 1"
"$miglab" plan percentiles --scenario "$qs" "${dist[@]}" --draws 3000 \
    --seed 5 --threads 2 --json >"$tmp/t2.json" || fail "threads 2"
sed 's/"threads": [0-9]*/"threads": X/' "$tmp/t1.json" >"$tmp/t1n"
sed 's/"threads": [0-9]*/"threads": X/' "$tmp/t2.json" >"$tmp/t2n"
cmp -s "$tmp/t1n" "$tmp/t2n" && ok || fail "1 and 2 threads differ"
py "$tmp/t1.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
assert set(m["uncertain"]) == {"memory", "bandwidth", "rtt", "loss", "rate"}, m
d = m["downtime_s"]
assert d["min"] <= d["p50"] <= d["p90"] <= d["p99"], d
assert d["min"] < d["p99"], d
assert 0 < m["p_breach"]["downtime_max"] < 1, m["p_breach"]
PY

# The same from a scenario file, with CSV and an SVG CDF.
cat >"$tmp/mc.ini" <<'EOF'
[guest]
memory = 2G
workload = uniform:rate=[20MB/s, 60MB/s, 120MB/s]
[network]
bandwidth = lognormal(2Gbit, 0.3)
rtt = uniform(0.2ms, 2ms)
[expect]
downtime_max = 200ms
total_time_max = 20s
EOF
"$miglab" plan percentiles --scenario "$tmp/mc.ini" --draws 1000 --csv \
    --svg "$tmp/cdf.svg" >"$tmp/mc.csv" || fail "percentiles --csv --svg"
[ "$(head -1 "$tmp/mc.csv")" = "metric,mean,min,p50,p90,p99,max,p_breach" ] &&
    [ "$(wc -l <"$tmp/mc.csv")" -eq 4 ] && ok || fail "CSV shape"
py "$tmp/cdf.svg" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag.endswith("svg"), root.tag
assert any(e.tag.endswith("polyline") for e in root.iter())
PY
"$miglab" plan percentiles --scenario "$tmp/mc.ini" --draws 500 \
    >"$tmp/mc.txt" || fail "percentiles table"
grep -q "P(downtime > 200.00 ms)" "$tmp/mc.txt" &&
    grep -q "P(total time > 20.00 s)" "$tmp/mc.txt" && ok ||
    fail "table shows breach probabilities"

# min-bandwidth, fed back to predict: meets the target; 5% less does not.
"$miglab" plan min-bandwidth --scenario "$qs" --downtime 100ms --json \
    --svg "$tmp/bw.svg" >"$tmp/bw.json" || fail "min-bandwidth"
bw=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["bandwidth_bps"])' "$tmp/bw.json")
low=$(python3 -c "print($bw * 0.95)")
"$miglab" predict --scenario "$qs" --bandwidth "$bw" --json >"$tmp/at.json"
"$miglab" predict --scenario "$qs" --bandwidth "$low" --json >"$tmp/low.json"
py "$tmp/at.json" "$tmp/low.json" "$tmp/bw.json" <<'PY'
import json, sys
at = json.load(open(sys.argv[1])); low = json.load(open(sys.argv[2]))
ans = json.load(open(sys.argv[3]))
assert ans["found"] and not ans["at_bound"], ans
assert at["downtime_s"] <= 0.1 + 1e-9, at["downtime_s"]
assert low["downtime_s"] > 0.1, low["downtime_s"]
assert "exact_metric_s" in ans
PY
python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' \
    "$tmp/bw.svg" && grep -q "polyline" "$tmp/bw.svg" && ok ||
    fail "downtime vs bandwidth SVG"

# The other questions answer in their units; out of reach is not a number.
"$miglab" plan max-dirty-rate --scenario "$qs" --downtime 300ms --no-exact \
    | grep -q "answer .*B/s" && ok || fail "max-dirty-rate"
"$miglab" plan max-memory --scenario "$qs" --window 60s --no-exact --csv \
    >"$tmp/mm.csv" && grep -q "^max-memory,1,0," "$tmp/mm.csv" && ok ||
    fail "max-memory CSV"
"$miglab" plan min-bandwidth --scenario "$qs" --downtime 1ms >"$tmp/no.txt"
[ $? -eq 1 ] && grep -q "no answer: no bandwidth in" "$tmp/no.txt" && ok ||
    fail "unreachable target: exit 1 with a reason"

# Evacuation.
cat >"$tmp/dc.inv" <<'EOF'
# hosts, links, VMs (docs/plan.md)
host a capacity=256G
host b capacity=256G
host c capacity=128G
link a b bandwidth=10Gbit rtt=0.2ms
link a c bandwidth=1Gbit rtt=1ms
vm web1 host=a memory=8G workload=hotcold:wss=512M,hot=0.9,rate=200MB/s
vm web2 host=a memory=8G workload=hotcold:wss=512M,hot=0.9,rate=200MB/s
vm batch host=a memory=32G workload=uniform:rate=50MB/s
vm idle1 host=a memory=4G
vm x host=b memory=200G
EOF
"$miglab" plan evacuate "$tmp/dc.inv" --drain a --concurrency 2 --json \
    --svg "$tmp/gantt.svg" >"$tmp/ev.json" || fail "evacuate --json"
py "$tmp/ev.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
assert len(p["vms"]) == 4, p
orders = p["makespan_by_order_s"]
assert set(orders) == {"smallest-dirty-first", "largest-first"}
assert p["makespan_s"] == min(orders.values())
assert abs(p["makespan_s"] - max(v["end_s"] for v in p["vms"])) < 1e-6
used = {"b": 200 << 30, "c": 0}
mem = {"web1": 8, "web2": 8, "batch": 32, "idle1": 4}
for v in p["vms"]:
    used[v["to"]] += mem[v["vm"]] << 30
assert used["b"] <= 256 << 30 and used["c"] <= 128 << 30, used
lb = sum(l["bytes"] for l in p["links"]); vb = sum(v["bytes"] for v in p["vms"])
assert abs(lb - vb) <= 1e-8 * vb, (lb, vb)
PY
python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' \
    "$tmp/gantt.svg" && [ "$(grep -c "<title>" "$tmp/gantt.svg")" -eq 4 ] &&
    ok || fail "Gantt SVG: valid XML, one bar per VM"
"$miglab" plan evacuate "$tmp/dc.inv" --drain a --csv | head -1 |
    grep -q "^vm,from,to,start_s,end_s,total_time_s,downtime_s,bytes" && ok ||
    fail "evacuate CSV header"
"$miglab" plan evacuate "$tmp/dc.inv" --drain a | grep -q "<- better" && ok ||
    fail "evacuate table names the better ordering"

# Bad input: one line, exit 2.
expect_error "unknown question 'nosuch'" nosuch
expect_error "missing question"
expect_error "--draws" percentiles --scenario "$qs" --draws 0
expect_error "--threads" percentiles --scenario "$qs" --threads many
expect_error "--bandwidth: uniform: low" percentiles --scenario "$qs" \
    --bandwidth 'uniform(2Gbit,1Gbit)'
expect_error "--workload: a distribution is only accepted" percentiles \
    --workload 'phased:uniform:rate=uniform(1MB/s,2MB/s)@1s;idle@1s'
expect_error "--percentile" min-bandwidth --scenario "$qs" --downtime 1s \
    --percentile 101
expect_error "needs --downtime" min-bandwidth --scenario "$qs"
expect_error "needs --window" max-memory --scenario "$qs"
expect_error "--bogus" percentiles --bogus 1
expect_error "nosuch.ini" percentiles --scenario "$tmp/nosuch.ini"
printf '[guest]\nmemory = 1G\n\n[network]\nbandwidth = normal(1Gbit)\n' \
    >"$tmp/bad.ini"
expect_error "bad.ini:5: [network] bandwidth: normal needs 2 values" \
    percentiles --scenario "$tmp/bad.ini"
expect_error "needs --drain" evacuate "$tmp/dc.inv"
expect_error "needs an INVENTORY" evacuate --drain a
expect_error "unknown host 'zz'" evacuate "$tmp/dc.inv" --drain zz
expect_error "--concurrency" evacuate "$tmp/dc.inv" --drain a --concurrency 0
printf 'host a capacity=1G\nhost b capacity=1G\nlink a b rtt=1ms\n' \
    >"$tmp/bad.inv"
expect_error "bad.inv:3: link a-b: missing bandwidth" evacuate "$tmp/bad.inv" \
    --drain a
expect_error "no host that is not drained has room" evacuate "$tmp/dc.inv" \
    --drain a,b

# The shipped planning examples run.
for f in "$src"/scenarios/plan/*.ini; do
    "$miglab" plan percentiles --scenario "$f" --draws 200 >/dev/null &&
        ok || fail "plan percentiles $(basename "$f")"
done
"$miglab" plan evacuate "$src/scenarios/plan/site.inv" --drain a \
    >/dev/null && ok || fail "plan evacuate site.inv"

# --html: the table and the chart in one self-contained page.
if "$miglab" plan percentiles --scenario "$qs" --draws 300 \
        --html "$tmp/p.html" >"$tmp/p.txt" &&
   grep -q "<svg" "$tmp/p.html" && grep -q "<pre>" "$tmp/p.html" &&
   grep -q "p99" "$tmp/p.html" && grep -q "p99" "$tmp/p.txt" &&
   ! ls /tmp/miglab-plan-* >/dev/null 2>&1; then ok
else fail "plan --html"; fi
if "$miglab" plan evacuate "$tmp/dc.inv" --drain a --html "$tmp/e.html" \
        >/dev/null && grep -q "<svg" "$tmp/e.html"; then ok
else fail "evacuate --html"; fi
expect_error "--html goes with the table" percentiles --scenario "$qs" \
    --draws 10 --json --html "$tmp/x.html"

echo "cli_plan: $((checks - fails)) passed, $fails failed"
[ $fails -eq 0 ]
