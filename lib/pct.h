/*
 * pct.h - the controlled scheduler of `shmfuzz --strategy pct`: the
 * control segment's format and the pure scheduling logic, compiled both
 * into libshmprobe.so (the threads of the run pass the baton) and into
 * shmfuzz (the run's supervisor creates the segment, moves the baton on
 * when its holder blocks outside the probe's view or dies, and saves the
 * schedule).
 *
 * One POSIX segment per run (struct pct_ctl) holds a slot per thread of
 * every process of the run.  Exactly one slot is the holder: its thread
 * runs, every other one waits on its own futex word (shared, not
 * private).  At every synchronisation point the holder calls
 * pct_point(), which counts a step, applies PCT's priority change points
 * and picks the next holder; a thread about to block calls pct_block(), a
 * release pct_wake().  Everything here is called with ctl->lock held
 * (a process-shared robust mutex: a process SIGKILLed while holding it
 * does not stop the run) and never blocks, prints, allocates or exits;
 * granting the baton is pct_grant(), which only updates the segment and
 * returns the slot whose futex word must be woken.
 *
 * PCT (Burckhardt et al., ASPLOS 2010): each thread gets a random
 * distinct priority when it joins, from the seed and its join order (a
 * slot's index); depth-1 change points are drawn uniformly in [1, k]; at
 * change point i the running thread's priority drops to i, below every
 * initial priority; the highest-priority runnable thread always runs.
 * A thread that yields (sched_yield, a sleep, a failed try-lock) drops
 * below every thread that has not yielded since, so a spin loop cannot
 * starve the thread it waits for.
 *
 * The schedule (every change of holder, with the step at which it
 * happened) is recorded in the segment; given back as a replay schedule,
 * it is followed instead of the priorities (docs/pct.md).
 */
#ifndef SHMSCOPE_PCT_H
#define SHMSCOPE_PCT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define PCT_MAGIC	0x31544350u /* "PCT1" */
#define PCT_MAX_THREADS 512
#define PCT_MAX_DEPTH	16
#define PCT_MAX_SCHED	65536 /* recorded switches; more are counted */
#define PCT_MAX_REPLAY	65536
#define PCT_SEG_NAME	48
#define PCT_DEFAULT_K	1000
/* A holder that passed this many sync points in a row gives way as if it
 * yielded: PCT assumes programs that end, and a thread that loops on
 * locks without ever blocking would otherwise starve the others. */
#define PCT_FAIR_STEPS 2000
/* A timed wait this short is a retry loop's timer, which fires in real
 * life whenever the peer is slow: PCT may pick it like a runnable thread.
 * Longer ones ("the peer died") time out only when nothing else can run. */
#define PCT_SHORT_TIMEOUT_MS 20
/* Lock-order edges remembered per run (for hot steps, below). */
#define PCT_MAX_EDGES 1024

/* A slot's state. */
enum pct_state {
	PCT_FREE = 0,
	PCT_RUNNABLE, /* wants the baton (or is about to start) */
	PCT_RUNNING,  /* holds it */
	PCT_BLOCKED,  /* waits for a release of an object */
	PCT_OUTSIDE,  /* runs outside the probe's view: not scheduled */
	PCT_GONE,     /* left: exited, or its process died */
};

/* What a thread blocks on besides the probe's objects (pct_obj.op, above
 * the trace ops): children of its process to end (waitpid, wait4, waitid,
 * sigwaitinfo and sigtimedwait for SIGCHLD), a thread to end
 * (pthread_join), a pipe to become readable (read). */
#define PCT_OP_CHILD 0x10001u
#define PCT_OP_JOIN  0x10002u
#define PCT_OP_PIPE  0x10003u

/* Why the holder changed (recorded with the switch). */
enum pct_reason {
	PCT_R_START = 0,   /* the first holder */
	PCT_R_PREEMPT,	   /* the holder could have gone on */
	PCT_R_YIELD,	   /* the holder yielded */
	PCT_R_BLOCK,	   /* the holder blocked */
	PCT_R_LEAVE,	   /* the holder exited */
	PCT_R_OUTSIDE,	   /* the watchdog moved the baton on */
	PCT_R_DEAD,	   /* the holder's process died */
	PCT_R_TIMEOUT,	   /* nothing could run: a timed wait timed out */
	PCT_R_RESUME,	   /* nothing held the baton; a thread came back */
	PCT_R_EARLY,	   /* at a sync point, a short timed wait fired */
	PCT_R_EARLY_BLOCK, /* the holder blocked, a short timed wait fired */
	PCT_NREASONS
};

/* The object a blocked thread waits for, as every process names it. */
struct pct_obj {
	uint64_t key;	   /* hash of (dev, ino, offset); 0: none */
	uint64_t off;	   /* offset in its segment */
	uint32_t op;	   /* trace op of the blocking call */
	int32_t owner_tid; /* a mutex's or rwlock's owner when known, else 0 */
	char seg[PCT_SEG_NAME]; /* segment name, "" for private memory */
};

struct pct_thread {
	uint32_t futex; /* bumped at every grant; waited on */
	uint32_t state; /* enum pct_state */
	uint64_t prio;
	int32_t pid, tid;
	uint32_t execing; /* in exec: the new image takes this slot */
	uint32_t timed;	  /* a timed wait: may time out */
	uint32_t timed_out;
	/* A short timeout (PCT_SHORT_TIMEOUT_MS at most when it blocked):
	 * it may fire while others could run, when its priority says so. */
	uint32_t early;
	uint32_t spins;	    /* supervisor: times found running with the baton */
	uint32_t woken;	    /* released by a post/unlock/signal (or retry) */
	uint64_t block_seq; /* order of blocking, for a condvar signal */
	struct timespec deadline; /* of a timed wait (its own clock) */
	struct pct_obj obj;	  /* what it is blocked on */
	uint64_t steps;		  /* sync points it passed */
	int32_t ppid;		  /* the parent of its process (fork) */
	uint32_t exited;	  /* its process left (exit, or died): 1; 2 once
				   * its parent saw it end in the kernel */
	uint64_t pthread; /* its pthread_t in its process, 0: not known */
	/* Blocked on something the kernel may change without the probe
	 * (PCT_OP_PIPE, a signal): the thread looks again itself, and a
	 * deadlock among such waits is confirmed only after a while. */
	uint32_t recheck;
	uint32_t pad1;
};

/* Thread SLOT took lock TO while holding FROM (keys of pct_obj). */
struct pct_edge {
	uint64_t from, to;
	int32_t slot;
	uint32_t used;
};

struct pct_switch {
	uint64_t step;
	uint32_t slot;
	uint32_t reason;
};

struct pct_ctl {
	uint32_t magic;
	uint32_t size;
	pthread_mutex_t lock; /* process-shared, robust */
	uint64_t seed;
	uint32_t depth;
	uint32_t pad0;
	uint64_t k; /* steps the change points are drawn in */
	uint64_t change[PCT_MAX_DEPTH]; /* change[i]: step of change i+1 */
	uint64_t steps;			/* sync points passed by all */
	int32_t holder;			/* slot, -1: none */
	uint32_t nslots;		/* slots used (join order) */
	uint64_t yield_floor;		/* next priority of a yielder */
	uint64_t block_seq;
	uint64_t preemptions;
	uint64_t run_len; /* steps of the holder since it got the baton */
	/* Directed runs (half of them, from the seed): at a hot step (a
	 * lock-order inversion, an initialisation while others run) the
	 * holder's priority drops below every other with probability 1/2. */
	uint32_t directed;
	uint32_t nedges;
	uint64_t hot;	   /* hot steps passed */
	uint64_t hot_prio; /* the next priority a hot step gives */
	uint64_t hot_fired;
	struct pct_edge edge[PCT_MAX_EDGES];
	/* All scheduled threads blocked: 1 (the step it happened at is
	 * deadlock_step); the supervisor reports it. */
	uint32_t deadlock;
	uint32_t noutside_at_deadlock;
	uint64_t deadlock_step;
	/* The recorded schedule. */
	uint32_t nsched;
	uint32_t sched_lost; /* switches past PCT_MAX_SCHED */
	struct pct_switch sched[PCT_MAX_SCHED];
	/* A schedule to follow (--replay-schedule): nreplay > 0. */
	uint32_t nreplay;
	uint32_t replay_pos;
	struct pct_switch replay[PCT_MAX_REPLAY];
	struct pct_thread th[PCT_MAX_THREADS];
};

/* Fill a fresh (zeroed, mapped) CTL for a run: seed, depth, k, and no
 * replay schedule.  The lock is initialised by the caller (it takes the
 * real pthread functions). */
void pct_ctl_setup(struct pct_ctl *ctl, uint64_t seed, unsigned depth,
		   uint64_t k);

/* Take a new slot for a thread of PID/TID (TID 0: not started yet) in
 * state RUNNABLE; -1 when every slot is used. */
int pct_join(struct pct_ctl *ctl, int pid, int tid);

/* A sync point of the holder SELF: count a step, apply a change point,
 * and pick who runs next (SELF stays RUNNING or becomes RUNNABLE).  With
 * YIELD, SELF first drops below every thread that has not yielded.
 * Returns the new holder (to wake when it is not SELF). */
int pct_point(struct pct_ctl *ctl, int self, bool yield);

/* A hot step of the holder SELF (see pct_ctl.directed): a sync point as
 * pct_point(), where in a directed run SELF's priority drops below every
 * other thread's with probability 1/2 (from the seed). */
int pct_hot(struct pct_ctl *ctl, int self);

/* SELF, holding the lock FROM, takes TO: remember the order; true when
 * another thread took them in the opposite order before (a potential
 * ABBA deadlock: a hot step). */
bool pct_lock_order(struct pct_ctl *ctl, int self, uint64_t from, uint64_t to);

/* SELF blocks on OBJ (DEADLINE: a timed wait, which times out when
 * nothing else can run, or, EARLY, when PCT picks it); the baton goes on.
 * Returns the new holder (may be -1: nobody can run; see
 * ctl->deadlock). */
int pct_block(struct pct_ctl *ctl, int self, const struct pct_obj *obj,
	      const struct timespec *deadline, bool early);

/* A release of the object KEY: ALL wakes every thread blocked on it,
 * else the one that blocked first.  KEY 0 wakes every blocked thread (to
 * retry).  Returns how many were woken (now RUNNABLE). */
int pct_wake(struct pct_ctl *ctl, uint64_t key, bool all);

/* Block keys: the children of process PID; thread SLOT's end. */
uint64_t pct_child_key(int pid);
uint64_t pct_join_key(int slot);

/* Wake every thread blocked in an OP wait (PCT_OP_*), whatever the
 * object.  Returns how many. */
int pct_wake_op(struct pct_ctl *ctl, uint32_t op);

/* SELF leaves the schedule (its thread ends; its joiners are woken).
 * Returns the new holder. */
int pct_leave(struct pct_ctl *ctl, int self);

/* Every slot of process PID leaves (its process ended or died; DEAD: it
 * died, so every blocked thread is woken to retry: a robust mutex it held
 * now tells them so).  Its parent's threads waiting for a child, and
 * every pipe reader (its descriptors close), are woken.  Returns the new
 * holder. */
int pct_leave_process(struct pct_ctl *ctl, int pid, bool dead);

/* When nobody holds the baton but a thread can run (a thread outside
 * the probe's view released it), give it the baton.  Returns the holder
 * (-1: still none). */
int pct_nudge(struct pct_ctl *ctl);

/* The holder runs outside the probe's view: it is no longer scheduled
 * until it comes back through pct_resume(); the baton goes on.  Returns
 * the new holder. */
int pct_outside(struct pct_ctl *ctl);

/* SELF (RUNNABLE, OUTSIDE or a fresh joiner) wants the baton back: it
 * becomes the holder at once when nobody holds it.  Returns the holder. */
int pct_resume(struct pct_ctl *ctl, int self);

/* Whether SELF may run now. */
static inline bool pct_is_holder(const struct pct_ctl *ctl, int self)
{
	return __atomic_load_n(&ctl->holder, __ATOMIC_ACQUIRE) == self;
}

/* Blocked threads, outside threads (for the deadlock test). */
int pct_count(const struct pct_ctl *ctl, enum pct_state st);

const char *pct_reason_name(unsigned reason);
const char *pct_state_name(unsigned state);

/* The 64-bit key of an object at OFF in the file (DEV, INO). */
uint64_t pct_obj_key(uint64_t dev, uint64_t ino, uint64_t off);

#endif
