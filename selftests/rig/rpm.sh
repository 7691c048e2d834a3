#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# rpm.sh (make rpm): the RPM packages hv-ptp-ext-dkms (noarch) and
# hv-ptp-sync, built with rpmbuild from rpm/hv-ptp-ext.spec.in, then checked
# with rpmlint (rpm/rpmlint.toml: its configuration, and each finding set
# aside with its reason). The spec gets its version from the file VERSION
# and its change log from debian/changelog; the source tarball carries the
# spec, so that "rpmbuild -ta" builds it on the distribution itself. Output in
# build/rpm/: the spec, SOURCES/ (the tarball), SRPMS/ and RPMS/ (the
# packages). Installs rpm and rpmlint with apt-get when they are missing
# (as root).
#
#   rpm.sh [--version V] [--out DIR] [--no-rpmlint]
#
# --version builds V instead of VERSION, into DIR (default build/rpm-V):
# the upgrade that rpm-test.sh installs over the real version.
set -Eeuo pipefail
# A failing step names itself: script, line, command and status.
trap 'echo "${0##*/}: line $LINENO: \"$BASH_COMMAND\" failed (exit $?)" >&2' ERR

TOP=$(cd "$(dirname "$0")/../.." && pwd)
version=$(cat "$TOP/VERSION")
out=
lint=1
usage() {
	echo "usage: rpm.sh [--version V] [--out DIR] [--no-rpmlint]" >&2
	exit 2
}
while (($#)); do
	case $1 in
	--version) [[ -n ${2:-} ]] || usage; version=$2; out=${out:-$TOP/build/rpm-$2}; shift 2 ;;
	--out) [[ -n ${2:-} ]] || usage; out=$2; shift 2 ;;
	--no-rpmlint) lint=0; shift ;;
	*) usage ;;
	esac
done
OUT=${out:-$TOP/build/rpm}

# shellcheck disable=SC2034 # (lib.sh)
RIG_NAME="rpm"
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $version =~ ^[0-9][0-9A-Za-z.+~]*$ ]] || die "version '$version' is not an RPM version"
need_debs rpm rpmlint rsync

# %changelog from debian/changelog: each entry's date, maintainer and
# version, and its items as "- " lines.
changelog() {
	awk -v rel=1 '
	function flush() {
		if (head != "") { print head; printf "%s", body; print "" }
		head = ""; body = ""
	}
	/^[^ ]/ { flush(); ver = $2; gsub(/[()]/, "", ver); next }
	/^  \* / { sub(/^  \* /, "- "); body = body $0 "\n"; next }
	/^    / { sub(/^    /, "  "); body = body $0 "\n"; next }
	/^ -- / {
		line = $0; sub(/^ -- /, "", line)
		who = line; sub(/>.*/, ">", who)
		# "Sun, 22 Nov 2026 02:30:00 +0000" -> "Sun Nov 22 2026"
		date = line; sub(/.*>  */, "", date); gsub(/,/, "", date)
		split(date, d, " ")
		head = "* " d[1] " " d[3] " " d[2] " " d[4] " " who " - " ver "-" rel
	}
	END { flush() }' "$TOP/debian/changelog"
}

if [[ $version == "$(cat "$TOP/VERSION")" ]]; then
	top=$(awk 'NR == 1 { gsub(/[()]/, "", $2); print $2; exit }' "$TOP/debian/changelog")
	[[ $top == "$version" ]] ||
		die "debian/changelog is at $top, VERSION at $version: add a changelog entry"
fi

rm -rf "$OUT"
name=hv-ptp-ext-$version
SRC=$OUT/tar/$name
mkdir -p "$SRC" "$OUT/SOURCES"
# The tree as it is (committed or not), without caches and build products.
(cd "$TOP" && git ls-files -co --exclude-standard -z) |
	(cd "$TOP" && rsync -a --from0 --files-from=- ./ "$SRC/")
echo "$version" >"$SRC/VERSION"
cl=$(changelog)
awk -v v="$version" -v cl="$cl" '
	{ gsub(/@VERSION@/, v) }
	/^@CHANGELOG@$/ { print cl; next }
	{ print }' "$TOP/rpm/hv-ptp-ext.spec.in" >"$SRC/hv-ptp-ext.spec"
cp "$SRC/hv-ptp-ext.spec" "$OUT/"
tar -C "$OUT/tar" --owner=0 --group=0 --sort=name -czf "$OUT/SOURCES/$name.tar.gz" "$name"
rm -rf "$OUT/tar"

args=(--define "_topdir $OUT")
# On Debian: what its rpm lacks (rpm/macros.debian-host), and no
# BuildRequires check, since rpm's database knows no package there (they
# are Debian's packages: libsystemd-dev, libcap-dev, libjansson-dev).
if [[ -f /etc/debian_version ]]; then
	args+=(--load "$TOP/rpm/macros.debian-host" --nodeps)
fi
log "rpmbuild -ta $name.tar.gz"
if ! rpmbuild "${args[@]}" -ta "$OUT/SOURCES/$name.tar.gz" >"$OUT/build.log" 2>&1; then
	tail -n 30 "$OUT/build.log" >&2
	die "rpmbuild failed (${OUT#"$TOP"/}/build.log)"
fi
find "$OUT/RPMS" -name '*.rpm' | sort

if ((lint)); then
	# --strict: a warning fails make rpm, like an error.
	log "rpmlint"
	if ! rpmlint --strict -c "$TOP/rpm/rpmlint.toml" "$OUT/hv-ptp-ext.spec" "$OUT"/SRPMS/*.rpm \
		"$OUT"/RPMS/*/*.rpm; then
		die "rpmlint found problems (above)"
	fi
	log "rpmlint clean"
fi
