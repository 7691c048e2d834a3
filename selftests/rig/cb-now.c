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
 * Exit status: 0 if every reading was synchronized with earliest <=
 * latest; 1 otherwise; 2 usage or the library refused to open.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <clockbound.h>

static const char *const names[] = {
	"unknown", "synchronized", "free-running", "disrupted",
};

int main(int argc, char **argv)
{
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
			printf("%lld.%09ld %lld.%09ld %s\n",
			       (long long)r.earliest.tv_sec, r.earliest.tv_nsec,
			       (long long)r.latest.tv_sec, r.latest.tv_nsec,
			       (unsigned int)r.clock_status < 4 ?
			       names[r.clock_status] : "?");
			bad += r.clock_status != CLOCKBOUND_STA_SYNCHRONIZED ||
			       r.earliest.tv_sec > r.latest.tv_sec ||
			       (r.earliest.tv_sec == r.latest.tv_sec &&
				r.earliest.tv_nsec > r.latest.tv_nsec);
		}
		if (i + 1 < n)
			nanosleep(&tick, NULL);
	}
	clockbound_close(ctx);
	return bad ? 1 : 0;
}
