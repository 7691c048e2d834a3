// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/vmclock0, the module's VMClock page: the ABI's layout and seq_count
 * as a reader of Linux's VMClock (ptp_vmclock's, AWS ClockBound's) takes
 * them, the time it gives against the simulator's truth, its disruption
 * marker against the module's count, and the vmclock parameter.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <x86intrin.h>

#include "ours.h"

#define VMCLOCK		"/dev/vmclock0"

/* The VMClock ABI (include/uapi/linux/vmclock-abi.h), version 1. */
struct vmclock {
	uint32_t magic, size;
	uint16_t version;
	uint8_t counter_id, time_type;
	uint32_t seq_count;
	uint64_t disruption_marker, flags;
	uint8_t pad[2], clock_status, smearing_hint;
	int16_t tai_offset_sec;
	uint8_t leap_indicator, counter_period_shift;
	uint64_t counter_value, counter_period_frac_sec;
	uint64_t period_esterror_rate, period_maxerror_rate;
	uint64_t time_sec, time_frac_sec;
	uint64_t time_esterror_nanosec, time_maxerror_nanosec;
};

/* One consistent copy of the mapped page, as the ABI describes. */
static int vc_read(const struct vmclock *p, struct vmclock *c)
{
	const _Atomic uint32_t *seq = (const _Atomic uint32_t *)&p->seq_count;
	uint32_t s;
	int i;

	for (i = 0; i < 100000; i++) {
		s = atomic_load_explicit(seq, memory_order_acquire);
		if (s & 1)
			continue;
		memcpy(c, p, sizeof(*c));
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(seq, memory_order_relaxed) == s)
			return 0;
	}
	return -1;
}

/* UTC at @tsc by the page, ns. */
static long long vc_time(const struct vmclock *c, uint64_t tsc)
{
	__int128 d = (__int128)(int64_t)(tsc - c->counter_value);
	__int128 f = ((d * (__int128)c->counter_period_frac_sec) >>
		      c->counter_period_shift) + c->time_frac_sec;
	long long sec = (long long)c->time_sec + (long long)(f >> 64);
	unsigned __int128 frac = (uint64_t)f;

	return sec * NSEC_PER_SEC + (long long)((frac * NSEC_PER_SEC) >> 64);
}

static void *vc_map(void)
{
	int fd = open(VMCLOCK, O_RDONLY);
	void *p;

	if (fd < 0)
		return NULL;
	p = mmap(NULL, getpagesize(), PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

/*
 * The module's declared allowance for the host's error against UTC, ns,
 * which the page's maxerror includes (its time is UTC); -1 unknown.
 */
static long long host_utc_error_ns(void)
{
	return shell_ll("cat /sys/module/hv_ptp_ext/parameters/host_utc_error_ns");
}

/*
 * The page's time minus true host time, ns, its maxerror there less the
 * module's allowance for the host against UTC (the simulator's UTC is
 * its host time here: the rest bounds the distance from the host), and the
 * measurement's own uncertainty (@window, ns): the
 * TSC and CLOCK_MONOTONIC_RAW read together between two truth snapshots,
 * truth interpolated to that instant on CLOCK_MONOTONIC_RAW (the TSC's).
 * A reading whose TSC reads are more than 20 us apart (the vCPU was
 * preempted between them) is taken again, up to three times; -1 if none
 * could be taken.
 */
static int vc_error(const struct vmclock *p, struct vmclock *c,
		    long long *err, long long *maxerr, long long *window)
{
	struct sim_truth a, b;
	struct timespec raw;
	uint64_t t1, t2, tsc;
	long long host, dt;
	int tries = 0;

	do {
		if (sim_truth(&a))
			return -1;
		t1 = __rdtsc();
		clock_gettime(CLOCK_MONOTONIC_RAW, &raw);
		t2 = __rdtsc();
		if (sim_truth(&b) || b.raw_ns == a.raw_ns || vc_read(p, c))
			return -1;
	} while (vc_time(c, t2) - vc_time(c, t1) > 20000 && ++tries < 3);
	if (tries == 3)
		return -1;
	tsc = t1 + (t2 - t1) / 2;
	host = a.host_ns + (long long)((double)(ts_ns(&raw) - a.raw_ns) *
				       (double)(b.host_ns - a.host_ns) /
				       (double)(b.raw_ns - a.raw_ns));
	*err = vc_time(c, tsc) - host;
	/*
	 * The page's maxerror grown to @tsc at its maxerror rate, and half
	 * the TSC reads' window: where in it CLOCK_MONOTONIC_RAW was read.
	 */
	dt = (long long)(vc_time(c, tsc) - vc_time(c, c->counter_value));
	*maxerr = c->time_maxerror_nanosec - host_utc_error_ns() +
		  (long long)((double)llabs(dt) * c->period_maxerror_rate /
			      c->counter_period_frac_sec) + 1;
	*window = (vc_time(c, t2) - vc_time(c, t1) + 1) / 2;
	return 0;
}

/*
 * The page is there for any user, read-only, one page, version 1 with the
 * TSC as its counter and UTC as its time; read() gives the page; the
 * marker is the module's count of disruptions; synchronized once the
 * model is.
 */
TEST_F(ours, vmclock_layout)
{
	struct vmclock c, r;
	long pg = getpagesize();
	char *buf = malloc(pg + 1);
	struct stat sb;
	void *p;
	int fd, i;

	ASSERT_EQ(0, start(&self->phc, &self->index, 3, "--ours profile=azure"));
	ASSERT_EQ(0, stat(VMCLOCK, &sb));
	EXPECT_EQ(0444, sb.st_mode & 0777);
	EXPECT_GT(0, open(VMCLOCK, O_RDWR));
	fd = open(VMCLOCK, O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 2 * pg, PROT_READ, MAP_SHARED, fd, 0));
	EXPECT_EQ(pg, read(fd, buf, pg + 1));
	EXPECT_EQ(0, read(fd, buf, pg));
	close(fd);
	memcpy(&r, buf, sizeof(r));
	free(buf);
	EXPECT_EQ(0x4b4c4356, r.magic);
	EXPECT_EQ(pg, r.size);
	EXPECT_EQ(1, r.version);
	EXPECT_EQ(0, r.seq_count & 1);
	EXPECT_NE(0, r.seq_count);

	p = vc_map();
	ASSERT_NE(NULL, p);
	for (i = 0; i < 100 && (vc_read(p, &c) || c.clock_status != 2); i++)
		sleep_ms(100);
	TH_LOG("status %u, counter %u, time type %u, flags 0x%llx, period %llu >> %u, maxerror %llu ns, esterror %llu ns, marker %llu",
	       c.clock_status, c.counter_id, c.time_type,
	       (unsigned long long)c.flags,
	       (unsigned long long)c.counter_period_frac_sec,
	       c.counter_period_shift,
	       (unsigned long long)c.time_maxerror_nanosec,
	       (unsigned long long)c.time_esterror_nanosec,
	       (unsigned long long)c.disruption_marker);
	EXPECT_EQ(2, c.clock_status);	/* synchronized */
	EXPECT_EQ(1, c.counter_id);	/* the TSC */
	EXPECT_EQ(0, c.time_type);	/* UTC */
	EXPECT_EQ(0x78, c.flags & 0x78);	/* the four error fields valid */
	EXPECT_EQ(ours_stat(self->index, "disruptions"),
		  (long long)c.disruption_marker);
	EXPECT_LE(c.time_esterror_nanosec, c.time_maxerror_nanosec);
	/*
	 * UTC: the host's declared error against it is in maxerror (100 ms
	 * unless host_utc_error_ns says otherwise), beside the model's bound
	 */
	EXPECT_EQ(100000000, host_utc_error_ns());
	EXPECT_LE(100000000ULL, c.time_maxerror_nanosec);
	EXPECT_GT(100000000ULL + 100000, c.time_maxerror_nanosec);
	munmap(p, pg);
}

/*
 * The page's time against the truth, 10 readings a second for 30 s at a
 * sample a second: every one within its maxerror (grown at its rate from
 * the counter value it was written at) and the reading's own window.
 */
TEST_F_TIMEOUT(ours, vmclock_against_truth, 120)
{
	long long err, maxerr, win, worst = 0, sum2 = 0, maxes[300], wins[300];
	int n = 0, outside = 0, i;
	struct vmclock c;
	void *p;

	ASSERT_EQ(0, start(&self->phc, &self->index, 10, "--ours profile=azure"));
	p = vc_map();
	ASSERT_NE(NULL, p);
	for (i = 0; i < 300; i++) {
		sleep_ms(100);
		if (vc_error(p, &c, &err, &maxerr, &win))
			continue;
		wins[n] = win;
		maxes[n++] = maxerr;
		sum2 += err * err;
		outside += llabs(err) > maxerr + win;
		if (llabs(err) > llabs(worst))
			worst = err;
	}
	ASSERT_LT(250, n);
	qsort(maxes, n, sizeof(maxes[0]), cmp_ll);
	qsort(wins, n, sizeof(wins[0]), cmp_ll);
	TH_LOG("%d readings: %d outside maxerror (and the reading's half window: median %lld ns, largest %lld ns); error RMS %.0f ns, worst %+lld ns; maxerror median %lld ns",
	       n, outside, wins[n / 2], wins[n - 1], sqrt((double)sum2 / n),
	       worst, maxes[n / 2]);
	EXPECT_EQ(0, outside);
	munmap(p, getpagesize());
}

/*
 * A SYNC and a host step: the page's marker moves when the module counts
 * the disruption, not at a reader's next poll: polled every ms, a read of
 * the page after a read of the module's count never finds the page
 * behind it. The time from the simulator's command is reported (the
 * disruption is counted at the sample that tells of it).
 */
TEST_F_TIMEOUT(ours, vmclock_marker, 120)
{
	static const char *const cmds[] = { "sync", "step 400000000" };
	long long count, m0, lat;
	int behind = 0, i;
	struct timespec t0, t1;
	struct vmclock c;
	unsigned int k;
	void *p;

	ASSERT_EQ(0, start(&self->phc, &self->index, 5, "--ours profile=azure"));
	p = vc_map();
	ASSERT_NE(NULL, p);
	for (k = 0; k < 2; k++) {
		ASSERT_EQ(0, vc_read(p, &c));
		m0 = c.disruption_marker;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ASSERT_EQ(0, sim_control("%s", cmds[k]));
		for (i = 0; i < 10000; i++) {
			count = ours_stat(self->index, "disruptions");
			ASSERT_EQ(0, vc_read(p, &c));
			behind += (long long)c.disruption_marker < count;
			if ((long long)c.disruption_marker != m0)
				break;
			usleep(1000);
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		lat = ts_ns(&t1) - ts_ns(&t0);
		TH_LOG("%s: marker %lld -> %llu, %.3f s after the command",
		       cmds[k], m0, (unsigned long long)c.disruption_marker,
		       lat / 1e9);
		EXPECT_LT(m0, (long long)c.disruption_marker);
		sleep_ms(3000);
	}
	EXPECT_EQ(0, behind);
	munmap(p, getpagesize());
}

/* vmclock= names the device, or none; a bad name is refused at load. */
TEST_F(ours, vmclock_parameter)
{
	struct stat sb;

	ASSERT_EQ(0, rig_load("--ours profile=azure ours.vmclock="));
	EXPECT_NE(0, stat(VMCLOCK, &sb));
	ASSERT_EQ(0, rig_load("--ours profile=azure ours.vmclock=hv_vmclock"));
	EXPECT_EQ(0, stat("/dev/hv_vmclock", &sb));
	EXPECT_NE(0, stat(VMCLOCK, &sb));
	EXPECT_NE(0, rig_load("--ours profile=azure ours.vmclock=a/b"));
	EXPECT_NE(0, rig_load("--ours profile=azure ours.vmclock=%s",
			      "a_name_longer_than_thirty_one_chars"));
	/* host_utc_error_ns: 0 up to 1000 s, refused beyond */
	EXPECT_NE(0, rig_load("--ours profile=azure ours.host_utc_error_ns=1000000000001"));
	EXPECT_NE(0, rig_load("--ours profile=azure ours.host_utc_error_ns=-1"));
	ASSERT_EQ(0, rig_load("--ours profile=azure ours.host_utc_error_ns=0"));
	EXPECT_EQ(0, host_utc_error_ns());
	EXPECT_EQ(1, shell_ll("cat /sys/class/ptp/ptp*/device/timesync/record 2>/dev/null | grep -c ' host_utc_error_ns=0$'"));
	ASSERT_EQ(0, rig_load("--ours profile=azure"));
	EXPECT_EQ(0, stat(VMCLOCK, &sb));
}

TEST_HARNESS_MAIN
