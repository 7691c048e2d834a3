/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel-version differences for hv_ptp_ext, in one place.
 *
 * Force-included by Kbuild (-include) into every object of the module and
 * of the test-only simulated host. Each entry names the kernel version that
 * changed and what changed; driver files never test LINUX_VERSION_CODE.
 */
#ifndef HV_PTP_EXT_COMPAT_H
#define HV_PTP_EXT_COMPAT_H

#include <linux/version.h>

#endif /* HV_PTP_EXT_COMPAT_H */
