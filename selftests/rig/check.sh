#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh: the whole test rig, as root on Debian 12:
#   deps -> kernels -> build + initramfs per kernel -> host unit tests
#   -> one VM per kernel, one after the other (timing tests need the cores)
# Prints each kernel's summary line again at the end, with the wall time
# and a total line, and exits non-zero if anything failed.
set -euo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
RIG=$TOP/selftests/rig
cd "$TOP"
start=$SECONDS

step() { echo "== $* ($((SECONDS - start))s)"; }

step deps
"$RIG/deps.sh"
step kernels
"$RIG/kernels.sh"
mapfile -t kvers <"$TOP/.cache/kernels/list"

for k in "${kvers[@]}"; do
	step "build $k"
	"$RIG/build.sh" "$k"
	"$RIG/initramfs.sh" "$k"
done

unit=ok
if [[ -f $TOP/selftests/unit/Makefile ]]; then
	step "host unit tests"
	make -C "$TOP/selftests/unit" check || unit=failed
fi

summaries=()
rc=0
for k in "${kvers[@]}"; do
	step "vm $k"
	out=$TOP/build/$k/run-vm.out
	"$RIG/run-vm.sh" "$k" | tee "$out" || rc=1
	line=$(tail -n 1 "$out")
	[[ $line =~ ^[^\ ]+:\ [0-9]+\ passed,\ [0-9]+\ failed,\ [0-9]+\ skipped$ ]] ||
		line="$k: 0 passed, 1 failed, 0 skipped"
	summaries+=("$line")
done

echo
echo "== check done in $((SECONDS - start))s"
[[ $unit == ok ]] || { echo "host unit tests: FAILED"; rc=1; }
printf '%s\n' "${summaries[@]}"
# One closing line for the whole check, in the same form.
printf '%s\n' "${summaries[@]}" | awk '
	{ p += $2; f += $4; s += $6 }
	END { printf "total: %d passed, %d failed, %d skipped\n", p, f, s }'
exit $rc
