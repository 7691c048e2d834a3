#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# initramfs.sh KVER: packs build/KVER/initramfs.cpio.gz (cpio newc, gzip)
# from what build.sh KVER made:
#
#   /init                  selftests/rig/guest-init
#   /sbin/rig-load         selftests/rig/rig-load
#   /bin/busybox + applets busybox-static
#   /bin/kmod + insmod, rmmod, lsmod, modinfo, modprobe, depmod, with the
#                          libraries it links and the loader
#   /usr/sbin/hv-ptp-sync  the daemon, with its libraries
#   /usr/bin/hv-ptp-now    the ClockBound segment's reader
#   /usr/bin/guest-demo, demo-mon   make demo's guest side
#   /usr/bin/guest-bench, bench-run, /usr/sbin/chronyd, phc2sys
#                                   make bench's guest side
#   /rig/mod/*.ko          hv_host_sim, hv_utils, hv_ptp_ext, hv_fault_phc
#   /rig/mod/hv_utils.force  when build.sh made one
#   /rig/tests/*           the kselftest binaries
#   /rig/tests.list        their run order
#   /rig/settings          selftests/hv_ptp_ext/settings (timeout=SECONDS)
#
# Needs root (for the /dev/console node).
set -Eeuo pipefail
# A failing step names itself: script, line, command and status.
trap 'echo "${0##*/}: line $LINENO: \"$BASH_COMMAND\" failed (exit $?)" >&2' ERR

TOP=$(cd "$(dirname "$0")/../.." && pwd)
KVER=${1:?usage: initramfs.sh KVER}
OUT=$TOP/build/$KVER
STAGE=$OUT/initramfs
RIG=$TOP/selftests/rig

# shellcheck disable=SC2034 # (lib.sh)
RIG_NAME="initramfs[$KVER]"
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ -x $OUT/user/hv-ptp-sync ]] || die "$OUT/user/hv-ptp-sync missing (run selftests/rig/build.sh $KVER)"
for m in hv_host_sim hv_utils hv_ptp_ext hv_fault_phc; do
	[[ -f $OUT/mod/$m.ko ]] || die "$OUT/mod/$m.ko missing (run selftests/rig/build.sh $KVER)"
done
[[ -f $OUT/tests.list ]] || die "$OUT/tests.list missing (run selftests/rig/build.sh $KVER)"

rm -rf "$STAGE"
mkdir -p "$STAGE"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,root,etc} \
	 "$STAGE"/rig/{mod,tests}
# The kernel opens /dev/console for init before devtmpfs is mounted.
mknod -m 600 "$STAGE/dev/console" c 5 1

cp /bin/busybox "$STAGE/bin/busybox"
kmod_tools=" insmod rmmod lsmod modinfo modprobe depmod "
for applet in $(busybox --list-full); do
	[[ $kmod_tools == *" $(basename "$applet") "* ]] && continue
	[[ -e $STAGE/$applet ]] || ln -s /bin/busybox "$STAGE/$applet"
done

# with_libs FILE: the shared libraries FILE links, and the dynamic loader,
# into the stage at the paths ldd gives.
with_libs() {
	local lib
	for lib in $(ldd "$1" | grep -o '/[^ ]*'); do
		[[ -e $STAGE/$lib ]] && continue
		mkdir -p "$STAGE/$(dirname "$lib")"
		cp -L "$lib" "$STAGE/$lib"
	done
}

cp /bin/kmod "$STAGE/bin/kmod"
for tool in $kmod_tools; do
	ln -sf /bin/kmod "$STAGE/sbin/$tool"
done
with_libs /bin/kmod

install -m 755 "$OUT/user/hv-ptp-sync" "$STAGE/usr/sbin/hv-ptp-sync"
with_libs "$OUT/user/hv-ptp-sync"
install -m 755 "$OUT/user/hv-ptp-now" "$STAGE/usr/bin/hv-ptp-now"
with_libs "$OUT/user/hv-ptp-now"
install -m 755 "$OUT/user/demo-mon" "$STAGE/usr/bin/demo-mon"
install -m 755 "$RIG/guest-demo" "$STAGE/usr/bin/guest-demo"
install -m 755 "$OUT/user/bench-run" "$STAGE/usr/bin/bench-run"
install -m 755 "$RIG/guest-bench" "$STAGE/usr/bin/guest-bench"
install -m 755 "$OUT/user/ntp-fixture" "$STAGE/usr/bin/ntp-fixture"
# The benchmark's peers, as peers.sh unpacked them; chronyd looks its user
# up even as root.
PEERS=$TOP/.cache/peers/root
if [[ -x $PEERS/usr/sbin/chronyd && -x $PEERS/usr/sbin/phc2sys ]]; then
	for b in chronyd phc2sys; do
		install -m 755 "$PEERS/usr/sbin/$b" "$STAGE/usr/sbin/$b"
		with_libs "$PEERS/usr/sbin/$b"
	done
	# chronyc too: utc_audit's hv-ptp-sync reads chronyd through it
	install -m 755 "$PEERS/usr/bin/chronyc" "$STAGE/usr/bin/chronyc"
	with_libs "$PEERS/usr/bin/chronyc"
	echo "root:x:0:0:root:/root:/bin/sh" >"$STAGE/etc/passwd"
	echo "root:x:0:" >"$STAGE/etc/group"
else
	log "no chronyd/phc2sys (selftests/rig/peers.sh): make bench cannot run"
fi
# Newer suites' peers, each with its own loader and libraries.
for s in trixie sid; do
	[[ -x $TOP/.cache/peers/$s/chronyd ]] || continue
	mkdir -p "$STAGE/peers"
	cp -r "$TOP/.cache/peers/$s" "$STAGE/peers/$s"
done

install -m 755 "$RIG/guest-init" "$STAGE/init"
install -m 755 "$RIG/rig-load" "$STAGE/sbin/rig-load"
cp "$OUT/mod/"{hv_host_sim,hv_utils,hv_ptp_ext,hv_fault_phc}.ko "$STAGE/rig/mod/"
[[ -e $OUT/mod/hv_utils.force ]] && cp "$OUT/mod/hv_utils.force" "$STAGE/rig/mod/"
cp "$OUT/tests.list" "$STAGE/rig/tests.list"
while read -r t; do
	cp "$OUT/tests/$t" "$STAGE/rig/tests/"
done <"$OUT/tests.list"
settings=$TOP/selftests/hv_ptp_ext/settings
[[ -f $settings ]] && cp "$settings" "$STAGE/rig/settings"

(cd "$STAGE" && find . -mindepth 1 | LC_ALL=C sort |
	cpio -o -H newc --owner=0:0 --quiet) | gzip -n -6 >"$OUT/initramfs.cpio.gz"
log "$(du -h "$OUT/initramfs.cpio.gz" | cut -f1) with $(wc -l <"$OUT/tests.list") test programs"
