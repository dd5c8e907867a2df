/*
 * helper_view_states - put one sync object in each state the snapshot must
 * tell apart, in a real segment, held by real child processes, and wait.
 *
 *   helper_view_states /NAME
 *
 * Prints "key=value" lines (pids and tids of the holders) and then "ready"
 * once every child is where it should be, and keeps everything so until
 * SIGTERM, when it kills its children and removes the segment.  The layout
 * is tests/view/states.layout.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sync.h"

struct states {
	uint32_t magic;
	pid_t helper;
	pthread_mutex_t held;
	pthread_mutex_t dead;
	pthread_mutex_t robust_dead;
	pthread_mutex_t recursive;
	sem_t three;
	sem_t waited;
	pthread_rwlock_t rw;
	pthread_cond_t cv;
	pthread_spinlock_t spin;
	pthread_mutex_t destroyed;
	pthread_mutex_t garbage;
	/* not in the layout: the children report here */
	pid_t tids[8];
	int cv_flag;
	pthread_mutex_t cv_lock; /* the condvar's own mutex */
};

static const char *seg_name;
static pid_t kids[16];
static int nkids;

static void cleanup(void)
{
	/* Reaped children are 0 here; kill(0) would hit our own group. */
	for (int i = 0; i < nkids; i++)
		if (kids[i] > 0)
			kill(kids[i], SIGKILL);
	for (int i = 0; i < nkids; i++)
		if (kids[i] > 0)
			waitpid(kids[i], NULL, 0);
	shm_unlink(seg_name);
}

static void die(const char *what)
{
	fprintf(stderr, "helper_view_states: %s: %s\n", what, strerror(errno));
	cleanup();
	exit(1);
}

static pid_t gettid_(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* Fork a child that runs FN(S, ARG) and then sleeps until killed. */
static pid_t child(struct states *s, void (*fn)(struct states *, int), int arg)
{
	pid_t p = fork();

	if (p < 0)
		die("fork");
	if (p == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fn(s, arg);
		for (;;)
			pause();
	}
	kids[nkids++] = p;
	return p;
}

static void hold_mutex(struct states *s, int which)
{
	pthread_mutex_t *m = which == 0 ? &s->held : &s->dead;

	pthread_mutex_lock(m);
	s->tids[which] = gettid_();
	if (which == 1)
		_exit(0); /* exits holding a normal mutex */
}

static void hold_robust(struct states *s, int arg)
{
	(void)arg;
	pthread_mutex_lock(&s->robust_dead);
	s->tids[2] = gettid_();
	for (;;)
		pause(); /* the parent SIGKILLs it */
}

static void hold_recursive(struct states *s, int arg)
{
	(void)arg;
	for (int i = 0; i < 3; i++)
		pthread_mutex_lock(&s->recursive);
	s->tids[3] = gettid_();
}

static void wait_sem(struct states *s, int arg)
{
	(void)arg;
	sem_wait(&s->waited);
}

static void read_rw(struct states *s, int arg)
{
	pthread_rwlock_rdlock(&s->rw);
	s->tids[4 + arg] = gettid_();
}

static void wait_cv(struct states *s, int arg)
{
	(void)arg;
	pthread_mutex_lock(&s->cv_lock);
	while (!s->cv_flag)
		pthread_cond_wait(&s->cv, &s->cv_lock);
}

static void hold_spin(struct states *s, int arg)
{
	(void)arg;
	pthread_spin_lock(&s->spin);
	s->tids[6] = gettid_();
}

/* Poll the decoded state of the object at P until OK says yes (10 s). */
static void wait_state(const char *what, enum sync_kind k, const void *p,
		       int (*ok)(const struct sync_state *))
{
	struct sync_target t;
	struct sync_state st;
	struct timespec ms = {0, 1000000};

	sync_target_host(&t);
	for (int i = 0; i < 10000; i++) {
		if (sync_decode(&t, k, p, 64, &st) == 0 && ok(&st))
			return;
		nanosleep(&ms, NULL);
	}
	errno = ETIMEDOUT;
	die(what);
}

static int two_waiters(const struct sync_state *s)
{
	return s->waiters == 2;
}

static int one_waiter(const struct sync_state *s)
{
	return s->waiters >= 1;
}

static int two_readers(const struct sync_state *s)
{
	return s->readers == 2;
}

static int held(const struct sync_state *s)
{
	return s->state != SYNC_S_FREE;
}

static void init_objects(struct states *s)
{
	pthread_mutexattr_t ma;
	pthread_rwlockattr_t ra;
	pthread_condattr_t ca;

	s->magic = 0x53544154;
	s->helper = getpid();
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(&s->held, &ma);
	pthread_mutex_init(&s->dead, &ma);
	pthread_mutex_init(&s->destroyed, &ma);
	pthread_mutex_init(&s->cv_lock, &ma);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&s->robust_dead, &ma);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_STALLED);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&s->recursive, &ma);
	sem_init(&s->three, 1, 3);
	sem_init(&s->waited, 1, 0);
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setpshared(&ra, PTHREAD_PROCESS_SHARED);
	pthread_rwlock_init(&s->rw, &ra);
	pthread_condattr_init(&ca);
	pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
	pthread_cond_init(&s->cv, &ca);
	pthread_spin_init(&s->spin, PTHREAD_PROCESS_SHARED);
	/* Bytes that are no mutex glibc would write: a kind with bits no
	 * type has, and a lock word of 7. */
	memset(&s->garbage, 0xa5, sizeof(s->garbage));
}

int main(int argc, char **argv)
{
	struct states *s;
	sigset_t set;
	int fd, sig;
	pid_t robust;

	if (argc != 2 || argv[1][0] != '/') {
		fprintf(stderr, "usage: helper_view_states /NAME\n");
		return 2;
	}
	seg_name = argv[1];
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fd = shm_open(seg_name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		die(seg_name);
	if (ftruncate(fd, sizeof(*s)) < 0)
		die("ftruncate");
	s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (s == MAP_FAILED)
		die("mmap");
	init_objects(s);

	printf("held_pid=%d\n", (int)child(s, hold_mutex, 0));
	printf("dead_pid=%d\n", (int)child(s, hold_mutex, 1));
	robust = child(s, hold_robust, 0);
	printf("robust_pid=%d\n", (int)robust);
	printf("recursive_pid=%d\n", (int)child(s, hold_recursive, 0));
	printf("waiter1_pid=%d\n", (int)child(s, wait_sem, 0));
	printf("waiter2_pid=%d\n", (int)child(s, wait_sem, 0));
	printf("reader1_pid=%d\n", (int)child(s, read_rw, 0));
	printf("reader2_pid=%d\n", (int)child(s, read_rw, 1));
	printf("cv_pid=%d\n", (int)child(s, wait_cv, 0));
	printf("spin_pid=%d\n", (int)child(s, hold_spin, 0));

	wait_state("held", SYNC_MUTEX, &s->held, held);
	wait_state("dead", SYNC_MUTEX, &s->dead, held);
	wait_state("robust", SYNC_MUTEX, &s->robust_dead, held);
	wait_state("recursive", SYNC_MUTEX, &s->recursive, held);
	wait_state("waited", SYNC_SEM, &s->waited, two_waiters);
	wait_state("rw", SYNC_RWLOCK, &s->rw, two_readers);
	wait_state("cv", SYNC_COND, &s->cv, one_waiter);
	wait_state("spin", SYNC_SPIN, (const void *)&s->spin, held);
	/* The normal mutex's holder exits by itself; the robust one's dies. */
	waitpid(kids[1], NULL, 0);
	kids[1] = 0;
	kill(robust, SIGKILL);
	waitpid(robust, NULL, 0);
	kids[2] = 0;
	pthread_mutex_destroy(&s->destroyed);
	printf("dead_tid=%d\nrobust_tid=%d\nrecursive_tid=%d\n", s->tids[1],
	       s->tids[2], s->tids[3]);
	printf("ready\n");
	fflush(stdout);
	sigwait(&set, &sig);
	cleanup();
	return 0;
}
