// SPDX-License-Identifier: GPL-2.0
/*
 * hv_ptp_ext on its own: offset reads, monotonicity and continuity,
 * holdover and SYNC, host steps, malformed packets, takeover from hv_utils
 * in both load orders and back, load/unload under load, the clocksource.
 */
#define _GNU_SOURCE
#include "measure.h"
#include "kselftest_harness.h"

#include <glob.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/timex.h>

#define CS_DIR "/sys/devices/system/clocksource/clocksource0/"

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), ret;

	if (fd < 0)
		return -errno;
	ret = write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -errno;
	close(fd);
	return ret;
}

static int cs_is(const char *want)
{
	char buf[64] = "";
	FILE *f = fopen(CS_DIR "current_clocksource", "r");

	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return !strcmp(buf, want);
}

FIXTURE(ours) {
	int phc, index;
};

FIXTURE_SETUP(ours)
{
	self->phc = -1;
	if (!rig_available())
		SKIP(return, "needs root and the rig (" RIG_LOAD ")");
	ASSERT_EQ(0, pin_cpu(0));
}

FIXTURE_TEARDOWN(ours)
{
	if (self->phc >= 0)
		close(self->phc);
	/* the simulator's truth needs the TSC clocksource */
	if (!cs_is("tsc"))
		write_str(CS_DIR "current_clocksource", "tsc");
}

/* Load with @params, open our PHC, wait for @samples samples. */
static int start(int *phc, int *index, int samples, const char *params)
{
	int i;

	if (rig_load("%s", params))
		return -1;
	*phc = phc_open_driver("hv_ptp_ext", index);
	if (*phc < 0)
		return -1;
	for (i = 0; i < 600 && ours_stat(*index, "samples_accepted") < samples; i++)
		sleep_ms(100);
	return ours_stat(*index, "samples_accepted") >= samples ? 0 : -1;
}

static int state_is(int index, const char *want)
{
	char buf[64];

	return !strcmp(ours_str(index, "state", buf, sizeof(buf)), want);
}

/*
 * PRECISE on the TSC clocksource: no window at all. EXTENDED: the window
 * (post - pre) of the best of 10 is reported; under TCG it is a few us,
 * so 50 us bounds it loosely. BASIC works too.
 */
TEST_F(ours, offset_reads)
{
	struct ptp_sys_offset_extended ext = { .n_samples = 10 };
	struct ptp_sys_offset_precise pre = { 0 };
	struct ptp_sys_offset basic = { .n_samples = 5 };
	long long w, best = LLONG_MAX, err = 0;
	unsigned int i;

	ASSERT_EQ(0, start(&self->phc, &self->index, 2, "--ours profile=azure"));
	ASSERT_EQ(0, ioctl(self->phc, PTP_SYS_OFFSET_PRECISE, &pre));
	ASSERT_EQ(0, ioctl(self->phc, PTP_SYS_OFFSET_EXTENDED, &ext));
	for (i = 0; i < ext.n_samples; i++) {
		w = (ext.ts[i][2].sec - ext.ts[i][0].sec) * NSEC_PER_SEC +
		    ext.ts[i][2].nsec - ext.ts[i][0].nsec;
		ASSERT_GE(w, 0);
		best = w < best ? w : best;
	}
	TH_LOG("EXTENDED window: %lld ns (best of %u); PRECISE: 0 by construction",
	       best, ext.n_samples);
	EXPECT_LE(best, 50000);
	ASSERT_EQ(0, ioctl(self->phc, PTP_SYS_OFFSET, &basic));
	ASSERT_EQ(0, ours_error(self->phc, &err));
	TH_LOG("PRECISE error against truth: %+lld ns (bound %lld ns)", err,
	       ours_stat(self->index, "error_bound_ns"));
	EXPECT_LE(llabs(err), ours_stat(self->index, "error_bound_ns"));

	/* read-only: steering the host's clock is refused */
	EXPECT_NE(0, clock_adjtime(FD_TO_CLOCKID(self->phc),
				   &(struct timex){ .modes = ADJ_FREQUENCY }));
	EXPECT_NE(0, clock_settime(FD_TO_CLOCKID(self->phc),
				   &(struct timespec){ 1, 0 }));
}

/*
 * 10^6 consecutive reads never go backwards, with samples arriving every
 * 200 ms; and PHC minus CLOCK_REALTIME never moves by more than 1 us
 * between two PRECISE reads ~1 ms apart while samples arrive (azure:
 * continuity is by construction, phase corrections are slewed).
 */
TEST_F_TIMEOUT(ours, monotonic_and_continuous, 120)
{
	struct ptp_sys_offset_precise p;
	long long prev = 0, ns = 0, d, dprev = 0, jump, maxjump = 0;
	long long back = 0, i, k0;

	ASSERT_EQ(0, start(&self->phc, &self->index, 3,
			   "--ours profile=azure interval_ms=200"));
	for (i = 0; i < 1000000; i++) {
		ASSERT_EQ(0, phc_gettime(self->phc, &ns));
		back += ns < prev;
		prev = ns;
	}
	EXPECT_EQ(0, back);

	k0 = ours_stat(self->index, "samples_accepted");
	for (i = 0; i < 5000; i++) {
		ASSERT_EQ(0, ioctl(self->phc, PTP_SYS_OFFSET_PRECISE, &p));
		d = (p.device.sec - p.sys_realtime.sec) * NSEC_PER_SEC +
		    p.device.nsec - p.sys_realtime.nsec;
		if (i) {
			jump = llabs(d - dprev);
			maxjump = jump > maxjump ? jump : maxjump;
		}
		dprev = d;
		usleep(1000);
	}
	TH_LOG("largest change of PHC - REALTIME between reads: %lld ns over %lld samples",
	       maxjump, ours_stat(self->index, "samples_accepted") - k0);
	EXPECT_GT(ours_stat(self->index, "samples_accepted") - k0, 10);
	EXPECT_LE(maxjump, 1000);
}

/*
 * A 60 s pause: holdover, a growing error bound that holds the truth, then
 * SYNC: a step, counted, and synchronised again within 3 samples.
 */
TEST_F_TIMEOUT(ours, holdover_and_sync, 200)
{
	long long b1, b2, err = 0, steps;
	int i;

	ASSERT_EQ(0, start(&self->phc, &self->index, 4, "--ours profile=azure"));
	EXPECT_TRUE(state_is(self->index, "synchronised"));
	steps = ours_stat(self->index, "steps");
	ASSERT_EQ(0, sim_control("pause 60"));
	sleep_ms(20000);
	EXPECT_TRUE(state_is(self->index, "holdover"));
	b1 = ours_stat(self->index, "error_bound_ns");
	ASSERT_EQ(0, ours_error(self->phc, &err));
	EXPECT_LE(llabs(err), b1);
	sleep_ms(30000);
	b2 = ours_stat(self->index, "error_bound_ns");
	ASSERT_EQ(0, ours_error(self->phc, &err));
	TH_LOG("holdover: error %+lld ns, bound %lld -> %lld ns", err, b1, b2);
	EXPECT_GT(b2, b1);
	EXPECT_LE(llabs(err), b2);

	for (i = 0; i < 250 && ours_stat(self->index, "syncs") < 1; i++)
		sleep_ms(100);
	EXPECT_EQ(1, ours_stat(self->index, "syncs"));
	EXPECT_EQ(steps + 1, ours_stat(self->index, "steps"));
	for (i = 0; i < 150 && !state_is(self->index, "synchronised"); i++)
		sleep_ms(100);
	EXPECT_TRUE(state_is(self->index, "synchronised"));
	ASSERT_EQ(0, ours_error(self->phc, &err));
	EXPECT_LE(llabs(err), ours_stat(self->index, "error_bound_ns"));
}

/*
 * Host time steps by +-1 s and +-1 day: each stepped and counted, and from
 * the first sample after the step (before it, no guest can know) while the
 * model holds it back (it might be an outlier), the error bound owns up
 * to it: the truth stays within the bound at every reading. Then a step to before 1970: every sample is
 * refused and counted, the clock holds over (its reading stays in this
 * century), and when the host comes back it is synchronised again.
 */
TEST_F_TIMEOUT(ours, host_step, 240)
{
	static const long long day = 86400 * NSEC_PER_SEC;
	const long long size[] = { NSEC_PER_SEC, -NSEC_PER_SEC, day, -day };
	long long err = 0, steps, held, bad, acc, back, ns;
	int i, k, readings, outside, failed;
	struct sim_truth t;

	ASSERT_EQ(0, start(&self->phc, &self->index, 3,
			   "--ours --no-hv-utils profile=azure interval_ms=1000"));
	for (k = 0; k < 4; k++) {
		steps = ours_stat(self->index, "steps");
		held = ours_stat(self->index, "samples_outliers");
		ASSERT_EQ(0, sim_control("step %lld", size[k]));
		readings = outside = failed = 0;
		for (i = 0; i < 200 && ours_stat(self->index, "steps") == steps; i++) {
			sleep_ms(50);
			/* until a sample tells of the step, nothing can know */
			if (ours_stat(self->index, "samples_outliers") == held)
				continue;
			/* a reading not taken is a failure, not a pass */
			if (ours_error(self->phc, &err)) {
				failed++;
				continue;
			}
			readings++;
			outside += llabs(err) > ours_stat(self->index, "error_bound_ns");
		}
		EXPECT_EQ(steps + 1, ours_stat(self->index, "steps"));
		EXPECT_EQ(0, failed);
		/*
		 * The step is confirmed by the second sample beyond the
		 * threshold, a sample interval (1 s) after the first: about
		 * 20 readings at 50 ms between them; none means nothing
		 * was judged.
		 */
		EXPECT_LT(0, readings);
		EXPECT_EQ(0, outside);
		ASSERT_EQ(0, ours_error(self->phc, &err));
		TH_LOG("step %+lld ns: stepped, %d of %d readings between the first sample and the step outside the bound, error now %+lld ns",
		       size[k], outside, readings, err);
		EXPECT_LE(llabs(err), 100000);
	}

	ASSERT_EQ(0, sim_truth(&t));
	back = t.host_ns + day;
	bad = ours_stat(self->index, "rejected_bad_time");
	acc = ours_stat(self->index, "samples_accepted");
	ASSERT_EQ(0, sim_control("step %lld", -back));
	sleep_ms(20000);
	TH_LOG("host before 1970 for 20 s: %lld samples refused, %lld taken",
	       ours_stat(self->index, "rejected_bad_time") - bad,
	       ours_stat(self->index, "samples_accepted") - acc);
	EXPECT_LE(15, ours_stat(self->index, "rejected_bad_time") - bad);
	EXPECT_EQ(acc, ours_stat(self->index, "samples_accepted"));
	EXPECT_TRUE(state_is(self->index, "holdover"));
	ASSERT_EQ(0, phc_gettime(self->phc, &ns));
	EXPECT_LT(t.host_ns, ns);
	ASSERT_EQ(0, sim_control("step %lld", back));
	for (i = 0; i < 100 && !state_is(self->index, "synchronised"); i++)
		sleep_ms(100);
	EXPECT_TRUE(state_is(self->index, "synchronised"));
	ASSERT_EQ(0, ours_error(self->phc, &err));
	EXPECT_LE(llabs(err), ours_stat(self->index, "error_bound_ns"));
}

static const struct {
	const char *cls, *counter;
} malformed[] = {
	{ "short", "rejected_short" },
	{ "short_payload", "rejected_short_payload" },
	{ "oversize", "rejected_oversize" },
	{ "wrong_type", "rejected_bad_type" },
	{ "bad_size", "rejected_bad_size" },
	{ "bad_negotiation", "rejected_bad_negotiation" },
};

/* Wait for the simulator's flood to end, then for the guest to drain. */
static void flood_wait(void)
{
	int i;

	for (i = 0; i < 1200 && sim_stat("flood.active"); i++)
		sleep_ms(100);
	sleep_ms(500);
}

/*
 * Each malformed class at 10 000 messages a second for 30 s, with the
 * stream's samples still coming: every message the host queued is counted
 * under its reason, the PHC stays synchronised and within its bound
 * (checked every second), the channel is never lost, the log stays clean.
 */
TEST_F_TIMEOUT(ours, malformed_flood, 600)
{
	long long sent, counted, err = 0, drops, acc, opens;
	char key[64];
	unsigned int i;
	int s, outside, splats;

	RIG_SOAK_OR_SKIP();
	ASSERT_EQ(0, start(&self->phc, &self->index, 2,
			   "--ours --no-hv-utils profile=azure"));
	splats = kmsg_splats();
	opens = sim_stat("dev0.opens");
	for (i = 0; i < ARRAY_SIZE(malformed); i++) {
		snprintf(key, sizeof(key), "dev0.sent.%s", malformed[i].cls);
		sent = sim_stat(key);
		counted = ours_stat(self->index, malformed[i].counter);
		drops = sim_stat("dev0.queue_drops");
		acc = ours_stat(self->index, "samples_accepted");
		ASSERT_EQ(0, sim_control("flood %s 10000 30", malformed[i].cls));
		outside = 0;
		for (s = 0; s < 30; s++) {
			sleep_ms(1000);
			if (!ours_error(self->phc, &err))
				outside += llabs(err) > ours_stat(self->index, "error_bound_ns");
		}
		flood_wait();
		sent = sim_stat(key) - sent;
		counted = ours_stat(self->index, malformed[i].counter) - counted;
		TH_LOG("%s: %lld queued in 30 s (%lld/s), %lld counted, %lld dropped by the full queue, %lld samples taken meanwhile",
		       malformed[i].cls, sent, sent / 30, counted,
		       sim_stat("dev0.queue_drops") - drops,
		       ours_stat(self->index, "samples_accepted") - acc);
		EXPECT_EQ(sent, counted);
		EXPECT_LE(100000, sent);
		EXPECT_EQ(0, outside);
		EXPECT_LE(3, ours_stat(self->index, "samples_accepted") - acc);
		EXPECT_TRUE(state_is(self->index, "synchronised"));
	}
	EXPECT_EQ(opens, sim_stat("dev0.opens"));
	EXPECT_EQ(1, sim_stat("dev0.opened"));
	EXPECT_EQ(0, sim_stat("dev0.bad_responses"));
	EXPECT_EQ(splats, kmsg_splats());
}

/*
 * A sample storm: the stream at 1 kHz for 30 s. Every sample is taken or
 * counted as an outlier, the PHC stays within its bound, the log clean.
 */
TEST_F_TIMEOUT(ours, sample_storm, 180)
{
	long long sent, seen, err = 0;
	int s, outside = 0, splats;

	RIG_SOAK_OR_SKIP();
	ASSERT_EQ(0, start(&self->phc, &self->index, 2,
			   "--ours --no-hv-utils profile=azure"));
	splats = kmsg_splats();
	sent = sim_stat("dev0.sent.sample");
	seen = ours_stat(self->index, "samples_accepted") +
	       ours_stat(self->index, "samples_outliers");
	ASSERT_EQ(0, sim_control("flood sample 1000 30"));
	for (s = 0; s < 30; s++) {
		sleep_ms(1000);
		if (!ours_error(self->phc, &err))
			outside += llabs(err) > ours_stat(self->index, "error_bound_ns");
	}
	flood_wait();
	sent = sim_stat("dev0.sent.sample") - sent;
	seen = ours_stat(self->index, "samples_accepted") +
	       ours_stat(self->index, "samples_outliers") - seen;
	TH_LOG("storm: %lld samples queued in 30 s, %lld taken or counted as outliers, %lld steps",
	       sent, seen, ours_stat(self->index, "steps"));
	EXPECT_EQ(sent, seen);
	EXPECT_LE(25000, sent);
	EXPECT_EQ(0, outside);
	EXPECT_TRUE(state_is(self->index, "synchronised"));
	EXPECT_EQ(splats, kmsg_splats());
}

/*
 * The status read while samples arrive at 1 kHz for 15 s: every attribute
 * of the timesync group, round after round, and each round consistent
 * with itself: counters never go back, accepted plus outliers never pass
 * the buffers received (read after them), a synchronised clock has a
 * bound and a recent sample, the noise estimate is positive.
 */
TEST_F_TIMEOUT(ours, sysfs_consistent, 120)
{
	long long acc, acc2, out, rcv, bound, age, noise, last_acc = 0;
	int rounds = 0, bad = 0, splats;
	char state[64];

	ASSERT_EQ(0, start(&self->phc, &self->index, 4,
			   "--ours --no-hv-utils profile=azure"));
	splats = kmsg_splats();
	ASSERT_EQ(0, sim_control("flood sample 1000 15"));
	while (sim_stat("flood.active") && rounds < 100000) {
		acc = ours_stat(self->index, "samples_accepted");
		out = ours_stat(self->index, "samples_outliers");
		ours_str(self->index, "state", state, sizeof(state));
		bound = ours_stat(self->index, "error_bound_ns");
		age = ours_stat(self->index, "last_sample_age_ms");
		noise = ours_stat(self->index, "noise_ns");
		ours_stat(self->index, "freq_ppb");
		ours_stat(self->index, "offset_ns");
		ours_stat(self->index, "last_offset_ns");
		ours_stat(self->index, "steps");
		ours_stat(self->index, "leapflags");
		ours_stat(self->index, "stratum");
		acc2 = ours_stat(self->index, "samples_accepted");
		rcv = ours_stat(self->index, "received");
		if (acc < last_acc || acc2 < acc || acc + out > rcv ||
		    noise <= 0 ||
		    (!strcmp(state, "synchronised") && (bound < 0 || age < 0 || age > 15000))) {
			if (bad++ < 5)
				TH_LOG("round %d: accepted %lld..%lld (before %lld), outliers %lld, received %lld, %s, bound %lld ns, age %lld ms, noise %lld ns",
				       rounds, acc, acc2, last_acc, out, rcv,
				       state, bound, age, noise);
		}
		last_acc = acc2;
		rounds++;
	}
	flood_wait();
	TH_LOG("%d rounds of the whole group during the flood, %d inconsistent",
	       rounds, bad);
	EXPECT_LE(20, rounds);
	EXPECT_EQ(0, bad);
	EXPECT_TRUE(state_is(self->index, "synchronised"));
	EXPECT_EQ(splats, kmsg_splats());
}

/*
 * The host offers another TimeSync version at a channel re-open (the
 * module reloaded): 1.0, 3.0, then 4.0 again. Each is negotiated and
 * used, and the PHC is within its bound. Before 4.0 a sample carries no
 * reference time and its arrival stands in for it, so the PHC runs late by
 * the delivery latency, which no sample reveals: the bound then includes
 * the latency_us parameter (10 ms), and with 4.0 it does not.
 */
TEST_F_TIMEOUT(ours, version_change, 240)
{
	static const struct { int ts, fw; const char *want; } v[] = {
		{ 1, 1, "1.0" }, { 3, 3, "3.0" }, { 4, 3, "4.0" },
	};
	char buf[16];
	long long err = 0, bound;
	unsigned int i;
	int k;

	ASSERT_EQ(0, start(&self->phc, &self->index, 2,
			   "--ours --no-hv-utils profile=azure interval_ms=500"));
	for (i = 0; i < ARRAY_SIZE(v); i++) {
		ASSERT_EQ(0, sim_control("offer %d %d", v[i].ts, v[i].fw));
		close(self->phc);
		self->phc = -1;
		ASSERT_EQ(0, system("/sbin/rmmod hv_ptp_ext && /sbin/insmod /rig/mod/hv_ptp_ext.ko"));
		self->phc = phc_open_driver("hv_ptp_ext", &self->index);
		ASSERT_LE(0, self->phc);
		for (k = 0; k < 300 && ours_stat(self->index, "samples_accepted") < 16; k++)
			sleep_ms(100);
		ours_str(self->index, "ts_version", buf, sizeof(buf));
		EXPECT_STREQ(v[i].want, buf);
		ASSERT_EQ(0, ours_error(self->phc, &err));
		TH_LOG("TimeSync %s: error %+lld ns, bound %lld ns", buf, err,
		       ours_stat(self->index, "error_bound_ns"));
		bound = ours_stat(self->index, "error_bound_ns");
		EXPECT_LE(llabs(err), bound);
		if (v[i].ts < 4) {
			EXPECT_LE(10000000, bound);
		} else {
			EXPECT_GT(10000000, bound);
		}
	}
	EXPECT_EQ(0, sim_stat("dev0.nego_bad"));
}

/* Our device's VMBus instance name, from /sys/class/ptp/ptpN/device. */
static int ours_instance(int index, char *name, size_t len)
{
	char path[64], link[256];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/class/ptp/ptp%d/device", index);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = 0;
	base = strrchr(link, '/');
	if (snprintf(name, len, "%s", base ? base + 1 : link) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

/*
 * Wait up to @ms for the disruptions attribute, open as @fd and read
 * once, to wake poll() (POLLPRI, as sysfs_notify() signals); then read
 * it again. Returns the new count, or -1 if poll() timed out.
 */
static long long disruption_wait(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLPRI };
	char buf[32] = "";
	ssize_t n;

	if (poll(&p, 1, ms) != 1 || !(p.revents & POLLPRI))
		return -1;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return strtoll(buf, NULL, 10);
}

static int disruption_open(int index, long long *now)
{
	char path[256], buf[32] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), OURS_SYSFS_FMT, index, "disruptions");
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0) {
		close(fd);
		return -1;
	}
	buf[n] = 0;
	*now = strtoll(buf, NULL, 10);
	return fd;
}

/*
 * Every kind of disruption counts once, with its reason, and wakes a
 * reader blocked in poll() on the attribute: SYNC, a host step of +-400 ms
 * without SYNC (a live migration to a host whose clock differs), the TSC
 * page going invalid and valid again, a pause beyond stale_ms (a freeze),
 * and the channel opened again (unbind, bind: the count goes on). Nothing
 * counts in 10 s of steady samples; the count survives the re-open.
 */
TEST_F_TIMEOUT(ours, disruptions, 240)
{
	static const struct {
		const char *cmd, *why;
		int wait_ms;
	} ev[] = {
		{ "sync", "sync", 2000 },
		{ "step 400000000", "step", 3000 },
		{ "step -400000000", "step", 3000 },
		{ "tsc_page invalid", "tsc_page", 2000 },
		{ "tsc_page valid", "tsc_page", 2000 },
		{ "pause 17", "gap", 25000 },
	};
	char why[32], inst[256];
	long long d0, d;
	unsigned int i;
	int fd;

	ASSERT_EQ(0, start(&self->phc, &self->index, 4,
			   "--ours --no-hv-utils profile=azure interval_ms=500"));
	fd = disruption_open(self->index, &d0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, disruption_wait(fd, 10000));
	EXPECT_EQ(d0, ours_stat(self->index, "disruptions"));
	close(fd);

	for (i = 0; i < ARRAY_SIZE(ev); i++) {
		fd = disruption_open(self->index, &d0);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, sim_control("%s", ev[i].cmd));
		d = disruption_wait(fd, ev[i].wait_ms);
		close(fd);
		ours_str(self->index, "last_disruption", why, sizeof(why));
		TH_LOG("%s: disruptions %lld -> %lld (%s)", ev[i].cmd, d0, d, why);
		EXPECT_EQ(d0 + 1, d);
		EXPECT_STREQ(ev[i].why, why);
		/* one event is one disruption: nothing more in the next 2 s */
		sleep_ms(2000);
		EXPECT_EQ(d0 + 1, ours_stat(self->index, "disruptions"));
	}

	ASSERT_EQ(0, ours_instance(self->index, inst, sizeof(inst)));
	d0 = ours_stat(self->index, "disruptions");
	close(self->phc);
	self->phc = -1;
	ASSERT_EQ(0, write_str("/sys/bus/vmbus/drivers/hv_ptp_ext/unbind", inst));
	ASSERT_EQ(0, write_str("/sys/bus/vmbus/drivers/hv_ptp_ext/bind", inst));
	self->phc = phc_open_driver("hv_ptp_ext", &self->index);
	ASSERT_LE(0, self->phc);
	ours_str(self->index, "last_disruption", why, sizeof(why));
	TH_LOG("re-open: disruptions %lld -> %lld (%s)", d0,
	       ours_stat(self->index, "disruptions"), why);
	EXPECT_EQ(d0 + 1, ours_stat(self->index, "disruptions"));
	EXPECT_STREQ("open", why);
}

/*
 * Every malformed class: rejected, counted by reason, answered with a
 * failure where there is a header to answer in, and the channel still
 * takes the next good sample.
 */
TEST_F_TIMEOUT(ours, malformed_packets, 60)
{
	const typeof(malformed[0]) *c = malformed;
	char key[64];
	long long acc;
	unsigned int i;

	ASSERT_EQ(0, start(&self->phc, &self->index, 1, "--ours --no-hv-utils"));
	for (i = 0; i < ARRAY_SIZE(malformed); i++) {
		ASSERT_EQ(0, sim_control("inject %s 5", c[i].cls));
		sleep_ms(300);
		EXPECT_EQ(5, ours_stat(self->index, c[i].counter));
		snprintf(key, sizeof(key), "dev0.answered_fail.%s", c[i].cls);
		EXPECT_EQ(strcmp(c[i].cls, "short") ? 5 : 0, sim_stat(key));
	}
	acc = ours_stat(self->index, "samples_accepted");
	ASSERT_EQ(0, sim_control("sample"));
	sleep_ms(300);
	EXPECT_EQ(acc + 1, ours_stat(self->index, "samples_accepted"));
	EXPECT_TRUE(!strcmp("4.0", ours_str(self->index, "ts_version", key, sizeof(key))));
	EXPECT_EQ(0, sim_stat("dev0.bad_responses"));
}

/*
 * Whether hv_utils' PHC exists: a clock named "hyperv" that is not ours
 * (hv_utils registers it without a parent device, so it has no driver link).
 */
static int intree_bound(void)
{
	char path[300], link[300], name[64];
	int i, found = 0, n;
	FILE *f;

	for (i = 0; i < 32; i++) {
		snprintf(path, sizeof(path), "/sys/class/ptp/ptp%d/clock_name", i);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(name, sizeof(name), f))
			name[0] = 0;
		fclose(f);
		if (strcmp(name, "hyperv\n"))
			continue;
		snprintf(path, sizeof(path), "/sys/class/ptp/ptp%d/device/driver", i);
		n = readlink(path, link, sizeof(link) - 1);
		link[n > 0 ? n : 0] = 0;
		if (!strstr(link, "hv_ptp_ext"))
			found = 1;
	}
	return found;
}

/*
 * Both load orders end with us owning TimeSync and the in-tree PHC gone;
 * unloading us gives the device back and hv_utils' PHC reappears.
 */
TEST_F(ours, takeover_both_orders)
{
	const char *order[] = { "--ours", "--ours-first" };
	int k;

	for (k = 0; k < 2; k++) {
		ASSERT_EQ(0, rig_load("%s", order[k]));
		sleep_ms(300);
		EXPECT_TRUE(sim_stat_is("dev0.driver", "hv_ptp_ext"));
		EXPECT_FALSE(intree_bound());
		EXPECT_EQ(1, sim_stat("dev0.negotiated"));
		ASSERT_EQ(0, system("/sbin/rmmod hv_ptp_ext"));
		sleep_ms(300);
		EXPECT_TRUE(sim_stat_is("dev0.driver", "hv_utils"));
		EXPECT_TRUE(intree_bound());
		EXPECT_EQ(1, sim_stat("dev0.negotiated"));
	}
	/* takeover=0 leaves hv_utils alone */
	ASSERT_EQ(0, rig_load("--ours ours.takeover=0"));
	EXPECT_TRUE(sim_stat_is("dev0.driver", "hv_utils"));
	/* a bad parameter is refused at load */
	ASSERT_EQ(0, system("/sbin/rmmod hv_ptp_ext"));
	EXPECT_NE(0, system("/sbin/insmod /rig/mod/hv_ptp_ext.ko window=1 2>/dev/null"));
	EXPECT_NE(0, system("/sbin/insmod /rig/mod/hv_ptp_ext.ko clock_name= 2>/dev/null"));
	EXPECT_NE(0, system("/sbin/insmod /rig/mod/hv_ptp_ext.ko stale_ms=abc 2>/dev/null"));
	EXPECT_EQ(0, system("/sbin/insmod /rig/mod/hv_ptp_ext.ko window=64"));
}

/* Whether the last 40 lines of the kernel log mention @needle. */
static int kmsg_recent(const char *needle)
{
	char line[512];
	int found = 0;
	FILE *p = popen("dmesg | tail -n 40", "r");

	if (!p)
		return 0;
	while (fgets(line, sizeof(line), p))
		found |= !!strstr(line, needle);
	pclose(p);
	return found;
}

/* insmod hv_ptp_ext with one parameter; 0 when it loaded (and unloads it). */
static int load_with2(const char *param, const char *with)
{
	char cmd[256];
	int ret;

	snprintf(cmd, sizeof(cmd),
		 "/sbin/insmod /rig/mod/hv_ptp_ext.ko '%s' %s 2>/dev/null", param,
		 with ? with : "");
	ret = system(cmd);
	if (!ret && system("/sbin/rmmod hv_ptp_ext"))
		return -1;
	return ret ? 1 : 0;
}

static int load_with(const char *param)
{
	return load_with2(param, NULL);
}

/* Files of @pattern that are writable by mode, or open for writing. */
static int writable(struct __test_metadata *_metadata, const char *pattern)
{
	glob_t g;
	size_t i;
	int n = 0, fd;
	struct stat st;

	if (glob(pattern, 0, NULL, &g))
		return -1;
	for (i = 0; i < g.gl_pathc; i++) {
		if (stat(g.gl_pathv[i], &st) || (st.st_mode & 0222)) {
			TH_LOG("%s: mode %o", g.gl_pathv[i], st.st_mode & 07777);
			n++;
			continue;
		}
		/* root's CAP_DAC_OVERRIDE does not open a file with no store */
		fd = open(g.gl_pathv[i], O_WRONLY);
		if (fd >= 0 || errno != EACCES) {
			TH_LOG("%s: open for writing: %s", g.gl_pathv[i],
			       fd >= 0 ? "succeeded" : strerror(errno));
			n++;
		}
		if (fd >= 0)
			close(fd);
	}
	TH_LOG("%s: %zu files, %d writable", pattern, g.gl_pathc, n);
	if (!g.gl_pathc)
		n = -1;
	globfree(&g);
	return n;
}

/*
 * Module input: every parameter is refused outside its range (and when not
 * a number) at load, with a kernel message naming it, and its bounds are
 * accepted. Nothing of the module can be written once loaded: parameters
 * and status attributes are 0444 and refuse an open for writing, root's
 * included.
 */
TEST_F_TIMEOUT(ours, module_input, 180)
{
	/* with: a second parameter, where the first's bounds need it */
	static const struct {
		const char *name, *lo, *hi, *below, *above, *with;
	} p[] = {
		{ "window", "2", "64", "1", "65", NULL },
		{ "step_threshold_ns", "1000", "1000000000000", "999", "1000000000001", NULL },
		{ "outlier_sigmas", "2", "1000", "1", "1001", NULL },
		{ "outlier_min_ns", "0", "1000000000", "-1", "1000000001", NULL },
		{ "wander_ppb", "0", "1000000", "-1", "1000001", "holdover_ppb=1000000" },
		{ "holdover_ppb", "0", "1000000", "-1", "1000001", "wander_ppb=0" },
		{ "stale_ms", "1000", "3600000", "999", "3600001", NULL },
		{ "slew_ms", "100", "600000", "99", "600001", NULL },
		{ "latency_us", "0", "1000000", "-1", "1000001", NULL },
		{ "clocksource_rating", "1", "499", "0", "500", NULL },
	};
	const char *bad[3];
	char arg[96], path[128];
	unsigned int i, j;

	ASSERT_EQ(0, rig_load("--no-hv-utils"));
	for (i = 0; i < ARRAY_SIZE(p); i++) {
		bad[0] = p[i].below;
		bad[1] = p[i].above;
		bad[2] = "12abc";
		for (j = 0; j < ARRAY_SIZE(bad); j++) {
			snprintf(arg, sizeof(arg), "%s=%s", p[i].name, bad[j]);
			EXPECT_EQ(1, load_with(arg)) TH_LOG("%s loaded", arg);
			EXPECT_TRUE(kmsg_recent(arg)) TH_LOG("no message for %s", arg);
		}
		snprintf(arg, sizeof(arg), "%s=%s", p[i].name, p[i].lo);
		EXPECT_EQ(0, load_with2(arg, p[i].with)) TH_LOG("%s refused", arg);
		snprintf(arg, sizeof(arg), "%s=%s", p[i].name, p[i].hi);
		EXPECT_EQ(0, load_with2(arg, p[i].with)) TH_LOG("%s refused", arg);
	}
	/* the wander while samples come is at most that once one is overdue */
	EXPECT_EQ(1, load_with2("wander_ppb=501", "holdover_ppb=500"));
	EXPECT_TRUE(kmsg_recent("wander_ppb=501: more than holdover_ppb=500"));
	EXPECT_EQ(1, load_with2("wander_ppb=1", "holdover_ppb=0"));
	EXPECT_TRUE(kmsg_recent("wander_ppb=1: more than holdover_ppb=0"));
	EXPECT_EQ(0, load_with2("wander_ppb=500", "holdover_ppb=500"));
	/* its default follows a holdover_ppb set below it */
	EXPECT_EQ(0, load_with("holdover_ppb=99"));
	EXPECT_EQ(1, load_with("clock_name="));
	EXPECT_EQ(1, load_with("clock_name=abcdefghijklmnopqrstuvwxyz012345"));
	EXPECT_TRUE(kmsg_recent("clock_name: 1 to 31 characters"));
	EXPECT_EQ(0, load_with("clock_name=abcdefghijklmnopqrstuvwxyz01234"));
	EXPECT_EQ(1, load_with("takeover=maybe"));
	EXPECT_TRUE(kmsg_recent("takeover"));

	ASSERT_EQ(0, start(&self->phc, &self->index, 1, "--ours --no-hv-utils"));
	EXPECT_EQ(0, writable(_metadata, "/sys/module/hv_ptp_ext/parameters/*"));
	snprintf(path, sizeof(path), "/sys/class/ptp/ptp%d/device/timesync/*",
		 self->index);
	EXPECT_EQ(0, writable(_metadata, path));
}

struct hammer {
	long long opens, reads, enodev;
};

/*
 * The reader of load_unload_cycles, on CPU 1: opens the PHC by name and
 * hammers it with clock_gettime, PTP_SYS_OFFSET_EXTENDED and _PRECISE
 * until a read fails (ENODEV: the clock was unregistered under it; EAGAIN:
 * no sample yet), then closes and opens again. Each open() is made holding @lock_path, which the loader
 * holds while it runs insmod: see load_unload_cycles.
 */
static void __attribute__((noreturn)) hammer_phc(const char *lock_path,
						  struct hammer *h)
{
	struct ptp_sys_offset_extended ext = { .n_samples = 3 };
	struct ptp_sys_offset_precise pre;
	int lock = open(lock_path, O_RDWR);
	long long ns;
	int fd;

	pin_cpu(1);
	for (;;) {
		flock(lock, LOCK_EX);
		fd = phc_open("hyperv");
		flock(lock, LOCK_UN);
		if (fd < 0)
			continue;
		h->opens++;
		for (;;) {
			memset(&pre, 0, sizeof(pre));
			if (phc_gettime(fd, &ns) ||
			    ioctl(fd, PTP_SYS_OFFSET_EXTENDED, &ext) ||
			    ioctl(fd, PTP_SYS_OFFSET_PRECISE, &pre))
				break;
			h->reads++;
		}
		h->enodev += errno == ENODEV;
		close(fd);
	}
}

/*
 * The other CPU's reader of load_unload_cycles: every status attribute of
 * every PHC, read over and over while the device comes and goes.
 */
static void __attribute__((noreturn)) hammer_sysfs(struct hammer *h)
{
	char buf[128];
	glob_t g;
	size_t i;
	int fd;

	pin_cpu(0);
	for (;;) {
		if (glob("/sys/class/ptp/ptp*/device/timesync/*", 0, NULL, &g))
			continue;
		for (i = 0; i < g.gl_pathc; i++) {
			fd = open(g.gl_pathv[i], O_RDONLY);
			if (fd < 0)
				continue;
			if (read(fd, buf, sizeof(buf)) > 0)
				h->reads++;
			close(fd);
		}
		globfree(&g);
	}
}

/* Switches the clocksource to ours and back, every 30 ms. */
static void __attribute__((noreturn)) switch_clocksource(struct hammer *h)
{
	for (;;) {
		if (!write_str(CS_DIR "current_clocksource", "hv_ptp_ext"))
			h->opens++;
		sleep_ms(30);
		write_str(CS_DIR "current_clocksource", "tsc");
		sleep_ms(30);
	}
}

/*
 * 200 unload/load cycles while CPU 1 hammers the PHC, CPU 0 its status
 * attributes, and the clocksource is switched to ours and back, so that
 * reads are in flight and files open while the clock is unregistered, and
 * closed after. The kernel log must stay clean.
 *
 * Opens are kept out of insmod: posix_clock_register() (6.1 and 6.12) sets
 * clk->dev only after cdev_device_add() has made the device node live, so
 * an open() in that window takes no device reference and its close() puts
 * one (refcount underflow, use-after-free). That is a kernel bug, hit by
 * every PTP driver, hv_utils included. Without the lock this reader hit
 * it within 200 cycles on both kernels; with it, 200 cycles stay clean.
 */
TEST_F_TIMEOUT(ours, load_unload_cycles, 600)
{
	static const char lock_path[] = "/tmp/load_unload.lock";
	struct hammer *h;
	pid_t pids[3];
	int i, lock, splats;

	RIG_SOAK_OR_SKIP();
	h = mmap(NULL, 3 * sizeof(*h), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, h);
	lock = open(lock_path, O_RDWR | O_CREAT, 0600);
	ASSERT_LE(0, lock);
	ASSERT_EQ(0, rig_load("--ours --no-hv-utils interval_ms=100"));
	splats = kmsg_splats();
	for (i = 0; i < 3; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (pids[i])
			continue;
		if (i == 0)
			hammer_phc(lock_path, &h[0]);
		if (i == 1)
			hammer_sysfs(&h[1]);
		switch_clocksource(&h[2]);
	}
	for (i = 0; i < 200; i++) {
		sleep_ms(100);
		ASSERT_EQ(0, system("/sbin/rmmod hv_ptp_ext"));
		flock(lock, LOCK_EX);
		ASSERT_EQ(0, system("/sbin/insmod /rig/mod/hv_ptp_ext.ko"));
		flock(lock, LOCK_UN);
	}
	sleep_ms(200);
	for (i = 0; i < 3; i++) {
		kill(pids[i], SIGKILL);
		waitpid(pids[i], NULL, 0);
	}
	TH_LOG("PHC reader: %lld opens, %lld reads, %lld ended by ENODEV; sysfs reader: %lld reads; %lld switches to our clocksource",
	       h[0].opens, h[0].reads, h[0].enodev, h[1].reads, h[2].opens);
	EXPECT_LE(200, h[0].opens);
	EXPECT_LE(100, h[0].enodev);
	EXPECT_LT(0, h[1].reads);
	EXPECT_LT(0, h[2].opens);
	EXPECT_EQ(splats, kmsg_splats());
	EXPECT_TRUE(sim_stat_is("dev0.driver", "hv_ptp_ext"));
	EXPECT_EQ(0, sim_stat("dev0.bad_responses"));
	EXPECT_EQ(201, sim_stat("dev0.opens"));
	munmap(h, 3 * sizeof(*h));
	close(lock);
}

static long long monotonic_violations(long long reads)
{
	struct timespec ts;
	long long prev = 0, ns, back = 0, i;

	for (i = 0; i < reads; i++) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ns = ts_ns(&ts);
		back += ns < prev;
		prev = ns;
	}
	return back;
}

/*
 * A host whose rate wanders (profile wander: a random walk of 20 ppb per
 * square root of a second, a sample every 3 s, 3 % outliers): after the
 * first minute, no reading of our PHC over four minutes is outside the
 * module's error bound (the bound of the model before or after the
 * reading, whichever produced it), and the error stays near the model's
 * on the host (unit test random_walk_host_3s: 1.1-1.4 us RMS; a fixed
 * 32-sample line: 2.0-2.6 us, up to 4.6 % of readings outside).
 */
TEST_F_TIMEOUT(ours, wandering_host, 600)
{
	struct err_stats all = { 0 };
	long long err = 0, b1, b2, b, bmax = 0, bsum = 0, outside = 0, wide = 0;
	int i;

	RIG_SOAK_OR_SKIP();
	ASSERT_EQ(0, start(&self->phc, &self->index, 15,
			   "--ours profile=wander interval_ms=3000"));
	sleep_ms(15000);
	for (i = 0; i < 1200; i++) {		/* 240 s at 5 Hz */
		b1 = ours_stat(self->index, "error_bound_ns");
		ASSERT_EQ(0, ours_error(self->phc, &err));
		b2 = ours_stat(self->index, "error_bound_ns");
		stats_add(&all, err);
		b = b1 > b2 ? b1 : b2;
		bsum += b;
		bmax = b > bmax ? b : bmax;
		outside += llabs(err) > b;
		if (b > 100000 && wide++ < 3)
			TH_LOG("reading %d: error %+lld ns, bound %lld ns; sample age %lld ms, noise %lld ns, freq %lld ppb",
			       i, err, b, ours_stat(self->index, "last_sample_age_ms"),
			       ours_stat(self->index, "noise_ns"),
			       ours_stat(self->index, "freq_ppb"));
		sleep_ms(200);
	}
	TH_LOG("wander: RMS %.0f ns, max %+lld ns, bound mean %lld ns, max %lld ns (%lld above 100 us); %lld of %d readings outside; %lld outliers, %lld steps",
	       stats_rms(&all), all.max, bsum / i, bmax, wide, outside, i,
	       ours_stat(self->index, "samples_outliers"),
	       ours_stat(self->index, "steps"));
	EXPECT_EQ(0, outside);
	/*
	 * honest, and still telling: mean ~6 us here; a misfit rate taken
	 * as 1000 ppm once made it grow to milliseconds between samples
	 */
	EXPECT_EQ(0, wide);
	EXPECT_GT(2500, stats_rms(&all));
	EXPECT_EQ(0, ours_stat(self->index, "steps"));
}

/*
 * The hv_ptp_ext clocksource: selectable; CLOCK_MONOTONIC monotonic over
 * 10^6 reads, and across TSC page updates and an invalid page (fallback to
 * the 100 ns reference counter); its rate is the reference counter's
 * (CLOCK_MONOTONIC_RAW against the simulator's reference time, exactly);
 * and PTP_SYS_OFFSET_PRECISE works on it, its error against the truth
 * within the error bound.
 */
TEST_F_TIMEOUT(ours, clocksource, 180)
{
	struct sim_truth a, b;
	long long d, err = 0, maxerr = 0;
	char buf[64];
	int i;

	ASSERT_EQ(0, start(&self->phc, &self->index, 3, "--ours profile=azure"));
	ASSERT_EQ(0, write_str(CS_DIR "current_clocksource", "hv_ptp_ext"));
	sleep_ms(100);
	ASSERT_TRUE(cs_is("hv_ptp_ext"));
	EXPECT_EQ(0, monotonic_violations(1000000));

	/* rate: MONOTONIC_RAW counts reference ns */
	ASSERT_EQ(0, sim_truth(&a));
	sleep_ms(5000);
	ASSERT_EQ(0, sim_truth(&b));
	d = (b.raw_ns - a.raw_ns) - (long long)(b.ref_ns - a.ref_ns);
	TH_LOG("MONOTONIC_RAW - reference time over 5 s: %lld ns", d);
	EXPECT_LE(llabs(d), 5);

	/* PRECISE on our clocksource, against the truth, within the bound */
	for (i = 0; i < 20; i++) {
		ASSERT_EQ(0, ours_error(self->phc, &err));
		maxerr = llabs(err) > llabs(maxerr) ? err : maxerr;
		EXPECT_LE(llabs(err), ours_stat(self->index, "error_bound_ns"));
		sleep_ms(100);
	}
	TH_LOG("PRECISE on hv_ptp_ext: max error %+lld ns over 2 s", maxerr);

	/* TSC page updates and an invalid page, while time is read */
	for (i = 0; i < 5; i++) {
		ASSERT_EQ(0, sim_control("tsc_page update"));
		EXPECT_EQ(0, monotonic_violations(20000));
	}
	ASSERT_EQ(0, sim_control("tsc_page invalid"));
	EXPECT_STREQ("reference_counter", ours_str(self->index, "refclock", buf, sizeof(buf)));
	EXPECT_EQ(0, monotonic_violations(100000));
	ASSERT_EQ(0, sim_control("tsc_page valid"));
	EXPECT_STREQ("tsc_page", ours_str(self->index, "refclock", buf, sizeof(buf)));
	EXPECT_EQ(0, monotonic_violations(100000));

	ASSERT_EQ(0, write_str(CS_DIR "current_clocksource", "tsc"));
	sleep_ms(100);
	EXPECT_TRUE(cs_is("tsc"));
}

TEST_HARNESS_MAIN
