/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the hv_ptp_ext kselftests: loading the modules through
 * the rig, the simulated host's debugfs files (selftests/host_sim/README)
 * and PHC access.
 */
#ifndef HV_PTP_EXT_RIG_H
#define HV_PTP_EXT_RIG_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/timex.h>
#include <termios.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define SIM_DIR		"/sys/kernel/debug/hv_host_sim"
#define RIG_LOAD	"/sbin/rig-load"
#define NSEC_PER_SEC	1000000000LL

#define FD_TO_CLOCKID(fd)	((~(clockid_t)(fd) << 3) | 3)

/* One line of the simulator's "truth" or "last_ref" file. */
struct sim_truth {
	long long real_ns;	/* CLOCK_REALTIME (0 in last_ref) */
	long long raw_ns;	/* CLOCK_MONOTONIC_RAW (0 in last_ref) */
	unsigned long long ref;	/* reference counter, 100 ns ticks */
	unsigned long long ref_ns;	/* reference time, ns */
	long long host_ns;	/* true host time, ns since the epoch */
	long long samples;	/* samples of the periodic stream sent so far */
	long long utc_ns;	/* true UTC: host time minus its offset from UTC */
};

/* True when the rig (its loader and the simulated host) is available. */
static inline int rig_available(void)
{
	return getuid() == 0 && access(RIG_LOAD, X_OK) == 0;
}

/* Reload the simulated host (and hv_utils) with "rig-load ARGS". */
/*
 * The long soaks, each by name: "flood" (malformed-packet floods),
 * "storm" (a 1 kHz sample storm), "cycles" (200 load/unload cycles),
 * "wander" (a wandering host for minutes), "pause" (a 10-minute pause of
 * samples), "events5" (the segment's events again at a sample every 5 s).
 * RIG_SOAK (rig.soak= on the guest's command line) says which run here:
 * unset or "1", all; "0", none; else a comma-separated list of names.
 * make check shares them out among its guests so that no guest is much
 * longer than the others: its time budget is the reason (README).
 */
static inline int rig_soak(const char *name)
{
	const char *v = getenv("RIG_SOAK"), *p;
	size_t n = strlen(name);

	if (!v || !strcmp(v, "1"))
		return 1;
	for (p = v; (p = strstr(p, name)); p += n)
		if ((p == v || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return 1;
	return 0;
}

#define RIG_SOAK_OR_SKIP(name) do {					\
	if (!rig_soak(name))						\
		SKIP(return, "soak \"%s\": make check runs it in one guest (rig.soak=%s here)", \
		     name, getenv("RIG_SOAK"));				\
} while (0)

static inline int rig_load(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int n;

	n = snprintf(cmd, sizeof(cmd), "%s ", RIG_LOAD);
	va_start(ap, fmt);
	vsnprintf(cmd + n, sizeof(cmd) - n, fmt, ap);
	va_end(ap);
	n = system(cmd);
	return n == -1 ? -1 : WEXITSTATUS(n);
}

static inline int sim_read_file(const char *name, struct sim_truth *t)
{
	char path[128], buf[256];
	int fd, n;

	snprintf(path, sizeof(path), SIM_DIR "/%s", name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	n = sscanf(buf, "%lld %lld %llu %llu %lld %lld %lld", &t->real_ns,
		   &t->raw_ns, &t->ref, &t->ref_ns, &t->host_ns, &t->samples,
		   &t->utc_ns);
	if (n < 6)
		return -EINVAL;
	if (n == 6)
		t->utc_ns = t->host_ns;	/* a simulator without a UTC of its own */
	return 0;
}

/* Ground truth now, from one ktime_get_snapshot() in the simulator. */
static inline int sim_truth(struct sim_truth *t)
{
	return sim_read_file("truth", t);
}

/*
 * Truth at the instant of this task's last reference-counter read on this
 * CPU: exact for PHCs that read the reference counter through
 * hv_read_reference_counter (hv_utils). Pin the task first.
 */
static inline int sim_last_ref(struct sim_truth *t)
{
	return sim_read_file("last_ref", t);
}

/* A value of the simulator's "stats" file: KEY VALUE lines. */
static inline int sim_stat_str(const char *key, char *val, size_t len)
{
	char line[256], k[128], v[128];
	FILE *f = fopen(SIM_DIR "/stats", "r");
	int ret = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%127s %127s", k, v) == 2 && !strcmp(k, key)) {
			ret = strlen(v) < len ? 0 : -ENOSPC;
			if (!ret)
				memcpy(val, v, strlen(v) + 1);
			break;
		}
	fclose(f);
	return ret;
}

/* A numeric stats value, or LLONG_MIN when it is missing. */
static inline long long sim_stat(const char *key)
{
	char v[128];

	if (sim_stat_str(key, v, sizeof(v)))
		return LLONG_MIN;
	return strtoll(v, NULL, 0);
}

/* Whether the stats value of @key is the string @want. */
static inline int sim_stat_is(const char *key, const char *want)
{
	char v[64];

	return !sim_stat_str(key, v, sizeof(v)) && !strcmp(v, want);
}

static inline int sim_control(const char *fmt, ...)
{
	char cmd[256];
	va_list ap;
	int fd, n, ret = 0;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	fd = open(SIM_DIR "/control", O_WRONLY);
	if (fd < 0)
		return -errno;
	if (write(fd, cmd, n) != n)
		ret = -errno;
	close(fd);
	return ret;
}

/* The number a shell command prints first; -1 if it prints none. */
static inline long long shell_ll(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	long long v = -1;

	if (!p)
		return -1;
	if (fscanf(p, "%lld", &v) != 1)
		v = -1;
	pclose(p);
	return v;
}

/* Kernel log lines that dmesg_clean would fail on (-1: no dmesg). */
static inline int kmsg_splats(void)
{
	return shell_ll("dmesg | grep -cE 'WARNING:|BUG:|Oops|INFO: lockdep|"
			"DEBUG_LOCKS_WARN_ON|possible circular|UBSAN|KASAN|"
			"ODEBUG|Call Trace:'");
}

#define HPS_STATE	"/run/hv-ptp-sync/state"

/*
 * A field of hv-ptp-sync's state file (JSON, see user/status.h) as text:
 * a string as it is, a number in decimal; "" if absent, null or the file
 * unreadable.
 */
static inline const char *hps_state(const char *key, char *buf, size_t len)
{
	json_t *o = json_load_file(HPS_STATE, 0, NULL);
	json_t *v = json_object_get(o, key);

	buf[0] = 0;
	if (json_is_string(v))
		snprintf(buf, len, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, len, "%.9g", json_real_value(v));
	json_decref(o);
	return buf;
}

/*
 * The starting point every daemon comparison shares: the system clock put
 * 50 ms ahead and 100 ppm fast. Returns 0 or -errno.
 */
static inline int offset_system_clock(void)
{
	struct timex tx = { .modes = ADJ_SETOFFSET | ADJ_NANO };

	tx.time.tv_usec = 50000000;	/* ns, with ADJ_NANO */
	if (clock_adjtime(CLOCK_REALTIME, &tx) < 0)
		return -errno;
	memset(&tx, 0, sizeof(tx));
	tx.modes = ADJ_FREQUENCY | ADJ_TICK;
	tx.freq = 100 << 16;		/* ppm, 16 fractional bits */
	tx.tick = 10000;		/* nominal: us per 1/100 s */
	return clock_adjtime(CLOCK_REALTIME, &tx) < 0 ? -errno : 0;
}

/* Open the PHC whose clock_name is @name (its index is not fixed). */
static inline int phc_open(const char *name)
{
	char path[300], buf[64];
	struct dirent *de;
	int fd = -1;
	DIR *d;
	FILE *f;

	d = opendir("/sys/class/ptp");
	if (!d)
		return -1;
	while (fd < 0 && (de = readdir(d))) {
		if (strncmp(de->d_name, "ptp", 3))
			continue;
		snprintf(path, sizeof(path), "/sys/class/ptp/%s/clock_name",
			 de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) && !strncmp(buf, name, strlen(name)) &&
		    buf[strlen(name)] == '\n') {
			snprintf(path, sizeof(path), "/dev/%s", de->d_name);
			fd = open(path, O_RDONLY);
		}
		fclose(f);
	}
	closedir(d);
	return fd;
}

static inline long long ts_ns(const struct timespec *ts)
{
	return ts->tv_sec * NSEC_PER_SEC + ts->tv_nsec;
}

/* PHC time through clock_gettime(), ns; errors as -errno. */
static inline int phc_gettime(int fd, long long *ns)
{
	struct timespec ts = { 0 };

	if (clock_gettime(FD_TO_CLOCKID(fd), &ts))
		return -errno;
	*ns = ts_ns(&ts);
	return 0;
}

static inline int pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

static inline void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * rig_freeze(SECONDS, &ns): the whole guest stopped with QEMU's "stop"
 * for SECONDS while the host's clock runs on, then resumed ("cont"), by
 * run-vm.sh on a request over the control port (RIG_CTL, from rig.ctl=).
 * Under TCG every clock of the guest stands still meanwhile. Sets *ns to
 * how long the VM stood still as the host's clock measured it; returns 0,
 * -ENODEV without a control port (not run by run-vm.sh), or -EIO.
 */
static inline int rig_freeze(int seconds, long long *ns)
{
	const char *port = getenv("RIG_CTL");
	char line[128];
	struct pollfd p;
	struct termios t;
	size_t n = 0;
	int fd, rc = -EIO;

	if (!port)
		return -ENODEV;
	fd = open(port, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -ENODEV;
	if (tcgetattr(fd, &t))
		goto out;
	cfmakeraw(&t);
	if (tcsetattr(fd, TCSANOW, &t) || tcflush(fd, TCIOFLUSH))
		goto out;
	if (dprintf(fd, "freeze %d\n", seconds) < 0)
		goto out;
	/* the guest's clocks stand still while frozen: a minute of its own */
	p.fd = fd;
	p.events = POLLIN;
	while (n < sizeof(line) - 1) {
		int r = poll(&p, 1, 60000);

		if (r < 0 && errno == EINTR)
			continue;
		if (r != 1 || read(fd, line + n, 1) != 1)
			break;
		if (line[n] == '\n') {
			line[n] = 0;
			if (sscanf(line, "frozen %lld", ns) == 1 && *ns > 0)
				rc = 0;
			break;
		}
		n++;
	}
out:
	close(fd);
	return rc;
}

#endif /* HV_PTP_EXT_RIG_H */
