#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# install-test.sh [KVER]: make install and make uninstall into a staging
# DESTDIR with PREFIX=/usr/local, for the rig's first kernel (its headers
# from kernels.sh), in a copy of the tree (Kbuild writes its objects next
# to the sources). Checks every file make install should put in place, that
# the unit runs the daemon from PREFIX, that make uninstall removes them
# all, and that a configuration file edited meanwhile is kept.
# Last line: "install: P passed, F failed, 0 skipped".
set -uo pipefail

TOP=$(cd "$(dirname "$0")/../.." && pwd)
KVER=${1:-$(head -n 1 "$TOP/.cache/kernels/list" 2>/dev/null)}
KDIR=$TOP/.cache/kernels/$KVER/root/usr/src/linux-headers-$KVER
OUT=$TOP/build/install
SRC=$OUT/src
DEST=$OUT/root
pass=0
fail=0

ok() { echo "ok - install: $*"; pass=$((pass + 1)); }
nok() { echo "not ok - install: $*"; fail=$((fail + 1)); }
check() {
	local desc=$1

	shift
	if "$@"; then ok "$desc"; else nok "$desc"; fi
}

if [[ ! -f $KDIR/Makefile ]]; then
	nok "no headers for $KVER (run selftests/rig/kernels.sh)"
	echo "install: $pass passed, $fail failed, 0 skipped"
	exit 1
fi

rm -rf "$OUT"
mkdir -p "$SRC" "$DEST"
(cd "$TOP" && git ls-files -co --exclude-standard -z) |
	(cd "$TOP" && rsync -a --from0 --files-from=- ./ "$SRC/")

vars=(DESTDIR="$DEST" PREFIX=/usr/local KERNELRELEASE="$KVER" KERNELDIR="$KDIR")
# Debian's 6.1 headers have no vmlinux for module BTF (as in build.sh).
[[ -f $KDIR/vmlinux ]] || vars+=(CONFIG_DEBUG_INFO_BTF_MODULES=)
if make -C "$SRC" "${vars[@]}" install >"$OUT/install.log" 2>&1; then
	ok "make install DESTDIR=... PREFIX=/usr/local"
else
	tail -n 20 "$OUT/install.log"
	nok "make install DESTDIR=... PREFIX=/usr/local"
fi

expect=(
	"lib/modules/$KVER/extra/hv_ptp_ext.ko"
	lib/udev/rules.d/60-hv-ptp-ext.rules
	usr/local/lib/modules-load.d/hv_ptp_ext.conf
	etc/modprobe.d/hv_ptp_ext.conf
	usr/local/sbin/hv-ptp-sync
	usr/local/bin/hv-ptp-now
	usr/local/share/man/man8/hv-ptp-sync.8
	usr/local/share/man/man1/hv-ptp-now.1
	usr/local/share/man/man5/hv-ptp-sync.conf.5
	lib/systemd/system/hv-ptp-sync.service
	etc/hv-ptp-sync.conf
)
for f in "${expect[@]}"; do
	# the module may be compressed, as the kernel's configuration says
	check "installed /$f" bash -c "ls '$DEST/$f'* >/dev/null 2>&1"
done
check "the unit runs /usr/local/sbin/hv-ptp-sync" \
	grep -qx 'ExecStart=/usr/local/sbin/hv-ptp-sync' \
	"$DEST/lib/systemd/system/hv-ptp-sync.service"
check "modinfo: version $(cat "$TOP/VERSION")" bash -c \
	"modinfo -F version '$DEST/lib/modules/$KVER/extra/'hv_ptp_ext.ko* | grep -qx '$(cat "$TOP/VERSION")'"

echo "poll_ms 250" >>"$DEST/etc/hv-ptp-sync.conf"
if make -C "$SRC" "${vars[@]}" uninstall >"$OUT/uninstall.log" 2>&1; then
	ok "make uninstall"
else
	tail -n 20 "$OUT/uninstall.log"
	nok "make uninstall"
fi
left=$(cd "$DEST" && find . -type f | sort)
check "uninstall leaves only the edited configuration (left: ${left//$'\n'/ })" \
	test "$left" = "./etc/hv-ptp-sync.conf"

rm -rf "$SRC"
echo "install: $pass passed, $fail failed, 0 skipped"
((fail == 0))
