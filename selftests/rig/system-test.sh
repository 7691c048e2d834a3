#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# system-test.sh [SUITE] (make check-system): the packages on a real Debian
# system of SUITE (default trixie, Debian 13; bookworm works too). A root
# file system from debootstrap (sysroot.sh, cached) with the suite's generic
# kernel, systemd as PID 1 and chrony set up as on Azure, boots under QEMU
# TCG with the simulated host (built here for that kernel, with the suite's
# own compiler, inside the root) loaded at boot in place of hv_vmbus. The guest (system-guest, run by
# rig-system.service at the end of each boot) installs the two .debs from
# make deb (DKMS builds the module inside), reboots, checks the module, the
# unit and the clock, purges the packages, checks that everything is as
# before, reboots and checks again. TAP lines from the guest are shown as
# they come; the last line is "system: P passed, F failed, S skipped".
#
# The simulated host stands in for Hyper-V with a rig-only modprobe.d file:
# "hv_vmbus" loads hv_host_sim, and hv_utils and hv_ptp_ext load with
# --force-modversion, because they are built against hv_vmbus's symbol CRCs
# and the simulator's differ (see selftests/host_sim/README).
set -Eeuo pipefail
# A failing step names itself: script, line, command and status.
trap 'echo "${0##*/}: line $LINENO: \"$BASH_COMMAND\" failed (exit $?)" >&2' ERR

TOP=$(cd "$(dirname "$0")/../.." && pwd)
RIG=$TOP/selftests/rig
SUITE=${1:-trixie}
OUT=$TOP/build/system
TIMEOUT=${RIG_TIMEOUT:-1800}
PROFILE=${RIG_SYSTEM_PROFILE:-azure}

# shellcheck disable=SC2034 # (lib.sh)
RIG_NAME="system" RIG_DIE_SUMMARY=system
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

((EUID == 0)) || die "run as root (debootstrap, the image's file owners)"

"$RIG/deb.sh" --no-lintian
read -r sysroot KVER < <("$RIG/sysroot.sh" "$SUITE")
[[ -n ${KVER:-} ]] || die "no $SUITE root file system"
log "$SUITE, kernel $KVER"

# The simulated host for that kernel, built in the root with its compiler
# and headers (in-suite.sh puts this checkout at the same path inside).
simsrc=$TOP/build/system-sim
rm -rf "$simsrc"
mkdir -p "$simsrc/kernel" "$simsrc/selftests"
cp "$TOP"/kernel/compat.h "$TOP"/kernel/compat.mk "$simsrc/kernel/"
cp -r "$TOP/selftests/host_sim" "$TOP/selftests/compat_test.h" "$simsrc/selftests/"
"$RIG/in-suite.sh" "$sysroot" -- make -C "/usr/src/linux-headers-$KVER" \
	M="$simsrc/selftests/host_sim" KCFLAGS=-Werror modules \
	>"$simsrc/build.log" 2>&1 ||
	{ tail -n 30 "$simsrc/build.log"; die "hv_host_sim.ko did not build for $KVER"; }
sim=$simsrc/selftests/host_sim/hv_host_sim.ko
kernel=$sysroot/boot/vmlinuz-$KVER
initrd=$sysroot/boot/initrd.img-$KVER

rm -rf "$OUT"
mkdir -p "$OUT"
root=$OUT/root
log "image: the cached system, the .debs and the simulated host"
cp -a "$sysroot" "$root"
rm -f "$root/.rig-key"
install -d "$root/root/debs" "$root/usr/local/lib/rig"
cp "$TOP"/build/deb/hv-ptp-ext-dkms_*.deb "$TOP"/build/deb/hv-ptp-sync_*_amd64.deb \
	"$root/root/debs/"
install -m 644 "$sim" "$root/usr/local/lib/rig/hv_host_sim.ko"
install -m 755 "$RIG/system-guest" "$root/usr/local/lib/rig/system-guest"
# An application on AWS ClockBound's own library (cb-now.c), where
# clockbound-lib.sh built it; static, so the image needs nothing more.
cblib=$TOP/build/clockbound
if [[ -f $cblib/libclockbound.a ]]; then
	log "cb-now on AWS ClockBound's libclockbound"
	gcc -O2 -static -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror \
		-I"$cblib/include" "$RIG/cb-now.c" "$cblib/libclockbound.a" \
		-lpthread -ldl -lm -o "$root/usr/local/lib/rig/cb-now" 2>"$OUT/cb-now.log" ||
		{ cat "$OUT/cb-now.log" >&2; die "cb-now failed to build"; }
fi

# The UTC audit's NTP server, answering from the simulated host's UTC.
gcc -O2 -static -std=gnu11 -Wall -Wextra -Werror "$RIG/ntp-fixture.c" \
	-o "$root/usr/local/lib/rig/ntp-fixture" 2>"$OUT/ntp-fixture.log" ||
	{ cat "$OUT/ntp-fixture.log" >&2; die "ntp-fixture failed to build"; }

# Azure's images name the Hyper-V PHC /dev/ptp_hyperv with a udev rule of
# their own (chrony's refclock uses it); Debian's packages do not. chronyd
# exits when its refclock's device is missing, and nothing orders it after
# udev's link: on a slow boot it starts first and fails, as on Azure
# (WALinuxAgent issue 3038). The image the test starts from is one where
# chrony works at every boot, so the link is tagged for systemd and chrony
# waits for it; the comparison before/after the install needs that.
cat >"$root/etc/udev/rules.d/99-azure-ptp-hyperv.rules" <<-'EOF'
	ACTION!="remove", SUBSYSTEM=="ptp", ATTR{clock_name}=="hyperv", SYMLINK+="ptp_hyperv", TAG+="systemd"
EOF
install -d "$root/etc/systemd/system/chrony.service.d"
cat >"$root/etc/systemd/system/chrony.service.d/azure-phc.conf" <<-'EOF'
	[Unit]
	Wants=dev-ptp_hyperv.device
	After=dev-ptp_hyperv.device
EOF
cat >"$root/etc/modprobe.d/00-rig-host-sim.conf" <<EOF
# Test rig only: the simulated Hyper-V host (hv_host_sim) stands in for
# hv_vmbus, which cannot load outside Hyper-V. Its clients are built against
# hv_vmbus's symbol CRCs, so they load with --force-modversion.
install hv_vmbus grep -q '^hv_host_sim ' /proc/modules || /sbin/insmod /usr/local/lib/rig/hv_host_sim.ko profile=$PROFILE
install hv_utils /sbin/modprobe --ignore-install --force-modversion hv_utils \$CMDLINE_OPTS
install hv_ptp_ext /sbin/modprobe --ignore-install --force-modversion hv_ptp_ext \$CMDLINE_OPTS
EOF
# On Hyper-V udev loads hv_utils for the VMBus devices; the simulator sends
# no uevents, so it is loaded here, before hv_ptp_ext (file names sort).
cat >"$root/etc/modules-load.d/00-rig-host-sim.conf" <<-'EOF'
	hv_utils
EOF
cat >"$root/etc/systemd/system/rig-system.service" <<-'EOF'
	[Unit]
	Description=hv_ptp_ext system test, guest half
	After=multi-user.target

	[Service]
	Type=oneshot
	ExecStart=/usr/local/lib/rig/system-guest
	TimeoutStartSec=infinity

	[Install]
	WantedBy=multi-user.target
EOF
ln -s ../rig-system.service \
	"$root/etc/systemd/system/multi-user.target.wants/rig-system.service"

img=$OUT/disk.img
mke2fs -q -t ext4 -L root -d "$root" "$img" 4G
rm -rf "$root"

append="root=/dev/vda rw console=ttyS0 clocksource=tsc tsc=reliable panic=-1"
append+=" systemd.show_status=0 net.ifnames=0"
console=$OUT/console.log
tap=$OUT/tap.log
: >"$tap"
log "booting $KVER with systemd (timeout ${TIMEOUT}s; console in $console)"
start=$SECONDS
timeout -k 10 "$TIMEOUT" \
	qemu-system-x86_64 -accel tcg -smp 2 -m 2048 \
	-nographic -nodefaults \
	-kernel "$kernel" -initrd "$initrd" -append "$append" \
	-drive "file=$img,format=raw,if=virtio" \
	-serial "file:$console" -serial "file:$tap" &
qpid=$!
# Show the guest's lines as they come.
tail -n +1 -f "$tap" --pid=$qpid &
tpid=$!
qrc=0
wait $qpid || qrc=$?
sleep 1
kill $tpid 2>/dev/null || :
wait $tpid 2>/dev/null || :
log "guest done in $((SECONDS - start))s (qemu status $qrc)"

tr -d '\r' <"$tap" >"$tap.clean"
pass=$(grep -c '^ok ' "$tap.clean" || :)
fail=$(grep -c '^not ok ' "$tap.clean" || :)
if ! grep -q '^RIG-SYSTEM-DONE' "$tap.clean"; then
	log "the guest did not finish (see $console)"
	tail -n 30 "$console" | sed 's/^/system:   /'
	fail=$((fail + 1))
fi
for key in install_s boot_s daemon_started_s ntp_synchronized_s locked_s exposure purge_s; do
	v=$(sed -n "s/^# $key //p" "$tap.clean" | tail -n 1)
	[[ -n $v ]] && log "$key $v"
done
rm -f "$img"
echo "system: $pass passed, $fail failed, 0 skipped"
((fail == 0))
