/*
 * sync.h - decode glibc's synchronisation objects from their raw bytes.
 *
 * Given the bytes of a pthread_mutex_t, sem_t, pthread_rwlock_t,
 * pthread_cond_t, pthread_spinlock_t, pthread_barrier_t or a futex word, as
 * some process left them in a shared segment, say what state the object is
 * in: free or held, by which thread, how deep, who waits.  Nothing here
 * looks at /proc: the owner's process, whether it is alive, and which
 * threads sleep in futex() are the snapshot's business (proc.h), which
 * completes what is decoded here (see sync_state_owner_gone()).
 *
 * The layouts and the meaning of every bit depend on the ABI and on the
 * glibc version that wrote the bytes; both are held in a struct
 * sync_target, and every rule in sync.c names the glibc source it comes
 * from.  docs/sync.md explains each state.
 *
 * Bytes that glibc can never have produced for the given kind (garbage
 * kind bits, impossible combinations, out-of-range thread ids) decode as
 * SYNC_S_INVALID and never as a plausible state.
 */
#ifndef SHMSCOPE_SYNC_H
#define SHMSCOPE_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi.h"
#include "err.h"
#include "json.h"
#include "synckind.h"

/* Who wrote the bytes: an ABI and a glibc version. */
struct sync_target {
	enum abi_id abi;
	int glibc_major;
	int glibc_minor;
};

/*
 * Fill T for ABI and GLIBC_VERSION ("2.36", "2.41", ...; NULL for the glibc
 * this program runs on, from gnu_get_libc_version()).  Returns 0, or
 * -EINVAL with a message in E when the version cannot be parsed or is older
 * than 2.25 (the first glibc with today's rwlock and condvar; older layouts
 * are not known here) or the ABI is unknown.
 */
int sync_target_init(struct sync_target *t, enum abi_id abi,
		     const char *glibc_version, struct errbuf *e);

/* The host ABI and the running glibc; never fails. */
void sync_target_host(struct sync_target *t);

/* sizeof and _Alignof of KIND's C type on T's ABI; 0 for SYNC_NONE. */
size_t sync_size(const struct sync_target *t, enum sync_kind kind);
size_t sync_align(const struct sync_target *t, enum sync_kind kind);

/* The decoded states.  Which kinds use which: docs/sync.md. */
enum sync_state_id {
	SYNC_S_FREE,		/* mutex, rwlock, spin: nobody holds it */
	SYNC_S_LOCKED,		/* mutex, spin: held, nobody waits */
	SYNC_S_CONTENDED,	/* mutex: held, waiters may sleep on it */
	SYNC_S_OWNER_DEAD,	/* held by a thread that is gone */
	SYNC_S_INCONSISTENT,	/* robust: EOWNERDEAD taken, not consistent */
	SYNC_S_NOT_RECOVERABLE, /* robust: unlocked while inconsistent */
	SYNC_S_READ_LOCKED,	/* rwlock: held by readers */
	SYNC_S_WRITE_LOCKED,	/* rwlock: held by a writer */
	SYNC_S_AVAILABLE,	/* sem: value > 0, nobody waits */
	SYNC_S_ZERO,		/* sem: value 0, nobody waits; futex word 0 */
	SYNC_S_NONZERO,		/* futex word != 0 */
	SYNC_S_IDLE,		/* cond, barrier: nobody waits */
	SYNC_S_WAITING,		/* sem, cond, barrier: threads wait */
	SYNC_S_DESTROYED,	/* mutex, cond, barrier: *_destroy() ran */
	SYNC_S_INVALID,		/* not bytes glibc writes for this kind */
	SYNC_S_COUNT
};

/* "free", "locked", "contended", "owner-dead", "inconsistent",
 * "not-recoverable", "read-locked", "write-locked", "available", "zero",
 * "nonzero", "idle", "waiting", "destroyed", "invalid". */
const char *sync_state_name(enum sync_state_id s);

/* struct sync_state.flags */
#define SYNC_F_SHARED	 0x01u /* process-shared (pshared attribute) */
#define SYNC_F_ROBUST	 0x02u /* mutex: robust */
#define SYNC_F_PI	 0x04u /* mutex: priority inheritance */
#define SYNC_F_PP	 0x08u /* mutex: priority protection (ceiling) */
#define SYNC_F_ELISION	 0x10u /* mutex: lock elision was used */
#define SYNC_F_MONOTONIC 0x20u /* cond: waits on CLOCK_MONOTONIC */
#define SYNC_F_WAITERS_MIN \
	0x40u /* waiters is a lower bound: the bytes say "at least" */

/* Unknown from the bytes (waiters of a contended mutex, spinners). */
#define SYNC_UNKNOWN (-1)

struct sync_state {
	enum sync_kind kind;
	enum sync_state_id state;
	/*
	 * The object's value as DESIGN.md's expressions see it: a mutex,
	 * spinlock or write-held rwlock is 1 when held (a read-held rwlock:
	 * its number of readers), a sem its count, a cond its waiters, a
	 * barrier the threads arrived in this round, a futex its word.
	 */
	long long value;
	int waiters;	/* threads blocked on it, or SYNC_UNKNOWN */
	int owner_tid;	/* holder's thread id (kernel's, namespace of
			   the writer), 0 when none or unknown */
	unsigned flags; /* SYNC_F_* */
	uint32_t word;	/* the raw lock/futex word */
	/* mutex */
	unsigned recursion; /* __count: depth of a recursive mutex */
	const char *type;   /* "normal" "recursive" "errorcheck" "adaptive";
			       rwlock: "prefer-reader" "prefer-writer"
			       "prefer-writer-nonrecursive"; else NULL */
	int prio_ceiling;   /* PP mutex ceiling, else -1 */
	/* rwlock */
	int readers;	     /* readers holding it */
	int readers_waiting; /* readers blocked, or SYNC_UNKNOWN */
	int writers_waiting; /* writers blocked (lower bound, see flags) */
	/* barrier */
	unsigned count;	  /* threads per round */
	char detail[128]; /* one line for humans: why this state */
};

/*
 * Decode LEN bytes at BYTES as an object of KIND written by T's glibc.
 * BYTES need not be aligned.  Returns 0 and fills OUT (also for invalid
 * bytes: OUT->state is SYNC_S_INVALID and OUT->detail says why), or
 * -EINVAL when KIND is SYNC_NONE/unknown or LEN is smaller than
 * sync_size() (a futex word needs 4 bytes).
 *
 * A non-robust mutex whose holder died still reads "locked": the bytes
 * cannot tell.  The caller that knows the owner is gone upgrades it with
 * sync_state_owner_gone().
 */
int sync_decode(const struct sync_target *t, enum sync_kind kind,
		const void *bytes, size_t len, struct sync_state *out);

/*
 * The owner thread of S (S->owner_tid) is known to be gone: a held mutex,
 * spinlock or write-held rwlock becomes SYNC_S_OWNER_DEAD (the owner tid
 * is kept as the last known owner).  Returns true when S changed.
 */
bool sync_state_owner_gone(struct sync_state *s);

/*
 * What a thread blocked in futex() on byte OFF of an object of KIND is
 * waiting for, given the futex words glibc sleeps on:
 *   mutex    "lock" (__lock)
 *   sem      "sem_wait" (the value word)
 *   rwlock   "read" (__readers), "phase" (__wrphase_futex: a reader or the
 *            primary writer waiting for its phase), "write"
 *            (__writers_futex)
 *   cond     "signal" (__g_signals[0/1]), "internal-lock" (__g1_orig_size),
 *            "destroy" (__wrefs, pthread_cond_destroy waiting)
 *   barrier  "round" (current_round), "reset" (in)
 *   futex    "wake" (the word)
 * NULL when OFF is not a futex word of KIND (spinlocks have none).  The
 * snapshot uses it to say why each futex waiter in /proc waits.
 */
const char *sync_futex_role(const struct sync_target *t, enum sync_kind kind,
			    size_t off);

/*
 * Write the decoded members of S into the JSON object the caller has open:
 * "kind", "state", "value", "waiters" (null when unknown; followed by
 * "waiters_at_least": true when it is a lower bound), "owner_tid" (null
 * when none), then what the kind has: "type", "robust", "pi", "pp",
 * "prio_ceiling", "recursion", "readers", "readers_waiting",
 * "writers_waiting", "clock", "count", "shared", and "detail".  The caller
 * adds "path", "owner_pid", "owner_comm", "owner_alive".
 */
void sync_json(struct json *j, const struct sync_state *s);

#endif
