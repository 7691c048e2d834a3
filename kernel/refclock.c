// SPDX-License-Identifier: GPL-2.0
/*
 * Reference time: the Hyper-V partition reference counter, read through
 * the TSC page at 1 ns resolution, and the hv_ptp_ext clocksource on it.
 *
 * The TSC page gives reference time in 100 ns ticks as
 * ((tsc * tsc_scale) >> 64) + tsc_offset. The low 64 bits of the product
 * are the fraction of a tick that hv_read_tsc_page_tsc() drops; we keep it,
 * so reference time in ns is
 *
 *	(hi + tsc_offset) * 100 + ((lo * 100) >> 64),  hi:lo = tsc * tsc_scale
 *
 * When the page is invalid (tsc_sequence 0) we fall back to the 100 ns
 * reference counter (hv_read_reference_counter(), the MSR on Hyper-V),
 * without ever going backwards across the switch.
 */
#include <linux/atomic.h>
#include <linux/clocksource.h>
#include <linux/math64.h>
#include <asm/mshyperv.h>
#include <clocksource/hyperv_timer.h>

#include "hv_ptp_ext.h"

/* Scale and offset of the page, consistent with one tsc_sequence. */
static bool tsc_page_params(u64 *scale, u64 *offset, u64 *tsc)
{
	const struct ms_hyperv_tsc_page *pg = hv_get_tsc_page();
	u32 seq;

	if (!pg)
		return false;
	do {
		seq = READ_ONCE(pg->tsc_sequence);
		if (!seq)
			return false;
		/* the sequence before the values; pairs with the host's update */
		smp_rmb();
		*scale = READ_ONCE(pg->tsc_scale);
		*offset = READ_ONCE(pg->tsc_offset);
		if (tsc)
			*tsc = hv_get_raw_timer();
		/* the values before the sequence is read again */
		smp_rmb();
	} while (READ_ONCE(pg->tsc_sequence) != seq);
	return true;
}

static u64 tsc_to_ns(u64 tsc, u64 scale, u64 offset)
{
	return (mul_u64_u64_shr(tsc, scale, 64) + offset) * 100 +
	       mul_u64_u64_shr(tsc * scale, 100, 64);
}

bool hv_ref_tsc_page_valid(void)
{
	u64 scale, offset;

	return tsc_page_params(&scale, &offset, NULL);
}

/*
 * The TSC page's scale and offset as one consistent pair; false (and
 * both 0) while the page is invalid.
 */
bool hv_ref_tsc_page(u64 *scale, u64 *offset)
{
	if (tsc_page_params(scale, offset, NULL))
		return true;
	*scale = 0;
	*offset = 0;
	return false;
}

/*
 * The largest value the reference-counter fallback has returned, ns. The
 * counter truncates to 100 ns ticks, so the fallback returns the end of the
 * tick: never behind a TSC-page read made before. A TSC-page read made
 * after the fallback could be behind that end, by up to 99 ns, and is
 * raised to it. Written only while the TSC page is invalid, so reads on
 * the TSC page share the cache line without writing it.
 */
static atomic64_t fallback_max;

/**
 * hv_ref_now_ns() - reference time now, ns, never less than before
 * @tsc: the TSC value it was computed from, or 0 when it was not (the
 *	reference-counter fallback, or raised to the fallback's last value)
 */
u64 hv_ref_now_ns(u64 *tsc)
{
	u64 scale, offset, now;
	s64 max;

	if (tsc_page_params(&scale, &offset, tsc)) {
		now = tsc_to_ns(*tsc, scale, offset);
		max = atomic64_read(&fallback_max);
		if ((s64)(now - max) >= 0)
			return now;
		*tsc = 0;
		return max;
	}
	*tsc = 0;
	now = hv_read_reference_counter() * 100 + 99;
	max = atomic64_read(&fallback_max);
	while ((s64)(now - max) > 0) {
		s64 old = atomic64_cmpxchg(&fallback_max, max, now);

		if (old == max)
			return now;
		max = old;
	}
	return max;
}

/* Reference time at TSC value @tsc (e.g. a system counter snapshot). */
bool hv_ref_tsc_to_ns(u64 tsc, u64 *ref_ns)
{
	u64 scale, offset;

	if (!tsc_page_params(&scale, &offset, NULL))
		return false;
	*ref_ns = tsc_to_ns(tsc, scale, offset);
	return true;
}

/*
 * The clocksource: reference time in ns, so a counter value is itself a
 * reference time and cross-timestamps against it are exact. It is not used
 * unless selected (current_clocksource, or the clocksource_rating
 * parameter above the TSC's 300).
 */
static bool cs_active;

/* hv_ref_now_ns() never goes backwards, as timekeeping requires. */
static u64 hv_cs_read(struct clocksource *cs)
{
	u64 tsc;

	return hv_ref_now_ns(&tsc);
}

/*
 * The same, telling the timekeeping core which TSC value the counter value
 * came from, so that a system snapshot on this clocksource names the TSC
 * (hw_cycles, hw_csid) and cross-timestamps against it stay exact. Used
 * where clocksources have read_snapshot() (compat.h).
 */
static u64 hv_cs_read_snapshot(struct clocksource *cs,
			       struct clocksource_hw_snapshot *chs)
{
	u64 tsc, now;

	now = hv_ref_now_ns(&tsc);
	compat_hw_snapshot_tsc(chs, tsc);
	return now;
}

static int hv_cs_enable(struct clocksource *cs)
{
	WRITE_ONCE(cs_active, true);
	return 0;
}

static void hv_cs_disable(struct clocksource *cs)
{
	WRITE_ONCE(cs_active, false);
}

static struct clocksource hv_cs = {
	.name = "hv_ptp_ext",
	.read = hv_cs_read,
	.enable = hv_cs_enable,
	.disable = hv_cs_disable,
	.mask = CLOCKSOURCE_MASK(64),
	.flags = CLOCK_SOURCE_IS_CONTINUOUS,
};

static bool cs_registered;

int hv_ref_clocksource_register(unsigned int rating)
{
	int ret;

	if (cs_registered)
		return 0;
	hv_cs.rating = rating;
	compat_cs_set_read_snapshot(&hv_cs, hv_cs_read_snapshot);
	ret = clocksource_register_hz(&hv_cs, NSEC_PER_SEC);
	if (!ret)
		cs_registered = true;
	return ret;
}

void hv_ref_clocksource_unregister(void)
{
	if (cs_registered)
		clocksource_unregister(&hv_cs);
	cs_registered = false;
}

bool hv_ref_clocksource_active(void)
{
	return READ_ONCE(cs_active);
}
