/*
 * bug-double-post - one producer, one consumer, a ring of 16 slots counted
 * by two semaphores; the producer waits for a free slot with a timeout.
 *
 * The bug: when sem_timedwait(&empty) times out, the producer's retry path
 * "kicks" the consumer with sem_post(&filled), in case it missed a post,
 * before waiting again.  That post announces a message that does not
 * exist: the consumer takes one token too many and reads a slot it has
 * read already.  The timeout (1 ms) expires only when the ring stays full,
 * i.e. when the consumer stalls.
 * Window: a consumer stall long enough to fill the ring and outlast the
 * timeout; the fuzzer opens it by delaying the consumer at its sem_wait.
 * Fixed twin: the retry path just waits again; a post is made only for a
 * message written.
 */
#include "bugkit.h"

#include <errno.h>

#define CAP	   16
#define MAGIC	   0x44504f53u /* "DPOS" */
#define PROD_US	   50	       /* mean wait of the producer for its input */
#define CONS_NS	   5000	       /* consumer work per message */
#define TIMEOUT_US 1000

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
	uint32_t retries; /* producer timeouts */
	struct message slots[CAP];
};

static void on_hang(struct bugkit *k)
{
	struct ring *r = k->map;
	int e = -1, f = -1;

	sem_getvalue(&r->empty, &e);
	sem_getvalue(&r->filled, &f);
	bugkit_say(k, "write_idx=%u read_idx=%u empty=%d filled=%d retries=%u",
		   r->write_idx, r->read_idx, e, f, r->retries);
}

static void wait_empty(struct bugkit *k, struct ring *r)
{
	for (;;) {
		struct timespec ts = bugkit_abstime_us(TIMEOUT_US);

		if (sem_timedwait(&r->empty, &ts) == 0)
			return;
		if (errno == EINTR)
			continue;
		if (errno != ETIMEDOUT)
			bugkit_fail(k, errno, "sem_timedwait");
		r->retries++;
		/* BUG: a "kick" that posts a message nobody wrote. */
		if (!k->fixed)
			sem_post(&r->filled);
	}
}

static int producer(struct bugkit *k, long unused)
{
	struct ring *r = k->map;
	uint64_t rng = bugkit_rng_seed(k, 1);

	(void)unused;
	for (uint64_t seq = 0; seq < k->m; seq++) {
		struct message *s;

		bugkit_sleep_us(bugkit_rand_below(&rng, 2 * PROD_US));
		wait_empty(k, r);
		s = &r->slots[r->write_idx % CAP];
		s->seq = seq;
		s->check = ~seq;
		r->write_idx++;
		sem_post(&r->filled);
	}
	return BUGKIT_OK;
}

static int consumer(struct bugkit *k, long unused)
{
	struct ring *r = k->map;

	(void)unused;
	for (uint64_t seq = 0; seq < k->m; seq++) {
		struct message m;

		if (k->force && seq == 1) /* stall past a producer timeout */
			bugkit_wait_nonzero(&r->retries, 1000);
		while (sem_wait(&r->filled) < 0)
			;
		m = r->slots[r->read_idx % CAP];
		r->read_idx++;
		sem_post(&r->empty);
		if (m.seq != seq || m.check != ~seq) {
			bugkit_damage(k,
				      "slot %llu: got message %llu, expected "
				      "%llu: a post without a message",
				      (unsigned long long)(seq % CAP),
				      (unsigned long long)m.seq,
				      (unsigned long long)seq);
			return BUGKIT_DAMAGE;
		}
		bugkit_spin_ns(CONS_NS);
	}
	return BUGKIT_OK;
}

static const struct bugkit_prog prog = {
	.name = "bug-double-post",
	.summary = "A retry path after sem_timedwait times out posts "
		   "'filled' again: the consumer reads a stale slot.",
	.force_help = "the consumer stalls after its first message until "
		      "the producer has timed out",
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
			  "%lu messages received in order, %u sem_timedwait "
			  "timeouts, no extra post",
			  k.m, r->retries);
	bugkit_exit(&k, st);
}
