#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-kernel.sh [--build-only]: make check-debug. Builds a 6.12 kernel
# from Debian's linux-source-6.12 with a small configuration and the
# kernel's checkers (selftests/rig/debug-kernel.config: KASAN, UBSAN,
# lockdep with PROVE_LOCKING and PROVE_RCU, DEBUG_ATOMIC_SLEEP, kmemleak,
# debug objects), then runs the rig's kselftests on it under QEMU TCG:
# build.sh, initramfs.sh and run-vm.sh, as for Debian's kernels, with
# RIG_KROOT pointing at this kernel. The guest's dmesg_clean test fails on
# any report of those checkers, kmemleak's included.
#
# The kernel is cached in $RIG_DEBUG_CACHE (default /var/cache/hv-ptp-ext)
# under a key made of the source tarball and the configuration fragment:
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
FRAG=$RIG/debug-kernel.config
BASE=${RIG_DEBUG_CACHE:-/var/cache/hv-ptp-ext}

log() { echo "debug-kernel: $*"; }
die() { echo "debug-kernel: error: $*" >&2; exit 1; }

build_only=0
case ${1:-} in
--build-only) build_only=1 ;;
"") ;;
-h | --help)
	sed -n '4,20p' "$0" | sed 's/^# \{0,1\}//'
	exit 0 ;;
*) die "unknown argument '$1' (try --help)" ;;
esac

"$RIG/deps.sh"
[[ -f $SRCTAR ]] || die "$SRCTAR missing (selftests/rig/deps.sh installs it)"

key=$({ stat -c '%s %Y' "$SRCTAR"; cat "$FRAG"; } | sha256sum | cut -c1-12)
CACHE=$BASE/debug-6.12-$key
SRC=$CACHE/src
ROOT=$CACHE/root

# build_with_progress LOG ARGS...: make ARGS in $SRC into LOG, printing a
# line a minute; on failure, the end of LOG.
build_with_progress() {
	local logf=$1 start=$SECONDS next=$((SECONDS + 60)) pid rc=0

	shift
	make -C "$SRC" -j"$(nproc)" "$@" >"$logf" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		sleep 5
		if ((SECONDS >= next)); then
			next=$((next + 60))
			log "building, $((SECONDS - start)) s: $(grep -c '^  [A-Z]' "$logf") steps" \
			    "(last: $(grep '^  [A-Z]' "$logf" | tail -n 1 | sed 's/^ *//'))"
		fi
	done
	wait "$pid" || rc=$?
	if ((rc != 0)); then
		tail -n 40 "$logf" >&2
		die "make $* failed (log: $logf)"
	fi
	log "built in $((SECONDS - start)) s"
}

build() {
	local kver l missing=0

	if [[ ! -f $CACHE/.extracted ]]; then
		log "extracting $SRCTAR into $SRC"
		rm -rf "$CACHE"
		mkdir -p "$SRC"
		tar -xJf "$SRCTAR" -C "$SRC" --strip-components=1
		touch "$CACHE/.extracted"
	fi

	log "configuring: allnoconfig + $(basename "$FRAG")"
	make -C "$SRC" -s allnoconfig >/dev/null
	"$SRC/scripts/kconfig/merge_config.sh" -m -O "$SRC" "$SRC/.config" "$FRAG" \
		>"$CACHE/config.log" 2>&1 || { cat "$CACHE/config.log" >&2; die "merge_config.sh failed"; }
	make -C "$SRC" -s olddefconfig
	while IFS= read -r l; do
		[[ -z $l || $l == \#* ]] && continue
		if ! grep -qxF "$l" "$SRC/.config"; then
			echo "debug-kernel: $(basename "$FRAG"): '$l' did not stick" >&2
			missing=1
		fi
	done <"$FRAG"
	((missing == 0)) || die "the configuration lacks what $(basename "$FRAG") asks for"

	build_with_progress "$CACHE/build.log" bzImage modules
	kver=$(make -C "$SRC" -s kernelrelease)
	rm -rf "$ROOT"
	mkdir -p "$ROOT/boot" "$ROOT/usr/src"
	make -C "$SRC" -s INSTALL_MOD_PATH="$ROOT" modules_install >/dev/null
	cp "$SRC/arch/x86/boot/bzImage" "$ROOT/boot/vmlinuz-$kver"
	# build.sh builds external modules against usr/src/linux-headers-KVER.
	ln -s "$SRC" "$ROOT/usr/src/linux-headers-$kver"
	echo "$kver" >"$CACHE/kver"
	touch "$CACHE/.done"
}

if [[ -f $CACHE/.done ]]; then
	log "cached: $CACHE"
else
	build
fi
for d in "$BASE"/debug-6.12-*; do
	[[ -d $d && $d != "$CACHE" ]] || continue
	log "removing the older build $d"
	rm -rf "$d"
done

kver=$(cat "$CACHE/kver")
log "kernel $kver"
((build_only == 0)) || exit 0

export RIG_KROOT=$ROOT
"$RIG/kernels.sh" --source-only
"$RIG/build.sh" "$kver"
"$RIG/initramfs.sh" "$kver"
RIG_TIMEOUT=${RIG_TIMEOUT:-10800} RIG_APPEND="rig.timeout=7200 ${RIG_APPEND:-}" \
	"$RIG/run-vm.sh" "$kver"
