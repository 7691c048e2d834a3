/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hv-ptp-sync status: what the running daemon publishes and what
 * "hv-ptp-sync status" prints from it.
 *
 * The daemon writes the state file atomically (a temporary file in the same
 * directory, then rename()) after every update, as one JSON object (through
 * jansson): "format" (2), then one key per field below, named as the field;
 * strings as JSON strings, the rest as numbers (null for a value that is
 * not a number). Readers ignore unknown keys, so fields can be added; a
 * change that old readers would misread bumps "format".
 *
 * Sign convention (chrony's): offsets are system clock minus reference
 * (the PHC); positive means the system clock is ahead ("fast"). Frequency
 * is the correction applied to the system clock, in ppm; positive speeds
 * it up.
 */
#ifndef HPS_STATUS_H
#define HPS_STATUS_H

#include <stdint.h>
#include <stdio.h>

struct hps_status {
	long pid;
	char state[16];		/* starting, tracking, locked, holdover, no-phc */
	char device[64];	/* /dev/ptp0; "" while none is open */
	char clock_name[32];	/* the PHC's clock_name */
	char driver[32];	/* hv_ptp_ext, hv_utils, ... */
	char mode[10];		/* PRECISE, EXTENDED or BASIC */
	int stratum;		/* ours: the reference's + 1; 0 unknown */
	int ref_stratum;	/* the host's, from the module; 2 when unknown */
	int leap;		/* 0 normal, 1 insert, 2 delete, 3 unsynchronised */
	int synced;		/* STA_UNSYNC cleared by us */
	int64_t ref_time_ns;	/* CLOCK_REALTIME of the last update, ns since epoch */
	int64_t last_offset_ns;	/* system - PHC at the last update */
	int64_t rms_offset_ns;	/* RMS of the recent offsets */
	int64_t window_ns;	/* measurement window (post - pre); 0 with PRECISE */
	int64_t jitter_ns;	/* RMS of successive offset differences */
	int64_t error_bound_ns;	/* the PHC's error bound (module), 0 unknown */
	int64_t est_error_ns;	/* our estimated error: bound + residual */
	double freq_ppm;	/* total correction (frequency + tick) */
	double residual_freq_ppm; /* the servo's last frequency change */
	double skew_ppm;	/* estimated error of freq_ppm */
	double phc_freq_ppb;	/* the module's model frequency (freq_ppb) */
	int poll_ms;		/* update interval */
	unsigned int reach;	/* last 8 updates, 1 bit each, newest in bit 0 */
	uint64_t updates;	/* successful updates */
	uint64_t steps;		/* clock steps made */
	uint64_t read_errors;	/* failed PHC reads */
	uint64_t interference;	/* adjtimex changes made by someone else */
	int64_t updated_mono_ns; /* CLOCK_MONOTONIC of the last update */
	uint64_t marker;	/* the disruption marker (the segment's) */
	int64_t module_disruptions; /* the module's count; -1 unknown */
	int cb_status;		/* published ClockBound status (0..3) */
	int64_t cb_bound_ns;	/* ... its bound at as-of */
	int64_t cb_max_drift_ppb; /* ... and growth */
	int cb_disruption_support; /* ... 1: its marker is the VMClock page's */
	/*
	 * What the bounds are relative to. est_error_ns, error_bound_ns and
	 * the kernel's esterror/maxerror always bound the distance from the
	 * host's clock (error_reference "host"). cb_bound_ns (the segment's)
	 * adds utc_allowance_ns, the host's error against UTC: cb_reference
	 * is "utc" then, "host" when the allowance is 0.
	 */
	char error_reference[8];	/* "host" */
	char cb_reference[8];		/* "utc" or "host" */
	int64_t utc_allowance_ns;	/* in cb_bound_ns */
	int64_t host_utc_declared_ns;	/* the declared allowance in force */
	int64_t module_host_utc_error_ns; /* hv_ptp_ext's host_utc_error_ns; -1 none */
	char utc_audit[16];		/* off, no-measurement, stale, agree, disagree */
	char utc_audit_why[96];		/* ... why there is no measurement */
	int64_t host_utc_offset_ns;	/* measured host minus UTC (agree, disagree) */
	int64_t host_utc_error_ns;	/* ... |true - measured| within this */
	int utc_sources;		/* NTP sources in the measurement */
	int utc_agreeing;		/* ... whose intervals meet in it */
	int64_t utc_audit_mono_ns;	/* CLOCK_MONOTONIC of the last audit */
};

/*
 * Seeds jansson's hash tables from the time and the process id, not from
 * the kernel's random pool: jansson reads /dev/urandom at its first
 * object otherwise, and early after boot, before the pool is ready, that
 * read waited a second (inside the first update of the clock). The state
 * file is ours; there is no one to flood its hash tables. Call first.
 */
void hps_status_init(void);

/* Write @st to @path atomically. Returns 0 or -errno. */
int hps_status_write(const char *path, const struct hps_status *st);

/*
 * Read @path into @st (zeroed first, and zeroed again on failure). Returns 0
 * or -errno (-EINVAL: not a state file of this format, -EFBIG: too large),
 * with what went wrong in @why (@why_len bytes, NUL-terminated).
 */
int hps_status_read(const char *path, struct hps_status *st, char *why,
		    size_t why_len);

/*
 * "chronyc tracking"-like block. @now_mono_ns is CLOCK_MONOTONIC now (for
 * ages). Reference ID is "HYPV" as hex plus the clock name.
 */
void hps_status_print_tracking(FILE *f, const struct hps_status *st,
			       int64_t now_mono_ns);

/*
 * "ntpq -p"-style header and one source line: tally code ('*' locked,
 * '+' tracking, '#' holdover, ' ' otherwise), remote (device and clock
 * name), refid ".HYPV.", st, t ('l' local refclock), when (s since the last
 * update), poll (s), reach (octal), delay (the window), offset, jitter (ms,
 * three decimals as ntpq prints them).
 */
void hps_status_print_sources(FILE *f, const struct hps_status *st,
			      int64_t now_mono_ns);

enum { HPS_NS_PLUS = 1, HPS_NS_ABS = 2 };

/*
 * @ns as seconds with nine decimals, exactly (no double rounding):
 * "-0.000000012"; HPS_NS_PLUS: "+" on non-negative values; HPS_NS_ABS: no
 * sign. Returns @buf.
 */
const char *hps_fmt_ns(char *buf, size_t len, int64_t ns, int flags);

/* Seconds since the last update at CLOCK_MONOTONIC @now_mono_ns; < 0: none. */
double hps_status_age_s(const struct hps_status *st, int64_t now_mono_ns);

/* Every field as one JSON object (plus "age_s"), newline-terminated. */
void hps_status_print_json(FILE *f, const struct hps_status *st,
			   int64_t now_mono_ns);

/*
 * node_exporter textfile collector format (HELP/TYPE lines, metrics named
 * hv_ptp_sync_*), written atomically to @path. Returns 0 or -errno.
 */
int hps_status_write_prometheus(const char *path, const struct hps_status *st);

#endif
