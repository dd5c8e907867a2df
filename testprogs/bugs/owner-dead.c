/*
 * bug-owner-dead - a producer updates a shared account record (two
 * counters that must move together) under a robust process-shared mutex;
 * an auditor checks the record under the same mutex; a manager process
 * is the producer's watchdog: the producer stamps a heartbeat on every
 * update, and a producer whose heartbeat is older than STALL_US is taken
 * to be stuck and restarted (SIGKILL, then a replacement that carries on
 * from the record), at most MAX_RESTARTS times a run.
 *
 * The bug: nobody looks at what pthread_mutex_lock returns.  When the
 * producer is killed while it holds the lock (between the two counter
 * updates, or before the first) the next locker gets EOWNERDEAD, ignores
 * it, never repairs the record nor calls pthread_mutex_consistent: the
 * auditor sees a != b, or the mutex becomes unrecoverable.
 * Window: the producer stalled for STALL_US while it holds the lock (its
 * critical section is 1 us: a plain run needs a preemption of 5 ms right
 * there).
 * Fixed twin: EOWNERDEAD is handled: the half-done update is rolled back and
 * the mutex marked consistent.
 *
 * Built a second time with OWNER_DEAD_NONROBUST as bug-owner-dead-hang:
 * the mutex is not robust, so the next locker waits forever for a dead
 * owner: a hang.  Its fixed twin is the robust, handled mutex.
 */
#include "bugkit.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#ifdef OWNER_DEAD_NONROBUST
#define PROG_NAME "bug-owner-dead-hang"
#define ROBUST	  false
#else
#define PROG_NAME "bug-owner-dead"
#define ROBUST	  true
#endif

#define MAGIC	     0x44454144u /* "DEAD" */
#define PAUSE_US     40		 /* mean wait of the producer for its input */
#define CS_NS	     1000	 /* the producer's critical section */
#define STALL_US     5000	 /* no heartbeat for this long: stuck */
#define WATCH_US     250	 /* the watchdog looks this often */
#define MAX_RESTARTS 3

struct account {
	uint32_t magic;
	int32_t producer; /* pid of the current producer */
	pthread_mutex_t lock;
	uint64_t a;
	uint64_t b;	  /* == a outside the lock */
	uint64_t updates; /* complete updates */
	uint32_t restarts;
	uint32_t repairs; /* EOWNERDEAD handled (fixed twin) */
	uint64_t beat;	  /* the producer's heartbeat (monotonic ns) */
};

static void on_hang(struct bugkit *k)
{
	struct account *r = k->map;

	bugkit_say(k,
		   "lock owner tid %d (producer pid %d, restarted %u times), "
		   "a=%llu b=%llu updates=%llu",
		   r->lock.__data.__owner, r->producer, r->restarts,
		   (unsigned long long)r->a, (unsigned long long)r->b,
		   (unsigned long long)r->updates);
}

/* Lock; in the fixed twin, repair the record after a dead owner. */
static int lock(struct bugkit *k, struct account *r)
{
	int err = pthread_mutex_lock(&r->lock);

	if (!k->fixed)
		return 0; /* BUG: the return value is ignored. */
	if (err == EOWNERDEAD) {
		/*
		 * The dead producer may have done a++, or a++ and b++, but
		 * not updates++: roll its update back.
		 */
		r->a = r->updates;
		r->b = r->updates;
		r->repairs++;
		pthread_mutex_consistent(&r->lock);
		return 0;
	}
	if (err)
		bugkit_fail(k, err, "pthread_mutex_lock");
	return 0;
}

static int producer(struct bugkit *k, long gen)
{
	struct account *r = k->map;
	uint64_t rng = bugkit_rng_seed(k, (uint64_t)gen + 1);

	r->producer = (int32_t)getpid();
	for (;;) {
		bugkit_sleep_us(bugkit_rand_below(&rng, 2 * PAUSE_US));
		__atomic_store_n(&r->beat, bugkit_now_ns(), __ATOMIC_RELEASE);
		lock(k, r);
		if (r->updates >= k->m) {
			pthread_mutex_unlock(&r->lock);
			return BUGKIT_OK;
		}
		r->a++;
		bugkit_spin_ns(CS_NS);
		if (k->force)
			bugkit_sleep_us(3000);
		r->b++;
		r->updates++;
		pthread_mutex_unlock(&r->lock);
	}
}

/* --force: kill the producer once, inside its critical section (after
 * a++, before b++), and start a replacement. */
static int restart_forced(struct bugkit *k, struct account *r, pid_t p)
{
	int st;

	while (__atomic_load_n(&r->a, __ATOMIC_ACQUIRE) ==
	       __atomic_load_n(&r->b, __ATOMIC_ACQUIRE))
		bugkit_sleep_us(50);
	kill(p, SIGKILL);
	waitpid(p, &st, 0);
	if (WIFSIGNALED(st))
		r->restarts++;
	return bugkit_spawn(k, "producer", producer, 1);
}

static bool stuck(struct account *r)
{
	uint64_t beat = __atomic_load_n(&r->beat, __ATOMIC_ACQUIRE);

	return bugkit_now_ns() - beat > STALL_US * 1000ull;
}

/* The producer's watchdog: restart it when its heartbeat stops. */
static int manager(struct bugkit *k, long unused)
{
	struct account *r = k->map;
	long gen = 0;
	pid_t p;
	int st;

	(void)unused;
	__atomic_store_n(&r->beat, bugkit_now_ns(), __ATOMIC_RELEASE);
	p = bugkit_spawn(k, "producer", producer, gen++);
	if (k->force) {
		/* One restart, forced: the watchdog stays out of it. */
		p = restart_forced(k, r, p);
		waitpid(p, &st, 0);
	}
	while (!k->force) {
		/* Out of restarts: wait, without waking up every 250 us (a
		 * hung run must look hung, not busy). */
		if (gen > MAX_RESTARTS) {
			waitpid(p, &st, 0);
			break;
		}
		bugkit_sleep_us(WATCH_US);
		if (waitpid(p, &st, WNOHANG) == p)
			break;
		if (!stuck(r))
			continue;
		kill(p, SIGKILL);
		waitpid(p, &st, 0);
		if (WIFSIGNALED(st))
			r->restarts++;
		__atomic_store_n(&r->beat, bugkit_now_ns(), __ATOMIC_RELEASE);
		p = bugkit_spawn(k, "producer", producer, gen++);
	}
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	bugkit_damage(k, "replacement producer killed by %s",
		      strsignal(WTERMSIG(st)));
	return BUGKIT_DAMAGE;
}

static int auditor(struct bugkit *k, long unused)
{
	struct account *r = k->map;

	(void)unused;
	for (;;) {
		uint64_t a, b, n;

		bugkit_sleep_us(100);
		lock(k, r);
		a = r->a;
		b = r->b;
		n = r->updates;
		pthread_mutex_unlock(&r->lock);
		if (a != b || a != n) {
			bugkit_damage(k,
				      "record inconsistent: a=%llu b=%llu "
				      "updates=%llu (a producer died in its "
				      "critical section, EOWNERDEAD was not "
				      "handled)",
				      (unsigned long long)a,
				      (unsigned long long)b,
				      (unsigned long long)n);
			return BUGKIT_DAMAGE;
		}
		if (n >= k->m)
			return BUGKIT_OK;
	}
}

static const struct bugkit_prog prog = {
	.name = PROG_NAME,
#ifdef OWNER_DEAD_NONROBUST
	.summary = "A producer killed inside its critical section leaves a "
		   "non-robust mutex locked forever: hang.",
#else
	.summary = "A producer killed inside its critical section: "
		   "EOWNERDEAD of the robust mutex is ignored.",
#endif
	.force_help = "the producer holds the lock 3 ms per update and is "
		      "killed once while it holds it",
	.default_m = 300,
	.on_hang = on_hang,
};

int main(int argc, char **argv)
{
	struct bugkit k;
	struct account *r;
	int st;

	bugkit_init(&k, &prog, argc, argv);
	r = bugkit_create(&k, sizeof(*r));
	bugkit_mutex_init(&k, &r->lock, PTHREAD_MUTEX_NORMAL,
			  ROBUST || k.fixed);
	r->magic = MAGIC;
	bugkit_spawn(&k, "manager", manager, 0);
	bugkit_spawn(&k, "auditor", auditor, 0);
	st = bugkit_wait(&k);
	if (st == BUGKIT_OK && (r->a != k.m || r->b != k.m)) {
		bugkit_damage(&k, "a=%llu b=%llu, want %lu",
			      (unsigned long long)r->a,
			      (unsigned long long)r->b, k.m);
		st = BUGKIT_DAMAGE;
	}
	if (st == BUGKIT_OK)
		bugkit_ok(&k,
			  "%lu updates, producer restarted %u times, %u dead "
			  "owners repaired, a=b=%llu",
			  k.m, r->restarts, r->repairs,
			  (unsigned long long)r->a);
	bugkit_exit(&k, st);
}
