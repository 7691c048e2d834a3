#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh: the whole test rig, as root on Debian 12:
#   deps -> kernels: Debian's 6.1 and 6.12 (kernels.sh), and 7.2 built from
#      Debian's linux-source-7.2 with the rig's configuration in a sid root
#      (rig-kernel.sh: Debian's 7.2 images build VMBus in, which the
#      simulated host cannot replace) -> build + initramfs per kernel
#   -> host unit tests -> libFuzzer, briefly (selftests/fuzz)
#   -> the DKMS matrix: each suite's dkms, compiler and headers in a chroot
#      of that suite, every flavour, and the .debs (dkms-test.sh)
#   -> make install/uninstall into a staging DESTDIR (install-test.sh)
#   -> one VM per kernel, all at once (RIG_SERIAL=1: one after the other);
#      the functional suite on every kernel, the long soaks on the newest
#      only (RIG_SOAK=0 for the others)
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
start=$SECONDS
part_start=$SECONDS
part_name=
times=()

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
step peers
"$RIG/peers.sh"
step kernels
"$RIG/kernels.sh"
mapfile -t kvers <"$TOP/.cache/kernels/list"
declare -A kroot broot
if [[ ${RIG_NO_72:-0} != 1 ]]; then
	step "kernel 7.2 (linux-source-7.2)"
	read -r k72 k72root < <("$RIG/rig-kernel.sh" --suite sid linux-source-7.2 \
		"$RIG/rig-kernel-7.2.config")
	[[ -n ${k72root:-} ]] || { echo "check: the 7.2 kernel did not build"; exit 1; }
	kvers+=("$k72")
	kroot[$k72]=$k72root
	broot[$k72]=$("$RIG/suite-root.sh" sid)
fi

for k in "${kvers[@]}"; do
	step "build $k"
	RIG_KROOT=${kroot[$k]:-} RIG_BUILD_ROOT=${broot[$k]:-} "$RIG/build.sh" "$k"
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

# The DKMS matrix: each suite's own dkms, compiler and headers, every
# flavour, in a chroot of the suite; the .debs with the suite's apt. Its
# lines, one per suite and flavour, go into the summary.
step dkms
"$RIG/dkms-test.sh" 2>&1 | tee "$TOP/build/dkms.out" || rc=1
mapfile -t dlines < <(grep -E '^(dkms|deb)/[^:]+: [0-9]+ passed' "$TOP/build/dkms.out")
((${#dlines[@]})) || dlines=("dkms: 0 passed, 1 failed, 0 skipped")
summaries+=("${dlines[@]}")

# make install and make uninstall into a staging DESTDIR.
part install "$RIG/install-test.sh" "${kvers[0]}"

# Both guests at once: every measurement in the tests is exact (taken
# inside the kernel or from one counter value), so sharing the two cores
# costs time, not accuracy; this halves the wall time.
# RIG_SERIAL=1 runs them one after the other.
# The soaks run on the newest kernel (the last) only.
step "guests (${#kvers[@]} kernels)"
pids=()
for k in "${kvers[@]}"; do
	out=$TOP/build/$k/run-vm.out
	soak=0
	[[ $k == "${kvers[-1]}" ]] && soak=1
	echo "== vm $k (soaks: $((soak)))"
	vm=(env "RIG_SOAK=$soak" RIG_KROOT="${kroot[$k]:-}" "$RIG/run-vm.sh" "$k")
	if [[ ${RIG_SERIAL:-0} == 1 ]]; then
		"${vm[@]}" | tee "$out" || rc=1
	else
		{ "${vm[@]}" | tee "$out"; } &
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

# The packages on a debootstrap Debian 13 (trixie) with systemd and its
# generic kernel: install, reboot, checks, purge.
part system "$RIG/system-test.sh" trixie

# The benchmark harness, briefly: every setup runs and its daemon lives.
step bench-smoke
if "$RIG/bench.sh" --smoke | tee "$TOP/build/bench-smoke.out"; then :; else rc=1; fi
line=$(grep '^bench-smoke: ' "$TOP/build/bench-smoke.out" | sed 's/ ([0-9]* s)$//')
[[ -n $line ]] || line="bench-smoke: 0 passed, 1 failed, 0 skipped"
summaries+=("$line")

step finish
echo
echo "== check done in $((SECONDS - start))s"
printf '%s\n' "${summaries[@]}"
echo
echo "== wall time by part"
printf '%s\n' "${times[@]}"
printf '%-28s %5d s\n' total $((SECONDS - start))
{
	echo "make check at $(git -C "$TOP" describe --always --dirty 2>/dev/null || echo '?')," \
	     "$(date -u +%Y-%m-%d), $(((SECONDS - start) / 60)) minutes:"
	echo
	"$RIG/support-matrix.sh" "${summaries[@]}"
} >"$TOP/build/support-matrix.md" || rc=1
echo "== support matrix: build/support-matrix.md"
echo
# One closing line for the whole check, in the same form.
printf '%s\n' "${summaries[@]}" | awk '
	{ p += $2; f += $4; s += $6 }
	END { printf "total: %d passed, %d failed, %d skipped\n", p, f, s }'
exit $rc
