/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Measuring PHCs against the simulator's truth, exactly:
 * - ours through PTP_SYS_OFFSET_PRECISE (device time and CLOCK_REALTIME
 *   at the same counter value), with the true host time at that
 *   CLOCK_REALTIME interpolated between two truth readings around it;
 * - the in-tree hv_utils PHC through clock_gettime() and last_ref (the
 *   truth at the instant it read the reference counter).
 */
#ifndef HV_PTP_EXT_MEASURE_H
#define HV_PTP_EXT_MEASURE_H

#include <linux/ptp_clock.h>
#include <math.h>
#include <sys/ioctl.h>

#include "rig.h"

#define OURS_SYSFS_FMT	"/sys/class/ptp/ptp%d/device/timesync/%s"

/* Open the PHC whose device is bound to @driver; its index in *@index. */
static inline int phc_open_driver(const char *driver, int *index)
{
	char path[300], link[300];
	const char *base;
	int i, n;

	for (i = 0; i < 32; i++) {
		snprintf(path, sizeof(path), "/sys/class/ptp/ptp%d/device/driver", i);
		n = readlink(path, link, sizeof(link) - 1);
		if (n < 0)
			continue;
		link[n] = 0;
		base = strrchr(link, '/');
		if (strcmp(base ? base + 1 : link, driver))
			continue;
		*index = i;
		snprintf(path, sizeof(path), "/dev/ptp%d", i);
		return open(path, O_RDONLY);
	}
	return -1;
}

/* A number from our sysfs status (timesync group); LLONG_MIN if absent. */
static inline long long ours_stat(int index, const char *name)
{
	char path[256], buf[64];
	long long v = LLONG_MIN;
	FILE *f;

	snprintf(path, sizeof(path), OURS_SYSFS_FMT, index, name);
	f = fopen(path, "r");
	if (!f)
		return LLONG_MIN;
	if (fgets(buf, sizeof(buf), f))
		v = strtoll(buf, NULL, 0);
	fclose(f);
	return v;
}

/* A string from our sysfs status, newline stripped; "" if absent. */
static inline const char *ours_str(int index, const char *name, char *buf, int len)
{
	char path[256];
	FILE *f;

	buf[0] = 0;
	snprintf(path, sizeof(path), OURS_SYSFS_FMT, index, name);
	f = fopen(path, "r");
	if (f) {
		if (fgets(buf, len, f))
			buf[strcspn(buf, "\n")] = 0;
		fclose(f);
	}
	return buf;
}

/* Ours minus true host time, ns, via PTP_SYS_OFFSET_PRECISE. */
static inline int ours_error(int phc, long long *err)
{
	struct ptp_sys_offset_precise p = { 0 };
	struct sim_truth a, b;
	long long dev, real, host;
	int tries = 0;

	/* again if CLOCK_REALTIME was stepped in between (hv_utils on SYNC) */
	do {
		if (sim_truth(&a))
			return -1;
		if (ioctl(phc, PTP_SYS_OFFSET_PRECISE, &p))
			return -errno;
		if (sim_truth(&b))
			return -1;
	} while (llabs((b.real_ns - a.real_ns) - (b.raw_ns - a.raw_ns)) > 100000 &&
		 ++tries < 3);
	dev = p.device.sec * NSEC_PER_SEC + p.device.nsec;
	real = p.sys_realtime.sec * NSEC_PER_SEC + p.sys_realtime.nsec;
	if (b.real_ns == a.real_ns)
		return -1;
	host = a.host_ns + (long long)((double)(real - a.real_ns) *
				       (double)(b.host_ns - a.host_ns) /
				       (double)(b.real_ns - a.real_ns));
	*err = dev - host;
	return 0;
}

/*
 * The in-tree PHC minus true host time, ns; the CPU pinned by the caller.
 * Returns the number of samples of the stream sent so far, or -1.
 */
static inline long long intree_error(int phc, long long *err)
{
	struct sim_truth t;
	long long ns = 0;

	if (phc_gettime(phc, &ns) || sim_last_ref(&t))
		return -1;
	*err = ns - t.host_ns;
	return t.samples;
}

/* For qsort(): long longs, ascending. */
static inline int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

struct err_stats {
	long long n, max;
	double sum2;
};

static inline void stats_add(struct err_stats *s, long long e)
{
	s->n++;
	s->sum2 += (double)e * e;
	if (llabs(e) > llabs(s->max))
		s->max = e;
}

static inline double stats_rms(const struct err_stats *s)
{
	return s->n ? sqrt(s->sum2 / s->n) : 0;
}

#endif /* HV_PTP_EXT_MEASURE_H */
