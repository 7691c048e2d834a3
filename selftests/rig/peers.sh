#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# peers.sh [SUITE...]: Debian's chrony and linuxptp for the benchmark
# guests, as each suite ships them (default: bookworm trixie sid).
#
# bookworm's (this machine's suite) are unpacked, not installed (this
# machine's clock is not theirs to steer), into .cache/peers/root; their
# shared libraries are this machine's (deps.sh). A newer suite's are
# installed in that suite's own root (suite-root.sh, where no service
# starts) and copied with the libraries they load there, and that
# suite's dynamic loader, into .cache/peers/SUITE/: the guest runs them
# through that loader, so each peer runs on its own suite's C library.
# Package versions go to .cache/peers/SUITE.versions ("PACKAGE VERSION").
# Idempotent; offline once cached.
set -Eeuo pipefail
# A failing step names itself: script, line, command and status.
trap 'echo "${0##*/}: line $LINENO: \"$BASH_COMMAND\" failed (exit $?)" >&2' ERR

TOP=$(cd "$(dirname "$0")/../.." && pwd)
RIG=$TOP/selftests/rig
DIR=$TOP/.cache/peers
PKGS=(chrony linuxptp)
BINS=(chronyd phc2sys)
SUITES=("$@")
((${#SUITES[@]})) || SUITES=(bookworm trixie sid)

# shellcheck disable=SC2034 # (lib.sh)
RIG_NAME="peers"
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bookworm() {
	local have=1 p d b

	mkdir -p "$DIR/debs"
	for p in "${PKGS[@]}"; do
		compgen -G "$DIR/debs/${p}_*.deb" >/dev/null || have=0
	done
	if ((!have)); then
		echo "peers: downloading ${PKGS[*]} (bookworm)" >&2
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
	done | sort >"$DIR/bookworm.versions"
	for b in "${BINS[@]}"; do
		if ldd "$DIR/root/usr/sbin/$b" | grep -q 'not found'; then
			die "$b: libraries missing: $(ldd "$DIR/root/usr/sbin/$b" | grep 'not found' | tr -s ' \t' ' ')"
		fi
	done
}

# newer SUITE: the binaries, their libraries and the loader, flat in
# .cache/peers/SUITE/{chronyd,phc2sys,lib/}.
newer() {
	local s=$1 root out b lib

	root=$("$RIG/suite-root.sh" "$s" "${PKGS[@]}") ||
		die "no $s root with ${PKGS[*]}"
	out=$DIR/$s
	rm -rf "$out.new"
	mkdir -p "$out.new/lib"
	for b in "${BINS[@]}"; do
		[[ -x $root/usr/sbin/$b ]] || die "$s: no /usr/sbin/$b"
		cp "$root/usr/sbin/$b" "$out.new/$b"
		if chroot "$root" ldd "/usr/sbin/$b" | grep -q 'not found'; then
			die "$s $b: libraries missing in its root"
		fi
		for lib in $(chroot "$root" ldd "/usr/sbin/$b" | grep -o '/[^ ]*'); do
			cp -L "$root$lib" "$out.new/lib/${lib##*/}"
		done
	done
	[[ -e $out.new/lib/ld-linux-x86-64.so.2 ]] || die "$s: no dynamic loader"
	rm -rf "$out"
	mv "$out.new" "$out"
	# shellcheck disable=SC2016 # dpkg-query's fields, not the shell's
	chroot "$root" dpkg-query -W -f '${Package} ${Version}\n' "${PKGS[@]}" |
		sort >"$DIR/$s.versions"
}

mkdir -p "$DIR"
for s in "${SUITES[@]}"; do
	case $s in
	bookworm) bookworm ;;
	trixie|sid) newer "$s" ;;
	*) die "unknown suite '$s' (bookworm, trixie, sid)" ;;
	esac
	echo "peers: $s: $(paste -sd ',' "$DIR/$s.versions" | sed 's/,/, /g')"
done
