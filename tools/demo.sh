#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tools/demo.sh - `make demo`: the main job on the built-in default
# scenario.  Today that is the simulator's prediction of
# scenarios/quickstart.ini, then the same guest under each policy and cold,
# so the differences show side by side.
set -euo pipefail
miglab=${1:-build/miglab}
scenario=scenarios/quickstart.ini

echo "== miglab predict --scenario $scenario"
"$miglab" predict --scenario "$scenario"
echo
echo "== the same guest, policy by policy (downtime / total time / passes)"
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
