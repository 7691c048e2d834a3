// SPDX-License-Identifier: GPL-2.0
/*
 * A proportional-integral servo with a two-measurement start.
 *
 * The first two measurements give the natural frequency error directly
 * (offset slope minus the correction in force), which removes most of it
 * before the loop starts; from then on, with T the interval between
 * measurements:
 *
 *	drift += -ki * offset / T	(ppb: ns over s)
 *	freq   = drift - kp * offset / T
 *
 * kp = 0.7, ki = 0.3 give a loop that settles in a few updates without
 * overshoot ringing (linuxptp's PI servo uses the same normalised gains).
 * The result is clamped to max_ppb, and the integrator is not fed while
 * clamped.
 *
 * An offset beyond SLEW_NS is phase, not frequency: fed into the
 * integrator, tens of milliseconds become a frequency error of percent
 * that overshoots for seconds. Such an offset is slewed out instead, as
 * fast as max_ppb allows, with measurements SLEW_POLL_NS apart (the
 * caller asks hps_servo_next_ns()) until it is under SLEW_EXIT_NS, and
 * from the start's first measurement on. Each slew update aims to take
 * the offset away over SLEW_SPAN intervals, not one: a measurement that
 * comes late (a loaded machine, a guest's vCPU descheduled) by up to
 * half an interval then finds the offset smaller, never past zero, so
 * the approach is monotone, shrinking to a third per interval once
 * max_ppb no longer limits it. The offset a slew leads to is known for
 * the interval that actually passed; the integrator learns only from the
 * difference (a frequency error the start did not see), so a large
 * frequency error still converges while slewing. From 50 ms at max_ppb
 * 5 %: a second of slewing at the clamp after the 100 ms of the start,
 * then 0.6 s down to 10 us, and the PI loop from there. An unexpected
 * offset no frequency error could make in the interval (JUMP_PPB) is a
 * step of the reference: slewed, not learnt.
 */
#include <math.h>
#include <stdlib.h>

#include "servo.h"

#define SKEW_WEIGHT	0.1	/* exponential average of |residual| */
#define LAG_WEIGHT	0.25	/* exponential average of the lag */
#define SLEW_NS		100000	/* larger offsets are slewed ... */
#define SLEW_EXIT_NS	10000	/* ... until under this */
#define SLEW_POLL_NS	100000000LL	/* measurements while slewing, ns */
#define SLEW_SPAN	1.5	/* intervals a slew update aims to take */
#define CLEAN_PPB	1e7	/* a change of less: the same correction */
/*
 * An unexpected offset faster than this over the interval (twice the
 * kernel's 500 ppm frequency range) is no clock's frequency error: the
 * reference stepped (a host step, a migration). It is slewed out; the
 * integrator does not learn it.
 */
#define JUMP_PPB	1e6

struct hps_servo {
	double kp, ki, max_ppb;
	int64_t poll_ns;	/* the caller's interval; 0: as the last one */
	double drift;		/* frequency estimate, ppb */
	double freq;		/* last correction returned, ppb */
	double freq_before;	/* the one before, in force until ... */
	double lag;		/* ... this long after the measurement, s */
	double lag_est;		/* s: the lag to plan for, an average */
	int lag_seen;		/* of any lag at all */
	double residual;	/* last change of drift, ppb */
	double skew;		/* average |residual|, ppb */
	int64_t last_at;	/* ns: the last measurement's instant */
	int count;		/* 0, 1: measurements since reset; 2: tracking */
	int slewed;		/* the last update slewed ... */
	int left;		/* ... and clamped: phase left to slew */
	double slew_from;	/* ns: the last offset, and the estimate ... */
	double exp_drift;	/* ... then: what the next should be follows */
	/*
	 * The start's frequency fit (see fit_add()): on from the first
	 * measurement after a reset until the slew ends.
	 */
	int fit;
	double fit_ref;		/* ppb: the correction in force at its start */
	double fit_ff;		/* ppb: feed-forward since */
	double fit_c, fit_t;	/* ns, s: the last point */
	double fit_prev;	/* ns: the last offset */
	double fit_n, fit_st, fit_sc, fit_stt, fit_stc;	/* this segment */
	double fit_sxx, fit_sxy;	/* the closed ones', centred */
};

struct hps_servo *hps_servo_create(double kp, double ki, double max_ppb)
{
	struct hps_servo *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->kp = kp;
	s->ki = ki;
	s->max_ppb = max_ppb;
	return s;
}

void hps_servo_destroy(struct hps_servo *s)
{
	free(s);
}

void hps_servo_reset(struct hps_servo *s)
{
	s->count = 0;
	s->slewed = 0;
	s->left = 0;
}

static double clamp(double v, double max)
{
	return v > max ? max : v < -max ? -max : v;
}

void hps_servo_set_freq(struct hps_servo *s, double freq_ppb)
{
	s->freq = clamp(freq_ppb, s->max_ppb);
	s->freq_before = s->freq;
	s->drift = s->freq;
}

void hps_servo_feedforward(struct hps_servo *s, double delta_ppb)
{
	s->drift = clamp(s->drift + delta_ppb, s->max_ppb);
	s->fit_ff += delta_ppb;
}

void hps_servo_applied(struct hps_servo *s, int64_t at_ns)
{
	s->lag = at_ns > s->last_at ? (at_ns - s->last_at) / 1e9 : 0;
	s->lag_est += (s->lag_seen ? LAG_WEIGHT : 1) * (s->lag - s->lag_est);
	s->lag_seen = 1;
}

void hps_servo_held(struct hps_servo *s, double freq_ppb, int64_t at_ns)
{
	if (freq_ppb == s->freq)
		return;
	s->freq_before = s->freq;
	s->freq = freq_ppb;
	s->lag = at_ns > s->last_at ? (at_ns - s->last_at) / 1e9 : 0;
}

/*
 * The offset when this update's correction takes effect: the one in
 * force runs on for the lag (at a slew's percent, a millisecond is tens
 * of microseconds).
 */
static double offset_then(const struct hps_servo *s, int64_t offset_ns)
{
	return offset_ns + (s->freq_before - s->drift) * s->lag_est;
}

/*
 * The phase (ns) the corrections in force moved the clock over the @t s
 * since the last measurement, beyond what @base ppb would have: the one
 * before until the last was applied, then the last. (A change of
 * several percent applied a millisecond after the measurement it answers
 * moves the clock by tens of microseconds less than the measurement's
 * instant would say.)
 */
static double moved(const struct hps_servo *s, double t, double base)
{
	double lag = s->lag < t ? s->lag : t;

	return (s->freq_before - base) * lag + (s->freq - base) * (t - lag);
}

/*
 * The start's frequency, from every measurement of the start and of the
 * slew after it, not from the first two alone: a line fitted to the
 * offsets with the phase the servo's own corrections moved taken out
 * (and the PHC's feed-forward changes put back), whose slope is the
 * natural error plus the correction in force at the start. Its noise
 * falls as the slew goes on (two points 100 ms apart make a PHC's read
 * noise of a microsecond tens of ppm; ten over a second, one or two),
 * where the integrator would only carry the last reading's noise on.
 *
 * Only intervals over which the correction changed by less than
 * CLEAN_PPB count: the instant a change took effect is known to some
 * microseconds only (the kernel reads the time, then changes the rate),
 * which is tens of nanoseconds of phase per percent of change; in a
 * guest the start's first slew (5 %) moved the estimate by 4 ppm, and
 * the first steps down from it by 17. Each run of intervals that count
 * is a segment with an intercept of its own, and the slope is the one
 * that fits all segments best.
 */
static void fit_start(struct hps_servo *s, int64_t offset_ns)
{
	s->fit = 1;
	s->fit_ref = s->freq;
	s->fit_ff = 0;
	s->fit_c = 0;
	s->fit_t = 0;
	s->fit_prev = offset_ns;
	s->fit_n = 1;
	s->fit_st = s->fit_sc = s->fit_stt = s->fit_stc = 0;
	s->fit_sxx = s->fit_sxy = 0;
}

/* The current segment's centred sums, added to the closed ones'. */
static void fit_sums(const struct hps_servo *s, double *sxx, double *sxy)
{
	*sxx = s->fit_sxx;
	*sxy = s->fit_sxy;
	if (s->fit_n > 1) {
		*sxx += s->fit_stt - s->fit_st * s->fit_st / s->fit_n;
		*sxy += s->fit_stc - s->fit_st * s->fit_sc / s->fit_n;
	}
}

/*
 * The next point, @t s after the last, over which the corrections moved
 * the clock by @move ns beyond ref + ff, and stayed within CLEAN_PPB of
 * each other (@clean) or not; returns the frequency estimate.
 */
static double fit_add(struct hps_servo *s, int64_t offset_ns, double t,
		      double move, int clean)
{
	double sxx, sxy;

	/* the offset moved at natural + freq: take what freq did out */
	s->fit_c += offset_ns - s->fit_prev - move;
	s->fit_t += t;
	s->fit_prev = offset_ns;
	if (!clean) {
		/* a new segment from this point */
		fit_sums(s, &s->fit_sxx, &s->fit_sxy);
		s->fit_n = 0;
		s->fit_st = s->fit_sc = s->fit_stt = s->fit_stc = 0;
	}
	s->fit_n++;
	s->fit_st += s->fit_t;
	s->fit_sc += s->fit_c;
	s->fit_stt += s->fit_t * s->fit_t;
	s->fit_stc += s->fit_t * s->fit_c;
	fit_sums(s, &sxx, &sxy);
	if (sxx <= 0)
		return s->drift;
	/* the slope is natural + ref: the estimate is ref + ff - slope */
	return clamp(s->fit_ref + s->fit_ff - sxy / sxx, s->max_ppb);
}

/*
 * @offset_ns away over SLEW_SPAN of the next SLEW_POLL_NS intervals, at
 * most max_ppb; no integral.
 */
static double slew(struct hps_servo *s, int64_t offset_ns)
{
	double want = s->drift - offset_then(s, offset_ns) /
				 (SLEW_SPAN * SLEW_POLL_NS / 1e9);

	s->freq = clamp(want, s->max_ppb);
	s->left = s->freq != want;
	s->slewed = 1;
	return s->freq;
}

void hps_servo_set_poll(struct hps_servo *s, int64_t poll_ns)
{
	s->poll_ns = poll_ns;
}

int hps_servo_slewing(const struct hps_servo *s)
{
	return s->count < 2 || s->slewed;
}

int64_t hps_servo_next_ns(const struct hps_servo *s)
{
	if (hps_servo_slewing(s) && s->poll_ns > SLEW_POLL_NS)
		return SLEW_POLL_NS;
	return s->poll_ns;
}

static void note_residual(struct hps_servo *s, double old_drift)
{
	s->residual = s->drift - old_drift;
	s->skew += SKEW_WEIGHT * (fabs(s->residual) - s->skew);
}

double hps_servo_measured(struct hps_servo *s, int64_t offset_ns,
			  int64_t at_ns, enum hps_servo_state *state)
{
	double old = s->drift, t, p, i, u, expect, fit_move;
	int clean;

	t = (at_ns - s->last_at) / 1e9;
	/* what the last update's correction should have led to */
	expect = s->slew_from + moved(s, t, s->exp_drift);
	fit_move = moved(s, t, s->fit_ref + s->fit_ff);
	clean = fabs(s->freq - s->freq_before) <= CLEAN_PPB;
	/* the correction in force stays until this one's is applied */
	s->freq_before = s->freq;
	s->lag = 0;
	s->slew_from = offset_ns;
	switch (s->count) {
	case 0:
		break;
	case 1:
		if (t <= 0)
			break;		/* no interval yet: start over */
		/*
		 * The natural error is the offset's slope minus s->freq:
		 * the fit of these two points.
		 */
		s->drift = fit_add(s, offset_ns, t, fit_move, clean);
		note_residual(s, old);
		s->freq = s->drift;
		s->exp_drift = s->drift;
		s->slewed = 0;
		s->left = 0;
		if (llabs(offset_ns) > SLEW_NS)
			slew(s, offset_ns);
		s->last_at = at_ns;
		s->count = 2;
		*state = HPS_SERVO_JUMP;
		return s->freq;
	default:
		if (t <= 0)
			t = 1e-3;
		s->last_at = at_ns;
		*state = HPS_SERVO_PI;
		/*
		 * Only the unexpected is frequency: the offset the last
		 * update's correction, phase term and all, did not lead to.
		 * (Taking the whole offset for it, as a plain PI loop does,
		 * learns the phase a slew or the proportional term is still
		 * taking away as a frequency error, and overshoots.)
		 */
		u = offset_ns - expect;
		if (fabs(u) > SLEW_NS && fabs(u) > JUMP_PPB * t) {
			u = 0;
			s->fit = 0;	/* the line broke */
		}
		/*
		 * Learnt no faster per second than at the caller's poll: a
		 * slew's short intervals would turn the PHC's read noise
		 * into that much more frequency noise.
		 */
		i = s->ki * u / fmax(t, s->poll_ns / 1e9);
		if (llabs(offset_ns) > SLEW_NS || s->left ||
		    (s->slewed && llabs(offset_ns) > SLEW_EXIT_NS)) {
			s->drift = s->fit ? fit_add(s, offset_ns, t, fit_move,
						    clean) :
				   clamp(s->drift - i, s->max_ppb);
			note_residual(s, old);
			s->exp_drift = s->drift;
			return slew(s, offset_ns);
		}
		s->fit = 0;
		/*
		 * The proportional term acts over the next interval: after
		 * a slew's short ones, poll_ns (over the 100 ms just past it
		 * was five times too strong at 500 ms, and overshot).
		 */
		s->slewed = 0;
		p = s->kp * offset_then(s, offset_ns) /
		    (s->poll_ns ? hps_servo_next_ns(s) / 1e9 : t);
		if (fabs(s->drift - i - p) < s->max_ppb)
			s->drift -= i;	/* not fed while clamped */
		note_residual(s, old);
		s->freq = clamp(s->drift - p, s->max_ppb);
		s->exp_drift = s->drift;
		return s->freq;
	}
	s->last_at = at_ns;
	s->count = 1;
	fit_start(s, offset_ns);
	*state = HPS_SERVO_START;
	return s->freq;
}

double hps_servo_stepped(struct hps_servo *s)
{
	s->fit = 0;
	s->slewed = 0;
	s->left = 0;
	s->slew_from = 0;	/* the phase is gone */
	s->freq = s->drift;
	return s->freq;
}

double hps_servo_freq_ppb(const struct hps_servo *s)
{
	return s->drift;
}

double hps_servo_residual_ppb(const struct hps_servo *s)
{
	return s->residual;
}

double hps_servo_skew_ppb(const struct hps_servo *s)
{
	return s->skew;
}
