// SPDX-License-Identifier: GPL-2.0
/*
 * The VMBus driver of the TimeSync channel: probe/remove, version
 * negotiation, and the channel callback that validates every buffer, feeds
 * samples to the model and answers the host in place.
 */
#include <linux/atomic.h>
#include <linux/hyperv.h>
#include <linux/module.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <linux/workqueue.h>

#include "hv_ptp_ext.h"

#define FW_VER(maj)	((maj) << 16)
static const int fw_versions[] = { FW_VER(3), FW_VER(1) };
static const int ts_versions[] = { HV_TS_VERSION(4, 0), HV_TS_VERSION(3, 0),
				   HV_TS_VERSION(1, 0) };

#define HV_PTP_RING_SIZE	VMBUS_RING_SIZE(3 * HV_HYP_PAGE_SIZE)

/* timesync.c reads the wire format byte-wise; it must agree with hyperv.h */
static_assert(sizeof(struct vmbuspipe_hdr) == HV_TS_PIPE_HDR);
static_assert(sizeof(struct icmsg_hdr) == HV_TS_IC_HDR);
static_assert(offsetof(struct icmsg_hdr, icmsgtype) + HV_TS_PIPE_HDR == HV_TS_OFF_MSGTYPE);
static_assert(offsetof(struct icmsg_hdr, icmsgsize) + HV_TS_PIPE_HDR == HV_TS_OFF_MSGSIZE);
static_assert(sizeof(struct ictimesync_ref_data) == HV_TS_V4_PAYLOAD);
static_assert(sizeof(struct ictimesync_data) == HV_TS_V1_PAYLOAD);
static_assert(ICMSGTYPE_TIMESYNC == HV_TS_TYPE_TIMESYNC);
static_assert(ICMSGTYPE_NEGOTIATE == HV_TS_TYPE_NEGOTIATE);
static_assert(WLTIMEDELTA == HV_TS_WLTIMEDELTA);

static const struct hv_vmbus_device_id hv_ptp_ids[] = {
	{ HV_TS_GUID, },
	{ },
};
MODULE_DEVICE_TABLE(vmbus, hv_ptp_ids);

/*
 * Disruptions, module-wide so that a channel opened again continues the
 * count a reader saw: an event after which earlier readings of the PHC
 * cannot be trusted to continue into later ones. Counted under the
 * device's lock, published with the model, and poll() on the attribute
 * is woken from process context (sysfs_notify() may sleep; the channel
 * callback runs in a tasklet).
 */
static atomic64_t disruptions;
static atomic_t opens;

/* Count one; the caller publishes, then wakes readers (notify()). */
static void disrupt(struct hv_ptp *hp, enum hv_ptp_disruption why)
{
	hp->pub_why = why;
	atomic64_inc(&disruptions);
}

/* After the count is published: a woken reader must find it. */
static void notify(struct hv_ptp *hp)
{
	schedule_work(&hp->notify_work);
}

/*
 * The count into the published status, and the VMClock page rewritten
 * from that status: every writer of hp->pub ends with this, under lock
 * and model_lock, so a reader that sees the new status sees the page too.
 */
static void publish_disruptions(struct hv_ptp *hp)
{
	hp->pub.disruptions = atomic64_read(&disruptions);
	hp->pub.last_disruption = hp->pub_why;
	hv_ptp_vmclock_update(hp, false);
}

static void notify_work(struct work_struct *work)
{
	struct hv_ptp *hp = container_of(work, struct hv_ptp, notify_work);

	sysfs_notify(&hp->hdev->device.kobj, "timesync", "disruptions");
}

/*
 * What, besides the model's own step, disrupts before this sample: the
 * TSC page changed under the reference time (a migration to another
 * host, or a restore) and no read has found it yet (see
 * hv_ptp_page_check()), or no sample for stale_ms (a freeze, or the host
 * went quiet: the PHC was in holdover). Only once there is a model.
 */
static enum hv_ptp_disruption before_sample(struct hv_ptp *hp, u64 ref)
{
	enum hv_ptp_disruption why = HV_PTP_DISRUPT_NONE;
	u64 last = hp->last_ref_ns;
	struct hv_ref_page pg;

	hv_ref_page_read(&pg);
	if (hv_ref_page_disrupts(&hp->page, &pg))
		why = HV_PTP_DISRUPT_TSC_PAGE;
	hp->page = pg;
	/* of every sample taken, accepted or held back: one gap counts once */
	hp->last_ref_ns = ref;
	if (!hp->cm.pub.valid)
		return HV_PTP_DISRUPT_NONE;
	/* the gap a resume left was counted as the resume */
	if ((s64)(ref - last) > (s64)hp->cm.p.stale_ns && !hp->resumed)
		why = HV_PTP_DISRUPT_GAP;
	hp->resumed = false;
	return why;
}

/* Add @ns to what the published bound owns up to, saturated. */
static void add_doubt(struct hv_cm_model *m, u64 ns)
{
	/* the bound sums it with the model's own terms */
	if (check_add_overflow(m->doubt_ns, ns, &m->doubt_ns) ||
	    m->doubt_ns > S64_MAX / 4)
		m->doubt_ns = S64_MAX / 4;
}

/**
 * hv_ptp_page_check() - a reader found the TSC page changed
 * @hp: the device
 * @seen: the page the model was published on, as the reader saw it
 * @pg: the page the reader's own reference-time read used
 * @tsc: the TSC value of that read
 *
 * The TSC page is guest memory: a migration to a host whose TSC runs at
 * another rate, or a restore, rewrites it, and every read of reference
 * time uses it at once. So the reads notice, not only the next sample (up
 * to a sample interval later, while the system clock may already run off
 * by the change): the disruption is counted now, the readers of the
 * count are woken, and until the next sample the published bound owns up
 * to how far the two pages disagree at this read (a model fitted on the
 * old page's reference time may be off by that on the new one's). A
 * page that only got a new sequence with the same values changes nothing.
 * Process context (PHC reads and sysfs).
 */
void hv_ptp_page_check(struct hv_ptp *hp, const struct hv_ref_page *seen,
		       const struct hv_ref_page *pg, u64 tsc)
{
	bool disrupts;
	u64 jump;

	if (hv_ref_page_same(seen, pg))
		return;
	spin_lock_bh(&hp->lock);
	/* another reader, or a sample, may have taken it in meanwhile */
	if (hv_ref_page_same(&hp->page, pg)) {
		spin_unlock_bh(&hp->lock);
		return;
	}
	jump = hv_ref_page_jump_ns(&hp->page, pg, tsc);
	/* arm64: a fit that only became valid continues reference time */
	disrupts = hv_ref_page_disrupts(&hp->page, pg);
	hp->page = *pg;
	if (disrupts)
		disrupt(hp, HV_PTP_DISRUPT_TSC_PAGE);
	write_seqlock(&hp->model_lock);
	add_doubt(&hp->pub.model, jump);
	add_doubt(&hp->pub.model, hv_ref_page_error_ns(pg));
	hp->pub.page = *pg;
	publish_disruptions(hp);
	write_sequnlock(&hp->model_lock);
	spin_unlock_bh(&hp->lock);
	if (disrupts)
		notify(hp);
}

/* A sample accepted by the parser: into the model, which is published. */
static void take_sample(struct hv_ptp *hp, const struct hv_ts_sample *s)
{
	enum hv_ptp_disruption why;
	enum hv_cm_result r;
	bool had_model = hp->cm.pub.valid, was_pending = hp->cm.pending_step;
	u64 now, ref, tsc, steps = hp->cm.steps;

	now = hv_ref_now_ns(&tsc, NULL);
	/* before v4 the sample carries no reference time: take its arrival */
	ref = s->has_ref ? s->ref * 100 : now;

	hp->last_flags = s->flags;
	if (s->flags & HV_TS_FLAG_SYNC)
		hp->syncs++;
	why = before_sample(hp, ref);
	r = hv_cm_add(&hp->cm, ref, s->host_ns, s->flags & HV_TS_FLAG_SYNC, now);
	hv_cm_leap(&hp->cm, s->leapflags, s->host_ns);
	/*
	 * One sample, one disruption; its cause names it before the SYNC.
	 * A host step counts at its first sample, the one held back beyond
	 * step_threshold_ns (the bound owns up to it from there), not again
	 * when the second confirms it: an application learns at once, and a
	 * lone outlier that large costs no more than a false alarm.
	 */
	if (why == HV_PTP_DISRUPT_NONE && !was_pending) {
		if (had_model && (s->flags & HV_TS_FLAG_SYNC))
			why = HV_PTP_DISRUPT_SYNC;
		else if (r == HV_CM_STEPPED || hp->cm.steps != steps ||
			 (r == HV_CM_OUTLIER && hp->cm.pending_step))
			why = HV_PTP_DISRUPT_STEP;
	}
	if (why != HV_PTP_DISRUPT_NONE)
		disrupt(hp, why);

	write_seqlock(&hp->model_lock);
	hp->pub.model = hp->cm.pub;
	hp->pub.accepted = hp->cm.accepted;
	hp->pub.outliers = hp->cm.outliers;
	hp->pub.steps = hp->cm.steps;
	hp->pub.leaps = hp->cm.leaps;
	hp->pub.syncs = hp->syncs;
	hp->pub.noise_ns = hp->cm.noise_ns;
	hp->pub.sigma_ns = hp->cm.sigma_now_ns;
	hp->pub.last_offset_ns = hp->cm.last_offset_ns;
	hp->pub.leapflags = s->leapflags;
	hp->pub.stratum = s->stratum;
	hp->pub.page = hp->page;
	/* what a read through this page may add (arm64: the counter's fit) */
	add_doubt(&hp->pub.model, hv_ref_page_error_ns(&hp->page));
	publish_disruptions(hp);
	write_sequnlock(&hp->model_lock);
	if (why != HV_PTP_DISRUPT_NONE)
		notify(hp);
}

/* Handle one buffer of @len bytes; returns the status to answer with. */
static u32 handle(struct hv_ptp *hp, u32 len)
{
	struct icmsg_hdr *ic = (void *)(hp->buf + sizeof(struct vmbuspipe_hdr));
	enum hv_ts_reject r;
	struct hv_ts_msg msg;
	int fw, ts;

	r = hv_ts_parse(hp->buf, len, hp->ts_version, &msg);
	if (r != HV_TS_OK) {
		hp->rejected[r]++;
		dev_warn_ratelimited(&hp->hdev->device,
				     "rejected a %u-byte message: %s\n", len,
				     hv_ts_reject_names[r]);
		return HV_E_FAIL;
	}
	if (msg.kind == HV_TS_KIND_SAMPLE) {
		take_sample(hp, &msg.sample);
		return HV_S_OK;
	}

	hp->negotiations++;
	if (!vmbus_prep_negotiate_resp(ic, hp->buf, len, fw_versions,
				       ARRAY_SIZE(fw_versions), ts_versions,
				       ARRAY_SIZE(ts_versions), &fw, &ts)) {
		hp->rejected[HV_TS_BAD_NEGOTIATION]++;
		dev_warn(&hp->hdev->device, "no common TimeSync version\n");
		return HV_E_FAIL;
	}
	if (hp->ts_version != (u32)ts)
		dev_info(&hp->hdev->device, "TimeSync %d.%d, framework %d.%d\n",
			 ts >> 16, ts & 0xffff, fw >> 16, fw & 0xffff);
	if (hp->ts_version && hp->ts_version != (u32)ts) {
		disrupt(hp, HV_PTP_DISRUPT_VERSION);
		write_seqlock(&hp->model_lock);
		publish_disruptions(hp);
		write_sequnlock(&hp->model_lock);
		notify(hp);
	}
	hp->fw_version = fw;
	hp->ts_version = ts;
	hv_cm_set_arrival_timed(&hp->cm, ts < HV_TS_VERSION(4, 0));
	return HV_S_OK;
}

/* Drain the channel; every buffer of at least the headers is answered. */
static void hv_ptp_onchannel(void *context)
{
	struct hv_ptp *hp = context;
	struct icmsg_hdr *ic = (void *)(hp->buf + sizeof(struct vmbuspipe_hdr));
	u64 requestid;
	u32 len, status;
	int ret;

	spin_lock(&hp->lock);
	for (;;) {
		ret = vmbus_recvpacket(hp->hdev->channel, hp->buf,
				       HV_PTP_BUF_SIZE, &len, &requestid);
		if (ret) {
			/* -ENOBUFS: larger than a page; it stays in the ring */
			hp->recv_errors++;
			dev_err_ratelimited(&hp->hdev->device,
					    "receive failed: %d (length %u)\n",
					    ret, len);
			break;
		}
		if (!len)
			break;
		hp->received++;
		status = handle(hp, len);
		if (len < ICMSG_HDR)
			continue;	/* no header to answer in */
		ic->status = status;
		ic->icflags = ICMSGHDRFLAG_TRANSACTION | ICMSGHDRFLAG_RESPONSE;
		vmbus_sendpacket(hp->hdev->channel, hp->buf, len, requestid,
				 VM_PKT_DATA_INBAND, 0);
	}
	spin_unlock(&hp->lock);
}

static int hv_ptp_probe(struct hv_device *hdev,
			const struct hv_vmbus_device_id *id)
{
	struct hv_ptp *hp;
	int ret;

	hp = devm_kzalloc(&hdev->device, sizeof(*hp), GFP_KERNEL);
	if (!hp)
		return -ENOMEM;
	hp->buf = devm_kzalloc(&hdev->device, HV_PTP_BUF_SIZE, GFP_KERNEL);
	if (!hp->buf)
		return -ENOMEM;
	hp->hdev = hdev;
	spin_lock_init(&hp->lock);
	seqlock_init(&hp->model_lock);
	hv_cm_init(&hp->cm, &hv_ptp_cm_params);
	hp->pub.noise_ns = hp->cm.noise_ns;	/* its prior, until a sample */
	INIT_WORK(&hp->notify_work, notify_work);
	/* arm64: the fit of reference time starts with a bound device */
	hv_ref_get();
	hv_ref_page_read(&hp->page);
	hp->pub.page = hp->page;
	if (atomic_inc_return(&opens) > 1) {
		hp->pub_why = HV_PTP_DISRUPT_OPEN;
		atomic64_inc(&disruptions);
	}
	publish_disruptions(hp);
	hv_set_drvdata(hdev, hp);

	ret = hv_ptp_phc_register(hp);
	if (ret)
		goto no_phc;
	ret = hv_ptp_vmclock_register(hp);
	if (ret) {
		hv_ptp_phc_unregister(hp);
		goto no_phc;
	}

	set_channel_read_mode(hdev->channel, HV_CALL_DIRECT);
	ret = vmbus_open(hdev->channel, HV_PTP_RING_SIZE, HV_PTP_RING_SIZE,
			 NULL, 0, hv_ptp_onchannel, hp);
	if (ret) {
		cancel_work_sync(&hp->notify_work);
		hv_ptp_vmclock_unregister(hp);
		hv_ptp_phc_unregister(hp);
		/* no channel opened: no open to count */
		if (hp->pub_why == HV_PTP_DISRUPT_OPEN)
			atomic64_dec(&disruptions);
		atomic_dec(&opens);
		goto no_phc;
	}
	dev_info(&hdev->device, "PTP clock ptp%d (\"%s\")\n",
		 ptp_clock_index(hp->ptp), hp->info.name);
	return 0;

no_phc:
	hv_ref_put();
	return ret;
}

/*
 * Hibernation (freeze and poweroff, then thaw or restore; VMBus calls
 * these in the noirq phases): the channel is closed as hv_utils closes
 * its own, and opened again on the way back. The model stays: the first
 * sample after the resume decides (reference time that went backwards,
 * as after a restore into a new partition, or SYNC, start it again; a
 * host step is held back and stepped as ever; a sample that agrees keeps
 * it). A resume is a disruption however it went: the host may send no
 * SYNC, and the guest may have stood still for any time.
 */
static int hv_ptp_suspend(struct hv_device *hdev)
{
	struct hv_ptp *hp = hv_get_drvdata(hdev);

	vmbus_close(hdev->channel);
	cancel_work_sync(&hp->notify_work);
	return 0;
}

static int hv_ptp_resume(struct hv_device *hdev)
{
	struct hv_ptp *hp = hv_get_drvdata(hdev);
	int ret;

	spin_lock_bh(&hp->lock);
	disrupt(hp, HV_PTP_DISRUPT_RESUME);
	hp->resumed = true;
	write_seqlock(&hp->model_lock);
	publish_disruptions(hp);
	write_sequnlock(&hp->model_lock);
	spin_unlock_bh(&hp->lock);

	ret = vmbus_open(hdev->channel, HV_PTP_RING_SIZE, HV_PTP_RING_SIZE,
			 NULL, 0, hv_ptp_onchannel, hp);
	if (ret)
		dev_err(&hdev->device, "channel not reopened on resume: %d\n",
			ret);
	notify(hp);
	return ret;
}

static COMPAT_HV_REMOVE_RET hv_ptp_remove(struct hv_device *hdev)
{
	struct hv_ptp *hp = hv_get_drvdata(hdev);

	vmbus_close(hdev->channel);
	cancel_work_sync(&hp->notify_work);
	hv_ptp_vmclock_unregister(hp);
	hv_ptp_phc_unregister(hp);
	hv_ref_put();
	return COMPAT_HV_REMOVE_RETURN;
}

struct hv_driver hv_ptp_driver = {
	.name = KBUILD_MODNAME,
	.id_table = hv_ptp_ids,
	.probe = hv_ptp_probe,
	.remove = hv_ptp_remove,
	.suspend = hv_ptp_suspend,
	.resume = hv_ptp_resume,
	.driver = {
		.dev_groups = hv_ptp_groups,
	},
};
