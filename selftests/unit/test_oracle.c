// SPDX-License-Identifier: GPL-2.0
/*
 * The bench's oracle (selftests/rig/oracle.c) and kernel/clock_model.c
 * against it, on the host: sample streams made as the simulator makes
 * them, many seeds, the error at each age after the first sample.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "clock_model.h"
#include "oracle.h"
#include "kselftest_harness.h"

#define SEC	1000000000ULL
#define EPOCH	1735689600000000000LL	/* host time at reference 0, ns */

/* hv_ptp_ext's defaults (kernel/main.c) */
static const struct hv_cm_params params = {
	.window = 32,
	.step_threshold_ns = 1000000,
	.outlier_min_ns = 1000,
	.outlier_sigmas = 6,
	.wander_ppb = 100,
	.holdover_ppb = 500,
	.stale_ns = 15 * SEC,
	.slew_ns = 5 * SEC,
	.latency_ns = 10000000,
};

/* The ages the bench reports, s; each is judged over age +- 10 %. */
static const double ages[] = { 30, 60, 120, 300, 600 };
#define N_AGES	ARRAY_SIZE(ages)

/* A host as selftests/host_sim makes it (the azure profile by default). */
struct sim {
	unsigned int interval_s;
	double noise_ns, wander_ppb, freq_ppb, offset_ns;
	double outlier_p, outlier_ns;	/* probability and size of an outlier */
	unsigned long long rng;
};

static double uniform(struct sim *s)
{
	s->rng = s->rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return ((s->rng >> 11) + 0.5) / 9007199254740992.0;
}

static double gauss(struct sim *s)
{
	double u = uniform(s), v = uniform(s);

	return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* A sample's error before rounding: noise, and an outlier now and then. */
static double sample_error(struct sim *s)
{
	double e = s->noise_ns * gauss(s);

	if (s->outlier_p && uniform(s) < s->outlier_p)
		e += uniform(s) < 0.5 ? -s->outlier_ns : s->outlier_ns;
	return e;
}

/* Sums of squares over each age's readings, pooled over runs. */
struct ages_sum {
	double model2[N_AGES], oracle2[N_AGES], var[N_AGES];
	long n[N_AGES];
};

/*
 * One run of @secs from the first sample: the simulator's stream (the
 * rate takes its random-walk step before each periodic sample; parenttime
 * rounded to 100 ns) into the kernel's model and the oracle, both read
 * every 100 ms, 1 ms after each sample's arrival as the module reads.
 */
static void run(struct sim *s, unsigned int secs, struct ages_sum *sum)
{
	struct oracle_params op = { .noise_ns = s->noise_ns, .wander_ppb = s->wander_ppb,
				    .outlier_ns = s->outlier_p ? s->outlier_ns : 0 };
	double theta = s->offset_ns, f = s->freq_ppb, e, age, var;
	unsigned long long t, r, t0 = SEC;
	long long y, truth;
	struct oracle o;
	struct hv_cm cm;
	unsigned int a;
	static struct hv_cm_model pub;

	hv_cm_init(&cm, &params);
	oracle_init(&o, &op);
	for (t = t0; t < t0 + secs * SEC; t += s->interval_s * SEC) {
		if (t > t0)
			f += s->wander_ppb * gauss(s);
		y = 100 * llround((theta + sample_error(s)) / 100);
		hv_cm_add(&cm, t, EPOCH + (long long)t + y, false, t + 1000000);
		pub = cm.pub;
		oracle_sample(&o, (t - t0) / 1e9, y, y - theta);
		for (r = t + 1000000; r < t + s->interval_s * SEC; r += 100000000) {
			age = (r - t0) / 1e9;
			truth = llround(theta + f * (r - t) / 1e9);
			for (a = 0; a < N_AGES; a++) {
				if (age < 0.9 * ages[a] || age > 1.1 * ages[a])
					continue;
				e = hv_cm_eval(&pub, r) - (EPOCH + (long long)r + truth);
				sum->model2[a] += e * e;
				e = oracle_estimate(&o, age, &var) - truth;
				sum->oracle2[a] += e * e;
				sum->var[a] += var;
				sum->n[a]++;
			}
		}
		theta += f * s->interval_s;
	}
}

static void runs(struct sim *proto, unsigned int seeds, struct ages_sum *sum)
{
	struct sim s;
	unsigned int i;

	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < seeds; i++) {
		s = *proto;
		s.rng = 1000 + i;
		gauss(&s);
		run(&s, 670, sum);
	}
}

/*
 * With the true parameters, the filter's own variance is its expected
 * square error: over 100 seeds, the RMS error at each age is within 15 %
 * of the square root of the mean variance (at 30 s each run holds about
 * two independent errors: 200 in all, a relative standard error of 5 %).
 */
TEST(oracle_knows_its_error)
{
	struct sim azure = { .interval_s = 5, .noise_ns = 1000, .wander_ppb = 1,
			     .freq_ppb = 3500, .offset_ns = 2e6 };
	static struct ages_sum sum;
	double rms, pred;
	unsigned int a;

	runs(&azure, 100, &sum);
	for (a = 0; a < N_AGES; a++) {
		rms = sqrt(sum.oracle2[a] / sum.n[a]);
		pred = sqrt(sum.var[a] / sum.n[a]);
		TH_LOG("age %4.0f s: oracle RMS %4.0f ns, predicted %4.0f ns",
		       ages[a], rms, pred);
		EXPECT_LT(fabs(rms / pred - 1), 0.15);
	}
}

/*
 * Without wander the oracle is the least-squares line through every
 * sample so far: at the newest of n equally spaced samples its standard
 * deviation is sigma * sqrt((4n - 2) / (n (n + 1))).
 */
TEST(oracle_without_wander_is_the_line_fit)
{
	struct oracle_params op = { .noise_ns = 1000 };
	struct oracle o;
	double var, r, want;
	unsigned int n;

	oracle_init(&o, &op);
	r = o.r;
	for (n = 1; n <= 100; n++) {
		oracle_sample(&o, 5.0 * n, 0, 0);
		if (n < 2)
			continue;
		oracle_estimate(&o, 5.0 * n, &var);
		want = r * (4.0 * n - 2) / (n * (n + 1.0));
		ASSERT_LT(fabs(var / want - 1), 1e-6) {
			TH_LOG("n %u: variance %g, line fit %g", n, var, want);
		}
	}
}

/* An outlier, known by its error, is not used. */
TEST(oracle_skips_outliers)
{
	struct oracle_params op = { .noise_ns = 1000, .outlier_ns = 30000 };
	struct oracle o;

	oracle_init(&o, &op);
	ASSERT_TRUE(oracle_sample(&o, 0, 0, 0));
	ASSERT_TRUE(oracle_sample(&o, 5, 10, 10));
	ASSERT_FALSE(oracle_sample(&o, 10, 30010, 30000));
	ASSERT_FALSE(oracle_sample(&o, 10, -14990, -15000));
	ASSERT_TRUE(oracle_sample(&o, 10, 20, 20));
	ASSERT_EQ(3, o.n);
	ASSERT_LT(fabs(oracle_estimate(&o, 15, NULL) - 30), 1e-6);
}

static void against_oracle(struct __test_metadata *_metadata,
			   struct sim *host, double limit)
{
	static struct ages_sum sum;
	double m, o;
	unsigned int a;

	runs(host, 100, &sum);
	for (a = 0; a < N_AGES; a++) {
		m = sqrt(sum.model2[a] / sum.n[a]);
		o = sqrt(sum.oracle2[a] / sum.n[a]);
		TH_LOG("age %4.0f s: model RMS %5.0f ns, oracle %5.0f ns, ratio %.2f",
		       ages[a], m, o, m / o);
		EXPECT_LE(m / o, limit);
	}
}

/*
 * The kernel's model against the oracle on the azure profile, 100 seeds:
 * within 1.25x of it at every age (the bench's goal, checked there in the
 * guest on seeds of its own). Measured at 2026-12 defaults: 1.07 to 1.22.
 */
TEST(model_against_oracle_azure)
{
	struct sim azure = { .interval_s = 5, .noise_ns = 1000, .wander_ppb = 1,
			     .freq_ppb = 3500, .offset_ns = 2e6 };

	against_oracle(_metadata, &azure, 1.25);
}

/*
 * The simulator's wander profile at 3 s (its rate walks 35 ppb a sample,
 * 3 % of the samples 30 us off): the oracle knows the outliers and the
 * walk; the model must find both. Measured at 2026-12 defaults: 2.65x at
 * 30 s (5.0x before early outliers were taken out of the window), 1.8x
 * to 1.9x later, so the 1.25x of azure is not met here; 3x guards
 * against the model getting worse.
 */
TEST(model_against_oracle_wander)
{
	struct sim wander = { .interval_s = 3, .noise_ns = 1000, .wander_ppb = 35,
			      .freq_ppb = 3500, .offset_ns = 2e6,
			      .outlier_p = 0.03, .outlier_ns = 30000 };

	against_oracle(_metadata, &wander, 3);
}

TEST_HARNESS_MAIN
