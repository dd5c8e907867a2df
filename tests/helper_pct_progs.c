/*
 * helper_pct_progs - small multi-process programs for the pct scheduler's tests
 * (tests/test_pct_*.sh).  Shared state lives in an anonymous shared
 * mapping inherited across fork, so no segment is left behind.
 *
 *   abba       two processes lock two mutexes in opposite orders once:
 *              a deadlock that needs one preemption (depth 2)
 *   order      P writes a = 1 then a = 2 in two critical sections, Q
 *              reads a twice; Q seeing 1 then 2 needs P, Q, P, Q: three
 *              ordering constraints, two preemptions (depth 3); exit 1
 *              when it happens
 *   det        three processes and two threads each hammer one counter:
 *              the schedule is all that differs between runs
 *   det1       the same, then exit 1 (shmfuzz keeps a failed run's
 *              folder, schedule.txt included)
 *   pipe       a child blocks on a pipe read between two sync points
 *              while holding the baton; the parent writes to it later
 *   forkkill   a child takes the baton and is SIGKILLed by its parent
 *              while holding it; another child forked mid-run carries on
 *   stuck      two processes each wait on a semaphore nobody posts
 *   timed      a sem_timedwait times out (nothing else can run), exit 0
 *   waits      a parent waits for a child (waitpid), a thread
 *              (pthread_join), a pipe (read) and SIGCHLD (sigtimedwait)
 *              while the others hammer a lock; exit 1 (to keep the
 *              folder: its schedule.txt)
 *   killwait   a parent waits for a child that a sibling SIGKILLs and
 *              for one that crashes (abort); exit 0 when it saw both
 *              die
 *   nohang     waitpid(WNOHANG) for a child blocked on a semaphore only
 *              the parent posts: 0 at once; then the real wait; exit 0
 *   abbalong   two processes take two mutexes in one order 300 times,
 *              and once (iteration 200 of one of them) in the other: an
 *              ABBA whose window is one step in about 2500
 *   unprobed   a parent waits for a child that exec'd an image the
 *              scheduler does not run (sleep 0.3, without SHMFUZZ_PCT)
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct shared {
	pthread_mutex_t m[2];
	sem_t s[2];
	volatile int a, r1, r2;
	volatile long count;
	volatile int flag;
	volatile pid_t victim;
};

static struct shared *S;

static void setup(void)
{
	pthread_mutexattr_t ma;

	S = mmap(NULL, sizeof(*S), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (S == MAP_FAILED) {
		perror("helper_pct_progs: mmap");
		exit(4);
	}
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(&S->m[0], &ma);
	pthread_mutex_init(&S->m[1], &ma);
	sem_init(&S->s[0], 1, 0);
	sem_init(&S->s[1], 1, 0);
}

/* Wait for every child; the worst exit status. */
static int reap(void)
{
	int st, worst = 0;

	while (wait(&st) > 0) {
		int x = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (x > worst)
			worst = x;
	}
	return worst;
}

static void cs(int i, void (*body)(void))
{
	pthread_mutex_lock(&S->m[i]);
	body();
	pthread_mutex_unlock(&S->m[i]);
}

static void set1(void)
{
	S->a = 1;
}
static void set2(void)
{
	S->a = 2;
}
static void read1(void)
{
	S->r1 = S->a;
}
static void read2(void)
{
	S->r2 = S->a;
}

static int order(void)
{
	pid_t q = fork();

	if (q == 0) {
		cs(0, read1);
		cs(0, read2);
		if (S->r1 == 1 && S->r2 == 2) {
			printf("Q saw a = 1 then 2: P Q P Q\n");
			fflush(stdout);
			_exit(1);
		}
		_exit(0);
	}
	cs(0, set1);
	cs(0, set2);
	return reap();
}

static int abba(void)
{
	pid_t q = fork();
	int first = q == 0 ? 1 : 0;

	pthread_mutex_lock(&S->m[first]);
	pthread_mutex_lock(&S->m[1 - first]);
	S->count++;
	pthread_mutex_unlock(&S->m[1 - first]);
	pthread_mutex_unlock(&S->m[first]);
	if (q == 0)
		_exit(0);
	return reap();
}

static void *hammer(void *arg)
{
	for (int i = 0; i < 20; i++) {
		pthread_mutex_lock(&S->m[0]);
		S->count++;
		pthread_mutex_unlock(&S->m[0]);
	}
	return arg;
}

static int det(void)
{
	for (int p = 0; p < 2; p++) {
		if (fork() == 0) {
			pthread_t th;
			pthread_create(&th, NULL, hammer, NULL);
			hammer(NULL);
			pthread_join(th, NULL);
			_exit(0);
		}
	}
	hammer(NULL);
	return reap();
}

static int det1(void)
{
	return det() ? 2 : 1;
}

static int pipe_block(void)
{
	int fd[2];
	char c;
	pid_t q;

	if (pipe(fd))
		return 4;
	q = fork();
	if (q == 0) {
		pthread_mutex_lock(&S->m[0]);
		S->count++;
		pthread_mutex_unlock(&S->m[0]);
		/* Blocks, holding the baton, outside the probe's view. */
		if (read(fd[0], &c, 1) != 1)
			_exit(3);
		pthread_mutex_lock(&S->m[0]);
		S->count++;
		pthread_mutex_unlock(&S->m[0]);
		_exit(0);
	}
	for (int i = 0; i < 50; i++) {
		pthread_mutex_lock(&S->m[0]);
		S->count++;
		pthread_mutex_unlock(&S->m[0]);
	}
	if (write(fd[1], "x", 1) != 1)
		return 4;
	return reap();
}

static int kill_pipe[2];

/* Outside the probe's view (blocked in read) when the victim writes:
 * kills it while the victim holds the baton. */
static void *killer(void *arg)
{
	char c;

	/* The victim's own word: the parent may not know the pid yet. */
	if (read(kill_pipe[0], &c, 1) == 1 && S->victim > 0)
		kill(S->victim, SIGKILL);
	return arg;
}

static int forkkill(void)
{
	pthread_t k;
	pid_t late, victim;

	if (pipe(kill_pipe))
		return 4;
	pthread_create(&k, NULL, killer, NULL);
	victim = fork();
	if (victim == 0) {
		S->victim = getpid();
		pthread_mutex_lock(&S->m[1]);
		S->flag = 1;
		pthread_mutex_unlock(&S->m[1]);
		if (write(kill_pipe[1], "x", 1) != 1)
			_exit(3);
		for (;;) /* holds the baton, no sync point */
			__asm__ __volatile__("" ::: "memory");
	}
	waitpid(victim, NULL, 0);
	pthread_join(k, NULL);
	/* A child forked after the death carries on with the parent. */
	late = fork();
	if (late == 0) {
		hammer(NULL);
		_exit(0);
	}
	hammer(NULL);
	if (reap())
		return 1;
	return S->flag == 1 && S->count == 40 ? 0 : 1;
}

static int stuck(void)
{
	pid_t q = fork();

	sem_wait(&S->s[q == 0 ? 0 : 1]);
	if (q == 0)
		_exit(0);
	return reap();
}

static int timed(void)
{
	struct timespec ts;
	int r;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 3600;
	r = sem_timedwait(&S->s[0], &ts);
	if (r == 0 || errno != ETIMEDOUT) {
		printf("sem_timedwait: %d, %s\n", r, strerror(errno));
		return 1;
	}
	return 0;
}

static int waits(void)
{
	int fd[2], st = 0, sig;
	pthread_t th;
	pid_t a, b, c;
	sigset_t set;
	char ch;

	if (pipe(fd))
		return 4;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	a = fork();
	if (a == 0) {
		hammer(NULL);
		_exit(0);
	}
	pthread_create(&th, NULL, hammer, NULL);
	b = fork();
	if (b == 0) {
		hammer(NULL);
		if (write(fd[1], "x", 1) != 1)
			_exit(3);
		hammer(NULL);
		_exit(0);
	}
	if (read(fd[0], &ch, 1) != 1)
		return 4;
	hammer(NULL);
	if (waitpid(a, &st, 0) != a || st)
		return 4;
	pthread_join(th, NULL);
	sig = sigwaitinfo(&set, NULL);
	if (sig != SIGCHLD)
		return 4;
	c = fork();
	if (c == 0) {
		hammer(NULL);
		_exit(0);
	}
	if (reap())
		return 4;
	printf("count %ld\n", S->count);
	return 1;
}

static int killwait(void)
{
	pid_t victim, killer, crash;
	int st, seen = 0;

	victim = fork();
	if (victim == 0) {
		sem_wait(&S->s[0]); /* nobody posts */
		_exit(0);
	}
	killer = fork();
	if (killer == 0) {
		hammer(NULL);
		kill(victim, SIGKILL);
		_exit(0);
	}
	if (waitpid(victim, &st, 0) == victim && WIFSIGNALED(st) &&
	    WTERMSIG(st) == SIGKILL)
		seen++;
	crash = fork();
	if (crash == 0) {
		hammer(NULL);
		abort(); /* not SIGSEGV: ASan would turn that into an exit */
	}
	if (waitpid(crash, &st, 0) == crash && WIFSIGNALED(st) &&
	    WTERMSIG(st) == SIGABRT)
		seen++;
	waitpid(killer, &st, 0);
	printf("saw %d of 2 die\n", seen);
	return seen == 2 ? 0 : 1;
}

static int nohang(void)
{
	pid_t q = fork();
	int st = -1;
	pid_t r;

	if (q == 0) {
		sem_wait(&S->s[0]);
		_exit(0);
	}
	hammer(NULL);
	r = waitpid(q, &st, WNOHANG);
	if (r != 0) {
		printf("WNOHANG: %d\n", (int)r);
		return 1;
	}
	sem_post(&S->s[0]);
	if (waitpid(q, &st, 0) != q || st)
		return 1;
	return 0;
}

static int abbalong(void)
{
	pid_t q = fork();

	for (int i = 0; i < 300; i++) {
		int first = q == 0 && i == 200 ? 1 : 0;

		pthread_mutex_lock(&S->m[first]);
		pthread_mutex_lock(&S->m[1 - first]);
		S->count++;
		pthread_mutex_unlock(&S->m[1 - first]);
		pthread_mutex_unlock(&S->m[first]);
		sched_yield();
	}
	if (q == 0)
		_exit(0);
	return reap();
}

static int unprobed(void)
{
	static char sleep_[] = "sleep", secs[] = "0.3", path[] = "PATH=/bin";
	char *const argv[] = {sleep_, secs, NULL};
	char *const envp[] = {path, NULL};
	pid_t q = fork();
	int st = -1;

	if (q == 0) {
		execve("/bin/sleep", argv, envp);
		_exit(127);
	}
	hammer(NULL);
	if (waitpid(q, &st, 0) != q || st) {
		printf("sleep: status %#x\n", st);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(void);
	} modes[] = {
		{"abba", abba},		{"order", order},
		{"det", det},		{"det1", det1},
		{"pipe", pipe_block},	{"forkkill", forkkill},
		{"stuck", stuck},	{"timed", timed},
		{"waits", waits},	{"killwait", killwait},
		{"nohang", nohang},	{"unprobed", unprobed},
		{"abbalong", abbalong},
	};

	if (argc != 2) {
		fprintf(stderr, "usage: helper_pct_progs MODE\n");
		return 2;
	}
	setup();
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(argv[1], modes[i].name))
			return modes[i].fn();
	fprintf(stderr, "helper_pct_progs: unknown mode %s\n", argv[1]);
	return 2;
}
