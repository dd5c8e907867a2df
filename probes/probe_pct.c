/*
 * probe_pct.c - the baton of `shmfuzz --strategy pct`, inside the probe.
 *
 * shmfuzz's supervisor creates a control segment per run (struct pct_ctl,
 * lib/pct.h) and names it in SHMFUZZ_PCT.  Every thread of every process
 * of the run has a slot there; exactly one, the holder, runs between two
 * sync points.  At a sync point (the NOISE before a lock, unlock, wait,
 * post, condvar call, and sched_yield or a sleep) the holder asks
 * pct_point() who runs next; if it is another thread, it bumps and wakes
 * that thread's futex word and waits on its own.
 *
 * Blocking calls never block in the kernel: lock is "try; if busy, block
 * on the object in the scheduler and hand the baton on; retry when
 * woken"; a release (unlock, post, signal, broadcast) wakes the threads
 * blocked on the same object.  Objects are named by (dev, ino, offset) of
 * their shared mapping, so a lock mapped at different addresses in two
 * processes is one object; an object in private memory by (pid, address).
 * A condvar wait is emulated: release the mutex, block on the condvar,
 * take the mutex again (a spurious wakeup is allowed by POSIX).
 *
 * Identity: the root process's main thread takes the first slot; a thread
 * is registered by its creator (pthread_create) and a forked child by its
 * parent (prefork), both under the baton, so slots and priorities follow
 * the program, not the kernel's timing; an exec'd image finds the slot of
 * its pid marked "execing".  A thread the probe did not see start joins
 * at its first sync point.
 *
 * The control segment's lock is a process-shared robust mutex taken with
 * the real pthread functions: a process killed while holding it does not
 * stop the run.  A thread that blocks outside the probe's view while
 * holding the baton (a read, waitpid) is found by the supervisor, which
 * moves the baton on (pct_outside); the thread comes back at its next
 * sync point.
 */
#include "probe.h"
#include "pct.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static struct {
	struct pct_ctl *ctl;
	int main_slot; /* this process's main thread */
	int fork_slot; /* the child being forked */
	int pid;
	int ppid; /* our parent: the ppid of the slots we take */
} Q = {NULL, -1, -1, 0, 0};

/* A blocked thread that looks again itself (pct_thread.recheck): true
 * when what it waits for may have come without the probe seeing it. */
struct recheck {
	bool (*ready)(const void *arg);
	const void *arg;
};

/* How often such a thread looks. */
#define RECHECK_NS 5000000

static int q_gettid(void)
{
	return (int)syscall(SYS_gettid);
}

static void ctl_lock(void)
{
	if (REAL(pthread_mutex_lock)(&Q.ctl->lock) == EOWNERDEAD)
		REAL(pthread_mutex_consistent)(&Q.ctl->lock);
}

static void ctl_unlock(void)
{
	REAL(pthread_mutex_unlock)(&Q.ctl->lock);
}

static void wake(int slot)
{
	if (slot >= 0)
		syscall(SYS_futex, &Q.ctl->th[slot].futex, FUTEX_WAKE, INT_MAX,
			NULL, NULL, 0);
}

/* RC's condition came while SLOT is blocked: SLOT is runnable again
 * (holder at once when nobody holds the baton). */
static void rechecked(int slot, const struct recheck *rc)
{
	struct pct_thread *th = &Q.ctl->th[slot];

	if (__atomic_load_n(&th->state, __ATOMIC_ACQUIRE) != PCT_BLOCKED ||
	    !rc->ready(rc->arg))
		return;
	ctl_lock();
	if (th->state == PCT_BLOCKED) {
		th->woken = 1;
		pct_resume(Q.ctl, slot);
	}
	ctl_unlock();
}

/* Wait until SLOT holds the baton; false when it left the schedule
 * meanwhile (its process was given up for dead, or it exec'd).  RC (may
 * be NULL): while blocked, look at it every RECHECK_NS. */
static bool wait_baton_rc(int slot, const struct recheck *rc)
{
	struct pct_thread *th = &Q.ctl->th[slot];
	struct timespec ts = {0, 200000000}, rts = {0, RECHECK_NS};

	for (;;) {
		uint32_t v = __atomic_load_n(&th->futex, __ATOMIC_ACQUIRE);
		uint32_t st;
		if (pct_is_holder(Q.ctl, slot))
			return true;
		st = __atomic_load_n(&th->state, __ATOMIC_ACQUIRE);
		if (st == PCT_GONE)
			return false;
		/* Shared (not FUTEX_PRIVATE): the waker is another process. */
		syscall(SYS_futex, &th->futex, FUTEX_WAIT, v,
			rc && st == PCT_BLOCKED ? &rts : &ts, NULL, 0);
		if (rc)
			rechecked(slot, rc);
	}
}

static bool wait_baton(int slot)
{
	return wait_baton_rc(slot, NULL);
}

/* Join as a new slot and wait for the first turn; -1 when full. */
static int join_new(int pid, int tid)
{
	int s, h;

	ctl_lock();
	s = pct_join(Q.ctl, pid, tid);
	if (s >= 0)
		Q.ctl->th[s].ppid = Q.ppid;
	h = s >= 0 ? pct_resume(Q.ctl, s) : -1;
	ctl_unlock();
	if (s >= 0 && h != s)
		wait_baton(s);
	return s;
}

/* T's slot, or -1 when T is not (or no longer) scheduled. */
static int my_slot(struct probe_thread *t)
{
	int s = t->pct_slot1 - 1;

	if (unlikely(t->pct_slot1 == 0)) {
		int tid = q_gettid();
		if (tid == Q.pid && Q.main_slot >= 0)
			s = Q.main_slot;
		else
			s = join_new(Q.pid, tid);
		t->pct_slot1 = s + 1;
	}
	if (s < 0 ||
	    __atomic_load_n(&Q.ctl->th[s].state, __ATOMIC_ACQUIRE) == PCT_GONE)
		return -1;
	return s;
}

bool probe_pct_scheduled(struct probe_thread *t)
{
	return Q.ctl && !t->busy && my_slot(t) >= 0;
}

/* Give the baton to H if it is not us, then wait for it to come back. */
static bool pass_rc(int self, int h, const struct recheck *rc)
{
	if (h == self)
		return true;
	wake(h);
	return wait_baton_rc(self, rc);
}

static bool pass(int self, int h)
{
	return pass_rc(self, h, NULL);
}

/* Another thread of the run than SELF is alive. */
static bool others_alive(int self)
{
	for (uint32_t i = 0; i < Q.ctl->nslots; i++)
		if ((int)i != self && Q.ctl->th[i].state != PCT_GONE &&
		    Q.ctl->th[i].state != PCT_FREE && Q.ctl->th[i].pid > 0)
			return true;
	return false;
}

static bool is_init(unsigned op)
{
	return op == TRACE_MUTEX_INIT || op == TRACE_RW_INIT ||
	       op == TRACE_COND_INIT || op == TRACE_SPIN_INIT ||
	       op == TRACE_SEM_INIT;
}

/* A sync point of T before OP; HOT: a hot step (pct_hot). */
static void point_op(struct probe_thread *t, bool yield, unsigned op, bool hot)
{
	int s = my_slot(t), h;

	if (s < 0)
		return;
	ctl_lock();
	if (Q.ctl->holder != s)
		h = pct_resume(Q.ctl, s); /* back from outside */
	else if (!yield && (hot || (is_init(op) && others_alive(s))))
		h = pct_hot(Q.ctl, s);
	else
		h = pct_point(Q.ctl, s, yield);
	ctl_unlock();
	pass(s, h);
}

static void point(struct probe_thread *t, bool yield)
{
	point_op(t, yield, 0, false);
}

void probe_pct_point(struct probe_thread *t, unsigned op, bool yield)
{
	int e = errno;

	if (!t->busy)
		point_op(t, yield, op, false);
	errno = e;
}

/* ---- lock order -----------------------------------------------------------
 *
 * The locks a thread holds (taken through the emulated blocking calls),
 * for hot steps: taking B while holding A, when another thread took A
 * while holding B. */

#define HELD_MAX 8

static __thread struct {
	const void *addr;
	uint64_t key;
} held[HELD_MAX];
static __thread int nheld;

/* The key of the object at ADDR, as obj_of() makes it. */
static uint64_t key_of(const void *addr)
{
	uint64_t dev, ino, off;
	const char *name;

	if (probe_map_find(addr, &dev, &ino, &off, &name))
		return pct_obj_key(dev, ino, off);
	return pct_obj_key(0, (uint64_t)Q.pid, (uint64_t)(uintptr_t)addr);
}

/* T is about to take the lock at ADDR: a hot step if that inverts an
 * order seen in another thread.  Keys are made here only, when T holds
 * another lock. */
static void lock_order(struct probe_thread *t, const void *addr)
{
	bool hot = false;
	uint64_t key;
	int s;

	if (!nheld || (s = my_slot(t)) < 0)
		return;
	key = key_of(addr);
	for (int i = 0; i < nheld; i++)
		if (!held[i].key)
			held[i].key = key_of(held[i].addr);
	ctl_lock();
	for (int i = 0; i < nheld; i++)
		if (held[i].key != key &&
		    pct_lock_order(Q.ctl, s, held[i].key, key))
			hot = true;
	ctl_unlock();
	if (hot)
		point_op(t, false, 0, true);
}

static void lock_taken(const void *addr)
{
	if (nheld >= HELD_MAX)
		return;
	held[nheld].addr = addr;
	held[nheld].key = 0;
	nheld++;
}

static void lock_dropped(const void *addr)
{
	for (int i = nheld; i-- > 0;)
		if (held[i].addr == addr) {
			held[i] = held[--nheld];
			return;
		}
}

bool probe_pct_sleep(struct probe_thread *t)
{
	int e = errno, s = my_slot(t), h;

	if (s < 0 || t->busy)
		return true;
	ctl_lock();
	h = Q.ctl->holder != s ? pct_resume(Q.ctl, s)
			       : pct_point(Q.ctl, s, true);
	ctl_unlock();
	errno = e;
	if (h == s)
		return true; /* nothing else can run: really sleep */
	pass(s, h);
	errno = e;
	return false;
}

/* ---- objects ---------------------------------------------------------- */

static void obj_of(const void *addr, unsigned op, int owner, struct pct_obj *o)
{
	uint64_t dev, ino, off;
	const char *name;

	memset(o, 0, sizeof(*o));
	o->op = op;
	o->owner_tid = owner;
	if (probe_map_find(addr, &dev, &ino, &off, &name)) {
		o->key = pct_obj_key(dev, ino, off);
		o->off = off;
		snprintf(o->seg, sizeof(o->seg), "%s", name);
	} else {
		o->key = pct_obj_key(0, (uint64_t)Q.pid,
				     (uint64_t)(uintptr_t)addr);
		o->off = (uint64_t)(uintptr_t)addr;
	}
}

static bool within(const struct timespec *abs, clockid_t clk, long ms)
{
	struct timespec now;
	long long d;

	if (clock_gettime(clk, &now))
		return false;
	d = (long long)(abs->tv_sec - now.tv_sec) * 1000 +
	    (abs->tv_nsec - now.tv_nsec) / 1000000;
	return d >= -1000 && d <= ms;
}

/* Is ABS a short timeout?  Its clock is not known here (a condvar's is
 * its attribute): realtime and monotonic are far apart, so whichever it
 * is close to is the one. */
static bool short_timeout(const struct timespec *abs)
{
	return within(abs, CLOCK_REALTIME, PCT_SHORT_TIMEOUT_MS) ||
	       within(abs, CLOCK_MONOTONIC, PCT_SHORT_TIMEOUT_MS);
}

/* Block on O until a release of it: 0 (woken: retry), ETIMEDOUT (ABS
 * passed in virtual time: nothing else could run), or ENOENT (not
 * scheduled: do the real blocking call).  RC (may be NULL): what the
 * thread looks at itself while blocked. */
static int block_obj(struct probe_thread *t, const struct pct_obj *o,
		     const struct timespec *abs, const struct recheck *rc)
{
	struct pct_thread *th;
	int s = my_slot(t), h;

	if (s < 0)
		return ENOENT;
	th = &Q.ctl->th[s];
	ctl_lock();
	if (Q.ctl->holder != s) {
		h = pct_resume(Q.ctl, s);
		ctl_unlock();
		return pass(s, h) ? 0 : ENOENT;
	}
	th->recheck = rc != NULL;
	h = pct_block(Q.ctl, s, o, abs, abs && short_timeout(abs));
	ctl_unlock();
	if (!pass_rc(s, h, rc))
		return ENOENT;
	th->recheck = 0;
	if (th->timed_out) {
		th->timed_out = 0;
		return ETIMEDOUT;
	}
	return 0;
}

static int block_on(struct probe_thread *t, const void *addr, unsigned op,
		    int owner, const struct timespec *abs)
{
	struct pct_obj o;

	obj_of(addr, op, owner, &o);
	return block_obj(t, &o, abs, NULL);
}

static bool any_blocked(void)
{
	uint32_t n = __atomic_load_n(&Q.ctl->nslots, __ATOMIC_ACQUIRE);

	for (uint32_t s = 0; s < n && s < PCT_MAX_THREADS; s++)
		if (__atomic_load_n(&Q.ctl->th[s].state, __ATOMIC_RELAXED) ==
		    PCT_BLOCKED)
			return true;
	return false;
}

static void released(const void *addr, unsigned op)
{
	struct pct_obj o;

	if (!any_blocked())
		return;
	int h = -1;

	obj_of(addr, op, 0, &o);
	ctl_lock();
	/* Released by a thread outside while nobody held the baton. */
	if (pct_wake(Q.ctl, o.key, op != TRACE_COND_SIGNAL) &&
	    Q.ctl->holder < 0)
		h = pct_nudge(Q.ctl);
	ctl_unlock();
	wake(h);
}

void probe_sched_released(struct probe_thread *t, unsigned op, const void *obj)
{
	int e = errno;

	if (probe_noise != PROBE_SCHED_PCT) {
		probe_noise_slow(t, op, 1);
		return;
	}
	if (nheld && (op == TRACE_MUTEX_UNLOCK || op == TRACE_RW_UNLOCK ||
		      op == TRACE_SPIN_UNLOCK))
		lock_dropped(obj);
	if (!t->busy && Q.ctl)
		released(obj, op);
	errno = e;
}

void probe_sched_tried(struct probe_thread *t, unsigned op, bool failed)
{
	if (probe_noise != PROBE_SCHED_PCT) {
		probe_noise_slow(t, op, 1);
		return;
	}
	/* A failed try is a spin loop's turn: give way, or it would spin
	 * with the baton for ever. */
	if (failed)
		probe_pct_point(t, op, true);
}

/* ---- blocking calls ---------------------------------------------------- */

int probe_pct_mutex_lock(struct probe_thread *t, pthread_mutex_t *m,
			 const struct timespec *abs)
{
	int e = errno, r;

	lock_order(t, m);
	for (;;) {
		r = REAL(pthread_mutex_trylock)(m);
		if (r != EBUSY)
			break;
		int owner = m->__data.__owner;
		/* An error-checking mutex locked again by its owner. */
		if (owner == q_gettid() && (m->__data.__kind & 3) == 2) {
			r = EDEADLK;
			break;
		}
		r = block_on(t, m, TRACE_MUTEX_LOCK, owner, abs);
		if (r == ENOENT) {
			r = abs ? REAL(pthread_mutex_timedlock)(m, abs)
				: REAL(pthread_mutex_lock)(m);
			break;
		}
		if (r == ETIMEDOUT)
			break;
	}
	if (!r || r == EOWNERDEAD)
		lock_taken(m);
	errno = e;
	return r;
}

int probe_pct_rwlock(struct probe_thread *t, pthread_rwlock_t *l, bool wr,
		     const struct timespec *abs)
{
	int e = errno, r;

	lock_order(t, l);
	for (;;) {
		r = wr ? REAL(pthread_rwlock_trywrlock)(l)
		       : REAL(pthread_rwlock_tryrdlock)(l);
		if (r != EBUSY)
			break;
		r = block_on(t, l, wr ? TRACE_RW_WRLOCK : TRACE_RW_RDLOCK,
			     (int)l->__data.__cur_writer, abs);
		if (r == ENOENT) {
			if (wr)
				r = abs ? REAL(pthread_rwlock_timedwrlock)(l,
									   abs)
					: REAL(pthread_rwlock_wrlock)(l);
			else
				r = abs ? REAL(pthread_rwlock_timedrdlock)(l,
									   abs)
					: REAL(pthread_rwlock_rdlock)(l);
			break;
		}
		if (r == ETIMEDOUT)
			break;
	}
	if (!r)
		lock_taken(l);
	errno = e;
	return r;
}

int probe_pct_spin_lock(struct probe_thread *t, pthread_spinlock_t *l)
{
	int e = errno, r;

	lock_order(t, (const void *)l);
	for (;;) {
		r = REAL(pthread_spin_trylock)(l);
		if (r != EBUSY)
			break;
		if (block_on(t, (const void *)l, TRACE_SPIN_LOCK, 0, NULL)) {
			r = REAL(pthread_spin_lock)(l);
			break;
		}
	}
	if (!r)
		lock_taken((const void *)l);
	errno = e;
	return r;
}

int probe_pct_sem_wait(struct probe_thread *t, sem_t *s,
		       const struct timespec *abs)
{
	int e = errno, r;

	for (;;) {
		if (REAL(sem_trywait)(s) == 0) {
			errno = e;
			return 0;
		}
		if (errno != EAGAIN)
			return -1;
		r = block_on(t, s, TRACE_SEM_WAIT, 0, abs);
		if (r == ENOENT) {
			errno = e;
			return abs ? REAL(sem_timedwait)(s, abs)
				   : REAL(sem_wait)(s);
		}
		if (r == ETIMEDOUT) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
}

int probe_pct_cond_wait(struct probe_thread *t, pthread_cond_t *c,
			pthread_mutex_t *m, const struct timespec *abs)
{
	int e = errno, r, r2;

	r = REAL(pthread_mutex_unlock)(m);
	if (r) {
		errno = e;
		return r;
	}
	lock_dropped(m);
	released(m, TRACE_MUTEX_UNLOCK);
	r = block_on(t, c, TRACE_COND_WAIT, 0, abs);
	if (r == ENOENT) {
		/* No longer scheduled: a real wait, without the mutex; the
		 * caller sees a spurious wakeup. */
		r = 0;
	}
	r2 = probe_pct_mutex_lock(t, m, NULL);
	errno = e;
	return r2 ? r2 : r;
}

/* ---- waiting for children, threads and pipes ----------------------------
 *
 * A child's end is an event of the schedule: the child leaves it (exit,
 * or the supervisor finds it dead) at a step, and its parent's threads
 * blocked in a wait for children are woken then.  The kernel learns of
 * the end a little later (the zombie, SIGCHLD): before any call that
 * asks the kernel, the parent waits (WNOWAIT) until every child that
 * left the schedule is a zombie, so that the kernel's answer, WNOHANG or
 * not, is the schedule's. */

/* The newest slot of process PID, -1 if none. */
static int slot_of_pid(int pid)
{
	for (uint32_t i = __atomic_load_n(&Q.ctl->nslots, __ATOMIC_ACQUIRE);
	     i-- > 0;)
		if (Q.ctl->th[i].pid == pid && Q.ctl->th[i].tid == pid)
			return (int)i;
	return -1;
}

static void settle_children(void)
{
	uint32_t n = __atomic_load_n(&Q.ctl->nslots, __ATOMIC_ACQUIRE);

	for (uint32_t i = 0; i < n && i < PCT_MAX_THREADS; i++) {
		struct pct_thread *th = &Q.ctl->th[i];
		uint32_t one = 1;
		siginfo_t si;

		memset(&si, 0, sizeof(si));
		if (th->ppid != Q.pid || th->pid <= 0 || th->tid != th->pid ||
		    __atomic_load_n(&th->exited, __ATOMIC_ACQUIRE) != 1)
			continue;
		/* A reused pid is another child's now. */
		if (slot_of_pid(th->pid) == (int)i)
			while (REAL(waitid)(P_PID, (id_t)th->pid, &si,
					    WEXITED | WNOWAIT) < 0 &&
			       errno == EINTR)
				;
		__atomic_compare_exchange_n(&th->exited, &one, 2, false,
					    __ATOMIC_RELEASE, __ATOMIC_RELAXED);
	}
}

/* Does a child of ours the schedule runs (PID as waitpid's: > 0 that
 * one, else any) still run? */
static bool children_alive(pid_t pid)
{
	uint32_t n = __atomic_load_n(&Q.ctl->nslots, __ATOMIC_ACQUIRE);

	for (uint32_t i = 0; i < n && i < PCT_MAX_THREADS; i++) {
		const struct pct_thread *th = &Q.ctl->th[i];
		if (th->ppid == Q.pid && th->pid > 0 && th->pid != Q.pid &&
		    (pid <= 0 || th->pid == pid) &&
		    __atomic_load_n(&th->state, __ATOMIC_ACQUIRE) != PCT_GONE)
			return true;
	}
	return false;
}

struct child_spec {
	pid_t pid; /* as waitpid's */
	int options;
};

/* A child matching SPEC can be waited for now (or no child is left). */
static bool child_ready(const void *arg)
{
	const struct child_spec *c = arg;
	int opt = WEXITED | WNOHANG | WNOWAIT |
		  (c->options & (WSTOPPED | WCONTINUED | __WALL | __WCLONE));
	idtype_t idt = c->pid > 0 ? P_PID : c->pid == -1 ? P_ALL : P_PGID;
	id_t id = c->pid > 0	? (id_t)c->pid
		  : c->pid < -1 ? (id_t)-c->pid
				: (id_t)getpgid(0);
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	return REAL(waitid)(idt, id, &si, opt) < 0 || si.si_pid != 0;
}

static void child_obj(struct pct_obj *o)
{
	memset(o, 0, sizeof(*o));
	o->key = pct_child_key(Q.pid);
	o->op = PCT_OP_CHILD;
}

void probe_pct_wait_child(struct probe_thread *t, pid_t pid, int options)
{
	struct child_spec c = {pid, options};
	struct recheck rc = {child_ready, &c};
	struct pct_obj o;
	int e = errno;

	if (t->busy || my_slot(t) < 0)
		return;
	if (options & WNOHANG) {
		/* No sync point: often called from a SIGCHLD handler, which
		 * may have interrupted this thread inside the scheduler. */
		settle_children();
		errno = e;
		return;
	}
	point(t, false);
	child_obj(&o);
	for (;;) {
		settle_children();
		if (child_ready(&c) || !children_alive(pid))
			break;
		if (block_obj(t, &o, NULL, &rc) == ENOENT)
			break;
	}
	errno = e;
}

static bool sig_ready(const void *arg)
{
	sigset_t p;

	if (sigpending(&p))
		return true;
	for (int s = 1; s < NSIG; s++)
		if (sigismember(&p, s) == 1 && sigismember(arg, s) == 1)
			return true;
	return false;
}

int probe_pct_sigwait(struct probe_thread *t, const sigset_t *set,
		      siginfo_t *info, const struct timespec *rel)
{
	static const struct timespec zero = {0, 0};
	struct recheck rc = {sig_ready, set};
	struct timespec abs;
	struct pct_obj o;
	int r, e = errno;

	if (t->busy || my_slot(t) < 0)
		return REAL(sigtimedwait)(set, info, rel);
	if (rel) {
		clock_gettime(CLOCK_MONOTONIC, &abs);
		abs.tv_sec += rel->tv_sec;
		abs.tv_nsec += rel->tv_nsec;
		if (abs.tv_nsec >= 1000000000) {
			abs.tv_sec++;
			abs.tv_nsec -= 1000000000;
		}
	}
	point(t, false);
	child_obj(&o);
	for (;;) {
		settle_children();
		errno = e;
		r = REAL(sigtimedwait)(set, info, &zero);
		if (r >= 0 || errno != EAGAIN ||
		    (rel && !rel->tv_sec && !rel->tv_nsec))
			return r;
		if (sigismember(set, SIGCHLD) != 1 || !children_alive(-1))
			break;
		r = block_obj(t, &o, rel ? &abs : NULL, &rc);
		if (r == ENOENT)
			break;
		if (r == ETIMEDOUT) {
			errno = EAGAIN;
			return -1;
		}
	}
	/* Nothing the schedule runs can end it: the real wait. */
	errno = e;
	return REAL(sigtimedwait)(set, info, rel);
}

void probe_pct_join(struct probe_thread *t, pthread_t th)
{
	struct pct_obj o;
	int j = -1, e = errno;
	uint32_t n;

	if (t->busy || my_slot(t) < 0)
		return;
	n = __atomic_load_n(&Q.ctl->nslots, __ATOMIC_ACQUIRE);
	for (uint32_t i = 0; i < n && i < PCT_MAX_THREADS; i++)
		if (Q.ctl->th[i].pid == Q.pid &&
		    Q.ctl->th[i].pthread == (uint64_t)th &&
		    Q.ctl->th[i].state != PCT_GONE)
			j = (int)i;
	if (j < 0)
		return;
	point(t, false);
	memset(&o, 0, sizeof(o));
	o.key = pct_join_key(j);
	o.op = PCT_OP_JOIN;
	o.owner_tid = Q.ctl->th[j].tid;
	while (__atomic_load_n(&Q.ctl->th[j].state, __ATOMIC_ACQUIRE) !=
	       PCT_GONE)
		if (block_obj(t, &o, NULL, NULL) == ENOENT)
			break;
	errno = e;
}

/* The block key of FD when it is a pipe (FIFO), else 0. */
static uint64_t pipe_key(int fd)
{
	struct stat st;

	if (fstat(fd, &st) || !S_ISFIFO(st.st_mode))
		return 0;
	return pct_obj_key(0x70697065ULL ^ st.st_dev, st.st_ino, ~0ULL);
}

static bool fd_ready(const void *arg)
{
	struct pollfd p = {*(const int *)arg, POLLIN, 0};

	return poll(&p, 1, 0) != 0;
}

void probe_pct_read(struct probe_thread *t, int fd)
{
	struct recheck rc = {fd_ready, &fd};
	struct pct_obj o;
	int e = errno, fl;

	if (t->busy || my_slot(t) < 0)
		return;
	memset(&o, 0, sizeof(o));
	o.key = pipe_key(fd);
	fl = fcntl(fd, F_GETFL);
	if (!o.key || fl < 0 || (fl & O_NONBLOCK)) {
		errno = e;
		return;
	}
	o.op = PCT_OP_PIPE;
	point(t, false);
	while (!fd_ready(&fd))
		if (block_obj(t, &o, NULL, &rc) == ENOENT)
			break;
	errno = e;
}

uint64_t probe_pct_pipe_point(struct probe_thread *t, int fd)
{
	int e = errno;
	uint64_t key;

	if (t->busy || my_slot(t) < 0)
		return 0;
	key = pipe_key(fd);
	if (key)
		point(t, false);
	errno = e;
	return key;
}

void probe_pct_pipe_changed(uint64_t key)
{
	if (!key || !any_blocked())
		return;
	int h = -1;

	ctl_lock();
	if (pct_wake(Q.ctl, key, true) && Q.ctl->holder < 0)
		h = pct_nudge(Q.ctl);
	ctl_unlock();
	wake(h);
}

/* The process PID is dead (a zombie, or reaped), waiting up to 1 s. */
static void await_death(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (REAL(waitid)(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == 0)
		return; /* our child: a zombie now */
	for (int i = 0; i < 1000; i++) {
		char path[64], buf[512], *p;
		struct timespec ts = {0, 1000000};
		ssize_t n;
		int fd;

		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return;
		n = REAL(read)(fd, buf, sizeof(buf) - 1);
		REAL(close)(fd);
		if (n <= 0)
			return;
		buf[n] = 0;
		p = strrchr(buf, ')');
		if (!p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
			return;
		REAL(nanosleep)(&ts, NULL);
	}
}

void probe_pct_killed(struct probe_thread *t, pid_t pid)
{
	int h;

	if (t->busy || my_slot(t) < 0 || slot_of_pid(pid) < 0 ||
	    Q.ctl->th[slot_of_pid(pid)].state == PCT_GONE)
		return;
	/* Its death is a step of the schedule: here, not when the
	 * supervisor happens to see it. */
	await_death(pid);
	ctl_lock();
	h = pct_leave_process(Q.ctl, pid, true);
	ctl_unlock();
	wake(h);
}

/* ---- processes and threads --------------------------------------------- */

void probe_pct_prefork(struct probe_thread *t)
{
	if (!Q.ctl || my_slot(t) < 0) {
		Q.fork_slot = -1;
		return;
	}
	ctl_lock();
	Q.fork_slot = pct_join(Q.ctl, 0, 0);
	if (Q.fork_slot >= 0)
		Q.ctl->th[Q.fork_slot].ppid = Q.pid;
	ctl_unlock();
}

void probe_pct_forked(struct probe_thread *t, pid_t r)
{
	int s = Q.fork_slot, e = errno;

	if (s < 0)
		return;
	Q.fork_slot = -1;
	ctl_lock();
	if (r > 0) {
		Q.ctl->th[s].pid = r;
		Q.ctl->th[s].tid = r;
	} else {
		pct_leave(Q.ctl, s);
	}
	ctl_unlock();
	/* The child may run first: that is the scheduler's choice. */
	if (r > 0)
		point(t, false);
	errno = e;
}

void probe_pct_child(void)
{
	int s = Q.fork_slot;

	Q.ppid = Q.pid;
	Q.pid = (int)getpid();
	Q.main_slot = s;
	Q.fork_slot = -1;
	if (s < 0)
		return;
	ctl_lock();
	Q.ctl->th[s].pid = Q.pid;
	Q.ctl->th[s].tid = Q.pid;
	ctl_unlock();
	wait_baton(s);
}

struct pct_start {
	void *(*fn)(void *);
	void *arg;
	int slot;
};

static void *pct_thread_start(void *p)
{
	struct pct_start st = *(struct pct_start *)p;
	struct probe_thread *t = &probe_tls;
	void *ret;

	free(p);
	t->pct_slot1 = st.slot + 1;
	__atomic_store_n(&Q.ctl->th[st.slot].tid, q_gettid(), __ATOMIC_RELEASE);
	wait_baton(st.slot);
	ret = st.fn(st.arg);
	probe_pct_thread_exit(t);
	return ret;
}

int probe_pct_create(struct probe_thread *t, pthread_t *th,
		     const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
	struct pct_start *st;
	int r;

	if (!Q.ctl || my_slot(t) < 0 || !(st = malloc(sizeof(*st))))
		return REAL(pthread_create)(th, a, fn, arg);
	st->fn = fn;
	st->arg = arg;
	ctl_lock();
	st->slot = pct_join(Q.ctl, Q.pid, 0);
	if (st->slot >= 0)
		Q.ctl->th[st->slot].ppid = Q.ppid;
	ctl_unlock();
	if (st->slot < 0) {
		free(st);
		return REAL(pthread_create)(th, a, fn, arg);
	}
	r = REAL(pthread_create)(th, a, pct_thread_start, st);
	if (!r)
		__atomic_store_n(&Q.ctl->th[st->slot].pthread, (uint64_t)*th,
				 __ATOMIC_RELEASE);
	if (r) {
		ctl_lock();
		pct_leave(Q.ctl, st->slot);
		ctl_unlock();
		free(st);
		return r;
	}
	probe_pct_point(t, TRACE_THREAD_CREATE, false);
	/* st belongs to the new thread now. */
	// cppcheck-suppress memleak
	return r;
}

void probe_pct_thread_exit(struct probe_thread *t)
{
	int s, h, e = errno;

	if (!Q.ctl || (s = my_slot(t)) < 0)
		return;
	ctl_lock();
	h = pct_leave(Q.ctl, s);
	ctl_unlock();
	t->pct_slot1 = -1;
	if (h != s)
		wake(h);
	errno = e;
}

void probe_pct_exit(void)
{
	int h, e = errno;

	if (!Q.ctl)
		return;
	ctl_lock();
	h = pct_leave_process(Q.ctl, Q.pid, false);
	ctl_unlock();
	wake(h);
	errno = e;
}

void probe_pct_exec(struct probe_thread *t, bool failed)
{
	int s, h = -1, e = errno;

	if (!Q.ctl || (s = my_slot(t)) < 0)
		return;
	ctl_lock();
	if (failed) {
		Q.ctl->th[s].execing = 0;
	} else {
		/* The other threads die with the old image. */
		for (uint32_t i = 0; i < Q.ctl->nslots; i++)
			if (Q.ctl->th[i].pid == Q.pid && (int)i != s &&
			    Q.ctl->th[i].state != PCT_GONE)
				h = pct_leave(Q.ctl, (int)i);
		Q.ctl->th[s].execing = 1;
	}
	ctl_unlock();
	if (h >= 0 && h != s)
		wake(h);
	errno = e;
}

/* ---- start ------------------------------------------------------------ */

void probe_pct_init(void)
{
	const char *name = getenv("SHMFUZZ_PCT");
	struct pct_ctl *ctl;
	int fd, s = -1, h;

	if (!name || !*name)
		return;
	fd = REAL(shm_open)(name, O_RDWR | O_CLOEXEC, 0);
	if (fd < 0)
		return;
	ctl = REAL(mmap)(NULL, sizeof(*ctl), PROT_READ | PROT_WRITE, MAP_SHARED,
			 fd, 0);
	close(fd);
	if (ctl == MAP_FAILED)
		return;
	if (ctl->magic != PCT_MAGIC || ctl->size != sizeof(*ctl)) {
		REAL(munmap)(ctl, sizeof(*ctl));
		return;
	}
	Q.ctl = ctl;
	Q.pid = (int)getpid();
	Q.ppid = (int)getppid();
	ctl_lock();
	/* An exec'd image keeps the slot of the thread that exec'd. */
	for (uint32_t i = 0; i < ctl->nslots; i++) {
		if (ctl->th[i].pid == Q.pid && ctl->th[i].execing &&
		    ctl->th[i].state != PCT_GONE) {
			s = (int)i;
			ctl->th[i].execing = 0;
			ctl->th[i].tid = Q.pid;
			break;
		}
	}
	if (s >= 0) /* its descriptors marked close-on-exec are closed */
		pct_wake_op(ctl, PCT_OP_PIPE);
	if (s < 0) {
		s = pct_join(ctl, Q.pid, Q.pid);
		if (s >= 0)
			ctl->th[s].ppid = Q.ppid;
	}
	h = s >= 0 ? pct_resume(ctl, s) : -1;
	ctl_unlock();
	Q.main_slot = s;
	probe_tls.pct_slot1 = s + 1;
	probe_noise = PROBE_SCHED_PCT;
	if (s >= 0 && h != s)
		wait_baton(s);
}
