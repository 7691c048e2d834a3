// SPDX-License-Identifier: GPL-2.0
/*
 * The core's actuator on the system (struct hps_actuator): the PHC
 * (phc.c) and the system clock (adjtimex, clockadj.c). Thin: what to do
 * is the core's (discipline.c); this only does it, and logs what only it
 * can say (which PHC, what another program did to the clock).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "hv-ptp-sync.h"
#include "log.h"

/* see hv-ptp-sync.h */
long long hps_disruption_armed(struct daemon *d)
{
	char buf[32];
	ssize_t n;

	if (d->disr_fd < 0)
		return -1;
	n = pread(d->disr_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0) {
		/* gone (unbound, unloaded): poll() would say so forever */
		close(d->disr_fd);
		d->disr_fd = -1;
		return -1;
	}
	buf[n] = 0;
	return strtoll(buf, NULL, 10);
}

static int64_t act_now(void *ctx, clockid_t id)
{
	(void)ctx;
	return hps_now_ns(id);
}

static int act_phc_open(void *ctx)
{
	struct daemon *d = ctx;
	char err[512];
	int ret;

	ret = hps_phc_open(&d->phc, d->cfg.device, d->cfg.samples, err,
			   sizeof(err));
	if (ret) {
		if (!d->phc_logged)
			hps_log(LOG_WARNING, "%s; retrying every poll", err);
		d->phc_logged = 1;
		return ret;
	}
	d->phc_logged = 0;
	/* hv_ptp_ext's count of disruptions wakes us (poll(), POLLPRI) */
	snprintf(err, sizeof(err), "/sys/class/ptp/ptp%d/device/timesync/disruptions",
		 d->phc.index);
	d->disr_fd = open(err, O_RDONLY | O_CLOEXEC);
	hps_disruption_armed(d);
	hps_log(LOG_INFO, "using %s (\"%s\"%s%s), %s offsets", d->phc.path,
		d->phc.clock_name, d->phc.driver[0] ? ", driver " : "",
		d->phc.driver, hps_mode_name(d->phc.mode));
	snprintf(d->st.device, sizeof(d->st.device), "%s", d->phc.path);
	snprintf(d->st.clock_name, sizeof(d->st.clock_name), "%s",
		 d->phc.clock_name);
	snprintf(d->st.driver, sizeof(d->st.driver), "%s", d->phc.driver);
	return 0;
}

static void act_phc_close(void *ctx)
{
	struct daemon *d = ctx;

	snprintf(d->closed_path, sizeof(d->closed_path), "%s", d->phc.path);
	hps_phc_close(&d->phc);
	d->st.device[0] = 0;
	if (d->disr_fd >= 0)
		close(d->disr_fd);
	d->disr_fd = -1;
}

/* The PHC's attributes one by one (a PHC without a record). */
static void read_attrs(struct daemon *d, struct hps_phc_attrs *a)
{
	a->stratum_ret = hps_phc_attr_ll(&d->phc, "stratum", &a->stratum);
	a->leapflags_ret = hps_phc_attr_ll(&d->phc, "leapflags",
					   &a->leapflags);
	a->leap_pending_ret = hps_phc_attr_ll(&d->phc, "leap_pending",
					      &a->leap_pending);
	a->freq_ret = hps_phc_attr_ll(&d->phc, "freq_ppb", &a->freq_ppb);
	a->disruptions_ret = hps_phc_attr_ll(&d->phc, "disruptions",
					     &a->disruptions);
}

/*
 * The module's bound and attributes: its record, one consistent copy of
 * its state in one read; a PHC without one (not hv_ptp_ext's, or an older
 * hv_ptp_ext), one attribute at a time.
 */
static int act_phc_read(void *ctx, int64_t *bound, struct hps_phc_attrs *a)
{
	struct daemon *d = ctx;
	int ret = hps_phc_record(&d->phc, bound, a);

	if (ret != -ENOENT)
		return ret;
	ret = hps_phc_error_bound(&d->phc, bound);
	/* no bound (hv_utils' PHC): its attributes say what it has not */
	if (!ret || ret == -ENOENT)
		read_attrs(d, a);
	return ret;
}

/*
 * CLOCK_REALTIME - CLOCK_MONOTONIC: the kernel slews both alike, so this
 * holds until the clock is stepped. Read between two readings of
 * CLOCK_MONOTONIC close together (a preemption between them would shift
 * it), the closest of three tries.
 */
static int64_t realtime_minus_monotonic(void)
{
	int64_t m1, r, m2, best = INT64_MAX, diff = 0;
	int i;

	for (i = 0; i < 3; i++) {
		m1 = hps_now_ns(CLOCK_MONOTONIC);
		r = hps_now_ns(CLOCK_REALTIME);
		m2 = hps_now_ns(CLOCK_MONOTONIC);
		if (m2 - m1 < best) {
			best = m2 - m1;
			diff = r - m1 - (m2 - m1) / 2;
		}
		if (best < 20000)
			break;
	}
	return diff;
}

static int act_phc_measure(void *ctx, int reprobe, struct hps_measurement *m,
			   int64_t *rt_mono)
{
	struct daemon *d = ctx;
	int ret;

	if (reprobe)
		d->phc.mode = HPS_MODE_PRECISE;	/* falls back by itself */
	*rt_mono = realtime_minus_monotonic();
	ret = hps_phc_measure(&d->phc, d->cfg.samples, m);
	if (!ret)
		snprintf(d->st.mode, sizeof(d->st.mode), "%s",
			 hps_mode_name(d->phc.mode));
	return ret;
}

static int act_interfered(void *ctx)
{
	struct daemon *d = ctx;
	char what[160];
	int ret = hps_clock_interfered(&d->adj, what, sizeof(what));

	if (ret > 0)
		hps_log(LOG_WARNING, "another program changed the clock: %s",
			what);
	return ret;
}

static int act_step(void *ctx, int64_t delta_ns)
{
	(void)ctx;
	return hps_clock_step(delta_ns);
}

static int act_set_freq(void *ctx, double ppb, int64_t *at_ns)
{
	struct daemon *d = ctx;

	return hps_clock_set_freq(&d->adj, ppb, at_ns);
}

static int act_clear_error(void *ctx)
{
	(void)ctx;
	return hps_clock_clear_error();
}

static int act_set_sync(void *ctx, int synced, int leap, int64_t est_ns)
{
	struct daemon *d = ctx;

	return hps_clock_set_sync(&d->adj, synced, leap, est_ns, est_ns);
}

void hps_actuator_init(struct daemon *d)
{
	d->act = (struct hps_actuator){
		.ctx = d,
		.now_ns = act_now,
		.phc_open = act_phc_open,
		.phc_close = act_phc_close,
		.phc_read = act_phc_read,
		.phc_measure = act_phc_measure,
		.interfered = act_interfered,
		.step = act_step,
		.set_freq = act_set_freq,
		.clear_error = act_clear_error,
		.set_sync = act_set_sync,
	};
}
