# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree build of hv_ptp_ext.ko (the objects are listed in ./Kbuild),
# and the test rig.
#
#   make [KERNELRELEASE=...] [KERNELDIR=... | KDIR=...]

KERNELRELEASE ?= $(shell uname -r)
KERNELDIR ?= /lib/modules/$(KERNELRELEASE)/build
ifneq ($(KDIR),)
KERNELDIR := $(KDIR)
endif
DEPMOD ?= depmod
VERSION := $(shell cat VERSION)
DKMS_SRC = $(DESTDIR)/usr/src/hv_ptp_ext-$(VERSION)
# make install: PREFIX for the daemon and modules-load.d; udev reads its
# rules from /lib/udev (and /etc), whatever the prefix.
PREFIX ?= /usr
SYSCONFDIR ?= /etc
UDEVRULESDIR ?= /lib/udev/rules.d
MODULESLOADDIR ?= $(PREFIX)/lib/modules-load.d
MODPROBEDIR ?= $(SYSCONFDIR)/modprobe.d
INSTALL_MOD_DIR ?= extra
MODDIR = $(DESTDIR)/lib/modules/$(KERNELRELEASE)/$(INSTALL_MOD_DIR)
CHECKPATCH := .cache/linux-source/scripts/checkpatch.pl

all: module

help:
	@echo "Targets:"
	@echo "  all, module      build hv_ptp_ext.ko against KERNELDIR (default)"
	@echo "  clean            remove the module's build products and build/"
	@echo "  install          modules_install, install-system, the daemon (user/)"
	@echo "  uninstall        remove what install installed (edited config files stay)"
	@echo "  modules_install  install hv_ptp_ext.ko for KERNELRELEASE, then depmod"
	@echo "  install-system   udev rule, modules-load.d and modprobe.d files"
	@echo "  deb              Debian packages hv-ptp-ext-dkms, hv-ptp-sync in build/deb/"
	@echo "  rpm              RPM packages hv-ptp-ext-dkms, hv-ptp-sync in build/rpm/ (rpmlint-checked)"
	@echo "  dkms-source      the module's source as DESTDIR/usr/src/hv_ptp_ext-VERSION, for dkms"
	@echo "  check            run the test rig (selftests/rig/check.sh; root, Debian 12)"
	@echo "  unit             the host unit tests (ASan, UBSan; seconds, no root)"
	@echo "  check-debug      the guest tests on a 6.12 kernel with KASAN, UBSAN, lockdep, kmemleak"
	@echo "  check-arm64      an arm64 guest (qemu-system-aarch64, TCG) on Debian 13's arm64 6.12 kernel (not part of check yet)"
	@echo "  check-system     the .debs on a debootstrap Debian 13 booted with systemd (part of check;"
	@echo "                   SYSTEM_SUITE=bookworm for Debian 12)"
	@echo "  demo             one guest: takeover, hv-ptp-sync converging, a plot"
	@echo "  bench            chrony, phc2sys and hv-ptp-sync side by side (docs/benchmarks.md)"
	@echo "  daemon           build user/hv-ptp-sync"
	@echo "  fuzz             libFuzzer on the parser, the model and the config parser"
	@echo "                   (FUZZ_SECONDS=600 each; FUZZ_TARGETS=\"timesync config\")"
	@echo "  style            checkpatch.pl on kernel/, selftests/host_sim/, selftests/fault_phc/"
	@echo "  help             this list"
	@echo "Variables: KERNELRELEASE=$(KERNELRELEASE)"
	@echo "           KERNELDIR (or KDIR)=$(KERNELDIR)"
	@echo "           DESTDIR=$(DESTDIR) PREFIX=$(PREFIX) INSTALL_MOD_DIR=$(INSTALL_MOD_DIR)"

kerneldir:
	@test -f $(KERNELDIR)/Makefile || { \
		echo "No kernel build tree at $(KERNELDIR)."; \
		echo "Install linux-headers-$(KERNELRELEASE) or set KERNELDIR= (or KDIR=)."; \
		exit 1; }

module: kerneldir
	@$(MAKE) -C $(KERNELDIR) M=$(CURDIR) modules

# Not Kbuild's "clean": for M=$(CURDIR) that deletes every *.ko, *.ko.*,
# *.[aios] and .*.cmd below here, the kernels in .cache/ included.
clean:
	rm -f hv_ptp_ext.ko hv_ptp_ext.o hv_ptp_ext.mod hv_ptp_ext.mod.[co] \
		.module-common.o modules.order Module.symvers .*.cmd
	find kernel -type f \( -name '*.o' -o -name '.*.cmd' -o -name '.*.d' \) \
		-delete
	rm -rf build
	$(MAKE) -C user clean

# depmod only for the running system's tree: a DESTDIR is a staging area.
modules_install: module
	@$(MAKE) -C $(KERNELDIR) M=$(CURDIR) INSTALL_MOD_DIR=$(INSTALL_MOD_DIR) \
		$(if $(DESTDIR),INSTALL_MOD_PATH=$(DESTDIR)) modules_install
	$(if $(DESTDIR),@echo "DESTDIR set: run depmod -a $(KERNELRELEASE) on the target",$(DEPMOD) -a $(KERNELRELEASE))

# The modprobe.d file is an example (all commented out) and, like the
# daemon's configuration, is not replaced once there.
install-system:
	install -D -m 644 system/60-hv-ptp-ext.rules $(DESTDIR)$(UDEVRULESDIR)/60-hv-ptp-ext.rules
	install -D -m 644 system/modules-load.conf $(DESTDIR)$(MODULESLOADDIR)/hv_ptp_ext.conf
	test -e $(DESTDIR)$(MODPROBEDIR)/hv_ptp_ext.conf || \
		install -D -m 644 system/modprobe.conf $(DESTDIR)$(MODPROBEDIR)/hv_ptp_ext.conf

install: modules_install install-system
	$(MAKE) -C user install

uninstall:
	$(MAKE) -C user uninstall
	rm -f $(DESTDIR)$(UDEVRULESDIR)/60-hv-ptp-ext.rules \
		$(DESTDIR)$(MODULESLOADDIR)/hv_ptp_ext.conf
	! cmp -s system/modprobe.conf $(DESTDIR)$(MODPROBEDIR)/hv_ptp_ext.conf || \
		rm -f $(DESTDIR)$(MODPROBEDIR)/hv_ptp_ext.conf
	rm -f $(MODDIR)/hv_ptp_ext.ko $(MODDIR)/hv_ptp_ext.ko.xz \
		$(MODDIR)/hv_ptp_ext.ko.zst $(MODDIR)/hv_ptp_ext.ko.gz
	$(if $(DESTDIR),,$(DEPMOD) -a $(KERNELRELEASE))

# Binary packages from debian/, built in a copy of the tree (build/deb/src)
# so that the checkout is left as it was; the .debs land in build/deb/.
deb:
	selftests/rig/deb.sh

# RPMs from rpm/hv-ptp-ext.spec.in (the version from VERSION), built with
# rpmbuild from a source tarball that carries the spec; in build/rpm/.
rpm:
	selftests/rig/rpm.sh

# What DKMS builds from: Kbuild, kernel/ and dkms.conf with the version.
dkms-source:
	rm -rf $(DKMS_SRC)
	mkdir -p $(DKMS_SRC)/kernel
	cp Kbuild VERSION $(DKMS_SRC)/
	cp kernel/*.[ch] kernel/compat.mk $(DKMS_SRC)/kernel/
	sed '/^PACKAGE_VERSION=/s/#MODULE_VERSION#/$(VERSION)/' dkms.conf >$(DKMS_SRC)/dkms.conf

check:
	selftests/rig/check.sh

# A KASAN/UBSAN/lockdep/kmemleak 6.12 kernel, cached, and the guest tests
# on it; not part of "make check" (about 40 minutes, plus 7 for the first
# build of the kernel).
check-debug:
	selftests/rig/debug-kernel.sh

# One arm64 guest, TCG, on Debian 13's arm64 6.12 kernel: the simulated
# host emulates the reference-counter hypercall (selftests/rig/
# arm64-guest.sh; RIG_TESTS, RIG_SIM="hc_latency_ns=N ..."). Not part of
# make check yet (README).
check-arm64:
	selftests/rig/deps.sh
	selftests/rig/kernels.sh --source-only
	selftests/rig/arm64-guest.sh

# Also run by "make check" (trixie); alone, it first fetches and builds what
# it needs. SYSTEM_SUITE=bookworm runs it on Debian 12.
check-system:
	selftests/rig/deps.sh
	selftests/rig/system-test.sh $(SYSTEM_SUITE)

demo:
	selftests/rig/demo.sh

bench:
	selftests/rig/bench.sh

daemon:
	$(MAKE) -C user

unit:
	$(MAKE) -C selftests/unit check

fuzz:
	selftests/rig/deps.sh
	$(MAKE) -C selftests/fuzz run

$(CHECKPATCH):
	selftests/rig/kernels.sh --source-only

# compat.h must name the non-const struct bus_type of kernels before 6.4
# (their bus core writes into it), which checkpatch's CONST_STRUCT flags.
style: $(CHECKPATCH)
	$(CHECKPATCH) --no-tree -f --terse \
		$(filter-out kernel/compat.h,$(wildcard kernel/*.[ch] selftests/host_sim/*.[ch] selftests/fault_phc/*.c))
	$(CHECKPATCH) --no-tree -f --terse --ignore CONST_STRUCT kernel/compat.h selftests/compat_test.h

.PHONY: all help kerneldir module clean modules_install install-system install uninstall deb rpm dkms-source check check-debug check-arm64 check-system demo bench daemon unit fuzz style
