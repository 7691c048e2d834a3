#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# peers.sh: Debian's chrony and linuxptp, unpacked (not installed: this
# machine's clock is not theirs to steer) into .cache/peers/root, for the
# benchmark guests. Their shared libraries come from deps.sh. The package
# versions go to .cache/peers/versions. Idempotent; offline once cached.
set -Eeuo pipefail
# A failing step names itself: script, line, command and status.
trap 'echo "${0##*/}: line $LINENO: \"$BASH_COMMAND\" failed (exit $?)" >&2' ERR

TOP=$(cd "$(dirname "$0")/../.." && pwd)
DIR=$TOP/.cache/peers
PKGS=(chrony linuxptp)

die() { echo "peers: error: $*" >&2; exit 1; }

mkdir -p "$DIR/debs"
have=1
for p in "${PKGS[@]}"; do
	compgen -G "$DIR/debs/${p}_*.deb" >/dev/null || have=0
done
if ((!have)); then
	echo "peers: downloading ${PKGS[*]}"
	if ! (cd "$DIR/debs" && apt-get download -q "${PKGS[@]}" >/dev/null 2>&1); then
		apt-get update -qq
		(cd "$DIR/debs" && apt-get download -q "${PKGS[@]}" >/dev/null 2>&1) ||
			die "apt-get download ${PKGS[*]} failed"
	fi
fi
if [[ ! -x $DIR/root/usr/sbin/chronyd || ! -x $DIR/root/usr/sbin/phc2sys ]]; then
	rm -rf "$DIR/root"
	for d in "$DIR"/debs/*.deb; do
		dpkg-deb -x "$d" "$DIR/root"
	done
fi
for d in "$DIR"/debs/*.deb; do
	echo "$(dpkg-deb -f "$d" Package) $(dpkg-deb -f "$d" Version)"
done | sort >"$DIR/versions"
for b in chronyd phc2sys; do
	if ldd "$DIR/root/usr/sbin/$b" | grep -q 'not found'; then
		die "$b: libraries missing: $(ldd "$DIR/root/usr/sbin/$b" | grep 'not found' | tr -s ' \t' ' ')"
	fi
done
echo "peers: $(paste -sd ',' "$DIR/versions" | sed 's/,/, /g')"
