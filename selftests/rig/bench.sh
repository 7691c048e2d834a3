#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh: "make bench". As root on Debian 12: installs what it needs and
# runs, in guests of Debian's newest 6.12 kernel with the simulated host,
# each setup on each profile from the same start (system clock 50 ms ahead
# of the truth, 100 ppm fast) with the same simulator seed:
#
#   A  Debian 12's chrony, Azure's documented refclock line, on hv_utils' PHC
#   B  Debian 12's phc2sys -O 0 on hv_utils' PHC
#   C  A's chrony configuration on hv_ptp_ext's PHC
#   D  phc2sys -O 0 on hv_ptp_ext's PHC
#   E  hv-ptp-sync on hv_ptp_ext's PHC
#   U  E with the UTC audit in bound mode: chronyd -x polling an NTP server
#      on the simulator's UTC (the host 2 ms off it) every second, read by
#      hv-ptp-sync through chronyc every second (the audit only informs
#      the bound: U's system RMS is E's)
#
# and, unless BENCH_SEED2 is empty, the azure profile again with a second
# seed; then, on azure with the first seed, the newer suites' peers
# (peers.sh: each runs on its own suite's libraries): Debian 13's chrony
# and linuxptp in A to D, Debian unstable's in A to D and in
#
#   F  chrony with the tuning Azure users ask for ("poll -1 dpoll -2")
#      on hv_utils' PHC
#   G  F on hv_ptp_ext's PHC
#
# and, on azure with the seeds of BENCH_AGE_SEEDS,
#
#   P  hv_ptp_ext's PHC alone from the module's load, no daemon: its error
#      30, 60, 120, 300 and 600 s after the first sample against the
#      oracle's, a Kalman filter given the simulator's true noise and
#      wander, run on the same samples (selftests/rig/oracle.h)
#
# and, unless BENCH_72 is empty, azure with the first seed on the 7.2
# kernel that make check builds (Debian unstable's linux-source-7.2 with
# the rig's configuration, rig-kernel.sh), Debian unstable's peers in A to
# D, F and G beside E in the same guest.
#
# One guest per profile, seed, suite and kernel, two at a time. Writes the
# tables to docs/benchmarks.md and the plots to docs/img/ (BENCH_DOCS=DIR
# elsewhere), the data under build/bench/.
#
#   bench.sh [--smoke | --report]
#
#   BENCH_PROFILES  comma-separated (default ideal,azure,harsh)
#   BENCH_SETUPS    letters A to E and U for Debian 12's peers (default
#                   ABCDEU)
#   BENCH_SECONDS   per run (default 180; 10..3600)
#   BENCH_SEED      simulator seed (default 1)
#   BENCH_SEED2     azure's second seed (default 2; empty: none)
#   BENCH_SUITES    the newer peers' suites (default trixie,sid; empty:
#                   none)
#   BENCH_AGE_SEEDS azure's seeds for P (default 3,4,5; empty: none)
#   BENCH_AGE_SECONDS  per P run (default 670: the last age, 600 s,
#                   is judged up to 660 s)
#   BENCH_72        the setups on the 7.2 kernel (default ABCDEFG; empty:
#                   none)
#
# --smoke: every setup for 20 s on azure, Debian 12's and unstable's
# peers, and P for 35 s (its first age), one guest at a time, no second
# seed, into build/bench-smoke;
# checks each run finished
# with its daemon alive and prints "bench-smoke: N passed, N failed, 0
# skipped"; no docs.
# --report: only the docs again, from the data of the last run (same
# BENCH_* settings).
set -Eeuo pipefail
# A failing step names itself: script, line, command and status.
trap 'echo "${0##*/}: line $LINENO: \"$BASH_COMMAND\" failed (exit $?)" >&2' ERR

TOP=$(cd "$(dirname "$0")/../.." && pwd)
RIG=$TOP/selftests/rig
smoke=0 report=0
case ${1:-} in
--smoke) smoke=1 ;;
--report) report=1 ;;
"") ;;
*) echo "usage: bench.sh [--smoke | --report]" >&2; exit 2 ;;
esac

if ((smoke)); then
	PROFILES=azure SETUPS=ABCDEU SECS=20 SEED=1 SEED2="" SUITES=sid
	AGE_SEEDS=1 AGE_SECS=35 K72=""
	OUT=$TOP/build/bench-smoke
	# one guest at a time: make check's guests run beside it
	SLOTS=1
else
	PROFILES=${BENCH_PROFILES:-ideal,azure,harsh}
	SETUPS=${BENCH_SETUPS:-ABCDEU}
	SECS=${BENCH_SECONDS:-180}
	SEED=${BENCH_SEED:-1}
	SEED2=${BENCH_SEED2-2}
	SUITES=${BENCH_SUITES-trixie,sid}
	AGE_SEEDS=${BENCH_AGE_SEEDS-3,4,5}
	AGE_SECS=${BENCH_AGE_SECONDS:-670}
	K72=${BENCH_72-ABCDEFG}
	OUT=$TOP/build/bench
	SLOTS=2
fi
# The newer suites' setups: A to D; unstable's chrony also tuned.
declare -A NEWER=([trixie]=ABCD [sid]=ABCDFG)
DOCS=${BENCH_DOCS:-$TOP/docs}

# shellcheck disable=SC2034 # (lib.sh)
RIG_NAME="bench"
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[[ $SECS =~ ^[0-9]+$ ]] && ((SECS >= 10 && SECS <= 3600)) ||
	die "BENCH_SECONDS must be 10..3600"
[[ $SETUPS =~ ^[A-EU]+$ ]] || die "BENCH_SETUPS: letters A to E and U"
[[ $K72 =~ ^[A-G]*$ ]] || die "BENCH_72: letters A to G"
[[ $SEED =~ ^[0-9]+$ && ( -z $SEED2 || $SEED2 =~ ^[0-9]+$ ) ]] ||
	die "BENCH_SEED and BENCH_SEED2 are numbers"
[[ -z $AGE_SEEDS || $AGE_SEEDS =~ ^[0-9]+(,[0-9]+)*$ ]] ||
	die "BENCH_AGE_SEEDS: comma-separated numbers"
[[ $AGE_SECS =~ ^[0-9]+$ ]] && ((AGE_SECS >= 10 && AGE_SECS <= 3600)) ||
	die "BENCH_AGE_SECONDS must be 10..3600"
for p in ${PROFILES//,/ }; do
	[[ $p =~ ^(ideal|azure|harsh)$ ]] || die "unknown profile '$p'"
done
for x in ${SUITES//,/ }; do
	[[ -n ${NEWER[$x]:-} ]] || die "BENCH_SUITES: trixie, sid"
done

# The suites whose peers run: Debian 12's, the newer ones', and sid's on 7.2
peer_suites=$(printf '%s\n' bookworm ${SUITES//,/ } ${K72:+sid} | awk '!seen[$0]++' | paste -sd ' ')
# A job is a guest: PROFILE:SEED:SUITE:SETUPS:KERNEL (6.12 or 7.2). The
# longest first.
start=$SECONDS
jobs=()
[[ -z $K72 ]] || jobs+=("azure:$SEED:sid:$K72:7.2")
for x in ${SUITES//,/ }; do
	jobs+=("azure:$SEED:$x:${NEWER[$x]}:6.12")
done
for p in ${PROFILES//,/ }; do
	jobs+=("$p:$SEED:bookworm:$SETUPS:6.12")
done
[[ -n $SEED2 && ,$PROFILES, == *,azure,* ]] && jobs+=("azure:$SEED2:bookworm:$SETUPS:6.12")
for s in ${AGE_SEEDS//,/ }; do
	jobs+=("azure:$s:bookworm:P:6.12")
done
# secs_of SETUPS: each run's length
secs_of() { [[ $1 == P ]] && echo "$AGE_SECS" || echo "$SECS"; }
# jobdir JOB: its data directory
jobdir() {
	local IFS=: j
	read -r -a j <<<"$1"
	echo "$OUT/${j[0]}-s${j[1]}$([[ ${j[2]} == bookworm ]] || echo "-${j[2]}")$([[ ${j[3]} != P ]] || echo -ages)$([[ ${j[4]} == 6.12 ]] || echo "-${j[4]}")"
}

if ((report)); then
	kver=$(grep -E '^6\.12\.' "$TOP/.cache/kernels/list" | tail -n 1)
	k72=$(cat "$OUT/kver-7.2" 2>/dev/null || echo 7.2)
else
echo "== bench: preparing (packages, chrony and linuxptp, a Debian 6.12 kernel, builds)"
"$RIG/deps.sh"
if ((!smoke)) && ! command -v gnuplot >/dev/null; then
	echo "deps: installing gnuplot-nox"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends gnuplot-nox >/dev/null
fi
# shellcheck disable=SC2086 # split on purpose
"$RIG/peers.sh" $peer_suites
"$RIG/kernels.sh"
kver=$(grep -E '^6\.12\.' "$TOP/.cache/kernels/list" | tail -n 1)
[[ -n $kver ]] || die "no 6.12 kernel in the cache"
"$RIG/build.sh" "$kver" >/dev/null
"$RIG/initramfs.sh" "$kver" >/dev/null
# The 7.2 kernel as make check builds it (check.sh), and the modules for it
# with sid's compiler.
k72='' k72root=''
if [[ -n $K72 ]]; then
	echo "== bench: the 7.2 kernel (linux-source-7.2; cached after its first build)"
	read -r k72 k72root < <("$RIG/rig-kernel.sh" --suite sid linux-source-7.2 \
		"$RIG/rig-kernel-7.2.config") || :
	[[ -n $k72root ]] || die "the 7.2 kernel did not build"
	RIG_KROOT=$k72root RIG_BUILD_ROOT=$("$RIG/suite-root.sh" sid) \
		"$RIG/build.sh" "$k72" >/dev/null
	"$RIG/initramfs.sh" "$k72" >/dev/null
fi

# One guest per profile, seed, suite and kernel.
rm -rf "$OUT"
mkdir -p "$OUT"
git -C "$TOP" describe --always --dirty >"$OUT/revision" 2>/dev/null || echo unknown >"$OUT/revision"
date -u +%Y-%m-%d >"$OUT/date"
[[ -z $k72 ]] || echo "$k72" >"$OUT/kver-7.2"
for x in $peer_suites; do
	cp "$TOP/.cache/peers/$x.versions" "$OUT/$x.versions"
done
runs=0 total=0
for j in "${jobs[@]}"; do
	IFS=: read -r p s x su k <<<"$j"
	runs=$((runs + ${#su}))
	total=$((total + ${#su} * ($(secs_of "$su") + 27)))
done
echo "== bench: $runs runs in ${#jobs[@]} guests, $SLOTS at a time (about $((total / (60 * SLOTS) + 1)) min)"
for j in "${jobs[@]}"; do
	IFS=: read -r p s x su k <<<"$j"
	while (($(jobs -rp | wc -l) >= SLOTS)); do
		wait -n || true
	done
	kv=$kver kr=
	[[ $k == 6.12 ]] || kv=$k72 kr=$k72root
	RIG_OUT=$(jobdir "$j") RIG_APPEND="rig.bench=$p:$su:$(secs_of "$su"):$s:$x" \
		RIG_TIMEOUT=$(( ${#su} * ($(secs_of "$su") + 60) + 300 )) RIG_KROOT=$kr \
		"$RIG/run-vm.sh" "$kv" 2>&1 |
		sed -u -E "s/^\[[0-9]+\.[0-9]+\]/[$p seed $s $x $k]/" | grep --line-buffered -E '^\[.*\] (ok|not ok|# RESULT|# bench)' &
done
wait
fi

# Per guest: build/bench/PROFILE-sSEED/SETUP.dat (t sys phc ref), for P
# P.age (age phc oracle oracle_sd), and results (the RESULT lines'
# key=value pairs).
fail=0 pass=0
for j in "${jobs[@]}"; do
	IFS=: read -r p s x su k <<<"$j"
	d=$(jobdir "$j")
	[[ -f $d/versions || ! -f $OUT/$x.versions ]] || cp "$OUT/$x.versions" "$d/versions"
	tr -d '\r' <"$d/tap.log" | awk -v d="$d" '
		/^# bench: / { x = $6; sub(",", "", x) }
		/^# DATA / { print $3, $4, $5, $6 > (d "/" x ".dat") }
		/^# AGE / { print $3, $4, $5, $6 > (d "/" x ".age") }
		/^# RESULT / { sub("^# RESULT ", ""); print > (d "/results") }'
	pass=$((pass + $(grep -c '^ok ' "$d/tap.log" || true)))
	fail=$((fail + ${#su} - $(grep -c '^ok ' "$d/tap.log" || true)))
done
if ((smoke)); then
	echo "bench-smoke: $pass passed, $fail failed, 0 skipped ($((SECONDS - start)) s)"
	((fail == 0))
	exit
fi
((fail == 0)) || echo "bench: $fail runs failed; their rows say died=1 or are missing" >&2

# field FILE SETUP KEY: one value of a RESULT line
field() {
	awk -v x="$2" -v k="$3" '{
		delete v
		for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		if (v["setup"] == x) print v[k]
	}' "$1"
}

# phc SETUP: whose PHC the setup reads
phc() { [[ $1 == [ABF] ]] && echo hv_utils || echo hv_ptp_ext; }
# label DIR SETUP: "A: chronyd 4.9", "E: hv-ptp-sync"
label() {
	local d=$1 x=$2 dm v=
	dm=$(field "$d/results" "$x" daemon)
	[[ $dm == chronyd ]] && v=$(awk '$1 == "chrony" { print $2 }' "$d/versions" 2>/dev/null)
	[[ $dm == phc2sys ]] && v=$(awk '$1 == "linuxptp" { print $2 }' "$d/versions" 2>/dev/null)
	echo "$x: $dm${v:+ ${v%%-*}}$([[ $x == [FG] ]] && echo ", poll -1")$([[ $x == U ]] && echo ", UTC audit")"
}

mkdir -p "$DOCS/img"
plot() {	# plot TITLE DIR PNG SETUPS
	local p=$1 d=$2 png=$3 cmds=() x t
	for x in $(echo "$4" | grep -o .); do
		[[ -s $d/$x.dat ]] || continue
		t="$(label "$d" "$x") on $(phc "$x")"
		cmds+=("\"$d/$x.dat\" using 1:(abs(\$2)/1000.0 + 0.001) with lines title \"$t\"")
	done
	gnuplot <<-GP
	set terminal pngcairo size 1000,600 noenhanced
	set output "$png"
	set title "System clock |error| vs true host time, $p (from 50 ms / +100 ppm)"
	set xlabel "seconds"
	set ylabel "microseconds (log)"
	set logscale y 10
	set format y "%g"
	set grid
	plot $(IFS=,; echo "${cmds[*]}")
	GP
}
plot_phc() {	# plot_phc PROFILE DIR PNG
	local p=$1 d=$2 png=$3 cmds=()
	[[ -s $d/A.dat ]] && cmds+=("\"$d/A.dat\" using 1:(\$3/1000.0) with lines title \"hv_utils PHC (run A)\"")
	[[ -s $d/E.dat ]] && cmds+=("\"$d/E.dat\" using 1:(\$3/1000.0) with lines title \"hv_ptp_ext PHC (run E)\"")
	((${#cmds[@]})) || return 0
	gnuplot <<-GP
	set terminal pngcairo size 1000,600 noenhanced
	set output "$png"
	set title "PHC error vs true host time, $p profile"
	set xlabel "seconds"
	set ylabel "microseconds"
	set grid
	plot $(IFS=,; echo "${cmds[*]}")
	GP
}

# ages: our PHC against the oracle by age, pooled over the P runs
ages() {
	local j d dirs=() seeds=()
	for j in "${jobs[@]}"; do
		[[ $j == *:P:* ]] || continue
		d=$(jobdir "$j")
		[[ -s $d/results ]] || continue
		dirs+=("$d")
		seeds+=("$(field "$d/results" P seed)")
	done
	((${#dirs[@]})) || return 0
	echo
	echo "## hv_ptp_ext's PHC by age against the oracle: azure, seeds $(IFS=,; echo "${seeds[*]}" | sed 's/,/, /g')"
	echo
	echo "Setup P: the module loaded with no daemon, its PHC read at 10 Hz for $AGE_SECS s from the first sample it got. The oracle is a Kalman filter on the simulator's own host model, given its true parameters (here noise $(us "$(field "${dirs[0]}/results" P noise_ns)") per sample, a random-walk step of the rate of $(field "${dirs[0]}/results" P wander_ppb) ppb at each sample, the 100 ns rounding of parenttime; diffuse prior), run afterwards on the simulator's log of the same samples and read at the same instants, each sample from 10 ms after it was taken: the best estimate any PHC could give from those samples, on average (selftests/rig/oracle.h). \"Expected\" is the filter's own variance, which needs no seed: what the samples' noise allows at that age. Each age is judged over the readings within ±10 % of it, pooled over the seeds. Goal: our RMS within 1.25× of the oracle's at every age."
	echo
	echo "| age | readings | our PHC RMS | by seed | oracle RMS | oracle expected | ratio | within 1.25× |"
	echo "|---|---|---|---|---|---|---|---|"
	# one row an age: the sums of squares pooled over the runs' results
	"$report_prog" ages "${dirs[@]}"
	gnuplot <<-GP
	set terminal pngcairo size 1000,600 noenhanced
	set output "$DOCS/img/bench-azure-ages.png"
	set title "Error vs true host time by age, azure seed ${seeds[0]}: hv_ptp_ext's PHC and the oracle"
	set xlabel "seconds since the first sample"
	set ylabel "microseconds"
	set yrange [-3:3]
	set grid
	plot "${dirs[0]}/P.age" using 1:(\$2/1000.0) with lines title "hv_ptp_ext PHC", \
	     "${dirs[0]}/P.age" using 1:(\$3/1000.0) with lines title "oracle (Kalman filter, true parameters)", \
	     "${dirs[0]}/P.age" using 1:(\$4/1000.0) with lines dt 2 lc rgb "gray" title "oracle expected, +-1 sd", \
	     "${dirs[0]}/P.age" using 1:(-\$4/1000.0) with lines dt 2 lc rgb "gray" notitle
	GP
	echo
	echo "![PHC and oracle error by age, azure](img/bench-azure-ages.png)"
}

# the tables and the goals: bench-report (selftests/rig/bench-report.c),
# built for the host here
report_prog=$OUT/bench-report
cc -O2 -Wall -Wextra -Werror -std=gnu11 -o "$report_prog" "$RIG/bench-report.c" -lm ||
	die "bench-report does not build"
table() { "$report_prog" table "$@"; }
goals() { "$report_prog" goals "$@"; }
goals_ideal() { "$report_prog" goals-ideal "$@"; }
goals_newer() { "$report_prog" goals-newer "$@"; }
# us NS: as the tables show it
us() { awk -v v="$1" 'BEGIN { if (v == "" ) print "-"; else if (v < 0) print "never"; else if (v < 1000) printf "%d ns", v; else if (v < 1e6) printf "%.2f µs", v / 1000; else printf "%.2f ms", v / 1e6 }'; }

cmd="make bench"
[[ -n ${BENCH_PROFILES:-}${BENCH_SETUPS:-}${BENCH_SECONDS:-}${BENCH_SEED:-}${BENCH_AGE_SECONDS:-} ||
   ${BENCH_SEED2-2} != 2 || ${BENCH_SUITES-trixie,sid} != trixie,sid ||
   ${BENCH_AGE_SEEDS-3,4,5} != 3,4,5 || ${BENCH_72-ABCDEFG} != ABCDEFG ]] &&
	cmd="BENCH_PROFILES=$PROFILES BENCH_SETUPS=$SETUPS BENCH_SECONDS=$SECS BENCH_SEED=$SEED BENCH_SEED2=$SEED2 BENCH_SUITES=$SUITES BENCH_AGE_SEEDS=$AGE_SEEDS BENCH_AGE_SECONDS=$AGE_SECS BENCH_72=$K72 make bench"
suite_name() { case $1 in bookworm) echo "Debian 12 (bookworm)" ;; trixie) echo "Debian 13 (trixie)" ;; sid) echo "Debian unstable (sid)" ;; esac; }
md=$DOCS/benchmarks.md
{
	echo "# Benchmarks"
	echo
	echo "Produced by \`$cmd\` (selftests/rig/bench.sh) on $(cat "$OUT/date"); this page is its output."
	echo
	echo "- Machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo); Debian $(cat /etc/debian_version); $(qemu-system-x86_64 --version | head -n 1), TCG, 2 vCPUs per guest, two guests at a time."
	echo "- Guest kernel: Debian's $kver$([[ -z $K72 ]] || echo "; and $k72, built from Debian unstable's linux-source-7.2 with the rig's configuration (selftests/rig/rig-kernel.sh), for the table of its own after the newer suites' on 6.12"); simulated host: selftests/host_sim; hv_utils: Debian's, unmodified."
	echo "- Peers, Debian's packages as they are, each on its own suite's libraries: $(for x in $peer_suites; do echo "$(suite_name "$x") $(paste -sd ',' "$OUT/$x.versions" | sed 's/,/, /g')"; done | paste -sd ';' | sed 's/;/; /g')."
	echo "- hv_ptp_ext and hv-ptp-sync: revision $(cat "$OUT/revision"), default parameters."
	echo "- Each run: $SECS s from the daemon's start; system clock 50 ms ahead of the true host time and 100 ppm fast at the start; errors sampled from the simulator's truth at 10 Hz. \"RMS\", \"p99\", \"max\" and the PHC error are over the second half of the run; \"within … after\" is when the error came within the bound for good (\"never\": not by the end). CPU is user + system time of the daemon's process, peak RSS its VmHWM. The window is the offset-measurement window of the PHC's best offset ioctl, which chronyd, phc2sys and hv-ptp-sync all probe first (PRECISE, then EXTENDED, then the basic one); best of 10."
	echo "- Setups: A chronyd with \`refclock PHC /dev/ptp_hyperv poll 3 dpoll -2 offset 0 stratum 2\` and \`makestep 1.0 -1\` (Azure's documented configuration) on hv_utils' PHC; B \`phc2sys -s /dev/ptpN -c CLOCK_REALTIME -O 0\` on it; C and D the same on hv_ptp_ext's PHC; E \`hv-ptp-sync\` with its defaults; U E with \`utc_audit bound\`, chronyd -x polling an NTP server on the simulator's UTC (the host 2 ms off it) every second and hv-ptp-sync reading it through chronyc every second; F and G (newer suites) A and C with \`poll -1 dpoll -2\`, the tuning Azure users ask for (cloudfoundry/bosh-linux-stemcell-builder#442). The tables of Debian 12's peers come first, then the newer suites' on azure with the same seed, against E of that seed$([[ -z $K72 ]] || echo ", then the 7.2 kernel's, E beside Debian unstable's peers in one guest")."
	for j in "${jobs[@]}"; do
		IFS=: read -r p s x su k <<<"$j"
		[[ $x == bookworm && $su != P ]] || continue
		d=$(jobdir "$j")
		echo
		echo "## $p profile, seed $s"
		echo
		table "$d" "$su"
		if [[ $p == azure ]]; then
			echo
			echo "Goals on this run:"
			echo
			goals "$d"
		elif [[ $p == ideal ]]; then
			echo
			echo "Goals on this run (an exact PHC: what a daemon adds to it):"
			echo
			goals_ideal "$d"
		fi
		if [[ $s == "$SEED" ]]; then
			plot "$p profile" "$d" "$DOCS/img/bench-$p-system.png" "$su"
			plot_phc "$p" "$d" "$DOCS/img/bench-$p-phc.png"
			echo
			echo "![system clock error, $p](img/bench-$p-system.png)"
			[[ -f $DOCS/img/bench-$p-phc.png ]] &&
				echo "![PHC error, $p](img/bench-$p-phc.png)"
		fi
	done
	# 6.12's first, then 7.2's
	for j in $(printf '%s\n' "${jobs[@]}" | grep ':6\.12$') $(printf '%s\n' "${jobs[@]}" | grep -v ':6\.12$'); do
		IFS=: read -r p s x su k <<<"$j"
		[[ $x != bookworm ]] || continue
		d=$(jobdir "$j")
		# on 6.12, E is in the Debian 12 guest; on 7.2, in this one
		ed=$(jobdir "$p:$s:bookworm:E:6.12") kn='' img=$p-$x
		if [[ $k != 6.12 ]]; then
			ed=$d kn=", kernel $k72" img=$p-$x-$k
		fi
		echo
		echo "## $p profile, seed $s: $(suite_name "$x")'s peers$kn"
		echo
		table "$d" "$su"
		if [[ -s $ed/results ]]; then
			echo
			if [[ $ed == "$d" ]]; then
				echo "hv-ptp-sync (E, in this guest) against these peers:"
			else
				echo "hv-ptp-sync (E, from the Debian 12 table of this profile and seed) against these peers:"
			fi
			echo
			goals_newer "$d" "$ed"
		fi
		plot "$p profile, $(suite_name "$x")'s peers$kn" "$d" "$DOCS/img/bench-$img-system.png" "$su"
		echo
		echo "![system clock error, $p, $(suite_name "$x")'s peers$kn](img/bench-$img-system.png)"
	done
	ages
} >"$md"
echo "== bench: done in $((SECONDS - start)) s: $md, plots in $DOCS/img/, data in $OUT/"
