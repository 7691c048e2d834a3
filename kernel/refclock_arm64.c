// SPDX-License-Identifier: GPL-2.0
/*
 * Reference time on arm64: the partition reference counter, mapped onto
 * the architectural counter (CNTVCT) by a fit, so that a PHC read needs
 * no hypercall and cross-timestamps are exact against arch_sys_counter.
 *
 * arm64 Hyper-V has no TSC page: the reference counter is read with a
 * hypercall (hv_read_reference_counter() -> hv_get_vpreg()), and how it
 * relates to CNTVCT is not documented for guests. So once a second,
 * while a TimeSync device is bound (hv_ref_get(): never on a machine that
 * is not Hyper-V, where the hypercall would fault), a worker brackets a
 * few hypercalls with CNTVCT reads, keeps the tightest, and feeds it to
 * the fit (ref_fit.c). Reads evaluate the fit; until it is valid (a few
 * seconds after the device is bound, or after it restarted), and when its
 * newest point is older than FIT_AGE_NS, they read the reference counter
 * itself, at 100 ns, as the in-tree driver does. Reads never go back:
 * neither across a refit nor across a switch to or from the fallback.
 *
 * A point the fit cannot explain (CNTVCT or reference time moved under
 * the guest: a migration, a restore) restarts it with a new generation,
 * which counts as a disruption (hv_ref_page_disrupts()), and the bound
 * carries the fit's own (hv_ref_page_error_ns()).
 *
 * No clocksource here: the system already keeps time on CNTVCT
 * (arch_sys_counter), which is what ours would read.
 */
#include <linux/atomic.h>
#include <linux/math64.h>
#include <linux/mutex.h>
#include <linux/seqlock.h>
#include <linux/sysfs.h>
#include <linux/workqueue.h>
#include <asm/arch_timer.h>
#include <asm/mshyperv.h>
#include <clocksource/arm_arch_timer.h>

#include "hv_ptp_ext.h"

/* hypercalls a second, of which the tightest bracket is a point */
#define BURST		8
#define PERIOD		HZ
/* how long after a fit the bound still allows for its drift */
#define FIT_AGE_NS	(8 * NSEC_PER_SEC)

static struct hv_rf rf;			/* the worker's, and rf_lock's */
static DEFINE_MUTEX(rf_lock);
static u64 rf_dropped;			/* bursts whose best bracket was too wide */
static unsigned int users;		/* bound devices, under rf_lock */
static bool fit_ok;			/* CNTVCT fast enough to fit */
static struct hv_ref_page cur;		/* published, under cur_lock */
static DEFINE_SEQLOCK(cur_lock);
static struct delayed_work fit_work;
static u64 cntfrq;

static u64 counter(void)
{
	return arch_timer_read_counter();
}

/* The published fit. */
bool hv_ref_page_read(struct hv_ref_page *pg)
{
	unsigned int seq;

	do {
		seq = read_seqbegin(&cur_lock);
		*pg = cur;
	} while (read_seqretry(&cur_lock, seq));
	return pg->valid;
}

/*
 * The largest reference time a read has returned, ns. Every read is
 * raised to it: two fits of one generation may differ by a few ns at the
 * moment one replaces the other, and the fit and the fallback by up to
 * their bounds; a PHC must not go back at either. The fallback returns
 * the end of its 100 ns tick.
 */
static atomic64_t read_max;

/* Publish the fit as it stands; under rf_lock. */
static void publish(enum hv_rf_result r)
{
	struct hv_ref_page pg = { };

	pg.valid = rf.fit.valid;
	pg.fit = rf.fit;
	pg.scale = pg.valid ? hv_rf_scale64(&rf.fit) : 0;
	write_seqlock_bh(&cur_lock);
	pg.jump_ns = r == HV_RF_RESTARTED ? rf.last_jump_ns : cur.jump_ns;
	cur = pg;
	/* a restart is a disruption: reference time may go back by it */
	if (r == HV_RF_RESTARTED)
		atomic64_set(&read_max, 0);
	write_sequnlock_bh(&cur_lock);
}

static void fit_point(struct work_struct *work)
{
	u64 c0, c1, ref, b0 = 0, b1 = U64_MAX, bref = 0;
	enum hv_rf_result r;
	unsigned int i;

	for (i = 0; i < BURST; i++) {
		unsigned long flags;

		/* nothing but the call between the two reads */
		local_irq_save(flags);
		c0 = counter();
		ref = hv_read_reference_counter();
		c1 = counter();
		local_irq_restore(flags);
		if (c1 - c0 < b1 - b0) {
			b0 = c0;
			b1 = c1;
			bref = ref;
		}
	}
	mutex_lock(&rf_lock);
	r = hv_rf_add(&rf, b0, b1, bref);
	if (r == HV_RF_DROPPED)
		rf_dropped++;
	publish(r);
	mutex_unlock(&rf_lock);
	if (r == HV_RF_RESTARTED)
		pr_warn_ratelimited("CNTVCT against reference time moved by %llu ns: fit restarted\n",
				    rf.last_jump_ns);
	queue_delayed_work(system_unbound_wq, &fit_work, PERIOD);
}

/**
 * hv_ref_init() - reference time for the module, at load
 * @rating: the clocksource's rating (unused: no clocksource on arm64)
 *
 * Nothing is read here: the hypercalls start with the first bound device.
 */
int hv_ref_init(unsigned int rating)
{
	cntfrq = arch_timer_get_cntfrq();
	INIT_DELAYED_WORK(&fit_work, fit_point);
	fit_ok = hv_rf_init(&rf, cntfrq);
	if (!fit_ok) {
		pr_warn("CNTFRQ %llu Hz: at or below %llu Hz, reference time is read with a hypercall each time, at 100 ns\n",
			cntfrq, HV_RF_MIN_HZ);
		return 0;
	}
	pr_info("arm64: reference time fitted against CNTVCT (%llu Hz); no clocksource (the system keeps time on the architectural counter already)\n",
		cntfrq);
	return 0;
}

void hv_ref_exit(void)
{
}

/* A TimeSync device is bound: the fit starts (the first one), anew. */
void hv_ref_get(void)
{
	mutex_lock(&rf_lock);
	if (!users++ && fit_ok) {
		u32 gen = rf.fit.gen;

		hv_rf_init(&rf, cntfrq);
		/* a fit of its own: not the one before an unbind */
		rf.fit.gen = gen + 1;
		publish(HV_RF_ADDED);
		queue_delayed_work(system_unbound_wq, &fit_work, 0);
	}
	mutex_unlock(&rf_lock);
}

void hv_ref_put(void)
{
	bool stop;

	mutex_lock(&rf_lock);
	stop = !--users && fit_ok;
	mutex_unlock(&rf_lock);
	/* the work takes rf_lock: cancelled outside it */
	if (stop)
		cancel_delayed_work_sync(&fit_work);
}

const char *hv_ref_source(void)
{
	struct hv_ref_page pg;

	return hv_ref_page_read(&pg) ? "cntvct_fit" : "reference_counter";
}

/* @now, or the largest value returned before if that is later */
static u64 monotonic(u64 now, u64 *tsc)
{
	s64 max = atomic64_read(&read_max);

	while ((s64)(now - max) > 0) {
		s64 old = atomic64_cmpxchg(&read_max, max, now);

		if (old == max)
			return now;
		max = old;
	}
	if (max != now)
		*tsc = 0;	/* not the value of @tsc */
	return max;
}

/* The fit is valid, and its newest point within FIT_AGE_NS of @cnt. */
static bool fit_usable(const struct hv_ref_page *pg, u64 cnt)
{
	s64 d = (s64)(hv_rf_cnt_ns(&pg->fit, cnt) - pg->fit.x0);

	return pg->valid && d <= (s64)FIT_AGE_NS && d >= -(s64)FIT_AGE_NS;
}

u64 hv_ref_now_ns(u64 *tsc, struct hv_ref_page *pg)
{
	struct hv_ref_page own;
	unsigned int seq;
	u64 cnt;

	if (!pg)
		pg = &own;
	do {
		seq = read_seqbegin(&cur_lock);
		*pg = cur;
		cnt = counter();
	} while (read_seqretry(&cur_lock, seq));
	if (fit_usable(pg, cnt)) {
		*tsc = cnt;
		return monotonic(hv_rf_eval(&pg->fit, cnt), tsc);
	}
	*tsc = 0;
	return monotonic(hv_read_reference_counter() * 100 + 99, tsc);
}

/* Reference time at CNTVCT value @tsc by the fit now (returned in @pg). */
bool hv_ref_tsc_to_ns(u64 tsc, u64 *ref_ns, struct hv_ref_page *pg)
{
	hv_ref_page_read(pg);
	if (!fit_usable(pg, tsc))
		return false;
	*ref_ns = hv_rf_eval(&pg->fit, tsc);
	return true;
}

/*
 * Same fit: same generation and validity, and a bound no larger than the
 * one published (a refit whose bound grew is taken in, without counting
 * a disruption, so that the published bound covers it).
 */
bool hv_ref_page_same(const struct hv_ref_page *a, const struct hv_ref_page *b)
{
	return a->valid == b->valid && a->fit.gen == b->fit.gen &&
	       hv_ref_page_error_ns(b) <= hv_ref_page_error_ns(a);
}

/*
 * Only the restart of a fit that reads used moves reference time:
 * becoming valid continues it, and an invalid fit was never read.
 */
bool hv_ref_page_disrupts(const struct hv_ref_page *a,
			  const struct hv_ref_page *b)
{
	return a->valid && a->fit.gen != b->fit.gen;
}

/* What the restart that made @b found reference time moved by. */
u64 hv_ref_page_jump_ns(const struct hv_ref_page *a,
			const struct hv_ref_page *b, u64 tsc)
{
	return hv_ref_page_disrupts(a, b) ? b->jump_ns : 0;
}

/*
 * The fit's bound as a read through @pg may need it: at its newest point,
 * plus its drift over FIT_AGE_NS (the worker refits every second; reads
 * further from the newest point use the fallback).
 */
u64 hv_ref_page_error_ns(const struct hv_ref_page *pg)
{
	return pg->valid ? hv_rf_error_at_ns(&pg->fit, FIT_AGE_NS) : 0;
}

bool hv_ref_clocksource_active(void)
{
	return false;
}

/* The fit's rate uncertainty, 2^-64 (the VMClock page's error growth). */
u64 hv_ref_page_rate64(const struct hv_ref_page *pg)
{
	if (!pg->valid)
		return 0;
	/* ppt * 2^64 / 10^12 = ppt * 2^52 / 5^12 */
	return mul_u64_u64_div_u64(min(pg->fit.err_rate_ppt, 1000000000ULL),
				   1ULL << 52, 244140625);
}

/**
 * hv_ref_fit_show() - the fit and its points, for sysfs (refclock_fit)
 * @buf: the attribute's page
 *
 * One line of the fit: "gen G valid V points N rate_ppt R err0_ns E
 * err_rate_ppt U restarts S cntfrq F"; then one line per point, oldest
 * first: its counter time (ns, from the newest point), its residual from
 * the fit (ns) and its half-width (ns). On a real host the residuals show
 * whether reference time is linear in CNTVCT within the brackets.
 */
ssize_t hv_ref_fit_show(char *buf)
{
	const struct hv_rf_fit *f = &rf.fit;
	ssize_t len;
	unsigned int i;

	mutex_lock(&rf_lock);
	len = sysfs_emit(buf, "gen %u valid %d points %u rate_ppt %lld ",
			 f->gen, f->valid, rf.n, f->rate_ppt);
	len += sysfs_emit_at(buf, len, "err0_ns %llu err_rate_ppt %llu ",
			     f->err0_ns, f->err_rate_ppt);
	len += sysfs_emit_at(buf, len, "restarts %llu dropped %llu cntfrq %llu\n",
			     rf.restarts, rf_dropped, cntfrq);
	for (i = 0; i < rf.n; i++) {
		const struct hv_rf_point *p = hv_rf_point(&rf, i);
		s64 dx = (s64)(p->x - f->x0);
		s64 res = f->valid ? hv_rf_residual(f, p) : 0;

		len += sysfs_emit_at(buf, len, "%lld %lld %llu\n", dx, res, p->h);
	}
	mutex_unlock(&rf_lock);
	return len;
}
