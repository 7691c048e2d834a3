// SPDX-License-Identifier: GPL-2.0
/*
 * hv-ptp-sync in the guest, judged by the simulator's truth: the system
 * clock's error is CLOCK_REALTIME minus true host time from one kernel
 * snapshot, exact. From a 50 ms / +100 ppm start it converges; it keeps
 * the kernel's sync state and error fields honest; it holds over while the
 * module is unloaded and comes back; it notices interference; a bad
 * configuration is refused with FILE:LINE; on SIGTERM it marks the clock
 * unsynchronised; it also runs on Debian's hv_utils PHC; a leap second
 * announced by the host reaches the kernel and is made by the PHC and the
 * system clock together; a host that says it is unsynchronised, and one
 * that sends nothing for 10 minutes, are never passed on as good time.
 */
#define _GNU_SOURCE
#include "measure.h"
#include "daemon.h"
#include "bound.h"
#include "kselftest_harness.h"

/*
 * Truth reads that failed in this test. A reading that could not be
 * taken is no evidence of anything: sys_error() returns an error far
 * outside every bound (LLONG_MAX / 2, so that llabs() of it is defined
 * and every "within" check on it fails), and each test that reads the
 * truth ends with truth_read_ok().
 */
static int truth_failures;

static long long sys_error(void)
{
	struct sim_truth t;

	if (sim_truth(&t)) {
		truth_failures++;
		return LLONG_MAX / 2;
	}
	return t.real_ns - t.host_ns;
}

#define truth_read_ok() EXPECT_EQ(0, truth_failures)

/*
 * @readings of the system clock's error (ns, system - truth) at 10 Hz:
 * the worst one, and in *@outside (if given) how many exceeded the
 * daemon's published error estimate.
 */
static long long watch_error(int readings, long long *outside)
{
	long long err, worst = 0;
	int i;

	for (i = 0; i < readings; i++) {
		sleep_ms(100);
		err = sys_error();
		if (llabs(err) > llabs(worst))
			worst = err;
		if (outside && llabs(err) > state_ll("est_error_ns"))
			(*outside)++;
	}
	return worst;
}

FIXTURE(daemon) {
	pid_t pid;
};

FIXTURE_SETUP(daemon)
{
	self->pid = -1;
	if (!rig_available())
		SKIP(return, "not in the rig");
}

FIXTURE_TEARDOWN(daemon)
{
	finish(self->pid);
}

/* The same, with a profile per variant. */
FIXTURE(converge) {
	pid_t pid;
};

FIXTURE_SETUP(converge)
{
	self->pid = -1;
	if (!rig_available())
		SKIP(return, "not in the rig");
}

FIXTURE_TEARDOWN(converge)
{
	finish(self->pid);
}

FIXTURE_VARIANT(converge) {
	const char *profile;
	double rms_bound_ns;
	long long t10_bound_s;
};

/*
 * The bounds of the steady state (the last 30 of 60 s): the daemon reads
 * the PHC with PTP_SYS_OFFSET_PRECISE, exactly, so the system clock's error
 * is the PHC's plus the servo's residue. ideal: the PHC is within a few ns
 * (measured 4 ns RMS, 1.6 s to 10 us, on 6.1 at 23d13c6+); 50 ns and 5 s
 * leave room for timer jitter in a loaded TCG guest. azure: 30 to 60 s
 * after load our PHC has fitted only 6 to 12 samples with 1 us noise, so
 * its error is about 0.5 us RMS (measured 626 ns, and 5.4 s to 10 us);
 * 1.5 us and 15 s.
 */
FIXTURE_VARIANT_ADD(converge, ideal) {
	.profile = "ideal",
	.rms_bound_ns = 50,
	.t10_bound_s = 5,
};

FIXTURE_VARIANT_ADD(converge, azure) {
	.profile = "azure",
	.rms_bound_ns = 1500,
	.t10_bound_s = 15,
};

/*
 * From 50 ms / +100 ppm: time to within 10 us and 1 us of the truth (and
 * staying there), then 30 s of error statistics. While locked, STA_UNSYNC
 * is clear and the truth is within esterror.
 */
TEST_F_TIMEOUT(converge, from_50ms_100ppm, 180)
{
	long long err, t10 = -1, t1 = -1, t0, now, outside = 0;
	struct err_stats all = { 0 };
	struct timespec ts;
	struct timex tx;
	int i;

	ASSERT_EQ(0, rig_load("--ours profile=%s", variant->profile));
	ASSERT_EQ(0, offset_system_clock());
	self->pid = start_daemon("--poll-ms=500");
	ASSERT_LT(0, self->pid);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = ts_ns(&ts);
	for (i = 0; i < 600; i++) {		/* 60 s at 10 Hz */
		sleep_ms(100);
		err = sys_error();
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = ts_ns(&ts) - t0;
		if (llabs(err) > 10000)
			t10 = -1;
		else if (t10 < 0)
			t10 = now;
		if (llabs(err) > 1000)
			t1 = -1;
		else if (t1 < 0)
			t1 = now;
		if (i >= 300) {
			stats_add(&all, err);
			ASSERT_EQ(0, kernel_status(&tx) < 0);
			if (tx.status & STA_UNSYNC || llabs(err) > tx.esterror * 1000)
				outside++;
		}
	}
	TH_LOG("%s: within 10 us after %.1f s, within 1 us after %.1f s",
	       variant->profile, t10 / 1e9, t1 / 1e9);
	TH_LOG("%s: last 30 s: RMS %.0f ns, max %+lld ns; esterror %ld us, maxerror %ld us; %lld of 300 unsynchronised or outside esterror",
	       variant->profile, stats_rms(&all), all.max, tx.esterror,
	       tx.maxerror, outside);
	EXPECT_TRUE(wait_state("state", "locked", 1000));
	EXPECT_LT(0, t10);
	EXPECT_GT(variant->t10_bound_s * NSEC_PER_SEC, t10);
	EXPECT_LT(0, t1);			/* within 1 us, and stayed */
	EXPECT_GT(variant->rms_bound_ns, stats_rms(&all));
	EXPECT_EQ(0, outside);
	EXPECT_GE(tx.maxerror, tx.esterror);
	/* sane: the kernel adds 500 us a second between our updates */
	EXPECT_GT(2000, tx.maxerror);
	EXPECT_TRUE(state_is("mode", "PRECISE"));
	EXPECT_TRUE(state_is("driver", "hv_ptp_ext"));
	EXPECT_EQ(0, state_ll("steps"));	/* 50 ms is slewed (makestep 1.0) */
	/* the status command reads the same state */
	EXPECT_EQ(0, system(DAEMON " status | grep -q '^Leap status     : Normal'"));
	EXPECT_EQ(0, system(DAEMON " status | grep -q '^\\*'"));
	EXPECT_EQ(0, system(DAEMON " status --json | grep -q locked"));
	truth_read_ok();
}

/*
 * The module unloaded under the daemon for 30 s, and back under a new
 * index (this test holds the old PHC open, so its index stays taken): no
 * exit, holdover with the truth inside the published error estimate, the
 * kernel told "unsynchronised" once that estimate passes max_error_us (15
 * us here: 500 ppb of growth reaches it in about 20 s), then relocked on
 * the new PHC without a step.
 */
TEST_F_TIMEOUT(daemon, holdover_and_reopen, 240)
{
	long long worst, outside = 0;
	char old[64], now[64];
	struct timex tx;
	int index, fd;

	ASSERT_EQ(0, rig_load("--ours --no-hv-utils profile=azure"));
	self->pid = start_daemon("--poll-ms=500 --max-error-us=15");
	ASSERT_TRUE(wait_state("synced", "1", 90000));
	hps_state("device", old, sizeof(old));
	fd = phc_open_driver("hv_ptp_ext", &index);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, system("/sbin/rmmod hv_ptp_ext"));
	ASSERT_TRUE(wait_state("state", "holdover", 5000));
	worst = watch_error(300, &outside);	/* 30 s without a PHC */
	ASSERT_EQ(0, kernel_status(&tx) < 0);
	TH_LOG("30 s of holdover: worst error %+lld ns, estimate then %lld ns, %lld of 300 readings outside it",
	       worst, state_ll("est_error_ns"), outside);
	EXPECT_EQ(0, outside);
	EXPECT_NE(0, tx.status & STA_UNSYNC);
	ASSERT_EQ(0, system("/sbin/insmod /rig/mod/hv_ptp_ext.ko"));
	close(fd);
	EXPECT_TRUE(wait_state("state", "locked", 60000));
	EXPECT_TRUE(wait_state("synced", "1", 60000));
	hps_state("device", now, sizeof(now));
	TH_LOG("PHC %s before, %s after", old, now);
	EXPECT_STRNE(old, now);
	EXPECT_TRUE(state_is("driver", "hv_ptp_ext"));
	EXPECT_EQ(0, state_ll("steps"));
	EXPECT_LT(0, state_ll("read_errors"));
	EXPECT_EQ(0, kill(self->pid, 0));	/* never exited */
	ASSERT_EQ(0, kernel_status(&tx) < 0);
	EXPECT_EQ(0, tx.status & STA_UNSYNC);
	truth_read_ok();
}

/*
 * The host says it is itself unsynchronised (stratum 16, then leap
 * indicator 3): the daemon keeps following it but sets STA_UNSYNC within a
 * few samples, and clears it when the host recovers.
 */
TEST_F_TIMEOUT(daemon, host_unsynchronised, 240)
{
	static const char *const bad[][2] = {
		{ "stratum 16", "stratum 2" },
		{ "leap 3", "leap 0" },
	};
	struct timex tx;
	unsigned int i;

	ASSERT_EQ(0, rig_load("--ours --no-hv-utils interval_ms=1000"));
	self->pid = start_daemon("--poll-ms=500");
	ASSERT_TRUE(wait_state("synced", "1", 90000));
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ASSERT_EQ(0, sim_control("%s", bad[i][0]));
		EXPECT_TRUE(wait_state("synced", "0", 10000)) TH_LOG("%s", bad[i][0]);
		ASSERT_EQ(0, kernel_status(&tx) < 0);
		EXPECT_NE(0, tx.status & STA_UNSYNC);
		EXPECT_TRUE(state_is("stratum", "16"));
		/* still followed: the system clock stays on the host's time */
		EXPECT_GT(10000, llabs(sys_error()));
		ASSERT_EQ(0, sim_control("%s", bad[i][1]));
		EXPECT_TRUE(wait_state("synced", "1", 30000)) TH_LOG("%s", bad[i][1]);
		ASSERT_EQ(0, kernel_status(&tx) < 0);
		EXPECT_EQ(0, tx.status & STA_UNSYNC);
	}
	truth_read_ok();
}

/*
 * One 100 ms tick of pause_10_minutes' ClockBound reader: a reading, and
 * the tick at which the simulator's pause ended and, after it, the first
 * at which the segment says synchronized with a bound under 10 us.
 */
static void pause_tick(struct tally *y, const void *seg, struct cb *c,
		       long long *err, long long *bound, int tick, int *ended,
		       int *recovered)
{
	enum reading r;

	sleep_ms(100);
	r = reading(seg, c, err, bound);
	count(y, r, *err, *bound);
	if (*ended < 0 && sim_stat_is("paused", "0"))
		*ended = tick;
	if (*ended >= 0 && *recovered < 0 && r == R_INSIDE &&
	    c->status == CB_SYNCHRONIZED && *bound < 10000)
		*recovered = tick;
}

/*
 * A 10-minute pause of the samples: every second, the system clock is
 * within the daemon's error estimate or marked unsynchronised, and the
 * PHC within its own error bound; at 10 Hz, the ClockBound segment's
 * bound holds where it is vouched for; after the pause (a SYNC sample)
 * all are back.
 */
TEST_F_TIMEOUT(daemon, pause_10_minutes, 900)
{
	long long err, phc_err = 0, bound, worst = 0, phc_worst = 0, cb_err = 0, cb_bound = 0;
	int i, k, fd, index, unsync_from = -1, silent = 0, phc_outside = 0;
	int tick = 0, ended = -1, recovered = -1;
	struct tally y = { 0 };
	uint64_t marker0;
	struct timex tx;
	char buf[32];
	struct cb c;
	void *seg;

	RIG_SOAK_OR_SKIP("pause");
	ASSERT_EQ(0, rig_load("--ours --no-hv-utils profile=azure"));
	self->pid = start_daemon("--poll-ms=500");
	ASSERT_TRUE(wait_state("state", "locked", 90000));
	/* vouched for before the pause: then through it while the bound holds */
	ASSERT_TRUE(wait_state("synced", "1", 90000));
	fd = phc_open_driver("hv_ptp_ext", &index);
	ASSERT_LE(0, fd);
	seg = cb_map();
	ASSERT_NE(NULL, seg);
	ASSERT_EQ(0, cb_read(seg, &c));
	marker0 = c.marker;
	ASSERT_EQ(0, sim_control("pause 600"));
	for (i = 0; i < 600; i++) {
		/* the segment at 10 Hz, as a ClockBound client might read it */
		for (k = 0; k < 10; k++)
			pause_tick(&y, seg, &c, &cb_err, &cb_bound, ++tick, &ended,
				   &recovered);
		err = sys_error();
		ASSERT_EQ(0, kernel_status(&tx) < 0);
		if (llabs(err) > llabs(worst))
			worst = err;
		if (tx.status & STA_UNSYNC) {
			if (unsync_from < 0)
				unsync_from = i;
		} else if (llabs(err) > tx.esterror * 1000LL) {
			silent++;
		}
		bound = ours_stat(index, "error_bound_ns");
		if (!ours_error(fd, &phc_err)) {
			if (llabs(phc_err) > llabs(phc_worst))
				phc_worst = phc_err;
			if (llabs(phc_err) > bound &&
			    llabs(phc_err) > ours_stat(index, "error_bound_ns")) {
				phc_outside++;
				TH_LOG("%d s: PHC error %+lld ns, bound %lld ns, state %s",
				       i, phc_err, bound, ours_str(index, "state", buf,
								   sizeof(buf)));
			}
		}
	}
	TH_LOG("600 s without samples: system clock worst %+lld ns, unsynchronised from %d s; PHC worst %+lld ns, bound then %lld ns",
	       worst, unsync_from, phc_worst, ours_stat(index, "error_bound_ns"));
	EXPECT_EQ(0, silent);
	EXPECT_EQ(0, phc_outside);
	EXPECT_TRUE(state_is("state", "holdover") || state_is("state", "locked") ||
		    state_is("state", "tracking"));
	/* at 10 Hz still, until synchronized again */
	while (recovered < 0 && tick < 6000 + 900)
		pause_tick(&y, seg, &c, &cb_err, &cb_bound, ++tick, &ended,
			   &recovered);
	TH_LOG("the pause ended at %.1f s; synchronized with a bound under 10 us %.1f s later",
	       ended / 10.0, (recovered - ended) / 10.0);
	EXPECT_LT(0, ended);
	EXPECT_LT(0, recovered);
	/* the SYNC sample ends it */
	EXPECT_TRUE(wait_state("synced", "1", 90000));
	ASSERT_EQ(0, kernel_status(&tx) < 0);
	EXPECT_EQ(0, tx.status & STA_UNSYNC);
	EXPECT_GT(10000, llabs(sys_error()));
	/* what applications were told: never a bound the truth was outside */
	ASSERT_EQ(0, cb_read(seg, &c));
	TH_LOG("ClockBound over the pause: %d readings, %d vouched, %d outside (worst by %lld ns), %d disrupted, %d void, %d unknown; bound at the end %lld ns; marker %llu -> %llu",
	       y.readings, y.vouched, y.outside, y.worst_outside, y.disrupted,
	       y.voided, y.unknown, cb_bound, (unsigned long long)marker0,
	       (unsigned long long)c.marker);
	EXPECT_EQ(0, y.outside);
	EXPECT_NE(marker0, c.marker);
	munmap(seg, 80);
	close(fd);
	truth_read_ok();
}

/* Another program sets the frequency: noticed, counted, corrected. */
TEST_F_TIMEOUT(daemon, interference, 120)
{
	struct timex tx = { .modes = ADJ_FREQUENCY };

	ASSERT_EQ(0, rig_load("--ours"));
	self->pid = start_daemon("--poll-ms=500");
	ASSERT_TRUE(wait_state("state", "locked", 60000));
	tx.freq = 50 << 16;
	ASSERT_LE(0, clock_adjtime(CLOCK_REALTIME, &tx));
	sleep_ms(1500);
	EXPECT_LE(1, state_ll("interference"));
	EXPECT_TRUE(wait_state("state", "locked", 30000));
}

/* A line of /proc/PID/status, such as "CapEff", as a number (base 16 or 10). */
static unsigned long long proc_status(pid_t pid, const char *key, int base)
{
	char path[64], line[256];
	unsigned long long v = ~0ULL;
	size_t n = strlen(key);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return v;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':')
			v = strtoull(line + n + 1, NULL, base);
	fclose(f);
	return v;
}

/*
 * Started as root, the daemon keeps CAP_SYS_TIME only (effective,
 * permitted, bounding; none inheritable or ambient) with no_new_privs.
 * SIGTERM: exit 0, state file gone, STA_UNSYNC set.
 */
TEST_F_TIMEOUT(daemon, sigterm, 120)
{
	const unsigned long long sys_time = 1ULL << 25;	/* CAP_SYS_TIME */
	struct timex tx;
	int status;

	ASSERT_EQ(0, rig_load("--ours"));
	self->pid = start_daemon("--poll-ms=500");
	ASSERT_TRUE(wait_state("synced", "1", 60000));
	EXPECT_EQ(sys_time, proc_status(self->pid, "CapEff", 16));
	EXPECT_EQ(sys_time, proc_status(self->pid, "CapPrm", 16));
	EXPECT_EQ(sys_time, proc_status(self->pid, "CapBnd", 16));
	EXPECT_EQ(0, proc_status(self->pid, "CapInh", 16));
	EXPECT_EQ(0, proc_status(self->pid, "CapAmb", 16));
	EXPECT_EQ(1, proc_status(self->pid, "NoNewPrivs", 10));
	ASSERT_EQ(0, kernel_status(&tx) < 0);
	EXPECT_EQ(0, tx.status & STA_UNSYNC);
	status = stop_daemon(self->pid);
	self->pid = -1;
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_NE(0, access(HPS_STATE, F_OK));
	ASSERT_EQ(0, kernel_status(&tx) < 0);
	EXPECT_NE(0, tx.status & STA_UNSYNC);
}

/* Each kind of bad line is refused with FILE:LINE, exit 1; a bad --key too. */
TEST_F(daemon, bad_config)
{
	static const char *const bad[] = {
		"poll_ms 5",		/* out of range */
		"poll_ms fast",		/* not a number */
		"leap maybe",		/* not a boolean */
		"pol_ms 500",		/* unknown key */
		"samples",		/* no value */
		"makestep 1.0",		/* one word of two */
		"log_level loud",	/* not a level */
		"state_file run/x",	/* not absolute */
	};
	char cmd[256];
	unsigned int i;
	FILE *f;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f = fopen("/tmp/bad.conf", "w");
		ASSERT_NE(NULL, f);
		fprintf(f, "# comment\npoll_ms 500\n%s\n", bad[i]);
		fclose(f);
		EXPECT_EQ(1, WEXITSTATUS(system(DAEMON " -f /tmp/bad.conf --check-config 2>/tmp/err")));
		snprintf(cmd, sizeof(cmd), "grep -q '^hv-ptp-sync: error: /tmp/bad.conf:3: ' /tmp/err");
		EXPECT_EQ(0, system(cmd)) TH_LOG("'%s' not refused as line 3", bad[i]);
	}
	EXPECT_EQ(1, WEXITSTATUS(system(DAEMON " --no-such-key=1 --check-config 2>/dev/null")));
	EXPECT_EQ(1, WEXITSTATUS(system(DAEMON " -f /tmp/none.conf --check-config 2>/dev/null")));
	EXPECT_EQ(0, WEXITSTATUS(system(DAEMON " --poll-ms=250 --check-config >/dev/null")));
	unlink("/tmp/bad.conf");
	unlink("/tmp/err");
}

/* SIGHUP with a broken file keeps the running configuration. */
TEST_F_TIMEOUT(daemon, bad_reload, 120)
{
	FILE *f = fopen("/tmp/hps.conf", "w");

	ASSERT_NE(NULL, f);
	fprintf(f, "poll_ms 500\n");
	fclose(f);
	ASSERT_EQ(0, rig_load("--ours"));
	self->pid = start_daemon("-f /tmp/hps.conf");
	ASSERT_TRUE(wait_state("state", "locked", 60000));
	f = fopen("/tmp/hps.conf", "w");
	ASSERT_NE(NULL, f);
	fprintf(f, "poll_ms 200\nsamples 99\n");
	fclose(f);
	kill(self->pid, SIGHUP);
	sleep_ms(1500);
	EXPECT_EQ(0, kill(self->pid, 0));
	EXPECT_EQ(500, state_ll("poll_ms"));
	EXPECT_EQ(0, system("grep -q 'hps.conf:2:' " LOG));
	unlink("/tmp/hps.conf");
}

/*
 * On Debian's hv_utils PHC (no hv_ptp_ext): found by its name, BASIC
 * offsets (it has no EXTENDED or PRECISE). Its own error is a 100 ns
 * quantised extrapolation; on the ideal profile the daemon holds the
 * clock within a few microseconds of it, and tells applications nothing
 * it cannot vouch for.
 */
TEST_F_TIMEOUT(daemon, intree_phc, 120)
{
	long long worst;

	ASSERT_EQ(0, rig_load(""));
	self->pid = start_daemon("--poll-ms=500");
	ASSERT_TRUE(wait_state("state", "locked", 60000));
	EXPECT_TRUE(state_is("mode", "BASIC"));
	EXPECT_TRUE(state_is("clock_name", "hyperv"));
	worst = watch_error(100, NULL);
	TH_LOG("on hv_utils' PHC: worst error over 10 s %+lld ns", worst);
	EXPECT_GT(20000, llabs(worst));
	/*
	 * it publishes no bound and counts no disruptions: its resolution
	 * taken for a bound, followed, but never vouched for to
	 * applications (ClockBound status 0, unknown)
	 */
	EXPECT_EQ(100, state_ll("error_bound_ns"));
	EXPECT_EQ(-1, state_ll("module_disruptions"));
	EXPECT_EQ(0, state_ll("cb_status"));
	truth_read_ok();
}

/* One attribute of the bound hv_ptp_ext device; -1 if unreadable. */
static long long module_attr(const char *name)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd),
		 "cat /sys/bus/vmbus/drivers/hv_ptp_ext/*/timesync/%s", name);
	return shell_ll(cmd);
}

#define NEW_YEAR_2027	(1798761600LL * NSEC_PER_SEC)

/*
 * The host at 23:58:30 UTC on 31 December, announcing a leap second (the
 * simulator then inserts it at midnight, exactly, in its truth as in its
 * samples, and clears the indicator). Before midnight the module has the
 * leap armed and the kernel has STA_INS; across midnight the system clock
 * stays within 10 us of the host's time but for at most one reading taken
 * between the leap of one clock and the other (the kernel makes it at its
 * first tick after the second, the PHC at the instant); no step anywhere;
 * the kernel said it inserted the second; afterwards STA_INS is clear and
 * the host's indicator too.
 */
TEST_F_TIMEOUT(daemon, leap_second, 240)
{
	long long worst = 0, err, steps_before, module_steps;
	int glitches = 0, i;
	struct timespec saved, mono0, mono1;
	struct sim_truth t;
	struct timex tx;
	int state;

	clock_gettime(CLOCK_REALTIME, &saved);
	clock_gettime(CLOCK_MONOTONIC, &mono0);
	ASSERT_EQ(0, rig_load("--ours --no-hv-utils profile=ideal interval_ms=1000"));
	ASSERT_EQ(0, sim_truth(&t));
	ASSERT_EQ(0, sim_control("step %lld", NEW_YEAR_2027 - 90 * NSEC_PER_SEC - t.host_ns));
	ASSERT_EQ(0, sim_control("leap 1"));
	self->pid = start_daemon("--poll-ms=500");
	ASSERT_TRUE(wait_state("state", "locked", 60000));
	ASSERT_EQ(0, sim_truth(&t));
	TH_LOG("locked %.1f s before midnight; daemon steps %lld",
	       (NEW_YEAR_2027 - t.host_ns) / 1e9, state_ll("steps"));
	ASSERT_LT(10 * NSEC_PER_SEC, NEW_YEAR_2027 - t.host_ns);
	/* 40 days or so from the guest's date: beyond makestep's 1 s */
	EXPECT_EQ(1, state_ll("steps"));
	EXPECT_EQ(1, module_attr("leap_pending"));
	steps_before = state_ll("steps");
	module_steps = module_attr("steps");

	/* 8 s before midnight: armed everywhere */
	sleep_ms((NEW_YEAR_2027 - 8 * NSEC_PER_SEC - t.host_ns) / 1000000);
	state = kernel_status(&tx);
	EXPECT_NE(0, tx.status & STA_INS);
	EXPECT_EQ(TIME_INS, state);
	EXPECT_EQ(1, state_ll("leap"));
	EXPECT_EQ(0, system(DAEMON " status | grep -q '^Leap status     : Insert second'"));

	/* from 5 s before midnight to 15 s after */
	sleep_ms(3000);
	for (i = 0; i < 200; i++) {
		sleep_ms(100);
		ASSERT_EQ(0, sim_truth(&t));
		err = t.real_ns - t.host_ns;
		if (llabs(err) > NSEC_PER_SEC / 2) {
			glitches++;
			continue;
		}
		if (llabs(err) > llabs(worst))
			worst = err;
	}
	state = kernel_status(&tx);
	TH_LOG("across the leap: worst error %+lld ns, %d of 200 readings a second off; kernel state %d, status 0x%x",
	       worst, glitches, state, tx.status);
	EXPECT_GE(1, glitches);
	EXPECT_GT(10000, llabs(worst));
	EXPECT_EQ(0, tx.status & (STA_INS | STA_DEL | STA_UNSYNC));
	EXPECT_EQ(steps_before, state_ll("steps"));
	EXPECT_EQ(module_steps, module_attr("steps"));
	EXPECT_EQ(1, module_attr("leaps"));
	EXPECT_EQ(0, module_attr("leap_pending"));
	EXPECT_EQ(0, sim_stat("leap"));
	EXPECT_EQ(0, state_ll("leap"));
	EXPECT_EQ(0, system("dmesg | grep -q 'inserting leap second'"));

	/* back to the date the other tests started from */
	stop_daemon(self->pid);
	self->pid = -1;
	clock_gettime(CLOCK_MONOTONIC, &mono1);
	saved.tv_sec += mono1.tv_sec - mono0.tv_sec;
	clock_settime(CLOCK_REALTIME, &saved);
}

TEST_HARNESS_MAIN
