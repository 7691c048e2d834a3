// SPDX-License-Identifier: GPL-2.0
/*
 * "hv-ptp-sync status" as chrony and ntpq users read it: a chronyc
 * tracking look-alike and an ntpq -p source line, from the state file.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "status.h"

#define NSEC_PER_SEC	1000000000LL

/*
 * Copy a struct string for display: bounded by its buffer, control
 * characters as '?', "-" when empty.
 */
static const char *show(char *buf, size_t len, const char *s, size_t size)
{
	size_t i, n = strnlen(s, size);

	if (!n)
		return "-";
	if (n >= len)
		n = len - 1;
	for (i = 0; i < n; i++) {
		unsigned char c = s[i];

		buf[i] = c < 0x20 || c == 0x7f ? '?' : c;
	}
	buf[n] = '\0';
	return buf;
}

#define SHOW(buf, st, m)	show(buf, sizeof(buf), (st)->m, sizeof((st)->m))

static const char *leap_name(const struct hps_status *st)
{
	if (!st->synced)
		return "Not synchronised";
	switch (st->leap) {
	case 0:
		return "Normal";
	case 1:
		return "Insert second";
	case 2:
		return "Delete second";
	case 3:
		return "Not synchronised";
	default:
		return "Invalid";
	}
}

/* ---- chronyc tracking ---- */

#define REFID_HYPV	0x48595056u	/* "HYPV" */

void hps_status_print_tracking(FILE *f, const struct hps_status *st,
			       int64_t now_mono_ns)
{
	static const char * const wday[] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const char * const mon[] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
	};
	char name[64], state[16], mode[16], dev[64], drv[32];
	char reftime[64] = "-", a[32], b[32], ref[8], audit[16], why[96];
	double age = hps_status_age_s(st, now_mono_ns);
	struct tm tm;
	time_t t;

	/* the clock's name, else its device, as chrony shows a source name */
	if (strnlen(st->clock_name, sizeof(st->clock_name)))
		SHOW(name, st, clock_name);
	else
		snprintf(name, sizeof(name), "%s", SHOW(dev, st, device));
	fprintf(f, "Reference ID    : %08X (%s)\n", REFID_HYPV, name);
	fprintf(f, "Stratum         : %d\n", st->stratum);

	/* chrony's strftime("%a %b %d %T %Y"), fixed to English names */
	t = (time_t)(st->ref_time_ns / NSEC_PER_SEC -
		     (st->ref_time_ns % NSEC_PER_SEC < 0));
	if (st->ref_time_ns && gmtime_r(&t, &tm))
		snprintf(reftime, sizeof(reftime),
			 "%s %s %02d %02d:%02d:%02d %lld",
			 wday[tm.tm_wday % 7], mon[tm.tm_mon % 12], tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec,
			 (long long)tm.tm_year + 1900);
	fprintf(f, "Ref time (UTC)  : %s\n", reftime);

	/* last_offset_ns is system - PHC: positive is ahead, i.e. fast */
	fprintf(f, "System time     : %s seconds %s of NTP time\n",
		hps_fmt_ns(a, sizeof(a), st->last_offset_ns, HPS_NS_ABS),
		st->last_offset_ns >= 0 ? "fast" : "slow");
	fprintf(f, "Last offset     : %s seconds\n",
		hps_fmt_ns(a, sizeof(a), st->last_offset_ns, HPS_NS_PLUS));
	fprintf(f, "RMS offset      : %s seconds\n",
		hps_fmt_ns(a, sizeof(a), st->rms_offset_ns, 0));

	/*
	 * freq_ppm is the correction we apply: positive speeds the clock up,
	 * so the clock left alone runs slow. chrony prints the clock's own
	 * error, not the correction: "X ppm slow" for a positive correction,
	 * "fast" for a negative one (and "slow" for zero, as chrony does).
	 */
	fprintf(f, "Frequency       : %.3f ppm %s\n", fabs(st->freq_ppm),
		st->freq_ppm >= 0 ? "slow" : "fast");
	fprintf(f, "Residual freq   : %+.3f ppm\n", st->residual_freq_ppm);
	fprintf(f, "Skew            : %.3f ppm\n", st->skew_ppm);
	fprintf(f, "Root delay      : %s seconds\n",
		hps_fmt_ns(a, sizeof(a), st->window_ns, 0));
	fprintf(f, "Root dispersion : %s seconds\n",
		hps_fmt_ns(a, sizeof(a), st->est_error_ns, 0));
	fprintf(f, "Update interval : %.1f seconds\n", st->poll_ms / 1000.0);
	fprintf(f, "Leap status     : %s\n", leap_name(st));

	/* ours */
	fprintf(f, "State           : %s (%s, %s, %s)\n", SHOW(state, st, state),
		SHOW(mode, st, mode), SHOW(dev, st, device),
		SHOW(drv, st, driver));
	if (age < 0)
		fprintf(f, "Last update     : never\n");
	else
		fprintf(f, "Last update     : %.1f seconds ago\n", age);
	fprintf(f, "Updates         : %" PRIu64 ", steps %" PRIu64
		", read errors %" PRIu64 ", interference %" PRIu64 "\n",
		st->updates, st->steps, st->read_errors, st->interference);
	fprintf(f, "Error reference : %s (root dispersion: the distance from the host's clock)\n",
		SHOW(ref, st, error_reference));
	fprintf(f, "Bound           : %s seconds against %s%s%s%s\n",
		hps_fmt_ns(a, sizeof(a), st->cb_bound_ns, 0),
		!strncmp(st->cb_reference, "utc", sizeof(st->cb_reference)) ?
		"UTC" : "the host's clock",
		st->utc_allowance_ns ? " (host allowance " : "",
		st->utc_allowance_ns ? hps_fmt_ns(b, sizeof(b), st->utc_allowance_ns, 0) : "",
		st->utc_allowance_ns ? " s)" : "");
	fprintf(f, "Host vs UTC     : declared %s s; audit %s",
		hps_fmt_ns(a, sizeof(a), st->host_utc_declared_ns, 0),
		SHOW(audit, st, utc_audit));
	if (!strncmp(st->utc_audit, "agree", sizeof(st->utc_audit)) ||
	    !strncmp(st->utc_audit, "disagree", sizeof(st->utc_audit)))
		fprintf(f, ", host %s +/- %s s from UTC (%d of %d sources)",
			hps_fmt_ns(a, sizeof(a), st->host_utc_offset_ns, HPS_NS_PLUS),
			hps_fmt_ns(b, sizeof(b), st->host_utc_error_ns, 0),
			st->utc_agreeing, st->utc_sources);
	else if (st->utc_audit_why[0])
		fprintf(f, " (%s)", SHOW(why, st, utc_audit_why));
	fputc('\n', f);
}

/* ---- ntpq -p ---- */

/* ntpq's prettyinterval(): seconds, then minutes, hours, days, years. */
static void fmt_when(char *buf, size_t len, int64_t s)
{
	if (s <= 2048) {
		snprintf(buf, len, "%lld", (long long)s);
		return;
	}
	s = (s + 29) / 60;
	if (s <= 300) {
		snprintf(buf, len, "%lldm", (long long)s);
		return;
	}
	s = (s + 29) / 60;
	if (s <= 96) {
		snprintf(buf, len, "%lldh", (long long)s);
		return;
	}
	s = (s + 11) / 24;
	if (s <= 999) {
		snprintf(buf, len, "%lldd", (long long)s);
		return;
	}
	snprintf(buf, len, "%lldy", (long long)((s + 182) / 365));
}

static char tally(const struct hps_status *st)
{
	if (!strncmp(st->state, "locked", sizeof(st->state)))
		return '*';
	if (!strncmp(st->state, "tracking", sizeof(st->state)))
		return '+';
	if (!strncmp(st->state, "holdover", sizeof(st->state)))
		return '#';
	if (!strncmp(st->state, "no-phc", sizeof(st->state)))
		return 'x';
	return ' ';
}

void hps_status_print_sources(FILE *f, const struct hps_status *st,
			      int64_t now_mono_ns)
{
	char dev[64], name[32], remote[128], when[16];
	const char *d;
	int poll;

	/* "ptp0(hyperv)": the device without "/dev/", the clock's name */
	d = SHOW(dev, st, device);
	if (!strncmp(d, "/dev/", 5))
		d += 5;
	if (strnlen(st->clock_name, sizeof(st->clock_name)))
		snprintf(remote, sizeof(remote), "%s(%s)", d,
			 SHOW(name, st, clock_name));
	else
		snprintf(remote, sizeof(remote), "%s", d);

	if (st->updated_mono_ns)
		fmt_when(when, sizeof(when), now_mono_ns > st->updated_mono_ns ?
			 (now_mono_ns - st->updated_mono_ns) / NSEC_PER_SEC : 0);
	else
		snprintf(when, sizeof(when), "-");
	poll = st->poll_ms > 0 ? (int)(((int64_t)st->poll_ms + 500) / 1000) : 0;
	if (poll < 1)
		poll = 1;

	fprintf(f, "     remote           refid      st t when poll reach   delay   offset  jitter\n");
	fprintf(f, "==============================================================================\n");
	/* ntpq's columns: tally, remote and refid 15 + 1 wide, truncated */
	fprintf(f, "%c%-15.15s %-15.15s %2d %c %4s %4d  %3o  %7.3f %8.3f %7.3f\n",
		tally(st), remote, ".HYPV.", st->ref_stratum, 'l', when, poll,
		st->reach & 0377, st->window_ns / 1e6,
		st->last_offset_ns / 1e6, st->jitter_ns / 1e6);
}
