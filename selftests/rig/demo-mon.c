// SPDX-License-Identifier: GPL-2.0
/*
 * demo-mon: the measuring half of "make demo", run in the guest.
 *
 *   demo-mon offset            system clock 50 ms ahead, 100 ppm fast
 *   demo-mon intree SECONDS    the in-tree hyperv PHC's error vs the truth
 *   demo-mon watch SECONDS     system clock and hv_ptp_ext PHC error vs the
 *                              truth, and hv-ptp-sync's state, live
 *
 * Live lines are for people; "DATA t_s system_ns phc_ns" lines (10 per
 * second) are for the plot, and the host's console filter hides them.
 */
#define _GNU_SOURCE
#include "../hv_ptp_ext/measure.h"

static long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts_ns(&ts);
}

static int intree(int seconds)
{
	struct err_stats s = { 0 };
	long long err;
	int fd = phc_open("hyperv"), i;

	if (fd < 0)
		return 1;
	pin_cpu(0);
	for (i = 0; i < seconds * 10; i++) {
		if (intree_error(fd, &err) >= 0)
			stats_add(&s, err);
		sleep_ms(100);
	}
	printf("in-tree hyperv PHC over %d s: error RMS %.0f ns, max %+lld ns\n",
	       seconds, stats_rms(&s), s.max);
	close(fd);
	return 0;
}

static int watch(int seconds)
{
	char state[32], offset_s[32], freq[32];
	long long t0 = mono_ns(), t, sys, phc_err = 0;
	struct sim_truth truth;
	int index, fd = -1, i;

	for (i = 0; i <= seconds * 10; i++) {
		if (fd < 0)
			fd = phc_open_driver("hv_ptp_ext", &index);
		if (sim_truth(&truth))
			return 1;
		sys = truth.real_ns - truth.host_ns;
		if (fd >= 0 && ours_error(fd, &phc_err)) {
			close(fd);
			fd = -1;
		}
		t = mono_ns() - t0;
		printf("DATA %.1f %lld %lld\n", t / 1e9, sys, phc_err);
		if (i % 10 == 0) {
			hps_state("state", state, sizeof(state));
			hps_state("last_offset_ns", offset_s, sizeof(offset_s));
			hps_state("freq_ppm", freq, sizeof(freq));
			printf("t=%3.0fs  system clock error %+12.3f us  PHC error %+8.3f us  hv-ptp-sync: %-9s offset %s ns, freq %s ppm\n",
			       t / 1e9, sys / 1e3, phc_err / 1e3,
			       *state ? state : "-", *offset_s ? offset_s : "-",
			       *freq ? freq : "-");
		}
		fflush(stdout);
		sleep_ms(100);
	}
	if (fd >= 0)
		close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "offset"))
		return offset_system_clock() ? 1 : 0;
	if (argc == 3 && !strcmp(argv[1], "intree"))
		return intree(atoi(argv[2]));
	if (argc == 3 && !strcmp(argv[1], "watch"))
		return watch(atoi(argv[2]));
	fprintf(stderr, "usage: demo-mon offset | intree SECONDS | watch SECONDS\n");
	return 2;
}
