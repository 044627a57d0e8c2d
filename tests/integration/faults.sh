#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# faults.sh - the reduced fault matrix (one fault per protocol phase, a
# refused admission, a cold crash) of tests/faults/faults.sh, for make
# check; `make faults` runs the full matrix.  docs/faults.md.
exec bash "$(dirname "$0")/../faults/faults.sh" --reduced
