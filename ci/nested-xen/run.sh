#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# ci/nested-xen/run.sh - `make nested-xen-check`: boot Xen 4.17 + a Debian
# dom0 in QEMU (TCG), let ci-init migrate a small PV guest with xl (cold,
# live, live over netem, --debug), bring the measurements back and check
# them against miglab's predictions (report.sh).
#
# Usage: run.sh            (root; from the top of the tree or anywhere)
# Env:   MIGLAB_NESTED_CACHE  image cache (/var/cache/miglab/nested-xen)
#        NESTED_OUT           results directory (build/nested-xen)
#        NESTED_TIMEOUT       hard limit for the boot, s (1200)
#        NESTED_STALL         kill QEMU when the serial log is silent this
#                             long, s (300)
#        DOM0_EXTRA           appended to dom0's command line (ci.* knobs
#                             of ci-init, e.g. ci.cases=live-idle)
#        SMP MEM CPU          QEMU: 1, 3072, max,-xsave (see README.md)
#        DOM0_DEADLINE        dom0 must start ci-init within this, s (300)
#        SMP MEM CPU          QEMU: 1, 3072, max,-xsave (see README.md)
# Exit:  0   every case ran and every expectation holds
#        1   TEST FAILURE: a migration failed, an expectation failed, the
#            report or the results are missing, or the boot ended badly
#            (crash, stall, timeout) after dom0 had come up
#        2   no build/miglab (run make first)
#        3   INFRASTRUCTURE: a package download failed (host tools or
#            debootstrap, after build-image.sh's retries), QEMU could not
#            boot, or dom0 did not start ci-init within DOM0_DEADLINE.
#            Worth one retry; .ci/run then skips the step.
#        77  this machine cannot run it (not root, no QEMU, < 6 GiB free
#            memory, < 5 GiB disk)
# (`make nested-xen-check` turns any non-zero exit into make's 2.)
# QEMU runs in its own process group (timeout(1) makes one); the EXIT trap
# kills the group, and the script checks that no QEMU of its own is left.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
CACHE=${MIGLAB_NESTED_CACHE:-/var/cache/miglab/nested-xen}
OUTDIR=${NESTED_OUT:-$TOP/build/nested-xen}
TMO=${NESTED_TIMEOUT:-1200}
STALL=${NESTED_STALL:-300}
DOM0_DEADLINE=${DOM0_DEADLINE:-300}
SMP=${SMP:-1}; MEM=${MEM:-3072}; CPU=${CPU:-max,-xsave}
MIGLAB=$TOP/build/miglab

skip() { echo "nested-xen-check: SKIP: $*"; exit 77; }
infra() { echo "nested-xen-check: INFRASTRUCTURE: $*"; exit 3; }
say()  { echo "nested-xen [$(date -u +%H:%M:%S)] $*"; }

# --- can this machine run it?
[ "$(id -u)" -eq 0 ] || skip "needs root (debootstrap, host packages)"
avail_kb=$(awk '/^MemAvailable:/{print $2}' /proc/meminfo)
[ "${avail_kb:-0}" -ge $((6 * 1024 * 1024)) ] ||
    skip "needs 6 GiB of free memory, $((avail_kb / 1024)) MiB available"
mkdir -p "$CACHE" "$OUTDIR" || skip "cannot create $CACHE or $OUTDIR"
for d in "$CACHE" "$OUTDIR"; do
    free_kb=$(df -Pk "$d" | awk 'NR==2{print $4}')
    [ "${free_kb:-0}" -ge $((5 * 1024 * 1024)) ] ||
        skip "needs 5 GiB of free disk under $d, $((free_kb / 1024)) MiB free"
done
[ -x "$MIGLAB" ] || { echo "nested-xen-check: no $MIGLAB (run make)"; exit 2; }

# --- image (cached; installs host tools, QEMU included, when missing)
T_START=$(date +%s.%N)
say "image: $HERE/build-image.sh (cache $CACHE)"
bash "$HERE/build-image.sh" "$MIGLAB" > "$OUTDIR/build-image.log" 2>&1
brc=$?
if [ $brc -ne 0 ]; then
    tail -20 "$OUTDIR/build-image.log"
    [ $brc -eq 3 ] && infra "a package download failed (log: $OUTDIR/build-image.log)"
    command -v qemu-system-x86_64 >/dev/null || skip "QEMU is not installed and could not be installed"
    echo "nested-xen-check: image build failed, exit $brc (log: $OUTDIR/build-image.log)"; exit 1
fi
command -v qemu-system-x86_64 >/dev/null || skip "no qemu-system-x86_64"
IMG=$(sed -n 's/^IMAGE=//p' "$OUTDIR/build-image.log" | tail -1)
[ -e "$IMG/.complete" ] || { echo "nested-xen-check: no image"; exit 1; }
T_IMAGE=$(date +%s.%N)
say "image ready: $IMG ($(awk -v a=$T_START -v b=$T_IMAGE 'BEGIN{printf "%.0f", b-a}') s)"

# --- output disk: ci-init writes results.jsonl and logs to it
rm -rf "$OUTDIR/vm" "$OUTDIR/out.img" "$OUTDIR/report.md" "$OUTDIR/report.json"
mkdir -p "$OUTDIR/vm"
truncate -s 256M "$OUTDIR/out.img"
mkfs.ext4 -q -F -L ciout "$OUTDIR/out.img"

# --- boot: QEMU never outlives this script
LOG=$OUTDIR/serial.log
XEN_CMD="console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M dom0_max_vcpus=$SMP loglvl=all guest_loglvl=all noreboot spec-ctrl=no smap=0"
DOM0_CMD="console=hvc0 earlyprintk=xen root=/dev/vda rw init=/usr/local/sbin/ci-init ${DOM0_EXTRA:-}"
MODS="$IMG/vmlinuz ${DOM0_CMD//,/,,},$IMG/initrd.img"
qpid=""
# A QEMU left by a run that was killed (-9) before its trap ran: its pid file.
if [ -s "$OUTDIR/qemu.pid" ]; then
    old=$(cat "$OUTDIR/qemu.pid")
    if [ -r /proc/$old/cmdline ] && tr '\0' ' ' < /proc/$old/cmdline | grep -q "qemu-system-x86_64.*$OUTDIR/out.img"; then
        say "killing QEMU $old left by an earlier run"; kill "$old"; sleep 2; kill -9 "$old" 2>/dev/null
    fi
    rm -f "$OUTDIR/qemu.pid"
fi
# timeout(1) puts itself and QEMU in a process group of their own (its
# pid): kill the whole group.
cleanup() {
    if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then
        kill -TERM -- "-$qpid" 2>/dev/null; sleep 2; kill -KILL -- "-$qpid" 2>/dev/null
    fi
    # nothing of this run may survive it
    for p in $(pgrep -f "qemu-system-x86_64.*$OUTDIR/out.img"); do
        say "killing QEMU $p"; kill -KILL "$p" 2>/dev/null
    done
}
trap cleanup EXIT
trap 'echo "nested-xen-check: interrupted"; exit 130' INT TERM HUP
: > "$LOG"
say "boot: qemu -accel tcg -cpu $CPU -smp $SMP -m $MEM (timeout ${TMO}s; log $LOG)"
T_BOOT=$(date +%s.%N)
# perl stamps every serial line with host seconds since QEMU started;
# timeout(1) is the last line of defence: QEMU dies even if this script is
# killed without running its trap.
timeout -k 10 $((TMO + 60)) qemu-system-x86_64 -pidfile "$OUTDIR/qemu.pid" -machine pc -accel tcg,thread=multi -cpu "$CPU" -smp "$SMP" -m "$MEM" \
    -display none -monitor none -serial stdio -no-reboot \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -kernel "$IMG/xen" -append "$XEN_CMD" -initrd "$MODS" \
    -drive file="$IMG/disk.img",if=virtio,format=raw,snapshot=on \
    -drive file="$OUTDIR/out.img",if=virtio,format=raw \
    -net none </dev/null 2>&1 > >(perl -MTime::HiRes=time -ne 'BEGIN{$|=1; $s=time} s/\r//g; printf "[%8.2f] %s", time-$s, $_' >> "$LOG") &
qpid=$!
why=""; last_size=-1; last_change=$(date +%s); up=""
LOADS=()
while kill -0 "$qpid" 2>/dev/null; do
    sleep 2
    nowi=$(date +%s)
    LOADS+=("$(cut -d' ' -f1 /proc/loadavg)")
    if [ -z "$up" ] && grep -q '=== ci-init start' "$LOG"; then
        up=$((nowi - ${T_BOOT%.*})); say "dom0 up: ci-init started after ${up}s"
    fi
    if [ -z "$up" ] && [ $((nowi - ${T_BOOT%.*})) -ge "$DOM0_DEADLINE" ]; then
        why="dom0 did not start ci-init within ${DOM0_DEADLINE}s"; break
    fi
    if grep -q -E 'Hardware Dom0 crashed|Panic on CPU|Kernel panic' "$LOG"; then
        why=crash; sleep 3; break
    fi
    size=$(stat -c %s "$LOG")
    if [ "$size" != "$last_size" ]; then last_size=$size; last_change=$nowi; fi
    if [ $((nowi - last_change)) -ge "$STALL" ]; then why="stall (${STALL}s silent)"; break; fi
    if [ $((nowi - ${T_BOOT%.*})) -ge "$TMO" ]; then why="timeout (${TMO}s)"; break; fi
    if grep -q 'CI-RESULT' "$LOG" && [ $((nowi - last_change)) -ge 30 ]; then why="no exit after CI-RESULT"; break; fi
done
cleanup
wait "$qpid" 2>/dev/null; qrc=$?
rm -f "$OUTDIR/qemu.pid"
qpid=""
sleep 1
T_END=$(date +%s.%N)
BOOT_S=$(awk -v a=$T_BOOT -v b=$T_END 'BEGIN{printf "%.1f", b-a}')
say "qemu exit $qrc${why:+ ($why)}, boot+tests ${BOOT_S}s"
# Before ci-init started, nothing of ours ran: the machine failed us.
if [ -z "$up" ] && ! grep -q '=== ci-init start' "$LOG"; then
    tail -5 "$LOG" | sed 's/^/  /'
    infra "QEMU could not boot Xen and dom0 (qemu exit $qrc${why:+, $why}); see $LOG"
fi

# --- results: output disk first, serial log as the fallback
R=$OUTDIR/results.jsonl
rm -f "$R"
if debugfs -R "dump /results.jsonl $R" "$OUTDIR/out.img" >/dev/null 2>&1 && [ -s "$R" ]; then
    debugfs -R "rdump /logs $OUTDIR/vm" "$OUTDIR/out.img" >/dev/null 2>&1
    src="output disk"
else
    sed -n 's/^.*RESULT \({.*}\)$/\1/p' "$LOG" | while read -r l; do
        echo "$l" | jq -c . 2>/dev/null
    done > "$R"
    src="serial log"
fi
rm -f "$OUTDIR/out.img"
n=$(grep -c . "$R" 2>/dev/null || echo 0)
say "$n RESULT lines from the $src"
grep -E 'CI-RESULT|FAIL:' "$LOG" | sed 's/^/  /' | tail -5
# host load (1-min average, QEMU itself counts 1) while the tests ran
LOAD=$(printf '%s\n' "${LOADS[@]:-0}" | awk '{s += $1; if ($1 > m) m = $1} END{printf "{\"mean\":%.2f,\"max\":%.2f}", s / NR, m}')
TIMES=$(printf '{"image_s":%s,"boot_and_tests_s":%s,"qemu_exit":%d,"why":"%s","results_from":"%s","host_load":%s,"host_cpus":%d}' \
    "$(awk -v a=$T_START -v b=$T_IMAGE 'BEGIN{printf "%.1f", b-a}')" "$BOOT_S" "$qrc" "$why" "$src" "$LOAD" "$(nproc)")
[ "$n" -gt 0 ] || { echo "nested-xen-check: FAIL: dom0 came up but left no results${why:+ ($why)}; see $LOG"; exit 1; }

bash "$HERE/report.sh" "$R" "$OUTDIR" "$TIMES"
rc=$?
[ $rc -eq 0 ] || rc=1
if [ ! -s "$OUTDIR/report.md" ]; then
    echo "nested-xen-check: FAIL: no report ($OUTDIR/report.md)"; rc=1
fi
if [ -n "$why" ] || [ "$qrc" != 1 ]; then
    echo "nested-xen-check: the boot did not end cleanly (qemu exit $qrc${why:+, $why})"
    [ $rc -eq 0 ] && rc=1
fi
exit $rc
