// SPDX-License-Identifier: GPL-2.0
/*
 * The PHC: host time from the model at the current reference time.
 * Read-only: the host's clock cannot be steered from the guest.
 */
#include <linux/ptp_clock_kernel.h>
#include <linux/timekeeping.h>

#include "hv_ptp_ext.h"

void hv_ptp_status_snapshot(struct hv_ptp *hp, struct hv_ptp_status *st)
{
	unsigned int seq;

	do {
		seq = read_seqbegin(&hp->model_lock);
		*st = hp->pub;
	} while (read_seqretry(&hp->model_lock, seq));
}

/**
 * hv_ptp_read_now() - the published status and reference time now
 * @hp: the device
 * @st: the status, one consistent copy
 *
 * If the read finds the TSC page changed since the status was published,
 * that is taken in first (hv_ptp_page_check()) and @st is the status
 * after it. Returns reference time now, ns.
 */
u64 hv_ptp_read_now(struct hv_ptp *hp, struct hv_ptp_status *st)
{
	struct hv_ref_page pg;
	u64 now, tsc;

	hv_ptp_status_snapshot(hp, st);
	now = hv_ref_now_ns(&tsc, &pg);
	if (!hv_ref_page_same(&st->page, &pg)) {
		hv_ptp_page_check(hp, &st->page, &pg, tsc);
		hv_ptp_status_snapshot(hp, st);
	}
	return now;
}

static struct hv_ptp *to_hv_ptp(struct ptp_clock_info *info)
{
	return container_of(info, struct hv_ptp, info);
}

/* The model and the page it is on, as one consistent copy. */
static void model_page_snapshot(struct hv_ptp *hp, struct hv_cm_model *m,
				struct hv_ref_page *pg)
{
	unsigned int seq;

	do {
		seq = read_seqbegin(&hp->model_lock);
		*m = hp->pub.model;
		*pg = hp->pub.page;
	} while (read_seqretry(&hp->model_lock, seq));
}

/*
 * One reference read, bracketed as tightly as possible: the model is
 * copied first, so only the TSC-page read sits between the system stamps.
 * A changed TSC page is taken in after the stamps (hv_ptp_page_check()).
 */
static int hv_ptp_gettimex64(struct ptp_clock_info *info,
			     struct timespec64 *ts,
			     struct ptp_system_timestamp *sts)
{
	struct hv_ptp *hp = to_hv_ptp(info);
	struct hv_ref_page seen, pg;
	struct hv_cm_model m;
	u64 ref, tsc;

	model_page_snapshot(hp, &m, &seen);
	if (!m.valid)
		return -EAGAIN;	/* no sample from the host yet */
	ptp_read_system_prets(sts);
	ref = hv_ref_now_ns(&tsc, &pg);
	ptp_read_system_postts(sts);
	hv_ptp_page_check(hp, &seen, &pg, tsc);
	*ts = ns_to_timespec64(hv_cm_eval(&m, ref));
	return 0;
}

static int hv_ptp_gettime64(struct ptp_clock_info *info, struct timespec64 *ts)
{
	return hv_ptp_gettimex64(info, ts, NULL);
}

/*
 * An exact cross-timestamp: one system snapshot gives CLOCK_REALTIME and
 * CLOCK_MONOTONIC_RAW at a counter value, and the device time is the model
 * at that same counter value. That needs the counter to be mappable to
 * reference time: the TSC (through the TSC page), a clocksource derived
 * from it that says so (compat_snapshot_tsc()), or our own clocksource,
 * whose counter is reference time in ns.
 *
 * Which counter a snapshot used is the kernel's word where it gives it
 * (compat.h). Only our clocksource on a kernel without read_snapshot()
 * has no id of its own (CSID_GENERIC): there a counter value between two
 * reads of ours was read from ours. On any other clocksource, or for a
 * system clock other than CLOCK_REALTIME, -EOPNOTSUPP: readers fall back
 * to PTP_SYS_OFFSET_EXTENDED.
 *
 * Not get_device_system_crosststamp(): that helper is for a device that
 * latched its time at a counter value in the past (it interpolates the
 * timekeeper's history back to it). Ours is evaluated at the snapshot's
 * own counter value, so the snapshot alone is exact; and naming the TSC
 * to the helper takes a struct clocksource pointer on 6.1 (the TSC's is
 * not exported) and a cs_id only from 6.9, so it would bring x86-only
 * pieces into compat.h for no gain.
 */
static int hv_ptp_getcrosststamp(struct ptp_clock_info *info,
				 struct system_device_crosststamp *cts)
{
	struct hv_ptp *hp = to_hv_ptp(info);
	u64 pre = U64_MAX, post = 0, ref, tsc, unused;
	struct system_time_snapshot snap;
	struct hv_ref_page seen, pg;
	struct hv_cm_model m;
	bool ours, on_tsc, ok;

	if (!compat_cts_wants_realtime(cts))
		return -EOPNOTSUPP;
	model_page_snapshot(hp, &m, &seen);
	if (!m.valid)
		return -EAGAIN;

	ours = hv_ref_clocksource_active();
	if (ours)
		pre = hv_ref_now_ns(&unused, NULL);
	on_tsc = compat_snapshot_tsc(&snap, &tsc);
	if (ours)
		post = hv_ref_now_ns(&unused, NULL);
	if (on_tsc) {
		ok = hv_ref_tsc_to_ns(tsc, &ref, &pg);
		hv_ptp_page_check(hp, &seen, &pg, tsc);
		if (!ok)
			return -EOPNOTSUPP;	/* TSC page invalid */
	} else if (pre <= snap.cycles && snap.cycles <= post) {
		ref = snap.cycles;
	} else {
		return -EOPNOTSUPP;
	}
	cts->device = ns_to_ktime(hv_cm_eval(&m, ref));
	compat_cts_set_sys(cts, &snap);
	return 0;
}

static int hv_ptp_adjfine(struct ptp_clock_info *info, long scaled_ppm)
{
	return -EOPNOTSUPP;
}

static int hv_ptp_adjtime(struct ptp_clock_info *info, s64 delta)
{
	return -EOPNOTSUPP;
}

static int hv_ptp_settime64(struct ptp_clock_info *info,
			    const struct timespec64 *ts)
{
	return -EOPNOTSUPP;
}

static const struct ptp_clock_info hv_ptp_info = {
	.owner = THIS_MODULE,
	.max_adj = 0,
	.adjfine = hv_ptp_adjfine,
	.adjtime = hv_ptp_adjtime,
	.settime64 = hv_ptp_settime64,
	.gettime64 = hv_ptp_gettime64,
	.gettimex64 = hv_ptp_gettimex64,
	.getcrosststamp = hv_ptp_getcrosststamp,
};

int hv_ptp_phc_register(struct hv_ptp *hp)
{
	hp->info = hv_ptp_info;
	strscpy(hp->info.name, hv_ptp_clock_name, sizeof(hp->info.name));
	hp->ptp = ptp_clock_register(&hp->info, &hp->hdev->device);
	if (IS_ERR(hp->ptp))
		return PTR_ERR(hp->ptp);
	if (!hp->ptp)
		return -ENODEV;	/* CONFIG_PTP_1588_CLOCK is off */
	return 0;
}

void hv_ptp_phc_unregister(struct hv_ptp *hp)
{
	ptp_clock_unregister(hp->ptp);
}
