// SPDX-License-Identifier: GPL-2.0
/*
 * kernel/timesync.c on the host: every length and field boundary.
 */
#include "timesync.h"
#include "kselftest_harness.h"

#define V4 HV_TS_VERSION(4, 0)
#define V3 HV_TS_VERSION(3, 0)

static void put16(unsigned char *p, unsigned int v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void put64(unsigned char *p, unsigned long long v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = v >> (8 * i);
}

/* A TimeSync message: headers + @payload bytes, icmsgsize = @payload. */
static unsigned int mk_ts(unsigned char *b, unsigned int payload,
			  unsigned long long parent, unsigned long long ref,
			  int flags, bool v4)
{
	memset(b, 0, 1024);
	put16(b + HV_TS_OFF_MSGTYPE, HV_TS_TYPE_TIMESYNC);
	put16(b + HV_TS_OFF_MSGSIZE, payload);
	put64(b + 28, parent);
	if (v4) {
		put64(b + 28 + 8, ref);
		b[28 + 16] = flags;
		b[28 + 17] = 1;		/* leapflags */
		b[28 + 18] = 3;		/* stratum */
	} else {
		b[28 + 24] = flags;
	}
	return 28 + payload;
}

static const unsigned long long T2025 = HV_TS_WLTIMEDELTA + 17356896000000000ULL;

TEST(v4_sample)
{
	unsigned char b[1024];
	struct hv_ts_msg m;
	unsigned int len = mk_ts(b, 22, T2025, 123456789, HV_TS_FLAG_SAMPLE, true);

	ASSERT_EQ(HV_TS_OK, hv_ts_parse(b, len, V4, &m));
	EXPECT_EQ(HV_TS_KIND_SAMPLE, m.kind);
	EXPECT_EQ(1735689600000000000LL, m.sample.host_ns);
	EXPECT_EQ(123456789ULL, m.sample.ref);
	EXPECT_TRUE(m.sample.has_ref);
	EXPECT_EQ(HV_TS_FLAG_SAMPLE, m.sample.flags);
	EXPECT_EQ(1, m.sample.leapflags);
	EXPECT_EQ(3, m.sample.stratum);
	/* the ring's padding to 8 bytes is fine */
	EXPECT_EQ(HV_TS_OK, hv_ts_parse(b, 56, V4, &m));
}

TEST(v1_sample)
{
	unsigned char b[1024];
	struct hv_ts_msg m;
	unsigned int len = mk_ts(b, 25, T2025, 0, HV_TS_FLAG_SYNC, false);

	ASSERT_EQ(HV_TS_OK, hv_ts_parse(b, len, V3, &m));
	EXPECT_FALSE(m.sample.has_ref);
	EXPECT_EQ(HV_TS_FLAG_SYNC, m.sample.flags);
	EXPECT_EQ(1735689600000000000LL, m.sample.host_ns);
}

TEST(length_boundaries)
{
	unsigned char b[1024];
	struct hv_ts_msg m;
	unsigned int len;

	for (len = 0; len < HV_TS_HDRS; len++)
		EXPECT_EQ(HV_TS_SHORT, hv_ts_parse(b, len, V4, &m));

	/* v4 payload: 22 bytes; icmsgsize may under-report, not over-report */
	mk_ts(b, 21, T2025, 1, 2, true);
	EXPECT_EQ(HV_TS_SHORT_PAYLOAD, hv_ts_parse(b, 28 + 21, V4, &m));
	EXPECT_EQ(HV_TS_OK, hv_ts_parse(b, 28 + 22, V4, &m));
	EXPECT_EQ(HV_TS_BAD_SIZE, hv_ts_parse(b, 28 + 20, V4, &m));

	/* v1 payload: 25 bytes */
	mk_ts(b, 24, T2025, 0, 2, false);
	EXPECT_EQ(HV_TS_SHORT_PAYLOAD, hv_ts_parse(b, 28 + 24, V3, &m));
	EXPECT_EQ(HV_TS_OK, hv_ts_parse(b, 28 + 25, V3, &m));

	/* oversize: by icmsgsize, or by length beyond padding */
	mk_ts(b, HV_TS_MAX_PAYLOAD, T2025, 1, 2, true);
	EXPECT_EQ(HV_TS_OK, hv_ts_parse(b, 28 + HV_TS_MAX_PAYLOAD + 7, V4, &m));
	EXPECT_EQ(HV_TS_OVERSIZE, hv_ts_parse(b, 28 + HV_TS_MAX_PAYLOAD + 8, V4, &m));
	mk_ts(b, HV_TS_MAX_PAYLOAD + 1, T2025, 1, 2, true);
	EXPECT_EQ(HV_TS_OVERSIZE, hv_ts_parse(b, 28 + HV_TS_MAX_PAYLOAD + 1, V4, &m));
	/* icmsgsize beyond the packet */
	mk_ts(b, 200, T2025, 1, 2, true);
	EXPECT_EQ(HV_TS_BAD_SIZE, hv_ts_parse(b, 56, V4, &m));
}

TEST(types_and_negotiation)
{
	unsigned char b[1024];
	struct hv_ts_msg m;
	unsigned int len = mk_ts(b, 22, T2025, 1, 2, true);

	put16(b + HV_TS_OFF_MSGTYPE, 42);
	EXPECT_EQ(HV_TS_BAD_TYPE, hv_ts_parse(b, len, V4, &m));

	/* negotiate: 2 framework + 3 service versions */
	memset(b, 0, sizeof(b));
	put16(b + HV_TS_OFF_MSGTYPE, HV_TS_TYPE_NEGOTIATE);
	put16(b + HV_TS_OFF_MSGSIZE, 8 + 5 * 4);
	put16(b + 28, 2);
	put16(b + 30, 3);
	EXPECT_EQ(HV_TS_OK, hv_ts_parse(b, 28 + 8 + 5 * 4, 0, &m));
	EXPECT_EQ(HV_TS_KIND_NEGOTIATE, m.kind);
	/* counts beyond the message */
	put16(b + HV_TS_OFF_MSGSIZE, 0);
	EXPECT_EQ(HV_TS_BAD_NEGOTIATION, hv_ts_parse(b, 28 + 8 + 4 * 4, 0, &m));
	put16(b + 28, 1000);
	EXPECT_EQ(HV_TS_BAD_NEGOTIATION, hv_ts_parse(b, 1000, 0, &m));
	put16(b + 28, 0);
	EXPECT_EQ(HV_TS_BAD_NEGOTIATION, hv_ts_parse(b, 1000, 0, &m));
	EXPECT_EQ(HV_TS_SHORT_PAYLOAD, hv_ts_parse(b, 28 + 7, 0, &m));
}

TEST(time_range)
{
	unsigned char b[1024];
	struct hv_ts_msg m;
	unsigned int len;

	len = mk_ts(b, 22, HV_TS_WLTIMEDELTA - 1, 1, 2, true);
	EXPECT_EQ(HV_TS_BAD_TIME, hv_ts_parse(b, len, V4, &m));
	len = mk_ts(b, 22, HV_TS_WLTIMEDELTA, 1, 2, true);
	EXPECT_EQ(HV_TS_OK, hv_ts_parse(b, len, V4, &m));
	EXPECT_EQ(0, m.sample.host_ns);
	len = mk_ts(b, 22, HV_TS_WLTIMEDELTA + INT64_MAX / 100, 1, 2, true);
	EXPECT_EQ(HV_TS_OK, hv_ts_parse(b, len, V4, &m));
	len = mk_ts(b, 22, HV_TS_WLTIMEDELTA + INT64_MAX / 100 + 1, 1, 2, true);
	EXPECT_EQ(HV_TS_BAD_TIME, hv_ts_parse(b, len, V4, &m));
	len = mk_ts(b, 22, ~0ULL, 1, 2, true);
	EXPECT_EQ(HV_TS_BAD_TIME, hv_ts_parse(b, len, V4, &m));
}

TEST(not_negotiated)
{
	unsigned char b[1024];
	struct hv_ts_msg m;
	unsigned int len = mk_ts(b, 22, T2025, 1, 2, true);

	EXPECT_EQ(HV_TS_NOT_NEGOTIATED, hv_ts_parse(b, len, 0, &m));
}

TEST(reject_names)
{
	int i;

	for (i = 0; i < HV_TS_REJECT_COUNT; i++)
		EXPECT_NE(NULL, hv_ts_reject_names[i]);
}

TEST_HARNESS_MAIN
