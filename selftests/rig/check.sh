#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh: the whole test rig, as root on Debian 12:
#   deps -> Debian's 6.1 and 6.12 kernels (kernels.sh), AWS ClockBound's
#   C library (clockbound-lib.sh, meanwhile) -> build + initramfs
#   -> host unit tests -> libFuzzer, briefly (selftests/fuzz)
#   -> make install/uninstall into a staging DESTDIR (install-test.sh)
#   -> the 6.1 and 6.12 guests, in the background (RIG_SERIAL=1: in the
#      foreground); the functional suite on every kernel, the long soaks
#      shared out among the guests (RIG_SOAK); meanwhile:
#   -> 7.2 built from Debian's linux-source-7.2 with the rig's configuration
#      in a sid root (rig-kernel.sh: Debian's 7.2 images build VMBus in,
#      which the simulated host cannot replace), its build, its guest
#   -> the DKMS matrix: each suite's dkms, compiler and headers in a chroot
#      of that suite, every flavour, and the .debs (dkms-test.sh)
#   -> the system test: the .debs on a booted Debian 13 (system-test.sh)
#   -> the benchmark's smoke run (bench.sh --smoke)
# Prints each part's summary line again at the end (one per DKMS suite and
# flavour, one per booted kernel), the wall time of each part, writes the
# support matrix (build/support-matrix.md, from the summary lines) and a
# total line, and exits non-zero if anything failed. RIG_TESTS,
# RIG_TIMEOUT etc. pass to run-vm.sh; RIG_NO_72=1 leaves the 7.2 kernel out.
set -Eeuo pipefail
# A failing step names itself: script, line, command and status.
trap 'echo "${0##*/}: line $LINENO: \"$BASH_COMMAND\" failed (exit $?)" >&2' ERR

TOP=$(cd "$(dirname "$0")/../.." && pwd)
RIG=$TOP/selftests/rig
cd "$TOP"
# shellcheck disable=SC2034 # (lib.sh)
RIG_NAME=check
. "$RIG/lib.sh"
start=$SECONDS
part_start=$SECONDS
part_name=
times=()
# The budget this check is designed to fit in on a 2-core machine from
# empty caches (README), minutes.
BUDGET_MIN=75
pids=()
roots_pid='' sysroot_pid='' cblib_pid=''

# kill_tree PID: PID and every process below it (a guest is run-vm.sh,
# its QEMU, its tail and its freezer).
kill_tree() {
	local c

	for c in $(pgrep -P "$1" 2>/dev/null || :); do
		kill_tree "$c"
	done
	kill "$1" 2>/dev/null || :
}
# However the check ends (a failed step under set -e, a signal), no guest
# or prefetch keeps running after it.
stop_background() {
	local p

	for p in "${pids[@]}" $roots_pid $sysroot_pid $cblib_pid; do
		kill_tree "$p"
	done
}
trap stop_background EXIT
trap 'exit 130' INT TERM

# step NAME: a new part begins; the previous one's wall time is kept.
step() {
	if [[ -n $part_name ]]; then
		times+=("$(printf '%-28s %5d s' "$part_name" $((SECONDS - part_start)))")
	fi
	part_name=$1
	part_start=$SECONDS
	echo "== $* ($((SECONDS - start))s)"
}

step deps
"$RIG/deps.sh"
# What only waits on the network and the disk starts now, in the
# background: the DKMS matrix's suite roots and the system test's root file
# system (debootstrap and apt). Each is waited for before its first use.
step prefetch
mkdir -p "$TOP/build"
"$RIG/dkms-test.sh" --prefetch >"$TOP/build/prefetch-roots.out" 2>&1 &
roots_pid=$!
"$RIG/sysroot.sh" trixie >"$TOP/build/prefetch-sysroot.out" 2>&1 &
sysroot_pid=$!
# AWS ClockBound's C library, which the guests' bounded_time links: built
# in a Debian 13 root of its own while the kernels are fetched.
"$RIG/clockbound-lib.sh" >"$TOP/build/clockbound-lib.out" 2>&1 &
cblib_pid=$!
step peers
"$RIG/peers.sh" bookworm
step kernels
"$RIG/kernels.sh"
mapfile -t kvers <"$TOP/.cache/kernels/list"
step "clockbound-lib (wait)"
cblib_rc=0
wait $cblib_pid || cblib_rc=1
cblib_pid=
cat "$TOP/build/clockbound-lib.out"
for k in "${kvers[@]}"; do
	step "build $k"
	"$RIG/build.sh" "$k"
	"$RIG/initramfs.sh" "$k"
done

summaries=()
matrix_extra=()
rc=0
line=$(grep -E '^clockbound-lib: [0-9]+ passed' "$TOP/build/clockbound-lib.out" ||
       echo "clockbound-lib: 0 passed, 1 failed, 0 skipped")
summaries+=("$line")
((cblib_rc == 0)) || rc=1

# part NAME COMMAND...: a step whose output ends in "NAME: P passed, F
# failed, S skipped"; that line goes into the summary (a failed one if the
# command printed none), and a failure fails the check.
part() {
	local name=$1 out=$TOP/build/$1.out line

	local prc=0

	shift
	step "$name"
	"$@" 2>&1 | tee "$out" || prc=1
	line=$(grep -E "^$name: [0-9]+ passed" "$out" | tail -n 1 ||
	       echo "$name: 0 passed, 1 failed, 0 skipped")
	summaries+=("$line")
	# exited non-zero while its own line counts no failure: one more
	if ((prc)); then
		rc=1
		[[ $line =~ \ 0\ failed ]] &&
			summaries+=("$name (exit status): 0 passed, 1 failed, 0 skipped")
	fi
	return 0
}

# The host unit tests (selftests/unit, ASan and UBSan), run as one
# kselftest suite and counted by the same reader as the guests' TAP.
step "host unit tests"
mkdir -p "$TOP/build"
out=$TOP/build/unit.out
urc=0
make -C "$TOP/selftests/unit" check 2>&1 | tee "$out" || urc=1
read -r p f s planned reported < <(tap_count "$out")
((planned > 0)) || f=$((f + 1))
((reported >= planned)) || f=$((f + planned - reported))
((urc == 0 || f > 0)) || f=1
line="host-unit: $p passed, $f failed, $s skipped"
echo "$line"
summaries+=("$line")
((urc == 0)) || rc=1

# libFuzzer on the parser and the model (60 s), the config parser (30 s)
# and arm64's CNTVCT fit (30 s).
part fuzz make -C "$TOP/selftests/fuzz" --no-print-directory check

# make install and make uninstall into a staging DESTDIR.
part install "$RIG/install-test.sh" "${kvers[0]}"

# The guests in the background while the rest goes on: every measurement
# in the tests is exact (taken inside the kernel or from one counter
# value), so sharing the two cores costs time, not accuracy, and much of a
# guest's time is waiting. The long soaks (rig.h names them) are shared
# out so that the guests end about together: the 6.12 guest starts first
# and takes the floods, the storm, the load cycles and the wandering
# host; 6.1 the 10-minute pause and the events at 5 s; 7.2, which starts
# when its kernel is built, the events at 5 s. RIG_SERIAL=1 runs each
# guest in the foreground.
guests_start=$SECONDS
pids=()
# guest KVER SOAKS [KROOT]: start KVER's guest with the soaks SOAKS
guest() {
	local k=$1 soak=$2 out=$TOP/build/$1/run-vm.out
	local vm=(env "RIG_SOAK=$soak" "RIG_KROOT=${3:-}"
		  "RIG_TIMEOUT=${RIG_TIMEOUT:-4800}"
		  "$RIG/run-vm.sh" "$k")

	echo "== vm $k (soaks: $soak)"
	if [[ ${RIG_SERIAL:-0} == 1 ]]; then
		"${vm[@]}" | tee "$out" || rc=1
	else
		{ "${vm[@]}" | tee "$out"; } &
		pids+=($!)
	fi
}
step "guests start"
for k in "${kvers[@]}"; do
	case $k in
	6.12.*) soak=flood,storm,cycles,wander ;;
	*) soak=pause,events5 ;;
	esac
	guest "$k" "$soak"
done

# The third kernel, 7.2, built meanwhile: Debian's linux-source-7.2 with
# the rig's configuration, in a sid root with sid's compiler (Debian's 7.2
# images build VMBus in, which the simulated host cannot replace).
step "suite roots (wait)"
wait $roots_pid || { cat "$TOP/build/prefetch-roots.out"; rc=1
	summaries+=("prefetch (suite roots): 0 passed, 1 failed, 0 skipped"); }
roots_pid=
if [[ ${RIG_NO_72:-0} != 1 ]]; then
	step "kernel 7.2 (linux-source-7.2)"
	k72root=
	read -r k72 k72root < <("$RIG/rig-kernel.sh" --suite sid linux-source-7.2 \
		"$RIG/rig-kernel-7.2.config") || :
	if [[ -n $k72root ]]; then
		step "build $k72"
		sidroot=$("$RIG/suite-root.sh" sid)
		if RIG_KROOT=$k72root RIG_BUILD_ROOT=$sidroot "$RIG/build.sh" "$k72" &&
		   "$RIG/initramfs.sh" "$k72"; then
			kvers+=("$k72")
			guest "$k72" events5 "$k72root"
		else
			summaries+=("$k72: 0 passed, 1 failed, 0 skipped")
			rc=1
		fi
	else
		summaries+=("7.2: 0 passed, 1 failed, 0 skipped")
		rc=1
	fi
fi

# The DKMS matrix: each suite's own dkms, compiler and headers, every
# flavour, in a chroot of the suite; the .debs with the suite's apt; the
# RPMs with trixie's rpm. Its lines, one per suite and flavour, go into
# the summary.
step dkms
"$RIG/dkms-test.sh" 2>&1 | tee "$TOP/build/dkms.out" || rc=1
# (each line shows twice: as it comes and in the recap at the end)
mapfile -t dlines < <(grep -E '^(dkms|deb|rpm)/[^:]+: [0-9]+ passed' "$TOP/build/dkms.out" |
		      awk '!seen[$0]++')
((${#dlines[@]})) || dlines=("dkms: 0 passed, 1 failed, 0 skipped")
summaries+=("${dlines[@]}")

# The packages on a debootstrap Debian 13 (trixie) with systemd and its
# generic kernel: install, reboot, checks, purge.
wait $sysroot_pid || cat "$TOP/build/prefetch-sysroot.out"
sysroot_pid=
part system "$RIG/system-test.sh" trixie
# For the support matrix: the same line, named by suite and kernel.
syskver=$(sed -n 's/^system: trixie, kernel //p' "$TOP/build/system.out" | tail -n 1)
[[ -n $syskver ]] && matrix_extra=("system/trixie/$syskver: ${summaries[-1]#*: }")

# The benchmark harness, briefly: every setup runs and its daemon lives.
step bench-smoke
if "$RIG/bench.sh" --smoke | tee "$TOP/build/bench-smoke.out"; then :; else rc=1; fi
line=$({ grep '^bench-smoke: ' "$TOP/build/bench-smoke.out" || :; } |
       sed 's/ ([0-9]* s)$//' | tail -n 1)
[[ -n $line ]] || line="bench-smoke: 0 passed, 1 failed, 0 skipped"
summaries+=("$line")

step "guests (rest of their run)"
for p in "${pids[@]}"; do
	wait "$p" || rc=1
done
pids=()
guests_time=$((SECONDS - guests_start))
for k in "${kvers[@]}"; do
	line=$(tail -n 1 "$TOP/build/$k/run-vm.out" 2>/dev/null || :)
	[[ $line =~ ^[^\ ]+:\ [0-9]+\ passed,\ [0-9]+\ failed,\ [0-9]+\ skipped$ ]] ||
		line="$k: 0 passed, 1 failed, 0 skipped"
	summaries+=("$line")
done

step finish
echo
echo "== check done in $((SECONDS - start))s"
printf '%s\n' "${summaries[@]}"
echo
echo "== wall time by part"
printf '%s\n' "${times[@]}"
printf '%-28s %5d s (from their start, beside dkms, system, bench-smoke)\n' \
	"guests, all" "$guests_time"
printf '%-28s %5d s\n' total $((SECONDS - start))
{
	echo "make check at $(git -C "$TOP" describe --always --dirty 2>/dev/null || echo '?')," \
	     "$(date -u +%Y-%m-%d), $(((SECONDS - start) / 60)) minutes:"
	echo
	"$RIG/support-matrix.sh" "${summaries[@]}" "${matrix_extra[@]}"
} >"$TOP/build/support-matrix.md" || rc=1
echo "== support matrix: build/support-matrix.md"
echo
# A failure that no line above counts (a step that failed without a test
# count) still shows in the total: the closing line never says 0 failed
# for a check that exits non-zero.
failed=$(printf '%s\n' "${summaries[@]}" | awk '{ f += $4 } END { print f + 0 }')
if ((rc && failed == 0)); then
	summaries+=("check: 0 passed, 1 failed, 0 skipped")
	echo "check: a step failed without a failed test in its line (see above); counted once"
fi
minutes=$(((SECONDS - start + 59) / 60))
if ((SECONDS - start > BUDGET_MIN * 60)); then
	echo "== budget: $minutes minutes, OVER the $BUDGET_MIN-minute budget"
else
	echo "== budget: $minutes minutes, within the $BUDGET_MIN-minute budget"
fi
# One closing line for the whole check, in the same form.
printf '%s\n' "${summaries[@]}" | awk '
	{ p += $2; f += $4; s += $6 }
	END { printf "total: %d passed, %d failed, %d skipped\n", p, f, s }'
exit $rc
