/*
 * helper_fuzzwire_target.c - targets for the tests of what shmfuzz's -l,
 * misuse and hang diagnosis see.  Every mode creates segment NAME holding
 *
 *   struct fw {
 *       uint32_t        magic;    0x46575752 once initialised
 *       pthread_mutex_t lock, l1, l2;
 *       uint32_t        a, b;     the invariant: a == b
 *   };
 *
 *   transient NAME MS   for MS ms: take lock, a++, hold it 30 ms with
 *                       a != b, b++, unlock (the invariant is broken only
 *                       inside the critical section); exit 0
 *   unlocked NAME MS    the same without taking the lock; exit 0
 *   break NAME MS       set a != b for good after 50 ms, exit 0 after MS ms
 *   decoy NAME MS       NAME stays sound; a second segment NAME-decoy of
 *                       the same size, never initialised (no magic), has
 *                       a != b; both live MS ms
 *   nonowner NAME       the parent locks `lock`, a child unlocks it
 *   abba NAME           two children deadlock on l1 and l2 (each holds one
 *                       and waits for the other); the parent waits
 *   deadowner NAME      a child takes `lock` and exits holding it (not
 *                       robust), the parent then blocks locking it
 *   nonowner-sites NAME as nonowner, the child's unlock at one of two call
 *                       sites: unlock_a() in even runs of a campaign
 *                       (SHMFUZZ_RUN), unlock_b() in odd ones
 *   deadowner-sites NAME as deadowner, the parent blocking in lock_a() in
 *                       even runs, lock_b() in odd ones
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FW_MAGIC 0x46575752u

struct fw {
	uint32_t magic;
	pthread_mutex_t lock, l1, l2;
	uint32_t a, b;
	/* Not in the layout: the two abba children meet here. */
	volatile uint32_t holding;
};

static void init_mutex(pthread_mutex_t *m)
{
	pthread_mutexattr_t a;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
}

static struct fw *make_seg(const char *name)
{
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	struct fw *f;

	if (fd < 0 || ftruncate(fd, 4096)) {
		perror(name);
		exit(4);
	}
	f = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (f == MAP_FAILED) {
		perror("mmap");
		exit(4);
	}
	init_mutex(&f->lock);
	init_mutex(&f->l1);
	init_mutex(&f->l2);
	__atomic_store_n(&f->magic, FW_MAGIC, __ATOMIC_RELEASE);
	return f;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static void bump(struct fw *f, bool locked, double ms)
{
	double end = now_ms() + ms;

	while (now_ms() < end) {
		if (locked)
			pthread_mutex_lock(&f->lock);
		__atomic_add_fetch(&f->a, 1, __ATOMIC_SEQ_CST);
		sleep_ms(30);
		__atomic_add_fetch(&f->b, 1, __ATOMIC_SEQ_CST);
		if (locked)
			pthread_mutex_unlock(&f->lock);
		sleep_ms(1);
	}
}

static void abba_child(struct fw *f, pthread_mutex_t *first,
		       pthread_mutex_t *second)
{
	pthread_mutex_lock(first);
	__atomic_add_fetch(&f->holding, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&f->holding, __ATOMIC_SEQ_CST) < 2)
		sleep_ms(1);
	pthread_mutex_lock(second); /* never returns */
	_exit(0);
}

/* Two call sites of the same operation: shmfuzz must tell them apart.
 * Not tail calls: the call site is the caller's return address. */
#define NO_TAIL_CALL() __asm__ volatile("" ::: "memory")

__attribute__((noinline)) static void unlock_a(pthread_mutex_t *m)
{
	pthread_mutex_unlock(m);
	NO_TAIL_CALL();
}

__attribute__((noinline)) static void unlock_b(pthread_mutex_t *m)
{
	pthread_mutex_unlock(m);
	NO_TAIL_CALL();
}

__attribute__((noinline)) static void lock_a(pthread_mutex_t *m)
{
	pthread_mutex_lock(m);
	NO_TAIL_CALL();
}

__attribute__((noinline)) static void lock_b(pthread_mutex_t *m)
{
	pthread_mutex_lock(m);
	NO_TAIL_CALL();
}

/* Site A in the even runs of a campaign, B in the odd ones. */
static bool odd_run(void)
{
	const char *run = getenv("SHMFUZZ_RUN");

	return run && atoi(run) % 2;
}

static int wait_all(void)
{
	int st, bad = 0;

	while (wait(&st) > 0)
		bad |= !WIFEXITED(st) || WEXITSTATUS(st);
	return bad;
}

int main(int argc, char **argv)
{
	struct fw *f;
	const char *mode = argc > 2 ? argv[1] : "";
	double ms = argc > 3 ? atof(argv[3]) : 0;

	if (argc < 3) {
		fprintf(stderr, "usage: %s MODE NAME [MS]\n", argv[0]);
		return 2;
	}
	f = make_seg(argv[2]);
	if (!strcmp(mode, "transient") || !strcmp(mode, "unlocked")) {
		bump(f, mode[0] == 't', ms);
	} else if (!strcmp(mode, "break")) {
		sleep_ms(50);
		f->a = 7;
		sleep_ms((int)ms);
	} else if (!strcmp(mode, "decoy")) {
		char decoy[300];
		snprintf(decoy, sizeof(decoy), "%s-decoy", argv[2]);
		int fd = shm_open(decoy, O_RDWR | O_CREAT | O_EXCL, 0600);
		struct fw *d;
		if (fd < 0 || ftruncate(fd, 4096))
			return 4;
		d = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		close(fd);
		if (d == MAP_FAILED)
			return 4;
		d->a = 7;
		sleep_ms((int)ms);
		shm_unlink(decoy);
	} else if (!strcmp(mode, "nonowner")) {
		pthread_mutex_lock(&f->lock);
		if (!fork()) {
			pthread_mutex_unlock(&f->lock);
			_exit(0);
		}
		if (wait_all())
			return 1;
	} else if (!strcmp(mode, "nonowner-sites")) {
		pthread_mutex_lock(&f->lock);
		if (!fork()) {
			(odd_run() ? unlock_b : unlock_a)(&f->lock);
			_exit(0);
		}
		if (wait_all())
			return 1;
	} else if (!strcmp(mode, "abba")) {
		if (!fork())
			abba_child(f, &f->l1, &f->l2);
		if (!fork())
			abba_child(f, &f->l2, &f->l1);
		return wait_all();
	} else if (!strcmp(mode, "deadowner")) {
		if (!fork()) {
			pthread_mutex_lock(&f->lock);
			_exit(0);
		}
		wait_all();
		pthread_mutex_lock(&f->lock); /* never returns */
	} else if (!strcmp(mode, "deadowner-sites")) {
		if (!fork()) {
			pthread_mutex_lock(&f->lock);
			_exit(0);
		}
		wait_all();
		(odd_run() ? lock_b : lock_a)(&f->lock); /* never returns */
	} else {
		fprintf(stderr, "unknown mode %s\n", mode);
		return 2;
	}
	shm_unlink(argv[2]);
	return 0;
}
