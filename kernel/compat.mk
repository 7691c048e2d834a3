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

# ktime_get_snapshot() became ktime_get_snapshot_id(clock_id, snap), with
# the snapshot's "real" and the cross-timestamp's "sys_realtime" renamed to
# "systime"/"sys_systime" and "raw" to "monoraw" (after 6.12, seen in
# 7.2: auxiliary clocks).
ccflags-y += $(call compat-grep,'ktime_get_snapshot_id.clockid_t',linux/timekeeping.h,-DCOMPAT_SNAPSHOT_ID)

# struct system_device_crosststamp.clock_id: the caller names the system
# clock it wants the device cross-timestamped against (after 6.12, seen
# in 7.2).
ccflags-y += $(call compat-grep,'clockid_t.*clock_id;',linux/timekeeping.h,-DCOMPAT_CTS_CLOCK_ID)

# CSID_X86_TSC: a snapshot says when it was taken on the TSC (6.9).
ccflags-y += $(call compat-grep,'CSID_X86_TSC$(comma)',linux/clocksource_ids.h,-DCOMPAT_CSID_X86_TSC)

# clocksource.read_snapshot() and the snapshot's hw_cycles/hw_csid: a
# derived clocksource reports the hardware counter it read (seen in 7.2).
ccflags-y += $(call compat-grep,'.\*read_snapshot.',linux/clocksource.h,-DCOMPAT_CS_READ_SNAPSHOT)

# struct ptp_system_timestamp holds system snapshots (pre_sts, post_sts)
# instead of timespec64s (pre_ts, post_ts) (after 6.12, seen in 7.2).
ccflags-y += $(call compat-grep,'struct system_time_snapshot pre_sts;',linux/ptp_clock_kernel.h,-DCOMPAT_PTP_STS_SNAPSHOT)
