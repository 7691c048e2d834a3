/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hv_host_sim: a simulated Hyper-V host for testing TimeSync guests.
 *
 * Shared declarations of the three parts:
 *   sim_bus.c   - the "vmbus" bus, its devices and the VMBus client API
 *                 (the symbols hv_utils and hv_ptp_ext import);
 *   sim_clock.c - reference time (the TSC page; on arm64 an emulated
 *                 hypercall on CNTVCT) and the host clock model;
 *   sim_host.c  - the host side of the TimeSync protocol, run-time control,
 *                 ground truth, parameters and module init/exit.
 *
 * Units: "ref" values are reference-counter ticks (100 ns), "_ns" values are
 * nanoseconds, frequencies are parts per trillion (ppt, 1e-12) inside and
 * ppb at the interface. Host time and UTC are ns since the Unix epoch;
 * host = UTC + off, off (host minus UTC) linear in reference time.
 */
#ifndef HV_HOST_SIM_H
#define HV_HOST_SIM_H

#include <linux/hyperv.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#define SIM_MAX_DEVICES		2
#define SIM_QUEUE_LEN		256
#define SIM_PKT_MAX		1024	/* bytes; larger than any valid IC message */
#define SIM_TXID_SLOTS		512

/* What a host-to-guest message was, for counting the guest's answers. */
enum sim_kind {
	SIM_K_NEGOTIATE,
	SIM_K_SAMPLE,
	SIM_K_SYNC,
	/* malformed classes, injected through the control file */
	SIM_K_SHORT,		/* shorter than the IC headers */
	SIM_K_SHORT_PAYLOAD,	/* headers fine, payload shorter than the struct */
	SIM_K_OVERSIZE,		/* a TimeSync message padded to SIM_PKT_MAX */
	SIM_K_WRONG_TYPE,	/* unknown icmsgtype */
	SIM_K_BAD_SIZE,		/* icmsgsize/msgsize disagree with the packet */
	SIM_K_BAD_NEGOTIATION,	/* version counts that overrun the packet */
	SIM_K_COUNT
};

extern const char *const sim_kind_names[SIM_K_COUNT];

struct sim_pkt {
	u32 len;		/* bytes, multiple of 8 as on a real ring */
	u64 txid;
	u8 data[SIM_PKT_MAX];
};

struct sim_dev_stats {
	u64 sent[SIM_K_COUNT];
	u64 answered[SIM_K_COUNT];	/* responses matched to a sent message */
	u64 answered_fail[SIM_K_COUNT];	/* ... with status != HV_S_OK */
	u64 bad_responses;		/* unknown txid, bad flags or length */
	u64 queue_drops;		/* ring full */
	u64 nego_ok;
	u64 nego_refused;		/* guest answered with zero versions */
	u64 nego_bad;			/* guest chose a version not offered */
	u64 opens;
	u64 closes;
	u64 pm_suspends;		/* the bound driver's suspend() called */
	u64 pm_resumes;			/* ... and resume() */
};

struct sim_dev {
	struct hv_device hdev;
	struct vmbus_channel chan;
	int index;

	spinlock_t lock;	/* everything below */
	bool opened;
	bool negotiated;
	u32 fw_version;		/* as chosen by the guest, major << 16 | minor */
	u32 ts_version;
	u64 next_txid;
	unsigned int head, count;
	struct sim_pkt *ring;	/* SIM_QUEUE_LEN packets */
	struct {
		u64 txid;
		u8 kind;
		bool used;
	} pending[SIM_TXID_SLOTS];
	struct sim_dev_stats st;
};

/* sim_bus.c */
int sim_bus_init(void);
void sim_bus_exit(void);
struct sim_dev *sim_dev_add(int index, const char *driver_override);
void sim_dev_remove(struct sim_dev *sd);
int sim_dev_enqueue(struct sim_dev *sd, const void *msg, u32 len,
		    enum sim_kind kind);

/* sim_host.c: host reactions to guest actions on a channel */
void sim_host_channel_opened(struct sim_dev *sd);
void sim_host_response(struct sim_dev *sd, const u8 *buf, u32 len, u64 txid);

/* sim_clock.c */
struct sim_clock_params {
	s64 offset_ns;		/* host - guest CLOCK_REALTIME at load */
	s64 freq_ppb;		/* host rate error against the reference */
	s64 wander_ppb;		/* random-walk step of the rate per sample (sigma) */
	s64 noise_ns;		/* white noise on parenttime (sigma) */
	u32 outlier_permille;	/* probability of an outlier per sample */
	s64 outlier_ns;		/* outlier size (sign random) */
	u64 seed;
	s64 utc_offset_ns;	/* host minus UTC at load */
	s64 utc_drift_ppb;	/* rate of host minus UTC (host fast against UTC) */
};

struct sim_truth {
	s64 real_ns;		/* CLOCK_REALTIME */
	s64 raw_ns;		/* CLOCK_MONOTONIC_RAW */
	u64 ref;		/* reference counter, 100 ns ticks */
	u64 ref_ns;		/* reference time, ns (not truncated to ticks) */
	s64 host_ns;		/* true host time */
	s64 utc_ns;		/* true UTC */
};

enum sim_tsc_page_op {
	SIM_TSC_PAGE_INVALID,
	SIM_TSC_PAGE_VALID,
	SIM_TSC_PAGE_UPDATE,
};

int sim_clock_init(const struct sim_clock_params *p);
void sim_clock_tsc_page(enum sim_tsc_page_op op);
void sim_clock_tsc_rate(s32 ppm);
void sim_clock_exit(void);
u64 sim_ref_ns_at_tsc(u64 tsc);
u64 sim_ref_now(u64 *tsc);
s64 sim_host_at(u64 ref_ns);
void sim_host_utc_at(u64 ref_ns, s64 *host, s64 *utc);
int sim_truth_now(struct sim_truth *t);
int sim_last_ref_read(struct sim_truth *t);
void sim_clock_step(s64 delta_ns);
#define SIM_NS_PER_DAY	(86400 * (s64)NSEC_PER_SEC)
void sim_clock_leap(unsigned int leap);
bool sim_clock_leap_armed(void);
void sim_clock_set_freq(s64 freq_ppb);
s64 sim_clock_freq_ppt(void);
void sim_clock_utc_offset(s64 off_ns);
void sim_clock_utc_drift(s64 drift_ppb);
void sim_clock_utc_state(s64 *off_ns, s64 *drift_ppt);
void sim_clock_wander(void);
s64 sim_clock_sample_error_ns(void);
u32 sim_random(void);

#endif /* HV_HOST_SIM_H */
