// SPDX-License-Identifier: GPL-2.0
/*
 * bench-run: one run of "make bench", in the guest.
 *
 *   bench-run SETUP PROFILE SEED SECONDS [SUITE]
 *
 *   A  Debian's chronyd, Azure's documented refclock line, hv_utils' PHC
 *   B  Debian's phc2sys -O 0, hv_utils' PHC
 *   C  as A, on hv_ptp_ext's PHC
 *   D  as B, on hv_ptp_ext's PHC
 *   E  hv-ptp-sync (its defaults), on hv_ptp_ext's PHC
 *   F  as A with the refclock polled at 2^-1 s ("poll -1 dpoll -2"),
 *      the tuning Azure users ask for, hv_utils' PHC
 *   G  as F, on hv_ptp_ext's PHC
 *   P  hv_ptp_ext's PHC alone, from the module's load: its error by age
 *      against the oracle's (oracle.h); no daemon, the system clock left alone
 *   U  as E, with the UTC audit in bound mode: the host 2 ms off its UTC,
 *      chronyd -x polling ntp-fixture every second (../hv_ptp_ext/ntp.h),
 *      hv-ptp-sync reading it through chronyc every second
 *
 * SUITE (default bookworm) is the Debian suite whose chrony and linuxptp
 * run: bookworm's from /usr/sbin, a newer suite's from /peers/SUITE
 * through that suite's own dynamic loader and libraries (peers.sh).
 *
 * Loads the rig for the setup (the simulator on PROFILE with SEED), links
 * /dev/ptp_hyperv to the PHC under test, as Azure's udev rule does, puts
 * the system clock 50 ms ahead of the true host time and 100 ppm fast,
 * starts the daemon and samples at 10 Hz for SECONDS: the system clock's
 * and the PHC's error against the simulator's truth, and the reference
 * limit: the error of an estimator that knows the host's true rate and
 * averages the last REF_WINDOW samples (the simulator logs each sample's
 * error). Prints "DATA t sys_ns phc_ns ref_ns" lines, for the plots, and
 * one "RESULT key=value ..." line; "steady" is the second half of the run.
 * Exits 1 if the daemon died or nothing could be measured.
 *
 * P prints "AGE age_s phc_ns oracle_ns oracle_sd_ns" lines instead, the
 * age counted from the first sample, and in its RESULT, for each age A of
 * AGES (readings within A +- 10 %): aA_n readings, aA_phc2 and aA_or2 the
 * sums of the squared errors of the PHC and the oracle, aA_var the sum of
 * the oracle's variances (what it expects).
 */
#define _GNU_SOURCE
#include "../hv_ptp_ext/measure.h"
#include "../hv_ptp_ext/ntp.h"
#include "oracle.h"

#include <signal.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#define REF_WINDOW	32	/* hv_ptp_ext's default window */
#define MAX_SAMPLES	(1 << 14)

/*
 * The sample log of the simulator: sample number -> reference time, error
 * and true host time, ns; only samples sent to a device are kept.
 */
static long long log_err[MAX_SAMPLES], log_host[MAX_SAMPLES];
static unsigned long long log_ref[MAX_SAMPLES];
static long long log_last;

static void read_sample_log(void)
{
	unsigned long long n, ref;
	long long err, host;
	unsigned int devs;
	char line[128];
	FILE *f = fopen(SIM_DIR "/samples", "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%llu %llu %lld %lld %u", &n, &ref, &err, &host,
			   &devs) == 5 && n < MAX_SAMPLES && devs) {
			log_err[n] = err;
			log_ref[n] = ref;
			log_host[n] = host;
			if ((long long)n > log_last)
				log_last = n;
		}
	fclose(f);
}

/* Mean error of the last REF_WINDOW samples taken by @ref_ns. */
static int ref_error(unsigned long long ref_ns, long long *err)
{
	long long n, k = 0;
	double sum = 0;

	for (n = log_last; n > 0 && k < REF_WINDOW; n--) {
		if (!log_ref[n] || log_ref[n] > ref_ns)
			continue;
		sum += log_err[n];
		k++;
	}
	if (!k)
		return -1;
	*err = llround(sum / k);
	return 0;
}

/* The ages of setup P, s; each judged over the readings within +- 10 %. */
static const int ages[] = { 30, 60, 120, 300, 600 };
#define N_AGES	(sizeof(ages) / sizeof(ages[0]))
/* The oracle uses a sample from this long after it (its delivery), ns. */
#define ORACLE_DELIVERY_NS	10000000

/*
 * Setup P: hv_ptp_ext's PHC alone, read at 10 Hz for @seconds from the
 * first sample, and the oracle run afterwards on the simulator's log of
 * the same samples (their true host times and errors) with its true noise
 * and wander, read at the same instants.
 */
static int run_ages(int fd, int seconds, const char *profile, const char *seed)
{
	static unsigned long long at[36000 * 10];
	static long long theta[36000 * 10], phc[36000 * 10];
	double sum_p[N_AGES] = { 0 }, sum_o[N_AGES] = { 0 }, sum_v[N_AGES] = { 0 };
	struct oracle_params op = { 0 };
	long cnt[N_AGES] = { 0 };
	long long k = 1, base, p = 0;
	struct sim_truth truth;
	unsigned int a;
	unsigned long long t0;
	struct oracle o;
	double age, var, est;
	int n, m = 0;

	/* the first sample the PHC got: at its channel's negotiation */
	read_sample_log();
	while (k < MAX_SAMPLES && !log_ref[k])
		k++;
	if (k == MAX_SAMPLES) {
		fprintf(stderr, "bench-run: the simulator logged no sample\n");
		return 1;
	}
	t0 = log_ref[k];
	/* theta: host time minus reference time, from the first sample's */
	base = log_host[k] - (long long)t0;
	op.noise_ns = sim_stat("noise_ns");
	op.wander_ppb = sim_stat("wander_ppb");
	op.outlier_ns = sim_stat("outlier_permille") > 0 ? sim_stat("outlier_ns") : 0;
	for (n = 0; n < seconds * 10; n++) {
		sleep_ms(100);
		if (n % 100 == 0)
			read_sample_log();
		if (ours_error(fd, &p) || sim_truth(&truth))
			continue;
		if (truth.ref_ns > t0 + (unsigned long long)seconds * NSEC_PER_SEC)
			break;
		at[m] = truth.ref_ns;
		theta[m] = truth.host_ns - (long long)truth.ref_ns - base;
		phc[m++] = p;
	}
	read_sample_log();
	oracle_init(&o, &op);
	for (n = 0; n < m; n++) {
		for (; k <= log_last &&
		       (!log_ref[k] || log_ref[k] + ORACLE_DELIVERY_NS <= at[n]); k++)
			if (log_ref[k])
				oracle_sample(&o, (log_ref[k] - t0) / 1e9,
					      log_host[k] - (long long)log_ref[k] - base +
					      log_err[k], log_err[k]);
		age = (at[n] - t0) / 1e9;
		est = oracle_estimate(&o, age, &var) - theta[n];
		printf("AGE %.1f %lld %.0f %.0f\n", age, phc[n], est, sqrt(var));
		for (a = 0; a < N_AGES; a++)
			if (age >= 0.9 * ages[a] && age <= 1.1 * ages[a]) {
				sum_p[a] += (double)phc[n] * phc[n];
				sum_o[a] += est * est;
				sum_v[a] += var;
				cnt[a]++;
			}
	}
	printf("RESULT profile=%s setup=P suite=bookworm seed=%s seconds=%d daemon=none readings=%d noise_ns=%.0f wander_ppb=%.0f outlier_ns=%.0f",
	       profile, seed, seconds, m, op.noise_ns, op.wander_ppb, op.outlier_ns);
	for (a = 0; a < N_AGES; a++)
		printf(" a%d_n=%ld a%d_phc2=%.0f a%d_or2=%.0f a%d_var=%.0f", ages[a],
		       cnt[a], ages[a], sum_p[a], ages[a], sum_o[a], ages[a], sum_v[a]);
	printf(" died=0\n");
	return m ? 0 : 1;
}

static const char *const daemons[] = {
	['A'] = "chronyd", ['B'] = "phc2sys", ['C'] = "chronyd",
	['D'] = "phc2sys", ['E'] = "hv-ptp-sync", ['F'] = "chronyd",
	['G'] = "chronyd", ['P'] = "none", ['U'] = "hv-ptp-sync",
};

/* U: chronyd and its NTP server for the UTC audit */
static struct ntp_side ntp = { -1, -1 };

static bool is_chronyd(char setup)
{
	return setup == 'A' || setup == 'C' || setup == 'F' || setup == 'G';
}

/* Runs @prog (chronyd or phc2sys) of @suite with @args (NULL-ended). */
static void exec_peer(const char *suite, const char *prog, char **args)
{
	char path[128], loader[128] = "", libs[128];
	char *argv[24];
	int n = 0;

	if (!strcmp(suite, "bookworm")) {
		snprintf(path, sizeof(path), "/usr/sbin/%s", prog);
		argv[n++] = (char *)prog;
	} else {
		snprintf(path, sizeof(path), "/peers/%s/%s", suite, prog);
		snprintf(loader, sizeof(loader), "/peers/%s/lib/ld-linux-x86-64.so.2", suite);
		snprintf(libs, sizeof(libs), "/peers/%s/lib", suite);
		argv[n++] = loader;
		argv[n++] = "--library-path";
		argv[n++] = libs;
		argv[n++] = "--argv0";
		argv[n++] = (char *)prog;
		argv[n++] = path;
	}
	while (*args && n < 23)
		argv[n++] = *args++;
	argv[n] = NULL;
	execv(loader[0] ? loader : path, argv);
}

/*
 * chronyd reads /dev/ptp_hyperv, as in Azure's documentation; phc2sys
 * 3.1 needs the /dev/ptpN name (it parses the index out of it): @dev.
 */
static pid_t start(char setup, const char *dev, const char *suite)
{
	static const char conf[] =
		"# Azure's documented refclock and step policy\n"
		"refclock PHC /dev/ptp_hyperv poll %d dpoll -2 offset 0 stratum 2\n"
		"makestep 1.0 -1\n"
		"# no command sockets, no files outside /tmp\n"
		"cmdport 0\n"
		"bindcmdaddress /\n"
		"pidfile /tmp/chronyd.pid\n";
	char *chrony_args[] = { "-d", "-u", "root", "-f", "/tmp/chrony.conf", NULL };
	char *phc2sys_args[] = { "-s", (char *)dev, "-c", "CLOCK_REALTIME",
				 "-O", "0", "-m", NULL };
	char logname[64];
	pid_t pid;
	FILE *f;
	int fd;

	if (setup == 'U' && ntp_start(&ntp))
		return -1;
	if (is_chronyd(setup)) {
		f = fopen("/tmp/chrony.conf", "w");
		if (!f)
			return -1;
		fprintf(f, conf, setup == 'F' || setup == 'G' ? -1 : 3);
		fclose(f);
	}
	mkdir("/run/hv-ptp-sync", 0755);
	snprintf(logname, sizeof(logname), "/tmp/bench-%c.log", setup);
	pid = fork();
	if (pid)
		return pid;
	fd = open(logname, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	if (is_chronyd(setup))
		exec_peer(suite, "chronyd", chrony_args);
	else if (setup == 'B' || setup == 'D')
		exec_peer(suite, "phc2sys", phc2sys_args);
	else if (setup == 'U')
		execl("/usr/sbin/hv-ptp-sync", "hv-ptp-sync", "--utc-audit=bound",
		      "--chronyc=" NTP_CHRONYC, "--chronyc-socket=" NTP_SOCK,
		      "--audit-interval-s=1", (char *)NULL);
	else
		execl("/usr/sbin/hv-ptp-sync", "hv-ptp-sync", (char *)NULL);
	_exit(127);
}

/* CPU seconds (user + system) and peak RSS (KiB) of @pid. */
static void usage_of(pid_t pid, double *cpu_s, long *rss_kb)
{
	unsigned long ut = 0, st = 0;
	char path[64], line[512], *p;
	FILE *f;

	*cpu_s = -1;
	*rss_kb = -1;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (f) {
		/* fields 14 and 15, counted after the ")" ending the name */
		if (fgets(line, sizeof(line), f) && (p = strrchr(line, ')')) &&
		    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			   &ut, &st) == 2)
			*cpu_s = (double)(ut + st) / sysconf(_SC_CLK_TCK);
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (f) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "VmHWM: %ld", rss_kb) == 1)
				break;
		fclose(f);
	}
}

/* The system clock 50 ms ahead of the true host time, 100 ppm fast. */
static int start_point(void)
{
	struct timex tx = { .modes = ADJ_STATUS | ADJ_FREQUENCY | ADJ_TICK };
	struct sim_truth t;
	long long d;

	tx.status = STA_UNSYNC;
	tx.freq = 100 << 16;
	tx.tick = 10000;
	if (clock_adjtime(CLOCK_REALTIME, &tx) < 0 || sim_truth(&t))
		return -1;
	d = t.host_ns - t.real_ns + 50000000;
	memset(&tx, 0, sizeof(tx));
	tx.modes = ADJ_SETOFFSET | ADJ_NANO;
	tx.time.tv_sec = d / NSEC_PER_SEC;
	tx.time.tv_usec = d % NSEC_PER_SEC;
	if (tx.time.tv_usec < 0) {
		tx.time.tv_sec--;
		tx.time.tv_usec += NSEC_PER_SEC;
	}
	return clock_adjtime(CLOCK_REALTIME, &tx) < 0 ? -1 : 0;
}

/*
 * The offset-measurement window every daemon here gets from this PHC:
 * all three probe PTP_SYS_OFFSET_PRECISE, then _EXTENDED, then the basic
 * ioctl, and use the first that works. Best of 10 reads, ns.
 */
static long long read_window(int fd, const char **mode)
{
	struct ptp_sys_offset_extended ext = { .n_samples = 10 };
	struct ptp_sys_offset_precise pre = { 0 };
	struct ptp_sys_offset basic = { .n_samples = 10 };
	long long w, best = LLONG_MAX;
	unsigned int i;

	if (!ioctl(fd, PTP_SYS_OFFSET_PRECISE, &pre)) {
		*mode = "PRECISE";
		return 0;
	}
	if (!ioctl(fd, PTP_SYS_OFFSET_EXTENDED, &ext)) {
		*mode = "EXTENDED";
		for (i = 0; i < ext.n_samples; i++) {
			w = (ext.ts[i][2].sec - ext.ts[i][0].sec) * NSEC_PER_SEC +
			    ext.ts[i][2].nsec - ext.ts[i][0].nsec;
			best = w < best ? w : best;
		}
		return best;
	}
	*mode = "BASIC";
	if (ioctl(fd, PTP_SYS_OFFSET, &basic))
		return -1;
	for (i = 0; i < basic.n_samples; i++) {
		w = (basic.ts[2 * i + 2].sec - basic.ts[2 * i].sec) * NSEC_PER_SEC +
		    basic.ts[2 * i + 2].nsec - basic.ts[2 * i].nsec;
		best = w < best ? w : best;
	}
	return best;
}

static int cmp_abs(const void *a, const void *b)
{
	long long x = llabs(*(const long long *)a), y = llabs(*(const long long *)b);

	return (x > y) - (x < y);
}

/* When the error came within @bound for good (s), or -1. */
static double settled(const double *t, const long long *e, int n, long long bound)
{
	int i;

	for (i = n - 1; i >= 0 && llabs(e[i]) <= bound; i--)
		;
	if (i == n - 1)
		return -1;
	return i < 0 ? t[0] : t[i + 1];
}

int main(int argc, char **argv)
{
	static long long sys[36000 * 10], sorted[36000 * 10];
	static double when[36000 * 10];
	struct err_stats phc = { 0 }, steady = { 0 }, ref = { 0 };
	long long t0, e, p, r, window;
	int fd, index, n, i, seconds, status, died, ours;
	const char *mode = "?", *profile, *suite;
	struct sim_truth truth;
	struct timespec ts;
	char setup, cmd[160], path[32];
	double cpu_s;
	long rss_kb;
	struct stat sb;
	pid_t pid;

	if ((argc != 5 && argc != 6) || strlen(argv[1]) != 1 ||
	    !strchr("ABCDEFGPU", argv[1][0]) || atoi(argv[4]) < 10 ||
	    atoi(argv[4]) > 36000 || (argc == 6 && strcmp(argv[5], "bookworm") &&
	    strcmp(argv[5], "trixie") && strcmp(argv[5], "sid"))) {
		fprintf(stderr, "usage: bench-run A..G|P|U PROFILE SEED SECONDS(10..36000) [bookworm|trixie|sid]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	setup = argv[1][0];
	profile = argv[2];
	seconds = atoi(argv[4]);
	suite = argc == 6 ? argv[5] : "bookworm";
	ours = setup >= 'C' && setup != 'F';

	/* U: the host 2 ms off its UTC, for the audit to find */
	snprintf(cmd, sizeof(cmd), "rig-load %s profile=%s seed=%s%s",
		 ours ? "--ours --no-hv-utils" : "", profile, argv[3],
		 setup == 'U' ? " utc_offset_ns=2000000" : "");
	if (system(cmd))
		return 1;
	fd = ours ? phc_open_driver("hv_ptp_ext", &index) : phc_open("hyperv");
	if (fd < 0 || fstat(fd, &sb)) {
		fprintf(stderr, "bench-run: no PHC\n");
		return 1;
	}
	snprintf(path, sizeof(path), "/dev/ptp%u", minor(sb.st_rdev));
	unlink("/dev/ptp_hyperv");
	if (symlink(path + 5, "/dev/ptp_hyperv"))
		return 1;
	pin_cpu(0);
	if (setup == 'P')
		return run_ages(fd, seconds, profile, argv[3]);
	/* a first sample to model from, as on a VM that has been up a while */
	sleep_ms(6000);
	window = read_window(fd, &mode);
	if (start_point())
		return 1;
	pid = start(setup, path, suite);
	if (pid < 0)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = ts_ns(&ts);
	for (n = 0; n < seconds * 10; n++) {
		sleep_ms(100);
		if (n % 10 == 0)
			read_sample_log();
		p = 0;
		if (ours && ours_error(fd, &p))
			p = 0;
		else if (!ours && intree_error(fd, &p) < 0)
			p = 0;
		if (sim_truth(&truth))
			return 1;
		e = truth.real_ns - truth.host_ns;
		if (ref_error(truth.ref_ns, &r))
			r = 0;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		when[n] = (ts_ns(&ts) - t0) / 1e9;
		sys[n] = e;
		printf("DATA %.1f %lld %lld %lld\n", when[n], e, p, r);
		if (n >= seconds * 5) {
			stats_add(&steady, e);
			stats_add(&phc, p);
			stats_add(&ref, r);
		}
	}
	usage_of(pid, &cpu_s, &rss_kb);
	if (setup == 'U')
		system("printf '# audit: '; hv-ptp-sync status | grep -E '^Host vs UTC'");
	died = waitpid(pid, &status, WNOHANG) == pid;
	if (!died) {
		kill(pid, SIGTERM);
		waitpid(pid, &status, 0);
	}
	snprintf(cmd, sizeof(cmd), "%s -n 5 /tmp/bench-%c.log | sed 's/^/# %s: /'",
		 died ? "head" : "tail", setup, daemons[(int)setup]);
	system(cmd);
	ntp_stop(&ntp);

	memcpy(sorted, sys + seconds * 5, (n - seconds * 5) * sizeof(*sorted));
	qsort(sorted, n - seconds * 5, sizeof(*sorted), cmp_abs);
	i = (n - seconds * 5) * 99 / 100;
	printf("RESULT profile=%s setup=%c suite=%s seed=%s seconds=%d daemon=%s phc_rms=%.0f phc_max=%lld sys_rms=%.0f sys_p99=%lld sys_max=%lld t1=%.1f t10=%.1f cpu_s=%.2f rss_kb=%ld mode=%s window_ns=%lld ref_rms=%.0f died=%d\n",
	       profile, setup, suite, argv[3], seconds, daemons[(int)setup],
	       stats_rms(&phc), llabs(phc.max), stats_rms(&steady),
	       llabs(sorted[i]), llabs(steady.max), settled(when, sys, n, 1000),
	       settled(when, sys, n, 10000), cpu_s, rss_kb, mode, window,
	       stats_rms(&ref), died);
	fflush(stdout);
	close(fd);
	return died;
}
