// SPDX-License-Identifier: GPL-2.0
/*
 * Ours against Debian's hv_utils on identical samples: the simulator offers
 * two TimeSync devices fed from one sample stream, hv_utils binds the
 * first, hv_ptp_ext the second, and both PHCs are compared with the true
 * host time, exactly (see measure.h), every 100 ms for 120 s after a 30 s
 * warm-up (6 samples: the fit needs a few before it beats extrapolation).
 */
#define _GNU_SOURCE
#include "measure.h"
#include "kselftest_harness.h"

#ifndef WARMUP_S
#define WARMUP_S	30
#endif
#ifndef MEASURE_S
#define MEASURE_S	120
#endif

FIXTURE(cmp) {
	int ours, intree, index;
};

FIXTURE_VARIANT(cmp) {
	const char *profile;
};

FIXTURE_VARIANT_ADD(cmp, ideal) { .profile = "ideal" };
FIXTURE_VARIANT_ADD(cmp, azure) { .profile = "azure" };
FIXTURE_VARIANT_ADD(cmp, harsh) { .profile = "harsh" };

FIXTURE_SETUP(cmp)
{
	self->ours = self->intree = -1;
	if (!rig_available())
		SKIP(return, "needs root and the rig (" RIG_LOAD ")");
	ASSERT_EQ(0, pin_cpu(0));
	ASSERT_EQ(0, rig_load("--ours ours.takeover=0 devices=2 profile=%s", variant->profile));
	sleep_ms(500);
	self->intree = phc_open("hyperv");
	self->ours = phc_open_driver("hv_ptp_ext", &self->index);
	ASSERT_LE(0, self->intree);
	ASSERT_LE(0, self->ours);
}

FIXTURE_TEARDOWN(cmp)
{
	if (self->ours >= 0)
		close(self->ours);
	if (self->intree >= 0)
		close(self->intree);
}

TEST_F_TIMEOUT(cmp, phc_error, WARMUP_S + MEASURE_S + 60)
{
	struct err_stats o = { 0 }, t = { 0 };
	struct timespec t0, now;
	long long e = 0;
	double ro, rt;

	sleep_ms(WARMUP_S * 1000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		ASSERT_EQ(0, ours_error(self->ours, &e));
		stats_add(&o, e);
		ASSERT_LE(0, intree_error(self->intree, &e));
		stats_add(&t, e);
		sleep_ms(100);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec - t0.tv_sec < MEASURE_S);

	ro = stats_rms(&o);
	rt = stats_rms(&t);
	TH_LOG("%s: ours RMS %.0f ns max %+lld ns | in-tree RMS %.0f ns max %+lld ns | ratio %.1f (%lld reads)",
	       variant->profile, ro, o.max, rt, t.max, ro ? rt / ro : 0, o.n);
	TH_LOG("%s: ours outliers %lld, steps %lld, accepted %lld",
	       variant->profile, ours_stat(self->index, "samples_outliers"),
	       ours_stat(self->index, "steps"),
	       ours_stat(self->index, "samples_accepted"));
	EXPECT_EQ(sim_stat("dev0.sent.sample"), sim_stat("dev1.sent.sample"));
	if (!strcmp(variant->profile, "ideal")) {
		EXPECT_LE(ro, 20);
	} else if (!strcmp(variant->profile, "azure")) {
		EXPECT_LE(ro * 10, rt);
	} else {
		EXPECT_LE(ro * 5, rt);
		EXPECT_LE(llabs(o.max) * 10, llabs(t.max));
	}
}

TEST_HARNESS_MAIN
