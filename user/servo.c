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
 * that overshoots for seconds. Such an offset is slewed out dead-beat
 * instead: all of it over the next interval, as fast as max_ppb allows,
 * and so is what the clamp left of it at the measurement after. The
 * offset expected after a dead-beat update is known; the integrator
 * learns only from the difference (a frequency error the start did not
 * see), so a large frequency error still converges while slewing. From
 * 50 ms at max_ppb 5 %: three dead-beat updates after the two that
 * measure, then the PI loop from a few microseconds, without overshoot.
 * An unexpected offset no frequency error could make in the interval
 * (JUMP_PPB) is a step of the reference: slewed, not learnt.
 */
#include <math.h>
#include <stdlib.h>

#include "servo.h"

#define SKEW_WEIGHT	0.1	/* exponential average of |residual| */
#define SLEW_NS		100000	/* larger offsets: dead-beat slew */
/*
 * An unexpected offset faster than this over the interval (twice the
 * kernel's 500 ppm frequency range) is no clock's frequency error: the
 * reference stepped (a host step, a migration). It is slewed out; the
 * integrator does not learn it.
 */
#define JUMP_PPB	1e6

struct hps_servo {
	double kp, ki, max_ppb;
	double drift;		/* frequency estimate, ppb */
	double freq;		/* last correction returned, ppb */
	double residual;	/* last change of drift, ppb */
	double skew;		/* average |residual|, ppb */
	int64_t last_offset;	/* ns, the first measurement's */
	int64_t last_mono;	/* ns, CLOCK_MONOTONIC of the last measurement */
	int count;		/* 0, 1: measurements since reset; 2: tracking */
	int slewed;		/* the last update was dead-beat ... */
	int left;		/* ... and clamped: phase left to slew */
	double expect;		/* ns: the offset it leads to */
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
	s->drift = s->freq;
}

void hps_servo_feedforward(struct hps_servo *s, double delta_ppb)
{
	s->drift = clamp(s->drift + delta_ppb, s->max_ppb);
}

/* All of @offset_ns over the next @t s, at most max_ppb; no integral. */
static double dead_beat(struct hps_servo *s, int64_t offset_ns, double t)
{
	double want = s->drift - offset_ns / t;

	s->freq = clamp(want, s->max_ppb);
	s->left = s->freq != want;
	s->expect = offset_ns + (s->freq - s->drift) * t;
	s->slewed = 1;
	return s->freq;
}

static void note_residual(struct hps_servo *s, double old_drift)
{
	s->residual = s->drift - old_drift;
	s->skew += SKEW_WEIGHT * (fabs(s->residual) - s->skew);
}

double hps_servo_measured(struct hps_servo *s, int64_t offset_ns,
			  int64_t mono_ns, enum hps_servo_state *state)
{
	double old = s->drift, t, p, i, u;

	t = (mono_ns - s->last_mono) / 1e9;
	switch (s->count) {
	case 0:
		break;
	case 1:
		if (t <= 0)
			break;		/* no interval yet: start over */
		/* the natural error is the offset's slope minus s->freq */
		s->drift = clamp(s->freq - (offset_ns - s->last_offset) / t,
				 s->max_ppb);
		note_residual(s, old);
		s->freq = s->drift;
		s->slewed = 0;
		s->left = 0;
		if (llabs(offset_ns) > SLEW_NS)
			dead_beat(s, offset_ns, t);
		s->last_mono = mono_ns;
		s->count = 2;
		*state = HPS_SERVO_JUMP;
		return s->freq;
	default:
		if (t <= 0)
			t = 1e-3;
		s->last_mono = mono_ns;
		*state = HPS_SERVO_LOCKED;
		/* after a dead-beat update, only the unexpected is frequency */
		u = offset_ns - (s->slewed ? s->expect : 0);
		if (fabs(u) > SLEW_NS && fabs(u) > JUMP_PPB * t)
			u = 0;
		i = s->ki * u / t;
		if (llabs(offset_ns) > SLEW_NS || s->left) {
			s->drift = clamp(s->drift - i, s->max_ppb);
			note_residual(s, old);
			return dead_beat(s, offset_ns, t);
		}
		s->slewed = 0;
		p = s->kp * offset_ns / t;
		if (fabs(s->drift - i - p) < s->max_ppb)
			s->drift -= i;	/* not fed while clamped */
		note_residual(s, old);
		s->freq = clamp(s->drift - p, s->max_ppb);
		return s->freq;
	}
	s->last_offset = offset_ns;
	s->last_mono = mono_ns;
	s->count = 1;
	*state = HPS_SERVO_UNLOCKED;
	return s->freq;
}

double hps_servo_stepped(struct hps_servo *s)
{
	s->slewed = 0;
	s->left = 0;
	s->freq = s->drift;
	return s->freq;
}

double hps_servo_drift_ppb(const struct hps_servo *s)
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
