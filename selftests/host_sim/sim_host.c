// SPDX-License-Identifier: GPL-2.0
/*
 * hv_host_sim: the host side of the TimeSync protocol.
 *
 * On every channel open the host offers its framework and TimeSync versions;
 * it checks the guest's answer and, once a version is agreed, sends one
 * sample at once and then the shared periodic stream: every interval one
 * sample is taken from the host clock model and queued, identical, to every
 * negotiated device (v4 messages to v4 guests, the older payload otherwise).
 * Every message has a transaction id, and every response the guest sends is
 * matched to what it answers and counted.
 *
 * Run-time control, ground truth and counters are in debugfs, see
 * selftests/host_sim/README.
 */

#include <linux/ctype.h>
#include <linux/debugfs.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "sim.h"

#define SIM_UNSET	LONG_MIN
#define SIM_UTC_OFFSET_MAX	(1000LL * NSEC_PER_SEC)	/* |host - UTC|, ns */
#define SIM_UTC_DRIFT_MAX	1000000LL		/* its rate, ppb */

/* Host clock and sample parameters; SIM_UNSET takes the profile's value. */
static char *profile = "ideal";
module_param(profile, charp, 0444);
MODULE_PARM_DESC(profile, "Host clock profile: ideal, azure, harsh or wander (default ideal)");

static long offset_ns = SIM_UNSET;
module_param(offset_ns, long, 0444);
MODULE_PARM_DESC(offset_ns, "Host time minus guest CLOCK_REALTIME at load, ns");

static long freq_ppb = SIM_UNSET;
module_param(freq_ppb, long, 0444);
MODULE_PARM_DESC(freq_ppb, "Host rate error against the reference counter, ppb (positive: host fast)");

static long wander_ppb = SIM_UNSET;
module_param(wander_ppb, long, 0444);
MODULE_PARM_DESC(wander_ppb, "Random-walk step of the host rate per sample (sigma), ppb");

static long noise_ns = SIM_UNSET;
module_param(noise_ns, long, 0444);
MODULE_PARM_DESC(noise_ns, "White noise on parenttime (sigma), ns");

static long outlier_permille = SIM_UNSET;
module_param(outlier_permille, long, 0444);
MODULE_PARM_DESC(outlier_permille, "Probability of an outlier per sample, 1/1000");

static long outlier_ns = SIM_UNSET;
module_param(outlier_ns, long, 0444);
MODULE_PARM_DESC(outlier_ns, "Outlier size (random sign), ns");

static long pause_at_s = SIM_UNSET;
module_param(pause_at_s, long, 0444);
MODULE_PARM_DESC(pause_at_s, "Scheduled pause: seconds after load (0: none)");

static long pause_s = SIM_UNSET;
module_param(pause_s, long, 0444);
MODULE_PARM_DESC(pause_s, "Scheduled pause: length in seconds; a SYNC sample ends it");

static long step_at_s = SIM_UNSET;
module_param(step_at_s, long, 0444);
MODULE_PARM_DESC(step_at_s, "Scheduled host time step: seconds after load (0: none)");

static long step_ns = SIM_UNSET;
module_param(step_ns, long, 0444);
MODULE_PARM_DESC(step_ns, "Scheduled host time step: size, ns");

static long utc_offset_ns;
module_param(utc_offset_ns, long, 0444);
MODULE_PARM_DESC(utc_offset_ns, "Host time minus UTC at load, ns (|N| <= 1000 s, default 0)");

static long utc_drift_ppb;
module_param(utc_drift_ppb, long, 0444);
MODULE_PARM_DESC(utc_drift_ppb, "Rate of host time minus UTC, ppb (positive: host fast against UTC; default 0)");

static unsigned long long seed = 1;
module_param(seed, ullong, 0444);
MODULE_PARM_DESC(seed, "Seed of the noise, wander and outlier generator (default 1)");

static unsigned int interval_ms = 5000;
module_param(interval_ms, uint, 0444);
MODULE_PARM_DESC(interval_ms, "Sample interval, ms (10..600000, default 5000)");

static unsigned int ts_version = 4;
module_param(ts_version, uint, 0444);
MODULE_PARM_DESC(ts_version, "Highest TimeSync version offered: 4, 3 or 1 (default 4)");

static unsigned int fw_version = 3;
module_param(fw_version, uint, 0444);
MODULE_PARM_DESC(fw_version, "Highest IC framework version offered: 3 or 1 (default 3)");

static unsigned int leap;
module_param(leap, uint, 0444);
MODULE_PARM_DESC(leap, "Initial leapflags in v4 samples (0..3)");

static unsigned int stratum = 2;
module_param(stratum, uint, 0444);
MODULE_PARM_DESC(stratum, "Initial stratum in v4 samples (0..255, default 2)");

static unsigned int devices = 1;
module_param(devices, uint, 0444);
MODULE_PARM_DESC(devices, "TimeSync devices fed from the same sample stream: 1 or 2");

static char *dev1_override = "hv_ptp_ext";
module_param(dev1_override, charp, 0444);
MODULE_PARM_DESC(dev1_override, "driver_override of the second device (hv_utils can bind only one)");

struct sim_profile {
	const char *name;
	s64 offset_ns, freq_ppb, wander_ppb, noise_ns;
	s64 outlier_permille, outlier_ns;
	s64 pause_at_s, pause_s, step_at_s, step_ns;
};

static const struct sim_profile profiles[] = {
	{ .name = "ideal" },
	/* a few ppm, about a microsecond of noise */
	{ .name = "azure", .offset_ns = 2000000, .freq_ppb = 3500,
	  .wander_ppb = 1, .noise_ns = 1000 },
	/*
	 * Tens of ppm, wander, outliers, a pause and a step. The step is
	 * small: until the next sample no guest can know of a step, so one
	 * larger than a tenth of the in-tree PHC's worst error here (~0.9 ms,
	 * from the pause) would make any comparison of maxima meaningless.
	 * Large steps are tested on their own ("step" command).
	 */
	{ .name = "harsh", .offset_ns = -30000000, .freq_ppb = -35000,
	  .wander_ppb = 20, .noise_ns = 5000, .outlier_permille = 50,
	  .outlier_ns = 500000, .pause_at_s = 45, .pause_s = 20,
	  .step_at_s = 90, .step_ns = 50000 },
	/*
	 * azure's clock with a rate that wanders by tenths of a ppm over a
	 * few minutes (a random walk of 35 ppb a sample: at the 3 s interval
	 * the tests use, 20 ppb/sqrt(s)), and 3 % of outliers of 30 us.
	 */
	{ .name = "wander", .offset_ns = 2000000, .freq_ppb = 3500,
	  .wander_ppb = 35, .noise_ns = 1000, .outlier_permille = 30,
	  .outlier_ns = 30000 },
};

/* Offered versions, highest first, as major << 16 | minor. */
static const u32 fw_offer_all[] = { 3 << 16, 1 << 16 };
static const u32 ts_offer_all[] = { 4 << 16, 3 << 16, 1 << 16 };

const char *const sim_kind_names[SIM_K_COUNT] = {
	[SIM_K_NEGOTIATE] = "negotiate",
	[SIM_K_SAMPLE] = "sample",
	[SIM_K_SYNC] = "sync",
	[SIM_K_SHORT] = "short",
	[SIM_K_SHORT_PAYLOAD] = "short_payload",
	[SIM_K_OVERSIZE] = "oversize",
	[SIM_K_WRONG_TYPE] = "wrong_type",
	[SIM_K_BAD_SIZE] = "bad_size",
	[SIM_K_BAD_NEGOTIATION] = "bad_negotiation",
};

static struct sim_profile cfg;		/* the profile with overrides applied */
static struct sim_dev *devs[SIM_MAX_DEVICES];
static unsigned int n_devs;
static struct dentry *dbg_dir;

static DEFINE_MUTEX(host_mutex);	/* tick and control commands */
static struct delayed_work tick_work;
static unsigned long load_jiffies;
static unsigned long pause_until;	/* jiffies; 0: not paused */
static bool pause_scheduled_done, step_scheduled_done;
static u8 cur_leap, cur_stratum;
static unsigned int cur_interval_ms;
static atomic64_t samples_sent;		/* distinct samples of the stream */
static atomic64_t last_sample_ref;	/* their vmreferencetime */

struct sim_ts_msg {
	struct vmbuspipe_hdr pipe;
	struct icmsg_hdr ic;
	union {
		struct ictimesync_ref_data v4;
		struct ictimesync_data v1;
		u8 raw[SIM_PKT_MAX - ICMSG_HDR];
	};
} __packed;

static void ic_header(struct sim_ts_msg *m, struct sim_dev *sd, u16 type,
		      u16 payload)
{
	m->pipe.flags = 0;
	m->pipe.msgsize = sizeof(m->ic) + payload;
	m->ic.icverframe.major = sd->fw_version >> 16;
	m->ic.icverframe.minor = sd->fw_version & 0xffff;
	m->ic.icvermsg.major = sd->ts_version >> 16;
	m->ic.icvermsg.minor = sd->ts_version & 0xffff;
	m->ic.icmsgtype = type;
	m->ic.icmsgsize = payload;
	m->ic.status = HV_S_OK;
	m->ic.ictransaction_id = 0;
	m->ic.icflags = ICMSGHDRFLAG_TRANSACTION | ICMSGHDRFLAG_REQUEST;
}

/* A sample of the host clock now: parenttime and the reference tick. */
struct sim_sample {
	u64 parenttime;		/* 100 ns since 1601, with the host's error */
	u64 ref;		/* 100 ns ticks */
	s64 err_ns;		/* parenttime minus the true host time */
	s64 host_ns;		/* the true host time, ns */
};

/*
 * The last samples sent, the stream's and those a device gets alone when
 * its negotiation completes, for the "samples" file.
 */
#define SAMPLE_LOG	256
static struct {
	u64 n, ref_ns;
	s64 err_ns, host_ns;
	unsigned int devs;	/* devices it was sent to */
} sample_log[SAMPLE_LOG];
static u64 samples_logged;	/* under sample_log_lock */
static DEFINE_SPINLOCK(sample_log_lock);

static struct sim_sample sim_take_sample(void)
{
	struct sim_sample s;
	u64 tsc;
	s64 host;

	/*
	 * The sample instant is the moment the reference counter turned to
	 * s.ref, so both fields describe exactly the same instant.
	 */
	s64 truth;

	s.ref = sim_ref_now(&tsc);
	truth = sim_host_at(s.ref * 100);
	host = truth + sim_clock_sample_error_ns();
	s.parenttime = WLTIMEDELTA + DIV_ROUND_CLOSEST(host, 100);
	s.err_ns = (s64)(s.parenttime - WLTIMEDELTA) * 100 - truth;
	s.host_ns = truth;
	return s;
}

/* The leap indicator now: the host clears it once its leap is done. */
static u8 leap_indicator(void)
{
	u8 leap = READ_ONCE(cur_leap);

	if ((leap == 1 || leap == 2) && !sim_clock_leap_armed()) {
		leap = 0;
		WRITE_ONCE(cur_leap, 0);
	}
	return leap;
}

static u16 ts_payload(struct sim_ts_msg *m, struct sim_dev *sd,
		      const struct sim_sample *s, u8 flags)
{
	if (sd->ts_version >= (4 << 16)) {
		m->v4.parenttime = s->parenttime;
		m->v4.vmreferencetime = s->ref;
		m->v4.flags = flags;
		m->v4.leapflags = leap_indicator();
		m->v4.stratum = READ_ONCE(cur_stratum);
		memset(m->v4.reserved, 0, sizeof(m->v4.reserved));
		return sizeof(m->v4);
	}
	m->v1.parenttime = s->parenttime;
	m->v1.childtime = 0;
	m->v1.roundtriptime = 0;
	m->v1.flags = flags;
	return sizeof(m->v1);
}

static bool sim_dev_ready(struct sim_dev *sd)
{
	return READ_ONCE(sd->opened) && READ_ONCE(sd->negotiated);
}

/* Queue one time message of @kind built on @s to @sd. */
static void send_time_msg(struct sim_dev *sd, const struct sim_sample *s,
			  enum sim_kind kind)
{
	struct sim_ts_msg *m;
	u32 total;
	u16 len;

	m = kzalloc(sizeof(*m), GFP_ATOMIC);
	if (!m)
		return;
	len = ts_payload(m, sd, s, kind == SIM_K_SYNC ? ICTIMESYNCFLAG_SYNC :
							ICTIMESYNCFLAG_SAMPLE);
	ic_header(m, sd, ICMSGTYPE_TIMESYNC, len);
	switch (kind) {
	case SIM_K_SHORT:
		len = 0;
		break;
	case SIM_K_SHORT_PAYLOAD:
		len = 8;
		m->ic.icmsgsize = len;
		m->pipe.msgsize = sizeof(m->ic) + len;
		break;
	case SIM_K_OVERSIZE:
		len = sizeof(m->raw);
		m->ic.icmsgsize = len;
		m->pipe.msgsize = sizeof(m->ic) + len;
		break;
	case SIM_K_WRONG_TYPE:
		m->ic.icmsgtype = 42;
		break;
	case SIM_K_BAD_SIZE:
		m->ic.icmsgsize = 200;
		m->pipe.msgsize = 3;
		break;
	default:
		break;
	}
	/* short: 16 bytes in all, less than the two headers */
	total = kind == SIM_K_SHORT ? 16 : ICMSG_HDR + len;
	sim_dev_enqueue(sd, m, total, kind);
	kfree(m);
}

/* One sample of the stream to every negotiated device (or just @only). */
static void send_sample(enum sim_kind kind, struct sim_dev *only)
{
	struct sim_sample s = sim_take_sample();
	unsigned int i, sent = 0;
	unsigned long flags;
	u64 n;

	for (i = 0; i < n_devs; i++)
		if ((!only || devs[i] == only) && sim_dev_ready(devs[i])) {
			send_time_msg(devs[i], &s, kind);
			sent++;
		}
	if (!only) {
		atomic64_inc(&samples_sent);
		atomic64_set(&last_sample_ref, s.ref);
	}
	spin_lock_irqsave(&sample_log_lock, flags);
	n = ++samples_logged;
	sample_log[n % SAMPLE_LOG].n = n;
	sample_log[n % SAMPLE_LOG].ref_ns = s.ref * 100;
	sample_log[n % SAMPLE_LOG].err_ns = s.err_ns;
	sample_log[n % SAMPLE_LOG].host_ns = s.host_ns;
	sample_log[n % SAMPLE_LOG].devs = sent;
	spin_unlock_irqrestore(&sample_log_lock, flags);
}

static void send_negotiate(struct sim_dev *sd, bool malformed)
{
	struct {
		struct vmbuspipe_hdr pipe;
		struct icmsg_hdr ic;
		struct icmsg_negotiate neg;
		struct ic_version v[ARRAY_SIZE(fw_offer_all) +
				    ARRAY_SIZE(ts_offer_all)];
	} __packed m = {};
	unsigned int i, n = 0, nfw = 0;
	u32 fw_max = READ_ONCE(fw_version) << 16;
	u32 ts_max = READ_ONCE(ts_version) << 16;

	for (i = 0; i < ARRAY_SIZE(fw_offer_all); i++)
		if (fw_offer_all[i] <= fw_max) {
			m.v[n].major = fw_offer_all[i] >> 16;
			m.v[n++].minor = fw_offer_all[i] & 0xffff;
		}
	nfw = n;
	for (i = 0; i < ARRAY_SIZE(ts_offer_all); i++)
		if (ts_offer_all[i] <= ts_max) {
			m.v[n].major = ts_offer_all[i] >> 16;
			m.v[n++].minor = ts_offer_all[i] & 0xffff;
		}
	m.pipe.msgsize = sizeof(m.ic) + sizeof(m.neg) + n * sizeof(m.v[0]);
	m.ic.icverframe.major = 1;
	m.ic.icvermsg.major = 1;
	m.ic.icmsgtype = ICMSGTYPE_NEGOTIATE;
	m.ic.icmsgsize = sizeof(m.neg) + n * sizeof(m.v[0]);
	m.ic.icflags = ICMSGHDRFLAG_TRANSACTION | ICMSGHDRFLAG_REQUEST;
	m.neg.icframe_vercnt = nfw;
	m.neg.icmsg_vercnt = n - nfw;
	if (malformed) {
		/* counts far beyond what the packet carries */
		m.neg.icframe_vercnt = 1000;
		m.neg.icmsg_vercnt = 1000;
	}
	sim_dev_enqueue(sd, &m, ICMSG_HDR + m.ic.icmsgsize,
			malformed ? SIM_K_BAD_NEGOTIATION : SIM_K_NEGOTIATE);
}

void sim_host_channel_opened(struct sim_dev *sd)
{
	send_negotiate(sd, false);
}

static bool offered(const u32 *list, size_t n, u32 max, u32 v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i] <= max && list[i] == v)
			return true;
	return false;
}

/* The guest answered @txid with @buf. Runs in the guest's callback context. */
void sim_host_response(struct sim_dev *sd, const u8 *buf, u32 len, u64 txid)
{
	const struct icmsg_hdr *ic = (const void *)(buf + sizeof(struct vmbuspipe_hdr));
	const struct icmsg_negotiate *neg = (const void *)(buf + ICMSG_HDR);
	bool first_sample = false;
	unsigned long flags;
	enum sim_kind kind;
	u32 fw, ts;

	spin_lock_irqsave(&sd->lock, flags);
	if (len < ICMSG_HDR || !sd->pending[txid % SIM_TXID_SLOTS].used ||
	    sd->pending[txid % SIM_TXID_SLOTS].txid != txid ||
	    ic->icflags != (ICMSGHDRFLAG_TRANSACTION | ICMSGHDRFLAG_RESPONSE)) {
		sd->st.bad_responses++;
		goto out;
	}
	kind = sd->pending[txid % SIM_TXID_SLOTS].kind;
	sd->pending[txid % SIM_TXID_SLOTS].used = false;
	sd->st.answered[kind]++;
	if (ic->status != HV_S_OK)
		sd->st.answered_fail[kind]++;
	if (kind != SIM_K_NEGOTIATE)
		goto out;

	if (len < ICMSG_NEGOTIATE_PKT_SIZE(2, 0)) {
		sd->st.nego_bad++;
		goto out;
	}
	if (!neg->icframe_vercnt && !neg->icmsg_vercnt) {
		sd->st.nego_refused++;
		goto out;
	}
	fw = neg->icversion_data[0].major << 16 | neg->icversion_data[0].minor;
	ts = neg->icversion_data[1].major << 16 | neg->icversion_data[1].minor;
	if (neg->icframe_vercnt != 1 || neg->icmsg_vercnt != 1 ||
	    !offered(fw_offer_all, ARRAY_SIZE(fw_offer_all), fw_version << 16, fw) ||
	    !offered(ts_offer_all, ARRAY_SIZE(ts_offer_all), ts_version << 16, ts)) {
		sd->st.nego_bad++;
		goto out;
	}
	sd->st.nego_ok++;
	sd->fw_version = fw;
	sd->ts_version = ts;
	first_sample = !sd->negotiated;
	WRITE_ONCE(sd->negotiated, true);
out:
	spin_unlock_irqrestore(&sd->lock, flags);
	/* Hyper-V sends a sample as soon as the channel is up. */
	if (first_sample)
		send_sample(SIM_K_SAMPLE, sd);
}

static void inject(enum sim_kind kind, unsigned int count, int dev)
{
	struct sim_sample s;
	unsigned int n;
	int i;

	for (n = 0; n < count; n++) {
		s = sim_take_sample();
		for (i = 0; i < (int)n_devs; i++) {
			if ((dev >= 0 && dev != i) || !sim_dev_ready(devs[i]))
				continue;
			if (kind == SIM_K_BAD_NEGOTIATION)
				send_negotiate(devs[i], true);
			else
				send_time_msg(devs[i], &s, kind);
		}
	}
}

/*
 * Floods: @rate messages of one kind a second for @seconds, paced against
 * ktime at every jiffy so that the average rate is exact whatever the
 * tick; a message that does not fit the device's queue is dropped and
 * counted (queue_drops), as the ring would refuse it.
 */
static struct delayed_work flood_work;
static struct {
	enum sim_kind kind;
	u32 rate;
	u64 start_ns, end_ns;
	u64 done;			/* messages (or samples) sent so far */
	bool active;
} flood;

static void flood_send(u64 n)
{
	while (n--) {
		if (flood.kind == SIM_K_SAMPLE)
			send_sample(SIM_K_SAMPLE, NULL);
		else
			inject(flood.kind, 1, -1);
		flood.done++;
	}
}

static void sim_flood(struct work_struct *w)
{
	u64 now = ktime_get_ns(), target;

	mutex_lock(&host_mutex);
	if (!flood.active)
		goto out;
	if (now > flood.end_ns)
		now = flood.end_ns;
	target = div_u64((now - flood.start_ns) * flood.rate, NSEC_PER_SEC);
	/* a late tick catches up, but by a bounded amount each time */
	flood_send(min_t(u64, target - flood.done, 4096));
	if (now >= flood.end_ns && flood.done >= target) {
		flood.active = false;
		pr_info("flood: %llu %s messages sent\n", flood.done,
			sim_kind_names[flood.kind]);
		goto out;
	}
	schedule_delayed_work(&flood_work, 1);
out:
	mutex_unlock(&host_mutex);
}

static void start_flood(enum sim_kind kind, u32 rate, u32 seconds)
{
	flood.kind = kind;
	flood.rate = rate;
	flood.start_ns = ktime_get_ns();
	flood.end_ns = flood.start_ns + (u64)seconds * NSEC_PER_SEC;
	flood.done = 0;
	flood.active = true;
	pr_info("flood: %u %s messages a second for %u s\n", rate,
		sim_kind_names[kind], seconds);
	mod_delayed_work(system_wq, &flood_work, 0);
}

static unsigned long next_tick_delay(void)
{
	unsigned long d = msecs_to_jiffies(READ_ONCE(cur_interval_ms));

	if (pause_until && time_before(pause_until, jiffies + d))
		d = time_after(pause_until, jiffies) ? pause_until - jiffies : 0;
	return d;
}

static void start_pause(unsigned int seconds)
{
	pause_until = jiffies + msecs_to_jiffies(MSEC_PER_SEC * seconds) ?: 1;
	pr_info("pause: no samples for %u s, then SYNC\n", seconds);
}

static void sim_tick(struct work_struct *w)
{
	unsigned long since = jiffies - load_jiffies;

	mutex_lock(&host_mutex);
	if (cfg.pause_at_s && !pause_scheduled_done &&
	    since >= msecs_to_jiffies(MSEC_PER_SEC * cfg.pause_at_s)) {
		pause_scheduled_done = true;
		start_pause(cfg.pause_s);
	}
	if (cfg.step_at_s && !step_scheduled_done &&
	    since >= msecs_to_jiffies(MSEC_PER_SEC * cfg.step_at_s)) {
		step_scheduled_done = true;
		sim_clock_step(cfg.step_ns);
		pr_info("host time stepped by %lld ns\n", cfg.step_ns);
	}
	if (pause_until) {
		if (time_before(jiffies, pause_until))
			goto out;
		pause_until = 0;
		sim_clock_wander();
		send_sample(SIM_K_SYNC, NULL);
		goto out;
	}
	sim_clock_wander();
	send_sample(SIM_K_SAMPLE, NULL);
out:
	schedule_delayed_work(&tick_work, next_tick_delay());
	mutex_unlock(&host_mutex);
}

/* Control file: one command per line. */
static int sim_command(char *line)
{
	char cmd[16], arg[24];
	long long v = 0, v2 = 1, v3 = -1;
	int n, i;

	n = sscanf(line, "%15s %lld %lld %lld", cmd, &v, &v2, &v3);
	if (n < 1)
		return 0;
	if (!strcmp(cmd, "pause") && n == 2 && v > 0 && v <= 86400) {
		start_pause(v);
	} else if (!strcmp(cmd, "step") && n == 2) {
		sim_clock_step(v);
		pr_info("host time stepped by %lld ns\n", v);
	} else if (!strcmp(cmd, "freq") && n == 2 && abs(v) <= 1000000) {
		sim_clock_set_freq(v);
	} else if (!strcmp(cmd, "utc_offset") && n == 2 &&
		   v >= -SIM_UTC_OFFSET_MAX && v <= SIM_UTC_OFFSET_MAX) {
		sim_clock_utc_offset(v);
		pr_info("host time minus UTC set to %lld ns\n", v);
	} else if (!strcmp(cmd, "utc_drift") && n == 2 &&
		   v >= -SIM_UTC_DRIFT_MAX && v <= SIM_UTC_DRIFT_MAX) {
		sim_clock_utc_drift(v);
		pr_info("host time minus UTC drifts at %lld ppb\n", v);
	} else if (!strcmp(cmd, "sample") && n == 1) {
		send_sample(SIM_K_SAMPLE, NULL);
	} else if (!strcmp(cmd, "sync") && n == 1) {
		send_sample(SIM_K_SYNC, NULL);
	} else if (!strcmp(cmd, "leap") && n == 2 && v >= 0 && v <= 3) {
		WRITE_ONCE(cur_leap, v);
		sim_clock_leap(v);
	} else if (!strcmp(cmd, "stratum") && n == 2 && v >= 0 && v <= 255) {
		WRITE_ONCE(cur_stratum, v);
	} else if (!strcmp(cmd, "interval") && n == 2 && v >= 10 && v <= 600000) {
		WRITE_ONCE(cur_interval_ms, v);
		mod_delayed_work(system_wq, &tick_work, next_tick_delay());
	} else if (!strcmp(cmd, "tsc_page")) {
		n = sscanf(line, "%15s %23s %lld", cmd, arg, &v2);
		if (n == 2 && !strcmp(arg, "invalid"))
			sim_clock_tsc_page(SIM_TSC_PAGE_INVALID);
		else if (n == 2 && !strcmp(arg, "valid"))
			sim_clock_tsc_page(SIM_TSC_PAGE_VALID);
		else if (n == 2 && !strcmp(arg, "update"))
			sim_clock_tsc_page(SIM_TSC_PAGE_UPDATE);
		else if (n == 3 && !strcmp(arg, "rate") &&
			 v2 >= -100000 && v2 <= 100000)
			sim_clock_tsc_rate(v2);
		else
			goto bad;
	} else if (!strcmp(cmd, "offer") && n == 3 &&
		   (v == 1 || v == 3 || v == 4) && (v2 == 1 || v2 == 3)) {
		/* from the next negotiation on (a channel re-open) */
		WRITE_ONCE(ts_version, v);
		WRITE_ONCE(fw_version, v2);
	} else if (!strcmp(cmd, "flood")) {
		n = sscanf(line, "%15s %23s %lld %lld", cmd, arg, &v2, &v3);
		for (i = SIM_K_SAMPLE; i < SIM_K_COUNT; i++)
			if (n == 4 && i != SIM_K_SYNC && !strcmp(arg, sim_kind_names[i]))
				break;
		if (i == SIM_K_COUNT || v2 < 1 || v2 > 100000 || v3 < 1 || v3 > 3600) {
			pr_warn("control: usage: flood CLASS|sample RATE SECONDS\n");
			return -EINVAL;
		}
		start_flood(i, v2, v3);
	} else if (!strcmp(cmd, "flood_stop") && n == 1) {
		flood.active = false;
	} else if (!strcmp(cmd, "inject")) {
		n = sscanf(line, "%15s %23s %lld %lld", cmd, arg, &v2, &v3);
		for (i = SIM_K_SHORT; i < SIM_K_COUNT; i++)
			if (n >= 2 && !strcmp(arg, sim_kind_names[i]))
				break;
		if (i == SIM_K_COUNT || v2 < 1 || v2 > 100000 ||
		    v3 < -1 || v3 >= (long long)n_devs) {
			pr_warn("control: usage: inject CLASS [COUNT [DEVICE]]\n");
			return -EINVAL;
		}
		inject(i, v2, v3);
	} else {
		goto bad;
	}
	return 0;
bad:
	pr_warn("control: invalid command or value: \"%s\"\n", line);
	return -EINVAL;
}

static ssize_t control_write(struct file *f, const char __user *ubuf,
			     size_t len, loff_t *ppos)
{
	char *buf, *line, *cur;
	int ret = 0;

	if (len > 4096)
		return -E2BIG;
	buf = memdup_user_nul(ubuf, len);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	cur = buf;
	mutex_lock(&host_mutex);
	while ((line = strsep(&cur, "\n;")) && !ret)
		ret = sim_command(strim(line));
	mutex_unlock(&host_mutex);
	kfree(buf);
	return ret ? ret : len;
}

static const struct file_operations control_fops = {
	.owner = THIS_MODULE,
	.write = control_write,
	.llseek = noop_llseek,
};

/* Every read at offset 0 takes a new reading; see the README. */
static ssize_t truth_read(struct file *f, char __user *ubuf, size_t len,
			  loff_t *ppos)
{
	bool last = file_inode(f)->i_private;
	struct sim_truth t;
	char buf[200];
	int n, ret;

	if (*ppos)
		return 0;
	ret = last ? sim_last_ref_read(&t) : sim_truth_now(&t);
	if (ret)
		return ret;
	n = scnprintf(buf, sizeof(buf), "%lld %lld %llu %llu %lld %lld %lld\n",
		      t.real_ns, t.raw_ns, t.ref, t.ref_ns, t.host_ns,
		      (long long)atomic64_read(&samples_sent), t.utc_ns);
	return simple_read_from_buffer(ubuf, len, ppos, buf, n);
}

static const struct file_operations truth_fops = {
	.owner = THIS_MODULE,
	.read = truth_read,
	.llseek = default_llseek,
};

static int samples_show(struct seq_file *s, void *unused)
{
	unsigned long flags;
	unsigned int devs;
	s64 err, host;
	u64 last, n, ref;

	spin_lock_irqsave(&sample_log_lock, flags);
	last = samples_logged;
	spin_unlock_irqrestore(&sample_log_lock, flags);
	n = last > SAMPLE_LOG ? last - SAMPLE_LOG + 1 : 1;
	for (; n <= last; n++) {
		spin_lock_irqsave(&sample_log_lock, flags);
		ref = sample_log[n % SAMPLE_LOG].ref_ns;
		err = sample_log[n % SAMPLE_LOG].err_ns;
		host = sample_log[n % SAMPLE_LOG].host_ns;
		devs = sample_log[n % SAMPLE_LOG].devs;
		if (sample_log[n % SAMPLE_LOG].n != n)
			ref = 0;
		spin_unlock_irqrestore(&sample_log_lock, flags);
		if (ref)
			seq_printf(s, "%llu %llu %lld %lld %u\n", n, ref, err, host, devs);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(samples);

static int stats_show(struct seq_file *s, void *unused)
{
	unsigned int i, k;
	s64 utc_off, utc_ppt;

	seq_printf(s, "profile %s\n", cfg.name);
	seq_printf(s, "samples_sent %lld\n", (long long)atomic64_read(&samples_sent));
	seq_printf(s, "last_sample_ref %lld\n", (long long)atomic64_read(&last_sample_ref));
	seq_printf(s, "freq_ppt %lld\n", sim_clock_freq_ppt());
	sim_clock_utc_state(&utc_off, &utc_ppt);
	seq_printf(s, "utc_offset_ns %lld\n", utc_off);
	seq_printf(s, "utc_drift_ppb %lld\n", div_s64(utc_ppt, 1000));
	seq_printf(s, "utc_drift_ppt %lld\n", utc_ppt);
	seq_printf(s, "interval_ms %u\n", READ_ONCE(cur_interval_ms));
	seq_printf(s, "noise_ns %lld\nwander_ppb %lld\noutlier_permille %lld\noutlier_ns %lld\n",
		   cfg.noise_ns, cfg.wander_ppb, cfg.outlier_permille, cfg.outlier_ns);
	seq_printf(s, "paused %d\n", !!READ_ONCE(pause_until));
	seq_printf(s, "leap %u\nstratum %u\n", cur_leap, cur_stratum);
	mutex_lock(&host_mutex);
	seq_printf(s, "flood.kind %s\nflood.rate %u\nflood.sent %llu\nflood.active %d\n",
		   sim_kind_names[flood.kind], flood.rate, flood.done, flood.active);
	mutex_unlock(&host_mutex);
	for (i = 0; i < n_devs; i++) {
		struct sim_dev *sd = devs[i];
		struct sim_dev_stats st;
		struct device_driver *drv;
		unsigned long flags;
		bool opened, nego;
		u32 fw, ts;

		spin_lock_irqsave(&sd->lock, flags);
		st = sd->st;
		opened = sd->opened;
		nego = sd->negotiated;
		fw = sd->fw_version;
		ts = sd->ts_version;
		spin_unlock_irqrestore(&sd->lock, flags);
		drv = READ_ONCE(sd->hdev.device.driver);

		seq_printf(s, "dev%u.name %s\n", i, dev_name(&sd->hdev.device));
		seq_printf(s, "dev%u.driver %s\n", i, drv ? drv->name : "none");
		seq_printf(s, "dev%u.opened %d\n", i, opened);
		seq_printf(s, "dev%u.negotiated %d\n", i, nego);
		seq_printf(s, "dev%u.fw_version %u.%u\n", i, fw >> 16, fw & 0xffff);
		seq_printf(s, "dev%u.ts_version %u.%u\n", i, ts >> 16, ts & 0xffff);
		for (k = 0; k < SIM_K_COUNT; k++) {
			seq_printf(s, "dev%u.sent.%s %llu\n", i, sim_kind_names[k], st.sent[k]);
			seq_printf(s, "dev%u.answered.%s %llu\n", i, sim_kind_names[k],
				   st.answered[k]);
			seq_printf(s, "dev%u.answered_fail.%s %llu\n", i, sim_kind_names[k],
				   st.answered_fail[k]);
		}
		seq_printf(s, "dev%u.bad_responses %llu\n", i, st.bad_responses);
		seq_printf(s, "dev%u.queue_drops %llu\n", i, st.queue_drops);
		seq_printf(s, "dev%u.nego_ok %llu\n", i, st.nego_ok);
		seq_printf(s, "dev%u.nego_refused %llu\n", i, st.nego_refused);
		seq_printf(s, "dev%u.nego_bad %llu\n", i, st.nego_bad);
		seq_printf(s, "dev%u.opens %llu\n", i, st.opens);
		seq_printf(s, "dev%u.closes %llu\n", i, st.closes);
		seq_printf(s, "dev%u.pm_suspends %llu\n", i, st.pm_suspends);
		seq_printf(s, "dev%u.pm_resumes %llu\n", i, st.pm_resumes);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(stats);

static bool sim_param_ok(const char *name, s64 v, s64 lo, s64 hi)
{
	if (v >= lo && v <= hi)
		return true;
	pr_err("%s=%lld: out of range (%lld..%lld)\n", name, v, lo, hi);
	return false;
}

static s64 pick(s64 param, s64 prof)
{
	return param == SIM_UNSET ? prof : param;
}

static int sim_config(void)
{
	const struct sim_profile *p = NULL;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(profiles); i++)
		if (!strcmp(profile, profiles[i].name))
			p = &profiles[i];
	if (!p) {
		pr_err("profile=%s: unknown (ideal, azure, harsh or wander)\n", profile);
		return -EINVAL;
	}
	cfg.name = p->name;
	cfg.offset_ns = pick(offset_ns, p->offset_ns);
	cfg.freq_ppb = pick(freq_ppb, p->freq_ppb);
	cfg.wander_ppb = pick(wander_ppb, p->wander_ppb);
	cfg.noise_ns = pick(noise_ns, p->noise_ns);
	cfg.outlier_permille = pick(outlier_permille, p->outlier_permille);
	cfg.outlier_ns = pick(outlier_ns, p->outlier_ns);
	cfg.pause_at_s = pick(pause_at_s, p->pause_at_s);
	cfg.pause_s = pick(pause_s, p->pause_s);
	cfg.step_at_s = pick(step_at_s, p->step_at_s);
	cfg.step_ns = pick(step_ns, p->step_ns);

	if (!sim_param_ok("freq_ppb", cfg.freq_ppb, -1000000, 1000000) ||
	    !sim_param_ok("offset_ns", cfg.offset_ns, -1000000LL * NSEC_PER_SEC,
		      1000000LL * NSEC_PER_SEC) ||
	    !sim_param_ok("wander_ppb", cfg.wander_ppb, 0, 100000) ||
	    !sim_param_ok("noise_ns", cfg.noise_ns, 0, NSEC_PER_SEC) ||
	    !sim_param_ok("outlier_permille", cfg.outlier_permille, 0, 1000) ||
	    !sim_param_ok("outlier_ns", cfg.outlier_ns, -100LL * NSEC_PER_SEC,
		      100LL * NSEC_PER_SEC) ||
	    !sim_param_ok("pause_at_s", cfg.pause_at_s, 0, 86400) ||
	    !sim_param_ok("pause_s", cfg.pause_s, cfg.pause_at_s ? 1 : 0, 86400) ||
	    !sim_param_ok("step_at_s", cfg.step_at_s, 0, 86400) ||
	    !sim_param_ok("interval_ms", interval_ms, 10, 600000) ||
	    !sim_param_ok("leap", leap, 0, 3) ||
	    !sim_param_ok("stratum", stratum, 0, 255) ||
	    !sim_param_ok("devices", devices, 1, SIM_MAX_DEVICES) ||
	    !sim_param_ok("utc_offset_ns", utc_offset_ns, -SIM_UTC_OFFSET_MAX,
			  SIM_UTC_OFFSET_MAX) ||
	    !sim_param_ok("utc_drift_ppb", utc_drift_ppb, -SIM_UTC_DRIFT_MAX,
			  SIM_UTC_DRIFT_MAX))
		return -EINVAL;
	if (ts_version != 4 && ts_version != 3 && ts_version != 1) {
		pr_err("ts_version=%u: must be 4, 3 or 1\n", ts_version);
		return -EINVAL;
	}
	if (fw_version != 3 && fw_version != 1) {
		pr_err("fw_version=%u: must be 3 or 1\n", fw_version);
		return -EINVAL;
	}
	return 0;
}

static int __init sim_init(void)
{
	struct sim_clock_params cp;
	unsigned int i;
	int ret;

	ret = sim_config();
	if (ret)
		return ret;
	cp = (struct sim_clock_params) {
		.offset_ns = cfg.offset_ns, .freq_ppb = cfg.freq_ppb,
		.wander_ppb = cfg.wander_ppb, .noise_ns = cfg.noise_ns,
		.outlier_permille = cfg.outlier_permille,
		.outlier_ns = cfg.outlier_ns, .seed = seed,
		.utc_offset_ns = utc_offset_ns, .utc_drift_ppb = utc_drift_ppb,
	};
	cur_leap = leap;
	cur_stratum = stratum;
	cur_interval_ms = interval_ms;
	load_jiffies = jiffies;
	INIT_DELAYED_WORK(&tick_work, sim_tick);
	INIT_DELAYED_WORK(&flood_work, sim_flood);

	ret = sim_clock_init(&cp);
	if (ret)
		return ret;
	sim_clock_leap(leap);
	ret = sim_bus_init();
	if (ret)
		goto err_clock;
	for (i = 0; i < devices; i++) {
		devs[i] = sim_dev_add(i, i == 1 ? dev1_override : NULL);
		if (IS_ERR(devs[i])) {
			ret = PTR_ERR(devs[i]);
			goto err_devs;
		}
		n_devs++;
	}

	dbg_dir = debugfs_create_dir("hv_host_sim", NULL);
	debugfs_create_file("control", 0200, dbg_dir, NULL, &control_fops);
	debugfs_create_file("truth", 0444, dbg_dir, NULL, &truth_fops);
	debugfs_create_file("last_ref", 0444, dbg_dir, (void *)1, &truth_fops);
	debugfs_create_file("stats", 0444, dbg_dir, NULL, &stats_fops);
	debugfs_create_file("samples", 0444, dbg_dir, NULL, &samples_fops);

	schedule_delayed_work(&tick_work, msecs_to_jiffies(interval_ms));
	pr_info("profile %s: offset %lld ns, freq %lld ppb, wander %lld ppb, noise %lld ns, outliers %lld/1000 of %lld ns, interval %u ms, TimeSync <= %u.0, %u device(s), host - UTC %ld ns drifting %ld ppb\n",
		cfg.name, cfg.offset_ns, cfg.freq_ppb, cfg.wander_ppb,
		cfg.noise_ns, cfg.outlier_permille, cfg.outlier_ns,
		interval_ms, ts_version, devices, utc_offset_ns, utc_drift_ppb);
	return 0;

err_devs:
	while (n_devs)
		sim_dev_remove(devs[--n_devs]);
	sim_bus_exit();
err_clock:
	sim_clock_exit();
	return ret;
}

static void __exit sim_exit(void)
{
	debugfs_remove_recursive(dbg_dir);
	cancel_delayed_work_sync(&tick_work);
	mutex_lock(&host_mutex);
	flood.active = false;
	mutex_unlock(&host_mutex);
	cancel_delayed_work_sync(&flood_work);
	while (n_devs)
		sim_dev_remove(devs[--n_devs]);
	sim_bus_exit();
	sim_clock_exit();
}

module_init(sim_init);
module_exit(sim_exit);

MODULE_DESCRIPTION("Simulated Hyper-V host for TimeSync tests (test only)");
MODULE_LICENSE("GPL");
