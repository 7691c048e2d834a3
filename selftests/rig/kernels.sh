#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetches the two Debian kernels the rig tests against, newest of each line
# in the local apt lists: 6.1.0-NN-amd64 (bookworm) and 6.12.N+deb12-amd64
# (bookworm's 6.12 line). For each, downloads the -unsigned image, the
# flavour headers, the -common headers and the matching linux-kbuild into
# .cache/debs/ and extracts them into .cache/kernels/KVER/root/, so that
#
#   make -C .cache/kernels/KVER/root/usr/src/linux-headers-KVER M=DIR modules
#
# builds an external module. Writes the releases, one a line, to
# .cache/kernels/list. Also extracts kselftest.h, kselftest_harness.h and
# checkpatch.pl (with its data files) from linux-source-6.12 into
# .cache/linux-source/.
#
# Everything is cached: a run with everything present does no network access.
# RIG_KERNELS="KVER ..." pins the releases instead of taking the newest.
# --source-only: just the linux-source extraction (for make style).
set -Eeuo pipefail
# A failing step names itself: script, line, command and status.
trap 'echo "${0##*/}: line $LINENO: \"$BASH_COMMAND\" failed (exit $?)" >&2' ERR

TOP=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=$TOP/.cache
DEBS=$CACHE/debs
KERNELS=$CACHE/kernels
SRCTAR=/usr/src/linux-source-6.12.tar.xz

# shellcheck disable=SC2034 # (lib.sh)
RIG_NAME="kernels"
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

apt_updated=
apt_update() {
	[[ -z $apt_updated ]] || return 0
	log "apt-get update"
	apt-get update -qq
	apt_updated=1
}

# newest_release REGEX: the newest KVER whose -unsigned image the apt lists
# offer, REGEX matching the release (KVER) part of the package name.
newest_release() {
	apt-cache search --names-only "^linux-image-$1-unsigned\$" |
		awk '{ print $1 }' |
		sed -e 's/^linux-image-//' -e 's/-unsigned$//' |
		sort -V | tail -n 1
}

resolve() {
	local k61 k612

	k61=$(newest_release '6\.1\.0-[0-9]+-amd64')
	k612=$(newest_release '6\.12\.[0-9]+\+deb12-amd64')
	if [[ -n $k61 && -n $k612 ]]; then
		echo "$k61 $k612"
		return 0
	fi
	return 1
}

# pkg_version PKG: the candidate version of PKG in the apt lists.
pkg_version() {
	apt-cache show --no-all-versions "$1" 2>/dev/null |
		sed -n 's/^Version: //p' | head -n 1
}

# packages KVER: the four packages, PKG=VERSION, that make up KVER.
packages() {
	local kver=$1 ver deps common kbuild

	ver=$(pkg_version "linux-image-$kver-unsigned")
	[[ -n $ver ]] || return 1
	deps=$(apt-cache depends "linux-headers-$kver" 2>/dev/null |
	       sed -n 's/^ *|\{0,1\}Depends: //p')
	common=$(grep -x "linux-headers-.*-common" <<<"$deps" | head -n 1)
	kbuild=$(grep -x "linux-kbuild-.*" <<<"$deps" | head -n 1)
	[[ -n $common && -n $kbuild ]] || return 1
	# All four come from one source package, so they share its version.
	echo "linux-image-$kver-unsigned=$ver linux-headers-$kver=$ver" \
	     "$common=$ver $kbuild=$ver"
}

# deb_path PKG=VERSION: where apt-get download puts it.
deb_path() {
	local name=${1%%=*} ver=${1#*=}

	echo "$DEBS/${name}_${ver//:/%3a}_"*.deb
}

download() {
	local want=() p

	for p in "$@"; do
		[[ -f $(deb_path "$p") ]] || want+=("$p")
	done
	((${#want[@]})) || return 0
	log "downloading ${want[*]}"
	mkdir -p "$DEBS"
	# -o APT::Sandbox::User=root: the _apt user may not write to .cache.
	(cd "$DEBS" && apt-get download -q -o APT::Sandbox::User=root "${want[@]}" >/dev/null)
}

# fetch KVER: download and extract KVER unless the cache has it.
fetch() {
	local kver=$1 dir=$KERNELS/$1 pkgs p

	if [[ -f $dir/.done ]]; then
		return 0
	fi
	if ! pkgs=$(packages "$kver"); then
		apt_update
		pkgs=$(packages "$kver") || die "apt knows no packages for $kver"
	fi
	# shellcheck disable=SC2086 # word splitting intended
	if ! download $pkgs; then
		# The lists may name a version the archive has replaced.
		apt_update
		pkgs=$(packages "$kver") || die "apt knows no packages for $kver"
		# shellcheck disable=SC2086
		download $pkgs || die "cannot download $pkgs"
	fi

	log "extracting $kver"
	rm -rf "$dir"
	mkdir -p "$dir/root"
	for p in $pkgs; do
		dpkg-deb -x "$(deb_path "$p")" "$dir/root"
	done
	echo "$pkgs" >"$dir/packages"
	touch "$dir/.done"
}

# fix_headers KVER: point the flavour Makefile's absolute include at the
# cache, and check that the tree has what the rig uses.
fix_headers() {
	local kver=$1 root=$KERNELS/$1/root hdr mk

	hdr=$root/usr/src/linux-headers-$kver
	mk=$hdr/Makefile
	[[ -f $mk ]] || die "$mk missing"
	sed -i -E "s|^include .*(/usr/src/linux-headers-[^/]*-common/Makefile)\$|include $root\\1|" "$mk"
	grep -q "^include $root/usr/src/linux-headers-.*-common/Makefile\$" "$mk" ||
		die "unexpected $mk: $(cat "$mk")"
	[[ -f $(readlink -f "$hdr/scripts")/mod/modpost ]] ||
		die "$hdr/scripts does not resolve to a kbuild tree"
	[[ -f $root/boot/vmlinuz-$kver ]] || die "no vmlinuz in $root/boot"
	compgen -G "$root/lib/modules/$kver/kernel/drivers/hv/hv_utils.ko*" >/dev/null ||
		die "no hv_utils.ko for $kver"
}

# prune: drop kernels and debs that are no longer in use.
prune() {
	local d f v keep

	for d in "$KERNELS"/*/; do
		[[ -d $d ]] || continue
		[[ " $* " == *" $(basename "$d") "* ]] || { log "pruning $(basename "$d")"; rm -rf "$d"; }
	done
	keep=" "
	for d in "$@"; do
		keep+="$(cat "$KERNELS/$d/packages") "
	done
	for f in "$DEBS"/*.deb; do
		[[ -f $f ]] || continue
		# NAME_VERSION_ARCH.deb, with an epoch's ':' written %3a.
		v=$(basename "$f" .deb)
		v=${v#*_}
		v=${v%_*}
		[[ $keep == *" $(basename "$f" | cut -d_ -f1)=${v//%3a/:} "* ]] && continue
		rm -f "$f"
	done
}

linux_source() {
	local dst=$CACHE/linux-source stamp

	[[ -f $SRCTAR ]] || die "$SRCTAR missing (selftests/rig/deps.sh installs it)"
	stamp=$(stat -c '%s %Y' "$SRCTAR")
	if [[ -f $dst/.done && $(cat "$dst/.done") == "$stamp" ]]; then
		return 0
	fi
	log "extracting kselftest headers and checkpatch from $SRCTAR"
	rm -rf "$dst"
	mkdir -p "$dst"
	# kselftest_harness.h includes kselftest.h and system headers only.
	tar -xJf "$SRCTAR" -C "$dst" --strip-components=1 \
		linux-source-6.12/tools/testing/selftests/kselftest.h \
		linux-source-6.12/tools/testing/selftests/kselftest_harness.h \
		linux-source-6.12/scripts/checkpatch.pl \
		linux-source-6.12/scripts/spelling.txt \
		linux-source-6.12/scripts/const_structs.checkpatch
	echo "$stamp" >"$dst/.done"
}

main() {
	local kvers k

	if [[ ${1:-} == --source-only ]]; then
		linux_source
		return
	fi

	if [[ -n ${RIG_KERNELS:-} ]]; then
		kvers=$RIG_KERNELS
	elif ! kvers=$(resolve); then
		apt_update
		kvers=$(resolve) || die "apt lists have no 6.1.0-*-amd64 or 6.12.*+deb12-amd64 image"
	fi

	for k in $kvers; do
		fetch "$k"
		fix_headers "$k"
	done
	# shellcheck disable=SC2086
	prune $kvers
	tr ' ' '\n' <<<"$kvers" >"$KERNELS/list"
	linux_source
	log "$(paste -sd " " "$KERNELS/list")"
}

main "$@"
