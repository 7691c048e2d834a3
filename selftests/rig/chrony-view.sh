#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# chrony-view.sh: how many samples chronyd's regression keeps on a PHC
# whose error is that of each estimator, on the host, in real time.
#
#   chrony-view.sh [SECONDS [SEED]]      (as root; default 300 s, seed 1)
#
# Four chronyd of Debian 12 (peers.sh's unpacked chrony 4.3), each with
# Azure's refclock line on an NTP SHM segment instead of the PHC
# ("refclock SHM N poll 3 dpoll -2 offset 0 stratum 2") and -x: they never
# touch the system clock. chrony-feed plays the azure profile's host into
# each: our model, the oracle, the true host time, the in-tree PHC's last
# sample. Every 20 s "chronyc sourcestats"; prints, per estimator, its RMS
# error and the median over the second half of the samples chronyd keeps
# (NP), their span and chronyd's standard deviation of them.
set -Eeuo pipefail
trap 'echo "${0##*/}: line $LINENO: \"$BASH_COMMAND\" failed (exit $?)" >&2' ERR

TOP=$(cd "$(dirname "$0")/../.." && pwd)
RIG=$TOP/selftests/rig
SECS=${1:-300}
SEED=${2:-1}
[[ $SECS =~ ^[0-9]+$ ]] && ((SECS >= 60)) || { echo "chrony-view: SECONDS: 60 or more" >&2; exit 2; }
((EUID == 0)) || { echo "chrony-view: run as root (SHM segments, chronyd)" >&2; exit 2; }

"$RIG/peers.sh" bookworm >/dev/null
ROOT=$TOP/.cache/peers/root
OUT=$TOP/build/chrony-view
mkdir -p "$OUT"
cc -O2 -Wall -Wextra -Werror -std=gnu11 -I"$TOP/kernel" -I"$RIG" \
	"$RIG/chrony-feed.c" "$TOP/kernel/clock_model.c" "$RIG/oracle.c" \
	-o "$OUT/chrony-feed" -lm

kinds=(ours oracle perfect intree)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT
echo "chrony-view: chronyd 4.3 on four estimators of the azure host, $SECS s, seed $SEED"
for u in 0 1 2 3; do
	d=$OUT/${kinds[u]}
	rm -rf "$d"
	mkdir -p "$d"
	chmod 700 "$d"
	cat >"$d/chrony.conf" <<-EOF
	refclock SHM $u poll 3 dpoll -2 offset 0 stratum 2
	cmdport 0
	bindcmdaddress $d/sock
	pidfile $d/chronyd.pid
	EOF
	"$OUT/chrony-feed" "$u" "${kinds[u]}" "$SECS" "$SEED" >"$d/feed.out" &
	pids+=($!)
done
sleep 1
for u in 0 1 2 3; do
	d=$OUT/${kinds[u]}
	"$ROOT/usr/sbin/chronyd" -x -d -u root -f "$d/chrony.conf" >"$d/chronyd.log" 2>&1 &
	pids+=($!)
done
for ((t = 20; t <= SECS; t += 20)); do
	sleep 20
	for k in "${kinds[@]}"; do
		"$ROOT/usr/bin/chronyc" -h "$OUT/$k/sock" -n sourcestats 2>/dev/null |
			awk -v t="$t" '$1 ~ /^SHM/ {
				sd = $8 + 0
				if ($8 ~ /us$/) sd *= 1e3
				if ($8 ~ /ms$/) sd *= 1e6
				if ($8 ~ /[0-9]s$/) sd *= 1e9
				print t, $2, $4, sd
			}' >>"$OUT/$k/stats" || true
	done
	echo "chrony-view: $t of $SECS s"
done
wait "${pids[@]:0:4}"
# median KEY over the second half: NP (column 2), span (3), std dev (4)
med() { awk -v h="$((SECS / 2))" -v c="$2" '$1 > h { print $c }' "$1" | sort -g | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "-" }'; }
printf '%-8s %12s %6s %8s %10s\n' estimator "error RMS" NP span "std dev"
for k in "${kinds[@]}"; do
	d=$OUT/$k
	printf '%-8s %12s %6s %8s %10s\n' "$k" "$(awk '{ print $4, $5 }' "$d/feed.out")" \
		"$(med "$d/stats" 2)" "$(med "$d/stats" 3)s" "$(med "$d/stats" 4) ns"
done
