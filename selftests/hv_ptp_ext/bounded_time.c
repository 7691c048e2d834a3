// SPDX-License-Identifier: GPL-2.0
/*
 * Bounded time for applications: the ClockBound segment hv-ptp-sync
 * publishes, read at 10 Hz the way a ClockBound client reads it, against
 * the simulator's truth. Where the segment vouches for a bound
 * (synchronized, free-running), the true time must lie inside it; through
 * a host step of +-400 ms without SYNC (a live migration to a host whose
 * clock differs), a SYNC, the TSC page invalid for 10 s, 20 s without
 * samples (a freeze, as the guest sees one) and the TSC page rescaled by
 * 100 ppm (a migration to a host with another TSC frequency: the system
 * clock runs 100 ppm slow from then on), and a resume after a 30 s
 * freeze (the host's time 30 s ahead of the guest's, with SYNC and
 * without), both as the guest finds them on resume and for real (the
 * guest stopped with QEMU's "stop" for 30 s), the segment says "disrupted"
 * or holds, never a silent violation; the disruption marker changes; and
 * the clock is back (synchronized, bound under 10 us) in seconds.
 * The segment is read as bound.h says.
 */
#define _GNU_SOURCE
#include "measure.h"
#include "daemon.h"
#include "bound.h"
#include "kselftest_harness.h"

#include <math.h>
#include <sys/stat.h>

/*
 * AWS ClockBound's own C library, where make check built it
 * (selftests/rig/clockbound-lib.sh): every reading below is also taken
 * through clockbound_vmclock_open()'s context, as a database takes it,
 * and judged against the same truth. NULL where it was not built.
 */
#ifdef HV_CLOCKBOUND
static clockbound_ctx *aws;
#endif

/*
 * What the library read, beside a reading of our own: into @y, or, before
 * the module can know of an event (!@told), counted apart. *@status: the
 * library's status (-1: none read).
 */
static void aws_count(struct tally *y, int told, int *status)
{
	*status = -1;
#ifdef HV_CLOCKBOUND
	long long err = 0, bound = 0;
	enum reading r;

	if (!aws)
		return;
	r = aws_reading(aws, &err, &bound, status);
	if (!told) {
		y->untold++;
		y->errors += r == R_ERR;
		return;
	}
	count(y, r, err, bound);
#else
	(void)y;
	(void)told;
#endif
}

FIXTURE(bounded) {
	pid_t pid;
	void *seg;
	int phc, index;
};

FIXTURE_SETUP(bounded)
{
	const char *failed;

	self->pid = -1;
	self->seg = NULL;
	self->phc = -1;
	if (!rig_available())
		SKIP(return, "not in the rig");
	failed = cb_start(&self->pid, &self->seg, &self->phc, &self->index);
	ASSERT_EQ(NULL, failed) TH_LOG("%s", failed);
#ifdef HV_CLOCKBOUND
	{
		clockbound_err err = { 0 };

		aws = clockbound_vmclock_open(SEGMENT, "/dev/vmclock0", &err);
		ASSERT_NE(NULL, aws) TH_LOG("clockbound_vmclock_open: error kind %d, errno %d (%s)",
					    err.kind, err.sys_errno,
					    err.detail ? err.detail : "-");
	}
#endif
}

FIXTURE_TEARDOWN(bounded)
{
#ifdef HV_CLOCKBOUND
	if (aws)
		clockbound_close(aws);
	aws = NULL;
#endif
	cb_finish(self->pid, self->seg, self->phc);
}

/* Whether the readings were also taken through AWS's library. */
static int aws_open(void)
{
#ifdef HV_CLOCKBOUND
	return aws != NULL;
#else
	return 0;
#endif
}

/*
 * @n readings at 10 Hz while synchronized: every one vouched for and
 * inside the bound, and how tight the bound is against the clock's RMS
 * error (what commit-wait pays).
 */
static void tightness(struct __test_metadata *_metadata, const void *seg,
		      int n_readings, const char *what)
{
	static long long bounds[1200];
	long long err = 0, bound = 0;
	struct tally y = { 0 }, ya = { 0 };
	double sum2 = 0, rms;
	enum reading r;
	struct cb c;
	int i, n = 0, st;

	for (i = 0; i < n_readings && i < 1200; i++) {
		sleep_ms(100);
		r = reading(seg, &c, &err, &bound);
		count(&y, r, err, bound);
		aws_count(&ya, 1, &st);
		if (r == R_INSIDE || r == R_OUTSIDE) {
			bounds[n++] = bound;
			sum2 += (double)err * err;
		}
	}
	EXPECT_LT(0, n);
	if (!n)
		return;
	qsort(bounds, n, sizeof(bounds[0]), cmp_ll);
	rms = sqrt(sum2 / n);
	TH_LOG("%s: %d readings, %d vouched, %d outside; error RMS %.0f ns; bound median %lld ns, p99 %lld ns: median %.1f x RMS",
	       what, y.readings, y.vouched, y.outside, rms, bounds[n / 2],
	       bounds[n * 99 / 100], bounds[n / 2] / fmax(rms, 1));
	EXPECT_EQ(0, y.errors);
	EXPECT_EQ(n_readings, y.vouched);
	EXPECT_EQ(0, y.outside);
	if (aws_open()) {
		TH_LOG("%s, through AWS ClockBound 2.0.2's libclockbound: %d readings, %d vouched, %d outside, %d not taken",
		       what, ya.readings, ya.vouched, ya.outside, ya.errors);
		EXPECT_EQ(0, ya.errors);
		EXPECT_EQ(n_readings, ya.vouched);
		EXPECT_EQ(0, ya.outside);
	}
	/*
	 * tight enough to be of use: the module's bound is a few us here
	 * (medians measured 3.5 us at a sample a second, 3.35 us at one
	 * every 5 s, 6.12 guest)
	 */
	EXPECT_GT(8000, bounds[n / 2]);
}

/*
 * Steady state: the segment is there for every user (0644), a version 2
 * segment with disruption support 0, hv-ptp-now agrees; 30 s of readings
 * at 10 Hz from the lock, at a sample a second; and when the daemon
 * stops, the status is unknown.
 */
TEST_F_TIMEOUT(bounded, steady, 180)
{
	long long err = 0, bound = 0;
	enum reading r;
	struct stat sb;
	struct cb c;
	int i;

	ASSERT_EQ(0, stat(SEGMENT, &sb));
	EXPECT_EQ(0644, sb.st_mode & 0777);
	EXPECT_EQ(80, sb.st_size);
	/*
	 * disruption support 1: ClockBound's clients open the module's
	 * VMClock page and compare its marker with the segment's
	 */
	EXPECT_EQ(1, ((unsigned char *)self->seg)[72]);
	for (i = 0; i < 100 && (cb_read(self->seg, &c) || c.status != CB_SYNCHRONIZED); i++)
		sleep_ms(100);
	ASSERT_EQ(CB_SYNCHRONIZED, c.status);
	EXPECT_EQ(0, WEXITSTATUS(system("out=$(/usr/bin/hv-ptp-now -v); rc=$?; echo \"# hv-ptp-now: $out\"; exit $rc")));
	tightness(_metadata, self->seg, 300, "steady, a sample a second, from the lock");

	stop_daemon(self->pid);
	self->pid = -1;
	/* marked unknown on the way out: no client vouches for it */
	r = reading(self->seg, &c, &err, &bound);
	TH_LOG("after SIGTERM: status %d, %s", c.status,
	       r == R_UNKNOWN ? "unknown" : "not unknown");
	EXPECT_EQ(R_UNKNOWN, r);
	/* hv-ptp-now: 5, unknown */
	EXPECT_EQ(5, WEXITSTATUS(system("/usr/bin/hv-ptp-now >/dev/null")));
	if (aws_open()) {
		struct tally ya = { 0 };
		int st;

		aws_count(&ya, 1, &st);
		EXPECT_EQ(CB_UNKNOWN, st);
	}
}

/*
 * The same at Hyper-V's own interval, a sample every 5 s, once the
 * module's window holds only such samples (32 of them: 160 s): 60 s of
 * readings. Between samples the module's bound grows by its holdover
 * allowance (holdover_ppb), the daemon's by its drift.
 */
TEST_F_TIMEOUT(bounded, steady_5s, 400)
{
	struct cb c;
	int i;

	ASSERT_EQ(0, sim_control("interval 5000"));
	sleep_ms(170000);
	for (i = 0; i < 600 && (cb_read(self->seg, &c) || c.status != CB_SYNCHRONIZED); i++)
		sleep_ms(100);
	ASSERT_EQ(CB_SYNCHRONIZED, c.status);
	tightness(_metadata, self->seg, 600, "steady, a sample every 5 s");
}

struct event {
	const char *name, *cmd, *after;
	/*
	 * count: disruptions the module counts (the daemon's own step after
	 * a 30 s jump is in the segment's status, not its marker)
	 */
	int after_s, count;
	/*
	 * How a guest learns of it, if not at once: BLIND_SAMPLE, from the
	 * next sample (a step of the host's time: nothing in the guest
	 * shows it before); BLIND_POLL, from the daemon's next read of the
	 * PHC (a TSC page rewritten under the guest: every read of
	 * reference time sees it, and the daemon reads once a poll).
	 */
	int blind;
	int freeze_s;			/* the guest stopped first (QEMU) */
};

enum { BLIND_NONE, BLIND_SAMPLE, BLIND_POLL };

/* The daemon's poll in these tests (its default), ms. */
#define POLL_MS		1000
/*
 * Beyond the sample or the poll that tells, before the segment says so:
 * the module's notification (a work item), the daemon's wake-up, read
 * and write of the segment (milliseconds in an idle guest), this
 * reader's 100 ms grid, and scheduling in a TCG guest sharing two cores
 * with other guests, ms. Measured: at most 0.8 s past a 5 s interval.
 */
#define TELL_MARGIN_MS	1000

/*
 * One event, watched at 10 Hz from the command until the clock is
 * synchronized again with a bound under 10 us (at most watch_s): for a
 * blind event (no guest can know before a sample or a read tells it),
 * readings before the segment's marker moves are counted apart, and
 * there may be at most as many as the interval of what tells (the
 * sample interval @interval_ms, or the daemon's poll) plus
 * TELL_MARGIN_MS allow; from then on, and for the other events
 * throughout, none may be outside a bound the segment vouches for.
 * after: a second command after_s later. freeze_s: first the whole guest
 * stands still that long (rig_freeze), then the command, a %lld for how
 * long the host's clock ran meanwhile, tells the simulated host: it
 * froze with the guest, being part of it. Returns the readings outside
 * the bound.
 */
static int watch_event(struct __test_metadata *_metadata,
		       FIXTURE_DATA(bounded) *self, const struct event *ev,
		       int interval_ms, int watch_s)
{
	long long err = 0, bound = 0, frozen = 0;
	int i, k, told, recovered, tell_ms, st, told_k = -1, aws_k = -1;
	uint64_t marker0;
	enum reading r;
	struct tally y, ya;
	struct cb c;

	memset(&y, 0, sizeof(y));
	memset(&ya, 0, sizeof(ya));
	tell_ms = ev->blind == BLIND_SAMPLE ? interval_ms :
		  ev->blind == BLIND_POLL ? POLL_MS : 0;
	/* settled before the event */
	for (i = 0; i < 10 * watch_s; i++) {
		if (!cb_read(self->seg, &c) && c.status == CB_SYNCHRONIZED &&
		    c.bound < 10000)
			break;
		sleep_ms(100);
	}
	EXPECT_EQ(CB_SYNCHRONIZED, c.status);
	if (c.status != CB_SYNCHRONIZED)
		return 0;
	marker0 = c.marker;
	if (ev->freeze_s) {
		EXPECT_EQ(0, rig_freeze(ev->freeze_s, &frozen));
		if (!frozen)
			return 0;
		/*
		 * What a reader finds the moment the guest runs again: its
		 * clock is behind the host's by the freeze, and no guest can
		 * know before the host tells it. Reported, not judged: the
		 * readings from here to the marker's move count apart.
		 */
		r = reading(self->seg, &c, &err, &bound);
		TH_LOG("%s: the guest stood still %lld ms; on resume, before the host says so, the segment reads status %d, %s, bound %lld ns, against a true error of %+lld ms",
		       ev->name, frozen / 1000000, c.status,
		       r == R_VOID ? "void" : "not void", bound,
		       (err - frozen) / 1000000);
		EXPECT_EQ(0, sim_control(ev->cmd, frozen));
	} else {
		EXPECT_EQ(0, sim_control("%s", ev->cmd));
	}
	told = 0;
	recovered = -1;
	for (k = 1; k <= 10 * watch_s; k++) {
		sleep_ms(100);
		if (ev->after && k == ev->after_s * 10)
			EXPECT_EQ(0, sim_control("%s", ev->after));
		r = reading(self->seg, &c, &err, &bound);
		/*
		 * blind: from the reading that shows the module's count
		 * moved (the sample or read that tells of it wakes the
		 * daemon, which says so within milliseconds)
		 */
		told = told || ev->blind == BLIND_NONE || c.marker != marker0;
		if (told_k < 0 && c.marker != marker0)
			told_k = k;
		aws_count(&ya, told, &st);
		/* the library's first reading that does not vouch */
		if (aws_k < 0 && st >= 0 && st != CB_SYNCHRONIZED &&
		    st != CB_FREE_RUNNING)
			aws_k = k;
		if (!told) {
			y.untold++;
			if (r == R_ERR)
				y.errors++;
			continue;
		}
		count(&y, r, err, bound);
		if (r == R_OUTSIDE)
			TH_LOG("%s, %.1f s: error %+lld ns outside the bound %lld ns (status %d)",
			       ev->name, k / 10.0, err, bound, c.status);
		if (c.marker >= marker0 + ev->count &&
		    (long long)c.marker == ours_stat(self->index, "disruptions") &&
		    r == R_INSIDE &&
		    c.status == CB_SYNCHRONIZED && bound < 10000 &&
		    (!ev->after || k > ev->after_s * 10)) {
			recovered = k;
			break;
		}
	}
	TH_LOG("%s, a sample every %d ms: %d readings (+%d before the marker moved, at most %d allowed), %d vouched, %d outside (worst by %lld ns), %d disrupted, %d void, %d unknown, %d not taken; marker %llu -> %llu; synchronized under 10 us after %.1f s; error then %+lld ns",
	       ev->name, interval_ms, y.readings, y.untold,
	       (tell_ms + TELL_MARGIN_MS) / 100, y.vouched, y.outside,
	       y.worst_outside, y.disrupted, y.voided, y.unknown, y.errors,
	       (unsigned long long)marker0, (unsigned long long)c.marker,
	       recovered / 10.0, err);
	EXPECT_EQ(0, y.errors);
	if (aws_open()) {
		TH_LOG("%s, through AWS ClockBound 2.0.2's libclockbound: %d readings (+%d before the marker moved), %d vouched, %d outside (worst by %lld ns), %d disrupted, %d unknown, %d not taken; first not vouched %.1f s after the command, the segment's marker moved after %.1f s",
		       ev->name, ya.readings, ya.untold, ya.vouched,
		       ya.outside, ya.worst_outside, ya.disrupted,
		       ya.unknown, ya.errors, aws_k / 10.0, told_k / 10.0);
		EXPECT_EQ(0, ya.errors);
		EXPECT_EQ(0, ya.outside);
		EXPECT_GE((tell_ms + TELL_MARGIN_MS) / 100, ya.untold);
		/* it stops vouching no later than the segment says so */
		EXPECT_LT(0, aws_k);
		if (told_k > 0)
			EXPECT_LE(aws_k, told_k);
	}
	/* what the marker hides is bounded by what tells of the event */
	EXPECT_GE((tell_ms + TELL_MARGIN_MS) / 100, y.untold);
	EXPECT_EQ(0, y.outside);
	/*
	 * each disruption once: the marker (the module's count, which its
	 * VMClock page carries) moved by exactly that
	 */
	EXPECT_EQ(marker0 + ev->count, c.marker);
	EXPECT_EQ(ours_stat(self->index, "disruptions"), (long long)c.marker);
	EXPECT_LT(0, recovered);
	EXPECT_GT(10000, llabs(err));
	EXPECT_LT(0, y.disrupted);
	return y.outside;
}

static const struct event events[] = {
	{ "host step +400 ms", "step 400000000", NULL, 0, 1, BLIND_SAMPLE, 0 },
	{ "host step -400 ms", "step -400000000", NULL, 0, 1, BLIND_SAMPLE, 0 },
	{ "SYNC", "sync", NULL, 0, 1, BLIND_NONE, 0 },
	{ "TSC page invalid 10 s", "tsc_page invalid", "tsc_page valid", 10, 2, BLIND_NONE, 0 },
	{ "no samples for 20 s", "pause 20", NULL, 0, 1, BLIND_NONE, 0 },
	/*
	 * The page rescaled: reference time goes on, the TSC (and the
	 * system clock on it) now runs 100 ppm slow against it. The
	 * module sees it at the first read of reference time after it,
	 * the daemon's next poll, not a sample interval later.
	 */
	{ "TSC page rescaled +100 ppm", "tsc_page rate 100", NULL, 0, 1, BLIND_POLL, 0 },
	/*
	 * A 30 s freeze as the guest finds it on resume: its clocks
	 * and reference time stood still while the host's ran on
	 * (the host's time 30 s ahead of them), with SYNC and
	 * without. The module counts one; the daemon's step of the
	 * system clock (beyond makestep's 1 s) is in the status.
	 */
	{ "resume after 30 s, SYNC", "step 30000000000; sync", NULL, 0, 1, BLIND_SAMPLE, 0 },
	{ "resume after 30 s, no SYNC", "step 30000000000", NULL, 0, 1, BLIND_SAMPLE, 0 },
};

TEST_F_TIMEOUT(bounded, events, 900)
{
	int outside = 0;
	unsigned int e;

	for (e = 0; e < ARRAY_SIZE(events); e++)
		outside += watch_event(_metadata, self, &events[e], 1000, 60);
	EXPECT_EQ(0, outside);
}

/*
 * The same events at Hyper-V's own interval, a sample every 5 s, once
 * the module's window holds only such samples (170 s): what the guest
 * learns from a sample comes up to 5 s late, what it learns from a read
 * does not. About 8 minutes: a soak ("events5", rig.h), which make
 * check runs in the guests that have room for it.
 */
TEST_F_TIMEOUT(bounded, events_5s, 1500)
{
	int outside = 0;
	unsigned int e;

	RIG_SOAK_OR_SKIP("events5");
	ASSERT_EQ(0, sim_control("interval 5000"));
	sleep_ms(170000);
	for (e = 0; e < ARRAY_SIZE(events); e++)
		outside += watch_event(_metadata, self, &events[e], 5000, 120);
	EXPECT_EQ(0, outside);
}

/*
 * The real thing: the whole guest stopped for 30 s with QEMU's "stop"
 * (its TSC, reference time and every timer stand still; the daemon, the
 * module and this reader with them) while the host's clock runs on, then
 * "cont", with SYNC on resume and, as Hyper-V hosts may do, without. The
 * simulated host, frozen with the guest, is told on resume how long the
 * host's clock ran: its time steps ahead by that.
 */
TEST_F_TIMEOUT(bounded, freeze, 600)
{
	static const struct event ev[] = {
		{ "QEMU stop 30 s, resume with SYNC", "step %lld; sync", NULL, 0, 1, BLIND_SAMPLE, 30 },
		{ "QEMU stop 30 s, resume without SYNC", "step %lld", NULL, 0, 1, BLIND_SAMPLE, 30 },
	};
	int outside = 0;
	unsigned int e;

	if (!getenv("RIG_CTL"))
		SKIP(return, "no control port to freeze the guest on (run-vm.sh gives one)");
	for (e = 0; e < ARRAY_SIZE(ev); e++)
		outside += watch_event(_metadata, self, &ev[e], 1000, 60);
	EXPECT_EQ(0, outside);
}

TEST_HARNESS_MAIN
