/*
 * helper_probe_scenarios - small programs for the probe's tests, one per
 * MODE, each doing one thing the report must see.  SEG is a POSIX segment
 * name the helper creates and removes itself.
 *
 * usage: helper_probe_scenarios MODE SEG [N]
 *   abba            two processes take A,B and B,A (one after the other:
 *                   no deadlock happens, the cycle is still there)
 *   abc             a three-lock cycle over three processes
 *   deadlock        two processes deadlock for real (SIGALRM ends them)
 *   unlock-not-held, unlock-not-owner, relock, destroy-held, held-at-exit,
 *   died-holding, owner-dead-not-consistent, sem-destroyed, use-after-unmap
 *   fork            parent and child each lock the shared mutex N times
 *   exec            lock N times, then exec itself in mode "fork-child"
 *   exec-noenv      the same through execve with an environment that lacks
 *                   LD_PRELOAD and SHMPROBE_DIR
 *   threads         100 threads lock one shared mutex N times each
 *   killed          a child locks N times, reports it, and is SIGKILLed
 *   noexit          lock N times and return from main
 *   contend         2 processes x 2 threads hammer one shared mutex
 *   sysv, anon      parent and child lock a mutex N times each in a SysV
 *                   segment / a MAP_SHARED|MAP_ANONYMOUS mapping
 *   mremap          the segment moves (mremap); N locks before, N after
 *   cond            two threads take turns N times with a condvar
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
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct shared {
	pthread_mutex_t a, b, c;
	pthread_mutex_t robust;
	sem_t sem;
	volatile int progress;
};

static struct shared *S;
static const char *seg;
static int N = 10;

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void pause_ms(int ms)
{
	struct timespec ts = {0, (long)ms * 1000000};
	nanosleep(&ts, NULL);
}

static struct shared *map_segment(void)
{
	int fd = shm_open(seg, O_RDWR | O_CREAT | O_EXCL, 0600);
	void *p;

	if (fd < 0)
		die("shm_open");
	if (ftruncate(fd, 4096) < 0)
		die("ftruncate");
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap");
	close(fd);
	return p;
}

static void init_mutex(pthread_mutex_t *m, int type, int robust)
{
	pthread_mutexattr_t a;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_settype(&a, type);
	if (robust)
		pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	if (pthread_mutex_init(m, &a))
		die("pthread_mutex_init");
	pthread_mutexattr_destroy(&a);
}

static void setup(void)
{
	S = map_segment();
	init_mutex(&S->a, PTHREAD_MUTEX_NORMAL, 0);
	init_mutex(&S->b, PTHREAD_MUTEX_NORMAL, 0);
	init_mutex(&S->c, PTHREAD_MUTEX_NORMAL, 0);
	init_mutex(&S->robust, PTHREAD_MUTEX_NORMAL, 1);
	sem_init(&S->sem, 1, 0);
}

static int wait_child(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			die("waitpid");
	}
	return st;
}

static void lock_pair(pthread_mutex_t *x, pthread_mutex_t *y)
{
	pthread_mutex_lock(x);
	pause_ms(1);
	pthread_mutex_lock(y);
	pthread_mutex_unlock(y);
	pthread_mutex_unlock(x);
}

static void abba(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		lock_pair(&S->a, &S->b);
		_exit(0);
	}
	wait_child(pid);
	lock_pair(&S->b, &S->a);
}

/* A real deadlock: each process holds one lock and wants the other.
 * SIGALRM ends both after a second. */
static void deadlock(void)
{
	sem_t *s2 = (sem_t *)(S + 1);
	pid_t pid;

	sem_init(s2, 1, 0);
	pid = fork();
	if (pid == 0) {
		alarm(1);
		pthread_mutex_lock(&S->b);
		sem_post(s2);
		sem_wait(&S->sem);
		pthread_mutex_lock(&S->a);
		_exit(0);
	}
	alarm(1);
	pthread_mutex_lock(&S->a);
	sem_post(&S->sem);
	sem_wait(s2);
	shm_unlink(seg);
	pthread_mutex_lock(&S->b);
}

static void abc(void)
{
	pthread_mutex_t *m[3] = {&S->a, &S->b, &S->c};

	for (int i = 0; i < 3; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			lock_pair(m[i], m[(i + 1) % 3]);
			_exit(0);
		}
		wait_child(pid);
	}
}

static void errorcheck_mutex(pthread_mutex_t *m)
{
	pthread_mutex_destroy(m);
	init_mutex(m, PTHREAD_MUTEX_ERRORCHECK, 0);
}

static void misuse(const char *mode)
{
	pid_t pid;

	if (!strcmp(mode, "unlock-not-held")) {
		errorcheck_mutex(&S->a);
		pthread_mutex_unlock(&S->a);
	} else if (!strcmp(mode, "unlock-not-owner")) {
		/* A normal mutex lets another process unlock it. */
		pthread_mutex_lock(&S->a);
		pid = fork();
		if (pid == 0) {
			pthread_mutex_unlock(&S->a);
			_exit(0);
		}
		wait_child(pid);
	} else if (!strcmp(mode, "relock")) {
		errorcheck_mutex(&S->a);
		pthread_mutex_lock(&S->a);
		pthread_mutex_lock(&S->a);
		pthread_mutex_unlock(&S->a);
	} else if (!strcmp(mode, "destroy-held")) {
		pthread_mutex_lock(&S->a);
		pthread_mutex_destroy(&S->a);
		pthread_mutex_unlock(&S->a);
	} else if (!strcmp(mode, "held-at-exit")) {
		pthread_mutex_lock(&S->a);
		shm_unlink(seg);
		exit(0);
	} else if (!strcmp(mode, "died-holding")) {
		pthread_mutex_lock(&S->a);
		shm_unlink(seg);
		raise(SIGKILL);
	} else if (!strcmp(mode, "owner-dead-not-consistent")) {
		pid = fork();
		if (pid == 0) {
			pthread_mutex_lock(&S->robust);
			_exit(0);
		}
		wait_child(pid);
		if (pthread_mutex_lock(&S->robust) != EOWNERDEAD)
			die("expected EOWNERDEAD");
		pthread_mutex_unlock(&S->robust);
	} else if (!strcmp(mode, "sem-destroyed")) {
		sem_destroy(&S->sem);
		sem_post(&S->sem);
	} else if (!strcmp(mode, "use-after-unmap")) {
		/* Unmap the segment, put private memory at the same address
		 * and lock "the same" mutex: the process uses a lock whose
		 * segment is gone. */
		void *at = S;
		munmap(S, 4096);
		if (mmap(at, 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != at)
			die("mmap fixed");
		pthread_mutex_lock(&((struct shared *)at)->a);
		pthread_mutex_unlock(&((struct shared *)at)->a);
	} else {
		fprintf(stderr, "unknown mode %s\n", mode);
		exit(2);
	}
}

static void lock_n(pthread_mutex_t *m, int n);

/* Parent and child lock the mutex at the start of P N times each. */
static void fork_and_lock(struct shared *p)
{
	pid_t pid;

	init_mutex(&p->a, PTHREAD_MUTEX_NORMAL, 0);
	pid = fork();
	if (pid == 0) {
		lock_n(&p->a, N);
		_exit(0);
	}
	lock_n(&p->a, N);
	waitpid(pid, NULL, 0);
}

static void other_segments(const char *mode)
{
	struct shared *p;
	void *at;

	if (!strcmp(mode, "sysv")) {
		int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
		if (id < 0)
			die("shmget");
		p = shmat(id, NULL, 0);
		shmctl(id, IPC_RMID, NULL); /* gone when both detach */
		if (p == (void *)-1)
			die("shmat");
		fork_and_lock(p);
		shmdt(p);
	} else if (!strcmp(mode, "anon")) {
		p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			die("mmap");
		fork_and_lock(p);
	} else {
		/* mremap: lock, move the segment elsewhere, lock again. */
		lock_n(&S->a, N);
		if (ftruncate(shm_open(seg, O_RDWR, 0), 8192) < 0)
			die("ftruncate");
		at = mmap(NULL, 8192, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);
		p = mremap(S, 4096, 8192, MREMAP_MAYMOVE | MREMAP_FIXED, at);
		if (p == MAP_FAILED)
			die("mremap");
		S = p;
		lock_n(&p->a, N);
	}
}

static void lock_n(pthread_mutex_t *m, int n)
{
	for (int i = 0; i < n; i++) {
		pthread_mutex_lock(m);
		S->progress++;
		pthread_mutex_unlock(m);
	}
}

static void *thread_main(void *arg)
{
	(void)arg;
	lock_n(&S->a, N);
	return NULL;
}

static pthread_cond_t turn_cv = PTHREAD_COND_INITIALIZER;
static int turn;

static void *turn_main(void *arg)
{
	int me = (int)(intptr_t)arg;

	for (int i = 0; i < N; i++) {
		pthread_mutex_lock(&S->a);
		while (turn != me)
			pthread_cond_wait(&turn_cv, &S->a);
		turn = !me;
		pthread_cond_broadcast(&turn_cv);
		pthread_mutex_unlock(&S->a);
	}
	return NULL;
}

static void cond_turns(void)
{
	pthread_t t[2];

	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, turn_main, (void *)(intptr_t)i);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
}

static void threads(int n)
{
	pthread_t *t = calloc((size_t)n, sizeof(*t));

	for (int i = 0; i < n; i++) {
		if (pthread_create(&t[i], NULL, thread_main, NULL))
			die("pthread_create");
	}
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	free(t);
}

int main(int argc, char **argv)
{
	const char *mode;
	pid_t pid;

	if (argc < 3) {
		fprintf(stderr, "usage: helper_probe_scenarios MODE SEG [N]\n");
		return 2;
	}
	mode = argv[1];
	seg = argv[2];
	if (argc > 3)
		N = atoi(argv[3]);
	if (!strcmp(mode, "fork-child")) {
		/* exec'd by mode "exec": the segment exists already */
		int fd = shm_open(seg, O_RDWR, 0);
		S = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		close(fd);
		shm_unlink(seg);
		lock_n(&S->a, N);
		return 0;
	}
	setup();
	if (!strcmp(mode, "abba")) {
		abba();
	} else if (!strcmp(mode, "deadlock")) {
		deadlock();
	} else if (!strcmp(mode, "abc")) {
		abc();
	} else if (!strcmp(mode, "fork")) {
		pid = fork();
		if (pid == 0) {
			lock_n(&S->a, N);
			_exit(0);
		}
		lock_n(&S->a, N);
		wait_child(pid);
	} else if (!strcmp(mode, "exec")) {
		lock_n(&S->a, N);
		execl("/proc/self/exe", argv[0], "fork-child", seg, argv[3],
		      (char *)NULL);
		die("exec");
	} else if (!strcmp(mode, "exec-noenv")) {
		/* An environment without the probe's variables (only
		 * ASAN_OPTIONS, which sanitized builds need): the probe puts
		 * itself back. */
		static char asan[512];
		char *env[] = {asan, NULL};
		const char *ao = getenv("ASAN_OPTIONS");
		snprintf(asan, sizeof(asan), "ASAN_OPTIONS=%s", ao ? ao : "");
		static char child_mode[] = "fork-child";
		char *args[] = {argv[0], child_mode, (char *)seg, argv[3],
				NULL};
		lock_n(&S->a, N);
		execve("/proc/self/exe", args, env);
		die("exec");
	} else if (!strcmp(mode, "threads")) {
		threads(100);
	} else if (!strcmp(mode, "contend")) {
		pid = fork();
		threads(2);
		if (pid == 0)
			_exit(0);
		wait_child(pid);
	} else if (!strcmp(mode, "cond")) {
		cond_turns();
	} else if (!strcmp(mode, "sysv") || !strcmp(mode, "anon") ||
		   !strcmp(mode, "mremap")) {
		other_segments(mode);
	} else if (!strcmp(mode, "killed")) {
		pid = fork();
		if (pid == 0) {
			lock_n(&S->a, N);
			sem_post(&S->sem);
			for (;;)
				pause();
		}
		sem_wait(&S->sem);
		kill(pid, SIGKILL);
		wait_child(pid);
	} else if (!strcmp(mode, "noexit")) {
		lock_n(&S->a, N);
		shm_unlink(seg);
		return 0; /* main returns: exit() is libc's own call */
	} else {
		misuse(mode);
	}
	shm_unlink(seg);
	return 0;
}
