// SPDX-License-Identifier: GPL-2.0
/*
 * What hv-ptp-sync publishes after each poll: the bound for applications
 * (the ClockBound segment), the state file, the Prometheus textfile and
 * systemd's status line.
 */
#include <string.h>
#include <systemd/sd-daemon.h>

#include "hv-ptp-sync.h"
#include "log.h"

/* Leaving: the segment's bound is void from now on. */
void hps_clockbound_void(struct daemon *d)
{
	struct hps_cb_values v = { .status = HPS_CB_UNKNOWN };
	int64_t now = hps_now_ns(CLOCK_MONOTONIC_COARSE);

	if (!d->cb.seg)
		return;
	/* void since the epoch of CLOCK_MONOTONIC: to any reader, at once */
	v.as_of = ns_to_ts(now);
	v.void_after = ns_to_ts(0);
	v.bound_ns = HPS_MAX_BOUND_NS;
	v.disruption_marker = d->st.marker;
	hps_cb_write(&d->cb, &v);
	hps_cb_close(&d->cb);
}

/* The ClockBound segment at cfg.clockbound_file, (re)opened if it moved. */
void hps_clockbound_open(struct daemon *d)
{
	char err[PATH_MAX + 128];

	if (!strcmp(d->cb_path, d->cfg.clockbound_file) &&
	    (d->cb.seg || !d->cb_path[0]))
		return;
	hps_clockbound_void(d);
	snprintf(d->cb_path, sizeof(d->cb_path), "%s", d->cfg.clockbound_file);
	if (!d->cb_path[0])
		return;
	if (hps_cb_open(&d->cb, d->cb_path, err, sizeof(err))) {
		hps_log(LOG_ERR, "ClockBound segment: %s; not published", err);
		return;
	}
	hps_log(LOG_INFO, "ClockBound segment at %s", d->cb_path);
	/*
	 * A segment from before (a restart; systemd keeps the directory):
	 * its readers saw that marker, and a restart is a disruption.
	 */
	if (d->cb.had_prev)
		hps_disc_restarted(d->disc, d->cb.prev_marker);
}

/* The declared allowance for the host's error against UTC, ns. */
static int64_t declared_ns(const struct daemon *d)
{
	if (d->cfg.host_utc_error_us >= 0)
		return (int64_t)(d->cfg.host_utc_error_us * 1000 + 0.5);
	if (d->st.module_host_utc_error_ns >= 0)
		return d->st.module_host_utc_error_ns;
	return HPS_HOST_UTC_ERROR_DEFAULT_NS;
}

/*
 * The host-relative bound @b made a UTC bound: the allowance for the
 * host's error against UTC added, and not vouched for while NTP says the
 * host is beyond it (or, widening by the measurement, while the
 * measurement predates the clock following the host).
 */
void hps_publish_utc(struct daemon *d, struct hps_disc_bound *b, int64_t mono)
{
	struct hps_status *st = &d->st;
	int64_t allow;
	int vouch;

	if (hps_utc_declare(&d->utc, declared_ns(d)))
		hps_log(d->utc.state == HPS_UTC_DISAGREE ? LOG_WARNING : LOG_NOTICE,
			"UTC audit: against the declared %lld ns the last measurement (%+lld ns +/- %lld ns) says: %s",
			(long long)d->utc.declared_ns,
			(long long)d->utc.est.offset_ns,
			(long long)d->utc.est.error_ns,
			hps_audit_state_name(d->utc.state));
	hps_utc_follow(&d->utc, b->status == HPS_CB_SYNCHRONIZED, b->bound_ns,
		       mono);
	allow = hps_utc_allowance(&d->utc, mono, &vouch);
	b->bound_ns = b->bound_ns > HPS_MAX_BOUND_NS - allow ?
		      HPS_MAX_BOUND_NS : b->bound_ns + allow;
	if (b->bound_ns >= HPS_MAX_BOUND_NS ||
	    (!vouch && (b->status == HPS_CB_SYNCHRONIZED ||
			b->status == HPS_CB_FREE_RUNNING)))
		b->status = HPS_CB_UNKNOWN;
	snprintf(st->error_reference, sizeof(st->error_reference), "host");
	snprintf(st->cb_reference, sizeof(st->cb_reference), "%s",
		 hps_utc_reference(allow));
	st->utc_allowance_ns = allow;
	st->host_utc_declared_ns = d->utc.declared_ns;
	snprintf(st->utc_audit, sizeof(st->utc_audit), "%s",
		 hps_audit_state_name(d->utc.state));
}

/* The bound for applications, into the status and the segment. */
void hps_publish_bound(struct daemon *d)
{
	struct hps_disc_bound b;
	struct hps_cb_values v;
	struct timespec res;
	int64_t coarse, mono;

	if (clock_getres(CLOCK_MONOTONIC_COARSE, &res))
		res.tv_sec = 0, res.tv_nsec = 10000000;
	coarse = hps_now_ns(CLOCK_MONOTONIC_COARSE);
	d->cb_due = hps_now_ns(CLOCK_MONOTONIC) + HPS_CB_REFRESH_NS;
	mono = hps_now_ns(CLOCK_MONOTONIC);
	hps_disc_bound(d->disc, coarse, mono, ts_to_ns(&res), &b);
	hps_publish_utc(d, &b, mono);
	d->st.cb_status = b.status;
	d->st.cb_bound_ns = b.bound_ns;
	d->st.cb_max_drift_ppb = b.max_drift_ppb;
	d->st.cb_disruption_support = b.disruption_support;
	if (!d->cb.seg)
		return;
	v = (struct hps_cb_values){
		.as_of = ns_to_ts(b.as_of_ns),
		.void_after = ns_to_ts(b.void_after_ns),
		.bound_ns = b.bound_ns,
		.disruption_marker = b.marker,
		.max_drift_ppb = b.max_drift_ppb,
		.status = b.status,
		/* 1: clients that open the VMClock page compare markers */
		.disruption_support = b.disruption_support,
	};
	hps_cb_write(&d->cb, &v);
}

void hps_publish(struct daemon *d)
{
	struct hps_status *st = &d->st;
	int ret;

	hps_publish_bound(d);

	if (d->cfg.state_file[0]) {
		ret = hps_status_write(d->cfg.state_file, st);
		if (ret)
			hps_log(LOG_WARNING, "%s: %s", d->cfg.state_file,
				strerror(-ret));
	}
	if (d->cfg.prometheus_file[0]) {
		ret = hps_status_write_prometheus(d->cfg.prometheus_file, st);
		if (ret)
			hps_log(LOG_WARNING, "%s: %s",
				d->cfg.prometheus_file, strerror(-ret));
	}
	sd_notifyf(0, "STATUS=%s, offset %+lld ns, frequency %+.3f ppm%s%s",
		   st->state, (long long)st->last_offset_ns, st->freq_ppm,
		   st->device[0] ? ", " : "", st->device);
}
