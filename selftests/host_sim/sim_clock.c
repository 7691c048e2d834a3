// SPDX-License-Identifier: GPL-2.0
/*
 * hv_host_sim: reference time and the host clock model.
 *
 * Reference time is what a Hyper-V guest reads from the partition reference
 * counter. We fill the kernel's TSC page (hv_get_tsc_page()) so that
 * ((tsc * tsc_scale) >> 64) + tsc_offset counts 100 ns ticks at the rate the
 * guest kernel calibrated for its TSC (tsc_khz), and point the exported
 * hv_read_reference_counter at a reader of that page. Reference time in ns,
 * not truncated to ticks, is tsc * 10^6 / tsc_khz from the same origin; the
 * two agree to within the rounding of tsc_scale (about 1e-17 relative).
 *
 * The host clock is piecewise linear in reference time:
 *
 *	host(ref_ns) = base_host_ns + d + d * freq_ppt / 10^12,
 *	d = ref_ns - base_ref_ns
 *
 * A new piece starts at every change of rate (wander, "freq" command) and at
 * every step, so the model is continuous except at steps. Positive freq_ppt
 * means host time runs fast against the reference counter.
 *
 * UTC is a truth of its own: host = UTC + off, where off, host minus UTC,
 * is linear in reference time too:
 *
 *	off(ref_ns) = utc_off0_ns + (ref_ns - utc_ref0_ns) * utc_drift_ppt / 10^12
 *
 * A step of host time adds to off (UTC stays continuous); a change of the
 * host's rate (wander, "freq") adds to the drift, so that UTC's rate against
 * the reference counter only changes with "utc_drift". A leap second of the
 * host leaves off alone: UTC makes the same leap.
 *
 * On arm64 there is no TSC page (HYPERV_TIMER is x86's): Hyper-V guests
 * read the reference counter with a hypercall. There reference time is a
 * linear function of the architectural counter (CNTVCT, as
 * arch_timer_read_counter() reads it, at arch_timer_get_cntfrq() Hz) and
 * our hv_read_reference_counter emulates the hypercall: it spins for an
 * entry delay, reads the counter, spins for an exit delay (hc_latency_ns,
 * hc_jitter_ns, hc_entry_pct). Below, "tsc" is the architecture's counter:
 * the TSC on x86, CNTVCT on arm64; the host clock model is the same on
 * both.
 */

#include <linux/math64.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/seqlock.h>
#include <linux/timekeeping.h>
#include <asm/mshyperv.h>
#include <clocksource/hyperv_timer.h>
/* the architecture's counter: see the top, and sim_counter() */
#if defined(CONFIG_X86)
#include <asm/tsc.h>
#elif defined(CONFIG_ARM64)
#include <linux/irqflags.h>
#include <linux/moduleparam.h>
#include <asm/arch_timer.h>
#include <clocksource/arm_arch_timer.h>
#else
#error "hv_host_sim: x86 or arm64 only"
#endif

#include "sim.h"

#define PPT_PER_PPB	1000LL
#define PPT_DEN		1000000000000ULL	/* 10^12 */

#ifdef CONFIG_X86
static struct ms_hyperv_tsc_page *tsc_pg;
static u32 khz;		/* TSC kHz, as calibrated by the guest kernel */
#else
static u32 cnt_hz;	/* CNTVCT's frequency, Hz (CNTFRQ) */
#endif
static u64 (*saved_read_ref)(void);
static u64 tsc0;	/* the counter at load (TSC; CNTVCT on arm64) */
static u64 ref_ns0;	/* reference time at tsc0, ns */

static DEFINE_SEQLOCK(model_lock);
static u64 base_ref_ns;
static s64 base_host_ns;
static s64 freq_ppt;
static s64 leap_at_ns, leap_ns;	/* a leap second of host time, armed */
static u64 utc_ref0_ns;		/* host minus UTC: utc_off0_ns at utc_ref0_ns, */
static s64 utc_off0_ns;		/* changing at utc_drift_ppt */
static s64 utc_drift_ppt;
static struct sim_clock_params prm;

static DEFINE_SPINLOCK(rng_lock);
static u64 rng_state;

/* The last hv_read_reference_counter() call from task context, per CPU. */
struct sim_ref_read {
	u64 tsc;
	pid_t pid;
};

static DEFINE_PER_CPU(struct sim_ref_read, last_read);

/* Who read the reference counter last (sim_last_ref_read()), and when. */
static void note_read(u64 tsc)
{
	struct sim_ref_read *r;

	if (in_task()) {
		r = get_cpu_ptr(&last_read);
		r->tsc = tsc;
		r->pid = current->pid;
		put_cpu_ptr(&last_read);
	}
}

#ifdef CONFIG_X86
static __always_inline u64 sim_counter(void)
{
	return rdtsc_ordered();
}

/*
 * After "tsc_page rate": reference time is what the rescaled page says
 * (ref_scale, ref_offset), for the guest and the truth alike.
 */
static DEFINE_SEQLOCK(ref_lock);
static bool ref_paged;
static u64 ref_scale;
static s64 ref_offset;
static u32 tsc_seq = 1;

static u64 page_ns(u64 tsc, u64 scale, s64 offset)
{
	return (mul_u64_u64_shr(tsc, scale, 64) + offset) * 100 +
	       mul_u64_u64_shr(tsc * scale, 100, 64);
}

static u64 ref_ns_locked(u64 tsc)
{
	if (ref_paged)
		return page_ns(tsc, ref_scale, ref_offset);
	if (tsc >= tsc0)
		return ref_ns0 + mul_u64_u64_div_u64(tsc - tsc0, NSEC_PER_MSEC, khz);
	return ref_ns0 - mul_u64_u64_div_u64(tsc0 - tsc, NSEC_PER_MSEC, khz);
}

u64 sim_ref_ns_at_tsc(u64 tsc)
{
	unsigned int seq;
	u64 ns;

	do {
		seq = read_seqbegin(&ref_lock);
		ns = ref_ns_locked(tsc);
	} while (read_seqretry(&ref_lock, seq));
	return ns;
}

/* Reference counter now (100 ns ticks), from the TSC page. */
u64 sim_ref_now(u64 *tsc)
{
	u64 ref;

	if (compat_read_tsc_page(tsc_pg, tsc, &ref))
		return ref;
	/* page invalid: what the reference counter MSR would say */
	*tsc = rdtsc_ordered();
	return div_u64(sim_ref_ns_at_tsc(*tsc), 100);
}

/* Our hv_read_reference_counter: also records who read it, and when. */
static u64 sim_read_ref(void)
{
	u64 tsc, ref;

	ref = sim_ref_now(&tsc);
	note_read(tsc);
	return ref;
}

#else /* CONFIG_ARM64 */
static __always_inline u64 sim_counter(void)
{
	return arch_timer_read_counter();
}

/*
 * The emulated hypercall: each call takes hc_latency_ns plus a uniform
 * random extra in [0, hc_jitter_ns], hc_entry_pct percent of it before the
 * counter is read (the rest after), with interrupts off as in a hypercall.
 * Writable at run time (under /sys/module/hv_host_sim/parameters).
 */
#define SIM_HC_MAX_NS	1000000U	/* 1 ms: latency and jitter alike */

static unsigned int hc_latency_ns = 1000;
module_param(hc_latency_ns, uint, 0644);
MODULE_PARM_DESC(hc_latency_ns, "arm64: hypercall latency of a reference counter read, ns (0..1000000, default 1000)");

static unsigned int hc_jitter_ns;
module_param(hc_jitter_ns, uint, 0644);
MODULE_PARM_DESC(hc_jitter_ns, "arm64: extra latency, uniform in [0, N] ns (0..1000000, default 0)");

static unsigned int hc_entry_pct = 50;
module_param(hc_entry_pct, uint, 0644);
MODULE_PARM_DESC(hc_entry_pct, "arm64: percent of the latency spent before the counter is read (0..100, default 50)");

/* the jitter's generator, per CPU (xorshift64), apart from the model's */
static DEFINE_PER_CPU(u64, hc_rng);

/*
 * After "tsc_page rate": reference time runs at 1 + ref_ppm / 10^6 against
 * CNTVCT from (ref_cnt, ref_base_ns) on. Before, ref_ppm is 0 and the piece
 * starts at (tsc0, ref_ns0).
 */
static DEFINE_SEQLOCK(ref_lock);
static u64 ref_cnt;
static u64 ref_base_ns;
static s32 ref_ppm;

/* @d counter ticks in ns at 1 + ref_ppm / 10^6 */
static u64 cnt_ns_locked(u64 d)
{
	u64 ns = mul_u64_u64_div_u64(d, NSEC_PER_SEC, cnt_hz);

	return ref_ppm ? mul_u64_u64_div_u64(ns, 1000000 + ref_ppm, 1000000) : ns;
}

static u64 ref_ns_locked(u64 tsc)
{
	if (tsc >= ref_cnt)
		return ref_base_ns + cnt_ns_locked(tsc - ref_cnt);
	return ref_base_ns - cnt_ns_locked(ref_cnt - tsc);
}

u64 sim_ref_ns_at_tsc(u64 tsc)
{
	unsigned int seq;
	u64 ns;

	do {
		seq = read_seqbegin(&ref_lock);
		ns = ref_ns_locked(tsc);
	} while (read_seqretry(&ref_lock, seq));
	return ns;
}

/* Reference counter now (100 ns ticks): no TSC page, the counter itself. */
u64 sim_ref_now(u64 *tsc)
{
	*tsc = sim_counter();
	return div_u64(sim_ref_ns_at_tsc(*tsc), 100);
}

/* ns in counter ticks, rounded up (ns <= 2 ms: no overflow) */
static u64 ns_to_cnt(u64 ns)
{
	return div_u64(ns * cnt_hz + NSEC_PER_SEC - 1, NSEC_PER_SEC);
}

static void spin_cnt(u64 from, u64 ticks)
{
	while (sim_counter() - from < ticks)
		cpu_relax();
}

/*
 * Our hv_read_reference_counter: the hypercall's entry delay, the read
 * (recorded for sim_last_ref_read()), the exit delay.
 */
static u64 sim_read_ref(void)
{
	/* (clamped: the parameters may be written at any time) */
	u64 lat = min(READ_ONCE(hc_latency_ns), SIM_HC_MAX_NS);
	u64 jit = min(READ_ONCE(hc_jitter_ns), SIM_HC_MAX_NS);
	unsigned int pct = min(READ_ONCE(hc_entry_pct), 100U);
	unsigned long flags;
	u64 t0, tsc, ref, entry, *x;

	local_irq_save(flags);
	if (jit) {
		/* xorshift64 */
		x = this_cpu_ptr(&hc_rng);
		*x ^= *x << 13;
		*x ^= *x >> 7;
		*x ^= *x << 17;
		lat += div64_u64(*x, div64_u64(U64_MAX, jit + 1) + 1);
	}
	entry = div_u64(lat * pct, 100);
	t0 = sim_counter();
	spin_cnt(t0, ns_to_cnt(entry));
	ref = sim_ref_now(&tsc);
	spin_cnt(tsc, ns_to_cnt(lat - entry));
	local_irq_restore(flags);
	note_read(tsc);
	return ref;
}
#endif /* CONFIG_X86 */

/* d * ppt / 10^12, truncated toward zero; exact for any d and ppt we use. */
static s64 scale_ppt(s64 d, s64 ppt)
{
	s64 adj = (s64)mul_u64_u64_div_u64(abs(d), abs(ppt), PPT_DEN);

	return (d < 0) != (ppt < 0) ? -adj : adj;
}

/* Host time at @ref_ns on the current piece, before an armed leap. */
static s64 linear_locked(u64 ref_ns)
{
	s64 d = (s64)(ref_ns - base_ref_ns);

	return base_host_ns + d + scale_ppt(d, freq_ppt);
}

/* Host minus UTC at @ref_ns. */
static s64 utc_off_locked(u64 ref_ns)
{
	return utc_off0_ns + scale_ppt((s64)(ref_ns - utc_ref0_ns), utc_drift_ppt);
}

static s64 host_at_locked(u64 ref_ns)
{
	s64 host = linear_locked(ref_ns);

	if (leap_ns && host >= leap_at_ns)
		host += leap_ns;
	return host;
}

s64 sim_host_at(u64 ref_ns)
{
	unsigned int seq;
	s64 host;

	do {
		seq = read_seqbegin(&model_lock);
		host = host_at_locked(ref_ns);
	} while (read_seqretry(&model_lock, seq));
	return host;
}

/* Host time and UTC at @ref_ns, from one state of the model. */
void sim_host_utc_at(u64 ref_ns, s64 *host, s64 *utc)
{
	unsigned int seq;

	do {
		seq = read_seqbegin(&model_lock);
		*host = host_at_locked(ref_ns);
		*utc = *host - utc_off_locked(ref_ns);
	} while (read_seqretry(&model_lock, seq));
}

/*
 * Start a new piece of the model now, of host time and of host minus UTC
 * alike, both continuous. Caller holds model_lock.
 */
static void rebase_locked(void)
{
	u64 now = sim_ref_ns_at_tsc(sim_counter());
	s64 host = linear_locked(now);

	utc_off0_ns = utc_off_locked(now);
	utc_ref0_ns = now;

	/* a leap behind us becomes part of the new piece */
	if (leap_ns && host >= leap_at_ns) {
		host += leap_ns;
		leap_ns = 0;
		leap_at_ns = 0;
	}
	base_host_ns = host;
	base_ref_ns = now;
}

/*
 * Arm a leap second of host UTC at its next midnight (1: insert, the
 * second after 23:59:59 is 23:59:59 again; 2: delete, 23:59:58 is followed
 * by 00:00:00), whatever the date: the host does what it announces. Any
 * other value disarms.
 */
void sim_clock_leap(unsigned int leap)
{
	s64 midnight;

	write_seqlock_bh(&model_lock);
	rebase_locked();
	leap_ns = 0;
	leap_at_ns = 0;
	if ((leap == 1 || leap == 2) && base_host_ns >= 0) {
		midnight = (div64_s64(base_host_ns, SIM_NS_PER_DAY) + 1) *
			   SIM_NS_PER_DAY;
		if (leap == 2)
			midnight -= NSEC_PER_SEC;
		if (base_host_ns < midnight) {
			leap_at_ns = midnight;
			leap_ns = leap == 1 ? -NSEC_PER_SEC : NSEC_PER_SEC;
		}
	}
	write_sequnlock_bh(&model_lock);
}

/* Whether an armed leap second is still ahead. */
bool sim_clock_leap_armed(void)
{
	unsigned int seq;
	bool armed;
	u64 now = sim_ref_ns_at_tsc(sim_counter());

	do {
		seq = read_seqbegin(&model_lock);
		armed = leap_ns && linear_locked(now) < leap_at_ns;
	} while (read_seqretry(&model_lock, seq));
	return armed;
}

/* A step of host time; UTC goes on, so host minus UTC takes the step. */
void sim_clock_step(s64 delta_ns)
{
	write_seqlock_bh(&model_lock);
	rebase_locked();
	base_host_ns += delta_ns;
	utc_off0_ns += delta_ns;
	write_sequnlock_bh(&model_lock);
}

/* A new host rate; UTC's rate stays, so the drift of host minus UTC takes it. */
void sim_clock_set_freq(s64 freq_ppb)
{
	s64 ppt = freq_ppb * PPT_PER_PPB;

	write_seqlock_bh(&model_lock);
	rebase_locked();
	utc_drift_ppt += ppt - freq_ppt;
	freq_ppt = ppt;
	write_sequnlock_bh(&model_lock);
}

/* Host minus UTC is @off_ns from now on; host time is continuous. */
void sim_clock_utc_offset(s64 off_ns)
{
	write_seqlock_bh(&model_lock);
	rebase_locked();
	utc_off0_ns = off_ns;
	write_sequnlock_bh(&model_lock);
}

/* Host minus UTC changes at @drift_ppb from now on (continuous). */
void sim_clock_utc_drift(s64 drift_ppb)
{
	write_seqlock_bh(&model_lock);
	rebase_locked();
	utc_drift_ppt = drift_ppb * PPT_PER_PPB;
	write_sequnlock_bh(&model_lock);
}

/* Host minus UTC now (ns) and its drift (ppt). */
void sim_clock_utc_state(s64 *off_ns, s64 *drift_ppt)
{
	u64 now = sim_ref_ns_at_tsc(sim_counter());
	unsigned int seq;

	do {
		seq = read_seqbegin(&model_lock);
		*off_ns = utc_off_locked(now);
		*drift_ppt = utc_drift_ppt;
	} while (read_seqretry(&model_lock, seq));
}

s64 sim_clock_freq_ppt(void)
{
	return READ_ONCE(freq_ppt);
}

u32 sim_random(void)
{
	unsigned long flags;
	u64 x;

	/* xorshift64* */
	spin_lock_irqsave(&rng_lock, flags);
	x = rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	spin_unlock_irqrestore(&rng_lock, flags);
	return (x * 0x2545f4914f6cdd1dULL) >> 32;
}

/*
 * Approximately standard normal, scaled by 2^16: the sum of 12 uniform
 * variables on [0, 1) minus 6 (Irwin-Hall) has mean 0 and variance 1.
 */
static s64 gauss16(void)
{
	s64 sum = 0;
	int i;

	for (i = 0; i < 12; i++)
		sum += sim_random() & 0xffff;
	return sum - 6 * 65536;
}

/* One random-walk step of the host rate, sigma prm.wander_ppb. */
void sim_clock_wander(void)
{
	s64 step;

	if (!prm.wander_ppb)
		return;
	step = (gauss16() * prm.wander_ppb * PPT_PER_PPB) >> 16;
	write_seqlock_bh(&model_lock);
	rebase_locked();
	freq_ppt += step;
	utc_drift_ppt += step;	/* UTC's rate stays */
	write_sequnlock_bh(&model_lock);
}

/* Error the host makes on one parenttime: white noise plus outliers, ns. */
s64 sim_clock_sample_error_ns(void)
{
	s64 err = 0;

	if (prm.noise_ns)
		err = (gauss16() * prm.noise_ns) >> 16;
	if (prm.outlier_permille && sim_random() % 1000 < prm.outlier_permille)
		err += (sim_random() & 1) ? prm.outlier_ns : -prm.outlier_ns;
	return err;
}

#ifdef CONFIG_X86
static void fill_truth(struct sim_truth *t, u64 tsc)
{
	t->ref = mul_u64_u64_shr(tsc, READ_ONCE(tsc_pg->tsc_scale), 64) +
		 READ_ONCE(tsc_pg->tsc_offset);
	t->ref_ns = sim_ref_ns_at_tsc(tsc);
	sim_host_utc_at(t->ref_ns, &t->host_ns, &t->utc_ns);
}
#else /* CONFIG_ARM64: the ticks our hypercall returns at that counter value */
static void fill_truth(struct sim_truth *t, u64 tsc)
{
	t->ref_ns = sim_ref_ns_at_tsc(tsc);
	t->ref = div_u64(t->ref_ns, 100);
	sim_host_utc_at(t->ref_ns, &t->host_ns, &t->utc_ns);
}
#endif

/*
 * Ground truth from one system snapshot: CLOCK_REALTIME,
 * CLOCK_MONOTONIC_RAW and host time all at the snapshot's counter value.
 * That needs the counter to be mappable to reference time: the TSC (the
 * kernel says so, compat_snapshot_tsc()), or a clocksource whose counter
 * is reference time in ns (hv_ptp_ext's, where it has no read_snapshot():
 * told by bracketing the snapshot with two TSC reads); on any other
 * clocksource (hpet, acpi_pm) the read fails with EIO.
 */
int sim_truth_now(struct sim_truth *t)
{
	struct system_time_snapshot snap;
	u64 pre, post, tsc;
	bool on_tsc;

	pre = sim_counter();
	on_tsc = compat_snapshot_tsc(&snap, &tsc);
	post = sim_counter();
	t->real_ns = ktime_to_ns(compat_snap_real(&snap));
	t->raw_ns = ktime_to_ns(compat_snap_raw(&snap));
	if (on_tsc) {
		fill_truth(t, tsc);
		return 0;
	}
	/* reference time in ns: between the references at pre and post */
	if (sim_ref_ns_at_tsc(pre) <= snap.cycles + 100 &&
	    snap.cycles <= sim_ref_ns_at_tsc(post) + 100) {
		t->ref_ns = snap.cycles;
		t->ref = div_u64(snap.cycles, 100);
		sim_host_utc_at(t->ref_ns, &t->host_ns, &t->utc_ns);
		return 0;
	}
	return -EIO;
}

/*
 * Truth at the instant of the calling task's last reference-counter read on
 * this CPU (for PHCs that read it through hv_read_reference_counter, such as
 * hv_utils'): their error is then exact, without any bracketing window.
 * real_ns/raw_ns are not known there and are returned as 0.
 */
int sim_last_ref_read(struct sim_truth *t)
{
	struct sim_ref_read r;

	r = *get_cpu_ptr(&last_read);
	put_cpu_ptr(&last_read);
	if (r.pid != current->pid || !r.tsc)
		return -ENODATA;
	t->real_ns = 0;
	t->raw_ns = 0;
	fill_truth(t, r.tsc);
	return 0;
}

/* The host clock model's first piece, from reference time ref_ns0 on. */
static void model_start(const struct sim_clock_params *p)
{
	s64 align;

	base_ref_ns = ref_ns0;
	base_host_ns = ktime_get_real_ns() + p->offset_ns;
	/*
	 * Make host and reference time congruent mod 100 ns: with no rate
	 * error and no noise (the ideal profile) every parenttime, taken at
	 * a tick of the reference counter, is then exact.
	 */
	align = ((s64)base_ref_ns - base_host_ns) % 100;
	base_host_ns += align < 0 ? align + 100 : align;
	freq_ppt = p->freq_ppb * PPT_PER_PPB;
	utc_ref0_ns = base_ref_ns;
	utc_off0_ns = p->utc_offset_ns;
	utc_drift_ppt = p->utc_drift_ppb * PPT_PER_PPB;
}

#ifdef CONFIG_X86
/* 2^64 * 10^4 / khz: 100 ns ticks per TSC cycle as a 0.64 fixed-point. */
static u64 tsc_scale_for(u32 tsc_khz)
{
	u64 num = 10000ULL << 32;	/* 10^4 * 2^32 */
	u64 hi = div_u64(num, tsc_khz);
	u64 rem = num - hi * tsc_khz;

	return (hi << 32) | div_u64(rem << 32, tsc_khz);
}

int sim_clock_init(const struct sim_clock_params *p)
{
	u64 scale, ticks0, start;
	int cpu;

	tsc_pg = hv_get_tsc_page();
	if (!tsc_pg)
		return -ENODEV;
	if (READ_ONCE(tsc_pg->tsc_sequence)) {
		pr_err("the TSC page is already valid: is this a real Hyper-V guest?\n");
		return -EBUSY;
	}
	khz = tsc_khz;
	if (khz < 100000) {
		pr_err("TSC frequency unknown or too low (%u kHz)\n", khz);
		return -ENODEV;
	}

	prm = *p;
	rng_state = p->seed ? p->seed : 1;
	for_each_possible_cpu(cpu)
		per_cpu(last_read, cpu).pid = 0;

	/* The reference counter starts near the guest's uptime, as on Hyper-V. */
	scale = tsc_scale_for(khz);
	start = div_u64(ktime_get_boottime_ns(), 100);
	tsc0 = rdtsc_ordered();
	ticks0 = mul_u64_u64_shr(tsc0, scale, 64);
	ref_ns0 = start * 100 + mul_u64_u64_shr(tsc0 * scale, 100, 64);

	tsc_pg->tsc_scale = scale;
	tsc_pg->tsc_offset = (s64)(start - ticks0);
	/* the values before the sequence that makes them valid */
	smp_wmb();
	WRITE_ONCE(tsc_pg->tsc_sequence, 1);

	model_start(p);

	saved_read_ref = hv_read_reference_counter;
	hv_read_reference_counter = sim_read_ref;
	pr_info("TSC page: %u kHz, scale %#llx; reference counter at %llu\n",
		khz, scale, start);
	return 0;
}

/*
 * What the hypervisor does to the TSC page: mark it invalid (sequence 0:
 * readers fall back to the reference counter), make it valid again, or
 * update it (invalid while the values are rewritten, then a new sequence).
 * Reference time itself stays continuous throughout.
 */
void sim_clock_tsc_page(enum sim_tsc_page_op op)
{
	u64 scale = READ_ONCE(ref_paged) ? ref_scale : tsc_pg->tsc_scale;
	s64 offset = READ_ONCE(ref_paged) ? ref_offset : tsc_pg->tsc_offset;

	WRITE_ONCE(tsc_pg->tsc_sequence, 0);
	if (op == SIM_TSC_PAGE_INVALID)
		return;
	/* readers see 0 before the values change */
	smp_wmb();
	WRITE_ONCE(tsc_pg->tsc_scale, scale);
	WRITE_ONCE(tsc_pg->tsc_offset, offset);
	/* the values before the new sequence */
	smp_wmb();
	tsc_seq = tsc_seq + 1 ?: 1;
	WRITE_ONCE(tsc_pg->tsc_sequence, tsc_seq);
}

/*
 * A migration to a host whose TSC runs @ppm fast against the old one's,
 * as the guest sees it: the hypervisor rescales the TSC page (scale by 1 +
 * ppm/10^6, offset so that reference time goes on from where it was, to
 * within the 100 ns tick the offset has), and the guest's TSC-based
 * clocks now run @ppm slow against reference (and host) time. The TSC's
 * own rate cannot change under QEMU; reference time's against it can.
 */
void sim_clock_tsc_rate(s32 ppm)
{
	unsigned long flags;
	u64 tsc, now, scale, cur;
	s64 offset;

	write_seqlock_irqsave(&ref_lock, flags);
	tsc = rdtsc_ordered();
	now = ref_ns_locked(tsc);
	cur = ref_paged ? ref_scale : tsc_pg->tsc_scale;
	scale = mul_u64_u64_div_u64(cur, 1000000 + ppm, 1000000);
	offset = (s64)(div_u64(now, 100) - mul_u64_u64_shr(tsc, scale, 64));
	ref_scale = scale;
	ref_offset = offset;
	ref_paged = true;
	write_sequnlock_irqrestore(&ref_lock, flags);

	WRITE_ONCE(tsc_pg->tsc_sequence, 0);
	/* readers see 0 before the values change */
	smp_wmb();
	WRITE_ONCE(tsc_pg->tsc_scale, scale);
	WRITE_ONCE(tsc_pg->tsc_offset, offset);
	/* the values before the new sequence */
	smp_wmb();
	tsc_seq = tsc_seq + 1 ?: 1;
	WRITE_ONCE(tsc_pg->tsc_sequence, tsc_seq);
	pr_info("TSC page rescaled by %+d ppm: scale %#llx, offset %lld\n",
		ppm, scale, offset);
}

void sim_clock_exit(void)
{
	hv_read_reference_counter = saved_read_ref;
	WRITE_ONCE(tsc_pg->tsc_sequence, 0);
	/* invalid before the values go */
	smp_wmb();
	tsc_pg->tsc_scale = 0;
	tsc_pg->tsc_offset = 0;
}

#else /* CONFIG_ARM64 */
int sim_clock_init(const struct sim_clock_params *p)
{
	int cpu;

	if (hv_is_hyperv_initialized()) {
		pr_err("Hyper-V is initialized: is this a real Hyper-V guest?\n");
		return -EBUSY;
	}
	if (hc_latency_ns > SIM_HC_MAX_NS || hc_jitter_ns > SIM_HC_MAX_NS ||
	    hc_entry_pct > 100) {
		pr_err("hc_latency_ns, hc_jitter_ns (0..%u) or hc_entry_pct (0..100) out of range\n",
		       SIM_HC_MAX_NS);
		return -EINVAL;
	}
	cnt_hz = arch_timer_get_cntfrq();
	if (cnt_hz < 1000000) {
		pr_err("counter frequency unknown or too low (%u Hz)\n", cnt_hz);
		return -ENODEV;
	}

	prm = *p;
	rng_state = p->seed ? p->seed : 1;
	for_each_possible_cpu(cpu) {
		per_cpu(last_read, cpu).pid = 0;
		per_cpu(hc_rng, cpu) = (rng_state + cpu) * 0x9e3779b97f4a7c15ULL ?: 1;
	}

	/* The reference counter starts near the guest's uptime, as on Hyper-V. */
	ref_base_ns = div_u64(ktime_get_boottime_ns(), 100) * 100;
	tsc0 = sim_counter();
	ref_ns0 = ref_base_ns;
	ref_cnt = tsc0;
	ref_ppm = 0;
	model_start(p);

	saved_read_ref = hv_read_reference_counter;
	hv_read_reference_counter = sim_read_ref;
	pr_info("reference counter from CNTVCT at %u Hz, at %llu; hypercall %u ns (+0..%u), %u%% before the read\n",
		cnt_hz, div_u64(ref_ns0, 100), hc_latency_ns, hc_jitter_ns,
		hc_entry_pct);
	return 0;
}

/* No TSC page on arm64: nothing to invalidate or update. */
void sim_clock_tsc_page(enum sim_tsc_page_op op)
{
	pr_info("tsc_page %d ignored: no TSC page on arm64\n", op);
}

/*
 * A migration to a host whose counter runs @ppm fast against the old
 * one's, as the guest sees it: reference time now runs at 1 + ppm/10^6
 * against CNTVCT (which QEMU cannot change), continuous at this instant.
 */
void sim_clock_tsc_rate(s32 ppm)
{
	unsigned long flags;
	u64 tsc, now;

	write_seqlock_irqsave(&ref_lock, flags);
	tsc = sim_counter();
	now = ref_ns_locked(tsc);
	ref_cnt = tsc;
	ref_base_ns = now;
	ref_ppm = ppm;
	write_sequnlock_irqrestore(&ref_lock, flags);
	pr_info("reference time rescaled to %+d ppm against CNTVCT\n", ppm);
}

void sim_clock_exit(void)
{
	hv_read_reference_counter = saved_read_ref;
}
#endif /* CONFIG_X86 */
