#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# xen_real.sh - the Xen backend against a real hypervisor.  Skips (77)
# unless MIG_TEST_XEN=1, this is a Xen dom0 (/proc/xen) and the build has
# the backend.  MIG_TEST_XEN_DOMAIN names a running domU (default: the
# first domU in `xl list`): a 1 s `miglab xen dirty` capture must replay in
# `miglab predict`; with MIG_TEST_XEN_MIGRATE=1 the domain is also
# migrated to localhost live through `miglab xen receive` (stdio).  The
# nested-Xen CI (ci/nested-xen/) runs all of this and more in every boot.
set -u
miglab=${MIGLAB_BIN:-build/miglab}
[ "${MIG_TEST_XEN:-}" = 1 ] || { echo "xen_real: skipped: set MIG_TEST_XEN=1 on a Xen dom0"; exit 77; }
[ -e /proc/xen ] || { echo "xen_real: skipped: no Xen hypervisor (/proc/xen missing)"; exit 77; }
if "$miglab" xen dirty x 2>&1 | grep -q "compiled out"; then
    echo "xen_real: skipped: miglab built without libxenlight"; exit 77
fi
dom=${MIG_TEST_XEN_DOMAIN:-$(xl list 2>/dev/null | awk 'NR > 2 { print $1; exit }')}
[ -n "$dom" ] || { echo "xen_real: skipped: no running domU"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
set -e
"$miglab" xen dirty "$dom" --interval 100ms --duration 1s -o "$tmp/t.trace"
pages=$(awk '$1 == "pages" { print $2; exit }' "$tmp/t.trace")
"$miglab" predict --mem $((pages * 4096)) --workload "trace:$tmp/t.trace" --json > "$tmp/p.json"
jq -e '.outcome == "completed"' "$tmp/p.json" >/dev/null
if [ "${MIG_TEST_XEN_MIGRATE:-}" = 1 ]; then
    "$miglab" xen migrate --live --json --ssh-cmd "$miglab xen receive" "$dom" localhost > "$tmp/m.json"
    jq -e '.outcome == "completed" and .live_passes >= 1' "$tmp/m.json" >/dev/null
fi
echo "xen_real: ok ($dom)"
