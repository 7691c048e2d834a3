/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The servo: offsets of the system clock against the PHC in, frequency
 * corrections out. Pure: no I/O, no clock reads; time comes in with each
 * measurement.
 *
 * Units and signs: offset_ns is system clock minus PHC (positive: the
 * system clock is ahead). A frequency is the correction applied to the
 * system clock in ppb (positive speeds it up), so a positive offset is
 * answered with a lower frequency. Instants (at_ns) are ns on the
 * caller's time base, which the correction must not scale: not
 * CLOCK_MONOTONIC, which the kernel slews with the clock (hv-ptp-sync
 * gives the PHC's time).
 */
#ifndef HPS_SERVO_H
#define HPS_SERVO_H

#include <stdint.h>

struct hps_servo;

enum hps_servo_state {
	HPS_SERVO_START,	/* collecting the first two measurements */
	HPS_SERVO_JUMP,		/* frequency known; the caller may step now */
	HPS_SERVO_PI,		/* proportional-integral steering */
};

/*
 * @kp, @ki: gains per update, dimensionless (the fraction of the offset
 * corrected over the next interval, and fed into the frequency estimate).
 * @max_ppb: the largest correction returned, either sign.
 */
struct hps_servo *hps_servo_create(double kp, double ki, double max_ppb);
void hps_servo_destroy(struct hps_servo *s);

/* Forget the measurements; the next one starts over. Keeps the frequency. */
void hps_servo_reset(struct hps_servo *s);

/* The correction currently in force (read back from the kernel at start). */
void hps_servo_set_freq(struct hps_servo *s, double freq_ppb);

/* Shift the frequency estimate by @delta_ppb (feed-forward). */
void hps_servo_feedforward(struct hps_servo *s, double delta_ppb);

/*
 * One measurement: @offset_ns at @at_ns. Returns
 * the correction to apply from now on, in ppb, and sets *@state. After a
 * JUMP the caller either steps the clock by -offset_ns and calls
 * hps_servo_stepped(), or carries on: the next measurement is tracked.
 */
double hps_servo_measured(struct hps_servo *s, int64_t offset_ns,
			  int64_t at_ns, enum hps_servo_state *state);

/*
 * The caller measures every @poll_ns, or as hps_servo_next_ns() says;
 * 0 (the default): at any pace, each interval taken to be as long as
 * the one before.
 */
void hps_servo_set_poll(struct hps_servo *s, int64_t poll_ns);

/*
 * The correction returned by the last hps_servo_measured() took effect
 * at @at_ns, not at the measurement: the servo
 * counts the one before it in force until then. Not called: at once.
 */
void hps_servo_applied(struct hps_servo *s, int64_t at_ns);

/*
 * No measurement at @at_ns: the caller holds @freq_ppb from then on
 * instead of the last correction (holdover).
 */
void hps_servo_held(struct hps_servo *s, double freq_ppb, int64_t at_ns);

/* Whether the servo is starting, or slewing a large offset out. */
int hps_servo_slewing(const struct hps_servo *s);

/*
 * When to measure next, ns after this measurement: the poll, or sooner
 * while the servo starts or slews a large offset out.
 */
int64_t hps_servo_next_ns(const struct hps_servo *s);

/*
 * The clock was stepped by minus the last measurement's offset: the phase is
 * now zero. Returns the correction to apply from now on (the frequency
 * estimate, without a phase term), in ppb.
 */
double hps_servo_stepped(struct hps_servo *s);

/* The frequency estimate without the phase term: what holdover keeps. */
double hps_servo_freq_ppb(const struct hps_servo *s);

/* The last change of the frequency estimate (ppb) and its spread. */
double hps_servo_residual_ppb(const struct hps_servo *s);
double hps_servo_skew_ppb(const struct hps_servo *s);

#endif
