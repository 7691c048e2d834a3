#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# support-matrix.sh LINE...: the support matrix as Markdown, from make
# check's summary lines (check.sh passes them):
#
#   dkms/SUITE/KVER: P passed, F failed, S skipped   dkms add/build/install,
#                                                   modinfo, remove
#   deb/SUITE: ...                                   the .debs, dh-dkms
#   rpm/SUITE: ...                                   the RPMs' scriptlets
#   KVER: ...                                        a booted guest's suite
#   system/SUITE/KVER: ...                           the system test
#
# A cell says "yes (P/T)" when all T checks passed, "FAILED (P/T)" when
# not, and "-" where the run did not cover it. check.sh writes it to
# build/support-matrix.md at the end of every run.
set -euo pipefail

declare -A dkms deb rpm boot sys
suites=()
rows=()

cell() {	# cell "P passed, F failed, S skipped"
	local p f sk more=

	read -r p _ f _ sk _ <<<"$1"
	p=${p%,}
	f=${f%,}
	((${sk:-0} > 0)) && more=", $sk skipped"
	if ((f == 0 && p > 0)); then
		echo "yes ($p/$((p + f))$more)"
	else
		echo "FAILED ($p/$((p + f))$more)"
	fi
}

for line in "$@"; do
	name=${line%%:*}
	counts=${line#*: }
	case $name in
	dkms/*/*)
		rows+=("${name#dkms/}")
		dkms[${name#dkms/}]=$(cell "$counts") ;;
	system/*/*)
		sys[${name#system/}]=$(cell "$counts") ;;
	deb/*)
		deb[${name#deb/}]=$(cell "$counts")
		suites+=("${name#deb/}") ;;
	rpm/*)
		rpm[${name#rpm/}]=$(cell "$counts") ;;
	[0-9]*)
		boot[$name]=$(cell "$counts") ;;
	esac
done

echo "| suite | kernel | DKMS (the suite's dkms and compiler) | .debs (dh-dkms) | RPMs (their scriptlets, the suite's dkms) | booted in the rig, guest suite | system test (systemd, the .debs) |"
echo "|---|---|---|---|---|---|---|"
for r in "${rows[@]}"; do
	suite=${r%%/*}
	kver=${r#*/}
	booted=${boot[$kver]:--}
	debc=${deb[$suite]:--} rpmc=${rpm[$suite]:--}
	# arm64: cross-built by the suite's dkms; the packages are amd64's
	[[ $kver == *arm64* ]] && debc=- rpmc=-
	echo "| $suite | $kver | ${dkms[$r]} | $debc | $rpmc | $booted | ${sys[$r]:--} |"
done
for k in "${!boot[@]}"; do
	found=0
	for r in "${rows[@]}"; do
		[[ ${r#*/} == "$k" ]] && found=1
	done
	((found)) && continue
	echo "| (rig) | $k | - | - | - | ${boot[$k]} | - |"
done
echo
echo "(rig): built by make check from Debian's linux-source of that release with"
echo "the rig's configuration (VMBus as a module), since Debian's images of it"
echo "build VMBus in. Skipped: the soaks, each run in one guest (rig.soak)."
echo "arm64 rows: cross-built, installed and checked by the suite's dkms with"
echo "the suite's own gcc-N-aarch64-linux-gnu (the packages' rows are amd64's)."
echo "RPMs: installed, upgraded and erased with rpm in the suite's root; the"
echo "RPM distributions themselves are packaged for, not booted."
