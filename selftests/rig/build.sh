#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build.sh KVER: builds everything the guest for KVER runs, into build/KVER/:
#
#   mod/hv_host_sim.ko  the simulated Hyper-V host (selftests/host_sim/Kbuild)
#   mod/hv_fault_phc.ko a PTP clock that misbehaves on request
#                       (selftests/fault_phc/Kbuild)
#   mod/hv_ptp_ext.ko   the product (top-level Kbuild), linked against the
#                       simulator's symbol CRCs so that plain insmod loads it
#   mod/hv_utils.ko     the kernel's own driver, decompressed
#   mod/hv_utils.force  present when rig-load must load it forced
#   tests/NAME          static kselftest binaries (selftests/hv_ptp_ext)
#   tests.list          their run order
#   user/hv-ptp-sync    the daemon (user/)
#   user/demo-mon       the measuring half of make demo
#   user/bench-run      one run of make bench
#   user/ntp-fixture    the NTP server of utc_audit (the simulator's UTC)
#
# Kbuild writes its objects next to the sources, and we build for two
# kernels, so the sources are first copied to build/KVER/src/. Compiler
# warnings are errors; any warning that is not (modpost's) fails the build.
# Needs selftests/rig/kernels.sh to have run. RIG_KROOT: the kernel's root
# (boot/, lib/modules/, usr/src/linux-headers-KVER) when it is not one of
# kernels.sh's (debug-kernel.sh and rig-kernel.sh set it). RIG_BUILD_ROOT:
# a suite's root (suite-root.sh) whose compiler the kernel needs (sid's
# 7.2: gcc-16); the modules are then built in it (in-suite.sh).
set -Eeuo pipefail
# A failing step names itself: script, line, command and status.
trap 'echo "${0##*/}: line $LINENO: \"$BASH_COMMAND\" failed (exit $?)" >&2' ERR

TOP=$(cd "$(dirname "$0")/../.." && pwd)
KVER=${1:?usage: build.sh KVER}
ROOT=${RIG_KROOT:-$TOP/.cache/kernels/$KVER/root}
KDIR=$ROOT/usr/src/linux-headers-$KVER
KSFT_DIR=$TOP/.cache/linux-source/tools/testing/selftests
OUT=$TOP/build/$KVER
SRC=$OUT/src

# shellcheck disable=SC2034 # (lib.sh)
RIG_NAME="build[$KVER]"
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ -f $KDIR/Makefile ]] || die "no headers in $KDIR (run selftests/rig/kernels.sh)"
[[ -f $KSFT_DIR/kselftest_harness.h ]] ||
	die "no kselftest_harness.h in $KSFT_DIR (run selftests/rig/kernels.sh)"
[[ -f $TOP/selftests/host_sim/Kbuild ]] ||
	die "no selftests/host_sim/Kbuild: the simulated host is missing"

mkdir -p "$SRC" "$OUT/mod" "$OUT/tests"

# Copy the sources; build products already in $SRC are left alone (rsync
# does not delete excluded files), so rebuilds are incremental.
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

kmake=(make -C "$KDIR" -j"$(nproc)" KCFLAGS=-Werror)
if [[ -n ${RIG_BUILD_ROOT:-} ]]; then
	# the tree itself, at the same path inside as outside
	kmake=("$TOP/selftests/rig/in-suite.sh" "$RIG_BUILD_ROOT"
	       --bind "$(readlink -f "$KDIR")" --
	       make -C "$(readlink -f "$KDIR")" -j"$(nproc)" KCFLAGS=-Werror)
fi
# Debian's 6.1 headers ship no vmlinux, without which module BTF cannot be
# generated; skip it quietly instead of printing "Skipping BTF generation".
[[ -f $KDIR/vmlinux ]] || kmake+=(CONFIG_DEBUG_INFO_BTF_MODULES=)

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

module_build hv_host_sim "$SRC/selftests/host_sim"
module_build hv_fault_phc "$SRC/selftests/fault_phc"
# hv_ptp_ext imports the VMBus API, which in the guest the simulator
# exports: take the CRCs from its Module.symvers, not from hv_vmbus's.
module_build hv_ptp_ext "$SRC" \
	KBUILD_EXTRA_SYMBOLS="$SRC/selftests/host_sim/Module.symvers"

# Debian's hv_utils; 6.12 ships it xz-compressed. Decompress it, because a
# forced load (insmod -f) of a compressed module fails the signature check.
hvu=$ROOT/lib/modules/$KVER/kernel/drivers/hv/hv_utils.ko
if [[ -f $hvu ]]; then
	cp "$hvu" "$OUT/mod/hv_utils.ko"
elif [[ -f $hvu.xz ]]; then
	xz -dc "$hvu.xz" >"$OUT/mod/hv_utils.ko"
elif [[ -f $hvu.zst ]]; then
	zstd -q -dc "$hvu.zst" >"$OUT/mod/hv_utils.ko"
else
	die "no hv_utils.ko in $ROOT/lib/modules/$KVER"
fi
# With symbol versions its CRCs are hv_vmbus's: rig-load must force it.
if grep -qx 'CONFIG_MODVERSIONS=y' "$KDIR/.config"; then
	: >"$OUT/mod/hv_utils.force"
	log "hv_utils.ko (the kernel's own; loaded forced: symbol versions)"
else
	rm -f "$OUT/mod/hv_utils.force"
	log "hv_utils.ko (the kernel's own)"
fi

log "kselftests"
# with AWS ClockBound's library where clockbound-lib.sh built it
tmake=(make -C "$SRC/selftests/hv_ptp_ext" KSFT_DIR="$KSFT_DIR"
       OUTPUT="$OUT/tests" CLOCKBOUND_DIR="$TOP/build/clockbound")
if ! "${tmake[@]}" -j"$(nproc)" all >"$OUT/build-tests.log" 2>&1; then
	cat "$OUT/build-tests.log" >&2
	die "kselftests failed to build"
fi
"${tmake[@]}" -s emit_tests | sed -n 's/^hv_ptp_ext://p' >"$OUT/tests.list"
# Drop binaries of tests that no longer exist.
for f in "$OUT/tests"/*; do
	[[ -e $f ]] || continue
	grep -qxF "$(basename "$f")" "$OUT/tests.list" || rm -f "$f"
done
tests=$(paste -sd ' ' "$OUT/tests.list")
log "$(wc -l <"$OUT/tests.list") test programs${tests:+: $tests}"

log "hv-ptp-sync"
if ! make -C "$TOP/user" -j"$(nproc)" OUTPUT="$OUT/user" \
	>"$OUT/build-user.log" 2>&1; then
	cat "$OUT/build-user.log" >&2
	die "hv-ptp-sync failed to build"
fi
cc -static -O2 -Wall -Wextra -Werror -std=gnu11 -isystem "$KSFT_DIR" \
	"$TOP/selftests/rig/demo-mon.c" -o "$OUT/user/demo-mon" -ljansson -lm ||
	die "demo-mon failed to build"
cc -static -O2 -Wall -Wextra -Werror -std=gnu11 -isystem "$KSFT_DIR" \
	"$TOP/selftests/rig/bench-run.c" "$TOP/selftests/rig/oracle.c" \
	-o "$OUT/user/bench-run" -ljansson -lm ||
	die "bench-run failed to build"
cc -static -O2 -Wall -Wextra -Werror -std=gnu11 \
	"$TOP/selftests/rig/ntp-fixture.c" -o "$OUT/user/ntp-fixture" ||
	die "ntp-fixture failed to build"
