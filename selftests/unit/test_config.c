// SPDX-License-Identifier: GPL-2.0
/*
 * user/config.c: every key at and just past its limits, the file syntax,
 * errors with their line numbers, loading, and the --print-config round
 * trip.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "utc_audit.h"
#include "kselftest_harness.h"

#ifndef HPS_DEFAULT_CONF_FILE
#error "build with -DHPS_DEFAULT_CONF_FILE=\"user/hv-ptp-sync.conf\""
#endif

#define ERRLEN 512

#define EXPECT_SET(c, key, val) do {					\
	char __e[ERRLEN] = "";						\
	EXPECT_EQ(0, hps_config_set(c, key, val, __e, sizeof(__e)))	\
		TH_LOG("%s %s: %s", key, val, __e);			\
} while (0)

#define EXPECT_SET_ERR(c, key, val, msg) do {				\
	char __e[ERRLEN] = "";						\
	EXPECT_EQ(-1, hps_config_set(c, key, val, __e, sizeof(__e)))	\
		TH_LOG("%s %s accepted", key, val);			\
	EXPECT_STREQ(msg, __e);						\
} while (0)

#define EXPECT_DBL(expected, seen) do {					\
	double __x = (expected), __s = (seen);				\
	EXPECT_TRUE(__x == __s)						\
		TH_LOG("%s: expected %.17g, got %.17g", #seen, __x, __s); \
} while (0)

#define EXPECT_PARSE(c, text) do {					\
	char __e[ERRLEN] = "";						\
	EXPECT_EQ(0, hps_config_parse(c, "t.conf", text, __e,		\
				      sizeof(__e)))			\
		TH_LOG("%s", __e);					\
} while (0)

#define EXPECT_PARSE_ERR(c, text, msg) do {				\
	char __e[ERRLEN] = "";						\
	EXPECT_EQ(-1, hps_config_parse(c, "t.conf", text, __e,		\
				       sizeof(__e)));			\
	EXPECT_STREQ(msg, __e);						\
} while (0)

static void expect_same(struct __test_metadata *_metadata,
			const struct hps_config *a, const struct hps_config *b)
{
	EXPECT_STREQ(a->device, b->device);
	EXPECT_EQ(a->poll_ms, b->poll_ms);
	EXPECT_EQ(a->samples, b->samples);
	EXPECT_DBL(a->makestep_threshold, b->makestep_threshold);
	EXPECT_EQ(a->makestep_limit, b->makestep_limit);
	EXPECT_DBL(a->kp, b->kp);
	EXPECT_DBL(a->ki, b->ki);
	EXPECT_DBL(a->max_slew_ppm, b->max_slew_ppm);
	EXPECT_EQ(a->feedforward, b->feedforward);
	EXPECT_EQ(a->leap, b->leap);
	EXPECT_DBL(a->max_error_us, b->max_error_us);
	EXPECT_DBL(a->lock_us, b->lock_us);
	EXPECT_STREQ(a->state_file, b->state_file);
	EXPECT_STREQ(a->prometheus_file, b->prometheus_file);
	EXPECT_DBL(a->host_utc_error_us, b->host_utc_error_us);
	EXPECT_EQ(a->utc_audit, b->utc_audit);
	EXPECT_STREQ(a->chronyc, b->chronyc);
	EXPECT_STREQ(a->chronyc_socket, b->chronyc_socket);
	EXPECT_EQ(a->audit_interval_s, b->audit_interval_s);
	EXPECT_EQ(a->ntp_max_age_s, b->ntp_max_age_s);
	EXPECT_EQ(a->log_level, b->log_level);
}

/* A configuration that differs from the defaults in every field. */
static void other_config(struct __test_metadata *_metadata,
			 struct hps_config *c)
{
	struct hps_config d;

	hps_config_defaults(c);
	EXPECT_SET(c, "device", "/dev/ptp3");
	EXPECT_SET(c, "poll_ms", "200");
	EXPECT_SET(c, "samples", "5");
	EXPECT_SET(c, "makestep", "0.25 3");
	EXPECT_SET(c, "kp", "0.5");
	EXPECT_SET(c, "ki", "0.1");
	EXPECT_SET(c, "max_slew_ppm", "1000.5");
	EXPECT_SET(c, "feedforward", "no");
	EXPECT_SET(c, "leap", "off");
	EXPECT_SET(c, "max_error_us", "5000");
	EXPECT_SET(c, "lock_us", "0.3");
	EXPECT_SET(c, "state_file", "");
	EXPECT_SET(c, "prometheus_file", "/var/lib/node_exporter/hv.prom");
	EXPECT_SET(c, "host_utc_error_us", "2500.5");
	EXPECT_SET(c, "utc_audit", "bound");
	EXPECT_SET(c, "chronyc", "/opt/chrony/bin/chronyc");
	EXPECT_SET(c, "chronyc_socket", "/run/chrony/chronyd.sock");
	EXPECT_SET(c, "audit_interval_s", "64");
	EXPECT_SET(c, "ntp_max_age_s", "300");
	EXPECT_SET(c, "log_level", "debug");

	hps_config_defaults(&d);
	EXPECT_TRUE(d.host_utc_error_us != c->host_utc_error_us);
	EXPECT_NE(d.utc_audit, c->utc_audit);
	EXPECT_STRNE(d.chronyc, c->chronyc);
	EXPECT_STRNE(d.chronyc_socket, c->chronyc_socket);
	EXPECT_NE(d.audit_interval_s, c->audit_interval_s);
	EXPECT_NE(d.ntp_max_age_s, c->ntp_max_age_s);
	EXPECT_STRNE(d.device, c->device);
	EXPECT_NE(d.poll_ms, c->poll_ms);
	EXPECT_NE(d.samples, c->samples);
	EXPECT_TRUE(d.makestep_threshold != c->makestep_threshold);
	EXPECT_NE(d.makestep_limit, c->makestep_limit);
	EXPECT_TRUE(d.kp != c->kp);
	EXPECT_TRUE(d.ki != c->ki);
	EXPECT_TRUE(d.max_slew_ppm != c->max_slew_ppm);
	EXPECT_NE(d.feedforward, c->feedforward);
	EXPECT_NE(d.leap, c->leap);
	EXPECT_TRUE(d.max_error_us != c->max_error_us);
	EXPECT_TRUE(d.lock_us != c->lock_us);
	EXPECT_STRNE(d.state_file, c->state_file);
	EXPECT_STRNE(d.prometheus_file, c->prometheus_file);
	EXPECT_NE(d.log_level, c->log_level);
}

static char *print_config(const struct hps_config *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	hps_config_print(c, f);
	fclose(f);
	return buf;
}

static char *read_all(const char *path)
{
	char *buf;
	size_t n;
	FILE *f = fopen(path, "r");

	if (!f)
		return NULL;
	buf = malloc(1 << 20);
	if (buf) {
		n = fread(buf, 1, (1 << 20) - 1, f);
		buf[n] = 0;
	}
	fclose(f);
	return buf;
}

/* A file of @len bytes of @text in a new directory; returns its path. */
static char *write_tmp(const char *text, size_t len)
{
	static char dir[64];
	char *path;
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/test_config.XXXXXX");
	if (!mkdtemp(dir))
		return NULL;
	if (asprintf(&path, "%s/hv-ptp-sync.conf", dir) < 0)
		return NULL;
	f = fopen(path, "w");
	if (!f)
		return NULL;
	fwrite(text, 1, len, f);
	fclose(f);
	return path;
}

static void remove_tmp(char *path)
{
	char *slash;

	unlink(path);
	slash = strrchr(path, '/');
	*slash = 0;
	rmdir(path);
	free(path);
}

TEST(defaults)
{
	struct hps_config c;

	hps_config_defaults(&c);
	EXPECT_STREQ("auto", c.device);
	EXPECT_EQ(1000, c.poll_ms);
	EXPECT_EQ(9, c.samples);
	EXPECT_DBL(1.0, c.makestep_threshold);
	EXPECT_EQ(-1, c.makestep_limit);
	EXPECT_DBL(0.7, c.kp);
	EXPECT_DBL(0.3, c.ki);
	EXPECT_DBL(50000, c.max_slew_ppm);
	EXPECT_EQ(1, c.feedforward);
	EXPECT_EQ(1, c.leap);
	EXPECT_DBL(1000, c.max_error_us);
	EXPECT_DBL(10, c.lock_us);
	EXPECT_STREQ(HPS_DEFAULT_STATE, c.state_file);
	EXPECT_STREQ("", c.prometheus_file);
	EXPECT_EQ(6, c.log_level);
}

TEST(int_limits)
{
	struct hps_config c;

	hps_config_defaults(&c);
	EXPECT_SET(&c, "poll_ms", "100");
	EXPECT_EQ(100, c.poll_ms);
	EXPECT_SET(&c, "poll_ms", "60000");
	EXPECT_EQ(60000, c.poll_ms);
	EXPECT_SET_ERR(&c, "poll_ms", "99",
		       "poll_ms: 99 is out of range 100..60000");
	EXPECT_SET_ERR(&c, "poll_ms", "60001",
		       "poll_ms: 60001 is out of range 100..60000");
	EXPECT_SET_ERR(&c, "poll_ms", "5",
		       "poll_ms: 5 is out of range 100..60000");
	EXPECT_EQ(60000, c.poll_ms);	/* a refused value changes nothing */

	EXPECT_SET(&c, "samples", "1");
	EXPECT_EQ(1, c.samples);
	EXPECT_SET(&c, "samples", "25");
	EXPECT_EQ(25, c.samples);
	EXPECT_SET_ERR(&c, "samples", "0", "samples: 0 is out of range 1..25");
	EXPECT_SET_ERR(&c, "samples", "26",
		       "samples: 26 is out of range 1..25");
	EXPECT_SET_ERR(&c, "samples", "-1",
		       "samples: -1 is out of range 1..25");
	EXPECT_EQ(25, c.samples);
}

TEST(double_limits)
{
	struct hps_config c;

	hps_config_defaults(&c);
	EXPECT_SET(&c, "kp", "0.01");
	EXPECT_DBL(0.01, c.kp);
	EXPECT_SET(&c, "kp", "1.0");
	EXPECT_DBL(1.0, c.kp);
	EXPECT_SET_ERR(&c, "kp", "0.0099", "kp: 0.0099 is out of range 0.01..1");
	EXPECT_SET_ERR(&c, "kp", "1.001", "kp: 1.001 is out of range 0.01..1");
	EXPECT_SET_ERR(&c, "kp", "0", "kp: 0 is out of range 0.01..1");
	EXPECT_DBL(1.0, c.kp);

	EXPECT_SET(&c, "ki", "0");
	EXPECT_DBL(0.0, c.ki);
	EXPECT_SET(&c, "ki", "1");
	EXPECT_DBL(1.0, c.ki);
	EXPECT_SET_ERR(&c, "ki", "-0.001", "ki: -0.001 is out of range 0..1");
	EXPECT_SET_ERR(&c, "ki", "1.001", "ki: 1.001 is out of range 0..1");

	EXPECT_SET(&c, "max_slew_ppm", "1");
	EXPECT_DBL(1, c.max_slew_ppm);
	EXPECT_SET(&c, "max_slew_ppm", "100000");
	EXPECT_DBL(100000, c.max_slew_ppm);
	EXPECT_SET_ERR(&c, "max_slew_ppm", "0.999",
		       "max_slew_ppm: 0.999 is out of range 1..100000");
	EXPECT_SET_ERR(&c, "max_slew_ppm", "100000.1",
		       "max_slew_ppm: 100000.1 is out of range 1..100000");

	EXPECT_SET(&c, "max_error_us", "1");
	EXPECT_DBL(1, c.max_error_us);
	EXPECT_SET(&c, "max_error_us", "16000000");
	EXPECT_DBL(16000000, c.max_error_us);
	EXPECT_SET_ERR(&c, "max_error_us", "0.5",
		       "max_error_us: 0.5 is out of range 1..16000000");
	EXPECT_SET_ERR(&c, "max_error_us", "1.6e7001",
		       "max_error_us: 1.6e7001 is out of range 1..16000000");
	EXPECT_SET_ERR(&c, "max_error_us", "16000001",
		       "max_error_us: 16000001 is out of range 1..16000000");

	EXPECT_SET(&c, "lock_us", "0.001");
	EXPECT_DBL(0.001, c.lock_us);
	EXPECT_SET(&c, "lock_us", "1e6");
	EXPECT_DBL(1e6, c.lock_us);
	EXPECT_SET_ERR(&c, "lock_us", "0.0009",
		       "lock_us: 0.0009 is out of range 0.001..1000000");
	EXPECT_SET_ERR(&c, "lock_us", "1000000.5",
		       "lock_us: 1000000.5 is out of range 0.001..1000000");
	EXPECT_DBL(1e6, c.lock_us);
}

TEST(number_syntax)
{
	struct hps_config c;

	hps_config_defaults(&c);
	EXPECT_SET_ERR(&c, "poll_ms", "abc", "poll_ms: 'abc' is not an integer");
	EXPECT_SET_ERR(&c, "poll_ms", "", "poll_ms: '' is not an integer");
	EXPECT_SET_ERR(&c, "poll_ms", "500ms",
		       "poll_ms: '500ms' is not an integer");
	EXPECT_SET_ERR(&c, "poll_ms", "500.0",
		       "poll_ms: '500.0' is not an integer");
	EXPECT_SET_ERR(&c, "poll_ms", "500 600",
		       "poll_ms: '500 600' is not an integer");
	EXPECT_SET_ERR(&c, "poll_ms", "0x200",
		       "poll_ms: '0x200' is not an integer");
	EXPECT_SET_ERR(&c, "poll_ms", "99999999999999999999999",
		       "poll_ms: 99999999999999999999999 is out of range 100..60000");
	EXPECT_SET_ERR(&c, "poll_ms", "-99999999999999999999999",
		       "poll_ms: -99999999999999999999999 is out of range 100..60000");
	EXPECT_SET(&c, "poll_ms", " \t200 \r\n");	/* trimmed */
	EXPECT_EQ(200, c.poll_ms);
	EXPECT_SET(&c, "poll_ms", "+300");
	EXPECT_EQ(300, c.poll_ms);

	EXPECT_SET_ERR(&c, "kp", "abc", "kp: 'abc' is not a number");
	EXPECT_SET_ERR(&c, "kp", "", "kp: '' is not a number");
	EXPECT_SET_ERR(&c, "kp", "0.5x", "kp: '0.5x' is not a number");
	EXPECT_SET_ERR(&c, "kp", "0.5 0.6", "kp: '0.5 0.6' is not a number");
	EXPECT_SET_ERR(&c, "kp", "nan", "kp: 'nan' is not a number");
	EXPECT_SET_ERR(&c, "kp", "-nan", "kp: '-nan' is not a number");
	EXPECT_SET_ERR(&c, "kp", "inf", "kp: 'inf' is not a number");
	EXPECT_SET_ERR(&c, "kp", "infinity", "kp: 'infinity' is not a number");
	EXPECT_SET_ERR(&c, "kp", "0x1p-1", "kp: '0x1p-1' is not a number");
	EXPECT_SET_ERR(&c, "kp", "1e", "kp: '1e' is not a number");
	EXPECT_SET_ERR(&c, "kp", ".", "kp: '.' is not a number");
	EXPECT_SET_ERR(&c, "kp", "1e999", "kp: 1e999 is out of range 0.01..1");
	EXPECT_SET_ERR(&c, "ki", "1e-999", "ki: 1e-999 is out of range 0..1");
	EXPECT_SET(&c, "kp", ".5");
	EXPECT_DBL(0.5, c.kp);
	EXPECT_SET(&c, "kp", "5e-1");
	EXPECT_DBL(0.5, c.kp);
	EXPECT_SET(&c, "kp", "+0.25");
	EXPECT_DBL(0.25, c.kp);
}

TEST(bools)
{
	static const char * const yes[] = { "yes", "on", "true", "1", "YES" };
	static const char * const no[] = { "no", "off", "false", "0", "No" };
	struct hps_config c;
	size_t i;

	hps_config_defaults(&c);
	for (i = 0; i < 5; i++) {
		EXPECT_SET(&c, "leap", no[i]);
		EXPECT_EQ(0, c.leap);
		EXPECT_SET(&c, "leap", yes[i]);
		EXPECT_EQ(1, c.leap);
		EXPECT_SET(&c, "feedforward", no[i]);
		EXPECT_EQ(0, c.feedforward);
		EXPECT_SET(&c, "feedforward", yes[i]);
		EXPECT_EQ(1, c.feedforward);
	}
	EXPECT_SET_ERR(&c, "leap", "maybe", "leap: 'maybe' is not yes or no");
	EXPECT_SET_ERR(&c, "leap", "2", "leap: '2' is not yes or no");
	EXPECT_SET_ERR(&c, "leap", "", "leap: '' is not yes or no");
	EXPECT_SET_ERR(&c, "feedforward", "yes no",
		       "feedforward: 'yes no' is not yes or no");
	EXPECT_EQ(1, c.leap);
}

TEST(log_level)
{
	static const char * const names[] = {
		"err", "warning", "notice", "info", "debug"
	};
	struct hps_config c;
	char num[16];
	int i;

	hps_config_defaults(&c);
	for (i = 3; i <= 7; i++) {
		EXPECT_SET(&c, "log_level", "err");
		EXPECT_SET(&c, "log_level", names[i - 3]);
		EXPECT_EQ(i, c.log_level);
		EXPECT_STREQ(names[i - 3], hps_log_level_name(i));
		EXPECT_SET(&c, "log_level", "debug");
		snprintf(num, sizeof(num), "%d", i);
		EXPECT_SET(&c, "log_level", num);
		EXPECT_EQ(i, c.log_level);
	}
	EXPECT_SET(&c, "log-level", "NOTICE");
	EXPECT_EQ(5, c.log_level);
	EXPECT_SET_ERR(&c, "log_level", "2",
		       "log_level: 2 is out of range 3..7");
	EXPECT_SET_ERR(&c, "log_level", "8",
		       "log_level: 8 is out of range 3..7");
	EXPECT_SET_ERR(&c, "log_level", "-1",
		       "log_level: -1 is out of range 3..7");
	EXPECT_SET_ERR(&c, "log_level", "loud",
		       "log_level: 'loud' is not err, warning, notice, info, debug or 3..7");
	EXPECT_SET_ERR(&c, "log_level", "",
		       "log_level: '' is not err, warning, notice, info, debug or 3..7");
	EXPECT_EQ(5, c.log_level);

	EXPECT_STREQ("info", hps_log_level_name(2));
	EXPECT_STREQ("info", hps_log_level_name(8));
	EXPECT_STREQ("info", hps_log_level_name(-1));
	EXPECT_STREQ("info", hps_log_level_name(INT_MIN));
	EXPECT_STREQ("info", hps_log_level_name(INT_MAX));
}

TEST(makestep)
{
	struct hps_config c;

	hps_config_defaults(&c);
	EXPECT_SET(&c, "makestep", "0.5 3");
	EXPECT_DBL(0.5, c.makestep_threshold);
	EXPECT_EQ(3, c.makestep_limit);
	EXPECT_SET(&c, "makestep", " 1e9\t 1000000 ");
	EXPECT_DBL(1e9, c.makestep_threshold);
	EXPECT_EQ(1000000, c.makestep_limit);
	EXPECT_SET(&c, "makestep", "0.000001 0");
	EXPECT_DBL(0.000001, c.makestep_threshold);
	EXPECT_EQ(0, c.makestep_limit);
	EXPECT_SET(&c, "makestep", "1.0 -1");
	EXPECT_DBL(1.0, c.makestep_threshold);
	EXPECT_EQ(-1, c.makestep_limit);

	EXPECT_SET_ERR(&c, "makestep", "1", "makestep: expected THRESHOLD LIMIT");
	EXPECT_SET_ERR(&c, "makestep", "", "makestep: expected THRESHOLD LIMIT");
	EXPECT_SET_ERR(&c, "makestep", "1 2 3",
		       "makestep: expected THRESHOLD LIMIT");
	EXPECT_SET_ERR(&c, "makestep", "x 1",
		       "makestep: threshold 'x' is not a number");
	EXPECT_SET_ERR(&c, "makestep", "nan 1",
		       "makestep: threshold 'nan' is not a number");
	EXPECT_SET_ERR(&c, "makestep", "inf 1",
		       "makestep: threshold 'inf' is not a number");
	EXPECT_SET_ERR(&c, "makestep", "0 1",
		       "makestep: threshold 0 is not greater than 0");
	EXPECT_SET_ERR(&c, "makestep", "-1 1",
		       "makestep: threshold -1 is out of range 0..1000000000");
	EXPECT_SET_ERR(&c, "makestep", "1.1e9 1",
		       "makestep: threshold 1.1e9 is out of range 0..1000000000");
	EXPECT_SET_ERR(&c, "makestep", "1e-999 1",
		       "makestep: threshold 1e-999 is out of range 0..1000000000");
	EXPECT_SET_ERR(&c, "makestep", "1 x",
		       "makestep: limit 'x' is not an integer");
	EXPECT_SET_ERR(&c, "makestep", "1 1.5",
		       "makestep: limit '1.5' is not an integer");
	EXPECT_SET_ERR(&c, "makestep", "1 -2",
		       "makestep: limit -2 is out of range -1..1000000");
	EXPECT_SET_ERR(&c, "makestep", "1 1000001",
		       "makestep: limit 1000001 is out of range -1..1000000");
	/* Neither half of a refused value is applied. */
	EXPECT_SET_ERR(&c, "makestep", "5 -2",
		       "makestep: limit -2 is out of range -1..1000000");
	EXPECT_DBL(1.0, c.makestep_threshold);
	EXPECT_EQ(-1, c.makestep_limit);
}

TEST(device)
{
	char name[64], want[128], path[PATH_MAX + 8];
	struct hps_config c;

	hps_config_defaults(&c);
	EXPECT_SET(&c, "device", "/dev/ptp3");
	EXPECT_STREQ("/dev/ptp3", c.device);
	EXPECT_SET(&c, "device", "/dev/ptp_hyperv");
	EXPECT_STREQ("/dev/ptp_hyperv", c.device);
	EXPECT_SET(&c, "device", "hyperv");
	EXPECT_STREQ("hyperv", c.device);
	EXPECT_SET(&c, "device", "auto");
	EXPECT_STREQ("auto", c.device);
	EXPECT_SET(&c, "device", "x");
	EXPECT_STREQ("x", c.device);

	memset(name, 'n', 31);
	name[31] = 0;
	EXPECT_SET(&c, "device", name);
	EXPECT_STREQ(name, c.device);
	name[31] = 'n';
	name[32] = 0;
	snprintf(want, sizeof(want),
		 "device: clock name '%s' is longer than 31 characters", name);
	EXPECT_SET_ERR(&c, "device", name, want);
	name[31] = 0;
	EXPECT_STREQ(name, c.device);	/* unchanged */
	EXPECT_SET_ERR(&c, "device", "",
		       "device: '' is not auto, a /dev/ path or a clock name");
	EXPECT_SET_ERR(&c, "device", "/dev/",
		       "device: '/dev/' names no device");
	EXPECT_SET_ERR(&c, "device", "/tmp/ptp0",
		       "device: '/tmp/ptp0' is not auto, a /dev/ path or a clock name");
	EXPECT_SET_ERR(&c, "device", "dev/ptp0",
		       "device: 'dev/ptp0' is not auto, a /dev/ path or a clock name");
	EXPECT_SET_ERR(&c, "device", "hyper v",
		       "device: 'hyper v' contains white space");
	EXPECT_SET_ERR(&c, "device", "/dev/ptp 0",
		       "device: '/dev/ptp 0' contains white space");
	EXPECT_STREQ(name, c.device);

	/* The longest path that fits. */
	strcpy(path, "/dev/");
	memset(path + 5, 'p', PATH_MAX - 1 - 5);
	path[PATH_MAX - 1] = 0;
	EXPECT_SET(&c, "device", path);
	EXPECT_STREQ(path, c.device);
	path[PATH_MAX - 1] = 'p';
	path[PATH_MAX] = 0;
	EXPECT_SET_ERR(&c, "device", path,
		       "device: value is longer than 4095 characters");
}

TEST(paths)
{
	char path[PATH_MAX + 8];
	struct hps_config c;

	hps_config_defaults(&c);
	EXPECT_SET(&c, "state_file", "/var/lib/hv-ptp-sync/state");
	EXPECT_STREQ("/var/lib/hv-ptp-sync/state", c.state_file);
	EXPECT_SET(&c, "state_file", "");
	EXPECT_STREQ("", c.state_file);
	EXPECT_SET(&c, "state_file", "/run/x");
	EXPECT_SET(&c, "state_file", "\"\"");
	EXPECT_STREQ("", c.state_file);
	EXPECT_SET(&c, "prometheus_file", "/a#b");
	EXPECT_STREQ("/a#b", c.prometheus_file);
	EXPECT_SET(&c, "prometheus-file", "\"\"");
	EXPECT_STREQ("", c.prometheus_file);
	EXPECT_SET_ERR(&c, "state_file", "run/state",
		       "state_file: 'run/state' is not an absolute path (\"\" disables)");
	EXPECT_SET_ERR(&c, "prometheus_file", "none",
		       "prometheus_file: 'none' is not an absolute path (\"\" disables)");
	EXPECT_SET_ERR(&c, "prometheus_file", "\"/x\"",
		       "prometheus_file: '\"/x\"' is not an absolute path (\"\" disables)");
	EXPECT_SET_ERR(&c, "state_file", "/run/a b",
		       "state_file: '/run/a b' contains white space");
	EXPECT_STREQ("", c.state_file);

	path[0] = '/';
	memset(path + 1, 'p', PATH_MAX - 2);
	path[PATH_MAX - 1] = 0;
	EXPECT_SET(&c, "state_file", path);
	EXPECT_STREQ(path, c.state_file);
	path[PATH_MAX - 1] = 'p';
	path[PATH_MAX] = 0;
	EXPECT_SET_ERR(&c, "state_file", path,
		       "state_file: value is longer than 4095 characters");
}

TEST(keys)
{
	char longkey[300];
	struct hps_config c, d;

	hps_config_defaults(&c);
	hps_config_defaults(&d);
	EXPECT_SET_ERR(&c, "pol_ms", "200", "unknown key 'pol_ms'");
	EXPECT_SET_ERR(&c, "Poll_ms", "200", "unknown key 'Poll_ms'");
	EXPECT_SET_ERR(&c, "", "200", "unknown key ''");
	EXPECT_SET_ERR(&c, "makestep_threshold", "1",
		       "unknown key 'makestep_threshold'");
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = 0;
	EXPECT_SET_ERR(&c, longkey, "1",
		       "unknown key 'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk'");
	EXPECT_SET_ERR(&c, "poll_ms", NULL, "poll_ms: expected a value");
	expect_same(_metadata, &d, &c);

	EXPECT_SET(&c, "poll-ms", "200");
	EXPECT_EQ(200, c.poll_ms);
	EXPECT_SET(&c, "max-slew-ppm", "100");
	EXPECT_DBL(100, c.max_slew_ppm);
	EXPECT_SET(&c, "max-error_us", "100");
	EXPECT_DBL(100, c.max_error_us);

	/* A NULL or short error buffer is allowed. */
	EXPECT_EQ(-1, hps_config_set(&c, "pol_ms", "1", NULL, 0));
	EXPECT_EQ(-1, hps_config_set(&c, "poll_ms", "1", longkey, 4));
	EXPECT_STREQ("pol", longkey);
}

TEST(file_syntax)
{
	struct hps_config c, d;

	hps_config_defaults(&c);
	EXPECT_PARSE(&c, "");
	EXPECT_PARSE(&c, "\n\n   \n\t\n");
	EXPECT_PARSE(&c, "# comment\n   # indented comment\n#poll_ms 5\n");
	hps_config_defaults(&d);
	expect_same(_metadata, &d, &c);

	EXPECT_PARSE(&c, "poll_ms 200\n");
	EXPECT_EQ(200, c.poll_ms);
	EXPECT_PARSE(&c, "\t poll_ms\t\t 300 \t\n");
	EXPECT_EQ(300, c.poll_ms);
	EXPECT_PARSE(&c, "poll_ms 400 # 4 * 100\n");
	EXPECT_EQ(400, c.poll_ms);
	EXPECT_PARSE(&c, "poll_ms 450\t#tab then comment\n");
	EXPECT_EQ(450, c.poll_ms);
	EXPECT_PARSE(&c, "poll-ms 500");		/* no final newline */
	EXPECT_EQ(500, c.poll_ms);
	EXPECT_PARSE(&c, "makestep   0.1    5   # first five\n");
	EXPECT_DBL(0.1, c.makestep_threshold);
	EXPECT_EQ(5, c.makestep_limit);

	/* CRLF: the '\r' is white space. */
	EXPECT_PARSE(&c, "poll_ms 600\r\nleap no\r\n\r\n# x\r\n");
	EXPECT_EQ(600, c.poll_ms);
	EXPECT_EQ(0, c.leap);

	/* '#' inside a word is not a comment. */
	EXPECT_PARSE(&c, "state_file /run/a#b\n");
	EXPECT_STREQ("/run/a#b", c.state_file);
	EXPECT_PARSE(&c, "state_file \"\" # off\n");
	EXPECT_STREQ("", c.state_file);

	/* Duplicates: the last wins. */
	EXPECT_PARSE(&c, "samples 3\nsamples 4\n# samples 6\nsamples 5\n");
	EXPECT_EQ(5, c.samples);
}

TEST(file_errors)
{
	struct hps_config c;

	hps_config_defaults(&c);
	EXPECT_PARSE_ERR(&c, "poll_ms 200\n# comment\npol_ms 5\n",
			 "t.conf:3: unknown key 'pol_ms'");
	EXPECT_PARSE_ERR(&c, "\n\n\n\nleap maybe",
			 "t.conf:5: leap: 'maybe' is not yes or no");
	EXPECT_PARSE_ERR(&c, "poll_ms\n", "t.conf:1: expected KEY VALUE");
	EXPECT_PARSE_ERR(&c, "\npoll_ms   # 500\n",
			 "t.conf:2: expected KEY VALUE");
	EXPECT_PARSE_ERR(&c, "poll_ms#500\n", "t.conf:1: expected KEY VALUE");
	EXPECT_PARSE_ERR(&c, "poll_ms 500 600\n",
			 "t.conf:1: poll_ms: '500 600' is not an integer");
	EXPECT_PARSE_ERR(&c, "poll_ms 500#600\n",
			 "t.conf:1: poll_ms: '500#600' is not an integer");
	EXPECT_PARSE_ERR(&c, "a\r\nb\r\npoll_ms 5\r\n",
			 "t.conf:1: expected KEY VALUE");
	EXPECT_PARSE_ERR(&c, "\r\n\r\npoll_ms 5\r\n",
			 "t.conf:3: poll_ms: 5 is out of range 100..60000");
	EXPECT_PARSE_ERR(&c, "makestep 1\n",
			 "t.conf:1: makestep: expected THRESHOLD LIMIT");
	EXPECT_PARSE_ERR(&c, "state_file /a b\n",
			 "t.conf:1: state_file: '/a b' contains white space");
	EXPECT_PARSE_ERR(&c, "= 5\n", "t.conf:1: unknown key '='");
	EXPECT_PARSE_ERR(&c, "poll_ms=5\n", "t.conf:1: expected KEY VALUE");
}

TEST(long_line)
{
	static char text[10000];
	struct hps_config c;

	hps_config_defaults(&c);
	/* 4095 characters is the limit, comment or not. */
	text[0] = '#';
	memset(text + 1, 'x', 4094);
	strcpy(text + 4095, "\npoll_ms 200\n");
	EXPECT_PARSE(&c, text);
	EXPECT_EQ(200, c.poll_ms);

	strcpy(text, "\n#");
	memset(text + 2, 'x', 4095);
	strcpy(text + 4097, "\npoll_ms 300\n");
	EXPECT_PARSE_ERR(&c, text, "t.conf:2: line is longer than 4095 characters");
	EXPECT_EQ(200, c.poll_ms);

	/* A path value as long as a line allows: "state_file " + path. */
	strcpy(text, "state_file /");
	memset(text + 12, 'p', 4095 - 12);
	text[4095] = 0;
	EXPECT_PARSE(&c, text);
	EXPECT_EQ(4095 - 11, strlen(c.state_file));
}

TEST(round_trip_defaults)
{
	struct hps_config d, c;
	char err[ERRLEN] = "";
	char *text;

	hps_config_defaults(&d);
	text = print_config(&d);
	ASSERT_NE(NULL, text);
	other_config(_metadata, &c);
	EXPECT_EQ(0, hps_config_parse(&c, "print", text, err, sizeof(err)))
		TH_LOG("%s\n%s", err, text);
	expect_same(_metadata, &d, &c);
	EXPECT_NE(NULL, strstr(text, "\npoll_ms 1000\n"));
	EXPECT_NE(NULL, strstr(text, "\nmakestep 1 -1\n"));
	EXPECT_NE(NULL, strstr(text, "\nprometheus_file \"\"\n"));
	EXPECT_NE(NULL, strstr(text, "\nlog_level info\n"));
	EXPECT_NE(NULL, strstr(text, "\n# 100..60000; default 1000\n"));
	free(text);
}

TEST(round_trip_other)
{
	struct hps_config o, c;
	char err[ERRLEN] = "";
	char *text;

	other_config(_metadata, &o);
	/* Values that need 17 digits to read back. */
	o.kp = 0.1 + 0.2;
	o.lock_us = 1.0 / 3;
	o.makestep_threshold = 2.0 / 3;
	text = print_config(&o);
	ASSERT_NE(NULL, text);
	hps_config_defaults(&c);
	EXPECT_EQ(0, hps_config_parse(&c, "print", text, err, sizeof(err)))
		TH_LOG("%s\n%s", err, text);
	expect_same(_metadata, &o, &c);
	EXPECT_NE(NULL, strstr(text, "\nstate_file \"\"\n"));
	EXPECT_NE(NULL, strstr(text, "\nfeedforward no\n"));
	EXPECT_NE(NULL, strstr(text, "\nlog_level debug\n"));
	free(text);
}

TEST(load)
{
	const char *text = "poll_ms 250\n\nleap no\n";
	struct hps_config c, d;
	char err[ERRLEN] = "";
	char *path;

	path = write_tmp(text, strlen(text));
	ASSERT_NE(NULL, path);
	hps_config_defaults(&c);
	EXPECT_EQ(0, hps_config_load(&c, path, 0, err, sizeof(err)))
		TH_LOG("%s", err);
	EXPECT_EQ(250, c.poll_ms);
	EXPECT_EQ(0, c.leap);
	remove_tmp(path);

	/* A bad file names FILE:LINE and changes nothing. */
	text = "poll_ms 300\nsamples 99\n";
	path = write_tmp(text, strlen(text));
	ASSERT_NE(NULL, path);
	d = c;
	EXPECT_EQ(-1, hps_config_load(&c, path, 0, err, sizeof(err)));
	expect_same(_metadata, &d, &c);
	{
		char want[ERRLEN];

		snprintf(want, sizeof(want),
			 "%s:2: samples: 99 is out of range 1..25", path);
		EXPECT_STREQ(want, err);
	}
	remove_tmp(path);

	/* A NUL byte. */
	path = write_tmp("poll_ms 300\nsam\0ples 9\n", 23);
	ASSERT_NE(NULL, path);
	EXPECT_EQ(-1, hps_config_load(&c, path, 0, err, sizeof(err)));
	EXPECT_NE(NULL, strstr(err, ":2: NUL character")) TH_LOG("%s", err);
	remove_tmp(path);
	expect_same(_metadata, &d, &c);
}

TEST(load_missing)
{
	const char *path = "/nonexistent/hv-ptp-sync.conf";
	struct hps_config c, d;
	char err[ERRLEN] = "";

	other_config(_metadata, &c);
	d = c;
	EXPECT_EQ(0, hps_config_load(&c, path, 1, err, sizeof(err)));
	expect_same(_metadata, &d, &c);
	EXPECT_EQ(-1, hps_config_load(&c, path, 0, err, sizeof(err)));
	EXPECT_STREQ("/nonexistent/hv-ptp-sync.conf: No such file or directory",
		     err);
	expect_same(_metadata, &d, &c);

	/* missing_ok is for a missing file only. */
	EXPECT_EQ(-1, hps_config_load(&c, "/tmp", 1, err, sizeof(err)));
	EXPECT_STREQ("/tmp: Is a directory", err);
}

TEST(load_size)
{
	size_t max = 1024 * 1024;
	struct hps_config c;
	char err[ERRLEN] = "";
	char *text, *path, want[ERRLEN];

	text = malloc(max + 1);
	ASSERT_NE(NULL, text);
	/* Exactly 1 MiB: blank lines, and a key on the last. */
	memset(text, '\n', max);
	memcpy(text + max - 12, "poll_ms 700\n", 12);
	path = write_tmp(text, max);
	ASSERT_NE(NULL, path);
	hps_config_defaults(&c);
	EXPECT_EQ(0, hps_config_load(&c, path, 0, err, sizeof(err)))
		TH_LOG("%s", err);
	EXPECT_EQ(700, c.poll_ms);
	remove_tmp(path);

	text[max] = '\n';
	path = write_tmp(text, max + 1);
	ASSERT_NE(NULL, path);
	EXPECT_EQ(-1, hps_config_load(&c, path, 0, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: file is larger than 1 MiB", path);
	EXPECT_STREQ(want, err);
	remove_tmp(path);
	free(text);
}

/* The shipped /etc/hv-ptp-sync.conf parses, and changes nothing. */
TEST(default_conf_file)
{
	struct hps_config c, d;
	char err[ERRLEN] = "";

	hps_config_defaults(&d);
	c = d;
	EXPECT_EQ(0, hps_config_load(&c, HPS_DEFAULT_CONF_FILE, 0, err,
				     sizeof(err)))
		TH_LOG("%s", err);
	expect_same(_metadata, &d, &c);
}

/*
 * Every key is in it, commented out ("#key value") with its default:
 * uncommented, the file sets a configuration that differs in every field
 * back to the defaults.
 */
TEST(default_conf_file_lists_every_key)
{
	struct hps_config c, d;
	char err[ERRLEN] = "";
	char *text, *p;

	text = read_all(HPS_DEFAULT_CONF_FILE);
	ASSERT_NE(NULL, text);
	for (p = text; *p; p++) {
		if ((p == text || p[-1] == '\n') && p[0] == '#' &&
		    p[1] >= 'a' && p[1] <= 'z')
			*p = ' ';
	}
	hps_config_defaults(&d);
	other_config(_metadata, &c);
	EXPECT_EQ(0, hps_config_parse(&c, "uncommented", text, err,
				      sizeof(err)))
		TH_LOG("%s", err);
	expect_same(_metadata, &d, &c);
	free(text);
}

/* The UTC keys: "auto", the audit's modes by name, errors that say why. */
TEST(utc_keys)
{
	struct hps_config c;

	hps_config_defaults(&c);
	EXPECT_DBL(-1, c.host_utc_error_us);
	EXPECT_EQ(HPS_AUDIT_OFF, c.utc_audit);
	EXPECT_SET(&c, "host_utc_error_us", "0");
	EXPECT_DBL(0, c.host_utc_error_us);
	EXPECT_SET(&c, "host-utc-error-us", "AUTO");
	EXPECT_DBL(-1, c.host_utc_error_us);
	EXPECT_SET_ERR(&c, "host_utc_error_us", "-1",
		       "host_utc_error_us: -1 is out of range 0..1000000000");
	EXPECT_SET_ERR(&c, "host_utc_error_us", "soon",
		       "host_utc_error_us: 'soon' is not a number");
	EXPECT_SET(&c, "utc_audit", "report");
	EXPECT_EQ(HPS_AUDIT_REPORT, c.utc_audit);
	EXPECT_SET_ERR(&c, "utc_audit", "on",
		       "utc_audit: 'on' is not off, report or bound");
	EXPECT_SET_ERR(&c, "chronyc", "chronyc",
		       "chronyc: 'chronyc' is not an absolute path (\"\" disables)");
	EXPECT_SET_ERR(&c, "audit_interval_s", "0",
		       "audit_interval_s: 0 is out of range 1..3600");
}

/* --KEY VALUE on the command line is taken for known keys only. */
TEST(has_key)
{
	EXPECT_TRUE(hps_config_has_key("poll_ms"));
	EXPECT_TRUE(hps_config_has_key("poll-ms"));
	EXPECT_TRUE(hps_config_has_key("makestep"));
	EXPECT_FALSE(hps_config_has_key("pol_ms"));
	EXPECT_FALSE(hps_config_has_key(""));
	EXPECT_FALSE(hps_config_has_key("poll_ms=5"));
}

TEST_HARNESS_MAIN
