#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dkms-test.sh: the module through Debian's dkms, for real, on this machine,
# for each kernel of the rig (.cache/kernels/list): installs dkms and that
# kernel's headers with apt (Debian's 6.12 headers pull in its image too;
# nothing is loaded), "make dkms-source", dkms add, build and install, then
# checks the installed module with modinfo (version from VERSION, the vmbus
# alias of TimeSync, every parameter), then dkms remove --all and checks
# that nothing is left: no dkms tree, no module, no source.
# Prints "dkms: N passed, N failed, 0 skipped" (one check a line, TAP-ish
# "ok"/"not ok" before it) and exits non-zero on a failure.
set -uo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
VERSION=$(cat "$TOP/VERSION")
MOD=hv_ptp_ext
SRC=/usr/src/$MOD-$VERSION
ALIAS=vmbus:30e62795aed07b49adcee80ab0175caf
PARAMS=(clock_name takeover window step_threshold_ns outlier_sigmas
	outlier_min_ns holdover_ppb stale_ms slew_ms clocksource_rating)
pass=0 fail=0

check() {	# check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@" >/tmp/dkms-test.out 2>&1; then
		pass=$((pass + 1))
		echo "ok - $what"
	else
		fail=$((fail + 1))
		echo "not ok - $what"
		sed 's/^/#   /' /tmp/dkms-test.out | tail -n 20
	fi
}

mapfile -t kvers <"$TOP/.cache/kernels/list"
pkgs=(dkms)
for k in "${kvers[@]}"; do
	pkgs+=("linux-headers-$k")
done
missing=()
for p in "${pkgs[@]}"; do
	[[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null) == ii* ]] ||
		missing+=("$p")
done
if ((${#missing[@]})); then
	echo "dkms-test: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
		{ echo "dkms: 0 passed, 1 failed, 0 skipped"; exit 1; }
fi

# A previous run that stopped half way.
dkms remove "$MOD/$VERSION" --all >/dev/null 2>&1
rm -rf "$SRC"

check "make dkms-source puts the source in $SRC" make -s -C "$TOP" dkms-source DESTDIR=
check "dkms add" dkms add "$MOD/$VERSION"
for k in "${kvers[@]}"; do
	check "dkms build for $k" dkms build "$MOD/$VERSION" -k "$k"
	check "dkms install for $k" dkms install "$MOD/$VERSION" -k "$k"
	ko=$(find "/lib/modules/$k/updates/dkms" -name "$MOD.ko*" 2>/dev/null | head -n 1)
	check "$k: installed under updates/dkms" test -n "$ko"
	check "$k: modinfo version $VERSION" \
		bash -c "modinfo -F version '$ko' | grep -qx '$VERSION'"
	check "$k: modinfo alias $ALIAS" \
		bash -c "modinfo -F alias '$ko' | grep -qx '$ALIAS'"
	for p in "${PARAMS[@]}"; do
		check "$k: modinfo parameter $p" \
			bash -c "modinfo -F parm '$ko' | grep -q '^$p:'"
	done
	check "$k: modprobe finds it (modules.dep)" \
		bash -c "grep -q 'updates/dkms/$MOD.ko' '/lib/modules/$k/modules.dep'"
done
check "dkms remove --all" dkms remove "$MOD/$VERSION" --all
rm -rf "$SRC"
check "nothing left in /var/lib/dkms" test ! -e "/var/lib/dkms/$MOD"
for k in "${kvers[@]}"; do
	check "$k: no module left" \
		bash -c "! find '/lib/modules/$k' -name '$MOD.ko*' | grep -q ."
	check "$k: modules.dep clean" \
		bash -c "! grep -q '$MOD.ko' '/lib/modules/$k/modules.dep'"
done

echo "dkms: $pass passed, $fail failed, 0 skipped"
((fail == 0))
