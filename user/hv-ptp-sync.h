/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hv-ptp-sync's glue, shared by its files: the daemon's state
 * (hv-ptp-sync.c: the command line and the loop; actuator.c: the core's PHC
 * and system clock; publish.c: the status, the segment, systemd).
 */
#ifndef HPS_HV_PTP_SYNC_H
#define HPS_HV_PTP_SYNC_H

#include <limits.h>
#include <stdint.h>
#include <time.h>

#include "clockadj.h"
#include "clockbound.h"
#include "config.h"
#include "discipline.h"
#include "phc.h"
#include "status.h"
#include "utc_audit.h"

struct daemon {
	struct hps_config cfg;
	const char *config_path;
	int config_explicit;
	struct override {		/* --key=value, --key value */
		const char *key, *value;
		int key_len;
	} *overrides;
	int n_overrides;

	struct hps_phc phc;
	struct hps_disc *disc;
	struct hps_actuator act;	/* the core's PHC and system clock */
	struct hps_clockadj adj;
	struct hps_status st;
	struct hps_cb_writer cb;	/* the ClockBound segment, if any */
	char cb_path[PATH_MAX];		/* ... and where it is */
	int64_t cb_due;			/* ... written again by then (mono) */
	int disr_fd;			/* the module's disruptions attribute */
	char closed_path[32];		/* the PHC closed last, for the log */
	int phc_logged;			/* "no PHC" said once */
	int read_err_logged;		/* a transient read error said once */

	struct hps_utc utc;		/* the host against UTC (utc_audit.h) */
	struct audit_run {		/* chronyc, running for an audit */
		int pid;		/* 0: none */
		int fd;			/* its output; -1: none */
		size_t len;
		int overflow;		/* it wrote more than out holds */
		char out[16384];
		int64_t started;	/* CLOCK_MONOTONIC */
		int64_t due;		/* the next audit */
	} audit;
};

/* timespec and ns */
static inline int64_t ts_to_ns(const struct timespec *ts)
{
	return ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

static inline struct timespec ns_to_ts(int64_t ns)
{
	return (struct timespec){ .tv_sec = ns / 1000000000,
				  .tv_nsec = ns % 1000000000 };
}

/* CLOCK_* @id now, ns */
int64_t hps_now_ns(clockid_t id);

/* actuator.c */
void hps_actuator_init(struct daemon *d);
/*
 * Read the disruptions attribute through its open file, which arms the
 * next poll() wake-up; returns the count, or -1.
 */
long long hps_disruption_armed(struct daemon *d);

/* audit.c: chronyc for the UTC audit, run without blocking the loop */
void hps_audit_setup(struct daemon *d);
void hps_audit_tick(struct daemon *d);	/* start one when due */
int hps_audit_fd(const struct daemon *d);	/* to poll; -1 none */
void hps_audit_collect(struct daemon *d);	/* its output is readable */
void hps_audit_stop(struct daemon *d);

/* publish.c */
void hps_clockbound_open(struct daemon *d);
void hps_clockbound_void(struct daemon *d);
void hps_publish_bound(struct daemon *d);
/*
 * Without a declaration or the module's: 100 ms. Microsoft documents the
 * hosts' time chain (GPS-disciplined stratum 1 devices) but publishes no
 * bound for it; see README, "Host time and UTC".
 */
#define HPS_HOST_UTC_ERROR_DEFAULT_NS	100000000LL
void hps_publish_utc(struct daemon *d, struct hps_disc_bound *b, int64_t mono);
void hps_publish(struct daemon *d);

#endif
