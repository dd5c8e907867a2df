/*
 * bug-abba - two tellers move money between two accounts, each account with
 * its own process-shared mutex; an auditor checks that the total is kept.
 *
 * The bug: transfer(from, to) locks from's mutex, then to's.  Teller 0
 * always moves A to B (locks A then B); teller 1 mostly does the same but
 * on a rare refund moves B to A (locks B then A).  If teller 0 holds A
 * while teller 1 holds B, each waits for the other forever: an ABBA
 * deadlock across two processes, a hang.
 * Window: teller 0 between its two locks while teller 1 is between its two
 * locks on a refund.  Each teller holds its first lock for a microsecond
 * or two of every 400 (the auditor, taking A then B like teller 0, for one
 * of every 2000): the two windows meet when a teller is held up between
 * its locks (a preemption there, or the fuzzer's noise), hardly ever by
 * chance.
 * Fixed twin: both locks are always taken in one global order (A, then B).
 */
#include "bugkit.h"

#define MAGIC	 0x41424241u /* "ABBA" */
#define PAUSE_US 400	     /* mean wait of a teller between transfers */
#define AUDIT_US 2000	     /* the auditor's pause between audits */
#define REFUND	 16	     /* teller 1 refunds one transfer in REFUND */
#define CHECK_NS 100	     /* checking the source account's funds */
#define TOTAL	 1000000

struct account {
	pthread_mutex_t lock;
	int64_t balance;
};

struct bank {
	uint32_t magic;
	uint32_t refunds;
	uint64_t transfers;
	struct account acct[2]; /* A, B */
};

static void on_hang(struct bugkit *k)
{
	struct bank *b = k->map;

	bugkit_say(k,
		   "transfers=%llu refunds=%u: acct[0].lock owner tid %d, "
		   "acct[1].lock owner tid %d",
		   (unsigned long long)b->transfers, b->refunds,
		   b->acct[0].lock.__data.__owner,
		   b->acct[1].lock.__data.__owner);
}

static void transfer(struct bugkit *k, struct bank *b, int from, int to,
		     int64_t amount)
{
	struct account *first = &b->acct[from], *second = &b->acct[to];

	if (k->fixed && from > to) {
		/* One global order: the account with the lower index. */
		first = &b->acct[to];
		second = &b->acct[from];
	}
	pthread_mutex_lock(&first->lock);
	bugkit_spin_ns(CHECK_NS);
	if (k->force)
		bugkit_sleep_us(2000);
	pthread_mutex_lock(&second->lock);
	b->acct[from].balance -= amount;
	b->acct[to].balance += amount;
	b->transfers++;
	pthread_mutex_unlock(&second->lock);
	pthread_mutex_unlock(&first->lock);
}

static int teller(struct bugkit *k, long id)
{
	struct bank *b = k->map;
	uint64_t rng = bugkit_rng_seed(k, (uint64_t)id + 1);

	for (unsigned long i = 0; i < k->m; i++) {
		bugkit_sleep_us(bugkit_rand_below(&rng, 2 * PAUSE_US));
		if (id == 1 && ((k->force && i == 0) ||
				bugkit_rand_below(&rng, REFUND) == 0)) {
			b->refunds++; /* only teller 1 writes it */
			transfer(k, b, 1, 0, 3);
		} else {
			transfer(k, b, 0, 1, 1);
		}
	}
	return BUGKIT_OK;
}

static int auditor(struct bugkit *k, long unused)
{
	struct bank *b = k->map;

	(void)unused;
	for (unsigned long i = 0; i < k->m / 16 + 1; i++) {
		int64_t sum;

		bugkit_sleep_us(AUDIT_US);
		pthread_mutex_lock(&b->acct[0].lock);
		pthread_mutex_lock(&b->acct[1].lock);
		sum = b->acct[0].balance + b->acct[1].balance;
		pthread_mutex_unlock(&b->acct[1].lock);
		pthread_mutex_unlock(&b->acct[0].lock);
		if (sum != TOTAL) {
			bugkit_damage(k, "total %lld, want %d", (long long)sum,
				      TOTAL);
			return BUGKIT_DAMAGE;
		}
	}
	return BUGKIT_OK;
}

static const struct bugkit_prog prog = {
	.name = "bug-abba",
	.summary = "Two tellers lock two account mutexes in opposite orders "
		   "on a rare refund: ABBA deadlock (hang).",
	.force_help = "sleep 2 ms between the first and the second lock; "
		      "teller 1 starts with a refund",
	.default_m = 120,
	.on_hang = on_hang,
};

int main(int argc, char **argv)
{
	struct bugkit k;
	struct bank *b;
	int st;

	bugkit_init(&k, &prog, argc, argv);
	b = bugkit_create(&k, sizeof(*b));
	for (int i = 0; i < 2; i++)
		bugkit_mutex_init(&k, &b->acct[i].lock, PTHREAD_MUTEX_NORMAL,
				  false);
	b->acct[0].balance = TOTAL;
	b->magic = MAGIC;
	bugkit_spawn(&k, "teller0", teller, 0);
	bugkit_spawn(&k, "teller1", teller, 1);
	bugkit_spawn(&k, "auditor", auditor, 0);
	st = bugkit_wait(&k);
	if (st == BUGKIT_OK &&
	    b->acct[0].balance + b->acct[1].balance != TOTAL) {
		bugkit_damage(
			&k, "total %lld, want %d",
			(long long)(b->acct[0].balance + b->acct[1].balance),
			TOTAL);
		st = BUGKIT_DAMAGE;
	}
	if (st == BUGKIT_OK)
		bugkit_ok(&k,
			  "%llu transfers (%u refunds), no deadlock, total "
			  "%d kept",
			  (unsigned long long)b->transfers, b->refunds, TOTAL);
	bugkit_exit(&k, st);
}
