#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# rig-kernel.sh [--suite SUITE] SOURCE FRAGMENT: a kernel for the rig's
# guest, built from Debian's own kernel source with "make allnoconfig",
# selftests/rig/rig-kernel.config and FRAGMENT merged, and its modules
# (Debian's hv_utils among them, from the same source). Printed on stdout:
# "KVER ROOT", ROOT holding boot/vmlinuz-KVER, lib/modules/KVER and
# usr/src/linux-headers-KVER (the built tree), as build.sh and run-vm.sh
# take them in RIG_KROOT.
#
# SOURCE is a linux-source tarball on this machine (make check-debug:
# /usr/src/linux-source-6.12.tar.xz) or, with --suite, the name of a
# linux-source package of that suite (make check: sid's linux-source-7.2),
# installed in the suite's root (suite-root.sh); then the kernel is built
# there, with that suite's compiler (in-suite.sh), and build.sh must build
# the modules there too (RIG_BUILD_ROOT).
#
# Cached in $RIG_KERNEL_CACHE (default /var/cache/hv-ptp-ext) under a key
# of the source and the fragments; older builds of the same fragment are
# removed. The build shows its progress every minute on stderr.
set -Eeuo pipefail
# A failing step names itself: script, line, command and status.
trap 'echo "${0##*/}: line $LINENO: \"$BASH_COMMAND\" failed (exit $?)" >&2' ERR

TOP=$(cd "$(dirname "$0")/../.." && pwd)
RIG=$TOP/selftests/rig
BASE=${RIG_KERNEL_CACHE:-/var/cache/hv-ptp-ext}
suite=
if [[ ${1:-} == --suite ]]; then
	suite=${2:?--suite needs a suite}
	shift 2
fi
SOURCE=${1:?usage: rig-kernel.sh [--suite SUITE] SOURCE FRAGMENT}
FRAG=${2:?usage: rig-kernel.sh [--suite SUITE] SOURCE FRAGMENT}
NAME=$(basename "$FRAG" .config)

# shellcheck disable=SC2034 # (lib.sh)
RIG_NAME="rig-kernel[$NAME]" RIG_LOG_STDERR=1
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ -f $FRAG ]] || die "no $FRAG"
sroot=
inroot=()
if [[ -n $suite ]]; then
	sroot=$("$RIG/suite-root.sh" "$suite" "$SOURCE" bc flex bison libelf-dev \
		libssl-dev xz-utils cpio perl python3)
	srctar=$(compgen -G "$sroot/usr/src/$SOURCE.tar.*" | head -n 1) ||
		die "$SOURCE installed no tarball in $sroot/usr/src"
	inroot=("$RIG/in-suite.sh" "$sroot" --bind "$BASE" --)
else
	srctar=$SOURCE
	"$RIG/deps.sh" >&2
fi
[[ -f $srctar ]] || die "$srctar missing"

key=$({ stat -c '%s' "$srctar"; cat "$RIG/rig-kernel.config" "$FRAG" "$0"; } |
      sha256sum | cut -c1-12)
CACHE=$BASE/$NAME-$key
SRC=$CACHE/src
ROOT=$CACHE/root

# kmake ARGS: make in the tree, in the suite's root if there is one.
kmake() {
	"${inroot[@]}" make -C "$SRC" "$@"
}

build_with_progress() {
	local logf=$1 start=$SECONDS next=$((SECONDS + 60)) pid rc=0

	shift
	kmake -j"$(nproc)" "$@" >"$logf" 2>&1 &
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
	local kver l f fname missing=0

	if [[ ! -f $CACHE/.extracted ]]; then
		log "extracting $srctar into $SRC"
		rm -rf "$CACHE"
		mkdir -p "$SRC"
		tar -xf "$srctar" -C "$SRC" --strip-components=1
		touch "$CACHE/.extracted"
	fi

	log "configuring: allnoconfig + rig-kernel.config + $(basename "$FRAG")"
	cat "$RIG/rig-kernel.config" "$FRAG" >"$CACHE/fragment.config"
	kmake -s allnoconfig >/dev/null
	"${inroot[@]}" "$SRC/scripts/kconfig/merge_config.sh" -m -O "$SRC" \
		"$SRC/.config" "$CACHE/fragment.config" >"$CACHE/config.log" 2>&1 ||
		{ cat "$CACHE/config.log" >&2; die "merge_config.sh failed"; }
	kmake -s olddefconfig
	for f in "$RIG/rig-kernel.config" "$FRAG"; do
		fname=${f##*/}
		while IFS= read -r l; do
			[[ -z $l || $l == \#* ]] && continue
			if ! grep -qxF "$l" "$SRC/.config"; then
				log "$fname: '$l' did not stick"
				missing=1
			fi
		done <"$f"
	done
	((missing == 0)) || die "the configuration lacks what the fragments ask for"

	build_with_progress "$CACHE/build.log" bzImage modules
	kver=$(kmake -s kernelrelease)
	rm -rf "$ROOT"
	mkdir -p "$ROOT/boot" "$ROOT/usr/src"
	kmake -s INSTALL_MOD_PATH="$ROOT" modules_install >/dev/null
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
for d in "$BASE/$NAME"-*; do
	[[ -d $d && $d != "$CACHE" ]] || continue
	log "removing the older build $d"
	rm -rf "$d"
done
echo "$(cat "$CACHE/kver") $ROOT"
