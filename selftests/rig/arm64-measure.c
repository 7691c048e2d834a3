// SPDX-License-Identifier: GPL-2.0
/*
 * arm64_measure: ours against Debian's hv_utils on an arm64 guest, where
 * every hv_utils read is a (simulated) hypercall. Built and run by
 * selftests/rig/arm64-guest.sh (RIG_TESTS=arm64_measure), with the
 * simulator's hypercall latency set on the kernel command line (RIG_SIM).
 * A measurement, not a test: it fails only when it cannot measure.
 *
 * Both PHCs run on one sample stream (devices=2, as phc_compare), and for
 * each, every 100 ms after a warm-up:
 *  - the error against true host time: ours through PTP_SYS_OFFSET_PRECISE,
 *    the in-tree one through clock_gettime() and the truth at its
 *    reference counter read (measure.h); RMS and max, ns;
 *  - the window of one PTP_SYS_OFFSET_EXTENDED sample (post - pre, ns), or
 *    of PTP_SYS_OFFSET where the driver has no gettimex64 (hv_utils);
 *    median and max;
 *  - CPU time per clock_gettime() of the PHC, ns (thread CPU time over
 *    READS reads).
 * Profile: RIG_PROFILE in the environment, default azure.
 */
#define _GNU_SOURCE
#include "measure.h"
#include "kselftest_harness.h"

#ifndef WARMUP_S
#define WARMUP_S	20
#endif
#ifndef MEASURE_S
#define MEASURE_S	60
#endif
#define READS		2000
#define MAX_WIN		(MEASURE_S * 10 + 16)

FIXTURE(m) {
	int ours, intree, index;
};

FIXTURE_SETUP(m)
{
	const char *profile = getenv("RIG_PROFILE") ?: "azure";

	self->ours = self->intree = -1;
	if (!rig_available())
		SKIP(return, "needs root and the rig (" RIG_LOAD ")");
	ASSERT_EQ(0, pin_cpu(0));
	ASSERT_EQ(0, rig_load("--ours ours.takeover=0 devices=2 profile=%s", profile));
	sleep_ms(500);
	self->intree = phc_open("hyperv");
	self->ours = phc_open_driver("hv_ptp_ext", &self->index);
	ASSERT_LE(0, self->intree);
	ASSERT_LE(0, self->ours);
}

FIXTURE_TEARDOWN(m)
{
	if (self->ours >= 0)
		close(self->ours);
	if (self->intree >= 0)
		close(self->intree);
}

/* post - pre of one kernel-bracketed sample, ns; -1 if neither works. */
static long long window(int phc, const char **how)
{
	struct ptp_sys_offset_extended x = { .n_samples = 1 };
	struct ptp_sys_offset b = { .n_samples = 1 };

	if (!ioctl(phc, PTP_SYS_OFFSET_EXTENDED, &x)) {
		*how = "EXTENDED";
		return (x.ts[0][2].sec - x.ts[0][0].sec) * NSEC_PER_SEC +
		       x.ts[0][2].nsec - x.ts[0][0].nsec;
	}
	if (!ioctl(phc, PTP_SYS_OFFSET, &b)) {
		*how = "BASIC";
		return (b.ts[2].sec - b.ts[0].sec) * NSEC_PER_SEC +
		       b.ts[2].nsec - b.ts[0].nsec;
	}
	return -1;
}

/* Thread CPU time per clock_gettime() of @phc, ns. */
static long long cpu_per_read(int phc)
{
	struct timespec a, b;
	long long ns;
	int i;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	for (i = 0; i < READS; i++)
		if (phc_gettime(phc, &ns))
			return -1;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	return (ts_ns(&b) - ts_ns(&a)) / READS;
}

static long long median(long long *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_ll);
	return n ? v[n / 2] : -1;
}

TEST_F_TIMEOUT(m, ours_vs_intree, WARMUP_S + MEASURE_S + 120)
{
	static long long wo[MAX_WIN], wt[MAX_WIN];
	const char *lat = "?";
	const char *ho = "-", *ht = "-";
	struct err_stats o = { 0 }, t = { 0 };
	struct timespec t0, now;
	long long e = 0, cpu_o, cpu_t;
	int n = 0;
	FILE *f;
	char buf[64] = "?", rc[64];

	f = fopen("/sys/module/hv_host_sim/parameters/hc_latency_ns", "r");
	if (f) {
		if (fgets(buf, sizeof(buf), f))
			buf[strcspn(buf, "\n")] = 0;
		fclose(f);
		lat = buf;
	}
	sleep_ms(WARMUP_S * 1000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		ASSERT_EQ(0, ours_error(self->ours, &e));
		stats_add(&o, e);
		ASSERT_LE(0, intree_error(self->intree, &e));
		stats_add(&t, e);
		if (n < MAX_WIN) {
			wo[n] = window(self->ours, &ho);
			wt[n] = window(self->intree, &ht);
			n++;
		}
		sleep_ms(100);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec - t0.tv_sec < MEASURE_S);
	cpu_o = cpu_per_read(self->ours);
	cpu_t = cpu_per_read(self->intree);

	TH_LOG("hc_latency_ns %s: error ours RMS %.0f ns max %+lld ns | in-tree RMS %.0f ns max %+lld ns (%lld reads)",
	       lat, stats_rms(&o), o.max, stats_rms(&t), t.max, o.n);
	qsort(wo, n, sizeof(*wo), cmp_ll);
	qsort(wt, n, sizeof(*wt), cmp_ll);
	TH_LOG("hc_latency_ns %s: window ours %s median %lld max %lld ns | in-tree %s median %lld max %lld ns",
	       lat, ho, median(wo, n), n ? wo[n - 1] : -1, ht, median(wt, n),
	       n ? wt[n - 1] : -1);
	TH_LOG("hc_latency_ns %s: CPU per read ours %lld ns | in-tree %lld ns",
	       lat, cpu_o, cpu_t);
	TH_LOG("hc_latency_ns %s: ours refclock %s, samples accepted %lld",
	       lat, ours_str(self->index, "refclock", rc, sizeof(rc)),
	       ours_stat(self->index, "samples_accepted"));
	EXPECT_LT(0, o.n);
}

TEST_HARNESS_MAIN
