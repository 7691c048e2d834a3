// SPDX-License-Identifier: GPL-2.0
/*
 * hv-ptp-sync status: the state file, "hv-ptp-sync status" (chronyc
 * tracking and ntpq -p look-alikes, JSON) and the Prometheus textfile.
 *
 * One table describes every field of struct hps_status (name, type,
 * offset); the state file, its reader and the JSON printer all walk it, so
 * a field added to the struct and the table shows up everywhere. The table
 * is type-checked at compile time against the struct. JSON is jansson's
 * (encoding, escaping, UTF-8 checks, parsing with its error positions).
 *
 * Files are written whole into memory first, then to "PATH.tmp.PID" in the
 * same directory and renamed over PATH: readers see the old file or the new
 * one, never a partial one. The temporary name does not end in ".prom", so
 * node_exporter's textfile collector never picks it up either.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "status.h"

#define STATUS_FORMAT	2		/* "format" key; bump if incompatible */
#define STATUS_MAX	(64 * 1024)	/* largest state file read */
#define NSEC_PER_SEC	1000000000LL

enum field_type { F_LONG, F_INT, F_UINT, F_I64, F_U64, F_DBL, F_STR };

struct field {
	const char *name;
	enum field_type type;
	size_t off;
	size_t size;
};

#define MEMBER(n)	(((struct hps_status *)0)->n)
/* 0, or a compile error when member @n is not of type @t. */
#define TYPE_CHECK(n, t) \
	(0 * sizeof(char[__builtin_types_compatible_p(__typeof__(MEMBER(n)), t) ? 1 : -1]))
#define FIELD(n, ft, t) \
	{ #n, ft, offsetof(struct hps_status, n) + TYPE_CHECK(n, t), sizeof(MEMBER(n)) }
#define STR(n)		FIELD(n, F_STR, char[sizeof(MEMBER(n))])

static const struct field fields[] = {
	FIELD(pid, F_LONG, long),
	STR(state),
	STR(device),
	STR(clock_name),
	STR(driver),
	STR(mode),
	FIELD(stratum, F_INT, int),
	FIELD(ref_stratum, F_INT, int),
	FIELD(leap, F_INT, int),
	FIELD(synced, F_INT, int),
	FIELD(ref_time_ns, F_I64, int64_t),
	FIELD(last_offset_ns, F_I64, int64_t),
	FIELD(rms_offset_ns, F_I64, int64_t),
	FIELD(window_ns, F_I64, int64_t),
	FIELD(jitter_ns, F_I64, int64_t),
	FIELD(error_bound_ns, F_I64, int64_t),
	FIELD(est_error_ns, F_I64, int64_t),
	FIELD(freq_ppm, F_DBL, double),
	FIELD(residual_freq_ppm, F_DBL, double),
	FIELD(skew_ppm, F_DBL, double),
	FIELD(phc_freq_ppb, F_DBL, double),
	FIELD(poll_ms, F_INT, int),
	FIELD(reach, F_UINT, unsigned int),
	FIELD(updates, F_U64, uint64_t),
	FIELD(steps, F_U64, uint64_t),
	FIELD(read_errors, F_U64, uint64_t),
	FIELD(interference, F_U64, uint64_t),
	FIELD(updated_mono_ns, F_I64, int64_t),
	FIELD(marker, F_U64, uint64_t),
	FIELD(module_disruptions, F_I64, int64_t),
	FIELD(cb_status, F_INT, int),
	FIELD(cb_bound_ns, F_I64, int64_t),
	FIELD(cb_max_drift_ppb, F_I64, int64_t),
};

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define NFIELDS		ARRAY_SIZE(fields)

/* ---- atomic files ---- */

/* Write @len bytes of @data to @path through "PATH.tmp.PID" and rename(). */
static int write_atomic(const char *path, const char *data, size_t len)
{
	char tmp[PATH_MAX];
	size_t done = 0;
	int fd, n, ret = 0;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	/* O_NOFOLLOW: a stale symlink under the temporary name is not followed */
	fd = open(tmp, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC | O_NOFOLLOW,
		  0644);
	if (fd < 0) {
		ret = -errno;
		if (ret == -ELOOP)
			unlink(tmp);
		return ret;
	}
	while (done < len) {
		ssize_t w = write(fd, data + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			ret = w < 0 ? -errno : -EIO;
			break;
		}
		done += w;
	}
	/* Linux closes the descriptor even when close() fails */
	if (close(fd) && !ret && errno != EINTR)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

/* Render with @fn into memory, then write_atomic(). */
static int render_atomic(const char *path, const struct hps_status *st,
			 void (*fn)(FILE *f, const struct hps_status *st))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int ret, err;

	f = open_memstream(&buf, &len);
	if (!f)
		return -errno;
	fn(f, st);
	err = ferror(f);
	if (fclose(f) || err) {
		free(buf);
		return -ENOMEM;
	}
	ret = write_atomic(path, buf, len);
	free(buf);
	return ret;
}

/* ---- the state file: a JSON object, through jansson ---- */

/*
 * A string member as a JSON string: bounded by its buffer even when not
 * NUL-terminated; bytes that do not form UTF-8 (JSON's only encoding)
 * become '?'. jansson escapes control characters itself.
 */
static json_t *str_json(const char *s, size_t size)
{
	size_t i, n = strnlen(s, size);
	char buf[256];
	json_t *j;

	j = json_stringn(s, n);
	if (j || n > sizeof(buf))
		return j;
	for (i = 0; i < n; i++)
		buf[i] = (unsigned char)s[i] >= 0x80 ? '?' : s[i];
	return json_stringn(buf, n);
}

static json_t *field_json(const struct hps_status *st, const struct field *fd)
{
	const void *p = (const char *)st + fd->off;
	uint64_t u;
	double d;

	switch (fd->type) {
	case F_LONG:
		return json_integer(*(const long *)p);
	case F_INT:
		return json_integer(*(const int *)p);
	case F_UINT:
		return json_integer(*(const unsigned int *)p);
	case F_I64:
		return json_integer(*(const int64_t *)p);
	case F_U64:
		/* JSON integers here are int64_t: a counter saturates there */
		u = *(const uint64_t *)p;
		return json_integer(u > INT64_MAX ? INT64_MAX : (json_int_t)u);
	case F_DBL:
		d = *(const double *)p;
		return isfinite(d) ? json_real(d) : json_null();
	case F_STR:
		return str_json(p, fd->size);
	}
	return NULL;
}

/* Every field, "format" first; NULL without memory. */
static json_t *state_json(const struct hps_status *st)
{
	json_t *o = json_object();
	size_t i;

	if (!o || json_object_set_new(o, "format", json_integer(STATUS_FORMAT)))
		goto fail;
	for (i = 0; i < NFIELDS; i++)
		if (json_object_set_new(o, fields[i].name,
					field_json(st, &fields[i])))
			goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}

/* Doubles with as many digits as the text views could ever show. */
#define JSON_FLAGS	(JSON_COMPACT | JSON_REAL_PRECISION(9))

void hps_status_init(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	json_object_seed(((size_t)ts.tv_nsec ^ (size_t)ts.tv_sec << 20 ^
			  (size_t)getpid()) | 1);
}

int hps_status_write(const char *path, const struct hps_status *st)
{
	json_t *o = state_json(st);
	char *buf;
	int ret;

	buf = o ? json_dumps(o, JSON_FLAGS) : NULL;
	json_decref(o);
	if (!buf)
		return -ENOMEM;
	ret = write_atomic(path, buf, strlen(buf));
	free(buf);
	return ret;
}

/* Store @v into field @fd of @st; -EINVAL for a wrong type or range. */
static int get_field(struct hps_status *st, const struct field *fd,
		     const json_t *v)
{
	void *p = (char *)st + fd->off;
	json_int_t l = json_integer_value(v);
	const char *s;
	size_t n;

	if (fd->type == F_DBL) {
		if (json_is_null(v))
			*(double *)p = NAN;
		else if (json_is_number(v))
			*(double *)p = json_number_value(v);
		else
			return -EINVAL;
		return 0;
	}
	if (fd->type == F_STR) {
		if (!json_is_string(v))
			return -EINVAL;
		/* truncated to the buffer, always NUL-terminated */
		s = json_string_value(v);
		n = strnlen(s, fd->size - 1);
		memcpy(p, s, n);
		((char *)p)[n] = '\0';
		return 0;
	}
	if (!json_is_integer(v))
		return -EINVAL;
	switch (fd->type) {
	case F_LONG:
		if (l < LONG_MIN || l > LONG_MAX)
			return -EINVAL;
		*(long *)p = l;
		break;
	case F_INT:
		if (l < INT_MIN || l > INT_MAX)
			return -EINVAL;
		*(int *)p = l;
		break;
	case F_UINT:
		if (l < 0 || l > UINT_MAX)
			return -EINVAL;
		*(unsigned int *)p = l;
		break;
	case F_I64:
		*(int64_t *)p = l;
		break;
	case F_U64:
		if (l < 0)
			return -EINVAL;
		*(uint64_t *)p = l;
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

static int state_parse(const char *buf, size_t len, struct hps_status *st,
		       char *why, size_t why_len)
{
	json_error_t jerr;
	json_t *o, *v;
	size_t i;
	int ret = 0;

	o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!o) {
		snprintf(why, why_len, "not a state file (line %d: %s)",
			 jerr.line, jerr.text);
		return -EINVAL;
	}
	v = json_object_get(o, "format");
	if (!json_is_object(o) || !json_is_integer(v)) {
		snprintf(why, why_len, "not a state file (no \"format\")");
		ret = -EINVAL;
		goto out;
	}
	if (json_integer_value(v) != STATUS_FORMAT) {
		snprintf(why, why_len, "state file format %" JSON_INTEGER_FORMAT
			 ", this hv-ptp-sync reads %d", json_integer_value(v),
			 STATUS_FORMAT);
		ret = -EINVAL;
		goto out;
	}
	/* missing keys stay zero, unknown keys are ignored (newer daemons) */
	for (i = 0; i < NFIELDS; i++) {
		v = json_object_get(o, fields[i].name);
		if (!v)
			continue;
		ret = get_field(st, &fields[i], v);
		if (ret) {
			snprintf(why, why_len, "\"%s\": wrong type or out of range",
				 fields[i].name);
			break;
		}
	}
out:
	json_decref(o);
	return ret;
}

int hps_status_read(const char *path, struct hps_status *st, char *why,
		    size_t why_len)
{
	size_t len = 0;
	char *buf;
	int fd, ret = 0;

	memset(st, 0, sizeof(*st));
	snprintf(why, why_len, "unreadable");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(why, why_len, "%s", strerror(-ret));
		return ret;
	}
	buf = malloc(STATUS_MAX + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	/* read up to one byte more than allowed, to tell "too large" */
	while (len <= STATUS_MAX) {
		ssize_t n = read(fd, buf + len, STATUS_MAX + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			snprintf(why, why_len, "%s", strerror(-ret));
			break;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	if (!ret && len > STATUS_MAX) {
		ret = -EFBIG;
		snprintf(why, why_len, "larger than %d bytes: not a state file",
			 STATUS_MAX);
	}
	if (!ret)
		ret = state_parse(buf, len, st, why, why_len);
	free(buf);
	/* never hand back half a file */
	if (ret)
		memset(st, 0, sizeof(*st));
	return ret;
}

/* ---- formatting helpers ---- */

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

enum { NS_PLUS = 1, NS_ABS = 2 };

/*
 * @ns as seconds with nine decimals, exactly (no double rounding):
 * "-0.000000012"; NS_PLUS: "+" on non-negative values; NS_ABS: no sign.
 */
static const char *fmt_ns(char *buf, size_t len, int64_t ns, int flags)
{
	uint64_t mag = ns < 0 ? -(uint64_t)ns : (uint64_t)ns;
	const char *sign = "";

	if (!(flags & NS_ABS))
		sign = ns < 0 ? "-" : flags & NS_PLUS ? "+" : "";
	snprintf(buf, len, "%s%" PRIu64 ".%09" PRIu64, sign,
		 (uint64_t)(mag / NSEC_PER_SEC), (uint64_t)(mag % NSEC_PER_SEC));
	return buf;
}

/* Seconds since the last update; < 0 when there was none. */
static double age_s(const struct hps_status *st, int64_t now_mono_ns)
{
	if (!st->updated_mono_ns)
		return -1;
	if (now_mono_ns < st->updated_mono_ns)
		return 0;
	return (now_mono_ns - st->updated_mono_ns) / 1e9;
}

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
	char reftime[64] = "-", a[32];
	double age = age_s(st, now_mono_ns);
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
		fmt_ns(a, sizeof(a), st->last_offset_ns, NS_ABS),
		st->last_offset_ns >= 0 ? "fast" : "slow");
	fprintf(f, "Last offset     : %s seconds\n",
		fmt_ns(a, sizeof(a), st->last_offset_ns, NS_PLUS));
	fprintf(f, "RMS offset      : %s seconds\n",
		fmt_ns(a, sizeof(a), st->rms_offset_ns, 0));

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
		fmt_ns(a, sizeof(a), st->window_ns, 0));
	fprintf(f, "Root dispersion : %s seconds\n",
		fmt_ns(a, sizeof(a), st->est_error_ns, 0));
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

/* ---- JSON ---- */

void hps_status_print_json(FILE *f, const struct hps_status *st,
			   int64_t now_mono_ns)
{
	double age = age_s(st, now_mono_ns);
	json_t *o = state_json(st);

	if (!o || json_object_set_new(o, "age_s",
				      age < 0 ? json_null() : json_real(age)) ||
	    json_dumpf(o, f, JSON_FLAGS)) {
		json_decref(o);
		return;
	}
	json_decref(o);
	fputc('\n', f);
}

/* ---- Prometheus ---- */

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
	fprintf(f, "hv_ptp_sync_%s %s\n", name, fmt_ns(buf, sizeof(buf), ns, 0));
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
	prom_ns(f, "offset_seconds",
		"Offset of the system clock from the PHC at the last update (system - PHC).",
		st->last_offset_ns);
	prom_ns(f, "rms_offset_seconds", "RMS of the recent offsets.",
		st->rms_offset_ns);
	prom_dbl(f, "frequency_ppm",
		 "Frequency correction applied to the system clock; positive speeds it up.",
		 st->freq_ppm);
	prom_ns(f, "estimated_error_seconds",
		"Estimated error of the system clock: PHC error bound plus servo residual.",
		st->est_error_ns);
	prom_ns(f, "phc_error_bound_seconds",
		"Error bound of the PHC reported by the module (0: unknown).",
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
		"The bound published to applications, at its as-of instant.",
		st->cb_bound_ns);
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
	fputs("} 1\n", f);
}

int hps_status_write_prometheus(const char *path, const struct hps_status *st)
{
	return render_atomic(path, st, prom_render);
}
