/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Running hv-ptp-sync in a guest test: start and stop it, read its state
 * file, put the system clock back afterwards.
 */
#ifndef HV_PTP_EXT_DAEMON_H
#define HV_PTP_EXT_DAEMON_H

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "rig.h"

#define DAEMON		"/usr/sbin/hv-ptp-sync"
#define LOG		"/tmp/hv-ptp-sync.log"

static inline long long state_ll(const char *key)
{
	char buf[64];

	return atoll(hps_state(key, buf, sizeof(buf)));
}

static inline int state_is(const char *key, const char *want)
{
	char buf[64];

	return !strcmp(hps_state(key, buf, sizeof(buf)), want);
}

/* Wait up to @ms for the state field @key to read @want. */
static inline int wait_state(const char *key, const char *want, int ms)
{
	for (; ms > 0; ms -= 100) {
		if (state_is(key, want))
			return 1;
		sleep_ms(100);
	}
	return state_is(key, want);
}

/*
 * hv-ptp-sync with @args. The tests judge against the simulator's host
 * time, so the bounds they read are host-relative: unless @args say
 * otherwise, no allowance for the host against UTC (--host-utc-error-us=0).
 */
static inline pid_t start_daemon(const char *args)
{
	const char *host = strstr(args, "host-utc-error") ? "" :
			   "--host-utc-error-us=0 ";
	char cmd[640];
	pid_t pid;

	mkdir("/run/hv-ptp-sync", 0755);
	unlink(HPS_STATE);
	pid = fork();
	if (!pid) {
		snprintf(cmd, sizeof(cmd), "exec " DAEMON " %s%s 2>>" LOG, host,
			 args);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static inline int stop_daemon(pid_t pid)
{
	int status = -1;

	if (pid <= 0)
		return -1;
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	return status;
}

static inline void restore_system_clock(void)
{
	struct timex tx = { .modes = ADJ_FREQUENCY | ADJ_TICK | ADJ_STATUS };

	tx.tick = 10000;
	tx.status = STA_UNSYNC;
	clock_adjtime(CLOCK_REALTIME, &tx);
}

static inline int kernel_status(struct timex *tx)
{
	memset(tx, 0, sizeof(*tx));
	return clock_adjtime(CLOCK_REALTIME, tx);
}

/* Stop the daemon, put the clock back, show the daemon's log. */
static inline void finish(pid_t pid)
{
	stop_daemon(pid);
	restore_system_clock();
	system("cat " LOG " | sed 's/^/# daemon: /' | tail -n 40; rm -f " LOG);
}

#endif
