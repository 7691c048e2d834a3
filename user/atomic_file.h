/* SPDX-License-Identifier: GPL-2.0 */
/* Files written whole, atomically (see atomic_file.c). */
#ifndef HPS_ATOMIC_FILE_H
#define HPS_ATOMIC_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "status.h"

/* Write @len bytes of @data to @path atomically. Returns 0 or -errno. */
int hps_write_atomic(const char *path, const char *data, size_t len);

/* Render @st with @fn into memory, then hps_write_atomic(). */
int hps_render_atomic(const char *path, const struct hps_status *st,
		      void (*fn)(FILE *f, const struct hps_status *st));

#endif
