// SPDX-License-Identifier: GPL-2.0
/*
 * cb-now: reads the clock as an application does through AWS ClockBound's
 * own C library (libclockbound, clock-bound-ffi 2.0.2, which
 * clockbound-lib.sh builds): clockbound_vmclock_open() on the segment and
 * the VMClock page, then clockbound_now() COUNT times at 10 Hz, each
 * printed as "EARLIEST LATEST STATUS" (seconds, nine decimals; status as
 * the library names it). The system test runs it as an unprivileged user
 * beside the packaged hv-ptp-sync.
 *
 *   cb-now COUNT [SEGMENT [VMCLOCK]]
 *
 * With CB_NOW_TRUTH_FD=N, N is the simulated host's truth file
 * (hv_host_sim's debugfs "truth", opened by root: every read at offset 0
 * is a new snapshot of CLOCK_REALTIME and true host time), and each
 * reading is judged against it: true host time at the library's
 * CLOCK_REALTIME read (the middle of [earliest, latest]) is the
 * snapshot's, moved back by how far CLOCK_REALTIME ran from there to the
 * snapshot; "inside" or "outside" ends the line.
 *
 * Exit status: 0 if every reading was synchronized with earliest <=
 * latest (and, judged, inside); 1 otherwise; 2 usage or the library
 * refused to open.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <clockbound.h>

static const char *const names[] = {
	"unknown", "synchronized", "free-running", "disrupted",
};

static long long ns_of(const struct timespec *ts)
{
	return (long long)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

/* Truth now from @fd: 0 and the snapshot's realtime and host time. */
static int truth(int fd, long long *real, long long *host)
{
	char buf[256];
	long long raw;
	unsigned long long ref, ref_ns;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return -1;
	buf[n] = 0;
	return sscanf(buf, "%lld %lld %llu %llu %lld", real, &raw, &ref,
		      &ref_ns, host) == 5 ? 0 : -1;
}

int main(int argc, char **argv)
{
	const char *tfd = getenv("CB_NOW_TRUTH_FD");
	long long real, host, mid, early, late;
	const char *seg = argc > 2 ? argv[2] : CLOCKBOUND_SHM_DEFAULT_PATH;
	const char *vmc = argc > 3 ? argv[3] : VMCLOCK_SHM_DEFAULT_PATH;
	struct timespec tick = { 0, 100000000 };
	clockbound_now_result r;
	clockbound_err err = { 0 };
	const clockbound_err *e;
	clockbound_ctx *ctx;
	long n, i, bad = 0;
	char *end;

	n = argc > 1 ? strtol(argv[1], &end, 10) : 0;
	if (argc < 2 || argc > 4 || *end || n < 1) {
		fprintf(stderr, "usage: cb-now COUNT [SEGMENT [VMCLOCK]]\n");
		return 2;
	}
	ctx = clockbound_vmclock_open(seg, vmc, &err);
	if (!ctx) {
		fprintf(stderr, "cb-now: clockbound_vmclock_open(%s, %s): error kind %d, errno %d (%s)\n",
			seg, vmc, err.kind, err.sys_errno,
			err.detail ? err.detail : "-");
		return 2;
	}
	for (i = 0; i < n; i++) {
		e = clockbound_now(ctx, &r);
		if (e) {
			printf("- - error kind %d errno %d\n", e->kind,
			       e->sys_errno);
			bad++;
		} else {
			printf("%lld.%09ld %lld.%09ld %s",
			       (long long)r.earliest.tv_sec, r.earliest.tv_nsec,
			       (long long)r.latest.tv_sec, r.latest.tv_nsec,
			       (unsigned int)r.clock_status < 4 ?
			       names[r.clock_status] : "?");
			early = ns_of(&r.earliest);
			late = ns_of(&r.latest);
			bad += r.clock_status != CLOCKBOUND_STA_SYNCHRONIZED ||
			       early > late;
			if (tfd && truth(atoi(tfd), &real, &host)) {
				printf(" truth-unreadable");
				bad++;
			} else if (tfd) {
				mid = early + (late - early) / 2;
				host -= real - mid;
				printf(" %s %+lld", host >= early && host <= late ?
				       "inside" : "outside", mid - host);
				bad += host < early || host > late;
			}
			putchar('\n');
		}
		if (i + 1 < n)
			nanosleep(&tick, NULL);
	}
	clockbound_close(ctx);
	return bad ? 1 : 0;
}
