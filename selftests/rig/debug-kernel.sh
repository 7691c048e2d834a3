#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-kernel.sh [--build-only]: make check-debug. Builds a 6.12 kernel
# from Debian's linux-source-6.12 with a small configuration and the
# kernel's checkers (selftests/rig/debug-kernel.config, beside
# rig-kernel.config: KASAN, UBSAN,
# lockdep with PROVE_LOCKING and PROVE_RCU, DEBUG_ATOMIC_SLEEP, kmemleak,
# debug objects), then runs the rig's kselftests on it under QEMU TCG:
# build.sh, initramfs.sh and run-vm.sh, as for Debian's kernels, with
# RIG_KROOT pointing at this kernel. The guest's dmesg_clean test fails on
# any report of those checkers, kmemleak's included.
#
# The kernel (rig-kernel.sh) is cached in $RIG_DEBUG_CACHE (default
# /var/cache/hv-ptp-ext) under a key made of the source and the fragments:
# the first build takes about half an hour on two cores, later runs none.
# Older builds are removed.
#
# Environment: RIG_TESTS, RIG_TIMEOUT (default 10800 s: the checkers slow
# the guest down), RIG_APPEND and the rest pass to run-vm.sh; each test
# program may take 7200 s (rig.timeout=, instead of the settings file's).
set -Eeuo pipefail
# A failing step names itself: script, line, command and status.
trap 'echo "${0##*/}: line $LINENO: \"$BASH_COMMAND\" failed (exit $?)" >&2' ERR

TOP=$(cd "$(dirname "$0")/../.." && pwd)
RIG=$TOP/selftests/rig
SRCTAR=/usr/src/linux-source-6.12.tar.xz

# shellcheck disable=SC2034 # (lib.sh)
RIG_NAME="debug-kernel"
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

build_only=0
case ${1:-} in
--build-only) build_only=1 ;;
"") ;;
-h | --help)
	sed -n '4,20p' "$0" | sed 's/^# \{0,1\}//'
	exit 0 ;;
*) die "unknown argument '$1' (try --help)" ;;
esac

export RIG_KERNEL_CACHE=${RIG_DEBUG_CACHE:-/var/cache/hv-ptp-ext}
read -r kver ROOT < <("$RIG/rig-kernel.sh" "$SRCTAR" "$RIG/debug-kernel.config")
[[ -n ${ROOT:-} ]] || die "no kernel"
log "kernel $kver"
((build_only == 0)) || exit 0

export RIG_KROOT=$ROOT
"$RIG/kernels.sh" --source-only
"$RIG/build.sh" "$kver"
"$RIG/initramfs.sh" "$kver"
RIG_TIMEOUT=${RIG_TIMEOUT:-10800} RIG_APPEND="rig.timeout=7200 ${RIG_APPEND:-}" \
	"$RIG/run-vm.sh" "$kver"
