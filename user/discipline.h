/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The daemon's clock policy, pure: what a poll measured and what the PHC
 * publishes go in; what to do to the system clock (step, frequency, sync
 * state and error estimates, leap bits) and the published status come
 * out. No system calls, no clocks read, no logging: time comes in with
 * each call, and what the log should say comes out as events. The daemon
 * (hv-ptp-sync.c) reads, asks the core, applies what it decides and
 * publishes; the host tests (selftests/unit/test_discipline.c) drive the
 * same core against a simulated clock.
 *
 * Sign convention as in servo.h: offsets are system clock minus PHC,
 * frequencies are corrections (positive speeds the system clock up).
 */
#ifndef HPS_DISCIPLINE_H
#define HPS_DISCIPLINE_H

#include <stdint.h>

#include "config.h"
#include "phc.h"
#include "servo.h"
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

/* One poll's input. */
struct hps_disc_in {
	int64_t mono_ns;		/* CLOCK_MONOTONIC */
	/*
	 * The measurement's instant on a time base the clock's own
	 * corrections do not scale, ns (the PHC's time: CLOCK_MONOTONIC
	 * runs 5 % slow while the clock is slewed 5 % slow, and a servo
	 * timing its slew on it misjudges it by as much); 0: mono_ns.
	 */
	int64_t at_ns;
	int64_t realtime_ns;		/* CLOCK_REALTIME */
	struct hps_measurement m;	/* the PHC offset measurement */
	int64_t bound_ns;		/* the PHC's error bound, 0 unknown */
	struct hps_phc_attrs attrs;
	int interfered;			/* another program changed the clock */
};

/* Events for the log (bits of hps_disc_out.events). */
enum {
	HPS_EV_STATE = 1 << 0,		/* the state changed */
	HPS_EV_HOST_UNSYNC = 1 << 1,	/* the host's sync state changed */
	HPS_EV_LEAP = 1 << 2,		/* a leap second armed or disarmed */
};

/*
 * What to do, in this order: step the clock by -step_offset_ns when @step
 * (then call hps_disc_stepped() if that worked), apply @freq_ppb when
 * @set_freq, clear the kernel's NTP error when @clear_error
 * (hps_clock_clear_error()), set the kernel's sync state (STA_UNSYNC
 * from @synced, the leap bits @leap, esterror and maxerror
 * @est_error_ns) and, when that worked, call hps_disc_sync_set().
 */
struct hps_disc_out {
	int step;
	int64_t step_offset_ns;
	int set_freq;
	double freq_ppb;
	int clear_error;
	int synced;
	int leap;			/* HPS_LEAP_* */
	int64_t est_error_ns;
	unsigned int events;
	enum hps_disc_state state;
};

struct hps_disc {
	struct hps_config cfg;
	struct hps_servo *servo;
	struct hps_status *st;		/* the published status (its policy fields) */
	enum hps_disc_state state;
	int64_t offsets[HPS_RMS_LEN];
	int n_offsets;
	int lock_count;
	int ever_locked;
	int measured;		/* the last poll measured (not missed) */
	int64_t at_minus_mono;	/* the servo's time base - CLOCK_MONOTONIC */
	int host_unsync;		/* the host says stratum 16 or leap 3 */
	double hold_ppb;		/* average correction while locked */
	double hold_dev;		/* average |correction - hold_ppb| */
	int hold_n;			/* updates in them, up to HOLD_AVG */
	double hold_growth;		/* ppb: error growth in this holdover */
	double lock_jit2;		/* mean square of locked offset steps */
	int lock_pairs;			/* successive locked updates in it */
	int64_t lock_prev;		/* the last locked update's offset */
	double phc_freq_ppb;
	int have_phc_freq;
	int64_t last_good_mono;
	int64_t last_est_error;
	int64_t leap_at;		/* CLOCK_REALTIME s of an armed leap */
	int leap;			/* which one (HPS_LEAP_*) */
	long long mod_disruptions;	/* the module's count, last read */
	int have_mod_disruptions;
	int disrupted;			/* since a disruption: locked updates to go */
	int kernel_error;		/* a large change left the kernel's own */
	int64_t est_mono;		/* CLOCK_MONOTONIC of est_error_ns */
};

/*
 * What applications are told (the ClockBound segment, clockbound.h): the
 * bound on |CLOCK_REALTIME - true time| at CLOCK_MONOTONIC_COARSE as_of_ns,
 * how fast it may grow after, when it stops holding at all, the clock's
 * status (enum hps_cb_status) and a marker that changes with every
 * disruption.
 */
struct hps_disc_bound {
	int64_t as_of_ns;
	int64_t void_after_ns;
	int64_t bound_ns;
	uint32_t max_drift_ppb;
	int status;
	uint64_t marker;
};

/*
 * Start with @cfg, the correction the kernel has in force (@freq_ppb) and
 * @st to keep up to date (its policy fields; the daemon fills in pid,
 * device, names, mode, poll and read errors). Returns 0 or -ENOMEM.
 */
int hps_disc_init(struct hps_disc *d, const struct hps_config *cfg,
		  double freq_ppb, struct hps_status *st);
void hps_disc_destroy(struct hps_disc *d);

/* A new configuration: the servo restarts from the correction in force. */
int hps_disc_reconfigure(struct hps_disc *d, const struct hps_config *cfg);

/* A PHC (re)opened: its measurements start over. */
void hps_disc_new_phc(struct hps_disc *d);

/*
 * Whether a poll at CLOCK_REALTIME @realtime_ns is too close to an armed
 * leap second to measure (nothing is measured or changed then).
 */
int hps_disc_quiet(struct hps_disc *d, int64_t realtime_ns);

/* A poll with a measurement. */
void hps_disc_update(struct hps_disc *d, const struct hps_disc_in *in,
		     struct hps_disc_out *out);

/* A poll without one (no PHC, or it failed): hold the frequency. */
void hps_disc_missed(struct hps_disc *d, int64_t mono_ns,
		     struct hps_disc_out *out);

/*
 * The frequency in @out of the last update was applied at @at_ns, on
 * the time base of hps_disc_in's at_ns.
 */
void hps_disc_applied(struct hps_disc *d, int64_t at_ns);

/*
 * When to poll next, ns after this poll: poll_ms, or sooner while the
 * servo starts or slews a large offset out after a measurement.
 */
int64_t hps_disc_next_poll_ns(const struct hps_disc *d);

/* The step asked for in @out was made; @out's frequency is updated. */
void hps_disc_stepped(struct hps_disc *d, struct hps_disc_out *out);

/*
 * The bound to publish now: @coarse_ns is CLOCK_MONOTONIC_COARSE now,
 * @mono_ns CLOCK_MONOTONIC read after it, @res_ns the coarse clock's
 * resolution. Valid after an update or a missed poll.
 */
void hps_disc_bound(const struct hps_disc *d, int64_t coarse_ns,
		    int64_t mono_ns, int64_t res_ns, struct hps_disc_bound *b);

/*
 * The module's count of disruptions read between polls (@count): returns
 * whether it moved, which makes the clock disrupted until locked again.
 */
int hps_disc_disruption(struct hps_disc *d, long long count);

/*
 * The sync state in @out was set. Returns whether "synchronised" changed
 * (for the log).
 */
int hps_disc_sync_set(struct hps_disc *d, const struct hps_disc_out *out);

#endif
