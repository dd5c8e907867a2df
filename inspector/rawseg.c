/*
 * rawseg.c - a POSIX segment as raw bytes (see rawseg.h).
 */
#include "rawseg.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "snapshot.h"
#include "tui.h"

struct rawseg {
	char name[256];
	int fd;
	const uint8_t *map;
	size_t maplen;
	uint64_t attach_size;
	dev_t dev;
	ino_t ino;
};

static _Thread_local sigjmp_buf *rawseg_jmp;

static void rawseg_on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(*rawseg_jmp, 1);
}

/*
 * Copy N bytes of the mapping.  Aligned 8-byte words are single loads, so
 * an aligned field is never torn.  A segment that shrinks between our
 * fstat() and the copy raises SIGBUS past its new end: catch it and report
 * how far we got, rather than die.
 */
static size_t rawseg_copy(uint8_t *dst, const uint8_t *src, size_t n)
{
	struct sigaction sa, old;
	sigjmp_buf jb;
	volatile size_t done = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = rawseg_on_sigbus;
	sigemptyset(&sa.sa_mask);
	rawseg_jmp = &jb;
	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(jb, 1) == 0) {
		const volatile uint64_t *w = (const volatile uint64_t *)src;

		for (; done + 8 <= n; done += 8) {
			uint64_t v = w[done / 8];

			memcpy(dst + done, &v, 8);
		}
		for (; done < n; done++)
			dst[done] = ((const volatile uint8_t *)src)[done];
	}
	sigaction(SIGBUS, &old, NULL);
	rawseg_jmp = NULL;
	return done;
}

static int rawseg_map(struct rawseg *r, size_t len, struct errbuf *e)
{
	void *p;

	if (r->map)
		munmap((void *)r->map, r->maplen);
	r->map = NULL;
	r->maplen = 0;
	if (!len)
		return 0;
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, r->fd, 0);
	if (p == MAP_FAILED) {
		err_setn(e, errno, "%s: mmap", r->name);
		return -errno;
	}
	r->map = p;
	r->maplen = len;
	return 0;
}

static int rawseg_attach(struct rawseg *r, struct errbuf *e)
{
	struct stat st;
	int fd = shm_open(r->name, O_RDONLY, 0);

	if (fd < 0) {
		err_setn(e, errno, "%s", r->name);
		return -errno;
	}
	if (fstat(fd, &st) < 0) {
		int err = errno;

		close(fd);
		err_setn(e, err, "%s: fstat", r->name);
		return -err;
	}
	if (r->fd >= 0)
		close(r->fd);
	r->fd = fd;
	r->dev = st.st_dev;
	r->ino = st.st_ino;
	r->attach_size = (uint64_t)st.st_size;
	return rawseg_map(r, (size_t)st.st_size, e);
}

struct rawseg *rawseg_open(const char *name, struct errbuf *e)
{
	struct rawseg *r;

	if (name[0] != '/' || strlen(name) >= sizeof(r->name)) {
		err_set(e, "%s: not a POSIX segment name (/name)", name);
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		err_setn(e, ENOMEM, "%s", name);
		return NULL;
	}
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->fd = -1;
	if (rawseg_attach(r, e) < 0) {
		rawseg_close(r);
		return NULL;
	}
	return r;
}

void rawseg_close(struct rawseg *r)
{
	if (!r)
		return;
	if (r->map)
		munmap((void *)r->map, r->maplen);
	if (r->fd >= 0)
		close(r->fd);
	free(r);
}

int rawseg_reattach(struct rawseg *r, struct errbuf *e)
{
	return rawseg_attach(r, e);
}

/* What the name points at now, compared with what we hold. */
static enum snap_seg_status rawseg_name_status(const struct rawseg *r,
					       const struct stat *mine)
{
	struct stat st;
	int fd;

	fd = shm_open(r->name, O_RDONLY, 0);
	if (fd < 0)
		return SNAP_SEG_UNLINKED;
	if (fstat(fd, &st) < 0)
		st = *mine;
	close(fd);
	if (st.st_dev != r->dev || st.st_ino != r->ino)
		return SNAP_SEG_RECREATED;
	return mine->st_nlink == 0 ? SNAP_SEG_UNLINKED : SNAP_SEG_OK;
}

static void rawseg_status(struct rawseg *r, const struct stat *st,
			  struct snapshot *out)
{
	char msg[128] = "";
	uint64_t size = (uint64_t)st->st_size;

	out->status = rawseg_name_status(r, st);
	if (out->status == SNAP_SEG_UNLINKED)
		snprintf(msg, sizeof(msg),
			 "unlinked — showing the last mapping (%llu bytes)",
			 (unsigned long long)size);
	else if (out->status == SNAP_SEG_RECREATED)
		snprintf(msg, sizeof(msg), "recreated — press r to reattach");
	else if (size < r->attach_size)
		out->status = SNAP_SEG_SHRANK;
	else if (size > r->attach_size)
		out->status = SNAP_SEG_GREW;
	if (out->status == SNAP_SEG_SHRANK)
		snprintf(msg, sizeof(msg), "segment shrank to %llu bytes",
			 (unsigned long long)size);
	else if (out->status == SNAP_SEG_GREW)
		snprintf(msg, sizeof(msg),
			 "segment grew from %llu to %llu bytes",
			 (unsigned long long)r->attach_size,
			 (unsigned long long)size);
	if (msg[0])
		out->status_msg = snap_strdup(out, msg);
}

int rawseg_take(struct rawseg *r, struct snapshot *out, struct errbuf *e)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t n = 0, buflen = 0;

	clock_gettime(CLOCK_REALTIME, &out->when);
	out->name = snap_strdup(out, r->name);
	out->kind = "posix";
	out->dev = r->dev;
	out->ino = r->ino;
	for (int tries = 0; tries < 3; tries++) {
		if (fstat(r->fd, &st) < 0) {
			err_setn(e, errno, "%s: fstat", r->name);
			return -errno;
		}
		/* Grown: map the new size, so the new bytes are shown. */
		if ((size_t)st.st_size > r->maplen &&
		    rawseg_map(r, (size_t)st.st_size, e) < 0)
			return -EIO;
		n = (size_t)st.st_size < r->maplen ? (size_t)st.st_size
						   : r->maplen;
		if (buflen < n) {
			buf = snap_alloc(out, n);
			if (!buf) {
				err_setn(e, ENOMEM, "%s", r->name);
				return -ENOMEM;
			}
			buflen = n;
		}
		if (!n || rawseg_copy(buf, r->map, n) == n)
			break;
		/* Shrank while we read: look at the size again. */
	}
	out->size = n;
	out->bytes = buf;
	rawseg_status(r, &st, out);
	return 0;
}

static int rawseg_src_take(void *ctx, struct snapshot *out, struct errbuf *e)
{
	return rawseg_take(ctx, out, e);
}

static int rawseg_src_reattach(void *ctx, struct errbuf *e)
{
	return rawseg_reattach(ctx, e);
}

void rawseg_source(struct rawseg *r, struct tui_source *out)
{
	memset(out, 0, sizeof(*out));
	out->take = rawseg_src_take;
	out->reattach = rawseg_src_reattach;
	out->ctx = r;
	out->title = r->name;
}
