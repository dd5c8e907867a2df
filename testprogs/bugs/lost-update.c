/*
 * bug-lost-update - two producers, one consumer, a ring of 16 slots guarded
 * by two semaphores and a mutex.
 *
 * The bug: a producer takes the lock, reads write_idx and fills the slot,
 * and stores write_idx + 1 only after unlocking: the index update is
 * outside the mutex.  When the other producer takes the lock and reads
 * write_idx inside that window both fill the same slot, one message is
 * overwritten and write_idx advances once for two messages; the consumer
 * then meets a slot nobody wrote.
 * Window: from the unlock to the store of write_idx, a few instructions:
 * the other producer, woken by the unlock, comes too late unless this one
 * is preempted right after its unlock.
 * Fixed twin: load, fill and store all under the mutex.
 */
#include "bugkit.h"

#include <stdio.h>

#define CAP	 16
#define MAGIC	 0x4c4f5354u /* "LOST" */
#define PAUSE_US 150	     /* mean wait of a producer for its input */

struct message {
	uint32_t producer;
	uint32_t seq;
	uint32_t valid; /* 1 written, 0 consumed */
	uint32_t check; /* producer * 1000003 + seq */
};

struct ring {
	uint32_t magic;
	pthread_mutex_t lock;
	sem_t empty;
	sem_t filled;
	uint32_t write_idx;
	uint32_t read_idx;
	uint32_t received;
	struct message slots[CAP];
};

static void on_hang(struct bugkit *k)
{
	struct ring *r = k->map;
	int e = -1, f = -1;

	sem_getvalue(&r->empty, &e);
	sem_getvalue(&r->filled, &f);
	bugkit_say(k, "write_idx=%u read_idx=%u received=%u empty=%d filled=%d",
		   r->write_idx, r->read_idx, r->received, e, f);
}

static int producer(struct bugkit *k, long id)
{
	struct ring *r = k->map;
	uint64_t rng = bugkit_rng_seed(k, (uint64_t)id + 1);

	for (uint32_t seq = 0; seq < k->m; seq++) {
		struct message *s;
		uint32_t i;

		bugkit_sleep_us(bugkit_rand_below(&rng, 2 * PAUSE_US));
		sem_wait(&r->empty);
		pthread_mutex_lock(&r->lock);
		i = __atomic_load_n(&r->write_idx, __ATOMIC_RELAXED);
		s = &r->slots[i % CAP];
		s->producer = (uint32_t)id;
		s->seq = seq;
		s->check = (uint32_t)id * 1000003u + seq;
		s->valid = 1;
		if (k->fixed) {
			r->write_idx = i + 1;
			pthread_mutex_unlock(&r->lock);
		} else {
			pthread_mutex_unlock(&r->lock);
			if (k->force)
				bugkit_sleep_us(300);
			/* BUG: the update of the shared index is unlocked. */
			__atomic_store_n(&r->write_idx, i + 1,
					 __ATOMIC_RELAXED);
		}
		sem_post(&r->filled);
	}
	return BUGKIT_OK;
}

static int consumer(struct bugkit *k, long unused)
{
	struct ring *r = k->map;
	uint32_t next[2] = {0, 0};

	(void)unused;
	for (unsigned long n = 0; n < 2 * k->m; n++) {
		struct message m;
		uint32_t i;

		sem_wait(&r->filled);
		pthread_mutex_lock(&r->lock);
		i = r->read_idx;
		m = r->slots[i % CAP];
		r->slots[i % CAP].valid = 0;
		r->read_idx = i + 1;
		r->received++;
		pthread_mutex_unlock(&r->lock);
		sem_post(&r->empty);
		if (!m.valid) {
			bugkit_damage(
				k,
				"slot %u (read_idx %u) was never written: "
				"two producers took the same write_idx, "
				"a message was overwritten",
				i % CAP, i);
			return BUGKIT_DAMAGE;
		}
		if (m.producer > 1 ||
		    m.check != m.producer * 1000003u + m.seq ||
		    m.seq != next[m.producer]) {
			bugkit_damage(k,
				      "read_idx %u: got producer %u seq %u, "
				      "expected seq %u: message lost",
				      i, m.producer, m.seq,
				      m.producer > 1 ? 0 : next[m.producer]);
			return BUGKIT_DAMAGE;
		}
		next[m.producer]++;
	}
	return BUGKIT_OK;
}

static const struct bugkit_prog prog = {
	.name = "bug-lost-update",
	.summary = "Two producers update the ring's write_idx outside the "
		   "mutex; a lost update overwrites a message.",
	.force_help = "sleep 300us between the unlock and the store of "
		      "write_idx",
	.default_m = 60,
	.on_hang = on_hang,
};

int main(int argc, char **argv)
{
	struct bugkit k;
	struct ring *r;
	int st;

	bugkit_init(&k, &prog, argc, argv);
	r = bugkit_create(&k, sizeof(*r));
	bugkit_mutex_init(&k, &r->lock, PTHREAD_MUTEX_NORMAL, false);
	bugkit_sem_init(&k, &r->empty, CAP);
	bugkit_sem_init(&k, &r->filled, 0);
	r->magic = MAGIC;
	bugkit_spawn(&k, "consumer", consumer, 0);
	bugkit_spawn(&k, "producer0", producer, 0);
	bugkit_spawn(&k, "producer1", producer, 1);
	st = bugkit_wait(&k);
	if (st == BUGKIT_OK &&
	    (r->write_idx != 2 * k.m || r->read_idx != 2 * k.m)) {
		bugkit_damage(&k, "write_idx=%u read_idx=%u, want %lu",
			      r->write_idx, r->read_idx, 2 * k.m);
		st = BUGKIT_DAMAGE;
	}
	if (st == BUGKIT_OK)
		bugkit_ok(&k,
			  "2 producers x %lu messages: %u received in order, "
			  "none lost, write_idx=%u",
			  k.m, r->received, r->write_idx);
	bugkit_exit(&k, st);
}
