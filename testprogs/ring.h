/*
 * ring.h - the classic producer/consumer ring over shared memory.
 *
 * One segment holds a header, a process-shared mutex, two counting
 * semaphores and CAPACITY slots; producers and consumers are forked
 * processes that share it.  testprogs/ring.layout describes the same bytes
 * for shmscope (at the default 16 slots of 100 bytes); `ring --offsets`
 * prints the offsets the compiler chose so tests can check that they agree.
 *
 * ring.c      options, the parent that forks, watches and verifies
 * ring_seg.c  creating, mapping, growing and removing the segment
 * ring_work.c the producer and consumer loops
 */
#ifndef SHMSCOPE_RING_H
#define SHMSCOPE_RING_H

#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

#define RING_MAGIC	   0x52494e47u /* "RING" */
#define RING_VERSION	   1
#define RING_DEFAULT_SLOTS 16
#define RING_DEFAULT_SIZE  100
#define RING_MAX_PROCS	   64
#define RING_MAX_SLOTS	   65536
#define RING_MAX_SIZE	   65536
/* A growing ring stops at RING_MAX_SLOTS slots or at this many bytes. */
#define RING_MAX_BYTES ((size_t)256 << 20)

/* One message.  A slot is this header plus msg_size bytes of text, rounded
 * up to 8 bytes: 120 bytes at the default 100-byte text. */
struct ring_msg {
	uint64_t seq;	   /* 0, 1, 2, ... per producer */
	uint32_t producer; /* 0 .. producers-1 */
	uint32_t len;	   /* bytes of text used, <= msg_size */
	uint32_t checksum; /* ring_checksum() of the fields above and text */
	char text[];
};

/* The segment.  Every field below `lock` is read and written only with
 * `lock` held; the header above it is written under `lock` too when the
 * ring grows. */
struct ring_shm {
	uint32_t magic;	     /* RING_MAGIC, written last at creation */
	uint32_t version;    /* RING_VERSION */
	uint32_t capacity;   /* slots, a power of two */
	uint32_t msg_size;   /* text bytes per slot */
	uint32_t slot_size;  /* bytes per slot */
	uint32_t generation; /* bumped each time the ring grows */
	uint64_t size;	     /* bytes of the segment */
	int32_t creator;     /* pid of the parent */
	uint32_t producers;
	uint32_t consumers;
	uint32_t reserved;
	pthread_mutex_t lock; /* process-shared, robust */
	sem_t empty_slots;    /* free slots */
	sem_t filled_slots;   /* slots holding a message */
	uint32_t write_idx;   /* monotonic; slot = write_idx % capacity */
	uint32_t read_idx;    /* monotonic; write_idx - read_idx <= capacity */
	uint64_t slots[];     /* capacity * slot_size bytes of ring_msg */
};

enum ring_kind { RING_POSIX, RING_SYSV, RING_FILE };

struct ring_opts {
	enum ring_kind kind;
	char name[256]; /* POSIX name ("/x"), file path, or the SysV key's
			   source */
	key_t key;
	unsigned producers, consumers;
	uint64_t messages; /* per producer */
	uint32_t slots, size;
	double rate;	     /* messages per second per producer, 0 = max */
	uint64_t grow_every; /* 0 = never */
	uint64_t stop_after; /* 0 = never */
	int hold, counts;
};

/* What one process did to the ring's sync objects, for --counts. */
struct ring_counts {
	uint64_t lock, unlock;
	uint64_t empty_wait, empty_post, filled_wait, filled_post;
	uint64_t intr; /* sem_wait calls interrupted by a signal */
};

/* One process's view of the segment. */
struct ring {
	struct ring_shm *shm;
	size_t mapped;	/* bytes mapped at shm (page multiple for fds) */
	size_t reserve; /* address space reserved at shm, 0 if not growing */
	uint32_t generation, capacity;
	enum ring_kind kind;
	int fd;	   /* POSIX or file; -1 for SysV */
	int shmid; /* SysV; -1 otherwise */
	char name[256];
	key_t key;
	struct ring_counts counts;
};

/* State the processes share outside the segment (an anonymous shared
 * mapping the parent makes before forking): how far everyone got, and what
 * the consumers found.  Not part of the ring, so the inspector never sees
 * it. */
struct ring_ctl {
	atomic_uint_fast64_t claimed;  /* consumer tickets handed out */
	atomic_uint_fast64_t consumed; /* messages fully consumed */
	atomic_uint_fast64_t produced; /* messages fully produced */
	atomic_uint_fast64_t errors;
	atomic_int first_error_taken;
	char first_error[256];
	uint64_t written;		   /* under the ring's lock */
	uint64_t grows;			   /* under the ring's lock */
	uint64_t next_seq[RING_MAX_PROCS]; /* under the ring's lock */
	uint64_t sent[RING_MAX_PROCS];	   /* by each producer */
	struct ring_counts counts[2 * RING_MAX_PROCS + 1];
};

/* Set by the children's SIGINT/SIGTERM/SIGHUP handler. */
extern volatile sig_atomic_t ring_stop;

/* Bytes of a slot holding SIZE bytes of text. */
size_t ring_slot_size(uint32_t size);

/* Slot I (an index, reduced modulo the capacity this process has mapped). */
struct ring_msg *ring_slot(struct ring *r, uint32_t idx);

/* Create the segment O describes, initialise its header, mutex and
 * semaphores, and map it.  0 or -errno with E filled. */
int ring_create(struct ring *r, const struct ring_opts *o, struct errbuf *e);

/* With the lock held: catch up with a grow another process did (map the
 * new size).  0 or -errno. */
int ring_sync(struct ring *r, struct errbuf *e);

/* With the lock held: double the capacity, move the live messages to their
 * new slots and post the new empty slots.  0 (also when the ring is at its
 * maximum and stays as it is) or -errno. */
int ring_grow(struct ring *r, struct errbuf *e);

/* Destroy the sync objects, unmap, and remove the segment. */
void ring_remove(struct ring *r);

/* Remove the segment's name only (for the parent's emergency exits). */
void ring_unlink(struct ring *r);

/* The checksum a message carries: FNV-1a over seq, producer, len, text. */
uint32_t ring_checksum(const struct ring_msg *m);

/* Fill M (with room for SIZE bytes of text) as producer P's message SEQ. */
void ring_fill(struct ring_msg *m, uint32_t size, uint32_t p, uint64_t seq);

/* Check that M is the next message of its producer, and advance
 * ctl->next_seq (call with the lock held: this is what proves nothing was
 * lost, duplicated or reordered).  0 if it holds; otherwise 1 and a
 * description in WHY. */
int ring_check_seq(struct ring_ctl *ctl, const struct ring_opts *o,
		   const struct ring_msg *m, char *why, size_t n);

/* Check M's length and checksum.  0 if they hold; otherwise 1 and WHY. */
int ring_check_sum(const struct ring_opts *o, const struct ring_msg *m,
		   char *why, size_t n);

/* Record a verification failure (the first one's text is kept). */
void ring_report(struct ring_ctl *ctl, const char *who, const char *why);

/* The child processes.  They return the exit status. */
int ring_producer(struct ring *r, struct ring_ctl *ctl,
		  const struct ring_opts *o, unsigned id);
int ring_consumer(struct ring *r, struct ring_ctl *ctl,
		  const struct ring_opts *o, unsigned id);

#endif
