/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NTP for the UTC audit in a guest: ntp-fixture (selftests/rig/
 * ntp-fixture.c, answering from the simulator's true UTC) in a network
 * namespace of its own, and Debian's chronyd joining it, as a user runs it
 * beside hv-ptp-sync: "-x" (it never touches the clock), its source
 * "noselect", polled every second. Its command socket is a file, so
 * hv-ptp-sync's chronyc reaches it from any namespace (NTP_SOCK).
 */
#ifndef HV_PTP_EXT_NTP_H
#define HV_PTP_EXT_NTP_H

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NTP_CHRONYD	"/usr/sbin/chronyd"
#define NTP_CHRONYC	"/usr/bin/chronyc"
#define NTP_FIXTURE	"/usr/bin/ntp-fixture"
#define NTP_DIR		"/run/chrony"
#define NTP_SOCK	NTP_DIR "/chronyd.sock"
#define NTP_CONF	"/tmp/chrony-audit.conf"
#define NTP_LOG		"/tmp/chronyd-audit.log"

/* hv-ptp-sync's options for the audit on this chronyd */
#define NTP_AUDIT_ARGS	"--utc-audit=bound --chronyc=" NTP_CHRONYC \
			" --chronyc-socket=" NTP_SOCK \
			" --audit-interval-s=1 --ntp-max-age-s=8"

struct ntp_side {
	pid_t fixture, chronyd;
};

static inline int ntp_available(void)
{
	return !access(NTP_CHRONYD, X_OK) && !access(NTP_CHRONYC, X_OK) &&
	       !access(NTP_FIXTURE, X_OK);
}

/* lo up in this network namespace */
static inline int ntp_lo_up(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), ret = -1;

	if (fd < 0)
		return -1;
	if (!ioctl(fd, SIOCGIFFLAGS, &ifr)) {
		ifr.ifr_flags |= IFF_UP;
		ret = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return ret;
}

/*
 * The server (a path of 200 us each way, 150 us of asymmetry, 50 us of
 * jitter) and chronyd. 0, or -1 with what was started in @n to stop.
 */
static inline int ntp_start(struct ntp_side *n)
{
	int ready[2];
	char ns[64], c;
	FILE *f;

	n->fixture = n->chronyd = -1;
	f = fopen(NTP_CONF, "w");
	if (!f)
		return -1;
	fprintf(f, "server 127.0.0.1 iburst minpoll 0 maxpoll 0 noselect\n"
		   "bindcmdaddress " NTP_SOCK "\ncmdport 0\n"
		   "pidfile " NTP_DIR "/chronyd.pid\n");
	fclose(f);
	/* chronyd refuses a socket directory others can enter */
	mkdir(NTP_DIR, 0700);
	chmod(NTP_DIR, 0700);
	if (pipe(ready))
		return -1;
	n->fixture = fork();
	if (!n->fixture) {
		close(ready[0]);
		if (unshare(CLONE_NEWNET) || ntp_lo_up())
			_exit(126);
		if (write(ready[1], "r", 1) != 1)
			_exit(126);
		close(ready[1]);
		execl(NTP_FIXTURE, NTP_FIXTURE, "--addr", "127.0.0.1", "--port",
		      "123", "--delay-us", "200", "--asym-us", "150",
		      "--jitter-us", "50", "--root-disp-us", "20", (char *)NULL);
		_exit(127);
	}
	close(ready[1]);
	if (n->fixture < 0 || read(ready[0], &c, 1) != 1) {
		close(ready[0]);
		return -1;
	}
	close(ready[0]);
	snprintf(ns, sizeof(ns), "/proc/%d/ns/net", n->fixture);
	n->chronyd = fork();
	if (!n->chronyd) {
		int fd = open(ns, O_RDONLY), out;

		if (fd < 0 || setns(fd, CLONE_NEWNET))
			_exit(126);
		out = open(NTP_LOG, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (out >= 0)
			dup2(out, 2);
		execl(NTP_CHRONYD, NTP_CHRONYD, "-x", "-d", "-u", "root", "-f",
		      NTP_CONF, (char *)NULL);
		_exit(127);
	}
	return n->chronyd < 0 ? -1 : 0;
}

static inline void ntp_stop_pid(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGTERM);
		waitpid(*pid, NULL, 0);
	}
	*pid = -1;
}

static inline void ntp_stop(struct ntp_side *n)
{
	ntp_stop_pid(&n->chronyd);
	ntp_stop_pid(&n->fixture);
}

#endif
