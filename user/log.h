/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Logging to stderr. Under journald ($JOURNAL_STREAM set) each line starts
 * with the syslog priority, "<3>" .. "<7>", which journald turns into the
 * entry's priority; on a terminal it says "error: ", "warning: " instead.
 */
#ifndef HPS_LOG_H
#define HPS_LOG_H

#include <syslog.h>

void hps_log_init(int level);
void hps_log(int priority, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
