/*
 * bench_shim.c - libshmshim.so, the floor of the probe benchmark: the
 * least an LD_PRELOAD tracer can do per call.  Each hook calls the real
 * function, reads the cycle counter and appends a 32-byte record to a
 * per-thread buffer (a ring in TLS, overwritten when full: nothing is kept,
 * nothing is named, nothing is ordered).  Not installed.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdint.h>

#define EXPORT __attribute__((visibility("default")))
#define RING   4096

struct rec {
	uint64_t ts;
	uint64_t obj;
	uint64_t a, b;
};

static __thread struct {
	unsigned n;
	struct rec r[RING];
} buf __attribute__((tls_model("initial-exec")));

static int (*real_lock)(pthread_mutex_t *);
static int (*real_unlock)(pthread_mutex_t *);
static int (*real_trylock)(pthread_mutex_t *);
static int (*real_sem_wait)(sem_t *);
static int (*real_sem_post)(sem_t *);

__attribute__((constructor)) static void shim_init(void)
{
	real_lock = (int (*)(pthread_mutex_t *))dlsym(RTLD_NEXT,
						      "pthread_mutex_lock");
	real_unlock = (int (*)(pthread_mutex_t *))dlsym(RTLD_NEXT,
							"pthread_mutex_unlock");
	real_trylock = (int (*)(pthread_mutex_t *))dlsym(
		RTLD_NEXT, "pthread_mutex_trylock");
	real_sem_wait = (int (*)(sem_t *))dlsym(RTLD_NEXT, "sem_wait");
	real_sem_post = (int (*)(sem_t *))dlsym(RTLD_NEXT, "sem_post");
}

static inline void put(const void *obj, unsigned op, int r)
{
	struct rec *x = &buf.r[buf.n++ & (RING - 1)];

	x->ts = __builtin_ia32_rdtsc();
	x->obj = (uint64_t)(uintptr_t)obj;
	x->a = op;
	x->b = (uint64_t)r;
}

EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
	int r = real_lock(m);
	put(m, 1, r);
	return r;
}

EXPORT int pthread_mutex_unlock(pthread_mutex_t *m)
{
	int r = real_unlock(m);
	put(m, 2, r);
	return r;
}

EXPORT int pthread_mutex_trylock(pthread_mutex_t *m)
{
	int r = real_trylock(m);
	put(m, 3, r);
	return r;
}

EXPORT int sem_wait(sem_t *s)
{
	int r = real_sem_wait(s);
	put(s, 4, r);
	return r;
}

EXPORT int sem_post(sem_t *s)
{
	int r = real_sem_post(s);
	put(s, 5, r);
	return r;
}
