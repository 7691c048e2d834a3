// SPDX-License-Identifier: GPL-2.0
/*
 * ntp-fixture: an NTP server that answers from the simulated host's UTC.
 *
 *   ntp-fixture [--addr A] [--port P] [--truth PATH] [--delay-us D]
 *               [--asym-us A] [--jitter-us J] [--seed N] [--stratum S]
 *               [--root-delay-us R] [--root-disp-us R] [--log FILE]
 *               [--truth-fake-offset-ns N] [--help]
 *
 * It gives a guest's NTP client (chronyd, say) a server whose time is
 * exactly known: every timestamp it sends is true UTC as hv_host_sim has
 * it, the last (7th) column, utc_ns, of the simulator's debugfs "truth"
 * file (default /sys/kernel/debug/hv_host_sim/truth; each pread at offset
 * 0 is a new reading), converted exactly to an NTP era-0 timestamp.
 *
 * It answers well-formed client-mode (3) requests of NTP versions 1 to 4,
 * 48 bytes or longer, with a 48-byte server-mode (4) reply of the same
 * version: leap 0, stratum S (default 1), the request's poll, precision
 * -20, root delay and dispersion as given, reference id "SIMU", reference
 * timestamp the previous reply's transmit time (the receive time for the
 * first), originate the request's transmit timestamp. Anything else is
 * dropped and counted. Requests are handled one at a time.
 *
 * The delay model, so that the client sees a real path: on a request's
 * arrival it sleeps up = D + A/2 (plus uniform 0..J), then takes the
 * receive timestamp, then the transmit timestamp, then sleeps down = D -
 * A/2 (plus uniform 0..J, drawn independently), then sends (sleeps on
 * CLOCK_MONOTONIC, from the kernel's receive timestamp of the request;
 * |A| <= 2 D). A client on a path of its own of
 * negligible delay then measures a delay of up + down and an offset
 * (server minus client) biased by (up - down) / 2, that is A/2 on average.
 * The jitter comes from a deterministic generator (splitmix64) seeded by
 * --seed.
 *
 * --truth-fake-offset-ns N takes UTC as CLOCK_REALTIME + N instead of the
 * truth file: for testing the fixture itself without the simulator.
 *
 * Runs in the foreground. SIGTERM or SIGINT: a one-line summary (requests
 * answered, dropped) on stderr and exit 0. --log FILE: one line per reply,
 * "rx_utc_ns tx_utc_ns up_ns down_ns" (up and down as drawn; the path
 * itself adds the scheduling latencies, some microseconds). Exit status 1 when the truth cannot
 * be read at start or the socket cannot be set up, 2 on a bad option.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_SEC	1000000000LL
#define NTP_UNIX_DELTA	2208988800LL	/* seconds from 1900 to 1970 */
#define NTP_LEN		48
#define MAX_US		10000000LL	/* 10 s: delays, jitter */
#define MAX_ROOT_US	(65535LL * 1000000)	/* NTP short format */

static const char *truth_path = "/sys/kernel/debug/hv_host_sim/truth";
static int truth_fd = -1;
static int fake;		/* --truth-fake-offset-ns given */
static long long fake_offset_ns;
static uint64_t rng;
static volatile sig_atomic_t stop;

static void say(const char *fmt, ...)
{
	va_list ap;

	fputs("ntp-fixture: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void print_usage(FILE *f)
{
	fprintf(f,
		"usage: ntp-fixture [--addr A] [--port P] [--truth PATH] [--delay-us D]\n"
		"                   [--asym-us A] [--jitter-us J] [--seed N] [--stratum S]\n"
		"                   [--root-delay-us R] [--root-disp-us R] [--log FILE]\n"
		"                   [--truth-fake-offset-ns N] [--help]\n"
		"\n"
		"An NTP server (UDP, IPv4) answering from hv_host_sim's UTC (the truth\n"
		"file's 7th column). Defaults: 127.0.0.1, port 123, truth\n"
		"/sys/kernel/debug/hv_host_sim/truth, no delay, seed 1, stratum 1, root\n"
		"delay and dispersion 0. Each reply: sleep D + A/2 (+ 0..J) after the\n"
		"request arrives, receive and transmit timestamps, sleep D - A/2\n"
		"(+ 0..J), send; |A| <= 2 D, D and J up to 10 s. --log FILE: one line\n"
		"per reply, \"rx_utc_ns tx_utc_ns up_ns down_ns\".\n"
		"--truth-fake-offset-ns N: UTC is CLOCK_REALTIME + N, no truth file\n"
		"(for testing the fixture itself).\n");
}

/* splitmix64 */
static uint64_t next_random(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform on 0..max_ns. */
static long long uniform_ns(long long max_ns)
{
	if (max_ns <= 0)
		return 0;
	return (long long)(((__uint128_t)next_random() *
			    (uint64_t)(max_ns + 1)) >> 64);
}

static long long clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (long long)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

/* UTC now, ns since the Unix epoch: 0 on success, else -1 (errno set). */
static int utc_now(long long *utc)
{
	long long col[7];
	char buf[512];
	ssize_t n;

	if (fake) {
		*utc = clock_ns(CLOCK_REALTIME) + fake_offset_ns;
		return 0;
	}
	n = pread(truth_fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return -1;
	buf[n] = 0;
	if (sscanf(buf, "%lld %lld %lld %lld %lld %lld %lld", &col[0], &col[1],
		   &col[2], &col[3], &col[4], &col[5], &col[6]) != 7) {
		errno = EPROTO;
		return -1;
	}
	*utc = col[6];
	return 0;
}

/*
 * Receive a datagram; @arrival: when it arrived, on CLOCK_MONOTONIC, from
 * the kernel's timestamp (SO_TIMESTAMPNS, on CLOCK_REALTIME) moved by how
 * far CLOCK_REALTIME has run since, or now when there is none.
 */
static ssize_t receive(int fd, void *buf, size_t len, struct sockaddr_in *from,
		       socklen_t *fromlen, long long *arrival)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct timespec))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { buf, len };
	struct msghdr msg = {
		.msg_name = from, .msg_namelen = *fromlen,
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	long long mono, real, since;
	struct cmsghdr *cm;
	struct timespec ts;
	ssize_t n;

	n = recvmsg(fd, &msg, MSG_DONTWAIT);
	mono = clock_ns(CLOCK_MONOTONIC);
	real = clock_ns(CLOCK_REALTIME);
	*fromlen = msg.msg_namelen;
	*arrival = mono;
	if (n < 0)
		return n;
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
			memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
			since = real - ((long long)ts.tv_sec * NS_PER_SEC + ts.tv_nsec);
			/* unless CLOCK_REALTIME was stepped in between */
			if (since >= 0 && since < NS_PER_SEC)
				*arrival = mono - since;
		}
	return n;
}

/* Sleep until CLOCK_MONOTONIC reaches @ns. */
static void sleep_until(long long ns)
{
	struct timespec ts = { ns / NS_PER_SEC, ns % NS_PER_SEC };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* Unix ns to an NTP era-0 timestamp (32.32, rounded to nearest). */
static void put_ts(unsigned char *p, long long ns)
{
	long long sec = ns / NS_PER_SEC, rem = ns % NS_PER_SEC;
	uint64_t frac;

	if (rem < 0) {
		rem += NS_PER_SEC;
		sec--;
	}
	/* rem < 10^9 < 2^30: exact, and below 2^32 after rounding */
	frac = (((uint64_t)rem << 32) + NS_PER_SEC / 2) / NS_PER_SEC;
	put32(p, (uint32_t)(sec + NTP_UNIX_DELTA));
	put32(p + 4, (uint32_t)frac);
}

/* Microseconds to the NTP short format (16.16 s), rounded. */
static uint32_t ntp_short(long long us)
{
	return (uint32_t)((((uint64_t)us << 16) + 500000) / 1000000);
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int parse_ll(const char *s, long long lo, long long hi, long long *v)
{
	char *end;

	errno = 0;
	*v = strtoll(s, &end, 0);
	return !errno && end != s && !*end && *v >= lo && *v <= hi ? 0 : -1;
}

enum {
	OPT_ADDR = 256, OPT_PORT, OPT_TRUTH, OPT_DELAY, OPT_ASYM, OPT_JITTER,
	OPT_SEED, OPT_STRATUM, OPT_ROOT_DELAY, OPT_ROOT_DISP, OPT_LOG,
	OPT_FAKE, OPT_HELP,
};

static const struct option options[] = {
	{ "addr", required_argument, NULL, OPT_ADDR },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "truth", required_argument, NULL, OPT_TRUTH },
	{ "delay-us", required_argument, NULL, OPT_DELAY },
	{ "asym-us", required_argument, NULL, OPT_ASYM },
	{ "jitter-us", required_argument, NULL, OPT_JITTER },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "stratum", required_argument, NULL, OPT_STRATUM },
	{ "root-delay-us", required_argument, NULL, OPT_ROOT_DELAY },
	{ "root-disp-us", required_argument, NULL, OPT_ROOT_DISP },
	{ "log", required_argument, NULL, OPT_LOG },
	{ "truth-fake-offset-ns", required_argument, NULL, OPT_FAKE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

int main(int argc, char **argv)
{
	long long delay_us = 0, asym_us = 0, jitter_us = 0, stratum = 1;
	long long port = 123, root_delay_us = 0, root_disp_us = 0, v;
	long long up, down, t, rx, tx, prev_tx = -1;
	unsigned long long answered = 0, dropped = 0, seed = 1;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	const char *addr = "127.0.0.1", *log_path = NULL;
	unsigned char req[1024], rep[NTP_LEN];
	struct sockaddr_in from;
	struct sigaction act;
	sigset_t block, orig;
	struct pollfd pfd;
	socklen_t fromlen;
	FILE *logf = NULL;
	int c, fd, vn, bad, one = 1;
	ssize_t n;
	char *end;

	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		bad = 0;
		switch (c) {
		case OPT_ADDR:
			addr = optarg;
			break;
		case OPT_PORT:
			bad = parse_ll(optarg, 1, 65535, &port);
			break;
		case OPT_TRUTH:
			truth_path = optarg;
			break;
		case OPT_DELAY:
			bad = parse_ll(optarg, 0, MAX_US, &delay_us);
			break;
		case OPT_ASYM:
			bad = parse_ll(optarg, -2 * MAX_US, 2 * MAX_US, &asym_us);
			break;
		case OPT_JITTER:
			bad = parse_ll(optarg, 0, MAX_US, &jitter_us);
			break;
		case OPT_SEED:
			errno = 0;
			seed = strtoull(optarg, &end, 0);
			bad = errno || end == optarg || *end || *optarg == '-';
			break;
		case OPT_STRATUM:
			bad = parse_ll(optarg, 0, 255, &stratum);
			break;
		case OPT_ROOT_DELAY:
			bad = parse_ll(optarg, 0, MAX_ROOT_US, &root_delay_us);
			break;
		case OPT_ROOT_DISP:
			bad = parse_ll(optarg, 0, MAX_ROOT_US, &root_disp_us);
			break;
		case OPT_LOG:
			log_path = optarg;
			break;
		case OPT_FAKE:
			bad = parse_ll(optarg, -1000000LL * NS_PER_SEC,
				       1000000LL * NS_PER_SEC, &v);
			fake = 1;
			fake_offset_ns = v;
			break;
		case OPT_HELP:
			print_usage(stdout);
			return 0;
		default:
			print_usage(stderr);
			return 2;
		}
		if (bad) {
			say("bad value for --%s: \"%s\"",
			    options[c - OPT_ADDR].name, optarg);
			print_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		say("unexpected argument \"%s\"", argv[optind]);
		print_usage(stderr);
		return 2;
	}
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		say("bad value for --addr: \"%s\" (an IPv4 address)", addr);
		print_usage(stderr);
		return 2;
	}
	if (asym_us > 2 * delay_us || asym_us < -2 * delay_us) {
		say("--asym-us %lld: |A| must be at most 2 x --delay-us (%lld)",
		    asym_us, 2 * delay_us);
		print_usage(stderr);
		return 2;
	}
	sa.sin_port = htons((uint16_t)port);
	rng = seed;
	/* sleeps end on time, not up to 50 us late (the default slack) */
	prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);

	if (!fake) {
		truth_fd = open(truth_path, O_RDONLY | O_CLOEXEC);
		if (truth_fd < 0) {
			say("cannot open the truth file %s: %s", truth_path,
			    strerror(errno));
			return 1;
		}
	}
	if (utc_now(&t)) {
		say("cannot read UTC from %s: %s%s", truth_path, strerror(errno),
		    errno == EPROTO ? " (no 7th column, utc_ns: an older hv_host_sim?)" : "");
		return 1;
	}
	if (log_path) {
		logf = fopen(log_path, "w");
		if (!logf) {
			say("cannot open the log %s: %s", log_path, strerror(errno));
			return 1;
		}
		setvbuf(logf, NULL, _IOLBF, 0);
	}

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		say("cannot bind UDP %s:%lld: %s", addr, port, strerror(errno));
		return 1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0)
		say("no receive timestamps (%s): the up delay counts from the wake-up",
		    strerror(errno));

	/* the signals only interrupt the wait for a request */
	memset(&act, 0, sizeof(act));
	act.sa_handler = on_signal;
	sigemptyset(&act.sa_mask);
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &orig);

	say("serving %s:%lld from %s%s: delay %lld, asymmetry %lld, jitter %lld us; stratum %lld",
	    addr, port, fake ? "CLOCK_REALTIME" : truth_path,
	    fake ? " + offset" : "", delay_us, asym_us, jitter_us, stratum);
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (!stop) {
		if (ppoll(&pfd, 1, NULL, &orig) < 0) {
			if (errno == EINTR)
				continue;
			say("poll: %s", strerror(errno));
			break;
		}
		fromlen = sizeof(from);
		n = receive(fd, req, sizeof(req), &from, &fromlen, &t);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				say("recvmsg: %s", strerror(errno));
			continue;
		}
		vn = n > 0 ? (req[0] >> 3) & 7 : 0;
		if (n < NTP_LEN || (req[0] & 7) != 3 || vn < 1 || vn > 4) {
			dropped++;
			continue;
		}

		up = delay_us * 1000 + asym_us * 500 + uniform_ns(jitter_us * 1000);
		down = delay_us * 1000 - asym_us * 500 + uniform_ns(jitter_us * 1000);
		sleep_until(t + up);
		if (utc_now(&rx) || utc_now(&tx)) {
			say("cannot read UTC from %s: %s", truth_path, strerror(errno));
			dropped++;
			continue;
		}
		t = clock_ns(CLOCK_MONOTONIC);

		memset(rep, 0, sizeof(rep));
		rep[0] = (unsigned char)(vn << 3 | 4);	/* leap 0, server */
		rep[1] = (unsigned char)stratum;
		rep[2] = req[2];			/* poll */
		rep[3] = (unsigned char)-20;		/* precision */
		put32(rep + 4, ntp_short(root_delay_us));
		put32(rep + 8, ntp_short(root_disp_us));
		memcpy(rep + 12, "SIMU", 4);
		put_ts(rep + 16, prev_tx < 0 ? rx : prev_tx);
		memcpy(rep + 24, req + 40, 8);		/* originate */
		put_ts(rep + 32, rx);
		put_ts(rep + 40, tx);
		prev_tx = tx;

		sleep_until(t + down);
		if (sendto(fd, rep, sizeof(rep), 0, (struct sockaddr *)&from,
			   fromlen) != sizeof(rep)) {
			say("sendto: %s", strerror(errno));
			dropped++;
			continue;
		}
		answered++;
		if (logf)
			fprintf(logf, "%lld %lld %lld %lld\n", rx, tx, up, down);
	}
	fprintf(stderr, "ntp-fixture: %llu requests answered, %llu dropped\n",
		answered, dropped);
	if (logf)
		fclose(logf);
	close(fd);
	return 0;
}
