// SPDX-License-Identifier: GPL-2.0
/* Logging to stderr with syslog priority prefixes for journald. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

static int max_level = LOG_INFO;
static int journal;

void hps_log_init(int level)
{
	const char *js = getenv("JOURNAL_STREAM");

	max_level = level;
	journal = js && *js;
}

void hps_log(int priority, const char *fmt, ...)
{
	static const char *const words[] = {
		[LOG_EMERG] = "error: ", [LOG_ALERT] = "error: ",
		[LOG_CRIT] = "error: ", [LOG_ERR] = "error: ",
		[LOG_WARNING] = "warning: ", [LOG_NOTICE] = "",
		[LOG_INFO] = "", [LOG_DEBUG] = "debug: ",
	};
	va_list ap;

	if (priority > max_level)
		return;
	if (journal)
		fprintf(stderr, "<%d>", priority);
	else
		fprintf(stderr, "hv-ptp-sync: %s", words[priority & 7]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
