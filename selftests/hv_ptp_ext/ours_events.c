// SPDX-License-Identifier: GPL-2.0
/*
 * What the host does, as hv_ptp_ext sees it: holdover and SYNC, host
 * steps, a TimeSync version change, and every kind of disruption counted
 * once with its reason.
 */
#define _GNU_SOURCE
#include "ours.h"

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
	long long err = 0, steps, held, bad, acc, back, ns, bound;
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
			bound = ours_stat(self->index, "error_bound_ns");
			/*
			 * the step landed between the reading and its bound
			 * (two reads): the bound is the stepped model's, the
			 * reading not; such a reading judges nothing
			 */
			if (ours_stat(self->index, "steps") != steps)
				break;
			readings++;
			outside += llabs(err) > bound;
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
 * page going invalid and valid again (arm64: reference time's rate against
 * CNTVCT changing), a pause beyond stale_ms (a freeze),
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
#ifdef __aarch64__
		/*
		 * arm64 has no TSC page: reference time's rate against
		 * CNTVCT changes under the guest, and the fit restarts
		 */
		{ "tsc_page rate 100", "tsc_page", 3000 },
#else
		{ "tsc_page invalid", "tsc_page", 2000 },
		{ "tsc_page valid", "tsc_page", 2000 },
#endif
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

TEST_HARNESS_MAIN
