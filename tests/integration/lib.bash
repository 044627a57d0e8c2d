# SPDX-License-Identifier: MIT
#
# tests/integration/lib.bash - what the integration scripts share (not
# itself a test: tests/run-all.sh runs only *.sh).  Source it
# after setting `name` (the script's name in messages) and `tmp` (its temp
# directory): it provides the check counters, ok/fail, skip (exit 77 with
# the reason, as tests/run-all.sh expects) and need_netns, the
# preconditions of every test that builds network namespaces.
# shellcheck shell=bash

fails=0 checks=0

ok()   { checks=$((checks + 1)); }
fail() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: $*"; }
skip() { echo "$name: skipped: $*"; rm -rf "$tmp"; exit 77; }

# Root, iproute2 with namespaces, TUN and python3, or a skip saying which.
need_netns() {
    [ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, TUN)"
    command -v ip >/dev/null || skip "iproute2 'ip' not installed"
    ip netns list >/dev/null 2>&1 || skip "'ip netns' unavailable"
    [ -c /dev/net/tun ] || skip "/dev/net/tun missing"
    command -v python3 >/dev/null || skip "python3 not installed"
}
