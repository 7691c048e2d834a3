// SPDX-License-Identifier: GPL-2.0
/*
 * The host-clock model: a least-squares line through the last samples
 * (offset of host time against reference time, and its rate), outliers
 * rejected against the prediction, and a published model that stays
 * continuous: each new fit is reached by slewing the phase over slew_ns,
 * not by jumping, unless the deviation exceeds the step threshold or the
 * host sent SYNC.
 *
 * Every intermediate is bounded so that no product overflows: window points
 * further than 2^28 us or 2^27 ns of offset from the newest are dropped, and
 * time differences are taken in wrapping u64 arithmetic.
 */
#include "clock_model.h"

#define PPT_PER_UNIT	1000000000000LL	/* parts per 10^12 */
#define MAX_FREQ_PPT	1000000000LL	/* 1000 ppm: larger fits are garbage */
#define MAX_SPAN_US	(1LL << 28)	/* ~4.5 minutes */
#define MAX_DY_NS	(1LL << 27)	/* ~134 ms of offset change */
#define UNFITTED_PPB	500000		/* rate uncertainty without a fit */
#define QUANT_NS	100		/* the samples' tick */
#define MIN_FIT_POINTS	4		/* fewer: keep the known rate */
/*
 * The residuals of fewer points than this are no estimate of the noise:
 * until then it is only ever raised, from NOISE_PRIOR_NS at the start and
 * from the previous window's estimate after a restart (a step or SYNC).
 */
#define NOISE_MIN_POINTS 8
#define EXCESS_SAMPLES	64	/* samples in the mean of the excess */
#define EXCESS_GATE	25	/* % of the variances: its significance */
#define EXCESS_CLIP	15	/* a sample's excess: at most this many variances */
/*
 * A line through a window lags a host whose rate moves: the residuals then
 * bend. Their component along the part of x^2 a line cannot follow (the
 * curvature, x scaled to CURV_UNITS over the window) measures that. With
 * at least CURV_MIN_POINTS points it is estimated; where the bias it puts
 * on the newest point is significant (CURV_SIGMAS of its own uncertainty)
 * and larger than half the line's noise there, the oldest quarter of the
 * window goes, down to CURV_KEEP_POINTS: the window ends where the line
 * stops being a good model. The bias left, and its uncertainty, count in
 * the error bound.
 */
#define CURV_MIN_POINTS	6
#define CURV_KEEP_POINTS	MIN_FIT_POINTS
#define CURV_UNITS	1024
#define CURV_SIGMAS	3
/*
 * A sample taken in before the noise was known (the outlier threshold then
 * rests on NOISE_PRIOR_NS, 10 us) can be an outlier of tens of us that the
 * window keeps for its whole span, and whose square inflates the noise
 * estimate that judges the samples after it. So once the window holds
 * more than NOISE_MIN_POINTS, the point farthest from the line (the newest
 * excepted: it passed the threshold on arrival, and may be the first of a
 * new rate) is taken out and the line fitted without it; it stays out if
 * it is further from the new line than outlier_sigmas times that fit's
 * noise plus its uncertainty at the newest point, plus outlier_min_ns. At
 * most PURGE_MAX points a sample, and only among those taken in before the
 * noise was known: once they have left the window, a fit costs one pass.
 */
#define PURGE_MAX	2
#define NOISE_PRIOR_NS	10000
#define NS_PER_SEC	1000000000LL
#define NS_PER_DAY	(86400 * NS_PER_SEC)

const char *const hv_cm_state_names[3] = {
	[HV_CM_UNSYNC] = "unsynchronised",
	[HV_CM_SYNC] = "synchronised",
	[HV_CM_HOLDOVER] = "holdover",
};

static u64 abs64(s64 v)
{
	return v < 0 ? -(u64)v : (u64)v;
}

/* (a * b) >> 64 with signs */
static s64 mul_shr64(s64 a, s64 b)
{
	u64 m = mul_u64_u64_shr(abs64(a), abs64(b), 64);

	return (a < 0) != (b < 0) ? -(s64)m : (s64)m;
}

static u64 isqrt64(u64 x)
{
	u64 r = 0, bit = 1ULL << 62;

	while (bit > x)
		bit >>= 2;
	while (bit) {
		if (x >= r + bit) {
			x -= r + bit;
			r = (r >> 1) + bit;
		} else {
			r >>= 1;
		}
		bit >>= 2;
	}
	return r;
}

s64 hv_cm_ppt_to_rate64(s64 ppt)
{
	/* ppt * 2^64 / 10^12, |ppt| <= MAX_FREQ_PPT < 2^30 */
	u64 m = mul_u64_u64_div_u64(abs64(ppt) << 24, 1ULL << 40,
				    PPT_PER_UNIT);

	return ppt < 0 ? -(s64)m : (s64)m;
}

s64 hv_cm_rate64_to_ppb(s64 rate64)
{
	return mul_shr64(rate64, 1000000000LL);
}

static u64 ppb_to_rate64(u64 ppb)
{
	return hv_cm_ppt_to_rate64(ppb * 1000 > (u64)MAX_FREQ_PPT ?
				   MAX_FREQ_PPT : ppb * 1000);
}

/* The model's host time at @ref_ns, before any armed leap. */
static s64 eval_continuous(const struct hv_cm_model *m, u64 ref_ns)
{
	s64 d = (s64)(ref_ns - m->ref0_ns);
	u64 host = (u64)m->host0_ns + (u64)d + (u64)mul_shr64(d, m->rate64);

	if (d >= (s64)m->slew_end_ns)
		host += (u64)m->slew_ns;
	else if (d > 0)
		host += (u64)mul_shr64(d, m->slew_rate64);
	return (s64)host;
}

s64 hv_cm_eval(const struct hv_cm_model *m, u64 ref_ns)
{
	s64 host = eval_continuous(m, ref_ns);

	if (m->leap_ns && host >= m->leap_at_ns)
		host += m->leap_ns;
	return host;
}

enum hv_cm_leap hv_cm_leap_pending(const struct hv_cm_model *m, u64 ref_ns)
{
	if (!m->valid || !m->leap_ns || eval_continuous(m, ref_ns) >= m->leap_at_ns)
		return HV_CM_LEAP_NONE;
	return m->leap_ns < 0 ? HV_CM_LEAP_INSERT : HV_CM_LEAP_DELETE;
}

u64 hv_cm_error_bound(const struct hv_cm_model *m, u64 ref_ns)
{
	u64 d = abs64((s64)(ref_ns - m->ref0_ns));
	s64 overdue = (s64)(ref_ns - m->last_sample_ref_ns - m->hold_after_ns);
	u64 hold = overdue <= 0 ? 0 : (u64)overdue < d ? (u64)overdue : d;

	return m->err0_ns + m->doubt_ns + m->latency_ns +
	       mul_u64_u64_shr(d - hold, m->err_rate64, 64) +
	       mul_u64_u64_shr(hold, m->hold_rate64, 64);
}

enum hv_cm_state hv_cm_state(const struct hv_cm_model *m, u64 now_ns)
{
	if (!m->valid || !m->fitted)
		return HV_CM_UNSYNC;
	if ((s64)(now_ns - m->last_sample_ref_ns) > (s64)m->stale_ns)
		return HV_CM_HOLDOVER;
	return HV_CM_SYNC;
}

void hv_cm_init(struct hv_cm *cm, const struct hv_cm_params *p)
{
	memset(cm, 0, sizeof(*cm));
	cm->p = *p;
	if (cm->p.window < 2)
		cm->p.window = 2;
	if (cm->p.window > HV_CM_MAX_WINDOW)
		cm->p.window = HV_CM_MAX_WINDOW;
	cm->noise_ns = NOISE_PRIOR_NS;
}

static struct hv_cm_point *win_at(struct hv_cm *cm, u32 i)
{
	return &cm->win[(cm->head + i) % HV_CM_MAX_WINDOW];
}

static void win_reset(struct hv_cm *cm)
{
	cm->n = 0;
	cm->head = 0;
}

static void win_push(struct hv_cm *cm, u64 ref_ns, s64 host_ns)
{
	if (cm->n == cm->p.window) {
		cm->head = (cm->head + 1) % HV_CM_MAX_WINDOW;
		cm->n--;
	}
	win_at(cm, cm->n)->ref_ns = ref_ns;
	win_at(cm, cm->n)->host_ns = host_ns;
	cm->n++;
}

/* Offset (host - reference) of a point relative to the newest, ns. */
static s64 dy(const struct hv_cm_point *pt, const struct hv_cm_point *last)
{
	return (s64)((u64)pt->host_ns - pt->ref_ns -
		     ((u64)last->host_ns - last->ref_ns));
}

/* Drop the oldest points while they are too far from the newest. */
static void win_trim(struct hv_cm *cm)
{
	const struct hv_cm_point *last = win_at(cm, cm->n - 1);

	while (cm->n > 1) {
		const struct hv_cm_point *pt = win_at(cm, 0);

		if (abs64((s64)(last->ref_ns - pt->ref_ns)) / 1000 < MAX_SPAN_US &&
		    abs64(dy(pt, last)) < MAX_DY_NS)
			break;
		cm->head = (cm->head + 1) % HV_CM_MAX_WINDOW;
		cm->n--;
	}
}

/*
 * Fit the window. x: reference time of each point relative to the newest,
 * in us (<= 2^30 in magnitude); y: its offset relative to the newest, ns
 * (<= 2^29). With fewer than MIN_FIT_POINTS points and a known rate, only
 * the offset is fitted.
 */
static void fit_line(struct hv_cm *cm)
{
	const struct hv_cm_point *last = win_at(cm, cm->n - 1);
	s64 sx = 0, sy = 0, xm, ym, y0, r;
	u64 sxx = 0, sr2 = 0, sigma, a, b;
	s64 sxy = 0;
	u32 i, n = cm->n;

	for (i = 0; i < n; i++) {
		sx += -(s64)(last->ref_ns - win_at(cm, i)->ref_ns) / 1000;
		sy += dy(win_at(cm, i), last);
	}
	xm = sx / (s64)n;
	ym = sy / (s64)n;
	for (i = 0; i < n; i++) {
		s64 x = -(s64)(last->ref_ns - win_at(cm, i)->ref_ns) / 1000 - xm;
		s64 y = dy(win_at(cm, i), last) - ym;

		sxx += (u64)(x * x);
		sxy += x * y;
	}

	/* sxx >= 10^10 us^2: ~100 ms of spread at least, else the rate is noise */
	if (n >= MIN_FIT_POINTS || (n >= 2 && !cm->have_freq)) {
		if (sxx >= 10000000000ULL &&
		    abs64(sxy) / sxx < (u64)MAX_FREQ_PPT / 1000000000ULL + 1) {
			s64 f = (s64)mul_u64_u64_div_u64(abs64(sxy), 1000000000ULL, sxx);

			if (f <= MAX_FREQ_PPT) {
				cm->freq_ppt = sxy < 0 ? -f : f;
				cm->have_freq = true;
			}
		}
	}

	/* offset at the newest point: ym + slope * (0 - xm) */
	y0 = ym - xm * cm->freq_ppt / 1000000000LL;
	cm->fit_ref_ns = last->ref_ns;
	cm->fit_host_ns = (s64)((u64)last->host_ns + (u64)y0);

	if (n < 3)
		return;
	for (i = 0; i < n; i++) {
		s64 x = -(s64)(last->ref_ns - win_at(cm, i)->ref_ns) / 1000;

		r = dy(win_at(cm, i), last) - y0 - x * cm->freq_ppt / 1000000000LL;
		if (abs64(r) > (1ULL << 26))
			r = 1LL << 26;
		sr2 += (u64)(r * r);
	}
	sigma = isqrt64(sr2 / (n - 2));
	if (sigma < QUANT_NS / 2)
		sigma = QUANT_NS / 2;
	if (n >= NOISE_MIN_POINTS || sigma > cm->noise_ns)
		cm->noise_ns = sigma;
	if (sxx) {
		/* sigma_f = sigma / sqrt(sxx) ns/us = ... * 10^9 ppt */
		cm->sigma_freq_ppt = mul_u64_u64_div_u64(cm->noise_ns, 1000000000ULL,
							 isqrt64(sxx) ?: 1);
		a = cm->noise_ns / isqrt64(n);
		b = mul_u64_u64_div_u64(cm->noise_ns, abs64(xm), isqrt64(sxx) ?: 1);
		if (b > (1ULL << 31))
			b = 1ULL << 31;
		cm->sigma_now_ns = isqrt64(a * a + b * b);
	}
}

/* Residual of window point @i against the line fitted last, ns (clamped). */
static s64 line_resid(struct hv_cm *cm, u32 i)
{
	const struct hv_cm_point *last = win_at(cm, cm->n - 1);
	s64 x = -(s64)(last->ref_ns - win_at(cm, i)->ref_ns) / 1000;
	s64 y0 = (s64)((u64)cm->fit_host_ns - (u64)last->host_ns);
	s64 r = dy(win_at(cm, i), last) - y0 - x * cm->freq_ppt / 1000000000LL;

	if (r > (1LL << 26))
		r = 1LL << 26;
	if (r < -(1LL << 26))
		r = -(1LL << 26);
	return r;
}

/* Window point @i's reference time, scaled to [-CURV_UNITS, 0]. */
static s64 curv_u(struct hv_cm *cm, u32 i, u64 span_us)
{
	u64 x = (win_at(cm, cm->n - 1)->ref_ns - win_at(cm, i)->ref_ns) / 1000;

	return -(s64)mul_u64_u64_div_u64(x, CURV_UNITS, span_us);
}

/*
 * The curvature of the residuals (see CURV_UNITS). u: x scaled to
 * [-CURV_UNITS, 0]; q = u^2 - (alpha + beta u), the part of u^2 orthogonal
 * to a line over the window's points; c = sum(r q) / sum(q^2). The line's
 * bias at the newest point (u = 0) is then c q(0), that of its rate
 * -c beta per u. Sets misfit_ns and misfit_ppt (point estimate plus one
 * standard error); returns whether the bias is significant and larger
 * than half of sigma_now_ns.
 */
static bool curvature(struct hv_cm *cm)
{
	const struct hv_cm_point *last = win_at(cm, cm->n - 1);
	u64 span_us = (last->ref_ns - win_at(cm, 0)->ref_ns) / 1000;
	s64 u, su = 0, sv = 0, um, vm, beta, alpha, q0;
	s64 suu = 0, suv = 0, srq = 0, q, r;
	u64 sqq = 0, srr = 0, sd_c, bias, sd_bias, lag, sd_lag, sigma, quad;
	u32 i, n = cm->n;

	cm->misfit_ns = 0;
	cm->misfit_ppt = 0;
	if (n < CURV_MIN_POINTS || !span_us || !cm->have_freq)
		return false;
	for (i = 0; i < n; i++) {
		u = curv_u(cm, i, span_us);
		su += u;
		sv += u * u;
	}
	um = su / (s64)n;
	vm = sv / (s64)n;
	for (i = 0; i < n; i++) {
		u = curv_u(cm, i, span_us);
		suu += (u - um) * (u - um);
		suv += (u - um) * (u * u - vm);
	}
	if (!suu)
		return false;
	beta = suv / suu;
	alpha = vm - beta * um;
	for (i = 0; i < n; i++) {
		u = curv_u(cm, i, span_us);
		q = u * u - alpha - beta * u;
		r = line_resid(cm, i);
		sqq += (u64)(q * q);
		srq += r * q;
		srr += (u64)(r * r);
	}
	/* points in two clumps: no curvature to see (and no overflow below) */
	if (sqq < (u64)n << 20)
		return false;
	q0 = -alpha;
	/* the noise: what the curvature leaves of the residuals */
	quad = mul_u64_u64_div_u64(abs64(srq), abs64(srq), sqq);
	sigma = isqrt64((srr > quad ? srr - quad : 0) / (n - 3));
	if (sigma < QUANT_NS / 2)
		sigma = QUANT_NS / 2;
	/* bias = |c q0|, its standard error noise * |q0| / sqrt(sqq) */
	bias = mul_u64_u64_div_u64(abs64(srq), abs64(q0), sqq);
	sd_c = isqrt64(sqq) ?: 1;
	sd_bias = mul_u64_u64_div_u64(sigma, abs64(q0), sd_c);
	/* rate: |c beta| ns per u = ... * CURV_UNITS / span_us ns/us */
	lag = mul_u64_u64_div_u64(abs64(srq), abs64(beta) * CURV_UNITS, sqq);
	sd_lag = mul_u64_u64_div_u64(sigma, abs64(beta) * CURV_UNITS, sd_c);
	cm->misfit_ns = bias + sd_bias;
	/*
	 * ns over span_us us, in ppt; at most MAX_FREQ_PPT (a lag of span_us
	 * ns). Kept free of a constant first operand: x86_64's inline-asm
	 * mul_u64_u64_div_u64() lets gcc give the multiplicand and an equal
	 * constant divisor one register, which mulq has overwritten.
	 */
	lag += sd_lag;
	if (lag > span_us)
		lag = span_us;
	cm->misfit_ppt = mul_u64_u64_div_u64(lag, 1000000000ULL, span_us);
	return abs64(srq) > CURV_SIGMAS * sigma * sd_c &&
	       2 * bias > cm->sigma_now_ns;
}

static void win_remove(struct hv_cm *cm, u32 i)
{
	for (; i + 1 < cm->n; i++)
		*win_at(cm, i) = *win_at(cm, i + 1);
	cm->n--;
}

static void win_insert(struct hv_cm *cm, u32 i, const struct hv_cm_point *pt)
{
	u32 j;

	for (j = cm->n; j > i; j--)
		*win_at(cm, j) = *win_at(cm, j - 1);
	*win_at(cm, i) = *pt;
	cm->n++;
}

/* Fitted host time at @ref_ns. */
static s64 fit_eval(const struct hv_cm *cm, u64 ref_ns)
{
	s64 d = (s64)(ref_ns - cm->fit_ref_ns);

	return (s64)((u64)cm->fit_host_ns + (u64)d +
		     (u64)mul_shr64(d, hv_cm_ppt_to_rate64(cm->freq_ppt)));
}

/* Take out the worst point of the window if it is an outlier (PURGE_MAX). */
static bool purge_one(struct hv_cm *cm)
{
	struct hv_cm_point pt;
	u64 worst = 0, r, lim;
	u32 i, at = 0;

	if (!cm->unvetted || cm->n <= NOISE_MIN_POINTS)
		return false;
	if (win_at(cm, 0)->ref_ns > cm->unvetted_ref_ns) {
		cm->unvetted = false;
		return false;
	}
	for (i = 0; i + 1 < cm->n &&
	     win_at(cm, i)->ref_ns <= cm->unvetted_ref_ns; i++) {
		r = abs64(line_resid(cm, i));
		if (r > worst) {
			worst = r;
			at = i;
		}
	}
	/* the fit's own noise includes the point: no judge of it */
	if (worst <= (u64)cm->p.outlier_min_ns)
		return false;
	pt = *win_at(cm, at);
	win_remove(cm, at);
	fit_line(cm);
	r = abs64(fit_eval(cm, pt.ref_ns) - pt.host_ns);
	lim = cm->p.outlier_sigmas * (cm->noise_ns + cm->sigma_now_ns) +
	      cm->p.outlier_min_ns;
	/* counted as accepted still: it was, when it came */
	if (r > lim)
		return true;
	win_insert(cm, at, &pt);
	fit_line(cm);
	return false;
}

/*
 * Fit the window, without the outliers it took in early; shorten it while a
 * line no longer follows the host.
 */
static void fit(struct hv_cm *cm)
{
	u32 drop, purged = 0;

	fit_line(cm);
	while (purged < PURGE_MAX && purge_one(cm))
		purged++;
	while (curvature(cm) && cm->n > CURV_KEEP_POINTS) {
		drop = cm->n / 4 ?: 1;
		if (cm->n - drop < CURV_KEEP_POINTS)
			drop = cm->n - CURV_KEEP_POINTS;
		cm->head = (cm->head + drop) % HV_CM_MAX_WINDOW;
		cm->n -= drop;
		fit_line(cm);
	}
}

/* Outlier threshold for a sample at @ref_ns, ns. */
static u64 threshold(const struct hv_cm *cm, u64 ref_ns)
{
	u64 age = abs64((s64)(ref_ns - cm->fit_ref_ns));
	u64 drift_ppt = 3 * cm->sigma_freq_ppt + (u64)cm->p.holdover_ppb * 1000;

	if (drift_ppt > (u64)MAX_FREQ_PPT)
		drift_ppt = MAX_FREQ_PPT;
	return cm->p.outlier_sigmas * (cm->noise_ns + cm->sigma_now_ns) +
	       mul_u64_u64_div_u64(age, drift_ppt, PPT_PER_UNIT) +
	       cm->p.outlier_min_ns;
}

/*
 * How well the fit predicted a sample it is about to take in: @resid, the
 * sample minus the fit, is the fit's error there plus the sample's noise.
 * What its square has beyond the noise's variance and the fit's own
 * (its standard error at the sample) is error the model does not
 * account for: the host's rate wandering faster than a line over the
 * window follows. Its mean over about EXCESS_SAMPLES samples.
 */
static void track_excess(struct hv_cm *cm, u64 ref_ns, s64 resid)
{
	u64 age = abs64((s64)(ref_ns - cm->fit_ref_ns));
	/*
	 * A rate uncertainty beyond MAX_FREQ_PPT is a garbage fit's, as in
	 * threshold(); bounded so, the quotient below fits 64 bits for any
	 * age (a wider one is a divide error on x86-64: the fuzzer found
	 * one, a noise of 2^26 ns over a short window against a reference
	 * time far from the fit's).
	 */
	u64 sigma_freq = cm->sigma_freq_ppt < (u64)MAX_FREQ_PPT ?
			 cm->sigma_freq_ppt : (u64)MAX_FREQ_PPT;
	u64 sd = cm->sigma_now_ns +
		 mul_u64_u64_div_u64(age, sigma_freq, PPT_PER_UNIT);
	u64 var;
	s64 v;

	if (!cm->have_freq || cm->n < NOISE_MIN_POINTS)
		return;
	if (resid > (1LL << 26))
		resid = 1LL << 26;
	if (resid < -(1LL << 26))
		resid = -(1LL << 26);
	if (sd > (1ULL << 26))
		sd = 1ULL << 26;
	var = cm->noise_ns * cm->noise_ns + sd * sd;
	/*
	 * a late sample that passed as no outlier counts as a four-sigma
	 * one: its error is the window's (held in the fit's noise), not a
	 * sign of wander, which moves every prediction
	 */
	v = resid * resid - (s64)var;
	if (v > (s64)(EXCESS_CLIP * var))
		v = EXCESS_CLIP * var;
	if (cm->excess_n < EXCESS_SAMPLES)
		cm->excess_n++;
	cm->excess_ns2 += div64_s64(v - cm->excess_ns2, cm->excess_n);
}

/*
 * The bound's allowance for that unaccounted error: four of its standard
 * deviations, counted once the mean square clears its own uncertainty
 * (about sqrt(2 / n) of the variances it is the difference of, over n
 * samples) with a margin: EXCESS_GATE percent of them over EXCESS_SAMPLES,
 * more over fewer.
 */
static u64 excess_allowance(const struct hv_cm *cm)
{
	u64 var = cm->noise_ns * cm->noise_ns + cm->sigma_now_ns * cm->sigma_now_ns;
	s64 gate;

	if (!cm->excess_n)
		return 0;
	gate = (s64)div64_u64(var * EXCESS_GATE * isqrt64(EXCESS_SAMPLES),
			      100 * isqrt64(cm->excess_n));
	if (cm->excess_ns2 <= gate)
		return 0;
	return 4 * isqrt64((u64)(cm->excess_ns2 - gate));
}

static void publish(struct hv_cm *cm, u64 now_ns, bool step)
{
	struct hv_cm_model *m = &cm->pub;
	s64 target = fit_eval(cm, now_ns);
	s64 delta = 0;
	u64 dur, growth_ppb;

	/* the first fit of the rate replaces an offset-only model at once */
	if (m->valid && !m->fitted && cm->have_freq)
		step = true;
	if (m->valid && !step) {
		s64 cur = hv_cm_eval(m, now_ns);

		delta = target - cur;
		if (abs64(delta) > (u64)cm->p.step_threshold_ns) {
			step = true;
			delta = 0;
		} else {
			target = cur;
		}
	}
	/* steps of a synchronised PHC; acquiring the first fit is not one */
	if (step && m->valid && m->fitted)
		cm->steps++;

	m->ref0_ns = now_ns;
	m->host0_ns = target;
	m->rate64 = hv_cm_ppt_to_rate64(cm->freq_ppt);
	/* phase slew: at most 500 ppm (2000 ns of time per ns corrected) */
	dur = cm->p.slew_ns;
	if (abs64(delta) * 2000 > dur)
		dur = abs64(delta) * 2000;
	m->slew_ns = delta;
	m->slew_end_ns = dur;
	m->slew_rate64 = 0;
	if (delta) {
		u64 r = mul_u64_u64_div_u64(abs64(delta), 1ULL << 63, dur) << 1;

		m->slew_rate64 = delta < 0 ? -(s64)r : (s64)r;
	}

	/*
	 * Three standard errors of the fit at the last sample and three of
	 * the mean of its points (which, below three points, is all the fit
	 * knows of its error), plus what the fit's predictions showed it
	 * does not account for (excess_allowance()).
	 */
	m->err0_ns = 3 * (cm->sigma_now_ns + cm->noise_ns / isqrt64(cm->n ?: 1)) +
		     excess_allowance(cm) +
		     QUANT_NS + abs64(delta) + cm->misfit_ns +
		     mul_u64_u64_div_u64(abs64((s64)(now_ns - cm->fit_ref_ns)),
					 cm->misfit_ppt, PPT_PER_UNIT);
	/*
	 * The error grows at the rate's uncertainty plus the host's wander:
	 * wander_ppb while samples come as they have (for twice the
	 * window's mean interval), holdover_ppb once one is overdue, and
	 * from the start while the fit has too few points to know the rate's
	 * uncertainty.
	 */
	growth_ppb = (3 * cm->sigma_freq_ppt + cm->misfit_ppt) / 1000;
	m->err_rate64 = ppb_to_rate64(cm->have_freq ?
				      growth_ppb + cm->p.wander_ppb : UNFITTED_PPB);
	m->hold_rate64 = ppb_to_rate64(cm->have_freq ?
				       growth_ppb + cm->p.holdover_ppb : UNFITTED_PPB);
	m->hold_after_ns = 0;
	if (cm->n >= 3) {
		u64 span = win_at(cm, cm->n - 1)->ref_ns - win_at(cm, 0)->ref_ns;

		m->hold_after_ns = div64_u64(span, cm->n - 1) * 2;
		if (m->hold_after_ns > cm->p.stale_ns)
			m->hold_after_ns = cm->p.stale_ns;
	}
	m->last_sample_ref_ns = win_at(cm, cm->n - 1)->ref_ns;
	m->stale_ns = cm->p.stale_ns;
	m->doubt_ns = 0;
	m->fitted = cm->have_freq;
	m->valid = true;
}

/* A point's host time minus the fit's at its reference time, ns. */
static s64 resid_of(const struct hv_cm *cm, const struct hv_cm_point *pt)
{
	return (s64)((u64)pt->host_ns - fit_eval(cm, pt->ref_ns));
}

/* The largest deviation from the fit of the samples held back, ns. */
static u64 held_back(struct hv_cm *cm)
{
	u64 d, max = 0;
	u32 i;

	for (i = 0; i < cm->n_pending; i++) {
		d = abs64(resid_of(cm, &cm->pending[i]));
		max = d > max ? d : max;
	}
	return max;
}

/*
 * Restart the window from @pts (in arrival order), keeping the rate. The
 * window must be in reference-time order and within the span fit() can
 * take: a point whose reference time is not after the previous one (the
 * counter was reset between them) starts the window again.
 */
static void restart(struct hv_cm *cm, const struct hv_cm_point *pts, u32 n)
{
	u32 i;

	win_reset(cm);
	for (i = 0; i < n; i++) {
		if (cm->n &&
		    (s64)(pts[i].ref_ns - win_at(cm, cm->n - 1)->ref_ns) <= 0)
			win_reset(cm);
		win_push(cm, pts[i].ref_ns, pts[i].host_ns);
	}
	cm->unvetted = true;
	cm->unvetted_ref_ns = pts[n - 1].ref_ns;
	win_trim(cm);
	cm->n_pending = 0;
	cm->pending_step = false;
	fit(cm);
}

/*
 * Whether day @days since 1970-01-01 is the 1st of January or July: the
 * proleptic Gregorian calendar counted in 400-year eras of 146097 days,
 * each year starting on March 1st so that the leap day comes last.
 */
static bool leap_second_day(s64 days)
{
	s64 z = days + 719468;		/* days since 0000-03-01 */
	s64 era = z / 146097;
	s64 doe = z - era * 146097;	/* day of the era, 0..146096 */
	s64 yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	s64 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	s64 mp = (5 * doy + 2) / 153;	/* month from March, 0..11 */
	s64 mday = doy - (153 * mp + 2) / 5 + 1;

	/* January is mp 10, July is mp 4 */
	return mday == 1 && (mp == 10 || mp == 4);
}

void hv_cm_leap(struct hv_cm *cm, unsigned int leap, s64 host_ns)
{
	s64 midnight = 0, delta = 0;

	if ((leap == HV_CM_LEAP_INSERT || leap == HV_CM_LEAP_DELETE) &&
	    host_ns >= 0) {
		midnight = (host_ns / NS_PER_DAY + 1) * NS_PER_DAY;
		if (leap_second_day(midnight / NS_PER_DAY))
			delta = leap == HV_CM_LEAP_INSERT ? -NS_PER_SEC : NS_PER_SEC;
		/* a deletion skips 23:59:59: it starts a second early */
		if (delta > 0)
			midnight -= NS_PER_SEC;
		if (host_ns >= midnight)
			delta = 0;
	}
	cm->leap_at_ns = delta ? midnight : 0;
	cm->leap_ns = delta;
	cm->pub.leap_at_ns = cm->leap_at_ns;
	cm->pub.leap_ns = cm->leap_ns;
}

/*
 * The armed leap's instant has passed by @now_ns: move the window, the fit
 * and the published model to the new scale, and the sample (@pt) too if it
 * was taken before that instant. The published model reads the same.
 */
static void apply_leap(struct hv_cm *cm, struct hv_cm_point *pt, u64 now_ns)
{
	s64 delta = cm->leap_ns;
	u32 i;

	if (!delta || fit_eval(cm, now_ns) < cm->leap_at_ns)
		return;
	if (fit_eval(cm, pt->ref_ns) < cm->leap_at_ns)
		pt->host_ns += delta;
	for (i = 0; i < cm->n; i++)
		win_at(cm, i)->host_ns += delta;
	for (i = 0; i < cm->n_pending; i++)
		cm->pending[i].host_ns += delta;
	cm->fit_host_ns += delta;
	cm->pub.host0_ns += delta;
	cm->leap_at_ns = 0;
	cm->leap_ns = 0;
	cm->pub.leap_at_ns = 0;
	cm->pub.leap_ns = 0;
	cm->leaps++;
}

void hv_cm_set_arrival_timed(struct hv_cm *cm, bool arrival)
{
	cm->arrival_timed = arrival;
}

enum hv_cm_result hv_cm_add(struct hv_cm *cm, u64 ref_ns, s64 host_ns,
			    bool sync, u64 now_ns)
{
	struct hv_cm_point pt = { .ref_ns = ref_ns, .host_ns = host_ns };
	s64 resid;
	u64 thr;

	/* an arrival-timed sample may stay in use for a window and the held */
	if (cm->arrival_timed)
		cm->arrivals = cm->p.window + ARRAY_SIZE(cm->pending);
	else if (cm->arrivals)
		cm->arrivals--;
	cm->pub.latency_ns = cm->arrivals ? cm->p.latency_ns : 0;

	if (cm->n) {
		apply_leap(cm, &pt, now_ns);
		host_ns = pt.host_ns;
	}

	/*
	 * First sample, SYNC from the host, or a reference time that went
	 * backwards (the counter was reset): start again from this sample.
	 */
	if (!cm->n || sync || (s64)(ref_ns - win_at(cm, cm->n - 1)->ref_ns) <= 0) {
		bool first = !cm->pub.valid;

		cm->last_offset_ns = cm->n ? resid_of(cm, &pt) : 0;
		restart(cm, &pt, 1);
		cm->accepted++;
		publish(cm, now_ns, true);
		return first ? HV_CM_ACCEPTED : HV_CM_STEPPED;
	}

	resid = resid_of(cm, &pt);
	cm->last_offset_ns = resid;
	thr = threshold(cm, ref_ns);
	/* Without a rate there is nothing to judge a sample against. */
	if (!cm->have_freq)
		thr = U64_MAX;

	if (abs64(resid) > (u64)cm->p.step_threshold_ns && thr != U64_MAX) {
		/* Two samples agreeing on a new phase make a step. */
		if (cm->pending_step &&
		    abs64(resid - resid_of(cm, &cm->pending[0])) <= thr) {
			struct hv_cm_point pts[2] = { cm->pending[0], pt };

			restart(cm, pts, 2);
			cm->accepted++;
			publish(cm, now_ns, true);
			return HV_CM_STEPPED;
		}
		cm->pending[0] = pt;
		cm->n_pending = 1;
		cm->pending_step = true;
		cm->outliers++;
		cm->pub.doubt_ns = abs64(resid);
		return HV_CM_OUTLIER;
	}

	if (abs64(resid) > thr) {
		/* Three consecutive outliers agreeing on a phase: take it. */
		if (cm->pending_step)
			cm->n_pending = 0;
		cm->pending_step = false;
		if (cm->n_pending == ARRAY_SIZE(cm->pending)) {
			cm->pending[0] = cm->pending[1];
			cm->pending[1] = cm->pending[2];
			cm->n_pending--;
		}
		cm->pending[cm->n_pending++] = pt;
		if (cm->n_pending == ARRAY_SIZE(cm->pending)) {
			s64 lo = S64_MAX, hi = S64_MIN, r;
			u32 i;

			for (i = 0; i < cm->n_pending; i++) {
				r = resid_of(cm, &cm->pending[i]);
				lo = r < lo ? r : lo;
				hi = r > hi ? r : hi;
			}
			if ((u64)(hi - lo) <= 2 * thr) {
				restart(cm, cm->pending, ARRAY_SIZE(cm->pending));
				cm->accepted++;
				publish(cm, now_ns, false);
				return HV_CM_ACCEPTED;
			}
		}
		cm->outliers++;
		cm->pub.doubt_ns = held_back(cm);
		return HV_CM_OUTLIER;
	}

	cm->n_pending = 0;
	cm->pending_step = false;
	track_excess(cm, ref_ns, resid);
	if (cm->n < NOISE_MIN_POINTS) {
		/* judged against the prior, not a known noise */
		cm->unvetted = true;
		cm->unvetted_ref_ns = ref_ns;
	}
	win_push(cm, ref_ns, host_ns);
	win_trim(cm);
	fit(cm);
	cm->accepted++;
	publish(cm, now_ns, false);
	return HV_CM_ACCEPTED;
}
