#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-vm.sh KVER: boots Debian's KVER kernel under QEMU (TCG) with
# build/KVER/initramfs.cpio.gz, whose /init runs the kselftests.
#
#   ttyS0 (kernel console) -> build/KVER/console.log
#   ttyS1 (TAP 13)         -> build/KVER/tap.log, streamed live as "[6.1] ..."
#   ttyS2 (the rig's control port, rig.ctl=ttyS2) <-> freezer below
#
# The control port lets a test freeze the whole guest: it writes
# "freeze SECONDS" there; the freezer stops the VM with QEMU's "stop" (QMP,
# on a pipe), lets the host's clock run on for SECONDS, resumes it with
# "cont" and answers "frozen NS LO HI": how long the VM stood still, as the
# midpoint of the commands' round trips and its bounds (under TCG the
# guest's clocks, its TSC among them, stand still while it is stopped).
#
# Then prints one line "KVER: N passed, N failed, N skipped", counting test
# cases (each program's "# Totals:" line; a program that ended without one
# counts once; dmesg_clean counts), and exits non-zero if anything failed,
# the guest panicked, it never printed RIG-DONE, or it ran out of time.
#
# Environment:
#   RIG_TIMEOUT    wall-clock limit in seconds (default 3600: all five test
#                  programs take about 50 minutes with two guests sharing
#                  two cores, the 10-minute pause test among them)
#   RIG_TESTS      comma-separated globs: run only those tests (rig.tests=)
#   RIG_SOAK       which long soaks run (rig.soak=; selftests/hv_ptp_ext/
#                  rig.h names them): 1 or unset all, 0 none, or a list
#                  such as flood,storm (check.sh shares them out)
#   RIG_APPEND     more kernel command line
#   RIG_QEMU_ARGS  more QEMU arguments
#   RIG_OUT        directory for console.log and tap.log (default build/KVER;
#                  for several guests of one kernel at once)
#   RIG_KROOT      the kernel's root when it is not one of kernels.sh's
#                  (boot/vmlinuz-KVER; debug-kernel.sh sets it)
set -Eeuo pipefail
# A failing step names itself: script, line, command and status.
trap 'echo "${0##*/}: line $LINENO: \"$BASH_COMMAND\" failed (exit $?)" >&2' ERR

TOP=$(cd "$(dirname "$0")/../.." && pwd)
KVER=${1:?usage: run-vm.sh KVER}
ROOT=${RIG_KROOT:-$TOP/.cache/kernels/$KVER/root}
OUT=$TOP/build/$KVER
TIMEOUT=${RIG_TIMEOUT:-3600}
# "6.1.0-56-amd64" -> "6.1", "6.12.117+deb12-amd64" -> "6.12"
SHORT=$(sed -E 's/^([0-9]+\.[0-9]+).*/\1/' <<<"$KVER")

# shellcheck disable=SC2034 # (lib.sh)
RIG_NAME="run-vm[$SHORT]"
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

kernel=$ROOT/boot/vmlinuz-$KVER
initrd=$OUT/initramfs.cpio.gz
[[ -f $kernel ]] || die "$kernel missing (run selftests/rig/kernels.sh)"
[[ -f $initrd ]] || die "$initrd missing (run selftests/rig/initramfs.sh $KVER)"

# A WARN must not end the run (dmesg_clean reports it); an oops may, as a
# panic, which panic=-1 and -no-reboot turn into QEMU exiting at once.
append="console=ttyS0 panic=-1 oops=panic clocksource=tsc tsc=reliable"
append+=" log_buf_len=4M"
[[ -n ${RIG_TESTS:-} ]] && append+=" rig.tests=$RIG_TESTS"
[[ ${RIG_SOAK:-1} == 1 ]] || append+=" rig.soak=$RIG_SOAK"
[[ -n ${RIG_APPEND:-} ]] && append+=" $RIG_APPEND"

LOGS=${RIG_OUT:-$OUT}
mkdir -p "$LOGS"
console=$LOGS/console.log
tap=$LOGS/tap.log
: >"$console"
: >"$tap"
rm -f "$LOGS/boot.time"
rm -f "$LOGS"/ctl.in "$LOGS"/ctl.out "$LOGS"/qmp.in "$LOGS"/qmp.out
mkfifo "$LOGS"/ctl.in "$LOGS"/ctl.out "$LOGS"/qmp.in "$LOGS"/qmp.out
append+=" rig.ctl=ttyS2"

# freezer QPID: serves the control port (see the top) while QPID (QEMU's
# timeout) lives. Once the VM is stopped it is resumed whatever else fails.
freezer() {
	local qpid=$1 id=0 line part buf='' s t0 t1 t2 t3 spid resumed
	trap '[[ -n ${spid:-} ]] && kill "$spid" 2>/dev/null; exit 0' TERM
	# read-write opens: neither end blocks for the other
	exec 3<>"$LOGS/qmp.in" 4<>"$LOGS/qmp.out" 5<>"$LOGS/ctl.in" 6<>"$LOGS/ctl.out"
	# qmp CMD: 0 once QEMU answers this command (its "id"), 1 on an error
	# or no answer in 30 s; events and late answers are skipped
	qmp() {
		local reply
		id=$((id + 1))
		echo "{\"execute\": \"$1\", \"id\": $id}" >&3
		while IFS= read -r -t 30 reply <&4; do
			[[ $reply == *"\"id\": $id}"* ]] || continue
			[[ $reply == *'"return"'* ]] && return 0
			log "freezer: QMP $1: $reply"
			return 1
		done
		log "freezer: QMP $1: no answer"
		return 1
	}
	IFS= read -r -t 60 _ <&4 || { log "freezer: no QMP greeting"; return; }
	qmp qmp_capabilities || return
	while :; do
		# a line from the guest; every 5 s without one, is QEMU still there?
		if IFS= read -r -t 5 part <&6; then
			line=$buf$part
			buf=
		else
			(($? > 128)) || return
			buf+=$part
			kill -0 "$qpid" 2>/dev/null || return
			continue
		fi
		line=${line%$'\r'}
		case $line in
		freeze\ [1-9]|freeze\ [1-9][0-9]|freeze\ [1-5][0-9][0-9])
			s=${line#freeze }
			t0=$(date +%s%N)
			if ! qmp stop; then
				# it may have stopped all the same
				qmp cont || true
				echo "error stop" >&5
				continue
			fi
			t1=$(date +%s%N)
			sleep "$s" >/dev/null &
			spid=$!
			wait "$spid"
			spid=
			t2=$(date +%s%N)
			resumed=0
			for _ in 1 2 3 4 5; do
				qmp cont && { resumed=1; break; }
				sleep 1
			done
			t3=$(date +%s%N)
			if ((!resumed)); then
				log "freezer: the guest could not be resumed"
				return
			fi
			log "froze the guest for $(((t2 + t3 - t0 - t1) / 2000000)) ms (stop took $(((t1 - t0) / 1000000)) ms, cont $(((t3 - t2) / 1000000)) ms)"
			echo "frozen $(((t2 + t3 - t0 - t1) / 2)) $((t2 - t1)) $((t3 - t0))" >&5
			;;
		*) log "freezer: unknown request \"$line\""
		   echo "error unknown request" >&5 ;;
		esac
	done
}

log "booting $KVER (timeout ${TIMEOUT}s)"
start=$(date +%s.%N)
# shellcheck disable=SC2086 # RIG_QEMU_ARGS is a list of words
timeout -k 10 "$TIMEOUT" \
	qemu-system-x86_64 -accel tcg -smp 2 -m 1024 \
	-nographic -nodefaults -no-reboot \
	-kernel "$kernel" -initrd "$initrd" -append "$append" \
	-serial "file:$console" -serial "file:$tap" \
	-chardev "pipe,id=ctl,path=$LOGS/ctl" -serial chardev:ctl \
	-chardev "pipe,id=qmp,path=$LOGS/qmp" -mon chardev=qmp,mode=control \
	${RIG_QEMU_ARGS:-} </dev/null &
qpid=$!

# Stream ttyS1 live; note when the guest's /init starts reporting.
tail -n +1 -f --pid="$qpid" "$tap" 2>/dev/null |
	while IFS= read -r line; do
		line=${line%$'\r'}
		if [[ $line == "TAP version 13" && ! -f $LOGS/boot.time ]]; then
			echo "$(date +%s.%N) - $start" | bc >"$LOGS/boot.time"
		fi
		# "DATA ..." lines are for plots (make demo), not people
		[[ $line == "# DATA "* ]] && continue
		printf '[%s] %s\n' "$SHORT" "$line"
	done &
tpid=$!
freezer "$qpid" &
fpid=$!
# however this script ends, the freezer and its pipes go with it
trap 'kill "$fpid" 2>/dev/null || true; rm -f "$LOGS"/ctl.in "$LOGS"/ctl.out "$LOGS"/qmp.in "$LOGS"/qmp.out' EXIT

qrc=0
wait "$qpid" || qrc=$?
wait "$tpid" || true
kill "$fpid" 2>/dev/null || true
wait "$fpid" 2>/dev/null || true
rm -f "$LOGS"/ctl.in "$LOGS"/ctl.out "$LOGS"/qmp.in "$LOGS"/qmp.out
elapsed=$(printf '%.0f' "$(echo "$(date +%s.%N) - $start" | bc)")
boot=$(cat "$LOGS/boot.time" 2>/dev/null || echo "?")
[[ $boot == "?" ]] || boot=$(printf '%.1f' "$boot")

# Count test cases (lib.sh's tap_count: each program's totals, or its
# result line where it printed none).
read -r passed failed skipped planned reported < <(tap_count "$tap")

# Each problem is a failure in the count, as a failed test is: the line
# below is what readers and check.sh add up, so a run that exits non-zero
# never reads "0 failed". A test that did not report counts once for
# itself.
problems=()
problem() {
	problems+=("$1")
	failed=$((failed + ${2:-1}))
}
if ((qrc == 124 || qrc == 137)); then
	problem "timed out after ${TIMEOUT}s"
elif ((qrc != 0)); then
	problem "qemu exited with status $qrc"
fi
grep -q 'Kernel panic' "$console" && problem "the guest panicked"
grep -q '^RIG-DONE' "$tap" || problem "no RIG-DONE from the guest"
if ((planned == 0)); then
	problem "no TAP plan from the guest"
elif ((reported < planned)); then
	problem "$((planned - reported)) of $planned tests did not report" \
		$((planned - reported))
fi

log "boot to /init report ${boot}s, whole run ${elapsed}s"
for p in "${problems[@]}"; do
	log "FAILED: $p"
done
if ((failed > 0 || ${#problems[@]} > 0)); then
	log "last 40 lines of $console:"
	tail -n 40 "$console" | sed "s/^/[$SHORT console] /"
fi
echo "$KVER: $passed passed, $failed failed, $skipped skipped"
((failed == 0 && ${#problems[@]} == 0))
