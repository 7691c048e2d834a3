// SPDX-License-Identifier: GPL-2.0
/*
 * hv-ptp-sync's core (see discipline.h): one poll, whole, through the
 * actuator: read the PHC, decide (lock and unlock, holdover and its error
 * estimate, the kernel's sync state, leap seconds, the host's own sync
 * state, when to step), apply.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clockadj.h"
#include "clockbound.h"
#include "discipline.h"
#include "servo.h"

#define LOCK_COUNT	3	/* updates within lock_us before "locked" */
/*
 * The floor of every growth rate the daemon publishes for its error, ppb:
 * how far the system clock's rate may move between two measurements (its
 * oscillator's wander, the host's own), locked or holding over.
 */
#define HOLDOVER_PPB	500
#define HOLD_AVG	64	/* updates in the holdover frequency average */
#define HOLD_MIN	8	/* ... before it is used instead of the servo's */
/*
 * How long a published bound holds without the next update: two polls
 * (the servo's phase correction ends within one; a late poll is not yet
 * a missed one) and this much scheduling slack, ms.
 */
#define VOID_SLACK_MS	1000
/*
 * The kernel applies an armed leap second to the system clock at the same
 * midnight as the module to the PHC (STA_INS/STA_DEL), so the offset does
 * not move, except within a tick or so of the instant, when one clock has
 * made it and the other not yet: LEAP_HOLD_S either side of it is not
 * measured.
 */
#define LEAP_HOLD_S	2
#define NS_PER_SEC	1000000000LL
/*
 * The kernel's clock runs at one of two multipliers of its clocksource,
 * a step apart (1/mult: about 150 ppb on a 2.5 GHz TSC), and picks one
 * at each timekeeping update by the sign of its NTP error, the phase it
 * owes the frequency asked of it; so it follows that frequency finely.
 * A large change of frequency leaves that error far from zero (a slew's
 * changes of percent, tens of microseconds): the clock then stays on one
 * multiplier for minutes, paying it back, deaf to corrections within
 * 150 ppb, and the servo hunts between the two (measured in a guest on
 * an exact PHC: 17 ns RMS, where phc2sys, whose start steps the clock
 * and so clears the error, holds 5 ns). After a change larger than
 * KERNEL_ERROR_PPB, and at the start (whatever set the frequency before
 * may have left one), the first settled update, whose change is smaller,
 * clears it (hps_clock_clear_error()); not while a leap second is armed,
 * which clearing would disarm in the kernel.
 */
#define KERNEL_ERROR_PPB	1000.0
/* polls between tries of a better offset mode (PRECISE first) */
#define REPROBE_EVERY	64
/*
 * The error bound of a PHC that publishes none (hv_utils' "hyperv": its
 * 100 ns resolution; it has no model to bound).
 */
#define FOREIGN_BOUND_NS	100
/* attribute values believed: anything else is no value (-ERANGE) */
#define STRATUM_MAX	255
#define LEAPFLAGS_MAX	3
#define PHC_FREQ_MAX_PPB	100000000	/* 10 %: no clock's rate */

/* One poll's input, as the core reads it. */
struct hps_disc_in {
	int64_t mono_ns;		/* CLOCK_MONOTONIC of the measurement */
	/*
	 * The measurement's instant on a time base the clock's own
	 * corrections do not scale, ns (the PHC's time: CLOCK_MONOTONIC
	 * runs 5 % slow while the clock is slewed 5 % slow, and a servo
	 * timing its slew on it misjudges it by as much); 0: mono_ns.
	 */
	int64_t at_ns;
	int64_t realtime_ns;		/* CLOCK_REALTIME */
	struct hps_measurement m;	/* the PHC offset measurement */
	int64_t bound_ns;		/* the PHC's error bound, 0 unknown */
	struct hps_phc_attrs attrs;
	int interfered;			/* another program changed the clock */
};

/*
 * What a decision asks of the clock, in this order: step by
 * -step_offset_ns when @step, @freq_ppb when @set_freq, clear the kernel's
 * NTP error when @clear_error, and the kernel's sync state (STA_UNSYNC from
 * @synced, the leap bits @leap, esterror and maxerror @est_error_ns).
 */
struct hps_disc_out {
	int step;
	int64_t step_offset_ns;
	int set_freq;
	double freq_ppb;
	int clear_error;
	int synced;
	int leap;			/* HPS_LEAP_* */
	int64_t est_error_ns;
	unsigned int events;
	enum hps_disc_state state;
};

struct hps_disc {
	struct hps_config cfg;
	const struct hps_actuator *act;
	struct hps_servo *servo;
	struct hps_status *st;		/* the published status (its policy fields) */
	enum hps_disc_state state;
	int phc_open;			/* the actuator has a PHC open */
	int64_t offsets[HPS_RMS_LEN];
	int n_offsets;
	int lock_count;
	int ever_locked;
	int measured;		/* the last poll measured (not missed) */
	int64_t at_minus_mono;	/* the servo's time base - CLOCK_MONOTONIC */
	/* the last measurement: servo time, PHC, MONOTONIC, REALTIME */
	int64_t meas_at, meas_phc, meas_mono, meas_sys;
	int host_unsync;		/* the host says stratum 16 or leap 3 */
	double hold_ppb;		/* average correction while locked */
	double hold_dev;		/* average |correction - hold_ppb| */
	int hold_n;			/* updates in them, up to HOLD_AVG */
	double hold_growth;		/* ppb: error growth in this holdover */
	double lock_jit2;		/* mean square of locked offset steps */
	int lock_pairs;			/* successive locked updates in it */
	int64_t lock_prev;		/* the last locked update's offset */
	double phc_freq_ppb;
	int have_phc_freq;
	int64_t last_good_mono;
	int64_t last_est_error;
	int64_t leap_at;		/* CLOCK_REALTIME s of an armed leap */
	int leap;			/* which one (HPS_LEAP_*) */
	long long mod_disruptions;	/* the module's count, last read */
	int have_mod_disruptions;
	int vmclock;			/* the module writes a VMClock page */
	int disrupted;			/* since a disruption: locked updates to go */
	int kernel_error;		/* a large change left the kernel's own */
	int64_t est_mono;		/* CLOCK_MONOTONIC of est_error_ns */
};

static const char *const state_names[] = {
	[HPS_DISC_STARTING] = "starting",
	[HPS_DISC_TRACKING] = "tracking",
	[HPS_DISC_LOCKED] = "locked",
	[HPS_DISC_HOLDOVER] = "holdover",
	[HPS_DISC_NO_PHC] = "no-phc",
};

const char *hps_disc_state_name(enum hps_disc_state state)
{
	return (unsigned int)state < sizeof(state_names) / sizeof(state_names[0]) ?
	       state_names[state] : "?";
}

/* a + b for a, b >= 0, saturated at INT64_MAX */
static int64_t sat_add(int64_t a, int64_t b)
{
	int64_t r;

	return __builtin_add_overflow(a, b, &r) ? INT64_MAX : r;
}

static void set_state(struct hps_disc *d, enum hps_disc_state state,
		      struct hps_disc_out *out)
{
	if (state != d->state)
		out->events |= HPS_EV_STATE;
	d->state = state;
	out->state = state;
	snprintf(d->st->state, sizeof(d->st->state), "%s",
		 hps_disc_state_name(state));
}

struct hps_disc *hps_disc_create(const struct hps_config *cfg, double freq_ppb,
				 struct hps_status *st,
				 const struct hps_actuator *act)
{
	struct hps_disc *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->cfg = *cfg;
	d->st = st;
	d->act = act;
	d->servo = hps_servo_create(cfg->kp, cfg->ki, cfg->max_slew_ppm * 1000);
	if (!d->servo) {
		free(d);
		return NULL;
	}
	hps_servo_set_freq(d->servo, freq_ppb);
	hps_servo_set_poll(d->servo, cfg->poll_ms * 1000000LL);
	d->hold_growth = HOLDOVER_PPB + 2000;
	d->kernel_error = 1;
	d->state = HPS_DISC_STARTING;
	st->poll_ms = cfg->poll_ms;
	st->module_host_utc_error_ns = -1;
	st->freq_ppm = freq_ppb / 1000;
	snprintf(st->state, sizeof(st->state), "%s",
		 hps_disc_state_name(d->state));
	return d;
}

void hps_disc_destroy(struct hps_disc *d)
{
	if (!d)
		return;
	if (d->phc_open)
		d->act->phc_close(d->act->ctx);
	hps_servo_destroy(d->servo);
	free(d);
}

int hps_disc_reconfigure(struct hps_disc *d, const struct hps_config *cfg)
{
	struct hps_servo *s;

	s = hps_servo_create(cfg->kp, cfg->ki, cfg->max_slew_ppm * 1000);
	if (!s)
		return -ENOMEM;
	hps_servo_set_freq(s, d->st->freq_ppm * 1000);
	hps_servo_set_poll(s, cfg->poll_ms * 1000000LL);
	hps_servo_destroy(d->servo);
	d->servo = s;
	/* another device: the next poll finds it */
	if (strcmp(cfg->device, d->cfg.device) && d->phc_open) {
		d->act->phc_close(d->act->ctx);
		d->phc_open = 0;
	}
	d->cfg = *cfg;
	d->st->poll_ms = cfg->poll_ms;
	return 0;
}

/*
 * A disruption: the PHC opened again, a step of ours, or the module's
 * count moved (either way: a module loaded again starts from 0).
 */
static void disruption(struct hps_disc *d)
{
	d->st->marker++;
	d->disrupted = LOCK_COUNT;
}

static void module_disruptions(struct hps_disc *d,
			       const struct hps_phc_attrs *a)
{
	if (a->disruptions_ret) {
		d->st->module_disruptions = -1;
		return;
	}
	if (d->have_mod_disruptions && a->disruptions != d->mod_disruptions)
		disruption(d);
	d->mod_disruptions = a->disruptions;
	d->have_mod_disruptions = 1;
	d->st->module_disruptions = a->disruptions;
}

int hps_disc_disruption(struct hps_disc *d, long long count)
{
	struct hps_phc_attrs a = { .disruptions = count };
	int moved = d->have_mod_disruptions && count != d->mod_disruptions;

	module_disruptions(d, &a);
	return moved;
}

void hps_disc_restarted(struct hps_disc *d, uint64_t prev_marker)
{
	if (d->st->marker <= prev_marker)
		d->st->marker = prev_marker + 1;
}

/* A PHC (re)opened: its measurements start over. */
static void new_phc(struct hps_disc *d)
{
	/* another clock, or the same one after it went away */
	if (d->last_good_mono)
		disruption(d);
	d->have_mod_disruptions = 0;
	d->have_phc_freq = 0;
	d->vmclock = 0;
	hps_servo_reset(d->servo);
}

/*
 * Whether a poll at CLOCK_REALTIME @realtime_ns is too close to an armed
 * leap second to measure (nothing is measured or changed then).
 */
static int quiet(struct hps_disc *d, int64_t realtime_ns)
{
	if (!d->leap_at)
		return 0;
	if (realtime_ns > (d->leap_at + LEAP_HOLD_S) * NS_PER_SEC) {
		d->leap_at = 0;
		return 0;
	}
	return realtime_ns >= (d->leap_at - LEAP_HOLD_S) * NS_PER_SEC;
}

/* The frequency goes from @from_ppb to @to_ppb: clear the kernel's error? */
static void kernel_error(struct hps_disc *d, double from_ppb, double to_ppb,
			 int settled, struct hps_disc_out *out)
{
	if (fabs(to_ppb - from_ppb) > KERNEL_ERROR_PPB) {
		d->kernel_error = 1;
	} else if (d->kernel_error && settled && d->leap == HPS_LEAP_NONE) {
		out->clear_error = 1;
		d->kernel_error = 0;
	}
}

static void record_offset(struct hps_disc *d, int64_t offset)
{
	struct hps_status *st = d->st;
	double sum = 0, dsum = 0, diff;
	int64_t cur, prev = 0;
	int i, n, oldest;

	d->offsets[d->n_offsets % HPS_RMS_LEN] = offset;
	d->n_offsets++;
	n = d->n_offsets < HPS_RMS_LEN ? d->n_offsets : HPS_RMS_LEN;
	/*
	 * In the order they were taken: once the ring has wrapped, slot 0
	 * is not the oldest, and pairing by slot would take the newest
	 * minus the oldest for one of the differences.
	 */
	oldest = d->n_offsets - n;
	for (i = 0; i < n; i++) {
		cur = d->offsets[(oldest + i) % HPS_RMS_LEN];
		sum += (double)cur * cur;
		if (i) {
			diff = (double)(cur - prev);
			dsum += diff * diff;
		}
		prev = cur;
	}
	st->rms_offset_ns = llround(sqrt(sum / n));
	st->jitter_ns = n > 1 ? llround(sqrt(dsum / (n - 1))) : 0;
}

/* The kernel's sync state from our error estimate. */
static void sync_state(struct hps_disc *d, int locked, int leap,
		       struct hps_disc_out *out)
{
	/* an unsynchronised host's time is followed, but not vouched for */
	out->synced = locked && !d->host_unsync &&
		      d->st->est_error_ns <= d->cfg.max_error_us * 1000;
	out->leap = d->cfg.leap ? leap : HPS_LEAP_NONE;
	out->est_error_ns = d->st->est_error_ns;
}

/* The sync state in @out was set: whether "synchronised" changed. */
static int sync_set(struct hps_disc *d, const struct hps_disc_out *out)
{
	struct hps_status *st = d->st;
	int changed = out->synced != st->synced;

	st->synced = out->synced;
	st->leap = out->synced ? out->leap : HPS_LEAP_UNSYNC;
	return changed;
}

/* A poll without a measurement (no PHC, or it failed): hold. */
static void missed(struct hps_disc *d, int64_t mono_ns,
		   struct hps_disc_out *out)
{
	struct hps_status *st = d->st;
	int64_t age;

	memset(out, 0, sizeof(*out));
	d->measured = 0;
	st->reach = (st->reach << 1) & 0xff;
	if (d->lock_count || d->state == HPS_DISC_TRACKING) {
		/*
		 * Keep the average correction of the locked updates, not the
		 * last one: that follows the PHC's phase slews too (a few us
		 * over the module's slew_ms, ~1 ppm), which would become a
		 * steady error here. With fewer than HOLD_MIN in the average
		 * (each carries the servo's phase term, ppm for a us at short
		 * polls), the servo's estimate without its phase term.
		 */
		double est_ppb = hps_servo_freq_ppb(d->servo);
		double ppb = d->hold_n >= HOLD_MIN ? d->hold_ppb : est_ppb;
		/*
		 * How fast the error may grow: the host clock's wander, plus
		 * three times the spread of the locked corrections, plus how
		 * far the average and the servo's estimate disagree, plus a
		 * margin that shrinks as the average fills: with none, three
		 * times the offsets' jitter per poll (the frequency noise of
		 * a single update), at least 2 ppm. The jitter is that of the
		 * locked updates where there are two in a row: the offsets
		 * of the slew before the lock are no noise (right after a
		 * lock from 50 ms they made the margin 11000 ppm).
		 */
		double jitter = d->lock_pairs ? sqrt(d->lock_jit2) :
				(double)st->jitter_ns;
		double noise_ppb = 3e3 * jitter / d->cfg.poll_ms;

		out->set_freq = 1;
		out->freq_ppb = ppb;
		kernel_error(d, st->freq_ppm * 1000, ppb, 0, out);
		hps_servo_held(d->servo, ppb, mono_ns + d->at_minus_mono);
		st->freq_ppm = ppb / 1000;
		d->hold_growth = HOLDOVER_PPB + 3 * d->hold_dev +
				 (d->hold_n ? fabs(d->hold_ppb - est_ppb) : 0) +
				 fmax(2000.0, noise_ppb) * (HOLD_AVG - d->hold_n) /
				 HOLD_AVG;
	}
	d->lock_count = 0;
	if (d->last_good_mono) {
		age = mono_ns - d->last_good_mono;
		st->est_error_ns = sat_add(d->last_est_error,
					   llround(fmin(age / 1e9 * d->hold_growth,
							HPS_MAX_BOUND_NS)));
		d->est_mono = mono_ns;
	}
	set_state(d, d->ever_locked ? HPS_DISC_HOLDOVER : HPS_DISC_NO_PHC, out);
	sync_state(d, d->ever_locked, HPS_LEAP_NONE, out);
}

/*
 * The module's armed leap second (leap_pending: 1 insert, 2 delete at the
 * next midnight UTC); the kernel applies it to the system clock at the
 * same midnight (the leap bits of sync_state()).
 */
static int leap_pending(struct hps_disc *d, const struct hps_disc_in *in,
			struct hps_disc_out *out)
{
	int64_t now = in->realtime_ns / NS_PER_SEC;
	long long v = in->attrs.leap_pending;
	int leap;

	/* off, or unreadable: none now, and what was armed stays armed */
	if (!d->cfg.leap || in->attrs.leap_pending_ret)
		return HPS_LEAP_NONE;
	leap = v == 1 ? HPS_LEAP_INSERT : v == 2 ? HPS_LEAP_DELETE : HPS_LEAP_NONE;
	if (leap != HPS_LEAP_NONE) {
		/* never within LEAP_HOLD_S after one: no update then */
		d->leap_at = (now / 86400 + 1) * 86400;
		if (leap == HPS_LEAP_DELETE)
			d->leap_at--;
	}
	if (leap != d->leap)
		out->events |= HPS_EV_LEAP;
	d->leap = leap;
	return leap;
}

/*
 * The host's own state (TimeSync 4.0; 0 before): stratum 16 or leap
 * indicator 3 is unsynchronised, and so, not to vouch for what we cannot
 * read, is a stratum beyond 0..255 or an indicator beyond 0..3.
 */
static void host_state(struct hps_disc *d, const struct hps_phc_attrs *a,
		       struct hps_disc_out *out)
{
	struct hps_status *st = d->st;
	long long stratum = a->stratum_ret ? 0 : a->stratum;
	int unsync;

	unsync = a->stratum_ret && a->stratum_ret != -ENOENT;
	unsync |= a->leapflags_ret ? a->leapflags_ret != -ENOENT :
		  a->leapflags == 3;
	unsync = unsync || stratum >= 16;
	if (unsync != d->host_unsync)
		out->events |= HPS_EV_HOST_UNSYNC;
	d->host_unsync = unsync;
	if (unsync) {
		st->ref_stratum = st->stratum = 16;
	} else {
		st->ref_stratum = stratum > 0 ? stratum : 2;
		st->stratum = st->ref_stratum + 1;
	}
}

/* A poll with a measurement. */
static void decide(struct hps_disc *d, const struct hps_disc_in *in,
		   struct hps_disc_out *out)
{
	struct hps_status *st = d->st;
	const struct hps_measurement *s = &in->m;
	enum hps_servo_state state;
	int64_t abs_off;
	int leap, allow_step, locked;
	double ppb;

	memset(out, 0, sizeof(*out));
	d->measured = 1;
	host_state(d, &in->attrs, out);
	leap = leap_pending(d, in, out);
	if (!in->attrs.freq_ret) {
		if (d->have_phc_freq && d->cfg.feedforward)
			hps_servo_feedforward(d->servo,
					      in->attrs.freq_ppb - d->phc_freq_ppb);
		d->phc_freq_ppb = in->attrs.freq_ppb;
		d->have_phc_freq = 1;
		st->phc_freq_ppb = in->attrs.freq_ppb;
	} else {
		d->have_phc_freq = 0;
	}
	if (in->interfered)
		st->interference++;
	module_disruptions(d, &in->attrs);
	d->vmclock = !in->attrs.vmclock_ret && in->attrs.vmclock;
	st->module_host_utc_error_ns =
		!in->attrs.host_utc_error_ret && in->attrs.host_utc_error_ns >= 0 ?
		in->attrs.host_utc_error_ns : -1;

	abs_off = s->offset_ns < 0 ? -s->offset_ns : s->offset_ns;
	allow_step = abs_off > d->cfg.makestep_threshold * 1e9 &&
		     (d->cfg.makestep_limit < 0 ||
		      st->updates < (uint64_t)d->cfg.makestep_limit);
	d->at_minus_mono = in->at_ns ? in->at_ns - in->mono_ns : 0;
	ppb = hps_servo_measured(d->servo, s->offset_ns,
				 in->mono_ns + d->at_minus_mono, &state);
	if (allow_step && state != HPS_SERVO_START) {
		out->step = 1;
		out->step_offset_ns = s->offset_ns;
		state = HPS_SERVO_JUMP;		/* not counted towards lock */
	}
	out->set_freq = 1;
	out->freq_ppb = ppb;
	kernel_error(d, st->freq_ppm * 1000, ppb,
		     state == HPS_SERVO_PI && !out->step &&
		     !hps_servo_slewing(d->servo), out);

	st->updates++;
	st->reach = ((st->reach << 1) | 1) & 0xff;
	st->last_offset_ns = s->offset_ns;
	st->window_ns = s->window_ns;
	st->ref_time_ns = s->sys_ns;
	st->updated_mono_ns = in->mono_ns;
	st->freq_ppm = ppb / 1000;
	st->residual_freq_ppm = hps_servo_residual_ppb(d->servo) / 1000;
	st->skew_ppm = hps_servo_skew_ppb(d->servo) / 1000;
	st->error_bound_ns = in->bound_ns;
	record_offset(d, s->offset_ns);
	st->est_error_ns = sat_add(sat_add(in->bound_ns, abs_off),
				   s->window_ns / 2);

	/*
	 * Locked by the PI loop's updates only: a slew's 100 ms ones come
	 * before the frequency estimate has had the time to settle.
	 */
	if (state == HPS_SERVO_PI && !hps_servo_slewing(d->servo) &&
	    abs_off < d->cfg.lock_us * 1000) {
		if (d->lock_count) {
			double step = (double)(s->offset_ns - d->lock_prev);

			if (d->lock_pairs < HOLD_AVG)
				d->lock_pairs++;
			d->lock_jit2 += (step * step - d->lock_jit2) /
					d->lock_pairs;
		}
		d->lock_prev = s->offset_ns;
		d->lock_count++;
	} else {
		d->lock_count = 0;
	}
	locked = d->lock_count >= LOCK_COUNT;
	d->ever_locked |= locked;
	if (locked) {
		if (d->hold_n < HOLD_AVG)
			d->hold_n++;
		d->hold_ppb += (ppb - d->hold_ppb) / d->hold_n;
		d->hold_dev += (fabs(ppb - d->hold_ppb) - d->hold_dev) /
			       d->hold_n;
	}
	d->last_good_mono = in->mono_ns;
	d->last_est_error = st->est_error_ns;
	d->est_mono = in->mono_ns;
	set_state(d, locked ? HPS_DISC_LOCKED : HPS_DISC_TRACKING, out);
	sync_state(d, locked, leap, out);
	/*
	 * Disrupted until LOCK_COUNT updates in a row after it were locked,
	 * each with the error within max_error_us.
	 */
	if (d->disrupted)
		d->disrupted = out->synced ? d->disrupted - 1 : LOCK_COUNT;
}

/*
 * The frequency of the last decision took effect at @at_ns, on the time
 * base of hps_disc_in's at_ns.
 */
static void applied(struct hps_disc *d, int64_t at_ns)
{
	/* an update's correction; holdover's is hps_servo_held()'s */
	if (d->measured)
		hps_servo_applied(d->servo, at_ns);
}

int64_t hps_disc_next_poll_ns(const struct hps_disc *d)
{
	int64_t poll_ns = d->cfg.poll_ms * 1000000LL;

	/* retrying a PHC that is gone: at the configured pace */
	if (d->state == HPS_DISC_HOLDOVER || d->state == HPS_DISC_NO_PHC)
		return poll_ns;
	return hps_servo_next_ns(d->servo);
}

void hps_disc_bound(const struct hps_disc *d, int64_t coarse_ns,
		    int64_t mono_ns, int64_t res_ns, struct hps_disc_bound *b)
{
	const struct hps_status *st = d->st;
	double drift, since;
	int64_t void_ns;

	memset(b, 0, sizeof(*b));
	b->as_of_ns = coarse_ns;
	/*
	 * Beside the module's VMClock page, the marker is the module's
	 * count as far as this daemon has judged it: ClockBound's clients
	 * that open the page (disruption support) compare the two, and
	 * report unknown from the module's count of a disruption until the
	 * daemon has seen it (and says "disrupted" itself). The daemon's
	 * own disruptions (its steps, a restart, the PHC opened again) are
	 * in the status then, not the marker.
	 */
	b->disruption_support = d->vmclock && st->module_disruptions >= 0;
	b->marker = b->disruption_support ? (uint64_t)st->module_disruptions :
					    st->marker;
	if (!d->last_good_mono) {
		/* nothing measured: void at once, no bound to give */
		b->void_after_ns = coarse_ns;
		b->bound_ns = HPS_MAX_BOUND_NS;
		b->status = d->disrupted ? HPS_CB_DISRUPTED : HPS_CB_UNKNOWN;
		return;
	}
	if (d->state == HPS_DISC_HOLDOVER || d->state == HPS_DISC_NO_PHC) {
		drift = d->hold_growth;
	} else {
		/*
		 * Measured this poll: the error at the measurement is within
		 * est_error. After it the clock runs at the correction in
		 * force, which is the servo's frequency estimate plus a
		 * phase term that takes the measured offset away over the
		 * next poll; the error grows at most by the estimate's
		 * error (three standard errors of it, and the host's wander
		 * as the module allows it; until locked, the last change of
		 * the estimate besides) plus that phase term's rate, which
		 * over the poll only cancels the offset, but beyond it (a
		 * late or missing poll: void-after is two polls and a
		 * second on) would overshoot.
		 */
		drift = HOLDOVER_PPB + 3 * fabs(hps_servo_skew_ppb(d->servo)) +
			fabs(st->freq_ppm * 1000 - hps_servo_freq_ppb(d->servo));
		if (d->state != HPS_DISC_LOCKED)
			drift += 2000 + fabs(hps_servo_residual_ppb(d->servo));
	}
	/* ClockBound's clients refuse 10^9 ppb or more as malformed */
	if (drift > 999999999)
		drift = 999999999;
	b->max_drift_ppb = (uint32_t)ceil(drift);
	/* est_error was at the measurement (or the missed poll): grow to as-of */
	since = (double)(mono_ns - d->est_mono) + res_ns;
	if (since < 0)
		since = 0;
	b->bound_ns = sat_add(st->est_error_ns,
			      (int64_t)ceil(fmin(since * b->max_drift_ppb / 1e9,
						 HPS_MAX_BOUND_NS)));
	/*
	 * Two polls and the slack after the measurement (or from now in
	 * holdover, whose growth is the holdover rate's); never before
	 * ClockBound's clients stop trusting the written status anyway.
	 */
	void_ns = 2LL * d->cfg.poll_ms * 1000000 + VOID_SLACK_MS * 1000000LL;
	if (d->state != HPS_DISC_HOLDOVER && d->state != HPS_DISC_NO_PHC)
		void_ns -= (int64_t)since;
	b->void_after_ns = coarse_ns + (void_ns > HPS_CB_GRACE_NS ?
					void_ns : HPS_CB_GRACE_NS);
	if (b->bound_ns >= HPS_MAX_BOUND_NS) {
		/*
		 * Beyond what the segment can carry: the clients' 64-bit
		 * arithmetic must not wrap at any age, and such a bound
		 * vouches for nothing.
		 */
		b->bound_ns = HPS_MAX_BOUND_NS;
		b->status = d->disrupted ? HPS_CB_DISRUPTED : HPS_CB_UNKNOWN;
	} else if (d->disrupted)
		b->status = HPS_CB_DISRUPTED;
	else if (st->module_disruptions < 0)
		/*
		 * A PHC that counts no disruptions (not hv_ptp_ext's: no
		 * model, no bound of its own) is followed, not vouched for.
		 */
		b->status = HPS_CB_UNKNOWN;
	else if (d->state == HPS_DISC_LOCKED && st->synced)
		b->status = HPS_CB_SYNCHRONIZED;
	else if (d->state == HPS_DISC_HOLDOVER)
		b->status = HPS_CB_FREE_RUNNING;
	else
		b->status = HPS_CB_UNKNOWN;
}

/* The step asked for in @out was made; @out's frequency is updated. */
static void stepped(struct hps_disc *d, struct hps_disc_out *out)
{
	disruption(d);
	out->freq_ppb = hps_servo_stepped(d->servo);
	d->st->freq_ppm = out->freq_ppb / 1000;
	d->st->steps++;
}

/*
 * Which attribute values are believed: each within its range, or no value
 * (-ERANGE), as one that cannot be read.
 */
static void judge_attrs(struct hps_phc_attrs *a)
{
	if (!a->stratum_ret && (a->stratum < 0 || a->stratum > STRATUM_MAX))
		a->stratum_ret = -ERANGE;
	if (!a->leapflags_ret &&
	    (a->leapflags < 0 || a->leapflags > LEAPFLAGS_MAX))
		a->leapflags_ret = -ERANGE;
	if (!a->freq_ret && (a->freq_ppb < -PHC_FREQ_MAX_PPB ||
			     a->freq_ppb > PHC_FREQ_MAX_PPB))
		a->freq_ret = -ERANGE;
}

/*
 * The measurement's instant on CLOCK_MONOTONIC: its own system timestamp
 * (the crosstimestamp's, or the middle of the best window), not a clock
 * read after it returns, which a preemption can make milliseconds late
 * (at a slew's 5 %, 50 us of phase each). Read after the measurement
 * when that is implausible: before the poll began, or after now.
 */
static int64_t measured_at(const struct hps_measurement *m, int64_t rt_mono,
			   int64_t poll_mono, int64_t now_mono)
{
	int64_t at = m->sys_ns - rt_mono;

	return at >= poll_mono && at <= now_mono ? at : now_mono;
}

/*
 * The measurement's instant on the servo's time base, which the system
 * clock's corrections do not scale: it advances as the PHC's time
 * (sys_ns - offset_ns) does, or, where that moved otherwise than
 * CLOCK_MONOTONIC since the last measurement (a step of the host's
 * time, another PHC), as CLOCK_MONOTONIC did.
 */
static int64_t servo_time(struct hps_disc *d, const struct hps_disc_in *in)
{
	int64_t phc = in->m.sys_ns - in->m.offset_ns, at = phc;
	int64_t dp = phc - d->meas_phc, dm = in->mono_ns - d->meas_mono;

	if (d->meas_mono)
		at = d->meas_at +
		     (dm > 0 && llabs(dp - dm) <= dm / 8 + 1000000 ? dp : dm);
	d->meas_at = at;
	d->meas_phc = phc;
	d->meas_mono = in->mono_ns;
	d->meas_sys = in->m.sys_ns;
	return at;
}

/*
 * Read the PHC: open it if it is not, its bound and attributes, then the
 * offset last (the correction then follows its measurement by the
 * servo's arithmetic alone, and the servo is told when it took effect:
 * at a slew's 5 %, each millisecond between the two is 50 us). A read
 * error that is not transient closes it; the next poll looks again.
 */
static int read_phc(struct hps_disc *d, int64_t poll_mono,
		    struct hps_disc_in *in, struct hps_poll *p)
{
	const struct hps_actuator *a = d->act;
	int64_t rt_mono = 0;
	int ret;

	if (!d->phc_open) {
		ret = a->phc_open(a->ctx);
		if (ret)
			return ret;
		d->phc_open = 1;
		p->opened = 1;
		new_phc(d);
	}
	ret = a->phc_read(a->ctx, &in->bound_ns, &in->attrs);
	if (ret == -ENOENT) {
		in->bound_ns = FOREIGN_BOUND_NS;
		ret = 0;
	}
	if (!ret) {
		judge_attrs(&in->attrs);
		ret = a->phc_measure(a->ctx,
				     d->st->updates % REPROBE_EVERY ==
				     REPROBE_EVERY - 1, &in->m, &rt_mono);
	}
	if (ret) {
		d->st->read_errors++;
		if (!hps_phc_transient(ret)) {
			a->phc_close(a->ctx);
			d->phc_open = 0;
			p->closed = 1;
		}
		return ret;
	}
	in->mono_ns = measured_at(&in->m, rt_mono, poll_mono,
				  a->now_ns(a->ctx, CLOCK_MONOTONIC));
	in->at_ns = servo_time(d, in);
	return 0;
}

/* Apply a decision through the actuator, and take in what came of it. */
static void apply(struct hps_disc *d, struct hps_disc_out *out,
		  struct hps_poll *p)
{
	const struct hps_actuator *a = d->act;
	int64_t at;

	/* the clock first: the servo counts the delay */
	if (out->step) {
		p->step = 1;
		p->step_ns = -out->step_offset_ns;
		p->step_err = a->step(a->ctx, -out->step_offset_ns);
		if (!p->step_err)
			stepped(d, out);
	}
	if (out->set_freq) {
		p->freq_err = a->set_freq(a->ctx, out->freq_ppb, &at);
		/* on the measurement's time base (the PHC's) */
		if (!p->freq_err && !out->step && d->measured)
			applied(d, d->meas_at + (at - d->meas_sys));
	}
	if (out->clear_error) {
		/* before the sync state: clearing resets it in the kernel */
		p->clear_err = a->clear_error(a->ctx);
		p->cleared = !p->clear_err;
	}
	p->sync_err = a->set_sync(a->ctx, out->synced, out->leap,
				  out->est_error_ns);
	if (!p->sync_err && sync_set(d, out))
		p->events |= HPS_EV_SYNC;
	p->synced = out->synced;
	p->events |= out->events;
	p->state = out->state;
	p->host_unsync = d->host_unsync;
	p->leap = d->leap;
}

int64_t hps_disc_poll(struct hps_disc *d, struct hps_poll *p)
{
	const struct hps_actuator *a = d->act;
	struct hps_disc_in in = { 0 };
	struct hps_disc_out out;
	int64_t mono = a->now_ns(a->ctx, CLOCK_MONOTONIC);

	memset(p, 0, sizeof(*p));
	p->state = d->state;
	in.realtime_ns = a->now_ns(a->ctx, CLOCK_REALTIME);
	if (quiet(d, in.realtime_ns)) {
		p->quiet = 1;
		return hps_disc_next_poll_ns(d);
	}
	p->read_err = read_phc(d, mono, &in, p);
	if (p->read_err) {
		missed(d, mono, &out);
	} else {
		in.interfered = a->interfered(a->ctx) > 0;
		p->interfered = in.interfered;
		decide(d, &in, &out);
	}
	apply(d, &out, p);
	return hps_disc_next_poll_ns(d);
}
