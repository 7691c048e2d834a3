#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The benchmark report (selftests/rig/bench-report.c) on results made up
# for it (selftests/unit/report/): every table and goal as the page shows
# it, byte for byte (the expected pages were checked against the awk the
# program replaced, which gave the same text but for a division by zero),
# and the verdicts that matter on their own: a goal is met only by figures
# that were measured. bench-run writes -1 for "never" (a settling time not
# reached) and for a CPU or RSS figure it could not read; the awk turned
# never-vs-2.2 s into a ratio of -0.455 and "yes". KTAP, as the C tests.
set -u
here=$(cd "$(dirname "$0")" && pwd)
data=$here/report
report=${BENCH_REPORT:?the bench-report program to test}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for r in azure sid p1 p2; do
	mkdir -p "$tmp/$r"
	cp "$data/$r.results" "$tmp/$r/results"
	[[ ! -f $data/$r.versions ]] || cp "$data/$r.versions" "$tmp/$r/versions"
done

n=0 pass=0 fail=0
ok() {
	n=$((n + 1))
	if [[ $2 == 0 ]]; then
		pass=$((pass + 1))
		echo "ok $n report.$1"
	else
		fail=$((fail + 1))
		echo "not ok $n report.$1"
	fi
}
# page NAME EXPECTED ARGS...: the program's text is EXPECTED's
page() {
	local name=$1 want=$data/$2 rc=0

	shift 2
	"$report" "$@" >"$tmp/out" 2>&1 || rc=1
	if ((rc == 0)) && cmp -s "$want" "$tmp/out"; then
		ok "$name" 0
	else
		diff "$want" "$tmp/out" | sed 's/^/# /'
		ok "$name" 1
	fi
}
# row NAME TEXT ARGS...: the program prints the line TEXT
row() {
	local name=$1 text=$2

	shift 2
	if "$report" "$@" | grep -qxF -- "$text"; then
		ok "$name" 0
	else
		echo "# no line: $text"
		ok "$name" 1
	fi
}

echo "TAP version 13"
echo "1..11"
page table table-azure.md table "$tmp/azure" ABCDE
page goals goals-azure.md goals "$tmp/azure"
page goals_ideal goals-ideal.md goals-ideal "$tmp/azure"
page goals_newer goals-newer.md goals-newer "$tmp/sid" "$tmp/azure"
page ages ages.md ages "$tmp/p1" "$tmp/p2"
row never_is_no "| within 1 µs: E ≤ 1/2 of the best peer | never vs 30.0 s | missing | **no** |" \
	goals "$tmp/azure"
row missing_cpu_is_no "| CPU: E ≤ chronyd (A) | -1 s vs 0.85 s | missing | **no** |" \
	goals "$tmp/azure"
row measured_is_yes "| within 10 µs: E no later than the fastest peer | 2.2 s vs 6.0 s | 0.367 | yes |" \
	goals "$tmp/azure"
row no_readings_is_no "| 120 s | 0 | - | - | - | - | missing | **no** |" \
	ages "$tmp/p1" "$tmp/p2"
row zero_oracle_is_no "| 300 s | 100 | 10 ns | 10 ns / 10 ns | 0 ns | 0 ns | missing | **no** |" \
	ages "$tmp/p1" "$tmp/p2"
row died_is_shown "| E: hv-ptp-sync (died) | hv_ptp_ext | PRECISE | 0 ns | 338 ns / 1.20 µs | 345 ns | 1.05 µs | 1.25 µs | 2.2 s | never | -1 s | 1700 KiB |" \
	table "$tmp/azure" ABCDE
echo "# Totals: pass:$pass fail:$fail xfail:0 xpass:0 skip:0 error:0"
((fail == 0))
