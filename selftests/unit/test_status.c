// SPDX-License-Identifier: GPL-2.0
/*
 * user/status.c on the host: the state file (round trip, atomicity,
 * malformed input), the chronyc- and ntpq-style output line by line, the
 * JSON object and the Prometheus textfile.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "status.h"
#include "kselftest_harness.h"

#define SEC		1000000000LL
#define REF_TIME	(1795264496LL * SEC)	/* Sat Nov 21 12:34:56 2026 UTC */
#define MONO		(100 * SEC)
/* a string member, from a literal that fits */
#define SET(m, s)	snprintf(m, sizeof(m), "%s", s)

/* The daemon's view of a locked clock, as in the chronyc example. */
static void locked(struct hps_status *st)
{
	memset(st, 0, sizeof(*st));
	st->pid = 1234;
	SET(st->state, "locked");
	SET(st->device, "/dev/ptp0");
	SET(st->clock_name, "hyperv");
	SET(st->driver, "hv_ptp_ext");
	SET(st->mode, "PRECISE");
	st->stratum = 3;
	st->ref_stratum = 2;
	st->leap = 0;
	st->synced = 1;
	st->ref_time_ns = REF_TIME;
	st->last_offset_ns = 12;
	st->rms_offset_ns = 34;
	st->window_ns = 0;
	st->jitter_ns = 5;
	st->error_bound_ns = 400;
	st->est_error_ns = 436;
	st->freq_ppm = 3.512;
	st->residual_freq_ppm = 0.001;
	st->skew_ppm = 0.010;
	st->phc_freq_ppb = 12.5;
	st->poll_ms = 500;
	st->reach = 0377;
	st->updates = 1000;
	st->steps = 1;
	st->read_errors = 2;
	st->interference = 0;
	st->updated_mono_ns = MONO;
	SET(st->error_reference, "host");
	SET(st->cb_reference, "utc");
	st->cb_bound_ns = 100000436;
	st->utc_allowance_ns = 100000000;
	st->host_utc_declared_ns = 100000000;
	SET(st->utc_audit, "agree");
	st->host_utc_offset_ns = 2000123;
	st->host_utc_error_ns = 150000;
	st->utc_sources = 2;
	st->utc_agreeing = 2;
}

/* Every field non-zero and distinct, extremes included. */
static void odd(struct hps_status *st)
{
	memset(st, 0, sizeof(*st));
	st->pid = 987654321;
	SET(st->state, "holdover");
	SET(st->device, "/dev/ptp17");
	SET(st->clock_name, "hyperv 2 (test)");
	SET(st->driver, "hv_utils");
	SET(st->mode, "EXTENDED");
	st->stratum = -7;
	st->ref_stratum = 16;
	st->leap = 2;
	st->synced = 1;
	st->ref_time_ns = INT64_MAX;
	st->last_offset_ns = INT64_MIN;
	st->rms_offset_ns = 123456789012LL;
	st->window_ns = 2345;
	st->jitter_ns = -1;
	st->error_bound_ns = 777;
	st->est_error_ns = 888;
	st->freq_ppm = -512.125;
	st->residual_freq_ppm = 1e-9;
	st->skew_ppm = 0.25;
	st->phc_freq_ppb = -3.5e7;
	st->poll_ms = 60000;
	st->reach = UINT_MAX;
	st->updates = UINT64_MAX;
	st->steps = 3;
	st->read_errors = 4;
	st->interference = 5;
	st->updated_mono_ns = 42;
}

/* ---- files ---- */

FIXTURE(dir) {
	char dir[64];
	char path[128];
};

FIXTURE_SETUP(dir)
{
	SET(self->dir, "/tmp/hps_status.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	snprintf(self->path, sizeof(self->path), "%s/state", self->dir);
}

/* Remove @path and what is in it (two levels are all the tests make). */
static void remove_tree(const char *path, int depth)
{
	char p[512];
	struct dirent *de;
	DIR *d;

	if (!unlink(path) || depth > 2)
		return;
	d = opendir(path);
	if (d) {
		while ((de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
			remove_tree(p, depth + 1);
		}
		closedir(d);
	}
	rmdir(path);
}

FIXTURE_TEARDOWN(dir)
{
	remove_tree(self->dir, 0);
}

/* Names in @dir, sorted, joined with spaces. */
static void list_dir(const char *dir, char *out, size_t len)
{
	struct dirent **names;
	int i, n = scandir(dir, &names, NULL, alphasort);

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.')
			snprintf(out + strlen(out), len - strlen(out), "%s%s",
				 out[0] ? " " : "", names[i]->d_name);
		free(names[i]);
	}
	if (n >= 0)
		free(names);
}

static void put_file(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);

	if (fd >= 0) {
		if (write(fd, text, len) != (ssize_t)len)
			unlink(path);
		close(fd);
	}
}

static char *slurp(const char *path)
{
	static char buf[16384];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

TEST_F(dir, round_trip)
{
	struct hps_status in, out;
	char why[160];

	odd(&in);
	ASSERT_EQ(0, hps_status_write(self->path, &in));
	memset(&out, 0xa5, sizeof(out));
	ASSERT_EQ(0, hps_status_read(self->path, &out, why, sizeof(why)));
	EXPECT_EQ(in.pid, out.pid);
	EXPECT_STREQ(in.state, out.state);
	EXPECT_STREQ(in.device, out.device);
	EXPECT_STREQ(in.clock_name, out.clock_name);
	EXPECT_STREQ(in.driver, out.driver);
	EXPECT_STREQ(in.mode, out.mode);
	EXPECT_EQ(in.stratum, out.stratum);
	EXPECT_EQ(in.ref_stratum, out.ref_stratum);
	EXPECT_EQ(in.leap, out.leap);
	EXPECT_EQ(in.synced, out.synced);
	EXPECT_EQ(in.ref_time_ns, out.ref_time_ns);
	EXPECT_EQ(in.last_offset_ns, out.last_offset_ns);
	EXPECT_EQ(in.rms_offset_ns, out.rms_offset_ns);
	EXPECT_EQ(in.window_ns, out.window_ns);
	EXPECT_EQ(in.jitter_ns, out.jitter_ns);
	EXPECT_EQ(in.error_bound_ns, out.error_bound_ns);
	EXPECT_EQ(in.est_error_ns, out.est_error_ns);
	EXPECT_TRUE(in.freq_ppm == out.freq_ppm);
	EXPECT_TRUE(in.residual_freq_ppm == out.residual_freq_ppm);
	EXPECT_TRUE(in.skew_ppm == out.skew_ppm);
	EXPECT_TRUE(in.phc_freq_ppb == out.phc_freq_ppb);
	EXPECT_EQ(in.poll_ms, out.poll_ms);
	EXPECT_EQ(in.reach, out.reach);
	/* JSON integers here are int64_t: a counter saturates there */
	EXPECT_EQ(in.updates > INT64_MAX ? INT64_MAX : in.updates, out.updates);
	out.updates = in.updates;
	EXPECT_EQ(in.steps, out.steps);
	EXPECT_EQ(in.read_errors, out.read_errors);
	EXPECT_EQ(in.interference, out.interference);
	EXPECT_EQ(in.updated_mono_ns, out.updated_mono_ns);
	/* and nothing else: the reader zeroes what the file does not set */
	EXPECT_EQ(0, memcmp(&in, &out, sizeof(in)));

	/* a second write replaces the first */
	locked(&in);
	ASSERT_EQ(0, hps_status_write(self->path, &in));
	ASSERT_EQ(0, hps_status_read(self->path, &out, why, sizeof(why)));
	EXPECT_EQ(0, memcmp(&in, &out, sizeof(in)));
}

TEST_F(dir, file_format)
{
	static const char * const keys[] = {
		"pid", "state", "device", "clock_name", "driver", "mode",
		"stratum", "ref_stratum", "leap", "synced", "ref_time_ns",
		"last_offset_ns", "rms_offset_ns", "window_ns", "jitter_ns",
		"error_bound_ns", "est_error_ns", "freq_ppm",
		"residual_freq_ppm", "skew_ppm", "phc_freq_ppb", "poll_ms",
		"reach", "updates", "steps", "read_errors", "interference",
		"updated_mono_ns",
	};
	struct hps_status st;
	char key[64], *text;
	struct stat sb;
	size_t i;

	locked(&st);
	ASSERT_EQ(0, hps_status_write(self->path, &st));
	text = slurp(self->path);
	ASSERT_NE(NULL, text);
	/* one compact JSON object, "format" first, the man page's keys */
	EXPECT_EQ(0, strncmp(text, "{\"format\":2,", 12)) TH_LOG("%s", text);
	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		snprintf(key, sizeof(key), ",\"%s\":", keys[i]);
		EXPECT_NE(NULL, strstr(text, key)) TH_LOG("no %s", keys[i]);
	}
	EXPECT_NE(NULL, strstr(text, ",\"state\":\"locked\","));
	EXPECT_NE(NULL, strstr(text, ",\"freq_ppm\":3.512,"));
	EXPECT_NE(NULL, strstr(text, ",\"reach\":255,"));
	EXPECT_NE(NULL, strstr(text, ",\"ref_time_ns\":1795264496000000000,"));
	EXPECT_EQ('}', text[strlen(text) - 1]);
	EXPECT_EQ(NULL, strchr(text, '\n'));
	ASSERT_EQ(0, stat(self->path, &sb));
	EXPECT_TRUE(S_ISREG(sb.st_mode));
}

TEST_F(dir, atomic)
{
	struct hps_status st;
	char names[512], sub[256];
	struct stat sb;

	umask(022);
	locked(&st);
	ASSERT_EQ(0, hps_status_write(self->path, &st));
	/* only the file itself: the temporary one was renamed over it */
	list_dir(self->dir, names, sizeof(names));
	EXPECT_STREQ("state", names);
	ASSERT_EQ(0, stat(self->path, &sb));
	EXPECT_EQ(0644, sb.st_mode & 0777);

	/* a stale temporary file of ours is replaced, not left behind */
	snprintf(sub, sizeof(sub), "%s.tmp.%ld", self->path, (long)getpid());
	put_file(sub, "junk", 4);
	ASSERT_EQ(0, hps_status_write(self->path, &st));
	list_dir(self->dir, names, sizeof(names));
	EXPECT_STREQ("state", names);

	/* a stale symlink under the temporary name is not followed */
	ASSERT_EQ(0, symlink("/nonexistent/hps", sub));
	EXPECT_EQ(-ELOOP, hps_status_write(self->path, &st));
	list_dir(self->dir, names, sizeof(names));
	EXPECT_STREQ("state", names);
	EXPECT_EQ(0, hps_status_write(self->path, &st));

	/* rename() fails (a non-empty directory in the way): no temp left */
	snprintf(sub, sizeof(sub), "%s/busy", self->dir);
	ASSERT_EQ(0, mkdir(sub, 0755));
	snprintf(sub, sizeof(sub), "%s/busy/x", self->dir);
	put_file(sub, "x", 1);
	snprintf(sub, sizeof(sub), "%s/busy", self->dir);
	EXPECT_EQ(-EISDIR, hps_status_write(sub, &st));
	list_dir(self->dir, names, sizeof(names));
	EXPECT_STREQ("busy state", names);

	/* open() fails: no such directory */
	snprintf(sub, sizeof(sub), "%s/none/state", self->dir);
	EXPECT_EQ(-ENOENT, hps_status_write(sub, &st));
	EXPECT_EQ(-ENOENT, hps_status_write_prometheus(sub, &st));
	list_dir(self->dir, names, sizeof(names));
	EXPECT_STREQ("busy state", names);
}

TEST_F(dir, unknown_and_missing_keys)
{
	static const char text[] =
		"{\"format\": 2,\n"
		" \"future_key\": {\"some\": [\"value\"]},\n"
		" \"stratum\": 4,\n"
		" \"state\": \"tracking\",\n"
		" \"poll_ms\": 1000}";		/* no final newline */
	struct hps_status st;
	char why[160];

	put_file(self->path, text, sizeof(text) - 1);
	ASSERT_EQ(0, hps_status_read(self->path, &st, why, sizeof(why)));
	EXPECT_EQ(4, st.stratum);
	EXPECT_STREQ("tracking", st.state);
	EXPECT_EQ(1000, st.poll_ms);
	EXPECT_EQ(0, st.pid);
	EXPECT_STREQ("", st.device);

	/* null for a double that was no number; a whole number is a double */
	put_file(self->path, "{\"format\":2,\"freq_ppm\":null,\"skew_ppm\":3}",
		 41);
	ASSERT_EQ(0, hps_status_read(self->path, &st, why, sizeof(why)));
	EXPECT_TRUE(isnan(st.freq_ppm));
	EXPECT_TRUE(st.skew_ppm == 3.0);
}

TEST_F(dir, malformed)
{
	static const struct {
		const char *text;
		const char *why;
	} bad[] = {
		{ "", "not a state file (line 1" },		/* empty */
		{ "{\"format\":2,\"stratum\":3", "not a state file (line 1" },	/* truncated */
		{ "format=1\nstratum=3\n", "not a state file" },	/* the old format */
		{ "[1, 2]", "no \"format\"" },
		{ "{\"stratum\":3}", "no \"format\"" },
		{ "{\"format\":\"2\"}", "no \"format\"" },
		{ "{\"format\":1,\"stratum\":3}", "format 1, this hv-ptp-sync reads 2" },
		{ "{\"format\":3}", "format 3" },
		{ "{\"format\":2,\"stratum\":\"3\"}", "\"stratum\": wrong type" },
		{ "{\"format\":2,\"stratum\":3.5}", "\"stratum\": wrong type" },
		{ "{\"format\":2,\"stratum\":2147483648}", "\"stratum\"" },
		{ "{\"format\":2,\"pid\":99999999999999999999}", "not a state file" },
		{ "{\"format\":2,\"updates\":-1}", "\"updates\"" },
		{ "{\"format\":2,\"reach\":4294967296}", "\"reach\"" },
		{ "{\"format\":2,\"reach\":-1}", "\"reach\"" },
		{ "{\"format\":2,\"freq_ppm\":\"1.5\"}", "\"freq_ppm\"" },
		{ "{\"format\":2,\"freq_ppm\":true}", "\"freq_ppm\"" },
		{ "{\"format\":2,\"state\":5}", "\"state\"" },
		{ "{\"format\":2,\"stratum\":1,\"stratum\":2}", "duplicate" },
		{ "{\"format\":2} {}", "not a state file" },	/* trailing data */
	};
	struct hps_status st;
	char why[160];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		put_file(self->path, bad[i].text, strlen(bad[i].text));
		memset(&st, 0x5a, sizeof(st));
		EXPECT_EQ(-EINVAL, hps_status_read(self->path, &st, why,
						   sizeof(why)))
			TH_LOG("accepted '%s'", bad[i].text);
		EXPECT_NE(NULL, strstr(why, bad[i].why))
			TH_LOG("'%s': said '%s'", bad[i].text, why);
		/* zeroed, not half read */
		EXPECT_EQ(0, st.stratum);
		EXPECT_EQ(0, st.pid);
	}

	/* an embedded NUL */
	put_file(self->path, "{\"format\":2,\"state\":\"a\0b\"}", 26);
	EXPECT_EQ(-EINVAL, hps_status_read(self->path, &st, why, sizeof(why)));
}

TEST_F(dir, missing_and_large)
{
	struct hps_status st;
	char *big, why[160];
	size_t n = 64 * 1024;

	EXPECT_EQ(-ENOENT, hps_status_read(self->path, &st, why, sizeof(why)));
	EXPECT_STREQ(strerror(ENOENT), why);
	EXPECT_EQ(-EISDIR, hps_status_read(self->dir, &st, why, sizeof(why)));

	/* 64 KiB exactly is read; one byte more is refused */
	big = malloc(n + 1);
	ASSERT_NE(NULL, big);
	memset(big, ' ', n + 1);
	memcpy(big, "{\"format\":2,\"stratum\":9}", 24);
	put_file(self->path, big, n);
	EXPECT_EQ(0, hps_status_read(self->path, &st, why, sizeof(why)));
	EXPECT_EQ(9, st.stratum);
	put_file(self->path, big, n + 1);
	EXPECT_EQ(-EFBIG, hps_status_read(self->path, &st, why, sizeof(why)));
	EXPECT_NE(NULL, strstr(why, "larger than 65536 bytes"));
	EXPECT_EQ(0, st.stratum);
	free(big);
}

TEST_F(dir, strings_truncated_and_sanitised)
{
	struct hps_status st;
	char text[256], why[160], *file;

	/* longer than the buffer: cut, NUL-terminated */
	snprintf(text, sizeof(text), "{\"format\":2,\"state\":\"%s\",\"mode\":\"%s\"}",
		 "0123456789abcdefghijklmnopqrstuvwxyz",
		 "PRECISEPRECISE");
	put_file(self->path, text, strlen(text));
	ASSERT_EQ(0, hps_status_read(self->path, &st, why, sizeof(why)));
	EXPECT_STREQ("0123456789abcde", st.state);
	EXPECT_STREQ("PRECISEPR", st.mode);

	/* control characters and quotes are escaped, and come back as sent */
	locked(&st);
	SET(st.clock_name, "a\nb=c\"d");
	SET(st.driver, "\",\"stratum\":99");
	ASSERT_EQ(0, hps_status_write(self->path, &st));
	file = slurp(self->path);
	ASSERT_NE(NULL, file);
	EXPECT_NE(NULL, strstr(file, ",\"clock_name\":\"a\\nb=c\\\"d\","));
	ASSERT_EQ(0, hps_status_read(self->path, &st, why, sizeof(why)));
	EXPECT_STREQ("a\nb=c\"d", st.clock_name);
	EXPECT_STREQ("\",\"stratum\":99", st.driver);
	EXPECT_EQ(3, st.stratum);

	/* bytes that are not UTF-8 become '?'; UTF-8 stays */
	locked(&st);
	SET(st.clock_name, "x\xff\xc3(\xc3\xa9");
	ASSERT_EQ(0, hps_status_write(self->path, &st));
	ASSERT_EQ(0, hps_status_read(self->path, &st, why, sizeof(why)));
	EXPECT_STREQ("x?" "?(??", st.clock_name);
	SET(st.clock_name, "caf\xc3\xa9");
	ASSERT_EQ(0, hps_status_write(self->path, &st));
	ASSERT_EQ(0, hps_status_read(self->path, &st, why, sizeof(why)));
	EXPECT_STREQ("caf\xc3\xa9", st.clock_name);

	/* a string filling its whole buffer without a NUL is bounded */
	locked(&st);
	memset(st.mode, 'M', sizeof(st.mode));
	ASSERT_EQ(0, hps_status_write(self->path, &st));
	ASSERT_EQ(0, hps_status_read(self->path, &st, why, sizeof(why)));
	EXPECT_STREQ("MMMMMMMMM", st.mode);
	EXPECT_STREQ("/dev/ptp0", st.device);
}

/* ---- printed output ---- */

typedef void (*print_fn)(FILE *f, const struct hps_status *st, int64_t now);

/* The output of @fn as a malloc'ed string. */
static char *capture(print_fn fn, const struct hps_status *st, int64_t now)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fn(f, st, now);
	fclose(f);
	return buf;
}

/* Compare @out with @exp line by line, then their line counts. */
static void check_lines(struct __test_metadata *_metadata, const char *out,
			const char * const *exp, size_t n)
{
	char line[256];
	size_t i = 0;

	ASSERT_NE(NULL, out);
	while (*out && i < n) {
		const char *nl = strchr(out, '\n');
		size_t l;

		ASSERT_NE(NULL, nl) TH_LOG("unterminated line '%s'", out);
		l = nl - out < (long)sizeof(line) - 1 ? (size_t)(nl - out) :
			sizeof(line) - 1;
		memcpy(line, out, l);
		line[l] = '\0';
		EXPECT_STREQ(exp[i], line);
		out = nl + 1;
		i++;
	}
	EXPECT_EQ(n, i);
	EXPECT_STREQ("", out);
}

/* Line @n (0-based) of @out, in a static buffer; "" past the end. */
static const char *line_of(const char *out, int n)
{
	static char line[256];
	const char *nl;

	for (; n > 0 && out && *out; n--) {
		out = strchr(out, '\n');
		if (out)
			out++;
	}
	line[0] = '\0';
	if (!out)
		return line;
	nl = strchr(out, '\n');
	snprintf(line, sizeof(line), "%.*s", nl ? (int)(nl - out) : (int)strlen(out), out);
	return line;
}

TEST(tracking_locked)
{
	static const char * const exp[] = {
		"Reference ID    : 48595056 (hyperv)",
		"Stratum         : 3",
		"Ref time (UTC)  : Sat Nov 21 12:34:56 2026",
		"System time     : 0.000000012 seconds fast of NTP time",
		"Last offset     : +0.000000012 seconds",
		"RMS offset      : 0.000000034 seconds",
		"Frequency       : 3.512 ppm slow",
		"Residual freq   : +0.001 ppm",
		"Skew            : 0.010 ppm",
		"Root delay      : 0.000000000 seconds",
		"Root dispersion : 0.000000436 seconds",
		"Update interval : 0.5 seconds",
		"Leap status     : Normal",
		"State           : locked (PRECISE, /dev/ptp0, hv_ptp_ext)",
		"Last update     : 0.3 seconds ago",
		"Updates         : 1000, steps 1, read errors 2, interference 0",
		"Error reference : host (root dispersion: the distance from the host's clock)",
		"Bound           : 0.100000436 seconds against UTC (host allowance 0.100000000 s)",
		"Host vs UTC     : declared 0.100000000 s; audit agree, host +0.002000123 +/- 0.000150000 s from UTC (2 of 2 sources)",
	};
	struct hps_status st;
	char *out;

	locked(&st);
	out = capture(hps_status_print_tracking, &st, MONO + 300000000);
	check_lines(_metadata, out, exp, ARRAY_SIZE(exp));
	free(out);
}

TEST(tracking_signs)
{
	static const char * const exp[] = {
		"Reference ID    : 48595056 (/dev/ptp3)",
		"Stratum         : 0",
		"Ref time (UTC)  : -",
		"System time     : 1.500000001 seconds slow of NTP time",
		"Last offset     : -1.500000001 seconds",
		"RMS offset      : 2.000000000 seconds",
		"Frequency       : 600.250 ppm fast",
		"Residual freq   : -0.125 ppm",
		"Skew            : 12.346 ppm",
		"Root delay      : 0.000012345 seconds",
		"Root dispersion : 1.000000000 seconds",
		"Update interval : 2.0 seconds",
		"Leap status     : Not synchronised",
		"State           : stepping (-, /dev/ptp3, -)",
		"Last update     : never",
		"Updates         : 18446744073709551615, steps 0, read errors 0, interference 7",
		"Error reference : - (root dispersion: the distance from the host's clock)",
		"Bound           : 0.000000000 seconds against the host's clock",
		"Host vs UTC     : declared 0.000000000 s; audit -",
	};
	struct hps_status st;
	char *out;

	/* system slow, the clock's own rate fast (negative correction) */
	memset(&st, 0, sizeof(st));
	SET(st.state, "stepping");
	SET(st.device, "/dev/ptp3");
	st.last_offset_ns = -1500000001;
	st.rms_offset_ns = 2 * SEC;
	st.freq_ppm = -600.25;
	st.residual_freq_ppm = -0.125;
	st.skew_ppm = 12.3456;
	st.window_ns = 12345;
	st.est_error_ns = SEC;
	st.poll_ms = 2000;
	st.synced = 1;
	st.leap = 3;
	st.updates = UINT64_MAX;
	st.interference = 7;
	out = capture(hps_status_print_tracking, &st, MONO);
	check_lines(_metadata, out, exp, ARRAY_SIZE(exp));
	free(out);

	/* zero offset and zero frequency: chrony's "fast" and "slow" */
	st.last_offset_ns = 0;
	st.freq_ppm = 0;
	out = capture(hps_status_print_tracking, &st, MONO);
	EXPECT_STREQ("System time     : 0.000000000 seconds fast of NTP time",
		     line_of(out, 3));
	EXPECT_STREQ("Last offset     : +0.000000000 seconds", line_of(out, 4));
	EXPECT_STREQ("Frequency       : 0.000 ppm slow", line_of(out, 6));
	free(out);

	/* no name, no device */
	st.device[0] = '\0';
	st.ref_time_ns = 1736046245LL * SEC + 999999999;
	out = capture(hps_status_print_tracking, &st, MONO);
	EXPECT_STREQ("Reference ID    : 48595056 (-)", line_of(out, 0));
	EXPECT_STREQ("Ref time (UTC)  : Sun Jan 05 03:04:05 2025",
		     line_of(out, 2));
	free(out);
}

TEST(tracking_leap)
{
	static const struct {
		int leap, synced;
		const char *line;
	} cases[] = {
		{ 0, 1, "Leap status     : Normal" },
		{ 1, 1, "Leap status     : Insert second" },
		{ 2, 1, "Leap status     : Delete second" },
		{ 3, 1, "Leap status     : Not synchronised" },
		{ 0, 0, "Leap status     : Not synchronised" },
		{ 1, 0, "Leap status     : Not synchronised" },
		{ 7, 1, "Leap status     : Invalid" },
	};
	struct hps_status st;
	char *out;
	size_t i;

	locked(&st);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		st.leap = cases[i].leap;
		st.synced = cases[i].synced;
		out = capture(hps_status_print_tracking, &st, MONO);
		EXPECT_STREQ(cases[i].line, line_of(out, 12));
		EXPECT_STREQ("Last update     : 0.0 seconds ago", line_of(out, 14));
		free(out);
	}
}

#define HEADER	"     remote           refid      st t when poll reach   delay   offset  jitter"
#define RULE	"=============================================================================="

TEST(sources_line)
{
	static const char * const exp[] = {
		HEADER,
		RULE,
		"*ptp0(hyperv)    .HYPV.           2 l    0    1  377    0.000    0.000   0.000",
	};
	static const struct {
		const char *state;
		char tally;
	} tallies[] = {
		{ "locked", '*' }, { "tracking", '+' }, { "holdover", '#' },
		{ "no-phc", 'x' }, { "starting", ' ' }, { "stepping", ' ' },
		{ "", ' ' },
	};
	struct hps_status st;
	char *out;
	size_t i;

	locked(&st);
	out = capture(hps_status_print_sources, &st, MONO + 300000000);
	check_lines(_metadata, out, exp, ARRAY_SIZE(exp));
	free(out);
	EXPECT_EQ(strlen(HEADER), strlen(RULE));

	for (i = 0; i < ARRAY_SIZE(tallies); i++) {
		SET(st.state, tallies[i].state);
		out = capture(hps_status_print_sources, &st, MONO);
		EXPECT_EQ(tallies[i].tally, line_of(out, 2)[0]);
		free(out);
	}
}

TEST(sources_columns)
{
	struct hps_status st;
	char *out;

	/* long names cut at 15; signed offsets; poll rounded; reach octal */
	locked(&st);
	SET(st.device, "/dev/ptp_hyperv_long");
	SET(st.clock_name, "hyperv");
	SET(st.state, "holdover");
	st.ref_stratum = 16;
	st.reach = 0x1f5;	/* only the low 8 bits: 0365 */
	st.poll_ms = 2500;
	st.window_ns = 1234567;
	st.last_offset_ns = -12345678;
	st.jitter_ns = 999;
	out = capture(hps_status_print_sources, &st, MONO + 65 * SEC + 999999999);
	EXPECT_STREQ("#ptp_hyperv_long .HYPV.          16 l   65    3  365    1.235  -12.346   0.001",
		     line_of(out, 2));
	EXPECT_EQ(strlen(HEADER), strlen(line_of(out, 2)));
	free(out);

	/* never updated; no device; short poll; minutes */
	st.updated_mono_ns = 0;
	st.device[0] = '\0';
	st.clock_name[0] = '\0';
	st.poll_ms = 100;
	st.reach = 0;
	SET(st.state, "no-phc");
	out = capture(hps_status_print_sources, &st, MONO);
	EXPECT_STREQ("x-               .HYPV.          16 l    -    1    0    1.235  -12.346   0.001",
		     line_of(out, 2));
	free(out);

	st.updated_mono_ns = 1;
	out = capture(hps_status_print_sources, &st, 1 + 3000 * SEC);
	EXPECT_STREQ("x-               .HYPV.          16 l  50m    1    0    1.235  -12.346   0.001",
		     line_of(out, 2));
	free(out);
}

/* ---- JSON ---- */

/* A string value of @o, "" when absent or no string. */
static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "";
}

TEST(json)
{
	static const char * const keys[] = {
		"format", "pid", "state", "device", "clock_name", "driver",
		"mode", "stratum", "ref_stratum", "leap", "synced",
		"ref_time_ns", "last_offset_ns", "rms_offset_ns", "window_ns",
		"jitter_ns", "error_bound_ns", "est_error_ns", "freq_ppm",
		"residual_freq_ppm", "skew_ppm", "phc_freq_ppb", "poll_ms",
		"reach", "updates", "steps", "read_errors", "interference",
		"updated_mono_ns", "marker", "module_disruptions",
		"cb_status", "cb_bound_ns", "cb_max_drift_ppb",
		"cb_disruption_support", "error_reference", "cb_reference",
		"utc_allowance_ns", "host_utc_declared_ns",
		"module_host_utc_error_ns", "utc_audit", "utc_audit_why",
		"host_utc_offset_ns", "host_utc_error_ns", "utc_sources",
		"utc_agreeing", "utc_audit_mono_ns", "age_s",
	};
	struct hps_status st;
	json_error_t err;
	json_t *o;
	char *out;
	size_t i, len;

	locked(&st);
	out = capture(hps_status_print_json, &st, MONO + 1500000000);
	ASSERT_NE(NULL, out);
	len = strlen(out);
	ASSERT_GT(len, 2);
	EXPECT_EQ('\n', out[len - 1]);
	EXPECT_TRUE(strchr(out, '\n') == out + len - 1);	/* one line */
	o = json_loads(out, JSON_REJECT_DUPLICATES, &err);
	ASSERT_NE(NULL, o) TH_LOG("%s: %s", out, err.text);
	EXPECT_EQ(ARRAY_SIZE(keys), json_object_size(o));
	for (i = 0; i < ARRAY_SIZE(keys); i++)
		EXPECT_NE(NULL, json_object_get(o, keys[i]))
			TH_LOG("no %s", keys[i]);
	EXPECT_EQ(1234, json_integer_value(json_object_get(o, "pid")));
	EXPECT_STREQ("locked", jstr(o, "state"));
	EXPECT_STREQ("/dev/ptp0", jstr(o, "device"));
	EXPECT_NE(NULL, strstr(out, "\"freq_ppm\":3.512,"));
	EXPECT_NE(NULL, strstr(out, "\"skew_ppm\":0.01,"));
	EXPECT_EQ(255, json_integer_value(json_object_get(o, "reach")));
	EXPECT_NE(NULL, strstr(out, "\"ref_time_ns\":1795264496000000000,"));
	EXPECT_NE(NULL, strstr(out, "\"age_s\":1.5}"));
	json_decref(o);
	free(out);

	/* escapes, extremes, non-finite doubles, never updated */
	odd(&st);
	SET(st.clock_name, "q\"b\\c\nt\tx\x01y\x7f");
	SET(st.driver, "caf\xc3\xa9 \xff!");	/* UTF-8 é, a stray byte */
	st.freq_ppm = NAN;
	st.skew_ppm = INFINITY;
	st.residual_freq_ppm = -INFINITY;
	st.updated_mono_ns = 0;
	out = capture(hps_status_print_json, &st, MONO);
	o = json_loads(out, JSON_REJECT_DUPLICATES, &err);
	ASSERT_NE(NULL, o) TH_LOG("%s: %s", out, err.text);
	EXPECT_STREQ("q\"b\\c\nt\tx\x01y\x7f", jstr(o, "clock_name"));
	EXPECT_NE(NULL, strstr(out, "\"q\\\"b\\\\c\\nt\\tx\\u0001y\x7f\""));
	EXPECT_STREQ("caf?? ?!", jstr(o, "driver"));
	EXPECT_TRUE(json_is_null(json_object_get(o, "freq_ppm")));
	EXPECT_TRUE(json_is_null(json_object_get(o, "skew_ppm")));
	EXPECT_TRUE(json_is_null(json_object_get(o, "residual_freq_ppm")));
	EXPECT_TRUE(json_is_null(json_object_get(o, "age_s")));
	EXPECT_EQ(INT64_MIN,
		  json_integer_value(json_object_get(o, "last_offset_ns")));
	/* JSON integers here are int64_t: a counter saturates there */
	EXPECT_EQ(INT64_MAX, json_integer_value(json_object_get(o, "updates")));
	EXPECT_EQ(4294967295LL,
		  json_integer_value(json_object_get(o, "reach")));
	EXPECT_TRUE(json_real_value(json_object_get(o, "phc_freq_ppb")) ==
		    -35000000.0);
	json_decref(o);
	free(out);
}

TEST_F(dir, prometheus)
{
	static const char exp[] =
		"# HELP hv_ptp_sync_offset_seconds Offset of the system clock from the PHC at the last update (system - PHC).\n"
		"# TYPE hv_ptp_sync_offset_seconds gauge\n"
		"hv_ptp_sync_offset_seconds -0.000000012\n"
		"# HELP hv_ptp_sync_rms_offset_seconds RMS of the recent offsets.\n"
		"# TYPE hv_ptp_sync_rms_offset_seconds gauge\n"
		"hv_ptp_sync_rms_offset_seconds 0.000000034\n"
		"# HELP hv_ptp_sync_frequency_ppm Frequency correction applied to the system clock; positive speeds it up.\n"
		"# TYPE hv_ptp_sync_frequency_ppm gauge\n"
		"hv_ptp_sync_frequency_ppm 3.512\n"
		"# HELP hv_ptp_sync_estimated_error_seconds Estimated error of the system clock against the host's clock: PHC error bound plus servo residual.\n"
		"# TYPE hv_ptp_sync_estimated_error_seconds gauge\n"
		"hv_ptp_sync_estimated_error_seconds 0.000000436\n"
		"# HELP hv_ptp_sync_phc_error_bound_seconds Error bound of the PHC reported by the module, against the host's clock (0: unknown).\n"
		"# TYPE hv_ptp_sync_phc_error_bound_seconds gauge\n"
		"hv_ptp_sync_phc_error_bound_seconds 0.000000400\n"
		"# HELP hv_ptp_sync_locked 1 while the state is \"locked\": three updates in a row within lock_us of the PHC.\n"
		"# TYPE hv_ptp_sync_locked gauge\n"
		"hv_ptp_sync_locked 1\n"
		"# HELP hv_ptp_sync_synchronised 1 when the kernel clock is marked synchronised (STA_UNSYNC clear).\n"
		"# TYPE hv_ptp_sync_synchronised gauge\n"
		"hv_ptp_sync_synchronised 1\n"
		"# HELP hv_ptp_sync_updates_total Successful clock updates.\n"
		"# TYPE hv_ptp_sync_updates_total counter\n"
		"hv_ptp_sync_updates_total 1000\n"
		"# HELP hv_ptp_sync_steps_total Clock steps made.\n"
		"# TYPE hv_ptp_sync_steps_total counter\n"
		"hv_ptp_sync_steps_total 1\n"
		"# HELP hv_ptp_sync_read_errors_total Failed PHC reads.\n"
		"# TYPE hv_ptp_sync_read_errors_total counter\n"
		"hv_ptp_sync_read_errors_total 2\n"
		"# HELP hv_ptp_sync_interference_total Clock adjustments made by another program.\n"
		"# TYPE hv_ptp_sync_interference_total counter\n"
		"hv_ptp_sync_interference_total 0\n"
		"# HELP hv_ptp_sync_disruption_marker The disruption marker of the ClockBound segment: changes at every disruption.\n"
		"# TYPE hv_ptp_sync_disruption_marker gauge\n"
		"hv_ptp_sync_disruption_marker 0\n"
		"# HELP hv_ptp_sync_module_disruptions_total Disruptions the module has counted, as last read (absent: a PHC that counts none).\n"
		"# TYPE hv_ptp_sync_module_disruptions_total counter\n"
		"hv_ptp_sync_module_disruptions_total 0\n"
		"# HELP hv_ptp_sync_bound_status The ClockBound status: 0 unknown, 1 synchronized, 2 free-running, 3 disrupted.\n"
		"# TYPE hv_ptp_sync_bound_status gauge\n"
		"hv_ptp_sync_bound_status 0\n"
		"# HELP hv_ptp_sync_bound_seconds The bound published to applications, at its as-of instant: against UTC when utc_allowance_seconds is above 0, else against the host's clock.\n"
		"# TYPE hv_ptp_sync_bound_seconds gauge\n"
		"hv_ptp_sync_bound_seconds 0.100000436\n"
		"# HELP hv_ptp_sync_utc_allowance_seconds The allowance for the host's error against UTC in bound_seconds (0: the bound is host-relative).\n"
		"# TYPE hv_ptp_sync_utc_allowance_seconds gauge\n"
		"hv_ptp_sync_utc_allowance_seconds 0.100000000\n"
		"# HELP hv_ptp_sync_host_utc_declared_seconds The declared allowance for the host's error against UTC (host_utc_error_us).\n"
		"# TYPE hv_ptp_sync_host_utc_declared_seconds gauge\n"
		"hv_ptp_sync_host_utc_declared_seconds 0.100000000\n"
		"# HELP hv_ptp_sync_host_utc_offset_seconds The host's offset from UTC measured through chronyd's NTP sources (absent: no measurement).\n"
		"# TYPE hv_ptp_sync_host_utc_offset_seconds gauge\n"
		"hv_ptp_sync_host_utc_offset_seconds 0.002000123\n"
		"# HELP hv_ptp_sync_host_utc_offset_error_seconds The measurement's error: the host's true offset is within this of it (absent: no measurement).\n"
		"# TYPE hv_ptp_sync_host_utc_offset_error_seconds gauge\n"
		"hv_ptp_sync_host_utc_offset_error_seconds 0.000150000\n"
		"# HELP hv_ptp_sync_utc_disagree 1 while the NTP measurement and the host disagree beyond both their errors (the bound is not vouched for).\n"
		"# TYPE hv_ptp_sync_utc_disagree gauge\n"
		"hv_ptp_sync_utc_disagree 0\n"
		"# HELP hv_ptp_sync_last_update_timestamp_seconds Time of the last update, seconds since the epoch.\n"
		"# TYPE hv_ptp_sync_last_update_timestamp_seconds gauge\n"
		"hv_ptp_sync_last_update_timestamp_seconds 1795264496.000000000\n"
		"# HELP hv_ptp_sync_info State, PHC device, measurement mode and driver.\n"
		"# TYPE hv_ptp_sync_info gauge\n"
		"hv_ptp_sync_info{state=\"locked\",device=\"/dev/ptp0\",mode=\"PRECISE\",driver=\"hv_ptp_ext\",bound_reference=\"utc\",utc_audit=\"agree\"} 1\n";
	char path[256], names[512], *text;
	struct hps_status st;

	snprintf(path, sizeof(path), "%s/hv_ptp_sync.prom", self->dir);
	locked(&st);
	st.last_offset_ns = -12;
	ASSERT_EQ(0, hps_status_write_prometheus(path, &st));
	text = slurp(path);
	ASSERT_NE(NULL, text);
	EXPECT_STREQ(exp, text);
	list_dir(self->dir, names, sizeof(names));
	EXPECT_STREQ("hv_ptp_sync.prom", names);

	/* label values escaped; not locked, not synchronised; NaN */
	SET(st.state, "holdover");
	SET(st.driver, "a\"b\\c\nd");
	st.synced = 0;
	st.freq_ppm = NAN;
	ASSERT_EQ(0, hps_status_write_prometheus(path, &st));
	text = slurp(path);
	ASSERT_NE(NULL, text);
	EXPECT_NE(NULL, strstr(text, "\nhv_ptp_sync_info{state=\"holdover\",device=\"/dev/ptp0\",mode=\"PRECISE\",driver=\"a\\\"b\\\\c\\nd\",bound_reference=\"utc\",utc_audit=\"agree\"} 1\n"));
	EXPECT_NE(NULL, strstr(text, "\nhv_ptp_sync_locked 0\n"));
	EXPECT_NE(NULL, strstr(text, "\nhv_ptp_sync_synchronised 0\n"));
	EXPECT_NE(NULL, strstr(text, "\nhv_ptp_sync_frequency_ppm NaN\n"));
	st.freq_ppm = -INFINITY;
	ASSERT_EQ(0, hps_status_write_prometheus(path, &st));
	text = slurp(path);
	ASSERT_NE(NULL, text);
	EXPECT_NE(NULL, strstr(text, "\nhv_ptp_sync_frequency_ppm -Inf\n"));
	list_dir(self->dir, names, sizeof(names));
	EXPECT_STREQ("hv_ptp_sync.prom", names);
}

TEST_HARNESS_MAIN
