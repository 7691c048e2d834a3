// SPDX-License-Identifier: GPL-2.0
/*
 * hv-ptp-now: the time now with its error bound, from the ClockBound
 * segment hv-ptp-sync publishes (clockbound.h), as a ClockBound client
 * computes it: "EARLIEST LATEST STATUS", seconds since the epoch.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clockbound.h"

#define EXIT_OK		0	/* a bound: synchronized or free-running */
#define EXIT_USAGE	1
#define EXIT_NOSEG	2	/* no segment, or not one of version 2 */
#define EXIT_VOID	3	/* the bound is void (past void-after) */
#define EXIT_DISRUPTED	4
#define EXIT_UNKNOWN	5	/* status unknown: nothing vouched for */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: hv-ptp-now [-f FILE] [-c COUNT] [-i MS] [-v]\n"
		"Print the time now as EARLIEST LATEST STATUS (seconds since the epoch)\n"
		"from the ClockBound segment hv-ptp-sync publishes.\n"
		"\n"
		"  -f, --file FILE      the segment (default " HPS_CB_DEFAULT_PATH ")\n"
		"  -c, --count COUNT    readings to print (default 1)\n"
		"  -i, --interval MS    between readings (default 100)\n"
		"  -v, --verbose        also the bound, drift, marker and as-of age\n"
		"  -h, --help           this text\n"
		"      --version        the version\n"
		"\n"
		"Exit status (of the last reading): 0 synchronized or free-running,\n"
		"1 usage, 2 no segment, 3 void, 4 disrupted, 5 unknown.\n");
}

static int64_t ns_of(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

static void print_ns(int64_t ns)
{
	int64_t s = ns / 1000000000, r = ns % 1000000000;

	if (r < 0)
		s--, r += 1000000000;
	printf("%lld.%09lld", (long long)s, (long long)r);
}

/* One reading: print it; returns its exit status. */
static int reading(const void *seg, int verbose)
{
	struct hps_cb_values v;
	struct timespec mono, real;
	int64_t bound, now;
	int ret, status;

	ret = hps_cb_read(seg, HPS_CB_SIZE, 1000, &v);
	if (ret) {
		fprintf(stderr, "hv-ptp-now: %s\n", ret == -EAGAIN ?
			"the segment keeps changing" : "not a ClockBound version 2 segment");
		return EXIT_NOSEG;
	}
	/* as a ClockBound client: the segment, then CLOCK_REALTIME, then
	 * CLOCK_MONOTONIC (a late second read only widens the bound) */
	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	ret = hps_cb_now(&v, &mono, &bound, &status);
	if (ret) {
		fprintf(stderr, "hv-ptp-now: %s\n", ret == -ERANGE ?
			"the segment was computed after now (CLOCK_MONOTONIC)" :
			ret == -EOVERFLOW ? "a bound beyond 64 bits: malformed" :
			"a max drift of 10^9 ppb or more: malformed");
		return EXIT_NOSEG;
	}
	/* a vouched status, past the grace and void-after: void */
	if (status == HPS_CB_UNKNOWN && v.status != HPS_CB_UNKNOWN) {
		printf("- - void\n");
		return EXIT_VOID;
	}
	now = ns_of(&real);
	print_ns(now - bound);
	putchar(' ');
	print_ns(now + bound);
	printf(" %s", hps_cb_status_name(status));
	if (verbose)
		printf(" bound %lld ns, drift %u ppb, marker %llu, as-of %.3f s ago",
		       (long long)bound, v.max_drift_ppb,
		       (unsigned long long)v.disruption_marker,
		       (ns_of(&mono) - ns_of(&v.as_of)) / 1e9);
	putchar('\n');
	switch (status) {
	case HPS_CB_SYNCHRONIZED:
	case HPS_CB_FREE_RUNNING:
		return EXIT_OK;
	case HPS_CB_DISRUPTED:
		return EXIT_DISRUPTED;
	default:
		return EXIT_UNKNOWN;
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "count", required_argument, NULL, 'c' },
		{ "interval", required_argument, NULL, 'i' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	const char *path = HPS_CB_DEFAULT_PATH;
	long count = 1, interval = 100;
	int c, fd, verbose = 0, ret = EXIT_OK;
	struct stat sb = { 0 };
	char *end;
	void *seg;

	while ((c = getopt_long(argc, argv, "f:c:i:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			path = optarg;
			break;
		case 'c':
		case 'i':
			errno = 0;
			*(c == 'c' ? &count : &interval) = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg ||
			    (c == 'c' ? count < 1 : interval < 0 || interval > 3600000)) {
				fprintf(stderr, "hv-ptp-now: --%s: '%s' is not %s\n",
					c == 'c' ? "count" : "interval", optarg,
					c == 'c' ? "a count of 1 or more" :
					"0..3600000 milliseconds");
				return EXIT_USAGE;
			}
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("hv-ptp-now " VERSION "\n");
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "hv-ptp-now: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "hv-ptp-now: %s: %s%s\n", path, strerror(errno),
			errno == ENOENT ? " (is hv-ptp-sync running?)" : "");
		return EXIT_NOSEG;
	}
	/* a shorter file would fault where the mapping has no page behind */
	if (fstat(fd, &sb) || sb.st_size < HPS_CB_SIZE) {
		fprintf(stderr, "hv-ptp-now: %s: not a ClockBound segment (%lld bytes)\n",
			path, (long long)sb.st_size);
		close(fd);
		return EXIT_NOSEG;
	}
	seg = mmap(NULL, HPS_CB_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (seg == MAP_FAILED) {
		fprintf(stderr, "hv-ptp-now: %s: mmap: %s\n", path, strerror(errno));
		return EXIT_NOSEG;
	}
	while (count--) {
		ret = reading(seg, verbose);
		fflush(stdout);
		if (count && interval) {
			struct timespec ts = { interval / 1000, interval % 1000 * 1000000 };

			nanosleep(&ts, NULL);
		}
	}
	munmap(seg, HPS_CB_SIZE);
	return ret;
}
