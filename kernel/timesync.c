// SPDX-License-Identifier: GPL-2.0
/*
 * TimeSync messages: parsing a received buffer into a sample. See
 * timesync.h for the layout; offsets below are from the start of the
 * buffer (the vmbuspipe_hdr) unless said otherwise.
 */
#include "timesync.h"

const char *const hv_ts_reject_names[HV_TS_REJECT_COUNT] = {
	[HV_TS_OK] = "ok",
	[HV_TS_SHORT] = "short",
	[HV_TS_SHORT_PAYLOAD] = "short_payload",
	[HV_TS_OVERSIZE] = "oversize",
	[HV_TS_BAD_TYPE] = "bad_type",
	[HV_TS_BAD_SIZE] = "bad_size",
	[HV_TS_BAD_NEGOTIATION] = "bad_negotiation",
	[HV_TS_NOT_NEGOTIATED] = "not_negotiated",
	[HV_TS_BAD_TIME] = "bad_time",
};

#define IC_MSGTYPE	HV_TS_OFF_MSGTYPE
#define IC_MSGSIZE	HV_TS_OFF_MSGSIZE

/* icmsg_negotiate, from the payload */
#define NEG_FRAME_CNT	0	/* u16 */
#define NEG_MSG_CNT	2	/* u16 */
#define NEG_VERSIONS	8	/* u16 major, u16 minor each */
#define NEG_MAX_CNT	100	/* IC_VERSION_NEGOTIATION_MAX_VER_COUNT */

/* ictimesync_ref_data (v4) and ictimesync_data (before), from the payload */
#define V4_PARENTTIME	0	/* u64 */
#define V4_REFTIME	8	/* u64 */
#define V4_FLAGS	16
#define V4_LEAPFLAGS	17
#define V4_STRATUM	18
#define V1_PARENTTIME	0	/* u64 */
#define V1_FLAGS	24

/* parenttime at which ns since 1970 stop fitting an s64 (year 2262) */
#define PARENTTIME_MAX	(HV_TS_WLTIMEDELTA + (u64)S64_MAX / 100)

static u16 rd16(const u8 *p)
{
	return p[0] | (u16)p[1] << 8;
}

static u64 rd64(const u8 *p)
{
	u64 v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static enum hv_ts_reject parse_negotiate(const u8 *pl, u32 avail)
{
	u32 n;

	if (avail < NEG_VERSIONS)
		return HV_TS_SHORT_PAYLOAD;
	if (rd16(pl + NEG_FRAME_CNT) > NEG_MAX_CNT ||
	    rd16(pl + NEG_MSG_CNT) > NEG_MAX_CNT)
		return HV_TS_BAD_NEGOTIATION;
	n = rd16(pl + NEG_FRAME_CNT) + rd16(pl + NEG_MSG_CNT);
	if (!rd16(pl + NEG_FRAME_CNT) || !rd16(pl + NEG_MSG_CNT) ||
	    NEG_VERSIONS + 4 * n > avail)
		return HV_TS_BAD_NEGOTIATION;
	return HV_TS_OK;
}

static enum hv_ts_reject parse_sample(const u8 *pl, u32 avail, u32 ts_version,
				      struct hv_ts_sample *s)
{
	u64 parenttime;

	if (!ts_version)
		return HV_TS_NOT_NEGOTIATED;
	memset(s, 0, sizeof(*s));
	if (ts_version >= HV_TS_VERSION(4, 0)) {
		if (avail < HV_TS_V4_PAYLOAD)
			return HV_TS_SHORT_PAYLOAD;
		parenttime = rd64(pl + V4_PARENTTIME);
		s->ref = rd64(pl + V4_REFTIME);
		s->has_ref = true;
		s->flags = pl[V4_FLAGS];
		s->leapflags = pl[V4_LEAPFLAGS];
		s->stratum = pl[V4_STRATUM];
	} else {
		if (avail < HV_TS_V1_PAYLOAD)
			return HV_TS_SHORT_PAYLOAD;
		parenttime = rd64(pl + V1_PARENTTIME);
		s->flags = pl[V1_FLAGS];
	}
	if (parenttime < HV_TS_WLTIMEDELTA || parenttime > PARENTTIME_MAX)
		return HV_TS_BAD_TIME;
	s->host_ns = (s64)(parenttime - HV_TS_WLTIMEDELTA) * 100;
	return HV_TS_OK;
}

enum hv_ts_reject hv_ts_parse(const void *buf, u32 len, u32 ts_version,
			      struct hv_ts_msg *msg)
{
	const u8 *p = buf;
	u32 avail;

	if (len < HV_TS_HDRS)
		return HV_TS_SHORT;
	avail = len - HV_TS_HDRS;
	/*
	 * icmsgsize must not claim more than the packet carries. Less is
	 * tolerated (hv_utils ignores the field, so a host could get it wrong
	 * unnoticed): what counts is the payload actually received.
	 */
	if (rd16(p + IC_MSGSIZE) > avail)
		return HV_TS_BAD_SIZE;

	switch (rd16(p + IC_MSGTYPE)) {
	case HV_TS_TYPE_NEGOTIATE:
		msg->kind = HV_TS_KIND_NEGOTIATE;
		return parse_negotiate(p + HV_TS_HDRS, avail);
	case HV_TS_TYPE_TIMESYNC:
		msg->kind = HV_TS_KIND_SAMPLE;
		/* beyond the payload only the ring's padding may follow */
		if (rd16(p + IC_MSGSIZE) > HV_TS_MAX_PAYLOAD ||
		    avail > HV_TS_MAX_PAYLOAD + 7)
			return HV_TS_OVERSIZE;
		return parse_sample(p + HV_TS_HDRS, avail, ts_version,
				    &msg->sample);
	default:
		return HV_TS_BAD_TYPE;
	}
}
