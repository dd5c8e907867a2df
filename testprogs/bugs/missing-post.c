/*
 * bug-missing-post - one producer, one consumer, a ring of 8 slots counted
 * by two semaphores.
 *
 * The bug: the producer's fast path takes a free slot with sem_trywait; when
 * the ring is full it falls into a slow path (sem_wait) that was written
 * later and forgets sem_post(&filled).  The consumer is faster than the
 * producer, so the ring fills only when the consumer stalls (preempted, or
 * slowed by the fuzzer at its sem_wait/sem_post); then one message is never
 * announced and the consumer waits for it forever: a hang.
 * Window: any stall of the consumer long enough for 8 messages.
 * Fixed twin: the slow path posts too.
 */
#include "bugkit.h"

#define CAP	32
#define MAGIC	0x504f5354u /* "POST" */
#define PROD_US 60	    /* mean wait of the producer for its input */
#define CONS_NS 5000	    /* mean pause of the consumer per message */

struct message {
	uint64_t seq;
	uint64_t check; /* ~seq */
};

struct ring {
	uint32_t magic;
	sem_t empty;
	sem_t filled;
	uint32_t write_idx;
	uint32_t read_idx;
	uint32_t slow_path; /* times the producer found the ring full */
	struct message slots[CAP];
};

static void on_hang(struct bugkit *k)
{
	struct ring *r = k->map;
	int e = -1, f = -1;

	sem_getvalue(&r->empty, &e);
	sem_getvalue(&r->filled, &f);
	bugkit_say(k,
		   "write_idx=%u read_idx=%u empty=%d filled=%d slow_path=%u: "
		   "the consumer waits on 'filled' for a message that was "
		   "written but never posted",
		   r->write_idx, r->read_idx, e, f, r->slow_path);
}

static void put(struct ring *r, uint64_t seq)
{
	struct message *s = &r->slots[r->write_idx % CAP];

	s->seq = seq;
	s->check = ~seq;
	r->write_idx++;
}

static int producer(struct bugkit *k, long unused)
{
	struct ring *r = k->map;
	uint64_t rng = bugkit_rng_seed(k, 1);

	(void)unused;
	for (uint64_t seq = 0; seq < k->m; seq++) {
		bugkit_sleep_us(bugkit_rand_below(&rng, 2 * PROD_US));
		if (sem_trywait(&r->empty) == 0) {
			put(r, seq);
			sem_post(&r->filled);
			continue;
		}
		/* Slow path: the ring is full, the consumer is behind. */
		r->slow_path++;
		while (sem_wait(&r->empty) < 0)
			;
		put(r, seq);
		if (k->fixed)
			sem_post(&r->filled);
		/* BUG: the buggy slow path returns without sem_post. */
	}
	return BUGKIT_OK;
}

static int consumer(struct bugkit *k, long unused)
{
	struct ring *r = k->map;
	uint64_t rng = bugkit_rng_seed(k, 2);

	(void)unused;
	for (uint64_t seq = 0; seq < k->m; seq++) {
		struct message m;

		if (k->force && seq == 1) /* stall until the ring is full */
			bugkit_wait_nonzero(&r->slow_path, 1000);
		while (sem_wait(&r->filled) < 0)
			;
		m = r->slots[r->read_idx % CAP];
		r->read_idx++;
		sem_post(&r->empty);
		if (m.seq != seq || m.check != ~seq) {
			bugkit_damage(k, "got message %llu, expected %llu",
				      (unsigned long long)m.seq,
				      (unsigned long long)seq);
			return BUGKIT_DAMAGE;
		}
		bugkit_spin_ns(bugkit_rand_below(&rng, 2 * CONS_NS));
	}
	return BUGKIT_OK;
}

static const struct bugkit_prog prog = {
	.name = "bug-missing-post",
	.summary = "The producer's rare ring-full path forgets "
		   "sem_post(&filled); the consumer then hangs.",
	.force_help = "the consumer stalls after its first message until "
		      "the ring is full",
	.default_m = 300,
	.on_hang = on_hang,
};

int main(int argc, char **argv)
{
	struct bugkit k;
	struct ring *r;
	int st;

	bugkit_init(&k, &prog, argc, argv);
	r = bugkit_create(&k, sizeof(*r));
	bugkit_sem_init(&k, &r->empty, CAP);
	bugkit_sem_init(&k, &r->filled, 0);
	r->magic = MAGIC;
	bugkit_spawn(&k, "consumer", consumer, 0);
	bugkit_spawn(&k, "producer", producer, 0);
	st = bugkit_wait(&k);
	if (st == BUGKIT_OK)
		bugkit_ok(&k,
			  "%lu messages received in order, ring full %u times, "
			  "write_idx=read_idx=%u",
			  k.m, r->slow_path, r->read_idx);
	bugkit_exit(&k, st);
}
