#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# sysroot.sh SUITE: a Debian root file system of SUITE (trixie, bookworm)
# for the system test (system-test.sh), made with debootstrap from the
# archive the rig uses (RIG_MIRROR), with systemd, the suite's generic
# kernel (linux-image-amd64, whose VMBus driver is a module the simulated
# host stands in for) and its headers, dkms and chrony, the way an Azure
# Debian image has them. Printed on stdout: its directory and the
# kernel's release, "DIR KVER".
#
# Cached in $RIG_SYSROOT_CACHE (default /var/cache/hv-ptp-ext) outside the
# checkout, so that a fresh clone reuses it: the cache is keyed by SUITE
# and by this script's contents, and a run with the cache valid does no
# network access. It holds nothing of this project: the packages under test
# and the simulated host are added to a copy of it for each run.
set -Eeuo pipefail
# A failing step names itself: script, line, command and status.
trap 'echo "${0##*/}: line $LINENO: \"$BASH_COMMAND\" failed (exit $?)" >&2' ERR

SUITE=${1:?usage: sysroot.sh SUITE}
CACHE=${RIG_SYSROOT_CACHE:-/var/cache/hv-ptp-ext}
DIR=$CACHE/sysroot-$SUITE
KEY=$(sha256sum "$0" | cut -c1-16)
MIRROR=${RIG_MIRROR:-http://deb.debian.org/debian}

# shellcheck disable=SC2034 # (lib.sh)
RIG_NAME="sysroot" RIG_LOG_STDERR=1
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# kver ROOT: the release of the one kernel in ROOT/boot.
kver() {
	local k

	k=$(compgen -G "$1/boot/vmlinuz-*" | head -n 1) || return 1
	echo "${k##*/vmlinuz-}"
}

if [[ -f $DIR/.rig-key && $(cat "$DIR/.rig-key") == "$KEY" ]]; then
	log "cached: $DIR"
	echo "$DIR $(kver "$DIR")"
	exit 0
fi

((EUID == 0)) || die "debootstrap needs root"
command -v debootstrap >/dev/null || die "no debootstrap (selftests/rig/deps.sh)"

TMP=$DIR.new
mounts=()
cleanup() {
	local m
	for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
		umount -l "${mounts[i]}" 2>/dev/null || true
	done
	# (an if, not "[[ ]] &&": a trap's last status becomes the script's)
	if [[ -z ${keep:-} ]]; then
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT
rm -rf "$TMP"
mkdir -p "$CACHE"

start=$SECONDS
log "debootstrap $SUITE into $TMP (a few minutes, once)"
# minbase plus what boots with systemd as PID 1 and answers timedatectl.
debootstrap --variant=minbase \
	--include=systemd,systemd-sysv,udev,dbus,kmod,procps,ca-certificates \
	"$SUITE" "$TMP" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
	{ tail -n 20 "$CACHE/debootstrap.log" >&2; die "debootstrap failed"; }

# The suite with its updates and security archives (the kernels come
# from those too), then the packages that need them.
{
	echo "deb $MIRROR $SUITE main"
	echo "deb $MIRROR $SUITE-updates main"
	echo "deb ${MIRROR%/debian}/debian-security $SUITE-security main"
} >"$TMP/etc/apt/sources.list"
# The archive this machine reaches may serve a suite whose Release file is
# past its Valid-Until (a frozen copy): take it as it is.
echo 'Acquire::Check-Valid-Until "false";' >"$TMP/etc/apt/apt.conf.d/99rig-valid-until"
cp /etc/resolv.conf "$TMP/etc/resolv.conf" 2>/dev/null || :
for m in proc sys dev; do
	mount --bind "/$m" "$TMP/$m"
	mounts+=("$TMP/$m")
done
# No service starts inside the chroot.
printf '#!/bin/sh\nexit 101\n' >"$TMP/usr/sbin/policy-rc.d"
chmod 755 "$TMP/usr/sbin/policy-rc.d"

# libsystemd0 and libjansson4: hv-ptp-sync's libraries, as the system test
# installs the packages with dpkg -i, offline.
log "kernel, headers, dkms, chrony, hv-ptp-sync's libraries"
chroot "$TMP" /usr/bin/env DEBIAN_FRONTEND=noninteractive sh -ec "
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends \
		linux-image-amd64 linux-headers-amd64 \
		initramfs-tools dkms chrony libsystemd0 libjansson4 >/dev/null
	apt-get clean
" >>"$CACHE/debootstrap.log" 2>&1 ||
	{ tail -n 20 "$CACHE/debootstrap.log" >&2; die "apt-get in the chroot failed"; }
KVER=$(kver "$TMP") || die "no kernel in $TMP/boot"
[[ -f $TMP/boot/initrd.img-$KVER ]] || die "no initrd for $KVER in $TMP/boot"

rm -f "$TMP/usr/sbin/policy-rc.d" "$TMP/etc/resolv.conf"

# Chrony as Azure documents it: the Hyper-V PHC as its reference.
cat >"$TMP/etc/chrony/conf.d/azure-phc.conf" <<-'EOF'
	refclock PHC /dev/ptp_hyperv poll 3 dpoll -2 offset 0 stratum 2
	makestep 1.0 -1
EOF
echo hvsys >"$TMP/etc/hostname"
echo "/dev/vda / ext4 defaults 0 1" >"$TMP/etc/fstab"
# A test machine: root logs in on the console without a password.
chroot "$TMP" passwd -dq root

for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
	umount -l "${mounts[i]}"
done
mounts=()
echo "$KEY" >"$TMP/.rig-key"
rm -rf "$DIR"
mv "$TMP" "$DIR"
keep=1
log "made $DIR ($KVER) in $((SECONDS - start))s ($(du -sh "$DIR" | cut -f1))"
echo "$DIR $KVER"
