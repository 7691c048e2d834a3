// SPDX-License-Identifier: GPL-2.0
/*
 * The host's offset from UTC, from chronyd's NTP measurements (see
 * utc_audit.h), and what it does to the UTC bound.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utc_audit.h"

#define NS		1000000000.0
#define CSV_FIELDS	10

const char *hps_audit_state_name(enum hps_audit_state s)
{
	switch (s) {
	case HPS_UTC_OFF:
		return "off";
	case HPS_UTC_NONE:
		return "no-measurement";
	case HPS_UTC_STALE:
		return "stale";
	case HPS_UTC_AGREE:
		return "agree";
	case HPS_UTC_DISAGREE:
		return "disagree";
	}
	return "?";
}

const char *hps_audit_mode_name(int mode)
{
	switch (mode) {
	case HPS_AUDIT_OFF:
		return "off";
	case HPS_AUDIT_REPORT:
		return "report";
	case HPS_AUDIT_BOUND:
		return "bound";
	}
	return NULL;
}

/* seconds as chronyc prints them ("+0.000012345") to ns; -1 if not one */
static int parse_seconds(const char *s, int64_t *ns)
{
	char *end;
	double v;

	if (!*s || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (*end || errno || !isfinite(v) || fabs(v) > 1e6)
		return -1;
	*ns = (int64_t)llround(v * NS);
	return 0;
}

static int parse_uint(const char *s, int base, unsigned long max,
		      unsigned long *out)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*out = strtoul(s, &end, base);
	return *end || errno || *out > max ? -1 : 0;
}

/* one CSV line of "sources": 1 a source in @src, 0 skipped, -1 malformed */
static int parse_line(char *line, struct hps_ntp_source *src)
{
	char *f[CSV_FIELDS], *p = line;
	unsigned long v;
	int64_t raw;
	int n;

	for (n = 0; n < CSV_FIELDS; n++) {
		f[n] = p;
		p = strchr(p, ',');
		if (!p)
			break;
		*p++ = 0;
	}
	if (n != CSV_FIELDS - 1)
		return -1;
	if (strlen(f[0]) != 1 || strlen(f[1]) != 1)
		return -1;
	if (f[0][0] == '#')
		return 0;		/* a reference clock: not UTC from afar */
	if (f[0][0] != '^' && f[0][0] != '=')
		return -1;
	memset(src, 0, sizeof(*src));
	snprintf(src->name, sizeof(src->name), "%s", f[2]);
	if (parse_uint(f[3], 10, 16, &v))
		return -1;
	src->stratum = (int)v;
	if (parse_uint(f[5], 8, 0377, &v))
		return -1;
	src->reach = (unsigned int)v;
	if (!strcmp(f[6], "-"))
		return 0;		/* no sample yet */
	if (parse_uint(f[6], 10, 0xffffffffUL, &v))
		return -1;
	src->ago_ns = (int64_t)v * 1000000000;
	if (parse_seconds(f[7], &src->offset_ns) ||
	    parse_seconds(f[8], &raw) ||
	    parse_seconds(f[9], &src->error_ns) || src->error_ns < 0)
		return -1;
	/* stratum 0: chronyd has no valid sample of it */
	return src->stratum ? 1 : 0;
}

int hps_audit_parse_sources(const char *text, struct hps_ntp_source *s,
			    int max, char *why, size_t why_len)
{
	char line[512];
	int n = 0, lineno = 0, r;
	const char *p = text, *e;
	size_t len;

	while (*p) {
		e = strchr(p, '\n');
		len = e ? (size_t)(e - p) : strlen(p);
		lineno++;
		if (len >= sizeof(line)) {
			snprintf(why, why_len, "line %d: longer than %zu characters",
				 lineno, sizeof(line) - 1);
			return -1;
		}
		memcpy(line, p, len);
		line[len] = 0;
		p += len + (e != NULL);
		if (!len)
			continue;
		if (n == max)
			break;
		r = parse_line(line, &s[n]);
		if (r < 0) {
			snprintf(why, why_len,
				 "line %d: not chronyc's CSV sources line: %.40s",
				 lineno, text + (p - text) - len - (e != NULL));
			return -1;
		}
		n += r;
	}
	return n;
}

static int64_t sat_add(int64_t a, int64_t b)
{
	if (b > 0 && a > INT64_MAX - b)
		return INT64_MAX;
	return a + b;
}

struct edge {
	int64_t at;
	int kind;		/* +1 an interval opens, -1 one closes */
};

static int edge_cmp(const void *a, const void *b)
{
	const struct edge *x = a, *y = b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	/* at the same point, opening first: touching intervals meet */
	return y->kind - x->kind;
}

/*
 * Marzullo's algorithm: where most of @n intervals meet. Where several
 * separate regions tie for most, [*@from, *@to] spans them all (NTP's
 * hull): which of them holds the truth is not known. Returns how many
 * meet there.
 */
static int intersect(const int64_t *lo, const int64_t *hi, int n,
		     int64_t *from, int64_t *to)
{
	struct edge e[2 * HPS_AUDIT_MAX_SOURCES];
	int i, best = 0, cur = 0, first = 1;

	for (i = 0; i < n; i++) {
		e[2 * i] = (struct edge){ lo[i], 1 };
		e[2 * i + 1] = (struct edge){ hi[i], -1 };
	}
	qsort(e, 2 * n, sizeof(e[0]), edge_cmp);
	for (i = 0; i < 2 * n; i++) {
		cur += e[i].kind;
		best = cur > best ? cur : best;
	}
	/* the first region at the best count opens it, the last closes it */
	for (i = 0, cur = 0; i < 2 * n; i++) {
		cur += e[i].kind;
		if (cur == best && e[i].kind > 0) {
			if (first)
				*from = e[i].at;
			first = 0;
			*to = e[i + 1].at;	/* the next edge closes it */
		}
	}
	return best;
}

void hps_utc_follow(struct hps_utc *u, int synced, int64_t bound_ns,
		    int64_t now_ns)
{
	if (synced && !u->following) {
		u->synced_since_ns = now_ns;
		u->stretch_bound_ns = 0;
	}
	if (synced && bound_ns > u->stretch_bound_ns)
		u->stretch_bound_ns = bound_ns;
	u->following = synced;
}

/* Whether the estimate was made in the stretch the clock is in now. */
static int est_current(const struct hps_utc *u)
{
	return u->following && u->est_at_ns >= u->synced_since_ns;
}

/* The state the estimate gives against the declared allowance. */
static enum hps_audit_state judge(const struct hps_utc *u)
{
	return llabs(u->est.offset_ns) > sat_add(u->declared_ns,
						 u->est.error_ns) ?
	       HPS_UTC_DISAGREE : HPS_UTC_AGREE;
}

int hps_utc_declare(struct hps_utc *u, int64_t declared_ns)
{
	enum hps_audit_state old = u->state;

	u->declared_ns = declared_ns;
	if (u->state == HPS_UTC_AGREE || u->state == HPS_UTC_DISAGREE)
		u->state = judge(u);
	if (u->state == HPS_UTC_DISAGREE)
		u->disagreed = 1;
	else if (u->state == HPS_UTC_AGREE)
		u->disagreed = 0;
	return u->state != old;
}

int hps_utc_audit(struct hps_utc *u, const struct hps_ntp_source *s, int n,
		  const char *why, int64_t clock_error_ns, int64_t now_ns)
{
	int64_t lo[HPS_AUDIT_MAX_SOURCES], hi[HPS_AUDIT_MAX_SOURCES];
	enum hps_audit_state old = u->state;
	int i, m = 0, fresh = 0, meet;
	int64_t at, err, from = 0, to = 0, newest = INT64_MIN;

	if (u->mode == HPS_AUDIT_OFF) {
		u->state = HPS_UTC_OFF;
		return u->state != old;
	}
	u->why[0] = 0;
	if (n < 0) {
		snprintf(u->why, sizeof(u->why), "%s", why ? why : "chronyc failed");
		u->state = HPS_UTC_NONE;
		return u->state != old;
	}
	u->ran = 1;
	for (i = 0; i < n && m < HPS_AUDIT_MAX_SOURCES; i++) {
		if (s[i].ago_ns > u->max_age_ns || !s[i].reach)
			continue;
		fresh++;
		at = now_ns - s[i].ago_ns;
		/*
		 * chronyc gives the sample's age in whole seconds: the sample
		 * may be up to a second older, so it counts only if even then
		 * the clock was already following the host.
		 */
		if (!u->following || at - 1000000000 < u->synced_since_ns)
			continue;
		/*
		 * The sample measured the system clock against the source:
		 * the host was within the clock's own bound of it (the
		 * largest since the clock follows the host), and the host's
		 * offset may have moved at PHI since.
		 */
		err = sat_add(sat_add(s[i].error_ns, clock_error_ns >
				      u->stretch_bound_ns ? clock_error_ns :
				      u->stretch_bound_ns),
			      (s[i].ago_ns + 1000000000) / 1000000000 *
			      HPS_AUDIT_PHI_PPB);
		lo[m] = s[i].offset_ns - err;
		hi[m] = s[i].offset_ns + err;
		if (at > newest)
			newest = at;
		m++;
	}
	if (!m) {
		if (fresh) {
			u->state = HPS_UTC_STALE;
			snprintf(u->why, sizeof(u->why),
				 "no sample since the clock follows the host");
		} else {
			u->state = HPS_UTC_NONE;
			snprintf(u->why, sizeof(u->why), n ?
				 "no source reached in the last %lld s" :
				 "chronyd has no NTP source",
				 (long long)(u->max_age_ns / 1000000000));
		}
		return u->state != old;
	}
	meet = intersect(lo, hi, m, &from, &to);
	if (2 * meet <= m) {
		/* no majority: which source is right is not known */
		u->state = HPS_UTC_NONE;
		snprintf(u->why, sizeof(u->why),
			 "the %d sources disagree (at most %d agree)", m, meet);
		return u->state != old;
	}
	u->est = (struct hps_audit_est){
		.used = m,
		.agreeing = meet,
		.offset_ns = from / 2 + to / 2 + (from % 2 + to % 2) / 2,
		.error_ns = to / 2 - from / 2 + 1,
		.sample_mono_ns = newest,
	};
	u->est_at_ns = now_ns;
	u->state = judge(u);
	u->disagreed = u->state == HPS_UTC_DISAGREE;
	return u->state != old;
}

int64_t hps_utc_allowance(const struct hps_utc *u, int64_t now_ns, int *vouch)
{
	int64_t age;

	/* a disagreement holds until a measurement agrees */
	*vouch = !u->disagreed;
	switch (u->state) {
	case HPS_UTC_DISAGREE:
		*vouch = 0;
		return u->declared_ns;
	case HPS_UTC_AGREE:
		if (u->mode != HPS_AUDIT_BOUND)
			return u->declared_ns;
		/* made before the clock last came to follow the host: stale */
		if (!est_current(u)) {
			*vouch = 0;
			return u->declared_ns;
		}
		/*
		 * The measurement instead of the declaration: the host is
		 * within its error of the offset measured, and may have
		 * moved at PHI since the audit.
		 */
		age = now_ns - u->est_at_ns;
		if (age < 0)
			age = 0;
		return sat_add(sat_add(llabs(u->est.offset_ns), u->est.error_ns),
			       age / 1000 * (HPS_AUDIT_PHI_PPB / 1000) / 1000);
	case HPS_UTC_STALE:
		if (u->mode == HPS_AUDIT_BOUND)
			*vouch = 0;
		return u->declared_ns;
	case HPS_UTC_OFF:
	case HPS_UTC_NONE:
		break;
	}
	return u->declared_ns;
}

const char *hps_utc_reference(int64_t allowance_ns)
{
	return allowance_ns > 0 ? "utc" : "host";
}
