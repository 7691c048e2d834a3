/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The system clock through clock_adjtime(CLOCK_REALTIME): frequency (with
 * the tick length for corrections beyond the ±500 ppm of ADJ_FREQUENCY),
 * steps, and the kernel's synchronisation state (STA_UNSYNC, maxerror,
 * esterror, leap bits).
 */
#ifndef HPS_CLOCKADJ_H
#define HPS_CLOCKADJ_H

#include <stdint.h>

/* What we last wrote, to tell someone else's changes from ours. */
struct hps_clockadj {
	long tick;		/* µs per USER_HZ tick */
	long freq;		/* ADJ_FREQUENCY units: ppm << 16 */
	int status;		/* STA_* bits we own, as written */
	int written;		/* tick/freq/status are valid */
};

/* Leap bits for hps_clock_set_sync(). */
enum { HPS_LEAP_NONE, HPS_LEAP_INSERT, HPS_LEAP_DELETE, HPS_LEAP_UNSYNC };

/* The correction in force (tick and frequency together), in ppb. */
int hps_clock_get_freq(double *ppb);

/*
 * Apply @ppb (positive: faster), splitting it into tick and frequency;
 * *@at_ns (unless NULL) gets CLOCK_REALTIME as the kernel read it in the
 * same call: the change took effect then.
 */
int hps_clock_set_freq(struct hps_clockadj *a, double ppb, int64_t *at_ns);

/* Step CLOCK_REALTIME by @delta_ns. */
int hps_clock_step(int64_t delta_ns);

/*
 * Have the kernel forget the phase its clock owes the frequency asked of
 * it (a step of zero: ADJ_SETOFFSET clears the timekeeper's NTP error).
 * The time does not move, but CLOCK_REALTIME counts as set (timers
 * cancelled on a set fire), and the kernel's sync state is reset: call
 * hps_clock_set_sync() after it.
 */
int hps_clock_clear_error(void);

/*
 * Kernel sync state: @synced clears STA_UNSYNC (else sets it); @leap as
 * above (ignored unless synced); errors in ns, written in µs.
 */
int hps_clock_set_sync(struct hps_clockadj *a, int synced, int leap,
		       int64_t esterror_ns, int64_t maxerror_ns);

/*
 * Did someone else change the clock's frequency, tick or our status bits
 * since we last wrote them? Returns 1 and describes it in @what, 0, or
 * -errno.
 */
int hps_clock_interfered(const struct hps_clockadj *a, char *what,
			 unsigned long len);

#endif
