// SPDX-License-Identifier: GPL-2.0
/*
 * What the bound bounds: UTC, with the host off it. The simulated host's
 * time is UTC + 2 ms (hv_host_sim's utc_offset); an NTP server
 * (ntp-fixture) answers from the simulator's true UTC over a path with
 * delay, asymmetry and jitter, inside a network namespace of its own;
 * Debian's chronyd, started as a user would beside hv-ptp-sync ("-x": it
 * never touches the clock; its source "noselect"), polls it every second;
 * hv-ptp-sync audits the host through chronyc. The ClockBound segment is
 * read at 10 Hz, by our reader and through AWS ClockBound's library where
 * it was built, and judged against true UTC:
 *
 * - audit bound, declared 5 ms: the measured offset within its error of
 *   the true 2 ms, the UTC bound the measurement's (tighter than the
 *   declaration), every reading vouched and inside;
 * - the host steps its clock 20 ms away from UTC (the PHC follows it, as
 *   it must): the disagreement is detected within a stated time, nothing
 *   vouched is outside meanwhile, and after a step back they agree again;
 *   then UTC itself jumps 20 ms with no step in host time: detected too,
 *   the readings vouched before it counted (the limit, in the log);
 * - audit off, nothing declared: every output says host-relative, the
 *   bound holds against host time and, 2 ms off, not against UTC;
 * - NTP unreachable: "no measurement", and the declared allowance.
 */
#define _GNU_SOURCE
#include "measure.h"
#include "daemon.h"
#include "bound.h"
#include "kselftest_harness.h"

#include "ntp.h"

#define HOST_UTC_NS	2000000LL	/* host time minus UTC */
#define DECLARED_US	5000		/* the declared allowance */
/*
 * Detected within: the module hears of the step at the next sample (1 s),
 * hv-ptp-sync follows it (a slew of 20 ms), chronyd's next poll (1 s)
 * after the daemon's lock, and the next audit (1 s), with room for a
 * loaded TCG guest.
 */
#define DETECT_S	20

#ifdef HV_CLOCKBOUND
static clockbound_ctx *aws;
#endif

FIXTURE(utc) {
	pid_t daemon;
	struct ntp_side ntp;
	void *seg;
	int phc, index;
};

FIXTURE_SETUP(utc)
{
	self->daemon = self->ntp.chronyd = self->ntp.fixture = -1;
	self->seg = NULL;
	self->phc = -1;
	if (!rig_available())
		SKIP(return, "not in the rig");
	if (!ntp_available())
		SKIP(return, "no chronyd, chronyc or ntp-fixture in this guest");
	ASSERT_EQ(0, rig_load("--ours --no-hv-utils profile=azure interval_ms=1000 utc_offset_ns=%lld ours.host_utc_error_ns=%d",
			      HOST_UTC_NS, DECLARED_US * 1000));
	self->phc = phc_open_driver("hv_ptp_ext", &self->index);
	ASSERT_LE(0, self->phc);
	ASSERT_EQ(0, ntp_start(&self->ntp));
}

FIXTURE_TEARDOWN(utc)
{
#ifdef HV_CLOCKBOUND
	if (aws)
		clockbound_close(aws);
	aws = NULL;
#endif
	ntp_stop(&self->ntp);
	if (self->seg)
		munmap(self->seg, 80);
	if (self->phc >= 0)
		close(self->phc);
	finish(self->daemon);
	system("tail -n 5 " NTP_LOG " 2>/dev/null | sed 's/^/# chronyd: /'");
}

/* hv-ptp-sync with @args, locked, its segment mapped (and AWS's library) */
static const char *start_hps(FIXTURE_DATA(utc) *self, const char *args)
{
	unlink(SEGMENT);
	self->daemon = start_daemon(args);
	if (!wait_state("state", "locked", 90000))
		return "hv-ptp-sync locking within 90 s";
	self->seg = cb_map();
	if (!self->seg)
		return "mapping the segment";
#ifdef HV_CLOCKBOUND
	{
		clockbound_err err = { 0 };

		aws = clockbound_vmclock_open(SEGMENT, "/dev/vmclock0", &err);
		if (!aws)
			return "clockbound_vmclock_open";
	}
#endif
	return NULL;
}

/* Through AWS's library, against true UTC; R_ERR where it is not built. */
static enum reading aws_utc_reading(long long *err_ns, long long *bound_ns)
{
#ifdef HV_CLOCKBOUND
	int status;

	return aws ? aws_reading_of(aws, err_ns, bound_ns, &status, 1) : R_ERR;
#else
	(void)err_ns;
	(void)bound_ns;
	return R_ERR;
#endif
}

static int aws_built(void)
{
#ifdef HV_CLOCKBOUND
	return 1;
#else
	return 0;
#endif
}

/* @n readings at 10 Hz into @y (ours) and @ya (AWS's library) */
static void readings(const void *seg, int n, struct tally *y,
		     struct tally *ya, long long *bound_max)
{
	long long err = 0, bound = 0;
	enum reading r;
	struct cb c;
	int i;

	for (i = 0; i < n; i++) {
		sleep_ms(100);
		r = reading_of(seg, &c, &err, &bound, 1);
		count(y, r, err, bound);
		if (r == R_INSIDE || r == R_OUTSIDE)
			*bound_max = bound > *bound_max ? bound : *bound_max;
		if (aws_built()) {
			r = aws_utc_reading(&err, &bound);
			count(ya, r, err, bound);
		}
	}
}

/*
 * The system clock against true host time, RMS over @n readings at 10 Hz:
 * the audit only informs the bound, the clock follows the PHC as before.
 */
static double host_rms(int n)
{
	struct sim_truth t;
	double sum2 = 0;
	int i, k = 0;

	for (i = 0; i < n; i++) {
		sleep_ms(100);
		if (sim_truth(&t))
			continue;
		sum2 += (double)(t.real_ns - t.host_ns) * (t.real_ns - t.host_ns);
		k++;
	}
	return k ? sqrt(sum2 / k) : -1;
}

/* The audit's estimate against the simulator's true host-minus-UTC. */
static void log_estimate(struct __test_metadata *_metadata, const char *when)
{
	long long off = state_ll("host_utc_offset_ns");
	long long err = state_ll("host_utc_error_ns");
	long long truth = sim_stat("utc_offset_ns");

	TH_LOG("%s: measured host - UTC %+lld ns +/- %lld ns (%lld of %lld sources); true %+lld ns: off by %+lld ns",
	       when, off, err, state_ll("utc_agreeing"), state_ll("utc_sources"),
	       truth, off - truth);
	EXPECT_GE(err, llabs(off - truth));
}

/*
 * Audit in bound mode, the host 2 ms off UTC, 5 ms declared: the
 * measurement agrees, and is what the UTC bound carries; 300 readings,
 * all vouched and inside UTC +/- the bound.
 */
TEST_F_TIMEOUT(utc, audit_bound, 300)
{
	struct tally y = { 0 }, ya = { 0 };
	long long bmax = 0, allow;
	const char *failed;
	char why[96];

	failed = start_hps(self, NTP_AUDIT_ARGS " --host-utc-error-us=auto");
	ASSERT_EQ(NULL, failed) TH_LOG("%s", failed);
	ASSERT_TRUE(wait_state("utc_audit", "agree", 60000))
		TH_LOG("audit: %s", hps_state("utc_audit_why", why, sizeof(why)));
	log_estimate(_metadata, "agree");
	/* auto: the module's declaration */
	EXPECT_EQ(DECLARED_US * 1000LL, state_ll("host_utc_declared_ns"));
	EXPECT_TRUE(state_is("cb_reference", "utc"));
	EXPECT_TRUE(state_is("error_reference", "host"));
	allow = state_ll("utc_allowance_ns");
	EXPECT_LE(HOST_UTC_NS, allow);
	EXPECT_GT(DECLARED_US * 1000LL, allow);
	readings(self->seg, 300, &y, &ya, &bmax);
	TH_LOG("300 readings against UTC: %d vouched, %d outside (worst by %lld ns), %d unknown; bound up to %lld ns (allowance %lld ns)",
	       y.vouched, y.outside, y.worst_outside, y.unknown, bmax, allow);
	EXPECT_EQ(0, y.errors);
	EXPECT_EQ(300, y.vouched);
	EXPECT_EQ(0, y.outside);
	if (aws_built()) {
		TH_LOG("through AWS ClockBound's libclockbound: %d vouched, %d outside, %d not taken",
		       ya.vouched, ya.outside, ya.errors);
		EXPECT_EQ(0, ya.errors);
		EXPECT_EQ(300, ya.vouched);
		EXPECT_EQ(0, ya.outside);
	}
	log_estimate(_metadata, "after");
	TH_LOG("system clock against host time, audit on: RMS %.0f ns over 10 s",
	       host_rms(100));
}

/*
 * The host steps its clock 20 ms further from UTC (UTC itself goes on):
 * the module counts a host step, the daemon follows the host, and the
 * audit then finds the host 22 ms off against 5 ms declared. Detected
 * within DETECT_S; read throughout at 10 Hz, nothing vouched is outside
 * UTC +/- the bound. A step back: they agree again, and the segment
 * vouches again.
 */
TEST_F_TIMEOUT(utc, audit_host_step, 400)
{
	struct tally y = { 0 }, ya = { 0 };
	long long bmax = 0;
	struct timespec t0, t1;
	const char *failed;
	int i, detected = -1;

	failed = start_hps(self, NTP_AUDIT_ARGS " --host-utc-error-us=5000");
	ASSERT_EQ(NULL, failed) TH_LOG("%s", failed);
	ASSERT_TRUE(wait_state("utc_audit", "agree", 60000));
	log_estimate(_metadata, "before the step");
	ASSERT_EQ(0, sim_control("step 20000000"));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 10 * 60; i += 10) {
		readings(self->seg, 10, &y, &ya, &bmax);
		if (detected < 0 && state_is("utc_audit", "disagree")) {
			clock_gettime(CLOCK_MONOTONIC, &t1);
			detected = (int)((ts_ns(&t1) - ts_ns(&t0)) / 1000000);
		}
		if (detected >= 0 && i >= 300)
			break;
	}
	TH_LOG("host stepped 20 ms from UTC: disagreement after %d ms; %d readings, %d vouched, %d outside (worst by %lld ns), %d disrupted, %d unknown",
	       detected, y.readings, y.vouched, y.outside, y.worst_outside,
	       y.disrupted, y.unknown);
	EXPECT_LE(0, detected);
	EXPECT_GT(DETECT_S * 1000, detected);
	EXPECT_EQ(0, y.errors);
	EXPECT_EQ(0, y.outside);
	if (aws_built()) {
		TH_LOG("through AWS ClockBound's libclockbound: %d vouched, %d outside, %d not taken",
		       ya.vouched, ya.outside, ya.errors);
		EXPECT_EQ(0, ya.outside);
	}
	log_estimate(_metadata, "disagreeing");
	EXPECT_TRUE(state_is("cb_status", "0"));
	EXPECT_LE(1, shell_ll("grep -c 'host and NTP disagree' " LOG));

	/* back within the declaration: agreement, and vouched again */
	ASSERT_EQ(0, sim_control("step -20000000"));
	EXPECT_TRUE(wait_state("utc_audit", "agree", DETECT_S * 1000));
	EXPECT_TRUE(wait_state("cb_status", "1", 30000));
	memset(&y, 0, sizeof(y));
	readings(self->seg, 50, &y, &ya, &bmax);
	TH_LOG("after the step back: %d of 50 vouched, %d outside", y.vouched,
	       y.outside);
	EXPECT_EQ(50, y.vouched);
	EXPECT_EQ(0, y.outside);

	/*
	 * The limit: the host's offset from UTC jumps by 20 ms while its
	 * clock runs on (the simulator's UTC moves, no sample shows a step).
	 * Nothing tells the guest before chronyd's next sample: the readings
	 * vouched until the audit finds it are counted, not judged; detected
	 * within DETECT_S, and nothing vouched is outside from then on.
	 */
	ASSERT_EQ(0, sim_control("utc_offset %lld", HOST_UTC_NS + 20000000));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&y, 0, sizeof(y));
	detected = -1;
	for (i = 0; i < 10 * DETECT_S && detected < 0; i++) {
		readings(self->seg, 1, &y, &ya, &bmax);
		if (state_is("utc_audit", "disagree")) {
			clock_gettime(CLOCK_MONOTONIC, &t1);
			detected = (int)((ts_ns(&t1) - ts_ns(&t0)) / 1000000);
		}
	}
	TH_LOG("UTC 20 ms away, no step in host time: disagreement after %d ms; before it %d readings, %d vouched, %d of them outside",
	       detected, y.readings, y.vouched, y.outside);
	EXPECT_LE(0, detected);
	memset(&y, 0, sizeof(y));
	readings(self->seg, 30, &y, &ya, &bmax);
	EXPECT_EQ(0, y.vouched);
	EXPECT_EQ(0, y.outside);
}

/*
 * Audit off, nothing declared: every output says the bound is against
 * the host's clock; it holds there, and 2 ms off UTC it is no UTC bound.
 */
TEST_F_TIMEOUT(utc, audit_off_host_relative, 300)
{
	long long err = 0, bound = 0;
	int i, host_inside = 0, utc_inside = 0;
	struct cb c;
	const char *failed;

	failed = start_hps(self, "--host-utc-error-us=0");
	ASSERT_EQ(NULL, failed) TH_LOG("%s", failed);
	EXPECT_TRUE(wait_state("cb_status", "1", 30000));
	EXPECT_TRUE(state_is("cb_reference", "host"));
	EXPECT_TRUE(state_is("error_reference", "host"));
	EXPECT_TRUE(state_is("utc_audit", "off"));
	EXPECT_EQ(0, state_ll("utc_allowance_ns"));
	EXPECT_EQ(1, shell_ll(DAEMON " status | grep -c \"seconds against the host's clock\""));
	EXPECT_EQ(1, shell_ll(DAEMON " status --json | grep -c '\"cb_reference\": *\"host\"'"));
	for (i = 0; i < 100; i++) {
		sleep_ms(100);
		host_inside += reading_of(self->seg, &c, &err, &bound, 0) == R_INSIDE;
		utc_inside += reading_of(self->seg, &c, &err, &bound, 1) == R_INSIDE;
	}
	TH_LOG("100 readings: %d inside against host time, %d against UTC (2 ms away; bound %lld ns)",
	       host_inside, utc_inside, bound);
	TH_LOG("system clock against host time, audit off: RMS %.0f ns over 10 s",
	       host_rms(100));
	EXPECT_EQ(100, host_inside);
	EXPECT_EQ(0, utc_inside);
}

/*
 * NTP unreachable (the server gone): after ntp_max_age_s the audit says
 * "no measurement" and the UTC bound is the declared allowance; every
 * reading vouched and inside.
 */
TEST_F_TIMEOUT(utc, audit_unreachable, 300)
{
	struct tally y = { 0 }, ya = { 0 };
	long long bmax = 0;
	const char *failed;
	char why[96];

	failed = start_hps(self, NTP_AUDIT_ARGS " --host-utc-error-us=5000");
	ASSERT_EQ(NULL, failed) TH_LOG("%s", failed);
	ASSERT_TRUE(wait_state("utc_audit", "agree", 60000));
	ntp_stop_pid(&self->ntp.fixture);
	ASSERT_TRUE(wait_state("utc_audit", "no-measurement", 30000));
	TH_LOG("no measurement: %s", hps_state("utc_audit_why", why, sizeof(why)));
	EXPECT_EQ(5000000, state_ll("utc_allowance_ns"));
	EXPECT_TRUE(state_is("cb_reference", "utc"));
	readings(self->seg, 100, &y, &ya, &bmax);
	TH_LOG("100 readings against UTC: %d vouched, %d outside; bound up to %lld ns",
	       y.vouched, y.outside, bmax);
	EXPECT_EQ(100, y.vouched);
	EXPECT_EQ(0, y.outside);
	EXPECT_LE(5000000, bmax);
	if (aws_built()) {
		EXPECT_EQ(100, ya.vouched);
		EXPECT_EQ(0, ya.outside);
	}
}

TEST_HARNESS_MAIN
