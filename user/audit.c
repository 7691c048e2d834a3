// SPDX-License-Identifier: GPL-2.0
/*
 * The UTC audit's process: every audit_interval_s, "chronyc -c -n
 * sources" (with -h chronyc_socket when set), as ClockBound reads chronyd:
 * through chronyd's own client, not a protocol of ours. It runs beside the
 * loop: its output is collected when the loop's poll() says it is there,
 * and a chronyc that has not finished within CHRONYC_TIMEOUT_NS is killed
 * (chronyd not answering is "no measurement", never a late poll of the
 * PHC).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hv-ptp-sync.h"
#include "log.h"

#define CHRONYC_TIMEOUT_NS	5000000000LL

extern char **environ;

static void audit_publish(struct daemon *d, int changed);

void hps_audit_setup(struct daemon *d)
{
	d->utc.mode = d->cfg.utc_audit;
	d->utc.max_age_ns = d->cfg.ntp_max_age_s * 1000000000LL;
	if (d->utc.mode == HPS_AUDIT_OFF) {
		hps_audit_stop(d);
		d->utc.state = HPS_UTC_OFF;
		d->utc.why[0] = 0;
	} else if (d->utc.state == HPS_UTC_OFF) {
		d->utc.state = HPS_UTC_NONE;
		snprintf(d->utc.why, sizeof(d->utc.why), "no audit yet");
	}
	d->audit.due = 0;
}

int hps_audit_fd(const struct daemon *d)
{
	return d->audit.pid ? d->audit.fd : -1;
}

static void audit_start(struct daemon *d)
{
	char *argv[8];
	posix_spawn_file_actions_t fa;
	int p[2], argc = 0, ret;
	pid_t pid;

	argv[argc++] = d->cfg.chronyc;
	argv[argc++] = "-c";
	argv[argc++] = "-n";
	if (d->cfg.chronyc_socket[0]) {
		argv[argc++] = "-h";
		argv[argc++] = d->cfg.chronyc_socket;
	}
	argv[argc++] = "sources";
	argv[argc] = NULL;
	if (pipe2(p, O_CLOEXEC)) {
		hps_log(LOG_WARNING, "UTC audit: pipe: %s", strerror(errno));
		return;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	posix_spawn_file_actions_adddup2(&fa, p[1], 2);
	ret = posix_spawn(&pid, d->cfg.chronyc, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	if (ret) {
		close(p[0]);
		snprintf(d->audit.out, sizeof(d->audit.out), "%s: %s",
			 d->cfg.chronyc, strerror(ret));
		audit_publish(d, hps_utc_audit(&d->utc, NULL, -1, d->audit.out,
					       d->st.est_error_ns,
					       hps_now_ns(CLOCK_MONOTONIC)));
		return;
	}
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	d->audit.pid = pid;
	d->audit.fd = p[0];
	d->audit.len = 0;
	d->audit.overflow = 0;
	d->audit.started = hps_now_ns(CLOCK_MONOTONIC);
}

/* The audit's outcome into the status, and the log when it changed. */
static void audit_publish(struct daemon *d, int changed)
{
	struct hps_status *st = &d->st;
	const struct hps_utc *u = &d->utc;

	snprintf(st->utc_audit, sizeof(st->utc_audit), "%s",
		 hps_audit_state_name(u->state));
	snprintf(st->utc_audit_why, sizeof(st->utc_audit_why), "%s", u->why);
	st->host_utc_offset_ns = u->est.offset_ns;
	st->host_utc_error_ns = u->est.error_ns;
	st->utc_sources = u->est.used;
	st->utc_agreeing = u->est.agreeing;
	st->utc_audit_mono_ns = hps_now_ns(CLOCK_MONOTONIC);
	if (!changed)
		return;
	switch (u->state) {
	case HPS_UTC_AGREE:
		hps_log(LOG_NOTICE, "UTC audit: the host is %+lld ns from UTC, +/- %lld ns (%d of %d NTP sources): within its declared %lld ns",
			(long long)u->est.offset_ns, (long long)u->est.error_ns,
			u->est.agreeing, u->est.used,
			(long long)u->declared_ns);
		break;
	case HPS_UTC_DISAGREE:
		hps_log(LOG_WARNING, "UTC audit: the host and NTP disagree: the host is %+lld ns from UTC, +/- %lld ns (%d of %d NTP sources), beyond its declared %lld ns; the ClockBound segment does not vouch for the time until they agree",
			(long long)u->est.offset_ns, (long long)u->est.error_ns,
			u->est.agreeing, u->est.used,
			(long long)u->declared_ns);
		break;
	case HPS_UTC_STALE:
		hps_log(LOG_NOTICE, "UTC audit: %s; waiting for one%s", u->why,
			u->mode == HPS_AUDIT_BOUND ?
			" (the segment does not vouch until then)" : "");
		break;
	case HPS_UTC_NONE:
		hps_log(LOG_WARNING, "UTC audit: no measurement: %s; the UTC bound uses the declared %lld ns",
			u->why, (long long)u->declared_ns);
		break;
	case HPS_UTC_OFF:
		break;
	}
}

static void audit_finish(struct daemon *d, int status)
{
	struct hps_ntp_source src[HPS_AUDIT_MAX_SOURCES];
	char why[160];
	int n, changed;
	char *nl;

	d->audit.out[d->audit.len] = 0;
	if (d->audit.overflow) {
		snprintf(why, sizeof(why), "chronyc wrote more than %zu bytes",
			 sizeof(d->audit.out) - 1);
		n = -1;
	} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		nl = strchr(d->audit.out, '\n');
		if (nl)
			*nl = 0;
		snprintf(why, sizeof(why), "chronyc %s: %.100s",
			 WIFEXITED(status) ? "failed" : "killed",
			 d->audit.out[0] ? d->audit.out : "no output");
		n = -1;
	} else {
		n = hps_audit_parse_sources(d->audit.out, src,
					    HPS_AUDIT_MAX_SOURCES, why,
					    sizeof(why));
	}
	changed = hps_utc_audit(&d->utc, src, n, why, d->st.est_error_ns,
				hps_now_ns(CLOCK_MONOTONIC));
	audit_publish(d, changed);
}

/* The running chronyc killed and reaped: its wait status. */
static int audit_kill(struct daemon *d)
{
	int status = -1;	/* not reaped: as if killed */

	kill(d->audit.pid, SIGKILL);
	while (waitpid(d->audit.pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

/* A chronyc that has ended: its pipe closed, none running. */
static void audit_release(struct daemon *d)
{
	if (d->audit.fd >= 0)
		close(d->audit.fd);
	d->audit.fd = -1;
	d->audit.pid = 0;
}

void hps_audit_collect(struct daemon *d)
{
	int status = -1;	/* not reaped: as if killed */
	int timed_out;
	pid_t r;

	if (!d->audit.pid)
		return;
	while (d->audit.fd >= 0) {
		size_t room = sizeof(d->audit.out) - 1 - d->audit.len;
		char sink[512];
		ssize_t n;

		/* beyond the buffer: read and drop, and fail the audit */
		n = read(d->audit.fd, room ? d->audit.out + d->audit.len : sink,
			 room ? room : sizeof(sink));
		if (n > 0) {
			if (room)
				d->audit.len += n;
			else
				d->audit.overflow = 1;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		/* the end of its output (or an error reading it) */
		close(d->audit.fd);
		d->audit.fd = -1;
	}
	timed_out = hps_now_ns(CLOCK_MONOTONIC) - d->audit.started >=
		    CHRONYC_TIMEOUT_NS;
	/*
	 * Reaped without waiting: its output may end before it does, and a
	 * chronyc that keeps running is killed at the timeout, never waited
	 * for in the loop.
	 */
	do {
		r = waitpid(d->audit.pid, &status, WNOHANG);
	} while (r < 0 && errno == EINTR);
	if (!r && !timed_out)
		return;
	if (!r)
		status = audit_kill(d);
	audit_release(d);
	audit_finish(d, status);
}

void hps_audit_tick(struct daemon *d)
{
	int64_t now = hps_now_ns(CLOCK_MONOTONIC);

	if (d->utc.mode == HPS_AUDIT_OFF)
		return;
	if (d->audit.pid) {
		/*
		 * Its output ended before it did (reaped here, at least
		 * once a second), or it does not finish: collect kills it.
		 */
		if (d->audit.fd < 0 ||
		    now - d->audit.started >= CHRONYC_TIMEOUT_NS)
			hps_audit_collect(d);
		return;
	}
	if (now < d->audit.due)
		return;
	d->audit.due = now + d->cfg.audit_interval_s * 1000000000LL;
	audit_start(d);
}

void hps_audit_stop(struct daemon *d)
{
	if (!d->audit.pid)
		return;
	audit_kill(d);
	audit_release(d);
}
