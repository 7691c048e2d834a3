// SPDX-License-Identifier: GPL-2.0
/*
 * Reference time against a free-running counter, from bracketed reads:
 * see ref_fit.h.
 */
#include "ref_fit.h"

#define NS_PER_SEC		1000000000ULL
#define PPT			HV_RF_PPT
/*
 * Points older than this are dropped: it keeps the least-squares sums
 * within 63 bits (see fit_rate()), and a rate measured over a minute is
 * already far below the points' own width.
 */
#define MAX_SPAN_NS		(64 * NS_PER_SEC)
/* largest |d| of a point (about 73 years) */
#define MAX_D_NS		((s64)BIT_ULL(61))
/* largest change of d in the window (50 ms: 780 ppm over 64 s) */
#define MAX_DD_NS		50000000LL

static u64 abs_s64(s64 v)
{
	return v < 0 ? -(u64)v : (u64)v;
}

/* Results are held below this, so that sums of a few never overflow. */
#define SAT			(S64_MAX / 4)

/* @a * @b / @c, saturated at SAT (no 128-bit quotient may overflow). */
static u64 muldiv_sat(u64 a, u64 b, u64 c)
{
	u64 r;

	if (b && a / c + 1 >= U64_MAX / b)
		return SAT;
	r = mul_u64_u64_div_u64(a, b, c);
	return r > SAT ? SAT : r;
}

/* @v * @ppt / 10^12, for @v >= 0; signed as @ppt; saturated. */
static s64 scale_ppt(u64 v, s64 ppt)
{
	u64 r = muldiv_sat(v, abs_s64(ppt), PPT);

	return ppt < 0 ? -(s64)r : (s64)r;
}

/* @num / @den in parts of @unit, @den > 0; saturated. */
static s64 ratio(s64 num, u64 unit, u64 den)
{
	u64 r;

	/* |num| * unit / den, with the smaller of the two multiplied */
	r = muldiv_sat(unit, abs_s64(num), den);
	return num < 0 ? -(s64)r : (s64)r;
}

/**
 * hv_rf_init() - an empty fit for a counter of @hz
 * @rf: the fit
 * @hz: the counter's nominal frequency (arm64: CNTFRQ_EL0)
 *
 * Returns false for a counter slower than HV_RF_MIN_HZ.
 */
bool hv_rf_init(struct hv_rf *rf, u64 hz)
{
	memset(rf, 0, sizeof(*rf));
	if (hz <= HV_RF_MIN_HZ)
		return false;	/* a tick of 100 ns or more: beyond the scale */
	rf->fit.mult = (NS_PER_SEC << 32) / hz;
	/* half the counter's tick, rounded up */
	rf->fit.half_tick_ns = (((rf->fit.mult + 0xffffffffULL) >> 32) + 1) / 2;
	return true;
}

/*
 * Counter value @cnt as counter time, ns: the middle of its tick (the
 * counter read @cnt at some time within the tick, up to half_tick_ns
 * either side of this).
 */
u64 hv_rf_cnt_ns(const struct hv_rf_fit *f, u64 cnt)
{
	return mul_u64_u64_shr(cnt, f->mult, 32) + f->half_tick_ns;
}

/* The window's point @i, 0 the oldest, rf->n - 1 the newest. */
const struct hv_rf_point *hv_rf_point(const struct hv_rf *rf, unsigned int i)
{
	return &rf->pt[(rf->head + HV_RF_POINTS - rf->n + i) % HV_RF_POINTS];
}

static const struct hv_rf_point *newest(const struct hv_rf *rf)
{
	return hv_rf_point(rf, rf->n - 1);
}

/*
 * The rate of d against x by least squares, ppt. With x in us relative to
 * the newest point, at most HV_RF_POINTS points over MAX_SPAN_NS (|dx| <=
 * 6.4e7 us) and every d within MAX_DD_NS of every other (|dd| <= 5e7 ns), every
 * sum and product stays below 2^63: n * sum(dx^2) and sum(dx)^2 <= 4.2e18,
 * n * sum(dx * dd) and sum(dx) * sum(dd) <= 3.3e18.
 */
static s64 fit_rate(const struct hv_rf *rf)
{
	const struct hv_rf_point *nw = newest(rf);
	s64 sx = 0, sd = 0, sxx = 0, sxd = 0, num, den;
	unsigned int i;

	for (i = 0; i < rf->n; i++) {
		const struct hv_rf_point *p = hv_rf_point(rf, i);
		s64 dx = -(s64)((nw->x - p->x) / 1000);
		s64 dd = p->d - nw->d;

		sx += dx;
		sd += dd;
		sxx += dx * dx;
		sxd += dx * dd;
	}
	den = (s64)rf->n * sxx - sx * sx;
	num = (s64)rf->n * sxd - sx * sd;
	if (den <= 0)
		return 0;
	/* ns per us = num / den; ppt = that * 10^9 */
	return ratio(num, PPT / 1000, (u64)den);
}

/*
 * Fit the window; false when its points do not all agree with one line
 * (their intervals, carried to the newest point, do not meet).
 */
static bool refit(struct hv_rf *rf)
{
	const struct hv_rf_point *nw = newest(rf), *old = hv_rf_point(rf, 0);
	u64 span = nw->x - old->x, unc;
	s64 rate, rate_end, lo = S64_MIN, hi = S64_MAX;
	unsigned int i;

	if (rf->n < HV_RF_MIN_POINTS || span < HV_RF_MIN_SPAN_NS) {
		rf->fit.valid = false;
		return true;
	}
	rate = fit_rate(rf);
	/*
	 * How far the true rate may be from it: the line through the two
	 * end points is within the ends' widths over the span of the true
	 * rate; the least-squares rate within its distance from that line.
	 */
	rate_end = ratio(nw->d - old->d, PPT, span);
	unc = abs_s64(rate - rate_end) + muldiv_sat(old->h + nw->h, PPT, span) + 1;
	if (unc > SAT)
		unc = SAT;

	for (i = 0; i < rf->n; i++) {
		const struct hv_rf_point *p = hv_rf_point(rf, i);
		u64 age = nw->x - p->x;
		s64 c = p->d + scale_ppt(age, rate);
		s64 w = (s64)(p->h + muldiv_sat(age, unc, PPT));

		if (c - w > lo)
			lo = c - w;
		if (c + w < hi)
			hi = c + w;
	}
	if (lo > hi)
		return false;
	rf->fit.valid = true;
	rf->fit.x0 = nw->x;
	rf->fit.d0 = lo + (hi - lo) / 2;
	rf->fit.rate_ppt = rate;
	rf->fit.err0_ns = (u64)(hi - lo) / 2 + 1;
	rf->fit.err_rate_ppt = unc;
	return true;
}

static void restart(struct hv_rf *rf, const struct hv_rf_point *p, u64 jump)
{
	rf->last_jump_ns = jump;
	rf->n = 0;
	rf->head = 0;
	rf->restarts++;
	rf->fit.valid = false;
	rf->fit.gen++;
	rf->pt[0] = *p;
	rf->n = 1;
	rf->head = 1;
}

/**
 * hv_rf_add() - one bracketed read of the reference counter
 * @rf: the fit
 * @c0: the counter before the read
 * @c1: the counter after it
 * @ref_ticks: the reference counter read, 100 ns ticks
 *
 * Returns HV_RF_RESTARTED when the point is outside what the fit allowed
 * (or the counter went backwards): the fit starts again from this point,
 * with a new generation; HV_RF_DROPPED for a bracket longer than
 * HV_RF_MAX_BRACKET_NS or a point that is no reference time.
 */
enum hv_rf_result hv_rf_add(struct hv_rf *rf, u64 c0, u64 c1, u64 ref_ticks)
{
	struct hv_rf_fit *f = &rf->fit;
	struct hv_rf_point p;
	unsigned int i;
	u64 x0 = hv_rf_cnt_ns(f, c0), x1 = hv_rf_cnt_ns(f, c1), w;

	if (x1 < x0)
		x1 = x0;
	w = x1 - x0;
	/* a call that long (preempted, stalled) says nothing useful */
	if (w > HV_RF_MAX_BRACKET_NS)
		return HV_RF_DROPPED;
	p.x = x0 + w / 2;
	/*
	 * half the bracket, rounded up, half the counter's tick at either
	 * end, and half the reference counter's 100 ns tick
	 */
	p.h = w - w / 2 + f->half_tick_ns + 50;
	p.d = (s64)(ref_ticks * 100 + 50 - p.x);
	/* reference time and the counter centuries apart: no point */
	if (abs_s64(p.d) > MAX_D_NS)
		return HV_RF_DROPPED;
	rf->last_h_ns = p.h;

	if (rf->n && p.x <= newest(rf)->x) {
		restart(rf, &p, abs_s64(p.d - newest(rf)->d));
		return HV_RF_RESTARTED;
	}
	if (f->valid) {
		s64 dev = p.d - (f->d0 + scale_ppt(p.x - f->x0, f->rate_ppt));

		if (abs_s64(dev) > p.h + hv_rf_error_ns(f, c0)) {
			restart(rf, &p, abs_s64(dev));
			return HV_RF_RESTARTED;
		}
	}
	/* out of the window: the oldest points beyond MAX_SPAN_NS */
	while (rf->n && p.x - hv_rf_point(rf, 0)->x > MAX_SPAN_NS)
		rf->n--;
	if (rf->n == HV_RF_POINTS)
		rf->n--;
	/*
	 * a change of d this large from any point of the window is no rate:
	 * the window starts again (and every d stays within MAX_DD_NS of
	 * every other, as fit_rate() needs)
	 */
	for (i = 0; i < rf->n; i++) {
		u64 dd = abs_s64(p.d - hv_rf_point(rf, i)->d);

		if (dd > MAX_DD_NS) {
			restart(rf, &p, dd);
			return HV_RF_RESTARTED;
		}
	}
	rf->pt[rf->head] = p;
	rf->head = (rf->head + 1) % HV_RF_POINTS;
	rf->n++;
	if (!refit(rf)) {
		restart(rf, &p, p.h);
		return HV_RF_RESTARTED;
	}
	return HV_RF_ADDED;
}

/* x - x0 of counter value @cnt, and its magnitude in @mag */
static s64 from_x0(const struct hv_rf_fit *f, u64 cnt, u64 *mag)
{
	s64 dx = (s64)(hv_rf_cnt_ns(f, cnt) - f->x0);

	*mag = abs_s64(dx);
	return dx;
}

/* Reference time at counter value @cnt, ns, by a valid fit @f. */
u64 hv_rf_eval(const struct hv_rf_fit *f, u64 cnt)
{
	u64 mag;
	s64 dx = from_x0(f, cnt, &mag), corr = scale_ppt(mag, f->rate_ppt);

	return f->x0 + dx + f->d0 + (dx < 0 ? -corr : corr);
}

/* How far point @p is from a valid fit @f, ns (its d minus the fit's). */
s64 hv_rf_residual(const struct hv_rf_fit *f, const struct hv_rf_point *p)
{
	s64 dx = (s64)(p->x - f->x0);
	s64 corr = scale_ppt(abs_s64(dx), f->rate_ppt);

	return p->d - f->d0 - (dx < 0 ? -corr : corr);
}

/* The bound of hv_rf_eval() @dist_ns of counter time from x0, ns. */
u64 hv_rf_error_at_ns(const struct hv_rf_fit *f, u64 dist_ns)
{
	return f->err0_ns + f->half_tick_ns +
	       muldiv_sat(dist_ns, f->err_rate_ppt, PPT);
}

/* The bound of hv_rf_eval() at @cnt, ns. */
u64 hv_rf_error_ns(const struct hv_rf_fit *f, u64 cnt)
{
	u64 mag;

	from_x0(f, cnt, &mag);
	return hv_rf_error_at_ns(f, mag);
}

/*
 * The fit as a TSC-page-like scale: 100 ns reference ticks per counter
 * tick, 2^-64 (vmclock.c's period). Below 2^64 for counters above
 * HV_RF_MIN_HZ.
 */
u64 hv_rf_scale64(const struct hv_rf_fit *f)
{
	u64 s = mul_u64_u64_div_u64(f->mult, 1ULL << 32, 100);
	u64 c = muldiv_sat(s, abs_s64(f->rate_ppt), PPT);

	if (f->rate_ppt < 0)
		return c > s ? 0 : s - c;
	return c > U64_MAX - s ? U64_MAX : s + c;
}
