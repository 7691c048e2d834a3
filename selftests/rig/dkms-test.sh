#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dkms-test.sh: the module through each Debian suite's own dkms, compiler
# and kernel headers, for every kernel flavour a user of that suite can
# install, as a user would, in a minbase chroot of the suite
# (suite-root.sh; nothing is loaded):
#
#   bookworm  6.1 amd64, cloud-amd64, rt-amd64; 6.12+deb12 amd64
#   trixie    6.12+deb13 amd64, cloud-amd64, rt-amd64
#   sid       7.2 amd64, cloud-amd64, rt-amd64
#
# For each suite: "make dkms-source" into the chroot; for each kernel dkms
# add, build and install, then modinfo on the installed module (version
# from VERSION, the vmbus alias of TimeSync, every parameter) and
# modules.dep; dkms remove --all, and nothing left (dkms tree, module,
# modules.dep). Then the two packages of "make deb" installed with the
# suite's apt: dh-dkms must have built and installed the module for every
# kernel of the suite; purged, nothing left.
#
# Prints one line per suite and kernel, "dkms/SUITE/KVER: N passed,
# N failed, 0 skipped", one per suite for the packages, "deb/SUITE: ...",
# a "dkms: ..." line summing them, and exits non-zero on a failure.
# A failed check prints what it ran and the end of its output.
#
#   RIG_DKMS_SUITES="bookworm trixie sid" (the default) picks suites.
#   --prefetch: only make (or bring up to date) the suites' roots.
set -uo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
RIG=$TOP/selftests/rig
VERSION=$(cat "$TOP/VERSION")
MOD=hv_ptp_ext
ALIAS=vmbus:30e62795aed07b49adcee80ab0175caf
PARAMS=(clock_name takeover window step_threshold_ns outlier_sigmas
	outlier_min_ns wander_ppb holdover_ppb stale_ms slew_ms clocksource_rating)
FLAVOURS=(amd64 cloud-amd64 rt-amd64)
read -ra SUITES <<<"${RIG_DKMS_SUITES:-bookworm trixie sid}"
OUT=$TOP/build/dkms
summaries=()
total_pass=0 total_fail=0
pass=0 fail=0
root=

# shellcheck disable=SC2034 # (lib.sh)
RIG_NAME="dkms-test"
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# in_root COMMAND: COMMAND (sh -c) inside the suite's chroot (in-suite.sh).
in_root() {
	"$RIG/in-suite.sh" "$root" -- sh -c "$*"
}

# check DESCRIPTION COMMAND: COMMAND (sh -c) in the chroot.
check() {
	local what=$1

	shift
	if in_root "$*" >"$OUT/check.out" 2>&1; then
		pass=$((pass + 1))
		echo "ok - $what"
	else
		fail=$((fail + 1))
		echo "not ok - $what"
		echo "#   in the $suite chroot: $*"
		sed 's/^/#   /' "$OUT/check.out" | tail -n 20
	fi
}

# summary NAME: the line for the checks since the last one.
summary() {
	local line="$1: $pass passed, $fail failed, 0 skipped"

	echo "$line"
	summaries+=("$line")
	total_pass=$((total_pass + pass))
	total_fail=$((total_fail + fail))
	pass=0
	fail=0
}

# The newest 6.12 line of bookworm (beside its 6.1) is in this machine's
# own lists (a Debian 12), where kernels.sh found it.
bookworm_612() {
	apt-cache search --names-only '^linux-headers-6\.12\.[0-9]+\+deb12-amd64$' |
		awk '{ print $1 }' | sort -V | tail -n 1
}

kernel_checks() {
	local k=$1 ko

	check "dkms build for $k" "dkms build $MOD/$VERSION -k $k"
	check "dkms install for $k" "dkms install $MOD/$VERSION -k $k"
	ko=$(in_root "find /lib/modules/$k/updates/dkms -name '$MOD.ko*' 2>/dev/null" | head -n 1)
	check "$k: installed under updates/dkms" "test -n '$ko'"
	check "$k: modinfo version $VERSION" "modinfo -F version '$ko' | grep -qx '$VERSION'"
	check "$k: modinfo alias $ALIAS" "modinfo -F alias '$ko' | grep -qx '$ALIAS'"
	for p in "${PARAMS[@]}"; do
		check "$k: modinfo parameter $p" "modinfo -F parm '$ko' | grep -q '^$p:'"
	done
	# dkms runs depmod only where the kernel's image made a modules.dep;
	# in a chroot with only the headers, depmod -n shows what it would be.
	check "$k: depmod lists it (modules.dep, or depmod -n without the image)" \
		"if [ -f /lib/modules/$k/modules.dep ]; then
			grep -q 'updates/dkms/$MOD.ko' /lib/modules/$k/modules.dep
		 else
			depmod -n $k 2>/dev/null | grep -q '^updates/dkms/$MOD.ko'
		 fi"
}

gone_checks() {
	local k=$1

	check "$k: no module left" "! find /lib/modules/$k -name '$MOD.ko*' | grep -q ."
	check "$k: modules.dep clean" \
		"[ ! -f /lib/modules/$k/modules.dep ] || ! grep -q '$MOD.ko' /lib/modules/$k/modules.dep"
}

test_suite() {
	local suite=$1 pkgs=() kvers=() k f extra

	for f in "${FLAVOURS[@]}"; do
		pkgs+=("linux-headers-$f")
	done
	if [[ $suite == bookworm ]]; then
		extra=$(bookworm_612)
		[[ -n $extra ]] && pkgs+=("$extra")
	fi
	if ! root=$("$RIG/suite-root.sh" "$suite" "${pkgs[@]}"); then
		fail=1
		summary "dkms/$suite"
		return
	fi
	mapfile -t kvers < <(for d in "$root"/usr/src/linux-headers-*; do
			d=${d##*/linux-headers-}
			[[ $d == *-common* ]] || echo "$d"
		done | sort -V)
	log "$suite: $(paste -sd ' ' "$root/.rig-versions" | sed 's/ linux/, linux/g')"

	# A previous run that stopped half way.
	in_root "dkms remove $MOD/$VERSION --all; rm -rf /usr/src/$MOD-$VERSION" >/dev/null 2>&1
	if ! make -s -C "$TOP" dkms-source DESTDIR="$root" >"$OUT/check.out" 2>&1; then
		cat "$OUT/check.out"
		fail=1
		summary "dkms/$suite"
		return
	fi
	for k in "${kvers[@]}"; do
		check "$k: dkms add" "dkms add $MOD/$VERSION"
		kernel_checks "$k"
		check "$k: dkms remove --all" "dkms remove $MOD/$VERSION --all"
		check "$k: nothing left in /var/lib/dkms" "test ! -e /var/lib/dkms/$MOD"
		gone_checks "$k"
		summary "dkms/$suite/$k"
	done
	in_root "rm -rf /usr/src/$MOD-$VERSION"

	# The packages, with the suite's own apt and dh-dkms.
	rm -rf "$root/root/debs"
	mkdir -p "$root/root/debs"
	cp "$TOP"/build/deb/hv-ptp-ext-dkms_*.deb "$TOP"/build/deb/hv-ptp-sync_*_amd64.deb \
		"$root/root/debs/"
	check "$suite: apt-get install the two packages" \
		"apt-get install -y -q --no-install-recommends /root/debs/*.deb"
	for k in "${kvers[@]}"; do
		check "$k: dh-dkms installed the module" \
			"dkms status $MOD/$VERSION -k $k | grep -q installed"
		check "$k: modinfo version $VERSION (package)" \
			"modinfo -F version \$(find /lib/modules/$k/updates/dkms -name '$MOD.ko*') | grep -qx '$VERSION'"
	done
	check "$suite: hv-ptp-sync --version" "hv-ptp-sync --version | grep -q '$VERSION'"
	check "$suite: apt-get purge the two packages" \
		"apt-get purge -y -q hv-ptp-ext-dkms hv-ptp-sync"
	check "$suite: nothing left in /var/lib/dkms (package)" "test ! -e /var/lib/dkms/$MOD"
	for k in "${kvers[@]}"; do
		gone_checks "$k"
	done
	summary "deb/$suite"
	in_root "apt-get clean" >/dev/null 2>&1
}

((EUID == 0)) || { echo "dkms-test: needs root (chroot)"; echo "dkms: 0 passed, 1 failed, 0 skipped"; exit 1; }
mkdir -p "$OUT"

# The chroots first, all at once: fetching and unpacking packages waits on
# the network and the disk, not on the two cores. --prefetch: only that
# (make check starts it early, in the background).
pids=()
for s in "${SUITES[@]}"; do
	(
		pkgs=()
		for f in "${FLAVOURS[@]}"; do
			pkgs+=("linux-headers-$f")
		done
		[[ $s == bookworm ]] && pkgs+=("$(bookworm_612)")
		"$RIG/suite-root.sh" "$s" "${pkgs[@]}" >/dev/null
	) &
	pids+=($!)
done
prc=0
for p in "${pids[@]}"; do
	wait "$p" || prc=1
done
if [[ ${1:-} == --prefetch ]]; then
	log "prefetch: the roots of ${SUITES[*]} are $( ((prc)) && echo "NOT all " )ready"
	exit $prc
fi

"$RIG/deb.sh" ||
	{ echo "dkms-test: make deb failed"; echo "dkms: 0 passed, 1 failed, 0 skipped"; exit 1; }

for s in "${SUITES[@]}"; do
	suite=$s
	log "== $s"
	test_suite "$s"
done

echo
printf '%s\n' "${summaries[@]}"
echo "dkms: $total_pass passed, $total_fail failed, 0 skipped"
((total_fail == 0))
