# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# lib.sh: what the rig's scripts share, sourced by each of them:
#
#   RIG_NAME=NAME [RIG_LOG_STDERR=1] . "$TOP/selftests/rig/lib.sh"
#
# log, die     messages prefixed with RIG_NAME (to standard error with
#              RIG_LOG_STDERR=1: for scripts whose output is their result);
#              die also prints "RIG_DIE_SUMMARY: 0 passed, 1 failed, 0
#              skipped" when RIG_DIE_SUMMARY is set, so that a part that
#              dies still counts as failed
# need_debs    installs the Debian packages a script needs, when missing
# tap_run      kselftest's runner: programs' TAP wrapped as one suite
# tap_count    the one TAP reader: what a run of tap_run (or the guest's
#              runner, guest-init) passed, failed and skipped

log() {
	if [[ ${RIG_LOG_STDERR:-0} == 1 ]]; then
		echo "$RIG_NAME: $*" >&2
	else
		echo "$RIG_NAME: $*"
	fi
}

die() {
	echo "$RIG_NAME: error: $*" >&2
	[[ -z ${RIG_DIE_SUMMARY:-} ]] ||
		echo "$RIG_DIE_SUMMARY: 0 passed, 1 failed, 0 skipped"
	exit 1
}

# need_debs PACKAGE...: the PACKAGEs that are not installed, installed
# with apt-get (as root; "apt-get update" first only if that fails), with
# a line saying which; dies when one is missing and this is not root.
need_debs() {
	local pkg status missing=()

	for pkg in "$@"; do
		status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
		[[ $status == ii* ]] || missing+=("$pkg")
	done
	((${#missing[@]})) || return 0
	((EUID == 0)) || die "missing ${missing[*]}; install them or run as root"
	log "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null ||
		{ apt-get update -qq &&
		  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends "${missing[@]}" >/dev/null; }
}

# tap_run SUITE PROGRAM...: each PROGRAM (a *.sh through bash) as
# kselftest's runner runs it: "TAP version 13", a plan, the program's own
# output indented by "# " under "# selftests: SUITE: NAME", then one result
# line for it ("ok N selftests: SUITE: NAME", "# SKIP" for exit status 4,
# "not ok ... # exit=RC"). Returns 1 if any failed.
tap_run() {
	local suite=$1 n=0 rc=0 prc name p

	shift
	echo "TAP version 13"
	echo "1..$#"
	for p in "$@"; do
		n=$((n + 1))
		name=${p##*/}
		echo "# selftests: $suite: $name"
		prc=0
		if [[ $p == *.sh ]]; then
			bash "$p" 2>&1 | sed 's/^/# /' || prc=$?
		else
			"$p" 2>&1 | sed 's/^/# /' || prc=$?
		fi
		# the program's status, not sed's
		prc=${PIPESTATUS[0]}
		if ((prc == 0)); then
			echo "ok $n selftests: $suite: $name"
		elif ((prc == 4)); then
			echo "ok $n selftests: $suite: $name # SKIP"
		else
			echo "not ok $n selftests: $suite: $name # exit=$prc"
			rc=1
		fi
	done
	return $rc
}

# tap_count FILE: "PASSED FAILED SKIPPED PLANNED REPORTED" from the TAP
# of a runner (tap_run's, or guest-init's). Test cases are counted: a
# program's output is indented by "# ", so its harness's totals read
# "# # Totals: pass:N fail:N xfail:N xpass:N skip:N error:N" (xfail counts
# as passed, xpass and error as failed); a program that ended without one
# counts once, by its result line; a program whose result is "not ok"
# with no failed case in its totals counts one failure more. PLANNED is
# the runner's plan, REPORTED how many results it gave: a caller counts
# the difference as failed.
tap_count() {
	tr -d '\r' <"$1" | awk '
	function num(key,   s) {
		if (!match($0, key ":[0-9]+"))
			return 0
		s = substr($0, RSTART, RLENGTH)
		return substr(s, index(s, ":") + 1) + 0
	}
	/^1\.\.[0-9]+$/ { plan = substr($0, 4) + 0 }
	/^# selftests: / { totals = 0; tp = tf = ts = 0 }
	/^# # Totals: pass:/ {
		totals = 1
		tp = num("pass") + num("xfail")
		tf = num("fail") + num("xpass") + num("error")
		ts = num("skip")
	}
	/^(not )?ok [0-9]+ / {
		seen++
		bad = /^not ok/
		if (totals) {
			p += tp; f += tf; s += ts
			if (bad && tf == 0)
				f++
		} else if (bad) {
			f++
		} else if (/ # SKIP/) {
			s++
		} else {
			p++
		}
		totals = 0
	}
	END { printf "%d %d %d %d %d\n", p, f, s, plan, seen }'
}
