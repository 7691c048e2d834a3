// SPDX-License-Identifier: GPL-2.0
/*
 * hv-ptp-sync: steers CLOCK_REALTIME to the Hyper-V PHC.
 *
 * Once per poll, the core (discipline.c) reads the PHC, decides and
 * applies through the actuator below (the PHC, phc.c; adjtimex,
 * clockadj.c); then this file logs what the poll did and publishes (the
 * status, status.c, the ClockBound segment, systemd's sd_notify). Policy
 * lives in discipline.c only; this file is glue.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "caps.h"
#include "hv-ptp-sync.h"
#include "log.h"

#define EXIT_USAGE	1
#define EXIT_RUNTIME	2
#define EXIT_NOT_RUNNING 3

static volatile sig_atomic_t got_hup, got_term;

int64_t hps_now_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: hv-ptp-sync [OPTIONS]           run the daemon (foreground)\n"
		"       hv-ptp-sync status [--json] [OPTIONS]\n"
		"\n"
		"Steers the system clock to the Hyper-V PTP clock (hv_ptp_ext's, or\n"
		"hv_utils' \"hyperv\") through adjtimex.\n"
		"\n"
		"Options:\n"
		"  -f, --config=FILE    configuration file (default " HPS_DEFAULT_CONFIG ")\n"
		"  --KEY=VALUE, --KEY VALUE\n"
		"                       any configuration key, e.g. --poll-ms=250,\n"
		"                       --device /dev/ptp_hyperv, --makestep='1.0 -1'\n"
		"                       (see hv-ptp-sync.conf(5))\n"
		"  -c, --check-config   check the configuration and exit\n"
		"  -p, --print-config   print the configuration in file syntax and exit\n"
		"  --json               with status: one JSON object\n"
		"  -h, --help           this text\n"
		"  -V, --version        the version\n");
}

/* defaults, then the file, then the command line */
static int load_config(struct daemon *d, struct hps_config *c)
{
	char err[512], key[128];
	int i;

	hps_config_defaults(c);
	if (hps_config_load(c, d->config_path, !d->config_explicit, err,
			    sizeof(err))) {
		hps_log(LOG_ERR, "%s", err);
		return -1;
	}
	for (i = 0; i < d->n_overrides; i++) {
		snprintf(key, sizeof(key), "%.*s", d->overrides[i].key_len,
			 d->overrides[i].key);
		if (hps_config_set(c, key, d->overrides[i].value, err, sizeof(err))) {
			hps_log(LOG_ERR, "command line: %s", err);
			return -1;
		}
	}
	return 0;
}

/* Say what a poll did that the log should say. */
static void log_poll(struct daemon *d, const struct hps_poll *p)
{
	if (p->step_err)
		hps_log(LOG_ERR, "adjtimex (step): %s", strerror(-p->step_err));
	else if (p->step)
		hps_log(LOG_NOTICE, "stepped the system clock by %+.9f s",
			p->step_ns / 1e9);
	if (p->freq_err)
		hps_log(LOG_ERR, "adjtimex (frequency): %s",
			strerror(-p->freq_err));
	if (p->clear_err)
		hps_log(LOG_WARNING, "adjtimex (clearing the kernel's error): %s",
			strerror(-p->clear_err));
	else if (p->cleared)
		hps_log(LOG_DEBUG, "cleared the kernel's NTP error");
	if (p->events & HPS_EV_STATE)
		hps_log(p->state == HPS_DISC_HOLDOVER || p->state == HPS_DISC_NO_PHC ?
			LOG_WARNING : LOG_INFO, "state: %s",
			hps_disc_state_name(p->state));
	if (p->events & HPS_EV_HOST_UNSYNC)
		hps_log(LOG_NOTICE, p->host_unsync ?
			"the host reports itself unsynchronised (stratum 16 or leap 3, or values out of range): following it, with STA_UNSYNC set" :
			"the host reports itself synchronised again");
	if (p->events & HPS_EV_LEAP)
		hps_log(LOG_NOTICE, "leap second %s",
			p->leap == HPS_LEAP_INSERT ? "announced: inserting 23:59:60 at the end of the day" :
			p->leap == HPS_LEAP_DELETE ? "announced: deleting 23:59:59 at the end of the day" :
			"no longer pending");
	if (p->sync_err)
		hps_log(LOG_ERR, "adjtimex (status): %s", strerror(-p->sync_err));
	else if (p->events & HPS_EV_SYNC)
		hps_log(LOG_NOTICE, "system clock %s",
			p->synced ? "synchronised (STA_UNSYNC cleared)" :
			"not synchronised (STA_UNSYNC set)");

	/* the PHC: what went wrong with it once, and when it answers again */
	if (p->closed) {
		hps_log(LOG_WARNING, "%s: %s; holding the frequency",
			d->closed_path, strerror(-p->read_err));
	} else if (p->read_err) {
		/* none to open is said by act_phc_open(), once */
		if (d->phc.fd >= 0 && p->read_err != -EAGAIN &&
		    !d->read_err_logged) {
			hps_log(LOG_WARNING, "%s: %s; holding the frequency until it answers",
				d->phc.path,
				p->read_err == -ERANGE ? "a timestamp out of range" :
				p->read_err == -EBADMSG ? "error_bound_ns is no number" :
				strerror(-p->read_err));
			d->read_err_logged = 1;
		}
	} else if (!p->quiet && d->read_err_logged) {
		hps_log(LOG_NOTICE, "%s answers again", d->phc.path);
		d->read_err_logged = 0;
	}
}

static void reload(struct daemon *d)
{
	struct hps_config c;

	if (load_config(d, &c)) {
		hps_log(LOG_ERR, "reload failed; keeping the old configuration");
		return;
	}
	/* another device: the core closes the PHC, the next poll finds it */
	if (hps_disc_reconfigure(d->disc, &c)) {
		hps_log(LOG_ERR, "out of memory");
		exit(EXIT_RUNTIME);
	}
	d->cfg = c;
	hps_audit_setup(d);
	hps_clockbound_open(d);
	hps_publish_bound(d);
	hps_log_init(c.log_level);
	hps_log(LOG_INFO, "configuration reloaded");
}

/*
 * Sleep until CLOCK_MONOTONIC @wake, or until the module counts a
 * disruption: then the segment says so at once, not at the next poll
 * (which measures it as usual, on its own schedule: an early update
 * would shorten the servo's interval).
 */
static void wait_until(struct daemon *d, int64_t wake)
{
	struct pollfd p[2] = {
		{ .fd = d->disr_fd, .events = POLLPRI },
		{ .fd = hps_audit_fd(d), .events = POLLIN },
	};
	int64_t left = wake - hps_now_ns(CLOCK_MONOTONIC);
	struct timespec ts;
	long long count;

	if (left <= 0)
		return;
	ts = ns_to_ts(left);
	if (ppoll(p, 2, &ts, NULL) <= 0)
		return;
	if (p[1].revents)
		hps_audit_collect(d);
	if (p[0].revents & (POLLPRI | POLLERR)) {
		count = hps_disruption_armed(d);
		if (count >= 0 && hps_disc_disruption(d->disc, count)) {
			hps_log(LOG_NOTICE, "the PHC reports a disruption (%lld)",
				count);
			hps_publish(d);
		}
	}
}

static int run(struct daemon *d)
{
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t wd_usec = 0;
	int64_t next, next_wd, wake, mono;
	struct hps_poll p;
	double ppb = 0;
	int ret;

	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	ret = hps_clock_get_freq(&ppb);
	if (ret) {
		hps_log(LOG_ERR, "adjtimex: %s", strerror(-ret));
		return EXIT_RUNTIME;
	}
	hps_actuator_init(d);
	d->disc = hps_disc_create(&d->cfg, ppb, &d->st, &d->act);
	if (!d->disc)
		return EXIT_RUNTIME;
	d->phc.fd = -1;
	d->disr_fd = -1;
	d->cb.fd = -1;
	d->audit.fd = -1;
	hps_audit_setup(d);
	d->st.pid = getpid();
	hps_log(LOG_INFO, "hv-ptp-sync " VERSION " starting, poll %d ms, makestep %g %d",
		d->cfg.poll_ms, d->cfg.makestep_threshold,
		d->cfg.makestep_limit);
	if (sd_watchdog_enabled(0, &wd_usec) <= 0)
		wd_usec = 0;
	hps_clockbound_open(d);
	hps_publish_bound(d);
	sd_notify(0, "READY=1");

	next = next_wd = hps_now_ns(CLOCK_MONOTONIC);
	while (!got_term) {
		if (got_hup) {
			got_hup = 0;
			reload(d);
		}
		mono = hps_now_ns(CLOCK_MONOTONIC);
		if (mono >= next) {
			/*
			 * The next poll a whole interval (poll_ms, or the
			 * servo's shorter one while it starts or slews) after
			 * this one, even when this one ran late (a loaded
			 * machine), not back on the grid: the servo turns an
			 * offset into a frequency over the interval since the
			 * last poll (ppb = ns / s), so catching up 25 ms after
			 * a late poll at 250 ms multiplied its gains tenfold.
			 * A 5 us offset, within lock_us, then moved the
			 * frequency estimate by ki * 5 us / 25 ms = 60 ppm;
			 * holdover kept that, and its error estimate, which
			 * takes the frequency noise of an update to be the
			 * offsets' jitter per poll_ms, did not cover it.
			 */
			next = mono + hps_disc_poll(d->disc, &p);
			log_poll(d, &p);
			hps_publish(d);
		}
		/* between polls: the bound grown, at least once a second */
		if (hps_now_ns(CLOCK_MONOTONIC) >= d->cb_due)
			hps_publish_bound(d);
		hps_audit_tick(d);
		if (wd_usec && hps_now_ns(CLOCK_MONOTONIC) >= next_wd) {
			sd_notify(0, "WATCHDOG=1");
			next_wd = hps_now_ns(CLOCK_MONOTONIC) + wd_usec * 500;
		}
		wake = next < d->cb_due ? next : d->cb_due;
		if (wd_usec && next_wd < wake)
			wake = next_wd;
		if (d->utc.mode != HPS_AUDIT_OFF && !d->audit.pid &&
		    d->audit.due < wake)
			wake = d->audit.due;
		wait_until(d, wake);
	}

	sd_notify(0, "STOPPING=1");
	hps_log(LOG_INFO, "exiting; frequency left at %+.3f ppm, clock marked unsynchronised",
		d->st.freq_ppm);
	hps_clock_set_sync(&d->adj, 0, 0, 16000000000LL, 16000000000LL);
	if (d->cfg.state_file[0])
		unlink(d->cfg.state_file);
	if (d->cfg.prometheus_file[0])
		unlink(d->cfg.prometheus_file);
	hps_clockbound_void(d);
	hps_audit_stop(d);
	hps_disc_destroy(d->disc);
	return 0;
}

static int status(struct daemon *d, int json)
{
	struct hps_status st;
	char why[160];
	int ret;

	ret = hps_status_read(d->cfg.state_file, &st, why, sizeof(why));
	if (ret) {
		if (ret == -ENOENT)
			fprintf(stderr, "hv-ptp-sync is not running (no %s)\n",
				d->cfg.state_file);
		else
			fprintf(stderr, "%s: %s\n", d->cfg.state_file, why);
		return EXIT_NOT_RUNNING;
	}
	if (st.pid > 0 && kill(st.pid, 0) && errno == ESRCH)
		fprintf(stderr, "warning: process %ld is gone; the state is stale\n",
			st.pid);
	if (json) {
		hps_status_print_json(stdout, &st, hps_now_ns(CLOCK_MONOTONIC));
	} else {
		hps_status_print_tracking(stdout, &st, hps_now_ns(CLOCK_MONOTONIC));
		printf("\n");
		hps_status_print_sources(stdout, &st, hps_now_ns(CLOCK_MONOTONIC));
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct daemon d;
	int i, check = 0, print = 0, json = 0, is_status = 0;
	char *arg, *eq, err[160];

	hps_status_init();
	d.config_path = HPS_DEFAULT_CONFIG;
	d.overrides = calloc(argc, sizeof(*d.overrides));
	if (!d.overrides)
		return EXIT_RUNTIME;
	hps_log_init(LOG_INFO);
	for (i = 1; i < argc; i++) {
		arg = argv[i];
		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(arg, "-V") || !strcmp(arg, "--version")) {
			printf("hv-ptp-sync " VERSION "\n");
			return 0;
		} else if (!strcmp(arg, "-c") || !strcmp(arg, "--check-config")) {
			check = 1;
		} else if (!strcmp(arg, "-p") || !strcmp(arg, "--print-config")) {
			print = 1;
		} else if (!strcmp(arg, "--json")) {
			json = 1;
		} else if (!strcmp(arg, "-f") || !strcmp(arg, "--config")) {
			if (++i == argc) {
				fprintf(stderr, "hv-ptp-sync: %s needs a file\n", arg);
				return EXIT_USAGE;
			}
			d.config_path = argv[i];
			d.config_explicit = 1;
		} else if (!strncmp(arg, "--config=", 9)) {
			d.config_path = arg + 9;
			d.config_explicit = 1;
		} else if (!strncmp(arg, "--", 2) && (eq = strchr(arg, '='))) {
			d.overrides[d.n_overrides++] = (struct override){
				arg + 2, eq + 1, (int)(eq - arg - 2) };
		} else if (!strncmp(arg, "--", 2) && hps_config_has_key(arg + 2)) {
			if (++i == argc) {
				fprintf(stderr, "hv-ptp-sync: %s needs a value\n", arg);
				return EXIT_USAGE;
			}
			d.overrides[d.n_overrides++] = (struct override){
				arg + 2, argv[i], (int)strlen(arg + 2) };
		} else if (!strcmp(arg, "status") && !is_status) {
			is_status = 1;
		} else {
			fprintf(stderr, "hv-ptp-sync: unknown argument '%s' (--help lists them)\n",
				arg);
			return EXIT_USAGE;
		}
	}
	if (load_config(&d, &d.cfg))
		return EXIT_USAGE;
	if (check) {
		printf("configuration OK\n");
		return 0;
	}
	if (print) {
		hps_config_print(&d.cfg, stdout);
		return 0;
	}
	if (is_status)
		return status(&d, json);
	if (json) {
		fprintf(stderr, "hv-ptp-sync: --json goes with status\n");
		return EXIT_USAGE;
	}
	hps_log_init(d.cfg.log_level);
	if (hps_caps_restrict(err, sizeof(err))) {
		hps_log(LOG_ERR, "%s", err);
		return EXIT_RUNTIME;
	}
	return run(&d);
}
