// SPDX-License-Identifier: GPL-2.0
/*
 * adjtimex glue.
 *
 * Units: timex.freq is ppm with 16 fractional bits, limited to ±500 ppm;
 * timex.tick is µs per tick of USER_HZ (sysconf(_SC_CLK_TCK): 100 on
 * every Linux architecture today, so nominal 10000), and the kernel
 * accepts ±10 %: one µs of tick is 10^9 / nominal ppb (100 ppm). A
 * correction is split so that the frequency part is the remainder within
 * half a tick step.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

#include "clockadj.h"

#define OWN_STATUS	(STA_UNSYNC | STA_PLL | STA_FLL | STA_INS | STA_DEL)

/* The nominal timex.tick, µs: 10^6 / USER_HZ. */
static long tick_nominal(void)
{
	static long nominal;
	long hz;

	if (!nominal) {
		hz = sysconf(_SC_CLK_TCK);
		nominal = 1000000 / (hz > 0 ? hz : 100);
	}
	return nominal;
}

/* ppb for one µs of tick (100 ppm at USER_HZ 100). */
static double tick_ppb(void)
{
	return 1e9 / tick_nominal();
}

static int adj(struct timex *tx)
{
	return clock_adjtime(CLOCK_REALTIME, tx) < 0 ? -errno : 0;
}

int hps_clock_get_freq(double *ppb)
{
	struct timex tx = { 0 };
	int ret = adj(&tx);

	if (ret)
		return ret;
	*ppb = (tx.tick - tick_nominal()) * tick_ppb() + tx.freq / 65.536;
	return 0;
}

int hps_clock_set_freq(struct hps_clockadj *a, double ppb, int64_t *at_ns)
{
	struct timex tx = { .modes = ADJ_FREQUENCY | ADJ_TICK };
	long t;
	int ret;

	if (ppb > 0.1e9)
		ppb = 0.1e9;
	if (ppb < -0.1e9)
		ppb = -0.1e9;
	t = (long)(ppb / tick_ppb() + (ppb < 0 ? -0.5 : 0.5));
	tx.tick = tick_nominal() + t;
	tx.freq = (long)((ppb - t * tick_ppb()) * 65.536);
	ret = adj(&tx);
	if (!ret) {
		a->tick = tx.tick;
		a->freq = tx.freq;
		/* the kernel's CLOCK_REALTIME at the call, us or ns */
		if (at_ns)
			*at_ns = tx.time.tv_sec * 1000000000LL +
				 tx.time.tv_usec * (tx.status & STA_NANO ? 1 : 1000);
	}
	return ret;
}

int hps_clock_step(int64_t delta_ns)
{
	struct timex tx = { .modes = ADJ_SETOFFSET | ADJ_NANO };

	/* with ADJ_NANO, tv_usec holds ns; it must be in 0..10^9 - 1 */
	tx.time.tv_sec = delta_ns / 1000000000;
	tx.time.tv_usec = delta_ns % 1000000000;
	if (tx.time.tv_usec < 0) {
		tx.time.tv_sec--;
		tx.time.tv_usec += 1000000000;
	}
	return adj(&tx);
}

int hps_clock_clear_error(void)
{
	return hps_clock_step(0);
}

/* ns rounded up to us, within 0 and the kernel's NTP_PHASE_LIMIT (16 s) */
static long error_us(int64_t ns)
{
	if (ns <= 0)
		return 0;
	if (ns >= 16000000000LL)
		return 16000000;
	return (ns + 999) / 1000;
}

int hps_clock_set_sync(struct hps_clockadj *a, int synced, int leap,
		       int64_t esterror_ns, int64_t maxerror_ns)
{
	struct timex tx = { 0 };
	int ret, own;

	ret = adj(&tx);
	if (ret)
		return ret;
	own = synced ? 0 : STA_UNSYNC;
	if (synced && leap == HPS_LEAP_INSERT)
		own |= STA_INS;
	else if (synced && leap == HPS_LEAP_DELETE)
		own |= STA_DEL;
	tx.modes = ADJ_STATUS | ADJ_ESTERROR | ADJ_MAXERROR;
	tx.status = (tx.status & ~OWN_STATUS) | own;
	tx.esterror = error_us(esterror_ns);
	tx.maxerror = error_us(maxerror_ns);
	ret = adj(&tx);
	if (!ret) {
		a->status = own;
		a->written = 1;
	}
	return ret;
}

int hps_clock_interfered(const struct hps_clockadj *a, char *what,
			 unsigned long len)
{
	struct timex tx = { 0 };
	int ret;

	if (!a->written)
		return 0;
	ret = adj(&tx);
	if (ret)
		return ret;
	if (tx.tick != a->tick || tx.freq != a->freq) {
		snprintf(what, len, "frequency changed to %+.3f ppm (tick %ld)",
			 (tx.tick - tick_nominal()) * tick_ppb() / 1000 +
			 tx.freq / 65536.0, tx.tick);
		return 1;
	}
	/* STA_INS/STA_DEL are ours to change as leap seconds come and go */
	if ((tx.status ^ a->status) & (STA_UNSYNC | STA_PLL | STA_FLL)) {
		snprintf(what, len, "status changed from 0x%x to 0x%x",
			 a->status & OWN_STATUS, tx.status & OWN_STATUS);
		return 1;
	}
	return 0;
}
