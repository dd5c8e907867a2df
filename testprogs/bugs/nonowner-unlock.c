/*
 * bug-nonowner-unlock - two workers update a shared record (two counters
 * that must stay equal) under one process-shared error-checking mutex.
 *
 * The bug: a worker waits for the lock with pthread_mutex_timedlock and,
 * when it times out, decides the holder must be dead and "breaks" the lock
 * by unlocking it itself.  The holder is merely slow (preempted, or slowed
 * by the fuzzer before its unlock): the unlock by a non-owner fails with
 * EPERM (an ordinary mutex would have let both in).  The worker reports
 * the EPERM, and a broken invariant if it sees one.
 * Window: a critical section, or a run of the other worker's critical
 * sections, lasting longer than the timeout (300 us).
 * Fixed twin: on a timeout the worker keeps waiting.
 */
#include "bugkit.h"

#include <errno.h>
#include <string.h>

#define MAGIC	   0x4f574e52u /* "OWNR" */
#define PAUSE_US   30	       /* mean pause of a worker between updates */
#define TIMEOUT_US 300	       /* "the holder must be dead" after this */

struct record {
	uint32_t magic;
	pthread_mutex_t lock;
	uint64_t x;
	uint64_t y; /* == x outside the lock */
	uint32_t timeouts;
	int32_t holder; /* pid of the worker in the critical section */
};

static void on_hang(struct bugkit *k)
{
	struct record *r = k->map;

	bugkit_say(k, "x=%llu y=%llu timeouts=%u holder=%d",
		   (unsigned long long)r->x, (unsigned long long)r->y,
		   r->timeouts, r->holder);
}

/* Take the lock, or return -1 after breaking it (the bug) and failing. */
static int take(struct bugkit *k, struct record *r)
{
	for (;;) {
		struct timespec ts = bugkit_abstime_us(TIMEOUT_US);
		int err = pthread_mutex_timedlock(&r->lock, &ts);

		if (err == 0)
			return 0;
		if (err != ETIMEDOUT)
			bugkit_fail(k, err, "pthread_mutex_timedlock");
		__atomic_add_fetch(&r->timeouts, 1, __ATOMIC_RELAXED);
		if (k->fixed)
			continue;
		/* BUG: assume the holder died and unlock in its place. */
		err = pthread_mutex_unlock(&r->lock);
		if (err) {
			bugkit_damage(k,
				      "unlock by a non-owner (holder pid %d) "
				      "after a %d us timeout: %s",
				      r->holder, TIMEOUT_US, strerror(err));
			return -1;
		}
	}
}

/* --force: keep the lock until the other worker has timed out (100 ms). */
static void hold_until_timeout(struct record *r)
{
	uint64_t end = bugkit_now_ns() + 100000000;

	while (!__atomic_load_n(&r->timeouts, __ATOMIC_ACQUIRE) &&
	       bugkit_now_ns() < end)
		bugkit_sleep_us(100);
	bugkit_sleep_us(2 * TIMEOUT_US);
}

static int worker(struct bugkit *k, long id)
{
	struct record *r = k->map;
	uint64_t rng = bugkit_rng_seed(k, (uint64_t)id + 1);

	for (unsigned long i = 0; i < k->m; i++) {
		uint64_t x;

		bugkit_sleep_us(bugkit_rand_below(&rng, 2 * PAUSE_US));
		if (take(k, r) < 0)
			return BUGKIT_DAMAGE;
		r->holder = (int32_t)getpid();
		x = r->x;
		if (r->y != x) {
			bugkit_damage(k, "x=%llu y=%llu inside the lock",
				      (unsigned long long)x,
				      (unsigned long long)r->y);
			return BUGKIT_DAMAGE;
		}
		r->x = x + 1;
		bugkit_spin_ns(2000);
		if (k->force && id == 0 && i == 1)
			hold_until_timeout(r);
		r->y = x + 1;
		r->holder = 0;
		pthread_mutex_unlock(&r->lock);
	}
	return BUGKIT_OK;
}

static const struct bugkit_prog prog = {
	.name = "bug-nonowner-unlock",
	.summary = "A worker that times out on the lock unlocks it in place "
		   "of the holder: EPERM, unlock by a non-owner.",
	.force_help = "worker 0 holds the lock once until worker 1 has timed "
		      "out",
	.default_m = 300,
	.on_hang = on_hang,
};

int main(int argc, char **argv)
{
	struct bugkit k;
	struct record *r;
	int st;

	bugkit_init(&k, &prog, argc, argv);
	r = bugkit_create(&k, sizeof(*r));
	bugkit_mutex_init(&k, &r->lock, PTHREAD_MUTEX_ERRORCHECK, false);
	r->magic = MAGIC;
	bugkit_spawn(&k, "worker0", worker, 0);
	bugkit_spawn(&k, "worker1", worker, 1);
	st = bugkit_wait(&k);
	if (st == BUGKIT_OK && (r->x != 2 * k.m || r->y != 2 * k.m)) {
		bugkit_damage(&k, "x=%llu y=%llu, want %lu",
			      (unsigned long long)r->x,
			      (unsigned long long)r->y, 2 * k.m);
		st = BUGKIT_DAMAGE;
	}
	if (st == BUGKIT_OK)
		bugkit_ok(&k,
			  "2 workers x %lu updates: x=y=%llu, %u lock "
			  "timeouts, no unlock by a non-owner",
			  k.m, (unsigned long long)r->x, r->timeouts);
	bugkit_exit(&k, st);
}
