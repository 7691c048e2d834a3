// SPDX-License-Identifier: GPL-2.0
/*
 * user/clockbound.c: the ClockBound v2 segment, byte for byte as the
 * protocol lays it out, the generation protocol (odd while written, even
 * after, 2 after the wrap, never 0), a reader racing a writer never
 * taking a torn copy, and the bound a client computes from it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clockbound.h"
#include "kselftest_harness.h"

/* the test program's own pid: each test runs in a child of it */
static pid_t top;

__attribute__((constructor)) static void set_top(void)
{
	top = getpid();
}

static void tmp_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "/tmp/hps-cb-%d/%s", top, name);
}

/* the files the tests made, when they are done */
__attribute__((destructor)) static void cleanup(void)
{
	char cmd[64];

	if (getpid() != top)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf /tmp/hps-cb-%d", top);
	if (system(cmd))
		fprintf(stderr, "%s failed\n", cmd);
}

static uint16_t gen_at(const unsigned char *seg)
{
	uint16_t g;

	memcpy(&g, seg + 14, 2);
	return g;
}

static struct hps_cb_values sample(int64_t i)
{
	return (struct hps_cb_values){
		.as_of = { .tv_sec = 100 + i, .tv_nsec = 5 },
		.void_after = { .tv_sec = 103 + i, .tv_nsec = 5 },
		.bound_ns = 1000 + i,
		.disruption_marker = 7 + i,
		.max_drift_ppb = 600,
		.status = HPS_CB_SYNCHRONIZED,
	};
}

/* The layout at its offsets, and the file's mode and size. */
TEST(layout)
{
	/* as ClockBound's own code writes it: two native-endian u32 */
	static const uint32_t magic[2] = { 0x414d5a4e, 0x43420200 };
	struct hps_cb_values v = sample(0);
	struct hps_cb_writer w;
	char path[128], err[256];
	unsigned char *s;
	int64_t i64;
	uint32_t u32;
	uint16_t u16;
	struct stat sb;

	umask(077);	/* the segment is 0644 whatever the umask */
	tmp_path(path, sizeof(path), "a/b/shm0");
	ASSERT_EQ(0, hps_cb_open(&w, path, err, sizeof(err))) TH_LOG("%s", err);
	hps_cb_write(&w, &v);
	s = w.seg;
	EXPECT_EQ(0, memcmp(s, magic, 8));
	memcpy(&u32, s + 8, 4);
	EXPECT_EQ(80, u32);
	memcpy(&u16, s + 12, 2);
	EXPECT_EQ(2, u16);
	EXPECT_EQ(2, gen_at(s));
	memcpy(&i64, s + 16, 8);
	EXPECT_EQ(100, i64);
	memcpy(&i64, s + 24, 8);
	EXPECT_EQ(5, i64);
	memcpy(&i64, s + 32, 8);
	EXPECT_EQ(103, i64);
	memcpy(&i64, s + 48, 8);
	EXPECT_EQ(1000, i64);
	memcpy(&i64, s + 56, 8);
	EXPECT_EQ(7, i64);
	memcpy(&u32, s + 64, 4);
	EXPECT_EQ(600, u32);
	memcpy(&u32, s + 68, 4);
	EXPECT_EQ(1, u32);
	EXPECT_EQ(0, s[72]);
	ASSERT_EQ(0, stat(path, &sb));
	EXPECT_EQ(0644, sb.st_mode & 0777);
	EXPECT_EQ(80, sb.st_size);
	tmp_path(path, sizeof(path), "a/b");
	ASSERT_EQ(0, stat(path, &sb));
	EXPECT_EQ(0755, sb.st_mode & 0777);
	umask(022);
	hps_cb_close(&w);
}

/*
 * A second writer is refused; a new writer of the same file carries the
 * generation on; 65534 + 2 wraps to 2; the reader gets what was written.
 */
TEST(generation)
{
	struct hps_cb_writer w, w2;
	struct hps_cb_values v = sample(3), r;
	char path[128], err[256];
	uint16_t g;
	int i;

	tmp_path(path, sizeof(path), "gen");
	ASSERT_EQ(0, hps_cb_open(&w, path, err, sizeof(err))) TH_LOG("%s", err);
	/* odd until the first write: nothing to read yet */
	EXPECT_EQ(1, gen_at(w.seg) & 1);
	EXPECT_EQ(-EAGAIN, hps_cb_read(w.seg, HPS_CB_SIZE, 10, &r));
	EXPECT_EQ(-EWOULDBLOCK, hps_cb_open(&w2, path, err, sizeof(err)));
	TH_LOG("second writer: %s", err);
	for (i = 0; i < 5; i++)
		hps_cb_write(&w, &v);
	g = gen_at(w.seg);
	EXPECT_EQ(10, g);
	hps_cb_close(&w);
	ASSERT_EQ(0, hps_cb_open(&w, path, err, sizeof(err)));
	hps_cb_write(&w, &v);
	EXPECT_EQ(g + 2, gen_at(w.seg));
	w.generation = 65534;
	hps_cb_write(&w, &v);
	EXPECT_EQ(2, gen_at(w.seg));
	ASSERT_EQ(0, hps_cb_read(w.seg, HPS_CB_SIZE, 10, &r));
	EXPECT_EQ(0, memcmp(&v.as_of, &r.as_of, sizeof(v.as_of)));
	EXPECT_EQ(v.bound_ns, r.bound_ns);
	EXPECT_EQ(v.disruption_marker, r.disruption_marker);
	EXPECT_EQ(v.max_drift_ppb, r.max_drift_ppb);
	EXPECT_EQ(v.status, r.status);
	EXPECT_EQ(0, r.disruption_support);
	hps_cb_close(&w);
}

/* Not a segment of version 2: refused; nor the magic's digits as bytes. */
TEST(foreign)
{
	static const uint32_t magic[2] = { 0x414d5a4e, 0x43420200 };
	unsigned char seg[HPS_CB_SIZE] = { 0 };
	struct hps_cb_values r;
	uint16_t g = 2, version = 1;
	uint32_t size = 80;

	memcpy(seg, "AMZNCB\x02", 8);
	memcpy(seg + 8, &size, 4);
	memcpy(seg + 12, &version, 2);
	memcpy(seg + 14, &g, 2);
	EXPECT_EQ(-EINVAL, hps_cb_read(seg, sizeof(seg), 10, &r));
	memcpy(seg, magic, 8);
	memcpy(seg + 12, &version, 2);
	memcpy(seg + 14, &g, 2);
	EXPECT_EQ(-EINVAL, hps_cb_read(seg, sizeof(seg), 10, &r));
	version = 2;
	memcpy(seg + 12, &version, 2);
	EXPECT_EQ(0, hps_cb_read(seg, sizeof(seg), 10, &r));
	EXPECT_EQ(-EINVAL, hps_cb_read(seg, 40, 10, &r));
	seg[0] = 'X';
	EXPECT_EQ(-EINVAL, hps_cb_read(seg, sizeof(seg), 10, &r));
}

struct race {
	struct hps_cb_writer *w;
	atomic_int stop;
	long writes;
};

static void *writer(void *arg)
{
	struct race *r = arg;
	struct hps_cb_values v;

	while (!atomic_load(&r->stop)) {
		v = sample(r->writes);
		hps_cb_write(r->w, &v);
		r->writes++;
	}
	return NULL;
}

/*
 * A writer thread rewriting as fast as it can, a reader mapping the file
 * on its own: every copy the reader takes is one the writer wrote whole
 * (its fields all from the same sample()).
 */
TEST(no_torn_reads)
{
	struct hps_cb_writer w;
	struct hps_cb_values v;
	struct race r = { .w = &w };
	char path[128], err[256];
	long reads = 0, torn = 0, busy = 0, i;
	pthread_t t;
	void *map;
	int fd;

	tmp_path(path, sizeof(path), "race");
	ASSERT_EQ(0, hps_cb_open(&w, path, err, sizeof(err)));
	v = sample(0);
	hps_cb_write(&w, &v);
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	map = mmap(NULL, HPS_CB_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, pthread_create(&t, NULL, writer, &r));
	for (i = 0; i < 200000; i++) {
		if (hps_cb_read(map, HPS_CB_SIZE, 100, &v)) {
			busy++;
			continue;
		}
		reads++;
		if (v.bound_ns - 1000 != v.as_of.tv_sec - 100 ||
		    v.disruption_marker - 7 != (uint64_t)(v.as_of.tv_sec - 100) ||
		    v.void_after.tv_sec != v.as_of.tv_sec + 3)
			torn++;
	}
	atomic_store(&r.stop, 1);
	pthread_join(t, NULL);
	TH_LOG("%ld reads against %ld writes: %ld torn, %ld gave up", reads,
	       r.writes, torn, busy);
	EXPECT_EQ(0, torn);
	EXPECT_LT(1000, reads);
	munmap(map, HPS_CB_SIZE);
	close(fd);
	hps_cb_close(&w);
}

/*
 * What ClockBound 2.0.2's clients make of a segment (clock-bound-shm's
 * compute_bound_at): the bound grows at max drift from as-of, at any age;
 * a written "synchronized" holds for 5 s after as-of even where
 * void-after is sooner, then reads free-running until void-after, then
 * unknown; up to 1 us before as-of is as-of.
 */
TEST(as_clients_read_it)
{
	struct hps_cb_values v = sample(0);	/* as-of 100 s, void 103 s */
	struct timespec t = { .tv_sec = 102, .tv_nsec = 5 };
	int64_t b;
	int st;

	ASSERT_EQ(0, hps_cb_now(&v, &t, &b, &st));
	EXPECT_EQ(1000 + 1200, b);	/* 2 s at 600 ppb */
	EXPECT_EQ(HPS_CB_SYNCHRONIZED, st);
	t.tv_sec = 100;
	t.tv_nsec = 5 - 1000;
	ASSERT_EQ(0, hps_cb_now(&v, &t, &b, &st));
	EXPECT_EQ(1000, b);
	t.tv_nsec = 5 - 1001;
	EXPECT_EQ(-ERANGE, hps_cb_now(&v, &t, &b, &st));
	/* past void-after, within the grace: still vouched for */
	t.tv_sec = 104;
	t.tv_nsec = 999999999;
	ASSERT_EQ(0, hps_cb_now(&v, &t, &b, &st));
	EXPECT_EQ(HPS_CB_SYNCHRONIZED, st);
	EXPECT_EQ(1000 + 3000, b);
	t.tv_sec = 105;
	t.tv_nsec = 5;
	ASSERT_EQ(0, hps_cb_now(&v, &t, &b, &st));
	EXPECT_EQ(HPS_CB_UNKNOWN, st);
	/* a void-after beyond the grace: free-running until it */
	v.void_after.tv_sec = 110;
	ASSERT_EQ(0, hps_cb_now(&v, &t, &b, &st));
	EXPECT_EQ(HPS_CB_FREE_RUNNING, st);
	t.tv_sec = 110;
	ASSERT_EQ(0, hps_cb_now(&v, &t, &b, &st));
	EXPECT_EQ(HPS_CB_UNKNOWN, st);
	/* disrupted and unknown as written, at any age */
	v.status = HPS_CB_DISRUPTED;
	ASSERT_EQ(0, hps_cb_now(&v, &t, &b, &st));
	EXPECT_EQ(HPS_CB_DISRUPTED, st);
	t.tv_sec = 101;
	v.max_drift_ppb = 1000000000;
	EXPECT_EQ(-EINVAL, hps_cb_now(&v, &t, &b, &st));
	/* a bound the clients' 64 bits cannot hold, now or later */
	v.max_drift_ppb = 999999999;
	v.bound_ns = INT64_MAX - 5;
	EXPECT_EQ(-EOVERFLOW, hps_cb_now(&v, &t, &b, &st));
	v.bound_ns = -1;
	EXPECT_EQ(-EOVERFLOW, hps_cb_now(&v, &t, &b, &st));
}

/*
 * A daemon stopped and started again: an application that mapped the
 * segment before (ClockBound's clients map it once, at open, and never
 * look at the path again) sees the stop (void: unknown) and then the new
 * daemon's values in the same mapping, with the generation going on.
 */
TEST(stop_and_start_keep_readers)
{
	struct hps_cb_values v = sample(0), r;
	struct hps_cb_writer w;
	char path[128], err[256];
	struct timespec t = { .tv_sec = 100, .tv_nsec = 5 };
	int64_t b;
	void *map;
	int fd, st;

	tmp_path(path, sizeof(path), "restart/shm0");
	ASSERT_EQ(0, hps_cb_open(&w, path, err, sizeof(err))) TH_LOG("%s", err);
	hps_cb_write(&w, &v);
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	map = mmap(NULL, HPS_CB_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	close(fd);
	/* the daemon stops: void at once */
	v.status = HPS_CB_UNKNOWN;
	v.void_after = (struct timespec){ 0 };
	hps_cb_write(&w, &v);
	hps_cb_close(&w);
	ASSERT_EQ(0, hps_cb_read(map, HPS_CB_SIZE, 10, &r));
	ASSERT_EQ(0, hps_cb_now(&r, &t, &b, &st));
	EXPECT_EQ(HPS_CB_UNKNOWN, st);
	/* and starts again, over the file systemd kept */
	ASSERT_EQ(0, hps_cb_open(&w, path, err, sizeof(err))) TH_LOG("%s", err);
	EXPECT_EQ(1, w.had_prev);
	v = sample(1);
	hps_cb_write(&w, &v);
	ASSERT_EQ(0, hps_cb_read(map, HPS_CB_SIZE, 10, &r));
	t.tv_sec = 101;
	ASSERT_EQ(0, hps_cb_now(&r, &t, &b, &st));
	EXPECT_EQ(HPS_CB_SYNCHRONIZED, st);
	EXPECT_EQ(1001, b);
	EXPECT_EQ(6, gen_at(map));
	munmap(map, HPS_CB_SIZE);
	hps_cb_close(&w);
}

/*
 * The packaged unit keeps the segment's directory across a stop and a
 * start (RuntimeDirectoryPreserve=yes), which the test above relies on:
 * with "restart" or "no", systemd removes /run/clockbound when the
 * service stops, the next daemon writes a new file, and every running
 * application reads the old one, unknown, until it is restarted.
 */
TEST(unit_keeps_the_segment)
{
	char line[512], dirs[512] = "", preserve[512] = "";
	FILE *f = fopen(HPS_SERVICE_FILE, "r");

	ASSERT_NE(NULL, f) TH_LOG("%s: %s", HPS_SERVICE_FILE, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, "RuntimeDirectory=", 17))
			snprintf(dirs, sizeof(dirs), "%s", line + 17);
		else if (!strncmp(line, "RuntimeDirectoryPreserve=", 25))
			snprintf(preserve, sizeof(preserve), "%s", line + 25);
	}
	fclose(f);
	/* the default segment is in one of the unit's runtime directories */
	EXPECT_EQ(0, strncmp(HPS_CB_DEFAULT_PATH, "/run/clockbound/", 16));
	EXPECT_NE(NULL, strstr(dirs, "clockbound")) TH_LOG("RuntimeDirectory=%s", dirs);
	EXPECT_STREQ("yes", preserve);
}

TEST_HARNESS_MAIN
