// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: kernel/ref_fit.c (arm64's fit of the reference
 * counter against CNTVCT), built unchanged for the host, driven as
 * refclock_arm64.c drives it, with any counter values the input makes:
 * a frequency, then records of (counter advance, bracket width, reference
 * advance), so that gaps, counters going back, wide and narrow brackets,
 * jumps and well-behaved runs all occur. After every point:
 *
 *  - hv_rf_add() returns a known result; a restart, and only a restart,
 *    changes the generation;
 *  - a valid fit has at least HV_RF_MIN_POINTS points, and its bound at
 *    any counter value is at least its bound at the newest point and
 *    half a tick;
 *  - the scale it gives vmclock.c is below 2^64 without trapping.
 *
 * mul_u64_u64_div_u64() traps on a quotient beyond 64 bits, as x86's divq
 * does (hv_types.h): an overflow the kernel would meet is a crash here.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ref_fit.h"

struct input {
	const uint8_t *p;
	size_t left;
};

static uint64_t take(struct input *in, unsigned int bytes)
{
	uint64_t v = 0;

	while (bytes--) {
		v <<= 8;
		if (in->left) {
			v |= *in->p++;
			in->left--;
		}
	}
	return v;
}

static void fail(const char *what)
{
	fprintf(stderr, "ref_fit invariant: %s\n", what);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	static const uint64_t hzs[] = { 19200000, 25000000, 50000000,
					1000000000, 10000001 };
	uint64_t hz = hzs[take(&in, 1) % 5], cnt, ref;
	struct hv_rf rf;

	if (!hv_rf_init(&rf, hz))
		fail("init refused a counter above the floor");
	cnt = take(&in, 8);
	ref = take(&in, 8) >> 8;
	while (in.left) {
		unsigned int kind = take(&in, 1);
		uint64_t adv = take(&in, 4), w = take(&in, 2), c1;
		int64_t radj = (int64_t)(int32_t)take(&in, 4);
		uint32_t gen = rf.fit.gen;
		enum hv_rf_result r;

		/* mostly a second of a 25 MHz-like counter, sometimes anything */
		switch (kind & 3) {
		case 0:
			cnt += hz + (adv & 0xffff);
			ref += 10000000 + radj % 64;
			break;
		case 1:
			cnt += adv;
			ref += (uint64_t)((int64_t)adv * 10 + radj);
			break;
		case 2:
			cnt -= adv;	/* backwards */
			break;
		default:
			cnt = take(&in, 8);
			ref = take(&in, 8);
			break;
		}
		c1 = cnt + (w >> (kind >> 4));
		r = hv_rf_add(&rf, cnt, c1, ref);
		if (r != HV_RF_ADDED && r != HV_RF_RESTARTED && r != HV_RF_DROPPED)
			fail("unknown result");
		if ((r == HV_RF_RESTARTED) != (rf.fit.gen != gen))
			fail("generation changed without a restart, or not with one");
		if (rf.fit.valid) {
			uint64_t e0 = hv_rf_error_ns(&rf.fit, cnt);
			uint64_t e1 = hv_rf_error_ns(&rf.fit, cnt + (adv << 8));

			if (rf.n < HV_RF_MIN_POINTS)
				fail("valid with too few points");
			if (e0 < rf.fit.err0_ns + rf.fit.half_tick_ns ||
			    e1 < rf.fit.err0_ns + rf.fit.half_tick_ns)
				fail("bound below its value at the newest point");
			(void)hv_rf_scale64(&rf.fit);
			(void)hv_rf_eval(&rf.fit, cnt + adv);
		}
	}
	return 0;
}
