/*
 * ring_seg.c - the ring's segment: create, map, grow, remove.
 *
 * A ring that may grow (--grow-every) reserves RING_MAX_BYTES of address
 * space up front (PROT_NONE, no memory behind it) and maps the segment at
 * its start.  Growing maps only the new tail of the file over the
 * reservation, so the header, the mutex and the semaphores never move: a
 * process that holds the lock, or sleeps in sem_wait() in another process,
 * keeps a valid address whatever the others do.  See docs/ring.md for the
 * protocol.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ring.h"

static size_t page_round(size_t n)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	return (n + pg - 1) / pg * pg;
}

size_t ring_slot_size(uint32_t size)
{
	return (offsetof(struct ring_msg, text) + size + 7) / 8 * 8;
}

static size_t ring_bytes(uint32_t capacity, uint32_t size)
{
	return sizeof(struct ring_shm) +
	       (size_t)capacity * ring_slot_size(size);
}

struct ring_msg *ring_slot(struct ring *r, uint32_t idx)
{
	size_t off = (size_t)(idx & (r->capacity - 1)) * r->shm->slot_size;

	return (struct ring_msg *)((char *)r->shm->slots + off);
}

static int open_fd(struct ring *r, size_t size, struct errbuf *e)
{
	int fd;

	if (r->kind == RING_POSIX)
		fd = shm_open(r->name, O_RDWR | O_CREAT | O_EXCL, 0600);
	else
		fd = open(r->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		int err = errno;

		if (err == EEXIST)
			err_set(e,
				"%s: exists already (a stale run? remove it)",
				r->name);
		else
			err_setn(e, err, "%s", r->name);
		return -err;
	}
	r->fd = fd;
	if (ftruncate(fd, (off_t)size) < 0) {
		int err = errno;

		err_setn(e, err, "%s: ftruncate", r->name);
		ring_unlink(r);
		close(fd);
		r->fd = -1;
		return -err;
	}
	return 0;
}

/* Map SIZE bytes of r->fd, inside a reservation when the ring may grow. */
static int map_fd(struct ring *r, size_t size, struct errbuf *e)
{
	void *base, *p;
	int rc;

	r->mapped = page_round(size);
	if (!r->reserve) {
		p = mmap(NULL, r->mapped, PROT_READ | PROT_WRITE, MAP_SHARED,
			 r->fd, 0);
		if (p == MAP_FAILED) {
			rc = -errno;
			err_setn(e, -rc, "%s: mmap", r->name);
			return rc;
		}
		r->shm = p;
		return 0;
	}
	base = mmap(NULL, r->reserve, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED) {
		rc = -errno;
		err_setn(e, -rc, "reserving %zu bytes", r->reserve);
		return rc;
	}
	p = mmap(base, r->mapped, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, r->fd, 0);
	if (p == MAP_FAILED) {
		rc = -errno;
		err_setn(e, -rc, "%s: mmap", r->name);
		munmap(base, r->reserve);
		return rc;
	}
	r->shm = p;
	return 0;
}

static int create_sysv(struct ring *r, size_t size, struct errbuf *e)
{
	void *p;

	r->shmid = shmget(r->key, size, IPC_CREAT | IPC_EXCL | 0600);
	if (r->shmid < 0) {
		int err = errno;

		if (err == EEXIST)
			err_set(e,
				"sysv:0x%08x: exists already (remove it with "
				"ipcrm -M 0x%08x)",
				(unsigned)r->key, (unsigned)r->key);
		else
			err_setn(e, err, "sysv:0x%08x: shmget",
				 (unsigned)r->key);
		return -err;
	}
	p = shmat(r->shmid, NULL, 0);
	if (p == (void *)-1) {
		int err = errno;

		err_setn(e, err, "sysv:0x%08x: shmat", (unsigned)r->key);
		shmctl(r->shmid, IPC_RMID, NULL);
		r->shmid = -1;
		return -err;
	}
	r->shm = p;
	r->mapped = size;
	return 0;
}

static int init_sync(struct ring_shm *s, struct errbuf *e)
{
	pthread_mutexattr_t ma;
	int rc;

	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	/* Robust: a process that dies holding the lock is reported as such
	 * (EOWNERDEAD) to the next one instead of hanging it. */
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	rc = pthread_mutex_init(&s->lock, &ma);
	pthread_mutexattr_destroy(&ma);
	if (rc) {
		err_setn(e, rc, "pthread_mutex_init");
		return -rc;
	}
	if (sem_init(&s->empty_slots, 1, s->capacity) < 0 ||
	    sem_init(&s->filled_slots, 1, 0) < 0) {
		rc = errno;
		err_setn(e, rc, "sem_init");
		return -rc;
	}
	return 0;
}

int ring_create(struct ring *r, const struct ring_opts *o, struct errbuf *e)
{
	size_t size = ring_bytes(o->slots, o->size);
	struct ring_shm *s;
	int rc;

	memset(r, 0, sizeof(*r));
	r->kind = o->kind;
	r->fd = -1;
	r->shmid = -1;
	r->key = o->key;
	snprintf(r->name, sizeof(r->name), "%s", o->name);
	r->capacity = o->slots;
	if (o->grow_every) {
		size_t most = page_round(ring_bytes(RING_MAX_SLOTS, o->size));

		r->reserve = most < RING_MAX_BYTES ? most : RING_MAX_BYTES;
		if (r->reserve < page_round(size))
			r->reserve = page_round(size);
	}
	if (r->kind == RING_SYSV) {
		rc = create_sysv(r, size, e);
	} else {
		rc = open_fd(r, size, e);
		if (!rc) {
			rc = map_fd(r, size, e);
			if (rc)
				ring_remove(r);
		}
	}
	if (rc)
		return rc;
	s = r->shm;
	s->version = RING_VERSION;
	s->capacity = o->slots;
	s->msg_size = o->size;
	s->slot_size = (uint32_t)ring_slot_size(o->size);
	s->size = size;
	s->creator = (int32_t)getpid();
	s->producers = o->producers;
	s->consumers = o->consumers;
	rc = init_sync(s, e);
	if (rc) {
		ring_remove(r);
		return rc;
	}
	/* Last, so whoever sees the magic sees an initialised ring. */
	atomic_thread_fence(memory_order_release);
	s->magic = RING_MAGIC;
	return 0;
}

/* Map the segment up to SIZE bytes: only the part past what is mapped,
 * over the reservation, so nothing already mapped moves. */
static int extend_map(struct ring *r, size_t size, struct errbuf *e)
{
	size_t want = page_round(size);
	void *p;

	if (want <= r->mapped)
		return 0;
	if (want > r->reserve) {
		err_set(e, "%s: %zu bytes exceed the reservation", r->name,
			want);
		return -ENOMEM;
	}
	p = mmap((char *)r->shm + r->mapped, want - r->mapped,
		 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, r->fd,
		 (off_t)r->mapped);
	if (p == MAP_FAILED) {
		int err = errno;

		err_setn(e, err, "%s: mmap", r->name);
		return -err;
	}
	r->mapped = want;
	return 0;
}

int ring_sync(struct ring *r, struct errbuf *e)
{
	struct ring_shm *s = r->shm;
	int rc;

	if (s->generation == r->generation)
		return 0;
	rc = extend_map(r, s->size, e);
	if (rc)
		return rc;
	r->capacity = s->capacity;
	r->generation = s->generation;
	return 0;
}

int ring_grow(struct ring *r, struct errbuf *e)
{
	struct ring_shm *s = r->shm;
	uint32_t old = s->capacity, cap = old * 2;
	size_t size = ring_bytes(cap, s->msg_size);
	int rc;

	if (cap > RING_MAX_SLOTS || page_round(size) > r->reserve)
		return 0;
	if (ftruncate(r->fd, (off_t)size) < 0) {
		rc = -errno;
		err_setn(e, -rc, "%s: ftruncate", r->name);
		return rc;
	}
	rc = extend_map(r, size, e);
	if (rc)
		return rc;
	/* Message i lived in slot i % old and belongs in slot i % cap: either
	 * the same slot or the one `old` further, in the new half, so the
	 * copies never overlap. */
	for (uint32_t i = s->read_idx; i != s->write_idx; i++) {
		struct ring_msg *from, *to;

		r->capacity = old;
		from = ring_slot(r, i);
		r->capacity = cap;
		to = ring_slot(r, i);
		if (from != to)
			memcpy(to, from, s->slot_size);
	}
	r->capacity = cap;
	s->capacity = cap;
	s->size = size;
	s->generation++;
	r->generation = s->generation;
	for (uint32_t i = 0; i < old; i++) {
		if (sem_post(&s->empty_slots) < 0) {
			rc = -errno;
			err_setn(e, -rc, "sem_post");
			return rc;
		}
		r->counts.empty_post++;
	}
	return 0;
}

void ring_unlink(struct ring *r)
{
	switch (r->kind) {
	case RING_POSIX:
		shm_unlink(r->name);
		break;
	case RING_FILE:
		unlink(r->name);
		break;
	case RING_SYSV:
		if (r->shmid >= 0)
			shmctl(r->shmid, IPC_RMID, NULL);
		break;
	}
}

void ring_remove(struct ring *r)
{
	if (r->shm && r->shm->magic == RING_MAGIC) {
		sem_destroy(&r->shm->filled_slots);
		sem_destroy(&r->shm->empty_slots);
		pthread_mutex_destroy(&r->shm->lock);
	}
	ring_unlink(r);
	if (r->shm) {
		if (r->kind == RING_SYSV)
			shmdt(r->shm);
		else
			munmap(r->shm, r->reserve ? r->reserve : r->mapped);
	}
	r->shm = NULL;
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	r->shmid = -1;
}
