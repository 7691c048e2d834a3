// SPDX-License-Identifier: GPL-2.0
/*
 * Files written whole: into memory first, then to "PATH.tmp.PID" in the
 * same directory, renamed over PATH. Readers see the old file or the new
 * one, never a partial one. The temporary name does not end in ".prom",
 * so node_exporter's textfile collector never picks it up either.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "atomic_file.h"

int hps_write_atomic(const char *path, const char *data, size_t len)
{
	char tmp[PATH_MAX];
	size_t done = 0;
	int fd, n, ret = 0;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	/* O_NOFOLLOW: a stale symlink under the temporary name is not followed */
	fd = open(tmp, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC | O_NOFOLLOW,
		  0644);
	if (fd < 0) {
		ret = -errno;
		if (ret == -ELOOP)
			unlink(tmp);
		return ret;
	}
	while (done < len) {
		ssize_t w = write(fd, data + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			ret = w < 0 ? -errno : -EIO;
			break;
		}
		done += w;
	}
	/* Linux closes the descriptor even when close() fails */
	if (close(fd) && !ret && errno != EINTR)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

int hps_render_atomic(const char *path, const struct hps_status *st,
		      void (*fn)(FILE *f, const struct hps_status *st))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int ret, err;

	f = open_memstream(&buf, &len);
	if (!f)
		return -errno;
	fn(f, st);
	err = ferror(f);
	if (fclose(f) || err) {
		free(buf);
		return -ENOMEM;
	}
	ret = hps_write_atomic(path, buf, len);
	free(buf);
	return ret;
}
