/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version differences that only the test modules meet (the
 * simulated host registers a bus and fills the TSC page; the faulty PHC
 * forges a timestamp window), on the same header probes as the module's
 * (kernel/compat.mk), force-included after kernel/compat.h. Each entry
 * names the kernel version that changed and what changed.
 */
#ifndef HV_PTP_EXT_COMPAT_TEST_H
#define HV_PTP_EXT_COMPAT_TEST_H

/*
 * 6.11: bus_type.match() takes a const struct device_driver *.
 */
#ifdef COMPAT_BUS_MATCH_CONST
#define compat_bus_match_drv_t const struct device_driver
#else
#define compat_bus_match_drv_t struct device_driver
#endif

/*
 * 6.4: bus_register() and device_driver.bus take a const struct bus_type.
 */
#ifdef COMPAT_BUS_CONST
#define COMPAT_BUS_TYPE const struct bus_type
#else
#define COMPAT_BUS_TYPE struct bus_type
#endif

/*
 * driver_override in struct device (see compat_set_driver_override()):
 * > 0, the override is set and matches; 0, set, no match; < 0, none.
 */
#ifdef COMPAT_BUS_DRIVER_OVERRIDE
static inline int compat_match_driver_override(struct hv_device *hdev,
					       const struct device_driver *drv)
{
	return device_match_driver_override(&hdev->device, drv);
}
#else
static inline int compat_match_driver_override(struct hv_device *hdev,
					       const struct device_driver *drv)
{
	if (hdev->driver_override)
		return !strcmp(hdev->driver_override, drv->name);
	return -1;
}
#endif

/*
 * 6.5: hv_read_tsc_page_tsc() returns bool and the reference time through
 * a pointer; before, it returned the time, or U64_MAX when the TSC page was
 * invalid. Probed (COMPAT_TSC_PAGE_READ_BOOL).
 *
 * Reads the TSC page once: *tsc gets the TSC value used and *ref the
 * reference time in 100 ns units. Returns false when the page is invalid
 * (tsc_sequence 0).
 */
static __always_inline bool
compat_read_tsc_page(const struct ms_hyperv_tsc_page *pg, u64 *tsc, u64 *ref)
{
#ifdef COMPAT_TSC_PAGE_READ_BOOL
	return hv_read_tsc_page_tsc(pg, tsc, ref);
#else
	*ref = hv_read_tsc_page_tsc(pg, tsc);
	return *ref != U64_MAX;
#endif
}

/* The snapshot's CLOCK_REALTIME and CLOCK_MONOTONIC_RAW (compat_snapshot()) */
#ifdef COMPAT_SNAPSHOT_ID
#define compat_snap_real(snap)	((snap)->systime)
#define compat_snap_raw(snap)	((snap)->monoraw)
#else
#define compat_snap_real(snap)	((snap)->real)
#define compat_snap_raw(snap)	((snap)->raw)
#endif

/*
 * After 6.12 (seen in 7.2): struct ptp_system_timestamp holds two system
 * snapshots (pre_sts, post_sts) instead of two timespec64s (pre_ts,
 * post_ts). Probed (COMPAT_PTP_STS_SNAPSHOT).
 *
 * compat_sts_backwards() makes @sts claim a window that ends one second
 * before it starts (the test-only faulty PHC's "backwards" fault).
 */
static inline void compat_sts_backwards(struct ptp_system_timestamp *sts)
{
#ifdef COMPAT_PTP_STS_SNAPSHOT
	sts->post_sts.systime = ktime_sub(sts->pre_sts.systime, NSEC_PER_SEC);
#else
	sts->post_ts.tv_sec = sts->pre_ts.tv_sec - 1;
#endif
}

#endif /* HV_PTP_EXT_COMPAT_TEST_H */
