// SPDX-License-Identifier: GPL-2.0
/*
 * chrony-feed: a PHC's error, as chronyd's regression sees it, on the host.
 *
 *   chrony-feed UNIT KIND SECONDS SEED
 *
 * Plays the azure profile's host (a sample every 5 s with 1 us of white
 * noise, rounded to 100 ns; the rate random-walks by 1 ppb a sample, from
 * 0: a constant rate only tilts the regression) into an estimator of KIND:
 *
 *   ours     kernel/clock_model.c at the module's defaults
 *   oracle   the bench's Kalman filter given the true parameters (oracle.h)
 *   perfect  the true host time
 *   intree   the last sample, run on at the reference's rate (hv_utils')
 *
 * and writes, every 50 ms for SECONDS, the estimate as an NTP SHM refclock
 * sample (segment 0x4e545030 + UNIT) against CLOCK_REALTIME: a reference
 * that moves against the local clock as the host's time does (its wander)
 * plus the estimator's error. The model has had 600 s of samples when the
 * feed starts, as on a VM that has been up a while. chrony-view.sh runs
 * chronyd -x (it never touches the clock) on it. Prints the estimator's
 * RMS error over the feed at the end.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <time.h>
#include <unistd.h>

#include "clock_model.h"
#include "oracle.h"

#define SEC		1000000000LL
#define EPOCH		1735689600000000000LL
#define INTERVAL	(5 * SEC)
#define WARM		(600 * SEC)

/*
 * The NTP SHM segment as ntpd defined it and chrony reads it (mode 1: a
 * reader takes the values if count is the same before and after).
 */
struct shm_time {
	int mode;
	int count;
	time_t clock_sec;
	int clock_usec;
	time_t receive_sec;
	int receive_usec;
	int leap;
	int precision;
	int nsamples;
	int valid;
	unsigned int clock_nsec;
	unsigned int receive_nsec;
	int dummy[8];
};

static unsigned long long rng;

static double gauss(void)
{
	double u, v;

	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	u = ((rng >> 11) + 0.5) / 9007199254740992.0;
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	v = ((rng >> 11) + 0.5) / 9007199254740992.0;
	return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

static long long clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * SEC + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	static const struct hv_cm_params params = {
		.window = 32, .step_threshold_ns = 1000000,
		.outlier_min_ns = 1000, .outlier_sigmas = 6,
		.wander_ppb = 100, .holdover_ppb = 500, .stale_ns = 15 * SEC,
		.slew_ns = 5 * SEC, .latency_ns = 10000000,
	};
	struct oracle_params op = { .noise_ns = 1000, .wander_ppb = 1 };
	double theta = 0, f = 0, th, th0 = NAN, e, sum2 = 0;
	long long t0, t, next = 0, last_t = 0, last_y = 0, y, rx, cl;
	const char *kind;
	struct shm_time *s;
	struct oracle o;
	struct hv_cm cm;
	int id, secs;
	long n = 0;

	if (argc != 5 || (strcmp(argv[2], "ours") && strcmp(argv[2], "oracle") &&
			  strcmp(argv[2], "perfect") && strcmp(argv[2], "intree"))) {
		fprintf(stderr, "usage: chrony-feed UNIT ours|oracle|perfect|intree SECONDS SEED\n");
		return 2;
	}
	kind = argv[2];
	secs = atoi(argv[3]);
	rng = strtoull(argv[4], NULL, 0);
	id = shmget(0x4e545030 + atoi(argv[1]), sizeof(*s), IPC_CREAT | 0600);
	s = id < 0 ? (void *)-1 : shmat(id, NULL, 0);
	if (s == (void *)-1) {
		perror("chrony-feed: shm");
		return 1;
	}
	hv_cm_init(&cm, &params);
	oracle_init(&o, &op);
	t0 = clock_ns(CLOCK_MONOTONIC);
	for (;;) {
		t = clock_ns(CLOCK_MONOTONIC) - t0 + WARM;
		/* the samples due by t: the rate steps, then the sample */
		for (; next <= t; next += INTERVAL) {
			if (next)
				f += gauss();
			y = 100 * llround((theta + 1000 * gauss()) / 100);
			hv_cm_add(&cm, next + SEC, EPOCH + next + SEC + y, false,
				  next + SEC + 1000000);
			oracle_sample(&o, next / 1e9, y, y - theta);
			last_t = next;
			last_y = y;
			theta += f * (INTERVAL / SEC);
		}
		/* the truth at t: from the last sample on at f */
		th = theta - f * (INTERVAL / SEC) + f * (t - last_t) / 1e9;
		if (!strcmp(kind, "ours"))
			e = hv_cm_eval(&cm.pub, t + SEC) - (EPOCH + t + SEC) - th;
		else if (!strcmp(kind, "oracle"))
			e = oracle_estimate(&o, t / 1e9, NULL) - th;
		else if (!strcmp(kind, "intree"))
			e = last_y - th;
		else
			e = 0;
		if (isnan(th0))
			th0 = th;
		sum2 += e * e;
		n++;
		rx = clock_ns(CLOCK_REALTIME);
		cl = rx + llround(th - th0 + e);
		s->mode = 1;
		s->count++;
		s->valid = 0;
		__sync_synchronize();
		s->clock_sec = cl / SEC;
		s->clock_nsec = cl % SEC;
		s->clock_usec = s->clock_nsec / 1000;
		s->receive_sec = rx / SEC;
		s->receive_nsec = rx % SEC;
		s->receive_usec = s->receive_nsec / 1000;
		s->leap = 0;
		s->precision = -20;
		__sync_synchronize();
		s->count++;
		s->valid = 1;
		if (t - WARM >= secs * SEC)
			break;
		usleep(50000);
	}
	printf("%s: error RMS %.0f ns over %d s\n", kind, sqrt(sum2 / n), secs);
	shmdt(s);
	shmctl(id, IPC_RMID, NULL);
	return 0;
}
