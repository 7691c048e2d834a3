/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The daemon's core: one poll of hv-ptp-sync, whole. It reads the PHC,
 * decides (the clock policy: lock and unlock, holdover and its error
 * estimate, the kernel's sync state, leap seconds, the host's own sync
 * state, when to step, which read errors close the PHC, which attribute
 * values are believed, the servo's time base) and applies what it decided,
 * all through an actuator (struct hps_actuator): the daemon's
 * (hv-ptp-sync.c, on the PHC and adjtimex) or the host tests' (a simulated
 * clock, selftests/unit/test_discipline.c), so that both run the same
 * sequence. No system calls, no clocks read, no logging here: what the
 * log should say comes out of each poll (struct hps_poll), and what
 * applications are told comes out of hps_disc_bound().
 *
 * Sign convention as in servo.h: offsets are system clock minus PHC,
 * frequencies are corrections (positive speeds the system clock up).
 */
#ifndef HPS_DISCIPLINE_H
#define HPS_DISCIPLINE_H

#include <stdint.h>
#include <time.h>

#include "config.h"
#include "phc.h"
#include "status.h"

#define HPS_RMS_LEN	16	/* offsets in the RMS and jitter figures */

enum hps_disc_state {
	HPS_DISC_STARTING,	/* nothing measured yet */
	HPS_DISC_TRACKING,	/* measuring, not (yet) locked */
	HPS_DISC_LOCKED,	/* LOCK_COUNT updates within lock_us */
	HPS_DISC_HOLDOVER,	/* no measurement, after a lock */
	HPS_DISC_NO_PHC,	/* no measurement, never locked */
};

/* "starting", "tracking", "locked", "holdover", "no-phc" */
const char *hps_disc_state_name(enum hps_disc_state state);

/*
 * What the core reads and changes, and nothing else. Each returns 0 or
 * -errno unless it says otherwise.
 */
struct hps_actuator {
	void *ctx;
	/* CLOCK_MONOTONIC or CLOCK_REALTIME now, ns */
	int64_t (*now_ns)(void *ctx, clockid_t id);
	/*
	 * The PHC: find and open it (it is closed when this is called);
	 * -errno when there is none (the actuator says why, once).
	 */
	int (*phc_open)(void *ctx);
	void (*phc_close)(void *ctx);
	/*
	 * The PHC's error bound (-EAGAIN: no model yet; -ENOENT: the PHC
	 * publishes none, it is not hv_ptp_ext's; -EBADMSG: no number) and
	 * its other attributes as they read, without judging their range:
	 * all of them, each with its own result, when it returns 0 or
	 * -ENOENT.
	 */
	int (*phc_read)(void *ctx, int64_t *bound_ns, struct hps_phc_attrs *a);
	/*
	 * One offset measurement, in the best mode that works (@reprobe: try
	 * the best mode again first), and CLOCK_REALTIME - CLOCK_MONOTONIC
	 * read just before it.
	 */
	int (*phc_measure)(void *ctx, int reprobe, struct hps_measurement *m,
			   int64_t *realtime_minus_mono);
	/* > 0: another program changed the clock since the last call */
	int (*interfered)(void *ctx);
	/* the system clock: step by @delta_ns */
	int (*step)(void *ctx, int64_t delta_ns);
	/* ... its frequency; *@realtime_at_ns: CLOCK_REALTIME when it took effect */
	int (*set_freq)(void *ctx, double ppb, int64_t *realtime_at_ns);
	/* ... clear the kernel's NTP error */
	int (*clear_error)(void *ctx);
	/* ... STA_UNSYNC from @synced, the leap bits @leap, esterror and maxerror */
	int (*set_sync)(void *ctx, int synced, int leap, int64_t est_error_ns);
};

/* Events for the log (bits of hps_poll.events). */
enum {
	HPS_EV_STATE = 1 << 0,		/* the state changed */
	HPS_EV_HOST_UNSYNC = 1 << 1,	/* the host's sync state changed */
	HPS_EV_LEAP = 1 << 2,		/* a leap second armed or disarmed */
	HPS_EV_SYNC = 1 << 3,		/* "synchronised" changed */
};

/*
 * What one poll did, for the log. The actuator's errors are each in its
 * own field (0: it worked, or was not asked).
 */
struct hps_poll {
	unsigned int events;
	enum hps_disc_state state;
	int quiet;		/* not measured: within 2 s of a leap second */
	int opened;		/* a PHC was opened this poll */
	int read_err;		/* opening, reading or measuring: -errno */
	int closed;		/* ... not transient: the PHC was closed */
	int interfered;		/* another program changed the clock */
	int step;		/* a step was asked for ... */
	int64_t step_ns;	/* ... by this much */
	int step_err;
	int freq_err;
	int cleared;		/* the kernel's NTP error was cleared */
	int clear_err;
	int sync_err;
	int synced;		/* the sync state set */
	int host_unsync;	/* the host says it is unsynchronised */
	int leap;		/* the leap second armed (HPS_LEAP_*) */
};

/*
 * What applications are told (the ClockBound segment, clockbound.h): the
 * bound on |CLOCK_REALTIME - true time| at CLOCK_MONOTONIC_COARSE as_of_ns,
 * how fast it may grow after, when it stops holding at all, the clock's
 * status (enum hps_cb_status) and a marker that changes with every
 * disruption.
 */
/*
 * The segment is written after every poll and at least this often
 * between them, whatever poll_ms: ClockBound's clients trust a written
 * status for 5 s only (HPS_CB_GRACE_NS), and AWS's own daemon writes
 * once a second.
 */
#define HPS_CB_REFRESH_NS	1000000000LL

struct hps_disc_bound {
	int64_t as_of_ns;
	int64_t void_after_ns;
	int64_t bound_ns;
	uint32_t max_drift_ppb;
	int status;
	uint64_t marker;
	uint8_t disruption_support;	/* 1: the marker is the VMClock page's */
};

struct hps_disc;

/*
 * Start with @cfg, the correction the kernel has in force (@freq_ppb), @st
 * to keep up to date (its policy fields; the daemon fills in pid, device,
 * names and mode) and @act, which must outlive the core. NULL when out of
 * memory.
 */
struct hps_disc *hps_disc_create(const struct hps_config *cfg, double freq_ppb,
				 struct hps_status *st,
				 const struct hps_actuator *act);
void hps_disc_destroy(struct hps_disc *d);

/*
 * A new configuration: the servo restarts from the correction in force;
 * another device closes the PHC. -ENOMEM, and the old one stays.
 */
int hps_disc_reconfigure(struct hps_disc *d, const struct hps_config *cfg);

/*
 * The daemon started again over a segment whose marker was @prev_marker:
 * a restart is a disruption, and the marker goes on from there.
 */
void hps_disc_restarted(struct hps_disc *d, uint64_t prev_marker);

/*
 * One poll, whole: open the PHC if it is not, read it, measure, decide,
 * apply. Returns when the next poll is due, ns after this one.
 */
int64_t hps_disc_poll(struct hps_disc *d, struct hps_poll *p);

/* When the next poll is due, ns after the last one. */
int64_t hps_disc_next_poll_ns(const struct hps_disc *d);

/*
 * The bound to publish now: @coarse_ns is CLOCK_MONOTONIC_COARSE now,
 * @mono_ns CLOCK_MONOTONIC read after it, @res_ns the coarse clock's
 * resolution. Valid after a poll.
 */
void hps_disc_bound(const struct hps_disc *d, int64_t coarse_ns,
		    int64_t mono_ns, int64_t res_ns, struct hps_disc_bound *b);

/*
 * The module's count of disruptions read between polls (@count): returns
 * whether it moved, which makes the clock disrupted until locked again.
 */
int hps_disc_disruption(struct hps_disc *d, long long count);

#endif
