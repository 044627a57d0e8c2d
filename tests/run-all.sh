#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# tests/run-all.sh - runs miglab's test phases and prints one closing line,
# "N passed, N failed" (suites and scripts, not individual checks; each Check
# suite prints its own per-test count).
#
#   unit         every Check suite in $TESTS
#   valgrind     the same suites under Valgrind memcheck, CK_FORK=no:
#                any error or any leak fails the suite
#   sanitizer    the suites in an ASan/UBSan build
#   integration  tests/integration/*.sh against $MIGLAB_BIN
#   all          unit + valgrind + integration
#
# An integration script that exits 77 is skipped; it must print why.
set -u
phase=${1:-all}
passed=0 failed=0 skipped=0
failures=()

run() {    # run NAME CMD...
    local name=$1; shift
    local log rc
    log=$(mktemp)
    "$@" >"$log" 2>&1
    rc=$?
    if [ $rc -eq 0 ]; then
        passed=$((passed + 1))
        printf '  PASS  %s  (%s)\n' "$name" "$( (grep -E '^[0-9]+%: Checks' "$log" || tail -1 "$log") | tail -1)"
    elif [ $rc -eq 77 ]; then
        skipped=$((skipped + 1))
        printf '  SKIP  %s: %s\n' "$name" "$(tail -1 "$log")"
    else
        failed=$((failed + 1))
        failures+=("$name")
        printf '  FAIL  %s (exit %d)\n' "$name" $rc
        sed 's/^/        /' "$log" | tail -40
    fi
    rm -f "$log"
}

unit() {
    echo "== unit suites"
    for t in $TESTS; do run "$(basename "$t")" "$t"; done
}

valgrind_phase() {
    echo "== unit suites under valgrind memcheck"
    if ! command -v valgrind >/dev/null; then
        echo "valgrind missing: run ci/deps" >&2; failed=$((failed + 1)); return
    fi
    for t in $TESTS; do
        run "valgrind $(basename "$t")" env CK_FORK=no MIGLAB_UNDER_VALGRIND=1 \
            valgrind -q --leak-check=full --show-leak-kinds=all \
            --errors-for-leak-kinds=all --error-exitcode=99 "$t"
    done
}

integration() {
    echo "== integration tests"
    for s in tests/integration/*.sh; do
        [ -e "$s" ] || continue
        run "$(basename "$s")" bash "$s"
    done
}

case $phase in
    unit) unit ;;
    valgrind) valgrind_phase ;;
    sanitizer) echo "== ASan+UBSan build"; unit; integration ;;
    integration) integration ;;
    all) unit; valgrind_phase; integration ;;
    *) echo "usage: $0 unit|valgrind|sanitizer|integration|all" >&2; exit 2 ;;
esac

[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
if [ $skipped -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ $failed -eq 0 ]
