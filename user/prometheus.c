// SPDX-License-Identifier: GPL-2.0
/*
 * The Prometheus textfile (node_exporter's textfile collector format:
 * HELP and TYPE lines, metrics named hv_ptp_sync_*), written atomically.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "atomic_file.h"
#include "status.h"

/* A label value: backslash, quote and newline escaped. */
static void prom_label(FILE *f, const char *name, const char *s, size_t size)
{
	size_t i, n = strnlen(s, size);

	fprintf(f, "%s=\"", name);
	for (i = 0; i < n; i++) {
		if (s[i] == '\\' || s[i] == '"')
			fprintf(f, "\\%c", s[i]);
		else if (s[i] == '\n')
			fputs("\\n", f);
		else
			fputc(s[i], f);
	}
	fputc('"', f);
}

static void prom_head(FILE *f, const char *name, const char *type,
		      const char *help)
{
	fprintf(f, "# HELP hv_ptp_sync_%s %s\n# TYPE hv_ptp_sync_%s %s\n",
		name, help, name, type);
}

static void prom_ns(FILE *f, const char *name, const char *help, int64_t ns)
{
	char buf[32];

	prom_head(f, name, "gauge", help);
	fprintf(f, "hv_ptp_sync_%s %s\n", name, hps_fmt_ns(buf, sizeof(buf), ns, 0));
}

static void prom_dbl(FILE *f, const char *name, const char *help, double v)
{
	prom_head(f, name, "gauge", help);
	fprintf(f, "hv_ptp_sync_%s ", name);
	if (isnan(v))
		fputs("NaN\n", f);
	else if (isinf(v))
		fputs(v > 0 ? "+Inf\n" : "-Inf\n", f);
	else
		fprintf(f, "%.9g\n", v);
}

static void prom_u64(FILE *f, const char *name, const char *type,
		     const char *help, uint64_t v)
{
	prom_head(f, name, type, help);
	fprintf(f, "hv_ptp_sync_%s %" PRIu64 "\n", name, v);
}

static void prom_render(FILE *f, const struct hps_status *st)
{
	char a[32];
	int measured;

	prom_ns(f, "offset_seconds",
		"Offset of the system clock from the PHC at the last update (system - PHC).",
		st->last_offset_ns);
	prom_ns(f, "rms_offset_seconds", "RMS of the recent offsets.",
		st->rms_offset_ns);
	prom_dbl(f, "frequency_ppm",
		 "Frequency correction applied to the system clock; positive speeds it up.",
		 st->freq_ppm);
	prom_ns(f, "estimated_error_seconds",
		"Estimated error of the system clock against the host's clock: PHC error bound plus servo residual.",
		st->est_error_ns);
	prom_ns(f, "phc_error_bound_seconds",
		"Error bound of the PHC reported by the module, against the host's clock (0: unknown).",
		st->error_bound_ns);
	prom_u64(f, "locked", "gauge",
		 "1 while the state is \"locked\": three updates in a row within lock_us of the PHC.",
		 !strncmp(st->state, "locked", sizeof(st->state)));
	prom_u64(f, "synchronised", "gauge",
		 "1 when the kernel clock is marked synchronised (STA_UNSYNC clear).",
		 !!st->synced);
	prom_u64(f, "updates_total", "counter",
		 "Successful clock updates.", st->updates);
	prom_u64(f, "steps_total", "counter", "Clock steps made.", st->steps);
	prom_u64(f, "read_errors_total", "counter", "Failed PHC reads.",
		 st->read_errors);
	prom_u64(f, "interference_total", "counter",
		 "Clock adjustments made by another program.",
		 st->interference);
	prom_u64(f, "disruption_marker", "gauge",
		 "The disruption marker of the ClockBound segment: changes at every disruption.",
		 st->marker);
	prom_head(f, "module_disruptions_total", "counter",
		  "Disruptions the module has counted, as last read (absent: a PHC that counts none).");
	if (st->module_disruptions >= 0)
		fprintf(f, "hv_ptp_sync_module_disruptions_total %lld\n",
			(long long)st->module_disruptions);
	prom_u64(f, "bound_status", "gauge",
		 "The ClockBound status: 0 unknown, 1 synchronized, 2 free-running, 3 disrupted.",
		 (uint64_t)st->cb_status);
	prom_ns(f, "bound_seconds",
		"The bound published to applications, at its as-of instant: against UTC when utc_allowance_seconds is above 0, else against the host's clock.",
		st->cb_bound_ns);
	prom_ns(f, "utc_allowance_seconds",
		"The allowance for the host's error against UTC in bound_seconds (0: the bound is host-relative).",
		st->utc_allowance_ns);
	prom_ns(f, "host_utc_declared_seconds",
		"The declared allowance for the host's error against UTC (host_utc_error_us).",
		st->host_utc_declared_ns);
	measured = !strncmp(st->utc_audit, "agree", sizeof(st->utc_audit)) ||
		   !strncmp(st->utc_audit, "disagree", sizeof(st->utc_audit));
	prom_head(f, "host_utc_offset_seconds", "gauge",
		  "The host's offset from UTC measured through chronyd's NTP sources (absent: no measurement).");
	if (measured)
		fprintf(f, "hv_ptp_sync_host_utc_offset_seconds %s\n",
			hps_fmt_ns(a, sizeof(a), st->host_utc_offset_ns, 0));
	prom_head(f, "host_utc_offset_error_seconds", "gauge",
		  "The measurement's error: the host's true offset is within this of it (absent: no measurement).");
	if (measured)
		fprintf(f, "hv_ptp_sync_host_utc_offset_error_seconds %s\n",
			hps_fmt_ns(a, sizeof(a), st->host_utc_error_ns, 0));
	prom_u64(f, "utc_disagree", "gauge",
		 "1 while the NTP measurement and the host disagree beyond both their errors (the bound is not vouched for).",
		 !strncmp(st->utc_audit, "disagree", sizeof(st->utc_audit)));
	prom_ns(f, "last_update_timestamp_seconds",
		"Time of the last update, seconds since the epoch.",
		st->ref_time_ns);

	prom_head(f, "info", "gauge", "State, PHC device, measurement mode and driver.");
	fputs("hv_ptp_sync_info{", f);
	prom_label(f, "state", st->state, sizeof(st->state));
	fputc(',', f);
	prom_label(f, "device", st->device, sizeof(st->device));
	fputc(',', f);
	prom_label(f, "mode", st->mode, sizeof(st->mode));
	fputc(',', f);
	prom_label(f, "driver", st->driver, sizeof(st->driver));
	fputc(',', f);
	prom_label(f, "bound_reference", st->cb_reference, sizeof(st->cb_reference));
	fputc(',', f);
	prom_label(f, "utc_audit", st->utc_audit, sizeof(st->utc_audit));
	fputs("} 1\n", f);
}

int hps_status_write_prometheus(const char *path, const struct hps_status *st)
{
	return hps_render_atomic(path, st, prom_render);
}
