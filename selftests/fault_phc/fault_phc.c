// SPDX-License-Identifier: GPL-2.0
/*
 * hv_fault_phc: a PTP clock that misbehaves on request (test only).
 *
 * It reads CLOCK_MONOTONIC_RAW plus base_ns (CLOCK_REALTIME - RAW at load,
 * read-only) plus jump_ns, so a test knows its exact time from userspace.
 * Its parent device carries a "timesync" group shaped like hv_ptp_ext's
 * (error_bound_ns, freq_ppb, stratum, leapflags, leap_pending, and record,
 * all of them on one line), whose text is whatever the parameters of those
 * names hold. The parameter "fault"
 * picks how gettimex64 answers:
 *
 *   none        correctly
 *   ebusy       -EBUSY
 *   eintr       -EINTR
 *   eintr_some  -EINTR on every 32nd call
 *   nsec        a time with 1.5 * 10^9 ns
 *   huge        a time 2^62 s after 1970
 *   negative    a time before 1970
 *   backwards   the system timestamp after the read is before the one
 *               before it
 *
 * Every parameter but base_ns is root-writable at run time, under
 * /sys/module/hv_fault_phc/parameters/.
 */
#include <linux/atomic.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/ptp_clock_kernel.h>
#include <linux/string.h>
#include <linux/timekeeping.h>

#define FAULT_DRV	"hv_fault_phc"
#define ATTR_LEN	32

static char fault[16] = "none";
module_param_string(fault, fault, sizeof(fault), 0644);
MODULE_PARM_DESC(fault, "none, ebusy, eintr, eintr_some, nsec, huge, negative or backwards");

static long jump_ns;
module_param(jump_ns, long, 0644);
MODULE_PARM_DESC(jump_ns, "Added to the clock's time, ns");

static long base_ns;
module_param(base_ns, long, 0444);
MODULE_PARM_DESC(base_ns, "CLOCK_REALTIME - CLOCK_MONOTONIC_RAW at load, ns");

#define FAULT_ATTR(_name, _def)						\
	static char _name[ATTR_LEN] = _def;				\
	module_param_string(_name, _name, ATTR_LEN, 0644);		\
	static ssize_t _name##_show(struct device *dev,			\
				    struct device_attribute *attr,	\
				    char *buf)				\
	{								\
		return sysfs_emit(buf, "%s\n", _name);			\
	}								\
	static DEVICE_ATTR_RO(_name)

FAULT_ATTR(error_bound_ns, "100");
FAULT_ATTR(freq_ppb, "0");
FAULT_ATTR(stratum, "2");
FAULT_ATTR(leapflags, "0");
FAULT_ATTR(leap_pending, "0");

/* hv_ptp_ext's record: the same values, key=value on one line */
static ssize_t record_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	char v[5][ATTR_LEN];

	strscpy(v[0], error_bound_ns, ATTR_LEN);
	strscpy(v[1], stratum, ATTR_LEN);
	strscpy(v[2], leapflags, ATTR_LEN);
	strscpy(v[3], leap_pending, ATTR_LEN);
	strscpy(v[4], freq_ppb, ATTR_LEN);
	return sysfs_emit(buf,
			  "error_bound_ns=%s stratum=%s leapflags=%s leap_pending=%s freq_ppb=%s\n",
			  strim(v[0]), strim(v[1]), strim(v[2]), strim(v[3]),
			  strim(v[4]));
}
static DEVICE_ATTR_RO(record);

static struct attribute *timesync_attrs[] = {
	&dev_attr_record.attr,
	&dev_attr_error_bound_ns.attr,
	&dev_attr_freq_ppb.attr,
	&dev_attr_stratum.attr,
	&dev_attr_leapflags.attr,
	&dev_attr_leap_pending.attr,
	NULL
};

static const struct attribute_group timesync_group = {
	.name = "timesync",
	.attrs = timesync_attrs,
};

static const struct attribute_group *fault_groups[] = {
	&timesync_group,
	NULL
};

static atomic_t calls;

static int fault_gettimex(struct ptp_clock_info *info, struct timespec64 *ts,
			  struct ptp_system_timestamp *sts)
{
	char f[sizeof(fault)];

	strscpy(f, fault, sizeof(f));
	strim(f);
	if (!strcmp(f, "ebusy"))
		return -EBUSY;
	if (!strcmp(f, "eintr"))
		return -EINTR;
	if (!strcmp(f, "eintr_some") && atomic_inc_return(&calls) % 32 == 0)
		return -EINTR;

	ptp_read_system_prets(sts);
	*ts = ns_to_timespec64(ktime_get_raw_ns() + base_ns +
			       READ_ONCE(jump_ns));
	ptp_read_system_postts(sts);

	if (!strcmp(f, "nsec"))
		ts->tv_nsec = 1500000000;
	else if (!strcmp(f, "huge"))
		ts->tv_sec = 1LL << 62;
	else if (!strcmp(f, "negative"))
		ts->tv_sec = -5;
	else if (!strcmp(f, "backwards") && sts)
		compat_sts_backwards(sts);
	return 0;
}

static int fault_settime(struct ptp_clock_info *info,
			 const struct timespec64 *ts)
{
	return -EOPNOTSUPP;
}

static int fault_adjtime(struct ptp_clock_info *info, s64 delta)
{
	return -EOPNOTSUPP;
}

static int fault_adjfine(struct ptp_clock_info *info, long scaled_ppm)
{
	return -EOPNOTSUPP;
}

static int fault_enable(struct ptp_clock_info *info,
			struct ptp_clock_request *rq, int on)
{
	return -EOPNOTSUPP;
}

static struct ptp_clock_info fault_info = {
	.owner = THIS_MODULE,
	.name = FAULT_DRV,
	.gettimex64 = fault_gettimex,
	.settime64 = fault_settime,
	.adjtime = fault_adjtime,
	.adjfine = fault_adjfine,
	.enable = fault_enable,
};

static void fault_unregister(void *clock)
{
	ptp_clock_unregister(clock);
}

static int fault_probe(struct platform_device *pdev)
{
	struct ptp_clock *clock;

	clock = ptp_clock_register(&fault_info, &pdev->dev);
	if (IS_ERR(clock))
		return PTR_ERR(clock);
	return devm_add_action_or_reset(&pdev->dev, fault_unregister, clock);
}

static struct platform_driver fault_driver = {
	.probe = fault_probe,
	.driver = {
		.name = FAULT_DRV,
		.dev_groups = fault_groups,
	},
};

static struct platform_device *fault_pdev;

static int __init fault_init(void)
{
	int ret;

	base_ns = ktime_get_real_ns() - ktime_get_raw_ns();
	ret = platform_driver_register(&fault_driver);
	if (ret)
		return ret;
	fault_pdev = platform_device_register_simple(FAULT_DRV, -1, NULL, 0);
	if (IS_ERR(fault_pdev)) {
		platform_driver_unregister(&fault_driver);
		return PTR_ERR(fault_pdev);
	}
	return 0;
}

static void __exit fault_exit(void)
{
	platform_device_unregister(fault_pdev);
	platform_driver_unregister(&fault_driver);
}

module_init(fault_init);
module_exit(fault_exit);
MODULE_DESCRIPTION("A PTP clock that misbehaves on request (hv_ptp_ext tests)");
MODULE_LICENSE("GPL");
