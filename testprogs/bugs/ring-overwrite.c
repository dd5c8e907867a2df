/*
 * bug-ring-overwrite - one producer, one consumer, a ring of 32 slots with
 * free-running indices under one process-shared mutex; both back off with
 * sched_yield when the ring is full or empty.
 *
 * The bug: the full test is off by one, write_idx - read_idx > CAP instead
 * of >= CAP, so when the ring is exactly full the producer writes slot
 * write_idx % CAP, which is read_idx % CAP: the oldest message, not read
 * yet, is overwritten.  The consumer is faster than the producer, so the
 * ring is full only after the consumer stalls (preempted, or slowed by the
 * fuzzer at lock/unlock); the consumer then finds message N + 32 where it
 * expected N.  Window: any consumer stall long enough for 32 messages.
 * Fixed twin: >= CAP.
 */
#include "bugkit.h"

#include <sched.h>

#define CAP	32
#define MAGIC	0x57524150u /* "WRAP" */
#define PROD_US 60	    /* mean wait of the producer for its input */
#define CONS_NS 5000	    /* mean pause of the consumer per message */

struct message {
	uint64_t seq;
	uint64_t check; /* ~seq */
};

struct ring {
	uint32_t magic;
	pthread_mutex_t lock;
	uint32_t write_idx;
	uint32_t read_idx;
	uint32_t full_waits; /* times the producer found the ring full */
	struct message slots[CAP];
};

static void on_hang(struct bugkit *k)
{
	struct ring *r = k->map;

	bugkit_say(k, "write_idx=%u read_idx=%u full_waits=%u", r->write_idx,
		   r->read_idx, r->full_waits);
}

static bool ring_full(const struct bugkit *k, const struct ring *r)
{
	uint32_t used = r->write_idx - r->read_idx;

	if (k->fixed)
		return used >= CAP;
	return used > CAP; /* BUG: lets the producer write when used == CAP */
}

static int producer(struct bugkit *k, long unused)
{
	struct ring *r = k->map;
	uint64_t rng = bugkit_rng_seed(k, 1);

	(void)unused;
	for (uint64_t seq = 0; seq < k->m; seq++) {
		struct message *s;

		bugkit_sleep_us(bugkit_rand_below(&rng, 2 * PROD_US));
		pthread_mutex_lock(&r->lock);
		while (ring_full(k, r)) {
			r->full_waits++;
			pthread_mutex_unlock(&r->lock);
			sched_yield();
			pthread_mutex_lock(&r->lock);
		}
		s = &r->slots[r->write_idx % CAP];
		s->seq = seq;
		s->check = ~seq;
		r->write_idx++;
		pthread_mutex_unlock(&r->lock);
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
			bugkit_wait_nonzero(&r->full_waits, 1000);
		pthread_mutex_lock(&r->lock);
		while (r->write_idx == r->read_idx) {
			pthread_mutex_unlock(&r->lock);
			sched_yield();
			pthread_mutex_lock(&r->lock);
		}
		m = r->slots[r->read_idx % CAP];
		r->read_idx++;
		pthread_mutex_unlock(&r->lock);
		if (m.seq != seq || m.check != ~seq) {
			bugkit_damage(k,
				      "slot %llu: got message %llu, expected "
				      "%llu: overwritten before it was read",
				      (unsigned long long)(seq % CAP),
				      (unsigned long long)m.seq,
				      (unsigned long long)seq);
			return BUGKIT_DAMAGE;
		}
		bugkit_spin_ns(bugkit_rand_below(&rng, 2 * CONS_NS));
	}
	return BUGKIT_OK;
}

static const struct bugkit_prog prog = {
	.name = "bug-ring-overwrite",
	.summary = "Off-by-one in the ring's full test: when exactly full, "
		   "the oldest unread slot is overwritten.",
	.force_help = "the consumer stalls after its first message until "
		      "the producer has found the ring full",
	.default_m = 150,
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
	r->magic = MAGIC;
	bugkit_spawn(&k, "consumer", consumer, 0);
	bugkit_spawn(&k, "producer", producer, 0);
	st = bugkit_wait(&k);
	if (st == BUGKIT_OK)
		bugkit_ok(&k,
			  "%lu messages received in order, ring full %u "
			  "times, write_idx=read_idx=%u",
			  k.m, r->full_waits, r->read_idx);
	bugkit_exit(&k, st);
}
