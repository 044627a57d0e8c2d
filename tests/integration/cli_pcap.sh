#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# cli_pcap.sh - `miglab pcap` as a user meets it: the sample capture of a
# small live migration (tests/data/pcap/sample.pcap, written by
# `check_pcap --write-sample`: three passes, one retransmitted segment,
# sequence numbers wrapping through 2^32), the text table, the JSON shape,
# and one clear error line with exit status 2 for bad input.  Needs no
# network and no root.
set -u
miglab=${MIGLAB_BIN:-build/miglab}
src=${MIGLAB_SRCDIR:-.}
sample=$src/tests/data/pcap/sample.pcap
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 checks=0

ok()   { checks=$((checks + 1)); }
fail() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: $*"; }

if [ ! -r "$sample" ]; then
    echo "cli_pcap: $sample missing (check_pcap --write-sample FILE)"
    exit 77
fi

# expect_error EXPECTED-SUBSTRING ARGS... : exit 2, one stderr line naming it
expect_error() {
    local want=$1; shift
    "$miglab" pcap "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$? lines
    lines=$(wc -l <"$tmp/err")
    if [ $rc -ne 2 ]; then
        fail "pcap $*: exit $rc, expected 2"
    elif [ "$lines" -ne 1 ]; then
        fail "pcap $*: $lines error lines, expected 1: $(cat "$tmp/err")"
    elif ! grep -qF -- "$want" "$tmp/err"; then
        fail "pcap $*: error '$(cat "$tmp/err")' does not name '$want'"
    elif [ -s "$tmp/out" ]; then
        fail "pcap $*: printed to stdout on error"
    else
        ok
    fi
}

"$miglab" --help | grep -q "pcap" && ok || fail "miglab --help lists pcap"
"$miglab" pcap --help | grep -q -- "--port" && ok || fail "pcap --help"

# The table: three passes, the last one stop-and-copy, the handshake.
if "$miglab" pcap "$sample" >"$tmp/out" 2>"$tmp/err"; then ok
else fail "pcap sample: exit $?: $(cat "$tmp/err")"; fi
grep -q "found by stream magic" "$tmp/out" && ok || fail "flow not found by magic"
grep -Eq '^ +3\* ' "$tmp/out" && ok || fail "pass 3 not flagged stop-and-copy"
grep -q "decode       complete" "$tmp/out" && ok || fail "decode not complete"
grep -q "retransmits  1 sender->receiver" "$tmp/out" && ok ||
    fail "retransmission not counted"
grep -q "GO .* after the last stream byte" "$tmp/out" && ok || fail "no GO time"

# --port picks the same connection; a port with nothing on it is an error.
"$miglab" pcap "$sample" --port 8002 >"$tmp/p.txt" 2>&1 &&
    cmp -s "$tmp/out" "$tmp/p.txt" && ok || fail "--port 8002 differs"

# JSON: the predict keys where they mean the same, plus the pcap ones.
"$miglab" pcap "$sample" --json >"$tmp/s.json" || fail "pcap --json"
python3 - "$tmp/s.json" <<'PY' && ok || fail "JSON shape"
import json, sys
r = json.load(open(sys.argv[1]))
for k in ["passes", "bytes_sent", "pages_sent", "total_time_s", "live_passes",
          "retransmissions", "gaps", "handshake", "decode", "capture", "flow"]:
    assert k in r, k
assert r["decode"]["complete"] is True
p = r["passes"]
assert [x["index"] for x in p] == [1, 2, 3], p
assert [x["pages"] for x in p] == [16, 8, 4], p
assert [x["live"] for x in p] == [True, True, False], p
for x in p:
    for k in ["index", "pages", "bytes", "start_s", "duration_s", "retransmits"]:
        assert k in x, k
    assert x["bytes"] == 16 + 4104 * x["pages"], x
assert r["pages_sent"] == sum(x["pages"] for x in p)
assert r["retransmissions"]["sender_to_receiver"] == 1
assert sum(x["retransmits"] for x in p) == 1
assert r["gaps"] == []
h = r["handshake"]
assert h["report_status"] == 0
assert 0 < h["ready"]["after_stream_s"] < h["go"]["after_stream_s"]
assert abs(r["total_time_s"] - h["go"]["time_s"]) < 1e-12
PY

# A real capture: two `miglab host` daemons on loopback, a 1 MiB guest
# migrated live, libpcap on lo (TSO-sized segments).  The sender measured
# passes of 256 pages (1050640 bytes) and 11 pages (45160 bytes), then a
# stop-and-copy pass with no pages, which the wire cannot show (docs/pcap.md).
"$miglab" pcap "$src/tests/data/pcap/loopback-live.pcap" --json >"$tmp/l.json" ||
    fail "pcap loopback-live: exit $?"
python3 - "$tmp/l.json" <<'PY' && ok || fail "loopback-live passes"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["decode"]["complete"] is True, r["decode"]
assert r["flow"]["receiver"] == "127.0.0.1:8102", r["flow"]
assert [(x["pages"], x["bytes"]) for x in r["passes"]] == \
    [(256, 1050640), (11, 45160)], r["passes"]
assert r["passes"][-1]["live"] is False
assert r["handshake"]["report_status"] == 0
assert r["retransmissions"]["sender_to_receiver"] == 0
PY

# A capture cut short: still a timeline, exit 1, stream incomplete.
size=$(stat -c %s "$sample")
head -c $((size / 2)) "$sample" >"$tmp/half.pcap"
"$miglab" pcap "$tmp/half.pcap" >"$tmp/h.txt" 2>&1
rc=$?
[ $rc -eq 1 ] && ok || fail "half capture: exit $rc, expected 1"
grep -q "decode       incomplete" "$tmp/h.txt" && ok ||
    fail "half capture: not reported incomplete"
grep -q "file ends early" "$tmp/h.txt" && ok ||
    fail "half capture: truncation not reported"

# Bad input: one line, exit 2.
head -c 300 /dev/urandom >"$tmp/junk.pcap"
expect_error "not a readable capture" "$tmp/junk.pcap"
: >"$tmp/empty.pcap"
expect_error "not a readable capture" "$tmp/empty.pcap"
expect_error "nosuch.pcap" "$tmp/nosuch.pcap"
expect_error "no TCP payload on port 9" "$sample" --port 9
expect_error "--port" "$sample" --port 70000
expect_error "--port" "$sample" --port
expect_error "--bogus" "$sample" --bogus
expect_error "no capture file" --json
expect_error "unexpected argument" "$sample" "$sample"

echo "cli_pcap: $((checks - fails)) passed, $fails failed"
[ $fails -eq 0 ]
