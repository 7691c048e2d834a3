#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# demo.sh: "make demo". As root on Debian 12: installs what it needs, boots
# one guest (Debian's newest 6.12 kernel) with the simulated Hyper-V host on
# the azure profile, Debian's hv_utils owning TimeSync; the system clock is
# put 50 ms ahead and 100 ppm fast; hv_ptp_ext takes TimeSync over and
# hv-ptp-sync steers the clock, its errors against the simulator's truth
# shown live; then a plot (build/demo/demo.png, and a text one here).
#
#   DEMO_SECONDS   how long hv-ptp-sync is watched (default 90)
set -Eeuo pipefail
# A failing step names itself: script, line, command and status.
trap 'echo "${0##*/}: line $LINENO: \"$BASH_COMMAND\" failed (exit $?)" >&2' ERR

TOP=$(cd "$(dirname "$0")/../.." && pwd)
RIG=$TOP/selftests/rig
OUT=$TOP/build/demo
SECS=${DEMO_SECONDS:-90}

[[ $SECS =~ ^[0-9]+$ ]] && ((SECS >= 10 && SECS <= 3600)) ||
	{ echo "demo: DEMO_SECONDS must be 10..3600" >&2; exit 1; }

echo "== demo: preparing (packages, a Debian 6.12 kernel, builds)"
"$RIG/deps.sh"
if ! command -v gnuplot >/dev/null; then
	echo "deps: installing gnuplot-nox"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends gnuplot-nox >/dev/null
fi
"$RIG/kernels.sh"
kver=$(grep -E '^6\.12\.' "$TOP/.cache/kernels/list" | tail -n 1)
[[ -n $kver ]] || { echo "demo: no 6.12 kernel in the cache" >&2; exit 1; }
"$RIG/build.sh" "$kver" >/dev/null
"$RIG/initramfs.sh" "$kver" >/dev/null

echo "== demo: booting $kver (QEMU TCG); this takes about $((SECS + 60)) s"
RIG_APPEND="rig.demo=$SECS" RIG_TIMEOUT=$((SECS + 600)) \
	"$RIG/run-vm.sh" "$kver" | sed -u 's/^\[[0-9.]*\] \(# \)\{0,1\}//'

mkdir -p "$OUT"
tr -d '\r' <"$TOP/build/$kver/tap.log" |
	sed -n 's/^# DATA //p' >"$OUT/demo.dat"
[[ -s $OUT/demo.dat ]] || { echo "demo: no data from the guest" >&2; exit 1; }
# the in-tree PHC's RMS error, measured before hv_ptp_ext took over: a
# line in the plot to compare with
intree_rms=$(tr -d '\r' <"$TOP/build/$kver/tap.log" |
	sed -n 's/^# in-tree hyperv PHC over .*error RMS \([0-9]*\) ns.*/\1/p' | tail -n 1)
intree_line=
[[ -n $intree_rms ]] &&
	intree_line=", $intree_rms/1000.0 with lines dashtype 2 title \"in-tree hyperv PHC (hv_utils): RMS error $intree_rms ns, measured before\""

# plot TERMINAL [FILE]: without FILE, to standard output
plot() {
	gnuplot <<-GP
	set terminal $1
	set termoption noenhanced
	${2:+set output \"$2\"}
	set title "hv-ptp-sync from 50 ms / +100 ppm (azure profile)"
	set xlabel "seconds"
	set ylabel "error vs true host time (us)"
	set logscale y 10
	set format y "%g"
	set grid
	plot "$OUT/demo.dat" using 1:(abs(\$2)/1000.0 + 0.001) with lines title "system clock |error|", \
	     "$OUT/demo.dat" using 1:(abs(\$3)/1000.0 + 0.001) with lines title "hv_ptp_ext PHC |error|"$intree_line
	GP
}
plot "pngcairo size 1000,600" "$OUT/demo.png" 2>/dev/null ||
	plot "png size 1000,600" "$OUT/demo.png"
plot "dumb size 100,30"
# Summary: when the system clock came within 1 us (and 10 us) of the true
# host time for good, and its RMS error over the second half of the run.
awk -v secs="$SECS" '
	function a(x) { return x < 0 ? -x : x }
	{
		t[NR] = $1; e[NR] = $2
	}
	END {
		t1 = t10 = -1
		for (i = 1; i <= NR; i++) {
			if (a(e[i]) > 1000) t1 = -1; else if (t1 < 0) t1 = t[i]
			if (a(e[i]) > 10000) t10 = -1; else if (t10 < 0) t10 = t[i]
			if (t[i] >= secs / 2) { n++; s2 += e[i] * e[i]
				if (a(e[i]) > m) m = a(e[i]) }
		}
		print "== summary"
		printf "within 10 us of true time after %s, within 1 us after %s\n",
			t10 < 0 ? "never" : t10 " s", t1 < 0 ? "never" : t1 " s"
		if (n)
			printf "system clock error over the last %d s: RMS %.0f ns, max %.0f ns\n",
				secs - int(secs / 2), sqrt(s2 / n), m
	}' "$OUT/demo.dat"
[[ -z $intree_rms ]] ||
	echo "the in-tree hyperv PHC (hv_utils), before hv_ptp_ext took over: RMS error $intree_rms ns"
echo "demo: plot in $OUT/demo.png, data in $OUT/demo.dat"
