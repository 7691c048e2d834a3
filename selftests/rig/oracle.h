/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The oracle: the best causal estimate of host time that the simulator's
 * samples allow, for benchmarks to compare the PHC with.
 *
 * It is a Kalman filter on the simulator's own host model, given that
 * model's true parameters:
 *
 *   theta(t)  host time minus reference time, ns
 *   f         host rate error against the reference, ppb (ns per s)
 *
 *   between samples   theta grows at f; f is constant
 *   at each sample    the simulator takes a random-walk step of f, sigma
 *                     wander_ppb, which applies from that sample on
 *                     (selftests/host_sim: sim_clock_wander() then the
 *                     sample)
 *   the sample        y = theta + e, e white with sigma noise_ns, plus the
 *                     rounding of parenttime to 100 ns (variance 100^2/12)
 *
 * The prior is diffuse: the first sample gives theta, the second f. An
 * outlier (outliers_ns > 0: samples whose error is at least half of it)
 * is not used: the oracle knows each sample's error, and a filter given
 * the outlier distribution could at best recognise them all.
 *
 * An estimate at time t is the prediction from the samples taken by t, as
 * a PHC read at t has. Its variance is the filter's; with the true
 * parameters, that is the expected square error: what any estimator
 * causal in the samples can reach at best, on average.
 *
 * Units: time in s (double) relative to a base the caller chooses, theta in
 * ns relative to a base the caller subtracts (double has 53 bits; keep
 * theta below 2^40 ns), f in ppb.
 */
#ifndef HV_PTP_EXT_ORACLE_H
#define HV_PTP_EXT_ORACLE_H

#include <stdbool.h>

struct oracle_params {
	double noise_ns;	/* sigma of the white noise of a sample */
	double wander_ppb;	/* sigma of the rate's step at each sample */
	double outlier_ns;	/* outlier size, 0 for none */
};

struct oracle {
	struct oracle_params p;
	double r;		/* variance of a sample's error, ns^2 */
	double t;		/* time of the last sample, s */
	double theta, f;	/* the state at t */
	double p00, p01, p11;	/* its covariance: ns^2, ns*ppb, ppb^2 */
	unsigned int n;		/* samples used */
};

void oracle_init(struct oracle *o, const struct oracle_params *p);

/**
 * oracle_sample() - one sample of the stream, in order
 * @o: the oracle
 * @t: its time, s
 * @y: what it said, ns (theta plus its error)
 * @err: its error, ns, as the simulator logs it (for outlier rejection)
 *
 * Return: false if it was not used (an outlier, or not after the last).
 */
bool oracle_sample(struct oracle *o, double t, double y, double err);

/**
 * oracle_estimate() - the estimate of theta at @t, not before the last sample
 * @o: the oracle
 * @t: time, s
 * @var: if not NULL, its variance, ns^2 (infinite before two samples)
 *
 * Return: the estimate, ns; NAN before the first sample.
 */
double oracle_estimate(const struct oracle *o, double t, double *var);

#endif /* HV_PTP_EXT_ORACLE_H */
