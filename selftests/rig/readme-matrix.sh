#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# readme-matrix.sh [FILE]: puts the support matrix of the last make check
# (build/support-matrix.md, written by check.sh from its summary lines)
# into the README between its "support matrix" marker lines, with the
# run's revision and date, so that the table is the run's, not typed.
set -Eeuo pipefail
# A failing step names itself: script, line, command and status.
trap 'echo "${0##*/}: line $LINENO: \"$BASH_COMMAND\" failed (exit $?)" >&2' ERR

TOP=$(cd "$(dirname "$0")/../.." && pwd)
TABLE=${1:-$TOP/build/support-matrix.md}
README=$TOP/README
BEGIN='<!-- support matrix: begin (selftests/rig/readme-matrix.sh) -->'
END='<!-- support matrix: end -->'

[[ -s $TABLE ]] || { echo "readme-matrix: no $TABLE: run make check first" >&2; exit 1; }
if ! grep -qxF "$BEGIN" "$README" || ! grep -qxF "$END" "$README"; then
	echo "readme-matrix: $README lacks the marker lines" >&2
	exit 1
fi

tmp=$(mktemp)
awk -v begin="$BEGIN" -v end="$END" -v table="$TABLE" '
	$0 == begin { print; print ""; while ((getline l < table) > 0) print l; print ""; skip = 1; next }
	$0 == end { skip = 0 }
	!skip
' "$README" >"$tmp"
mv "$tmp" "$README"
echo "readme-matrix: README updated from $TABLE"
