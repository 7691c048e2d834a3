// SPDX-License-Identifier: GPL-2.0
/*
 * kernel/ref_fit.c on the host: the reference counter fitted against a
 * free-running counter from bracketed hypercalls, as the module does on
 * arm64, with the hypercall's latency, jitter and entry/exit asymmetry
 * simulated. Every read is judged against the true reference time: never
 * outside the fit's bound; and the error and the bound are reported.
 */
#include <math.h>
#include <stdio.h>

#include "ref_fit.h"
#include "kselftest_harness.h"

#define SEC	1000000000.0

/* The guest: a counter and the partition reference counter, in true time. */
struct guest {
	double hz;		/* the counter's frequency */
	double cnt_off;		/* counter ticks at t = 0 */
	double ref_ppm;		/* reference time's rate against true time */
	double ref_off_ns;	/* reference time at t = 0 */
	double lat_ns;		/* the hypercall's duration */
	double jitter;		/* its spread, a fraction of lat_ns (exponential) */
	double entry;		/* where in it the counter is read, 0..1 */
	double t;		/* true time now, ns */
	unsigned long long rng;
};

static double uniform(struct guest *g)
{
	g->rng = g->rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return ((g->rng >> 11) + 0.5) / 9007199254740992.0;
}

static unsigned long long cnt_at(const struct guest *g, double t)
{
	return (unsigned long long)floor(g->cnt_off + t * g->hz / SEC);
}

static double ref_at(const struct guest *g, double t)
{
	return g->ref_off_ns + t * (1 + g->ref_ppm * 1e-6);
}

/* One bracketed hypercall from true time @t; returns its duration. */
static double bracket(struct guest *g, double t, unsigned long long *c0,
		      unsigned long long *c1, unsigned long long *ticks)
{
	double d = g->lat_ns * (1 + g->jitter * -log(uniform(g)));

	*c0 = cnt_at(g, t);
	*ticks = (unsigned long long)floor(ref_at(g, t + d * g->entry) / 100);
	*c1 = cnt_at(g, t + d);
	return d + 20;
}

/* The module's worker: a burst of 8, the tightest one into the fit. */
static enum hv_rf_result burst(struct hv_rf *rf, struct guest *g, double *t)
{
	unsigned long long c0, c1, r, b0 = 0, b1 = ~0ULL, br = 0;
	int i;

	for (i = 0; i < 8; i++) {
		*t += bracket(g, *t, &c0, &c1, &r);
		if (c1 - c0 < b1 - b0) {
			b0 = c0;
			b1 = c1;
			br = r;
		}
	}
	return hv_rf_add(rf, b0, b1, br);
}

struct result {
	unsigned long reads, outside, restarts;
	unsigned long outside_after;	/* of them, after the last restart */
	double rms_ns, max_ns, bound_med_ns, first_fit_s;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * @secs of a guest: a burst every second, 10 reads a second between them
 * (each: the counter, mapped by the fit, against true reference time).
 * A jump of reference time by @jump_ns @jump_s into the run (a migration)
 * if set.
 */
static struct result run(struct guest *g, struct hv_rf *rf, double secs,
			 double jump_s, double jump_ns)
{
	static double bounds[100000];
	struct result res = { .first_fit_s = -1 };
	double t = g->t, next = g->t, end = g->t + secs * SEC, se = 0;
	unsigned long nb = 0;

	jump_s = g->t + jump_s * SEC;
	while (t < end) {
		if (jump_ns && t >= jump_s) {
			g->ref_off_ns += jump_ns;
			jump_ns = 0;
		}
		if (t >= next) {
			if (burst(rf, g, &t) == HV_RF_RESTARTED) {
				res.restarts++;
				res.outside_after = 0;
			}
			next += SEC;
			continue;
		}
		t += 0.1 * SEC * uniform(g) + 1000;
		if (rf->fit.valid) {
			unsigned long long c = cnt_at(g, t);
			double e = (double)hv_rf_eval(&rf->fit, c) - ref_at(g, t);
			double b = (double)hv_rf_error_ns(&rf->fit, c);

			if (res.first_fit_s < 0)
				res.first_fit_s = t / SEC;
			res.reads++;
			if (fabs(e) > b) {
				res.outside++;
				res.outside_after++;
			}
			se += e * e;
			if (fabs(e) > res.max_ns)
				res.max_ns = fabs(e);
			if (nb < sizeof(bounds) / sizeof(bounds[0]))
				bounds[nb++] = b;
		}
	}
	g->t = t;
	res.rms_ns = res.reads ? sqrt(se / res.reads) : 0;
	qsort(bounds, nb, sizeof(bounds[0]), cmp_double);
	res.bound_med_ns = nb ? bounds[nb / 2] : 0;
	return res;
}

static struct guest guest(double hz, double lat_us, double entry)
{
	return (struct guest) {
		.hz = hz, .cnt_off = 123456789.0, .ref_ppm = 0.37,
		.ref_off_ns = 4.2e12, .lat_ns = lat_us * 1000,
		.jitter = 0.3, .entry = entry, .rng = 42,
	};
}

TEST(refuses_slow_counter)
{
	struct hv_rf rf;

	ASSERT_FALSE(hv_rf_init(&rf, 10000000));
	ASSERT_TRUE(hv_rf_init(&rf, 19200000));
}

/*
 * The figures of the arm64 issue: hypercalls of 1, 5 and 20 us, on a
 * 25 MHz counter (Ampere Altra) and a 1 GHz one (Armv8.6 and later), the
 * counter read at the middle of the call and at a quarter of it (an
 * asymmetric call, which the guest cannot see). 10 minutes each.
 */
TEST(bound_holds_at_every_latency)
{
	static const double hzs[] = { 25e6, 1e9 };
	static const double lats[] = { 1, 5, 20 };
	static const double entries[] = { 0.5, 0.25 };
	unsigned int i, j, k;

	for (i = 0; i < 2; i++)
		for (j = 0; j < 3; j++)
			for (k = 0; k < 2; k++) {
				struct guest g = guest(hzs[i], lats[j], entries[k]);
				struct hv_rf rf;
				struct result r;

				ASSERT_TRUE(hv_rf_init(&rf, (u64)hzs[i]));
				r = run(&g, &rf, 600, 0, 0);
				ksft_print_msg("ref_fit %4.0f MHz, call %2.0f us, entry %.2f: %lu reads, %lu outside; error RMS %.0f ns, max %.0f ns; bound median %.0f ns; first fit %.1f s\n",
					       hzs[i] / 1e6, lats[j], entries[k],
					       r.reads, r.outside, r.rms_ns,
					       r.max_ns, r.bound_med_ns,
					       r.first_fit_s);
				EXPECT_EQ(0, r.outside);
				EXPECT_EQ(0, r.restarts);
				EXPECT_GT(r.reads, 5000);
				/* valid within 4 bursts over 2 s */
				EXPECT_LT(r.first_fit_s, 5);
				/* the bound is about half the call, not more */
				EXPECT_LT(r.bound_med_ns, lats[j] * 1000 * 0.75 + 150);
				/* and the error within what the entry's offset explains */
				EXPECT_LT(r.rms_ns, lats[j] * 1000 *
					  fabs(0.5 - entries[k]) * 1.6 + 100);
			}
}

/*
 * A jump of reference time against the counter (a migration) half a
 * second after a burst: the reads until the next burst are off by it
 * (nothing in the guest shows it sooner); that burst restarts the fit
 * with a new generation, and no read after is outside its bound.
 */
TEST(jump_restarts)
{
	struct guest g = guest(25e6, 2, 0.5);
	struct hv_rf rf;
	struct result r;
	u32 gen;

	ASSERT_TRUE(hv_rf_init(&rf, 25000000));
	r = run(&g, &rf, 30, 0, 0);
	ASSERT_TRUE(rf.fit.valid);
	gen = rf.fit.gen;
	r = run(&g, &rf, 60, 10.5, 1e6);
	ksft_print_msg("jump of 1 ms: %lu reads outside before the restart, %lu after\n",
		       r.outside - r.outside_after, r.outside_after);
	EXPECT_EQ(1, r.restarts);
	EXPECT_NE(gen, rf.fit.gen);
	EXPECT_TRUE(rf.fit.valid);
	EXPECT_LE(r.outside - r.outside_after, 11);
	EXPECT_EQ(0, r.outside_after);
}

/*
 * The residuals (what sysfs refclock_fit shows): every point within its
 * own half-width and the fit's bound of the line; a 20 us call read at a
 * quarter of it is no more linear than at its middle, only offset.
 */
TEST(residuals_within_widths)
{
	struct guest g = guest(25e6, 20, 0.25);
	struct hv_rf rf;
	unsigned int i;

	ASSERT_TRUE(hv_rf_init(&rf, 25000000));
	run(&g, &rf, 60, 0, 0);
	ASSERT_TRUE(rf.fit.valid);
	ASSERT_EQ(HV_RF_POINTS, rf.n);
	for (i = 0; i < rf.n; i++) {
		const struct hv_rf_point *p = &rf.pt[i];
		double age = (double)(rf.fit.x0 - p->x);
		double lim = p->h + rf.fit.err0_ns + age * rf.fit.err_rate_ppt / 1e12;

		EXPECT_LE(fabs((double)hv_rf_residual(&rf.fit, p)), lim);
	}
}

/* The counter going back (a restore): a new generation. */
TEST(counter_back_restarts)
{
	struct hv_rf rf;
	unsigned long long c;

	ASSERT_TRUE(hv_rf_init(&rf, 25000000));
	for (c = 0; c < 10; c++)
		ASSERT_EQ(HV_RF_ADDED, hv_rf_add(&rf, 1000000 + c * 25000000,
						 1000000 + c * 25000000 + 25,
						 c * 10000000));
	ASSERT_TRUE(rf.fit.valid);
	EXPECT_EQ(HV_RF_RESTARTED, hv_rf_add(&rf, 500, 525, 10000000 * 11));
	EXPECT_FALSE(rf.fit.valid);
	EXPECT_EQ(1, rf.fit.gen);
}

/* The fit as a period (vmclock): 40 ns per tick at 25 MHz, 0.4 * 2^64. */
TEST(scale64)
{
	struct hv_rf rf;

	ASSERT_TRUE(hv_rf_init(&rf, 25000000));
	rf.fit.rate_ppt = 0;
	EXPECT_EQ(0x6666666666666666ULL, hv_rf_scale64(&rf.fit));
	rf.fit.rate_ppt = 1000000;	/* 1 ppm */
	EXPECT_LT(fabs(hv_rf_scale64(&rf.fit) / 18446744073709551616.0 -
		       0.4 * (1 + 1e-6)), 1e-15);
}

TEST_HARNESS_MAIN
