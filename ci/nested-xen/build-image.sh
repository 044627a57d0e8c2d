#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# ci/nested-xen/build-image.sh - build (or reuse) the nested-Xen boot image:
# Xen 4.17 + a Debian 12 PV dom0 with the Xen toolstack and THIS build of
# miglab, plus a tiny PV domU (busybox initramfs running dirtier.c).
#
# Usage: build-image.sh [--base-only] [MIGLAB_BIN]   (root; MIGLAB_BIN
#        defaults to build/miglab of this tree)
#
# Everything is cached outside the source tree, in
# ${MIGLAB_NESTED_CACHE:-/var/cache/miglab/nested-xen}:
#   debs/             .deb files debootstrap downloaded (kept across builds)
#   base-<hash>/      the debootstrapped dom0 root filesystem; <hash> covers
#                     the suite, the mirror and the package list
#   img-<hash>/       xen, vmlinuz, initrd.img, disk.img, inputs.txt; <hash>
#                     covers the base, every input file of this directory
#                     and the miglab binary
#   current           name of the newest complete img-<hash>
# An image is rebuilt only when its hash changes (about 10 s: domU
# initramfs, dom0 initrd and mkfs.ext4 -d); the base only when the package
# list changes (about 80 s, mostly debootstrap).  Older images are pruned
# (the newest 2 are kept).
#
# Host tools it needs (debootstrap qemu-system-x86 e2fsprogs cpio gcc
# libc6-dev jq) are installed with apt-get when missing.  Package
# downloads are retried 3 times with a growing pause (mirror hiccups).
# Exit 3 when they still fail (run.sh reports an infrastructure failure),
# 1 for any other error.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
CACHE=${MIGLAB_NESTED_CACHE:-/var/cache/miglab/nested-xen}
BASE_ONLY=0
if [ "${1:-}" = "--base-only" ]; then BASE_ONLY=1; shift; fi
MIGLAB_BIN=${1:-$TOP/build/miglab}
SUITE=bookworm
MIRROR=${MIRROR:-$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
# dom0 packages: Xen + toolstack, a kernel (also used for the domU), the
# tools ci-init uses, and miglab's shared libraries (json-c, inih, xxhash,
# sodium, pcap; libxenlight comes with xen-utils).
PKGS=xen-system-amd64,xen-utils-4.17,xen-utils-common,xenstore-utils,linux-image-amd64,initramfs-tools,iproute2,kmod,procps,busybox-static,socat,libjson-c5,libinih1,libxxhash0,libsodium23,libpcap0.8

T0=$(date +%s)
say() { echo "build-image [+$(( $(date +%s) - T0 ))s] $*"; }
die() { echo "build-image: $*" >&2; exit 1; }
# a download that failed after its retries: exit 3 (run.sh: infrastructure)
die_download() { echo "build-image: $*" >&2; exit 3; }

[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap, chroot)"

# retry CMD...: 3 attempts, pauses of 10 s and 30 s (transient mirror errors)
retry() {
    local a
    for a in 1 2 3; do
        "$@" && return 0
        [ $a -lt 3 ] || break
        say "attempt $a failed: $*; retrying in $((a * a * 10)) s"
        sleep $((a * a * 10))
    done
    return 1
}

# --- 0. host tools
need=()
command -v debootstrap >/dev/null        || need+=(debootstrap)
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v mkfs.ext4 >/dev/null          || need+=(e2fsprogs)
command -v debugfs >/dev/null            || need+=(e2fsprogs)
command -v cpio >/dev/null               || need+=(cpio)
command -v gcc >/dev/null                || need+=(gcc)
[ -e /usr/lib/x86_64-linux-gnu/libc.a ]  || need+=(libc6-dev)
command -v jq >/dev/null                 || need+=(jq)
if [ ${#need[@]} -gt 0 ]; then
    say "installing host tools: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    retry bash -c "apt-get update -q && apt-get install -y -q --no-install-recommends ${need[*]}" ||
        die_download "could not install ${need[*]}"
fi

mkdir -p "$CACHE/debs"

# --- 1. dom0 base root filesystem (debootstrap), keyed by its inputs
BASE_KEY=$(printf '%s\n' "v1" "$SUITE" "$MIRROR" "$PKGS" | sha256sum | cut -c1-16)
BASE=$CACHE/base-$BASE_KEY
if [ ! -e "$BASE/.complete" ]; then
    say "debootstrap $SUITE from $MIRROR into $BASE"
    boot() {
        rm -rf "$BASE"
        debootstrap --variant=minbase --cache-dir="$CACHE/debs" \
            --include="$PKGS" "$SUITE" "$BASE" "$MIRROR"
    }
    retry boot || die_download "debootstrap failed 3 times (see above)"
    rm -f "$BASE"/var/cache/apt/archives/*.deb
    touch "$BASE/.complete"
    say "base done"
fi
[ $BASE_ONLY = 1 ] && { echo "BASE=$BASE"; exit 0; }

# --- 2. image, keyed by the base, our inputs and the miglab binary
[ -x "$MIGLAB_BIN" ] || die "no miglab binary at $MIGLAB_BIN (run make first)"
INPUTS=(build-image.sh ci-init domu-init dirtier.c tsline.c domu.cfg fakessh tcpssh mlrecv)
IMG_KEY=$( { echo "$BASE_KEY"; (cd "$HERE" && sha256sum "${INPUTS[@]}");
             sha256sum < "$MIGLAB_BIN"; } | sha256sum | cut -c1-16)
IMG=$CACHE/img-$IMG_KEY
if [ -e "$IMG/.complete" ]; then
    say "reusing $IMG"
    echo "img-$IMG_KEY" > "$CACHE/current"
    echo "IMAGE=$IMG"
    exit 0
fi
say "building image $IMG"
rm -rf "$IMG" "$IMG.tmp"
mkdir -p "$IMG.tmp"
W=$IMG.tmp/work
ROOT=$W/rootfs
mkdir -p "$W"
# A copy of the base (cp -a keeps the base pristine; ~500 MB, a few s)
cp -a "$BASE" "$ROOT"
rm -f "$ROOT/.complete"
KVER=$(basename "$(ls -d "$ROOT"/lib/modules/*)")

# our static helpers: built on the host, run in the domU / dom0
gcc -static -O2 -Wall -Wextra -o "$W/dirtier" "$HERE/dirtier.c"
gcc -static -O2 -Wall -Wextra -o "$W/tsline" "$HERE/tsline.c"

echo dom0 > "$ROOT/etc/hostname"
mkdir -p "$ROOT/var/log/xen/console" "$ROOT/var/lib/xen/save" "$ROOT/root/domu" "$ROOT/out"
# xenconsoled keeps a log of every guest console: heartbeats are read there
grep -q '^XENCONSOLED_ARGS=' "$ROOT/etc/default/xen" 2>/dev/null ||
    echo 'XENCONSOLED_ARGS="--log=guest --log-dir=/var/log/xen/console"' >> "$ROOT/etc/default/xen"
install -m 755 "$HERE/ci-init"  "$ROOT/usr/local/sbin/ci-init"
install -m 755 "$HERE/fakessh"  "$ROOT/usr/local/bin/fakessh"
install -m 755 "$HERE/tcpssh"   "$ROOT/usr/local/bin/tcpssh"
install -m 755 "$HERE/mlrecv"   "$ROOT/usr/local/bin/mlrecv"
install -m 755 "$W/tsline"      "$ROOT/usr/local/bin/tsline"
install -m 644 "$HERE/domu.cfg" "$ROOT/etc/xen/domu.cfg"
install -m 755 "$MIGLAB_BIN"    "$ROOT/usr/local/bin/miglab"
chroot "$ROOT" /usr/local/bin/miglab predict --mem 128M >/dev/null ||
    die "miglab does not run inside the dom0 root filesystem (shared libs?)"

# domU initramfs: static busybox + /init + dirtier; its kernel = dom0's
D=$W/domu-initramfs
mkdir -p "$D"/{bin,proc,sys,dev}
cp "$ROOT/bin/busybox" "$D/bin/busybox"
install -m 755 "$HERE/domu-init" "$D/init"
install -m 755 "$W/dirtier" "$D/bin/dirtier"
(cd "$D" && find . | cpio -o -H newc --quiet | gzip -9) > "$ROOT/root/domu/initrd.gz"
cp "$ROOT/boot/vmlinuz-$KVER" "$ROOT/root/domu/vmlinuz"

# dom0 initrd: only what mounts root on virtio-blk (small = fast under TCG)
cat > "$ROOT/etc/initramfs-tools/conf.d/ci.conf" <<'EOF'
MODULES=list
COMPRESS=gzip
EOF
printf '%s\n' virtio_pci virtio_blk ext4 crc32c_generic > "$ROOT/etc/initramfs-tools/modules"
chroot "$ROOT" update-initramfs -u -k "$KVER" >/dev/null

zcat "$ROOT"/boot/xen-4.17-amd64.gz > "$IMG.tmp/xen"      # multiboot ELF32
cp "$ROOT/boot/vmlinuz-$KVER"    "$IMG.tmp/vmlinuz"
cp "$ROOT/boot/initrd.img-$KVER" "$IMG.tmp/initrd.img"
mkfs.ext4 -q -F -L ciroot -d "$ROOT" "$IMG.tmp/disk.img" 2G
{ echo "base $BASE_KEY ($PKGS)"; echo "kernel $KVER";
  (cd "$HERE" && sha256sum "${INPUTS[@]}"); echo "miglab $(sha256sum < "$MIGLAB_BIN")"; } \
    > "$IMG.tmp/inputs.txt"
rm -rf "$W"
mv "$IMG.tmp" "$IMG"
touch "$IMG/.complete"
echo "img-$IMG_KEY" > "$CACHE/current"
# keep the newest 2 images
ls -dt "$CACHE"/img-* 2>/dev/null | tail -n +3 | while read -r old; do
    case $old in "$CACHE"/img-*) rm -rf "$old" ;; esac
done
say "done: $(du -sh --apparent-size "$IMG/disk.img" | cut -f1) disk image, $(du -sh "$IMG" | cut -f1) used"
echo "IMAGE=$IMG"
