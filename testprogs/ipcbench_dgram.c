/*
 * ipcbench_dgram.c - message-oriented mechanisms: mqueue, unix-dgram.
 *
 * Both keep message boundaries and both have a largest message: a POSIX
 * queue's mq_msgsize may not exceed /proc/sys/fs/mqueue/msgsize_max, a
 * datagram may not exceed what the socket's send buffer holds.  A message
 * larger than that unit is sent as several pieces of at most l->unit bytes,
 * each checked for its length on arrival, and the table says so.
 */
#include "ipcbench.h"

#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define WAIT_NS 100000000 /* re-check the peer every 100 ms */

static long read_proc_long(const char *path, long dflt)
{
	FILE *f = fopen(path, "r");
	long v;

	if (!f)
		return dflt;
	if (fscanf(f, "%ld", &v) != 1)
		v = dflt;
	fclose(f);
	return v;
}

static void note_fragments(struct ib_link *l, const char *why)
{
	char u[32];

	if (l->unit >= l->size)
		return;
	ib_fmt_size(u, sizeof(u), l->unit);
	snprintf(l->note, sizeof(l->note), "fragmented: %zu pieces of %s (%s)",
		 (l->size + l->unit - 1) / l->unit, u, why);
}

static void deadline(struct timespec *ts)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_nsec += WAIT_NS;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_nsec -= 1000000000;
		ts->tv_sec++;
	}
}

static int gone(struct errbuf *e)
{
	err_set(e, "the other process is gone");
	return -EPIPE;
}

/* --- mqueue ----------------------------------------------------------- */

static int mq_open_link(struct ib_link *l, struct errbuf *e)
{
	static unsigned serial;
	struct mq_attr attr;
	long maxsize = read_proc_long("/proc/sys/fs/mqueue/msgsize_max", 8192);
	long maxmsg = read_proc_long("/proc/sys/fs/mqueue/msg_max", 10);
	unsigned s = serial++;

	l->unit = l->size < (size_t)maxsize ? l->size : (size_t)maxsize;
	memset(&attr, 0, sizeof(attr));
	attr.mq_maxmsg = maxmsg < 10 ? maxmsg : 10;
	attr.mq_msgsize = (long)l->unit;
	for (int i = 0; i < 2; i++) {
		mqd_t q;

		snprintf(l->name[i], sizeof(l->name[i]), "/ipcbench-%d-%u-%c",
			 getpid(), s, 'a' + i);
		q = mq_open(l->name[i], O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
		if (q == (mqd_t)-1) {
			int err = errno;

			err_setn(e, err, "mq_open %s (%ld x %ld bytes)",
				 l->name[i], attr.mq_maxmsg, attr.mq_msgsize);
			if (i) {
				mq_close(l->fd[0]);
				mq_unlink(l->name[0]);
				ib_cleanup_forget(l->name[0]);
			}
			return -err;
		}
		ib_cleanup_mq(l->name[i]);
		l->fd[i] = q;
	}
	/* mq_receive wants a buffer of mq_msgsize even for a short piece */
	l->mem = malloc(l->unit);
	if (!l->mem) {
		for (int i = 0; i < 2; i++) {
			mq_close(l->fd[i]);
			mq_unlink(l->name[i]);
			ib_cleanup_forget(l->name[i]);
		}
		err_set(e, "out of memory");
		return -ENOMEM;
	}
	snprintf(l->note, sizeof(l->note), "queue of %ld x %ld bytes",
		 attr.mq_maxmsg, attr.mq_msgsize);
	note_fragments(l, "msgsize_max");
	return 0;
}

static void mq_keep_side(struct ib_link *l)
{
	(void)l;
}

static int mq_send_link(struct ib_link *l, const void *buf, size_t n,
			struct errbuf *e)
{
	mqd_t q = l->fd[l->side];
	struct timespec ts;

	for (size_t off = 0; off < n;) {
		size_t k = n - off < l->unit ? n - off : l->unit;

		deadline(&ts);
		if (!mq_timedsend(q, (const char *)buf + off, k, 0, &ts)) {
			off += k;
			continue;
		}
		if (errno != ETIMEDOUT && errno != EINTR) {
			err_setn(e, errno, "mq_send");
			return -errno;
		}
		if (ib_peer_gone())
			return gone(e);
	}
	return 0;
}

static int mq_recv_link(struct ib_link *l, void *buf, size_t n,
			struct errbuf *e)
{
	mqd_t q = l->fd[1 - l->side];
	struct timespec ts;

	for (size_t off = 0; off < n;) {
		size_t k = n - off < l->unit ? n - off : l->unit;
		char *to = k == l->unit ? (char *)buf + off : l->mem;
		ssize_t r;

		deadline(&ts);
		r = mq_timedreceive(q, to, l->unit, NULL, &ts);
		if (r < 0 && errno != ETIMEDOUT && errno != EINTR) {
			err_setn(e, errno, "mq_receive");
			return -errno;
		}
		if (r < 0) {
			if (ib_peer_gone())
				return gone(e);
			continue;
		}
		if ((size_t)r != k) {
			err_set(e, "mq_receive: %zd bytes, expected %zu", r, k);
			return -EBADMSG;
		}
		if (to != (char *)buf + off)
			memcpy((char *)buf + off, to, k);
		off += k;
	}
	return 0;
}

static void mq_close_link(struct ib_link *l)
{
	mq_close(l->fd[0]);
	mq_close(l->fd[1]);
	free(l->mem);
	l->mem = NULL;
}

static void mq_destroy_link(struct ib_link *l)
{
	for (int i = 0; i < 2; i++) {
		mq_unlink(l->name[i]);
		ib_cleanup_forget(l->name[i]);
	}
}

/* --- unix-dgram -------------------------------------------------------- */

/*
 * The largest datagram this pair accepts: ask for send buffers big enough
 * for a few messages (the kernel caps them at net.core.wmem_max), then try
 * the message size and halve it until the kernel takes it.
 */
static size_t dgram_probe_unit(int tx, int rx, size_t size, char *buf)
{
	int want = size > (1u << 28) ? 1 << 30 : (int)(4 * size + 65536);
	size_t unit = size;

	int cur = 0;
	socklen_t len = sizeof(cur);

	/* only ever raise them: small messages keep the defaults */
	getsockopt(tx, SOL_SOCKET, SO_SNDBUF, &cur, &len);
	if (want > cur / 2) {
		setsockopt(tx, SOL_SOCKET, SO_SNDBUF, &want, sizeof(want));
		setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
	}
	while (unit > IB_MIN_SIZE) {
		if (send(tx, buf, unit, MSG_DONTWAIT) == (ssize_t)unit)
			break;
		unit /= 2;
	}
	while (recv(rx, buf, size, MSG_DONTWAIT) > 0)
		;
	return unit;
}

static int dgram_open(struct ib_link *l, struct errbuf *e)
{
	int sv[2];
	size_t u0, u1;

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv)) {
		err_setn(e, errno, "socketpair");
		return -errno;
	}
	l->mem = calloc(1, l->size);
	if (!l->mem) {
		close(sv[0]);
		close(sv[1]);
		err_set(e, "out of memory");
		return -ENOMEM;
	}
	u0 = dgram_probe_unit(sv[0], sv[1], l->size, l->mem);
	u1 = dgram_probe_unit(sv[1], sv[0], l->size, l->mem);
	l->unit = u0 < u1 ? u0 : u1;
	/* a dead peer must not leave us blocked: wake up to look */
	for (int i = 0; i < 2; i++) {
		struct timeval tv = {0, WAIT_NS / 1000};

		setsockopt(sv[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(sv[i], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	free(l->mem);
	l->mem = NULL;
	l->fd[0] = l->fd[1] = sv[0];
	l->fd[2] = l->fd[3] = sv[1];
	{
		int v = 0;
		socklen_t len = sizeof(v);

		getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, &len);
		snprintf(l->note, sizeof(l->note), "SO_SNDBUF %d bytes", v);
	}
	note_fragments(l, "largest datagram the socket took");
	return 0;
}

static int dgram_send(struct ib_link *l, const void *buf, size_t n,
		      struct errbuf *e)
{
	int fd = l->fd[2 * l->side];

	for (size_t off = 0; off < n;) {
		size_t k = n - off < l->unit ? n - off : l->unit;
		ssize_t w = send(fd, (const char *)buf + off, k, 0);

		if (w < 0 && (errno == EINTR || errno == EAGAIN)) {
			if (ib_peer_gone())
				return gone(e);
			continue;
		}
		if (w < 0) {
			err_setn(e, errno, "send");
			return -errno;
		}
		off += k;
	}
	return 0;
}

static int dgram_recv(struct ib_link *l, void *buf, size_t n, struct errbuf *e)
{
	int fd = l->fd[2 * l->side + 1];

	for (size_t off = 0; off < n;) {
		size_t k = n - off < l->unit ? n - off : l->unit;
		/* MSG_TRUNC: the real length, so a longer datagram shows */
		ssize_t r = recv(fd, (char *)buf + off, k, MSG_TRUNC);

		if (r < 0 && (errno == EINTR || errno == EAGAIN)) {
			if (ib_peer_gone())
				return gone(e);
			continue;
		}
		if (r < 0) {
			err_setn(e, errno, "recv");
			return -errno;
		}
		if ((size_t)r != k) {
			err_set(e, "recv: datagram of %zd bytes, expected %zu",
				r, k);
			return -EBADMSG;
		}
		off += k;
	}
	return 0;
}

static void dgram_destroy(struct ib_link *l)
{
	(void)l;
}

const struct ib_mech ib_mech_mqueue = {
	.name = "mqueue",
	.buffering = "kernel queue, mq_maxmsg x mq_msgsize",
	.copies = "2 (user->kernel->user)",
	.flow = "mq_send blocks when the queue is full",
	.open = mq_open_link,
	.keep_side = mq_keep_side,
	.send = mq_send_link,
	.recv = mq_recv_link,
	.close = mq_close_link,
	.destroy = mq_destroy_link,
};

const struct ib_mech ib_mech_unix_dgram = {
	.name = "unix-dgram",
	.buffering = "socket buffers",
	.copies = "2 (user->kernel->user)",
	.flow = "send blocks when the buffer is full",
	.open = dgram_open,
	.keep_side = ib_stream_keep_side,
	.send = dgram_send,
	.recv = dgram_recv,
	.close = ib_stream_close,
	.destroy = dgram_destroy,
};
