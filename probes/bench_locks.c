/*
 * bench_locks - the workloads of the probe benchmark (probes/bench_probe.sh).
 *
 *   bench_locks uncontended N   one thread, a private mutex, N lock/unlock
 *   bench_locks paced N         the same with some work (about 100 ns)
 *                               between the unlock and the next lock: a
 *                               program that does something else too
 *   bench_locks contended N     two threads, one mutex, N lock/unlock each
 *   bench_locks ring N          two processes, a shm ring of 16 slots with
 *                               two semaphores and a mutex, N messages
 *
 * Prints "events E cpu_ns C wall_ns W user_ns U minflt F": the CPU time
 * (user + system, all threads and processes of the workload) spent in the
 * measured part, how many lock/semaphore calls it made (each is one probe
 * event), the user CPU time alone, and the page faults taken meanwhile
 * (this process only).
 */
#include <fcntl.h>
#include <sched.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long n_iter;

static uint64_t ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Pin the caller to CPU N (mod the CPUs we may use): the two sides of a
 * contended workload on two CPUs every run, or the figures swing with
 * the scheduler's placement more than with what is measured. */
static void pin(int n)
{
	cpu_set_t allowed, one;
	int k = 0;

	if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0)
		return;
	n %= CPU_COUNT(&allowed);
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET(c, &allowed) || k++ != n)
			continue;
		CPU_ZERO(&one);
		CPU_SET(c, &one);
		sched_setaffinity(0, sizeof(one), &one);
		return;
	}
}

static void *uncontended_loop(void *arg)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

	(void)arg;
	for (long i = 0; i < n_iter; i++) {
		pthread_mutex_lock(&m);
		__asm__ __volatile__("" ::: "memory");
		pthread_mutex_unlock(&m);
	}
	return NULL;
}

/* Work outside the lock: a chain of dependent multiplications that the
 * compiler cannot drop. */
static void work(void)
{
	static volatile uint64_t sink;
	uint64_t x = sink | 1;

	for (int i = 0; i < 64; i++)
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
	sink = x;
}

static void paced_loop(void)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

	for (long i = 0; i < n_iter; i++) {
		pthread_mutex_lock(&m);
		__asm__ __volatile__("" ::: "memory");
		pthread_mutex_unlock(&m);
		work();
	}
}

static pthread_mutex_t shared_m = PTHREAD_MUTEX_INITIALIZER;
static volatile long shared_counter;

static void *contended_loop(void *arg)
{
	pin((int)(intptr_t)arg);
	for (long i = 0; i < n_iter; i++) {
		pthread_mutex_lock(&shared_m);
		shared_counter++;
		pthread_mutex_unlock(&shared_m);
	}
	return NULL;
}

#define SLOTS 16

struct ring {
	pthread_mutex_t lock;
	sem_t empty, filled;
	unsigned head, tail;
	long slot[SLOTS];
	uint64_t child_cpu;
	uint64_t child_user;
};

/* User CPU time of this process, ns. */
static uint64_t user_ns(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)ru.ru_utime.tv_sec * 1000000000ULL +
	       (uint64_t)ru.ru_utime.tv_usec * 1000;
}

static uint64_t ring_user;

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

static void ring_put(struct ring *r, long v)
{
	sem_wait(&r->empty);
	pthread_mutex_lock(&r->lock);
	r->slot[r->head++ % SLOTS] = v;
	pthread_mutex_unlock(&r->lock);
	sem_post(&r->filled);
}

static long ring_get(struct ring *r)
{
	long v;

	sem_wait(&r->filled);
	pthread_mutex_lock(&r->lock);
	v = r->slot[r->tail++ % SLOTS];
	pthread_mutex_unlock(&r->lock);
	sem_post(&r->empty);
	return v;
}

static int run_ring(uint64_t *cpu)
{
	struct ring *r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pthread_mutexattr_t a;
	uint64_t c0;
	long sum = 0;
	pid_t pid;
	int st;

	if (r == MAP_FAILED)
		return -1;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(&r->lock, &a);
	sem_init(&r->empty, 1, SLOTS);
	sem_init(&r->filled, 1, 0);
	pid = fork();
	if (pid == 0) {
		pin(1);
		uint64_t u0 = user_ns();
		c0 = ns(CLOCK_PROCESS_CPUTIME_ID);
		for (long i = 0; i < n_iter; i++)
			ring_put(r, i);
		r->child_cpu = ns(CLOCK_PROCESS_CPUTIME_ID) - c0;
		r->child_user = user_ns() - u0;
		_exit(0);
	}
	pin(0);
	ring_user = user_ns();
	c0 = ns(CLOCK_PROCESS_CPUTIME_ID);
	for (long i = 0; i < n_iter; i++)
		sum += ring_get(r);
	*cpu = ns(CLOCK_PROCESS_CPUTIME_ID) - c0;
	ring_user = user_ns() - ring_user;
	waitpid(pid, &st, 0);
	*cpu += r->child_cpu;
	ring_user += r->child_user;
	if (sum != n_iter * (n_iter - 1) / 2)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t w0, c0, u0, cpu = 0, events, user;
	pthread_t t[2];
	long f0;

	if (argc != 3) {
		fprintf(stderr,
			"usage: bench_locks uncontended|paced|contended|ring "
			"N\n");
		return 2;
	}
	n_iter = atol(argv[2]);
	w0 = ns(CLOCK_MONOTONIC);
	f0 = minflt();
	u0 = user_ns();
	c0 = ns(CLOCK_PROCESS_CPUTIME_ID);
	if (!strcmp(argv[1], "uncontended")) {
		uncontended_loop(NULL);
		events = 2 * (uint64_t)n_iter;
	} else if (!strcmp(argv[1], "paced")) {
		paced_loop();
		events = 2 * (uint64_t)n_iter;
	} else if (!strcmp(argv[1], "contended")) {
		for (int i = 0; i < 2; i++)
			pthread_create(&t[i], NULL, contended_loop,
				       (void *)(intptr_t)i);
		for (int i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		if (shared_counter != 2 * n_iter)
			return 1;
		events = 4 * (uint64_t)n_iter;
	} else if (!strcmp(argv[1], "ring")) {
		if (run_ring(&cpu) < 0)
			return 1;
		events = 8 * (uint64_t)n_iter;
	} else {
		fprintf(stderr, "bench_locks: unknown workload %s\n", argv[1]);
		return 2;
	}
	if (!cpu) {
		cpu = ns(CLOCK_PROCESS_CPUTIME_ID) - c0;
		user = user_ns() - u0;
	} else {
		user = ring_user;
	}
	printf("events %llu cpu_ns %llu wall_ns %llu user_ns %llu minflt %ld\n",
	       (unsigned long long)events, (unsigned long long)cpu,
	       (unsigned long long)(ns(CLOCK_MONOTONIC) - w0),
	       (unsigned long long)user, minflt() - f0);
	return 0;
}
