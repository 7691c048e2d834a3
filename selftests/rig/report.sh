# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# report.sh: how the benchmark's report judges a goal, sourced by bench.sh
# and tested on its own (selftests/unit/test_report.sh).
#
# A figure is a number, or missing: empty (the setup did not run, or the
# run gave no such figure) or negative (bench-run's -1 for "never": a
# settling time not reached by the end of the run, a CPU or RSS figure
# it could not read). A goal with a missing figure on either side is not
# met: "never" is no better than anything.

# ratio A B: A / B to three digits; "missing" when either figure is
# missing or B is 0
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "" || b == "" || a + 0 < 0 || b + 0 <= 0)
			print "missing"
		else
			printf "%.3g\n", a / b
	}'
}

# met RATIO LIMIT: "yes" when RATIO is a number no greater than LIMIT,
# "**no**" otherwise (a missing ratio included)
met() {
	awk -v r="$1" -v l="$2" 'BEGIN {
		if (r !~ /^[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?$/)
			print "**no**"
		else
			print (r + 0 <= l + 0 ? "yes" : "**no**")
	}'
}
