/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host-clock model: host UTC as a function of reference time, fitted to
 * the TimeSync samples.
 *
 * Pure integer code: no allocation, no locking, no kernel-only headers;
 * builds on the host too (hv_types.h). The caller serialises hv_cm_add()
 * and publishes the resulting struct hv_cm_model to readers.
 *
 * Units: reference time and host time in ns (host time since the Unix
 * epoch), rates as fractions scaled by 2^64 ("rate64": the host advances
 * d + (d * rate64 >> 64) ns while the reference advances d ns), reported
 * frequencies in ppb. Positive frequency: host UTC runs fast against the
 * reference counter.
 */
#ifndef HV_PTP_EXT_CLOCK_MODEL_H
#define HV_PTP_EXT_CLOCK_MODEL_H

#include "hv_types.h"

#define HV_CM_MAX_WINDOW	64

enum hv_cm_state {
	HV_CM_UNSYNC,		/* no model, or offset only */
	HV_CM_SYNC,		/* fitted, recent samples */
	HV_CM_HOLDOVER,		/* fitted, but samples stopped */
};

extern const char *const hv_cm_state_names[3];

/* Leap indicator of the samples (TimeSync 4.0), NTP's LI values. */
enum hv_cm_leap {
	HV_CM_LEAP_NONE,
	HV_CM_LEAP_INSERT,	/* 23:59:60 ends this UTC day */
	HV_CM_LEAP_DELETE,	/* 23:59:59 is skipped */
	HV_CM_LEAP_ALARM,	/* the host is unsynchronised */
};

enum hv_cm_result {
	HV_CM_ACCEPTED,
	HV_CM_OUTLIER,		/* not used for the fit */
	HV_CM_STEPPED,		/* the model jumped to a new phase */
};

struct hv_cm_params {
	u32 window;		/* samples in the fit (2..HV_CM_MAX_WINDOW) */
	s64 step_threshold_ns;	/* larger deviations are stepped, not slewed */
	s64 outlier_min_ns;	/* floor of the outlier threshold */
	u32 outlier_sigmas;	/* outlier threshold in noise sigmas */
	u32 wander_ppb;		/* rate wander allowed for between samples */
	u32 holdover_ppb;	/* ... once a sample is overdue */
	u64 stale_ns;		/* no sample for this long: holdover */
	u64 slew_ns;		/* a phase correction is spread over this long */
	u64 latency_ns;		/* allowed for samples timed by their arrival */
};

/* What readers evaluate: a line from an anchor, plus a phase slew. */
struct hv_cm_model {
	u64 ref0_ns;		/* anchor, reference time */
	s64 host0_ns;		/* host time at the anchor */
	s64 rate64;		/* host rate error, 2^-64 */
	s64 slew_rate64;	/* extra rate while slewing, 2^-64 */
	u64 slew_end_ns;	/* slewing stops this long after the anchor */
	s64 slew_ns;		/* total phase correction of the slew */
	u64 err0_ns;		/* error bound at the anchor */
	u64 err_rate64;		/* its growth, 2^-64, while samples come */
	u64 hold_after_ns;	/* this long after the last, a sample is due */
	u64 hold_rate64;	/* the growth from then on, 2^-64 */
	u64 last_sample_ref_ns;	/* reference time of the last accepted sample */
	u64 stale_ns;		/* copied from the parameters */
	s64 leap_at_ns;		/* host time from which leap_ns applies */
	s64 leap_ns;		/* announced leap second: -10^9, +10^9, 0 */
	u64 doubt_ns;		/* largest deviation of samples held back */
	u64 latency_ns;		/* p.latency_ns while arrival-timed samples count */
	bool valid;
	bool fitted;		/* rate estimated from >= 2 samples */
};

struct hv_cm_point {
	u64 ref_ns;
	s64 host_ns;
};

struct hv_cm {
	struct hv_cm_params p;
	struct hv_cm_point win[HV_CM_MAX_WINDOW];
	u32 n, head;		/* samples in the window; oldest at head */
	struct hv_cm_point pending[3];	/* consecutive outliers */
	s64 leap_at_ns, leap_ns;	/* the armed leap, as in pub */
	u32 n_pending;
	bool pending_step;	/* ... beyond the step threshold */
	bool arrival_timed;	/* samples to come are timed by their arrival */
	u32 arrivals;		/* samples until none of those can be in use */

	/* the fit: host(ref) = fit_host + (ref - fit_ref) * (1 + freq) */
	u64 fit_ref_ns;
	s64 fit_host_ns;
	s64 freq_ppt;		/* parts per 10^12 */
	u64 noise_ns;		/* robust sigma of the residuals */
	u64 sigma_freq_ppt;	/* standard error of freq_ppt */
	u64 sigma_now_ns;	/* standard error of the fit at the last sample */
	u64 misfit_ns;		/* the line's bias at the last sample, bounded */
	u64 misfit_ppt;		/* ... and of its rate */
	s64 excess_ns2;		/* mean square of prediction errors unexplained */
	u32 excess_n;		/* samples in that mean (at most 64) */
	bool have_freq;
	bool unvetted;		/* points taken in before the noise was known ... */
	u64 unvetted_ref_ns;	/* ... up to this reference time are in the window */

	struct hv_cm_model pub;

	u64 accepted, outliers, steps, leaps;
	s64 last_offset_ns;	/* last sample minus the model before it */
};

void hv_cm_init(struct hv_cm *cm, const struct hv_cm_params *p);

/**
 * hv_cm_set_arrival_timed() - how the samples to come are timed
 * @cm: the estimator
 * @arrival: by their arrival (TimeSync before 4.0: the sample carries no
 *	reference time), not by the host
 *
 * Such a sample is late by its delivery latency, and so is a model made
 * of it; no sample reveals that latency. The error bound includes the
 * latency_ns parameter for as long as one of them may be in the window or
 * among the samples held back.
 */
void hv_cm_set_arrival_timed(struct hv_cm *cm, bool arrival);

/**
 * hv_cm_add() - take one sample
 * @cm: the estimator
 * @ref_ns: reference time of the sample
 * @host_ns: host time of the sample
 * @sync: the host asked the guest to step (SYNC flag)
 * @now_ns: reference time now; the new model is anchored there
 *
 * Return: what became of the sample. cm->pub holds the new model.
 */
enum hv_cm_result hv_cm_add(struct hv_cm *cm, u64 ref_ns, s64 host_ns,
			    bool sync, u64 now_ns);

/**
 * hv_cm_leap() - take the leap indicator of a sample, after hv_cm_add()
 * @cm: the estimator
 * @leap: the sample's indicator (enum hv_cm_leap)
 * @host_ns: the sample's host time
 *
 * A leap announced for a midnight UTC that ends June or December (the
 * only ones leap seconds are scheduled for) is armed: from that midnight
 * on, the published model reads one second less (insert) or more (delete)
 * without waiting for a sample, and the first sample after it moves the
 * window to the new scale. Any other indicator, or an announcement for
 * another day, disarms it. cm->pub is updated.
 */
void hv_cm_leap(struct hv_cm *cm, unsigned int leap, s64 host_ns);

/* The leap armed in @m if its instant is still ahead at @ref_ns. */
enum hv_cm_leap hv_cm_leap_pending(const struct hv_cm_model *m, u64 ref_ns);

/* Host time at reference time @ref_ns, ns. */
s64 hv_cm_eval(const struct hv_cm_model *m, u64 ref_ns);

/*
 * Error bound of hv_cm_eval() at @ref_ns, ns. While samples that disagree
 * with the model are held back (outliers that may yet prove a phase change
 * or a step of the host), the bound includes their deviation.
 */
u64 hv_cm_error_bound(const struct hv_cm_model *m, u64 ref_ns);

enum hv_cm_state hv_cm_state(const struct hv_cm_model *m, u64 now_ns);

/* rate64 (2^-64) to ppb and back */
s64 hv_cm_rate64_to_ppb(s64 rate64);
s64 hv_cm_ppt_to_rate64(s64 ppt);

#endif /* HV_PTP_EXT_CLOCK_MODEL_H */
