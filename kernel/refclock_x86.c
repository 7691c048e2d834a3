// SPDX-License-Identifier: GPL-2.0
/*
 * Reference time on x86: the Hyper-V partition reference counter, read
 * through the TSC page at 1 ns resolution, and the hv_ptp_ext clocksource
 * on it. (arm64: refclock_arm64.c.) The interface is in hv_ptp_ext.h.
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
#include <linux/sysfs.h>
#include <asm/mshyperv.h>
#include <clocksource/hyperv_timer.h>

#include "hv_ptp_ext.h"

/*
 * The page's scale and offset, consistent with one tsc_sequence, and the
 * TSC read under that same sequence if @tsc is given. @pg->valid is
 * false (and the values 0) while the page is invalid.
 */
static bool tsc_page_params(struct hv_ref_page *pg, u64 *tsc)
{
	const struct ms_hyperv_tsc_page *tp = hv_get_tsc_page();
	u32 seq;

	pg->valid = false;
	pg->scale = 0;
	pg->offset = 0;
	if (!tp)
		return false;
	do {
		seq = READ_ONCE(tp->tsc_sequence);
		if (!seq)
			return false;
		/* the sequence before the values; pairs with the host's update */
		smp_rmb();
		pg->scale = READ_ONCE(tp->tsc_scale);
		pg->offset = READ_ONCE(tp->tsc_offset);
		if (tsc)
			*tsc = hv_get_raw_timer();
		/* the values before the sequence is read again */
		smp_rmb();
	} while (READ_ONCE(tp->tsc_sequence) != seq);
	pg->valid = true;
	return true;
}

static u64 tsc_to_ns(u64 tsc, u64 scale, u64 offset)
{
	return (mul_u64_u64_shr(tsc, scale, 64) + offset) * 100 +
	       mul_u64_u64_shr(tsc * scale, 100, 64);
}

static bool hv_ref_tsc_page_valid(void)
{
	struct hv_ref_page pg;

	return tsc_page_params(&pg, NULL);
}

const char *hv_ref_source(void)
{
	return hv_ref_tsc_page_valid() ? "tsc_page" : "reference_counter";
}

/* The TSC page is exact: nothing to add to the bound, or to its growth. */
u64 hv_ref_page_error_ns(const struct hv_ref_page *pg)
{
	return 0;
}

u64 hv_ref_page_rate64(const struct hv_ref_page *pg)
{
	return 0;
}

/* Nothing runs per device on x86: the TSC page is the host's. */
void hv_ref_get(void)
{
}

void hv_ref_put(void)
{
}

/* The TSC page now, as one consistent record; false while it is invalid. */
bool hv_ref_page_read(struct hv_ref_page *pg)
{
	return tsc_page_params(pg, NULL);
}

bool hv_ref_page_same(const struct hv_ref_page *a, const struct hv_ref_page *b)
{
	return a->valid == b->valid && a->scale == b->scale &&
	       a->offset == b->offset;
}

/* Any change of the TSC page may move reference time. */
bool hv_ref_page_disrupts(const struct hv_ref_page *a,
			  const struct hv_ref_page *b)
{
	return !hv_ref_page_same(a, b);
}

/**
 * hv_ref_page_jump_ns() - how far two TSC pages disagree at one TSC value
 * @a: one page
 * @b: the other
 * @tsc: the TSC value, e.g. of the read that found @b in place of @a
 *
 * Reference time by @b minus by @a at @tsc, as a magnitude, ns: what a
 * model fitted on @a's reference time may be off by on @b's, if the change
 * was a discontinuity of reference time rather than of the TSC's rate.
 * 0 when either page is invalid: the reference counter the fallback reads
 * and a valid page describe the same reference time.
 */
u64 hv_ref_page_jump_ns(const struct hv_ref_page *a,
			const struct hv_ref_page *b, u64 tsc)
{
	u64 x, y;

	if (!a->valid || !b->valid)
		return 0;
	x = tsc_to_ns(tsc, a->scale, a->offset);
	y = tsc_to_ns(tsc, b->scale, b->offset);
	return x > y ? x - y : y - x;
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
 * @pg: if not NULL, the TSC page the read used (invalid: the fallback)
 */
u64 hv_ref_now_ns(u64 *tsc, struct hv_ref_page *pg)
{
	struct hv_ref_page own;
	u64 now;
	s64 max;

	if (!pg)
		pg = &own;
	if (tsc_page_params(pg, tsc)) {
		now = tsc_to_ns(*tsc, pg->scale, pg->offset);
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

/*
 * Reference time at TSC value @tsc (e.g. a system counter snapshot), by
 * the TSC page now, which is returned in @pg.
 */
bool hv_ref_tsc_to_ns(u64 tsc, u64 *ref_ns, struct hv_ref_page *pg)
{
	if (!tsc_page_params(pg, NULL))
		return false;
	*ref_ns = tsc_to_ns(tsc, pg->scale, pg->offset);
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

	return hv_ref_now_ns(&tsc, NULL);
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

	now = hv_ref_now_ns(&tsc, NULL);
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

/**
 * hv_ref_init() - reference time for the module, at load
 * @rating: the clocksource's rating (the clocksource_rating parameter)
 *
 * Registers the clocksource on the TSC page when the page is valid.
 */
int hv_ref_init(unsigned int rating)
{
	int ret;

	if (!hv_ref_tsc_page_valid()) {
		pr_info("no valid TSC page: PHC at 100 ns resolution, no clocksource\n");
		return 0;
	}
	hv_cs.rating = rating;
	compat_cs_set_read_snapshot(&hv_cs, hv_cs_read_snapshot);
	ret = clocksource_register_hz(&hv_cs, NSEC_PER_SEC);
	if (!ret)
		cs_registered = true;
	return ret;
}

void hv_ref_exit(void)
{
	if (cs_registered)
		clocksource_unregister(&hv_cs);
	cs_registered = false;
}

/* sysfs refclock_fit: nothing is fitted on x86 (the TSC page is exact). */
ssize_t hv_ref_fit_show(char *buf)
{
	return sysfs_emit(buf, "none\n");
}

bool hv_ref_clocksource_active(void)
{
	return READ_ONCE(cs_active);
}
