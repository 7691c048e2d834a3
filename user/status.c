// SPDX-License-Identifier: GPL-2.0
/*
 * hv-ptp-sync's state file and its JSON (status_print.c prints it the way
 * chronyc and ntpq do; prometheus.c writes the Prometheus textfile).
 *
 * One table describes every field of struct hps_status (name, type,
 * offset); the state file, its reader and the JSON printer all walk it, so
 * a field added to the struct and the table shows up everywhere. The table
 * is type-checked at compile time against the struct. JSON is jansson's
 * (encoding, escaping, UTF-8 checks, parsing with its error positions).
 *
 * The file is written whole (atomic_file.c): readers see the old one or
 * the new one, never a partial one.
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

#include "atomic_file.h"
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
	FIELD(cb_disruption_support, F_INT, int),
	STR(error_reference),
	STR(cb_reference),
	FIELD(utc_allowance_ns, F_I64, int64_t),
	FIELD(host_utc_declared_ns, F_I64, int64_t),
	FIELD(module_host_utc_error_ns, F_I64, int64_t),
	STR(utc_audit),
	STR(utc_audit_why),
	FIELD(host_utc_offset_ns, F_I64, int64_t),
	FIELD(host_utc_error_ns, F_I64, int64_t),
	FIELD(utc_sources, F_INT, int),
	FIELD(utc_agreeing, F_INT, int),
	FIELD(utc_audit_mono_ns, F_I64, int64_t),
};

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define NFIELDS		ARRAY_SIZE(fields)

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
	ret = hps_write_atomic(path, buf, strlen(buf));
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

/* ---- ages ---- */

/* Seconds since the last update; < 0 when there was none. */
double hps_status_age_s(const struct hps_status *st, int64_t now_mono_ns)
{
	if (!st->updated_mono_ns)
		return -1;
	if (now_mono_ns < st->updated_mono_ns)
		return 0;
	return (now_mono_ns - st->updated_mono_ns) / 1e9;
}

/* ---- JSON ---- */

void hps_status_print_json(FILE *f, const struct hps_status *st,
			   int64_t now_mono_ns)
{
	double age = hps_status_age_s(st, now_mono_ns);
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

/* ---- numbers ---- */

/*
 * @ns as seconds with nine decimals, exactly (no double rounding):
 * "-0.000000012"; HPS_NS_PLUS: "+" on non-negative values; HPS_NS_ABS:
 * no sign.
 */
const char *hps_fmt_ns(char *buf, size_t len, int64_t ns, int flags)
{
	uint64_t mag = ns < 0 ? -(uint64_t)ns : (uint64_t)ns;
	const char *sign = "";

	if (!(flags & HPS_NS_ABS))
		sign = ns < 0 ? "-" : flags & HPS_NS_PLUS ? "+" : "";
	snprintf(buf, len, "%s%" PRIu64 ".%09" PRIu64, sign,
		 (uint64_t)(mag / NSEC_PER_SEC), (uint64_t)(mag % NSEC_PER_SEC));
	return buf;
}
