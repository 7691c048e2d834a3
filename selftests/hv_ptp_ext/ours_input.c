// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile and heavy input to hv_ptp_ext: malformed packets and floods of
 * them, a 1 kHz sample storm with the status read throughout, and module
 * parameters out of range.
 */
#define _GNU_SOURCE
#include "ours.h"

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

	RIG_SOAK_OR_SKIP("flood");
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

	RIG_SOAK_OR_SKIP("storm");
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

TEST_HARNESS_MAIN
