/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reference time against a free-running counter, fitted from bracketed
 * reads (arm64: the partition reference counter, which only a hypercall
 * reads, against the architectural counter CNTVCT).
 *
 * Each point is one read of the reference counter (100 ns ticks)
 * bracketed by two counter reads. The read happened somewhere inside the
 * bracket, and the counter truncates to its tick, so a point says: at
 * some counter time within the bracket, reference time was within that
 * 100 ns tick. Where inside the bracket the hypervisor read the counter
 * (the hypercall's entry against its exit) cannot be known from the
 * guest: the point's middle is taken, and half the bracket is in the
 * bound.
 *
 * The fit: the rate of reference time against the counter by least
 * squares over the window, the offset as the middle of the intersection
 * of every point's interval (so its bound is what all points together
 * allow, not a statistical guess), each interval widened by the rate's
 * own uncertainty over the point's age. A point outside what the fit
 * allows (a migration, a restore) restarts the fit: a new generation.
 *
 * Pure integer code; builds on the host too (hv_types.h). The caller
 * serialises hv_rf_add() and publishes the struct hv_rf_fit to readers.
 *
 * Units: counter time in ns ("x": counter ticks times the nominal period,
 * 2^-32 ns), reference time in ns, the offset d = reference - x, rates in
 * parts per 10^12 (ppt).
 */
#ifndef HV_PTP_EXT_REF_FIT_H
#define HV_PTP_EXT_REF_FIT_H

#include "hv_types.h"

#define HV_RF_POINTS		32
/* points, and the span between the oldest and the newest, for a fit */
#define HV_RF_MIN_POINTS	4
#define HV_RF_MIN_SPAN_NS	2000000000ULL
/* rates are in parts per 10^12 */
#define HV_RF_PPT		1000000000000ULL
/* A bracket wider than this (a preempted or stalled call) is dropped. */
#define HV_RF_MAX_BRACKET_NS	1000000ULL
/* A counter at or below this cannot be mapped (vmclock's period form). */
#define HV_RF_MIN_HZ		10000000ULL

struct hv_rf_point {
	u64 x;			/* counter time at the bracket's middle, ns */
	s64 d;			/* reference time - x there, ns */
	u64 h;			/* half-width of the point's interval, ns */
};

/* What readers evaluate: reference time at a counter value. */
struct hv_rf_fit {
	bool valid;
	u32 gen;		/* changes when the fit restarts */
	u64 mult;		/* nominal ns per counter tick, 2^-32 */
	u64 half_tick_ns;	/* half a counter tick, rounded up */
	u64 x0;			/* counter time of the newest point, ns */
	s64 d0;			/* reference - x at x0, ns */
	s64 rate_ppt;		/* d advances rate_ppt / 10^12 ns per ns of x */
	u64 err0_ns;		/* bound on the offset at x0 */
	u64 err_rate_ppt;	/* how fast the bound grows away from x0 */
};

enum hv_rf_result {
	HV_RF_ADDED,		/* in the window; the fit may not be valid yet */
	HV_RF_RESTARTED,	/* outside what the fit allowed: a new fit */
	HV_RF_DROPPED,		/* not used: the bracket too wide, or no time */
};

struct hv_rf {
	struct hv_rf_point pt[HV_RF_POINTS];
	unsigned int n, head;	/* points held; the next slot */
	u64 restarts;
	u64 last_jump_ns;	/* how far the last restart's point was off */
	u64 last_h_ns;		/* the last point's half-width */
	struct hv_rf_fit fit;
};

bool hv_rf_init(struct hv_rf *rf, u64 hz);
u64 hv_rf_cnt_ns(const struct hv_rf_fit *f, u64 cnt);
enum hv_rf_result hv_rf_add(struct hv_rf *rf, u64 c0, u64 c1, u64 ref_ticks);
u64 hv_rf_eval(const struct hv_rf_fit *f, u64 cnt);
u64 hv_rf_error_ns(const struct hv_rf_fit *f, u64 cnt);
u64 hv_rf_error_at_ns(const struct hv_rf_fit *f, u64 dist_ns);
const struct hv_rf_point *hv_rf_point(const struct hv_rf *rf, unsigned int i);
s64 hv_rf_residual(const struct hv_rf_fit *f, const struct hv_rf_point *p);
u64 hv_rf_scale64(const struct hv_rf_fit *f);

#endif /* HV_PTP_EXT_REF_FIT_H */
