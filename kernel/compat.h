/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version differences for hv_ptp_ext, in one place.
 *
 * Force-included by Kbuild (-include) into every object of the module and
 * of the test-only simulated host. Each entry names the kernel version that
 * changed and what changed; the COMPAT_* macros come from the header probes
 * in compat.mk, so stable backports are caught too. No file tests
 * LINUX_VERSION_CODE.
 */
#ifndef HV_PTP_EXT_COMPAT_H
#define HV_PTP_EXT_COMPAT_H

/* Every message of the module is prefixed with its name. Set here, because
 * this header is included before anything else and pulls in printk.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/hyperv.h>
#include <clocksource/hyperv_timer.h>

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

/* > 0: override set and matches; 0: set, no match; < 0: no override. */
static inline int compat_match_driver_override(struct hv_device *hdev,
					       const struct device_driver *drv)
{
	return device_match_driver_override(&hdev->device, drv);
}
#else
static inline int compat_set_driver_override(struct hv_device *hdev,
					     const char *name)
{
	return driver_set_override(&hdev->device, &hdev->driver_override,
				   name ? name : "", name ? strlen(name) : 0);
}

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

#endif /* HV_PTP_EXT_COMPAT_H */
