/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading hv-ptp-sync's ClockBound segment as a ClockBound client does,
 * against the simulator's truth. Written from the protocol's description
 * (aws/clock-bound, docs/PROTOCOL.md, version 2), not through the
 * daemon's own reader (user/clockbound.c): a second implementation.
 */
#ifndef HV_PTP_EXT_BOUND_H
#define HV_PTP_EXT_BOUND_H

#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "rig.h"

#define SEGMENT		"/run/clockbound/shm0"

struct cb {
	int64_t as_of, void_after;	/* CLOCK_MONOTONIC_COARSE, ns */
	int64_t bound;
	uint64_t marker;
	uint32_t drift;
	int32_t status;
};

enum { CB_UNKNOWN, CB_SYNCHRONIZED, CB_FREE_RUNNING, CB_DISRUPTED };

static inline void *cb_map(void)
{
	int fd = open(SEGMENT, O_RDONLY);
	struct stat sb;
	void *p;

	if (fd < 0)
		return NULL;
	/* a file shorter than the mapping faults where it has no page */
	if (fstat(fd, &sb) || sb.st_size < 80) {
		close(fd);
		return NULL;
	}
	p = mmap(NULL, 80, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

/* One consistent copy: 0, or -1 (not a v2 segment, or kept changing). */
static inline int cb_read(const unsigned char *seg, struct cb *c)
{
	/* as ClockBound's own code has it: two native-endian u32 */
	static const uint32_t magic[2] = { 0x414d5a4e, 0x43420200 };
	const _Atomic uint16_t *gen = (const _Atomic uint16_t *)(seg + 14);
	unsigned char b[80];
	int64_t ts[4];
	uint16_t g1, version;
	uint32_t size;
	struct timespec t0, t;
	int i;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	/*
	 * A segment never written fails after 1000 tries, as before. One being
	 * written is waited for: 1000 tries, then yielding (so that a writer
	 * preempted half way in a loaded TCG guest can finish on this CPU)
	 * for up to 200 ms, where ClockBound's own reader tries 10^6 times.
	 */
	for (i = 0; i < 1000000; i++) {
		g1 = atomic_load_explicit(gen, memory_order_acquire);
		if (!g1 && i >= 1000)
			return -1;
		if (i >= 1000) {
			clock_gettime(CLOCK_MONOTONIC, &t);
			if ((t.tv_sec - t0.tv_sec) * NSEC_PER_SEC +
			    (t.tv_nsec - t0.tv_nsec) > 200 * 1000000LL)
				return -1;
			sched_yield();
		}
		if (!g1 || (g1 & 1))
			continue;
		memcpy(b, seg, sizeof(b));
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(gen, memory_order_relaxed) != g1)
			continue;
		memcpy(&size, b + 8, 4);
		memcpy(&version, b + 12, 2);
		if (memcmp(b, magic, sizeof(magic)) || size != 80 || version != 2)
			return -1;
		memcpy(ts, b + 16, 32);
		c->as_of = ts[0] * NSEC_PER_SEC + ts[1];
		c->void_after = ts[2] * NSEC_PER_SEC + ts[3];
		memcpy(&c->bound, b + 48, 8);
		memcpy(&c->marker, b + 56, 8);
		memcpy(&c->drift, b + 64, 4);
		memcpy(&c->status, b + 68, 4);
		return 0;
	}
	return -1;
}

static inline int64_t coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* What one reading found. */
struct tally {
	int readings, vouched, outside, disrupted, voided, unknown, untold;
	int errors;			/* readings not taken: failures */
	long long worst_outside;	/* |error| - bound, the largest */
};

enum reading { R_INSIDE, R_OUTSIDE, R_DISRUPTED, R_VOID, R_UNKNOWN, R_ERR };

/*
 * A client's reading: the segment, then the clocks (CLOCK_MONOTONIC_COARSE,
 * then CLOCK_REALTIME and the truth from one snapshot). *@err_ns: the
 * system clock's true error, against true host time or, with @utc, true
 * UTC (the simulator's, host time minus its offset from UTC);
 * *@bound_ns: what the client was told.
 */
static inline enum reading reading_of(const void *seg, struct cb *c,
				      long long *err_ns, long long *bound_ns,
				      int utc)
{
	struct sim_truth t;
	int64_t mono, dt;

	if (cb_read(seg, c))
		return R_ERR;
	mono = coarse_ns();
	if (sim_truth(&t))
		return R_ERR;
	*err_ns = t.real_ns - (utc ? t.utc_ns : t.host_ns);
	/*
	 * As ClockBound 2.0.2's clients: a written synchronized or
	 * free-running status holds for 5 s after as-of whatever void-after
	 * says, then until void-after; the bound grows from as-of.
	 */
	if ((c->status == CB_SYNCHRONIZED || c->status == CB_FREE_RUNNING) &&
	    mono >= c->as_of + 5 * NSEC_PER_SEC && mono >= c->void_after)
		return R_VOID;
	dt = llabs(mono - c->as_of);
	*bound_ns = c->bound + (long long)((double)dt * c->drift / 1e9 + 1);
	if (c->status == CB_DISRUPTED)
		return R_DISRUPTED;
	if (c->status != CB_SYNCHRONIZED && c->status != CB_FREE_RUNNING)
		return R_UNKNOWN;
	return llabs(*err_ns) <= *bound_ns ? R_INSIDE : R_OUTSIDE;
}

/* ... against true host time */
static inline enum reading reading(const void *seg, struct cb *c, long long *err_ns,
			    long long *bound_ns)
{
	return reading_of(seg, c, err_ns, bound_ns, 0);
}

#ifdef HV_CLOCKBOUND
#include <clockbound.h>

/*
 * A reading through AWS ClockBound's own C library (clockbound_now():
 * the segment, the VMClock page's marker where the segment asks for it,
 * CLOCK_REALTIME and CLOCK_MONOTONIC), then the truth: true host time (or,
 * with @utc, true UTC) at the library's CLOCK_REALTIME read is the
 * truth's, moved back by how far CLOCK_REALTIME ran from there to the
 * truth's snapshot. *@err_ns: the middle of [earliest, latest] minus
 * that; *@bound_ns: half its width; *@status: the library's.
 */
static inline enum reading aws_reading_of(clockbound_ctx *ctx, long long *err_ns,
					  long long *bound_ns, int *status,
					  int utc)
{
	clockbound_now_result res;
	long long early, late, mid, ref;
	struct sim_truth t;

	if (clockbound_now(ctx, &res) || sim_truth(&t))
		return R_ERR;
	early = ts_ns(&res.earliest);
	late = ts_ns(&res.latest);
	mid = early + (late - early) / 2;
	ref = (utc ? t.utc_ns : t.host_ns) - (t.real_ns - mid);
	*err_ns = mid - ref;
	*bound_ns = (late - early) / 2;
	*status = res.clock_status;
	if (res.clock_status == CLOCKBOUND_STA_DISRUPTED)
		return R_DISRUPTED;
	if (res.clock_status != CLOCKBOUND_STA_SYNCHRONIZED &&
	    res.clock_status != CLOCKBOUND_STA_FREE_RUNNING)
		return R_UNKNOWN;
	return ref >= early && ref <= late ? R_INSIDE : R_OUTSIDE;
}

static inline enum reading aws_reading(clockbound_ctx *ctx, long long *err_ns,
				       long long *bound_ns, int *status)
{
	return aws_reading_of(ctx, err_ns, bound_ns, status, 0);
}
#endif

static inline void count(struct tally *y, enum reading r, long long err, long long bound)
{
	y->readings++;
	switch (r) {
	case R_INSIDE:
		y->vouched++;
		break;
	case R_OUTSIDE:
		y->vouched++;
		y->outside++;
		if (llabs(err) - bound > y->worst_outside)
			y->worst_outside = llabs(err) - bound;
		break;
	case R_DISRUPTED:
		y->disrupted++;
		break;
	case R_VOID:
		y->voided++;
		break;
	case R_ERR:
		y->errors++;
		break;
	default:
		y->unknown++;
		break;
	}
}

/*
 * What the tests that read the segment start from (the "daemon.h" and
 * "measure.h" helpers must be included before this header): our module
 * on the azure profile at a sample a second, without hv_utils, its PHC
 * open (*@phc, ptp*@index), hv-ptp-sync started on a fresh segment and
 * locked, the segment mapped (*@seg). NULL, or the step that failed;
 * cb_finish() undoes what was done either way.
 */
static inline const char *cb_start(pid_t *pid, void **seg, int *phc, int *index)
{
	*pid = -1;
	*seg = NULL;
	*phc = -1;
	if (rig_load("--ours --no-hv-utils profile=azure interval_ms=1000"))
		return "loading the rig";
	*phc = phc_open_driver("hv_ptp_ext", index);
	if (*phc < 0)
		return "opening hv_ptp_ext's PHC";
	unlink(SEGMENT);
	*pid = start_daemon("");
	if (!wait_state("state", "locked", 90000))
		return "hv-ptp-sync locking within 90 s";
	*seg = cb_map();
	return *seg ? NULL : "mapping the segment";
}

static inline void cb_finish(pid_t pid, void *seg, int phc)
{
	if (seg)
		munmap(seg, 80);
	if (phc >= 0)
		close(phc);
	finish(pid);
}

#endif
