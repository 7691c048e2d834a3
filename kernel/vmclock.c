// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/vmclock0: the model as a VMClock page, the read-only structure that
 * Linux's ptp_vmclock maps from a hypervisor (include/uapi/linux/
 * vmclock-abi.h, 6.13) and that AWS ClockBound's clients read for the
 * disruption marker. Hyper-V has none; this one is written by the module
 * from what it knows: the TSC to host UTC (the TSC page times the model's
 * rate), the error bound and its growth, the clock's state, an announced
 * leap second, and the count of disruptions as the marker, rewritten at
 * every sample and at the moment a disruption is counted.
 *
 * The layout is the VMClock ABI, version 1 (little-endian; 104 bytes used
 * of one page, which is what the device maps). Writers hold the device's
 * lock; the seq_count protocol is the ABI's: odd while the fields change,
 * with barriers between it and them.
 */
#include <linux/fs.h>
#include <linux/math64.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "hv_ptp_ext.h"

#define VMCLOCK_MAGIC			0x4b4c4356	/* "VCLK" */
#define VMCLOCK_VERSION			1
#define VMCLOCK_COUNTER_ARM_VCNT	0
#define VMCLOCK_COUNTER_X86_TSC		1
#define VMCLOCK_COUNTER_INVALID		0xff
#define VMCLOCK_TIME_UTC		0
#define VMCLOCK_FLAG_PERIOD_ESTERROR_VALID	BIT(3)
#define VMCLOCK_FLAG_PERIOD_MAXERROR_VALID	BIT(4)
#define VMCLOCK_FLAG_TIME_ESTERROR_VALID	BIT(5)
#define VMCLOCK_FLAG_TIME_MAXERROR_VALID	BIT(6)
#define VMCLOCK_STATUS_UNKNOWN		0
#define VMCLOCK_STATUS_INITIALIZING	1
#define VMCLOCK_STATUS_SYNCHRONIZED	2
#define VMCLOCK_STATUS_FREERUNNING	3
#define VMCLOCK_LEAP_NONE		0
#define VMCLOCK_LEAP_PRE_POS		1
#define VMCLOCK_LEAP_PRE_NEG		2

/* The VMClock ABI, version 1. */
struct hv_vmclock_abi {
	__le32 magic;
	__le32 size;			/* the page */
	__le16 version;
	u8 counter_id;
	u8 time_type;
	__le32 seq_count;		/* odd while written */
	__le64 disruption_marker;	/* the module's disruptions */
	__le64 flags;
	u8 pad[2];
	u8 clock_status;
	u8 leap_second_smearing_hint;
	__le16 tai_offset_sec;
	u8 leap_indicator;
	u8 counter_period_shift;
	__le64 counter_value;
	__le64 counter_period_frac_sec;	/* 2^-(64 + shift) s per tick */
	__le64 counter_period_esterror_rate_frac_sec;
	__le64 counter_period_maxerror_rate_frac_sec;
	__le64 time_sec;		/* UTC at counter_value */
	__le64 time_frac_sec;		/* 2^-64 s */
	__le64 time_esterror_nanosec;
	__le64 time_maxerror_nanosec;
};

static_assert(offsetof(struct hv_vmclock_abi, disruption_marker) == 16);
static_assert(offsetof(struct hv_vmclock_abi, clock_status) == 34);
static_assert(offsetof(struct hv_vmclock_abi, counter_value) == 40);
static_assert(offsetof(struct hv_vmclock_abi, time_sec) == 72);
static_assert(sizeof(struct hv_vmclock_abi) == 104);

char *hv_ptp_vmclock_name = "vmclock0";

/* @rate (2^-64) of @v, signed: v * rate >> 64. */
static s64 scaled(u64 v, s64 rate)
{
	return rate < 0 ? -(s64)mul_u64_u64_shr(v, -rate, 64) :
			  (s64)mul_u64_u64_shr(v, rate, 64);
}

/* A rate @r (2^-64) of the period @p, in the period's units. */
static u64 period_rate(u64 p, u64 r)
{
	return mul_u64_u64_shr(p, r, 64);
}

/*
 * The fields that describe the clock, from the published status at the
 * TSC value @tsc (reference time @ref on the page @pg); false where there
 * is nothing to describe (no model, no TSC page).
 */
static bool describe(struct hv_vmclock_abi *vc, const struct hv_ptp_status *st,
		     u64 tsc, u64 ref, const struct hv_ref_page *pg)
{
	const struct hv_cm_model *m = &st->model;
	u64 p, host, bound, rem, grow;
	unsigned int shift;
	s64 rate;

	if (!m->valid || !tsc || !pg->valid || !pg->scale)
		return false;
	host = hv_cm_eval(m, ref);
	if ((s64)host < 0)
		return false;
	/*
	 * The TSC's period in host seconds: the TSC page's scale is 100 ns
	 * ticks per TSC tick, 2^-64; times the host's rate against
	 * reference time, and the slew in progress. The shift keeps the
	 * period within 62 bits for any TSC from 1 MHz up.
	 */
	p = mul_u64_u64_div_u64(pg->scale, 100, NSEC_PER_SEC);
	shift = p ? min(56, 61 - fls64(p)) : 56;
	p = mul_u64_u64_div_u64(pg->scale, 100ULL << shift, NSEC_PER_SEC);
	rate = m->rate64;
	if (ref - m->ref0_ns < m->slew_end_ns)
		rate += m->slew_rate64;
	p += scaled(p, rate);

	/*
	 * The page's time is UTC: its bound is the model's against the
	 * host's clock plus the host's declared error against UTC.
	 */
	bound = hv_cm_error_bound(m, ref);
	bound = bound > U64_MAX - hv_ptp_host_utc_error_ns ? U64_MAX :
		bound + hv_ptp_host_utc_error_ns;
	/*
	 * How fast the error may grow from here: the model's allowance
	 * (while samples come, and after one is overdue), and the slew's
	 * rate: the page's line keeps it after the slew ends.
	 */
	grow = max(m->err_rate64, m->hold_rate64);
	grow += abs(m->slew_rate64);
	/* arm64: the rate of the fit that maps CNTVCT to reference time */
	grow += hv_ref_page_rate64(pg);

	vc->counter_id = IS_ENABLED(CONFIG_ARM64) ? VMCLOCK_COUNTER_ARM_VCNT :
						    VMCLOCK_COUNTER_X86_TSC;
	vc->time_type = VMCLOCK_TIME_UTC;
	vc->counter_period_shift = shift;
	vc->counter_value = cpu_to_le64(tsc);
	vc->counter_period_frac_sec = cpu_to_le64(p);
	vc->counter_period_maxerror_rate_frac_sec =
		cpu_to_le64(period_rate(p, grow));
	vc->counter_period_esterror_rate_frac_sec =
		cpu_to_le64(period_rate(p, m->err_rate64));
	vc->time_sec = cpu_to_le64(div64_u64_rem(host, NSEC_PER_SEC, &rem));
	/* rem / 10^9 as a fraction of 2^64 */
	vc->time_frac_sec = cpu_to_le64(mul_u64_u64_div_u64(rem, 1ULL << 63,
							    NSEC_PER_SEC / 2));
	vc->time_maxerror_nanosec = cpu_to_le64(bound);
	vc->time_esterror_nanosec = cpu_to_le64(min(bound, st->sigma_ns));
	vc->flags = cpu_to_le64(VMCLOCK_FLAG_PERIOD_ESTERROR_VALID |
				VMCLOCK_FLAG_PERIOD_MAXERROR_VALID |
				VMCLOCK_FLAG_TIME_ESTERROR_VALID |
				VMCLOCK_FLAG_TIME_MAXERROR_VALID);
	switch (hv_cm_leap_pending(m, ref)) {
	case HV_CM_LEAP_INSERT:
		vc->leap_indicator = VMCLOCK_LEAP_PRE_POS;
		break;
	case HV_CM_LEAP_DELETE:
		vc->leap_indicator = VMCLOCK_LEAP_PRE_NEG;
		break;
	default:
		vc->leap_indicator = VMCLOCK_LEAP_NONE;
	}
	/* the host says it is unsynchronised: its UTC runs free */
	if (st->leapflags == HV_CM_LEAP_ALARM)
		vc->clock_status = VMCLOCK_STATUS_FREERUNNING;
	else if (hv_cm_state(m, ref) == HV_CM_SYNC)
		vc->clock_status = m->fitted ? VMCLOCK_STATUS_SYNCHRONIZED :
					       VMCLOCK_STATUS_INITIALIZING;
	else if (hv_cm_state(m, ref) == HV_CM_HOLDOVER)
		vc->clock_status = VMCLOCK_STATUS_FREERUNNING;
	else
		vc->clock_status = VMCLOCK_STATUS_INITIALIZING;
	return true;
}

/**
 * hv_ptp_vmclock_update() - rewrite the page from the published status
 * @hp: the device; the caller holds hp->lock, and model_lock where it
 *	writes hp->pub: a reader that sees the new status sees the page too
 * @gone: the module lets go of the device: the page says unknown from now
 *	on, for the readers that keep it mapped
 */
void hv_ptp_vmclock_update(struct hv_ptp *hp, bool gone)
{
	struct hv_vmclock_abi *vc = hp->vmclock;
	struct hv_ref_page pg;
	u32 seq;
	u64 ref, tsc;

	if (!vc)
		return;
	ref = hv_ref_now_ns(&tsc, &pg);
	seq = le32_to_cpu(vc->seq_count);
	WRITE_ONCE(vc->seq_count, cpu_to_le32(seq | 1));
	/* odd before any field changes */
	smp_wmb();
	vc->disruption_marker = cpu_to_le64(hp->pub.disruptions);
	if (gone || !describe(vc, &hp->pub, tsc, ref, &pg)) {
		vc->counter_id = VMCLOCK_COUNTER_INVALID;
		vc->flags = 0;
		vc->clock_status = VMCLOCK_STATUS_UNKNOWN;
		vc->leap_indicator = VMCLOCK_LEAP_NONE;
	}
	/* the fields before even: 0 is never written after the first */
	smp_wmb();
	WRITE_ONCE(vc->seq_count, cpu_to_le32((seq | 1) + 1));
}

/* The page an open file reads and maps; it holds a reference. */
static int vmclock_open(struct inode *inode, struct file *file)
{
	struct miscdevice *misc = file->private_data;
	struct hv_ptp *hp = container_of(misc, struct hv_ptp, vmclock_misc);
	struct page *page = virt_to_page(hp->vmclock);

	if (file->f_mode & FMODE_WRITE)
		return -EROFS;
	get_page(page);
	file->private_data = page;
	return 0;
}

static int vmclock_release(struct inode *inode, struct file *file)
{
	put_page(file->private_data);
	return 0;
}

/* One page at offset 0, read-only (the file is never open for writing). */
static int vmclock_mmap(struct file *file, struct vm_area_struct *vma)
{
	if (vma->vm_pgoff || vma->vm_end - vma->vm_start != PAGE_SIZE)
		return -EINVAL;
	if (vma->vm_flags & VM_WRITE)
		return -EROFS;
	return vm_insert_page(vma, vma->vm_start, file->private_data);
}

/* A consistent copy: the seq_count even and the same either side. */
static ssize_t vmclock_read(struct file *file, char __user *buf, size_t count,
			    loff_t *ppos)
{
	const struct hv_vmclock_abi *vc = page_address(file->private_data);
	unsigned int tries = 1000;
	ssize_t ret;
	void *copy;
	u32 seq;

	if (*ppos >= PAGE_SIZE)
		return 0;
	copy = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!copy)
		return -ENOMEM;
	do {
		if (!tries--) {
			kfree(copy);
			return -EAGAIN;
		}
		seq = le32_to_cpu(READ_ONCE(vc->seq_count));
		/* the count before the fields */
		smp_rmb();
		memcpy(copy, vc, PAGE_SIZE);
		/* the fields before the count again */
		smp_rmb();
	} while ((seq & 1) || seq != le32_to_cpu(READ_ONCE(vc->seq_count)));
	ret = simple_read_from_buffer(buf, count, ppos, copy, PAGE_SIZE);
	kfree(copy);
	return ret;
}

static const struct file_operations vmclock_fops = {
	.owner = THIS_MODULE,
	.open = vmclock_open,
	.release = vmclock_release,
	.mmap = vmclock_mmap,
	.read = vmclock_read,
	.llseek = default_llseek,
};

static int vmclock_bound(struct device *dev, void *data)
{
	*(struct device **)data = dev;
	return 1;
}

/**
 * hv_ptp_vmclock_register() - the page and its device, if asked for
 * @hp: the device, its status published (before the channel opens)
 *
 * Nothing when the vmclock parameter is empty. A hypervisor's own VMClock
 * (ptp_vmclock bound to a device) is left alone: refused, with a message,
 * and the module goes on without a page.
 */
int hv_ptp_vmclock_register(struct hv_ptp *hp)
{
	struct device_driver *drv;
	struct hv_vmclock_abi *vc;
	struct device *other = NULL;
	int ret;

	if (!hv_ptp_vmclock_name[0])
		return 0;
	drv = driver_find("vmclock", &platform_bus_type);
	if (drv && driver_for_each_device(drv, NULL, &other, vmclock_bound)) {
		dev_warn(&hp->hdev->device,
			 "a VMClock device is there already (%s, ptp_vmclock): no /dev/%s from us\n",
			 dev_name(other), hv_ptp_vmclock_name);
		return 0;
	}
	vc = (void *)get_zeroed_page(GFP_KERNEL);
	if (!vc)
		return -ENOMEM;
	vc->magic = cpu_to_le32(VMCLOCK_MAGIC);
	vc->size = cpu_to_le32(PAGE_SIZE);
	vc->version = cpu_to_le16(VMCLOCK_VERSION);
	vc->counter_id = VMCLOCK_COUNTER_INVALID;
	vc->time_type = VMCLOCK_TIME_UTC;
	hp->vmclock = vc;
	spin_lock_bh(&hp->lock);
	hv_ptp_vmclock_update(hp, false);
	spin_unlock_bh(&hp->lock);

	hp->vmclock_misc.minor = MISC_DYNAMIC_MINOR;
	hp->vmclock_misc.name = hv_ptp_vmclock_name;
	hp->vmclock_misc.fops = &vmclock_fops;
	hp->vmclock_misc.mode = 0444;
	ret = misc_register(&hp->vmclock_misc);
	if (ret) {
		dev_err(&hp->hdev->device, "/dev/%s: %d\n",
			hv_ptp_vmclock_name, ret);
		hp->vmclock = NULL;
		free_page((unsigned long)vc);
	}
	return ret;
}

/* The device gone; readers that keep the page find it unknown. */
void hv_ptp_vmclock_unregister(struct hv_ptp *hp)
{
	struct hv_vmclock_abi *vc = hp->vmclock;

	if (!vc)
		return;
	misc_deregister(&hp->vmclock_misc);
	spin_lock_bh(&hp->lock);
	hv_ptp_vmclock_update(hp, true);
	hp->vmclock = NULL;
	spin_unlock_bh(&hp->lock);
	/* open files and mappings hold their own references */
	free_page((unsigned long)vc);
}
