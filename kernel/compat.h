/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version differences for hv_ptp_ext, in one place.
 *
 * Force-included by Kbuild (-include) into every object of the module and
 * of the test-only modules (the simulated host, the faulty PHC), which add
 * what only they use from selftests/compat_test.h. Each entry names the
 * kernel version that changed and what changed; the COMPAT_* macros come
 * from the header probes in compat.mk, so stable backports are caught
 * too. No file tests LINUX_VERSION_CODE.
 */
#ifndef HV_PTP_EXT_COMPAT_H
#define HV_PTP_EXT_COMPAT_H

/* Every message of the module is prefixed with its name. Set here, because
 * this header is included before anything else and pulls in printk.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/hyperv.h>
#include <linux/clocksource.h>
#include <linux/ptp_clock_kernel.h>
#include <linux/timekeeping.h>
#include <clocksource/hyperv_timer.h>
#ifdef CONFIG_X86
#include <asm/tsc.h>
#endif

/*
 * 6.3: hv_driver.remove() returns void instead of int.
 */
#ifdef COMPAT_HV_REMOVE_VOID
#define COMPAT_HV_REMOVE_RET void
#define COMPAT_HV_REMOVE_RETURN
#else
#define COMPAT_HV_REMOVE_RET int
#define COMPAT_HV_REMOVE_RETURN 0
#endif

/*
 * driver_override moved from struct hv_device into struct device, with the
 * bus core doing the matching and providing the sysfs attribute
 * (bus_type.driver_override). Probed: backported to 6.12.y.
 */
#ifdef COMPAT_BUS_DRIVER_OVERRIDE
/* Set @name as the device's driver_override, or clear it (NULL). */
static inline int compat_set_driver_override(struct hv_device *hdev,
					     const char *name)
{
	/* "" clears it; NULL is refused */
	return device_set_driver_override(&hdev->device, name ? name : "");
}
#else
static inline int compat_set_driver_override(struct hv_device *hdev,
					     const char *name)
{
	return driver_set_override(&hdev->device, &hdev->driver_override,
				   name ? name : "", name ? strlen(name) : 0);
}
#endif

/*
 * After 6.12 (seen in 7.2): ktime_get_snapshot() became ktime_get_snapshot_id(clock_id, snap)
 * (auxiliary clocks), and the snapshot's and the cross-timestamp's
 * real/raw became systime/monoraw. Probed (COMPAT_SNAPSHOT_ID).
 *
 * compat_snapshot() takes a snapshot of CLOCK_REALTIME and
 * CLOCK_MONOTONIC_RAW, and compat_cts_set_sys() fills a cross-timestamp's
 * system times from it.
 */
#ifdef COMPAT_SNAPSHOT_ID
static inline void compat_snapshot(struct system_time_snapshot *snap)
{
	ktime_get_snapshot_id(CLOCK_REALTIME, snap);
}

static inline void compat_cts_set_sys(struct system_device_crosststamp *cts,
				      const struct system_time_snapshot *snap)
{
	cts->sys_systime = snap->systime;
	cts->sys_monoraw = snap->monoraw;
}
#else
static inline void compat_snapshot(struct system_time_snapshot *snap)
{
	ktime_get_snapshot(snap);
}

static inline void compat_cts_set_sys(struct system_device_crosststamp *cts,
				      const struct system_time_snapshot *snap)
{
	cts->sys_realtime = snap->real;
	cts->sys_monoraw = snap->raw;
}
#endif

/*
 * After 6.12 (seen in 7.2): the caller of getcrosststamp() names the system clock in
 * cts->clock_id (CLOCK_REALTIME or an auxiliary clock). Before, it was
 * always CLOCK_REALTIME. Probed (COMPAT_CTS_CLOCK_ID).
 */
static inline bool
compat_cts_wants_realtime(const struct system_device_crosststamp *cts)
{
#ifdef COMPAT_CTS_CLOCK_ID
	return cts->clock_id == CLOCK_REALTIME;
#else
	return true;
#endif
}

/*
 * After 6.12 (seen in 7.2): clocksource.read_snapshot(), for a clocksource derived from a
 * hardware counter, returns the counter value and reports the hardware
 * counter's value and id (struct clocksource_hw_snapshot). Probed
 * (COMPAT_CS_READ_SNAPSHOT). Before, the member and the struct do not
 * exist and compat_cs_set_read_snapshot() does nothing.
 *
 * compat_hw_snapshot_tsc() reports @tsc as the TSC value read, or no
 * hardware counter when @tsc is 0.
 */
#ifdef COMPAT_CS_READ_SNAPSHOT
static inline void
compat_cs_set_read_snapshot(struct clocksource *cs,
			    u64 (*fn)(struct clocksource *cs,
				      struct clocksource_hw_snapshot *chs))
{
	cs->read_snapshot = fn;
}

#ifdef CONFIG_X86
static inline void compat_hw_snapshot_tsc(struct clocksource_hw_snapshot *chs,
					  u64 tsc)
{
	chs->hw_cycles = tsc;
	chs->hw_csid = tsc ? CSID_X86_TSC : CSID_GENERIC;
}
#endif
#else
struct clocksource_hw_snapshot;

static inline void
compat_cs_set_read_snapshot(struct clocksource *cs,
			    u64 (*fn)(struct clocksource *cs,
				      struct clocksource_hw_snapshot *chs))
{
}

static inline void compat_hw_snapshot_tsc(struct clocksource_hw_snapshot *chs,
					  u64 tsc)
{
}
#endif

/*
 * Which counter a snapshot was taken on, as the kernel states it:
 *  - 6.9 added CSID_X86_TSC: a snapshot on the TSC clocksource says so in
 *    cs_id (COMPAT_CSID_X86_TSC);
 *  - later kernels (7.2) added clocksource.read_snapshot(): a clocksource derived from a
 *    hardware counter (kvmclock, Hyper-V's TSC page, ours) reports the
 *    counter value it read in hw_cycles and its id in hw_csid
 *    (COMPAT_CS_READ_SNAPSHOT).
 * Before 6.9 no snapshot tells the TSC apart from other clocksources
 * (every x86 one is CSID_GENERIC), so there, and only there, the snapshot
 * is bracketed by two TSC reads: a counter value between them was read
 * from the TSC (another clocksource's counter does not run in step).
 *
 * compat_snapshot_tsc() takes a snapshot as compat_snapshot() does and
 * returns true with the TSC value it was computed from in *tsc, or false
 * when it was not taken on the TSC or a clocksource derived from it.
 */
#ifdef CONFIG_ARM64
/*
 * Not a version difference but the architecture's: on arm64 the counter
 * is CNTVCT, and a snapshot on arch_sys_counter says so in cs_id
 * (CSID_ARM_ARCH_COUNTER, on every kernel we build for: 5.12 added it).
 */
static inline bool compat_snapshot_tsc(struct system_time_snapshot *snap,
				       u64 *tsc)
{
	compat_snapshot(snap);
	*tsc = snap->cycles;
	return snap->cs_id == CSID_ARM_ARCH_COUNTER;
}
#else
static inline bool compat_snapshot_tsc(struct system_time_snapshot *snap,
				       u64 *tsc)
{
#ifdef COMPAT_CSID_X86_TSC
	compat_snapshot(snap);
	if (snap->cs_id == CSID_X86_TSC) {
		*tsc = snap->cycles;
		return true;
	}
#ifdef COMPAT_CS_READ_SNAPSHOT
	if (snap->hw_csid == CSID_X86_TSC) {
		*tsc = snap->hw_cycles;
		return true;
	}
#endif
	return false;
#else
	u64 pre, post;

	pre = rdtsc_ordered();
	compat_snapshot(snap);
	post = rdtsc_ordered();
	*tsc = snap->cycles;
	return pre <= snap->cycles && snap->cycles <= post;
#endif
}
#endif /* CONFIG_ARM64 */

#endif /* HV_PTP_EXT_COMPAT_H */
