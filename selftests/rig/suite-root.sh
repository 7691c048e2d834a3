#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# suite-root.sh SUITE [PACKAGE...]: a minbase debootstrap chroot of Debian
# SUITE (bookworm, trixie, sid) with that suite's own compiler, make and
# dkms, and the PACKAGEs (kernel headers, as a rule) installed with its own
# apt. Printed on stdout: its directory.
#
# A suite's kernel headers need that suite's compiler (sid's headers pass
# gcc-16 options that bookworm's gcc-12 refuses), and its dkms is what a
# user of that suite runs: so each suite is built in a root of its own.
# The machine's own apt sources are never touched.
#
# Cached in $RIG_SUITE_CACHE (default /var/cache/hv-ptp-ext) under
# suite-SUITE (suite-NAME with RIG_ROOT_NAME=NAME: a root of its own, for
# a caller that runs beside another of the same suite), keyed by this
# script; a cached root gets the PACKAGEs asked
# for this time added and brought up to date with the suite (apt-get
# install), so that callers with different lists share one root. The
# versions of the PACKAGEs are written to its .rig-versions. Two callers
# for one suite must not run at once.
set -Eeuo pipefail
# A failing step names itself: script, line, command and status.
trap 'echo "${0##*/}: line $LINENO: \"$BASH_COMMAND\" failed (exit $?)" >&2' ERR

SUITE=${1:?usage: suite-root.sh SUITE [PACKAGE...]}
shift
CACHE=${RIG_SUITE_CACHE:-/var/cache/hv-ptp-ext}
DIR=$CACHE/suite-${RIG_ROOT_NAME:-$SUITE}
MIRROR=${RIG_MIRROR:-http://deb.debian.org/debian}
BASE=(gcc make dkms kmod libc6-dev ca-certificates)
PKGS=("${BASE[@]}" "$@")
KEY=$(sha256sum "$0" | cut -c1-16)

# shellcheck disable=SC2034 # (lib.sh)
RIG_NAME="suite-root $SUITE" RIG_LOG_STDERR=1
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

((EUID == 0)) || die "debootstrap and chroot need root"
command -v debootstrap >/dev/null || die "no debootstrap (selftests/rig/deps.sh)"

sources() {
	echo "deb $MIRROR $SUITE main"
	case $SUITE in
	sid|unstable) ;;
	*)
		echo "deb $MIRROR $SUITE-updates main"
		echo "deb ${MIRROR%/debian}/debian-security $SUITE-security main"
		;;
	esac
}

# in_root DIR CMD: CMD (sh -ec) in the chroot (in-suite.sh).
in_root() {
	local root=$1

	shift
	"$(dirname "$0")/in-suite.sh" "$root" -- sh -ec "$*"
}

# rmroot DIR: removes a root, after unmounting anything still mounted
# at or below it (a run killed inside the chroot leaves its bind mounts,
# and rm would follow them into this checkout or /dev).
rmroot() {
	findmnt -rn -o TARGET | awk -v r="$1" '$0 == r || index($0, r "/") == 1' |
		sort -r | xargs -r umount -l
	rm -rf --one-file-system "$1"
}

TMP=$DIR.new
cleanup() {
	if [[ -d $TMP ]]; then
		rmroot "$TMP"
	fi
}
trap cleanup EXIT

install_cmd="apt-get update -qq &&
	apt-get install -y -qq --no-install-recommends ${PKGS[*]} >/dev/null &&
	apt-get clean"

start=$SECONDS
if [[ -f $DIR/.rig-key && $(cat "$DIR/.rig-key") == "$KEY" ]]; then
	log "cached: $DIR; bringing it up to date"
	in_root "$DIR" "$install_cmd" >"$DIR.log" 2>&1 ||
		{ tail -n 20 "$DIR.log" >&2; die "apt-get in $DIR failed"; }
else
	rmroot "$TMP"
	mkdir -p "$CACHE"
	log "debootstrap $SUITE into $TMP (about a minute, once)"
	debootstrap --variant=minbase "$SUITE" "$TMP" "$MIRROR" >"$DIR.log" 2>&1 ||
		{ tail -n 20 "$DIR.log" >&2; die "debootstrap $SUITE failed"; }
	sources >"$TMP/etc/apt/sources.list"
	# The archive this machine reaches may serve a suite whose Release
	# file is past its Valid-Until (a frozen copy): take it as it is.
	echo 'Acquire::Check-Valid-Until "false";' \
		>"$TMP/etc/apt/apt.conf.d/99rig-valid-until"
	# No service starts inside the chroot.
	printf '#!/bin/sh\nexit 101\n' >"$TMP/usr/sbin/policy-rc.d"
	chmod 755 "$TMP/usr/sbin/policy-rc.d"
	log "installing ${PKGS[*]}"
	in_root "$TMP" "$install_cmd" >>"$DIR.log" 2>&1 ||
		{ tail -n 20 "$DIR.log" >&2; die "apt-get install in the $SUITE chroot failed"; }
	echo "$KEY" >"$TMP/.rig-key"
	rmroot "$DIR"
	mv "$TMP" "$DIR"
fi
# shellcheck disable=SC2016 # dpkg-query's fields, not the shell's
chroot "$DIR" dpkg-query -W -f '${Package} ${Version}\n' "${PKGS[@]}" \
	>"$DIR/.rig-versions" 2>/dev/null || :
log "ready in $((SECONDS - start))s ($(du -sh "$DIR" | cut -f1))"
echo "$DIR"
