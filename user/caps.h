/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hv-ptp-sync's privileges: CAP_SYS_TIME and nothing else.
 */
#ifndef HPS_CAPS_H
#define HPS_CAPS_H

#include <stddef.h>

/*
 * Keep only CAP_SYS_TIME, effective and permitted; drop every other
 * capability from the bounding set where we may (as root outside systemd),
 * clear the inheritable and ambient sets, and set no_new_privs. Returns 0,
 * or -1 with a message in @err (no CAP_SYS_TIME to keep, or a call failed).
 */
int hps_caps_restrict(char *err, size_t errlen);

#endif /* HPS_CAPS_H */
