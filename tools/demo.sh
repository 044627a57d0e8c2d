#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tools/demo.sh - `make demo`: the main job on the built-in default
# scenario.  As root with network namespaces, `miglab run` performs
# scenarios/quickstart.ini on the testbed and writes the report of
# predicted vs measured (docs/runner.md); otherwise it says why and shows
# the prediction only.  Then the simulator's view of the same guest under
# each policy and cold, so the differences show side by side.
set -euo pipefail
miglab=${1:-build/miglab}
scenario=scenarios/quickstart.ini

why=""
if [ "$(id -u)" -ne 0 ]; then
    why="not root (the testbed needs network namespaces and TUN devices)"
elif ! command -v ip >/dev/null || ! ip netns list >/dev/null 2>&1; then
    why="'ip netns' is not available"
elif [ ! -c /dev/net/tun ]; then
    why="/dev/net/tun is missing"
fi

if [ -z "$why" ]; then
    dir=build/reports/quickstart-$(date -u +%Y%m%d-%H%M%S)
    echo "== miglab run $scenario --report $dir"
    status=0
    "$miglab" run "$scenario" --report "$dir" || status=$?
    echo
    echo "report: $dir/report.html (also report.md, junit.xml, results.json)"
    [ $status -eq 0 ] || echo "note: miglab run exited $status (see the report)"
else
    echo "== no real migration: $why; prediction only"
    echo "== miglab predict --scenario $scenario"
    "$miglab" predict --scenario "$scenario"
fi
echo
echo "== the same guest, policy by policy, predicted (downtime / total time / passes)"
for args in "--policy xen" "--policy xen-legacy" "--policy qemu" \
            "--policy miglab" "--mode cold"; do
    # shellcheck disable=SC2086
    "$miglab" predict --scenario "$scenario" $args --json |
        awk -v a="$args" '
            /"downtime_s"/   { d = $2 }
            /"total_time_s"/ { t = $2 }
            /"live_passes"/  { p = $2 }
            END { gsub(",", "", d); gsub(",", "", t); gsub(",", "", p);
                  printf "  %-20s downtime %8.1f ms   total %7.2f s   %s live passes\n",
                         a, d * 1000, t, p }'
done
echo
echo "JSON of any of these: add --json.  All flags: $miglab predict --help"
