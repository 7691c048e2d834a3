// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: user/config.c, the parser of /etc/hv-ptp-sync.conf.
 *
 * The input is the file's text (up to its first NUL). Invariants, checked
 * on every input, a violation aborting with a message:
 *
 *  - a refused file gets a message naming it and the line ("fuzz:N: ..."),
 *    and the line number is one the text has;
 *  - an accepted file yields a configuration that "hv-ptp-sync
 *    --print-config" (hps_config_print) writes back as a file that is
 *    accepted again and prints identically: every value is in range and
 *    survives the round trip.
 *
 * ASan and UBSan catch the rest.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static void fail(const char *what, const char *detail)
{
	fprintf(stderr, "invariant violated: %s: %s\n", what, detail);
	abort();
}

static char *print(const struct hps_config *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		abort();
	hps_config_print(c, f);
	if (fclose(f))
		abort();
	return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hps_config c, again;
	char err[512], err2[512];
	char *text, *out, *out2;
	unsigned long line, lines = 1;
	size_t i;

	text = malloc(size + 1);
	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = 0;
	for (i = 0; text[i]; i++)
		lines += text[i] == '\n';

	hps_config_defaults(&c);
	err[0] = 0;
	if (hps_config_parse(&c, "fuzz", text, err, sizeof(err))) {
		char *end;

		if (strncmp(err, "fuzz:", 5))
			fail("message does not name the file", err);
		line = strtoul(err + 5, &end, 10);
		if (end == err + 5 || strncmp(end, ": ", 2) || !end[2])
			fail("message does not name the line", err);
		if (line < 1 || line > lines)
			fail("message names a line the file does not have", err);
		free(text);
		return 0;
	}

	out = print(&c);
	hps_config_defaults(&again);
	if (hps_config_parse(&again, "printed", out, err2, sizeof(err2)))
		fail("the printed configuration is refused", err2);
	out2 = print(&again);
	if (strcmp(out, out2))
		fail("the configuration does not survive printing", out2);
	free(out2);
	free(out);
	free(text);
	return 0;
}
