// SPDX-License-Identifier: GPL-2.0
/*
 * hv-ptp-sync's privileges, with libcap: the daemon needs CAP_SYS_TIME for
 * adjtimex(), clock_adjtime() and clock_settime(), and nothing else. The
 * PHC (/dev/ptpN, root's, 0600), /run/hv-ptp-sync and the configuration
 * are root's own, so root needs no capability to open them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "caps.h"

int hps_caps_restrict(char *err, size_t errlen)
{
	cap_value_t keep = CAP_SYS_TIME, setpcap = CAP_SETPCAP;
	cap_flag_value_t have = CAP_CLEAR, can_bound = CAP_CLEAR;
	cap_value_t c;
	cap_t caps;
	int ret = -1;

	caps = cap_get_proc();
	if (!caps) {
		snprintf(err, errlen, "capabilities: %s", strerror(errno));
		return -1;
	}
	cap_get_flag(caps, keep, CAP_PERMITTED, &have);
	cap_get_flag(caps, setpcap, CAP_EFFECTIVE, &can_bound);
	if (have != CAP_SET) {
		snprintf(err, errlen,
			 "no CAP_SYS_TIME: run as root, or give it with AmbientCapabilities=");
		goto out;
	}
	/* the bounding set needs CAP_SETPCAP; under systemd it is set already */
	if (can_bound == CAP_SET) {
		for (c = 0; CAP_IS_SUPPORTED(c); c++) {
			if (c != keep && cap_drop_bound(c)) {
				snprintf(err, errlen, "dropping capability %d: %s",
					 c, strerror(errno));
				goto out;
			}
		}
	}
	if (cap_clear(caps) ||
	    cap_set_flag(caps, CAP_PERMITTED, 1, &keep, CAP_SET) ||
	    cap_set_flag(caps, CAP_EFFECTIVE, 1, &keep, CAP_SET) ||
	    cap_set_proc(caps)) {
		snprintf(err, errlen, "keeping CAP_SYS_TIME only: %s", strerror(errno));
		goto out;
	}
	if (CAP_AMBIENT_SUPPORTED() && cap_reset_ambient()) {
		snprintf(err, errlen, "clearing ambient capabilities: %s", strerror(errno));
		goto out;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		snprintf(err, errlen, "no_new_privs: %s", strerror(errno));
		goto out;
	}
	ret = 0;
out:
	cap_free(caps);
	return ret;
}
