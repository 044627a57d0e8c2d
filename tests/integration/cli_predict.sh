#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# cli_predict.sh - `miglab predict` as a user meets it: the shipped
# scenarios, flags overriding a file, the JSON shape, byte-identical output
# per seed, and one clear error line with exit status 2 for bad input.
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
    "$miglab" predict "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$? lines
    lines=$(wc -l <"$tmp/err")
    if [ $rc -ne 2 ]; then
        fail "predict $*: exit $rc, expected 2"
    elif [ "$lines" -ne 1 ]; then
        fail "predict $*: $lines error lines, expected 1: $(cat "$tmp/err")"
    elif ! grep -qF -- "$want" "$tmp/err"; then
        fail "predict $*: error '$(cat "$tmp/err")' does not name '$want'"
    elif [ -s "$tmp/out" ]; then
        fail "predict $*: printed to stdout on error"
    else
        ok
    fi
}

# json_get FILE KEY: top-level value of KEY in a JSON file
json_get() {
    python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print(json.dumps(v))' "$1" "$2"
}

# Help everywhere.
"$miglab" --help >/dev/null && ok || fail "miglab --help"
"$miglab" predict --help | grep -q -- "--bandwidth" && ok || fail "predict --help"
"$miglab" nosuch >/dev/null 2>&1; [ $? -eq 2 ] && ok || fail "unknown command exit"

# Every shipped scenario predicts.
for s in "$src"/scenarios/*.ini; do
    if "$miglab" predict --scenario "$s" >"$tmp/out" 2>"$tmp/err" &&
       grep -q "downtime\|unfinished\|aborted" "$tmp/out"; then ok
    else fail "scenario $(basename "$s"): $(cat "$tmp/err")"; fi
done

# JSON has the documented keys, and the scenario flags override the file.
"$miglab" predict --scenario "$src/scenarios/quickstart.ini" --policy qemu \
    --json >"$tmp/q.json" || fail "predict --json"
python3 - "$tmp/q.json" <<'PY' && ok || fail "JSON shape"
import json, sys
r = json.load(open(sys.argv[1]))
need = ["mode", "policy", "total_time_s", "downtime_s", "downtime_parts",
        "bytes_sent", "pages_sent", "converged", "stop_reason", "passes"]
missing = [k for k in need if k not in r]
assert not missing, missing
assert r["policy"] == "qemu", r["policy"]
assert r["scenario"]["guest"]["memory_bytes"] == 1 << 30
for p in r["passes"]:
    for k in ["index", "pages", "bytes", "duration_s", "dirty_after"]:
        assert k in p, k
parts = sum(r["downtime_parts"].values())
assert abs(parts - r["downtime_s"]) < 1e-9, (parts, r["downtime_s"])
assert r["pages_sent"] == sum(p["pages"] for p in r["passes"])
PY

# Same seed, same bytes (exact engine).
"$miglab" predict --mem 256M --workload zipf:s=1.1,rate=100MB/s \
    --engine exact --seed 7 --json >"$tmp/a.json"
"$miglab" predict --mem 256M --workload zipf:s=1.1,rate=100MB/s \
    --engine exact --seed 7 --json >"$tmp/b.json"
cmp -s "$tmp/a.json" "$tmp/b.json" && ok || fail "same seed, different output"

# Units on flags.
"$miglab" predict --mem 4G --bandwidth 10Gbit --rtt 0.5ms --loss 1e-4 \
    --json >"$tmp/u.json" || fail "flags with units"
[ "$(json_get "$tmp/u.json" mem_pages)" = "1048576" ] && ok ||
    fail "--mem 4G is not 1048576 pages"

# Bad flags: one line, exit 2, naming the problem.
expect_error "--mem" --mem 4X
expect_error "--loss" --loss 2
expect_error "--rtt" --rtt fast
expect_error "--bogus" --bogus 1
expect_error "--mem" --mem
expect_error "--policy" --policy kvm
expect_error "--cc" --cc vegas
expect_error "--workload" --workload "uniform:rate=fast"
expect_error "--workload" --workload "hotcold:wss=1G,hot=2,rate=1MB/s"
expect_error "unexpected argument" stray
expect_error "nosuch.ini" --scenario "$tmp/nosuch.ini"
expect_error "hot" --mem 1G --workload "hotcold:wss=2G,hot=0.5,rate=1MB/s"

# Bad INI: the file and line of the first problem.
printf '[guest]\nmemory = 1G\nmemroy = 2G\n' >"$tmp/typo.ini"
expect_error "typo.ini:3:" --scenario "$tmp/typo.ini"
printf '[guest]\nmemory = 1G\n[network]\nloss = 150%%\n' >"$tmp/loss.ini"
expect_error "loss.ini:4:" --scenario "$tmp/loss.ini"
printf '[guest]\nmemory 1G\n' >"$tmp/syntax.ini"
expect_error "syntax.ini:2:" --scenario "$tmp/syntax.ini"
printf '[gust]\nmemory = 1G\n' >"$tmp/section.ini"
expect_error "section.ini:2: unknown section [gust]" --scenario "$tmp/section.ini"

echo "cli_predict: $((checks - fails)) passed, $fails failed"
[ $fails -eq 0 ]
