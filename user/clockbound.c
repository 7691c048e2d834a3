// SPDX-License-Identifier: GPL-2.0
/*
 * The ClockBound v2 segment: writer (the daemon) and reader (hv-ptp-now,
 * the tests). See clockbound.h for the layout; it is written field by
 * field at fixed offsets, not as a C struct, so no compiler's padding
 * decides it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clockbound.h"

#define OFF_MAGIC	0
#define OFF_SIZE	8
#define OFF_VERSION	12
#define OFF_GENERATION	14
#define OFF_AS_OF	16
#define OFF_VOID_AFTER	32
#define OFF_BOUND	48
#define OFF_MARKER	56
#define OFF_DRIFT	64
#define OFF_STATUS	68
#define OFF_SUPPORT	72

/*
 * The magic as ClockBound's own code has it: two native-endian u32,
 * 0x414d5a4e 0x43420200 (the protocol's "0x41 0x4D 0x5A 0x4E 0x43 0x42
 * 0x02 0x00" are their digits, not the bytes on a little-endian machine).
 */
static const uint32_t magic[2] = { 0x414d5a4e, 0x43420200 };

const char *hps_cb_status_name(int status)
{
	switch (status) {
	case HPS_CB_UNKNOWN:
		return "unknown";
	case HPS_CB_SYNCHRONIZED:
		return "synchronized";
	case HPS_CB_FREE_RUNNING:
		return "free-running";
	case HPS_CB_DISRUPTED:
		return "disrupted";
	}
	return "?";
}

/* The generation, shared with readers in other processes. */
static _Atomic uint16_t *gen_of(const void *seg)
{
	return (_Atomic uint16_t *)((unsigned char *)seg + OFF_GENERATION);
}

static void put(unsigned char *seg, size_t off, const void *v, size_t n)
{
	memcpy(seg + off, v, n);
}

static void get(const unsigned char *seg, size_t off, void *v, size_t n)
{
	memcpy(v, seg + off, n);
}

static void put_ts(unsigned char *seg, size_t off, const struct timespec *ts)
{
	int64_t s = ts->tv_sec, ns = ts->tv_nsec;

	put(seg, off, &s, 8);
	put(seg, off + 8, &ns, 8);
}

static void get_ts(const unsigned char *seg, size_t off, struct timespec *ts)
{
	int64_t s, ns;

	get(seg, off, &s, 8);
	get(seg, off + 8, &ns, 8);
	ts->tv_sec = s;
	ts->tv_nsec = ns;
}

/* A directory, 0755 whatever the umask, unless it is there already. */
static int make_dir(const char *dir)
{
	if (mkdir(dir, 0755))
		return errno == EEXIST ? 0 : -1;
	return chmod(dir, 0755);
}

/* mkdir -p of @path's directory, 0755. */
static int make_parent(const char *path)
{
	char dir[PATH_MAX];
	char *p;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	p = strrchr(dir, '/');
	if (!p || p == dir)
		return 0;
	*p = 0;
	for (p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (make_dir(dir))
			return -errno;
		*p = '/';
	}
	return make_dir(dir) ? -errno : 0;
}

int hps_cb_open(struct hps_cb_writer *w, const char *path, char *err,
		size_t errlen)
{
	uint32_t size = HPS_CB_SIZE;
	uint16_t version = HPS_CB_VERSION, gen = 0;
	struct stat sb;
	void *map;
	int fd, ret;

	w->fd = -1;
	w->seg = NULL;
	ret = make_parent(path);
	if (ret) {
		snprintf(err, errlen, "%s: cannot create its directory: %s",
			 path, strerror(-ret));
		return ret;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return ret;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, errno == EWOULDBLOCK ?
			 "another hv-ptp-sync writes it" : strerror(errno));
		goto fail;
	}
	if (fstat(fd, &sb)) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(sb.st_mode)) {
		ret = -EINVAL;
		snprintf(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	/* readable by all, whatever the umask; writable by us only */
	if (fchmod(fd, 0644) ||
	    (sb.st_size != HPS_CB_SIZE && ftruncate(fd, HPS_CB_SIZE))) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	map = mmap(NULL, HPS_CB_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		ret = -errno;
		snprintf(err, errlen, "%s: mmap: %s", path, strerror(errno));
		goto fail;
	}
	w->fd = fd;
	w->seg = map;
	/*
	 * A segment from before (a restart): its readers, who keep it
	 * mapped, see the generation and the marker go on.
	 */
	w->prev_marker = 0;
	w->had_prev = 0;
	if (sb.st_size == HPS_CB_SIZE && !memcmp(w->seg, magic, sizeof(magic))) {
		gen = atomic_load_explicit(gen_of(w->seg), memory_order_relaxed);
		get(w->seg, OFF_MARKER, &w->prev_marker, 8);
		w->had_prev = 1;
	}
	w->generation = gen & ~1u;
	/* odd: nothing in it yet to be read */
	atomic_store_explicit(gen_of(w->seg), w->generation + 1,
			      memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	put(w->seg, OFF_MAGIC, magic, sizeof(magic));
	put(w->seg, OFF_SIZE, &size, 4);
	put(w->seg, OFF_VERSION, &version, 2);
	return 0;
fail:
	close(fd);
	return ret;
}

void hps_cb_write(struct hps_cb_writer *w, const struct hps_cb_values *v)
{
	unsigned char *seg = w->seg;
	uint16_t odd = w->generation + 1;

	if (!seg)
		return;
	/* even -> odd, before any value changes */
	atomic_store_explicit(gen_of(seg), odd, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	put_ts(seg, OFF_AS_OF, &v->as_of);
	put_ts(seg, OFF_VOID_AFTER, &v->void_after);
	put(seg, OFF_BOUND, &v->bound_ns, 8);
	put(seg, OFF_MARKER, &v->disruption_marker, 8);
	put(seg, OFF_DRIFT, &v->max_drift_ppb, 4);
	put(seg, OFF_STATUS, &v->status, 4);
	put(seg, OFF_SUPPORT, &v->disruption_support, 1);
	/* the values, then odd -> even; 65534 + 2 wraps to 2, never 0 */
	w->generation = (uint16_t)(odd + 1) ?: 2;
	atomic_store_explicit(gen_of(seg), w->generation, memory_order_release);
}

void hps_cb_close(struct hps_cb_writer *w)
{
	if (w->seg)
		munmap(w->seg, HPS_CB_SIZE);
	if (w->fd >= 0)
		close(w->fd);
	w->seg = NULL;
	w->fd = -1;
}

int hps_cb_read(const void *seg, size_t len, int tries,
		struct hps_cb_values *v)
{
	const unsigned char *s = seg;
	unsigned char copy[HPS_CB_SIZE];
	uint16_t g1, g2, version;
	uint32_t size;

	if (len < HPS_CB_SIZE || memcmp(s, magic, sizeof(magic)))
		return -EINVAL;
	while (tries-- > 0) {
		g1 = atomic_load_explicit(gen_of(s), memory_order_acquire);
		if (g1 & 1) {
			sched_yield();	/* a writer is at it: let it finish */
			continue;
		}
		memcpy(copy, s, sizeof(copy));
		atomic_thread_fence(memory_order_acquire);
		g2 = atomic_load_explicit(gen_of(s), memory_order_relaxed);
		if (g1 != g2 || !g1)
			continue;
		get(copy, OFF_SIZE, &size, 4);
		get(copy, OFF_VERSION, &version, 2);
		if (size < HPS_CB_SIZE || size > len || version != HPS_CB_VERSION)
			return -EINVAL;
		get_ts(copy, OFF_AS_OF, &v->as_of);
		get_ts(copy, OFF_VOID_AFTER, &v->void_after);
		get(copy, OFF_BOUND, &v->bound_ns, 8);
		get(copy, OFF_MARKER, &v->disruption_marker, 8);
		get(copy, OFF_DRIFT, &v->max_drift_ppb, 4);
		get(copy, OFF_STATUS, &v->status, 4);
		get(copy, OFF_SUPPORT, &v->disruption_support, 1);
		return 0;
	}
	return -EAGAIN;
}

static __int128 ts_ns(const struct timespec *ts)
{
	return (__int128)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

int hps_cb_now(const struct hps_cb_values *v, const struct timespec *mono,
	       int64_t *bound_ns, int *status)
{
	__int128 now = ts_ns(mono), dt, b;

	if (v->max_drift_ppb >= 1000000000)
		return -EINVAL;
	/* within 1 us before as-of is as-of; earlier breaks causality */
	dt = now - ts_ns(&v->as_of);
	if (dt < -1000)
		return -ERANGE;
	if (dt < 0)
		dt = 0;
	b = (__int128)v->bound_ns +
	    (dt * v->max_drift_ppb + 999999999) / 1000000000;
	/* the clients' 64-bit sum would wrap: earliest after latest */
	if (v->bound_ns < 0 || b > INT64_MAX)
		return -EOVERFLOW;
	*bound_ns = (int64_t)b;
	*status = v->status;
	if (v->status != HPS_CB_SYNCHRONIZED &&
	    v->status != HPS_CB_FREE_RUNNING)
		return 0;
	/*
	 * A written status is trusted for the restart grace whatever
	 * void-after says; after it, free-running until void-after.
	 */
	if (now < ts_ns(&v->as_of) + HPS_CB_GRACE_NS)
		return 0;
	*status = now < ts_ns(&v->void_after) ? HPS_CB_FREE_RUNNING :
						 HPS_CB_UNKNOWN;
	return 0;
}
