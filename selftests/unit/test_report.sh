#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The benchmark report's verdicts (selftests/rig/report.sh): a goal is met
# only by figures that were measured. bench-run writes -1 for "never" (a
# settling time not reached) and for a CPU or RSS figure it could not
# read; an empty figure is a setup that did not run. KTAP, as the C tests.
set -u
. "$(dirname "$0")/../rig/report.sh"

n=0 pass=0 fail=0
# case NAME EXPECTED COMMAND...
case_() {
	local name=$1 want=$2 got

	shift 2
	n=$((n + 1))
	got=$("$@")
	if [[ $got == "$want" ]]; then
		pass=$((pass + 1))
		echo "ok $n report.$name"
	else
		fail=$((fail + 1))
		echo "# $*: got '$got', want '$want'"
		echo "not ok $n report.$name"
	fi
}

echo "TAP version 13"
echo "1..12"
case_ ratio_plain 0.5 ratio 1 2
case_ ratio_never_ours missing ratio -1 2.2
case_ ratio_never_theirs missing ratio 2.2 -1
case_ ratio_empty missing ratio "" 3
case_ ratio_zero missing ratio 3 0
case_ met_yes yes met 0.5 1
case_ met_no '**no**' met 1.5 1
case_ met_limit yes met 1 1
# what the old report did with -1 against 2.2 s: ratio -0.455, "yes"
case_ met_negative '**no**' met -0.455 1
case_ met_missing '**no**' met missing 1
case_ met_dash '**no**' met - 1
case_ never_is_no '**no**' met "$(ratio -1 2.2)" 1
echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
((fail == 0))
