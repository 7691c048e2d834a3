// SPDX-License-Identifier: GPL-2.0
/*
 * hv-ptp-sync configuration, in the manner of linuxptp: one table of keys
 * gives each key's type, range, default and description. Parsing, the
 * defaults and --print-config all work from it.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "utc_audit.h"

/* enum hps_audit_mode by name */
static const char * const audit_names[] = {
	[HPS_AUDIT_OFF] = "off", [HPS_AUDIT_REPORT] = "report",
	[HPS_AUDIT_BOUND] = "bound",
};

#define LINE_MAX_CHARS	4095		/* in a line, without its '\n' */
#define FILE_MAX_BYTES	(1024 * 1024)
#define CLOCK_NAME_MAX	31		/* a PTP clock_name, without NUL */
#define KEY_NAME_MAX	31
#define QUOTE		64		/* characters of a value in a message */
#define MSG_MAX		256

#define STEP_LIMIT_MIN	-1L
#define STEP_LIMIT_MAX	1000000L

enum key_type {
	T_DEVICE,	/* "auto", /dev/PATH or a clock_name */
	T_INT,		/* int, min..max */
	T_DOUBLE,	/* double, min..max, finite */
	T_BOOL,		/* int, 0 or 1 */
	T_PATH,		/* char[PATH_MAX]: absolute path, or "" */
	T_LOG_LEVEL,	/* int, 3..7, by name or number */
	T_MAKESTEP,	/* double at off, min < x <= max; int limit at off2 */
	T_AUTO_DOUBLE,	/* double, min..max, or "auto" (stored as -1) */
	T_AUDIT,	/* int, enum hps_audit_mode, by name */
};

struct key {
	const char *name;
	enum key_type type;
	size_t off;
	size_t off2;
	double min, max;
	const char *def;
	const char *desc;
};

#define KEY_AT(n, t, f, lo, hi, d, s) {				\
	.name = n, .type = t, .off = offsetof(struct hps_config, f),	\
	.min = lo, .max = hi, .def = d, .desc = s }
#define KEY(f, t, lo, hi, d, s)	KEY_AT(#f, t, f, lo, hi, d, s)

static const struct key keys[] = {
	KEY(device, T_DEVICE, 0, 0, "auto",
	    "PTP clock: auto, a /dev/ path or a clock_name"),
	KEY(poll_ms, T_INT, 100, 60000, "1000",
	    "measurement and update interval, milliseconds"),
	KEY(samples, T_INT, 1, 25, "9",
	    "readings per measurement (PTP_SYS_OFFSET_EXTENDED)"),
	{ .name = "makestep", .type = T_MAKESTEP,
	  .off = offsetof(struct hps_config, makestep_threshold),
	  .off2 = offsetof(struct hps_config, makestep_limit),
	  .min = 0, .max = 1e9, .def = "1.0 -1",
	  .desc = "step when |offset| > THRESHOLD seconds, in the first LIMIT updates (-1: always)" },
	KEY(kp, T_DOUBLE, 0.01, 1.0, "0.7",
	    "servo proportional gain per update"),
	KEY(ki, T_DOUBLE, 0.0, 1.0, "0.3",
	    "servo integral gain per update"),
	KEY(max_slew_ppm, T_DOUBLE, 1, 100000, "50000",
	    "largest frequency + tick correction, ppm"),
	KEY(feedforward, T_BOOL, 0, 1, "yes",
	    "follow the module's frequency changes"),
	KEY(leap, T_BOOL, 0, 1, "yes",
	    "pass the host's leap second flags to the kernel"),
	KEY(max_error_us, T_DOUBLE, 1, 16000000, "1000",
	    "estimated error above which the clock is unsynchronised, microseconds"),
	KEY(lock_us, T_DOUBLE, 0.001, 1000000, "10",
	    "|offset| under which the clock is locked, microseconds"),
	KEY(state_file, T_PATH, 0, 0, HPS_DEFAULT_STATE,
	    "state file for 'hv-ptp-sync status': an absolute path, or \"\" for none"),
	KEY(prometheus_file, T_PATH, 0, 0, "",
	    "node_exporter textfile collector file: an absolute path, or \"\" for none"),
	KEY(clockbound_file, T_PATH, 0, 0, "/run/clockbound/shm0",
	    "ClockBound shared memory segment (protocol 2) for applications: an absolute path, or \"\" for none"),
	KEY(host_utc_error_us, T_AUTO_DOUBLE, 0, 1e9, "auto",
	    "the declared allowance for the host's error against UTC, microseconds: auto (hv_ptp_ext's host_utc_error_ns, else 100000) or a number; 0 makes the bounds host-relative"),
	KEY(utc_audit, T_AUDIT, 0, 0, "off",
	    "measure the host against UTC through chronyd's NTP sources: off, report, or bound (also widen the UTC bound by the measurement)"),
	KEY(chronyc, T_PATH, 0, 0, "/usr/bin/chronyc",
	    "chronyc, run as \"chronyc -c -n sources\" for the audit"),
	KEY(chronyc_socket, T_PATH, 0, 0, "",
	    "chronyd's command socket for chronyc -h: a path, or \"\" for chronyc's default (its socket, then 127.0.0.1:323)"),
	KEY(audit_interval_s, T_INT, 1, 3600, "16",
	    "seconds between audits"),
	KEY(ntp_max_age_s, T_INT, 1, 86400, "1100",
	    "NTP samples older than this are not used, seconds"),
	KEY(log_level, T_LOG_LEVEL, 3, 7, "info",
	    "syslog level: err, warning, notice, info or debug"),
};

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define NKEYS		ARRAY_SIZE(keys)

static const char * const level_names[] = {
	[3] = "err", [4] = "warning", [5] = "notice", [6] = "info",
	[7] = "debug",
};

__attribute__((format(printf, 3, 4)))
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int has_space(const char *s)
{
	for (; *s; s++)
		if (isspace((unsigned char)*s))
			return 1;
	return 0;
}

static const char *skip_space(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

/* "poll_ms" or "poll-ms"; NULL for an unknown key. */
static const struct key *find_key(const char *name)
{
	char norm[KEY_NAME_MAX + 1];
	size_t i, n = strlen(name);

	if (n > KEY_NAME_MAX)
		return NULL;
	for (i = 0; i <= n; i++)
		norm[i] = name[i] == '-' ? '_' : name[i];
	for (i = 0; i < NKEYS; i++)
		if (!strcmp(keys[i].name, norm))
			return &keys[i];
	return NULL;
}

int hps_config_has_key(const char *name)
{
	return find_key(name) != NULL;
}

/* An integer in [min, max]; messages start with @what ("poll_ms:"). */
static int parse_long(const char *what, const char *s, long min, long max,
		      long *out, char *err, size_t errlen)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end || isspace((unsigned char)*s)) {
		seterr(err, errlen, "%s '%.*s' is not an integer",
		       what, QUOTE, s);
		return -1;
	}
	if (errno == ERANGE || v < min || v > max) {
		seterr(err, errlen, "%s %.*s is out of range %ld..%ld",
		       what, QUOTE, s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

/*
 * A finite decimal number in [min, max], or (min, max] when @excl_min.
 * Only digits, signs, '.' and exponents: no "nan", "inf" or hex floats.
 */
static int parse_double(const char *what, const char *s, double min,
			double max, int excl_min, double *out,
			char *err, size_t errlen)
{
	char *end;
	double v;

	if (s[strspn(s, "0123456789+-.eE")])
		goto nan;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end)
		goto nan;
	if (errno == ERANGE || !isfinite(v) || v < min || v > max) {
		seterr(err, errlen, "%s %.*s is out of range %.15g..%.15g",
		       what, QUOTE, s, min, max);
		return -1;
	}
	if (excl_min && v <= min) {
		seterr(err, errlen, "%s %.*s is not greater than %.15g",
		       what, QUOTE, s, min);
		return -1;
	}
	*out = v;
	return 0;
nan:
	seterr(err, errlen, "%s '%.*s' is not a number", what, QUOTE, s);
	return -1;
}

static int parse_bool(const char *s, int *out)
{
	static const char * const yes[] = { "yes", "on", "true", "1" };
	static const char * const no[] = { "no", "off", "false", "0" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = 1;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static void set_string(char *dst, const char *s)
{
	memset(dst, 0, PATH_MAX);
	memcpy(dst, s, strlen(s));
}

static int set_device(const struct key *k, char *dst, const char *s,
		      char *err, size_t errlen)
{
	size_t n = strlen(s);

	if (has_space(s)) {
		seterr(err, errlen, "%s: '%.*s' contains white space",
		       k->name, QUOTE, s);
		return -1;
	}
	if (!strncmp(s, "/dev/", 5)) {
		if (n == 5) {
			seterr(err, errlen, "%s: '/dev/' names no device",
			       k->name);
			return -1;
		}
		if (n >= PATH_MAX) {
			seterr(err, errlen, "%s: path is longer than %d characters",
			       k->name, PATH_MAX - 1);
			return -1;
		}
	} else if (!n || strchr(s, '/')) {
		seterr(err, errlen,
		       "%s: '%.*s' is not auto, a /dev/ path or a clock name",
		       k->name, QUOTE, s);
		return -1;
	} else if (n > CLOCK_NAME_MAX) {
		seterr(err, errlen,
		       "%s: clock name '%.*s' is longer than %d characters",
		       k->name, QUOTE, s, CLOCK_NAME_MAX);
		return -1;
	}
	set_string(dst, s);
	return 0;
}

static int set_path(const struct key *k, char *dst, const char *s,
		    char *err, size_t errlen)
{
	if (!strcmp(s, "\"\""))
		s = "";
	if (has_space(s)) {
		seterr(err, errlen, "%s: '%.*s' contains white space",
		       k->name, QUOTE, s);
		return -1;
	}
	if (*s && *s != '/') {
		seterr(err, errlen,
		       "%s: '%.*s' is not an absolute path (\"\" disables)",
		       k->name, QUOTE, s);
		return -1;
	}
	if (strlen(s) >= PATH_MAX) {
		seterr(err, errlen, "%s: path is longer than %d characters",
		       k->name, PATH_MAX - 1);
		return -1;
	}
	set_string(dst, s);
	return 0;
}

static int set_log_level(const struct key *k, const char *what, int *dst,
			 const char *s, char *err, size_t errlen)
{
	long v;
	int i;

	for (i = 3; i <= 7; i++) {
		if (!strcasecmp(s, level_names[i])) {
			*dst = i;
			return 0;
		}
	}
	if (isdigit((unsigned char)s[0]) || s[0] == '-' || s[0] == '+') {
		if (parse_long(what, s, (long)k->min, (long)k->max, &v,
			       err, errlen))
			return -1;
		*dst = v;
		return 0;
	}
	seterr(err, errlen,
	       "%s: '%.*s' is not err, warning, notice, info, debug or 3..7",
	       k->name, QUOTE, s);
	return -1;
}

static int set_makestep(const struct key *k, struct hps_config *c,
			const char *s, char *err, size_t errlen)
{
	char word[2][LINE_MAX_CHARS + 1];
	const char *p = s;
	double threshold;
	long limit;
	int n;

	for (n = 0; *(p = skip_space(p)); n++) {
		size_t len = strcspn(p, " \t\n\v\f\r");

		if (n == 2)
			goto usage;
		memcpy(word[n], p, len);
		word[n][len] = 0;
		p += len;
	}
	if (n != 2)
		goto usage;
	if (parse_double("makestep: threshold", word[0], k->min, k->max, 1,
			 &threshold, err, errlen))
		return -1;
	if (parse_long("makestep: limit", word[1], STEP_LIMIT_MIN,
		       STEP_LIMIT_MAX, &limit, err, errlen))
		return -1;
	*(double *)((char *)c + k->off) = threshold;
	*(int *)((char *)c + k->off2) = limit;
	return 0;
usage:
	seterr(err, errlen, "%s: expected THRESHOLD LIMIT", k->name);
	return -1;
}

/* @s is trimmed. */
static int set_key(struct hps_config *c, const struct key *k, const char *s,
		   char *err, size_t errlen)
{
	void *dst = (char *)c + k->off;
	char what[KEY_NAME_MAX + 2];
	double d;
	long v;
	int b;

	snprintf(what, sizeof(what), "%s:", k->name);

	switch (k->type) {
	case T_DEVICE:
		return set_device(k, dst, s, err, errlen);
	case T_INT:
		if (parse_long(what, s, (long)k->min, (long)k->max, &v,
			       err, errlen))
			return -1;
		*(int *)dst = v;
		return 0;
	case T_DOUBLE:
		if (parse_double(what, s, k->min, k->max, 0, &d,
				 err, errlen))
			return -1;
		*(double *)dst = d;
		return 0;
	case T_BOOL:
		if (parse_bool(s, &b)) {
			seterr(err, errlen, "%s: '%.*s' is not yes or no",
			       k->name, QUOTE, s);
			return -1;
		}
		*(int *)dst = b;
		return 0;
	case T_PATH:
		return set_path(k, dst, s, err, errlen);
	case T_LOG_LEVEL:
		return set_log_level(k, what, dst, s, err, errlen);
	case T_MAKESTEP:
		return set_makestep(k, c, s, err, errlen);
	case T_AUTO_DOUBLE:
		if (!strcasecmp(s, "auto")) {
			*(double *)dst = -1;
			return 0;
		}
		if (parse_double(what, s, k->min, k->max, 0, &d,
				 err, errlen))
			return -1;
		*(double *)dst = d;
		return 0;
	case T_AUDIT:
		for (b = HPS_AUDIT_OFF; b <= HPS_AUDIT_BOUND; b++) {
			if (!strcasecmp(s, audit_names[b])) {
				*(int *)dst = b;
				return 0;
			}
		}
		seterr(err, errlen, "%s: '%.*s' is not off, report or bound",
		       k->name, QUOTE, s);
		return -1;
	}
	seterr(err, errlen, "%s: unknown type", k->name);
	return -1;
}

int hps_config_set(struct hps_config *c, const char *key, const char *value,
		   char *err, size_t errlen)
{
	char buf[LINE_MAX_CHARS + 1];
	const struct key *k;
	size_t n;

	k = find_key(key);
	if (!k) {
		seterr(err, errlen, "unknown key '%.*s'", QUOTE, key);
		return -1;
	}
	if (!value) {
		seterr(err, errlen, "%s: expected a value", k->name);
		return -1;
	}
	value = skip_space(value);
	n = strlen(value);
	while (n && isspace((unsigned char)value[n - 1]))
		n--;
	if (n > LINE_MAX_CHARS) {
		seterr(err, errlen, "%s: value is longer than %d characters",
		       k->name, LINE_MAX_CHARS);
		return -1;
	}
	memcpy(buf, value, n);
	buf[n] = 0;
	return set_key(c, k, buf, err, errlen);
}

void hps_config_defaults(struct hps_config *c)
{
	char err[MSG_MAX];
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < NKEYS; i++) {
		if (set_key(c, &keys[i], keys[i].def, err, sizeof(err))) {
			fprintf(stderr, "hv-ptp-sync: bad default: %s\n", err);
			abort();
		}
	}
}

/* One line (NUL-terminated, no '\n'). Returns 0, or -1 with @err set. */
static int parse_line(struct hps_config *c, char *line, char *err,
		      size_t errlen)
{
	char *p, *key;
	size_t i;

	for (i = 0; line[i]; i++) {
		if (line[i] == '#' &&
		    (!i || isspace((unsigned char)line[i - 1]))) {
			line[i] = 0;
			break;
		}
	}
	p = (char *)skip_space(line);
	if (!*p)
		return 0;
	key = p;
	while (*p && !isspace((unsigned char)*p))
		p++;
	if (*p)
		*p++ = 0;
	if (!*skip_space(p)) {
		seterr(err, errlen, "expected KEY VALUE");
		return -1;
	}
	return hps_config_set(c, key, p, err, errlen);
}

int hps_config_parse(struct hps_config *c, const char *name, const char *text,
		     char *err, size_t errlen)
{
	char line[LINE_MAX_CHARS + 1];
	char msg[MSG_MAX];
	unsigned int lineno = 0;
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		lineno++;
		if (len > LINE_MAX_CHARS) {
			seterr(err, errlen, "%s:%u: line is longer than %d characters",
			       name, lineno, LINE_MAX_CHARS);
			return -1;
		}
		memcpy(line, p, len);
		line[len] = 0;
		p += len + !!nl;
		if (parse_line(c, line, msg, sizeof(msg))) {
			seterr(err, errlen, "%s:%u: %s", name, lineno, msg);
			return -1;
		}
	}
	return 0;
}

int hps_config_load(struct hps_config *c, const char *path, int missing_ok,
		    char *err, size_t errlen)
{
	struct hps_config tmp;
	size_t len = 0;
	char *buf, *nul;
	int fd, ret = -1;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT && missing_ok)
			return 0;
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* One byte more than allowed, to see a file that is too large. */
	buf = malloc(FILE_MAX_BYTES + 2);
	if (!buf) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	while (len <= FILE_MAX_BYTES) {
		n = read(fd, buf + len, FILE_MAX_BYTES + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			seterr(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (!n)
			break;
		len += n;
	}
	if (len > FILE_MAX_BYTES) {
		seterr(err, errlen, "%s: file is larger than 1 MiB", path);
		goto out;
	}
	buf[len] = 0;
	nul = memchr(buf, 0, len);
	if (nul) {
		unsigned int lineno = 1;
		char *p;

		for (p = buf; p < nul; p++)
			lineno += *p == '\n';
		seterr(err, errlen, "%s:%u: NUL character", path, lineno);
		goto out;
	}
	tmp = *c;
	if (hps_config_parse(&tmp, path, buf, err, errlen))
		goto out;
	*c = tmp;
	ret = 0;
out:
	free(buf);
	close(fd);
	return ret;
}

/* The shortest %g that reads back as @v. */
static void fmt_double(char *buf, size_t len, double v)
{
	int prec;

	for (prec = 15; prec < 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
	snprintf(buf, len, "%.17g", v);
}

/* @k's value in @c, in file syntax. */
static void fmt_value(char *buf, size_t len, const struct key *k,
		      const struct hps_config *c)
{
	const void *src = (const char *)c + k->off;
	char d[32];

	switch (k->type) {
	case T_DEVICE:
	case T_PATH:
		snprintf(buf, len, "%s", *(const char *)src ?
			 (const char *)src : "\"\"");
		break;
	case T_INT:
		snprintf(buf, len, "%d", *(const int *)src);
		break;
	case T_DOUBLE:
		fmt_double(buf, len, *(const double *)src);
		break;
	case T_BOOL:
		snprintf(buf, len, "%s", *(const int *)src ? "yes" : "no");
		break;
	case T_LOG_LEVEL:
		snprintf(buf, len, "%s", hps_log_level_name(*(const int *)src));
		break;
	case T_AUTO_DOUBLE:
		if (*(const double *)src < 0)
			snprintf(buf, len, "auto");
		else
			fmt_double(buf, len, *(const double *)src);
		break;
	case T_AUDIT:
		snprintf(buf, len, "%s", audit_names[*(const int *)src]);
		break;
	case T_MAKESTEP:
		fmt_double(d, sizeof(d), *(const double *)src);
		snprintf(buf, len, "%s %d", d,
			 *(const int *)((const char *)c + k->off2));
		break;
	}
}

/* What @k accepts, for the comment above it. */
static void fmt_range(char *buf, size_t len, const struct key *k)
{
	switch (k->type) {
	case T_DEVICE:
	case T_PATH:
	case T_LOG_LEVEL:
	case T_AUDIT:
		*buf = 0;	/* the description says */
		break;
	case T_INT:
		snprintf(buf, len, "%ld..%ld", (long)k->min, (long)k->max);
		break;
	case T_DOUBLE:
		snprintf(buf, len, "%.15g..%.15g", k->min, k->max);
		break;
	case T_BOOL:
		snprintf(buf, len, "yes or no");
		break;
	case T_AUTO_DOUBLE:
		snprintf(buf, len, "auto or %.15g..%.15g", k->min, k->max);
		break;
	case T_MAKESTEP:
		snprintf(buf, len, "THRESHOLD > %.15g and <= %.15g, LIMIT %ld..%ld",
			 k->min, k->max, STEP_LIMIT_MIN, STEP_LIMIT_MAX);
		break;
	}
}

void hps_config_print(const struct hps_config *c, FILE *f)
{
	char val[PATH_MAX + 32], def[PATH_MAX + 32], range[128];
	struct hps_config d;
	size_t i;

	hps_config_defaults(&d);
	fprintf(f, "# hv-ptp-sync configuration; see hv-ptp-sync.conf(5).\n");
	for (i = 0; i < NKEYS; i++) {
		fmt_value(val, sizeof(val), &keys[i], c);
		fmt_value(def, sizeof(def), &keys[i], &d);
		fmt_range(range, sizeof(range), &keys[i]);
		fprintf(f, "\n# %s\n# %s%sdefault %s\n%s %s\n", keys[i].desc,
			range, *range ? "; " : "", def, keys[i].name, val);
	}
}

const char *hps_log_level_name(int level)
{
	if (level < 3 || level > 7)
		return "info";
	return level_names[level];
}
