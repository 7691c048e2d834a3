// SPDX-License-Identifier: GPL-2.0
/*
 * user/utc_audit.c: chronyc's CSV "sources" read, the host's offset from
 * UTC estimated from NTP samples, the states (no measurement, stale,
 * agree, disagree) and the UTC allowance each gives. The honesty check:
 * over many sources with random path asymmetry, jitter, sample ages and
 * host offsets, the allowance in bound mode is never below the host's
 * true distance from UTC when the audit agrees.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utc_audit.h"
#include "kselftest_harness.h"

#define SEC	1000000000LL
#define MS	1000000LL
#define US	1000LL

static struct hps_utc audit(int mode, int64_t declared_ns)
{
	return (struct hps_utc){
		.mode = mode,
		.declared_ns = declared_ns,
		.max_age_ns = 1100 * SEC,
		.state = mode == HPS_AUDIT_OFF ? HPS_UTC_OFF : HPS_UTC_NONE,
	};
}

static struct hps_ntp_source src(int64_t offset_ns, int64_t error_ns,
				 int64_t ago_s)
{
	return (struct hps_ntp_source){
		.name = "192.0.2.1", .stratum = 1, .reach = 0377,
		.ago_ns = ago_s * SEC, .offset_ns = offset_ns,
		.error_ns = error_ns,
	};
}

/* chronyc -c -n sources, as chrony 4.3 to 4.9 print it */
TEST(parse_sources)
{
	static const char text[] =
		"^,*,192.0.2.1,1,0,377,1,+0.002000123,+0.002000456,0.000150000\n"
		"#,?,PHC0,0,3,377,2,-0.000000012,-0.000000012,0.000000100\n"
		"^,?,192.0.2.2,0,6,0,-,+0.000000000,+0.000000000,0.000000000\n"
		"=,+,198.51.100.7,2,4,17,12,-0.000500000,-0.000500000,0.001000000\n";
	struct hps_ntp_source s[4];
	char why[128];
	int n;

	n = hps_audit_parse_sources(text, s, 4, why, sizeof(why));
	ASSERT_EQ(2, n);
	EXPECT_STREQ("192.0.2.1", s[0].name);
	EXPECT_EQ(1, s[0].stratum);
	EXPECT_EQ(0377U, s[0].reach);
	EXPECT_EQ(1 * SEC, s[0].ago_ns);
	EXPECT_EQ(2000123, s[0].offset_ns);
	EXPECT_EQ(150000, s[0].error_ns);
	EXPECT_STREQ("198.51.100.7", s[1].name);
	EXPECT_EQ(017U, s[1].reach);
	EXPECT_EQ(-500000, s[1].offset_ns);

	/* a line that is not chronyc's names its number */
	n = hps_audit_parse_sources("^,*,192.0.2.1,1,0,377,1,+0.1,+0.1,0.1\n"
				    "506 Cannot talk to daemon\n", s, 4, why,
				    sizeof(why));
	EXPECT_EQ(-1, n);
	EXPECT_NE(NULL, strstr(why, "line 2"));
	EXPECT_EQ(-1, hps_audit_parse_sources("^,*,a,1,0,377,1,+0.1,x,0.1\n",
					      s, 4, why, sizeof(why)));
	EXPECT_EQ(-1, hps_audit_parse_sources("^,*,a,1,0,999,1,+0.1,+0.1,0.1\n",
					      s, 4, why, sizeof(why)));
	EXPECT_EQ(0, hps_audit_parse_sources("", s, 4, why, sizeof(why)));
}

/* Audit off: the declared allowance; 0 declared is host-relative. */
TEST(off_and_declared)
{
	struct hps_utc u = audit(HPS_AUDIT_OFF, 100 * MS);
	int vouch;

	EXPECT_EQ(0, hps_utc_audit(&u, NULL, -1, "x", 0, 10 * SEC));
	EXPECT_EQ(HPS_UTC_OFF, u.state);
	EXPECT_EQ(100 * MS, hps_utc_allowance(&u, 10 * SEC, &vouch));
	EXPECT_EQ(1, vouch);
	EXPECT_STREQ("utc", hps_utc_reference(100 * MS));
	u.declared_ns = 0;
	EXPECT_EQ(0, hps_utc_allowance(&u, 10 * SEC, &vouch));
	EXPECT_STREQ("host", hps_utc_reference(0));
}

/* chronyd unreachable or without sources: no measurement, the declared. */
TEST(no_measurement)
{
	struct hps_utc u = audit(HPS_AUDIT_BOUND, 2 * MS);
	struct hps_ntp_source s = src(MS, 100 * US, 2000);
	int vouch;

	hps_utc_follow(&u, 1, 0, 1 * SEC);
	hps_utc_audit(&u, NULL, -1, "chronyc failed: 506 Cannot talk to daemon",
		      0, 10 * SEC);
	EXPECT_EQ(HPS_UTC_NONE, u.state);
	EXPECT_NE(NULL, strstr(u.why, "506"));
	EXPECT_EQ(2 * MS, hps_utc_allowance(&u, 10 * SEC, &vouch));
	EXPECT_EQ(1, vouch);
	/* a sample older than ntp_max_age_s: none either */
	hps_utc_audit(&u, &s, 1, NULL, 0, 3000 * SEC);
	EXPECT_EQ(HPS_UTC_NONE, u.state);
	hps_utc_audit(&u, &s, 0, NULL, 0, 3000 * SEC);
	EXPECT_EQ(HPS_UTC_NONE, u.state);
	EXPECT_NE(NULL, strstr(u.why, "no NTP source"));
}

/*
 * A sample taken before the clock followed the host measured the clock,
 * not the host: stale; bound mode does not vouch until a new one.
 */
TEST(stale_after_disruption)
{
	struct hps_utc u = audit(HPS_AUDIT_BOUND, 5 * MS);
	struct hps_ntp_source s = src(2 * MS, 100 * US, 4);
	int vouch;

	hps_utc_follow(&u, 1, 0, 100 * SEC);
	hps_utc_audit(&u, &s, 1, NULL, 1000, 200 * SEC);
	EXPECT_EQ(HPS_UTC_AGREE, u.state);
	/* a disruption at 300 s, synchronized again at 310 s */
	hps_utc_follow(&u, 0, 0, 300 * SEC);
	hps_utc_follow(&u, 1, 0, 310 * SEC);
	s.ago_ns = 8 * SEC;	/* taken at 304 s */
	hps_utc_audit(&u, &s, 1, NULL, 1000, 312 * SEC);
	EXPECT_EQ(HPS_UTC_STALE, u.state);
	hps_utc_allowance(&u, 312 * SEC, &vouch);
	EXPECT_EQ(0, vouch);
	u.mode = HPS_AUDIT_REPORT;
	EXPECT_EQ(5 * MS, hps_utc_allowance(&u, 312 * SEC, &vouch));
	EXPECT_EQ(1, vouch);
	u.mode = HPS_AUDIT_BOUND;
	/* at 312 s, whole seconds: taken between 311 and 312 s, after 310 */
	s.ago_ns = 1 * SEC;
	hps_utc_audit(&u, &s, 1, NULL, 1000, 313 * SEC);
	EXPECT_EQ(HPS_UTC_AGREE, u.state);
}

/* The host beyond its declared allowance by more than NTP's error. */
TEST(disagree)
{
	struct hps_utc u = audit(HPS_AUDIT_REPORT, 1 * MS);
	struct hps_ntp_source s = src(5 * MS, 200 * US, 1);
	int vouch;

	hps_utc_follow(&u, 1, 0, 0);
	EXPECT_EQ(1, hps_utc_audit(&u, &s, 1, NULL, 1000, 10 * SEC));
	EXPECT_EQ(HPS_UTC_DISAGREE, u.state);
	EXPECT_GE(u.est.offset_ns, 5 * MS - 300 * US);
	EXPECT_LE(u.est.offset_ns, 5 * MS + 300 * US);
	hps_utc_allowance(&u, 10 * SEC, &vouch);
	EXPECT_EQ(0, vouch);
	/* within: declared + error covers it */
	s.offset_ns = 1 * MS + 150 * US;
	EXPECT_EQ(1, hps_utc_audit(&u, &s, 1, NULL, 1000, 20 * SEC));
	EXPECT_EQ(HPS_UTC_AGREE, u.state);
	EXPECT_EQ(1 * MS, hps_utc_allowance(&u, 20 * SEC, &vouch));
	EXPECT_EQ(1, vouch);
	/* bound mode: the measurement, grown at PHI since */
	u.mode = HPS_AUDIT_BOUND;
	EXPECT_EQ(llabs(u.est.offset_ns) + u.est.error_ns + 10 * HPS_AUDIT_PHI_PPB,
		  hps_utc_allowance(&u, 30 * SEC, &vouch));
	EXPECT_EQ(1, vouch);
	/* tighter than the declaration when the host is nearer UTC */
	u.declared_ns = 100 * MS;
	s.offset_ns = 300 * US;
	hps_utc_audit(&u, &s, 1, NULL, 1000, 40 * SEC);
	EXPECT_EQ(HPS_UTC_AGREE, u.state);
	EXPECT_GT(1 * MS, hps_utc_allowance(&u, 40 * SEC, &vouch));
	EXPECT_LE(300 * US, hps_utc_allowance(&u, 40 * SEC, &vouch));
}

/*
 * An agreement made before a disruption is not vouched for once the clock
 * follows the host again, until an audit after it (bound mode).
 */
TEST(agree_stale_after_resync)
{
	struct hps_utc u = audit(HPS_AUDIT_BOUND, 5 * MS);
	struct hps_ntp_source s = src(2 * MS, 100 * US, 1);
	int vouch;

	hps_utc_follow(&u, 1, 1000, 10 * SEC);
	hps_utc_audit(&u, &s, 1, NULL, 1000, 20 * SEC);
	EXPECT_EQ(HPS_UTC_AGREE, u.state);
	hps_utc_allowance(&u, 21 * SEC, &vouch);
	EXPECT_EQ(1, vouch);
	hps_utc_follow(&u, 0, 1000, 22 * SEC);	/* a host step */
	hps_utc_follow(&u, 1, 1000, 25 * SEC);	/* followed again */
	EXPECT_EQ(5 * MS, hps_utc_allowance(&u, 26 * SEC, &vouch));
	EXPECT_EQ(0, vouch);
	u.mode = HPS_AUDIT_REPORT;
	hps_utc_allowance(&u, 26 * SEC, &vouch);
	EXPECT_EQ(1, vouch);
}

/*
 * A disagreement holds until a measurement agrees: no measurement after
 * it (chronyc failing, the sources gone) vouches for nothing.
 */
TEST(disagreement_latches)
{
	struct hps_utc u = audit(HPS_AUDIT_REPORT, 5 * MS);
	struct hps_ntp_source s = src(22 * MS, 100 * US, 1);
	int vouch;

	hps_utc_follow(&u, 1, 1000, 0);
	hps_utc_audit(&u, &s, 1, NULL, 1000, 10 * SEC);
	EXPECT_EQ(HPS_UTC_DISAGREE, u.state);
	hps_utc_audit(&u, NULL, -1, "chronyc killed", 1000, 11 * SEC);
	EXPECT_EQ(HPS_UTC_NONE, u.state);
	hps_utc_allowance(&u, 11 * SEC, &vouch);
	EXPECT_EQ(0, vouch);
	s.offset_ns = 2 * MS;
	hps_utc_audit(&u, &s, 1, NULL, 1000, 12 * SEC);
	EXPECT_EQ(HPS_UTC_AGREE, u.state);
	hps_utc_allowance(&u, 12 * SEC, &vouch);
	EXPECT_EQ(1, vouch);
	/* a smaller declaration in force: judged again at once */
	EXPECT_EQ(1, hps_utc_declare(&u, 1 * MS));
	EXPECT_EQ(HPS_UTC_DISAGREE, u.state);
	hps_utc_allowance(&u, 12 * SEC, &vouch);
	EXPECT_EQ(0, vouch);
}

/* The clock's largest bound since it follows the host widens each sample. */
TEST(stretch_bound)
{
	struct hps_utc u = audit(HPS_AUDIT_BOUND, 5 * MS);
	struct hps_ntp_source s = src(2 * MS, 100 * US, 1);

	hps_utc_follow(&u, 1, 1000, 0);
	hps_utc_follow(&u, 1, 800 * US, 1 * SEC);
	hps_utc_follow(&u, 1, 1000, 2 * SEC);
	hps_utc_audit(&u, &s, 1, NULL, 1000, 10 * SEC);
	EXPECT_EQ(HPS_UTC_AGREE, u.state);
	EXPECT_LE(900 * US, u.est.error_ns);
}

/* Marzullo: a falseticker among three is outvoted; two apart, no majority. */
TEST(sources_vote)
{
	struct hps_utc u = audit(HPS_AUDIT_BOUND, 10 * MS);
	struct hps_ntp_source s[3] = {
		src(2 * MS, 300 * US, 2),
		src(2 * MS + 100 * US, 200 * US, 3),
		src(40 * MS, 100 * US, 1),
	};

	hps_utc_follow(&u, 1, 0, 0);
	hps_utc_audit(&u, s, 3, NULL, 0, 100 * SEC);
	EXPECT_EQ(HPS_UTC_AGREE, u.state);
	EXPECT_EQ(3, u.est.used);
	EXPECT_EQ(2, u.est.agreeing);
	EXPECT_GE(u.est.offset_ns, 2 * MS - 100 * US);
	EXPECT_LE(u.est.offset_ns, 2 * MS + 200 * US);
	hps_utc_audit(&u, s + 1, 2, NULL, 0, 100 * SEC);
	EXPECT_EQ(HPS_UTC_NONE, u.state);
	EXPECT_NE(NULL, strstr(u.why, "disagree"));
}

/*
 * Two separate regions where two of three meet: which holds the truth is
 * not known, so the estimate spans both.
 */
TEST(sources_tie)
{
	struct hps_utc u = audit(HPS_AUDIT_BOUND, 50 * MS);
	struct hps_ntp_source s[3] = {
		src(20 * MS, 20 * MS, 0),
		src(1 * MS, 1 * MS, 0),
		src(39 * MS, 1 * MS, 0),
	};

	hps_utc_follow(&u, 1, 0, 0);
	hps_utc_audit(&u, s, 3, NULL, 0, 100 * SEC);
	EXPECT_EQ(HPS_UTC_AGREE, u.state);
	EXPECT_EQ(2, u.est.agreeing);
	EXPECT_GE(u.est.offset_ns + u.est.error_ns, 40 * MS);
	EXPECT_LE(u.est.offset_ns - u.est.error_ns, 0);
}

static uint64_t rng = 88172645463325252ULL;

static int64_t uniform(int64_t lo, int64_t hi)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return lo + (int64_t)(rng % (uint64_t)(hi - lo + 1));
}

/*
 * NTP's own bound, taken as chronyd reports it: a sample's offset is
 * off by half the path's asymmetry at most, within half its delay; the
 * error chronyd reports is half the root delay (the path's included) plus
 * the root dispersion. The host's offset drifts at up to 10 ppm after a
 * sample (within PHI). Over 20000 audits of 1 to 4 sources, 0 in which
 * the audit agrees and the allowance is below the true distance; and the
 * host is never said to disagree while within its declared allowance.
 */
TEST(allowance_is_honest)
{
	int t, i, n, outside = 0, agreed = 0, false_alarm = 0;
	struct hps_ntp_source s[4];

	for (t = 0; t < 20000; t++) {
		struct hps_utc u = audit(HPS_AUDIT_BOUND, uniform(0, 5 * MS));
		int64_t off = uniform(-8 * MS, 8 * MS), drift = uniform(-10000, 10000);
		int64_t now = 1000 * SEC, later = uniform(0, 30) * SEC, truth;
		int64_t clock_err = uniform(0, 50 * US), allow;
		int vouch;

		hps_utc_follow(&u, 1, 0, 0);
		n = (int)uniform(1, 4);
		for (i = 0; i < n; i++) {
			int64_t delay = uniform(50 * US, 20 * MS);
			int64_t asym = uniform(-delay, delay);
			int64_t ago = uniform(0, 64);
			/* the clock is within clock_err of the host */
			int64_t at = off - drift * ago + uniform(-clock_err, clock_err);

			s[i] = src(at + asym / 2, delay / 2 + uniform(0, 1 * MS),
				   ago);
		}
		hps_utc_audit(&u, s, n, NULL, clock_err, now);
		truth = off + drift * later / SEC;
		allow = hps_utc_allowance(&u, now + later, &vouch);
		if (u.state == HPS_UTC_AGREE) {
			agreed++;
			outside += vouch && llabs(truth) > allow;
		}
		false_alarm += u.state == HPS_UTC_DISAGREE &&
			       llabs(off) <= u.declared_ns;
	}
	TH_LOG("20000 audits: %d agree, %d with the host outside the allowance, %d disagreements with the host within its declared allowance",
	       agreed, outside, false_alarm);
	EXPECT_LT(1000, agreed);
	EXPECT_EQ(0, outside);
	EXPECT_EQ(0, false_alarm);
}

TEST_HARNESS_MAIN
