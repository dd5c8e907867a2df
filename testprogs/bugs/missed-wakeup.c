/*
 * bug-missed-wakeup - a producer and a consumer share a bounded queue
 * guarded by a process-shared mutex and two process-shared condition
 * variables; the producer signals "nonempty" only when the queue goes from
 * empty to non-empty.
 *
 * The bug: the consumer tests "queue empty?" before taking the lock, then
 * locks and waits on the condition variable without testing again.  If the
 * producer adds a message and signals between that test and the wait, the
 * signal finds no waiter and is lost; the producer signals no more (the
 * queue is no longer empty), fills the queue and waits on "nonfull" while
 * the consumer waits on "nonempty": both sleep forever, a hang.
 * Window: the consumer between its unlocked test and pthread_cond_wait,
 * across its pthread_mutex_lock.
 * Fixed twin: the test is made under the lock, in a while loop.
 */
#include "bugkit.h"

#define CAP	 8
#define MAGIC	 0x57414b45u /* "WAKE" */
#define PAUSE_US 30	     /* mean wait of the producer for its input */
#define CONS_NS	 1000	     /* consumer work per message */

struct queue {
	uint32_t magic;
	pthread_mutex_t lock;
	pthread_cond_t nonempty;
	pthread_cond_t nonfull;
	uint32_t count;
	uint32_t head;
	uint32_t tail;
	uint32_t waits; /* times the consumer waited on nonempty */
	uint64_t slots[CAP];
};

static void on_hang(struct bugkit *k)
{
	struct queue *q = k->map;

	bugkit_say(k,
		   "count=%u head=%u tail=%u consumer waits=%u: the consumer "
		   "sleeps on 'nonempty' with %u messages queued",
		   q->count, q->head, q->tail, q->waits, q->count);
}

static int producer(struct bugkit *k, long unused)
{
	struct queue *q = k->map;
	uint64_t rng = bugkit_rng_seed(k, 1);

	(void)unused;
	for (uint64_t seq = 0; seq < k->m; seq++) {
		bugkit_sleep_us(bugkit_rand_below(&rng, 2 * PAUSE_US));
		pthread_mutex_lock(&q->lock);
		while (q->count == CAP)
			pthread_cond_wait(&q->nonfull, &q->lock);
		q->slots[q->tail++ % CAP] = seq;
		/* Only a transition from empty can have a sleeper to wake. */
		if (q->count++ == 0)
			pthread_cond_signal(&q->nonempty);
		pthread_mutex_unlock(&q->lock);
	}
	return BUGKIT_OK;
}

static void wait_nonempty(struct bugkit *k, struct queue *q)
{
	if (k->fixed) {
		while (q->count == 0) {
			q->waits++;
			pthread_cond_wait(&q->nonempty, &q->lock);
		}
		return;
	}
	/* BUG: the emptiness was tested before the lock was taken. */
	q->waits++;
	pthread_cond_wait(&q->nonempty, &q->lock);
}

static int consumer(struct bugkit *k, long unused)
{
	struct queue *q = k->map;

	(void)unused;
	for (uint64_t seq = 0; seq < k->m; seq++) {
		uint64_t v;
		bool empty;

		empty = __atomic_load_n(&q->count, __ATOMIC_ACQUIRE) == 0;
		if (k->force && empty)
			bugkit_sleep_us(300);
		pthread_mutex_lock(&q->lock);
		if (empty || k->fixed)
			wait_nonempty(k, q);
		while (q->count == 0) /* a spurious wakeup */
			pthread_cond_wait(&q->nonempty, &q->lock);
		v = q->slots[q->head++ % CAP];
		if (q->count-- == CAP)
			pthread_cond_signal(&q->nonfull);
		pthread_mutex_unlock(&q->lock);
		if (v != seq) {
			bugkit_damage(k, "got message %llu, expected %llu",
				      (unsigned long long)v,
				      (unsigned long long)seq);
			return BUGKIT_DAMAGE;
		}
		bugkit_spin_ns(CONS_NS);
	}
	return BUGKIT_OK;
}

static const struct bugkit_prog prog = {
	.name = "bug-missed-wakeup",
	.summary = "The consumer tests the queue outside the lock before "
		   "pthread_cond_wait: a lost signal, then a hang.",
	.force_help = "sleep 300 us between the unlocked test and the lock",
	.default_m = 300,
	.on_hang = on_hang,
};

int main(int argc, char **argv)
{
	struct bugkit k;
	struct queue *q;
	int st;

	bugkit_init(&k, &prog, argc, argv);
	q = bugkit_create(&k, sizeof(*q));
	bugkit_mutex_init(&k, &q->lock, PTHREAD_MUTEX_NORMAL, false);
	bugkit_cond_init(&k, &q->nonempty);
	bugkit_cond_init(&k, &q->nonfull);
	q->magic = MAGIC;
	bugkit_spawn(&k, "consumer", consumer, 0);
	bugkit_spawn(&k, "producer", producer, 0);
	st = bugkit_wait(&k);
	if (st == BUGKIT_OK)
		bugkit_ok(&k,
			  "%lu messages received in order, consumer waited "
			  "%u times, no wakeup lost",
			  k.m, q->waits);
	bugkit_exit(&k, st);
}
