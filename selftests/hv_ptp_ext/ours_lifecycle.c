// SPDX-License-Identifier: GPL-2.0
/*
 * hv_ptp_ext's life cycle: taking TimeSync over from hv_utils in both load
 * orders and giving it back, and 200 load/unload cycles under load.
 */
#define _GNU_SOURCE
#include "ours.h"

/*
 * Whether hv_utils' PHC exists: a clock named "hyperv" that is not ours
 * (hv_utils registers it without a parent device, so it has no driver link).
 */
static int intree_bound(void)
{
	char path[300], link[300], name[64];
	int i, found = 0, n;
	FILE *f;

	for (i = 0; i < 32; i++) {
		snprintf(path, sizeof(path), "/sys/class/ptp/ptp%d/clock_name", i);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(name, sizeof(name), f))
			name[0] = 0;
		fclose(f);
		if (strcmp(name, "hyperv\n"))
			continue;
		snprintf(path, sizeof(path), "/sys/class/ptp/ptp%d/device/driver", i);
		n = readlink(path, link, sizeof(link) - 1);
		link[n > 0 ? n : 0] = 0;
		if (!strstr(link, "hv_ptp_ext"))
			found = 1;
	}
	return found;
}

/*
 * Both load orders end with us owning TimeSync and the in-tree PHC gone;
 * unloading us gives the device back and hv_utils' PHC reappears.
 */
TEST_F(ours, takeover_both_orders)
{
	const char *order[] = { "--ours", "--ours-first" };
	int k;

	for (k = 0; k < 2; k++) {
		ASSERT_EQ(0, rig_load("%s", order[k]));
		sleep_ms(300);
		EXPECT_TRUE(sim_stat_is("dev0.driver", "hv_ptp_ext"));
		EXPECT_FALSE(intree_bound());
		EXPECT_EQ(1, sim_stat("dev0.negotiated"));
		ASSERT_EQ(0, system("/sbin/rmmod hv_ptp_ext"));
		sleep_ms(300);
		EXPECT_TRUE(sim_stat_is("dev0.driver", "hv_utils"));
		EXPECT_TRUE(intree_bound());
		EXPECT_EQ(1, sim_stat("dev0.negotiated"));
	}
	/* takeover=0 leaves hv_utils alone */
	ASSERT_EQ(0, rig_load("--ours ours.takeover=0"));
	EXPECT_TRUE(sim_stat_is("dev0.driver", "hv_utils"));
	/* a bad parameter is refused at load */
	ASSERT_EQ(0, system("/sbin/rmmod hv_ptp_ext"));
	EXPECT_NE(0, system("/sbin/insmod /rig/mod/hv_ptp_ext.ko window=1 2>/dev/null"));
	EXPECT_NE(0, system("/sbin/insmod /rig/mod/hv_ptp_ext.ko clock_name= 2>/dev/null"));
	EXPECT_NE(0, system("/sbin/insmod /rig/mod/hv_ptp_ext.ko stale_ms=abc 2>/dev/null"));
	EXPECT_EQ(0, system("/sbin/insmod /rig/mod/hv_ptp_ext.ko window=64"));
}

struct hammer {
	long long opens, reads, enodev;
};

/*
 * The reader of load_unload_cycles, on CPU 1: opens the PHC by name and
 * hammers it with clock_gettime, PTP_SYS_OFFSET_EXTENDED and _PRECISE
 * until a read fails (ENODEV: the clock was unregistered under it; EAGAIN:
 * no sample yet), then closes and opens again. Each open() is made holding @lock_path, which the loader
 * holds while it runs insmod: see load_unload_cycles.
 */
static void __attribute__((noreturn)) hammer_phc(const char *lock_path,
						  struct hammer *h)
{
	struct ptp_sys_offset_extended ext = { .n_samples = 3 };
	struct ptp_sys_offset_precise pre;
	int lock = open(lock_path, O_RDWR);
	long long ns;
	int fd;

	pin_cpu(1);
	for (;;) {
		flock(lock, LOCK_EX);
		fd = phc_open("hyperv");
		flock(lock, LOCK_UN);
		if (fd < 0)
			continue;
		h->opens++;
		for (;;) {
			memset(&pre, 0, sizeof(pre));
			if (phc_gettime(fd, &ns) ||
			    ioctl(fd, PTP_SYS_OFFSET_EXTENDED, &ext))
				break;
			if (ioctl(fd, PTP_SYS_OFFSET_PRECISE, &pre)) {
#ifdef __aarch64__
				/* none until the CNTVCT fit is valid (~3 s) */
				if (errno == EOPNOTSUPP) {
					h->reads++;
					continue;
				}
#endif
				break;
			}
			h->reads++;
		}
		h->enodev += errno == ENODEV;
		close(fd);
	}
}

/*
 * The other CPU's reader of load_unload_cycles: every status attribute of
 * every PHC, read over and over while the device comes and goes.
 */
static void __attribute__((noreturn)) hammer_sysfs(struct hammer *h)
{
	char buf[128];
	glob_t g;
	size_t i;
	int fd;

	pin_cpu(0);
	for (;;) {
		if (glob("/sys/class/ptp/ptp*/device/timesync/*", 0, NULL, &g))
			continue;
		for (i = 0; i < g.gl_pathc; i++) {
			fd = open(g.gl_pathv[i], O_RDONLY);
			if (fd < 0)
				continue;
			if (read(fd, buf, sizeof(buf)) > 0)
				h->reads++;
			close(fd);
		}
		globfree(&g);
	}
}

/* Switches the clocksource to ours and back, every 30 ms. */
static void __attribute__((noreturn)) switch_clocksource(struct hammer *h)
{
	for (;;) {
		if (!write_str(CS_DIR "current_clocksource", "hv_ptp_ext"))
			h->opens++;
		sleep_ms(30);
		write_str(CS_DIR "current_clocksource", "tsc");
		sleep_ms(30);
	}
}

/*
 * 200 unload/load cycles while CPU 1 hammers the PHC, CPU 0 its status
 * attributes, and the clocksource is switched to ours and back, so that
 * reads are in flight and files open while the clock is unregistered, and
 * closed after. The kernel log must stay clean.
 *
 * Opens are kept out of insmod: posix_clock_register() (6.1 and 6.12) sets
 * clk->dev only after cdev_device_add() has made the device node live, so
 * an open() in that window takes no device reference and its close() puts
 * one (refcount underflow, use-after-free). That is a kernel bug, hit by
 * every PTP driver, hv_utils included. Without the lock this reader hit
 * it within 200 cycles on both kernels; with it, 200 cycles stay clean.
 */
TEST_F_TIMEOUT(ours, load_unload_cycles, 600)
{
	static const char lock_path[] = "/tmp/load_unload.lock";
	struct hammer *h;
	pid_t pids[3];
	int i, lock, splats;

	RIG_SOAK_OR_SKIP("cycles");
	h = mmap(NULL, 3 * sizeof(*h), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, h);
	lock = open(lock_path, O_RDWR | O_CREAT, 0600);
	ASSERT_LE(0, lock);
	ASSERT_EQ(0, rig_load("--ours --no-hv-utils interval_ms=100"));
	splats = kmsg_splats();
	for (i = 0; i < 3; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (pids[i])
			continue;
		if (i == 0)
			hammer_phc(lock_path, &h[0]);
		if (i == 1)
			hammer_sysfs(&h[1]);
		switch_clocksource(&h[2]);
	}
	for (i = 0; i < 200; i++) {
		sleep_ms(100);
		ASSERT_EQ(0, system("/sbin/rmmod hv_ptp_ext"));
		flock(lock, LOCK_EX);
		ASSERT_EQ(0, system("/sbin/insmod /rig/mod/hv_ptp_ext.ko"));
		flock(lock, LOCK_UN);
	}
	sleep_ms(200);
	for (i = 0; i < 3; i++) {
		kill(pids[i], SIGKILL);
		waitpid(pids[i], NULL, 0);
	}
	TH_LOG("PHC reader: %lld opens, %lld reads, %lld ended by ENODEV; sysfs reader: %lld reads; %lld switches to our clocksource",
	       h[0].opens, h[0].reads, h[0].enodev, h[1].reads, h[2].opens);
	EXPECT_LE(200, h[0].opens);
	EXPECT_LE(100, h[0].enodev);
	EXPECT_LT(0, h[1].reads);
	EXPECT_LT(0, h[2].opens);
	EXPECT_EQ(splats, kmsg_splats());
	EXPECT_TRUE(sim_stat_is("dev0.driver", "hv_ptp_ext"));
	EXPECT_EQ(0, sim_stat("dev0.bad_responses"));
	EXPECT_EQ(201, sim_stat("dev0.opens"));
	munmap(h, 3 * sizeof(*h));
	close(lock);
}

TEST_HARNESS_MAIN
