/*
 * helper_probe_errno - calls that fail in every way the probe must pass
 * through unchanged, and calls that succeed (errno must stay as it was).
 * Prints one line per case: "name return errno".  test_probe_record.sh
 * runs it with and without the probe and compares the two outputs.
 *
 * usage: helper_probe_errno SEGNAME
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SENTINEL 4242

static void show(const char *name, long ret, int err)
{
	printf("%-32s %ld %s\n", name, ret, err ? strerrorname_np(err) : "0");
}

/* pthread functions return the error; errno must be untouched. */
#define PT(name, call)                                         \
	do {                                                   \
		errno = SENTINEL;                              \
		int r_ = (call);                               \
		show(name, r_, errno == SENTINEL ? 0 : errno); \
		if (r_)                                        \
			show(name " (as error)", 0, r_);       \
	} while (0)

/* libc functions: -1 and errno, or success with errno untouched. */
#define LC(name, call)                                         \
	do {                                                   \
		errno = SENTINEL;                              \
		long r_ = (long)(call);                        \
		show(name, r_, errno == SENTINEL ? 0 : errno); \
	} while (0)

static struct timespec in_ms_on(clockid_t clk, int ms)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	ts.tv_nsec += (long)ms * 1000000;
	ts.tv_sec += ts.tv_nsec / 1000000000;
	ts.tv_nsec %= 1000000000;
	return ts;
}

static struct timespec in_ms(int ms)
{
	return in_ms_on(CLOCK_REALTIME, ms);
}

static void on_alarm(int sig)
{
	(void)sig;
}

static void mutexes(void)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER, ec;
	pthread_mutexattr_t a;
	struct timespec ts, bad = {0, 2000000000L};

	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
	PT("mutex_init errorcheck", pthread_mutex_init(&ec, &a));
	PT("mutex_lock", pthread_mutex_lock(&m));
	PT("mutex_trylock busy", pthread_mutex_trylock(&m));
	ts = in_ms(20);
	PT("mutex_timedlock timeout", pthread_mutex_timedlock(&m, &ts));
	PT("mutex_timedlock bad time", pthread_mutex_timedlock(&m, &bad));
	ts = in_ms(20);
	PT("mutex_clocklock timeout",
	   pthread_mutex_clocklock(&m, CLOCK_REALTIME, &ts));
	PT("mutex_destroy busy", pthread_mutex_destroy(&m));
	PT("mutex_unlock", pthread_mutex_unlock(&m));
	PT("mutex_unlock errorcheck free", pthread_mutex_unlock(&ec));
	PT("mutex_lock errorcheck", pthread_mutex_lock(&ec));
	PT("mutex_lock errorcheck again", pthread_mutex_lock(&ec));
	PT("mutex_unlock errorcheck", pthread_mutex_unlock(&ec));
	PT("mutex_consistent not robust", pthread_mutex_consistent(&ec));
	PT("mutex_destroy", pthread_mutex_destroy(&ec));
	pthread_mutexattr_destroy(&a);
}

static void robust(const char *seg)
{
	pthread_mutexattr_t a;
	pthread_mutex_t *m;
	int fd, st;
	pid_t pid;

	fd = shm_open(seg, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || ftruncate(fd, 4096) < 0) {
		perror("segment");
		exit(1);
	}
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	shm_unlink(seg);
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	PT("mutex_init robust", pthread_mutex_init(m, &a));
	pid = fork();
	if (pid == 0) {
		pthread_mutex_lock(m);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	PT("mutex_lock owner dead", pthread_mutex_lock(m));
	PT("mutex_consistent", pthread_mutex_consistent(m));
	PT("mutex_unlock robust", pthread_mutex_unlock(m));
	pid = fork();
	if (pid == 0) {
		pthread_mutex_lock(m);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	PT("mutex_trylock owner dead", pthread_mutex_trylock(m));
	PT("mutex_unlock not consistent", pthread_mutex_unlock(m));
	PT("mutex_lock not recoverable", pthread_mutex_lock(m));
	munmap(m, 4096);
}

static void rwlocks(void)
{
	pthread_rwlock_t l = PTHREAD_RWLOCK_INITIALIZER;
	pthread_spinlock_t s;

	PT("rwlock_rdlock", pthread_rwlock_rdlock(&l));
	PT("rwlock_trywrlock busy", pthread_rwlock_trywrlock(&l));
	PT("rwlock_unlock", pthread_rwlock_unlock(&l));
	PT("rwlock_wrlock", pthread_rwlock_wrlock(&l));
	PT("rwlock_rdlock deadlock", pthread_rwlock_rdlock(&l));
	PT("rwlock_wrlock deadlock", pthread_rwlock_wrlock(&l));
	PT("rwlock_tryrdlock busy", pthread_rwlock_tryrdlock(&l));
	PT("rwlock_unlock 2", pthread_rwlock_unlock(&l));
	PT("spin_init", pthread_spin_init(&s, 0));
	PT("spin_lock", pthread_spin_lock(&s));
	PT("spin_trylock busy", pthread_spin_trylock(&s));
	PT("spin_unlock", pthread_spin_unlock(&s));
	PT("spin_destroy", pthread_spin_destroy(&s));
}

static void conds(void)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t c = PTHREAD_COND_INITIALIZER;
	struct timespec ts = in_ms(20), bad = {0, -1};

	pthread_mutex_lock(&m);
	PT("cond_timedwait timeout", pthread_cond_timedwait(&c, &m, &ts));
	PT("cond_timedwait bad time", pthread_cond_timedwait(&c, &m, &bad));
	ts = in_ms_on(CLOCK_MONOTONIC, 20);
	PT("cond_clockwait timeout",
	   pthread_cond_clockwait(&c, &m, CLOCK_MONOTONIC, &ts));
	PT("cond_signal", pthread_cond_signal(&c));
	PT("cond_broadcast", pthread_cond_broadcast(&c));
	pthread_mutex_unlock(&m);
	PT("cond_destroy", pthread_cond_destroy(&c));
}

static void sems(void)
{
	struct timespec ts, bad = {0, 2000000000L};
	struct itimerval it = {{0, 0}, {0, 30000}};
	struct sigaction sa;
	sem_t s;

	LC("sem_init too big", sem_init(&s, 0, 0x80000000u));
	LC("sem_init", sem_init(&s, 0, 0));
	LC("sem_trywait empty", sem_trywait(&s));
	ts = in_ms(20);
	LC("sem_timedwait timeout", sem_timedwait(&s, &ts));
	LC("sem_timedwait bad time", sem_timedwait(&s, &bad));
	ts = in_ms_on(CLOCK_MONOTONIC, 20);
	LC("sem_clockwait timeout", sem_clockwait(&s, CLOCK_MONOTONIC, &ts));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm; /* no SA_RESTART: the wait returns EINTR */
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	LC("sem_wait interrupted", sem_wait(&s));
	LC("sem_post", sem_post(&s));
	LC("sem_wait", sem_wait(&s));
	LC("sem_post 2", sem_post(&s));
	LC("sem_trywait", sem_trywait(&s));
	LC("sem_destroy", sem_destroy(&s));
	LC("sem_open missing",
	   (long)(sem_open("/shmscope-no-such-sem", 0) == SEM_FAILED));
	LC("sem_unlink missing", sem_unlink("/shmscope-no-such-sem"));
}

static void segments(void)
{
	char buf[8];

	LC("shm_open missing", shm_open("/shmscope-no-such-seg", O_RDWR, 0));
	LC("shm_unlink missing", shm_unlink("/shmscope-no-such-seg"));
	LC("ftruncate bad fd", ftruncate(-1, 10));
	LC("mmap bad fd", (long)(mmap(NULL, 4096, PROT_READ, MAP_SHARED, -1,
				      0) == MAP_FAILED));
	LC("munmap unaligned", munmap(buf + 1, 10));
	LC("mremap bad", (long)(mremap(buf + 1, 10, 20, 0) == MAP_FAILED));
	LC("shmat bad id", (long)(shmat(-1, NULL, 0) == (void *)-1));
	LC("shmdt bad", shmdt(buf + 1));
	LC("execv missing", execv("/nonexistent/prog", (char *[]){NULL}));
	LC("execl missing", execl("/nonexistent/prog", "x", (char *)NULL));
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: helper_probe_errno SEGNAME\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	mutexes();
	robust(argv[1]);
	rwlocks();
	conds();
	sems();
	segments();
	return 0;
}
