#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh: the whole test rig, as root on Debian 12:
#   deps -> kernels -> build + initramfs per kernel -> host unit tests
#   -> libFuzzer, briefly (selftests/fuzz)
#   -> dkms add/build/install/remove on this machine (dkms-test.sh)
#   -> make install/uninstall into a staging DESTDIR (install-test.sh)
#   -> one VM per kernel, both at once (RIG_SERIAL=1: one after the other)
#   -> the system test: the .debs on a booted Debian 12 (system-test.sh)
#   -> the benchmark's smoke run (bench.sh --smoke)
# Prints each kernel's summary line again at the end, with the wall time
# (and a host-unit line for selftests/unit) and a total line, and exits
# non-zero if anything failed. RIG_TESTS, RIG_TIMEOUT etc. pass to run-vm.sh.
set -Eeuo pipefail
# A failing step names itself: script, line, command and status.
trap 'echo "${0##*/}: line $LINENO: \"$BASH_COMMAND\" failed (exit $?)" >&2' ERR

TOP=$(cd "$(dirname "$0")/../.." && pwd)
RIG=$TOP/selftests/rig
cd "$TOP"
start=$SECONDS

step() { echo "== $* ($((SECONDS - start))s)"; }

step deps
"$RIG/deps.sh"
step peers
"$RIG/peers.sh"
step kernels
"$RIG/kernels.sh"
mapfile -t kvers <"$TOP/.cache/kernels/list"

for k in "${kvers[@]}"; do
	step "build $k"
	"$RIG/build.sh" "$k"
	"$RIG/initramfs.sh" "$k"
done

summaries=()
rc=0

# part NAME COMMAND...: a step whose output ends in "NAME: P passed, F
# failed, S skipped"; that line goes into the summary (a failed one if the
# command printed none), and a failure fails the check.
part() {
	local name=$1 out=$TOP/build/$1.out line

	shift
	step "$name"
	"$@" 2>&1 | tee "$out" || rc=1
	line=$(grep -E "^$name: [0-9]+ passed" "$out" | tail -n 1 ||
	       echo "$name: 0 passed, 1 failed, 0 skipped")
	summaries+=("$line")
}

# The host unit tests (selftests/unit, ASan and UBSan), summed into one line.
step "host unit tests"
mkdir -p "$TOP/build"
out=$TOP/build/unit.out
urc=0
make -C "$TOP/selftests/unit" check 2>&1 | tee "$out" || urc=1
line=$(awk -v urc=$urc '
	/^# Totals: pass:/ {
		for (i = 3; i <= NF; i++) {
			split($i, kv, ":")
			c[kv[1]] += kv[2]
		}
	}
	END {
		p = c["pass"] + c["xfail"]
		f = c["fail"] + c["xpass"] + c["error"]
		if (urc && f == 0)
			f = 1
		printf "host-unit: %d passed, %d failed, %d skipped\n", p, f, c["skip"]
	}' "$out")
echo "$line"
summaries+=("$line")
((urc == 0)) || rc=1

# libFuzzer on the parser and the model (60 s) and the config parser (30 s).
part fuzz make -C "$TOP/selftests/fuzz" --no-print-directory check

# The module through Debian's dkms, for both kernels' headers, on this
# machine (nothing is loaded), and removed again.
part dkms "$RIG/dkms-test.sh"

# make install and make uninstall into a staging DESTDIR.
part install "$RIG/install-test.sh" "${kvers[0]}"

# Both guests at once: every measurement in the tests is exact (taken
# inside the kernel or from one counter value), so sharing the two cores
# costs time, not accuracy; this halves the wall time.
# RIG_SERIAL=1 runs them one after the other.
pids=()
for k in "${kvers[@]}"; do
	step "vm $k"
	out=$TOP/build/$k/run-vm.out
	if [[ ${RIG_SERIAL:-0} == 1 ]]; then
		"$RIG/run-vm.sh" "$k" | tee "$out" || rc=1
	else
		{ "$RIG/run-vm.sh" "$k" | tee "$out"; } &
		pids+=($!)
	fi
done
for p in "${pids[@]}"; do
	wait "$p" || rc=1
done
for k in "${kvers[@]}"; do
	line=$(tail -n 1 "$TOP/build/$k/run-vm.out")
	[[ $line =~ ^[^\ ]+:\ [0-9]+\ passed,\ [0-9]+\ failed,\ [0-9]+\ skipped$ ]] ||
		line="$k: 0 passed, 1 failed, 0 skipped"
	summaries+=("$line")
done

# The packages on a debootstrap Debian 12 with systemd, on the first
# (6.1) kernel: install, reboot, checks, purge.
part system "$RIG/system-test.sh" "${kvers[0]}"

# The benchmark harness, briefly: every setup runs and its daemon lives.
step bench-smoke
if "$RIG/bench.sh" --smoke | tee "$TOP/build/bench-smoke.out"; then :; else rc=1; fi
line=$(grep '^bench-smoke: ' "$TOP/build/bench-smoke.out" | sed 's/ ([0-9]* s)$//')
[[ -n $line ]] || line="bench-smoke: 0 passed, 1 failed, 0 skipped"
summaries+=("$line")

echo
echo "== check done in $((SECONDS - start))s"
printf '%s\n' "${summaries[@]}"
# One closing line for the whole check, in the same form.
printf '%s\n' "${summaries[@]}" | awk '
	{ p += $2; f += $4; s += $6 }
	END { printf "total: %d passed, %d failed, %d skipped\n", p, f, s }'
exit $rc
