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
# and cross-built for arm64 with the suite's own cross compiler
# (gcc-N-aarch64-linux-gnu, N the compiler the headers name), the arm64
# headers unpacked beside the amd64 ones (Debian's headers cross-build
# when DEB_HOST_ARCH differs from DEB_BUILD_ARCH; dkms -a aarch64):
#
#   bookworm  6.1 arm64 (bookworm's 6.12 line has no arm64 build)
#   trixie    6.12+deb13 arm64, cloud-arm64, arm64-16k
#   sid       7.2 arm64
#
# Debian has no 64k-page arm64 kernel; arm64-16k is its larger-page one.
#
# For each suite: "make dkms-source" into the chroot; for each kernel dkms
# add, build and install, then modinfo on the installed module (version
# from VERSION, the vmbus alias of TimeSync, every parameter) and
# modules.dep; dkms remove --all, and nothing left (dkms tree, module,
# modules.dep). Then the two packages of "make deb" installed with the
# suite's apt: dh-dkms must have built and installed the module for every
# kernel of the suite; purged, nothing left.
#
# The RPMs of "make rpm" (rpm.sh), in the trixie root with its own rpm and
# dkms (Debian's dkms is upstream's, as EPEL's and SUSE's are): installed,
# their scriptlets must build and install the module for every kernel;
# upgraded (rpm -U to a higher version), rebuild it and leave nothing of
# the old version; erased, leave nothing behind. rpm runs with --nodeps:
# its database in a Debian root knows none of the Debian packages that
# provide dkms, the shell or the libraries (the declared Requires are
# checked apart).
#
# Prints one line per suite and kernel, "dkms/SUITE/KVER: N passed,
# N failed, 0 skipped", one per suite for the packages, "deb/SUITE: ...",
# one for the RPMs, "rpm/trixie: ...", a "dkms: ..." line summing them, and
# exits non-zero on a failure.
# A failed check prints what it ran and the end of its output.
#
#   RIG_DKMS_SUITES="bookworm trixie sid" (the default) picks suites;
#   RIG_RPM_SUITE=trixie (the default) the one for the RPMs ("" for none).
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
# dkms and Debian's headers, cross: the build is amd64, the host arm64
ARM64_ENV="DEB_BUILD_ARCH=amd64 DEB_HOST_ARCH=arm64 DEB_HOST_GNU_TYPE=aarch64-linux-gnu"
# where a suite's root keeps the arm64 headers' packages
ARM64_DEBS=/var/cache/rig-arm64
read -ra SUITES <<<"${RIG_DKMS_SUITES:-bookworm trixie sid}"
RPM_SUITE=${RIG_RPM_SUITE-trixie}
# The RPM test's upgrade: a higher version of the same tree.
RPM_NEXT=$VERSION.1
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

# suite_pkgs SUITE: what the suite's root needs: every flavour's headers,
# bookworm's 6.12 beside its 6.1, and for the RPM test rpm and the
# daemon's one library that minbase lacks.
suite_pkgs() {
	local f

	for f in "${FLAVOURS[@]}"; do
		echo "linux-headers-$f"
	done
	if [[ $1 == bookworm ]]; then
		bookworm_612
	fi
	if [[ $1 == "$RPM_SUITE" ]]; then
		printf "%s\n" rpm libjansson4
	fi
}

# arm64_flavours SUITE: the arm64 flavours cross-built in SUITE's root.
arm64_flavours() {
	case $1 in
	bookworm) echo arm64 ;;
	trixie) echo arm64 cloud-arm64 arm64-16k ;;
	*) echo arm64 ;;
	esac
}

# arm64_fetch SUITE: in the suite's root ($root), arm64 added to its dpkg,
# the newest arm64 headers of each flavour and their -common downloaded to
# $ARM64_DEBS, and the amd64 linux-kbuild and the cross compiler they
# need installed; the kernel releases into $ARM64_DEBS/kvers. Done with
# the prefetch: it waits on the network.
arm64_fetch() {
	local f pkg deps common kbuild cc kvers=()

	in_root "dpkg --add-architecture arm64 && apt-get update -qq" >&2 || return 1
	in_root "rm -rf $ARM64_DEBS && mkdir -p $ARM64_DEBS" || return 1
	for f in $(arm64_flavours "$1"); do
		pkg=$(in_root "apt-cache depends linux-headers-$f:arm64" |
		      sed -n "s/^ *Depends: \\(linux-headers-[^:]*-$f\\):arm64\$/\\1/p" | head -n 1)
		[[ -n $pkg ]] || { echo "no arm64 headers for $f" >&2; return 1; }
		deps=$(in_root "apt-cache show $pkg:arm64" | sed -n 's/^Depends: //p' |
		       head -n 1 | tr ',' '\n')
		common=$(grep -o 'linux-headers-[^ ]*-common[^ ]*' <<<"$deps" | head -n 1)
		kbuild=$(grep -o 'linux-kbuild-[^ ]*' <<<"$deps" | head -n 1)
		[[ -n $common && -n $kbuild ]] || { echo "$pkg: no -common or kbuild" >&2; return 1; }
		in_root "cd $ARM64_DEBS && apt-get download -q $pkg:arm64 $common >../rig-arm64.log 2>&1 ||
			 { cat ../rig-arm64.log; exit 1; }" >&2 || return 1
		in_root "apt-get install -y -q $kbuild" >/dev/null || return 1
		kvers+=("${pkg#linux-headers-}")
	done
	# the cross compiler the headers' compiler names (gcc-N)
	for cc in $(in_root "for d in $ARM64_DEBS/linux-headers-*-arm64*.deb; do
			dpkg-deb --fsys-tarfile \$d | tar -xOf - --wildcards '*/.kernelvariables'
		done" | sed -n 's/.*(CROSS_COMPILE)\(gcc-[0-9]*\).*/\1/p' | sort -u); do
		in_root "apt-get install -y -q $cc-aarch64-linux-gnu" >/dev/null || return 1
	done
	printf '%s\n' "${kvers[@]}" >"$root$ARM64_DEBS/kvers"
}

# arm64_unpack / arm64_clean: the arm64 headers in place for the checks,
# and gone again (so that the packages' dkms, which builds for every
# kernel with headers, does not meet them). Unpacked through tar so that
# the root's /lib -> usr/lib stays a link.
arm64_unpack() {
	in_root "rm -rf /tmp/arm64 && mkdir /tmp/arm64 &&
		 for d in $ARM64_DEBS/*.deb; do dpkg-deb -x \$d /tmp/arm64 || exit 1; done &&
		 tar -C /tmp/arm64 -cf - . | tar -C / --keep-directory-symlink -xf - &&
		 rm -rf /tmp/arm64"
}

arm64_clean() {
	in_root "for d in /usr/src/linux-headers-*arm64* /usr/src/linux-headers-*-common*; do
			[ -e \$d ] || continue
			dpkg -S \$d >/dev/null 2>&1 || rm -rf \$d
		 done
		 for d in /lib/modules/*arm64*; do rm -rf \$d; done"
}

# kernel_checks KVER [arm64]: dkms build and install for KVER (cross for
# an arm64 KVER), and the installed module.
kernel_checks() {
	local k=$1 ko dkms="dkms" a=""

	if [[ ${2:-} == arm64 ]]; then
		dkms="env $ARM64_ENV dkms"
		a=" -a aarch64"
	fi
	check "dkms build for $k" "$dkms build $MOD/$VERSION -k $k$a"
	check "dkms install for $k" "$dkms install $MOD/$VERSION -k $k$a"
	ko=$(in_root "find /lib/modules/$k/updates/dkms -name '$MOD.ko*' 2>/dev/null" | head -n 1)
	check "$k: installed under updates/dkms" "test -n '$ko'"
	check "$k: modinfo version $VERSION" "modinfo -F version '$ko' | grep -qx '$VERSION'"
	if [[ ${2:-} == arm64 ]]; then
		check "$k: built for aarch64 (vermagic, ELF machine)" \
			"modinfo -F vermagic '$ko' | grep -q ' aarch64\$' &&
			 od -An -j18 -N2 -tu2 '$ko' | grep -qw 183"
	fi
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
	local suite=$1 pkgs=() kvers=() k

	mapfile -t pkgs < <(suite_pkgs "$suite")
	if ! root=$("$RIG/suite-root.sh" "$suite" "${pkgs[@]}"); then
		fail=1
		summary "dkms/$suite"
		return
	fi
	# (arm64 headers a previous run left unpacked)
	arm64_clean
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
	if [[ $suite == "$RPM_SUITE" ]]; then
		test_rpm "${kvers[@]}"
		summary "rpm/$suite"
	fi
	test_arm64 "$suite"
	in_root "apt-get clean" >/dev/null 2>&1
}

# test_arm64 SUITE: the arm64 kernels arm64_fetch found for the suite,
# each cross-built and installed by the suite's dkms.
test_arm64() {
	local k a64=()

	[[ -s $root$ARM64_DEBS/kvers ]] && mapfile -t a64 <"$root$ARM64_DEBS/kvers"
	if ((${#a64[@]} == 0)) || ! arm64_unpack; then
		fail=$((fail + 1))
		echo "not ok - $1: the arm64 headers and cross compiler"
		summary "dkms/$1/arm64"
		return
	fi
	make -s -C "$TOP" dkms-source DESTDIR="$root" >/dev/null 2>&1
	for k in "${a64[@]}"; do
		check "$k: dkms add" "dkms add $MOD/$VERSION"
		kernel_checks "$k" arm64
		check "$k: dkms remove --all" "dkms remove $MOD/$VERSION --all"
		check "$k: nothing left in /var/lib/dkms" "test ! -e /var/lib/dkms/$MOD"
		gone_checks "$k"
		summary "dkms/$1/$k"
	done
	in_root "rm -rf /usr/src/$MOD-$VERSION"
	arm64_clean
}

# rpm_installed_checks KVER V: dkms has hv_ptp_ext V installed for KVER, and
# the module there says V.
rpm_installed_checks() {
	local k=$1 v=$2

	check "$k: the scriptlet installed $MOD/$v" \
		"dkms status $MOD/$v -k $k | grep -q installed"
	check "$k: modinfo version $v (RPM)" \
		"modinfo -F version \$(find /lib/modules/$k/updates/dkms -name '$MOD.ko*') | grep -qx '$v'"
}

# test_rpm KVER...: the RPMs in the suite's root, with its rpm and dkms.
test_rpm() {
	local k old=/root/rpms/$VERSION new=/root/rpms/$RPM_NEXT
	local conf=/etc/hv-ptp-sync.conf mark="# edited by the administrator"

	if ((rpm_built == 0)); then
		fail=$((fail + 1))
		echo "not ok - make rpm (above)"
		return
	fi
	# A previous run that stopped half way.
	in_root "rpm -e --nodeps hv-ptp-ext-dkms hv-ptp-sync; dkms remove $MOD/$VERSION --all;
		dkms remove $MOD/$RPM_NEXT --all; rm -rf /usr/src/$MOD-* $conf.rpmsave" >/dev/null 2>&1
	rm -rf "$root/root/rpms"
	mkdir -p "$root$old" "$root$new"
	cp "$TOP"/build/rpm/RPMS/*/*.rpm "$root$old/"
	cp "$TOP/build/rpm-$RPM_NEXT"/RPMS/*/*.rpm "$root$new/"

	check "rpm: hv-ptp-ext-dkms requires dkms" \
		"rpm -qpR $old/hv-ptp-ext-dkms-*.rpm | grep -qx dkms"
	check "rpm: hv-ptp-sync requires libjansson, libsystemd, libcap" \
		"rpm -qpR $old/hv-ptp-sync-*.rpm > /tmp/req &&
		 grep -q '^libjansson.so.4()' /tmp/req && grep -q '^libsystemd.so.0()' /tmp/req &&
		 grep -q '^libcap.so.2()' /tmp/req"
	check "rpm -i $VERSION" "rpm -i --nodeps $old/*.rpm"
	for k in "$@"; do
		rpm_installed_checks "$k" "$VERSION"
	done
	check "hv-ptp-sync --version (RPM)" "hv-ptp-sync --version | grep -q '$VERSION'"
	check "rpm -V: the files as packaged" "rpm -V --nodeps hv-ptp-ext-dkms hv-ptp-sync"
	check "an edit to $conf" "echo '$mark' >>$conf"

	check "rpm -U $RPM_NEXT" "rpm -U --nodeps $new/*.rpm"
	check "rpm -q: $RPM_NEXT, and $VERSION gone" \
		"rpm -q hv-ptp-ext-dkms hv-ptp-sync | grep -c -- '-$RPM_NEXT-' | grep -qx 2 &&
		 ! rpm -q hv-ptp-ext-dkms hv-ptp-sync | grep -q -- '-$VERSION-'"
	for k in "$@"; do
		rpm_installed_checks "$k" "$RPM_NEXT"
	done
	check "dkms: $MOD/$VERSION gone after the upgrade" \
		"test ! -e /var/lib/dkms/$MOD/$VERSION && ! dkms status $MOD/$VERSION | grep -q ."
	check "/usr/src/$MOD-$VERSION gone after the upgrade" "test ! -e /usr/src/$MOD-$VERSION"
	check "the edit to $conf kept over the upgrade" "grep -qx '$mark' $conf"
	# The same version again: the old package's %preun takes it out of
	# DKMS after the new one's files are in; %posttrans puts it back.
	check "rpm -U --replacepkgs $RPM_NEXT (a reinstall)" "rpm -U --nodeps --replacepkgs $new/*.rpm"
	for k in "$@"; do
		check "$k: $MOD/$RPM_NEXT installed after the reinstall" \
			"dkms status $MOD/$RPM_NEXT -k $k | grep -q installed"
	done

	check "rpm -e" "rpm -e hv-ptp-ext-dkms hv-ptp-sync"
	check "rpm -qa: no package left" "! rpm -qa | grep -q hv-ptp"
	check "nothing left in /var/lib/dkms (RPM)" "test ! -e /var/lib/dkms/$MOD"
	check "nothing left in /usr/src (RPM)" "! ls -d /usr/src/$MOD-* 2>/dev/null | grep -q ."
	check "no packaged file left" \
		"for f in /usr/sbin/hv-ptp-sync /usr/bin/hv-ptp-now /usr/lib/systemd/system/hv-ptp-sync.service \
			/usr/lib/udev/rules.d/60-hv-ptp-ext.rules /usr/lib/modules-load.d/hv_ptp_ext.conf \
			/etc/modprobe.d/hv_ptp_ext.conf $conf; do
			if [ -e \$f ]; then echo \$f left; exit 1; fi
		 done"
	check "the edited $conf saved as $conf.rpmsave" "grep -qx '$mark' $conf.rpmsave"
	in_root "rm -f $conf.rpmsave"
	for k in "$@"; do
		gone_checks "$k"
	done
}

((EUID == 0)) || { echo "dkms-test: needs root (chroot)"; echo "dkms: 0 passed, 1 failed, 0 skipped"; exit 1; }
mkdir -p "$OUT"

# The chroots first, all at once: fetching and unpacking packages waits on
# the network and the disk, not on the two cores. --prefetch: only that
# (make check starts it early, in the background).
pids=()
for s in "${SUITES[@]}"; do
	(
		mapfile -t pkgs < <(suite_pkgs "$s")
		root=$("$RIG/suite-root.sh" "$s" "${pkgs[@]}") &&
			arm64_fetch "$s" >&2
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
# The RPMs, and a higher version of them for the upgrade.
rpm_built=0
if [[ -n $RPM_SUITE ]]; then
	"$RIG/rpm.sh" && "$RIG/rpm.sh" --version "$RPM_NEXT" --no-rpmlint && rpm_built=1
fi

for s in "${SUITES[@]}"; do
	suite=$s
	log "== $s"
	test_suite "$s"
done

echo
printf '%s\n' "${summaries[@]}"
echo "dkms: $total_pass passed, $total_fail failed, 0 skipped"
((total_fail == 0))
