/*
 * ipcbench_ring.c - the shared-memory mechanisms: a ring of slots in a
 * segment, one ring per direction.
 *
 * posix-shm, sysv-shm and file-mmap use the classic ring (the design of
 * testprogs/ring): a process-shared mutex around the indices and two
 * process-shared semaphores counting empty and filled slots.  They differ
 * only in where the memory comes from (shm_open, shmget, a file), which is
 * exactly what the "POSIX is faster than System V" claim is about.
 *
 * posix-shm-futex keeps the same slots but hands them over with two
 * monotonic counters and a futex: the waiting side spins a little, then
 * sleeps in FUTEX_WAIT; the other side wakes it only when it said it sleeps.
 *
 * Both copy the message into the slot and out of it again (two copies), so
 * they compare with pipes and sockets like for like.
 */
#include "ipcbench.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

const char *ib_file_dir = "/tmp";

#define RING_MAGIC     0x52494e47u /* "RING" */
#define RING_BYTES     (8u << 20)  /* aim: at most this much per ring */
#define RING_MAX_SLOTS 64
#define SPIN_NS	       50000 /* spin up to 50 us before sleeping */
#define SPIN_CHECK     64
#define WAIT_NS	       100000000 /* re-check the peer every 100 ms */

struct slot {
	uint32_t len;
	uint32_t pad;
	/* message follows, 8-byte aligned */
};

/* The classic ring: mutex + two semaphores. */
struct sem_ring {
	uint32_t magic;
	uint32_t nslots;
	uint64_t stride;
	pthread_mutex_t lock;
	sem_t empty_slots;
	sem_t filled_slots;
	uint32_t write_idx;
	uint32_t read_idx;
};

/* The futex ring: counters on their own cache lines. */
struct fx_ring {
	uint32_t magic;
	uint32_t nslots;
	uint64_t stride;
	_Alignas(64) uint32_t head; /* written by the producer */
	uint32_t prod_sleeps;
	_Alignas(64) uint32_t tail; /* written by the consumer */
	uint32_t cons_sleeps;
};

#define RING_HDR 256 /* room for either header, slots start here */

static size_t ring_stride(size_t size)
{
	return (sizeof(struct slot) + size + 63) & ~(size_t)63;
}

static uint32_t ring_nslots(size_t size)
{
	size_t n = RING_BYTES / ring_stride(size);

	if (n > RING_MAX_SLOTS)
		n = RING_MAX_SLOTS;
	if (n < 2)
		n = 2;
	return (uint32_t)n;
}

static size_t ring_bytes(size_t size)
{
	size_t b = RING_HDR + ring_nslots(size) * ring_stride(size);

	return (b + 4095) & ~(size_t)4095;
}

static struct slot *ring_slot(void *ring, uint64_t stride, uint32_t i)
{
	return (struct slot *)((char *)ring + RING_HDR + i * stride);
}

static int sem_ring_init(void *mem, size_t size, struct errbuf *e)
{
	struct sem_ring *r = mem;
	pthread_mutexattr_t ma;
	int rc;

	r->magic = RING_MAGIC;
	r->nslots = ring_nslots(size);
	r->stride = ring_stride(size);
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	/* if the peer dies inside, we learn it instead of hanging */
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	rc = pthread_mutex_init(&r->lock, &ma);
	pthread_mutexattr_destroy(&ma);
	if (rc) {
		err_setn(e, rc, "pthread_mutex_init");
		return -rc;
	}
	if (sem_init(&r->empty_slots, 1, r->nslots) ||
	    sem_init(&r->filled_slots, 1, 0)) {
		err_setn(e, errno, "sem_init");
		return -errno;
	}
	return 0;
}

static void sem_ring_fini(void *mem)
{
	struct sem_ring *r = mem;

	sem_destroy(&r->empty_slots);
	sem_destroy(&r->filled_slots);
	pthread_mutex_destroy(&r->lock);
}

static int fx_ring_init(void *mem, size_t size, struct errbuf *e)
{
	struct fx_ring *r = mem;

	(void)e;
	r->magic = RING_MAGIC;
	r->nslots = ring_nslots(size);
	r->stride = ring_stride(size);
	return 0;
}

static int peer_gone(struct errbuf *e)
{
	err_set(e, "the other process is gone");
	return -EPIPE;
}

/* sem_wait that gives up when the other process is gone. */
static int sem_wait_peer(sem_t *s, struct errbuf *e)
{
	struct timespec ts;

	for (;;) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += WAIT_NS;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_nsec -= 1000000000;
			ts.tv_sec++;
		}
		if (!sem_timedwait(s, &ts))
			return 0;
		if (errno != ETIMEDOUT && errno != EINTR) {
			err_setn(e, errno, "sem_timedwait");
			return -errno;
		}
		if (ib_peer_gone())
			return peer_gone(e);
	}
}

static int lock_ring(struct sem_ring *r, struct errbuf *e)
{
	int rc = pthread_mutex_lock(&r->lock);

	if (rc == EOWNERDEAD) {
		pthread_mutex_unlock(&r->lock);
		err_set(e, "the other process died holding the ring lock");
		return -EOWNERDEAD;
	}
	if (rc) {
		err_setn(e, rc, "pthread_mutex_lock");
		return -rc;
	}
	return 0;
}

static int sem_ring_send(struct ib_link *l, const void *buf, size_t n,
			 struct errbuf *e)
{
	struct sem_ring *r = l->ring[l->side];
	struct slot *s;
	int rc;

	rc = sem_wait_peer(&r->empty_slots, e);
	if (rc)
		return rc;
	rc = lock_ring(r, e);
	if (rc)
		return rc;
	s = ring_slot(r, r->stride, r->write_idx % r->nslots);
	s->len = (uint32_t)n;
	memcpy(s + 1, buf, n);
	r->write_idx++;
	pthread_mutex_unlock(&r->lock);
	sem_post(&r->filled_slots);
	return 0;
}

static int sem_ring_recv(struct ib_link *l, void *buf, size_t n,
			 struct errbuf *e)
{
	struct sem_ring *r = l->ring[1 - l->side];
	struct slot *s;
	int rc;

	rc = sem_wait_peer(&r->filled_slots, e);
	if (rc)
		return rc;
	rc = lock_ring(r, e);
	if (rc)
		return rc;
	s = ring_slot(r, r->stride, r->read_idx % r->nslots);
	if (s->len != n) {
		pthread_mutex_unlock(&r->lock);
		err_set(e, "slot holds %u bytes, expected %zu", s->len, n);
		return -EBADMSG;
	}
	memcpy(buf, s + 1, n);
	r->read_idx++;
	pthread_mutex_unlock(&r->lock);
	sem_post(&r->empty_slots);
	return 0;
}

/* --- futex handoff ------------------------------------------------------ */

static long futex(uint32_t *uaddr, int op, uint32_t val,
		  const struct timespec *ts)
{
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

/*
 * Wait until *WORD != SEEN, telling the other side through *SLEEPS that it
 * must wake us.  The seq_cst store of SLEEPS before re-reading WORD pairs
 * with the waker's seq_cst fence between its update of WORD and its read of
 * SLEEPS: one of the two always sees the other.
 */
static int fx_wait(uint32_t *word, uint32_t seen, uint32_t *sleeps,
		   struct errbuf *e)
{
	struct timespec ts = {0, WAIT_NS};

	uint64_t spin_end = 0;

	/*
	 * Spin for a while: on another CPU the answer often comes within a
	 * microsecond, and a sleeping side costs a wake-up (an IPI) per
	 * message.  Yield now and then, in case the peer shares our CPU.
	 */
	for (unsigned i = 1;; i++) {
		if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != seen)
			return 0;
		if (i % SPIN_CHECK)
			ib_cpu_relax();
		else if (!spin_end)
			spin_end = ib_now_ns() + SPIN_NS;
		else if (ib_now_ns() > spin_end)
			break;
		else
			sched_yield();
	}
	for (;;) {
		__atomic_store_n(sleeps, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(word, __ATOMIC_SEQ_CST) != seen)
			break;
		if (futex(word, FUTEX_WAIT, seen, &ts) && errno != EAGAIN &&
		    errno != EINTR && errno != ETIMEDOUT) {
			__atomic_store_n(sleeps, 0, __ATOMIC_RELAXED);
			err_setn(e, errno, "futex wait");
			return -errno;
		}
		if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != seen)
			break;
		if (ib_peer_gone()) {
			__atomic_store_n(sleeps, 0, __ATOMIC_RELAXED);
			return peer_gone(e);
		}
	}
	__atomic_store_n(sleeps, 0, __ATOMIC_RELAXED);
	return 0;
}

static void fx_publish(uint32_t *word, uint32_t v, uint32_t *sleeps)
{
	__atomic_store_n(word, v, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(sleeps, __ATOMIC_RELAXED))
		futex(word, FUTEX_WAKE, 1, NULL);
}

static int fx_ring_send(struct ib_link *l, const void *buf, size_t n,
			struct errbuf *e)
{
	struct fx_ring *r = l->ring[l->side];
	uint32_t head = r->head, tail;
	struct slot *s;
	int rc;

	for (;;) {
		tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
		if (head - tail < r->nslots)
			break;
		rc = fx_wait(&r->tail, tail, &r->prod_sleeps, e);
		if (rc)
			return rc;
	}
	s = ring_slot(r, r->stride, head % r->nslots);
	s->len = (uint32_t)n;
	memcpy(s + 1, buf, n);
	fx_publish(&r->head, head + 1, &r->cons_sleeps);
	return 0;
}

static int fx_ring_recv(struct ib_link *l, void *buf, size_t n,
			struct errbuf *e)
{
	struct fx_ring *r = l->ring[1 - l->side];
	uint32_t tail = r->tail, head;
	struct slot *s;
	int rc;

	for (;;) {
		head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
		if (head != tail)
			break;
		rc = fx_wait(&r->head, head, &r->cons_sleeps, e);
		if (rc)
			return rc;
	}
	s = ring_slot(r, r->stride, tail % r->nslots);
	if (s->len != n) {
		err_set(e, "slot holds %u bytes, expected %zu", s->len, n);
		return -EBADMSG;
	}
	memcpy(buf, s + 1, n);
	fx_publish(&r->tail, tail + 1, &r->prod_sleeps);
	return 0;
}

/* --- where the memory comes from ---------------------------------------- */

static int rings_init(struct ib_link *l, bool futex_ring, struct errbuf *e)
{
	size_t rb = ring_bytes(l->size);
	char what[32];
	int rc = 0;

	for (int i = 0; i < 2 && !rc; i++) {
		l->ring[i] = (char *)l->mem + i * rb;
		rc = futex_ring ? fx_ring_init(l->ring[i], l->size, e)
				: sem_ring_init(l->ring[i], l->size, e);
	}
	ib_fmt_size(what, sizeof(what), ring_stride(l->size));
	snprintf(l->note, sizeof(l->note), "%u slots of %s per direction",
		 ring_nslots(l->size), what);
	return rc;
}

static void rings_fini(struct ib_link *l, bool futex_ring)
{
	/* the parent closes last, after the child exited */
	if (l->side == 0 && !futex_ring && l->ring[0]) {
		sem_ring_fini(l->ring[0]);
		sem_ring_fini(l->ring[1]);
	}
}

static int posix_open(struct ib_link *l, bool futex_ring, struct errbuf *e)
{
	static unsigned serial;
	int fd, rc;

	l->memsize = 2 * ring_bytes(l->size);
	snprintf(l->name[0], sizeof(l->name[0]), "/ipcbench-%d-%u", getpid(),
		 serial++);
	fd = shm_open(l->name[0], O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		err_setn(e, errno, "shm_open %s", l->name[0]);
		return -errno;
	}
	ib_cleanup_shm(l->name[0]);
	if (ftruncate(fd, (off_t)l->memsize)) {
		rc = -errno;
		err_setn(e, errno, "ftruncate %s", l->name[0]);
		goto out_unlink;
	}
	l->mem = mmap(NULL, l->memsize, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		      0);
	if (l->mem == MAP_FAILED) {
		l->mem = NULL;
		rc = -errno;
		err_setn(e, errno, "mmap %s", l->name[0]);
		goto out_unlink;
	}
	close(fd);
	fd = -1;
	rc = rings_init(l, futex_ring, e);
	if (rc)
		goto out_unmap;
	return 0;

out_unmap:
	munmap(l->mem, l->memsize);
out_unlink:
	if (fd >= 0)
		close(fd);
	shm_unlink(l->name[0]);
	ib_cleanup_forget(l->name[0]);
	return rc;
}

static int posix_sem_open(struct ib_link *l, struct errbuf *e)
{
	return posix_open(l, false, e);
}

static int posix_fx_open(struct ib_link *l, struct errbuf *e)
{
	return posix_open(l, true, e);
}

static void posix_sem_close(struct ib_link *l)
{
	rings_fini(l, false);
	munmap(l->mem, l->memsize);
}

static void posix_fx_close(struct ib_link *l)
{
	munmap(l->mem, l->memsize);
}

static void posix_destroy(struct ib_link *l)
{
	shm_unlink(l->name[0]);
	ib_cleanup_forget(l->name[0]);
}

static void keep_nothing(struct ib_link *l)
{
	(void)l;
}

static int sysv_open(struct ib_link *l, struct errbuf *e)
{
	int rc;

	l->memsize = 2 * ring_bytes(l->size);
	l->shmid = shmget(IPC_PRIVATE, l->memsize, IPC_CREAT | 0600);
	if (l->shmid < 0) {
		err_setn(e, errno, "shmget %zu bytes", l->memsize);
		return -errno;
	}
	ib_cleanup_sysv(l->shmid);
	l->mem = shmat(l->shmid, NULL, 0);
	if (l->mem == (void *)-1) {
		rc = -errno;
		err_setn(e, errno, "shmat %d", l->shmid);
		l->mem = NULL;
		goto out_rmid;
	}
	rc = rings_init(l, false, e);
	if (rc)
		goto out_detach;
	return 0;

out_detach:
	shmdt(l->mem);
out_rmid:
	shmctl(l->shmid, IPC_RMID, NULL);
	ib_cleanup_forget_sysv(l->shmid);
	return rc;
}

static void sysv_close(struct ib_link *l)
{
	rings_fini(l, false);
	shmdt(l->mem);
}

static void sysv_destroy(struct ib_link *l)
{
	shmctl(l->shmid, IPC_RMID, NULL);
	ib_cleanup_forget_sysv(l->shmid);
}

static int file_open(struct ib_link *l, struct errbuf *e)
{
	int fd, rc;

	l->memsize = 2 * ring_bytes(l->size);
	snprintf(l->path, sizeof(l->path), "%s/ipcbench-mmap-XXXXXX",
		 ib_file_dir);
	fd = mkstemp(l->path);
	if (fd < 0) {
		err_setn(e, errno, "mkstemp %s", l->path);
		return -errno;
	}
	ib_cleanup_file(l->path);
	if (ftruncate(fd, (off_t)l->memsize)) {
		rc = -errno;
		err_setn(e, errno, "ftruncate %s", l->path);
		goto out_unlink;
	}
	l->mem = mmap(NULL, l->memsize, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		      0);
	if (l->mem == MAP_FAILED) {
		rc = -errno;
		err_setn(e, errno, "mmap %s", l->path);
		l->mem = NULL;
		goto out_unlink;
	}
	close(fd);
	fd = -1;
	rc = rings_init(l, false, e);
	if (rc)
		goto out_unmap;
	return 0;

out_unmap:
	munmap(l->mem, l->memsize);
out_unlink:
	if (fd >= 0)
		close(fd);
	unlink(l->path);
	ib_cleanup_forget(l->path);
	return rc;
}

static void file_destroy(struct ib_link *l)
{
	unlink(l->path);
	ib_cleanup_forget(l->path);
}

const struct ib_mech ib_mech_posix_shm = {
	.name = "posix-shm",
	.buffering = "ring of slots in the segment",
	.copies = "2 (memcpy in, memcpy out)",
	.flow = "semaphores: writer blocks when full",
	.open = posix_sem_open,
	.keep_side = keep_nothing,
	.send = sem_ring_send,
	.recv = sem_ring_recv,
	.close = posix_sem_close,
	.destroy = posix_destroy,
};

const struct ib_mech ib_mech_posix_shm_futex = {
	.name = "posix-shm-futex",
	.buffering = "ring of slots in the segment",
	.copies = "2 (memcpy in, memcpy out)",
	.flow = "counters: spin, then futex sleep when full",
	.open = posix_fx_open,
	.keep_side = keep_nothing,
	.send = fx_ring_send,
	.recv = fx_ring_recv,
	.close = posix_fx_close,
	.destroy = posix_destroy,
};

const struct ib_mech ib_mech_sysv_shm = {
	.name = "sysv-shm",
	.buffering = "ring of slots in the segment",
	.copies = "2 (memcpy in, memcpy out)",
	.flow = "semaphores: writer blocks when full",
	.open = sysv_open,
	.keep_side = keep_nothing,
	.send = sem_ring_send,
	.recv = sem_ring_recv,
	.close = sysv_close,
	.destroy = sysv_destroy,
};

const struct ib_mech ib_mech_file_mmap = {
	.name = "file-mmap",
	.buffering = "ring of slots in a MAP_SHARED file",
	.copies = "2 (memcpy in, memcpy out)",
	.flow = "semaphores: writer blocks when full",
	.open = file_open,
	.keep_side = keep_nothing,
	.send = sem_ring_send,
	.recv = sem_ring_recv,
	.close = posix_sem_close,
	.destroy = file_destroy,
};
