/*
 * noise.c - bugnoise.so, a crude stand-in for `shmfuzz --strategy noise`
 * used to measure the planted-bug suite before the fuzzer exists:
 *
 *   LD_PRELOAD=build/lib/bugnoise.so build/bin/bug-abba
 *
 * Before and after pthread_mutex_lock/unlock, sem_wait/trywait/post and
 * ftruncate it sleeps, with probability BUGNOISE_PCT percent (default 10),
 * for up to BUGNOISE_US microseconds (default 200).  Not reproducible
 * (seeded from the clock and the pid), not a probe: no recording, no
 * replay.  It exists to show that a sleep at a program's sync points opens
 * its race window, which is what the real noise strategy relies on.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

static __thread uint64_t noise_state;
static unsigned noise_pct = 10, noise_us = 200;

__attribute__((constructor)) static void noise_init(void)
{
	const char *s;

	s = getenv("BUGNOISE_PCT");
	if (s)
		noise_pct = (unsigned)strtoul(s, NULL, 10);
	s = getenv("BUGNOISE_US");
	if (s)
		noise_us = (unsigned)strtoul(s, NULL, 10);
	if (noise_us == 0)
		noise_us = 1;
}

static void noise(void)
{
	int saved = errno;
	uint64_t x = noise_state;

	if (!x) {
		struct timespec t;

		clock_gettime(CLOCK_MONOTONIC, &t);
		x = ((uint64_t)t.tv_nsec ^ ((uint64_t)getpid() << 20)) | 1;
	}
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	noise_state = x;
	if (x % 100 < noise_pct) {
		struct timespec ts = {
			.tv_sec = 0,
			.tv_nsec = (long)((x >> 20) % noise_us) * 1000,
		};

		nanosleep(&ts, NULL);
	}
	errno = saved;
}

/* The real function, looked up once; every call is framed by noise. */
#define NOISE_WRAP(ret, name, params, args)                        \
	ret name params                                            \
	{                                                          \
		static ret(*real) params;                          \
		ret r;                                             \
		int saved;                                         \
                                                                   \
		if (!real)                                         \
			*(void **)&real = dlsym(RTLD_NEXT, #name); \
		noise();                                           \
		r = real args;                                     \
		saved = errno;                                     \
		noise();                                           \
		errno = saved;                                     \
		return r;                                          \
	}

NOISE_WRAP(int, pthread_mutex_lock, (pthread_mutex_t * m), (m))
NOISE_WRAP(int, pthread_mutex_unlock, (pthread_mutex_t * m), (m))
NOISE_WRAP(int, sem_wait, (sem_t * s), (s))
NOISE_WRAP(int, sem_trywait, (sem_t * s), (s))
NOISE_WRAP(int, sem_post, (sem_t * s), (s))
NOISE_WRAP(int, ftruncate, (int fd, off_t len), (fd, len))
