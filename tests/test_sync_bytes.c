/*
 * Byte-level tests of the sync decoders: hand-made byte patterns for the
 * three ABIs and both condvar layouts, the per-ABI table checked against
 * this machine's own glibc headers, random bytes, and the JSON emitter.
 * The live states (children holding and waiting) are in test_sync_live.c.
 */
#include "test.h"

#include <pthread.h>
#include <semaphore.h>
#include <gnu/libc-version.h>
#include <stddef.h>

#include "sync.h"

static struct sync_target T64, TA64, T32, T241;

static void put32(uint8_t *b, size_t off, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b[off + i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *b, size_t off, uint64_t v)
{
	put32(b, off, (uint32_t)v);
	put32(b, off + 4, (uint32_t)(v >> 32));
}

static struct sync_state dec(const struct sync_target *t, enum sync_kind k,
			     const uint8_t *b)
{
	struct sync_state s;

	if (sync_decode(t, k, b, sync_size(t, k), &s) < 0) {
		memset(&s, 0, sizeof(s));
		s.state = SYNC_S_COUNT;
	}
	return s;
}

static void setup(void)
{
	sync_target_init(&T64, ABI_X86_64, "2.36", NULL);
	sync_target_init(&TA64, ABI_AARCH64, "2.36", NULL);
	sync_target_init(&T32, ABI_I386, "2.36", NULL);
	sync_target_init(&T241, ABI_X86_64, "2.41", NULL);
}

static void test_target(void)
{
	struct sync_target t;
	struct errbuf e;
	int major = 0, minor = 0;

	CHECK_INT(sync_target_init(&t, ABI_AARCH64, "2.41", &e), 0);
	CHECK_INT(t.glibc_major, 2);
	CHECK_INT(t.glibc_minor, 41);
	CHECK_INT(sync_target_init(&t, ABI_X86_64, "2.24", &e), -EINVAL);
	CHECK(strstr(e.msg, "2.25") != NULL);
	CHECK_INT(sync_target_init(&t, ABI_X86_64, "glibc", &e), -EINVAL);
	CHECK_INT(sync_target_init(&t, ABI_COUNT, "2.36", &e), -EINVAL);
	/* NULL: the running glibc. */
	CHECK_INT(sync_target_init(&t, ABI_X86_64, NULL, &e), 0);
	CHECK_INT(sscanf(gnu_get_libc_version(), "%d.%d", &major, &minor), 2);
	CHECK_INT(t.glibc_minor, minor);
	sync_target_host(&t);
	CHECK_INT(t.abi, abi_host());
}

/* The x86-64 table agrees with the compiler's view of this machine's glibc
 * headers, so a wrong offset or size cannot hide. */
static void test_table_matches_host_headers(void)
{
	struct sync_target t;
	pthread_mutex_t m;
	pthread_cond_t c;
	pthread_rwlock_t rw;

	sync_target_host(&t);
	CHECK_INT(sync_size(&t, SYNC_MUTEX), sizeof(pthread_mutex_t));
	CHECK_INT(sync_size(&t, SYNC_SEM), sizeof(sem_t));
	CHECK_INT(sync_size(&t, SYNC_RWLOCK), sizeof(pthread_rwlock_t));
	CHECK_INT(sync_size(&t, SYNC_COND), sizeof(pthread_cond_t));
	CHECK_INT(sync_size(&t, SYNC_SPIN), sizeof(pthread_spinlock_t));
	CHECK_INT(sync_size(&t, SYNC_BARRIER), sizeof(pthread_barrier_t));
	CHECK_INT(sync_size(&t, SYNC_FUTEX), 4);
	CHECK_INT(sync_align(&t, SYNC_MUTEX), _Alignof(pthread_mutex_t));
	CHECK_INT(sync_align(&t, SYNC_SEM), _Alignof(sem_t));
	CHECK_INT(sync_align(&t, SYNC_COND), _Alignof(pthread_cond_t));
	CHECK_INT(sync_size(&t, SYNC_NONE), 0);

	/* Field placement: write through the real struct, decode the
	 * bytes.  __owner 1234 with lock 1 must come out as owner 1234. */
	memset(&m, 0, sizeof(m));
	m.__data.__lock = 1;
	m.__data.__owner = 1234;
	m.__data.__kind = PTHREAD_MUTEX_ERRORCHECK;
	struct sync_state s = dec(&t, SYNC_MUTEX, (uint8_t *)&m);
	CHECK_STR(sync_state_name(s.state), "locked");
	CHECK_INT(s.owner_tid, 1234);
	CHECK_STR(s.type, "errorcheck");

	/* The condvar rule chosen for the running glibc reads __wrefs
	 * where this machine's header puts it. */
	memset(&c, 0, sizeof(c));
	c.__data.__wrefs = 5 << 3 | 2;
	s = dec(&t, SYNC_COND, (uint8_t *)&c);
	CHECK_STR(sync_state_name(s.state), "waiting");
	CHECK_INT(s.waiters, 5);
	CHECK(s.flags & SYNC_F_MONOTONIC);

	memset(&rw, 0, sizeof(rw));
	rw.__data.__readers = 3 | (0 << 3);
	rw.__data.__cur_writer = 777;
	rw.__data.__shared = 1;
	rw.__data.__flags = 2;
	s = dec(&t, SYNC_RWLOCK, (uint8_t *)&rw);
	CHECK_STR(sync_state_name(s.state), "write-locked");
	CHECK_INT(s.owner_tid, 777);
	CHECK_STR(s.type, "prefer-writer-nonrecursive");
	CHECK(s.flags & SYNC_F_SHARED);
}

static void test_x86_64_mutex_patterns(void)
{
	uint8_t b[40] = {0};
	struct sync_state s;

	s = dec(&T64, SYNC_MUTEX, b); /* PTHREAD_MUTEX_INITIALIZER */
	CHECK_STR(sync_state_name(s.state), "free");
	CHECK_STR(s.type, "normal");
	CHECK_INT(s.owner_tid, 0);
	CHECK_INT(s.waiters, 0);

	put32(b, 0, 2);	     /* __lock: taken, waiters */
	put32(b, 8, 4242);   /* __owner */
	put32(b, 16, 0x280); /* NO_ELISION | PSHARED: settype(NORMAL) */
	s = dec(&T64, SYNC_MUTEX, b);
	CHECK_STR(sync_state_name(s.state), "contended");
	CHECK_INT(s.owner_tid, 4242);
	CHECK_INT(s.waiters, SYNC_UNKNOWN);
	CHECK(s.flags & SYNC_F_SHARED);

	/* robust, holder died: the kernel left OWNER_DIED|WAITERS, tid 0 */
	memset(b, 0, sizeof(b));
	put32(b, 0, 0xc0000000u);
	put32(b, 8, 4243);
	put32(b, 16, 16 | 128);
	s = dec(&T64, SYNC_MUTEX, b);
	CHECK_STR(sync_state_name(s.state), "owner-dead");
	CHECK_INT(s.owner_tid, 4243);
	CHECK(s.flags & SYNC_F_ROBUST);

	/* PP with ceiling 5, locked */
	memset(b, 0, sizeof(b));
	put32(b, 0, 5u << 19 | 1);
	put32(b, 8, 99);
	put32(b, 16, 64);
	s = dec(&T64, SYNC_MUTEX, b);
	CHECK_STR(sync_state_name(s.state), "locked");
	CHECK_INT(s.prio_ceiling, 5);
	CHECK(s.flags & SYNC_F_PP);

	/* elision is an x86 thing */
	memset(b, 0, sizeof(b));
	put32(b, 16, 256);
	CHECK_STR(sync_state_name(dec(&T64, SYNC_MUTEX, b).state), "free");
	memset(b, 0, sizeof(b));
	put32(b, 16, 256);
	CHECK_STR(sync_state_name(dec(&TA64, SYNC_MUTEX, b).state), "invalid");
}

static void test_mutex_invalid_patterns(void)
{
	static const struct {
		uint32_t lock, count, owner, kind;
		const char *why;
	} bad[] = {
		{0, 0, 0, 0x1000, "unknown bits"},
		{0, 0, 0, 32 | 64, "PRIO_INHERIT and PRIO_PROTECT"},
		{0, 0, 0, 16 | 64 | 128, "robust and PRIO_PROTECT"},
		{0, 0, 0, 16, "without the pshared bit"},
		{0, 0, 0, 512 | 1, "NO_ELISION"},
		{0, 0, 0, 256 | 2, "ELISION"},
		{3, 0, 0, 0, "lock word"},
		{1, 0, (uint32_t)-5, 0, "__owner"},
		{1, 0, 0x7fffffff, 0, "__owner"}, /* cookie, not robust */
		{1, 2, 7, 0, "__count"},
		{0x3ffffff0u, 0, 0, 16 | 128, "out of range"},
		{5u << 19 | 7, 0, 0, 64, "PP lock word"},
	};
	uint8_t b[40];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sync_state s;

		memset(b, 0, sizeof(b));
		put32(b, 0, bad[i].lock);
		put32(b, 4, bad[i].count);
		put32(b, 8, bad[i].owner);
		put32(b, 16, bad[i].kind);
		s = dec(&T64, SYNC_MUTEX, b);
		if (s.state != SYNC_S_INVALID ||
		    !strstr(s.detail, bad[i].why)) {
			test_fail(__FILE__, __LINE__, "case %zu: %s: %s", i,
				  sync_state_name(s.state), s.detail);
			return;
		}
		CHECK_INT(s.owner_tid, 0);
	}
	/* a non-robust mutex never has list pointers */
	memset(b, 0, sizeof(b));
	put64(b, 24, 0x7f0012345678ull);
	CHECK_STR(sync_state_name(dec(&T64, SYNC_MUTEX, b).state), "invalid");
	/* destroyed */
	memset(b, 0, sizeof(b));
	put32(b, 16, 0xffffffffu);
	CHECK_STR(sync_state_name(dec(&T64, SYNC_MUTEX, b).state), "destroyed");
}

/* aarch64: 48-byte mutex (int __spins), generic spinlock 0 = free, its
 * own rwlock layout with __flags at 48. */
static void test_aarch64_patterns(void)
{
	uint8_t b[56] = {0};
	struct sync_state s;

	CHECK_INT(sync_size(&TA64, SYNC_MUTEX), 48);
	put32(b, 0, 0x80000000u | 3001); /* robust, held, waiters */
	put32(b, 4, 2);			 /* recursive depth 2 */
	put32(b, 8, 3001);
	put32(b, 16, 16 | 1 | 128);
	put64(b, 24, 0xffff00001000ull); /* on the holder's robust list */
	put64(b, 32, 0xffff00001000ull);
	s = dec(&TA64, SYNC_MUTEX, b);
	CHECK_STR(sync_state_name(s.state), "contended");
	CHECK_INT(s.owner_tid, 3001);
	CHECK_INT(s.recursion, 2);
	CHECK_STR(s.type, "recursive");

	memset(b, 0, sizeof(b));
	put32(b, 0, 0);
	CHECK_STR(sync_state_name(dec(&TA64, SYNC_SPIN, b).state), "free");
	put32(b, 0, 1);
	CHECK_STR(sync_state_name(dec(&TA64, SYNC_SPIN, b).state), "locked");
	put32(b, 0, (uint32_t)-1);
	CHECK_STR(sync_state_name(dec(&TA64, SYNC_SPIN, b).state), "invalid");

	/* rwlock read-held by 4, a writer waiting (state #4) */
	memset(b, 0, sizeof(b));
	put32(b, 0, 4u << 3 | 2);
	put32(b, 12, 1 | 2); /* writers may sleep on __writers_futex */
	put32(b, 28, 1);     /* __shared */
	put32(b, 48, 1);     /* prefer writer */
	s = dec(&TA64, SYNC_RWLOCK, b);
	CHECK_STR(sync_state_name(s.state), "read-locked");
	CHECK_INT(s.readers, 4);
	CHECK_INT(s.writers_waiting, 1);
	CHECK_STR(s.type, "prefer-writer");
	CHECK(s.flags & SYNC_F_SHARED);
	put32(b, 48, 7);
	CHECK_STR(sync_state_name(dec(&TA64, SYNC_RWLOCK, b).state), "invalid");

	/* sem: 64-bit data word, value 2, 3 waiters, shared */
	memset(b, 0, sizeof(b));
	put64(b, 0, 3ull << 32 | 2);
	put32(b, 8, 128);
	s = dec(&TA64, SYNC_SEM, b);
	CHECK_STR(sync_state_name(s.state), "waiting");
	CHECK_INT(s.value, 2);
	CHECK_INT(s.waiters, 3);
	CHECK(s.flags & SYNC_F_SHARED);
}

/* i386: 24-byte mutex with __kind at 12, 16-byte sem with value << 1,
 * 32-byte rwlock with byte-wide __flags/__shared and __cur_writer at 28. */
static void test_i386_patterns(void)
{
	uint8_t b[48] = {0};
	struct sync_state s;

	CHECK_INT(sync_size(&T32, SYNC_MUTEX), 24);
	CHECK_INT(sync_size(&T32, SYNC_SEM), 16);
	CHECK_INT(sync_size(&T32, SYNC_BARRIER), 20);
	put32(b, 0, 1);
	put32(b, 8, 555);
	put32(b, 12, 2); /* errorcheck */
	put32(b, 16, 1); /* __nusers */
	put32(b, 20, 0x00000000);
	s = dec(&T32, SYNC_MUTEX, b);
	CHECK_STR(sync_state_name(s.state), "locked");
	CHECK_INT(s.owner_tid, 555);
	CHECK_STR(s.type, "errorcheck");
	/* An adaptive mutex's spin/elision data shares the union with
	 * __list on i386: nonzero there is no sign of garbage. */
	memset(b, 0, sizeof(b));
	put32(b, 12, 3);	  /* adaptive */
	put32(b, 20, 0x00050000); /* __spins 0, __elision 5 in the union */
	s = dec(&T32, SYNC_MUTEX, b);
	CHECK_STR(sync_state_name(s.state), "free");
	CHECK_STR(s.type, "adaptive");

	/* sem: value 3 << 1, waiters bit, nwaiters 2, private */
	memset(b, 0, sizeof(b));
	put32(b, 0, 3u << 1 | 1);
	put32(b, 12, 2);
	s = dec(&T32, SYNC_SEM, b);
	CHECK_STR(sync_state_name(s.state), "waiting");
	CHECK_INT(s.value, 3);
	CHECK_INT(s.waiters, 2);
	CHECK(!(s.flags & SYNC_F_SHARED));
	put32(b, 4, 128);
	put32(b, 12, 0);
	s = dec(&T32, SYNC_SEM, b);
	CHECK_STR(sync_state_name(s.state), "available");
	CHECK(s.flags & SYNC_F_SHARED);

	/* rwlock write-held by 812, prefer writer, shared */
	memset(b, 0, sizeof(b));
	put32(b, 0, 1 | 2);
	b[24] = 1; /* __flags */
	b[25] = 1; /* __shared */
	put32(b, 28, 812);
	s = dec(&T32, SYNC_RWLOCK, b);
	CHECK_STR(sync_state_name(s.state), "write-locked");
	CHECK_INT(s.owner_tid, 812);
	CHECK_STR(s.type, "prefer-writer");
	CHECK(s.flags & SYNC_F_SHARED);

	/* spinlock: x86 inverts it */
	memset(b, 0, sizeof(b));
	put32(b, 0, 1);
	CHECK_STR(sync_state_name(dec(&T32, SYNC_SPIN, b).state), "free");
	put32(b, 0, (uint32_t)-2);
	CHECK_STR(sync_state_name(dec(&T32, SYNC_SPIN, b).state), "locked");
	put32(b, 0, 2);
	CHECK_STR(sync_state_name(dec(&T32, SYNC_SPIN, b).state), "invalid");
}

/* The glibc 2.41 condvar: __wrefs at 28 instead of 36. */
static void test_cond_241_rule(void)
{
	uint8_t b[48] = {0};
	struct sync_state s;

	put64(b, 0, 2);		   /* __wseq: one waiter took position 0 */
	put32(b, 28, 1u << 3 | 1); /* 2.41 __wrefs: 1 waiter, shared */
	s = dec(&T241, SYNC_COND, b);
	CHECK_STR(sync_state_name(s.state), "waiting");
	CHECK_INT(s.waiters, 1);
	CHECK(s.flags & SYNC_F_SHARED);
	CHECK(!(s.flags & SYNC_F_MONOTONIC));
	/* The same bytes under 2.36 rules: offset 36 is 0, nobody waits;
	 * 28 is __g1_orig_size's upper half there. */
	s = dec(&T64, SYNC_COND, b);
	CHECK_STR(sync_state_name(s.state), "idle");
	CHECK_INT(s.waiters, 0);

	/* 2.36 bytes: __wrefs at 36, destroyed (wake-request bit, 0 refs) */
	memset(b, 0, sizeof(b));
	put32(b, 36, 4 | 2);
	s = dec(&T64, SYNC_COND, b);
	CHECK_STR(sync_state_name(s.state), "destroyed");
	s = dec(&T241, SYNC_COND, b);
	CHECK_STR(sync_state_name(s.state), "idle");
	/* same layout on aarch64 and i386 */
	memset(b, 0, sizeof(b));
	put32(b, 36, 2u << 3);
	CHECK_INT(dec(&TA64, SYNC_COND, b).waiters, 2);
	CHECK_INT(dec(&T32, SYNC_COND, b).waiters, 2);
	/* internal condvar lock bits 3 never happen */
	put32(b, 32, 3);
	CHECK_STR(sync_state_name(dec(&T64, SYNC_COND, b).state), "invalid");
}

static void test_barrier_futex_patterns(void)
{
	uint8_t b[32] = {0};
	struct sync_state s;

	put32(b, 0, 5);	   /* in */
	put32(b, 4, 3);	   /* current_round */
	put32(b, 8, 3);	   /* count */
	put32(b, 12, 128); /* shared */
	put32(b, 16, 3);   /* out */
	s = dec(&T64, SYNC_BARRIER, b);
	CHECK_STR(sync_state_name(s.state), "waiting");
	CHECK_INT(s.waiters, 2);
	CHECK_INT(s.count, 3);
	put32(b, 4, 4); /* round not a multiple of count */
	CHECK_STR(sync_state_name(dec(&T64, SYNC_BARRIER, b).state), "invalid");
	memset(b, 0, sizeof(b));
	put32(b, 8, 3);
	put32(b, 16, 0x7ffffffe); /* what pthread_barrier_destroy leaves */
	CHECK_STR(sync_state_name(dec(&T64, SYNC_BARRIER, b).state),
		  "destroyed");

	memset(b, 0, sizeof(b));
	s = dec(&T64, SYNC_FUTEX, b);
	CHECK_STR(sync_state_name(s.state), "zero");
	put32(b, 0, 9);
	s = dec(&T64, SYNC_FUTEX, b);
	CHECK_STR(sync_state_name(s.state), "nonzero");
	CHECK_INT(s.value, 9);
	CHECK_INT(sync_decode(&T64, SYNC_FUTEX, b, 3, &s), -EINVAL);
	CHECK_INT(sync_decode(&T64, SYNC_NONE, b, 4, &s), -EINVAL);
}

static void test_futex_roles(void)
{
	CHECK_STR(sync_futex_role(&T64, SYNC_MUTEX, 0), "lock");
	CHECK(sync_futex_role(&T64, SYNC_MUTEX, 8) == NULL);
	CHECK_STR(sync_futex_role(&T32, SYNC_SEM, 0), "sem_wait");
	CHECK_STR(sync_futex_role(&TA64, SYNC_RWLOCK, 0), "read");
	CHECK_STR(sync_futex_role(&TA64, SYNC_RWLOCK, 8), "phase");
	CHECK_STR(sync_futex_role(&TA64, SYNC_RWLOCK, 12), "write");
	/* 2.36: __g1_orig_size 32, __wrefs 36, __g_signals 40 and 44 */
	CHECK_STR(sync_futex_role(&T64, SYNC_COND, 32), "internal-lock");
	CHECK_STR(sync_futex_role(&T64, SYNC_COND, 36), "destroy");
	CHECK_STR(sync_futex_role(&T64, SYNC_COND, 40), "signal");
	CHECK_STR(sync_futex_role(&T64, SYNC_COND, 44), "signal");
	CHECK(sync_futex_role(&T64, SYNC_COND, 28) == NULL);
	/* 2.41: everything 8 bytes lower */
	CHECK_STR(sync_futex_role(&T241, SYNC_COND, 24), "internal-lock");
	CHECK_STR(sync_futex_role(&T241, SYNC_COND, 28), "destroy");
	CHECK_STR(sync_futex_role(&T241, SYNC_COND, 32), "signal");
	CHECK_STR(sync_futex_role(&T241, SYNC_COND, 36), "signal");
	CHECK(sync_futex_role(&T241, SYNC_COND, 40) == NULL);
	CHECK_STR(sync_futex_role(&T64, SYNC_BARRIER, 4), "round");
	CHECK_STR(sync_futex_role(&T64, SYNC_BARRIER, 0), "reset");
	CHECK(sync_futex_role(&T64, SYNC_SPIN, 0) == NULL);
	CHECK_STR(sync_futex_role(&T64, SYNC_FUTEX, 0), "wake");
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)rng_state;
}

/* Random bytes are never a plausible mutex, on any ABI, nor (over this
 * many tries) a plausible rwlock, sem, barrier or 2.36 condvar. */
static void test_random_bytes_invalid(void)
{
	const struct sync_target *ts[] = {&T64, &TA64, &T32};
	uint8_t b[64];
	int n_rw = 0, n_sem = 0, n_bar = 0, n_cond = 0;

	for (int i = 0; i < 200000; i++) {
		const struct sync_target *t = ts[i % 3];
		struct sync_state s;

		for (size_t k = 0; k < sizeof(b); k += 4)
			put32(b, k, rng());
		s = dec(t, SYNC_MUTEX, b);
		if (s.state != SYNC_S_INVALID) {
			test_fail(__FILE__, __LINE__,
				  "random bytes decoded as %s (%s)",
				  sync_state_name(s.state), s.detail);
			return;
		}
		n_rw += dec(t, SYNC_RWLOCK, b).state != SYNC_S_INVALID;
		n_sem += dec(t, SYNC_SEM, b).state != SYNC_S_INVALID;
		n_bar += dec(t, SYNC_BARRIER, b).state != SYNC_S_INVALID;
		n_cond += dec(t, SYNC_COND, b).state != SYNC_S_INVALID;
	}
	CHECK_INT(n_rw, 0);
	CHECK_INT(n_sem, 0);
	CHECK_INT(n_bar, 0);
	CHECK_INT(n_cond, 0); /* 2.41's condvar has less to check */
}

static char *json_of(const struct sync_state *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct json j;

	json_init(&j, f, false);
	json_begin_obj(&j);
	sync_json(&j, s);
	json_end_obj(&j);
	fclose(f);
	return buf;
}

static void test_json_and_owner_gone(void)
{
	uint8_t b[40] = {0};
	struct sync_state s;
	char *js;

	put32(b, 0, 1);
	put32(b, 8, 321);
	put32(b, 16, 128 | 1);
	put32(b, 4, 3);
	s = dec(&T64, SYNC_MUTEX, b);
	js = json_of(&s);
	CHECK_STR(js, "{\"kind\":\"mutex\",\"state\":\"locked\",\"value\":1,"
		      "\"waiters\":0,\"owner_tid\":321,\"type\":\"recursive\","
		      "\"robust\":false,\"pi\":false,\"pp\":false,"
		      "\"recursion\":3,\"shared\":true,"
		      "\"detail\":\"locked by tid 321, no waiters\"}");
	free(js);

	CHECK(sync_state_owner_gone(&s));
	CHECK_STR(sync_state_name(s.state), "owner-dead");
	CHECK_INT(s.owner_tid, 321);
	CHECK(!sync_state_owner_gone(&s));

	memset(b, 0, sizeof(b));
	put64(b, 0, 1);
	s = dec(&T64, SYNC_SEM, b);
	CHECK(!sync_state_owner_gone(&s));
	js = json_of(&s);
	CHECK_STR(js, "{\"kind\":\"sem\",\"state\":\"available\",\"value\":1,"
		      "\"waiters\":0,\"owner_tid\":null,\"shared\":false,"
		      "\"detail\":\"value 1\"}");
	free(js);

	put32(b, 8, 77);
	s = dec(&T64, SYNC_SEM, b);
	js = json_of(&s);
	CHECK(strstr(js, "\"state\":\"invalid\"") != NULL);
	CHECK(strstr(js, "\"shared\"") == NULL);
	free(js);

	/* A valid __kind with an impossible lock word: nothing of the
	 * mutex's type or flags is reported either. */
	memset(b, 0, sizeof(b));
	put32(b, 0, 7);
	put32(b, 8, 5);
	put32(b, 16, 128 | 2);
	s = dec(&T64, SYNC_MUTEX, b);
	js = json_of(&s);
	CHECK_STR(js,
		  "{\"kind\":\"mutex\",\"state\":\"invalid\",\"value\":0,"
		  "\"waiters\":0,\"owner_tid\":null,\"detail\":\"errorcheck "
		  "mutex with lock word 7: not 0, 1 or 2\"}");
	free(js);
}

int main(void)
{
	setup();
	RUN(test_target);
	RUN(test_table_matches_host_headers);
	RUN(test_x86_64_mutex_patterns);
	RUN(test_mutex_invalid_patterns);
	RUN(test_aarch64_patterns);
	RUN(test_i386_patterns);
	RUN(test_cond_241_rule);
	RUN(test_barrier_futex_patterns);
	RUN(test_futex_roles);
	RUN(test_random_bytes_invalid);
	RUN(test_json_and_owner_gone);
	return test_done();
}
