#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Installs, with apt-get, what the test rig needs on a fresh Debian 12.
# Idempotent: when every package is already installed it touches no network.
set -Eeuo pipefail
# A failing step names itself: script, line, command and status.
trap 'echo "${0##*/}: line $LINENO: \"$BASH_COMMAND\" failed (exit $?)" >&2' ERR

PACKAGES=(
	# Boot the guests.
	qemu-system-x86
	# Guest userspace: busybox applets and kmod's insmod/rmmod/lsmod/modinfo.
	busybox-static kmod
	# Initramfs, kernel packages and compressed modules.
	cpio gzip xz-utils zstd rsync
	# Out-of-tree module builds against Debian's headers: their
	# .kernelvariables set CC=gcc-12; 6.12 generates module BTF with pahole.
	gcc gcc-12 make libc6-dev bc flex bison libelf-dev libssl3 pahole
	# kselftest.h, kselftest_harness.h and checkpatch.pl (perl).
	linux-source-6.12 perl
	# hv-ptp-sync links libsystemd (sd_notify), libcap (it keeps
	# CAP_SYS_TIME only) and jansson (its state file, status --json); man
	# pages checked with groff.
	libsystemd-dev libcap-dev libjansson-dev pkgconf groff-base
	# Fuzzing (selftests/fuzz): clang with libFuzzer and the sanitizers.
	clang libclang-rt-14-dev
	# The system test: a Debian 12 root file system, made into an image.
	debootstrap e2fsprogs
	# The benchmark's peers (peers.sh unpacks Debian's chrony and linuxptp
	# without installing them): chronyd's shared libraries.
	libcap2 libedit2 libgnutls30 libnettle8 libseccomp2
)

missing=()
for pkg in "${PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
	[[ $status == ii* ]] || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
	echo "deps: all ${#PACKAGES[@]} packages present"
	exit 0
fi

if ((EUID != 0)); then
	echo "deps: missing ${missing[*]}; run as root to install them" >&2
	exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done"
