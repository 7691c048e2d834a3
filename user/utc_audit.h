/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the published bound is relative to: the host's clock, or UTC.
 *
 * Every bound hv_ptp_ext and hv-ptp-sync compute measures the guest's
 * distance from its Hyper-V host's clock. The host's own distance from
 * UTC is published by nobody. A UTC bound is the host-relative bound plus
 * an allowance for it:
 *
 * - declared: host_utc_error_us, what the operator knows of the platform;
 * - measured (utc_audit report or bound): chronyd, running beside
 *   hv-ptp-sync without steering the clock, measures NTP or NTS sources
 *   against the system clock, which follows the host to within the
 *   host-relative bound. Each source's last sample (chronyc -c sources:
 *   its offset and its error, half the root delay plus the root
 *   dispersion) bounds the host's offset from UTC; the sources' intervals
 *   are combined by Marzullo's intersection. In bound mode the measured
 *   allowance replaces the declared one while they agree; the host beyond
 *   its declared allowance by more than the measurement's error is a
 *   disagreement, and nothing is vouched for until they agree again.
 *
 * Pure logic, no clocks read and no processes run here (the daemon runs
 * chronyc; selftests/unit/test_utc_audit.c drives this directly).
 */
#ifndef HPS_UTC_AUDIT_H
#define HPS_UTC_AUDIT_H

#include <stddef.h>
#include <stdint.h>

enum hps_audit_mode {
	HPS_AUDIT_OFF,		/* no measurement: the declared allowance */
	HPS_AUDIT_REPORT,	/* measure, report, stop vouching on disagreement */
	HPS_AUDIT_BOUND,	/* ... and widen the UTC bound by the measurement */
};

enum hps_audit_state {
	HPS_UTC_OFF,		/* not measuring */
	HPS_UTC_NONE,		/* no measurement: no source, none fresh, no majority */
	HPS_UTC_STALE,		/* samples, none since the clock followed the host */
	HPS_UTC_AGREE,		/* the host within its declared allowance */
	HPS_UTC_DISAGREE,	/* the host beyond it, by more than NTP's error */
};

/* "off", "no-measurement", "stale", "agree", "disagree" */
const char *hps_audit_state_name(enum hps_audit_state s);
/* "off", "report", "bound"; NULL for another value */
const char *hps_audit_mode_name(int mode);

/* An NTP sample's error grows at NTP's PHI (RFC 5905) with its age. */
#define HPS_AUDIT_PHI_PPB	15000
/* NTP sources read from one chronyc answer, at most */
#define HPS_AUDIT_MAX_SOURCES	32

/* One source's last sample, as chronyc -c -n sources prints it. */
struct hps_ntp_source {
	char name[64];
	int stratum;
	unsigned int reach;	/* the reach register, 8 bits */
	int64_t ago_ns;		/* since the sample */
	int64_t offset_ns;	/* local clock minus the source (chrony's sign) */
	int64_t error_ns;	/* root delay / 2 + root dispersion */
};

/*
 * The NTP sources (modes '^' and '=') in @text, chronyc's CSV output of
 * "sources": reference clocks ('#') are skipped, and so are sources with
 * no sample yet. Returns how many went into @s (up to @max), or -1 with
 * the first malformed line in @why.
 */
int hps_audit_parse_sources(const char *text, struct hps_ntp_source *s,
			    int max, char *why, size_t why_len);

struct hps_audit_est {
	int used;		/* sources measured since the clock followed the host */
	int agreeing;		/* ... whose intervals meet in the estimate */
	int64_t offset_ns;	/* host minus UTC, midpoint of the intersection */
	int64_t error_ns;	/* half its width: |true - offset| within it */
	int64_t sample_mono_ns;	/* the newest sample used (CLOCK_MONOTONIC) */
};

struct hps_utc {
	/* settings */
	int mode;			/* enum hps_audit_mode */
	int64_t declared_ns;		/* host_utc_error: the declared allowance */
	int64_t max_age_ns;		/* samples older than this are not used */
	/* the daemon's side, kept up to date by hps_utc_follow() */
	int following;			/* the clock follows the host ... */
	int64_t synced_since_ns;	/* ... since (CLOCK_MONOTONIC) */
	int64_t stretch_bound_ns;	/* ... within this of it at most */
	/* the last audit */
	int ran;			/* chronyc answered at least once */
	enum hps_audit_state state;
	struct hps_audit_est est;	/* valid in AGREE and DISAGREE */
	int64_t est_at_ns;		/* when it was made (CLOCK_MONOTONIC) */
	char why[96];			/* why there is no measurement */
	int disagreed;			/* the last judgement was disagree */
};

/*
 * The daemon's clock as hps_disc_bound() gives it: @synced is whether the
 * host-relative bound (@bound_ns) is vouched (status synchronized) at
 * @now_ns. Samples taken before the current synchronized stretch
 * measured a clock that was not following the host, and are not used; an
 * estimate made before it is stale; the largest bound of the stretch is
 * the clock's error at any sample taken in it.
 */
void hps_utc_follow(struct hps_utc *u, int synced, int64_t bound_ns,
		    int64_t now_ns);

/*
 * The declared allowance (@declared_ns) in force from now: a measurement
 * is judged against it again. Returns 1 when the state changed.
 */
int hps_utc_declare(struct hps_utc *u, int64_t declared_ns);

/*
 * One audit at CLOCK_MONOTONIC @now_ns from the sources chronyc gave
 * (@n < 0: chronyc failed, @why says how): the state and estimate.
 * @clock_error_ns is the system clock's own bound against the host now
 * (the largest of the stretch, from hps_utc_follow(), if larger, is used). Returns 1 when the state
 * changed.
 */
int hps_utc_audit(struct hps_utc *u, const struct hps_ntp_source *s, int n,
		  const char *why, int64_t clock_error_ns, int64_t now_ns);

/*
 * The allowance for the host's error against UTC at @now_ns: the
 * declared one, or with utc_audit bound and a measurement that agrees
 * (the host within the declared allowance of UTC, give or take the
 * measurement's error), the measurement: |offset| + its error, grown at
 * PHI since the audit. *@vouch is 0 from a disagreement until a
 * measurement agrees (whatever comes between: no measurement, stale), and
 * in bound mode while the measurement predates the clock's current
 * following of the host. *@vouch is 0 when a UTC bound must not be
 * vouched for: the measurement disagrees with the host, or (bound mode)
 * the samples are stale.
 */
int64_t hps_utc_allowance(const struct hps_utc *u, int64_t now_ns, int *vouch);

/* "utc" when @allowance_ns is part of the bound, "host" when it is 0 */
const char *hps_utc_reference(int64_t allowance_ns);

#endif
