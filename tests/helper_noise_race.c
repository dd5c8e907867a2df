/*
 * helper_noise_race - targets for the noise strategy's tests
 * (tests/test_noise_*.sh).
 *
 *   race NAME N WORK_US   two processes add 1 to a shared counter N times
 *                         each, reading it in one critical section and
 *                         writing it in the next: a lost update needs the
 *                         other process's write between the two, which a
 *                         plain run rarely sees (WORK_US of computation
 *                         between increments keeps them apart).  Exit 1
 *                         and "lost K" when the count is short.
 *   tree NAME             a fixed amount of locking in a main thread, two
 *                         threads, a forked child that then execs itself
 *                         ("leaf"), a second child; creates a POSIX
 *                         segment, a named semaphore and a SysV segment
 *                         (and opens the segment again with O_CREAT),
 *                         removes them all.  Every thread makes the same
 *                         sync calls in every run.
 *   cpus                  prints how many CPUs it may run on.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct shared {
	pthread_mutex_t lock;
	volatile long counter;
};

static void die(const char *what)
{
	fprintf(stderr, "helper_noise_race: %s: %s\n", what, strerror(errno));
	exit(4);
}

static struct shared *seg_create(const char *name)
{
	pthread_mutexattr_t a;
	struct shared *s;
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);

	if (fd < 0)
		die("shm_open");
	if (ftruncate(fd, sizeof(*s)) < 0)
		die("ftruncate");
	s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (s == MAP_FAILED)
		die("mmap");
	close(fd);
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(&s->lock, &a);
	s->counter = 0;
	return s;
}

/* Computation without a system call or a sync point. */
static void work(unsigned us)
{
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	do
		clock_gettime(CLOCK_MONOTONIC, &b);
	while ((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) <
	       (long)us * 1000);
}

static void adder(struct shared *s, long n, unsigned work_us)
{
	for (long i = 0; i < n; i++) {
		long v;

		work(work_us);
		pthread_mutex_lock(&s->lock);
		v = s->counter;
		pthread_mutex_unlock(&s->lock);
		/* BUG: the value read above may be stale by now. */
		pthread_mutex_lock(&s->lock);
		s->counter = v + 1;
		pthread_mutex_unlock(&s->lock);
	}
}

static int race(const char *name, long n, unsigned work_us)
{
	struct shared *s = seg_create(name);
	int st;
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid == 0) {
		adder(s, n, work_us);
		_exit(0);
	}
	adder(s, n, work_us);
	waitpid(pid, &st, 0);
	shm_unlink(name);
	if (s->counter != 2 * n) {
		printf("lost %ld\n", 2 * n - s->counter);
		return 1;
	}
	printf("ok %ld\n", s->counter);
	return 0;
}

static void lock_loop(int n)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

	for (int i = 0; i < n; i++) {
		pthread_mutex_lock(&m);
		pthread_mutex_unlock(&m);
	}
}

static void *thread_main(void *arg)
{
	lock_loop((int)(intptr_t)arg);
	return NULL;
}

static int tree(const char *self, const char *name)
{
	char semname[256];
	pthread_t th[2];
	sem_t *sem;
	pid_t a, b;
	int fd, id, st;

	snprintf(semname, sizeof(semname), "%s-sem", name);
	seg_create(name);
	/* O_CREAT of a segment that exists: it is not "created". */
	fd = shm_open(name, O_RDWR | O_CREAT, 0600);
	if (fd < 0)
		die("shm_open again");
	close(fd);
	sem = sem_open(semname, O_CREAT | O_EXCL, 0600, 1);
	if (sem == SEM_FAILED)
		die("sem_open");
	id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	if (id < 0)
		die("shmget");
	printf("sysv %d\n", id);
	fflush(stdout);
	lock_loop(500);
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, thread_main,
			       (void *)(intptr_t)500);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	a = fork();
	if (a == 0) {
		lock_loop(500);
		execl(self, self, "leaf", (char *)NULL);
		_exit(5);
	}
	b = fork();
	if (b == 0) {
		lock_loop(500);
		_exit(0);
	}
	waitpid(a, &st, 0);
	waitpid(b, &st, 0);
	sem_close(sem);
	sem_unlink(semname);
	shmctl(id, IPC_RMID, NULL);
	shm_unlink(name);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "race"))
		return race(argv[2], atol(argv[3]), (unsigned)atoi(argv[4]));
	if (argc == 3 && !strcmp(argv[1], "tree"))
		return tree(argv[0], argv[2]);
	if (argc == 2 && !strcmp(argv[1], "cpus")) {
		cpu_set_t set;

		if (sched_getaffinity(0, sizeof(set), &set) < 0)
			die("sched_getaffinity");
		printf("%d\n", CPU_COUNT(&set));
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "leaf")) {
		lock_loop(500);
		return 0;
	}
	fprintf(stderr, "usage: helper_noise_race race NAME N WORK_US | "
			"tree NAME\n");
	return 2;
}
