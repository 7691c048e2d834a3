// SPDX-License-Identifier: GPL-2.0
/*
 * hv_ptp_ext: high-precision PTP clock from the Hyper-V TimeSync channel.
 *
 * Module entry points.
 */

#include <linux/module.h>

static int __init hv_ptp_ext_init(void)
{
	pr_info("loaded\n");
	return 0;
}

static void __exit hv_ptp_ext_exit(void)
{
	pr_info("unloaded\n");
}

module_init(hv_ptp_ext_init);
module_exit(hv_ptp_ext_exit);

MODULE_DESCRIPTION("High-precision PTP clock from the Hyper-V TimeSync channel");
MODULE_LICENSE("GPL");
MODULE_VERSION("0.1.0");
