// SPDX-License-Identifier: GPL-2.0
/*
 * hv-ptp-sync: steers CLOCK_REALTIME to the Hyper-V PHC.
 *
 * Data path, once per poll: PHC offset measurement (phc.c) -> step policy
 * or servo (servo.c) -> adjtimex (clockadj.c) -> kernel sync state -> the
 * published status (status.c) and systemd (sd_notify).
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "caps.h"
#include "clockadj.h"
#include "config.h"
#include "log.h"
#include "phc.h"
#include "servo.h"
#include "status.h"

#define RMS_LEN		16	/* offsets in the RMS and jitter figures */
#define LOCK_COUNT	3	/* updates within lock_us before "locked" */
#define REPROBE_EVERY	64	/* updates between tries of a better mode */
#define HOLDOVER_PPB	500	/* error growth without a reference, ppb */
#define HOLD_AVG	64	/* updates in the holdover frequency average */
#define HOLD_MIN	8	/* ... before it is used instead of the servo's */
#define EXIT_USAGE	1
#define EXIT_RUNTIME	2
#define EXIT_NOT_RUNNING 3

static volatile sig_atomic_t got_hup, got_term;

struct daemon {
	struct hps_config cfg;
	const char *config_path;
	int config_explicit;
	struct override {		/* --key=value, --key value */
		const char *key, *value;
		int key_len;
	} *overrides;
	int n_overrides;

	struct hps_phc phc;
	struct hps_servo *servo;
	struct hps_clockadj adj;
	struct hps_status st;
	int64_t offsets[RMS_LEN];
	int n_offsets;
	int lock_count;
	int ever_locked;
	int host_unsync;		/* the host says stratum 16 or leap 3 */
	double hold_ppb;		/* average correction while locked */
	double hold_dev;		/* average |correction - hold_ppb| */
	int hold_n;			/* updates in them, up to HOLD_AVG */
	double hold_growth;		/* ppb: error growth in this holdover */
	double phc_freq_ppb;
	int have_phc_freq;
	int64_t last_good_mono;
	int64_t last_est_error;
	int phc_logged;			/* "no PHC" said once */
	int read_err_logged;		/* a transient read error said once */
	int64_t leap_at;		/* CLOCK_REALTIME s of an armed leap */
	int leap;			/* which one (HPS_LEAP_*) */
};

static int64_t now_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* a + b for a, b >= 0, saturated at INT64_MAX */
static int64_t sat_add(int64_t a, int64_t b)
{
	int64_t r;

	return __builtin_add_overflow(a, b, &r) ? INT64_MAX : r;
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

static void record_offset(struct daemon *d, int64_t offset)
{
	struct hps_status *st = &d->st;
	double sum = 0, dsum = 0, diff;
	int i, n;

	d->offsets[d->n_offsets % RMS_LEN] = offset;
	d->n_offsets++;
	n = d->n_offsets < RMS_LEN ? d->n_offsets : RMS_LEN;
	for (i = 0; i < n; i++) {
		sum += (double)d->offsets[i] * d->offsets[i];
		if (i) {
			diff = d->offsets[i] - d->offsets[i - 1];
			dsum += diff * diff;
		}
	}
	st->rms_offset_ns = llround(sqrt(sum / n));
	st->jitter_ns = n > 1 ? llround(sqrt(dsum / (n - 1))) : 0;
}

static void set_state(struct daemon *d, const char *state)
{
	if (strcmp(d->st.state, state))
		hps_log(strcmp(state, "holdover") && strcmp(state, "no-phc") ?
			LOG_INFO : LOG_WARNING, "state: %s", state);
	snprintf(d->st.state, sizeof(d->st.state), "%s", state);
}

static void publish(struct daemon *d)
{
	struct hps_status *st = &d->st;
	int ret;

	if (d->cfg.state_file[0]) {
		ret = hps_status_write(d->cfg.state_file, st);
		if (ret)
			hps_log(LOG_WARNING, "%s: %s", d->cfg.state_file,
				strerror(-ret));
	}
	if (d->cfg.prometheus_file[0]) {
		ret = hps_status_write_prometheus(d->cfg.prometheus_file, st);
		if (ret)
			hps_log(LOG_WARNING, "%s: %s",
				d->cfg.prometheus_file, strerror(-ret));
	}
	sd_notifyf(0, "STATUS=%s, offset %+lld ns, frequency %+.3f ppm%s%s",
		   st->state, (long long)st->last_offset_ns, st->freq_ppm,
		   st->device[0] ? ", " : "", st->device);
}

/* Kernel sync state from our error estimate. */
static void update_sync(struct daemon *d, int locked, int leap)
{
	struct hps_status *st = &d->st;
	int synced, ret;

	/* an unsynchronised host's time is followed, but not vouched for */
	synced = locked && st->est_error_ns <= d->cfg.max_error_us * 1000 &&
		 !d->host_unsync;
	ret = hps_clock_set_sync(&d->adj, synced, d->cfg.leap ? leap : 0,
				 st->est_error_ns, st->est_error_ns);
	if (ret) {
		hps_log(LOG_ERR, "adjtimex (status): %s", strerror(-ret));
		return;
	}
	if (synced != st->synced)
		hps_log(LOG_NOTICE, "system clock %s",
			synced ? "synchronised (STA_UNSYNC cleared)" :
			"not synchronised (STA_UNSYNC set)");
	st->synced = synced;
	st->leap = synced ? (d->cfg.leap ? leap : 0) : HPS_LEAP_UNSYNC;
}

static void try_open(struct daemon *d)
{
	char err[512];
	int ret;

	ret = hps_phc_open(&d->phc, d->cfg.device, d->cfg.samples, err,
			   sizeof(err));
	if (ret) {
		if (!d->phc_logged)
			hps_log(LOG_WARNING, "%s; retrying every poll", err);
		d->phc_logged = 1;
		return;
	}
	d->phc_logged = 0;
	d->have_phc_freq = 0;
	hps_servo_reset(d->servo);
	hps_log(LOG_INFO, "using %s (\"%s\"%s%s), %s offsets", d->phc.path,
		d->phc.clock_name, d->phc.driver[0] ? ", driver " : "",
		d->phc.driver, hps_mode_name(d->phc.mode));
	snprintf(d->st.device, sizeof(d->st.device), "%s", d->phc.path);
	snprintf(d->st.clock_name, sizeof(d->st.clock_name), "%s",
		 d->phc.clock_name);
	snprintf(d->st.driver, sizeof(d->st.driver), "%s", d->phc.driver);
}

/* No measurement this time: hold the frequency, let the error grow. */
static void holdover(struct daemon *d, int64_t mono)
{
	struct hps_status *st = &d->st;
	int64_t age;

	st->reach = (st->reach << 1) & 0xff;
	if (d->lock_count || !strcmp(st->state, "tracking")) {
		/*
		 * Keep the average correction of the locked updates, not the
		 * last one: that follows the PHC's phase slews too (a few us
		 * over the module's slew_ms, ~1 ppm), which would become a
		 * steady error here. With fewer than HOLD_MIN in the average
		 * (each carries the servo's phase term, ppm for a us at short
		 * polls), the servo's estimate without its phase term.
		 */
		double drift = hps_servo_drift_ppb(d->servo);	/* ppb */
		double ppb = d->hold_n >= HOLD_MIN ? d->hold_ppb : drift;

		if (!hps_clock_set_freq(&d->adj, ppb))
			st->freq_ppm = ppb / 1000;
		/*
		 * How fast the error may grow: the host clock's wander, plus
		 * three times the spread of the locked corrections, plus how
		 * far the average and the servo's estimate disagree, plus a
		 * margin that shrinks as the average fills: with none, three
		 * times the offsets' jitter per poll (the frequency noise of
		 * a single update), at least 2 ppm.
		 */
		double noise_ppb = 3e3 * st->jitter_ns / d->cfg.poll_ms;

		d->hold_growth = HOLDOVER_PPB + 3 * d->hold_dev +
				 (d->hold_n ? fabs(d->hold_ppb - drift) : 0) +
				 fmax(2000.0, noise_ppb) * (HOLD_AVG - d->hold_n) /
				 HOLD_AVG;
	}
	d->lock_count = 0;
	if (d->last_good_mono) {
		age = mono - d->last_good_mono;
		st->est_error_ns = sat_add(d->last_est_error,
					   llround(fmin(age / 1e9 * d->hold_growth,
							HPS_MAX_BOUND_NS)));
	}
	set_state(d, d->ever_locked ? "holdover" : "no-phc");
	update_sync(d, d->ever_locked, HPS_LEAP_NONE);
}

/*
 * The module's armed leap second (sysfs leap_pending: 0, 1 insert, 2
 * delete at the next midnight UTC). The kernel applies it to the system
 * clock at the same midnight (STA_INS/STA_DEL, set by update_sync()), so
 * the offset does not move, except within a tick or so of the instant,
 * when one clock has made it and the other not yet: LEAP_HOLD_S either
 * side of it is not measured.
 */
#define LEAP_HOLD_S	2

static int leap_pending(struct daemon *d)
{
	int64_t now = now_ns(CLOCK_REALTIME) / 1000000000LL;
	long long v;
	int leap;

	if (!d->cfg.leap || hps_phc_attr_ll(&d->phc, "leap_pending", &v))
		return HPS_LEAP_NONE;
	leap = v == 1 ? HPS_LEAP_INSERT : v == 2 ? HPS_LEAP_DELETE : HPS_LEAP_NONE;
	if (leap != HPS_LEAP_NONE) {
		/* never within LEAP_HOLD_S after one: update() is not called */
		d->leap_at = (now / 86400 + 1) * 86400;
		if (leap == HPS_LEAP_DELETE)
			d->leap_at--;
	}
	if (leap != d->leap)
		hps_log(LOG_NOTICE, "leap second %s",
			leap == HPS_LEAP_INSERT ? "announced: inserting 23:59:60 at the end of the day" :
			leap == HPS_LEAP_DELETE ? "announced: deleting 23:59:59 at the end of the day" :
			"no longer pending");
	d->leap = leap;
	return leap;
}

/* Whether now is too close to a leap second to measure. */
static int near_leap(struct daemon *d)
{
	int64_t now = now_ns(CLOCK_REALTIME);

	if (!d->leap_at)
		return 0;
	if (now > (d->leap_at + LEAP_HOLD_S) * 1000000000LL) {
		d->leap_at = 0;
		return 0;
	}
	return now >= (d->leap_at - LEAP_HOLD_S) * 1000000000LL;
}

/* Step by -@offset_ns (system - PHC). Returns 0 or -errno. */
static int step(struct daemon *d, int64_t offset_ns)
{
	int ret = hps_clock_step(-offset_ns);

	if (ret) {
		hps_log(LOG_ERR, "adjtimex (step): %s", strerror(-ret));
		return ret;
	}
	d->st.steps++;
	hps_log(LOG_NOTICE, "stepped the system clock by %+.9f s",
		-offset_ns / 1e9);
	return 0;
}

/* One poll, at @mono (CLOCK_MONOTONIC, ns). */
static void update(struct daemon *d, int64_t mono)
{
	struct hps_status *st = &d->st;
	enum hps_servo_state state;
	long long v, stratum;
	int64_t bound = 0;
	struct hps_measurement s;
	int64_t abs_off;
	int ret, leap = 0, allow_step, locked, unsync;
	char what[160];
	double ppb;

	if (near_leap(d))
		return;
	if (d->phc.fd < 0)
		try_open(d);
	if (d->phc.fd < 0) {
		holdover(d, mono);
		return;
	}
	if (st->updates % REPROBE_EVERY == REPROBE_EVERY - 1)
		d->phc.mode = HPS_MODE_PRECISE;	/* falls back by itself */
	ret = hps_phc_measure(&d->phc, d->cfg.samples, &s);
	/* the module's view, when the PHC is hv_ptp_ext's */
	if (!ret)
		ret = hps_phc_error_bound(&d->phc, &bound);
	if (ret) {
		st->read_errors++;
		if (!hps_phc_transient(ret)) {
			hps_log(LOG_WARNING, "%s: %s; holding the frequency",
				d->phc.path, strerror(-ret));
			hps_phc_close(&d->phc);
			st->device[0] = 0;
		} else if (ret != -EAGAIN && !d->read_err_logged) {
			hps_log(LOG_WARNING, "%s: %s; holding the frequency until it answers",
				d->phc.path,
				ret == -ERANGE ? "a timestamp out of range" :
				ret == -EBADMSG ? "error_bound_ns is no number" :
				strerror(-ret));
			d->read_err_logged = 1;
		}
		holdover(d, mono);
		return;
	}
	if (d->read_err_logged)
		hps_log(LOG_NOTICE, "%s answers again", d->phc.path);
	d->read_err_logged = 0;
	snprintf(st->mode, sizeof(st->mode), "%s", hps_mode_name(d->phc.mode));

	/*
	 * The host's own state (TimeSync 4.0; 0 before): stratum 16 or leap
	 * indicator 3 is unsynchronised, and so, not to vouch for what we
	 * cannot read, is a stratum beyond 0..255 or an indicator beyond 0..3.
	 */
	ret = hps_phc_attr_range(&d->phc, "stratum", 0, 255, &stratum);
	unsync = ret && ret != -ENOENT;
	if (ret)
		stratum = 0;
	ret = hps_phc_attr_range(&d->phc, "leapflags", 0, 3, &v);
	unsync |= ret ? ret != -ENOENT : v == 3;
	ret = unsync || stratum >= 16;
	if (ret != d->host_unsync)
		hps_log(LOG_NOTICE, ret ?
			"the host reports itself unsynchronised (stratum 16 or leap 3, or values out of range): following it, with STA_UNSYNC set" :
			"the host reports itself synchronised again");
	d->host_unsync = ret;
	if (ret) {
		st->ref_stratum = st->stratum = 16;
	} else {
		st->ref_stratum = stratum > 0 ? stratum : 2;
		st->stratum = st->ref_stratum + 1;
	}
	leap = leap_pending(d);
	/* a rate of more than 10 % is no clock's: ignored */
	if (!hps_phc_attr_range(&d->phc, "freq_ppb", -100000000, 100000000,
				&v)) {
		if (d->have_phc_freq && d->cfg.feedforward)
			hps_servo_feedforward(d->servo, v - d->phc_freq_ppb);
		d->phc_freq_ppb = v;
		d->have_phc_freq = 1;
		st->phc_freq_ppb = v;
	} else {
		d->have_phc_freq = 0;
	}

	ret = hps_clock_interfered(&d->adj, what, sizeof(what));
	if (ret > 0) {
		st->interference++;
		hps_log(LOG_WARNING, "another program changed the clock: %s",
			what);
	}

	abs_off = s.offset_ns < 0 ? -s.offset_ns : s.offset_ns;
	allow_step = abs_off > d->cfg.makestep_threshold * 1e9 &&
		     (d->cfg.makestep_limit < 0 ||
		      st->updates < (uint64_t)d->cfg.makestep_limit);
	ppb = hps_servo_measured(d->servo, s.offset_ns, mono, &state);
	if (allow_step && state != HPS_SERVO_UNLOCKED &&
	    !step(d, s.offset_ns)) {
		ppb = hps_servo_stepped(d->servo);
		state = HPS_SERVO_JUMP;		/* not counted towards lock */
	}
	ret = hps_clock_set_freq(&d->adj, ppb);
	if (ret)
		hps_log(LOG_ERR, "adjtimex (frequency): %s", strerror(-ret));

	st->updates++;
	st->reach = ((st->reach << 1) | 1) & 0xff;
	st->last_offset_ns = s.offset_ns;
	st->window_ns = s.window_ns;
	st->ref_time_ns = s.sys_ns;
	st->updated_mono_ns = mono;
	st->freq_ppm = ppb / 1000;
	st->residual_freq_ppm = hps_servo_residual_ppb(d->servo) / 1000;
	st->skew_ppm = hps_servo_skew_ppb(d->servo) / 1000;
	st->error_bound_ns = bound;
	record_offset(d, s.offset_ns);
	st->est_error_ns = sat_add(sat_add(bound, abs_off), s.window_ns / 2);

	if (state == HPS_SERVO_LOCKED && abs_off < d->cfg.lock_us * 1000)
		d->lock_count++;
	else
		d->lock_count = 0;
	locked = d->lock_count >= LOCK_COUNT;
	d->ever_locked |= locked;
	if (locked) {
		if (d->hold_n < HOLD_AVG)
			d->hold_n++;
		d->hold_ppb += (ppb - d->hold_ppb) / d->hold_n;
		d->hold_dev += (fabs(ppb - d->hold_ppb) - d->hold_dev) /
			       d->hold_n;
	}
	d->last_good_mono = mono;
	d->last_est_error = st->est_error_ns;
	set_state(d, locked ? "locked" : "tracking");
	update_sync(d, locked, leap);
}

static void reload(struct daemon *d)
{
	struct hps_config c;

	if (load_config(d, &c)) {
		hps_log(LOG_ERR, "reload failed; keeping the old configuration");
		return;
	}
	if (strcmp(c.device, d->cfg.device)) {
		hps_phc_close(&d->phc);
		d->st.device[0] = 0;
	}
	hps_servo_destroy(d->servo);
	d->servo = hps_servo_create(c.kp, c.ki, c.max_slew_ppm * 1000);
	if (!d->servo) {
		hps_log(LOG_ERR, "out of memory");
		exit(EXIT_RUNTIME);
	}
	hps_servo_set_freq(d->servo, d->st.freq_ppm * 1000);
	d->cfg = c;
	d->st.poll_ms = c.poll_ms;
	hps_log_init(c.log_level);
	hps_log(LOG_INFO, "configuration reloaded");
}

static int run(struct daemon *d)
{
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t wd_usec = 0;
	int64_t next, next_wd, wake, mono;
	struct timespec ts;
	double ppb = 0;
	int ret;

	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	d->servo = hps_servo_create(d->cfg.kp, d->cfg.ki,
				    d->cfg.max_slew_ppm * 1000);
	if (!d->servo)
		return EXIT_RUNTIME;
	ret = hps_clock_get_freq(&ppb);
	if (ret) {
		hps_log(LOG_ERR, "adjtimex: %s", strerror(-ret));
		return EXIT_RUNTIME;
	}
	hps_servo_set_freq(d->servo, ppb);
	d->phc.fd = -1;
	d->st.pid = getpid();
	d->st.poll_ms = d->cfg.poll_ms;
	d->st.freq_ppm = ppb / 1000;
	d->hold_growth = HOLDOVER_PPB + 2000;
	snprintf(d->st.state, sizeof(d->st.state), "starting");
	hps_log(LOG_INFO, "hv-ptp-sync " VERSION " starting, poll %d ms, makestep %g %d",
		d->cfg.poll_ms, d->cfg.makestep_threshold,
		d->cfg.makestep_limit);
	if (sd_watchdog_enabled(0, &wd_usec) <= 0)
		wd_usec = 0;
	sd_notify(0, "READY=1");

	next = next_wd = now_ns(CLOCK_MONOTONIC);
	while (!got_term) {
		if (got_hup) {
			got_hup = 0;
			reload(d);
		}
		mono = now_ns(CLOCK_MONOTONIC);
		if (mono >= next) {
			update(d, mono);
			publish(d);
			/*
			 * The next poll a whole poll_ms after this one, even
			 * when this one ran late (a loaded machine), not back
			 * on the grid: the servo turns an offset into a
			 * frequency over the interval since the last poll (ppb
			 * = ns / s), so catching up 25 ms after a late poll at
			 * 250 ms multiplied its gains tenfold. A 5 us offset,
			 * within lock_us, then moved the frequency estimate by
			 * ki * 5 us / 25 ms = 60 ppm; holdover kept that, and
			 * its error estimate, which takes the frequency noise
			 * of an update to be the offsets' jitter per poll_ms,
			 * did not cover it.
			 */
			next = mono + d->cfg.poll_ms * 1000000LL;
		}
		if (wd_usec && now_ns(CLOCK_MONOTONIC) >= next_wd) {
			sd_notify(0, "WATCHDOG=1");
			next_wd = now_ns(CLOCK_MONOTONIC) + wd_usec * 500;
		}
		wake = next;
		if (wd_usec && next_wd < wake)
			wake = next_wd;
		ts.tv_sec = wake / 1000000000;
		ts.tv_nsec = wake % 1000000000;
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}

	sd_notify(0, "STOPPING=1");
	hps_log(LOG_INFO, "exiting; frequency left at %+.3f ppm, clock marked unsynchronised",
		d->st.freq_ppm);
	hps_clock_set_sync(&d->adj, 0, 0, 16000000000LL, 16000000000LL);
	if (d->cfg.state_file[0])
		unlink(d->cfg.state_file);
	if (d->cfg.prometheus_file[0])
		unlink(d->cfg.prometheus_file);
	hps_phc_close(&d->phc);
	hps_servo_destroy(d->servo);
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
		hps_status_print_json(stdout, &st, now_ns(CLOCK_MONOTONIC));
	} else {
		hps_status_print_tracking(stdout, &st, now_ns(CLOCK_MONOTONIC));
		printf("\n");
		hps_status_print_sources(stdout, &st, now_ns(CLOCK_MONOTONIC));
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct daemon d;
	int i, check = 0, print = 0, json = 0, is_status = 0;
	char *arg, *eq, err[160];

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
