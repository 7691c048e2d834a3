// SPDX-License-Identifier: GPL-2.0
/*
 * bench-report: the tables and the goals of docs/benchmarks.md, from the
 * RESULT lines that bench-run printed (one "results" file a run
 * directory, "key=value" words; a "versions" file beside it names the
 * peers' packages). bench.sh lays the page out and draws the plots; every
 * figure and every verdict comes from here.
 *
 *   bench-report table DIR SETUPS      the table of a run's setups
 *   bench-report goals DIR             the goals of an azure run
 *   bench-report goals-ideal DIR       the goals of an ideal run
 *   bench-report goals-newer DIR EDIR  hv-ptp-sync (E, in EDIR) against
 *                                      a newer suite's peers (in DIR)
 *   bench-report ages DIR...           our PHC against the oracle by age,
 *                                      pooled over the P runs in DIRs
 *
 * A figure is missing when the run has no such word, and "never" when
 * bench-run wrote a negative value (a settling time not reached, a CPU or
 * RSS figure it could not read). A goal with a missing or "never" figure
 * on either side is not met.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINE	4096
#define MAX_VALUE	64

/* ---- reading the results ---- */

/*
 * The value of @key on the line of @setup in @dir/results, into @val;
 * returns 0 when there is none (the last such line wins).
 */
static int field(const char *dir, char setup, const char *key, char *val,
		 size_t len)
{
	char path[4096], line[MAX_LINE], *word[256], *save, want[16];
	size_t klen = strlen(key);
	int found = 0, mine, n, i;
	FILE *f;

	snprintf(path, sizeof(path), "%s/results", dir);
	f = fopen(path, "r");
	if (!f)
		return 0;
	snprintf(want, sizeof(want), "setup=%c", setup);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		n = 0;
		mine = 0;
		for (word[n] = strtok_r(line, " ", &save); word[n] && n < 255;
		     word[n] = strtok_r(NULL, " ", &save))
			mine |= !strcmp(word[n++], want);
		for (i = 0; mine && i < n; i++)
			if (!strncmp(word[i], key, klen) && word[i][klen] == '=') {
				snprintf(val, len, "%s", word[i] + klen + 1);
				found = 1;
			}
	}
	fclose(f);
	return found;
}

/* A figure: present, and its value. */
struct fig {
	int have;
	double v;
	char text[MAX_VALUE];
};

static struct fig get(const char *dir, char setup, const char *key)
{
	struct fig g = { 0 };

	if (field(dir, setup, key, g.text, sizeof(g.text)) && g.text[0]) {
		g.have = 1;
		g.v = strtod(g.text, NULL);
	}
	return g;
}

/* The first word of @dir/versions after @package, up to its first '-'. */
static void version(const char *dir, const char *package, char *buf,
		    size_t len)
{
	char path[4096], line[256], name[64], ver[128];
	FILE *f;

	buf[0] = 0;
	snprintf(path, sizeof(path), "%s/versions", dir);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %127s", name, ver) == 2 &&
		    !strcmp(name, package)) {
			ver[strcspn(ver, "-")] = 0;
			snprintf(buf, len, "%s", ver);
		}
	fclose(f);
}

/* ---- figures as the page shows them ---- */

/* ns as ns, µs or ms; "-" missing, "never" negative */
static const char *us(const struct fig *g, char *buf, size_t len)
{
	if (!g->have)
		return "-";
	if (g->v < 0)
		return "never";
	if (g->v < 1000)
		snprintf(buf, len, "%d ns", (int)g->v);
	else if (g->v < 1e6)
		snprintf(buf, len, "%.2f µs", g->v / 1000);
	else
		snprintf(buf, len, "%.2f ms", g->v / 1e6);
	return buf;
}

static const char *secs(const struct fig *g, char *buf, size_t len)
{
	if (!g->have)
		return "-";
	if (g->v < 0)
		return "never";
	snprintf(buf, len, "%.1f s", g->v);
	return buf;
}

/* A ratio of two figures, or none where either is missing or never. */
struct ratio {
	int have;
	double r;
	char text[32];
};

static struct ratio ratio(const struct fig *a, const struct fig *b)
{
	struct ratio q = { 0 };

	if (!a->have || !b->have || a->v < 0 || b->v <= 0) {
		snprintf(q.text, sizeof(q.text), "missing");
		return q;
	}
	q.have = 1;
	q.r = a->v / b->v;
	snprintf(q.text, sizeof(q.text), "%.3g", q.r);
	return q;
}

/* Met: a ratio there is, no larger than @limit. */
static const char *met(const struct ratio *q, double limit)
{
	return q->have && q->r <= limit ? "yes" : "**no**";
}

/* "A: chronyd 4.9", "E: hv-ptp-sync", "G: chronyd 4.9, poll -1" */
static const char *label(const char *dir, char setup, char *buf, size_t len)
{
	char daemon[MAX_VALUE] = "", v[128] = "";

	field(dir, setup, "daemon", daemon, sizeof(daemon));
	if (!strcmp(daemon, "chronyd"))
		version(dir, "chrony", v, sizeof(v));
	else if (!strcmp(daemon, "phc2sys"))
		version(dir, "linuxptp", v, sizeof(v));
	snprintf(buf, len, "%c: %s%s%s%s", setup, daemon, v[0] ? " " : "", v,
		 setup == 'F' || setup == 'G' ? ", poll -1" :
		 setup == 'U' ? ", UTC audit" : "");
	return buf;
}

/* whose PHC a setup reads */
static const char *phc(char setup)
{
	return strchr("ABF", setup) ? "hv_utils" : "hv_ptp_ext";
}

/* ---- the tables ---- */

static void table(const char *dir, const char *setups)
{
	char l[256], b[10][32], mode[MAX_VALUE], died[8];
	const char *x;

	printf("| setup | PHC | offset read | window | PHC error RMS / max | system RMS | p99 | max | within 10 µs after | within 1 µs after | CPU | peak RSS |\n");
	printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
	for (x = setups; *x; x++) {
		struct fig window = get(dir, *x, "window_ns");
		struct fig prms = get(dir, *x, "phc_rms"), pmax = get(dir, *x, "phc_max");
		struct fig srms = get(dir, *x, "sys_rms"), sp99 = get(dir, *x, "sys_p99");
		struct fig smax = get(dir, *x, "sys_max");
		struct fig t10 = get(dir, *x, "t10"), t1 = get(dir, *x, "t1");
		struct fig cpu = get(dir, *x, "cpu_s"), rss = get(dir, *x, "rss_kb");
		char setup[8];

		if (!field(dir, *x, "setup", setup, sizeof(setup))) {
			printf("| %c | (no result) |||||||||||\n", *x);
			continue;
		}
		mode[0] = died[0] = 0;
		field(dir, *x, "mode", mode, sizeof(mode));
		field(dir, *x, "died", died, sizeof(died));
		printf("| %s%s | %s | %s | %s | %s / %s | %s | %s | %s | %s | %s | %s s | %s KiB |\n",
		       label(dir, *x, l, sizeof(l)),
		       !strcmp(died, "1") ? " (died)" : "", phc(*x), mode,
		       us(&window, b[0], 32), us(&prms, b[1], 32),
		       us(&pmax, b[2], 32), us(&srms, b[3], 32),
		       us(&sp99, b[4], 32), us(&smax, b[5], 32),
		       secs(&t10, b[6], 32), secs(&t1, b[7], 32),
		       cpu.have ? cpu.text : "", rss.have ? rss.text : "");
	}
	{
		struct fig ref = get(dir, setups[0] ? setups[strlen(setups) - 1] : 0,
				     "ref_rms");

		printf("\nReference limit (an estimator that knows the host's true rate and averages its last 32 samples), second half: RMS %s.\n",
		       us(&ref, b[0], 32));
	}
}

/* how a figure shows */
typedef const char *(*show_fn)(const struct fig *g, char *buf, size_t len);

/* One goal's row: "| WHAT | A vs B | ratio | met |", figures by @show. */
static void row(const char *what, const struct fig *a, const struct fig *b,
		double limit, show_fn show)
{
	struct ratio q = ratio(a, b);
	char x[32], y[32];

	printf("| %s | %s vs %s | %s | %s |\n", what, show(a, x, sizeof(x)),
	       show(b, y, sizeof(y)), q.text, met(&q, limit));
}

static void row_ns(const char *what, const struct fig *a, const struct fig *b,
		   double limit)
{
	row(what, a, b, limit, us);
}

static void row_s(const char *what, const struct fig *a, const struct fig *b,
		  double limit)
{
	row(what, a, b, limit, secs);
}

/* as they were written: CPU seconds, KiB */
static void row_raw(const char *what, const struct fig *a, const struct fig *b,
		    const char *unit, double limit)
{
	struct ratio q = ratio(a, b);

	printf("| %s | %s%s vs %s %s | %s | %s |\n", what, a->have ? a->text : "",
	       !strcmp(unit, "s") ? " s" : "", b->have ? b->text : "", unit,
	       q.text, met(&q, limit));
}

/*
 * The smallest figure @key that is not "never" among @setups of @dir, and
 * which setup has it; none when no setup has one.
 */
static struct fig best_of(const char *dir, const char *setups, const char *key,
			  int never_ok, char *which)
{
	struct fig best = { 0 }, g;
	const char *x;

	*which = 0;
	for (x = setups; *x; x++) {
		g = get(dir, *x, key);
		if (!g.have || (!never_ok && g.v < 0))
			continue;
		if (!best.have || g.v < best.v) {
			best = g;
			*which = *x;
		}
	}
	return best;
}

/* chronyd on our PHC within 5 % of the PHC's own error */
static void trusts(const char *dir, char setup)
{
	struct fig s = get(dir, setup, "sys_rms"), p = get(dir, setup, "phc_rms");
	char l[256], what[512];

	if (!s.have)
		return;
	snprintf(what, sizeof(what), "system RMS: %s within 5 %% of the PHC it reads",
		 label(dir, setup, l, sizeof(l)));
	row_ns(what, &s, &p, 1.05);
}

/* the UTC audit (U) leaves the system clock as E keeps it */
static void audit_untouched(const char *dir)
{
	struct fig u = get(dir, 'U', "sys_rms"), e = get(dir, 'E', "sys_rms");

	if (u.have)
		row_ns("system RMS: U (the UTC audit on) within 10 % of E", &u, &e,
		       1.1);
}

static void goals_header(void)
{
	printf("| goal | measured | ratio | met |\n|---|---|---|---|\n");
}

/* an exact PHC: hv-ptp-sync adds nothing to it */
static void goals_ideal(const char *dir)
{
	struct fig e_sys = get(dir, 'E', "sys_rms"), d_sys = get(dir, 'D', "sys_rms");
	struct fig e_t10 = get(dir, 'E', "t10"), e_cpu = get(dir, 'E', "cpu_s");
	struct fig a_cpu = get(dir, 'A', "cpu_s"), t10, c_sys, c_phc;
	char which, x[32], y[32];

	goals_header();
	row_ns("system RMS: E no worse than phc2sys (D) on the same PHC",
	       &e_sys, &d_sys, 1);
	t10 = best_of(dir, "ABCD", "t10", 0, &which);
	row_s("within 10 µs: E no later than the fastest peer", &e_t10, &t10, 1);
	row_raw("CPU: E ≤ chronyd (A)", &e_cpu, &a_cpu, "s", 1);
	audit_untouched(dir);
	c_sys = get(dir, 'C', "sys_rms");
	c_phc = get(dir, 'C', "phc_rms");
	if (c_sys.have)
		printf("\nchronyd (C) on this PHC, whose own error is %s RMS: %s system RMS. That is what chronyd adds to any PHC in this run, its own loop from the same start; the azure tables compare C with the PHC it reads.\n",
		       us(&c_phc, x, sizeof(x)), us(&c_sys, y, sizeof(y)));
}

static void goals(const char *dir)
{
	struct fig e = get(dir, 'E', "sys_rms"), a = get(dir, 'A', "sys_rms");
	struct fig e_phc = get(dir, 'E', "phc_rms"), a_phc = get(dir, 'A', "phc_rms");
	struct fig e_t10 = get(dir, 'E', "t10"), e_t1 = get(dir, 'E', "t1");
	struct fig e_cpu = get(dir, 'E', "cpu_s"), a_cpu = get(dir, 'A', "cpu_s");
	struct fig e_rss = get(dir, 'E', "rss_kb"), a_rss = get(dir, 'A', "rss_kb");
	struct fig e_ref = get(dir, 'E', "ref_rms"), best, t;
	char which;

	goals_header();
	row_ns("PHC RMS: ours ≤ 1/10 of in-tree", &e_phc, &a_phc, 0.1);
	best = best_of(dir, "CD", "sys_rms", 1, &which);
	row_ns("system RMS: E ≤ 1/2 of the better of C and D", &e, &best, 0.5);
	row_ns("system RMS: E ≤ 1/10 of A", &e, &a, 0.1);
	t = best_of(dir, "ABCD", "t10", 0, &which);
	row_s("within 10 µs: E no later than the fastest peer", &e_t10, &t, 1);
	t = best_of(dir, "ABCD", "t1", 0, &which);
	row_s("within 1 µs: E ≤ 1/2 of the best peer", &e_t1, &t, 0.5);
	row_raw("CPU: E ≤ chronyd (A)", &e_cpu, &a_cpu, "s", 1);
	row_raw("peak RSS: E ≤ chronyd (A)", &e_rss, &a_rss, "KiB", 1);
	row_ns("E within 2× of the reference limit", &e, &e_ref, 2);
	audit_untouched(dir);
	trusts(dir, 'C');
}

/* hv-ptp-sync (E, in @edir) against a newer suite's peers (in @dir) */
static void goals_newer(const char *dir, const char *edir)
{
	struct fig e = get(edir, 'E', "sys_rms"), best, t, v;
	struct fig e_t10 = get(edir, 'E', "t10"), e_t1 = get(edir, 'E', "t1");
	struct fig e_cpu = get(edir, 'E', "cpu_s");
	char which, what[512], l[256];
	const char *x;

	goals_header();
	best = best_of(dir, "CDG", "sys_rms", 1, &which);
	snprintf(what, sizeof(what), "system RMS: E ≤ 1/2 of the best peer on hv_ptp_ext's PHC (%c)",
		 which ? which : ' ');
	row_ns(what, &e, &best, 0.5);
	best = best_of(dir, "ABF", "sys_rms", 1, &which);
	snprintf(what, sizeof(what), "system RMS: E ≤ 1/10 of the best peer on hv_utils' PHC (%c)",
		 which ? which : ' ');
	row_ns(what, &e, &best, 0.1);
	t = best_of(dir, "ABCDFG", "t10", 0, &which);
	snprintf(what, sizeof(what), "within 10 µs: E no later than the fastest peer (%c)",
		 which ? which : ' ');
	row_s(what, &e_t10, &t, 1);
	t = best_of(dir, "ABCDFG", "t1", 0, &which);
	snprintf(what, sizeof(what), "within 1 µs: E ≤ 1/2 of the fastest peer (%c)",
		 which ? which : ' ');
	row_s(what, &e_t1, &t, 0.5);
	for (x = "AF"; *x; x++) {
		v = get(dir, *x, "cpu_s");
		if (!v.have)
			continue;
		snprintf(what, sizeof(what), "CPU: E ≤ %s", label(dir, *x, l, sizeof(l)));
		row_raw(what, &e_cpu, &v, "s", 1);
	}
	trusts(dir, 'C');
	trusts(dir, 'G');
}

/* ---- our PHC against the oracle by age ---- */

/* ns rounded to the ns, as the ratio below takes them */
static const char *ns_round(double v, char *buf, size_t len)
{
	v = floor(v + 0.5);
	if (v < 1000)
		snprintf(buf, len, "%d ns", (int)v);
	else
		snprintf(buf, len, "%.2f µs", v / 1000);
	return buf;
}

/*
 * One row an age: the P runs' sums of squares pooled (a<AGE>_n readings,
 * a<AGE>_phc2 and a<AGE>_or2 the squared errors of our PHC and of the
 * oracle, a<AGE>_var the oracle's own variance), the RMS of each run
 * beside. Goal: our RMS within 1.25× of the oracle's.
 */
static void ages(int ndirs, char **dirs)
{
	static const int age[] = { 30, 60, 120, 300, 600 };
	char key[32], per[512], b[4][32];
	unsigned int a;
	int i;

	for (a = 0; a < sizeof(age) / sizeof(age[0]); a++) {
		double n = 0, p = 0, o = 0, w = 0, k, ours, oracle;
		struct fig g;

		per[0] = 0;
		for (i = 0; i < ndirs; i++) {
			snprintf(key, sizeof(key), "a%d_n", age[a]);
			g = get(dirs[i], 'P', key);
			k = g.have ? g.v : 0;
			n += k;
			snprintf(key, sizeof(key), "a%d_phc2", age[a]);
			g = get(dirs[i], 'P', key);
			p += g.have ? g.v : 0;
			snprintf(per + strlen(per), sizeof(per) - strlen(per), "%s%s",
				 per[0] ? " / " : "",
				 k > 0 ? ns_round(sqrt(g.v / k), b[0], 32) : "-");
			snprintf(key, sizeof(key), "a%d_or2", age[a]);
			g = get(dirs[i], 'P', key);
			o += g.have ? g.v : 0;
			snprintf(key, sizeof(key), "a%d_var", age[a]);
			g = get(dirs[i], 'P', key);
			w += g.have ? g.v : 0;
		}
		if (!n) {
			printf("| %d s | 0 | - | - | - | - | missing | **no** |\n", age[a]);
			continue;
		}
		ours = floor(sqrt(p / n) + 0.5);
		oracle = floor(sqrt(o / n) + 0.5);
		if (oracle <= 0) {
			printf("| %d s | %.0f | %s | %s | %s | %s | missing | **no** |\n",
			       age[a], n, ns_round(sqrt(p / n), b[0], 32), per,
			       ns_round(sqrt(o / n), b[1], 32),
			       ns_round(sqrt(w / n), b[2], 32));
			continue;
		}
		printf("| %d s | %.0f | %s | %s | %s | %s | %.3g | %s |\n", age[a],
		       n, ns_round(sqrt(p / n), b[0], 32), per,
		       ns_round(sqrt(o / n), b[1], 32),
		       ns_round(sqrt(w / n), b[2], 32), ours / oracle,
		       ours / oracle <= 1.25 ? "yes" : "**no**");
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: bench-report table DIR SETUPS | goals DIR | goals-ideal DIR |\n"
		"                    goals-newer DIR EDIR | ages DIR...\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return usage();
	if (!strcmp(argv[1], "table") && argc == 4)
		table(argv[2], argv[3]);
	else if (!strcmp(argv[1], "goals") && argc == 3)
		goals(argv[2]);
	else if (!strcmp(argv[1], "goals-ideal") && argc == 3)
		goals_ideal(argv[2]);
	else if (!strcmp(argv[1], "goals-newer") && argc == 4)
		goals_newer(argv[2], argv[3]);
	else if (!strcmp(argv[1], "ages"))
		ages(argc - 2, argv + 2);
	else
		return usage();
	return ferror(stdout) ? 1 : 0;
}
