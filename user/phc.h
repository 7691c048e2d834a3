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

struct hps_phc {
	int fd;
	int index;		/* N of /dev/ptpN */
	char path[32];		/* /dev/ptpN */
	char clock_name[32];
	char driver[32];	/* "" when the PHC has no parent device */
	enum hps_mode mode;	/* the best mode that works */
};

struct hps_sample {
	int64_t offset_ns;	/* system (CLOCK_REALTIME) - PHC */
	int64_t sys_ns;		/* CLOCK_REALTIME at the measurement */
	int64_t window_ns;	/* post - pre; 0 for PRECISE */
};

const char *hps_mode_name(enum hps_mode mode);

/*
 * Open the PHC named by @spec ("auto", "/dev/...", or a clock_name) and
 * probe its best mode. Returns 0, or -errno with a reason in @err.
 */
int hps_phc_open(struct hps_phc *p, const char *spec, int samples,
		 char *err, size_t errlen);
void hps_phc_close(struct hps_phc *p);

/*
 * One measurement in p->mode; if that mode fails with EOPNOTSUPP or EINVAL
 * it falls back to the next and retries. Returns 0 or -errno (ENODEV: the
 * clock is gone).
 */
int hps_phc_measure(struct hps_phc *p, int samples, struct hps_sample *out);

/*
 * Read the module's status attribute @name (device/timesync/NAME under the
 * PHC's sysfs directory) as an integer or a string. -ENOENT when the PHC is
 * not hv_ptp_ext's.
 */
int hps_phc_attr_ll(const struct hps_phc *p, const char *name, long long *v);
int hps_phc_attr_str(const struct hps_phc *p, const char *name, char *buf,
		     size_t len);

#endif
