// SPDX-License-Identifier: GPL-2.0
/*
 * mini-kmod: insmod and rmmod for a guest without kmod (arm64-guest.sh's
 * initramfs, whose busybox cannot cross-load kmod's shared libraries).
 * Called by the name it is linked as, with kmod's syntax as rig-load and
 * the tests use it:
 *
 *	insmod [-f] FILE [PARAM=VALUE ...]
 *	rmmod [-f] NAME
 *
 * -f loads ignoring symbol versions and the vermagic, as kmod's insmod -f
 * does (finit_module() flags). As modprobe (not insmod) does, parameters
 * given on the kernel command line as NAME.PARAM=VALUE (NAME: the file's
 * name without .ko) come first, so that those given here override them:
 * arm64-guest.sh sets the simulator's hypercall latency that way. Exit
 * status 1 on failure, with the reason on standard error, as kmod's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MODULE_INIT_IGNORE_MODVERSIONS
#define MODULE_INIT_IGNORE_MODVERSIONS	1
#define MODULE_INIT_IGNORE_VERMAGIC	2
#endif

/* The NAME.PARAM=VALUE words of /proc/cmdline as "PARAM=VALUE ...". */
static char *cmdline_params(const char *file)
{
	static char line[4096], out[4096], name[256];
	char *base, *dot, *w, *save;
	size_t n = 0, nl;
	FILE *f;

	snprintf(name, sizeof(name), "%s", file);
	base = basename(name);
	dot = strstr(base, ".ko");
	if (dot)
		*dot = 0;
	nl = strlen(base);
	f = fopen("/proc/cmdline", "r");
	if (!f)
		return out;
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	fclose(f);
	for (w = strtok_r(line, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
		if (strncmp(w, base, nl) || w[nl] != '.' || !strchr(w, '='))
			continue;
		n += snprintf(out + n, sizeof(out) - n, "%s%s", n ? " " : "", w + nl + 1);
		if (n >= sizeof(out))
			break;
	}
	return out;
}

static int do_insmod(int argc, char **argv)
{
	unsigned int flags = 0;
	const char *pre;
	size_t len = 2;
	char *params;
	int i = 1, fd;

	if (i < argc && !strcmp(argv[i], "-f")) {
		flags = MODULE_INIT_IGNORE_MODVERSIONS | MODULE_INIT_IGNORE_VERMAGIC;
		i++;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: insmod [-f] FILE [PARAM=VALUE ...]\n");
		return 1;
	}
	fd = open(argv[i], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "insmod: ERROR: could not open '%s': %s\n",
			argv[i], strerror(errno));
		return 1;
	}
	pre = cmdline_params(argv[i]);
	len += strlen(pre);
	for (int j = i + 1; j < argc; j++)
		len += strlen(argv[j]) + 1;
	params = calloc(1, len);
	if (!params)
		return 1;
	strcpy(params, pre);
	for (int j = i + 1; j < argc; j++) {
		if (params[0])
			strcat(params, " ");
		strcat(params, argv[j]);
	}
	if (syscall(SYS_finit_module, fd, params, flags)) {
		fprintf(stderr, "insmod: ERROR: could not insert module %s: %s\n",
			argv[i], strerror(errno));
		return 1;
	}
	return 0;
}

static int do_rmmod(int argc, char **argv)
{
	unsigned int flags = O_NONBLOCK;
	int i = 1;

	if (i < argc && !strcmp(argv[i], "-f")) {
		flags |= O_TRUNC;
		i++;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: rmmod [-f] NAME\n");
		return 1;
	}
	if (syscall(SYS_delete_module, argv[i], flags)) {
		fprintf(stderr, "rmmod: ERROR: could not remove module %s: %s\n",
			argv[i], strerror(errno));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *name = basename(argv[0]);

	if (!strcmp(name, "insmod"))
		return do_insmod(argc, argv);
	if (!strcmp(name, "rmmod"))
		return do_rmmod(argc, argv);
	fprintf(stderr, "mini-kmod: called as insmod or rmmod, not %s\n", name);
	return 2;
}
