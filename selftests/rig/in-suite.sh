#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# in-suite.sh ROOT [--bind DIR]... -- COMMAND [ARG...]: runs COMMAND in the
# chroot ROOT (a suite-root.sh root) with /proc, /sys and /dev, this
# machine's resolv.conf (for apt), DEBIAN_FRONTEND=noninteractive, and with
# this checkout and every DIR mounted at the same paths as outside, so that
# paths mean the same on both sides. Used to build against a kernel whose
# headers need that suite's compiler (sid's 7.2 and gcc-16), and by
# suite-root.sh and dkms-test.sh for everything they do in a root.
# Exits with COMMAND's status; unmounts everything it mounted.
set -Eeuo pipefail
# A failing step names itself: script, line, command and status.
trap 'echo "${0##*/}: line $LINENO: \"$BASH_COMMAND\" failed (exit $?)" >&2' ERR

TOP=$(cd "$(dirname "$0")/../.." && pwd)
ROOT=${1:?usage: in-suite.sh ROOT [--bind DIR]... -- COMMAND [ARG...]}
shift
binds=("$TOP")
while (($#)); do
	case $1 in
	--bind) binds+=("$(cd "$2" && pwd)"); shift 2 ;;
	--) shift; break ;;
	*) echo "in-suite: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
(($#)) || { echo "in-suite: no command" >&2; exit 2; }
[[ -x $ROOT/usr/bin/env ]] || { echo "in-suite: $ROOT is no root file system" >&2; exit 1; }

mounts=()
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	local i

	for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
		umount -l "${mounts[i]}" 2>/dev/null || :
	done
}
trap cleanup EXIT

# The root a mount point of its own, as / is on a booted system: rpm's
# scriptlets (its unshare plugin, trixie's rpm 4.20) make / private in a
# mount namespace, which fails on a directory that is no mount point.
mount --bind "$ROOT" "$ROOT"
mounts+=("$ROOT")
for m in /proc /sys /dev "${binds[@]}"; do
	mkdir -p "$ROOT$m"
	mount --bind "$m" "$ROOT$m"
	mounts+=("$ROOT$m")
done

cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || :
rc=0
chroot "$ROOT" /usr/bin/env PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	HOME=/root LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@" || rc=$?
exit $rc
