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
CHECKPATCH := .cache/linux-source/scripts/checkpatch.pl

all: module

help:
	@echo "Targets:"
	@echo "  all, module      build hv_ptp_ext.ko against KERNELDIR (default)"
	@echo "  clean            remove the module's build products and build/"
	@echo "  modules_install  install hv_ptp_ext.ko for KERNELRELEASE, then depmod"
	@echo "  dkms-source      the module's source as DESTDIR/usr/src/hv_ptp_ext-VERSION, for dkms"
	@echo "  check            run the test rig (selftests/rig/check.sh; root, Debian 12)"
	@echo "  demo             one guest: takeover, hv-ptp-sync converging, a plot"
	@echo "  bench            chrony, phc2sys and hv-ptp-sync side by side (docs/benchmarks.md)"
	@echo "  daemon           build user/hv-ptp-sync"
	@echo "  style            checkpatch.pl on kernel/ and selftests/host_sim/"
	@echo "  help             this list"
	@echo "Variables: KERNELRELEASE=$(KERNELRELEASE)"
	@echo "           KERNELDIR (or KDIR)=$(KERNELDIR)"

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

modules_install: kerneldir
	@$(MAKE) -C $(KERNELDIR) M=$(CURDIR) modules_install
	$(DEPMOD) -a $(KERNELRELEASE)

# What DKMS builds from: Kbuild, kernel/ and dkms.conf with the version.
dkms-source:
	rm -rf $(DKMS_SRC)
	mkdir -p $(DKMS_SRC)/kernel
	cp Kbuild VERSION $(DKMS_SRC)/
	cp kernel/*.[ch] kernel/compat.mk $(DKMS_SRC)/kernel/
	sed '/^PACKAGE_VERSION=/s/#MODULE_VERSION#/$(VERSION)/' dkms.conf >$(DKMS_SRC)/dkms.conf

check:
	selftests/rig/check.sh

demo:
	selftests/rig/demo.sh

bench:
	selftests/rig/bench.sh

daemon:
	$(MAKE) -C user

$(CHECKPATCH):
	selftests/rig/kernels.sh --source-only

# compat.h must name the non-const struct bus_type of kernels before 6.4
# (their bus core writes into it), which checkpatch's CONST_STRUCT flags.
style: $(CHECKPATCH)
	$(CHECKPATCH) --no-tree -f --terse \
		$(filter-out kernel/compat.h,$(wildcard kernel/*.[ch] selftests/host_sim/*.[ch]))
	$(CHECKPATCH) --no-tree -f --terse --ignore CONST_STRUCT kernel/compat.h

.PHONY: all help kerneldir module clean modules_install dkms-source check demo bench daemon style
