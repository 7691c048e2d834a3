# SPDX-License-Identifier: GPL-2.0
#
# Feature probes for the kernel API differences between the kernels we
# build for (Debian's 6.1 and 6.12, and later). Probing the headers instead
# of comparing version numbers also catches what stable trees backport.
# Included by every Kbuild of the tree; kernel/compat.h turns the results
# into one API and names the version of each change.

compat-grep = $(shell grep -qs $(1) $(srctree)/include/$(2) && echo $(3))

# struct bus_type gained "bool driver_override" (the driver core keeps the
# override in struct device); backported to 6.12.y.
ccflags-y += $(call compat-grep,'bool driver_override;',linux/device/bus.h,-DCOMPAT_BUS_DRIVER_OVERRIDE)

# hv_read_tsc_page_tsc() returns bool and the reference time through a
# pointer (6.5; before, it returned the time or U64_MAX).
ccflags-y += $(call compat-grep,'u64 .cur_tsc$(comma) u64 .time',clocksource/hyperv_timer.h,-DCOMPAT_TSC_PAGE_READ_BOOL)

# bus_type.match() takes a const struct device_driver * (6.11).
ccflags-y += $(call compat-grep,'match..struct device .dev$(comma) const struct device_driver',linux/device/bus.h,-DCOMPAT_BUS_MATCH_CONST)

# hv_driver.remove() returns void (6.3).
ccflags-y += $(call compat-grep,'void ..remove..struct hv_device',linux/hyperv.h,-DCOMPAT_HV_REMOVE_VOID)

# bus_register() takes a const struct bus_type * (6.4).
ccflags-y += $(call compat-grep,'bus_register.const struct bus_type',linux/device/bus.h,-DCOMPAT_BUS_CONST)
