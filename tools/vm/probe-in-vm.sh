#!/bin/sh
# pinlab probe --vm: boot a kernel image under QEMU with an initramfs that
# holds this pinlab binary, busybox and the kernel's virtio modules, run
# `pinlab probe ARGS --json` inside, and leave its output in WORK/out.json,
# its stderr in WORK/err.txt and its exit status in WORK/status.
#
#   probe-in-vm.sh KERNEL_IMAGE PINLAB WORK [PROBE ARGS...]
# WORK/files, if it exists, becomes the guest's /files.
# The guest gets 4 GiB of memory, an ext4 scratch disk (mounted at /var/tmp,
# where the probe puts its files), a 512 MiB swap disk, tmpfs at /dev/shm,
# and transparent_hugepage=madvise (the development machine's setting), with
# khugepaged's background scan an hour apart.
# KVM when it starts, TCG otherwise. Needs qemu-system-x86, busybox-static,
# cpio, e2fsprogs, util-linux; pinlab embeds this script (app/src/vm.rs).
set -eu
KERNEL=$1 PINLAB=$2 WORK=$3
shift 3
die() { echo "probe-in-vm: $*" >&2; exit 2; }
for t in qemu-system-x86_64 cpio mkfs.ext4 mkswap; do
	command -v $t >/dev/null || die "$t is not installed (Debian: qemu-system-x86, cpio, e2fsprogs, util-linux)"
done
BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] && file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' || [ -x /bin/busybox ] || die "no static busybox (Debian: busybox-static)"
[ -r "$KERNEL" ] || die "cannot read the kernel image $KERNEL"
# The image's release, from the bzImage header (kernel_version, 0x20e).
off=$(od -An -tu2 -j526 -N2 "$KERNEL" | tr -d ' ')
RELEASE=$(dd if="$KERNEL" bs=1 skip=$((off + 512)) count=64 2>/dev/null | tr '\0' '\n' | head -1 | cut -d' ' -f1)
[ -n "$RELEASE" ] || die "$KERNEL is not a bzImage"
MODS=/lib/modules/$RELEASE
ROOT=$WORK/root
rm -rf "$ROOT"
mkdir -p "$ROOT/bin" "$ROOT/lib/modules" "$ROOT/proc" "$ROOT/sys" "$ROOT/dev" "$ROOT/tmp" "$ROOT/var/tmp" "$ROOT/lib64" "$ROOT/etc"
cp "${BUSYBOX:-/bin/busybox}" "$ROOT/bin/busybox"
# Files the probe reads (lesson .toml files, a known-differences list):
# pinlab puts them in WORK/files and names them /files/NAME in the guest.
mkdir -p "$ROOT/files"
if [ -d "$WORK/files" ]; then cp -r "$WORK/files/." "$ROOT/files/"; fi
# The binary without its debug sections (a debug build is 500 MB), and the
# shared libraries it needs.
strip -o "$ROOT/bin/pinlab" "$PINLAB" 2>/dev/null || cp "$PINLAB" "$ROOT/bin/pinlab"
# dmsetup (Debian: dmsetup) puts the scratch disk behind dm-delay, so that
# an O_DIRECT read can be held in flight; without it the disk is used as is.
DMSETUP=$(command -v dmsetup || true)
[ -n "$DMSETUP" ] && cp "$DMSETUP" "$ROOT/bin/dmsetup"
for bin in "$PINLAB" $DMSETUP; do
	for lib in $(ldd "$bin" | sed -n 's/.*=> \(\/[^ ]*\).*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p'); do
		mkdir -p "$ROOT$(dirname "$lib")"
		cp -L "$lib" "$ROOT$lib"
	done
done
# virtio-pci and virtio-blk with what they depend on, in load order.
MODLIST=""
if [ -d "$MODS" ]; then
	for m in virtio_pci virtio_blk dm_mod dm_delay; do
		line=$(grep -E "/$(echo "$m" | sed 's/_/[-_]/g')\.ko(\.xz|\.zst)?:" "$MODS/modules.dep" || true)
		deps=$(echo "${line#*:}" | tr ' ' '\n' | tac)
		for d in $deps "${line%%:*}"; do
			[ -n "$d" ] || continue
			case " $MODLIST " in *" $(basename "$d") "*) continue ;; esac
			case $d in
			*.xz) xz -dc "$MODS/$d" > "$ROOT/lib/modules/$(basename "${d%.xz}")" ;;
			*.zst) zstd -qdc "$MODS/$d" > "$ROOT/lib/modules/$(basename "${d%.zst}")" ;;
			*) cp "$MODS/$d" "$ROOT/lib/modules/" ;;
			esac
			MODLIST="$MODLIST $(basename "$d" | sed 's/\.\(xz\|zst\)$//')"
		done
	done
fi
ARGS=""
for a in "$@"; do ARGS="$ARGS '$(printf %s "$a" | sed "s/'/'\\\\''/g")'"; done
cat > "$ROOT/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/shm && mount -t tmpfs shm /dev/shm
# This kernel is the lab's own: khugepaged's background scan (every 10 s by
# default) would collapse a lesson's THP between two steps under TCG, where
# a lesson takes seconds; the model has no background collapse. An hour.
echo 3600000 > /sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs
echo 3600000 > /sys/kernel/mm/transparent_hugepage/khugepaged/alloc_sleep_millisecs
for m in $MODLIST; do insmod /lib/modules/\$m 2>/dev/null; done
n=0; while [ ! -b /dev/vdc ] && [ \$n -lt 100 ]; do sleep 0.1; n=\$((n+1)); done
# Every read of the scratch disk waits a second (dm-delay; writes do not):
# the probe then holds a lesson's O_DIRECT read in flight across its steps.
DISK=/dev/vda
if [ -x /bin/dmsetup ] && dmsetup create slow --noudevsync \\
	--table "0 \$(blockdev --getsz /dev/vda) delay /dev/vda 0 1000 /dev/vda 0 0" 2>/dev/null; then
	dmsetup mknodes 2>/dev/null
	DISK=/dev/mapper/slow
	export PINLAB_PROBE_SLOW_READS_MS=1000
fi
mount -t ext4 \$DISK /var/tmp || echo "pinlab-vm: no ext4 scratch disk"
swapon /dev/vdb || echo "pinlab-vm: no swap"
cd /var/tmp
/bin/pinlab probe $ARGS --json > /var/tmp/out.json 2> /var/tmp/err.txt
echo \$? > /var/tmp/status
sync
echo "pinlab-vm: probe exited \$(cat /var/tmp/status)"
tar -cf /dev/vdc -C /var/tmp out.json err.txt status
sync
poweroff -f
INIT
chmod +x "$ROOT/init"
(cd "$ROOT" && find . | cpio -o -H newc --quiet) > "$WORK/initramfs.cpio"
rm -f "$WORK/scratch.img" "$WORK/swap.img" "$WORK/out.tar"
truncate -s 1G "$WORK/scratch.img" && mkfs.ext4 -q -F "$WORK/scratch.img"
truncate -s 512M "$WORK/swap.img" && mkswap -q "$WORK/swap.img" >/dev/null
truncate -s 256M "$WORK/out.tar"
ACCEL=tcg
# Whether KVM starts is decided by a real start: nested KVM fails on some hosts.
if [ -w /dev/kvm ] && timeout 10 qemu-system-x86_64 -accel kvm -cpu host -display none -nodefaults -no-reboot \
	-kernel "$KERNEL" -append "panic=-1 console=ttyS0 init=/nonexistent" -serial stdio -m 128 2>/dev/null </dev/null \
	| grep -q 'Linux version'; then
	ACCEL=kvm
fi
echo "$ACCEL" > "$WORK/accel"
CPU=max
[ "$ACCEL" = kvm ] && CPU=host
qemu-system-x86_64 -accel "$ACCEL" -cpu "$CPU" -smp 2 -m 4096 -display none -nodefaults -no-reboot \
	-kernel "$KERNEL" -initrd "$WORK/initramfs.cpio" \
	-append "console=ttyS0 panic=-1 transparent_hugepage=madvise quiet" \
	-drive file="$WORK/scratch.img",format=raw,if=virtio \
	-drive file="$WORK/swap.img",format=raw,if=virtio \
	-drive file="$WORK/out.tar",format=raw,if=virtio \
	-serial file:"$WORK/console.log" </dev/null
tar -xf "$WORK/out.tar" -C "$WORK" 2>/dev/null || die "the VM left no result (see $WORK/console.log)"
