/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hv-ptp-sync configuration: /etc/hv-ptp-sync.conf and the command line.
 *
 * One declarative table of keys with types and ranges. The file holds
 * "key value" lines; '#' starts a comment; blank lines are ignored. Every
 * value is range-checked; an error names FILE:LINE and the reason, and
 * leaves the caller's configuration untouched (load into a copy).
 */
#ifndef HPS_CONFIG_H
#define HPS_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>

#define HPS_DEFAULT_CONFIG	"/etc/hv-ptp-sync.conf"
#define HPS_DEFAULT_STATE	"/run/hv-ptp-sync/state"

struct hps_config {
	/* "auto" (driver hv_ptp_ext, else clock_name "hyperv"), a /dev path
	 * (/dev/ptp3, /dev/ptp_hyperv) or a clock_name. */
	char device[PATH_MAX];
	int poll_ms;			/* measurement and update interval */
	int samples;			/* PHC readings a measurement (the PTP ioctls' n_samples), 1..25 */
	double makestep_threshold;	/* s: step when |offset| is larger */
	int makestep_limit;		/* steps allowed in the first N updates; -1: always */
	double kp, ki;			/* servo gains per update, dimensionless */
	double max_slew_ppm;		/* largest frequency + tick correction */
	int feedforward;		/* follow the module's freq_ppb changes */
	int leap;			/* pass the host's leap flags to the kernel */
	double max_error_us;		/* STA_UNSYNC above this estimated error */
	double lock_us;			/* |offset| under this: locked */
	char state_file[PATH_MAX];	/* published state; "" to disable */
	char prometheus_file[PATH_MAX];	/* textfile collector file; "" off */
	char clockbound_file[PATH_MAX];	/* ClockBound v2 segment; "" off */
	double host_utc_error_us;	/* declared host-vs-UTC allowance; -1 auto */
	int utc_audit;			/* enum hps_audit_mode */
	char chronyc[PATH_MAX];		/* chronyc, for the audit */
	char chronyc_socket[PATH_MAX];	/* its -h; "" its default */
	int audit_interval_s;		/* between audits */
	int ntp_max_age_s;		/* oldest NTP sample used */
	int log_level;			/* syslog priority: 3 (err) .. 7 (debug) */
};

/* Compiled-in defaults (Azure's documented chrony policy: makestep 1.0 -1). */
void hps_config_defaults(struct hps_config *c);

/*
 * Set one key. @key may use '-' for '_'. Returns 0, or -1 with a message in
 * @err such as "unknown key 'pol_ms'" or "poll_ms: 5 is out of range
 * 100..60000". makestep takes two words ("1.0 -1"); booleans take
 * yes/no/on/off/true/false/1/0.
 */
int hps_config_set(struct hps_config *c, const char *key, const char *value,
		   char *err, size_t errlen);

/* Whether @name ("poll_ms" or "poll-ms") is a configuration key. */
int hps_config_has_key(const char *name);

/*
 * Parse @text (the contents of a file named @name, for messages). On error
 * returns -1 and @err holds "NAME:LINE: reason"; @c may be partly changed.
 */
int hps_config_parse(struct hps_config *c, const char *name, const char *text,
		     char *err, size_t errlen);

/*
 * Read and parse @path. A missing file is not an error when @missing_ok.
 * Returns 0 or -1 with @err set ("PATH: No such file or directory", or as
 * hps_config_parse).
 */
int hps_config_load(struct hps_config *c, const char *path, int missing_ok,
		    char *err, size_t errlen);

/* Print every key with its current value, in file syntax. */
void hps_config_print(const struct hps_config *c, FILE *f);

/* Log level names: "err" "warning" "notice" "info" "debug" <-> 3..7. */
const char *hps_log_level_name(int level);

#endif
