/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hv_ptp_ext: a high-precision PTP clock from the Hyper-V TimeSync channel.
 *
 * The data path: VMBus packet (vmbus.c) -> sample (timesync.c) -> model
 * (clock_model.c) -> PHC read (phc.c) against reference time (refclock.c).
 * Status in sysfs (sysfs.c); module parameters and the takeover of the
 * TimeSync device from hv_utils in main.c.
 */
#ifndef HV_PTP_EXT_H
#define HV_PTP_EXT_H

#include <linux/hyperv.h>
#include <linux/miscdevice.h>
#include <linux/ptp_clock_kernel.h>
#include <linux/seqlock.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "clock_model.h"
#include "timesync.h"

#define HV_PTP_BUF_SIZE		HV_HYP_PAGE_SIZE

/*
 * How reference time is read from the CPU's counter, as one read found it
 * (refclock_*.c): x86, the TSC page; arm64, the fit of the reference
 * counter against CNTVCT. @scale: 100 ns reference ticks per counter tick,
 * 2^-64 (the VMClock page's period). "tsc" below names the counter: the
 * TSC on x86, CNTVCT on arm64.
 */
#ifdef CONFIG_ARM64
#include "ref_fit.h"

struct hv_ref_page {
	bool valid;			/* the fit is valid */
	u64 scale;
	struct hv_rf_fit fit;
	u64 jump_ns;			/* the restart's deviation (fit.gen) */
};
#else
struct hv_ref_page {
	bool valid;			/* tsc_sequence not 0 */
	u64 scale, offset;
};
#endif

/*
 * What readers see of the estimator, published as one under model_lock:
 * the model the PHC evaluates, and the counters and sample attributes
 * sysfs shows beside it, all from the same sample.
 */
struct hv_ptp_status {
	struct hv_cm_model model;
	u64 accepted, outliers, steps, leaps, syncs;
	u64 noise_ns;
	u64 sigma_ns;			/* the fit's standard error at the last sample */
	s64 last_offset_ns;
	u8 leapflags, stratum;
	u64 disruptions;		/* module-wide, see vmbus.c */
	u8 last_disruption;		/* enum hv_ptp_disruption */
	/* the TSC page the model's reference time is on */
	struct hv_ref_page page;
};

/*
 * Events after which earlier readings of the PHC cannot be trusted to
 * continue into later ones (the disruptions attribute counts them).
 */
enum hv_ptp_disruption {
	HV_PTP_DISRUPT_NONE,
	HV_PTP_DISRUPT_SYNC,		/* the host asked for a step (SYNC) */
	HV_PTP_DISRUPT_STEP,		/* the model stepped (host step, reset) */
	HV_PTP_DISRUPT_GAP,		/* no sample for stale_ms, then one */
	HV_PTP_DISRUPT_TSC_PAGE,	/* TSC page scale, offset or validity */
	HV_PTP_DISRUPT_VERSION,		/* TimeSync version renegotiated */
	HV_PTP_DISRUPT_OPEN,		/* the channel opened again */
	HV_PTP_DISRUPT_RESUME,		/* resumed from hibernation */
	HV_PTP_DISRUPT_COUNT
};

extern const char *const hv_ptp_disruption_names[HV_PTP_DISRUPT_COUNT];

struct hv_vmclock_abi;

/* One TimeSync device. */
struct hv_ptp {
	struct hv_device *hdev;
	u8 *buf;			/* receive buffer, HV_PTP_BUF_SIZE */
	struct ptp_clock *ptp;
	struct ptp_clock_info info;

	/* the estimator: channel callback only, under lock */
	spinlock_t lock;
	struct hv_cm cm;

	/* what PHC reads and sysfs evaluate, published under model_lock */
	seqlock_t model_lock;
	struct hv_ptp_status pub;

	/*
	 * Channel counters, each on its own; written under lock, read
	 * without (sysfs).
	 */
	u32 fw_version, ts_version;	/* negotiated, major << 16 | minor */
	u8 last_flags;
	u64 received;			/* buffers from the host */
	u64 rejected[HV_TS_REJECT_COUNT];
	u64 negotiations, syncs, recv_errors;

	/*
	 * The TSC page the model's reference time is on, as of the last
	 * sample or the last read that found it changed; under lock, and
	 * published in pub.page.
	 */
	struct hv_ref_page page;
	u8 pub_why;			/* the last disruption, to publish */
	u64 last_ref_ns;		/* reference time of the last sample */
	bool resumed;			/* no sample since the resume */
	/* wakes poll() on the disruptions attribute, from process context */
	struct work_struct notify_work;

	/* the VMClock page (vmclock.c), written under lock; NULL: none */
	struct hv_vmclock_abi *vmclock;
	struct miscdevice vmclock_misc;
};

/* main.c: parameters of the model, read at probe */
extern struct hv_cm_params hv_ptp_cm_params;
/* the host's declared error against UTC, ns: in the VMClock page's bound */
extern u64 hv_ptp_host_utc_error_ns;
extern char *hv_ptp_clock_name;

/* refclock_x86.c, refclock_arm64.c */
int hv_ref_init(unsigned int rating);
void hv_ref_exit(void);
void hv_ref_get(void);
void hv_ref_put(void);
const char *hv_ref_source(void);
u64 hv_ref_now_ns(u64 *tsc, struct hv_ref_page *pg);
bool hv_ref_tsc_to_ns(u64 tsc, u64 *ref_ns, struct hv_ref_page *pg);
bool hv_ref_page_read(struct hv_ref_page *pg);
bool hv_ref_page_same(const struct hv_ref_page *a, const struct hv_ref_page *b);
bool hv_ref_page_disrupts(const struct hv_ref_page *a,
			  const struct hv_ref_page *b);
u64 hv_ref_page_jump_ns(const struct hv_ref_page *a,
			const struct hv_ref_page *b, u64 tsc);
u64 hv_ref_page_error_ns(const struct hv_ref_page *pg);
u64 hv_ref_page_rate64(const struct hv_ref_page *pg);
bool hv_ref_clocksource_active(void);
ssize_t hv_ref_fit_show(char *buf);

/* phc.c */
int hv_ptp_phc_register(struct hv_ptp *hp);
void hv_ptp_phc_unregister(struct hv_ptp *hp);
void hv_ptp_status_snapshot(struct hv_ptp *hp, struct hv_ptp_status *st);
u64 hv_ptp_read_now(struct hv_ptp *hp, struct hv_ptp_status *st);

/* vmbus.c */
void hv_ptp_page_check(struct hv_ptp *hp, const struct hv_ref_page *seen,
		       const struct hv_ref_page *pg, u64 tsc);
extern struct hv_driver hv_ptp_driver;

/* vmclock.c */
extern char *hv_ptp_vmclock_name;
int hv_ptp_vmclock_register(struct hv_ptp *hp);
void hv_ptp_vmclock_unregister(struct hv_ptp *hp);
void hv_ptp_vmclock_update(struct hv_ptp *hp, bool gone);

/* sysfs.c */
extern const struct attribute_group *hv_ptp_groups[];

#endif /* HV_PTP_EXT_H */
