/*
 * nfq-delay QUEUE DELAY_MS JITTER_MS
 *
 * Emulates WAN latency for NetLab, because the kernel the system tests run on
 * has no netem qdisc. Every packet that iptables hands to NFQUEUE number QUEUE
 * is held for DELAY_MS +/- JITTER_MS (uniform) and then accepted.
 *
 * A packet is never released before the one queued ahead of it, so the pending
 * packets form a FIFO; that keeps TCP from seeing jitter-induced reordering and
 * lets one batch verdict release every packet that is due.
 *
 * Prints "ready" on stdout once the queue is bound, so the caller knows it may
 * now route traffic into the queue. Exits cleanly on SIGTERM or SIGINT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* Larger than the kernel queue length, so the ring can only fill if the
 * kernel's own limit is raised. */
#define QUEUE_MAXLEN 8192
#define RING_SIZE 16384
#define RCVBUF_BYTES (16 * 1024 * 1024)

struct pending {
	uint32_t id;
	int64_t release_ns;
};

static struct pending ring[RING_SIZE];
static size_t ring_head, ring_len;
static int64_t last_release_ns;
static int64_t delay_ns, jitter_ns;
static volatile sig_atomic_t stop;

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int64_t random_jitter_ns(void)
{
	if (jitter_ns <= 0)
		return 0;
	/* drand48 has 48 random bits: plenty for a nanosecond-scale spread. */
	return (int64_t)((drand48() * 2.0 - 1.0) * (double)jitter_ns);
}

static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg,
		     struct nfq_data *nfa, void *data)
{
	(void)msg;
	(void)data;
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
	if (ph == NULL)
		return 0;
	uint32_t id = ntohl(ph->packet_id);

	if (ring_len == RING_SIZE) {
		/* Cannot hold it: let it through undelayed rather than drop it. */
		nfq_set_verdict(qh, id, NF_ACCEPT, 0, NULL);
		return 0;
	}
	int64_t release = now_ns() + delay_ns + random_jitter_ns();
	if (release < last_release_ns)
		release = last_release_ns;
	last_release_ns = release;
	ring[(ring_head + ring_len) % RING_SIZE] = (struct pending){ id, release };
	ring_len++;
	return 0;
}

/* Accepts every packet whose time has come with one batch verdict. This is
 * valid because the kernel numbers packets in arrival order and the ring
 * releases them in that same order. */
static void release_due(struct nfq_q_handle *qh, int64_t now, int all)
{
	uint32_t last_id = 0;
	size_t n = 0;
	while (n < ring_len) {
		struct pending *p = &ring[(ring_head + n) % RING_SIZE];
		if (!all && p->release_ns > now)
			break;
		last_id = p->id;
		n++;
	}
	if (n == 0)
		return;
	if (nfq_set_verdict_batch(qh, last_id, NF_ACCEPT) < 0)
		perror("nfq-delay: set_verdict_batch");
	ring_head = (ring_head + n) % RING_SIZE;
	ring_len -= n;
}

static long parse_ms(const char *s, const char *what)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || v > 60000) {
		fprintf(stderr, "nfq-delay: bad %s: %s\n", what, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s QUEUE DELAY_MS JITTER_MS\n", argv[0]);
		return 2;
	}
	uint16_t queue = (uint16_t)parse_ms(argv[1], "queue number");
	delay_ns = parse_ms(argv[2], "delay") * 1000000LL;
	jitter_ns = parse_ms(argv[3], "jitter") * 1000000LL;
	if (jitter_ns > delay_ns)
		jitter_ns = delay_ns;
	srand48((long)now_ns());

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	/* No SA_RESTART: a signal must interrupt ppoll so the loop sees it. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	struct nfq_handle *h = nfq_open();
	if (h == NULL) {
		perror("nfq-delay: nfq_open");
		return 1;
	}
	if (nfq_bind_pf(h, AF_INET) < 0) {
		perror("nfq-delay: nfq_bind_pf");
		return 1;
	}
	struct nfq_q_handle *qh = nfq_create_queue(h, queue, on_packet, NULL);
	if (qh == NULL) {
		perror("nfq-delay: nfq_create_queue");
		return 1;
	}
	if (nfq_set_mode(qh, NFQNL_COPY_META, 0) < 0) {
		perror("nfq-delay: nfq_set_mode");
		return 1;
	}
	if (nfq_set_queue_maxlen(qh, QUEUE_MAXLEN) < 0)
		perror("nfq-delay: nfq_set_queue_maxlen");
	/* FAIL_OPEN: a full kernel queue passes packets instead of dropping
	 * them. GSO: big offloaded packets are queued whole, not segmented. */
	uint32_t flags = NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO;
	if (nfq_set_queue_flags(qh, flags, flags) < 0)
		perror("nfq-delay: nfq_set_queue_flags");

	int fd = nfq_fd(h);
	/* FORCE ignores net.core.rmem_max; we run as root. */
	int rcvbuf = RCVBUF_BYTES;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	/* Overruns still lose packets (they fail open in the kernel), but we
	 * do not want recv() to report them as errors. */
	int one = 1;
	setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one));

	printf("ready\n");
	fflush(stdout);

	static char buf[65536] __attribute__((aligned));
	while (!stop) {
		int64_t now = now_ns();
		release_due(qh, now, 0);

		struct timespec timeout, *tp = NULL;
		if (ring_len > 0) {
			int64_t wait = ring[ring_head].release_ns - now;
			if (wait < 0)
				wait = 0;
			timeout.tv_sec = wait / 1000000000LL;
			timeout.tv_nsec = wait % 1000000000LL;
			tp = &timeout;
		}
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int r = ppoll(&pfd, 1, tp, NULL);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			perror("nfq-delay: ppoll");
			break;
		}
		if (r == 0)
			continue;

		/* Drain what is readable without blocking the release schedule. */
		for (;;) {
			ssize_t len = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (len < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
					break;
				if (errno == ENOBUFS)
					continue;
				perror("nfq-delay: recv");
				break;
			}
			nfq_handle_packet(h, buf, (int)len);
		}
	}

	/* Unbinding would make the kernel drop what we still hold. */
	release_due(qh, 0, 1);
	nfq_destroy_queue(qh);
	nfq_close(h);
	return 0;
}
