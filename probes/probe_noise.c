/*
 * probe_noise.c - schedule noise for `shmfuzz --strategy noise`.
 *
 * At every synchronisation point (before and after a lock, unlock, wait,
 * post, condvar call, and at shm_open/ftruncate/mmap) a thread draws a
 * number from its own generator and, now and then, yields, spins or sleeps
 * for a while: a race window that spans a sync point opens wide.  The
 * draw is a pure function of (seed, process index, exec generation,
 * thread index, the thread's count of sync points), never of a pid, a
 * tid, an address or the time, so a replay of the seed makes the same
 * decisions (see docs/fuzz.md, "Strategies and the probe contract").
 *
 * Configuration (set by shmfuzz):
 *   SHMFUZZ_STRATEGY   "noise" turns it on; anything else (or unset): off
 *   SHMFUZZ_SEED       the run's seed
 *   SHMPROBE_PINDEX    "PINDEX:GEN:PID", kept in the environment by the
 *                      probe itself so that an exec'd image keeps its index
 *   SHMPROBE_NOISE_LOG when set, every decision other than "nothing" is
 *                      appended to SHMPROBE_DIR/noise-PID.txt (tests)
 *
 * Off (the default), the only cost a hook pays is one load and one branch
 * on probe_noise, never taken.
 */
#include "probe.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define GOLDEN 0x9e3779b97f4a7c15ULL

/* The decision table, in 1/1024ths of the draws.  A process gets one of
 * these rates of "do something" from the seed: some runs barely touch the
 * schedule, some shake every fifth sync point.  Of the draws that do
 * something: 4/16 yield, 4/16 spin, 7/16 sleep, 1/16 stall. */
static const unsigned nz_rates[] = {10, 30, 60, 120, 200};
/* A thread's first sync points (startup: creating, sizing, mapping and
 * initialising shared state, where initialisation races live) are shaken
 * at least at this rate: a window there holds a point or two, once per
 * run, so it gets more than the common rates (160 until session 3; with
 * the setup points below, bug-init-race went from a median of 22 noise
 * runs to 2, docs/bench-fuzz.md). */
#define NZ_START_POINTS 32
#define NZ_START_RATE	384
/* Setup points (below) are shaken at least at this rate, and with a sleep
 * or a stall, never a mere yield or spin. */
#define NZ_SETUP_RATE  512
#define NZ_SPIN_MAX_US 50
/* Sleeps, log-uniform from 20 to 500 us: short ones reorder, long ones
 * let another process run through a whole critical section. */
static const unsigned nz_sleeps[] = {20,  25,  31,  38,	 47,  58,  72,	89,
				     110, 136, 168, 208, 257, 318, 393, 500};
#define NZ_NSLEEPS (sizeof(nz_sleeps) / sizeof(nz_sleeps[0]))
/* Stalls, 1 to 10 ms: long enough for a peer to fill a ring or outlast a
 * timeout while this thread is away (a preemption, a page fault storm). */
static const unsigned nz_stalls[] = {1000, 1400, 2000, 2800,
				     4000, 5600, 8000, 10000};
#define NZ_NSTALLS (sizeof(nz_stalls) / sizeof(nz_stalls[0]))
/* Sleep budget per thread: past it the rate drops 16-fold, so that a long
 * program is still perturbed but not slowed down for ever. */
#define NZ_BUDGET_US 1000000ULL

static struct {
	uint64_t seed;
	uint64_t pindex;
	uint64_t gen;  /* how many execs this process has made */
	unsigned rate; /* of 1024 */
	int pin; /* 0 leave, 1 all on one CPU, 2 each process on one CPU */
	int pin_cpu;
	bool log;
	char dir[1024];
	unsigned unknown_threads; /* threads not created by our hook */
	/* SHMPROBE_PINDEX=..., put into environ with putenv: rewritten in
	 * place in a fork child, so any exec (ours or libc's own) passes the
	 * current index on. */
	char env[96];
} N;

static uint64_t nz_mix(uint64_t h, uint64_t v)
{
	h ^= v + GOLDEN + (h << 6) + (h >> 2);
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 33);
}

/* splitmix64's output function: draw N of a stream keyed by KEY. */
static uint64_t nz_draw(uint64_t key, uint64_t n)
{
	uint64_t z = key + (n + 1) * GOLDEN;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void nz_env_update(void)
{
	snprintf(N.env, sizeof(N.env), "SHMPROBE_PINDEX=%llu:%llu:%d",
		 (unsigned long long)N.pindex, (unsigned long long)N.gen,
		 (int)getpid());
}

static uint64_t nz_hash_str(const char *s, size_t n)
{
	uint64_t h = 0x243f6a8885a308d3ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

/* Which process are we?  The root of the run has no SHMPROBE_PINDEX; an
 * exec'd image finds its own pid in it; a process started by a path the
 * probe does not see (posix_spawn, system) finds its parent's, and takes
 * an index from the parent's and its own command line. */
static void nz_pindex_setup(void)
{
	const char *v = getenv("SHMPROBE_PINDEX");
	unsigned long long pi, gen;
	int pid;

	if (!v || sscanf(v, "%llu:%llu:%d", &pi, &gen, &pid) != 3)
		return;
	if (pid == (int)getpid()) {
		N.pindex = pi;
		N.gen = gen + 1;
		return;
	}
	{
		char cmd[4096];
		ssize_t n = 0;
		int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);

		if (fd >= 0) {
			n = read(fd, cmd, sizeof(cmd));
			close(fd);
		}
		N.pindex = nz_mix(nz_mix(pi, gen),
				  nz_hash_str(cmd, n > 0 ? (size_t)n : 0));
	}
}

/* Per process: how noisy, and where it runs. */
static void nz_process_setup(void)
{
	uint64_t h = nz_mix(nz_mix(N.seed, N.pindex), 0x70726f63); /* proc */
	uint64_t hr = nz_mix(N.seed, 0x72756e);			   /* run */
	cpu_set_t allowed, one;
	int ncpu, k;

	N.rate = nz_rates[h % (sizeof(nz_rates) / sizeof(nz_rates[0]))];
	/* Pinning is the run's choice (from the seed alone): half the runs
	 * are left to the kernel, a quarter put every process on one CPU
	 * (interleavings only at yields and sleeps), a quarter put each
	 * process on a CPU of its own choosing. */
	N.pin = (int)(hr >> 8) % 4 < 2 ? 0 : (int)(hr >> 8) % 4 - 1;
	N.pin_cpu = -1;
	if (!N.pin || sched_getaffinity(0, sizeof(allowed), &allowed) < 0)
		return;
	ncpu = CPU_COUNT(&allowed);
	if (ncpu < 2)
		return;
	k = (int)((N.pin == 1 ? hr >> 16 : h >> 16) % (uint64_t)ncpu);
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (CPU_ISSET(c, &allowed) && k-- == 0) {
			N.pin_cpu = c;
			break;
		}
	}
	CPU_ZERO(&one);
	CPU_SET(N.pin_cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one) < 0)
		N.pin_cpu = -1;
}

static void nz_log(const char *line, size_t len)
{
	char path[1100];
	int fd;

	snprintf(path, sizeof(path), "%s/noise-%d.txt", N.dir, (int)getpid());
	/* Opened per line: a program that closes every descriptor, then
	 * opens its own, must not get our lines in its file. */
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (write(fd, line, len) < 0) {
		/* debugging output only */
	}
	close(fd);
}

static void nz_log_process(void)
{
	char line[200];
	int n;

	if (!N.log)
		return;
	n = snprintf(line, sizeof(line),
		     "process %llu gen %llu rate %u pin %d cpu %d\n",
		     (unsigned long long)N.pindex, (unsigned long long)N.gen,
		     N.rate, N.pin, N.pin_cpu);
	nz_log(line, (size_t)n);
}

void probe_noise_init(const char *dir)
{
	const char *s = getenv("SHMFUZZ_STRATEGY");
	const char *seed = getenv("SHMFUZZ_SEED");

	if (s && !strcmp(s, "pct")) {
		probe_pct_init();
		return;
	}
	if (!s || strcmp(s, "noise"))
		return;
	snprintf(N.dir, sizeof(N.dir), "%s", dir);
	N.seed = seed ? strtoull(seed, NULL, 10) : 0;
	N.log = getenv("SHMPROBE_NOISE_LOG") != NULL;
	nz_pindex_setup();
	nz_env_update();
	putenv(N.env);
	nz_process_setup();
	nz_log_process();
	probe_noise = PROBE_SCHED_NOISE;
}

/* Thread T's stream: its index is known (set by the creating thread's
 * hook, 0 for the main thread), or made up for a thread the probe did not
 * see being created. */
static void nz_thread_setup(struct probe_thread *t)
{
	if (!t->nz_has_index) {
		if (syscall(SYS_gettid) == getpid())
			t->nz_tindex = 0;
		else
			t->nz_tindex =
				nz_mix(0x756e6b6e, /* "unkn" */
				       __atomic_add_fetch(&N.unknown_threads, 1,
							  __ATOMIC_RELAXED));
		t->nz_has_index = true;
	}
	t->nz_key =
		nz_mix(nz_mix(nz_mix(N.seed, N.pindex), N.gen), t->nz_tindex);
	t->nz_ready = true;
}

static void nz_spin(unsigned us)
{
	uint64_t end = probe_now() +
		       (uint64_t)((double)us * 1000.0 / probe_ns_per_tick);

	while (probe_now() < end)
		__builtin_ia32_pause();
}

/* The init of a sync object and the calls that create, size and map a
 * segment: rare in a program (not in its loops, as a rule) and where
 * initialisation and resizing races live, in windows that hold a point or
 * two once per run.  A yield or a spin of a few us there rarely lets a
 * peer through a whole initialisation; a sleep does. */
static bool nz_setup_point(unsigned op)
{
	switch (op) {
	case TRACE_MUTEX_INIT:
	case TRACE_RW_INIT:
	case TRACE_COND_INIT:
	case TRACE_SPIN_INIT:
	case TRACE_SEM_INIT:
	case TRACE_SHM_OPEN:
	case TRACE_FTRUNCATE:
	case TRACE_MMAP:
		return true;
	default:
		return false;
	}
}

enum { NZ_NOTHING, NZ_YIELD, NZ_SPIN, NZ_SLEEP, NZ_STALL };
static const char *const nz_kind[] = {"nothing", "yield", "spin", "sleep",
				      "stall"};

void probe_noise_slow(struct probe_thread *t, unsigned op, unsigned after)
{
	int saved = errno;
	uint64_t n, r;
	unsigned rate, kind, us = 0;
	bool setup;

	if (t->busy)
		return; /* the probe's own calls (the unwinder's mmap) */
	if (probe_noise == PROBE_SCHED_PCT) {
		/* pct: one sync point, before the call. */
		if (!after)
			probe_pct_point(t, op, false);
		return;
	}
	if (!t->nz_ready)
		nz_thread_setup(t);
	n = t->nz_count++;
	r = nz_draw(t->nz_key, n);
	rate = N.rate;
	setup = nz_setup_point(op);
	if (n < NZ_START_POINTS && rate < NZ_START_RATE)
		rate = NZ_START_RATE;
	if (setup && rate < NZ_SETUP_RATE)
		rate = NZ_SETUP_RATE;
	if (t->nz_slept_us > NZ_BUDGET_US)
		rate = rate / 16 + 1;
	if ((r & 1023) >= rate) {
		errno = saved;
		return;
	}
	/* Bits 10-13: the kind; from bit 16: the duration. */
	kind = (unsigned)(r >> 10) & 15;
	kind = kind < 4	   ? NZ_YIELD
	       : kind < 8  ? NZ_SPIN
	       : kind < 15 ? NZ_SLEEP
			   : NZ_STALL;
	if (setup && kind < NZ_SLEEP)
		kind = NZ_SLEEP;
	if (kind == NZ_SPIN) {
		us = 1 + (unsigned)((r >> 16) % NZ_SPIN_MAX_US);
	} else if (kind == NZ_SLEEP) {
		us = nz_sleeps[(r >> 16) % NZ_NSLEEPS];
		t->nz_slept_us += us;
	} else if (kind == NZ_STALL) {
		us = nz_stalls[(r >> 16) % NZ_NSTALLS];
		t->nz_slept_us += us;
	}
	if (N.log) {
		char line[160];
		int len = snprintf(
			line, sizeof(line), "%llu %llu %llu %llu %s %u %s %s\n",
			(unsigned long long)N.pindex, (unsigned long long)N.gen,
			(unsigned long long)t->nz_tindex, (unsigned long long)n,
			nz_kind[kind], us, after ? "after" : "before",
			trace_op_name(op));
		nz_log(line, (size_t)len);
	}
	if (kind == NZ_YIELD) {
		sched_yield();
	} else if (kind == NZ_SPIN) {
		nz_spin(us);
	} else {
		struct timespec ts = {us / 1000000,
				      (long)(us % 1000000) * 1000};
		nanosleep(&ts, NULL);
	}
	errno = saved;
}

/* ---- processes and threads ------------------------------------------- */

void probe_noise_prefork(struct probe_thread *t)
{
	if (probe_noise == PROBE_SCHED_PCT) {
		probe_pct_prefork(t);
		return;
	}
	if (probe_noise && !t->nz_ready)
		nz_thread_setup(t);
}

void probe_noise_parent(struct probe_thread *t)
{
	if (probe_noise == PROBE_SCHED_NOISE)
		t->nz_forks++;
}

/* In the child, before its thread state is cleared: its index comes from
 * the parent's, the forking thread's and that thread's fork count. */
void probe_noise_child(struct probe_thread *t)
{
	if (probe_noise == PROBE_SCHED_PCT) {
		probe_pct_child();
		return;
	}
	if (!probe_noise)
		return;
	N.pindex = nz_mix(nz_mix(nz_mix(N.pindex, N.gen), t->nz_tindex),
			  t->nz_forks);
	N.gen = 0;
	N.unknown_threads = 0;
	nz_env_update(); /* in place: environ points at N.env */
	nz_process_setup();
	nz_log_process();
}

struct nz_start {
	void *(*fn)(void *);
	void *arg;
	uint64_t tindex;
};

static void *nz_thread_start(void *p)
{
	struct nz_start s = *(struct nz_start *)p;
	struct probe_thread *t = &probe_tls;

	free(p);
	t->nz_tindex = s.tindex;
	t->nz_has_index = true;
	return s.fn(s.arg);
}

int probe_noise_create(struct probe_thread *t, pthread_t *th,
		       const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
	struct nz_start *s = malloc(sizeof(*s));
	uint64_t k;
	int r;

	if (!s)
		return REAL(pthread_create)(th, a, fn, arg);
	if (!t->nz_ready)
		nz_thread_setup(t);
	/* The main thread's children are 1, 2, 3...; a child of another
	 * thread is named by its creator's index and count, so the index
	 * does not depend on which of two creating threads ran first. */
	k = ++t->nz_threads;
	s->fn = fn;
	s->arg = arg;
	s->tindex = t->nz_tindex == 0 ? k : nz_mix(t->nz_tindex, k);
	r = REAL(pthread_create)(th, a, nz_thread_start, s);
	if (r)
		free(s);
	return r;
}

const char *probe_noise_env(void)
{
	return probe_noise == PROBE_SCHED_NOISE ? N.env : NULL;
}
