// SPDX-License-Identifier: GPL-2.0
/*
 * PHC discovery and offset measurement.
 *
 * Discovery walks /sys/class/ptp: "auto" takes the clock whose parent
 * device is bound to hv_ptp_ext, else the one named "hyperv" (Debian's
 * hv_utils). Measurement keeps the sandwich of kernel timestamps: with
 * EXTENDED, each of N readings is (system, PHC, system) taken in the kernel,
 * and the one with the narrowest window wins.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/ptp_clock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "phc.h"

#define PTP_CLASS	"/sys/class/ptp"

const char *hps_mode_name(enum hps_mode mode)
{
	static const char *const names[] = {
		[HPS_MODE_PRECISE] = "PRECISE",
		[HPS_MODE_EXTENDED] = "EXTENDED",
		[HPS_MODE_BASIC] = "BASIC",
		[HPS_MODE_NONE] = "none",
	};

	return mode <= HPS_MODE_NONE ? names[mode] : "none";
}

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	int ret = 0;

	if (!f)
		return -errno;
	if (!fgets(buf, len, f))
		ret = -EIO;
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return ret;
}

static void phc_info(int index, char *name, size_t nlen, char *drv,
		     size_t dlen)
{
	char path[PATH_MAX], link[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), PTP_CLASS "/ptp%d/clock_name", index);
	if (read_line(path, name, nlen))
		name[0] = 0;
	snprintf(path, sizeof(path), PTP_CLASS "/ptp%d/device/driver", index);
	n = readlink(path, link, sizeof(link) - 1);
	drv[0] = 0;
	if (n > 0) {
		link[n] = 0;
		base = strrchr(link, '/');
		base = base ? base + 1 : link;
		if (strlen(base) < dlen)
			memcpy(drv, base, strlen(base) + 1);
	}
}

/* The index of the PHC matching @spec, or -ENOENT. */
static int find_index(const char *spec)
{
	char name[64], drv[64];
	int index, best = -ENOENT, named = -ENOENT;
	struct dirent *de;
	DIR *d;

	d = opendir(PTP_CLASS);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (sscanf(de->d_name, "ptp%d", &index) != 1)
			continue;
		phc_info(index, name, sizeof(name), drv, sizeof(drv));
		if (!strcmp(spec, "auto")) {
			if (!strcmp(drv, "hv_ptp_ext"))
				best = index;
			else if (!strcmp(name, "hyperv"))
				named = index;
		} else if (!strcmp(name, spec)) {
			best = index;
		}
	}
	closedir(d);
	return best >= 0 ? best : named;
}

static int index_of_path(const char *path)
{
	char sys[PATH_MAX], buf[64];
	struct stat st;
	int index;
	FILE *f;

	if (stat(path, &st))
		return -errno;
	if (!S_ISCHR(st.st_mode))
		return -ENOTTY;
	snprintf(sys, sizeof(sys), "/sys/dev/char/%u:%u/uevent",
		 major(st.st_rdev), minor(st.st_rdev));
	/* DEVNAME=ptpN in the uevent file */
	f = fopen(sys, "re");
	if (!f)
		return -errno;
	index = -ENOTTY;
	while (fgets(buf, sizeof(buf), f))
		if (sscanf(buf, "DEVNAME=ptp%d", &index) == 1)
			break;
	fclose(f);
	return index;
}

static int measure(struct hps_phc *p, enum hps_mode mode, int readings,
		   struct hps_measurement *out);

int hps_phc_open(struct hps_phc *p, const char *spec, int readings,
		 char *err, size_t errlen)
{
	struct hps_measurement s;
	int index, ret;

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	if (spec[0] == '/') {
		index = index_of_path(spec);
		if (index < 0) {
			snprintf(err, errlen, "%s: %s", spec,
				 index == -ENOTTY ? "not a PTP clock" :
				 strerror(-index));
			return index;
		}
	} else {
		index = find_index(spec);
		if (index < 0) {
			if (!strcmp(spec, "auto"))
				snprintf(err, errlen, "no PTP clock of hv_ptp_ext and none named \"hyperv\"");
			else
				snprintf(err, errlen, "no PTP clock named \"%s\"", spec);
			return index;
		}
	}
	p->index = index;
	snprintf(p->path, sizeof(p->path), "/dev/ptp%d", index);
	phc_info(index, p->clock_name, sizeof(p->clock_name), p->driver,
		 sizeof(p->driver));
	p->fd = open(p->path, O_RDONLY | O_CLOEXEC);
	if (p->fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", p->path, strerror(errno));
		return ret;
	}
	for (p->mode = HPS_MODE_PRECISE; p->mode < HPS_MODE_NONE; p->mode++) {
		ret = measure(p, p->mode, readings, &s);
		/* EAGAIN: the clock has no sample yet, the mode itself works */
		if (!ret || ret == -EAGAIN)
			return 0;
		if (ret != -EOPNOTSUPP && ret != -EINVAL && ret != -ENOTTY)
			break;
	}
	snprintf(err, errlen, "%s: no offset measurement works: %s", p->path,
		 strerror(-ret));
	hps_phc_close(p);
	return ret;
}

void hps_phc_close(struct hps_phc *p)
{
	unsigned int i;

	for (i = 0; i < HPS_PHC_ATTR_FILES; i++) {
		if (p->attr[i].name)
			close(p->attr[i].fd);
		p->attr[i].name = NULL;
	}
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	p->mode = HPS_MODE_NONE;
}

static int do_ioctl(const struct hps_phc *p, unsigned long request,
		    void *arg)
{
	if (p->io && p->io->ioctl)
		return p->io->ioctl(p->fd, request, arg);
	return ioctl(p->fd, request, arg) ? -errno : 0;
}

/* A kernel timestamp in ns, or -ERANGE if it names no time we accept. */
static int ns_of(const struct ptp_clock_time *t, int64_t *ns)
{
	if (t->sec < 0 || t->sec >= HPS_MAX_SEC || t->nsec >= 1000000000U)
		return -ERANGE;
	*ns = t->sec * 1000000000LL + t->nsec;
	return 0;
}

/*
 * The narrowest of @n (system, PHC, system) triples into @out; -ERANGE if
 * one has a timestamp out of range, -EIO if none runs forwards.
 */
static int narrowest(const struct ptp_clock_time *pre,
		     const struct ptp_clock_time *phc,
		     const struct ptp_clock_time *post, int stride, int n,
		     struct hps_measurement *out)
{
	int64_t a, b, c, w, best = INT64_MAX;
	int i;

	for (i = 0; i < n; i++) {
		if (ns_of(&pre[i * stride], &a) || ns_of(&phc[i * stride], &b) ||
		    ns_of(&post[i * stride], &c))
			return -ERANGE;
		w = c - a;
		if (w < 0 || w >= best)
			continue;
		best = w;
		out->sys_ns = a + w / 2;
		out->offset_ns = out->sys_ns - b;
		out->window_ns = w;
	}
	return best == INT64_MAX ? -EIO : 0;
}

static int measure(struct hps_phc *p, enum hps_mode mode, int readings,
		   struct hps_measurement *out)
{
	struct ptp_sys_offset_precise pre;
	struct ptp_sys_offset_extended ext;
	struct ptp_sys_offset basic;
	int64_t dev;
	int ret, n;

	if (readings < 1)
		readings = 1;
	if (readings > PTP_MAX_SAMPLES)
		readings = PTP_MAX_SAMPLES;
	switch (mode) {
	case HPS_MODE_PRECISE:
		memset(&pre, 0, sizeof(pre));
		ret = do_ioctl(p, PTP_SYS_OFFSET_PRECISE, &pre);
		if (ret)
			return ret;
		if (ns_of(&pre.sys_realtime, &out->sys_ns) ||
		    ns_of(&pre.device, &dev))
			return -ERANGE;
		out->offset_ns = out->sys_ns - dev;
		out->window_ns = 0;
		return 0;
	case HPS_MODE_EXTENDED:
		memset(&ext, 0, sizeof(ext));
		ext.n_samples = readings;
		ret = do_ioctl(p, PTP_SYS_OFFSET_EXTENDED, &ext);
		if (ret)
			return ret;
		/* never more than asked for, whatever the count says now */
		n = ext.n_samples < (unsigned int)readings ? (int)ext.n_samples :
							     readings;
		return narrowest(&ext.ts[0][0], &ext.ts[0][1], &ext.ts[0][2],
				 3, n, out);
	case HPS_MODE_BASIC:
		memset(&basic, 0, sizeof(basic));
		basic.n_samples = readings;
		ret = do_ioctl(p, PTP_SYS_OFFSET, &basic);
		if (ret)
			return ret;
		n = basic.n_samples < (unsigned int)readings ?
		    (int)basic.n_samples : readings;
		return narrowest(&basic.ts[0], &basic.ts[1], &basic.ts[2], 2,
				 n, out);
	default:
		return -EOPNOTSUPP;
	}
}

/* Interrupted ioctls are retried this many times within one measurement. */
#define EINTR_RETRIES	3

int hps_phc_measure(struct hps_phc *p, int readings,
		    struct hps_measurement *out)
{
	int ret, eintr = 0;

	if (p->fd < 0)
		return -ENODEV;
	for (;;) {
		ret = measure(p, p->mode, readings, out);
		if (ret == -EINTR && eintr++ < EINTR_RETRIES)
			continue;
		if (ret != -EOPNOTSUPP && ret != -EINVAL && ret != -ENOTTY)
			return ret;
		if (p->mode + 1 >= HPS_MODE_NONE)
			return ret;
		p->mode++;
	}
}

int hps_phc_transient(int err)
{
	return err == -EAGAIN || err == -EBUSY || err == -EINTR ||
	       err == -ETIMEDOUT || err == -ERANGE || err == -EIO ||
	       err == -EBADMSG;
}

static int attr_path(const struct hps_phc *p, const char *name, char *buf,
		     size_t len)
{
	if (p->fd < 0)
		return -ENODEV;
	snprintf(buf, len, PTP_CLASS "/ptp%d/device/timesync/%s", p->index,
		 name);
	return 0;
}

/* @name's slot: the one that has it open, else a free one, else NULL. */
static struct hps_phc_attr_file *attr_slot(struct hps_phc *p, const char *name)
{
	struct hps_phc_attr_file *free_slot = NULL;
	unsigned int i;

	for (i = 0; i < HPS_PHC_ATTR_FILES; i++) {
		if (p->attr[i].name && !strcmp(p->attr[i].name, name))
			return &p->attr[i];
		if (!p->attr[i].name && !free_slot)
			free_slot = &p->attr[i];
	}
	return free_slot;
}

/*
 * Read attribute @name at @path from its start through the file kept open
 * in its slot; a file that fails to read is closed and, if it was one kept
 * from before, opened again once (the device may have gone and come back).
 */
static int read_attr(struct hps_phc *p, const char *name, const char *path,
		     char *buf, size_t len)
{
	struct hps_phc_attr_file *a = attr_slot(p, name);
	int fd, kept, ret;
	ssize_t n;

	if (len < 2)
		return -EINVAL;
	for (;;) {
		kept = a && a->name;
		fd = kept ? a->fd : open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		n = pread(fd, buf, len - 1, 0);
		ret = n < 0 ? -errno : 0;
		if (!ret && a && !kept) {
			a->name = name;
			a->fd = fd;
		} else if (ret || !a) {
			close(fd);
			if (a)
				a->name = NULL;
		}
		if (!ret || !kept)
			break;
	}
	if (ret)
		return ret;
	if (!n)
		return -EIO;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

int hps_phc_attr_str(struct hps_phc *p, const char *name, char *buf,
		     size_t len)
{
	char path[PATH_MAX];
	int ret = attr_path(p, name, path, sizeof(path));

	if (ret)
		return ret;
	if (p->io && p->io->read_line)
		return p->io->read_line(path, buf, len);
	return read_attr(p, name, path, buf, len);
}

/* A whole decimal integer: 0, or -EINVAL. */
static int parse_ll(const char *s, long long *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	if (errno || end == s || *end)
		return -EINVAL;
	return 0;
}

/* error_bound_ns's text: see hps_phc_error_bound(). */
static int parse_bound(const char *s, int64_t *bound)
{
	unsigned long long v;
	char *end;

	if (!strcmp(s, "-1"))
		return -EAGAIN;
	if (s[0] < '0' || s[0] > '9')
		return -EBADMSG;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end)
		return -EBADMSG;
	*bound = errno == ERANGE || v > HPS_MAX_BOUND_NS ? HPS_MAX_BOUND_NS :
							   (int64_t)v;
	return 0;
}

int hps_phc_attr_ll(struct hps_phc *p, const char *name, long long *v)
{
	char buf[64];
	int ret = hps_phc_attr_str(p, name, buf, sizeof(buf));

	return ret ? ret : parse_ll(buf, v);
}

int hps_phc_error_bound(struct hps_phc *p, int64_t *bound)
{
	char buf[64];
	int ret;

	ret = hps_phc_attr_str(p, "error_bound_ns", buf, sizeof(buf));
	return ret ? ret : parse_bound(buf, bound);
}

int hps_phc_record(struct hps_phc *p, int64_t *bound, struct hps_phc_attrs *a)
{
	char buf[512], *tok, *save = NULL, *val;
	int ret, bound_ret = -ENOENT;

	ret = hps_phc_attr_str(p, "record", buf, sizeof(buf));
	if (ret)
		return ret;
	a->stratum_ret = -ENOENT;
	a->leapflags_ret = -ENOENT;
	a->freq_ret = -ENOENT;
	a->leap_pending_ret = -ENOENT;
	a->disruptions_ret = -ENOENT;
	a->vmclock_ret = -ENOENT;
	a->host_utc_error_ret = -ENOENT;
	for (tok = strtok_r(buf, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		val = strchr(tok, '=');
		if (!val)
			continue;
		*val++ = 0;
		if (!strcmp(tok, "error_bound_ns"))
			bound_ret = parse_bound(val, bound);
		else if (!strcmp(tok, "stratum"))
			a->stratum_ret = parse_ll(val, &a->stratum);
		else if (!strcmp(tok, "leapflags"))
			a->leapflags_ret = parse_ll(val, &a->leapflags);
		else if (!strcmp(tok, "leap_pending"))
			a->leap_pending_ret = parse_ll(val, &a->leap_pending);
		else if (!strcmp(tok, "freq_ppb"))
			a->freq_ret = parse_ll(val, &a->freq_ppb);
		else if (!strcmp(tok, "disruptions"))
			a->disruptions_ret = parse_ll(val, &a->disruptions);
		else if (!strcmp(tok, "vmclock"))
			a->vmclock_ret = 0, a->vmclock = *val && *val != '\n';
		else if (!strcmp(tok, "host_utc_error_ns"))
			a->host_utc_error_ret = parse_ll(val, &a->host_utc_error_ns);
	}
	/* a record without a bound is not the module's: no number */
	return bound_ret == -ENOENT ? -EBADMSG : bound_ret;
}
