// SPDX-License-Identifier: GPL-2.0
/*
 * Reference time on arm64: the partition reference counter, mapped onto
 * the architectural counter (CNTVCT) by a fit, so that a PHC read needs
 * no hypercall and cross-timestamps are exact against arch_sys_counter.
 *
 * arm64 Hyper-V has no TSC page: the reference counter is read with a
 * hypercall (hv_read_reference_counter() -> hv_get_vpreg()), and how it
 * relates to CNTVCT is not documented for guests. So once a second a
 * worker brackets a few hypercalls with CNTVCT reads, keeps the tightest,
 * and feeds it to the fit (ref_fit.c). Reads evaluate the fit; until it is
 * valid (a few seconds after load, or after it restarted) they read the
 * reference counter itself, at 100 ns, as the in-tree driver does.
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
static struct hv_ref_page cur;		/* published, under cur_lock */
static DEFINE_SEQLOCK(cur_lock);
static struct delayed_work fit_work;
static bool started;
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

static void fit_point(struct work_struct *work)
{
	u64 c0, c1, ref, b0 = 0, b1 = U64_MAX, bref = 0;
	struct hv_ref_page pg = { };
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
	pg.valid = rf.fit.valid;
	pg.fit = rf.fit;
	pg.scale = pg.valid ? hv_rf_scale64(&rf.fit) : 0;
	write_seqlock_bh(&cur_lock);
	pg.jump_ns = r == HV_RF_RESTARTED ? rf.last_jump_ns : cur.jump_ns;
	cur = pg;
	write_sequnlock_bh(&cur_lock);
	mutex_unlock(&rf_lock);
	if (r == HV_RF_RESTARTED)
		pr_warn_ratelimited("CNTVCT against reference time moved by %llu ns: fit restarted\n",
				    pg.jump_ns);
	queue_delayed_work(system_unbound_wq, &fit_work, PERIOD);
}

int hv_ref_init(unsigned int rating)
{
	cntfrq = arch_timer_get_cntfrq();
	if (!hv_rf_init(&rf, cntfrq)) {
		pr_err("CNTFRQ %llu Hz: too slow to map reference time on\n",
		       cntfrq);
		return -ENODEV;
	}
	pr_info("arm64: reference time fitted against CNTVCT (%llu Hz); no clocksource (the system keeps time on the architectural counter already)\n",
		cntfrq);
	INIT_DELAYED_WORK(&fit_work, fit_point);
	queue_delayed_work(system_unbound_wq, &fit_work, 0);
	started = true;
	return 0;
}

void hv_ref_exit(void)
{
	if (started)
		cancel_delayed_work_sync(&fit_work);
	started = false;
}

const char *hv_ref_source(void)
{
	struct hv_ref_page pg;

	return hv_ref_page_read(&pg) ? "cntvct_fit" : "reference_counter";
}

/*
 * The largest value the reference-counter fallback has returned, ns, as
 * on x86: reads never go back across a switch between the fit and the
 * fallback (the counter truncates to 100 ns: the fallback returns the end
 * of its tick).
 */
static atomic64_t fallback_max;

u64 hv_ref_now_ns(u64 *tsc, struct hv_ref_page *pg)
{
	struct hv_ref_page own;
	unsigned int seq;
	u64 now, cnt;
	s64 max;

	if (!pg)
		pg = &own;
	do {
		seq = read_seqbegin(&cur_lock);
		*pg = cur;
		cnt = counter();
	} while (read_seqretry(&cur_lock, seq));
	if (pg->valid) {
		now = hv_rf_eval(&pg->fit, cnt);
		max = atomic64_read(&fallback_max);
		*tsc = cnt;
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

/* Reference time at CNTVCT value @tsc by the fit now (returned in @pg). */
bool hv_ref_tsc_to_ns(u64 tsc, u64 *ref_ns, struct hv_ref_page *pg)
{
	if (!hv_ref_page_read(pg))
		return false;
	*ref_ns = hv_rf_eval(&pg->fit, tsc);
	return true;
}

/* Same fit: same generation and validity (a refit of one is the same). */
bool hv_ref_page_same(const struct hv_ref_page *a, const struct hv_ref_page *b)
{
	return a->valid == b->valid && a->fit.gen == b->fit.gen;
}

/* Only a restart moves reference time; becoming valid continues it. */
bool hv_ref_page_disrupts(const struct hv_ref_page *a,
			  const struct hv_ref_page *b)
{
	return a->fit.gen != b->fit.gen;
}

/* What the restart that made @b found reference time moved by. */
u64 hv_ref_page_jump_ns(const struct hv_ref_page *a,
			const struct hv_ref_page *b, u64 tsc)
{
	return a->fit.gen != b->fit.gen ? b->jump_ns : 0;
}

/*
 * The fit's bound as a read through @pg may need it until the next
 * sample: at its newest point, plus its drift over FIT_AGE_NS (the worker
 * refits every second).
 */
u64 hv_ref_page_error_ns(const struct hv_ref_page *pg)
{
	if (!pg->valid)
		return 0;
	return pg->fit.err0_ns + pg->fit.half_tick_ns +
	       mul_u64_u64_div_u64(FIT_AGE_NS, pg->fit.err_rate_ppt,
				   1000000000000ULL);
}

bool hv_ref_clocksource_active(void)
{
	return false;
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
		const struct hv_rf_point *p =
			&rf.pt[(rf.head + HV_RF_POINTS - rf.n + i) % HV_RF_POINTS];
		s64 dx = (s64)(p->x - f->x0);
		s64 res = f->valid ? hv_rf_residual(f, p) : 0;

		len += sysfs_emit_at(buf, len, "%lld %lld %llu\n", dx, res, p->h);
	}
	mutex_unlock(&rf_lock);
	return len;
}
