// SPDX-License-Identifier: GPL-2.0
/*
 * Status attributes, all read-only, in the "timesync" group of the
 * TimeSync device (/sys/bus/vmbus/devices/<instance>/timesync/; the PHC's
 * /sys/class/ptp/ptpN/device links there). Documented in
 * Documentation/ABI/testing/sysfs-driver-hv_ptp_ext.
 */
#include <linux/device.h>
#include <linux/sysfs.h>
#include <linux/timekeeping.h>

#include "hv_ptp_ext.h"

static struct hv_ptp *dev_hp(struct device *dev)
{
	return hv_get_drvdata(device_to_hv_device(dev));
}

/*
 * The published status (model, estimator counters, sample attributes: one
 * consistent copy, taken under the seqlock the PHC reads use), and
 * reference time now (ns); a changed TSC page is taken in first.
 */
static u64 status_now(struct device *dev, struct hv_ptp_status *st)
{
	return hv_ptp_read_now(dev_hp(dev), st);
}

/* The VMClock device's name in /dev, or empty: none (vmclock.c). */
static const char *vmclock_name(struct hv_ptp *hp)
{
	return READ_ONCE(hp->vmclock) ? hp->vmclock_misc.name : "";
}

/* A channel counter, on its own. */
#define HV_PTP_ATTR_U64(_name, _expr)					\
static ssize_t _name##_show(struct device *dev,				\
			    struct device_attribute *attr, char *buf)	\
{									\
	struct hv_ptp *hp = dev_hp(dev);				\
									\
	return sysfs_emit(buf, "%llu\n", (unsigned long long)(_expr));	\
}									\
static DEVICE_ATTR_RO(_name)

/* A field of the published status (a changed TSC page taken in first). */
#define HV_PTP_ATTR_STATUS(_name, _fmt, _type, _field)			\
static ssize_t _name##_show(struct device *dev,				\
			    struct device_attribute *attr, char *buf)	\
{									\
	struct hv_ptp_status st;					\
									\
	status_now(dev, &st);						\
	return sysfs_emit(buf, _fmt "\n", (_type)st._field);		\
}									\
static DEVICE_ATTR_RO(_name)

HV_PTP_ATTR_U64(received, READ_ONCE(hp->received));
HV_PTP_ATTR_U64(negotiations, READ_ONCE(hp->negotiations));
HV_PTP_ATTR_U64(recv_errors, READ_ONCE(hp->recv_errors));
HV_PTP_ATTR_U64(phc_index, ptp_clock_index(hp->ptp));
HV_PTP_ATTR_STATUS(samples_accepted, "%llu", unsigned long long, accepted);
HV_PTP_ATTR_STATUS(samples_outliers, "%llu", unsigned long long, outliers);
HV_PTP_ATTR_STATUS(steps, "%llu", unsigned long long, steps);
HV_PTP_ATTR_STATUS(syncs, "%llu", unsigned long long, syncs);
HV_PTP_ATTR_STATUS(leaps, "%llu", unsigned long long, leaps);
HV_PTP_ATTR_STATUS(noise_ns, "%llu", unsigned long long, noise_ns);
HV_PTP_ATTR_STATUS(last_offset_ns, "%lld", long long, last_offset_ns);
HV_PTP_ATTR_STATUS(leapflags, "%u", unsigned int, leapflags);
HV_PTP_ATTR_STATUS(stratum, "%u", unsigned int, stratum);
HV_PTP_ATTR_STATUS(disruptions, "%llu", unsigned long long, disruptions);

const char *const hv_ptp_disruption_names[HV_PTP_DISRUPT_COUNT] = {
	[HV_PTP_DISRUPT_NONE] = "none",
	[HV_PTP_DISRUPT_SYNC] = "sync",
	[HV_PTP_DISRUPT_STEP] = "step",
	[HV_PTP_DISRUPT_GAP] = "gap",
	[HV_PTP_DISRUPT_TSC_PAGE] = "tsc_page",
	[HV_PTP_DISRUPT_VERSION] = "version",
	[HV_PTP_DISRUPT_OPEN] = "open",
	[HV_PTP_DISRUPT_RESUME] = "resume",
};

static ssize_t last_disruption_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	struct hv_ptp_status st;

	status_now(dev, &st);
	if (st.last_disruption >= HV_PTP_DISRUPT_COUNT)
		st.last_disruption = HV_PTP_DISRUPT_NONE;
	return sysfs_emit(buf, "%s\n",
			  hv_ptp_disruption_names[st.last_disruption]);
}
static DEVICE_ATTR_RO(last_disruption);

#define HV_PTP_ATTR_REJECTED(_r, _name)					\
	HV_PTP_ATTR_U64(rejected_##_name, READ_ONCE(hp->rejected[_r]))

HV_PTP_ATTR_REJECTED(HV_TS_SHORT, short);
HV_PTP_ATTR_REJECTED(HV_TS_SHORT_PAYLOAD, short_payload);
HV_PTP_ATTR_REJECTED(HV_TS_OVERSIZE, oversize);
HV_PTP_ATTR_REJECTED(HV_TS_BAD_TYPE, bad_type);
HV_PTP_ATTR_REJECTED(HV_TS_BAD_SIZE, bad_size);
HV_PTP_ATTR_REJECTED(HV_TS_BAD_NEGOTIATION, bad_negotiation);
HV_PTP_ATTR_REJECTED(HV_TS_NOT_NEGOTIATED, not_negotiated);
HV_PTP_ATTR_REJECTED(HV_TS_BAD_TIME, bad_time);

static ssize_t version_show(char *buf, u32 v)
{
	if (!v)
		return sysfs_emit(buf, "none\n");
	return sysfs_emit(buf, "%u.%u\n", v >> 16, v & 0xffff);
}

static ssize_t fw_version_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	return version_show(buf, READ_ONCE(dev_hp(dev)->fw_version));
}
static DEVICE_ATTR_RO(fw_version);

static ssize_t ts_version_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	return version_show(buf, READ_ONCE(dev_hp(dev)->ts_version));
}
static DEVICE_ATTR_RO(ts_version);

static ssize_t state_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct hv_ptp_status st;
	u64 now = status_now(dev, &st);

	return sysfs_emit(buf, "%s\n",
			  hv_cm_state_names[hv_cm_state(&st.model, now)]);
}
static DEVICE_ATTR_RO(state);

static ssize_t leap_pending_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct hv_ptp_status st;
	u64 now = status_now(dev, &st);

	return sysfs_emit(buf, "%d\n", hv_cm_leap_pending(&st.model, now));
}
static DEVICE_ATTR_RO(leap_pending);

static ssize_t error_bound_ns_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	struct hv_ptp_status st;
	u64 now = status_now(dev, &st);

	if (!st.model.valid)
		return sysfs_emit(buf, "-1\n");
	return sysfs_emit(buf, "%llu\n", hv_cm_error_bound(&st.model, now));
}
static DEVICE_ATTR_RO(error_bound_ns);

/*
 * What a program following the PHC reads each poll, from one consistent
 * copy of the status and one reference-time read, so that no two fields
 * come from different samples: "key=value" pairs on one line, separated
 * by spaces, each as its own attribute has it. Keys may be added; none
 * is removed or changes its meaning.
 */
static ssize_t record_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	struct hv_ptp *hp = dev_hp(dev);
	struct hv_ptp_status st;
	u64 now = status_now(dev, &st);
	s64 bound = st.model.valid ?
		    (s64)min_t(u64, hv_cm_error_bound(&st.model, now), S64_MAX) : -1;

	return sysfs_emit(buf,
			  "error_bound_ns=%lld stratum=%u leapflags=%u leap_pending=%d freq_ppb=%lld disruptions=%llu state=%s vmclock=%s host_utc_error_ns=%llu\n",
			  bound, st.stratum, st.leapflags,
			  hv_cm_leap_pending(&st.model, now),
			  hv_cm_rate64_to_ppb(st.model.rate64),
			  (unsigned long long)st.disruptions,
			  hv_cm_state_names[hv_cm_state(&st.model, now)],
			  vmclock_name(hp),
			  (unsigned long long)hv_ptp_host_utc_error_ns);
}
static DEVICE_ATTR_RO(record);

static ssize_t freq_ppb_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	struct hv_ptp_status st;

	status_now(dev, &st);
	return sysfs_emit(buf, "%lld\n", hv_cm_rate64_to_ppb(st.model.rate64));
}
static DEVICE_ATTR_RO(freq_ppb);

/* Host time (the PHC) minus CLOCK_REALTIME now, ns. */
static ssize_t offset_ns_show(struct device *dev, struct device_attribute *attr,
			      char *buf)
{
	struct hv_ptp_status st;
	u64 now = status_now(dev, &st);
	s64 real = ktime_get_real_ns();

	if (!st.model.valid)
		return -ENODATA;
	return sysfs_emit(buf, "%lld\n", hv_cm_eval(&st.model, now) - real);
}
static DEVICE_ATTR_RO(offset_ns);

static ssize_t last_sample_age_ms_show(struct device *dev,
				       struct device_attribute *attr, char *buf)
{
	struct hv_ptp_status st;
	u64 now = status_now(dev, &st);

	if (!st.model.valid)
		return sysfs_emit(buf, "-1\n");
	return sysfs_emit(buf, "%lld\n",
			  (s64)(now - st.model.last_sample_ref_ns) / NSEC_PER_MSEC);
}
static DEVICE_ATTR_RO(last_sample_age_ms);

static ssize_t refclock_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "%s\n", hv_ref_source());
}
static DEVICE_ATTR_RO(refclock);

static ssize_t refclock_fit_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	return hv_ref_fit_show(buf);
}
static DEVICE_ATTR_RO(refclock_fit);

static ssize_t vmclock_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%s\n", vmclock_name(dev_hp(dev)));
}
static DEVICE_ATTR_RO(vmclock);

static struct attribute *hv_ptp_attrs[] = {
	&dev_attr_state.attr,
	&dev_attr_record.attr,
	&dev_attr_fw_version.attr,
	&dev_attr_ts_version.attr,
	&dev_attr_phc_index.attr,
	&dev_attr_refclock.attr,
	&dev_attr_refclock_fit.attr,
	&dev_attr_vmclock.attr,
	&dev_attr_offset_ns.attr,
	&dev_attr_freq_ppb.attr,
	&dev_attr_error_bound_ns.attr,
	&dev_attr_noise_ns.attr,
	&dev_attr_last_offset_ns.attr,
	&dev_attr_last_sample_age_ms.attr,
	&dev_attr_leapflags.attr,
	&dev_attr_leap_pending.attr,
	&dev_attr_leaps.attr,
	&dev_attr_stratum.attr,
	&dev_attr_received.attr,
	&dev_attr_samples_accepted.attr,
	&dev_attr_samples_outliers.attr,
	&dev_attr_steps.attr,
	&dev_attr_syncs.attr,
	&dev_attr_disruptions.attr,
	&dev_attr_last_disruption.attr,
	&dev_attr_negotiations.attr,
	&dev_attr_recv_errors.attr,
	&dev_attr_rejected_short.attr,
	&dev_attr_rejected_short_payload.attr,
	&dev_attr_rejected_oversize.attr,
	&dev_attr_rejected_bad_type.attr,
	&dev_attr_rejected_bad_size.attr,
	&dev_attr_rejected_bad_negotiation.attr,
	&dev_attr_rejected_not_negotiated.attr,
	&dev_attr_rejected_bad_time.attr,
	NULL,
};

static const struct attribute_group hv_ptp_group = {
	.name = "timesync",
	.attrs = hv_ptp_attrs,
};

const struct attribute_group *hv_ptp_groups[] = {
	&hv_ptp_group,
	NULL,
};
