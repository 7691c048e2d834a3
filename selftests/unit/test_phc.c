// SPDX-License-Identifier: GPL-2.0
/*
 * user/phc.c against a faulty or hostile clock: the ioctls and the status
 * attributes go through struct hps_phc_io, played here. Timestamps that
 * are no time, counts larger than asked for, errors (EINTR, EBUSY, ENODEV)
 * and odd attribute text must give an error code, never a wrong offset or
 * undefined behaviour (ASan and UBSan abort the test on that).
 */
#include <errno.h>
#include <linux/ptp_clock.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kselftest_harness.h"
#include "phc.h"

#define NS	1000000000LL

/* What the fake clock answers. */
static struct {
	int errs[8];		/* returned by the first calls, 0: answer */
	int n_errs, calls;
	unsigned long last_request;
	struct ptp_clock_time sys, dev;	/* PRECISE */
	struct ptp_clock_time ext[PTP_MAX_SAMPLES][3];
	struct ptp_clock_time basic[2 * PTP_MAX_SAMPLES + 1];
	unsigned int n_samples;	/* the count written back; 0: as asked */
	int not_supported;	/* PRECISE: EOPNOTSUPP */
	const char *attr;	/* the attribute's text; NULL: no such file */
	int reads;		/* attribute reads */
	char last_path[256];	/* ... and the last one's path */
} fake;

static int fake_ioctl(int fd, unsigned long request, void *arg)
{
	struct ptp_sys_offset_precise *pre = arg;
	struct ptp_sys_offset_extended *ext = arg;
	struct ptp_sys_offset *basic = arg;
	int call = fake.calls++;

	(void)fd;
	fake.last_request = request;
	if (call < fake.n_errs && fake.errs[call])
		return fake.errs[call];
	switch (request) {
	case PTP_SYS_OFFSET_PRECISE:
		if (fake.not_supported)
			return -EOPNOTSUPP;
		pre->sys_realtime = fake.sys;
		pre->device = fake.dev;
		return 0;
	case PTP_SYS_OFFSET_EXTENDED:
		memcpy(ext->ts, fake.ext, sizeof(ext->ts));
		if (fake.n_samples)
			ext->n_samples = fake.n_samples;
		return 0;
	case PTP_SYS_OFFSET:
		memcpy(basic->ts, fake.basic, sizeof(basic->ts));
		if (fake.n_samples)
			basic->n_samples = fake.n_samples;
		return 0;
	}
	return -ENOTTY;
}

static int fake_read_line(const char *path, char *buf, size_t len)
{
	fake.reads++;
	snprintf(fake.last_path, sizeof(fake.last_path), "%s", path);
	if (!fake.attr)
		return -ENOENT;
	snprintf(buf, len, "%s", fake.attr);
	return 0;
}

static const struct hps_phc_io fake_io = {
	.ioctl = fake_ioctl,
	.read_line = fake_read_line,
};

static struct ptp_clock_time ts(long long sec, unsigned int nsec)
{
	return (struct ptp_clock_time){ .sec = sec, .nsec = nsec };
}

static void phc_init(struct hps_phc *p, enum hps_mode mode)
{
	memset(&fake, 0, sizeof(fake));
	memset(p, 0, sizeof(*p));
	p->io = &fake_io;
	p->fd = 3;
	p->mode = mode;
}

/* EXTENDED: triple i at second 1000 + i: (sys, sys + 1 us - off, + width) */
static void ext_fill(int n, long long off, unsigned int width)
{
	int i;

	for (i = 0; i < n; i++) {
		fake.ext[i][0] = ts(1000 + i, 0);
		fake.ext[i][1] = ts(1000 + i, width / 2 - off);
		fake.ext[i][2] = ts(1000 + i, width);
	}
}

TEST(precise)
{
	struct hps_measurement s;
	struct hps_phc p;

	phc_init(&p, HPS_MODE_PRECISE);
	fake.sys = ts(1700000000, 500);
	fake.dev = ts(1700000000, 200);
	ASSERT_EQ(0, hps_phc_measure(&p, 5, &s));
	EXPECT_EQ(300, s.offset_ns);
	EXPECT_EQ(1700000000 * NS + 500, s.sys_ns);
	EXPECT_EQ(0, s.window_ns);
}

/* The widest offset we accept: no overflow in it. */
TEST(precise_extremes)
{
	struct hps_measurement s;
	struct hps_phc p;

	phc_init(&p, HPS_MODE_PRECISE);
	fake.sys = ts(HPS_MAX_SEC - 1, 999999999);
	fake.dev = ts(0, 0);
	ASSERT_EQ(0, hps_phc_measure(&p, 5, &s));
	EXPECT_EQ(HPS_MAX_SEC * NS - 1, s.offset_ns);
	fake.sys = ts(0, 0);
	fake.dev = ts(HPS_MAX_SEC - 1, 999999999);
	ASSERT_EQ(0, hps_phc_measure(&p, 5, &s));
	EXPECT_EQ(-(HPS_MAX_SEC * NS - 1), s.offset_ns);
}

TEST(precise_no_time)
{
	static const struct ptp_clock_time bad[] = {
		{ .sec = 1, .nsec = 1000000000 },
		{ .sec = 1, .nsec = 0xffffffff },
		{ .sec = -1, .nsec = 0 },
		{ .sec = INT64_MIN, .nsec = 0 },
		{ .sec = INT64_MAX, .nsec = 999999999 },
		{ .sec = HPS_MAX_SEC, .nsec = 0 },
	};
	struct hps_measurement s;
	struct hps_phc p;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		phc_init(&p, HPS_MODE_PRECISE);
		fake.sys = ts(1700000000, 0);
		fake.dev = bad[i];
		EXPECT_EQ(-ERANGE, hps_phc_measure(&p, 5, &s));
		fake.sys = bad[i];
		fake.dev = ts(1700000000, 0);
		fake.calls = 0;
		EXPECT_EQ(-ERANGE, hps_phc_measure(&p, 5, &s));
		EXPECT_TRUE(hps_phc_transient(-ERANGE));
		EXPECT_EQ(HPS_MODE_PRECISE, p.mode);
	}
}

TEST(extended_narrowest)
{
	struct hps_measurement s;
	struct hps_phc p;

	phc_init(&p, HPS_MODE_EXTENDED);
	ext_fill(5, 40, 3000);
	fake.ext[3][2] = ts(1003, 1000);	/* narrowest: 1000 ns */
	fake.ext[3][1] = ts(1003, 460);
	ASSERT_EQ(0, hps_phc_measure(&p, 5, &s));
	EXPECT_EQ(1000, s.window_ns);
	EXPECT_EQ(40, s.offset_ns);
	EXPECT_EQ(1003 * NS + 500, s.sys_ns);
}

/* A count larger than asked for reads no further than asked. */
TEST(extended_hostile_count)
{
	unsigned int counts[] = { 6, PTP_MAX_SAMPLES, PTP_MAX_SAMPLES + 1,
				  1000, 0xffffffff };
	struct hps_measurement s;
	struct hps_phc p;
	unsigned int i;

	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		phc_init(&p, HPS_MODE_EXTENDED);
		ext_fill(PTP_MAX_SAMPLES, 40, 3000);
		/* after the 5 asked for: a narrower one that must be ignored */
		fake.ext[5][2] = ts(1005, 10);
		fake.n_samples = counts[i];
		ASSERT_EQ(0, hps_phc_measure(&p, 5, &s));
		EXPECT_EQ(3000, s.window_ns);
		EXPECT_EQ(40, s.offset_ns);
	}
	/* and asked for more than the ABI holds: PTP_MAX_SAMPLES */
	phc_init(&p, HPS_MODE_EXTENDED);
	ext_fill(PTP_MAX_SAMPLES, 40, 3000);
	fake.n_samples = 1000;
	ASSERT_EQ(0, hps_phc_measure(&p, 1000, &s));
	EXPECT_EQ(40, s.offset_ns);
}

TEST(extended_none_forwards)
{
	struct hps_measurement s;
	struct hps_phc p;
	int i;

	phc_init(&p, HPS_MODE_EXTENDED);
	ext_fill(5, 0, 3000);
	for (i = 0; i < 5; i++)
		fake.ext[i][2] = ts(999, 0);	/* post before pre */
	EXPECT_EQ(-EIO, hps_phc_measure(&p, 5, &s));
	fake.n_samples = 0xffffffff;
	fake.calls = 0;
	EXPECT_EQ(-EIO, hps_phc_measure(&p, 5, &s));
}

TEST(extended_one_bad_stamp)
{
	struct hps_measurement s;
	struct hps_phc p;

	phc_init(&p, HPS_MODE_EXTENDED);
	ext_fill(5, 40, 3000);
	fake.ext[4][1] = ts(INT64_MAX, 0);
	EXPECT_EQ(-ERANGE, hps_phc_measure(&p, 5, &s));
}

TEST(basic_layout)
{
	struct hps_measurement s;
	struct hps_phc p;
	int i;

	phc_init(&p, HPS_MODE_BASIC);
	/* sys at i s, PHC 250 ns after the midpoint, windows 2 us */
	for (i = 0; i <= 5; i++)
		fake.basic[2 * i] = ts(100 + i, 0);
	for (i = 0; i < 5; i++)
		fake.basic[2 * i + 1] = ts(100 + i, 500000000 + 250);
	fake.basic[4] = ts(101, 2000);	/* sample 1: window 2 us */
	fake.basic[3] = ts(101, 1000 + 250);
	ASSERT_EQ(0, hps_phc_measure(&p, 5, &s));
	EXPECT_EQ(2000, s.window_ns);
	EXPECT_EQ(-250, s.offset_ns);
	fake.n_samples = 1000;
	fake.calls = 0;
	ASSERT_EQ(0, hps_phc_measure(&p, 5, &s));
	EXPECT_EQ(-250, s.offset_ns);
}

TEST(eintr_retried)
{
	struct hps_measurement s;
	struct hps_phc p;

	phc_init(&p, HPS_MODE_PRECISE);
	fake.sys = ts(1700000000, 500);
	fake.dev = ts(1700000000, 200);
	fake.errs[0] = fake.errs[1] = fake.errs[2] = -EINTR;
	fake.n_errs = 3;
	ASSERT_EQ(0, hps_phc_measure(&p, 5, &s));
	EXPECT_EQ(4, fake.calls);
	EXPECT_EQ(300, s.offset_ns);

	/* interrupted every time: given up after three retries */
	phc_init(&p, HPS_MODE_PRECISE);
	memset(fake.errs, 0, sizeof(fake.errs));
	for (fake.n_errs = 0; fake.n_errs < 8; fake.n_errs++)
		fake.errs[fake.n_errs] = -EINTR;
	EXPECT_EQ(-EINTR, hps_phc_measure(&p, 5, &s));
	EXPECT_EQ(4, fake.calls);
	EXPECT_TRUE(hps_phc_transient(-EINTR));
	EXPECT_EQ(HPS_MODE_PRECISE, p.mode);
}

TEST(busy_and_gone)
{
	struct hps_measurement s;
	struct hps_phc p;

	phc_init(&p, HPS_MODE_EXTENDED);
	fake.errs[0] = -EBUSY;
	fake.n_errs = 1;
	EXPECT_EQ(-EBUSY, hps_phc_measure(&p, 5, &s));
	EXPECT_EQ(1, fake.calls);
	EXPECT_EQ(HPS_MODE_EXTENDED, p.mode);
	EXPECT_TRUE(hps_phc_transient(-EBUSY));
	EXPECT_TRUE(hps_phc_transient(-EAGAIN));

	fake.calls = 0;
	fake.errs[0] = -ENODEV;
	EXPECT_EQ(-ENODEV, hps_phc_measure(&p, 5, &s));
	EXPECT_FALSE(hps_phc_transient(-ENODEV));
	EXPECT_FALSE(hps_phc_transient(-EBADF));
	EXPECT_TRUE(hps_phc_transient(-EBADMSG));

	p.fd = -1;
	EXPECT_EQ(-ENODEV, hps_phc_measure(&p, 5, &s));
}

TEST(falls_back)
{
	struct hps_measurement s;
	struct hps_phc p;

	phc_init(&p, HPS_MODE_PRECISE);
	fake.not_supported = 1;
	ext_fill(5, 40, 3000);
	ASSERT_EQ(0, hps_phc_measure(&p, 5, &s));
	EXPECT_EQ(HPS_MODE_EXTENDED, p.mode);
	EXPECT_EQ((unsigned long)PTP_SYS_OFFSET_EXTENDED, fake.last_request);
	EXPECT_EQ(40, s.offset_ns);
}

TEST(error_bound_text)
{
	static const struct {
		const char *text;
		int ret;
		int64_t bound;
	} cases[] = {
		{ "0", 0, 0 },
		{ "1234", 0, 1234 },
		{ "1125899906842624", 0, HPS_MAX_BOUND_NS },
		{ "1125899906842625", 0, HPS_MAX_BOUND_NS },
		{ "18446744073709551615", 0, HPS_MAX_BOUND_NS },
		{ "99999999999999999999999999", 0, HPS_MAX_BOUND_NS },
		{ NULL, -ENOENT, -7 },		/* not hv_ptp_ext's */
		{ "-1", -EAGAIN, -7 },		/* no model yet */
		{ "-2", -EBADMSG, -7 },
		{ "-9223372036854775808", -EBADMSG, -7 },
		{ "", -EBADMSG, -7 },
		{ " 12", -EBADMSG, -7 },
		{ "+12", -EBADMSG, -7 },
		{ "12ns", -EBADMSG, -7 },
		{ "0x10", -EBADMSG, -7 },
		{ "nan", -EBADMSG, -7 },
	};
	struct hps_phc p;
	unsigned int i;
	int64_t bound;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		phc_init(&p, HPS_MODE_PRECISE);
		fake.attr = cases[i].text;
		bound = -7;
		EXPECT_EQ(cases[i].ret, hps_phc_error_bound(&p, &bound))
			TH_LOG("\"%s\"", cases[i].text ? cases[i].text : "(none)");
		EXPECT_EQ(cases[i].bound, bound)
			TH_LOG("\"%s\"", cases[i].text ? cases[i].text : "(none)");
	}
}

/* An attribute's integer as it reads: ranges are the core's to judge. */
TEST(attr_ll)
{
	struct hps_phc p;
	long long v;

	phc_init(&p, HPS_MODE_PRECISE);
	fake.attr = "-100000000";
	EXPECT_EQ(0, hps_phc_attr_ll(&p, "freq_ppb", &v));
	EXPECT_EQ(-100000000, v);
	fake.attr = "100000001";
	EXPECT_EQ(0, hps_phc_attr_ll(&p, "freq_ppb", &v));
	EXPECT_EQ(100000001, v);
	fake.attr = "9223372036854775808";
	EXPECT_EQ(-EINVAL, hps_phc_attr_ll(&p, "freq_ppb", &v));
	fake.attr = "12 ";
	EXPECT_EQ(-EINVAL, hps_phc_attr_ll(&p, "stratum", &v));
	fake.attr = NULL;
	EXPECT_EQ(-ENOENT, hps_phc_attr_ll(&p, "stratum", &v));
}

/*
 * The module's record: the bound and every attribute a poll needs from
 * one read of one file (one consistent copy of the module's state), each
 * field with the result its own attribute would give.
 */
TEST(record)
{
	struct hps_phc_attrs a;
	struct hps_phc p;
	int64_t bound = -7;

	phc_init(&p, HPS_MODE_PRECISE);
	fake.reads = 0;
	fake.attr = "error_bound_ns=2345 stratum=2 leapflags=1 leap_pending=1 freq_ppb=-3500 disruptions=7 state=synchronised vmclock=vmclock0";
	ASSERT_EQ(0, hps_phc_record(&p, &bound, &a));
	EXPECT_EQ(1, fake.reads);
	EXPECT_NE(NULL, strstr(fake.last_path, "/timesync/record"));
	EXPECT_EQ(2345, bound);
	EXPECT_EQ(0, a.stratum_ret);
	EXPECT_EQ(2, a.stratum);
	EXPECT_EQ(0, a.leapflags_ret);
	EXPECT_EQ(1, a.leapflags);
	EXPECT_EQ(0, a.leap_pending_ret);
	EXPECT_EQ(1, a.leap_pending);
	EXPECT_EQ(0, a.freq_ret);
	EXPECT_EQ(-3500, a.freq_ppb);
	EXPECT_EQ(0, a.disruptions_ret);
	EXPECT_EQ(7, a.disruptions);
	EXPECT_EQ(0, a.vmclock_ret);
	EXPECT_EQ(1, a.vmclock);

	/*
	 * no model yet; values as they are (out of range is the core's to
	 * judge), one that is no number, a key missing
	 */
	fake.attr = "error_bound_ns=-1 stratum=300 leapflags=x freq_ppb=100000001 disruptions=3";
	EXPECT_EQ(-EAGAIN, hps_phc_record(&p, &bound, &a));
	EXPECT_EQ(0, a.stratum_ret);
	EXPECT_EQ(300, a.stratum);
	EXPECT_EQ(-EINVAL, a.leapflags_ret);
	EXPECT_EQ(0, a.freq_ret);
	EXPECT_EQ(100000001, a.freq_ppb);
	EXPECT_EQ(-ENOENT, a.leap_pending_ret);
	EXPECT_EQ(0, a.disruptions_ret);
	EXPECT_EQ(3, a.disruptions);
	EXPECT_EQ(-ENOENT, a.vmclock_ret);
	fake.attr = "error_bound_ns=5 disruptions=3 state=synchronised vmclock=";
	EXPECT_EQ(0, hps_phc_record(&p, &bound, &a));
	EXPECT_EQ(0, a.vmclock_ret);
	EXPECT_EQ(0, a.vmclock);

	/* a record with no bound, or one that is no number */
	fake.attr = "stratum=2";
	EXPECT_EQ(-EBADMSG, hps_phc_record(&p, &bound, &a));
	fake.attr = "error_bound_ns=12ns";
	EXPECT_EQ(-EBADMSG, hps_phc_record(&p, &bound, &a));

	/* no record: the caller reads the attributes one by one */
	fake.attr = NULL;
	EXPECT_EQ(-ENOENT, hps_phc_record(&p, &bound, &a));
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Any timestamp at all, biased towards the edges. */
static struct ptp_clock_time any_time(void)
{
	static const long long secs[] = { 0, -1, 1, HPS_MAX_SEC - 1,
					   HPS_MAX_SEC, INT64_MAX, INT64_MIN,
					   1700000000 };
	static const unsigned int nsecs[] = { 0, 999999999, 1000000000,
					      0xffffffff };
	uint64_t r = next();

	return ts(r & 1 ? secs[(r >> 1) % 8] : (long long)(next() >> (r & 63)),
		  r & 2 ? nsecs[(r >> 8) % 4] : (unsigned int)(next() % NS));
}

/* 200 000 random answers in every mode: an offset or an error, no UB. */
TEST(random_answers)
{
	struct hps_measurement s;
	struct hps_phc p;
	int i, j, ret, ok = 0;

	for (i = 0; i < 200000; i++) {
		phc_init(&p, (enum hps_mode)(i % 3));
		fake.sys = any_time();
		fake.dev = any_time();
		for (j = 0; j < PTP_MAX_SAMPLES; j++) {
			fake.ext[j][0] = any_time();
			fake.ext[j][1] = any_time();
			fake.ext[j][2] = any_time();
			fake.basic[2 * j] = any_time();
			fake.basic[2 * j + 1] = any_time();
		}
		fake.basic[2 * PTP_MAX_SAMPLES] = any_time();
		fake.n_samples = (unsigned int)next();
		ret = hps_phc_measure(&p, 1 + i % PTP_MAX_SAMPLES, &s);
		if (!ret) {
			ok++;
			ASSERT_GE(s.window_ns, 0);
			ASSERT_LT(s.sys_ns, HPS_MAX_SEC * NS);
			ASSERT_GE(s.sys_ns, 0);
		} else {
			ASSERT_TRUE(ret == -ERANGE || ret == -EIO);
		}
	}
	TH_LOG("%d of 200000 gave an offset", ok);
}

TEST_HARNESS_MAIN
