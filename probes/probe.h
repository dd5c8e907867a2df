/*
 * probe.h - internals of libshmprobe.so shared by probe_core.c (state,
 * trace file, mapping table, stacks) and probe_hooks.c (the interposed
 * functions).  Nothing here is exported: the version script exports only
 * the hooks.
 *
 * The hot path of a hook is: one check of probe_mask, the real call, one or
 * two cycle-counter reads, a 32-byte store into this thread's chunk.  No
 * syscall, lock, allocation or atomic read-modify-write; a new chunk (one
 * atomic add) every TRACE_CHUNK_EVENTS events.
 */
#ifndef SHMSCOPE_PROBE_H
#define SHMSCOPE_PROBE_H

#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "trace.h"

#define PROBE_HIDDEN __attribute__((visibility("hidden")))
#define likely(x)    __builtin_expect(!!(x), 1)
#define unlikely(x)  __builtin_expect(!!(x), 0)

#define PROBE_SITE_CACHE 32

/* Per-thread state, in initial-exec TLS: reached with one %fs access. */
struct probe_thread {
	struct trace_event *cur; /* next free slot */
	struct trace_event *end; /* end of the current chunk */
	struct trace_chunk *chunk;
	uint32_t tid;
	uint32_t seq;
	int busy; /* inside the probe: re-entry (signals) passes through */
	uint32_t drops;
	struct {
		uint64_t key;
		uint32_t id;
	} sites[PROBE_SITE_CACHE];
	/* schedule noise (probe_noise.c) */
	bool nz_ready;	   /* nz_key is set */
	bool nz_has_index; /* nz_tindex is known */
	uint32_t nz_forks; /* forks made by this thread */
	uint64_t nz_key;   /* hash(seed, process, exec gen, thread) */
	uint64_t nz_count; /* sync points passed */
	uint64_t nz_tindex;
	uint64_t nz_threads; /* threads created by this thread */
	uint64_t nz_slept_us;
	/* pct (probe_pct.c): slot + 1; 0 not known yet, -1 never scheduled */
	int32_t pct_slot1;
};

extern __thread struct probe_thread probe_tls
	__attribute__((tls_model("initial-exec"))) PROBE_HIDDEN;

/* Classes being traced; 0 until the trace file is ready. */
extern unsigned probe_mask PROBE_HIDDEN;
extern int probe_backtrace PROBE_HIDDEN; /* frames per acquisition */
extern bool probe_tsc PROBE_HIDDEN;
extern double probe_ns_per_tick PROBE_HIDDEN;

/* The real functions, resolved once by probe_resolve(). */
#define PROBE_REAL_FUNCS(X)                      \
	X(pthread_mutex_init, NULL)              \
	X(pthread_mutex_destroy, NULL)           \
	X(pthread_mutex_lock, NULL)              \
	X(pthread_mutex_trylock, NULL)           \
	X(pthread_mutex_timedlock, NULL)         \
	X(pthread_mutex_clocklock, NULL)         \
	X(pthread_mutex_unlock, NULL)            \
	X(pthread_mutex_consistent, NULL)        \
	X(pthread_rwlock_init, NULL)             \
	X(pthread_rwlock_destroy, NULL)          \
	X(pthread_rwlock_rdlock, NULL)           \
	X(pthread_rwlock_wrlock, NULL)           \
	X(pthread_rwlock_tryrdlock, NULL)        \
	X(pthread_rwlock_trywrlock, NULL)        \
	X(pthread_rwlock_timedrdlock, NULL)      \
	X(pthread_rwlock_timedwrlock, NULL)      \
	X(pthread_rwlock_clockrdlock, NULL)      \
	X(pthread_rwlock_clockwrlock, NULL)      \
	X(pthread_rwlock_unlock, NULL)           \
	X(pthread_cond_init, "GLIBC_2.3.2")      \
	X(pthread_cond_destroy, "GLIBC_2.3.2")   \
	X(pthread_cond_wait, "GLIBC_2.3.2")      \
	X(pthread_cond_timedwait, "GLIBC_2.3.2") \
	X(pthread_cond_clockwait, NULL)          \
	X(pthread_cond_signal, "GLIBC_2.3.2")    \
	X(pthread_cond_broadcast, "GLIBC_2.3.2") \
	X(pthread_spin_init, NULL)               \
	X(pthread_spin_destroy, NULL)            \
	X(pthread_spin_lock, NULL)               \
	X(pthread_spin_trylock, NULL)            \
	X(pthread_spin_unlock, NULL)             \
	X(sem_init, NULL)                        \
	X(sem_destroy, NULL)                     \
	X(sem_wait, NULL)                        \
	X(sem_trywait, NULL)                     \
	X(sem_timedwait, NULL)                   \
	X(sem_clockwait, NULL)                   \
	X(sem_post, NULL)                        \
	X(sem_open, NULL)                        \
	X(sem_close, NULL)                       \
	X(sem_unlink, NULL)                      \
	X(shm_open, NULL)                        \
	X(shm_unlink, NULL)                      \
	X(mmap, NULL)                            \
	X(mmap64, NULL)                          \
	X(munmap, NULL)                          \
	X(mremap, NULL)                          \
	X(ftruncate, NULL)                       \
	X(ftruncate64, NULL)                     \
	X(shmget, NULL)                          \
	X(shmat, NULL)                           \
	X(shmdt, NULL)                           \
	X(fork, NULL)                            \
	X(execve, NULL)                          \
	X(execv, NULL)                           \
	X(execvp, NULL)                          \
	X(execvpe, NULL)                         \
	X(exit, NULL)                            \
	X(_exit, NULL)                           \
	X(_Exit, NULL)                           \
	X(pthread_create, NULL)                  \
	X(pthread_exit, NULL)                    \
	X(sched_yield, NULL)                     \
	X(nanosleep, NULL)                       \
	X(clock_nanosleep, NULL)                 \
	X(usleep, NULL)                          \
	X(sleep, NULL)                           \
	X(wait, NULL)                            \
	X(waitpid, NULL)                         \
	X(wait3, NULL)                           \
	X(wait4, NULL)                           \
	X(waitid, NULL)                          \
	X(sigwait, NULL)                         \
	X(sigwaitinfo, NULL)                     \
	X(sigtimedwait, NULL)                    \
	X(pthread_join, NULL)                    \
	X(read, NULL)                            \
	X(write, NULL)                           \
	X(close, NULL)                           \
	X(kill, NULL)

#define PROBE_DECLARE_REAL(name, ver) \
	extern __typeof__(name) *real_##name PROBE_HIDDEN;
PROBE_REAL_FUNCS(PROBE_DECLARE_REAL)
#undef PROBE_DECLARE_REAL

/* Resolve every real_* pointer (idempotent; safe before init). */
void probe_resolve(void) PROBE_HIDDEN;

/* real_NAME, resolving first if the hook runs before the constructor. */
#define REAL(name)                                 \
	(likely(real_##name != NULL) ? real_##name \
				     : (probe_resolve(), real_##name))

/* ---- time ---------------------------------------------------------------- */

uint64_t probe_clock_slow(void) PROBE_HIDDEN;

/* A timestamp; may run early, never late: for the moment before a
 * release. */
static inline uint64_t probe_now(void)
{
	if (likely(probe_tsc))
		return __builtin_ia32_rdtsc();
	return probe_clock_slow();
}

/* The timestamp of an acquisition, read right after it.  Not fenced
 * (rdtscp or lfence would double the probe's cost): the CPU may read the
 * counter a little before the acquiring atomic completes, so it can come
 * out slightly earlier than the timestamp of the release that allowed it.
 * The reader orders acquisitions TRACE_ACQUIRE_SLACK_NS late to undo
 * that (see trace.h). */
static inline uint64_t probe_now_after(void)
{
	return probe_now();
}

static inline uint32_t probe_wait(uint64_t dticks)
{
	return trace_wait_encode(
		probe_tsc ? (uint64_t)((double)dticks * probe_ns_per_tick)
			  : dticks);
}

/* ---- recording ----------------------------------------------------------- */

/* Claim a new chunk for T and return its first slot, or NULL when the
 * trace is full (the event is then counted as dropped). */
struct trace_event *probe_new_chunk(struct probe_thread *t) PROBE_HIDDEN;

/* Count an event that could not be recorded. */
void probe_drop(struct probe_thread *t) PROBE_HIDDEN;

/* Is CLASS traced for a call made now by T? */
static inline bool probe_on(struct probe_thread *t, unsigned cls)
{
	if (unlikely(!(probe_mask & cls)))
		return false;
	if (unlikely(t->busy)) {
		/* A signal handler interrupted the probe in this thread:
		 * its call cannot be recorded, but it is counted.  (busy
		 * is 2 inside the unwinder, whose own calls are not the
		 * program's.) */
		if (t->busy == 1)
			probe_drop(t);
		return false;
	}
	return true;
}

typedef uint64_t __attribute__((may_alias)) probe_u64;

/* Append an event; returns it (NULL when it was dropped) so that a
 * release, recorded before it happens, can have its result set after. */
static inline struct trace_event *
probe_emit(struct probe_thread *t, unsigned op, unsigned flags, int result,
	   const void *obj, uint64_t ts, uint32_t wait, uint32_t aux)
{
	struct trace_event *ev;
	uint64_t last;

	t->busy = 1;
	__asm__ __volatile__("" ::: "memory");
	ev = t->cur;
	if (unlikely(ev == t->end)) {
		ev = probe_new_chunk(t);
		if (!ev) {
			t->busy = 0;
			return NULL;
		}
	}
	t->cur = ev + 1;
	ev->ts = ts;
	ev->obj = (uint64_t)(uintptr_t)obj;
	ev->wait = wait;
	ev->aux = aux;
	/* tid, op, flags, result: one 8-byte word, stored last. */
	last = (uint64_t)t->tid | (uint64_t)(op & 0xff) << 32 |
	       (uint64_t)(flags & 0xff) << 40 |
	       (uint64_t)(uint16_t)(int16_t)result << 48;
	__atomic_store_n((probe_u64 *)(void *)&ev->tid, last, __ATOMIC_RELEASE);
	__asm__ __volatile__("" ::: "memory");
	t->busy = 0;
	return ev;
}

/* Set the result of EV, recorded before its call returned. */
static inline void probe_result(struct trace_event *ev, int result)
{
	if (ev && result)
		__atomic_store_n(&ev->result, (int16_t)result,
				 __ATOMIC_RELAXED);
}

/* ---- call sites ------------------------------------------------------------
 */

/* Stack id for a call site known by its return address RA (one frame). */
uint32_t probe_site_slow(struct probe_thread *t, uint64_t ra) PROBE_HIDDEN;

static inline uint32_t probe_site(struct probe_thread *t, const void *ra)
{
	uint64_t key = (uint64_t)(uintptr_t)ra;
	unsigned i = (unsigned)(key >> 2) & (PROBE_SITE_CACHE - 1);

	if (probe_backtrace == 0)
		return 0;
	if (likely(t->sites[i].key == key))
		return t->sites[i].id;
	return probe_site_slow(t, key);
}

/* Stack id of the current call stack (probe_backtrace frames), for an
 * acquisition; RA is the hook's return address, used when one frame is
 * all that is asked for.  Must be called directly from the hook. */
uint32_t probe_stack_slow(struct probe_thread *t) PROBE_HIDDEN;

#define PROBE_STACK(t, ra) \
	(probe_backtrace <= 1 ? probe_site((t), (ra)) : probe_stack_slow(t))

/* ---- mappings --------------------------------------------------------------
 */

/* Record a new mapping [start, start+len) of FD (or anonymous when FD < 0),
 * called after a successful mmap. */
void probe_map_fd(void *start, size_t len, int prot, int flags, int fd,
		  off_t off) PROBE_HIDDEN;
/* Record that [start, start+len) is no longer mapped. */
void probe_map_gone(void *start, size_t len) PROBE_HIDDEN;
/* Record a mremap of OLD (OLDLEN) to NEW (NEWLEN). */
void probe_map_move(void *old, size_t oldlen, void *new,
		    size_t newlen) PROBE_HIDDEN;
/* Record a SysV attach of SHMID at ADDR. */
void probe_map_sysv(int shmid, const void *addr) PROBE_HIDDEN;
/* Record the mapping glibc made for the named semaphore NAME at SEM. */
void probe_map_sem(const char *name, const sem_t *sem) PROBE_HIDDEN;

/* ---- schedule noise (probe_noise.c) ------------------------------------ */

/* Non-zero when shmfuzz drives the schedule: PROBE_SCHED_NOISE perturbs
 * at sync points, PROBE_SCHED_PCT passes the baton (probe_pct.c).  Off,
 * every hook pays one load and one branch on it. */
extern int probe_noise PROBE_HIDDEN;
#define PROBE_SCHED_NOISE 1
#define PROBE_SCHED_PCT	  2
#define PROBE_PCT_ON()	  unlikely(probe_noise == PROBE_SCHED_PCT)

/* Read the fuzzer's variables; turn noise on for "noise" (once, at init,
 * after the trace file exists).  DIR is SHMPROBE_DIR. */
void probe_noise_init(const char *dir) PROBE_HIDDEN;

/* Draw this thread's next decision and carry it out (yield, spin, sleep
 * or nothing).  OP is the trace op of the call, AFTER 0 before it, 1
 * after it.  Keeps errno. */
void probe_noise_slow(struct probe_thread *t, unsigned op,
		      unsigned after) PROBE_HIDDEN;

/* A sync point: nothing but one load and a branch when noise is off. */
#define NOISE(t, op, after)                                   \
	do {                                                  \
		if (unlikely(probe_noise))                    \
			probe_noise_slow((t), (op), (after)); \
	} while (0)

/* fork: before (in the forking thread), in the parent after, in the child
 * (which takes its process index from the forking thread's). */
void probe_noise_prefork(struct probe_thread *t) PROBE_HIDDEN;
void probe_noise_parent(struct probe_thread *t) PROBE_HIDDEN;
void probe_noise_child(struct probe_thread *t) PROBE_HIDDEN;

/* pthread_create under noise: the new thread learns its index. */
int probe_noise_create(struct probe_thread *t, pthread_t *th,
		       const pthread_attr_t *a, void *(*fn)(void *),
		       void *arg) PROBE_HIDDEN;

/* "SHMPROBE_PINDEX=..." for an exec'd image, NULL when noise is off. */
const char *probe_noise_env(void) PROBE_HIDDEN;

/* ---- the pct scheduler (probe_pct.c) ------------------------------------
 *
 * Under SHMFUZZ_STRATEGY=pct every sync point (NOISE before a call) hands
 * the baton to whichever thread PCT picks; a blocking call never blocks in
 * the kernel: it tries, and on failure blocks in the scheduler until a
 * release of the same object (see docs/pct.md). */

/* Map the control segment SHMFUZZ_PCT names and join the schedule. */
void probe_pct_init(void) PROBE_HIDDEN;
/* A sync point of T before OP (YIELD: T gives way, as sched_yield). */
void probe_pct_point(struct probe_thread *t, unsigned op,
		     bool yield) PROBE_HIDDEN;
/* Is T scheduled (then the probe_pct_* blocking calls apply)? */
bool probe_pct_scheduled(struct probe_thread *t) PROBE_HIDDEN;
/* The blocking calls under pct: same results as the real ones.  ABS is
 * the timeout (NULL: none). */
int probe_pct_mutex_lock(struct probe_thread *t, pthread_mutex_t *m,
			 const struct timespec *abs) PROBE_HIDDEN;
int probe_pct_rwlock(struct probe_thread *t, pthread_rwlock_t *l, bool wr,
		     const struct timespec *abs) PROBE_HIDDEN;
int probe_pct_spin_lock(struct probe_thread *t,
			pthread_spinlock_t *l) PROBE_HIDDEN;
int probe_pct_sem_wait(struct probe_thread *t, sem_t *s,
		       const struct timespec *abs) PROBE_HIDDEN;
int probe_pct_cond_wait(struct probe_thread *t, pthread_cond_t *c,
			pthread_mutex_t *m,
			const struct timespec *abs) PROBE_HIDDEN;
/* After a release (unlock, post, signal, broadcast) of OBJ by T: under pct
 * its waiters may run again; under noise, noise after OP. */
void probe_sched_released(struct probe_thread *t, unsigned op,
			  const void *obj) PROBE_HIDDEN;
/* After a try-lock/trywait of T that FAILED or not. */
void probe_sched_tried(struct probe_thread *t, unsigned op,
		       bool failed) PROBE_HIDDEN;
/* fork under pct: the child's slot is taken before (prefork), the parent
 * learns its pid after (forked, R is fork's result), the child waits for
 * its turn (child). */
void probe_pct_prefork(struct probe_thread *t) PROBE_HIDDEN;
void probe_pct_forked(struct probe_thread *t, pid_t r) PROBE_HIDDEN;
void probe_pct_child(void) PROBE_HIDDEN;
int probe_pct_create(struct probe_thread *t, pthread_t *th,
		     const pthread_attr_t *a, void *(*fn)(void *),
		     void *arg) PROBE_HIDDEN;
/* T's thread ends (pthread_exit). */
void probe_pct_thread_exit(struct probe_thread *t) PROBE_HIDDEN;
/* The process ends: its threads leave the schedule (idempotent). */
void probe_pct_exit(void) PROBE_HIDDEN;
/* exec begins (FAILED false) or failed (true): the new image keeps T's
 * slot. */
void probe_pct_exec(struct probe_thread *t, bool failed) PROBE_HIDDEN;
/* A sleep under pct is a yield; true when the caller should still sleep
 * (nothing else could run). */
bool probe_pct_sleep(struct probe_thread *t) PROBE_HIDDEN;
/* Before a wait for children (PID and OPTIONS as waitpid's): a sync
 * point, then blocked in the scheduler while no child can be waited for
 * and a child the schedule runs may still end; the real call follows and
 * sees what the schedule says (docs/pct.md). */
void probe_pct_wait_child(struct probe_thread *t, pid_t pid,
			  int options) PROBE_HIDDEN;
/* sigtimedwait (REL NULL: sigwaitinfo) under pct: a wait for SIGCHLD
 * blocks in the scheduler until a child of the schedule ends. */
int probe_pct_sigwait(struct probe_thread *t, const sigset_t *set,
		      siginfo_t *info, const struct timespec *rel) PROBE_HIDDEN;
/* Before pthread_join(TH): blocked in the scheduler until TH leaves. */
void probe_pct_join(struct probe_thread *t, pthread_t th) PROBE_HIDDEN;
/* Before a read of FD: a pipe that has nothing to read blocks in the
 * scheduler until a write or close of the pipe by a thread of the run. */
void probe_pct_read(struct probe_thread *t, int fd) PROBE_HIDDEN;
/* Before a write or close of FD: a sync point when FD is a pipe; its key
 * (0: not a pipe), for probe_pct_pipe_changed() after the call. */
uint64_t probe_pct_pipe_point(struct probe_thread *t, int fd) PROBE_HIDDEN;
void probe_pct_pipe_changed(uint64_t key) PROBE_HIDDEN;
/* After T's kill(PID, SIGKILL) succeeded: when PID is a process of the
 * schedule, wait for its death and let it leave at this step. */
void probe_pct_killed(struct probe_thread *t, pid_t pid) PROBE_HIDDEN;

/* After a release: one branch when no scheduler runs. */
#define RELEASED(t, op, obj)                                    \
	do {                                                    \
		if (unlikely(probe_noise))                      \
			probe_sched_released((t), (op), (obj)); \
	} while (0)
#define TRIED(t, op, failed)                                    \
	do {                                                    \
		if (unlikely(probe_noise))                      \
			probe_sched_tried((t), (op), (failed)); \
	} while (0)

/* The segment, offset in it and name of the shared mapping holding ADDR
 * (probe_core.c); false when none is known. */
bool probe_map_find(const void *addr, uint64_t *dev, uint64_t *ino,
		    uint64_t *off, const char **name) PROBE_HIDDEN;

/* ---- objects created (SHMPROBE_DIR/created.PID.txt) -----------------------
 */

/* Is the probe recording (SHMPROBE_DIR set, file made)?  The created-object
 * checks cost a syscall, paid only then. */
bool probe_active(void) PROBE_HIDDEN;

/* Append LINE (e.g. "/name", "sem:/name", "sysv:ID") to this process's
 * created file. */
void probe_created(const char *line) PROBE_HIDDEN;

/* ---- processes
 * --------------------------------------------------------------- */

/* The process ends (exit, _exit) or is replaced (exec): mark the file. */
void probe_mark_end(unsigned state, int status) PROBE_HIDDEN;

/* An environment for exec that keeps the probe's variables: ENVP itself
 * when it has them, else a copy (allocated without malloc) with them
 * added. */
char *const *probe_exec_env(char *const envp[]) PROBE_HIDDEN;

#endif
