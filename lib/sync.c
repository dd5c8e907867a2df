/*
 * sync.c - decode glibc's synchronisation objects from their raw bytes.
 *
 * Everything that differs between ABIs is in abi_layouts[], everything that
 * differs between glibc versions in cond_rules[]; the decoders below read
 * the fields those tables place and apply glibc's own encoding, each rule
 * with the glibc source file it comes from.  Paths are relative to the
 * glibc source tree (2.36 unless said otherwise).
 *
 * The bytes are a snapshot of memory other processes change while we copy
 * it, so fields that change at run time (lock words, counters) may be torn
 * against each other.  Consistency between such fields is therefore never
 * a reason to call bytes invalid; only values glibc can never store (in a
 * single field, or in fields fixed at init time like __kind) are.
 */
#include "sync.h"

#include <errno.h>
#include <gnu/libc-version.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/*
 * The largest thread id Linux hands out: PID_MAX_LIMIT (4 * 1024 * 1024,
 * include/linux/threads.h) on 64-bit kernels, which also run i386
 * programs.  A "tid" above it is not one.
 */
#define SYNC_TID_MAX 4194304

/* nptl/pthreadP.h: __kind bits of pthread_mutex_t. */
#define MUTEX_KIND_MASK	 3   /* PTHREAD_MUTEX_KIND_MASK_NP */
#define MUTEX_ROBUST	 16  /* PTHREAD_MUTEX_ROBUST_NORMAL_NP */
#define MUTEX_PI	 32  /* PTHREAD_MUTEX_PRIO_INHERIT_NP */
#define MUTEX_PP	 64  /* PTHREAD_MUTEX_PRIO_PROTECT_NP */
#define MUTEX_PSHARED	 128 /* PTHREAD_MUTEX_PSHARED_BIT */
#define MUTEX_ELISION	 256 /* PTHREAD_MUTEX_ELISION_NP */
#define MUTEX_NO_ELISION 512 /* PTHREAD_MUTEX_NO_ELISION_NP */
#define MUTEX_KIND_KNOWN                                        \
	(MUTEX_KIND_MASK | MUTEX_ROBUST | MUTEX_PI | MUTEX_PP | \
	 MUTEX_PSHARED | MUTEX_ELISION | MUTEX_NO_ELISION)
/* nptl/pthreadP.h: __owner cookies of a robust mutex. */
#define MUTEX_INCONSISTENT   0x7fffffff /* PTHREAD_MUTEX_INCONSISTENT */
#define MUTEX_NOTRECOVERABLE 0x7ffffffe /* PTHREAD_MUTEX_NOTRECOVERABLE */
/* nptl/pthreadP.h: a PP mutex keeps its ceiling in the lock word. */
#define MUTEX_CEILING_SHIFT 19 /* PTHREAD_MUTEX_PRIO_CEILING_SHIFT */
/* include/uapi/linux/futex.h (kernel): robust and PI lock words. */
#define FUTEX_WAITERS	 0x80000000u
#define FUTEX_OWNER_DIED 0x40000000u
#define FUTEX_TID_MASK	 0x3fffffffu
/* sysdeps/nptl/lowlevellock-futex.h: futex_private of sem and barrier:
 * LLL_SHARED is FUTEX_PRIVATE_FLAG, LLL_PRIVATE is 0. */
#define LLL_SHARED 128
/* nptl/pthread_rwlock_common.c: __readers bits. */
#define RW_WRPHASE	1u
#define RW_WRLOCKED	2u
#define RW_RWAITING	4u
#define RW_READER_SHIFT 3
#define RW_WRHANDOVER	0x80000000u /* in __writers */
#define RW_FUTEX_USED	2u	    /* in the futex words */
/* nptl/pthread_cond_wait.c (comment above __pthread_cond_wait_common):
 * __wrefs bits. */
#define COND_SHARED	  1u
#define COND_MONOTONIC	  2u
#define COND_WAKE_REQUEST 4u
#define COND_WREFS_SHIFT  3
/* sysdeps/nptl/internaltypes.h: BARRIER_IN_THRESHOLD. */
#define BARRIER_THRESHOLD 0x7fffffffu
/* sysdeps/unix/sysv/linux/bits/local_lim.h: SEM_VALUE_MAX */
#define SEM_MAX 0x7fffffffu

/*
 * Per-ABI layouts.  Offsets that are the same on every ABI (a mutex's
 * __lock at 0, the first six words of pthread_rwlock_t, sem_t's first
 * word, pthread_barrier_t, the futex word) are written in the decoders.
 */
struct abi_layout {
	/* pthread_mutex_t: struct __pthread_mutex_s */
	uint8_t m_count, m_owner, m_kind;
	uint8_t m_list, m_list_len; /* __list, 0 when it shares a union */
	bool m_elision;		    /* the ABI has lock elision */
	/* sem_t: struct new_sem */
	bool s_wide; /* __HAVE_64B_ATOMICS: one 64-bit data word */
	uint8_t s_private, s_nwaiters;
	/* pthread_rwlock_t: struct __pthread_rwlock_arch_t */
	uint8_t r_cur_writer, r_shared, r_shared_len, r_flags, r_flags_len;
	/* pthread_spinlock_t: the value of a free lock */
	int spin_free;
};

/* The sizes of the objects are abi.c's (abi_sync_size), shared with the
 * layout parser.  The tables read best one ABI per block, a few fields a
 * line. */
/* clang-format off */
static const struct abi_layout abi_layouts[ABI_COUNT] = {
	[ABI_X86_64] = {
		/* sysdeps/x86/nptl/bits/struct_mutex.h: __lock, __count,
		 * __owner, __nusers, __kind, short __spins, short __elision,
		 * __pthread_list_t __list */
		.m_count = 4, .m_owner = 8, .m_kind = 16,
		.m_list = 24, .m_list_len = 16,
		/* sysdeps/unix/sysv/linux/x86/force-elision.h */
		.m_elision = true,
		/* sysdeps/nptl/internaltypes.h: uint64_t data; int private */
		.s_wide = true, .s_private = 8,
		/* sysdeps/x86/nptl/bits/struct_rwlock.h (__x86_64__) */
		.r_cur_writer = 24, .r_shared = 28, .r_shared_len = 4,
		.r_flags = 48, .r_flags_len = 4,
		/* sysdeps/x86_64/nptl/pthread_spin_lock.S: "lock decl", the
		 * lock is taken when that reaches 0; pthread_spin_unlock.S
		 * and pthread_spin_init store 1 */
		.spin_free = 1,
	},
	[ABI_AARCH64] = {
		/* sysdeps/aarch64/nptl/bits/struct_mutex.h: the generic
		 * sysdeps/nptl/bits/struct_mutex.h with int __spins */
		.m_count = 4, .m_owner = 8, .m_kind = 16,
		.m_list = 24, .m_list_len = 16,
		.m_elision = false,
		.s_wide = true, .s_private = 8,
		/* sysdeps/aarch64/nptl/bits/struct_rwlock.h */
		.r_cur_writer = 24, .r_shared = 28, .r_shared_len = 4,
		.r_flags = 48, .r_flags_len = 4,
		/* nptl/pthread_spin_lock.c: exchange (or CAS) 0 -> 1 */
		.spin_free = 0,
	},
	[ABI_I386] = {
		/* sysdeps/x86/nptl/bits/struct_mutex.h: __lock, __count,
		 * __owner, __kind, __nusers, union { spins; __list } */
		.m_count = 4, .m_owner = 8, .m_kind = 12,
		.m_list = 20, .m_list_len = 0,
		.m_elision = true,
		/* sysdeps/nptl/internaltypes.h (!__HAVE_64B_ATOMICS):
		 * unsigned value; int private; int pad; unsigned nwaiters */
		.s_wide = false, .s_private = 4, .s_nwaiters = 12,
		/* sysdeps/x86/nptl/bits/struct_rwlock.h (!__x86_64__) */
		.r_cur_writer = 28, .r_shared = 25, .r_shared_len = 1,
		.r_flags = 24, .r_flags_len = 1,
		/* sysdeps/i386/nptl/pthread_spin_lock.S: as on x86-64 */
		.spin_free = 1,
	},
};

/*
 * pthread_cond_t by glibc version, the same on every ABI (48 bytes: two
 * 64-bit counters, then 32-bit words): sysdeps/nptl/bits/thread-shared-types.h
 * struct __pthread_cond_s.
 */
struct cond_rule {
	int major, minor;	/* first version the rule holds for */
	uint8_t wseq, g1_start, g1_orig_size, wrefs;
	uint8_t g_refs; /* __g_refs[2], 0 when the version has none */
	uint8_t g1_shift;	/* __g1_start >> g1_shift: a waiter position */
};

static const struct cond_rule cond_rules[] = {
	/* 2.25 (the new condvar) to 2.40: __g_refs[2] at 16, __g_size[2]
	 * at 24, __g1_orig_size 32, __wrefs 36, __g_signals[2] 40; the LSB
	 * of __g1_start is the index of G2 (nptl/pthread_cond_common.c). */
	{ 2, 25, .wseq = 0, .g1_start = 8, .g1_orig_size = 32, .wrefs = 36,
	  .g_refs = 16,
	  .g1_shift = 1 },
	/* 2.41: "nptl: Remove g_refs from condition variables" dropped
	 * __g_refs, so everything after __g1_start moved up 8 bytes:
	 * __g_size 16, __g1_orig_size 24, __wrefs 28, __g_signals 32, then
	 * two unused words at 40.  __wrefs keeps its meaning (waiters << 3 |
	 * wake-request | clock | shared, nptl/pthread_cond_wait.c), and
	 * __g1_start became a plain position ("nptl: Use all of g1_start and
	 * g_signals"). */
	{ 2, 41, .wseq = 0, .g1_start = 8, .g1_orig_size = 24, .wrefs = 28,
	  .g1_shift = 0 },
};
/* clang-format on */

static const char *const state_names[SYNC_S_COUNT] = {
	[SYNC_S_FREE] = "free",
	[SYNC_S_LOCKED] = "locked",
	[SYNC_S_CONTENDED] = "contended",
	[SYNC_S_OWNER_DEAD] = "owner-dead",
	[SYNC_S_INCONSISTENT] = "inconsistent",
	[SYNC_S_NOT_RECOVERABLE] = "not-recoverable",
	[SYNC_S_READ_LOCKED] = "read-locked",
	[SYNC_S_WRITE_LOCKED] = "write-locked",
	[SYNC_S_AVAILABLE] = "available",
	[SYNC_S_ZERO] = "zero",
	[SYNC_S_NONZERO] = "nonzero",
	[SYNC_S_IDLE] = "idle",
	[SYNC_S_WAITING] = "waiting",
	[SYNC_S_DESTROYED] = "destroyed",
	[SYNC_S_INVALID] = "invalid",
};

const char *sync_state_name(enum sync_state_id s)
{
	return (unsigned)s < SYNC_S_COUNT ? state_names[s] : "invalid";
}

/* --- target ------------------------------------------------------------ */

static int parse_version(const char *v, int *major, int *minor)
{
	int n = 0;

	if (sscanf(v, "%d.%d%n", major, minor, &n) != 2 || n == 0)
		return -1;
	return 0;
}

int sync_target_init(struct sync_target *t, enum abi_id abi,
		     const char *glibc_version, struct errbuf *e)
{
	const char *v = glibc_version ? glibc_version : gnu_get_libc_version();
	int major, minor;

	if ((unsigned)abi >= ABI_COUNT) {
		err_set(e, "unknown ABI %d", (int)abi);
		return -EINVAL;
	}
	if (parse_version(v, &major, &minor) < 0) {
		err_set(e, "glibc version \"%s\": expected MAJOR.MINOR", v);
		return -EINVAL;
	}
	if (major != 2 || minor < 25) {
		err_set(e,
			"glibc %d.%d: only the layouts of glibc 2.25 and later "
			"are known",
			major, minor);
		return -EINVAL;
	}
	t->abi = abi;
	t->glibc_major = major;
	t->glibc_minor = minor;
	return 0;
}

void sync_target_host(struct sync_target *t)
{
	if (sync_target_init(t, abi_host(), NULL, NULL) < 0) {
		/* A glibc too old for us: read it as the oldest we know. */
		t->abi = abi_host();
		t->glibc_major = 2;
		t->glibc_minor = 25;
	}
}

size_t sync_size(const struct sync_target *t, enum sync_kind kind)
{
	if ((unsigned)t->abi >= ABI_COUNT || (unsigned)kind >= SYNC_KIND_COUNT)
		return 0;
	return abi_sync_size(t->abi, kind).size;
}

size_t sync_align(const struct sync_target *t, enum sync_kind kind)
{
	if ((unsigned)t->abi >= ABI_COUNT || (unsigned)kind >= SYNC_KIND_COUNT)
		return 0;
	return abi_sync_size(t->abi, kind).align;
}

static const struct cond_rule *cond_rule_for(const struct sync_target *t)
{
	const struct cond_rule *r = &cond_rules[0];

	for (size_t i = 0; i < sizeof(cond_rules) / sizeof(cond_rules[0]);
	     i++) {
		const struct cond_rule *c = &cond_rules[i];

		if (t->glibc_major > c->major ||
		    (t->glibc_major == c->major && t->glibc_minor >= c->minor))
			r = c;
	}
	return r;
}

/* --- helpers ----------------------------------------------------------- */

/* All three ABIs are little-endian; read bytes, not host words. */
static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static uint32_t rdn(const uint8_t *p, unsigned len)
{
	return len == 1 ? p[0] : rd32(p);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static bool tid_ok(int64_t tid)
{
	return tid > 0 && tid <= SYNC_TID_MAX;
}

static void set_detail(struct sync_state *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_detail(struct sync_state *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->detail, sizeof(s->detail), fmt, ap);
	va_end(ap);
}

/* Invalid bytes say nothing else: clear whatever was decoded so far. */
static void set_invalid(struct sync_state *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_invalid(struct sync_state *s, const char *fmt, ...)
{
	enum sync_kind kind = s->kind;
	uint32_t word = s->word;
	va_list ap;

	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->word = word;
	s->state = SYNC_S_INVALID;
	s->prio_ceiling = -1;
	va_start(ap, fmt);
	vsnprintf(s->detail, sizeof(s->detail), fmt, ap);
	va_end(ap);
}

/* --- pthread_mutex_t --------------------------------------------------- */

static const char *const mutex_types[4] = {
	/* sysdeps/nptl/pthread.h: PTHREAD_MUTEX_TIMED_NP (= NORMAL, the
	 * default), RECURSIVE_NP, ERRORCHECK_NP, ADAPTIVE_NP */
	"normal",
	"recursive",
	"errorcheck",
	"adaptive",
};

/* Why KIND is not a __kind glibc writes, or NULL when it is one. */
static const char *mutex_kind_error(const struct abi_layout *L, int32_t kind)
{
	int type = kind & MUTEX_KIND_MASK;
	bool plain = !(kind & (MUTEX_ROBUST | MUTEX_PI | MUTEX_PP));

	if (kind & ~MUTEX_KIND_KNOWN)
		return "unknown bits in __kind";
	/* nptl/pthread_mutex_init.c: PROTOCOL is one of NONE, INHERIT,
	 * PROTECT; "we don't support robust priority protected mutexes". */
	if ((kind & MUTEX_PI) && (kind & MUTEX_PP))
		return "__kind has both PRIO_INHERIT and PRIO_PROTECT";
	if ((kind & MUTEX_ROBUST) && (kind & MUTEX_PP))
		return "__kind is robust and PRIO_PROTECT (ENOTSUP in glibc)";
	/* nptl/pthread_mutex_init.c: a robust mutex always gets the pshared
	 * bit ("the kernel when waking robust mutexes on exit never uses
	 * FUTEX_PRIVATE_FLAG"). */
	if ((kind & MUTEX_ROBUST) && !(kind & MUTEX_PSHARED))
		return "robust __kind without the pshared bit";
	/* nptl/pthread_mutexattr_settype.c adds NO_ELISION to NORMAL only;
	 * sysdeps/unix/sysv/linux/x86/force-elision.h sets ELISION on a
	 * default-type mutex without NO_ELISION, in pthread_mutex_lock's
	 * TIMED case only. */
	if ((kind & MUTEX_NO_ELISION) && type != 0)
		return "NO_ELISION bit on a non-normal mutex";
	if (kind & MUTEX_ELISION) {
		if (!L->m_elision)
			return "ELISION bit on an ABI without lock elision";
		if ((kind & MUTEX_NO_ELISION) || type != 0 || !plain)
			return "ELISION bit on a mutex glibc never elides";
	}
	return NULL;
}

/* Lock word 0/1/2 of a plain or PP mutex (nptl/lowlevellock.c:
 * 0 free, 1 taken, 2 taken and waiters may sleep in futex_wait). */
static void mutex_simple_state(struct sync_state *s, int low, int owner)
{
	if (low == 0) {
		s->state = SYNC_S_FREE;
		s->waiters = 0;
		set_detail(s, "unlocked (lock word %d)", low);
		return;
	}
	s->owner_tid = owner;
	s->value = 1;
	if (low == 1) {
		s->state = SYNC_S_LOCKED;
		s->waiters = 0;
		set_detail(s, "locked by tid %d, no waiters", owner);
	} else {
		s->state = SYNC_S_CONTENDED;
		s->waiters = SYNC_UNKNOWN;
		set_detail(s, "locked by tid %d, waiters may sleep (lock 2)",
			   owner);
	}
}

/*
 * Robust and PI mutexes keep the holder's tid in the lock word, with the
 * kernel's FUTEX_WAITERS and FUTEX_OWNER_DIED bits (nptl/pthread_mutex_lock.c
 * ROBUST and PI cases; kernel/futex/core.c handle_futex_death clears the tid
 * and sets OWNER_DIED when the holder exits).  __owner keeps the last
 * holder's tid, or the INCONSISTENT / NOTRECOVERABLE cookies.
 */
static void mutex_tid_state(struct sync_state *s, uint32_t lock, int owner,
			    bool robust)
{
	int tid = (int)(lock & FUTEX_TID_MASK);

	if (tid && !tid_ok(tid)) {
		set_invalid(s, "lock word 0x%08x: tid %d out of range", lock,
			    tid);
		return;
	}
	s->owner_tid = tid;
	s->waiters = (lock & FUTEX_WAITERS) ? SYNC_UNKNOWN : 0;
	s->value = tid ? 1 : 0;
	if (lock & FUTEX_OWNER_DIED) {
		/* The kernel cleared the tid: __owner still names the dead
		 * holder (nptl/pthread_mutex_lock.c sets it on every lock). */
		if (!tid && tid_ok(owner))
			s->owner_tid = owner;
		s->state = SYNC_S_OWNER_DEAD;
		s->value = 1;
		set_detail(s,
			   "holder tid %d died (FUTEX_OWNER_DIED); the next "
			   "lock returns EOWNERDEAD",
			   s->owner_tid);
	} else if (robust && owner == MUTEX_NOTRECOVERABLE) {
		/* nptl/pthread_mutex_unlock.c: unlocked while INCONSISTENT */
		s->state = SYNC_S_NOT_RECOVERABLE;
		set_detail(s, "unlocked without pthread_mutex_consistent(); "
			      "every lock returns ENOTRECOVERABLE");
	} else if (robust && owner == MUTEX_INCONSISTENT) {
		/* nptl/pthread_mutex_lock.c: EOWNERDEAD path sets __owner */
		s->state = SYNC_S_INCONSISTENT;
		set_detail(s,
			   "tid %d holds it after EOWNERDEAD and has not "
			   "called pthread_mutex_consistent()",
			   tid);
	} else if (tid) {
		s->state = (lock & FUTEX_WAITERS) ? SYNC_S_CONTENDED
						  : SYNC_S_LOCKED;
		set_detail(s, "locked by tid %d%s", tid,
			   (lock & FUTEX_WAITERS) ? ", FUTEX_WAITERS set"
						  : ", no waiters");
	} else if (lock & FUTEX_WAITERS) {
		s->state = SYNC_S_CONTENDED;
		s->value = 1;
		set_detail(s, "FUTEX_WAITERS set, holder not recorded");
	} else {
		s->state = SYNC_S_FREE;
		set_detail(s, "unlocked");
	}
}

static void decode_mutex(const struct abi_layout *L, const uint8_t *b,
			 struct sync_state *s)
{
	uint32_t lock = rd32(b);
	uint32_t count = rd32(b + L->m_count);
	int32_t owner = (int32_t)rd32(b + L->m_owner);
	int32_t kind = (int32_t)rd32(b + L->m_kind);
	bool robust = kind & MUTEX_ROBUST;
	const char *why;

	s->word = lock;
	/* nptl/pthread_mutex_destroy.c: "Set to an invalid value" */
	if (kind == -1) {
		s->state = SYNC_S_DESTROYED;
		set_detail(s, "pthread_mutex_destroy() ran (__kind == -1)");
		return;
	}
	why = mutex_kind_error(L, kind);
	if (why) {
		set_invalid(s, "__kind 0x%x: %s", (unsigned)kind, why);
		return;
	}
	s->type = mutex_types[kind & MUTEX_KIND_MASK];
	s->flags |= (kind & MUTEX_PSHARED) ? SYNC_F_SHARED : 0;
	s->flags |= robust ? SYNC_F_ROBUST : 0;
	s->flags |= (kind & MUTEX_PI) ? SYNC_F_PI : 0;
	s->flags |= (kind & MUTEX_PP) ? SYNC_F_PP : 0;
	s->flags |= (kind & MUTEX_ELISION) ? SYNC_F_ELISION : 0;

	/* Only robust mutexes sit on a thread's robust list (ENQUEUE_MUTEX
	 * in nptl/pthreadP.h); pthread_mutex_init zeroes the rest. */
	if (!robust && L->m_list_len &&
	    !all_zero(b + L->m_list, L->m_list_len)) {
		set_invalid(s, "__list set on a non-robust mutex");
		return;
	}
	/* __owner: a tid, 0, or (robust only) the two cookies. */
	if (owner != 0 && !tid_ok(owner) &&
	    !(robust &&
	      (owner == MUTEX_INCONSISTENT || owner == MUTEX_NOTRECOVERABLE))) {
		set_invalid(s, "__owner %d is not a thread id", owner);
		return;
	}
	/* __count is only written for recursive mutexes and on the
	 * EOWNERDEAD paths (set to 1) of robust and PI ones. */
	if ((kind & MUTEX_KIND_MASK) != 1 &&
	    count > ((kind & (MUTEX_ROBUST | MUTEX_PI)) ? 1u : 0u)) {
		set_invalid(s, "__count %u on a non-recursive mutex", count);
		return;
	}
	if ((kind & MUTEX_KIND_MASK) == 1)
		s->recursion = count;

	if (kind & MUTEX_PP) {
		/* nptl/pthread_mutex_lock.c PP case: lock word is
		 * ceiling << 19 | 0/1/2; the ceiling came from a 12-bit
		 * attribute field (PTHREAD_MUTEXATTR_PRIO_CEILING_MASK). */
		uint32_t low = lock & ((1u << MUTEX_CEILING_SHIFT) - 1);

		s->prio_ceiling = (int)(lock >> MUTEX_CEILING_SHIFT);
		if (low > 2 || s->prio_ceiling > 4095) {
			set_invalid(s, "PP lock word 0x%08x", lock);
			return;
		}
		mutex_simple_state(s, (int)low, owner);
	} else if (kind & (MUTEX_ROBUST | MUTEX_PI)) {
		mutex_tid_state(s, lock, owner, robust);
	} else {
		if (lock > 2) {
			set_invalid(s,
				    "%s mutex with lock word %d: not 0, 1 or 2",
				    s->type, (int32_t)lock);
			return;
		}
		mutex_simple_state(s, (int)lock, owner);
	}
}

/* --- sem_t --------------------------------------------------------------- */

/*
 * sysdeps/nptl/internaltypes.h struct new_sem; nptl/sem_waitcommon.c: with
 * 64-bit atomics the low 32 bits of data are the value and the high 32 the
 * number of waiters; else value is (count << 1) | "may have waiters" and
 * nwaiters counts them.  nptl/sem_init.c: private is FUTEX_PRIVATE (0) or
 * FUTEX_SHARED (LLL_SHARED, 128).
 */
static void decode_sem(const struct abi_layout *L, const uint8_t *b,
		       struct sync_state *s)
{
	int32_t priv = (int32_t)rd32(b + L->s_private);
	uint32_t value, nwaiters;

	if (L->s_wide) {
		uint64_t data = rd64(b);

		value = (uint32_t)data;
		nwaiters = (uint32_t)(data >> 32);
	} else {
		value = rd32(b) >> 1;
		nwaiters = rd32(b + L->s_nwaiters);
	}
	s->word = (uint32_t)rd32(b);
	if (priv != 0 && priv != LLL_SHARED) {
		set_invalid(s, "private %d is neither 0 nor 128", priv);
		return;
	}
	if (value > SEM_MAX || nwaiters > SYNC_TID_MAX) {
		set_invalid(s, "value %u / nwaiters %u out of range", value,
			    nwaiters);
		return;
	}
	s->flags |= priv ? SYNC_F_SHARED : 0;
	s->value = value;
	s->waiters = (int)nwaiters;
	if (nwaiters) {
		s->state = SYNC_S_WAITING;
		set_detail(s, "value %u, %u waiting in sem_wait", value,
			   nwaiters);
	} else if (value) {
		s->state = SYNC_S_AVAILABLE;
		set_detail(s, "value %u", value);
	} else {
		s->state = SYNC_S_ZERO;
		set_detail(s, "value 0, sem_wait would block");
	}
}

/* --- pthread_rwlock_t ---------------------------------------------------- */

static const char *const rwlock_kinds[3] = {
	/* sysdeps/nptl/pthread.h: PTHREAD_RWLOCK_PREFER_READER_NP,
	 * PREFER_WRITER_NP, PREFER_WRITER_NONRECURSIVE_NP */
	"prefer-reader",
	"prefer-writer",
	"prefer-writer-nonrecursive",
};

/*
 * nptl/pthread_rwlock_common.c, the state table at its top: __readers
 * holds WP (write phase), WL (a primary writer exists), RW (readers wait
 * without being counted) and R (readers that hold or try to get it).
 * __writers counts writers registered for hand-over (prefer-writer kinds);
 * __writers_futex is 1 while a primary writer is active, | FUTEX_USED when
 * writers may sleep on it; __cur_writer is the write holder's tid.
 */
static void decode_rwlock(const struct abi_layout *L, const uint8_t *b,
			  struct sync_state *s)
{
	uint32_t r = rd32(b), w = rd32(b + 4);
	uint32_t wpf = rd32(b + 8), wf = rd32(b + 12);
	int32_t cur = (int32_t)rd32(b + L->r_cur_writer);
	uint32_t shared = rdn(b + L->r_shared, L->r_shared_len);
	uint32_t kind = rdn(b + L->r_flags, L->r_flags_len);
	uint32_t nread = r >> RW_READER_SHIFT, nw = w & ~RW_WRHANDOVER;
	bool wp = r & RW_WRPHASE, wl = r & RW_WRLOCKED;

	s->word = r;
	/* nptl/pthread_rwlock_init.c: __flags is the kind, __shared 0/1,
	 * everything else zeroed; the futex words hold 0, 1 and FUTEX_USED. */
	if (kind > 2 || shared > 1 || wpf > 3 || wf > 3 || rd32(b + 16) ||
	    rd32(b + 20) || cur < 0 || cur > SYNC_TID_MAX ||
	    nw > SYNC_TID_MAX) {
		set_invalid(s, "not a glibc rwlock (flags %u, shared %u)", kind,
			    shared);
		return;
	}
	s->type = rwlock_kinds[kind];
	s->flags |= shared ? SYNC_F_SHARED : 0;
	s->readers_waiting = (r & RW_RWAITING) ? SYNC_UNKNOWN : 0;
	/* Registered writers, the primary writer waiting for readers to
	 * leave (#4), and at least one if writers sleep on the futex. */
	s->writers_waiting = (int)nw + ((!wp && wl && nread) ? 1 : 0);
	if (s->writers_waiting == 0 && (wf & RW_FUTEX_USED))
		s->writers_waiting = 1;
	if (wf & RW_FUTEX_USED)
		s->flags |= SYNC_F_WAITERS_MIN;

	if (wp && wl) { /* #7, #8 */
		s->state = SYNC_S_WRITE_LOCKED;
		s->owner_tid = cur;
		s->value = 1;
		s->readers_waiting = (int)nread;
		set_detail(s, "write-locked by tid %d, %u readers waiting", cur,
			   nread);
	} else if (!wp && nread) { /* #2, #4, #4a */
		s->state = SYNC_S_READ_LOCKED;
		s->readers = (int)nread;
		s->value = nread;
		set_detail(s, "read-locked by %u reader%s%s", nread,
			   nread == 1 ? "" : "s", wl ? ", a writer waits" : "");
	} else { /* #1, #3, #5, #6: idle or in a phase change */
		s->state = SYNC_S_FREE;
		s->readers_waiting = (int)nread;
		set_detail(s, "unlocked (%s phase)", wp ? "write" : "read");
	}
	if (s->readers_waiting == SYNC_UNKNOWN)
		s->waiters = SYNC_UNKNOWN;
	else
		s->waiters = s->readers_waiting + s->writers_waiting;
}

/* --- pthread_cond_t ------------------------------------------------------ */

static void decode_cond(const struct cond_rule *c, enum abi_id abi,
			const uint8_t *b, struct sync_state *s)
{
	uint32_t wrefs = rd32(b + c->wrefs);
	uint32_t nwait = wrefs >> COND_WREFS_SHIFT;
	uint64_t wseq = rd64(b + c->wseq), g1 = rd64(b + c->g1_start);

	s->word = wrefs;
	/* nptl/pthread_cond_common.c __condvar_acquire_lock: the two low
	 * bits of __g1_orig_size are a lock, 0, 1 or 2.  __g_refs (before
	 * 2.41) count the waiters on each group's futex, << 1 plus a
	 * wake-request bit (nptl/pthread_cond_wait.c). */
	if ((rd32(b + c->g1_orig_size) & 3) == 3 || nwait > SYNC_TID_MAX ||
	    (c->g_refs && ((rd32(b + c->g_refs) >> 1) > SYNC_TID_MAX ||
			   (rd32(b + c->g_refs + 4) >> 1) > SYNC_TID_MAX))) {
		set_invalid(s, "not a glibc condvar (__wrefs 0x%x)", wrefs);
		return;
	}
	/* G1 starts at or before the next waiter's position; with 64-bit
	 * atomics both are plain counters (nptl/pthread_cond_common.c;
	 * 32-bit ABIs keep them in two 31-bit halves, not checked). */
	if (abi != ABI_I386 && (g1 >> c->g1_shift) > (wseq >> 1)) {
		set_invalid(s, "__g1_start beyond __wseq");
		return;
	}
	s->flags |= (wrefs & COND_SHARED) ? SYNC_F_SHARED : 0;
	s->flags |= (wrefs & COND_MONOTONIC) ? SYNC_F_MONOTONIC : 0;
	s->waiters = (int)nwait;
	s->value = nwait;
	if (nwait) {
		s->state = SYNC_S_WAITING;
		set_detail(s, "%u waiter%s%s", nwait, nwait == 1 ? "" : "s",
			   (wrefs & COND_WAKE_REQUEST) ? ", being destroyed"
						       : "");
	} else if (wrefs & COND_WAKE_REQUEST) {
		/* nptl/pthread_cond_destroy.c sets the wake-request bit. */
		s->state = SYNC_S_DESTROYED;
		set_detail(s, "pthread_cond_destroy() ran");
	} else {
		s->state = SYNC_S_IDLE;
		set_detail(s, "no waiters");
	}
}

/* --- pthread_spinlock_t -------------------------------------------------- */

static void decode_spin(const struct abi_layout *L, const uint8_t *b,
			struct sync_state *s)
{
	int32_t v = (int32_t)rd32(b);

	s->word = (uint32_t)v;
	s->waiters = SYNC_UNKNOWN; /* spinners do not sleep: /proc can't tell */
	if (v == L->spin_free) {
		s->state = SYNC_S_FREE;
		s->waiters = 0;
		set_detail(s, "unlocked (word %d)", v);
		return;
	}
	/* x86: each "lock decl" that finds it taken leaves it one lower, so
	 * a held lock is 0 or slightly negative; generic: exactly 1. */
	if (L->spin_free == 1 ? (v > 1 || v < -SYNC_TID_MAX) : v != 1) {
		set_invalid(s, "spinlock word %d: free is %d, held is %s", v,
			    L->spin_free, L->spin_free ? "0 or below" : "1");
		return;
	}
	s->state = SYNC_S_LOCKED;
	s->value = 1;
	set_detail(s, "locked (word %d)", v);
}

/* --- pthread_barrier_t --------------------------------------------------- */

/*
 * sysdeps/nptl/internaltypes.h struct pthread_barrier { in, current_round,
 * count, shared, out }; nptl/pthread_barrier_wait.c: IN counts arrivals,
 * CURRENT_ROUND is a multiple of COUNT where the unfinished round starts;
 * nptl/pthread_barrier_destroy.c adds to OUT up to the reset threshold.
 */
static void decode_barrier(const uint8_t *b, struct sync_state *s)
{
	uint32_t in = rd32(b), cr = rd32(b + 4), count = rd32(b + 8);
	int32_t shared = (int32_t)rd32(b + 12);
	uint32_t out = rd32(b + 16), max_in;

	s->word = in;
	if (count == 0 || count > BARRIER_THRESHOLD ||
	    (shared != 0 && shared != LLL_SHARED) || cr % count) {
		set_invalid(s, "not a glibc barrier (count %u, shared %d)",
			    count, shared);
		return;
	}
	s->count = count;
	s->flags |= shared ? SYNC_F_SHARED : 0;
	max_in = BARRIER_THRESHOLD - BARRIER_THRESHOLD % count;
	if (out >= max_in && in < max_in) {
		s->state = SYNC_S_DESTROYED;
		set_detail(s, "pthread_barrier_destroy() ran");
		return;
	}
	s->waiters = in >= cr ? (int)(in - cr) : 0;
	s->value = s->waiters;
	s->state = s->waiters ? SYNC_S_WAITING : SYNC_S_IDLE;
	set_detail(s, "%d of %u arrived", s->waiters, count);
}

/* --- futex --------------------------------------------------------------- */

static void decode_futex(const uint8_t *b, struct sync_state *s)
{
	s->word = rd32(b);
	s->value = s->word;
	s->waiters = SYNC_UNKNOWN;
	s->state = s->word ? SYNC_S_NONZERO : SYNC_S_ZERO;
	set_detail(s, "futex word %u (0x%x)", s->word, s->word);
}

/* --- entry points -------------------------------------------------------- */

int sync_decode(const struct sync_target *t, enum sync_kind kind,
		const void *bytes, size_t len, struct sync_state *out)
{
	const struct abi_layout *L;
	const uint8_t *b = bytes;

	if ((unsigned)t->abi >= ABI_COUNT || kind <= SYNC_NONE ||
	    kind >= SYNC_KIND_COUNT)
		return -EINVAL;
	L = &abi_layouts[t->abi];
	if (len < abi_sync_size(t->abi, kind).size)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->kind = kind;
	out->prio_ceiling = -1;
	switch (kind) {
	case SYNC_MUTEX:
		decode_mutex(L, b, out);
		break;
	case SYNC_SEM:
		decode_sem(L, b, out);
		break;
	case SYNC_RWLOCK:
		decode_rwlock(L, b, out);
		break;
	case SYNC_COND:
		decode_cond(cond_rule_for(t), t->abi, b, out);
		break;
	case SYNC_SPIN:
		decode_spin(L, b, out);
		break;
	case SYNC_BARRIER:
		decode_barrier(b, out);
		break;
	default:
		decode_futex(b, out);
		break;
	}
	return 0;
}

const char *sync_futex_role(const struct sync_target *t, enum sync_kind kind,
			    size_t off)
{
	const struct cond_rule *c;

	if ((unsigned)t->abi >= ABI_COUNT)
		return NULL;
	switch (kind) {
	case SYNC_MUTEX: /* lll_lock_wait, futex_lock_pi: on __lock */
		return off == 0 ? "lock" : NULL;
	case SYNC_SEM: /* nptl/sem_waitcommon.c do_futex_wait: the value
			  word (SEM_VALUE_OFFSET 0 on little-endian) */
		return off == 0 ? "sem_wait" : NULL;
	case SYNC_RWLOCK: /* nptl/pthread_rwlock_common.c */
		return off == 0	   ? "read"
		       : off == 8  ? "phase"
		       : off == 12 ? "write"
				   : NULL;
	case SYNC_COND: /* nptl/pthread_cond_wait.c, pthread_cond_common.c,
			   pthread_cond_destroy.c */
		c = cond_rule_for(t);
		if (off == c->wrefs)
			return "destroy";
		if (off == c->g1_orig_size)
			return "internal-lock";
		/* __g_signals[2] follow __wrefs in both layouts */
		if (off == c->wrefs + 4u || off == c->wrefs + 8u)
			return "signal";
		return NULL;
	case SYNC_BARRIER: /* nptl/pthread_barrier_wait.c */
		return off == 4 ? "round" : off == 0 ? "reset" : NULL;
	case SYNC_FUTEX:
		return off == 0 ? "wake" : NULL;
	default:
		return NULL;
	}
}

bool sync_state_owner_gone(struct sync_state *s)
{
	if (!s->owner_tid)
		return false;
	if (s->state != SYNC_S_LOCKED && s->state != SYNC_S_CONTENDED &&
	    s->state != SYNC_S_WRITE_LOCKED)
		return false;
	s->state = SYNC_S_OWNER_DEAD;
	set_detail(s, "held by tid %d, which is gone", s->owner_tid);
	return true;
}

static void kv_count(struct json *j, const char *key, int v)
{
	if (v == SYNC_UNKNOWN)
		json_kv_null(j, key);
	else
		json_kv_int(j, key, v);
}

void sync_json(struct json *j, const struct sync_state *s)
{
	bool mutex = s->kind == SYNC_MUTEX, valid = s->state != SYNC_S_INVALID;

	json_kv_str(j, "kind", sync_kind_name(s->kind));
	json_kv_str(j, "state", sync_state_name(s->state));
	json_kv_int(j, "value", s->value);
	kv_count(j, "waiters", s->waiters);
	if (s->flags & SYNC_F_WAITERS_MIN)
		json_kv_bool(j, "waiters_at_least", true);
	if (s->owner_tid)
		json_kv_int(j, "owner_tid", s->owner_tid);
	else
		json_kv_null(j, "owner_tid");
	if (s->type)
		json_kv_str(j, "type", s->type);
	if (mutex && valid && s->state != SYNC_S_DESTROYED) {
		json_kv_bool(j, "robust", s->flags & SYNC_F_ROBUST);
		json_kv_bool(j, "pi", s->flags & SYNC_F_PI);
		json_kv_bool(j, "pp", s->flags & SYNC_F_PP);
		if (s->flags & SYNC_F_PP)
			json_kv_int(j, "prio_ceiling", s->prio_ceiling);
		json_kv_uint(j, "recursion", s->recursion);
	}
	if (s->kind == SYNC_RWLOCK && valid) {
		json_kv_int(j, "readers", s->readers);
		kv_count(j, "readers_waiting", s->readers_waiting);
		json_kv_int(j, "writers_waiting", s->writers_waiting);
	}
	if (s->kind == SYNC_COND && valid)
		json_kv_str(j, "clock",
			    (s->flags & SYNC_F_MONOTONIC) ? "monotonic"
							  : "realtime");
	if (s->kind == SYNC_BARRIER && valid && s->count)
		json_kv_uint(j, "count", s->count);
	if (valid && s->kind != SYNC_SPIN && s->kind != SYNC_FUTEX &&
	    s->state != SYNC_S_DESTROYED)
		json_kv_bool(j, "shared", s->flags & SYNC_F_SHARED);
	json_kv_str(j, "detail", s->detail);
}
