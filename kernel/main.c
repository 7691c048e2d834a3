// SPDX-License-Identifier: GPL-2.0
/*
 * hv_ptp_ext: a high-precision PTP clock from the Hyper-V TimeSync channel.
 *
 * Module parameters, and the takeover of the TimeSync device: hv_utils
 * binds TimeSync together with shutdown, heartbeat, KVP and VSS; we move
 * only the TimeSync device, by setting its driver_override to us and
 * re-probing it, and hand it back on unload.
 */
#include <linux/ctype.h>
#include <linux/device.h>
#include <linux/hyperv.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/slab.h>

#include "hv_ptp_ext.h"

/* A module parameter refused at load (or write) when out of [min, max]. */
struct hv_ptp_range {
	unsigned long long min, max;
};

static int param_set_ranged(const char *val, const struct kernel_param *kp)
{
	const struct hv_ptp_range *r = kp->arg + sizeof(unsigned long long);
	unsigned long long v;
	int ret;

	ret = kstrtoull(val, 0, &v);
	if (ret || v < r->min || v > r->max) {
		pr_err("%s=%s: not a number in [%llu, %llu]\n", kp->name, val,
		       r->min, r->max);
		return -EINVAL;
	}
	*(unsigned long long *)kp->arg = v;
	return 0;
}

static int param_get_ranged(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%llu\n", *(unsigned long long *)kp->arg);
}

static const struct kernel_param_ops param_ops_ranged = {
	.set = param_set_ranged,
	.get = param_get_ranged,
};

/* The value followed by its range: kp->arg points at the value. */
#define HV_PTP_PARAM(_name, _def, _min, _max, _desc)			\
	static struct {							\
		unsigned long long val;					\
		struct hv_ptp_range range;				\
	} _name = { _def, { _min, _max } };				\
	module_param_cb(_name, &param_ops_ranged, &_name, 0444);	\
	MODULE_PARM_DESC(_name, _desc " [" #_min ".." #_max ", default " #_def "]")

static_assert(HV_CM_MAX_WINDOW == 64);
HV_PTP_PARAM(window, 32, 2, 64,
	     "Samples in the model's fit, at most (fewer while the host's rate moves)");
HV_PTP_PARAM(step_threshold_ns, 1000000, 1000, 1000000000000,
	     "Deviations larger than this (ns) are stepped, not slewed");
HV_PTP_PARAM(outlier_sigmas, 6, 2, 1000,
	     "Outlier threshold, in noise standard deviations");
HV_PTP_PARAM(outlier_min_ns, 1000, 0, 1000000000,
	     "Floor of the outlier threshold, ns");
#define WANDER_PPB_DEFAULT 100	/* wander_ppb's default, below */
HV_PTP_PARAM(wander_ppb, 100, 0, 1000000,
	     "Host rate wander allowed for in the error bound while samples come, ppb");
HV_PTP_PARAM(holdover_ppb, 500, 0, 1000000,
	     "Host rate wander allowed for in the error bound once a sample is overdue, ppb");
HV_PTP_PARAM(stale_ms, 15000, 1000, 3600000,
	     "No sample for this long (ms): holdover");
HV_PTP_PARAM(slew_ms, 5000, 100, 600000,
	     "A phase correction is spread over this long, ms");
HV_PTP_PARAM(latency_us, 10000, 0, 1000000,
	     "Delivery latency allowed for in the error bound before TimeSync 4.0, us");
HV_PTP_PARAM(host_utc_error_ns, 100000000, 0, 1000000000000,
	     "The host's error against UTC, declared: added to the VMClock page's time_maxerror (0: the page bounds host time only), ns");
HV_PTP_PARAM(clocksource_rating, 100, 1, 499,
	     "Rating of the hv_ptp_ext clocksource (TSC: 300; above it selects ours)");

static bool takeover = true;
module_param(takeover, bool, 0444);
MODULE_PARM_DESC(takeover, "Take the TimeSync device over from hv_utils at load (default on)");

static int param_set_clock_name(const char *val, const struct kernel_param *kp)
{
	size_t len = strcspn(val, "\n");

	if (!len || len >= PTP_CLOCK_NAME_LEN) {
		pr_err("clock_name: 1 to %d characters\n", PTP_CLOCK_NAME_LEN - 1);
		return -EINVAL;
	}
	return param_set_charp(val, kp);
}

static const struct kernel_param_ops param_ops_clock_name = {
	.set = param_set_clock_name,
	.get = param_get_charp,
	.free = param_free_charp,
};

char *hv_ptp_clock_name = "hyperv";
module_param_cb(clock_name, &param_ops_clock_name, &hv_ptp_clock_name, 0444);
MODULE_PARM_DESC(clock_name, "PHC name (default \"hyperv\": /dev/ptp_hyperv keeps working)");

/* The VMClock device's name: letters, digits, '_' and '-'; "" for none. */
static int param_set_vmclock(const char *val, const struct kernel_param *kp)
{
	size_t len = strcspn(val, "\n"), i;

	if (len > 31)
		goto bad;
	for (i = 0; i < len; i++)
		if (!isalnum(val[i]) && val[i] != '_' && val[i] != '-')
			goto bad;
	return param_set_charp(val, kp);
bad:
	pr_err("vmclock: up to 31 letters, digits, '_' or '-' (a name in /dev), or empty for none\n");
	return -EINVAL;
}

static const struct kernel_param_ops param_ops_vmclock = {
	.set = param_set_vmclock,
	.get = param_get_charp,
	.free = param_free_charp,
};

module_param_cb(vmclock, &param_ops_vmclock, &hv_ptp_vmclock_name, 0444);
MODULE_PARM_DESC(vmclock, "VMClock device in /dev (default \"vmclock0\"; empty: none)");

struct hv_cm_params hv_ptp_cm_params;
u64 hv_ptp_host_utc_error_ns;

/*
 * Devices we moved from another driver (driver_override set by us), and at
 * unload every device bound to us: all are offered to the other drivers
 * again once ours is gone.
 */
#define HV_PTP_MAX_DEVS	4
static struct device *taken[HV_PTP_MAX_DEVS];
static unsigned int n_taken;

static const struct hv_vmbus_device_id ts_id = { HV_TS_GUID };

static int take_one(struct device *dev, void *unused)
{
	struct hv_device *hdev = device_to_hv_device(dev);
	const char *from;
	int ret;

	if (!guid_equal(&hdev->dev_type, &ts_id.guid) || !dev->driver ||
	    dev->driver == &hv_ptp_driver.driver)
		return 0;
	if (n_taken == HV_PTP_MAX_DEVS)
		return -ENOSPC;
	from = dev->driver->name;
	ret = compat_set_driver_override(hdev, hv_ptp_driver.name);
	if (ret)
		return ret;
	taken[n_taken++] = get_device(dev);
	ret = device_reprobe(dev);
	dev_info(dev, "TimeSync taken over from %s%s\n", from,
		 ret ? " (re-probe failed)" : "");
	return 0;
}

static int collect_ours(struct device *dev, void *data)
{
	struct device **bound = data;
	unsigned int i;

	for (i = 0; i < HV_PTP_MAX_DEVS; i++) {
		if (bound[i] == dev)
			return 0;
		if (!bound[i]) {
			bound[i] = get_device(dev);
			return 0;
		}
	}
	return -ENOSPC;
}

static void unbind_and_give_back(void)
{
	struct device *bound[HV_PTP_MAX_DEVS] = { };
	unsigned int i;
	int ret;

	if (driver_for_each_device(&hv_ptp_driver.driver, NULL, bound,
				   collect_ours))
		pr_warn("more than %d devices: not all are handed back\n",
			HV_PTP_MAX_DEVS);
	vmbus_driver_unregister(&hv_ptp_driver);
	for (i = 0; i < n_taken; i++) {
		compat_set_driver_override(device_to_hv_device(taken[i]), NULL);
		put_device(taken[i]);
	}
	n_taken = 0;
	for (i = 0; i < HV_PTP_MAX_DEVS && bound[i]; i++) {
		ret = device_attach(bound[i]);
		dev_info(bound[i], "TimeSync handed back%s\n",
			 ret > 0 ? "" : "; no other driver bound it");
		put_device(bound[i]);
	}
}

static int __init hv_ptp_init(void)
{
	int ret;

	/*
	 * A sample overdue cannot make the host's clock more predictable:
	 * wander_ppb beyond holdover_ppb is refused, and its default follows
	 * a holdover_ppb set below it (as a setting made before wander_ppb
	 * existed may be).
	 */
	if (wander_ppb.val > holdover_ppb.val) {
		if (wander_ppb.val != WANDER_PPB_DEFAULT) {
			pr_err("wander_ppb=%llu: more than holdover_ppb=%llu\n",
			       wander_ppb.val, holdover_ppb.val);
			return -EINVAL;
		}
		wander_ppb.val = holdover_ppb.val;
	}
	hv_ptp_cm_params = (struct hv_cm_params) {
		.window = window.val,
		.step_threshold_ns = step_threshold_ns.val,
		.outlier_sigmas = outlier_sigmas.val,
		.outlier_min_ns = outlier_min_ns.val,
		.wander_ppb = wander_ppb.val,
		.holdover_ppb = holdover_ppb.val,
		.stale_ns = stale_ms.val * NSEC_PER_MSEC,
		.slew_ns = slew_ms.val * NSEC_PER_MSEC,
		.latency_ns = latency_us.val * NSEC_PER_USEC,
	};
	hv_ptp_host_utc_error_ns = host_utc_error_ns.val;

	ret = hv_ref_init(clocksource_rating.val);
	if (ret)
		return ret;

	ret = vmbus_driver_register(&hv_ptp_driver);
	if (ret) {
		hv_ref_exit();
		return ret;
	}
	if (takeover) {
		ret = bus_for_each_dev(hv_ptp_driver.driver.bus, NULL, NULL,
				       take_one);
		if (ret)
			pr_warn("takeover incomplete: %d\n", ret);
	}
	return 0;
}

static void __exit hv_ptp_exit(void)
{
	unbind_and_give_back();
	hv_ref_exit();
}

module_init(hv_ptp_init);
module_exit(hv_ptp_exit);

MODULE_DESCRIPTION("High-precision PTP clock from the Hyper-V TimeSync channel");
MODULE_LICENSE("GPL");
MODULE_VERSION(HV_PTP_EXT_VERSION);
