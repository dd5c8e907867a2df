/*
 * bug-torn-message - a producer hands messages to a consumer through a
 * one-slot mailbox with a ready flag (no lock on the read side); the last
 * word of each message, its stamp, is the producer's running total, kept in
 * a statistics block under its own process-shared mutex.
 *
 * The bug: the producer raises the ready flag as soon as the payload words
 * are written and only then takes the statistics lock to fill in the stamp.
 * A consumer that looks at the flag in that window reads a message whose
 * stamp is still the previous one: a torn message, caught by the check
 * of the stamp against the consumer's own running total.
 * Window: from the ready store to the stamp store, across the statistics
 * lock and unlock.  The consumer usually polls late (it works between
 * messages), so it rarely falls into it.
 * Fixed twin: the stamp is written before the ready flag (release order).
 */
#include "bugkit.h"

#define MAGIC	0x544f524eu /* "TORN" */
#define NWORDS	6
#define EAGER	256 /* the consumer polls eagerly one message in EAGER */
#define CONS_US 40  /* otherwise it works this long (mean) first */

struct message {
	uint64_t seq;
	uint64_t words[NWORDS];
	uint64_t stamp; /* running total of words[] over all messages */
};

struct mailbox {
	uint32_t magic;
	uint32_t ready; /* 1: msg is complete and not consumed yet */
	struct message msg;
	pthread_mutex_t stats_lock;
	uint64_t total; /* under stats_lock */
	uint64_t sent;
	uint64_t received;
};

static void on_hang(struct bugkit *k)
{
	struct mailbox *b = k->map;

	bugkit_say(k, "ready=%u sent=%llu received=%llu", b->ready,
		   (unsigned long long)b->sent,
		   (unsigned long long)b->received);
}

/* Not inlined: every report goes through the same lock and unlock call,
 * the one the producer's first, empty report warms up. */
static __attribute__((noinline)) uint64_t add_to_total(struct mailbox *b,
						       uint64_t sum)
{
	uint64_t t;

	pthread_mutex_lock(&b->stats_lock);
	b->total += sum;
	t = b->total;
	pthread_mutex_unlock(&b->stats_lock);
	return t;
}

static int producer(struct bugkit *k, long unused)
{
	struct mailbox *b = k->map;
	uint64_t rng = bugkit_rng_seed(k, 1);

	(void)unused;
	/*
	 * An empty first report to the statistics block when the producer
	 * starts.  It keeps message 0 from being special: what the first
	 * call through add_to_total() costs once (a tracer's setup, page
	 * faults, lazy binding) is paid here, not inside the window.
	 */
	add_to_total(b, 0);
	for (uint64_t seq = 0; seq < k->m; seq++) {
		uint64_t sum = 0;

		/*
		 * Spin rather than yield: a yielding producer would spend
		 * most of its running time in the window below, and the
		 * window would be hit by any preemption.
		 */
		while (__atomic_load_n(&b->ready, __ATOMIC_ACQUIRE))
			bugkit_cpu_relax();
		b->msg.seq = seq;
		for (int i = 0; i < NWORDS; i++) {
			b->msg.words[i] = bugkit_rand_below(&rng, 1000);
			sum += b->msg.words[i];
		}
		if (k->fixed) {
			b->msg.stamp = add_to_total(b, sum);
			__atomic_store_n(&b->ready, 1, __ATOMIC_RELEASE);
		} else {
			/* BUG: published before the stamp is written. */
			__atomic_store_n(&b->ready, 1, __ATOMIC_RELEASE);
			if (k->force)
				bugkit_sleep_us(500);
			b->msg.stamp = add_to_total(b, sum);
		}
		b->sent++;
	}
	return BUGKIT_OK;
}

static int consumer(struct bugkit *k, long unused)
{
	struct mailbox *b = k->map;
	uint64_t rng = bugkit_rng_seed(k, 2), total = 0;

	(void)unused;
	for (uint64_t seq = 0; seq < k->m; seq++) {
		struct message m;

		if (bugkit_rand_below(&rng, EAGER) != 0)
			bugkit_sleep_us(CONS_US / 2 +
					bugkit_rand_below(&rng, CONS_US));
		/* Poll every 10 us: messages come every few tens. */
		while (!__atomic_load_n(&b->ready, __ATOMIC_ACQUIRE))
			bugkit_sleep_us(10);
		m = b->msg;
		__atomic_store_n(&b->ready, 0, __ATOMIC_RELEASE);
		b->received++;
		for (int i = 0; i < NWORDS; i++)
			total += m.words[i];
		if (m.seq != seq || m.stamp != total) {
			bugkit_damage(k,
				      "message %llu is torn: stamp %llu, want "
				      "%llu (seq %llu)",
				      (unsigned long long)seq,
				      (unsigned long long)m.stamp,
				      (unsigned long long)total,
				      (unsigned long long)m.seq);
			return BUGKIT_DAMAGE;
		}
	}
	return BUGKIT_OK;
}

static const struct bugkit_prog prog = {
	.name = "bug-torn-message",
	.summary = "The ready flag is raised before the message's last word "
		   "is written: the consumer may read it torn.",
	.force_help = "sleep 500 us between the ready store and the stamp",
	.default_m = 300,
	.on_hang = on_hang,
};

int main(int argc, char **argv)
{
	struct bugkit k;
	struct mailbox *b;
	int st;

	bugkit_init(&k, &prog, argc, argv);
	b = bugkit_create(&k, sizeof(*b));
	bugkit_mutex_init(&k, &b->stats_lock, PTHREAD_MUTEX_NORMAL, false);
	b->magic = MAGIC;
	bugkit_spawn(&k, "consumer", consumer, 0);
	bugkit_spawn(&k, "producer", producer, 0);
	st = bugkit_wait(&k);
	if (st == BUGKIT_OK)
		bugkit_ok(&k,
			  "%llu messages of %d words, every stamp matched "
			  "(total %llu)",
			  (unsigned long long)b->received, NWORDS + 2,
			  (unsigned long long)b->total);
	bugkit_exit(&k, st);
}
