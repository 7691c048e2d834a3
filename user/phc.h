/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Finding, opening and reading the PHC: by driver (hv_ptp_ext), by
 * clock_name, or by device path; never a fixed /dev/ptp0. Measurement of
 * the system clock against it: PTP_SYS_OFFSET_PRECISE, then EXTENDED
 * (narrowest of N), then BASIC.
 */
#ifndef HPS_PHC_H
#define HPS_PHC_H

#include <stddef.h>
#include <stdint.h>

enum hps_mode { HPS_MODE_PRECISE, HPS_MODE_EXTENDED, HPS_MODE_BASIC,
		HPS_MODE_NONE };

/*
 * The calls phc.c makes into the kernel for a measurement or an attribute,
 * each returning 0 or -errno; a test replaces them to play a faulty or
 * hostile clock. NULL (what hps_phc_open() sets): the real ones.
 */
struct hps_phc_io {
	int (*ioctl)(int fd, unsigned long request, void *arg);
	int (*read_line)(const char *path, char *buf, size_t len);
};

/*
 * Latest instant a timestamp may name, s (year 2242): so that it, and the
 * difference of two, fit int64_t ns. Anything later is refused (ERANGE).
 */
#define HPS_MAX_SEC	(1LL << 33)

/* The status attributes a poll reads, kept open (see hps_phc_attr_str()). */
#define HPS_PHC_ATTR_FILES	8

struct hps_phc_attr_file {
	const char *name;	/* a string the caller keeps; NULL: free */
	int fd;
};

struct hps_phc {
	const struct hps_phc_io *io;
	int fd;
	struct hps_phc_attr_file attr[HPS_PHC_ATTR_FILES];
	int index;		/* N of /dev/ptpN */
	char path[32];		/* /dev/ptpN */
	char clock_name[32];
	char driver[32];	/* "" when the PHC has no parent device */
	enum hps_mode mode;	/* the best mode that works */
};

struct hps_measurement {
	int64_t offset_ns;	/* system (CLOCK_REALTIME) - PHC */
	int64_t sys_ns;		/* CLOCK_REALTIME at the measurement */
	int64_t window_ns;	/* post - pre; 0 for PRECISE */
};

const char *hps_mode_name(enum hps_mode mode);

/*
 * Open the PHC named by @spec ("auto", "/dev/...", or a clock_name) and
 * probe its best mode. Returns 0, or -errno with a reason in @err.
 */
int hps_phc_open(struct hps_phc *p, const char *spec, int readings,
		 char *err, size_t errlen);
void hps_phc_close(struct hps_phc *p);

/*
 * One measurement in p->mode; if that mode fails with EOPNOTSUPP or EINVAL
 * it falls back to the next and retries; an ioctl interrupted (EINTR) is
 * retried too, a few times. Returns 0 or -errno: ENODEV, the clock is gone;
 * ERANGE, it answered with a timestamp that is no time (nanoseconds of
 * 10^9 or more, before 1970 or after HPS_MAX_SEC).
 */
int hps_phc_measure(struct hps_phc *p, int readings, struct hps_measurement *out);

/*
 * Whether the error of hps_phc_measure() is worth a retry at the next poll
 * on the same open clock (no sample yet, busy, interrupted, a timestamp out
 * of range, an error bound that is no number) rather than closing and
 * finding the clock again.
 */
int hps_phc_transient(int err);

/*
 * Read the module's status attribute @name (device/timesync/NAME under the
 * PHC's sysfs directory) as an integer or a string. -ENOENT when the PHC is
 * not hv_ptp_ext's. The file stays open until hps_phc_close() and is read
 * again from its start at each call (sysfs makes the value anew), so a
 * poll does not walk the sysfs path of each attribute; one that fails is
 * opened again, once. @name must stay valid as long (a literal).
 */
int hps_phc_attr_ll(struct hps_phc *p, const char *name, long long *v);
/*
 * The module's error_bound_ns: 0 when it is read, saturated at
 * HPS_MAX_BOUND_NS. -ENOENT for a PHC that is not hv_ptp_ext's (the core
 * decides what that means), -EAGAIN while the module has no model ("-1"),
 * -EBADMSG for anything else that is no count of ns.
 */
#define HPS_MAX_BOUND_NS	(1LL << 50)	/* 13 days */
int hps_phc_error_bound(struct hps_phc *p, int64_t *bound);

/*
 * What the PHC publishes besides its time (hv_ptp_ext's timesync group),
 * each with the result of reading it: 0, -ENOENT (the clock has no such
 * attribute: another driver), or another -errno (unreadable; and, once
 * the core has judged it, -ERANGE: out of the range it believes).
 */
struct hps_phc_attrs {
	int stratum_ret;
	long long stratum;
	int leapflags_ret;
	long long leapflags;
	int freq_ret;
	long long freq_ppb;
	int leap_pending_ret;
	long long leap_pending;	/* 1 insert, 2 delete at the next midnight */
	int disruptions_ret;
	long long disruptions;	/* the module's count of disruptions */
	int vmclock_ret;
	int vmclock;		/* the module writes a VMClock page */
	int host_utc_error_ret;
	long long host_utc_error_ns; /* the module's declared host-vs-UTC error */
};

/*
 * The module's error bound and @a from one read of its record attribute
 * (one consistent copy of its state; see the module's ABI document).
 * Returns what hps_phc_error_bound() would for the bound; each field of
 * @a has its own result as hps_phc_attr_ll() would give it for the
 * attribute of that name (-ENOENT for a key the record lacks; the values
 * as they are, whether they are believed is the core's to judge); and
 * -ENOENT as a whole when the PHC has no record (not hv_ptp_ext's, or an
 * older one): read the attributes one by one.
 */
int hps_phc_record(struct hps_phc *p, int64_t *bound, struct hps_phc_attrs *a);

int hps_phc_attr_str(struct hps_phc *p, const char *name, char *buf,
		     size_t len);

#endif
