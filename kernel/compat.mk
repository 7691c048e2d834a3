# SPDX-License-Identifier: GPL-2.0
#
# Feature probes for kernel changes that stable trees backport, so that the
# version number alone cannot tell. Included by every Kbuild of the tree;
# kernel/compat.h turns the results into one API.

compat-grep = $(shell grep -qs $(1) $(srctree)/include/$(2) && echo $(3))

# struct bus_type gained "bool driver_override" (the driver core keeps the
# override in struct device); backported to 6.12.y.
ccflags-y += $(call compat-grep,'bool driver_override;',linux/device/bus.h,-DCOMPAT_BUS_DRIVER_OVERRIDE)

# hv_read_tsc_page_tsc() returns bool and the reference time through a
# pointer (6.5; before, it returned the time or U64_MAX).
ccflags-y += $(call compat-grep,'u64 \*cur_tsc$(comma) u64 \*time',clocksource/hyperv_timer.h,-DCOMPAT_TSC_PAGE_READ_BOOL)
