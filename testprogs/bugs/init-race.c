/*
 * bug-init-race - two peer processes start independently, peer 1 about 3 ms
 * after peer 0, each opening (or creating) the shared segment and
 * initialising it if nobody has: a table of 64 records with a
 * process-shared mutex each, then a process-shared error-checking mutex
 * and a counter both peers then increment under it.  (The supervisor only
 * forks them and removes the segment.)
 *
 * The bug: shm_open(O_CREAT) without O_EXCL and an "initialised yet?" test
 * of the magic number: when the second peer tests before the first has
 * stored the magic, both initialise, and the second pthread_mutex_init
 * (and counter = 0) can land while the first peer holds the mutex or has
 * already counted: increments are lost, or the holder's unlock fails with
 * EPERM because the mutex it holds was reset under it.
 * Window: the first peer between its magic test and its magic store
 * (across ftruncate and its 65 pthread_mutex_init calls): some tens of
 * microseconds, so a peer starting 3 ms later meets it only when the
 * first is held up there for milliseconds (a preemption, or the fuzzer's
 * noise, which sleeps at sync-object initialisations).  Until session 4
 * the peers started within 300 us of each other and the segment had no
 * table: a window of a microsecond or two that noise met by alignments of
 * tens of microseconds at the two processes' start, which the OS moved
 * from run to run (88 of 100 replays; now 100 of 100).
 * Fixed twin: O_CREAT | O_EXCL decides the one initialiser; the other
 * opens the existing segment and waits for the magic before using it.
 */
#include "bugkit.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC	  0x494e4954u /* "INIT" */
#define GAP_US	  3000	      /* peer 1 starts this much after peer 0, */
#define JITTER_US 300	      /* give or take this */
#define NSLOTS	  64	      /* records, each with its own mutex */
#define WORK_NS	  500	      /* work inside the critical section */

struct shared {
	uint32_t magic; /* stored last by the initialiser */
	uint32_t inits; /* initialisations done: 1 in a good run */
	pthread_mutex_t lock;
	uint64_t counter;	      /* under lock */
	uint32_t done;		      /* peers finished */
	pthread_mutex_t slot[NSLOTS]; /* the records' locks */
};

static struct shared *map_fd(struct bugkit *k, int fd)
{
	void *p = mmap(NULL, sizeof(struct shared), PROT_READ | PROT_WRITE,
		       MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		bugkit_fail(k, errno, "mmap");
	close(fd);
	return p;
}

static void init_shared(struct bugkit *k, struct shared *s)
{
	for (int i = 0; i < NSLOTS; i++)
		bugkit_mutex_init(k, &s->slot[i], PTHREAD_MUTEX_NORMAL, false);
	bugkit_mutex_init(k, &s->lock, PTHREAD_MUTEX_ERRORCHECK, false);
	s->counter = 0;
	__atomic_add_fetch(&s->inits, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&s->magic, MAGIC, __ATOMIC_RELEASE);
}

/* --force: wait in the window until the other peer has counted (1 s). */
static void wait_counted(const struct shared *s)
{
	uint64_t end = bugkit_now_ns() + 1000000000ull;

	while (!__atomic_load_n(&s->counter, __ATOMIC_ACQUIRE) &&
	       bugkit_now_ns() < end)
		bugkit_sleep_us(100);
}

static struct shared *open_buggy(struct bugkit *k, long id)
{
	struct shared *s;
	int fd;

	/* BUG: no O_EXCL, so both peers may believe they came first. */
	fd = shm_open(k->seg, O_RDWR | O_CREAT, 0600);
	if (fd < 0)
		bugkit_fail(k, errno, "shm_open");
	if (ftruncate(fd, sizeof(*s)) < 0)
		bugkit_fail(k, errno, "ftruncate");
	s = map_fd(k, fd);
	if (__atomic_load_n(&s->magic, __ATOMIC_ACQUIRE) != MAGIC) {
		if (k->force && id == 0) /* until peer 1 has counted */
			wait_counted(s);
		init_shared(k, s);
	}
	return s;
}

static struct shared *open_fixed(struct bugkit *k)
{
	struct shared *s;
	struct stat st;
	int fd;

	fd = shm_open(k->seg, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd >= 0) {
		if (ftruncate(fd, sizeof(*s)) < 0)
			bugkit_fail(k, errno, "ftruncate");
		s = map_fd(k, fd);
		init_shared(k, s);
		return s;
	}
	if (errno != EEXIST)
		bugkit_fail(k, errno, "shm_open");
	fd = shm_open(k->seg, O_RDWR, 0);
	if (fd < 0)
		bugkit_fail(k, errno, "shm_open (existing)");
	/* The creator sizes it, then initialises it: wait for both. */
	while (fstat(fd, &st) == 0 && st.st_size < (off_t)sizeof(*s))
		sched_yield();
	s = map_fd(k, fd);
	while (__atomic_load_n(&s->magic, __ATOMIC_ACQUIRE) != MAGIC)
		sched_yield();
	return s;
}

/*
 * The peer that finishes last checks the counter.  Not the supervisor
 * after the run: it would have to reopen the segment by name, and a name
 * can vanish under it (another program's cleanup), the mapping cannot.
 */
static int last_check(struct bugkit *k, struct shared *s)
{
	int st = BUGKIT_OK;

	if (__atomic_add_fetch(&s->done, 1, __ATOMIC_ACQ_REL) != 2)
		goto out;
	pthread_mutex_lock(&s->lock);
	if (s->counter != 2 * k->m) {
		bugkit_damage(k,
			      "counter=%llu, want %lu: increments lost "
			      "(segment initialised %u times)",
			      (unsigned long long)s->counter, 2 * k->m,
			      s->inits);
		st = BUGKIT_DAMAGE;
	} else {
		bugkit_ok(k,
			  "2 peers x %lu increments, counter=%llu, segment "
			  "initialised %u time(s)",
			  k->m, (unsigned long long)s->counter, s->inits);
	}
	pthread_mutex_unlock(&s->lock);
out:
	munmap(s, sizeof(*s));
	return st;
}

static int peer(struct bugkit *k, long id)
{
	uint64_t rng = bugkit_rng_seed(k, (uint64_t)id + 1);
	struct shared *s;

	if (k->force)
		bugkit_sleep_us(id == 0 ? 0 : 300);
	else
		bugkit_sleep_us((unsigned long)id * GAP_US +
				bugkit_rand_below(&rng, JITTER_US));
	s = k->fixed ? open_fixed(k) : open_buggy(k, id);
	for (unsigned long i = 0; i < k->m; i++) {
		uint64_t v;
		int err;

		err = pthread_mutex_lock(&s->lock);
		if (err) {
			bugkit_damage(k, "pthread_mutex_lock: %s",
				      strerror(err));
			return BUGKIT_DAMAGE;
		}
		v = s->counter;
		bugkit_spin_ns(WORK_NS);
		s->counter = v + 1;
		err = pthread_mutex_unlock(&s->lock);
		if (err) {
			bugkit_damage(k,
				      "pthread_mutex_unlock of the mutex it "
				      "holds: %s: it was re-initialised under "
				      "it (initialised %u times)",
				      strerror(err), s->inits);
			return BUGKIT_DAMAGE;
		}
	}
	return last_check(k, s);
}

static const struct bugkit_prog prog = {
	.name = "bug-init-race",
	.summary = "Two peers shm_open(O_CREAT) without O_EXCL and both "
		   "initialise: a held mutex is re-initialised.",
	.force_help = "peer 0 waits between its test and its "
		      "initialisation until peer 1 (300 us later) has counted",
	.default_m = 200,
	.on_hang = NULL,
};

int main(int argc, char **argv)
{
	struct bugkit k;
	int st, fd;

	bugkit_init(&k, &prog, argc, argv);
	/* The peers create it; it must not exist yet. */
	fd = shm_open(k.seg, O_RDONLY, 0);
	if (fd >= 0) {
		close(fd);
		bugkit_say(&k, "%s exists already", k.seg);
		exit(BUGKIT_SETUP);
	}
	bugkit_spawn(&k, "peer0", peer, 0);
	bugkit_spawn(&k, "peer1", peer, 1);
	st = bugkit_wait(&k);
	bugkit_exit(&k, st);
}
