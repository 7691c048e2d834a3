// SPDX-License-Identifier: GPL-2.0
/*
 * Hibernation with hv_ptp_ext holding TimeSync. VMBus calls a bound
 * driver's suspend() and resume() from the freeze/thaw and
 * poweroff/restore noirq phases, and refuses the transition with
 * -EOPNOTSUPP for a driver without them; the simulated bus does the same.
 * The guest goes through the PM core for real up to the platform level
 * (/sys/power/pm_test "platform": processes and devices frozen, the noirq
 * phases run, then everything thaws after the PM core's test delay): the
 * hibernation must succeed, the channel close and open again, the module
 * count one disruption ("resume"), and the PHC and the ClockBound segment
 * must hold the truth within their bounds at every reading after it,
 * back to synchronized under 10 us.
 */
#define _GNU_SOURCE
#include "measure.h"
#include "daemon.h"
#include "bound.h"
#include "kselftest_harness.h"

#define PM_TEST		"/sys/power/pm_test"
#define PM_STATE	"/sys/power/state"

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		ret = -errno;
	close(fd);
	return ret;
}

/* Whether the kernel offers hibernation and the PM core's test levels. */
static int can_test_hibernation(void)
{
	char buf[128] = "";
	FILE *f = fopen(PM_STATE, "r");

	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return strstr(buf, "disk") && !access(PM_TEST, W_OK);
}

FIXTURE(pm) {
	pid_t pid;
	void *seg;
	int phc, index;
};

FIXTURE_SETUP(pm)
{
	const char *failed;

	self->pid = -1;
	self->seg = NULL;
	self->phc = -1;
	if (!rig_available())
		SKIP(return, "not in the rig");
	if (!can_test_hibernation())
		SKIP(return, "no hibernation or no PM test levels (CONFIG_HIBERNATION, CONFIG_PM_DEBUG)");
	failed = cb_start(&self->pid, &self->seg, &self->phc, &self->index);
	ASSERT_EQ(NULL, failed) TH_LOG("%s", failed);
}

FIXTURE_TEARDOWN(pm)
{
	write_str(PM_TEST, "none");
	cb_finish(self->pid, self->seg, self->phc);
}

/*
 * Hibernation to the platform level twice (freeze, the noirq phases,
 * thaw): each time the bus called our suspend() and resume() once, the
 * channel is open and negotiated again, one disruption is counted and
 * named "resume". From the write's return, at 10 Hz for up to 60 s:
 * every PHC reading within its error bound, every reading the segment
 * vouches for inside its bound, and synchronized under 10 us again.
 */
TEST_F_TIMEOUT(pm, hibernate_platform, 400)
{
	long long err = 0, bound = 0, disr, susp, res, opens, phc_err = 0;
	int round, k, recovered, phc_outside, phc_failed;
	char name[32];
	enum reading r;
	struct tally y;
	struct cb c = { 0 };

	for (round = 0; round < 2; round++) {
		memset(&y, 0, sizeof(y));
		disr = ours_stat(self->index, "disruptions");
		susp = sim_stat("dev0.pm_suspends");
		res = sim_stat("dev0.pm_resumes");
		opens = sim_stat("dev0.opens");
		ASSERT_EQ(0, write_str(PM_TEST, "platform"));
		/* blocks through freeze, the test delay (5 s) and thaw */
		EXPECT_EQ(0, write_str(PM_STATE, "disk")) {
			TH_LOG("hibernation (pm_test platform) failed: %s",
			       strerror(errno));
		}
		ASSERT_EQ(0, write_str(PM_TEST, "none"));
		EXPECT_EQ(susp + 1, sim_stat("dev0.pm_suspends"));
		EXPECT_EQ(res + 1, sim_stat("dev0.pm_resumes"));
		EXPECT_EQ(opens + 1, sim_stat("dev0.opens"));
		EXPECT_TRUE(sim_stat_is("dev0.opened", "1"));

		recovered = -1;
		phc_outside = phc_failed = 0;
		for (k = 1; k <= 600; k++) {
			sleep_ms(100);
			if (ours_error(self->phc, &phc_err))
				phc_failed++;
			else if (llabs(phc_err) > ours_stat(self->index, "error_bound_ns"))
				phc_outside++;
			r = reading(self->seg, &c, &err, &bound);
			count(&y, r, err, bound);
			if (r == R_OUTSIDE)
				TH_LOG("%.1f s after the resume: error %+lld ns outside the bound %lld ns",
				       k / 10.0, err, bound);
			if (ours_stat(self->index, "disruptions") > disr &&
			    c.status == CB_SYNCHRONIZED && r == R_INSIDE &&
			    bound < 10000) {
				recovered = k;
				break;
			}
		}
		TH_LOG("hibernation %d: %d readings, %d vouched, %d outside, %d disrupted, %d void, %d unknown, %d not taken; PHC %d outside its bound, %d not read; disruptions %lld -> %lld (%s); synchronized under 10 us %.1f s after the resume",
		       round + 1, y.readings, y.vouched, y.outside, y.disrupted,
		       y.voided, y.unknown, y.errors, phc_outside, phc_failed,
		       disr, ours_stat(self->index, "disruptions"),
		       ours_str(self->index, "last_disruption", name, sizeof(name)),
		       recovered / 10.0);
		EXPECT_EQ(disr + 1, ours_stat(self->index, "disruptions"));
		EXPECT_STREQ("resume", ours_str(self->index, "last_disruption",
						name, sizeof(name)));
		EXPECT_EQ(0, y.errors);
		EXPECT_EQ(0, y.outside);
		EXPECT_EQ(0, phc_failed);
		EXPECT_EQ(0, phc_outside);
		EXPECT_LT(0, recovered);
	}
}

TEST_HARNESS_MAIN
