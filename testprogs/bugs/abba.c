/*
 * bug-abba - a payment chain over three accounts, each with its own
 * process-shared mutex: teller 0 pays A to B, teller 1 forwards B to C and,
 * in its refund periods, sends B back to A.  The supervisor checks at the end
 * that the total was kept.
 *
 * The bug: transfer(from, to) locks from's mutex, then to's.  Teller 0
 * locks A then B; teller 1's refund locks B then A.  If teller 0 holds A
 * while teller 1 holds B on a refund, each waits for the other forever: an
 * ABBA deadlock across two processes, a hang.
 * Window: teller 0 between its two locks while teller 1 is between its two
 * locks on a refund.  Each holds its first lock for a microsecond or two of
 * every 400: the two windows meet when one of them is held up between its
 * locks (a preemption there, or the fuzzer's noise), hardly ever by chance.
 *
 * The clock (bugkit_clock): both tellers plan transfer n for a time in the
 * n-th 400 us slot of one schedule that starts at bank.start_ns (at an offset
 * drawn from the program's seed and n); teller 1's transfer is a refund when it
 * starts in the last 4 slots of every 16 (a refund period).  A teller held
 * up (by a lock or the fuzzer's noise) catches up, its transfers 100 us
 * apart, and never skips one.  So a teller's time does not drift with how
 * long its sleeps overran, being late by a few microseconds moves its next
 * transfers by as much and no more, and every run of a seed makes the same
 * number of calls in the same order: teller 0 held up holding A for 2 ms
 * meets the refund periods of those 2 ms in every run of the seed, and the
 * fuzzer's replay reproduces the hang (session 4: 96 of 100 replays at
 * load 4).  Teller 1's forwarding (B to C) does not touch A, so teller 0
 * holding A does not stop teller 1 before its refund comes.  (Until
 * session 4 each teller slept a random pause after each transfer, teller 1
 * refunded one transfer in 16, and an auditor took both locks every 2 ms:
 * where teller 1 was when teller 0 was held up, and when the auditor let
 * the tellers go, was the OS's, and replays reproduced 11-13 of 20.  A
 * first slotted form skipped the slots a teller had been held up through:
 * a skip one run made and the next did not shifted every later noise
 * decision by a transfer, 87-95 of 100.)
 * Fixed twin: the locks are always taken in one global order (A, B, C).
 */
#include "bugkit.h"

#define MAGIC	 0x41424241u /* "ABBA" */
#define SLOT_NS	 400000ull   /* a teller plans one transfer in each */
#define GAP_NS	 100000ull   /* a late teller's transfers: this far apart */
#define START_NS 2000000ull  /* slot 0 starts this long after the fork */
#define REFUND	 16	     /* teller 1 refunds in the last REFUNDS */
#define REFUNDS	 4	     /* slots of every REFUND */
#define CHECK_NS 100	     /* checking the source account's funds */
#define TOTAL	 1000000

enum { ACCT_A, ACCT_B, ACCT_C, NACCT };

struct account {
	pthread_mutex_t lock;
	int64_t balance;
};

struct bank {
	uint32_t magic;
	uint32_t refunds;
	uint64_t transfers;
	uint64_t start_ns; /* CLOCK_MONOTONIC time of slot 0 */
	struct account acct[NACCT];
};

static void on_hang(struct bugkit *k)
{
	struct bank *b = k->map;

	bugkit_say(k,
		   "transfers=%llu refunds=%u: A.lock owner tid %d, "
		   "B.lock owner tid %d, C.lock owner tid %d",
		   (unsigned long long)b->transfers, b->refunds,
		   b->acct[ACCT_A].lock.__data.__owner,
		   b->acct[ACCT_B].lock.__data.__owner,
		   b->acct[ACCT_C].lock.__data.__owner);
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

/* Is T (bugkit_now_ns) in one of teller 1's refund periods? */
static bool refund_time(const struct bank *b, uint64_t t)
{
	uint64_t slot = t > b->start_ns ? (t - b->start_ns) / SLOT_NS : 0;

	return slot % REFUND >= REFUND - REFUNDS;
}

static int teller(struct bugkit *k, long id)
{
	struct bank *b = k->map;
	struct bugkit_clock c;

	bugkit_clock_init(&c, b->start_ns, SLOT_NS, GAP_NS, (uint64_t)id + 1);
	for (uint64_t n = 0; n < k->m; n++) {
		bugkit_clock_wait(k, &c, n);
		if (id == 0) {
			transfer(k, b, ACCT_A, ACCT_B, 2);
		} else if ((k->force && n == 0) ||
			   refund_time(b, bugkit_now_ns())) {
			b->refunds++; /* only teller 1 writes it */
			transfer(k, b, ACCT_B, ACCT_A, 3);
		} else {
			transfer(k, b, ACCT_B, ACCT_C, 1);
		}
		bugkit_clock_done(&c);
	}
	return BUGKIT_OK;
}

static const struct bugkit_prog prog = {
	.name = "bug-abba",
	.summary = "Two tellers lock two account mutexes in opposite orders "
		   "on a refund: ABBA deadlock (hang).",
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
	for (int i = 0; i < NACCT; i++)
		bugkit_mutex_init(&k, &b->acct[i].lock, PTHREAD_MUTEX_NORMAL,
				  false);
	b->acct[ACCT_A].balance = TOTAL;
	b->magic = MAGIC;
	bugkit_spawn(&k, "teller0", teller, 0);
	bugkit_spawn(&k, "teller1", teller, 1);
	/* The children read it once the gate opens (in bugkit_wait). */
	b->start_ns = bugkit_now_ns() + START_NS;
	st = bugkit_wait(&k);
	if (st == BUGKIT_OK) {
		int64_t sum = 0;

		for (int i = 0; i < NACCT; i++)
			sum += b->acct[i].balance;
		if (sum != TOTAL) {
			bugkit_damage(&k, "total %lld, want %d", (long long)sum,
				      TOTAL);
			st = BUGKIT_DAMAGE;
		}
	}
	if (st == BUGKIT_OK)
		bugkit_ok(&k,
			  "%llu transfers (%u refunds), no deadlock, total "
			  "%d kept",
			  (unsigned long long)b->transfers, b->refunds, TOTAL);
	bugkit_exit(&k, st);
}
