/*
 * ipcbench_file.c - file-io: a plain file moved with pwrite and pread.
 *
 * No other IPC is involved: the file holds, per direction, a ring of slots
 * and two counters.  The writer pwrites a message into a slot, then the new
 * head; the reader polls the head with pread, preads the slot, then
 * pwrites the new tail that the writer polls when the ring is full.  A
 * counter is written as (v, ~v) so a torn read is seen and read again.  The
 * file is never fsynced: this is the page cache, not the disk.
 */
#include "ipcbench.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FIO_HDR	      4096
#define FIO_BYTES     (8u << 20)
#define FIO_MAX_SLOTS 64
#define FIO_HEAD      0
#define FIO_TAIL      64

static size_t fio_stride(size_t size)
{
	return (size + 63) & ~(size_t)63;
}

static uint64_t fio_nslots(size_t size)
{
	size_t n = FIO_BYTES / fio_stride(size);

	return n > FIO_MAX_SLOTS ? FIO_MAX_SLOTS : n < 2 ? 2 : n;
}

static off_t fio_ring(const struct ib_link *l, int dir)
{
	size_t rb = FIO_HDR + fio_nslots(l->size) * fio_stride(l->size);

	return (off_t)(dir * ((rb + 4095) & ~(size_t)4095));
}

static int fio_io_error(struct errbuf *e, const char *what, ssize_t r)
{
	if (r < 0) {
		err_setn(e, errno, "%s", what);
		return -errno;
	}
	err_set(e, "%s: short transfer (%zd bytes)", what, r);
	return -EIO;
}

static int fio_get(int fd, off_t at, uint64_t *v, struct errbuf *e)
{
	uint64_t pair[2];

	for (;;) {
		ssize_t r = pread(fd, pair, sizeof(pair), at);

		if (r != (ssize_t)sizeof(pair))
			return fio_io_error(e, "pread", r);
		if (pair[0] == ~pair[1]) {
			*v = pair[0];
			return 0;
		}
	}
}

static int fio_put(int fd, off_t at, uint64_t v, struct errbuf *e)
{
	uint64_t pair[2] = {v, ~v};
	ssize_t r = pwrite(fd, pair, sizeof(pair), at);

	if (r != (ssize_t)sizeof(pair))
		return fio_io_error(e, "pwrite", r);
	return 0;
}

/* Poll the counter at AT until OK(value) says go. */
static int fio_poll(int fd, off_t at, uint64_t mine, uint64_t nslots,
		    bool for_room, struct errbuf *e)
{
	unsigned tries = 0;
	uint64_t v = 0;
	int rc;

	for (;;) {
		rc = fio_get(fd, at, &v, e);
		if (rc)
			return rc;
		if (for_room ? mine - v < nslots : v != mine)
			return 0;
		if ((tries & 1023) == 1023 && ib_peer_gone()) {
			err_set(e, "the other process is gone");
			return -EPIPE;
		}
		ib_backoff(&tries);
	}
}

static int fio_open(struct ib_link *l, struct errbuf *e)
{
	int fd;

	snprintf(l->path, sizeof(l->path), "%s/ipcbench-io-XXXXXX",
		 ib_file_dir);
	fd = mkstemp(l->path);
	if (fd < 0) {
		err_setn(e, errno, "mkstemp %s", l->path);
		return -errno;
	}
	ib_cleanup_file(l->path);
	if (ftruncate(fd, fio_ring(l, 2)) || fio_put(fd, FIO_HEAD, 0, e) ||
	    fio_put(fd, FIO_TAIL, 0, e) ||
	    fio_put(fd, fio_ring(l, 1) + FIO_HEAD, 0, e) ||
	    fio_put(fd, fio_ring(l, 1) + FIO_TAIL, 0, e)) {
		int err = errno;

		err_setn(e, err, "setting up %s", l->path);
		close(fd);
		unlink(l->path);
		ib_cleanup_forget(l->path);
		return -err;
	}
	l->fd[0] = fd;
	snprintf(l->note, sizeof(l->note), "%llu slots per direction",
		 (unsigned long long)fio_nslots(l->size));
	return 0;
}

static void fio_keep_side(struct ib_link *l)
{
	l->head = 0;
	l->tail = 0;
}

static int fio_send(struct ib_link *l, const void *buf, size_t n,
		    struct errbuf *e)
{
	off_t ring = fio_ring(l, l->side);
	uint64_t nslots = fio_nslots(l->size);
	off_t at = ring + FIO_HDR +
		   (off_t)((l->head % nslots) * fio_stride(l->size));
	ssize_t r;
	int rc;

	rc = fio_poll(l->fd[0], ring + FIO_TAIL, l->head, nslots, true, e);
	if (rc)
		return rc;
	r = pwrite(l->fd[0], buf, n, at);
	if (r != (ssize_t)n)
		return fio_io_error(e, "pwrite", r);
	l->head++;
	return fio_put(l->fd[0], ring + FIO_HEAD, l->head, e);
}

static int fio_recv(struct ib_link *l, void *buf, size_t n, struct errbuf *e)
{
	off_t ring = fio_ring(l, 1 - l->side);
	uint64_t nslots = fio_nslots(l->size);
	off_t at = ring + FIO_HDR +
		   (off_t)((l->tail % nslots) * fio_stride(l->size));
	ssize_t r;
	int rc;

	rc = fio_poll(l->fd[0], ring + FIO_HEAD, l->tail, nslots, false, e);
	if (rc)
		return rc;
	r = pread(l->fd[0], buf, n, at);
	if (r != (ssize_t)n)
		return fio_io_error(e, "pread", r);
	l->tail++;
	return fio_put(l->fd[0], ring + FIO_TAIL, l->tail, e);
}

static void fio_close(struct ib_link *l)
{
	close(l->fd[0]);
}

static void fio_destroy(struct ib_link *l)
{
	unlink(l->path);
	ib_cleanup_forget(l->path);
}

const struct ib_mech ib_mech_file_io = {
	.name = "file-io",
	.buffering = "page cache (ring of slots in a file)",
	.copies = "2 (pwrite in, pread out)",
	.flow = "polling: writer polls the reader's counter",
	.open = fio_open,
	.keep_side = fio_keep_side,
	.send = fio_send,
	.recv = fio_recv,
	.close = fio_close,
	.destroy = fio_destroy,
};
