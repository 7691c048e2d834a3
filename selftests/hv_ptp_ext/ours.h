/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the tests of hv_ptp_ext on its own share (ours_*.c): the fixture
 * (our PHC, pinned to CPU 0, the TSC clocksource restored after), and
 * loading the module and waiting for samples.
 */
#ifndef HV_PTP_EXT_OURS_H
#define HV_PTP_EXT_OURS_H

#include "measure.h"
#include "kselftest_harness.h"

#include <glob.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/timex.h>

#define CS_DIR "/sys/devices/system/clocksource/clocksource0/"

static inline int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), ret;

	if (fd < 0)
		return -errno;
	ret = write(fd, s, strlen(s)) == (ssize_t)strlen(s) ? 0 : -errno;
	close(fd);
	return ret;
}

static inline int cs_is(const char *want)
{
	char buf[64] = "";
	FILE *f = fopen(CS_DIR "current_clocksource", "r");

	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return !strcmp(buf, want);
}

FIXTURE(ours) {
	int phc, index;
};

FIXTURE_SETUP(ours)
{
	self->phc = -1;
	if (!rig_available())
		SKIP(return, "needs root and the rig (" RIG_LOAD ")");
	ASSERT_EQ(0, pin_cpu(0));
}

FIXTURE_TEARDOWN(ours)
{
	if (self->phc >= 0)
		close(self->phc);
	/* the simulator's truth needs the TSC clocksource */
	if (!cs_is("tsc"))
		write_str(CS_DIR "current_clocksource", "tsc");
}

/* Load with @params, open our PHC, wait for @samples samples. */
static inline int start(int *phc, int *index, int samples, const char *params)
{
	int i;

	if (rig_load("%s", params))
		return -1;
	*phc = phc_open_driver("hv_ptp_ext", index);
	if (*phc < 0)
		return -1;
	for (i = 0; i < 600 && ours_stat(*index, "samples_accepted") < samples; i++)
		sleep_ms(100);
#ifdef __aarch64__
	/*
	 * arm64: PRECISE and the reads without a hypercall need the CNTVCT
	 * fit, valid about 3 s after the device is bound (refclock_fit)
	 */
	for (i = 0; i < 150; i++) {
		char buf[32];

		if (!strcmp(ours_str(*index, "refclock", buf, sizeof(buf)), "cntvct_fit"))
			break;
		sleep_ms(100);
	}
#endif
	return ours_stat(*index, "samples_accepted") >= samples ? 0 : -1;
}

static inline int state_is(int index, const char *want)
{
	char buf[64];

	return !strcmp(ours_str(index, "state", buf, sizeof(buf)), want);
}

#endif
