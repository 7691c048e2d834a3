// SPDX-License-Identifier: GPL-2.0
/*
 * user/servo.c on a simulated system clock: a natural frequency error and
 * an initial offset, the servo's corrections applied between samples,
 * optional white measurement noise. Checks the two-sample start, the
 * settling, the frequency estimate, the clamp and its anti-windup, and
 * feed-forward.
 */
#include <math.h>
#include <stdlib.h>

#include "servo.h"
#include "kselftest_harness.h"

#define SEC	1000000000LL

/* |a - b| <= tol, with both values in the message on failure */
#define EXPECT_NEAR(a, b, tol) \
	EXPECT_GE((tol) * 1e6, fabs((double)(a) - (double)(b)) * 1e6)

struct sysclock {
	double natural_ppb;	/* error of the uncorrected clock */
	double offset_ns;	/* system - reference */
	double noise_ns;	/* measurement noise, uniform +- */
	unsigned long long rng;
};

static double noise(struct sysclock *c)
{
	c->rng = c->rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return ((double)(c->rng >> 11) / (1ULL << 53) * 2 - 1) * c->noise_ns;
}

/*
 * Run @n updates at a poll of @poll_ns, each when the servo asks for it
 * (sooner while it starts or slews); returns the last correction.
 * *@worst gets the largest |offset| seen over the last @tail updates.
 */
static double run(struct hps_servo *s, struct sysclock *c, int n,
		  int64_t poll_ns, int64_t *mono, double freq, int tail,
		  double *worst, enum hps_servo_state *state)
{
	int64_t dt;
	double meas;
	int i;

	*worst = 0;
	hps_servo_set_poll(s, poll_ns);
	for (i = 0; i < n; i++) {
		meas = c->offset_ns + noise(c);
		freq = hps_servo_measured(s, llround(meas), *mono, state);
		dt = hps_servo_next_ns(s);
		/* the clock runs at natural + correction until the next one */
		c->offset_ns += (c->natural_ppb + freq) * dt / 1e9;
		*mono += dt;
		if (i >= n - tail && fabs(c->offset_ns) > *worst)
			*worst = fabs(c->offset_ns);
	}
	return freq;
}

TEST(two_sample_start_measures_the_frequency)
{
	struct hps_servo *s = hps_servo_create(0.7, 0.3, 500000);
	enum hps_servo_state st;
	int64_t mono = SEC;
	double f;

	/* +100 ppm natural error, 1 ms offset, no correction yet */
	f = hps_servo_measured(s, 1000000, mono, &st);
	EXPECT_EQ(HPS_SERVO_START, st);
	EXPECT_EQ(0, f);
	mono += SEC / 2;
	/* half a second later the offset grew by 50 us */
	f = hps_servo_measured(s, 1050000, mono, &st);
	EXPECT_EQ(HPS_SERVO_JUMP, st);
	EXPECT_NEAR(-100000, hps_servo_freq_ppb(s), 1e-6);
	/* 1.05 ms is slewed out dead-beat, here at the clamp */
	EXPECT_NEAR(-500000, f, 1e-6);
	/* stepped instead: the frequency alone */
	EXPECT_NEAR(-100000, hps_servo_stepped(s), 1e-6);
	hps_servo_destroy(s);

	/* under SLEW_NS (100 us): the frequency alone, the PI loop next */
	s = hps_servo_create(0.7, 0.3, 500000);
	hps_servo_measured(s, 10000, mono, &st);
	f = hps_servo_measured(s, 60000, mono + SEC / 2, &st);
	EXPECT_NEAR(-100000, f, 1e-6);
	hps_servo_destroy(s);
}

/*
 * The clean start the daemon makes below its step threshold: from each
 * start (offset, the wrong correction in force), at max 5 %, the offset
 * approaches zero monotonically once the two measurements of the start
 * have seen the frequency (before that the wrong correction runs on),
 * overshoots by no more than 10 % of where
 * it started (here: not at all beyond the noise) and is within 10 us in
 * the time the clamp allows plus the two measurements of the start.
 */
TEST(clean_start)
{
	static const struct {
		double offset_ns, freq_ppb, within_s;
	} starts[] = {
		{ 50e6, 100000, 2.0 },		/* 1 s at 5 %, + 0.7 s */
		{ -50e6, -100000, 2.0 },
		{ 500e6, -50000, 11.0 },	/* 10 s at 5 % */
		{ 5e6, 0, 1.0 },
		{ 200e3, 30000, 1.0 },
	};
	size_t k;

	for (k = 0; k < ARRAY_SIZE(starts); k++) {
		struct hps_servo *s = hps_servo_create(0.7, 0.3, 50000000);
		struct sysclock c = { .offset_ns = starts[k].offset_ns,
				      .noise_ns = 50, .rng = k + 1 };
		double sign = starts[k].offset_ns > 0 ? 1 : -1, f, prev;
		double over = 0, t10 = -1, worst;
		enum hps_servo_state st;
		int64_t mono = SEC;
		int i, monotone = 1;

		hps_servo_set_freq(s, starts[k].freq_ppb);
		f = starts[k].freq_ppb;
		prev = fabs(c.offset_ns);
		for (i = 1; mono < 31 * SEC; i++) {
			f = run(s, &c, 1, SEC / 2, &mono, f, 1, &worst, &st);
			over = fmax(over, -sign * c.offset_ns);
			if (i > 2 && sign * c.offset_ns > 1000 &&
			    sign * c.offset_ns > prev)
				monotone = 0;
			prev = fmax(sign * c.offset_ns, 0);
			if (fabs(c.offset_ns) > 10000)
				t10 = -1;
			else if (t10 < 0)
				t10 = (mono - SEC) / 1e9;
		}
		TH_LOG("from %+.0f us, %+.0f ppm in force: within 10 us after %.1f s, overshoot %.0f ns, at 30 s %+.0f ns",
		       starts[k].offset_ns / 1e3, starts[k].freq_ppb / 1e3, t10,
		       over, c.offset_ns);
		EXPECT_LT(0, t10);
		EXPECT_GE(starts[k].within_s, t10);
		EXPECT_GE(fabs(starts[k].offset_ns) / 10, over);
		EXPECT_GT(1000, over);		/* no more than the noise */
		EXPECT_TRUE(monotone);
		EXPECT_GT(200, fabs(c.offset_ns));
		hps_servo_destroy(s);
	}
}

/*
 * A frequency error the start did not see, while slewing: learnt from
 * what the dead-beat updates did not expect, so the slew still ends and
 * the loop locks on the right frequency.
 */
TEST(slewing_learns_frequency)
{
	struct hps_servo *s = hps_servo_create(0.7, 0.3, 50000000);
	struct sysclock c = { .offset_ns = 80e6 };
	enum hps_servo_state st;
	int64_t mono = SEC;
	double worst, f;

	f = run(s, &c, 2, SEC / 2, &mono, 0, 1, &worst, &st);
	EXPECT_EQ(HPS_SERVO_JUMP, st);
	c.natural_ppb = 40000;			/* 40 ppm from now on */
	f = run(s, &c, 60, SEC / 2, &mono, f, 10, &worst, &st);
	EXPECT_GT(10.0, worst);
	EXPECT_NEAR(-40000, f, 10);
	hps_servo_destroy(s);
}

TEST(settles_without_noise)
{
	struct hps_servo *s = hps_servo_create(0.7, 0.3, 500000);
	struct sysclock c = { .natural_ppb = 100000, .offset_ns = 50000 };
	enum hps_servo_state st;
	int64_t mono = SEC;
	double worst, f;

	f = run(s, &c, 40, SEC / 2, &mono, 0, 10, &worst, &st);
	EXPECT_EQ(HPS_SERVO_PI, st);
	EXPECT_GT(1.0, worst);			/* under 1 ns */
	/*
	 * The natural error cancelled, but for the limit cycle that
	 * offsets rounded to whole nanoseconds leave (+-0.6 ns, 2 ppb).
	 */
	EXPECT_NEAR(-100000, f, 2.5);
	hps_servo_destroy(s);
}

TEST(noise_is_filtered)
{
	struct hps_servo *s = hps_servo_create(0.7, 0.3, 500000);
	struct sysclock c = { .natural_ppb = -35000, .offset_ns = 0,
			      .noise_ns = 300, .rng = 7 };
	enum hps_servo_state st;
	int64_t mono = SEC;
	double worst;

	run(s, &c, 400, SEC / 2, &mono, 0, 300, &worst, &st);
	/*
	 * Uniform +-300 ns noise: a PI loop with kp 0.7 passes most of it;
	 * the true offset stays within a few times the noise amplitude.
	 */
	EXPECT_GT(1000.0, worst);
	EXPECT_GT(100.0, hps_servo_skew_ppb(s) / 10);	/* skew under 1 ppm */
	hps_servo_destroy(s);
}

TEST(clamped_and_not_wound_up)
{
	struct hps_servo *s = hps_servo_create(0.7, 0.3, 50000000); /* 5 % */
	struct sysclock c = { .natural_ppb = 100000, .offset_ns = 50e6 };
	enum hps_servo_state st;
	int64_t mono = SEC;
	double worst, f;
	int i;

	/* 50 ms at +100 ppm: slewed at the clamp, then settles */
	for (i = 0; i < 2; i++) {
		f = hps_servo_measured(s, llround(c.offset_ns), mono, &st);
		c.offset_ns += (c.natural_ppb + f) / 2;
		mono += SEC / 2;
	}
	f = run(s, &c, 1, SEC / 2, &mono, f, 1, &worst, &st);
	EXPECT_NEAR(-50000000, f, 1);		/* at the clamp */
	f = run(s, &c, 60, SEC / 2, &mono, f, 10, &worst, &st);
	EXPECT_GT(10.0, worst);
	/* the integrator did not keep the clamp's value */
	EXPECT_NEAR(-100000, f, 100);
	hps_servo_destroy(s);
}

TEST(feedforward_moves_the_estimate)
{
	struct hps_servo *s = hps_servo_create(0.7, 0.3, 500000);
	struct sysclock c = { .natural_ppb = 0 };
	enum hps_servo_state st;
	int64_t mono = SEC;
	double worst, f;

	f = run(s, &c, 20, SEC / 2, &mono, 0, 5, &worst, &st);
	EXPECT_NEAR(0, f, 0.01);
	/* the reference speeds up by 2 ppm: told, the servo follows at once */
	c.natural_ppb = -2000;
	hps_servo_feedforward(s, 2000);
	f = run(s, &c, 1, SEC / 2, &mono, f, 1, &worst, &st);
	EXPECT_GT(5.0, worst);
	EXPECT_NEAR(2000, f, 50);
	hps_servo_destroy(s);
}

TEST(set_freq_is_the_starting_point)
{
	struct hps_servo *s = hps_servo_create(0.7, 0.3, 500000);
	enum hps_servo_state st;

	hps_servo_set_freq(s, 12345);
	EXPECT_NEAR(12345, hps_servo_measured(s, 0, SEC, &st), 1e-9);
	hps_servo_set_freq(s, 1e9);
	EXPECT_NEAR(500000, hps_servo_measured(s, 0, 2 * SEC, &st), 1e-9);
	hps_servo_destroy(s);
}

/*
 * A step of the reference while locked (a host step, a migration: 400 ms
 * in one poll) is phase: slewed out at the clamp, the frequency estimate
 * kept. Fed into the integrator, it had clamped the estimate at -5 %,
 * and a step of the clock right after then left that in force.
 */
TEST(reference_step_is_not_frequency)
{
	struct hps_servo *s = hps_servo_create(0.7, 0.3, 50000000);
	struct sysclock c = { .natural_ppb = -12000, .noise_ns = 50, .rng = 3 };
	enum hps_servo_state state;
	int64_t mono = 0, t0;
	double worst, drift;

	ASSERT_NE(NULL, s);
	run(s, &c, 60, SEC, &mono, 0, 1, &worst, &state);
	drift = hps_servo_freq_ppb(s);
	EXPECT_NEAR(12000, drift, 20);
	c.offset_ns += 400e6;
	t0 = mono;
	do
		run(s, &c, 1, SEC, &mono, 0, 1, &worst, &state);
	while (worst >= 10000 && mono - t0 < 30 * SEC);
	TH_LOG("400 ms step of the reference: within 10 us after %.1f s, estimate %+.0f ppb (was %+.0f)",
	       (mono - t0) / 1e9, hps_servo_freq_ppb(s), drift);
	/* 400 ms at 5 %: 8 s */
	EXPECT_GE(10 * SEC, mono - t0);
	EXPECT_NEAR(drift, hps_servo_freq_ppb(s), 100);
	/* a step instead, after that measurement: the estimate is in force */
	c.offset_ns += 2e9;
	run(s, &c, 1, SEC, &mono, 0, 1, &worst, &state);
	EXPECT_NEAR(drift, hps_servo_stepped(s), 100);
	hps_servo_destroy(s);
}

TEST_HARNESS_MAIN
