// SPDX-License-Identifier: GPL-2.0
/*
 * Debian's unmodified hv_utils against the simulated host: it negotiates,
 * answers every message, and its "hyperv" PHC tracks the host clock exactly
 * as its algorithm implies (last sample plus reference-counter time, in
 * 100 ns steps). This is the baseline of every later comparison.
 *
 * Errors are exact: the simulator records the instant at which hv_utils
 * read the reference counter for our clock_gettime() and returns the true
 * host time at that instant (last_ref), so no bracketing window enters.
 */
#define _GNU_SOURCE
#include "measure.h"
#include "kselftest_harness.h"

FIXTURE(intree) {
	int phc;
};

FIXTURE_SETUP(intree)
{
	self->phc = -1;
	if (!rig_available())
		SKIP(return, "needs root and the rig (" RIG_LOAD ")");
	ASSERT_EQ(0, pin_cpu(0));
}

FIXTURE_TEARDOWN(intree)
{
	if (self->phc >= 0)
		close(self->phc);
}

static int load_and_open(int *phc, const char *params)
{
	if (rig_load("%s", params))
		return -1;
	sleep_ms(300);	/* negotiation and the first sample */
	*phc = phc_open("hyperv");
	return *phc < 0 ? -1 : 0;
}

TEST_F(intree, negotiates_v4)
{
	ASSERT_EQ(0, load_and_open(&self->phc, ""));
	EXPECT_TRUE(sim_stat_is("dev0.driver", "hv_utils"));
	EXPECT_EQ(1, sim_stat("dev0.negotiated"));
	EXPECT_TRUE(sim_stat_is("dev0.fw_version", "3.0"));
	EXPECT_TRUE(sim_stat_is("dev0.ts_version", "4.0"));
	EXPECT_EQ(1, sim_stat("dev0.nego_ok"));
	EXPECT_EQ(0, sim_stat("dev0.nego_bad"));
}

/*
 * Every message gets its answer: negotiation and samples answered with
 * success; a message of unknown type answered with a failure status; a
 * packet shorter than the IC headers dropped without an answer (that is
 * what hv_utils does). Nothing the guest sent was unmatched or malformed.
 */
TEST_F_TIMEOUT(intree, answers_every_message, 40)
{
	long long sent;
	int waited;

	ASSERT_EQ(0, load_and_open(&self->phc, "interval_ms=100"));
	sleep_ms(3000);
	ASSERT_EQ(0, sim_control("inject wrong_type 5"));
	ASSERT_EQ(0, sim_control("inject short 3"));
	/*
	 * Stop the stream, let the last answers in, then close the channel.
	 * On a loaded machine hv_utils' callback can answer the last sample
	 * more than half a second after it was sent (a 7.2 guest beside
	 * three others once answered 33 of 34 in 500 ms): wait for the
	 * answers, up to 10 s, rather than a fixed time.
	 */
	ASSERT_EQ(0, sim_control("pause 600"));
	for (waited = 0; waited < 10000; waited += 50) {
		sleep_ms(50);
		if (sim_stat("dev0.answered.sample") >= sim_stat("dev0.sent.sample"))
			break;
	}
	ASSERT_EQ(0, system("/sbin/rmmod hv_utils"));

	sent = sim_stat("dev0.sent.sample");
	TH_LOG("%lld samples sent", sent);
	EXPECT_GE(sent, 25);
	EXPECT_EQ(sent, sim_stat("dev0.answered.sample"));
	EXPECT_EQ(0, sim_stat("dev0.answered_fail.sample"));
	EXPECT_EQ(1, sim_stat("dev0.answered.negotiate"));
	EXPECT_EQ(0, sim_stat("dev0.answered_fail.negotiate"));
	EXPECT_EQ(5, sim_stat("dev0.answered.wrong_type"));
	EXPECT_EQ(5, sim_stat("dev0.answered_fail.wrong_type"));
	EXPECT_EQ(3, sim_stat("dev0.sent.short"));
	EXPECT_EQ(0, sim_stat("dev0.answered.short"));
	EXPECT_EQ(0, sim_stat("dev0.bad_responses"));
	EXPECT_EQ(0, sim_stat("dev0.queue_drops"));
	EXPECT_EQ(1, sim_stat("dev0.closes"));
}

/*
 * ideal host (no offset, rate error or noise): the only errors are the
 * 100 ns truncation of the reference counter and the rounding of
 * parenttime to 100 ns, so |error| < 150 ns; the requirement is 200 ns.
 */
TEST_F_TIMEOUT(intree, ideal_within_200ns, 40)
{
	long long err, max = 0;
	double sum2 = 0;
	int i, n = 200;

	ASSERT_EQ(0, load_and_open(&self->phc, "profile=ideal"));
	for (i = 0; i < n; i++) {
		ASSERT_LE(0, intree_error(self->phc, &err));
		sum2 += (double)err * err;
		if (llabs(err) > llabs(max))
			max = err;
		sleep_ms(50);
	}
	TH_LOG("ideal: in-tree PHC error RMS %.0f ns, max %+lld ns (%d reads)",
	       sqrt(sum2 / n), max, n);
	EXPECT_LE(llabs(max), 200);
}

/*
 * +10 ppm host: hv_utils extrapolates the last sample at the reference
 * rate, so its PHC falls behind by 10 ppm of the time since the sample:
 * 50 us at the end of each 5 s interval. Each complete interval's peak must
 * be 50 us +- 10 %, and the error always behind (negative), never ahead by
 * more than the 150 ns of rounding.
 */
TEST_F_TIMEOUT(intree, sawtooth_10ppm, 60)
{
	long long err, k, cur = -1, peak = 0, sum = 0, max = 0;
	int intervals = 0, n = 0;
	double sum2 = 0;
	struct timespec t0, t;

	ASSERT_EQ(0, load_and_open(&self->phc, "freq_ppb=10000"));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		k = intree_error(self->phc, &err);
		ASSERT_LE(0, k);
		EXPECT_LE(err, 150);
		if (k != cur) {
			if (cur >= 1) {
				TH_LOG("interval %lld: peak %+lld ns", cur, peak);
				EXPECT_GE(-peak, 45000);
				EXPECT_LE(-peak, 55000);
				intervals++;
			}
			cur = k;
			peak = 0;
		}
		if (llabs(err) > llabs(peak))
			peak = err;
		if (cur >= 1) {
			sum += err;
			sum2 += (double)err * err;
			if (llabs(err) > llabs(max))
				max = err;
			n++;
		}
		sleep_ms(50);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec < 32);
	TH_LOG("+10 ppm: mean %+lld ns, RMS %.0f ns, max %+lld ns over %d reads",
	       n ? sum / n : 0, n ? sqrt(sum2 / n) : 0, max, n);
	EXPECT_GE(intervals, 4);
}

FIXTURE(older) {
	int phc;
};

FIXTURE_VARIANT(older) {
	int ts_version;
	const char *want;
};

FIXTURE_VARIANT_ADD(older, v3) { .ts_version = 3, .want = "3.0" };
FIXTURE_VARIANT_ADD(older, v1) { .ts_version = 1, .want = "1.0" };

FIXTURE_SETUP(older)
{
	self->phc = -1;
	if (!rig_available())
		SKIP(return, "needs root and the rig (" RIG_LOAD ")");
	ASSERT_EQ(0, pin_cpu(0));
}

FIXTURE_TEARDOWN(older)
{
	if (self->phc >= 0)
		close(self->phc);
}

/*
 * Host limited to TimeSync 3.0 or 1.0: hv_utils negotiates it and reads the
 * older payload, which carries no reference time, so the delivery latency
 * from the host's sample to the guest's callback enters its error: a few
 * hundred us under TCG (measured 260-360 us), milliseconds on a loaded
 * machine (5.3 ms with three guests on two cores, one of them a KASAN
 * kernel). 50 ms bounds that with a wide margin, while any misparse of the
 * payload would be off by years.
 */
TEST_F_TIMEOUT(older, older_payload, 40)
{
	char params[64];
	long long err, max = 0;
	int i;

	snprintf(params, sizeof(params), "ts_version=%d interval_ms=500",
		 variant->ts_version);
	ASSERT_EQ(0, load_and_open(&self->phc, params));
	EXPECT_TRUE(sim_stat_is("dev0.ts_version", variant->want));
	for (i = 0; i < 60; i++) {
		ASSERT_LE(0, intree_error(self->phc, &err));
		if (llabs(err) > llabs(max))
			max = err;
		sleep_ms(50);
	}
	TH_LOG("TimeSync %s: in-tree PHC max error %+lld ns", variant->want, max);
	EXPECT_LE(llabs(max), 50000000);
	EXPECT_EQ(sim_stat("dev0.sent.sample"), sim_stat("dev0.answered.sample"));
}

TEST_HARNESS_MAIN
