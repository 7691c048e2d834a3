// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: kernel/timesync.c and kernel/clock_model.c, built
 * unchanged for the host, driven the way vmbus.c drives them.
 *
 * The input is a few parameter bytes, then a sequence of records, each a
 * step of a guest's life: a raw TimeSync buffer as the ring would deliver
 * it (any version, any content), a well-formed sample of a host clock with
 * noise, steps and leap flags (so the model's deep states are reached), a
 * passage of reference time, or a channel re-open with a new negotiated
 * version. After every step the invariants are checked, and a violation
 * aborts with a message:
 *
 *  - the parser returns a known verdict; every buffer is either taken or
 *    counted under exactly one reason, as vmbus.c counts it;
 *  - the model's published time is continuous across a sample that is not
 *    a step (the new model reads what the old one read at that instant),
 *    and monotonic in reference time between samples, leap seconds aside;
 *  - the error bound never wraps (it is unsigned: "negative" would show as
 *    a huge value) and never shrinks with distance from the anchor;
 *  - state and leap queries return known values.
 *
 * ASan and UBSan (-fsanitize=fuzzer,address,undefined) catch the rest: a
 * buffer is copied to an allocation of exactly its length, so any read
 * past it is reported.
 */
#include <stdio.h>
#include <stdlib.h>

#include "clock_model.h"
#include "timesync.h"

#define NS_PER_SEC	1000000000LL
/* 2026-01-01T00:00:00Z: the synthetic host clock's start */
#define HOST_START_NS	1767225600000000000LL

struct input {
	const uint8_t *p;
	size_t left;
};

static uint64_t take(struct input *in, unsigned int bytes)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < bytes && in->left; i++, in->left--)
		v |= (uint64_t)*in->p++ << (8 * i);
	return v;
}

static void fail(const char *what, long long a, long long b)
{
	fprintf(stderr, "invariant violated: %s (%lld, %lld)\n", what, a, b);
	abort();
}

struct guest {
	struct hv_cm cm;
	u32 ts_version;			/* negotiated, 0 before */
	u64 now_ns;			/* reference time now */
	u64 buffers, taken, rejected[HV_TS_REJECT_COUNT];
	/* the synthetic host clock: host = base + (ref - ref_base) * (1 + ppb) */
	s64 host_base_ns;
	u64 ref_base_ns;
	s32 host_ppb;
};

static void put16(uint8_t *p, unsigned int v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void put64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++)
		p[i] = v >> (8 * i);
}

static bool leap_armed(const struct hv_cm_model *m)
{
	return m->leap_ns != 0;
}

/* Monotonic between samples: the model read at increasing times. */
static void check_monotonic(const struct hv_cm_model *m, u64 from, u64 to)
{
	static const u64 fractions[] = { 0, 1, 7, 64, 500, 999, 1000 };
	s64 prev = 0;
	u64 prev_err = 0;
	size_t i;

	if (!m->valid || leap_armed(m))
		return;
	for (i = 0; i < ARRAY_SIZE(fractions); i++) {
		u64 t = from + (to - from) / 1000 * fractions[i];
		s64 h = hv_cm_eval(m, t);
		u64 e = hv_cm_error_bound(m, t);

		if (e > (1ULL << 62))
			fail("error bound wrapped", (long long)e, (long long)t);
		if (e < m->err0_ns)
			fail("error bound below its value at the anchor",
			     (long long)e, (long long)m->err0_ns);
		if (i && h < prev)
			fail("published time went backwards between samples",
			     (long long)prev, (long long)h);
		/* the anchor is "now"; later instants are no closer to it */
		if (i && t >= m->ref0_ns && e < prev_err)
			fail("error bound shrank away from the anchor",
			     (long long)prev_err, (long long)e);
		prev = h;
		prev_err = e;
	}
}

/* One buffer, as vmbus.c's handle() and take_sample() treat it. */
static void deliver(struct guest *g, const uint8_t *data, u32 len)
{
	struct hv_cm_model before = g->cm.pub;
	u64 steps = g->cm.steps, leaps = g->cm.leaps;
	enum hv_cm_result res;
	struct hv_ts_msg msg;
	enum hv_ts_reject r;
	uint8_t *buf;
	u64 ref;

	/* exactly @len bytes, so that ASan sees any read past the end */
	buf = malloc(len ? len : 1);
	if (!buf)
		abort();
	memcpy(buf, data, len);
	g->buffers++;
	r = hv_ts_parse(buf, len, g->ts_version, &msg);
	free(buf);
	if ((unsigned int)r >= HV_TS_REJECT_COUNT)
		fail("unknown parser verdict", r, len);
	if (r != HV_TS_OK) {
		g->rejected[r]++;
		return;
	}
	g->taken++;
	if (msg.kind == HV_TS_KIND_NEGOTIATE)
		return;
	if (msg.kind != HV_TS_KIND_SAMPLE)
		fail("unknown message kind", msg.kind, len);
	if (msg.sample.host_ns < 0)
		fail("parser passed a time before 1970", msg.sample.host_ns, 0);

	ref = msg.sample.has_ref ? msg.sample.ref * 100 : g->now_ns;
	res = hv_cm_add(&g->cm, ref, msg.sample.host_ns,
			msg.sample.flags & HV_TS_FLAG_SYNC, g->now_ns);
	hv_cm_leap(&g->cm, msg.sample.leapflags, msg.sample.host_ns);
	if (res != HV_CM_ACCEPTED && res != HV_CM_OUTLIER && res != HV_CM_STEPPED)
		fail("unknown model result", res, 0);
	if (!g->cm.pub.valid)
		fail("no valid model after a sample", res, 0);
	if ((unsigned int)hv_cm_state(&g->cm.pub, g->now_ns) > HV_CM_HOLDOVER)
		fail("unknown model state", hv_cm_state(&g->cm.pub, g->now_ns), 0);
	if ((unsigned int)hv_cm_leap_pending(&g->cm.pub, g->now_ns) > HV_CM_LEAP_DELETE)
		fail("unknown leap state", 0, 0);

	/* continuity: a sample that is no step keeps the reading at "now" */
	if (before.valid && before.fitted && g->cm.pub.fitted &&
	    res != HV_CM_STEPPED && g->cm.steps == steps &&
	    g->cm.leaps == leaps && !leap_armed(&before) &&
	    !leap_armed(&g->cm.pub)) {
		s64 a = hv_cm_eval(&before, g->now_ns);
		s64 b = hv_cm_eval(&g->cm.pub, g->now_ns);

		if (a != b)
			fail("published time jumped on a sample that was no step", a, b);
	}
	check_monotonic(&g->cm.pub, g->now_ns, g->now_ns + 60 * NS_PER_SEC);
}

/* A well-formed sample of the synthetic host clock, v4 or v1 layout. */
static void synth_sample(struct guest *g, struct input *in)
{
	uint8_t b[64] = { 0 };
	u8 ctl = take(in, 1);
	s32 noise = (s32)take(in, 4);
	u64 delay = take(in, 2) * 100;	/* sample age on arrival, ns */
	u64 ref = g->now_ns > delay ? g->now_ns - delay : 0;
	s64 host = g->host_base_ns + (s64)(ref - g->ref_base_ns) +
		   (s64)(ref - g->ref_base_ns) / 1000000000 * g->host_ppb;
	bool v4 = !(ctl & 0x80);
	u32 payload = v4 ? HV_TS_V4_PAYLOAD : HV_TS_V1_PAYLOAD;

	/* noise: mostly small, up to about +-2 s with the high bits */
	host += (ctl & 0x40) ? noise : noise / 4096;
	put16(b + HV_TS_OFF_MSGTYPE, HV_TS_TYPE_TIMESYNC);
	put16(b + HV_TS_OFF_MSGSIZE, payload);
	put64(b + HV_TS_HDRS, (u64)(host / 100) + HV_TS_WLTIMEDELTA);
	if (v4) {
		put64(b + HV_TS_HDRS + 8, ref / 100);
		b[HV_TS_HDRS + 16] = (ctl & 0x20) ? HV_TS_FLAG_SYNC : HV_TS_FLAG_SAMPLE;
		b[HV_TS_HDRS + 17] = ctl & 3;			/* leapflags */
		b[HV_TS_HDRS + 18] = (ctl & 0x10) ? 16 : 2;	/* stratum */
	} else {
		b[HV_TS_HDRS + 24] = (ctl & 0x20) ? HV_TS_FLAG_SYNC : HV_TS_FLAG_SAMPLE;
	}
	deliver(g, b, (HV_TS_HDRS + payload + 7) & ~7u);
}

static void advance(struct guest *g, u64 dt_ns)
{
	check_monotonic(&g->cm.pub, g->now_ns, g->now_ns + dt_ns);
	g->now_ns += dt_ns;
}

static const u32 versions[] = {
	0, HV_TS_VERSION(1, 0), HV_TS_VERSION(3, 0), HV_TS_VERSION(4, 0),
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const s64 step_ns[] = { 1000, 1000000, NS_PER_SEC, 1000 * NS_PER_SEC };
	static const u64 slew_ms[] = { 100, 5000, 600000 };
	struct input in = { data, size };
	struct hv_cm_params p;
	struct guest g;
	u64 counted = 0;
	unsigned int i;

	memset(&g, 0, sizeof(g));
	/* parameters within the module's accepted ranges */
	p.window = 2 + take(&in, 1) % (HV_CM_MAX_WINDOW - 1);
	p.step_threshold_ns = step_ns[take(&in, 1) % ARRAY_SIZE(step_ns)];
	p.outlier_sigmas = 2 + take(&in, 1) % 999;
	p.outlier_min_ns = (s64)(take(&in, 2) % 1001) * 1000;
	p.holdover_ppb = take(&in, 2) * 16 % 1000001;
	p.wander_ppb = take(&in, 2) * 16 % (p.holdover_ppb + 1);
	p.stale_ns = (1000 + take(&in, 2) % 60000) * 1000000ULL;
	p.slew_ns = slew_ms[take(&in, 1) % ARRAY_SIZE(slew_ms)] * 1000000ULL;
	p.latency_ns = 10000000;	/* the default; it only adds */
	hv_cm_init(&g.cm, &p);
	g.ts_version = versions[take(&in, 1) % ARRAY_SIZE(versions)];
	hv_cm_set_arrival_timed(&g.cm, g.ts_version < HV_TS_VERSION(4, 0));
	g.now_ns = take(&in, 6) * 100;	/* uptime up to ~900 years */
	g.ref_base_ns = g.now_ns;
	g.host_base_ns = HOST_START_NS + (s64)(take(&in, 4) % 86400) * NS_PER_SEC;
	g.host_ppb = (s32)take(&in, 4) % 1000000;	/* within +-1000 ppm */

	while (in.left) {
		u8 op = take(&in, 1);

		switch (op % 5) {
		case 0: {	/* a raw buffer, up to the module's buffer size */
			u32 len = take(&in, 2) % 1025;

			if (len > in.left)
				len = in.left;
			deliver(&g, in.p, len);
			in.p += len;
			in.left -= len;
			break;
		}
		case 1:
		case 2:
			synth_sample(&g, &in);
			break;
		case 3:		/* time passes: up to ~18 h, mostly seconds */
			advance(&g, (op & 0x80) ? take(&in, 2) * 1000000000ULL :
				      take(&in, 2) * 100000ULL);
			break;
		case 4:		/* channel re-opened, a new version agreed */
			g.ts_version = versions[(op >> 3) % ARRAY_SIZE(versions)];
			hv_cm_set_arrival_timed(&g.cm,
						g.ts_version < HV_TS_VERSION(4, 0));
			if (op & 0x80) {	/* the host stepped its clock */
				g.host_base_ns += (s64)(s32)take(&in, 4) * 1000;
			}
			break;
		}
	}

	for (i = 0; i < HV_TS_REJECT_COUNT; i++)
		counted += g.rejected[i];
	if (g.rejected[HV_TS_OK])
		fail("a buffer counted as rejected for no reason", (long long)g.rejected[0], 0);
	if (counted + g.taken != g.buffers)
		fail("buffers not all counted", (long long)(counted + g.taken),
		     (long long)g.buffers);
	return 0;
}
