#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deb.sh (make deb): the Debian packages hv-ptp-ext-dkms and hv-ptp-sync,
# built with dpkg-buildpackage from debian/ in a copy of the tree
# (build/deb/src, so the checkout is left as it was), then checked with
# lintian. The .debs land in build/deb/. Installs the build dependencies
# with apt-get when they are missing (as root).
#
#   deb.sh [--no-lintian]
set -Eeuo pipefail
# A failing step names itself: script, line, command and status.
trap 'echo "${0##*/}: line $LINENO: \"$BASH_COMMAND\" failed (exit $?)" >&2' ERR

TOP=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$TOP/build/deb
SRC=$OUT/src
lintian=1
case ${1:-} in
--no-lintian) lintian=0 ;;
"") ;;
*) echo "usage: deb.sh [--no-lintian]" >&2; exit 2 ;;
esac

# shellcheck disable=SC2034 # (lib.sh)
RIG_NAME="deb"
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_debs debhelper dh-dkms libsystemd-dev libcap-dev libjansson-dev pkgconf dpkg-dev \
	fakeroot lintian

version=$(cat "$TOP/VERSION")
changelog=$(dpkg-parsechangelog -l "$TOP/debian/changelog" -S Version)
[[ ${changelog%%-*} == "$version" ]] ||
	die "debian/changelog is at $changelog, VERSION at $version: add a changelog entry"

rm -rf "$OUT"
mkdir -p "$SRC"
# The tree as it is (committed or not), without caches and build products.
(cd "$TOP" && git ls-files -co --exclude-standard -z) |
	(cd "$TOP" && rsync -a --from0 --files-from=- ./ "$SRC/")

log "dpkg-buildpackage ($version)"
if ! (cd "$SRC" && dpkg-buildpackage -b -us -uc) >"$OUT/build.log" 2>&1; then
	tail -n 30 "$OUT/build.log" >&2
	die "dpkg-buildpackage failed (build/deb/build.log)"
fi
changes=$(ls "$OUT"/hv-ptp-ext_*.changes)
ls "$OUT"/*.deb

if ((lintian)); then
	log "lintian"
	# --fail-on warning: a warning fails make deb, like an error.
	if ! lintian --fail-on error,warning --info "$changes"; then
		die "lintian found problems (above)"
	fi
	log "lintian clean"
fi
