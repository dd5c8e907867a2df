/*
 * probe_hooks.c - the functions libshmprobe.so interposes.
 *
 * Each hook keeps the real function's contract: same return value, same
 * errno (saved around anything the probe does), same blocking.  A blocking
 * acquisition first tries the non-blocking form: success is the
 * uncontended case (one timestamp, one record); failure with EBUSY/EAGAIN
 * means it will wait, which is recorded as a *_BLOCK event before blocking
 * (so a hang shows who waits on what) and the wait time after.
 *
 * Timestamps: before a release with probe_now(), after an acquisition with
 * probe_now_after(), so that for one lock the release always sorts before
 * the acquisition it allowed, whatever the CPUs.
 */
#include "probe.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define RA     __builtin_return_address(0)

/* A blocking call: under pct, the scheduler's emulation PCT_CALL (which
 * never blocks in the kernel holding the baton), else the real one. */
#define PCT_OR(t, pct_call, real_call) \
	(PROBE_PCT_ON() && probe_pct_scheduled(t) ? (pct_call) : (real_call))

/* Noise before an initialisation (not itself recorded before the call). */
#define NOISE_BEFORE(t, cls, op)                                   \
	do {                                                       \
		if (unlikely(probe_noise) && probe_on((t), (cls))) \
			probe_noise_slow((t), (op), 0);            \
	} while (0)

/* Mutex type bits, from the mutex itself: the process that locks a shared
 * mutex is often not the one that initialised it. */
static inline unsigned mutex_flags(const pthread_mutex_t *m)
{
	int kind = m->__data.__kind;
	unsigned f = 0;

	if ((kind & 3) == PTHREAD_MUTEX_RECURSIVE)
		f |= TRACE_F_RECURSIVE;
	if ((kind & 3) == PTHREAD_MUTEX_ERRORCHECK)
		f |= TRACE_F_ERRORCHECK;
	if (kind & 16)
		f |= TRACE_F_ROBUST;
	if (kind & 128)
		f |= TRACE_F_PSHARED;
	return f;
}

/* ---- mutex ------------------------------------------------------------------
 */

EXPORT int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a)
{
	struct probe_thread *t = &probe_tls;
	int r;

	NOISE_BEFORE(t, TRACE_CLASS_MUTEX, TRACE_MUTEX_INIT);
	r = REAL(pthread_mutex_init)(m, a);
	if (probe_on(t, TRACE_CLASS_MUTEX)) {
		probe_emit(t, TRACE_MUTEX_INIT, r ? 0 : mutex_flags(m), r, m,
			   probe_now(), 0, probe_site(t, RA));
		NOISE(t, TRACE_MUTEX_INIT, 1);
	}
	return r;
}

EXPORT int pthread_mutex_destroy(pthread_mutex_t *m)
{
	struct probe_thread *t = &probe_tls;
	uint64_t ts;
	int r;

	if (!probe_on(t, TRACE_CLASS_MUTEX))
		return REAL(pthread_mutex_destroy)(m);
	ts = probe_now();
	r = REAL(pthread_mutex_destroy)(m);
	probe_emit(t, TRACE_MUTEX_DESTROY, 0, r, m, ts, 0, probe_site(t, RA));
	return r;
}

/* lock, timedlock and clocklock share this: BLOCKING is the real call. */
/* Would the lock block?  A plain load of the lock word (0 = free): no
 * extra atomic operation, no extra cache-line transfer.  A lock taken
 * between this look and the real call blocks unseen (counted as not
 * contended, with its wait): "contended" means "held when the call
 * began". */
static inline bool mutex_busy(const pthread_mutex_t *m)
{
	return __atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED) != 0;
}

/* lock, timedlock and clocklock share this: BLOCKING is the real call. */
#define MUTEX_ACQUIRE(t, m, abs, blocking_call)                             \
	do {                                                                \
		unsigned fl_ = mutex_flags(m);                              \
		uint64_t t0_ = 0, t1_;                                      \
		uint32_t w_ = 0;                                            \
		int r_;                                                     \
		NOISE(t, TRACE_MUTEX_LOCK, 0);                              \
		if (unlikely(mutex_busy(m))) {                              \
			t0_ = probe_now();                                  \
			probe_emit(t, TRACE_MUTEX_BLOCK, fl_, 0, m, t0_, 0, \
				   probe_site(t, RA));                      \
			fl_ |= TRACE_F_CONTENDED;                           \
		}                                                           \
		r_ = PCT_OR(t, probe_pct_mutex_lock(t, m, abs),             \
			    blocking_call);                                 \
		t1_ = probe_now_after();                                    \
		if (fl_ & TRACE_F_CONTENDED)                                \
			w_ = probe_wait(t1_ - t0_);                         \
		probe_emit(t, TRACE_MUTEX_LOCK, fl_, r_, m, t1_, w_,        \
			   PROBE_STACK(t, RA));                             \
		NOISE(t, TRACE_MUTEX_LOCK, 1);                              \
		return r_;                                                  \
	} while (0)

EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
	struct probe_thread *t = &probe_tls;

	if (!probe_on(t, TRACE_CLASS_MUTEX))
		return REAL(pthread_mutex_lock)(m);
	MUTEX_ACQUIRE(t, m, NULL, REAL(pthread_mutex_lock)(m));
}

EXPORT int pthread_mutex_timedlock(pthread_mutex_t *m,
				   const struct timespec *abstime)
{
	struct probe_thread *t = &probe_tls;

	if (!probe_on(t, TRACE_CLASS_MUTEX))
		return REAL(pthread_mutex_timedlock)(m, abstime);
	MUTEX_ACQUIRE(t, m, abstime, REAL(pthread_mutex_timedlock)(m, abstime));
}

EXPORT int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clk,
				   const struct timespec *abstime)
{
	struct probe_thread *t = &probe_tls;

	if (!REAL(pthread_mutex_clocklock))
		return ENOSYS;
	if (!probe_on(t, TRACE_CLASS_MUTEX))
		return real_pthread_mutex_clocklock(m, clk, abstime);
	MUTEX_ACQUIRE(t, m, abstime,
		      real_pthread_mutex_clocklock(m, clk, abstime));
}

EXPORT int pthread_mutex_trylock(pthread_mutex_t *m)
{
	struct probe_thread *t = &probe_tls;
	uint64_t ts;
	int r;

	if (!probe_on(t, TRACE_CLASS_MUTEX))
		return REAL(pthread_mutex_trylock)(m);
	NOISE(t, TRACE_MUTEX_TRYLOCK, 0);
	r = REAL(pthread_mutex_trylock)(m);
	ts = probe_now_after();
	probe_emit(t, TRACE_MUTEX_TRYLOCK, mutex_flags(m), r, m, ts, 0,
		   r == 0 || r == EOWNERDEAD ? PROBE_STACK(t, RA)
					     : probe_site(t, RA));
	TRIED(t, TRACE_MUTEX_TRYLOCK, r != 0);
	return r;
}

/* Releases are recorded before they happen: once the lock is free
 * another process may act on it, even kill this one, and the record must
 * be there first. */
EXPORT int pthread_mutex_unlock(pthread_mutex_t *m)
{
	struct probe_thread *t = &probe_tls;
	struct trace_event *ev;
	unsigned fl;
	int r;

	if (!probe_on(t, TRACE_CLASS_MUTEX))
		return REAL(pthread_mutex_unlock)(m);
	NOISE(t, TRACE_MUTEX_UNLOCK, 0);
	fl = mutex_flags(m);
	ev = probe_emit(t, TRACE_MUTEX_UNLOCK, fl, 0, m, probe_now(), 0,
			probe_site(t, RA));
	r = REAL(pthread_mutex_unlock)(m);
	probe_result(ev, r);
	RELEASED(t, TRACE_MUTEX_UNLOCK, m);
	return r;
}

EXPORT int pthread_mutex_consistent(pthread_mutex_t *m)
{
	struct probe_thread *t = &probe_tls;
	int r = REAL(pthread_mutex_consistent)(m);

	if (probe_on(t, TRACE_CLASS_MUTEX))
		probe_emit(t, TRACE_MUTEX_CONSISTENT, mutex_flags(m), r, m,
			   probe_now(), 0, probe_site(t, RA));
	return r;
}

/* ---- rwlock
 * ------------------------------------------------------------------ */

EXPORT int pthread_rwlock_init(pthread_rwlock_t *l,
			       const pthread_rwlockattr_t *a)
{
	struct probe_thread *t = &probe_tls;
	int r;

	NOISE_BEFORE(t, TRACE_CLASS_RWLOCK, TRACE_RW_INIT);
	r = REAL(pthread_rwlock_init)(l, a);
	if (probe_on(t, TRACE_CLASS_RWLOCK)) {
		probe_emit(t, TRACE_RW_INIT, 0, r, l, probe_now(), 0,
			   probe_site(t, RA));
		NOISE(t, TRACE_RW_INIT, 1);
	}
	return r;
}

EXPORT int pthread_rwlock_destroy(pthread_rwlock_t *l)
{
	struct probe_thread *t = &probe_tls;
	uint64_t ts;
	int r;

	if (!probe_on(t, TRACE_CLASS_RWLOCK))
		return REAL(pthread_rwlock_destroy)(l);
	ts = probe_now();
	r = REAL(pthread_rwlock_destroy)(l);
	probe_emit(t, TRACE_RW_DESTROY, 0, r, l, ts, 0, probe_site(t, RA));
	return r;
}

#define RW_ACQUIRE(t, l, op, abs, trycall, blocking_call)                      \
	do {                                                                   \
		unsigned fl_ = 0;                                              \
		uint64_t t0_, t1_;                                             \
		uint32_t w_ = 0;                                               \
		int r_;                                                        \
		NOISE(t, op, 0);                                               \
		r_ = trycall;                                                  \
		if (r_ == EBUSY) {                                             \
			t0_ = probe_now();                                     \
			probe_emit(t, TRACE_RW_BLOCK, 0, 0, l, t0_, 0,         \
				   probe_site(t, RA));                         \
			r_ = PCT_OR(t,                                         \
				    probe_pct_rwlock(                          \
					    t, l, op == TRACE_RW_WRLOCK, abs), \
				    blocking_call);                            \
			t1_ = probe_now_after();                               \
			w_ = probe_wait(t1_ - t0_);                            \
			fl_ |= TRACE_F_CONTENDED;                              \
		} else {                                                       \
			t1_ = probe_now_after();                               \
		}                                                              \
		probe_emit(t, op, fl_, r_, l, t1_, w_, PROBE_STACK(t, RA));    \
		NOISE(t, op, 1);                                               \
		return r_;                                                     \
	} while (0)

EXPORT int pthread_rwlock_rdlock(pthread_rwlock_t *l)
{
	struct probe_thread *t = &probe_tls;

	if (!probe_on(t, TRACE_CLASS_RWLOCK))
		return REAL(pthread_rwlock_rdlock)(l);
	RW_ACQUIRE(t, l, TRACE_RW_RDLOCK, NULL,
		   REAL(pthread_rwlock_tryrdlock)(l),
		   REAL(pthread_rwlock_rdlock)(l));
}

EXPORT int pthread_rwlock_wrlock(pthread_rwlock_t *l)
{
	struct probe_thread *t = &probe_tls;

	if (!probe_on(t, TRACE_CLASS_RWLOCK))
		return REAL(pthread_rwlock_wrlock)(l);
	RW_ACQUIRE(t, l, TRACE_RW_WRLOCK, NULL,
		   REAL(pthread_rwlock_trywrlock)(l),
		   REAL(pthread_rwlock_wrlock)(l));
}

EXPORT int pthread_rwlock_timedrdlock(pthread_rwlock_t *l,
				      const struct timespec *abstime)
{
	struct probe_thread *t = &probe_tls;

	if (!probe_on(t, TRACE_CLASS_RWLOCK))
		return REAL(pthread_rwlock_timedrdlock)(l, abstime);
	RW_ACQUIRE(t, l, TRACE_RW_RDLOCK, abstime,
		   REAL(pthread_rwlock_tryrdlock)(l),
		   REAL(pthread_rwlock_timedrdlock)(l, abstime));
}

EXPORT int pthread_rwlock_timedwrlock(pthread_rwlock_t *l,
				      const struct timespec *abstime)
{
	struct probe_thread *t = &probe_tls;

	if (!probe_on(t, TRACE_CLASS_RWLOCK))
		return REAL(pthread_rwlock_timedwrlock)(l, abstime);
	RW_ACQUIRE(t, l, TRACE_RW_WRLOCK, abstime,
		   REAL(pthread_rwlock_trywrlock)(l),
		   REAL(pthread_rwlock_timedwrlock)(l, abstime));
}

EXPORT int pthread_rwlock_clockrdlock(pthread_rwlock_t *l, clockid_t clk,
				      const struct timespec *abstime)
{
	struct probe_thread *t = &probe_tls;

	if (!REAL(pthread_rwlock_clockrdlock))
		return ENOSYS;
	if (!probe_on(t, TRACE_CLASS_RWLOCK))
		return real_pthread_rwlock_clockrdlock(l, clk, abstime);
	RW_ACQUIRE(t, l, TRACE_RW_RDLOCK, abstime,
		   REAL(pthread_rwlock_tryrdlock)(l),
		   real_pthread_rwlock_clockrdlock(l, clk, abstime));
}

EXPORT int pthread_rwlock_clockwrlock(pthread_rwlock_t *l, clockid_t clk,
				      const struct timespec *abstime)
{
	struct probe_thread *t = &probe_tls;

	if (!REAL(pthread_rwlock_clockwrlock))
		return ENOSYS;
	if (!probe_on(t, TRACE_CLASS_RWLOCK))
		return real_pthread_rwlock_clockwrlock(l, clk, abstime);
	RW_ACQUIRE(t, l, TRACE_RW_WRLOCK, abstime,
		   REAL(pthread_rwlock_trywrlock)(l),
		   real_pthread_rwlock_clockwrlock(l, clk, abstime));
}

EXPORT int pthread_rwlock_tryrdlock(pthread_rwlock_t *l)
{
	struct probe_thread *t = &probe_tls;
	int r;

	if (!probe_on(t, TRACE_CLASS_RWLOCK))
		return REAL(pthread_rwlock_tryrdlock)(l);
	NOISE(t, TRACE_RW_TRYRDLOCK, 0);
	r = REAL(pthread_rwlock_tryrdlock)(l);
	probe_emit(t, TRACE_RW_TRYRDLOCK, 0, r, l, probe_now_after(), 0,
		   r ? probe_site(t, RA) : PROBE_STACK(t, RA));
	TRIED(t, TRACE_RW_TRYRDLOCK, r != 0);
	return r;
}

EXPORT int pthread_rwlock_trywrlock(pthread_rwlock_t *l)
{
	struct probe_thread *t = &probe_tls;
	int r;

	if (!probe_on(t, TRACE_CLASS_RWLOCK))
		return REAL(pthread_rwlock_trywrlock)(l);
	NOISE(t, TRACE_RW_TRYWRLOCK, 0);
	r = REAL(pthread_rwlock_trywrlock)(l);
	probe_emit(t, TRACE_RW_TRYWRLOCK, 0, r, l, probe_now_after(), 0,
		   r ? probe_site(t, RA) : PROBE_STACK(t, RA));
	TRIED(t, TRACE_RW_TRYWRLOCK, r != 0);
	return r;
}

EXPORT int pthread_rwlock_unlock(pthread_rwlock_t *l)
{
	struct probe_thread *t = &probe_tls;
	struct trace_event *ev;
	int r;

	if (!probe_on(t, TRACE_CLASS_RWLOCK))
		return REAL(pthread_rwlock_unlock)(l);
	NOISE(t, TRACE_RW_UNLOCK, 0);
	ev = probe_emit(t, TRACE_RW_UNLOCK, 0, 0, l, probe_now(), 0,
			probe_site(t, RA));
	r = REAL(pthread_rwlock_unlock)(l);
	probe_result(ev, r);
	RELEASED(t, TRACE_RW_UNLOCK, l);
	return r;
}

/* ---- condvar
 * ------------------------------------------------------------------ */

EXPORT int pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *a)
{
	struct probe_thread *t = &probe_tls;
	int r;

	NOISE_BEFORE(t, TRACE_CLASS_COND, TRACE_COND_INIT);
	r = REAL(pthread_cond_init)(c, a);
	if (probe_on(t, TRACE_CLASS_COND)) {
		probe_emit(t, TRACE_COND_INIT, 0, r, c, probe_now(), 0,
			   probe_site(t, RA));
		NOISE(t, TRACE_COND_INIT, 1);
	}
	return r;
}

EXPORT int pthread_cond_destroy(pthread_cond_t *c)
{
	struct probe_thread *t = &probe_tls;
	int r = REAL(pthread_cond_destroy)(c);

	if (probe_on(t, TRACE_CLASS_COND))
		probe_emit(t, TRACE_COND_DESTROY, 0, r, c, probe_now(), 0,
			   probe_site(t, RA));
	return r;
}

/* The mutex is released inside the wait and held again after it: record
 * both, so lock ownership stays right. */
#define COND_WAIT(t, c, m, abs, call)                                        \
	do {                                                                 \
		unsigned fl_ = mutex_flags(m) | TRACE_F_COND;                \
		bool mu_ = probe_on(t, TRACE_CLASS_MUTEX);                   \
		uint64_t t0_, t1_;                                           \
		int r_;                                                      \
		NOISE(t, TRACE_COND_WAIT, 0);                                \
		t0_ = probe_now();                                           \
		if (mu_)                                                     \
			probe_emit(t, TRACE_MUTEX_UNLOCK, fl_, 0, m, t0_, 0, \
				   probe_site(t, RA));                       \
		r_ = PCT_OR(t, probe_pct_cond_wait(t, c, m, abs), call);     \
		t1_ = probe_now_after();                                     \
		probe_emit(t, TRACE_COND_WAIT, 0, r_, c, t1_,                \
			   probe_wait(t1_ - t0_), probe_site(t, RA));        \
		if (mu_)                                                     \
			probe_emit(t, TRACE_MUTEX_LOCK, fl_,                 \
				   r_ == EOWNERDEAD ? r_ : 0, m, t1_, 0,     \
				   PROBE_STACK(t, RA));                      \
		NOISE(t, TRACE_COND_WAIT, 1);                                \
		return r_;                                                   \
	} while (0)

EXPORT int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
	struct probe_thread *t = &probe_tls;

	if (!probe_on(t, TRACE_CLASS_COND))
		return REAL(pthread_cond_wait)(c, m);
	COND_WAIT(t, c, m, NULL, REAL(pthread_cond_wait)(c, m));
}

EXPORT int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
				  const struct timespec *abstime)
{
	struct probe_thread *t = &probe_tls;

	if (!probe_on(t, TRACE_CLASS_COND))
		return REAL(pthread_cond_timedwait)(c, m, abstime);
	COND_WAIT(t, c, m, abstime,
		  REAL(pthread_cond_timedwait)(c, m, abstime));
}

EXPORT int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m,
				  clockid_t clk, const struct timespec *abstime)
{
	struct probe_thread *t = &probe_tls;

	if (!REAL(pthread_cond_clockwait))
		return ENOSYS;
	if (!probe_on(t, TRACE_CLASS_COND))
		return real_pthread_cond_clockwait(c, m, clk, abstime);
	COND_WAIT(t, c, m, abstime,
		  real_pthread_cond_clockwait(c, m, clk, abstime));
}

EXPORT int pthread_cond_signal(pthread_cond_t *c)
{
	struct probe_thread *t = &probe_tls;
	uint64_t ts;
	int r;

	if (!probe_on(t, TRACE_CLASS_COND))
		return REAL(pthread_cond_signal)(c);
	NOISE(t, TRACE_COND_SIGNAL, 0);
	ts = probe_now();
	r = REAL(pthread_cond_signal)(c);
	probe_emit(t, TRACE_COND_SIGNAL, 0, r, c, ts, 0, probe_site(t, RA));
	RELEASED(t, TRACE_COND_SIGNAL, c);
	return r;
}

EXPORT int pthread_cond_broadcast(pthread_cond_t *c)
{
	struct probe_thread *t = &probe_tls;
	uint64_t ts;
	int r;

	if (!probe_on(t, TRACE_CLASS_COND))
		return REAL(pthread_cond_broadcast)(c);
	NOISE(t, TRACE_COND_BROADCAST, 0);
	ts = probe_now();
	r = REAL(pthread_cond_broadcast)(c);
	probe_emit(t, TRACE_COND_BROADCAST, 0, r, c, ts, 0, probe_site(t, RA));
	RELEASED(t, TRACE_COND_BROADCAST, c);
	return r;
}

/* ---- spinlock
 * ------------------------------------------------------------------ */

EXPORT int pthread_spin_init(pthread_spinlock_t *l, int pshared)
{
	struct probe_thread *t = &probe_tls;
	int r;

	NOISE_BEFORE(t, TRACE_CLASS_SPIN, TRACE_SPIN_INIT);
	r = REAL(pthread_spin_init)(l, pshared);
	if (probe_on(t, TRACE_CLASS_SPIN)) {
		probe_emit(
			t, TRACE_SPIN_INIT,
			pshared == PTHREAD_PROCESS_SHARED ? TRACE_F_PSHARED : 0,
			r, (const void *)l, probe_now(), 0, probe_site(t, RA));
		NOISE(t, TRACE_SPIN_INIT, 1);
	}
	return r;
}

EXPORT int pthread_spin_destroy(pthread_spinlock_t *l)
{
	struct probe_thread *t = &probe_tls;
	uint64_t ts;
	int r;

	if (!probe_on(t, TRACE_CLASS_SPIN))
		return REAL(pthread_spin_destroy)(l);
	ts = probe_now();
	r = REAL(pthread_spin_destroy)(l);
	probe_emit(t, TRACE_SPIN_DESTROY, 0, r, (const void *)l, ts, 0,
		   probe_site(t, RA));
	return r;
}

EXPORT int pthread_spin_lock(pthread_spinlock_t *l)
{
	struct probe_thread *t = &probe_tls;
	unsigned fl = 0;
	uint64_t t0, t1;
	uint32_t w = 0;
	int r;

	if (!probe_on(t, TRACE_CLASS_SPIN))
		return REAL(pthread_spin_lock)(l);
	NOISE(t, TRACE_SPIN_LOCK, 0);
	r = REAL(pthread_spin_trylock)(l);
	if (r == EBUSY) {
		t0 = probe_now();
		r = PCT_OR(t, probe_pct_spin_lock(t, l),
			   REAL(pthread_spin_lock)(l));
		t1 = probe_now_after();
		w = probe_wait(t1 - t0);
		fl = TRACE_F_CONTENDED;
	} else {
		t1 = probe_now_after();
	}
	probe_emit(t, TRACE_SPIN_LOCK, fl, r, (const void *)l, t1, w,
		   PROBE_STACK(t, RA));
	NOISE(t, TRACE_SPIN_LOCK, 1);
	return r;
}

EXPORT int pthread_spin_trylock(pthread_spinlock_t *l)
{
	struct probe_thread *t = &probe_tls;
	int r;

	if (!probe_on(t, TRACE_CLASS_SPIN))
		return REAL(pthread_spin_trylock)(l);
	NOISE(t, TRACE_SPIN_TRYLOCK, 0);
	r = REAL(pthread_spin_trylock)(l);
	probe_emit(t, TRACE_SPIN_TRYLOCK, 0, r, (const void *)l,
		   probe_now_after(), 0,
		   r ? probe_site(t, RA) : PROBE_STACK(t, RA));
	TRIED(t, TRACE_SPIN_TRYLOCK, r != 0);
	return r;
}

EXPORT int pthread_spin_unlock(pthread_spinlock_t *l)
{
	struct probe_thread *t = &probe_tls;
	struct trace_event *ev;
	int r;

	if (!probe_on(t, TRACE_CLASS_SPIN))
		return REAL(pthread_spin_unlock)(l);
	NOISE(t, TRACE_SPIN_UNLOCK, 0);
	ev = probe_emit(t, TRACE_SPIN_UNLOCK, 0, 0, (const void *)l,
			probe_now(), 0, probe_site(t, RA));
	r = REAL(pthread_spin_unlock)(l);
	probe_result(ev, r);
	RELEASED(t, TRACE_SPIN_UNLOCK, (const void *)l);
	return r;
}

/* ---- semaphores
 * ------------------------------------------------------------------ */

EXPORT int sem_init(sem_t *s, int pshared, unsigned value)
{
	struct probe_thread *t = &probe_tls;
	int r, e;

	NOISE_BEFORE(t, TRACE_CLASS_SEM, TRACE_SEM_INIT);
	r = REAL(sem_init)(s, pshared, value);
	e = errno;
	if (probe_on(t, TRACE_CLASS_SEM)) {
		probe_emit(t, TRACE_SEM_INIT, pshared ? TRACE_F_PSHARED : 0,
			   r ? e : 0, s, probe_now(), 0, value);
		NOISE(t, TRACE_SEM_INIT, 1);
	}
	errno = e;
	return r;
}

EXPORT int sem_destroy(sem_t *s)
{
	struct probe_thread *t = &probe_tls;
	int r = REAL(sem_destroy)(s);
	int e = errno;

	if (probe_on(t, TRACE_CLASS_SEM))
		probe_emit(t, TRACE_SEM_DESTROY, 0, r ? e : 0, s, probe_now(),
			   0, probe_site(t, RA));
	errno = e;
	return r;
}

/* wait, timedwait, clockwait: try first; on EAGAIN it will block. */
/* wait, timedwait, clockwait: a value of 0 (a plain read) means it will
 * block. */
#define SEM_ACQUIRE(t, s, abs, blocking_call)                                 \
	do {                                                                  \
		int e0_ = errno, r_, e_, v_ = 1;                              \
		unsigned fl_ = 0;                                             \
		uint64_t t0_ = 0, t1_;                                        \
		uint32_t w_ = 0;                                              \
		NOISE(t, TRACE_SEM_WAIT, 0);                                  \
		sem_getvalue(s, &v_);                                         \
		if (unlikely(v_ <= 0)) {                                      \
			t0_ = probe_now();                                    \
			probe_emit(t, TRACE_SEM_BLOCK, 0, 0, s, t0_, 0,       \
				   probe_site(t, RA));                        \
			fl_ = TRACE_F_CONTENDED;                              \
		}                                                             \
		errno = e0_;                                                  \
		r_ = PCT_OR(t, probe_pct_sem_wait(t, s, abs), blocking_call); \
		e_ = r_ < 0 ? errno : e0_;                                    \
		t1_ = probe_now_after();                                      \
		if (fl_)                                                      \
			w_ = probe_wait(t1_ - t0_);                           \
		probe_emit(t, TRACE_SEM_WAIT, fl_, r_ < 0 ? e_ : 0, s, t1_,   \
			   w_, probe_site(t, RA));                            \
		NOISE(t, TRACE_SEM_WAIT, 1);                                  \
		errno = e_;                                                   \
		return r_;                                                    \
	} while (0)

EXPORT int sem_wait(sem_t *s)
{
	struct probe_thread *t = &probe_tls;

	if (!probe_on(t, TRACE_CLASS_SEM))
		return REAL(sem_wait)(s);
	SEM_ACQUIRE(t, s, NULL, REAL(sem_wait)(s));
}

EXPORT int sem_timedwait(sem_t *s, const struct timespec *abstime)
{
	struct probe_thread *t = &probe_tls;

	if (!probe_on(t, TRACE_CLASS_SEM))
		return REAL(sem_timedwait)(s, abstime);
	SEM_ACQUIRE(t, s, abstime, REAL(sem_timedwait)(s, abstime));
}

EXPORT int sem_clockwait(sem_t *s, clockid_t clk,
			 const struct timespec *abstime)
{
	struct probe_thread *t = &probe_tls;

	if (!REAL(sem_clockwait)) {
		errno = ENOSYS;
		return -1;
	}
	if (!probe_on(t, TRACE_CLASS_SEM))
		return real_sem_clockwait(s, clk, abstime);
	SEM_ACQUIRE(t, s, abstime, real_sem_clockwait(s, clk, abstime));
}

EXPORT int sem_trywait(sem_t *s)
{
	struct probe_thread *t = &probe_tls;
	int r, e;

	if (!probe_on(t, TRACE_CLASS_SEM))
		return REAL(sem_trywait)(s);
	NOISE(t, TRACE_SEM_TRYWAIT, 0);
	r = REAL(sem_trywait)(s);
	e = errno;
	probe_emit(t, TRACE_SEM_TRYWAIT, 0, r < 0 ? e : 0, s, probe_now_after(),
		   0, probe_site(t, RA));
	TRIED(t, TRACE_SEM_TRYWAIT, r < 0);
	errno = e;
	return r;
}

EXPORT int sem_post(sem_t *s)
{
	struct probe_thread *t = &probe_tls;
	struct trace_event *ev;
	int r, e, v = 0;

	if (!probe_on(t, TRACE_CLASS_SEM))
		return REAL(sem_post)(s);
	NOISE(t, TRACE_SEM_POST, 0);
	e = errno;
	sem_getvalue(s, &v); /* not interposed: reads the word */
	errno = e;
	/* Recorded first, like a release; aux: the value it makes. */
	ev = probe_emit(t, TRACE_SEM_POST, 0, 0, s, probe_now(), 0,
			(uint32_t)v + 1);
	r = REAL(sem_post)(s);
	e = errno;
	if (r < 0)
		probe_result(ev, e);
	RELEASED(t, TRACE_SEM_POST, s);
	errno = e;
	return r;
}

/* Did an open with O_CREAT (IPC_CREAT) create the object?  With the
 * EXCL flag, yes when it succeeds; without, when the object was not there
 * just before the call (a creator racing with us between the look and the
 * call is a process of the same run, which records it too).  Objects the
 * run created are listed in created.PID.txt for shmfuzz to remove. */
static bool absent_before(const char *prefix, const char *name)
{
	char path[600];
	int e = errno;
	bool absent;

	while (*name == '/')
		name++;
	snprintf(path, sizeof(path), "/dev/shm/%s%s", prefix, name);
	absent = access(path, F_OK) < 0 && errno == ENOENT;
	errno = e;
	return absent;
}

static void note_created(const char *kind, const char *name)
{
	char line[600];

	while (*name == '/')
		name++;
	snprintf(line, sizeof(line), "%s/%s", kind, name);
	probe_created(line);
}

EXPORT sem_t *sem_open(const char *name, int oflag, ...)
{
	struct probe_thread *t = &probe_tls;
	mode_t mode = 0;
	unsigned value = 0;
	bool creat, fresh;
	sem_t *s;
	int e;

	if (oflag & O_CREAT) {
		va_list ap;
		va_start(ap, oflag);
		mode = (mode_t)va_arg(ap, unsigned);
		value = va_arg(ap, unsigned);
		va_end(ap);
	}
	creat = (oflag & O_CREAT) && probe_active();
	fresh = creat && ((oflag & O_EXCL) || absent_before("sem.", name));
	s = REAL(sem_open)(name, oflag, mode, value);
	e = errno;
	if (s != SEM_FAILED && fresh)
		note_created("sem:", name);
	if (probe_on(t, TRACE_CLASS_SEM)) {
		if (s != SEM_FAILED)
			probe_map_sem(name, s);
		probe_emit(t, TRACE_SEM_OPEN, 0, s == SEM_FAILED ? e : 0,
			   s == SEM_FAILED ? NULL : s, probe_now(), 0, value);
	}
	errno = e;
	return s;
}

EXPORT int sem_close(sem_t *s)
{
	struct probe_thread *t = &probe_tls;
	int r = REAL(sem_close)(s), e = errno;

	if (probe_on(t, TRACE_CLASS_SEM)) {
		probe_emit(t, TRACE_SEM_CLOSE, 0, r < 0 ? e : 0, s, probe_now(),
			   0, 0);
		if (r == 0)
			probe_map_gone((void *)((uintptr_t)s & ~4095UL), 4096);
	}
	errno = e;
	return r;
}

EXPORT int sem_unlink(const char *name)
{
	struct probe_thread *t = &probe_tls;
	int r = REAL(sem_unlink)(name), e = errno;

	if (probe_on(t, TRACE_CLASS_SEM))
		probe_emit(t, TRACE_SEM_UNLINK, 0, r < 0 ? e : 0, NULL,
			   probe_now(), 0, 0);
	errno = e;
	return r;
}

/* ---- segments
 * -------------------------------------------------------------------- */

EXPORT int shm_open(const char *name, int oflag, mode_t mode)
{
	struct probe_thread *t = &probe_tls;
	bool creat = (oflag & O_CREAT) && probe_active();
	bool fresh = creat && ((oflag & O_EXCL) || absent_before("", name));
	int r, e;

	if (probe_on(t, TRACE_CLASS_SHM))
		NOISE(t, TRACE_SHM_OPEN, 0);
	r = REAL(shm_open)(name, oflag, mode);
	e = errno;
	if (r >= 0 && fresh)
		note_created("", name);
	if (probe_on(t, TRACE_CLASS_SHM)) {
		probe_emit(t, TRACE_SHM_OPEN, 0, r < 0 ? e : 0, NULL,
			   probe_now(), 0, (uint32_t)r);
		NOISE(t, TRACE_SHM_OPEN, 1);
	}
	errno = e;
	return r;
}

EXPORT int shm_unlink(const char *name)
{
	struct probe_thread *t = &probe_tls;
	int r = REAL(shm_unlink)(name), e = errno;

	if (probe_on(t, TRACE_CLASS_SHM))
		probe_emit(t, TRACE_SHM_UNLINK, 0, r < 0 ? e : 0, NULL,
			   probe_now(), 0, 0);
	errno = e;
	return r;
}

static void *mmap_common(void *r, size_t len, int prot, int flags, int fd,
			 off_t off)
{
	struct probe_thread *t = &probe_tls;
	int e = errno;

	if (probe_on(t, TRACE_CLASS_SHM)) {
		if (r != MAP_FAILED)
			probe_map_fd(r, len, prot, flags, fd, off);
		if (r != MAP_FAILED && (flags & MAP_TYPE) != MAP_PRIVATE)
			probe_emit(t, TRACE_MMAP, 0, 0, r, probe_now(), 0,
				   (uint32_t)(len >> 10));
		else if (r == MAP_FAILED)
			probe_emit(t, TRACE_MMAP, 0, e, NULL, probe_now(), 0,
				   (uint32_t)(len >> 10));
		if ((flags & MAP_TYPE) != MAP_PRIVATE)
			NOISE(t, TRACE_MMAP, 1);
	}
	errno = e;
	return r;
}

/* Noise before mapping shared memory (private mappings are malloc's
 * business, not a synchronisation point). */
static inline void mmap_before(int flags)
{
	struct probe_thread *t = &probe_tls;

	if (unlikely(probe_noise) && (flags & MAP_TYPE) != MAP_PRIVATE &&
	    probe_on(t, TRACE_CLASS_SHM))
		probe_noise_slow(t, TRACE_MMAP, 0);
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd,
		  off_t off)
{
	void *r;

	mmap_before(flags);
	r = REAL(mmap)(addr, len, prot, flags, fd, off);

	return mmap_common(r, len, prot, flags, fd, off);
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd,
		    off_t off)
{
	void *r;

	mmap_before(flags);
	r = REAL(mmap64)(addr, len, prot, flags, fd, off);

	return mmap_common(r, len, prot, flags, fd, off);
}

EXPORT int munmap(void *addr, size_t len)
{
	struct probe_thread *t = &probe_tls;
	int r = REAL(munmap)(addr, len), e = errno;

	if (r == 0 && probe_on(t, TRACE_CLASS_SHM)) {
		probe_map_gone(addr, len);
		probe_emit(t, TRACE_MUNMAP, 0, 0, addr, probe_now(), 0,
			   (uint32_t)(len >> 10));
	}
	errno = e;
	return r;
}

EXPORT void *mremap(void *old, size_t oldlen, size_t newlen, int flags, ...)
{
	struct probe_thread *t = &probe_tls;
	void *want = NULL, *r;
	int e;

	if (flags & MREMAP_FIXED) {
		va_list ap;
		va_start(ap, flags);
		want = va_arg(ap, void *);
		va_end(ap);
	}
	r = REAL(mremap)(old, oldlen, newlen, flags, want);
	e = errno;
	if (probe_on(t, TRACE_CLASS_SHM)) {
		if (r != MAP_FAILED)
			probe_map_move(old, oldlen, r, newlen);
		probe_emit(t, TRACE_MREMAP, 0, r == MAP_FAILED ? e : 0,
			   r == MAP_FAILED ? NULL : r, probe_now(), 0,
			   (uint32_t)(newlen >> 10));
	}
	errno = e;
	return r;
}

EXPORT int ftruncate(int fd, off_t len)
{
	struct probe_thread *t = &probe_tls;
	int r, e;

	if (probe_on(t, TRACE_CLASS_SHM))
		NOISE(t, TRACE_FTRUNCATE, 0);
	r = REAL(ftruncate)(fd, len);
	e = errno;
	if (probe_on(t, TRACE_CLASS_SHM)) {
		probe_emit(t, TRACE_FTRUNCATE, 0, r < 0 ? e : 0,
			   (void *)(uintptr_t)fd, probe_now(), 0,
			   (uint32_t)(len >> 10));
		NOISE(t, TRACE_FTRUNCATE, 1);
	}
	errno = e;
	return r;
}

EXPORT int ftruncate64(int fd, off_t len)
{
	struct probe_thread *t = &probe_tls;
	int r, e;

	if (probe_on(t, TRACE_CLASS_SHM))
		NOISE(t, TRACE_FTRUNCATE, 0);
	r = REAL(ftruncate64)(fd, len);
	e = errno;
	if (probe_on(t, TRACE_CLASS_SHM)) {
		probe_emit(t, TRACE_FTRUNCATE, 0, r < 0 ? e : 0,
			   (void *)(uintptr_t)fd, probe_now(), 0,
			   (uint32_t)(len >> 10));
		NOISE(t, TRACE_FTRUNCATE, 1);
	}
	errno = e;
	return r;
}

EXPORT int shmget(key_t key, size_t size, int flg)
{
	struct probe_thread *t = &probe_tls;
	bool fresh = false;
	int r, e;

	if ((flg & IPC_CREAT) && probe_active()) {
		e = errno;
		fresh = key == IPC_PRIVATE || (flg & IPC_EXCL) ||
			(REAL(shmget)(key, 0, 0) < 0 && errno == ENOENT);
		errno = e;
	}
	r = REAL(shmget)(key, size, flg);
	e = errno;
	if (r >= 0 && fresh) {
		char line[32];
		snprintf(line, sizeof(line), "sysv:%d", r);
		probe_created(line);
	}
	if (probe_on(t, TRACE_CLASS_SHM))
		probe_emit(t, TRACE_SHMGET, 0, r < 0 ? e : 0,
			   (void *)(uintptr_t)(unsigned)key, probe_now(), 0,
			   (uint32_t)r);
	errno = e;
	return r;
}

EXPORT void *shmat(int id, const void *addr, int flg)
{
	struct probe_thread *t = &probe_tls;
	void *r = REAL(shmat)(id, addr, flg);
	int e = errno;

	if (probe_on(t, TRACE_CLASS_SHM)) {
		if (r != (void *)-1)
			probe_map_sysv(id, r);
		probe_emit(t, TRACE_SHMAT, 0, r == (void *)-1 ? e : 0, r,
			   probe_now(), 0, (uint32_t)id);
	}
	errno = e;
	return r;
}

EXPORT int shmdt(const void *addr)
{
	struct probe_thread *t = &probe_tls;
	int r, e;

	r = REAL(shmdt)(addr);
	e = errno;
	if (probe_on(t, TRACE_CLASS_SHM)) {
		if (r == 0)
			probe_map_gone((void *)addr, 0);
		probe_emit(t, TRACE_SHMDT, 0, r < 0 ? e : 0, addr, probe_now(),
			   0, 0);
	}
	errno = e;
	return r;
}

/* ---- processes
 * ------------------------------------------------------------------- */

EXPORT pid_t fork(void)
{
	struct probe_thread *t = &probe_tls;
	pid_t r;
	int e;

	r = REAL(fork)();
	e = errno;
	if (PROBE_PCT_ON() && r != 0)
		probe_pct_forked(t, r);
	/* In the child, the atfork handler has made a new file already. */
	if (r != 0 && probe_on(t, TRACE_CLASS_PROC))
		probe_emit(t, TRACE_FORK, 0, r < 0 ? e : 0,
			   (void *)(uintptr_t)(r > 0 ? r : 0), probe_now(), 0,
			   0);
	errno = e;
	return r;
}

static void exec_begin(void)
{
	struct probe_thread *t = &probe_tls;

	if (probe_on(t, TRACE_CLASS_PROC))
		probe_emit(t, TRACE_EXEC, 0, 0, NULL, probe_now(), 0, 0);
	if (PROBE_PCT_ON())
		probe_pct_exec(t, false);
	probe_mark_end(TRACE_EXECED, 0);
}

static void exec_failed(int e)
{
	struct probe_thread *t = &probe_tls;

	probe_mark_end(TRACE_RUNNING, -1);
	if (PROBE_PCT_ON())
		probe_pct_exec(t, true);
	if (probe_on(t, TRACE_CLASS_PROC))
		probe_emit(t, TRACE_EXEC, 0, e, NULL, probe_now(), 0, 0);
	errno = e;
}

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	exec_begin();
	REAL(execve)(path, argv, probe_exec_env(envp));
	exec_failed(errno);
	return -1;
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	exec_begin();
	REAL(execvpe)(file, argv, probe_exec_env(envp));
	exec_failed(errno);
	return -1;
}

EXPORT int execv(const char *path, char *const argv[])
{
	exec_begin();
	/* As execve with environ: a program that dropped LD_PRELOAD from its
	 * environment still has its new image traced. */
	REAL(execve)(path, argv, probe_exec_env(environ));
	exec_failed(errno);
	return -1;
}

EXPORT int execvp(const char *file, char *const argv[])
{
	exec_begin();
	REAL(execvpe)(file, argv, probe_exec_env(environ));
	exec_failed(errno);
	return -1;
}

#define EXECL_MAX 4096

/* Collect the variadic arguments of execl* into ARGV (NULL-terminated);
 * -1 with E2BIG when there are too many. */
#define EXECL_ARGS(argv, arg0, ap)                         \
	do {                                               \
		int n_ = 0;                                \
		(argv)[n_++] = (char *)(arg0);             \
		while ((argv)[n_ - 1] != NULL) {           \
			if (n_ == EXECL_MAX) {             \
				va_end(ap);                \
				errno = E2BIG;             \
				return -1;                 \
			}                                  \
			(argv)[n_++] = va_arg(ap, char *); \
		}                                          \
	} while (0)

EXPORT int execl(const char *path, const char *arg, ...)
{
	char *argv[EXECL_MAX];
	va_list ap;

	va_start(ap, arg);
	EXECL_ARGS(argv, arg, ap);
	va_end(ap);
	return execv(path, argv);
}

EXPORT int execlp(const char *file, const char *arg, ...)
{
	char *argv[EXECL_MAX];
	va_list ap;

	va_start(ap, arg);
	EXECL_ARGS(argv, arg, ap);
	va_end(ap);
	return execvp(file, argv);
}

EXPORT int execle(const char *path, const char *arg, ...)
{
	char *argv[EXECL_MAX];
	char *const *envp;
	va_list ap;

	va_start(ap, arg);
	EXECL_ARGS(argv, arg, ap);
	envp = va_arg(ap, char *const *);
	va_end(ap);
	return execve(path, argv, envp);
}

static void exit_mark(int status)
{
	struct probe_thread *t = &probe_tls;

	if (probe_on(t, TRACE_CLASS_PROC))
		probe_emit(t, TRACE_EXIT, 0, 0, NULL, probe_now(), 0,
			   (uint32_t)status);
	probe_mark_end(TRACE_EXITED, status);
	if (PROBE_PCT_ON())
		probe_pct_exit();
}

EXPORT void exit(int status)
{
	exit_mark(status);
	REAL(exit)(status);
	__builtin_unreachable();
}

EXPORT void _exit(int status)
{
	exit_mark(status);
	REAL(_exit)(status);
	__builtin_unreachable();
}

EXPORT void _Exit(int status)
{
	exit_mark(status);
	REAL(_Exit)(status);
	__builtin_unreachable();
}

EXPORT int pthread_create(pthread_t *th, const pthread_attr_t *a,
			  void *(*fn)(void *), void *arg)
{
	struct probe_thread *t = &probe_tls;
	int r = !unlikely(probe_noise) ? REAL(pthread_create)(th, a, fn, arg)
		: probe_noise == PROBE_SCHED_PCT
			? probe_pct_create(t, th, a, fn, arg)
			: probe_noise_create(t, th, a, fn, arg);

	if (probe_on(t, TRACE_CLASS_PROC))
		probe_emit(t, TRACE_THREAD_CREATE, 0, r, r ? NULL : (void *)*th,
			   probe_now(), 0, probe_site(t, RA));
	return r;
}

EXPORT void pthread_exit(void *ret)
{
	struct probe_thread *t = &probe_tls;

	if (probe_on(t, TRACE_CLASS_PROC))
		probe_emit(t, TRACE_THREAD_EXIT, 0, 0, NULL, probe_now(), 0, 0);
	if (PROBE_PCT_ON())
		probe_pct_thread_exit(t);
	REAL(pthread_exit)(ret);
	__builtin_unreachable();
}

/* ---- yields and sleeps: sync points under pct only ---------------------- */

EXPORT int sched_yield(void)
{
	struct probe_thread *t = &probe_tls;

	if (PROBE_PCT_ON() && !t->busy) {
		probe_pct_point(t, 0, true);
		return 0;
	}
	return REAL(sched_yield)();
}

/* Under pct a sleep is a yield (virtual time): it really sleeps only when
 * nothing else could run, e.g. while the others are outside the probe's
 * view. */
EXPORT int nanosleep(const struct timespec *req, struct timespec *rem)
{
	struct probe_thread *t = &probe_tls;

	if (PROBE_PCT_ON() && !probe_pct_sleep(t)) {
		if (rem)
			rem->tv_sec = rem->tv_nsec = 0;
		return 0;
	}
	return REAL(nanosleep)(req, rem);
}

EXPORT int clock_nanosleep(clockid_t clk, int flags, const struct timespec *req,
			   struct timespec *rem)
{
	struct probe_thread *t = &probe_tls;

	if (PROBE_PCT_ON() && !probe_pct_sleep(t))
		return 0;
	return REAL(clock_nanosleep)(clk, flags, req, rem);
}

EXPORT int usleep(useconds_t us)
{
	struct probe_thread *t = &probe_tls;

	if (PROBE_PCT_ON() && !probe_pct_sleep(t))
		return 0;
	return REAL(usleep)(us);
}

EXPORT unsigned sleep(unsigned s)
{
	struct probe_thread *t = &probe_tls;

	if (PROBE_PCT_ON() && !probe_pct_sleep(t))
		return 0;
	return REAL(sleep)(s);
}

/* ---- waits for children, threads and pipes: emulated under pct only ------
 *
 * Under pct these block in the scheduler, not in the kernel, while what
 * they wait for is something the schedule runs (docs/pct.md); then the
 * real call, which finds what the schedule says.  Off, one branch. */

EXPORT pid_t wait4(pid_t pid, int *st, int options, struct rusage *ru)
{
	if (PROBE_PCT_ON())
		probe_pct_wait_child(&probe_tls, pid, options);
	return REAL(wait4)(pid, st, options, ru);
}

EXPORT pid_t waitpid(pid_t pid, int *st, int options)
{
	if (PROBE_PCT_ON())
		probe_pct_wait_child(&probe_tls, pid, options);
	return REAL(waitpid)(pid, st, options);
}

EXPORT pid_t wait(int *st)
{
	if (PROBE_PCT_ON())
		probe_pct_wait_child(&probe_tls, -1, 0);
	return REAL(wait)(st);
}

EXPORT pid_t wait3(int *st, int options, struct rusage *ru)
{
	if (PROBE_PCT_ON())
		probe_pct_wait_child(&probe_tls, -1, options);
	return REAL(wait3)(st, options, ru);
}

EXPORT int waitid(idtype_t idt, id_t id, siginfo_t *info, int options)
{
	/* As waitpid's PID; a pidfd is not emulated. */
	if (PROBE_PCT_ON() && idt != P_PIDFD)
		probe_pct_wait_child(&probe_tls,
				     idt == P_PID    ? (pid_t)id
				     : idt == P_PGID ? -(pid_t)id
						     : -1,
				     options | WNOHANG * !(options & WEXITED));
	return REAL(waitid)(idt, id, info, options);
}

EXPORT int sigtimedwait(const sigset_t *set, siginfo_t *info,
			const struct timespec *rel)
{
	if (PROBE_PCT_ON())
		return probe_pct_sigwait(&probe_tls, set, info, rel);
	return REAL(sigtimedwait)(set, info, rel);
}

EXPORT int sigwaitinfo(const sigset_t *set, siginfo_t *info)
{
	if (PROBE_PCT_ON())
		return probe_pct_sigwait(&probe_tls, set, info, NULL);
	return REAL(sigwaitinfo)(set, info);
}

EXPORT int sigwait(const sigset_t *set, int *sig)
{
	if (PROBE_PCT_ON()) {
		int e = errno,
		    r = probe_pct_sigwait(&probe_tls, set, NULL, NULL);
		if (r < 0) {
			r = errno;
			errno = e;
			return r;
		}
		*sig = r;
		return 0;
	}
	return REAL(sigwait)(set, sig);
}

EXPORT int pthread_join(pthread_t th, void **ret)
{
	if (PROBE_PCT_ON())
		probe_pct_join(&probe_tls, th);
	return REAL(pthread_join)(th, ret);
}

EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	if (PROBE_PCT_ON())
		probe_pct_read(&probe_tls, fd);
	return REAL(read)(fd, buf, n);
}

EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	uint64_t key;
	ssize_t r;
	int e;

	if (!PROBE_PCT_ON())
		return REAL(write)(fd, buf, n);
	key = probe_pct_pipe_point(&probe_tls, fd);
	r = REAL(write)(fd, buf, n);
	e = errno;
	probe_pct_pipe_changed(key);
	errno = e;
	return r;
}

EXPORT int close(int fd)
{
	uint64_t key;
	int r, e;

	if (!PROBE_PCT_ON())
		return REAL(close)(fd);
	key = probe_pct_pipe_point(&probe_tls, fd);
	r = REAL(close)(fd);
	e = errno;
	probe_pct_pipe_changed(key);
	errno = e;
	return r;
}

EXPORT int kill(pid_t pid, int sig)
{
	int r = REAL(kill)(pid, sig);

	if (PROBE_PCT_ON() && r == 0 && sig == SIGKILL && pid > 0) {
		int e = errno;
		probe_pct_killed(&probe_tls, pid);
		errno = e;
	}
	return r;
}
