/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TimeSync messages: parsing a received buffer into a sample.
 *
 * Pure: no allocation, no locking, no kernel-only headers; builds on the
 * host too (hv_types.h).
 *
 * A buffer as vmbus_recvpacket() returns it is a vmbuspipe_hdr (8 bytes), an
 * icmsg_hdr (20 bytes) and a payload; the ring pads packets to 8 bytes, so
 * up to 7 bytes may follow the payload. All fields are little-endian and
 * read byte-wise: the buffer needs no alignment.
 */
#ifndef HV_PTP_EXT_TIMESYNC_H
#define HV_PTP_EXT_TIMESYNC_H

#include "hv_types.h"

#define HV_TS_PIPE_HDR		8	/* struct vmbuspipe_hdr */
#define HV_TS_IC_HDR		20	/* struct icmsg_hdr */
#define HV_TS_HDRS		(HV_TS_PIPE_HDR + HV_TS_IC_HDR)
#define HV_TS_V4_PAYLOAD	22	/* struct ictimesync_ref_data */
#define HV_TS_V1_PAYLOAD	25	/* struct ictimesync_data */
#define HV_TS_MAX_PAYLOAD	64	/* larger icmsgsize: "oversize" */

/* Offsets in the buffer of the icmsg_hdr fields we read (vmbus.c checks
 * them against the kernel's struct icmsg_hdr at build time).
 */
#define HV_TS_OFF_MSGTYPE	(HV_TS_PIPE_HDR + 4)	/* u16 icmsgtype */
#define HV_TS_OFF_MSGSIZE	(HV_TS_PIPE_HDR + 10)	/* u16 icmsgsize */

/* 100 ns ticks from 1601-01-01 (parenttime's epoch) to 1970-01-01 */
#define HV_TS_WLTIMEDELTA	116444736000000000ULL

/* icmsg_hdr.icmsgtype */
#define HV_TS_TYPE_NEGOTIATE	0
#define HV_TS_TYPE_TIMESYNC	4

/* Sample flags (ICTIMESYNCFLAG_*) */
#define HV_TS_FLAG_SYNC		1	/* host asks the guest to step */
#define HV_TS_FLAG_SAMPLE	2

/* major << 16 | minor */
#define HV_TS_VERSION(maj, min)	((u32)(maj) << 16 | (min))

/* Why a buffer was not taken: each has a sysfs counter (rejected_REASON). */
enum hv_ts_reject {
	HV_TS_OK,
	HV_TS_SHORT,		/* shorter than the two headers */
	HV_TS_SHORT_PAYLOAD,	/* payload shorter than its version's struct */
	HV_TS_OVERSIZE,		/* larger than any TimeSync message */
	HV_TS_BAD_TYPE,		/* neither negotiation nor time sample */
	HV_TS_BAD_SIZE,		/* icmsgsize claims more than the packet has */
	HV_TS_BAD_NEGOTIATION,	/* version counts overrun the message */
	HV_TS_NOT_NEGOTIATED,	/* time sample before a version was agreed */
	HV_TS_BAD_TIME,		/* parenttime before 1970 or past 2262 */
	HV_TS_REJECT_COUNT
};

extern const char *const hv_ts_reject_names[HV_TS_REJECT_COUNT];

enum hv_ts_kind {
	HV_TS_KIND_NEGOTIATE,
	HV_TS_KIND_SAMPLE,
};

/* One time sample from the host. */
struct hv_ts_sample {
	s64 host_ns;		/* parenttime as ns since the Unix epoch */
	u64 ref;		/* v4: vmreferencetime, 100 ns ticks */
	bool has_ref;		/* false before v4: take the arrival time */
	u8 flags;		/* HV_TS_FLAG_* */
	u8 leapflags;		/* v4 only, raw */
	u8 stratum;		/* v4 only */
};

struct hv_ts_msg {
	enum hv_ts_kind kind;
	struct hv_ts_sample sample;	/* HV_TS_KIND_SAMPLE */
};

/**
 * hv_ts_parse() - classify and parse one received TimeSync buffer
 * @buf: the buffer, starting with the vmbuspipe_hdr
 * @len: its length in bytes, as vmbus_recvpacket() reported it
 * @ts_version: the negotiated TimeSync version (HV_TS_VERSION), 0 if none
 * @msg: filled in when the result is HV_TS_OK
 *
 * A negotiation message is only checked for consistency here; the answer
 * is built with vmbus_prep_negotiate_resp().
 *
 * Return: HV_TS_OK, or the reason the buffer must not be trusted.
 */
enum hv_ts_reject hv_ts_parse(const void *buf, u32 len, u32 ts_version,
			      struct hv_ts_msg *msg);

#endif /* HV_PTP_EXT_TIMESYNC_H */
