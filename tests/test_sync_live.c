/*
 * The sync decoders on real objects in real states: each test creates a
 * POSIX segment, initialises process-shared objects in it, and forks
 * children that lock, die holding, or block on them.  The test decodes
 * through its own read-only mapping of the segment, as the inspector
 * does, and asserts state, owner and waiters exactly.  Thread ids are
 * checked against /proc (the child reports gettid(), /proc confirms that
 * thread belongs to the child, or that it is gone).
 */
#include "test.h"

#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "sync.h"

#define NSLOT 4

/* The segment's layout. */
struct area {
	pthread_mutex_t m;
	pthread_mutex_t m2;
	pthread_rwlock_t rw;
	pthread_cond_t cond;
	pthread_barrier_t bar;
	sem_t sem;
	sem_t go;
	pthread_spinlock_t spin;
	int ready[NSLOT];
	int tid[NSLOT];
	int ret[NSLOT];
};

static struct area *A;	  /* the children's read-write view */
static const uint8_t *RO; /* our read-only view */
static struct sync_target HOST;
static int seg_seq;

/* A fresh segment per test, unlinked by the harness after it. */
static int seg_open(void)
{
	char name[64];
	int fd;

	if (A && A != MAP_FAILED)
		munmap(A, sizeof(struct area));
	if (RO && RO != MAP_FAILED)
		munmap((void *)RO, sizeof(struct area));
	A = NULL;
	RO = NULL;
	snprintf(name, sizeof(name), "/shmscope-t-sync-%d-%d", getpid(),
		 seg_seq++);
	fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
	if (fd < 0)
		return -1;
	test_defer_unlink(name);
	if (ftruncate(fd, sizeof(struct area)) < 0)
		goto fail;
	A = mmap(NULL, sizeof(struct area), PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, 0);
	if (A == MAP_FAILED)
		goto fail;
	close(fd);
	/* The inspector's view: O_RDONLY, PROT_READ. */
	fd = shm_open(name, O_RDONLY, 0);
	if (fd < 0)
		return -1;
	RO = mmap(NULL, sizeof(struct area), PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	return RO == MAP_FAILED ? -1 : 0;
fail:
	close(fd);
	return -1;
}

static struct sync_state decode_at(enum sync_kind k, size_t off)
{
	uint8_t buf[64];
	struct sync_state s;

	memcpy(buf, RO + off, sync_size(&HOST, k));
	if (sync_decode(&HOST, k, buf, sizeof(buf), &s) < 0) {
		memset(&s, 0, sizeof(s));
		s.state = SYNC_S_COUNT;
	}
	return s;
}

#define DECODE(kind, field) decode_at(kind, offsetof(struct area, field))
#define STATE(kind, field)  sync_state_name(DECODE(kind, field).state)

static void child_ready(int slot)
{
	__atomic_store_n(&A->tid[slot], (int)syscall(SYS_gettid),
			 __ATOMIC_SEQ_CST);
	__atomic_store_n(&A->ready[slot], 1, __ATOMIC_SEQ_CST);
}

static int is_ready(int slot)
{
	return __atomic_load_n(&A->ready[slot], __ATOMIC_SEQ_CST);
}

/* Fork a child that runs FN(slot) and then waits to be killed; it dies
 * with us if we die first. */
static pid_t spawn(void (*fn)(int), int slot)
{
	pid_t pid = fork();

	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fn(slot);
		for (;;)
			pause();
	}
	if (pid > 0)
		test_defer_kill(pid);
	return pid;
}

/* Kill and reap PID now, and take it off the harness's kill list so a
 * reused pid is never killed later. */
static void kill_now(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	for (int i = 0; i < test_nkill; i++)
		if (test_kill_list[i] == pid)
			test_kill_list[i] = 0;
}

/* Is TID a thread of process PID, per /proc? */
static int tid_in(pid_t pid, int tid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/task/%d", pid, tid);
	return stat(path, &st) == 0;
}

/* The futex word PID sleeps on, or 0 when it is not in futex(). */
static uintptr_t futex_addr(pid_t pid)
{
	char path[64], buf[256];
	long nr = -1;
	unsigned long a0 = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	if (sscanf(buf, "%ld %lx", &nr, &a0) != 2 || nr != SYS_futex)
		return 0;
	return a0;
}

/* Why PID waits, as the snapshot will say it: the role of the futex word
 * it sleeps on inside the object of KIND at OBJ. */
static const char *role_of(pid_t pid, enum sync_kind kind, const void *obj)
{
	uintptr_t a = futex_addr(pid), o = (uintptr_t)obj;

	if (a < o || a >= o + sync_size(&HOST, kind))
		return "";
	return sync_futex_role(&HOST, kind, a - o);
}

/* Is PID blocked in futex() on ADDR?  /proc/PID/syscall starts with the
 * syscall number and its first argument. */
static int in_futex_on(pid_t pid, const void *addr)
{
	char path[64], buf[256];
	long nr = -1;
	unsigned long a0 = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	if (sscanf(buf, "%ld %lx", &nr, &a0) != 2)
		return 0;
	return nr == SYS_futex && a0 == (unsigned long)(uintptr_t)addr;
}

static void mutex_init_kind(pthread_mutex_t *m, int type, int robust,
			    int protocol)
{
	pthread_mutexattr_t ma;

	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	if (type >= 0)
		pthread_mutexattr_settype(&ma, type);
	if (robust)
		pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	if (protocol)
		pthread_mutexattr_setprotocol(&ma, protocol);
	pthread_mutex_init(m, &ma);
	pthread_mutexattr_destroy(&ma);
}

/* --- children ------------------------------------------------------------ */

static void *lock_in_thread(void *arg)
{
	pthread_mutex_lock(&A->m);
	child_ready((int)(intptr_t)arg);
	for (;;)
		pause();
	return NULL;
}

/* Holds A->m from a second thread, so its tid is not its pid. */
static void hold_m_thread(int slot)
{
	pthread_t th;

	pthread_create(&th, NULL, lock_in_thread, (void *)(intptr_t)slot);
}

static void hold_m(int slot)
{
	A->ret[slot] = pthread_mutex_lock(&A->m);
	child_ready(slot);
}

static void hold_m_3deep(int slot)
{
	for (int i = 0; i < 3; i++)
		pthread_mutex_lock(&A->m);
	child_ready(slot);
}

/* Locks the robust A->m after its holder died (EOWNERDEAD), then, when
 * told through A->go, unlocks it without making it consistent. */
static void ownerdead_then_unlock(int slot)
{
	A->ret[slot] = pthread_mutex_lock(&A->m);
	child_ready(slot);
	sem_wait(&A->go);
	pthread_mutex_unlock(&A->m);
	__atomic_store_n(&A->ready[slot], 2, __ATOMIC_SEQ_CST);
}

static void block_on_m(int slot)
{
	child_ready(slot);
	pthread_mutex_lock(&A->m);
}

static void post_sem_3(int slot)
{
	for (int i = 0; i < 3; i++)
		sem_post(&A->sem);
	child_ready(slot);
}

static void wait_sem(int slot)
{
	child_ready(slot);
	sem_wait(&A->sem);
}

static void rdlock(int slot)
{
	A->ret[slot] = pthread_rwlock_rdlock(&A->rw);
	child_ready(slot);
}

static void wrlock(int slot)
{
	A->ret[slot] = pthread_rwlock_wrlock(&A->rw);
	child_ready(slot);
}

static void cond_wait(int slot)
{
	pthread_mutex_lock(&A->m);
	child_ready(slot);
	pthread_cond_wait(&A->cond, &A->m);
}

static void spin_hold(int slot)
{
	pthread_spin_lock(&A->spin);
	child_ready(slot);
}

static void barrier_wait(int slot)
{
	child_ready(slot);
	pthread_barrier_wait(&A->bar);
}

/* --- tests -----------------------------------------------------------------
 */

static void test_mutex_held_by_live_child(void)
{
	struct sync_state s;
	pid_t pid;

	CHECK(seg_open() == 0);
	mutex_init_kind(&A->m, PTHREAD_MUTEX_NORMAL, 0, 0);
	CHECK_STR(STATE(SYNC_MUTEX, m), "free");
	pid = spawn(hold_m_thread, 0);
	CHECK(pid > 0);
	WAIT_FOR(is_ready(0), 5000);
	s = DECODE(SYNC_MUTEX, m);
	CHECK_STR(sync_state_name(s.state), "locked");
	CHECK_INT(s.owner_tid, A->tid[0]);
	CHECK(s.owner_tid != pid); /* the second thread's, not the pid */
	CHECK(tid_in(pid, s.owner_tid));
	CHECK_INT(s.waiters, 0);
	CHECK_INT(s.value, 1);
	CHECK_STR(s.type, "normal");
	CHECK(s.flags & SYNC_F_SHARED);
	CHECK(!(s.flags & (SYNC_F_ROBUST | SYNC_F_PI | SYNC_F_PP)));
}

static void test_mutex_contended(void)
{
	struct sync_state s;
	pid_t holder, waiter;

	CHECK(seg_open() == 0);
	mutex_init_kind(&A->m, -1, 0, 0);
	holder = spawn(hold_m, 0);
	WAIT_FOR(is_ready(0), 5000);
	waiter = spawn(block_on_m, 1);
	CHECK(holder > 0 && waiter > 0);
	WAIT_FOR(in_futex_on(waiter, &A->m), 5000);
	CHECK_STR(role_of(waiter, SYNC_MUTEX, &A->m), "lock");
	s = DECODE(SYNC_MUTEX, m);
	CHECK_STR(sync_state_name(s.state), "contended");
	CHECK_INT(s.owner_tid, A->tid[0]);
	CHECK_INT(s.waiters, SYNC_UNKNOWN); /* /proc counts them */
	CHECK_INT(s.word, 2);
}

static void test_robust_owner_dead_inconsistent_notrecoverable(void)
{
	struct sync_state s;
	pid_t a, b;
	int dead;

	CHECK(seg_open() == 0);
	mutex_init_kind(&A->m, -1, 1, 0);
	sem_init(&A->go, 1, 0);
	a = spawn(hold_m, 0);
	WAIT_FOR(is_ready(0), 5000);
	dead = A->tid[0];
	CHECK_INT(dead, a);
	kill_now(a);
	CHECK(!tid_in(a, dead));

	/* The kernel walked the dead thread's robust list. */
	s = DECODE(SYNC_MUTEX, m);
	CHECK_STR(sync_state_name(s.state), "owner-dead");
	CHECK_INT(s.owner_tid, dead);
	CHECK_INT(s.waiters, 0);
	CHECK(s.flags & SYNC_F_ROBUST);
	CHECK(s.word & 0x40000000u);

	/* Another process takes it: EOWNERDEAD, inconsistent. */
	b = spawn(ownerdead_then_unlock, 1);
	WAIT_FOR(is_ready(1), 5000);
	CHECK_INT(A->ret[1], EOWNERDEAD);
	s = DECODE(SYNC_MUTEX, m);
	CHECK_STR(sync_state_name(s.state), "inconsistent");
	CHECK_INT(s.owner_tid, A->tid[1]);
	CHECK_INT(s.owner_tid, b);
	CHECK_INT(s.waiters, 0);

	/* It unlocks without pthread_mutex_consistent(). */
	sem_post(&A->go);
	WAIT_FOR(__atomic_load_n(&A->ready[1], __ATOMIC_SEQ_CST) == 2, 5000);
	s = DECODE(SYNC_MUTEX, m);
	CHECK_STR(sync_state_name(s.state), "not-recoverable");
	CHECK_INT(s.owner_tid, 0);
	CHECK_INT(s.waiters, 0);
	CHECK_INT(pthread_mutex_lock(&A->m), ENOTRECOVERABLE);
}

static void test_normal_mutex_holder_died(void)
{
	struct sync_state s;
	pid_t pid;
	int dead;

	CHECK(seg_open() == 0);
	mutex_init_kind(&A->m, PTHREAD_MUTEX_NORMAL, 0, 0);
	pid = spawn(hold_m, 0);
	WAIT_FOR(is_ready(0), 5000);
	dead = A->tid[0];
	kill_now(pid);
	CHECK(!tid_in(pid, dead));
	/* The bytes cannot tell: still locked by the dead tid. */
	s = DECODE(SYNC_MUTEX, m);
	CHECK_STR(sync_state_name(s.state), "locked");
	CHECK_INT(s.owner_tid, dead);
	CHECK_INT(s.waiters, 0);
	/* The snapshot, knowing from /proc that it is gone, upgrades it. */
	CHECK(sync_state_owner_gone(&s));
	CHECK_STR(sync_state_name(s.state), "owner-dead");
	CHECK_INT(s.owner_tid, dead);
}

static void test_recursive_mutex_3_deep(void)
{
	struct sync_state s;

	CHECK(seg_open() == 0);
	mutex_init_kind(&A->m, PTHREAD_MUTEX_RECURSIVE, 0, 0);
	CHECK(spawn(hold_m_3deep, 0) > 0);
	WAIT_FOR(is_ready(0), 5000);
	s = DECODE(SYNC_MUTEX, m);
	CHECK_STR(sync_state_name(s.state), "locked");
	CHECK_STR(s.type, "recursive");
	CHECK_INT(s.recursion, 3);
	CHECK_INT(s.owner_tid, A->tid[0]);
	CHECK_INT(s.waiters, 0);
}

static void test_errorcheck_mutex(void)
{
	struct sync_state s;

	CHECK(seg_open() == 0);
	mutex_init_kind(&A->m, PTHREAD_MUTEX_ERRORCHECK, 0, 0);
	CHECK(spawn(hold_m, 0) > 0);
	WAIT_FOR(is_ready(0), 5000);
	s = DECODE(SYNC_MUTEX, m);
	CHECK_STR(sync_state_name(s.state), "locked");
	CHECK_STR(s.type, "errorcheck");
	CHECK_INT(s.owner_tid, A->tid[0]);
	CHECK_INT(s.waiters, 0);
	CHECK_INT(s.recursion, 0);
	/* We are not the owner: errorcheck says so, and nothing changes. */
	CHECK_INT(pthread_mutex_unlock(&A->m), EPERM);
	CHECK_INT(DECODE(SYNC_MUTEX, m).owner_tid, A->tid[0]);
}

static void test_pi_mutex_held(void)
{
	struct sync_state s;

	CHECK(seg_open() == 0);
	mutex_init_kind(&A->m, -1, 0, PTHREAD_PRIO_INHERIT);
	CHECK(spawn(hold_m, 0) > 0);
	WAIT_FOR(is_ready(0), 5000);
	CHECK_INT(A->ret[0], 0);
	s = DECODE(SYNC_MUTEX, m);
	CHECK_STR(sync_state_name(s.state), "locked");
	CHECK(s.flags & SYNC_F_PI);
	/* A PI lock word is the holder's tid (the kernel's format). */
	CHECK_INT(s.word, A->tid[0]);
	CHECK_INT(s.owner_tid, A->tid[0]);
	CHECK_INT(s.waiters, 0);
}

/* Robust and PI together: the kernel owns the lock word both ways. */
static void test_robust_pi_owner_dead(void)
{
	struct sync_state s;
	pid_t a;
	int dead;

	CHECK(seg_open() == 0);
	mutex_init_kind(&A->m, -1, 1, PTHREAD_PRIO_INHERIT);
	a = spawn(hold_m, 0);
	WAIT_FOR(is_ready(0), 5000);
	CHECK_INT(A->ret[0], 0);
	dead = A->tid[0];
	s = DECODE(SYNC_MUTEX, m);
	CHECK_STR(sync_state_name(s.state), "locked");
	CHECK_INT(s.owner_tid, dead);
	CHECK(s.flags & SYNC_F_PI);
	CHECK(s.flags & SYNC_F_ROBUST);
	kill_now(a);
	s = DECODE(SYNC_MUTEX, m);
	CHECK_STR(sync_state_name(s.state), "owner-dead");
	CHECK_INT(s.owner_tid, dead);
	/* We take it over: EOWNERDEAD, and it is inconsistent in our name. */
	CHECK_INT(pthread_mutex_lock(&A->m), EOWNERDEAD);
	s = DECODE(SYNC_MUTEX, m);
	CHECK_STR(sync_state_name(s.state), "inconsistent");
	CHECK_INT(s.owner_tid, getpid());
	CHECK_INT(pthread_mutex_consistent(&A->m), 0);
	s = DECODE(SYNC_MUTEX, m);
	CHECK_STR(sync_state_name(s.state), "locked");
	CHECK_INT(pthread_mutex_unlock(&A->m), 0);
	CHECK_STR(STATE(SYNC_MUTEX, m), "free");
}

static void test_destroyed_mutex(void)
{
	struct sync_state s;

	CHECK(seg_open() == 0);
	mutex_init_kind(&A->m, PTHREAD_MUTEX_RECURSIVE, 0, 0);
	CHECK_STR(STATE(SYNC_MUTEX, m), "free");
	CHECK_INT(pthread_mutex_destroy(&A->m), 0);
	s = DECODE(SYNC_MUTEX, m);
	CHECK_STR(sync_state_name(s.state), "destroyed");
	CHECK_INT(s.owner_tid, 0);
	CHECK_INT(s.waiters, 0);
	/* Re-initialised, it is a mutex again. */
	mutex_init_kind(&A->m, PTHREAD_MUTEX_ERRORCHECK, 0, 0);
	CHECK_STR(STATE(SYNC_MUTEX, m), "free");
}

static void test_random_bytes_not_a_mutex(void)
{
	uint64_t x = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull | 1;
	struct sync_state s;

	CHECK(seg_open() == 0);
	for (int round = 0; round < 1000; round++) {
		uint8_t *p = (uint8_t *)&A->m;

		for (size_t i = 0; i < sizeof(A->m); i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			p[i] = (uint8_t)x;
		}
		s = DECODE(SYNC_MUTEX, m);
		if (s.state != SYNC_S_INVALID) {
			test_fail(__FILE__, __LINE__, "random bytes: %s (%s)",
				  sync_state_name(s.state), s.detail);
			return;
		}
		CHECK_INT(s.owner_tid, 0);
	}
}

static void test_sem_value_3(void)
{
	struct sync_state s;

	CHECK(seg_open() == 0);
	sem_init(&A->sem, 1, 0);
	CHECK_STR(STATE(SYNC_SEM, sem), "zero");
	CHECK(spawn(post_sem_3, 0) > 0);
	WAIT_FOR(is_ready(0), 5000);
	s = DECODE(SYNC_SEM, sem);
	CHECK_STR(sync_state_name(s.state), "available");
	CHECK_INT(s.value, 3);
	CHECK_INT(s.waiters, 0);
	CHECK(s.flags & SYNC_F_SHARED);
	sem_init(&A->go, 0, 5); /* private */
	s = DECODE(SYNC_SEM, go);
	CHECK_INT(s.value, 5);
	CHECK(!(s.flags & SYNC_F_SHARED));
}

static void test_sem_two_waiters(void)
{
	struct sync_state s;
	pid_t w1, w2;

	CHECK(seg_open() == 0);
	sem_init(&A->sem, 1, 0);
	w1 = spawn(wait_sem, 0);
	w2 = spawn(wait_sem, 1);
	CHECK(w1 > 0 && w2 > 0);
	WAIT_FOR(DECODE(SYNC_SEM, sem).waiters == 2, 5000);
	/* Both really sleep in futex() on the sem's value word. */
	WAIT_FOR(in_futex_on(w1, &A->sem) && in_futex_on(w2, &A->sem), 5000);
	CHECK_STR(role_of(w1, SYNC_SEM, &A->sem), "sem_wait");
	CHECK_STR(role_of(w2, SYNC_SEM, &A->sem), "sem_wait");
	s = DECODE(SYNC_SEM, sem);
	CHECK_STR(sync_state_name(s.state), "waiting");
	CHECK_INT(s.waiters, 2);
	CHECK_INT(s.value, 0);
	/* One post wakes one of them. */
	sem_post(&A->sem);
	WAIT_FOR(DECODE(SYNC_SEM, sem).waiters == 1, 5000);
	WAIT_FOR(DECODE(SYNC_SEM, sem).value == 0, 5000);
}

static void test_rwlock_read_held_by_two(void)
{
	pthread_rwlockattr_t ra;
	struct sync_state s;

	CHECK(seg_open() == 0);
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setpshared(&ra, PTHREAD_PROCESS_SHARED);
	pthread_rwlock_init(&A->rw, &ra);
	CHECK_STR(STATE(SYNC_RWLOCK, rw), "free");
	CHECK(spawn(rdlock, 0) > 0);
	CHECK(spawn(rdlock, 1) > 0);
	WAIT_FOR(is_ready(0) && is_ready(1), 5000);
	s = DECODE(SYNC_RWLOCK, rw);
	CHECK_STR(sync_state_name(s.state), "read-locked");
	CHECK_INT(s.readers, 2);
	CHECK_INT(s.value, 2);
	CHECK_INT(s.owner_tid, 0);
	CHECK_INT(s.waiters, 0);
	CHECK_STR(s.type, "prefer-reader");
	CHECK(s.flags & SYNC_F_SHARED);
}

static void test_rwlock_write_held(void)
{
	pthread_rwlockattr_t ra;
	struct sync_state s;

	CHECK(seg_open() == 0);
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setpshared(&ra, PTHREAD_PROCESS_SHARED);
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NP);
	pthread_rwlock_init(&A->rw, &ra);
	CHECK(spawn(wrlock, 0) > 0);
	WAIT_FOR(is_ready(0), 5000);
	s = DECODE(SYNC_RWLOCK, rw);
	CHECK_STR(sync_state_name(s.state), "write-locked");
	CHECK_INT(s.owner_tid, A->tid[0]);
	CHECK_INT(s.readers, 0);
	CHECK_INT(s.waiters, 0);
	CHECK_STR(s.type, "prefer-writer");
	/* A reader arrives and waits. */
	CHECK(spawn(rdlock, 1) > 0);
	WAIT_FOR(DECODE(SYNC_RWLOCK, rw).readers_waiting == 1, 5000);
	CHECK_STR(STATE(SYNC_RWLOCK, rw), "write-locked");
}

static void test_rwlock_writers_wait_for_reader(void)
{
	pthread_rwlockattr_t ra;
	struct sync_state s;
	pid_t w1, w2;

	CHECK(seg_open() == 0);
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setpshared(&ra, PTHREAD_PROCESS_SHARED);
	pthread_rwlock_init(&A->rw, &ra);
	CHECK(spawn(rdlock, 0) > 0);
	WAIT_FOR(is_ready(0), 5000);
	/* The first writer becomes primary writer and waits for the reader
	 * (state #4 of nptl/pthread_rwlock_common.c). */
	w1 = spawn(wrlock, 1);
	CHECK(w1 > 0);
	WAIT_FOR(DECODE(SYNC_RWLOCK, rw).writers_waiting == 1, 5000);
	WAIT_FOR(*role_of(w1, SYNC_RWLOCK, &A->rw), 5000);
	CHECK_STR(role_of(w1, SYNC_RWLOCK, &A->rw), "phase");
	s = DECODE(SYNC_RWLOCK, rw);
	CHECK_STR(sync_state_name(s.state), "read-locked");
	CHECK_INT(s.readers, 1);
	CHECK_INT(s.owner_tid, 0);
	/* A second writer sleeps on __writers_futex: the bytes only say
	 * "at least one". */
	w2 = spawn(wrlock, 2);
	CHECK(w2 > 0);
	WAIT_FOR(in_futex_on(w2, (const char *)&A->rw + 12), 5000);
	CHECK_STR(role_of(w2, SYNC_RWLOCK, &A->rw), "write");
	s = DECODE(SYNC_RWLOCK, rw);
	CHECK_STR(sync_state_name(s.state), "read-locked");
	CHECK_INT(s.writers_waiting, 1);
	CHECK(s.flags & SYNC_F_WAITERS_MIN);
	CHECK(!is_ready(1) && !is_ready(2));
}

static void test_cond_one_waiter(void)
{
	pthread_condattr_t ca;
	struct sync_state s;
	pid_t w;

	CHECK(seg_open() == 0);
	mutex_init_kind(&A->m, -1, 0, 0);
	pthread_condattr_init(&ca);
	pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&A->cond, &ca);
	CHECK_STR(STATE(SYNC_COND, cond), "idle");
	w = spawn(cond_wait, 0);
	CHECK(w > 0);
	WAIT_FOR(DECODE(SYNC_COND, cond).waiters == 1, 5000);
	s = DECODE(SYNC_COND, cond);
	CHECK_STR(sync_state_name(s.state), "waiting");
	CHECK_INT(s.waiters, 1);
	CHECK_INT(s.owner_tid, 0);
	/* It sleeps on one of the __g_signals words of this glibc. */
	WAIT_FOR(*role_of(w, SYNC_COND, &A->cond), 5000);
	CHECK_STR(role_of(w, SYNC_COND, &A->cond), "signal");
	CHECK(s.flags & SYNC_F_SHARED);
	CHECK(s.flags & SYNC_F_MONOTONIC);
	/* pthread_cond_wait released the mutex. */
	WAIT_FOR(DECODE(SYNC_MUTEX, m).state == SYNC_S_FREE, 5000);
}

static void test_spinlock(void)
{
	pthread_spinlock_t l;
	struct sync_state s;
	int raw;

	/* This machine's real encoding (x86: 1 is free, 0 is held). */
	pthread_spin_init(&l, PTHREAD_PROCESS_PRIVATE);
	raw = l;
	sync_decode(&HOST, SYNC_SPIN, &raw, sizeof(raw), &s);
	CHECK_STR(sync_state_name(s.state), "free");
	pthread_spin_lock(&l);
	raw = l;
	sync_decode(&HOST, SYNC_SPIN, &raw, sizeof(raw), &s);
	CHECK_STR(sync_state_name(s.state), "locked");
	pthread_spin_unlock(&l);
	raw = l;
	sync_decode(&HOST, SYNC_SPIN, &raw, sizeof(raw), &s);
	CHECK_STR(sync_state_name(s.state), "free");

	CHECK(seg_open() == 0);
	pthread_spin_init(&A->spin, PTHREAD_PROCESS_SHARED);
	CHECK(spawn(spin_hold, 0) > 0);
	WAIT_FOR(is_ready(0), 5000);
	s = DECODE(SYNC_SPIN, spin);
	CHECK_STR(sync_state_name(s.state), "locked");
	CHECK_INT(s.value, 1);
	CHECK_INT(s.word, abi_host() == ABI_AARCH64 ? 1 : 0);
	CHECK_INT(s.owner_tid, 0);	    /* spinlocks record no owner */
	CHECK_INT(s.waiters, SYNC_UNKNOWN); /* spinners do not sleep */
	CHECK_INT(pthread_spin_trylock(&A->spin), EBUSY);
}

static void test_barrier_two_of_three(void)
{
	pthread_barrierattr_t ba;
	struct sync_state s;

	CHECK(seg_open() == 0);
	pthread_barrierattr_init(&ba);
	pthread_barrierattr_setpshared(&ba, PTHREAD_PROCESS_SHARED);
	pthread_barrier_init(&A->bar, &ba, 3);
	CHECK_STR(STATE(SYNC_BARRIER, bar), "idle");
	CHECK(spawn(barrier_wait, 0) > 0);
	CHECK(spawn(barrier_wait, 1) > 0);
	WAIT_FOR(DECODE(SYNC_BARRIER, bar).waiters == 2, 5000);
	s = DECODE(SYNC_BARRIER, bar);
	CHECK_STR(sync_state_name(s.state), "waiting");
	CHECK_INT(s.waiters, 2);
	CHECK_INT(s.owner_tid, 0);
	CHECK_INT(s.count, 3);
	CHECK(s.flags & SYNC_F_SHARED);
	/* The third arrival completes the round. */
	pthread_barrier_wait(&A->bar);
	WAIT_FOR(DECODE(SYNC_BARRIER, bar).state == SYNC_S_IDLE, 5000);
}

int main(void)
{
	sync_target_host(&HOST);
	RUN(test_mutex_held_by_live_child);
	RUN(test_mutex_contended);
	RUN(test_robust_owner_dead_inconsistent_notrecoverable);
	RUN(test_normal_mutex_holder_died);
	RUN(test_recursive_mutex_3_deep);
	RUN(test_errorcheck_mutex);
	RUN(test_pi_mutex_held);
	RUN(test_robust_pi_owner_dead);
	RUN(test_destroyed_mutex);
	RUN(test_random_bytes_not_a_mutex);
	RUN(test_sem_value_3);
	RUN(test_sem_two_waiters);
	RUN(test_rwlock_read_held_by_two);
	RUN(test_rwlock_write_held);
	RUN(test_rwlock_writers_wait_for_reader);
	RUN(test_cond_one_waiter);
	RUN(test_spinlock);
	RUN(test_barrier_two_of_three);
	return test_done();
}
