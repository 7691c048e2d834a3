// SPDX-License-Identifier: GPL-2.0
/*
 * The oracle: a Kalman filter on the simulator's host model (oracle.h).
 */
#include <math.h>

#include "oracle.h"

/* The rate before two samples: 1000 ppm of standard deviation, "unknown". */
#define ORACLE_F_VAR0	1e12

void oracle_init(struct oracle *o, const struct oracle_params *p)
{
	*o = (struct oracle){ .p = *p };
	/* parenttime is rounded to 100 ns: a uniform error of variance 100^2/12 */
	o->r = p->noise_ns * p->noise_ns + 100.0 * 100.0 / 12;
}

bool oracle_sample(struct oracle *o, double t, double y, double err)
{
	double d, p00, p01, p11, s, k0, k1, v;

	if (o->p.outlier_ns > 0 && fabs(err) >= o->p.outlier_ns / 2)
		return false;
	if (o->n && t <= o->t)
		return false;
	if (!o->n) {
		o->theta = y;
		o->f = 0;
		o->p00 = o->r;
		o->p01 = 0;
		o->p11 = ORACLE_F_VAR0;
	} else {
		/* predict to t: theta moves at f, f stays */
		d = t - o->t;
		o->theta += o->f * d;
		p00 = o->p00 + 2 * d * o->p01 + d * d * o->p11;
		p01 = o->p01 + d * o->p11;
		p11 = o->p11;
		/* update with y */
		s = p00 + o->r;
		k0 = p00 / s;
		k1 = p01 / s;
		v = y - o->theta;
		o->theta += k0 * v;
		o->f += k1 * v;
		o->p00 = (1 - k0) * p00;
		o->p01 = (1 - k0) * p01;
		o->p11 = p11 - k1 * p01;
	}
	/* the rate's step taken with this sample applies from now on */
	o->p11 += o->p.wander_ppb * o->p.wander_ppb;
	o->t = t;
	o->n++;
	return true;
}

double oracle_estimate(const struct oracle *o, double t, double *var)
{
	double d = t - o->t;

	if (var)
		*var = o->n < 2 ? INFINITY :
		       o->p00 + 2 * d * o->p01 + d * d * o->p11;
	return o->n ? o->theta + o->f * d : NAN;
}
