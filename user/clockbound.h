/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A ClockBound shared memory segment, protocol version 2: the system
 * clock's error bound and disruption state for applications, in the
 * layout ClockBound's client libraries read (aws/clock-bound,
 * docs/PROTOCOL.md). Native endian, 80 bytes:
 *
 *	 0  magic			u32[2] 0x414d5a4e 0x43420200
 *	 8  segment size		u32    80
 *	12  version			u16    2
 *	14  generation			u16    odd while written; even after;
 *					       after 65534 comes 2, never 0
 *	16  as-of			i64 s, i64 ns   CLOCK_MONOTONIC_COARSE
 *	32  void-after			i64 s, i64 ns   same clock
 *	48  bound			i64    ns, |CLOCK_REALTIME error| at as-of
 *	56  disruption marker		u64    changes with every disruption
 *	64  max drift			u32    ppb, the bound's growth after as-of
 *	68  clock status		i32    enum hps_cb_status
 *	72  disruption support		u8     1 where hv_ptp_ext writes its
 *					       VMClock page (/dev/vmclock0): the
 *					       marker is then the page's, and
 *					       ClockBound's clients that open the
 *					       page compare the two; 0 otherwise
 *	73  padding			u8[7]
 *
 * A reader takes now = CLOCK_REALTIME, bound = bound + max drift x
 * (CLOCK_MONOTONIC - as-of), and [now - bound, now + bound]; it trusts a
 * written status for 5 s after as-of whatever void-after says, and a
 * free-running one until void-after (hps_cb_now()). So the writer keeps
 * void-after at least 5 s after as-of, rewrites the segment at least
 * once a second, and keeps the bound within HPS_MAX_BOUND_NS.
 */
#ifndef HPS_CLOCKBOUND_H
#define HPS_CLOCKBOUND_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define HPS_CB_DEFAULT_PATH	"/run/clockbound/shm0"
#define HPS_CB_SIZE		80
#define HPS_CB_VERSION		2
/* ClockBound's clients trust a written status this long (as-of + 5 s) */
#define HPS_CB_GRACE_NS		5000000000LL

enum hps_cb_status {
	HPS_CB_UNKNOWN = 0,
	HPS_CB_SYNCHRONIZED = 1,
	HPS_CB_FREE_RUNNING = 2,
	HPS_CB_DISRUPTED = 3,
};

/* "unknown", "synchronized", "free-running", "disrupted"; "?" otherwise */
const char *hps_cb_status_name(int status);

struct hps_cb_values {
	struct timespec as_of;		/* CLOCK_MONOTONIC_COARSE */
	struct timespec void_after;	/* CLOCK_MONOTONIC_COARSE */
	int64_t bound_ns;
	uint64_t disruption_marker;
	uint32_t max_drift_ppb;
	int32_t status;
	uint8_t disruption_support;
};

struct hps_cb_writer {
	int fd;
	unsigned char *seg;		/* the mapping, HPS_CB_SIZE bytes */
	uint16_t generation;
	int had_prev;			/* a segment was there, with ... */
	uint64_t prev_marker;		/* ... this disruption marker */
};

/*
 * Create (or take over) the segment at @path, 0644 in a 0755 directory
 * (created if missing) so that any user can map it, and lock it against a
 * second writer. A segment already there keeps its generation count.
 * Returns 0, or -errno with the reason in @err.
 */
int hps_cb_open(struct hps_cb_writer *w, const char *path, char *err,
		size_t errlen);

/* Publish @v: generation odd, the values, generation even. */
void hps_cb_write(struct hps_cb_writer *w, const struct hps_cb_values *v);

void hps_cb_close(struct hps_cb_writer *w);

/*
 * Read a consistent copy of the segment at @seg (@len bytes mapped):
 * 0; -EINVAL, not a version 2 segment (magic, version or size); -EAGAIN,
 * a writer kept it changing over @tries attempts.
 */
int hps_cb_read(const void *seg, size_t len, int tries,
		struct hps_cb_values *v);

/*
 * What ClockBound's clients (2.0.2, clock-bound-shm's compute_bound_at)
 * make of the segment at CLOCK_MONOTONIC @mono, in integers:
 *  - the bound: bound + max drift x (mono - as-of), at any age;
 *  - the status: unknown and disrupted as written; a written
 *    synchronized or free-running for HPS_CB_GRACE_NS after as-of
 *    whatever void-after says (a daemon restarting), then free-running
 *    until void-after, then unknown.
 * Returns 0; -EINVAL for a max drift of 10^9 ppb or more (malformed);
 * -ERANGE for @mono more than 1 us before as-of (a causality breach);
 * -EOVERFLOW where the clients' 64-bit bound would wrap (a negative
 * bound, or one past INT64_MAX ns: they would give earliest > latest).
 */
int hps_cb_now(const struct hps_cb_values *v, const struct timespec *mono,
	       int64_t *bound_ns, int *status);

#endif
