/*
 * bench-sync: how long decoding the sync objects of a snapshot takes.
 *
 * Lays out 10,000 real glibc objects of mixed kinds (mutexes of every
 * type, some held, robust and PI ones, semaphores, rwlocks, condvars,
 * spinlocks, barriers, futex words) in one buffer, as a segment would hold
 * them, and times sync_decode() over all of them, then decode plus the
 * JSON of every entry.  Prints the median of the rounds.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sync.h"

#define NOBJ 10000
#define SLOT 64 /* bytes per object in the buffer, enough for every kind */

static const enum sync_kind mix[] = {
	SYNC_MUTEX,  SYNC_MUTEX, SYNC_MUTEX, SYNC_SEM,	   SYNC_SEM,
	SYNC_RWLOCK, SYNC_COND,	 SYNC_SPIN,  SYNC_BARRIER, SYNC_FUTEX,
};
#define NMIX (sizeof(mix) / sizeof(mix[0]))

static void init_mutex(void *p, int i)
{
	pthread_mutexattr_t ma;

	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_settype(&ma, i % 4);
	if (i % 7 == 0)
		pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	else if (i % 11 == 0)
		pthread_mutexattr_setprotocol(&ma, PTHREAD_PRIO_INHERIT);
	pthread_mutex_init(p, &ma);
	pthread_mutexattr_destroy(&ma);
	if (i % 3 == 0)
		pthread_mutex_lock(p);
}

static void init_obj(uint8_t *p, enum sync_kind k, int i)
{
	switch (k) {
	case SYNC_MUTEX:
		init_mutex(p, i);
		break;
	case SYNC_SEM:
		sem_init((sem_t *)p, 1, (unsigned)i % 5);
		break;
	case SYNC_RWLOCK:
		pthread_rwlock_init((pthread_rwlock_t *)p, NULL);
		if (i % 2)
			pthread_rwlock_rdlock((pthread_rwlock_t *)p);
		break;
	case SYNC_COND:
		pthread_cond_init((pthread_cond_t *)p, NULL);
		break;
	case SYNC_SPIN:
		pthread_spin_init((pthread_spinlock_t *)p, 1);
		break;
	case SYNC_BARRIER:
		pthread_barrier_init((pthread_barrier_t *)p, NULL, 4);
		break;
	default:
		memcpy(p, &i, sizeof(i));
		break;
	}
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

int main(int argc, char **argv)
{
	enum { ROUNDS = 101 };
	static double dec_ns[ROUNDS], json_ns[ROUNDS];
	struct sync_target t;
	uint8_t *buf;
	FILE *devnull;
	long states = 0;

	if (argc > 1 && !strcmp(argv[1], "--version")) {
		printf("bench-sync %s\n", SHMSCOPE_VERSION);
		return 0;
	}
	if (argc > 1) {
		printf("usage: bench-sync\n"
		       "Time sync_decode() over %d glibc objects of mixed "
		       "kinds.\n",
		       NOBJ);
		return strcmp(argv[1], "--help") ? 2 : 0;
	}
	buf = aligned_alloc(64, (size_t)NOBJ * SLOT);
	devnull = fopen("/dev/null", "w");
	if (!buf || !devnull) {
		fprintf(stderr, "bench-sync: %s\n", strerror(errno));
		return 1;
	}
	memset(buf, 0, (size_t)NOBJ * SLOT);
	for (int i = 0; i < NOBJ; i++)
		init_obj(buf + (size_t)i * SLOT, mix[i % NMIX], i);
	sync_target_host(&t);

	for (int r = 0; r < ROUNDS; r++) {
		struct sync_state s;
		struct json j;
		double t0 = now_ns();

		for (int i = 0; i < NOBJ; i++) {
			sync_decode(&t, mix[i % NMIX], buf + (size_t)i * SLOT,
				    SLOT, &s);
			states += s.state;
		}
		dec_ns[r] = now_ns() - t0;

		t0 = now_ns();
		json_init(&j, devnull, false);
		json_begin_arr(&j);
		for (int i = 0; i < NOBJ; i++) {
			sync_decode(&t, mix[i % NMIX], buf + (size_t)i * SLOT,
				    SLOT, &s);
			json_begin_obj(&j);
			sync_json(&j, &s);
			json_end_obj(&j);
		}
		json_end_arr(&j);
		fflush(devnull);
		json_ns[r] = now_ns() - t0;
	}
	double d = median(dec_ns, ROUNDS), js = median(json_ns, ROUNDS);

	printf("bench-sync: %d objects (mutex 30%%, sem 20%%, rwlock, cond, "
	       "spin, barrier, futex 10%% each), median of %d rounds\n",
	       NOBJ, ROUNDS);
	printf("  decode:        %8.1f ns/object  %8.1f us per 10k snapshot\n",
	       d / NOBJ, d / 1000.0);
	printf("  decode + JSON: %8.1f ns/object  %8.1f us per 10k snapshot\n",
	       js / NOBJ, js / 1000.0);
	fclose(devnull);
	free(buf);
	return states < 0;
}
