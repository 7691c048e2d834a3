#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# arm64-guest.sh: builds and boots one arm64 guest (qemu-system-aarch64,
# -M virt, TCG) on Debian 13's newest 6.12 arm64 kernel, with the simulated
# host, Debian's hv_utils and hv_ptp_ext loaded, and runs a subset of the
# kselftests. Everything lives in .cache/arm64/ (downloads, the kernel's
# root) and build/arm64/ (modules, tests, initramfs, logs):
#
#   1. a Debian 13 root with the aarch64 cross compiler (suite-root.sh,
#      RIG_ROOT_NAME=trixie-arm64);
#   2. the kernel's packages (image, headers, -common, amd64 linux-kbuild),
#      busybox-static and libjansson-dev for arm64, fetched with an apt
#      configuration of its own (.cache/arm64/apt: never the machine's
#      sources) and unpacked with dpkg-deb -x into .cache/arm64/root;
#   3. hv_host_sim.ko, hv_fault_phc.ko, hv_ptp_ext.ko cross-built in that
#      root (KCFLAGS=-Werror, as build.sh), hv_utils.ko decompressed;
#   4. the kselftests cross-built static, and mini-kmod.c as insmod/rmmod
#      (rig-load needs insmod -f; kmod is dynamic, busybox's has no -f);
#   5. an initramfs as initramfs.sh's (guest-init, rig-load unchanged);
#   6. the boot. -M virt has one PL011 (ttyAMA0, the console); guest-init
#      reports TAP on ttyS1 and rig.ctl on ttyS2, so the guest gets three
#      PCI 16550s (pci-serial: 8250_pci makes them ttyS0..2) whose second
#      is the TAP log; ttyS2 is not served (no freezer: tests that freeze
#      the guest are not in the subset).
#
# Prints "arm64/KVER: N passed, N failed, N skipped" as run-vm.sh does,
# and exits non-zero if anything failed.
#
# Environment:
#   RIG_TESTS    comma-separated globs (rig.tests=); default: the subset
#                below (no test that needs the daemon hv-ptp-sync, which
#                is not cross-built). arm64_measure (arm64-measure.c):
#                ours against hv_utils, errors, windows and CPU per read
#   RIG_TIMEOUT  wall-clock limit of the guest in seconds (default 3600)
#   RIG_APPEND   more kernel command line (e.g. rig.timeout=SECONDS)
#   RIG_SIM      hv_host_sim parameters every load gets (RIG_SIM=
#                "hc_latency_ns=5000 hc_jitter_ns=500"): passed on the
#                kernel command line as hv_host_sim.PARAM=VALUE, which the
#                guest's insmod (mini-kmod.c) adds as modprobe would
#   RIG_OUT      directory for the initramfs, console.log and tap.log
#                (default build/arm64; for several guests at once)
#   ARM64_SKIP_BUILD=1  reuse what the last run built (boot only)
set -Eeuo pipefail
# A failing step names itself: script, line, command and status.
trap 'echo "${0##*/}: line $LINENO: \"$BASH_COMMAND\" failed (exit $?)" >&2' ERR

TOP=$(cd "$(dirname "$0")/../.." && pwd)
RIG=$TOP/selftests/rig
CACHE=$TOP/.cache/arm64
KROOT=$CACHE/root
OUT=$TOP/build/arm64
SRC=$OUT/src
KSFT_DIR=$TOP/.cache/linux-source/tools/testing/selftests
MIRROR=${RIG_MIRROR:-http://deb.debian.org/debian}
TIMEOUT=${RIG_TIMEOUT:-3600}
CROSS=aarch64-linux-gnu-
DEFAULT_TESTS=sim_truth,ours_reads,ours_lifecycle,ours_events,intree_phc

# shellcheck disable=SC2034 # (lib.sh)
RIG_NAME="arm64-guest"
. "$RIG/lib.sh"

((EUID == 0)) || die "needs root (chroot, dpkg-deb, /dev/console node)"
[[ -f $KSFT_DIR/kselftest_harness.h ]] ||
	die "no kselftest_harness.h in $KSFT_DIR (run selftests/rig/kernels.sh)"
need_debs qemu-system-arm cpio rsync xz-utils

mkdir -p "$CACHE" "$OUT"

# --- 1. the build root ----------------------------------------------------
log "Debian 13 root with ${CROSS}gcc"
BROOT=$(RIG_ROOT_NAME=trixie-arm64 "$RIG/suite-root.sh" trixie \
	gcc-14-aarch64-linux-gnu libc6-dev-arm64-cross)
# gcc-14-aarch64-linux-gnu ships only the versioned driver
for t in gcc cpp; do
	[[ -e $BROOT/usr/bin/$CROSS$t ]] || ln -s "$CROSS$t-14" "$BROOT/usr/bin/$CROSS$t"
done
in_root() {
	"$RIG/in-suite.sh" "$BROOT" -- "$@"
}

# --- 2. the packages --------------------------------------------------------
APT=$CACHE/apt
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$CACHE/debs"
{
	echo "deb [arch=arm64,amd64] $MIRROR trixie main"
	echo "deb [arch=arm64,amd64] $MIRROR trixie-updates main"
	echo "deb [arch=arm64,amd64] ${MIRROR%/debian}/debian-security trixie-security main"
} >"$APT/sources.list"
: >"$APT/status"
apt_opts=(-o "Dir::Etc::sourcelist=$APT/sources.list" -o Dir::Etc::sourceparts=-
	  -o "Dir::State::lists=$APT/lists" -o "Dir::State::status=$APT/status"
	  -o "Dir::Cache=$APT/cache" -o APT::Architecture=arm64
	  -o APT::Architectures::=arm64 -o APT::Architectures::=amd64
	  -o Acquire::Check-Valid-Until=false)

if [[ -z ${ARM64_SKIP_BUILD:-} ]]; then
	log "apt-get update (arm64 package lists, .cache/arm64/apt)"
	apt-get "${apt_opts[@]}" -qq update
fi
img=$(apt-cache "${apt_opts[@]}" pkgnames linux-image-6.12 |
	grep -E '^linux-image-6\.12\.[0-9]+\+deb13-arm64-unsigned$' | sort -V | tail -n 1)
[[ -n $img ]] || die "no linux-image-6.12.*+deb13-arm64-unsigned in trixie"
KVER=${img#linux-image-}
KVER=${KVER%-unsigned}
KV=${KVER%%+*}			# 6.12.N
kbuild=linux-kbuild-$KV+deb13
log "kernel $KVER"
# shellcheck disable=SC2034 # (lib.sh's die)
RIG_DIE_SUMMARY="arm64/$KVER"

# newest GLOB: the newest of the .debs GLOB names (by version)
newest() {
	# shellcheck disable=SC2012,SC2086 # a glob; .deb names have no blanks
	ls $1 | sort -V | tail -n 1
}

fetch() {
	(cd "$CACHE/debs" && apt-get "${apt_opts[@]}" -qq download "$@")
}
kpkgs=("$img" "linux-headers-$KVER" "linux-headers-$KV+deb13-common")
if [[ -z ${ARM64_SKIP_BUILD:-} ]]; then
	for p in "${kpkgs[@]}" busybox-static libjansson-dev; do
		compgen -G "$CACHE/debs/${p}_*_arm64.deb" >/dev/null ||
			compgen -G "$CACHE/debs/${p}_*_all.deb" >/dev/null ||
			{ log "downloading $p"; fetch "$p"; }
	done
	# the headers' scripts (modpost, fixdep) run on this machine: amd64
	compgen -G "$CACHE/debs/${kbuild}_*_amd64.deb" >/dev/null ||
		{ log "downloading $kbuild:amd64"; fetch "$kbuild:amd64"; }
fi

# Unpacked into directories of their own, never into a root's /.
if [[ ! -f $KROOT/.rig-kver || $(cat "$KROOT/.rig-kver") != "$KVER" ]]; then
	log "unpacking the kernel into $KROOT"
	rm -rf "$KROOT" "$CACHE/busybox" "$CACHE/jansson"
	mkdir -p "$KROOT"
	for p in "${kpkgs[@]}"; do
		dpkg-deb -x "$(newest "$CACHE/debs/${p}_*.deb")" "$KROOT"
	done
	dpkg-deb -x "$(newest "$CACHE/debs/${kbuild}_*_amd64.deb")" "$KROOT"
	hdr=$KROOT/usr/src/linux-headers-$KVER
	# the flavour Makefile includes -common by absolute path (kernels.sh)
	sed -i -E "s|^include .*(/usr/src/linux-headers-[^/]*-common/Makefile)\$|include $KROOT\\1|" \
		"$hdr/Makefile"
	grep -q "^include $KROOT/usr/src/linux-headers-.*-common/Makefile\$" "$hdr/Makefile" ||
		die "unexpected $hdr/Makefile: $(cat "$hdr/Makefile")"
	echo "$KVER" >"$KROOT/.rig-kver"
fi
KDIR=$KROOT/usr/src/linux-headers-$KVER
# symlinks of the packages point at /usr/...: resolve them inside KROOT
for l in "$KDIR/scripts" "$KDIR/tools"; do
	if [[ -L $l && $(readlink "$l") == /* ]]; then
		ln -sfn "$KROOT$(readlink "$l")" "$l"
	fi
done
[[ -f $(readlink -f "$KDIR/scripts")/mod/modpost ]] ||
	die "$KDIR/scripts does not resolve to a kbuild tree"
MODDIR=$(compgen -G "$KROOT/usr/lib/modules/$KVER" || compgen -G "$KROOT/lib/modules/$KVER") ||
	die "no lib/modules/$KVER in $KROOT"
if [[ ! -x $CACHE/busybox/usr/bin/busybox ]]; then
	mkdir -p "$CACHE/busybox" "$CACHE/jansson"
	dpkg-deb -x "$(newest "$CACHE/debs/busybox-static_*_arm64.deb")" "$CACHE/busybox"
	dpkg-deb -x "$(newest "$CACHE/debs/libjansson-dev_*_arm64.deb")" "$CACHE/jansson"
fi
BUSYBOX=$(compgen -G "$CACHE/busybox/usr/bin/busybox" || compgen -G "$CACHE/busybox/bin/busybox") ||
	die "no busybox in busybox-static"

# --- 3. modules --------------------------------------------------------------
mkdir -p "$SRC" "$OUT/mod" "$OUT/tests"
kmake=(in_root make -C "$KDIR" -j"$(nproc)" ARCH=arm64 CROSS_COMPILE="$CROSS"
       KCFLAGS=-Werror)
# no module BTF: the root has no pahole, and nothing here reads BTF
kmake+=(CONFIG_DEBUG_INFO_BTF_MODULES=)

# module_build NAME DIR [ARGS...]: make modules in DIR; fail on warnings.
module_build() {
	local name=$1 dir=$2 logf=$OUT/build-$1.log

	shift 2
	log "$name.ko"
	if ! "${kmake[@]}" M="$dir" "$@" modules >"$logf" 2>&1; then
		cat "$logf" >&2
		die "$name.ko failed to build"
	fi
	if grep -qi 'warning' "$logf"; then
		cat "$logf" >&2
		die "$name.ko built with warnings"
	fi
	cp "$dir/$name.ko" "$OUT/mod/"
}

if [[ -z ${ARM64_SKIP_BUILD:-} ]]; then
	rsync -a --delete --relative \
		--exclude='*.o' --exclude='*.ko' --exclude='*.mod' --exclude='*.mod.c' \
		--exclude='.*.cmd' --exclude='*.cmd' --exclude='modules.order' \
		--exclude='Module.symvers' --exclude='.tmp_versions/' \
		--exclude='.module-common.o' \
		"$TOP/./Kbuild" "$TOP/./kernel" \
		"$TOP/./selftests/host_sim" "$TOP/./selftests/fault_phc" \
		"$TOP/./selftests/compat_test.h" \
		"$TOP/./selftests/hv_ptp_ext" \
		"$SRC/"
	module_build hv_host_sim "$SRC/selftests/host_sim"
	module_build hv_fault_phc "$SRC/selftests/fault_phc"
	module_build hv_ptp_ext "$SRC" \
		KBUILD_EXTRA_SYMBOLS="$SRC/selftests/host_sim/Module.symvers"

	hvu=$MODDIR/kernel/drivers/hv/hv_utils.ko
	if [[ -f $hvu ]]; then
		cp "$hvu" "$OUT/mod/hv_utils.ko"
	elif [[ -f $hvu.xz ]]; then
		xz -dc "$hvu.xz" >"$OUT/mod/hv_utils.ko"
	else
		die "no hv_utils.ko in $MODDIR"
	fi
	if grep -qx 'CONFIG_MODVERSIONS=y' "$KDIR/.config"; then
		: >"$OUT/mod/hv_utils.force"
	else
		rm -f "$OUT/mod/hv_utils.force"
	fi

	# --- 4. kselftests, insmod/rmmod -------------------------------------
	make -C "$SRC/selftests/hv_ptp_ext" -s emit_tests |
		sed -n 's/^hv_ptp_ext://p' >"$OUT/tests.list"
fi

# The selected tests, in tests.list's order: only they are built (vmclock
# is x86's) and go into the initramfs (guest-init runs what it lists).
tests=${RIG_TESTS:-$DEFAULT_TESTS}
selection=()
while read -r t; do
	for pat in ${tests//,/ }; do
		# shellcheck disable=SC2254 # a glob on purpose
		case $t in $pat) selection+=("$t"); break ;; esac
	done
done < <(cat "$OUT/tests.list"; echo arm64_measure)
((${#selection[@]})) || die "no test matches $tests"

if [[ -z ${ARM64_SKIP_BUILD:-} ]]; then
	log "kselftests (static, ${CROSS}gcc): ${selection[*]}"
	J=$CACHE/jansson
	tmake=(make -C "$SRC/selftests/hv_ptp_ext" KSFT_DIR="$KSFT_DIR"
	       OUTPUT="$OUT/tests" CC="${CROSS}gcc"
	       CPPFLAGS="-I$J/usr/include"
	       LDFLAGS="-L$J/usr/lib/aarch64-linux-gnu")
	kself=()
	for t in "${selection[@]}"; do
		[[ $t == arm64_measure ]] || kself+=("$OUT/tests/$t")
	done
	if ((${#kself[@]})) &&
	   ! in_root "${tmake[@]}" -j"$(nproc)" "${kself[@]}" >"$OUT/build-tests.log" 2>&1; then
		cat "$OUT/build-tests.log" >&2
		die "kselftests failed to build"
	fi
	# the measurement (RIG_TESTS=arm64_measure), with the tests' headers
	if [[ " ${selection[*]} " == *" arm64_measure "* ]]; then
		in_root ${CROSS}gcc -static -O2 -Wall -Wextra -Werror -std=gnu11 \
			-isystem "$KSFT_DIR" -I"$TOP/selftests/hv_ptp_ext" \
			-I"$J/usr/include" "$RIG/arm64-measure.c" \
			-o "$OUT/tests/arm64_measure" -L"$J/usr/lib/aarch64-linux-gnu" \
			-ljansson -lm || die "arm64_measure failed to build"
	fi
	in_root ${CROSS}gcc -static -O2 -Wall -Wextra -Werror -std=gnu11 \
		"$RIG/mini-kmod.c" -o "$OUT/mini-kmod" ||
		die "mini-kmod failed to build"
fi

# --- 5. initramfs --------------------------------------------------------
LOGS=${RIG_OUT:-$OUT}
STAGE=$LOGS/initramfs
mkdir -p "$LOGS"
rm -rf "$STAGE"
mkdir -p "$STAGE"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,root,etc} \
	 "$STAGE"/rig/{mod,tests}
mknod -m 600 "$STAGE/dev/console" c 5 1
cp "$BUSYBOX" "$STAGE/bin/busybox"
# the applets this machine's busybox has (the arm64 one cannot run here);
# a name the arm64 one lacks only fails when called
for applet in $(busybox --list-full); do
	case ${applet##*/} in insmod|rmmod|lsmod|modinfo|modprobe|depmod) continue ;; esac
	[[ -e $STAGE/$applet ]] || ln -s /bin/busybox "$STAGE/$applet"
done
install -m 755 "$OUT/mini-kmod" "$STAGE/sbin/mini-kmod"
ln -s mini-kmod "$STAGE/sbin/insmod"
ln -s mini-kmod "$STAGE/sbin/rmmod"
ln -s /bin/busybox "$STAGE/sbin/lsmod"
install -m 755 "$RIG/guest-init" "$STAGE/init"
install -m 755 "$RIG/rig-load" "$STAGE/sbin/rig-load"
cp "$OUT/mod/"{hv_host_sim,hv_utils,hv_ptp_ext,hv_fault_phc}.ko "$STAGE/rig/mod/"
[[ -e $OUT/mod/hv_utils.force ]] && cp "$OUT/mod/hv_utils.force" "$STAGE/rig/mod/"
printf '%s\n' "${selection[@]}" >"$STAGE/rig/tests.list"
for t in "${selection[@]}"; do
	cp "$OUT/tests/$t" "$STAGE/rig/tests/"
done
cp "$TOP/selftests/hv_ptp_ext/settings" "$STAGE/rig/settings"
(cd "$STAGE" && find . -mindepth 1 | LC_ALL=C sort |
	cpio -o -H newc --owner=0:0 --quiet) | gzip -n -6 >"$LOGS/initramfs.cpio.gz"
log "initramfs $(du -h "$LOGS/initramfs.cpio.gz" | cut -f1): $(paste -sd ' ' "$STAGE/rig/tests.list")"

# --- 6. boot -------------------------------------------------------------
# Debian's arm64 vmlinuz is a gzip'd Image; QEMU takes it as it is, but
# the plain Image is unambiguous.
vmlinuz=$KROOT/boot/vmlinuz-$KVER
kernel=$OUT/Image
if [[ ! -f $kernel || $vmlinuz -nt $kernel ]]; then
	if gzip -t "$vmlinuz" 2>/dev/null; then
		gzip -dc "$vmlinuz" >"$kernel"
	else
		cp "$vmlinuz" "$kernel"
	fi
fi

append="console=ttyAMA0 panic=-1 oops=panic log_buf_len=4M"
append+=" rig.tests=$tests"
for p in ${RIG_SIM:-}; do
	append+=" hv_host_sim.$p"
done
[[ -n ${RIG_APPEND:-} ]] && append+=" $RIG_APPEND"
console=$LOGS/console.log
tap=$LOGS/tap.log
: >"$console"
: >"$tap"

log "booting $KVER (timeout ${TIMEOUT}s)"
start=$SECONDS
qrc=0
# shellcheck disable=SC2086 # RIG_QEMU_ARGS is a list of words
timeout -k 10 "$TIMEOUT" \
	qemu-system-aarch64 -M virt -cpu max -accel tcg -smp 2 -m 1024 \
	-nographic -nodefaults -no-reboot \
	-kernel "$kernel" -initrd "$LOGS/initramfs.cpio.gz" -append "$append" \
	-serial "file:$console" \
	-chardev null,id=s0 -device pci-serial,chardev=s0 \
	-chardev "file,id=tap,path=$tap" -device pci-serial,chardev=tap \
	-chardev null,id=ctl -device pci-serial,chardev=ctl \
	${RIG_QEMU_ARGS:-} </dev/null &
qpid=$!
tail -n +1 -f --pid="$qpid" "$tap" 2>/dev/null |
	while IFS= read -r line; do
		printf '[arm64] %s\n' "${line%$'\r'}"
	done &
tpid=$!
wait "$qpid" || qrc=$?
wait "$tpid" || true
elapsed=$((SECONDS - start))

read -r passed failed skipped planned reported < <(tap_count "$tap")
problems=()
problem() {
	problems+=("$1")
	failed=$((failed + ${2:-1}))
}
if ((qrc == 124 || qrc == 137)); then
	problem "timed out after ${TIMEOUT}s"
elif ((qrc != 0)); then
	problem "qemu exited with status $qrc"
fi
grep -q 'Kernel panic' "$console" && problem "the guest panicked"
grep -q '^RIG-DONE' "$tap" || problem "no RIG-DONE from the guest"
if ((planned == 0)); then
	problem "no TAP plan from the guest"
elif ((reported < planned)); then
	problem "$((planned - reported)) of $planned tests did not report" \
		$((planned - reported))
fi
log "whole run ${elapsed}s"
for p in "${problems[@]}"; do
	log "FAILED: $p"
done
if ((failed > 0 || ${#problems[@]} > 0)); then
	log "last 40 lines of $console:"
	tail -n 40 "$console" | sed "s/^/[arm64 console] /"
fi
echo "arm64/$KVER: $passed passed, $failed failed, $skipped skipped"
if ((failed > 0 || ${#problems[@]} > 0)); then
	exit 1
fi
