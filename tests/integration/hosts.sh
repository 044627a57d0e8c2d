#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# hosts.sh - `miglab host` daemons on 127.0.0.1 (ephemeral ports, control
# sockets in a temp dir, one shared key, --allow 127.0.0.0/8), running the
# cases of hosts_cases.bash: create a dirtying 64 MiB guest, probe its
# heartbeat, migrate it live and check the JSON (predict's keys +
# integrity), list both sides, migrate it back cold, get refused by a small
# third host and by a host with another key (exit 1, clear message, guest
# still running at the source), stop a non-converging guest with the Xen
# 5-pass cap, migrate an idle guest and a converging hot/cold one, kill a
# destination mid-stream (the guest runs on, its memory intact), destroy,
# and shut every daemon down cleanly (exit 0, sockets removed).
# hosts_netns.sh runs the same cases between two network namespaces.
# KEEP_TMP=1 keeps the temp dir (daemon logs).
set -u
name=hosts.sh
here=$(cd "$(dirname "$0")" && pwd)
miglab=${MIGLAB_BIN:-build/miglab}
tmp=$(mktemp -d)
# shellcheck source=lib.bash
. "$here/lib.bash"
# shellcheck source=hosts_cases.bash
. "$here/hosts_cases.bash"
cleanup() {
    stop_all_hosts
    [ -n "${KEEP_TMP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT

allow_net=127.0.0.0/8
in_host() { shift; exec "$@"; }
host_addr() { echo 127.0.0.1; }

run_host_cases
echo "$checks checks, $fails failed"
[ $fails -eq 0 ]
