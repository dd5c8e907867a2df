/*
 * synckind.h - the synchronisation objects shmscope understands.
 *
 * The layout parser tags fields of these types, the decoders (sync.c) read
 * their bytes, and the probe names its events by them.
 */
#ifndef SHMSCOPE_SYNCKIND_H
#define SHMSCOPE_SYNCKIND_H

enum sync_kind {
	SYNC_NONE,
	SYNC_MUTEX,	/* pthread_mutex_t */
	SYNC_SEM,	/* sem_t */
	SYNC_RWLOCK,	/* pthread_rwlock_t */
	SYNC_COND,	/* pthread_cond_t */
	SYNC_SPIN,	/* pthread_spinlock_t */
	SYNC_BARRIER,	/* pthread_barrier_t */
	SYNC_FUTEX,	/* a 32-bit futex word */
	SYNC_KIND_COUNT
};

/* The JSON "kind" of DESIGN.md: "mutex", "sem", "rwlock", "cond", "spin",
 * "barrier", "futex" ("none" for SYNC_NONE). */
static inline const char *sync_kind_name(enum sync_kind k)
{
	static const char *const names[SYNC_KIND_COUNT] = {
		"none", "mutex", "sem", "rwlock", "cond", "spin", "barrier",
		"futex",
	};
	return (unsigned)k < SYNC_KIND_COUNT ? names[k] : "none";
}

#endif
