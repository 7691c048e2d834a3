// SPDX-License-Identifier: GPL-2.0
/*
 * hv-ptp-sync in the guest, judged by the simulator's truth: the system
 * clock's error is CLOCK_REALTIME minus true host time from one kernel
 * snapshot, exact. From a 50 ms / +100 ppm start it converges; it keeps
 * the kernel's sync state and error fields honest; it holds over while the
 * module is unloaded and comes back; it notices interference; a bad
 * configuration is refused with FILE:LINE; on SIGTERM it marks the clock
 * unsynchronised; it also runs on Debian's hv_utils PHC.
 */
#define _GNU_SOURCE
#include "measure.h"
#include "kselftest_harness.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/timex.h>

#define DAEMON		"/usr/sbin/hv-ptp-sync"
#define STATE		"/run/hv-ptp-sync/state"
#define LOG		"/tmp/hv-ptp-sync.log"

static long long sys_error(void)
{
	struct sim_truth t;

	if (sim_truth(&t))
		return LLONG_MIN;
	return t.real_ns - t.host_ns;
}

/* A field of the daemon's state file, as a string ("" if absent). */
static const char *state_str(const char *key, char *buf, size_t len)
{
	char line[256];
	size_t n = strlen(key);
	FILE *f = fopen(STATE, "r");

	buf[0] = 0;
	if (!f)
		return buf;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == '=') {
			line[strcspn(line, "\n")] = 0;
			snprintf(buf, len, "%s", line + n + 1);
			break;
		}
	fclose(f);
	return buf;
}

static long long state_ll(const char *key)
{
	char buf[64];

	return atoll(state_str(key, buf, sizeof(buf)));
}

static int state_is(const char *key, const char *want)
{
	char buf[64];

	return !strcmp(state_str(key, buf, sizeof(buf)), want);
}

/* Wait up to @ms for the state field @key to read @want. */
static int wait_state(const char *key, const char *want, int ms)
{
	for (; ms > 0; ms -= 100) {
		if (state_is(key, want))
			return 1;
		sleep_ms(100);
	}
	return state_is(key, want);
}

static pid_t start_daemon(const char *args)
{
	char cmd[512];
	pid_t pid;

	mkdir("/run/hv-ptp-sync", 0755);
	unlink(STATE);
	pid = fork();
	if (!pid) {
		snprintf(cmd, sizeof(cmd), "exec " DAEMON " %s 2>>" LOG, args);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static int stop_daemon(pid_t pid)
{
	int status = -1;

	if (pid <= 0)
		return -1;
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	return status;
}

/* The start every setup compares: 50 ms ahead, running 100 ppm fast. */
static int offset_system_clock(void)
{
	struct timex tx = { .modes = ADJ_SETOFFSET | ADJ_NANO };

	tx.time.tv_usec = 50000000;
	if (clock_adjtime(CLOCK_REALTIME, &tx) < 0)
		return -errno;
	memset(&tx, 0, sizeof(tx));
	tx.modes = ADJ_FREQUENCY | ADJ_TICK | ADJ_STATUS;
	tx.freq = 100 << 16;
	tx.tick = 10000;
	tx.status = STA_UNSYNC;
	return clock_adjtime(CLOCK_REALTIME, &tx) < 0 ? -errno : 0;
}

static void restore_system_clock(void)
{
	struct timex tx = { .modes = ADJ_FREQUENCY | ADJ_TICK | ADJ_STATUS };

	tx.tick = 10000;
	tx.status = STA_UNSYNC;
	clock_adjtime(CLOCK_REALTIME, &tx);
}

static int kernel_status(struct timex *tx)
{
	memset(tx, 0, sizeof(*tx));
	return clock_adjtime(CLOCK_REALTIME, tx);
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
	stop_daemon(self->pid);
	restore_system_clock();
	system("cat " LOG " | sed 's/^/# daemon: /' | tail -n 40; rm -f " LOG);
}

/*
 * From 50 ms / +100 ppm on the azure profile: time to within 10 us and
 * 1 us of the truth (and staying), then 30 s of error statistics. The
 * bounds: our PHC's error there is ~350 ns RMS (phc_compare), the daemon
 * adds its servo noise; 2 us RMS leaves room for a loaded TCG guest.
 * While locked, STA_UNSYNC is clear and the truth is within esterror.
 */
TEST_F_TIMEOUT(daemon, converges, 180)
{
	long long err, t10 = -1, t1 = -1, t0, now, outside = 0;
	struct err_stats all = { 0 };
	struct timespec ts;
	struct timex tx;
	int i;

	ASSERT_EQ(0, rig_load("--ours profile=azure"));
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
	TH_LOG("within 10 us after %.1f s, within 1 us after %.1f s",
	       t10 / 1e9, t1 / 1e9);
	TH_LOG("last 30 s: RMS %.0f ns, max %+lld ns; esterror %ld us; %lld of 300 unsynchronised or outside esterror",
	       stats_rms(&all), all.max, tx.esterror, outside);
	EXPECT_TRUE(wait_state("state", "locked", 1000));
	EXPECT_LT(0, t10);
	EXPECT_GT(30 * NSEC_PER_SEC, t10);
	EXPECT_GT(2000.0, stats_rms(&all));
	EXPECT_EQ(0, outside);
	EXPECT_TRUE(state_is("mode", "PRECISE"));
	EXPECT_TRUE(state_is("driver", "hv_ptp_ext"));
	EXPECT_EQ(0, state_ll("steps"));	/* 50 ms is slewed (makestep 1.0) */
	/* the status command reads the same state */
	EXPECT_EQ(0, system(DAEMON " status | grep -q '^Leap status     : Normal'"));
	EXPECT_EQ(0, system(DAEMON " status | grep -q '^\\*'"));
	EXPECT_EQ(0, system(DAEMON " status --json | grep -q locked"));
}

/*
 * The module unloaded under the daemon: holdover (frequency kept, error
 * small), then the PHC is found again when it returns.
 */
TEST_F_TIMEOUT(daemon, holdover_and_reopen, 180)
{
	long long err, worst = 0;
	int i;

	ASSERT_EQ(0, rig_load("--ours profile=azure"));
	self->pid = start_daemon("--poll-ms=500");
	ASSERT_TRUE(wait_state("state", "locked", 60000));
	ASSERT_EQ(0, system("/sbin/rmmod hv_ptp_ext"));
	ASSERT_TRUE(wait_state("state", "holdover", 5000));
	for (i = 0; i < 100; i++) {		/* 10 s without a PHC */
		sleep_ms(100);
		err = sys_error();
		if (llabs(err) > llabs(worst))
			worst = err;
	}
	TH_LOG("10 s of holdover: worst error %+lld ns", worst);
	EXPECT_GT(20000, llabs(worst));	/* 1 us plus a few ppm at most */
	ASSERT_EQ(0, system("/sbin/insmod /rig/mod/hv_ptp_ext.ko"));
	EXPECT_TRUE(wait_state("state", "locked", 60000));
	EXPECT_TRUE(state_is("driver", "hv_ptp_ext"));
	EXPECT_LT(0, state_ll("read_errors"));
	EXPECT_EQ(0, kill(self->pid, 0));	/* never exited */
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

/* SIGTERM: exit 0, state file gone, STA_UNSYNC set. */
TEST_F_TIMEOUT(daemon, sigterm, 120)
{
	struct timex tx;
	int status;

	ASSERT_EQ(0, rig_load("--ours"));
	self->pid = start_daemon("--poll-ms=500");
	ASSERT_TRUE(wait_state("synced", "1", 60000));
	ASSERT_EQ(0, kernel_status(&tx) < 0);
	EXPECT_EQ(0, tx.status & STA_UNSYNC);
	status = stop_daemon(self->pid);
	self->pid = -1;
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_NE(0, access(STATE, F_OK));
	ASSERT_EQ(0, kernel_status(&tx) < 0);
	EXPECT_NE(0, tx.status & STA_UNSYNC);
}

/* A bad file is refused with FILE:LINE, exit 1; a bad --key too. */
TEST_F(daemon, bad_config)
{
	FILE *f = fopen("/tmp/bad.conf", "w");

	ASSERT_NE(NULL, f);
	fprintf(f, "# comment\npoll_ms 500\npoll_ms 5\n");
	fclose(f);
	EXPECT_EQ(1, WEXITSTATUS(system(DAEMON " -f /tmp/bad.conf --check-config 2>/tmp/err")));
	EXPECT_EQ(0, system("grep -q '/tmp/bad.conf:3:.*poll_ms' /tmp/err"));
	EXPECT_EQ(1, WEXITSTATUS(system(DAEMON " --no-such-key=1 --check-config 2>/dev/null")));
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
 * clock within a few microseconds of it.
 */
TEST_F_TIMEOUT(daemon, intree_phc, 120)
{
	long long err, worst = 0;
	int i;

	ASSERT_EQ(0, rig_load(""));
	self->pid = start_daemon("--poll-ms=500");
	ASSERT_TRUE(wait_state("state", "locked", 60000));
	EXPECT_TRUE(state_is("mode", "BASIC"));
	EXPECT_TRUE(state_is("clock_name", "hyperv"));
	for (i = 0; i < 100; i++) {
		sleep_ms(100);
		err = sys_error();
		if (llabs(err) > llabs(worst))
			worst = err;
	}
	TH_LOG("on hv_utils' PHC: worst error over 10 s %+lld ns", worst);
	EXPECT_GT(20000, llabs(worst));
}

TEST_HARNESS_MAIN
