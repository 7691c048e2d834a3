// SPDX-License-Identifier: GPL-2.0
/*
 * user/discipline.c, the daemon's core, against an exact simulated system
 * clock: the scenarios the guest tests run (tools/testing/selftests style
 * in selftests/hv_ptp_ext/sync_daemon.c), in milliseconds. The core runs
 * its own poll (hps_disc_poll(): open, read, measure, decide, apply)
 * through an actuator on the simulation, as it runs through hv-ptp-sync.c's
 * on the system: the same sequence, the servo's time base included. The
 * simulation knows the true error of the system clock at every poll, so
 * the core's error estimate is checked against the truth: while the kernel
 * is told "synchronised", the true error is within esterror, always.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "clockadj.h"
#include "clockbound.h"
#include "discipline.h"
#include "kselftest_harness.h"

#define SEC		1000000000LL
#define MIDNIGHT	1798761600LL	/* 2027-01-01 00:00:00 UTC */

struct sim {
	struct hps_config cfg;
	struct hps_status st;
	struct hps_disc *d;
	struct hps_actuator act;	/* the core's view of this simulation */
	struct hps_phc_attrs attrs;	/* what the PHC publishes */
	int64_t mono;			/* true time, ns */
	int64_t realtime0;		/* CLOCK_REALTIME at mono 0, ns */
	double err_ns;			/* system clock - true time */
	double natural_ppb;		/* the uncorrected clock's rate error */
	double corr_ppb;		/* the correction in force */
	double phc_noise_ns;		/* PHC error, uniform +- */
	int64_t bound_ns;		/* the PHC's published error bound */
	int phc_ok;			/* 0: no PHC (no measurement) */
	int phc_open;			/* the core has it open */
	int phc_opens;			/* ... how often it opened it */
	int reopen;			/* the next read fails (ENODEV) once */
	int fixed;			/* measure fixed_ns, not the error */
	int64_t fixed_ns;
	double late_ns;			/* polls late by up to this */
	int64_t apply_ns;		/* corrections take effect up to this late */
	int64_t lag_ns;			/* the last one's, at random */
	double corr_before;		/* the correction until then */
	/*
	 * The kernel's clock, where grid_ppb > 0: it runs at one of two
	 * rates grid_ppb apart (multipliers of its clocksource, the grid
	 * offset by grid_at_ppb from the clock's natural rate), chosen at
	 * each wake-up (every 100 ms) by the sign of its NTP error: the
	 * phase it owes the frequency asked of it. A change of frequency
	 * adds that change times the time since the last update (up to a
	 * 4 ms tick) to the error; a step or a clear zeroes it.
	 */
	double grid_ppb, grid_at_ppb;
	double kernel_err_ns;
	int clears, ignore_clears;
	int interfered;
	unsigned long long rng;
	/* the kernel's sync state, as applied */
	int synced, leap;
	int64_t esterror;
	/* counted over every poll */
	int polls, polls_synced, outside, steps_applied, quiet;
	unsigned int events;
	double worst_ratio;		/* |error| / esterror while synced */
	/*
	 * The ClockBound segment, written as hv-ptp-sync.c writes it: after
	 * every poll and every refresh_ns between them. Each one is checked
	 * as ClockBound's clients read it (hps_cb_now()) over everything
	 * they would vouch for if the daemon died right after writing it;
	 * and what a client reading at 10 Hz saw while the daemon lived.
	 */
	int64_t refresh_ns, written_at;
	int cb_checked, cb_outside, cb_status, cb_malformed;
	int cb_void_early;		/* vouched, void before the clients' grace */
	struct hps_disc_bound cb;	/* the last one */
	double cb_worst;		/* |error| / bound where vouched for */
	int64_t since_poll;		/* true time since the last poll */
	int read_as[4];			/* 10 Hz readings, by status */
};

static double uniform(struct sim *s)
{
	s->rng = s->rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(s->rng >> 11) / (1ULL << 53) * 2 - 1;
}

/* ---- the actuator on the simulation ---- */

static int64_t sim_realtime(const struct sim *s)
{
	return s->realtime0 + s->mono + llround(s->err_ns);
}

static int64_t act_now(void *ctx, clockid_t id)
{
	struct sim *s = ctx;

	return id == CLOCK_REALTIME ? sim_realtime(s) : s->mono;
}

static int act_phc_open(void *ctx)
{
	struct sim *s = ctx;

	if (!s->phc_ok)
		return -ENODEV;
	s->phc_open = 1;
	s->phc_opens++;
	return 0;
}

static void act_phc_close(void *ctx)
{
	((struct sim *)ctx)->phc_open = 0;
}

static int act_phc_read(void *ctx, int64_t *bound, struct hps_phc_attrs *a)
{
	struct sim *s = ctx;

	if (!s->phc_ok || s->reopen) {
		s->reopen = 0;
		return -ENODEV;
	}
	*a = s->attrs;
	/* bound_ns < 0: a PHC that publishes none (hv_utils') */
	*bound = s->bound_ns;
	return s->bound_ns < 0 ? -ENOENT : 0;
}

static int act_phc_measure(void *ctx, int reprobe, struct hps_measurement *m,
			   int64_t *rt_mono)
{
	struct sim *s = ctx;

	(void)reprobe;
	*rt_mono = sim_realtime(s) - s->mono;
	m->offset_ns = s->fixed ? s->fixed_ns :
		       llround(s->err_ns + s->phc_noise_ns * uniform(s));
	m->sys_ns = sim_realtime(s);
	m->window_ns = 0;
	return 0;
}

static int act_interfered(void *ctx)
{
	struct sim *s = ctx;
	int i = s->interfered;

	s->interfered = 0;
	return i;
}

static int act_step(void *ctx, int64_t delta_ns)
{
	struct sim *s = ctx;

	s->err_ns += delta_ns;
	s->kernel_err_ns = 0;
	s->steps_applied++;
	return 0;
}

/* A new correction takes effect up to apply_ns after the call. */
static int act_set_freq(void *ctx, double ppb, int64_t *at_ns)
{
	struct sim *s = ctx;

	/* booked since the last update, up to a 4 ms tick before */
	if (s->grid_ppb > 0)
		s->kernel_err_ns += (ppb - s->corr_ppb) * 4e-3 *
				    (uniform(s) + 1) / 2;
	s->corr_ppb = ppb;
	s->lag_ns = llround(s->apply_ns * (uniform(s) + 1) / 2);
	*at_ns = sim_realtime(s) + s->lag_ns;
	return 0;
}

static int act_clear_error(void *ctx)
{
	struct sim *s = ctx;

	s->clears++;
	if (!s->ignore_clears)
		s->kernel_err_ns = 0;
	return 0;
}

/* The kernel's side of hps_clock_set_sync(), and the honesty check. */
static int act_set_sync(void *ctx, int synced, int leap, int64_t est_ns)
{
	struct sim *s = ctx;
	double err = fabs(s->err_ns);

	s->synced = synced;
	s->leap = leap;
	s->esterror = est_ns;
	if (s->synced) {
		s->polls_synced++;
		if (err > s->esterror)
			s->outside++;
		if (s->esterror && err / s->esterror > s->worst_ratio)
			s->worst_ratio = err / s->esterror;
	}
	return 0;
}

static void sim_init(struct sim *s, double kernel_freq_ppb)
{
	memset(s, 0, sizeof(*s));
	hps_config_defaults(&s->cfg);
	s->realtime0 = (MIDNIGHT - 86400 / 2) * SEC;
	s->phc_ok = 1;
	s->phc_noise_ns = 100;
	s->bound_ns = 1000;
	s->rng = 1;
	s->refresh_ns = HPS_CB_REFRESH_NS;
	s->corr_ppb = s->corr_before = kernel_freq_ppb;
	/* hv_ptp_ext's attributes: a synchronised host at stratum 2 */
	s->attrs.stratum = 2;
	s->attrs.leapflags = 0;
	s->attrs.freq_ppb = 0;
	s->attrs.leap_pending = 0;
	s->act = (struct hps_actuator){
		.ctx = s,
		.now_ns = act_now,
		.phc_open = act_phc_open,
		.phc_close = act_phc_close,
		.phc_read = act_phc_read,
		.phc_measure = act_phc_measure,
		.interfered = act_interfered,
		.step = act_step,
		.set_freq = act_set_freq,
		.clear_error = act_clear_error,
		.set_sync = act_set_sync,
	};
	s->d = hps_disc_create(&s->cfg, kernel_freq_ppb, &s->st, &s->act);
	if (!s->d)
		abort();	/* out of memory */
}

/* The segment's values for @b, as publish.c writes them. */
static struct hps_cb_values cb_values(const struct hps_disc_bound *b)
{
	return (struct hps_cb_values){
		.as_of = { b->as_of_ns / SEC, b->as_of_ns % SEC },
		.void_after = { b->void_after_ns / SEC, b->void_after_ns % SEC },
		.bound_ns = b->bound_ns,
		.disruption_marker = b->marker,
		.max_drift_ppb = b->max_drift_ppb,
		.status = b->status,
	};
}

/*
 * A segment just written: wherever ClockBound's clients vouch for it
 * (synchronized or free-running as hps_cb_now() computes the status:
 * the 5 s grace whatever void-after says, then void-after), at any age
 * up to a second past both, the truth must be inside bound + drift x
 * age, however the clock runs on with the correction in force (the
 * daemon may die right after writing it).
 */
static void check_bound(struct sim *s, const struct hps_disc_bound *b)
{
	double rate = s->natural_ppb + s->corr_ppb, err;
	struct hps_cb_values v = cb_values(b);
	int64_t end = b->void_after_ns - b->as_of_ns, t, bound, at;
	struct timespec mono;
	int k, st;

	/*
	 * ClockBound's clients vouch for a written status until as-of + 5 s
	 * whatever void-after says: a sooner void-after is a promise they
	 * do not keep (hv-ptp-now and they would disagree).
	 */
	if ((b->status == HPS_CB_SYNCHRONIZED ||
	     b->status == HPS_CB_FREE_RUNNING) && end < HPS_CB_GRACE_NS)
		s->cb_void_early++;
	if (end < HPS_CB_GRACE_NS)
		end = HPS_CB_GRACE_NS;
	end += SEC;
	for (k = 0; k <= 32; k++) {
		t = end * k / 32;
		at = b->as_of_ns + t;
		mono = (struct timespec){ at / SEC, at % SEC };
		if (hps_cb_now(&v, &mono, &bound, &st)) {
			s->cb_malformed++;
			return;
		}
		if (st != HPS_CB_SYNCHRONIZED && st != HPS_CB_FREE_RUNNING)
			continue;
		err = fabs(s->err_ns + rate * t / 1e9);
		s->cb_checked++;
		if (err > bound)
			s->cb_outside++;
		if (err / bound > s->cb_worst)
			s->cb_worst = err / bound;
	}
}

/*
 * What a client reading at 10 Hz saw of the segment written last, from
 * its writing until now (when the next one replaces it).
 */
static void read_10hz(struct sim *s)
{
	struct hps_cb_values v = cb_values(&s->cb);
	struct timespec mono;
	int64_t t, bound;
	int st;

	if (!s->written_at)
		return;
	for (t = s->written_at; t < s->mono; t += SEC / 10) {
		mono = (struct timespec){ t / SEC, t % SEC };
		if (!hps_cb_now(&v, &mono, &bound, &st) && st >= 0 && st < 4)
			s->read_as[st]++;
	}
}

/* The daemon writes the segment (hv-ptp-sync.c's hps_publish_bound()). */
static void publish(struct sim *s)
{
	struct hps_disc_bound b;

	read_10hz(s);
	hps_disc_bound(s->d, s->mono, s->mono, 0, &b);
	s->cb_status = b.status;
	s->cb = b;
	s->written_at = s->mono;
	check_bound(s, &b);
}

/* The kernel's clock for @ns at the correction @corr_ppb. */
static void kernel_run(struct sim *s, int64_t ns, double corr_ppb)
{
	double want = s->natural_ppb + corr_ppb, lo, rate;
	int64_t h;

	while (ns > 0) {
		h = ns < SEC / 10 ? ns : SEC / 10;
		lo = floor((want - s->grid_at_ppb) / s->grid_ppb) *
		     s->grid_ppb + s->grid_at_ppb;
		rate = s->kernel_err_ns > 0 ? lo + s->grid_ppb : lo;
		s->err_ns += rate * h / 1e9;
		s->kernel_err_ns += (want - rate) * h / 1e9;
		ns -= h;
	}
}

/*
 * The clock runs for @dt: at the correction before the last poll until it
 * took effect (lag_ns after the poll), at the new one after.
 */
static void advance(struct sim *s, int64_t dt)
{
	int64_t a = s->lag_ns - s->since_poll;

	if (a < 0)
		a = 0;
	if (a > dt)
		a = dt;
	if (s->grid_ppb > 0) {
		kernel_run(s, a, s->corr_before);
		kernel_run(s, dt - a, s->corr_ppb);
	} else {
		s->err_ns += ((s->natural_ppb + s->corr_before) * a +
			      (s->natural_ppb + s->corr_ppb) * (dt - a)) / 1e9;
	}
	s->mono += dt;
	s->since_poll += dt;
}

/*
 * One poll: the clock runs for the interval the daemon waits (as the core
 * says, late by up to late_ns at random), the segment written every
 * refresh_ns meanwhile, then the core's own poll through the actuator,
 * and the segment written after it.
 */
static void poll_once(struct sim *s)
{
	int64_t dt = hps_disc_next_poll_ns(s->d), end;
	struct hps_poll p;

	if (s->late_ns)
		dt += llround(s->late_ns * (uniform(s) + 1) / 2);
	end = s->mono + dt;
	while (s->written_at && s->written_at + s->refresh_ns < end) {
		advance(s, s->written_at + s->refresh_ns - s->mono);
		publish(s);
	}
	advance(s, end - s->mono);
	s->corr_before = s->corr_ppb;
	s->since_poll = 0;
	s->polls++;
	hps_disc_poll(s->d, &p);
	publish(s);
	if (p.quiet) {
		s->quiet++;
		return;
	}
	s->events |= p.events;
}

static void run_s(struct sim *s, double seconds)
{
	int64_t end = s->mono + llround(seconds * 1e9);

	while (s->mono < end)
		poll_once(s);
}

/* Seconds until |error| stays under @ns for good, within @max_s; -1 never. */
static double settle_s(struct sim *s, double ns, double max_s)
{
	int64_t start = s->mono, end = s->mono + llround(max_s * 1e9);
	double t = -1;

	while (s->mono < end) {
		poll_once(s);
		if (fabs(s->err_ns) > ns)
			t = -1;
		else if (t < 0)
			t = (s->mono - start) / 1e9;
	}
	return t;
}

static void sim_done(struct sim *s)
{
	hps_disc_destroy(s->d);
}

/*
 * sync_daemon.c converge.*.from_50ms_100ppm: the system clock 50 ms ahead
 * and a correction of +100 ppm in force where none is needed. Below the
 * step threshold: slewed, never stepped; locked; the error estimate
 * covers the truth at every synchronised poll.
 */
TEST(converge_from_50ms_100ppm)
{
	struct sim s;
	double t10, t1;

	sim_init(&s, 100000);
	s.err_ns = 50e6;
	t10 = settle_s(&s, 10000, 60);
	TH_LOG("within 10 us for good after %.1f s, state %s, %d steps",
	       t10, s.st.state, s.steps_applied);
	sim_done(&s);

	sim_init(&s, 100000);
	s.err_ns = 50e6;
	t1 = settle_s(&s, 1000, 60);
	TH_LOG("within 1 us for good after %.1f s; %d of %d synchronised polls outside esterror (worst %.2f of it)",
	       t1, s.outside, s.polls_synced, s.worst_ratio);
	EXPECT_LT(0, t10);
	/* the dead-beat slew: 1 s at 5 % after the two-measurement start */
	EXPECT_GE(3.0, t10);
	EXPECT_GT(30, t1);
	EXPECT_LT(0, t1);
	EXPECT_EQ(0, s.steps_applied);
	EXPECT_EQ(0, s.st.steps);
	EXPECT_STREQ("locked", s.st.state);
	EXPECT_EQ(1, s.synced);
	EXPECT_LT(0, s.polls_synced);
	EXPECT_EQ(0, s.outside);
	/* the correction found: the clock needs none */
	EXPECT_GT(1000, fabs(s.corr_ppb));
	EXPECT_EQ(HPS_LEAP_NONE, s.st.leap);
	EXPECT_EQ(3, s.st.stratum);
	sim_done(&s);
}

/* RMS of the error at each poll over @seconds. */
static double rms_s(struct sim *s, double seconds)
{
	int64_t end = s->mono + llround(seconds * 1e9);
	double sum = 0;
	int n = 0;

	while (s->mono < end) {
		poll_once(s);
		sum += s->err_ns * s->err_ns;
		n++;
	}
	return sqrt(sum / n);
}

/*
 * The kernel's NTP error (discipline.c, KERNEL_ERROR_PPB) on a clock
 * with a 155 ppb grid of rates, as a 2.5 GHz TSC has, and an exact PHC:
 * the slew from 50 ms / +100 ppm leaves tens of microseconds of it, and
 * were it not cleared, the clock would stay on one rate for minutes and
 * the servo hunt between the two (as measured in a guest: 17 ns RMS). It
 * is cleared once, after the slew's last large change, and no more; not
 * while a leap second is armed.
 */
TEST(kernel_error)
{
	double rms[2], last_big = 0, prev = 100000;
	int64_t cleared_at = -1;
	struct sim s;
	int k;

	for (k = 0; k < 2; k++) {
		sim_init(&s, 100000);
		s.phc_noise_ns = 0;
		s.grid_ppb = 155;
		s.grid_at_ppb = 37;
		s.err_ns = 50e6;
		s.ignore_clears = k;
		while (s.mono < 30 * SEC) {
			poll_once(&s);
			if (fabs(s.corr_ppb - prev) > 1000)
				last_big = s.mono;
			prev = s.corr_ppb;
			if (s.clears && cleared_at < 0)
				cleared_at = s.mono;
		}
		rms[k] = rms_s(&s, 60);
		TH_LOG("%s: %d clear(s), %.1f s in, the last change over 1 ppm %.1f s in; RMS %.1f ns over the next 60 s",
		       k ? "error left" : "error cleared", s.clears,
		       cleared_at / 1e9, last_big / 1e9, rms[k]);
		EXPECT_EQ(1, s.clears);
		EXPECT_LT(last_big, cleared_at);
		EXPECT_EQ(0, s.outside);
		sim_done(&s);
		cleared_at = -1;
	}
	EXPECT_GT(8, rms[0]);
	EXPECT_LT(3 * rms[0], rms[1]);

	/* a leap second armed: left alone */
	sim_init(&s, 0);
	s.attrs.leap_pending = 1;
	s.realtime0 = MIDNIGHT * SEC - 3600 * SEC;
	s.err_ns = 5e6;
	run_s(&s, 30);
	EXPECT_EQ(HPS_LEAP_INSERT, s.leap);
	EXPECT_EQ(0, s.clears);
	sim_done(&s);
}

/*
 * A clean start (the accuracy issue's starts): 50 ms / +100 ppm,
 * 500 ms / -50 ppm and 5 ms / 0 ppm, slewed (below makestep's 1 s).
 * Within 10 us no later than phc2sys, which steps at its second update,
 * a second in (2.2 s in docs/benchmarks.md), where the clamp allows it:
 * 50 ms and 5 ms; 500 ms at 5 % takes 10 s. Beyond the step threshold
 * (makestep 0.1 here) the clock is stepped once, at the second
 * measurement, and is within 10 us a second later.
 *
 * With polls on time (ten seeds of the PHC's noise) the approach is
 * monotone: never beyond zero by more than that noise (after a step, by
 * the frequency the start measured over 100 ms, which carries the noise
 * as up to 2 ppm for a poll). With polls late by up to 50 ms and each
 * correction taking effect up to 8 ms after its measurement (a loaded
 * guest; the daemon tells the servo when it applied it), fifty seeds
 * each: within 10 % of the initial offset, the goal, but not
 * within the noise: the slew's last percent-sized change runs on for a
 * lag the servo knows only on average, and 8 ms of a 3 % slew is 240 us
 * (about 30 % of the seeds overshoot by more than 1 us, the worst by
 * 3.7 % of a 5 ms start); the PI loop takes that out in up to three
 * polls more.
 */
TEST(clean_start)
{
	static const struct {
		double off_ns, ppb, within_s, makestep;
	} c[] = {
		{ 50e6, 100000, 2.0, 1.0 }, { 500e6, -50000, 11.0, 1.0 },
		{ 5e6, 0, 1.0, 1.0 }, { -50e6, -100000, 2.0, 1.0 },
		{ -500e6, 50000, 11.0, 1.0 }, { 500e6, -50000, 1.0, 0.1 },
	};
	double t10, worst, err0, worst_t10, worst_over;
	int late, seed, seeds, over_1us;
	unsigned int i;
	struct sim s;

	for (i = 0; i < 2 * ARRAY_SIZE(c); i++) {
		late = i >= ARRAY_SIZE(c);
		seeds = late ? 50 : 10;
		worst_t10 = worst_over = 0;
		over_1us = 0;
		for (seed = 1; seed <= seeds; seed++) {
			sim_init(&s, c[i % ARRAY_SIZE(c)].ppb);
			s.rng = seed;
			s.cfg.makestep_threshold = c[i % ARRAY_SIZE(c)].makestep;
			ASSERT_EQ(0, hps_disc_reconfigure(s.d, &s.cfg));
			s.late_ns = late ? 50e6 : 0;
			s.apply_ns = late ? 8000000 : 0;
			err0 = s.err_ns = c[i % ARRAY_SIZE(c)].off_ns;
			worst = 0;
			t10 = -1;
			while (s.mono < 60 * SEC) {
				poll_once(&s);
				/* past zero: the sign against the start's */
				if (s.err_ns * (err0 > 0 ? -1 : 1) > worst)
					worst = s.err_ns * (err0 > 0 ? -1 : 1);
				if (fabs(s.err_ns) > 10000)
					t10 = -1;
				else if (t10 < 0)
					t10 = s.mono / 1e9;
			}
			EXPECT_LT(0, t10);
			EXPECT_GE(c[i % ARRAY_SIZE(c)].within_s +
				  (late ? 3 * s.cfg.poll_ms / 1000.0 : 0), t10);
			EXPECT_GE(0.1 * fabs(err0), worst);
			/*
			 * ns: 1 us; after a step, +-100 ns over the start's
			 * 100 ms is 2000 ppb, for a poll
			 */
			if (!late)
				EXPECT_GE(s.steps_applied ?
					  2000.0 * s.cfg.poll_ms / 1000 : 1000,
					  worst);
			EXPECT_EQ(fabs(err0) > s.cfg.makestep_threshold * 1e9,
				  s.steps_applied);
			EXPECT_STREQ("locked", s.st.state);
			over_1us += worst > 1000;
			worst_t10 = fmax(worst_t10, t10);
			worst_over = fmax(worst_over, worst);
			sim_done(&s);
		}
		TH_LOG("from %+.0f ms, %+.0f ppm, makestep %.1f, polls %s, %d seeds: within 10 us after %.2f s at worst, overshoot %.0f ns at worst (%.4f %% of the start), over 1 us in %d, %d steps",
		       err0 / 1e6, c[i % ARRAY_SIZE(c)].ppb / 1000,
		       s.cfg.makestep_threshold,
		       late ? "late (<= 50 ms, applied <= 8 ms after)" : "on time",
		       seeds, worst_t10, worst_over,
		       100 * worst_over / fabs(err0), over_1us,
		       s.steps_applied);
	}
}

/*
 * daemon.holdover_and_reopen: locked, the PHC gone for 30 s while the
 * clock's own rate moves by 0.3 ppm, then back under another device.
 * Holdover keeps the locked frequency, its estimate covers the truth all
 * along, and the clock locks again.
 */
TEST(holdover_30s_and_reopen)
{
	struct sim s;
	int64_t est_before;
	double err_max = 0;
	int i;

	sim_init(&s, 0);
	s.natural_ppb = 12000;		/* a 12 ppm fast oscillator */
	run_s(&s, 120);
	ASSERT_STREQ("locked", s.st.state);
	est_before = s.st.est_error_ns;
	s.phc_ok = 0;
	s.natural_ppb += 300;
	for (i = 0; i < 30 * 1000 / s.cfg.poll_ms; i++) {
		poll_once(&s);
		err_max = fmax(err_max, fabs(s.err_ns));
	}
	TH_LOG("30 s of holdover: worst error %.0f ns, estimate %lld -> %lld ns, held %.3f ppm (needed %.3f)",
	       err_max, (long long)est_before, (long long)s.st.est_error_ns,
	       s.corr_ppb / 1000, -s.natural_ppb / 1000);
	EXPECT_STREQ("holdover", s.st.state);
	EXPECT_TRUE(s.events & HPS_EV_STATE);
	EXPECT_EQ(0, s.outside);
	EXPECT_LE(err_max, s.st.est_error_ns);
	/* the locked average, not a phase-laden last correction */
	EXPECT_GT(100, fabs(s.corr_ppb + 12000));
	EXPECT_EQ(0, s.st.reach);

	/* the core finds the PHC again at its next poll */
	s.phc_ok = 1;
	run_s(&s, 30);
	EXPECT_EQ(2, s.phc_opens);
	EXPECT_STREQ("locked", s.st.state);
	EXPECT_GT(1000, fabs(s.err_ns));
	EXPECT_EQ(0, s.outside);
	sim_done(&s);
}

/*
 * A guest-found bug: holdover right after lock held a frequency 10-15 ppm
 * off (the servo's last correction, phase term and all), and the estimate
 * grew slower than the error. Locked for the fewest updates possible,
 * then 60 s without a PHC: the estimate must cover the truth. At 500 ms
 * polls, those of the guest then (at the default 1 s, the integrator has
 * had half the updates per second at the lock: within 2.3 ppm).
 */
TEST(holdover_right_after_lock)
{
	unsigned long long seed;
	struct sim s;
	int i, locked_at;

	for (seed = 1; seed <= 8; seed++) {
	sim_init(&s, 100000);
	s.cfg.poll_ms = 500;
	ASSERT_EQ(0, hps_disc_reconfigure(s.d, &s.cfg));
	s.rng = seed;
	s.err_ns = 5e6;
	s.natural_ppb = -7000;
	/* the PHC as noisy as azure's at its youngest */
	s.phc_noise_ns = 1500;
	s.bound_ns = 3000;
	locked_at = -1;
	for (i = 0; i < 600 && locked_at < 0; i++) {
		poll_once(&s);
		if (!strcmp(s.st.state, "locked"))
			locked_at = i;
	}
	ASSERT_LE(0, locked_at);
	s.phc_ok = 0;
	for (i = 0; i < 60 * 1000 / s.cfg.poll_ms; i++) {
		poll_once(&s);
		ASSERT_GE(s.st.est_error_ns, llround(fabs(s.err_ns)))
			TH_LOG("%.1f s into holdover: error %.0f ns, estimate %lld ns",
			       (i + 1) * s.cfg.poll_ms / 1000.0, s.err_ns,
			       (long long)s.st.est_error_ns);
	}
	TH_LOG("seed %llu: locked after %d polls; 60 s later: error %.0f ns, estimate %lld ns, held %.3f ppm (needed %.3f)",
	       seed, locked_at + 1, s.err_ns, (long long)s.st.est_error_ns,
	       s.corr_ppb / 1000, -s.natural_ppb / 1000);
	/* the guest saw 10-15 ppm off; here within 2 ppm of what is needed */
	EXPECT_GT(2000, fabs(s.corr_ppb + s.natural_ppb));
	/*
	 * honest, and not absurd: with the jitter of the slew before the
	 * lock as its noise margin the estimate was 677 ms here
	 */
	EXPECT_GT(5000000, s.st.est_error_ns);
	EXPECT_EQ(0, s.outside);
	sim_done(&s);
	}
}

/*
 * daemon.host_unsynchronised: the host says stratum 16, or leap indicator
 * 3: followed, but the kernel is told unsynchronised; then synchronised
 * again when the host is.
 */
TEST(host_unsynchronised)
{
	struct sim s;

	sim_init(&s, 0);
	run_s(&s, 60);
	ASSERT_EQ(1, s.synced);
	s.events = 0;
	s.attrs.stratum = 16;
	run_s(&s, 5);
	EXPECT_EQ(0, s.synced);
	EXPECT_EQ(HPS_LEAP_UNSYNC, s.st.leap);
	EXPECT_EQ(16, s.st.stratum);
	EXPECT_TRUE(s.events & HPS_EV_HOST_UNSYNC);
	EXPECT_STREQ("locked", s.st.state);	/* still followed */
	s.attrs.stratum = 2;
	run_s(&s, 5);
	EXPECT_EQ(1, s.synced);
	s.attrs.leapflags = 3;
	run_s(&s, 5);
	EXPECT_EQ(0, s.synced);
	s.attrs.leapflags = 0;
	run_s(&s, 5);
	EXPECT_EQ(1, s.synced);
	EXPECT_EQ(3, s.st.stratum);
	EXPECT_EQ(0, s.outside);
	sim_done(&s);
}

/*
 * Each hostile or missing attribute value, as the PHC hands them over
 * (values as they read, or the error of reading them): the core believes
 * a stratum in 0..255, a leap indicator in 0..3 and a rate within 10 %;
 * one out of range, or that cannot be read, is no sync we vouch for; one
 * that does not exist (another driver's PHC) is no doubt.
 */
TEST(hostile_attributes)
{
	static const struct {
		const char *what;
		int stratum_ret, leapflags_ret, freq_ret, leap_pending_ret;
		long long stratum, leapflags, freq_ppb, leap_pending;
		int synced, stratum_now, leap;
	} cases[] = {
		{ "a good host", 0, 0, 0, 0, 2, 0, 0, 0, 1, 3, HPS_LEAP_NONE },
		{ "hv_utils' PHC: none of them", -ENOENT, -ENOENT, -ENOENT, -ENOENT, 0, 0, 0, 0, 1, 3, HPS_LEAP_NONE },
		{ "stratum 0 (TimeSync before 4.0)", 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, HPS_LEAP_NONE },
		{ "stratum 300", 0, 0, 0, 0, 300, 0, 0, 0, 0, 16, HPS_LEAP_UNSYNC },
		{ "stratum -7", 0, 0, 0, 0, -7, 0, 0, 0, 0, 16, HPS_LEAP_UNSYNC },
		{ "stratum unreadable", -EIO, 0, 0, 0, 0, 0, 0, 0, 0, 16, HPS_LEAP_UNSYNC },
		{ "stratum no number", -EINVAL, 0, 0, 0, 0, 0, 0, 0, 0, 16, HPS_LEAP_UNSYNC },
		{ "stratum 15", 0, 0, 0, 0, 15, 0, 0, 0, 1, 16, HPS_LEAP_NONE },
		{ "stratum 255", 0, 0, 0, 0, 255, 0, 0, 0, 0, 16, HPS_LEAP_UNSYNC },
		{ "leapflags 12", 0, 0, 0, 0, 2, 12, 0, 0, 0, 16, HPS_LEAP_UNSYNC },
		{ "freq_ppb 999999999", 0, 0, 0, 0, 2, 0, 999999999, 0, 1, 3, HPS_LEAP_NONE },
		{ "freq_ppb unreadable", 0, 0, -EIO, 0, 2, 0, 999999999, 0, 1, 3, HPS_LEAP_NONE },
		{ "leap_pending 7", 0, 0, 0, 0, 2, 0, 0, 7, 1, 3, HPS_LEAP_NONE },
		{ "leap_pending -1", 0, 0, 0, 0, 2, 0, 0, -1, 1, 3, HPS_LEAP_NONE },
		{ "leap_pending unreadable", 0, 0, 0, -EIO, 2, 0, 0, 1, 1, 3, HPS_LEAP_NONE },
		{ "leap_pending 1", 0, 0, 0, 0, 2, 0, 0, 1, 1, 3, HPS_LEAP_INSERT },
		{ "leap_pending 2", 0, 0, 0, 0, 2, 0, 0, 2, 1, 3, HPS_LEAP_DELETE },
	};
	struct sim s;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		sim_init(&s, 0);
		run_s(&s, 30);
		s.attrs.stratum_ret = cases[i].stratum_ret;
		s.attrs.leapflags_ret = cases[i].leapflags_ret;
		s.attrs.freq_ret = cases[i].freq_ret;
		s.attrs.leap_pending_ret = cases[i].leap_pending_ret;
		s.attrs.stratum = cases[i].stratum;
		s.attrs.leapflags = cases[i].leapflags;
		s.attrs.freq_ppb = cases[i].freq_ppb;
		s.attrs.leap_pending = cases[i].leap_pending;
		run_s(&s, 2);
		EXPECT_EQ(cases[i].synced, s.synced) TH_LOG("%s", cases[i].what);
		EXPECT_EQ(cases[i].stratum_now, s.st.stratum)
			TH_LOG("%s", cases[i].what);
		EXPECT_EQ(cases[i].leap, s.st.leap) TH_LOG("%s", cases[i].what);
		/* a rate out of range feeds nothing forward */
		EXPECT_GT(1000, fabs(s.corr_ppb)) TH_LOG("%s", cases[i].what);
		EXPECT_STREQ("locked", s.st.state) TH_LOG("%s", cases[i].what);
		sim_done(&s);
	}
}

/*
 * daemon.leap_second: the module arms an insertion for midnight; the
 * kernel gets STA_INS while synchronised, nothing is measured within 2 s
 * of midnight, and the leap bits go when the module's do.
 */
TEST(leap_second)
{
	struct sim s;
	int64_t to_midnight;

	sim_init(&s, 0);
	run_s(&s, 60);
	/* 30 s before midnight */
	to_midnight = MIDNIGHT * SEC - (s.realtime0 + s.mono);
	s.realtime0 += to_midnight - 30 * SEC;
	s.attrs.leap_pending = 1;
	run_s(&s, 5);
	EXPECT_EQ(HPS_LEAP_INSERT, s.leap);
	EXPECT_EQ(HPS_LEAP_INSERT, s.st.leap);
	EXPECT_TRUE(s.events & HPS_EV_LEAP);
	run_s(&s, 22);			/* to 23:59:57 */
	EXPECT_EQ(0, s.quiet);
	run_s(&s, 6);			/* to 00:00:03: 2 s either side quiet */
	/* polls in those 4000 ms, one either way */
	EXPECT_LE(4000 / s.cfg.poll_ms - 1, s.quiet);
	EXPECT_GE(4000 / s.cfg.poll_ms + 1, s.quiet);
	s.attrs.leap_pending = 0;
	s.events = 0;
	run_s(&s, 5);
	EXPECT_EQ(HPS_LEAP_NONE, s.leap);
	EXPECT_TRUE(s.events & HPS_EV_LEAP);
	EXPECT_EQ(1, s.synced);
	EXPECT_EQ(0, s.outside);

	/* leap = no in the configuration: never passed on */
	sim_done(&s);
	sim_init(&s, 0);
	s.cfg.leap = 0;
	ASSERT_EQ(0, hps_disc_reconfigure(s.d, &s.cfg));
	s.attrs.leap_pending = 2;
	run_s(&s, 30);
	EXPECT_EQ(HPS_LEAP_NONE, s.leap);
	EXPECT_EQ(1, s.synced);
	sim_done(&s);
}

/*
 * The host's clock a day ahead (a restored snapshot, a host whose clock
 * was set): stepped once (makestep 1.0 -1), then locked again; a day
 * later the other way.
 */
TEST(day_jump)
{
	struct sim s;

	sim_init(&s, 0);
	run_s(&s, 60);
	ASSERT_STREQ("locked", s.st.state);
	s.err_ns -= 86400.0 * SEC;	/* the system clock a day behind */
	run_s(&s, 30);
	EXPECT_EQ(1, s.st.steps);
	EXPECT_EQ(1, s.steps_applied);
	EXPECT_STREQ("locked", s.st.state);
	EXPECT_GT(1000, fabs(s.err_ns));
	s.err_ns += 86400.0 * SEC;
	run_s(&s, 30);
	EXPECT_EQ(2, s.st.steps);
	EXPECT_GT(1000, fabs(s.err_ns));
	EXPECT_EQ(0, s.outside);
	sim_done(&s);
}

/* makestep's limit: no step after the first N updates; slewed instead. */
TEST(makestep_limit)
{
	struct sim s;

	sim_init(&s, 0);
	s.cfg.makestep_limit = 3;
	ASSERT_EQ(0, hps_disc_reconfigure(s.d, &s.cfg));
	run_s(&s, 30);
	s.err_ns += 2.0 * SEC;
	run_s(&s, 10);
	EXPECT_EQ(0, s.st.steps);
	/* not vouched for while it slews */
	EXPECT_EQ(0, s.synced);
	EXPECT_STRNE("locked", s.st.state);
	EXPECT_EQ(0, s.outside);
	sim_done(&s);
}

/* daemon.interference: counted, reported once per event. */
TEST(interference)
{
	struct sim s;

	sim_init(&s, 0);
	run_s(&s, 10);
	EXPECT_EQ(0, s.st.interference);
	s.interfered = 1;
	run_s(&s, 1);
	EXPECT_EQ(1, s.st.interference);
	run_s(&s, 10);
	EXPECT_EQ(1, s.st.interference);
	sim_done(&s);
}

/*
 * A PHC whose bound is larger than max_error_us: followed, locked, but the
 * kernel is not told it is synchronised.
 */
TEST(bound_beyond_max_error)
{
	struct sim s;

	sim_init(&s, 0);
	s.bound_ns = 2 * SEC / 1000;	/* 2 ms */
	run_s(&s, 60);
	EXPECT_STREQ("locked", s.st.state);
	EXPECT_EQ(0, s.synced);
	EXPECT_EQ(HPS_LEAP_UNSYNC, s.st.leap);
	s.bound_ns = 1000;
	run_s(&s, 2);
	EXPECT_EQ(1, s.synced);
	sim_done(&s);
}

/* No PHC from the start: no-phc, never synchronised, nothing changed. */
TEST(no_phc)
{
	struct sim s;

	sim_init(&s, 25000);
	s.phc_ok = 0;
	run_s(&s, 10);
	EXPECT_STREQ("no-phc", s.st.state);
	EXPECT_EQ(0, s.synced);
	EXPECT_TRUE(s.corr_ppb == 25000);	/* the correction in force kept */
	EXPECT_EQ(0, s.st.updates);
	sim_done(&s);
}

/*
 * The bound handed to applications (ClockBound) holds wherever it is
 * vouched for, through a start from 50 ms / +100 ppm, 30 s without a PHC
 * while the oscillator's rate moves by 0.3 ppm, and the PHC back; and it
 * is tight while locked: a few times the PHC's bound, not more.
 */
TEST(clockbound_honest)
{
	struct sim s;
	int synced_seen = 0, free_seen = 0, i;

	sim_init(&s, 100000);
	s.err_ns = 50e6;
	s.natural_ppb = 12000;
	for (i = 0; i < 120 * 1000 / s.cfg.poll_ms; i++) {
		poll_once(&s);
		synced_seen += s.cb_status == HPS_CB_SYNCHRONIZED;
	}
	EXPECT_EQ(HPS_CB_SYNCHRONIZED, s.cb_status);
	TH_LOG("locked: bound %lld ns at as-of, drift %lld ppb, PHC bound %lld ns",
	       (long long)s.cb.bound_ns, (long long)s.cb.max_drift_ppb,
	       (long long)s.bound_ns);
	s.phc_ok = 0;
	s.natural_ppb += 300;
	for (i = 0; i < 30 * 1000 / s.cfg.poll_ms; i++) {
		poll_once(&s);
		free_seen += s.cb_status == HPS_CB_FREE_RUNNING;
	}
	s.phc_ok = 1;
	run_s(&s, 30);
	TH_LOG("%d synchronized and %d free-running polls, %d checks, %d outside, worst %.2f of the bound",
	       synced_seen, free_seen, s.cb_checked, s.cb_outside, s.cb_worst);
	EXPECT_LT(100, synced_seen);
	EXPECT_EQ(30 * 1000 / s.cfg.poll_ms, free_seen);
	EXPECT_EQ(0, s.cb_outside);
	EXPECT_EQ(0, s.cb_void_early);
	EXPECT_EQ(HPS_CB_SYNCHRONIZED, s.cb_status);
	/* the PHC's bound, |offset| (noise 100 ns) and 500 ppb for a poll */
	EXPECT_GT(3 * s.bound_ns, s.cb.bound_ns);
	sim_done(&s);
}

/*
 * Locked on a noisy PHC (offsets of several us, near lock_us) at a short
 * poll: the servo's phase term then runs on for up to four polls before
 * the bound is void; the truth must stay inside it all the same. (With
 * only the frequency's error in the drift, the phase term overshot the
 * bound when no poll came.)
 */
TEST(clockbound_noisy_short_poll)
{
	struct sim s;
	unsigned long long seed;
	int synced_seen = 0, i;

	for (seed = 1; seed <= 4; seed++) {
		sim_init(&s, 0);
		s.cfg.poll_ms = 250;
		hps_disc_reconfigure(s.d, &s.cfg);
		s.rng = seed;
		s.natural_ppb = -3500;
		s.phc_noise_ns = 4000;
		s.bound_ns = 6000;
		for (i = 0; i < 240 * 4; i++) {
			poll_once(&s);
			synced_seen += s.cb_status == HPS_CB_SYNCHRONIZED;
		}
		TH_LOG("seed %llu: %d checks, %d outside, worst %.2f of the bound; drift %u ppb",
		       seed, s.cb_checked, s.cb_outside, s.cb_worst,
		       s.cb.max_drift_ppb);
		EXPECT_EQ(0, s.cb_outside);
		EXPECT_EQ(0, s.cb_void_early);
		sim_done(&s);
	}
	EXPECT_LT(100, synced_seen);
}

/*
 * A long poll (16 s): ClockBound's clients trust a written status for 5 s
 * after as-of, so a segment written only at the polls read free-running
 * 11 s of every 16 while the daemon was locked. Written every second
 * between the polls (hv-ptp-sync.c, HPS_CB_REFRESH_NS), a client reading
 * at 10 Hz sees "synchronized" throughout, and the bound holds wherever
 * it is vouched for.
 */
TEST(clockbound_long_poll)
{
	int64_t refresh[2] = { 16 * SEC, HPS_CB_REFRESH_NS };
	struct sim s;
	int k;

	for (k = 0; k < 2; k++) {
		sim_init(&s, 0);
		s.cfg.poll_ms = 16000;
		hps_disc_reconfigure(s.d, &s.cfg);
		s.refresh_ns = refresh[k];
		s.natural_ppb = 3000;
		run_s(&s, 300);
		ASSERT_EQ(HPS_CB_SYNCHRONIZED, s.cb_status);
		memset(s.read_as, 0, sizeof(s.read_as));
		run_s(&s, 600);
		TH_LOG("written every %lld s: read %d synchronized, %d free-running, %d unknown; %d checks, %d outside, worst %.2f of the bound",
		       (long long)(refresh[k] / SEC),
		       s.read_as[HPS_CB_SYNCHRONIZED],
		       s.read_as[HPS_CB_FREE_RUNNING],
		       s.read_as[HPS_CB_UNKNOWN], s.cb_checked, s.cb_outside,
		       s.cb_worst);
		EXPECT_EQ(HPS_CB_SYNCHRONIZED, s.cb_status);
		EXPECT_EQ(0, s.cb_outside);
		EXPECT_EQ(0, s.read_as[HPS_CB_DISRUPTED]);
		EXPECT_EQ(0, s.read_as[HPS_CB_UNKNOWN]);
		/* written at the polls only, it flaps */
		if (k == 0) {
			EXPECT_LT(0, s.read_as[HPS_CB_FREE_RUNNING]);
		} else {
			EXPECT_EQ(0, s.read_as[HPS_CB_FREE_RUNNING]);
		}
		sim_done(&s);
	}
}

/*
 * A PHC 8 * 10^18 ns off (and one that publishes a bound as large): the
 * segment's bound stays within HPS_MAX_BOUND_NS, so that no client's
 * 64-bit arithmetic wraps at any age (earliest after latest; a panic in
 * a debug build), and such a bound is not vouched for.
 */
TEST(clockbound_clamped)
{
	struct sim s;

	sim_init(&s, 0);
	s.cfg.makestep_limit = 0;	/* never stepped: followed as it is */
	hps_disc_reconfigure(s.d, &s.cfg);
	s.fixed = 1;
	s.fixed_ns = 8000000000000000000LL;
	run_s(&s, 20);
	TH_LOG("8e18 ns off: bound %lld ns, drift %u ppb, status %s",
	       (long long)s.cb.bound_ns, s.cb.max_drift_ppb,
	       hps_cb_status_name(s.cb_status));
	EXPECT_EQ(0, s.cb_malformed);
	EXPECT_GE(HPS_MAX_BOUND_NS, s.cb.bound_ns);
	EXPECT_NE(HPS_CB_SYNCHRONIZED, s.cb_status);
	EXPECT_NE(HPS_CB_FREE_RUNNING, s.cb_status);
	sim_done(&s);

	sim_init(&s, 0);
	s.bound_ns = INT64_MAX / 2;
	run_s(&s, 20);
	EXPECT_EQ(0, s.cb_malformed);
	EXPECT_GE(HPS_MAX_BOUND_NS, s.cb.bound_ns);
	EXPECT_NE(HPS_CB_SYNCHRONIZED, s.cb_status);
	EXPECT_NE(HPS_CB_FREE_RUNNING, s.cb_status);
	sim_done(&s);
}

/*
 * Disruptions: the module's count moving (read at a poll, or between
 * polls), the PHC opened again after measurements, a step of ours: each
 * changes the marker once, and the status says "disrupted" until the
 * clock is locked and synchronised again. The first PHC is no disruption.
 */
TEST(disruption_marker)
{
	struct sim s;
	uint64_t m;
	int i;

	sim_init(&s, 0);
	s.attrs.disruptions = 7;
	run_s(&s, 10);
	EXPECT_EQ(1, s.phc_opens);
	EXPECT_EQ(0, s.st.marker);
	EXPECT_EQ(7, s.st.module_disruptions);
	EXPECT_EQ(HPS_CB_SYNCHRONIZED, s.cb_status);

	/* a host step the module counted, seen at a poll */
	s.attrs.disruptions = 8;
	s.err_ns += 400e6;
	poll_once(&s);
	EXPECT_EQ(1, s.st.marker);
	EXPECT_EQ(HPS_CB_DISRUPTED, s.cb_status);
	for (i = 0; i < 100 && s.cb_status == HPS_CB_DISRUPTED; i++)
		poll_once(&s);
	TH_LOG("400 ms: disrupted for %.1f s", (i + 1) * s.cfg.poll_ms / 1000.0);
	EXPECT_EQ(HPS_CB_SYNCHRONIZED, s.cb_status);
	EXPECT_GT(10000, fabs(s.err_ns));
	EXPECT_EQ(1, s.st.marker);

	/* between polls: at once; the same count again is nothing */
	EXPECT_EQ(1, hps_disc_disruption(s.d, 9));
	EXPECT_EQ(0, hps_disc_disruption(s.d, 9));
	EXPECT_EQ(2, s.st.marker);
	s.attrs.disruptions = 9;
	poll_once(&s);
	EXPECT_EQ(2, s.st.marker);
	EXPECT_EQ(HPS_CB_DISRUPTED, s.cb_status);
	run_s(&s, 10);
	EXPECT_EQ(HPS_CB_SYNCHRONIZED, s.cb_status);

	/*
	 * the PHC gone (a read fails: ENODEV closes it) and found again at
	 * the next poll; a module loaded again counts from 0: no second one
	 */
	s.reopen = 1;
	poll_once(&s);
	EXPECT_EQ(0, s.phc_open);
	s.attrs.disruptions = 0;
	poll_once(&s);
	EXPECT_EQ(2, s.phc_opens);
	EXPECT_EQ(3, s.st.marker);
	run_s(&s, 10);

	/* a step of ours, beyond makestep's second */
	m = s.st.marker;
	s.err_ns += 2e9;
	run_s(&s, 1);
	EXPECT_EQ(1, s.steps_applied);
	EXPECT_EQ(m + 1, s.st.marker);
	run_s(&s, 10);
	EXPECT_EQ(HPS_CB_SYNCHRONIZED, s.cb_status);
	/* a PHC without the attribute: unknown, and no disruption made up */
	s.attrs.disruptions_ret = -ENOENT;
	run_s(&s, 2);
	EXPECT_EQ(-1, s.st.module_disruptions);
	EXPECT_EQ(m + 1, s.st.marker);
	EXPECT_EQ(0, s.cb_outside);
	sim_done(&s);
}

/*
 * Beside the module's VMClock page: disruption support 1, and the marker
 * is the module's count as the daemon last read it (the page's marker),
 * so that ClockBound's clients, which compare the two, report unknown
 * from the module's count until the daemon has judged it. The daemon's
 * own step moves its marker, not the segment's; the status says it.
 */
TEST(vmclock_marker)
{
	struct sim s;
	uint64_t own;

	sim_init(&s, 0);
	s.attrs.disruptions = 7;
	s.attrs.vmclock = 1;
	run_s(&s, 10);
	EXPECT_EQ(1, s.cb.disruption_support);
	EXPECT_EQ(7, s.cb.marker);
	EXPECT_EQ(HPS_CB_SYNCHRONIZED, s.cb_status);

	/* counted by the module, read between polls: at once */
	EXPECT_EQ(1, hps_disc_disruption(s.d, 8));
	hps_disc_bound(s.d, s.mono, s.mono, 0, &s.cb);
	EXPECT_EQ(8, s.cb.marker);
	EXPECT_EQ(HPS_CB_DISRUPTED, s.cb.status);
	s.attrs.disruptions = 8;
	run_s(&s, 10);
	EXPECT_EQ(HPS_CB_SYNCHRONIZED, s.cb_status);

	/* a step of ours: the status says it, the page's marker stays */
	own = s.st.marker;
	s.err_ns += 2e9;
	run_s(&s, 1);
	EXPECT_EQ(1, s.steps_applied);
	EXPECT_EQ(own + 1, s.st.marker);
	EXPECT_EQ(8, s.cb.marker);
	EXPECT_EQ(HPS_CB_DISRUPTED, s.cb_status);
	run_s(&s, 10);
	EXPECT_EQ(HPS_CB_SYNCHRONIZED, s.cb_status);

	/* no page (vmclock= empty, or an older module): our own marker */
	s.attrs.vmclock = 0;
	run_s(&s, 2);
	EXPECT_EQ(0, s.cb.disruption_support);
	EXPECT_EQ(s.st.marker, s.cb.marker);
	s.attrs.vmclock = 1;
	s.attrs.vmclock_ret = -ENOENT;
	run_s(&s, 2);
	EXPECT_EQ(0, s.cb.disruption_support);
	EXPECT_EQ(0, s.cb_outside);
	sim_done(&s);
}

/*
 * hv_utils' PHC: no bound of its own (its 100 ns resolution is taken),
 * none of hv_ptp_ext's attributes, no count of disruptions: followed and
 * locked, the kernel told synchronised, but never vouched for to
 * applications.
 */
TEST(foreign_phc)
{
	struct sim s;

	sim_init(&s, 0);
	s.bound_ns = -1;
	s.attrs.stratum_ret = s.attrs.leapflags_ret = -ENOENT;
	s.attrs.freq_ret = s.attrs.leap_pending_ret = -ENOENT;
	s.attrs.disruptions_ret = -ENOENT;
	run_s(&s, 30);
	EXPECT_STREQ("locked", s.st.state);
	EXPECT_EQ(100, s.st.error_bound_ns);
	EXPECT_EQ(1, s.synced);
	EXPECT_EQ(-1, s.st.module_disruptions);
	EXPECT_EQ(HPS_CB_UNKNOWN, s.cb_status);
	EXPECT_EQ(0, s.outside);
	sim_done(&s);
}

/* Nothing measured yet: no bound, void at once, status unknown. */
TEST(clockbound_before_measuring)
{
	struct hps_disc_bound b;
	struct sim s;

	sim_init(&s, 0);
	hps_disc_bound(s.d, 5 * SEC, 5 * SEC, 0, &b);
	EXPECT_EQ(HPS_CB_UNKNOWN, b.status);
	EXPECT_EQ(b.as_of_ns, b.void_after_ns);
	EXPECT_EQ(HPS_MAX_BOUND_NS, b.bound_ns);
	sim_done(&s);
}

/*
 * The RMS and jitter figures over their 16-offset ring, past its wrap: a
 * steady ramp of 1000 ns a poll has a jitter of exactly 1000 ns (RMS of
 * successive differences), whichever slot the newest offset is in.
 * Pairing the ring by slot once it wraps takes newest minus oldest for
 * one difference (3992 ns for this ramp).
 */
TEST(jitter_after_wrap)
{
	struct sim s;
	int i;

	sim_init(&s, 0);
	s.fixed = 1;
	for (i = 0; i < 3 * HPS_RMS_LEN + 5; i++) {
		s.fixed_ns = 1000LL * i;
		poll_once(&s);
		if (i >= 1)
			ASSERT_EQ(1000, s.st.jitter_ns) {
				TH_LOG("after %d offsets: jitter %lld ns", i + 1,
				       (long long)s.st.jitter_ns);
			}
	}
	sim_done(&s);
}

TEST_HARNESS_MAIN
