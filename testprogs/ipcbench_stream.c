/*
 * ipcbench_stream.c - byte-stream mechanisms: pipe, unix-stream, tcp.
 *
 * A stream has no message boundaries: a message of any size is written and
 * read as exactly that many bytes, in as many system calls as the kernel
 * wants.  l->fd holds, for side s, fd[2s] to send on and fd[2s+1] to
 * receive on (the same socket twice for the bidirectional kinds).
 */
#include "ipcbench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void close_fds(int *fd, int n)
{
	for (int i = 0; i < n; i++) {
		if (fd[i] < 0)
			continue;
		close(fd[i]);
		for (int j = i + 1; j < n; j++)
			if (fd[j] == fd[i])
				fd[j] = -1;
		fd[i] = -1;
	}
}

static void stream_keep_side(struct ib_link *l)
{
	int other = 1 - l->side;

	close_fds(&l->fd[2 * other], 2);
}

static void stream_close(struct ib_link *l)
{
	close_fds(&l->fd[2 * l->side], 2);
}

static void stream_destroy(struct ib_link *l)
{
	(void)l;
}

static int stream_send(struct ib_link *l, const void *buf, size_t n,
		       struct errbuf *e)
{
	const char *p = buf;
	int fd = l->fd[2 * l->side];

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			err_setn(e, errno, "write");
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int stream_recv(struct ib_link *l, void *buf, size_t n, struct errbuf *e)
{
	char *p = buf;
	int fd = l->fd[2 * l->side + 1];

	while (n) {
		ssize_t r = read(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err_setn(e, errno, "read");
			return -errno;
		}
		if (r == 0) {
			err_set(e, "the other process closed its end");
			return -EPIPE;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int pipe_open(struct ib_link *l, struct errbuf *e)
{
	int a[2], b[2];

	if (pipe(a)) {
		err_setn(e, errno, "pipe");
		return -errno;
	}
	if (pipe(b)) {
		err_setn(e, errno, "pipe");
		close(a[0]);
		close(a[1]);
		return -errno;
	}
	/* a: parent -> child, b: child -> parent */
	l->fd[0] = a[1];
	l->fd[1] = b[0];
	l->fd[2] = b[1];
	l->fd[3] = a[0];
	snprintf(l->note, sizeof(l->note), "pipe buffer %d bytes",
		 fcntl(a[1], F_GETPIPE_SZ));
	return 0;
}

static void note_sndbuf(struct ib_link *l, int fd)
{
	int v = 0;
	socklen_t len = sizeof(v);

	getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &len);
	snprintf(l->note, sizeof(l->note), "SO_SNDBUF %d bytes", v);
}

static int unix_stream_open(struct ib_link *l, struct errbuf *e)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) {
		err_setn(e, errno, "socketpair");
		return -errno;
	}
	l->fd[0] = l->fd[1] = sv[0];
	l->fd[2] = l->fd[3] = sv[1];
	note_sndbuf(l, sv[0]);
	return 0;
}

/*
 * A loopback connection made before the fork: listen on an ephemeral port
 * of 127.0.0.1, connect (the handshake completes in the backlog), accept.
 */
static int tcp_open(struct ib_link *l, struct errbuf *e)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int lfd, cfd = -1, sfd = -1, one = 1, rc;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0) {
		err_setn(e, errno, "socket");
		return -errno;
	}
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 1) ||
	    getsockname(lfd, (struct sockaddr *)&a, &alen)) {
		rc = -errno;
		err_setn(e, errno, "listen on 127.0.0.1");
		goto out;
	}
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (cfd < 0 || connect(cfd, (struct sockaddr *)&a, sizeof(a))) {
		rc = -errno;
		err_setn(e, errno, "connect 127.0.0.1:%d", ntohs(a.sin_port));
		goto out;
	}
	sfd = accept(lfd, NULL, NULL);
	if (sfd < 0) {
		rc = -errno;
		err_setn(e, errno, "accept");
		goto out;
	}
	/* ping-pong of small messages must not wait for Nagle */
	setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	close(lfd);
	l->fd[0] = l->fd[1] = cfd;
	l->fd[2] = l->fd[3] = sfd;
	note_sndbuf(l, cfd);
	return 0;

out:
	if (cfd >= 0)
		close(cfd);
	close(lfd);
	return rc;
}

const struct ib_mech ib_mech_pipe = {
	.name = "pipe",
	.buffering = "kernel pipe buffer",
	.copies = "2 (user->kernel->user)",
	.flow = "write blocks when the pipe is full",
	.open = pipe_open,
	.keep_side = stream_keep_side,
	.send = stream_send,
	.recv = stream_recv,
	.close = stream_close,
	.destroy = stream_destroy,
};

const struct ib_mech ib_mech_unix_stream = {
	.name = "unix-stream",
	.buffering = "socket buffers",
	.copies = "2 (user->kernel->user)",
	.flow = "send blocks when the buffer is full",
	.open = unix_stream_open,
	.keep_side = stream_keep_side,
	.send = stream_send,
	.recv = stream_recv,
	.close = stream_close,
	.destroy = stream_destroy,
};

const struct ib_mech ib_mech_tcp = {
	.name = "tcp",
	.buffering = "socket buffers + TCP window",
	.copies = "2 (user->kernel->user)",
	.flow = "TCP window; send blocks when full",
	.open = tcp_open,
	.keep_side = stream_keep_side,
	.send = stream_send,
	.recv = stream_recv,
	.close = stream_close,
	.destroy = stream_destroy,
};

/* The datagram kinds close their fds the same way. */
void ib_stream_keep_side(struct ib_link *l)
{
	stream_keep_side(l);
}

void ib_stream_close(struct ib_link *l)
{
	stream_close(l);
}
