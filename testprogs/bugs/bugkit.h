/*
 * bugkit.h - what every planted-bug program shares.
 *
 * A planted-bug program is a supervisor that creates one POSIX segment,
 * forks the processes that race on it (producers, consumers, ...), releases
 * them together through a start gate, waits for them with an optional
 * deadline and checks the result.  bugkit does the common part: the command
 * line, the segment, forking, waiting, killing and cleaning up on every
 * exit path, and the exit statuses:
 *
 *   0  everything checked out          2  usage error
 *   1  the planted bug did damage      3  deadline: the run hung
 *   4  setup error (a system call failed outside the race)
 *
 * 1 is "damage" rather than the house "error" status so that a test, or
 * the fuzzer, can tell the bug firing from the program failing to start.
 *
 * The supervisor blocks SIGCHLD/SIGINT/SIGTERM/SIGHUP and waits for them
 * synchronously: on a terminating signal it kills its children, removes the
 * segment and exits 128+signal.  Children die with their parent
 * (PR_SET_PDEATHSIG), so killing the supervisor, or the whole process group
 * as shmfuzz does, leaves no process behind.
 *
 * bugkit is program code, not library code: it prints and exits.
 */
#ifndef SHMSCOPE_BUGKIT_H
#define SHMSCOPE_BUGKIT_H

#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BUGKIT_OK      0
#define BUGKIT_DAMAGE  1
#define BUGKIT_USAGE   2
#define BUGKIT_HUNG    3
#define BUGKIT_SETUP   4
#define BUGKIT_MAXKIDS 8

struct bugkit;

/* What a program tells bugkit about itself. */
struct bugkit_prog {
	const char *name;	 /* "bug-lost-update" */
	const char *summary;	 /* one line for --help */
	const char *force_help;	 /* what --force does */
	unsigned long default_m; /* messages / iterations per run */
	/* Print the shared state when the deadline hits (may be NULL). */
	void (*on_hang)(struct bugkit *k);
};

struct bugkit_kid {
	pid_t pid;
	const char *role;
};

struct bugkit {
	const struct bugkit_prog *prog;
	char seg[256];		   /* segment name, "/..." */
	unsigned long m;	   /* -m */
	bool fixed;		   /* --fixed: run the fixed twin */
	bool force;		   /* --force: widen the race window */
	bool quiet;		   /* -q: no summary line */
	unsigned long deadline_ms; /* --deadline-ms, 0 = none */
	uint64_t seed;		   /* --seed */
	int fd;			   /* the segment, -1 if not ours */
	void *map;
	size_t size;
	int nkids;
	struct bugkit_kid kids[BUGKIT_MAXKIDS];
	bool is_child;
	const char *role; /* in a child: its role */
	uint64_t t0_ns;
	sigset_t oldmask;
	int gate[2]; /* children start when the write end closes */
};

/*
 * Parse the common command line into K (exits 0 on --help/--version, 2 on
 * a usage error) and block the signals the supervisor waits for.
 */
void bugkit_init(struct bugkit *k, const struct bugkit_prog *p, int argc,
		 char **argv);

/*
 * Create the segment K->seg (O_EXCL) of SIZE zeroed bytes and map it
 * shared read-write; exits 4 on failure.  Returns the mapping.
 */
void *bugkit_create(struct bugkit *k, size_t size);

/*
 * Fork a child playing ROLE that runs FN(K, ARG) and exits with what it
 * returns.  The child has the signal mask of the caller before bugkit_init
 * and dies with its parent.  Callable from a child too (a manager forking
 * workers); then the grandchild dies with the child.
 */
pid_t bugkit_spawn(struct bugkit *k, const char *role,
		   int (*fn)(struct bugkit *k, long arg), long arg);

/*
 * Supervisor: wait for every child, with the deadline.  When one fails
 * (non-zero exit, or a signal) the others are killed.  Returns 0 when all
 * exited 0, 1 (damage), 4 (setup), or 3 after printing "deadline: hung"
 * and the program's on_hang report; on SIGINT/SIGTERM/SIGHUP it cleans up
 * and exits 128+signal itself.
 */
int bugkit_wait(struct bugkit *k);

/* Supervisor: remove the segment and exit with STATUS. */
__attribute__((noreturn)) void bugkit_exit(struct bugkit *k, int status);

/*
 * Report damage: "NAME: DAMAGE: ..." on stderr, unbuffered, from any
 * process.  The caller then returns/exits with BUGKIT_DAMAGE.
 */
void bugkit_damage(const struct bugkit *k, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The summary line on stdout: "NAME: ok: ..." (nothing with -q). */
void bugkit_ok(const struct bugkit *k, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Any other line on stderr, prefixed with "NAME: " (and the role). */
void bugkit_say(const struct bugkit *k, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * A system call failed outside the race: print "NAME: WHAT: strerror(ERR)"
 * and exit 4 (a child) or clean up and exit 4 (the supervisor).
 */
__attribute__((noreturn)) void bugkit_fail(struct bugkit *k, int err,
					   const char *what);

/* Process-shared mutex of TYPE (PTHREAD_MUTEX_*), robust or not. */
void bugkit_mutex_init(struct bugkit *k, pthread_mutex_t *m, int type,
		       bool robust);
/* Process-shared semaphore with VALUE. */
void bugkit_sem_init(struct bugkit *k, sem_t *s, unsigned value);
/* Process-shared condition variable. */
void bugkit_cond_init(struct bugkit *k, pthread_cond_t *c);

/* Monotonic clock, nanoseconds. */
uint64_t bugkit_now_ns(void);
/* Busy-wait NS nanoseconds: "work" that keeps the CPU (no sync point). */
void bugkit_spin_ns(uint64_t ns);
/* Tell the CPU we are spinning (a busy-wait loop's body). */
void bugkit_cpu_relax(void);
/*
 * --force helper: poll *WORD every 100 us until it is non-zero or MAX_MS
 * have passed; true if it became non-zero.
 */
bool bugkit_wait_nonzero(const uint32_t *word, unsigned long max_ms);
/* Sleep US microseconds (the --force window wideners). */
void bugkit_sleep_us(unsigned long us);
/* Sleep until bugkit_now_ns() reaches T (at once if it has). */
void bugkit_sleep_until_ns(uint64_t t);

/*
 * A process's clock of planned steps: step n is planned for a time in the
 * n-th SLOT ns after START, at an offset drawn from the program's seed,
 * SALT and n; a process held up (by a lock, a stall, the fuzzer's noise)
 * catches up with its steps GAP ns apart and never skips one.  So its time
 * does not drift with its sleeps' overruns, being late moves its next
 * steps by as much and no more, and every run makes the same calls in the
 * same order: what a seed's run does at a given time, a replay does too.
 */
struct bugkit_clock {
	uint64_t start, slot, gap, salt;
	uint64_t last; /* when the last step ended (0: none yet) */
};
/* Set C up (and this thread's timer slack to 1 ns: wake when planned, not
 * up to 50 us later). */
void bugkit_clock_init(struct bugkit_clock *c, uint64_t start, uint64_t slot,
		       uint64_t gap, uint64_t salt);
/* Sleep until step N's time. */
void bugkit_clock_wait(const struct bugkit *k, struct bugkit_clock *c,
		       uint64_t n);
/* Step done: the next one is at least GAP ns from now. */
void bugkit_clock_done(struct bugkit_clock *c);
/* A per-process random stream: seeded from K->seed and SALT. */
uint64_t bugkit_rng_seed(const struct bugkit *k, uint64_t salt);
/* Next number of the stream at *S. */
uint64_t bugkit_rand(uint64_t *s);
/* A number in [0, N) (N > 0). */
uint64_t bugkit_rand_below(uint64_t *s, uint64_t n);
/* An absolute CLOCK_REALTIME time US microseconds from now (sem/mutex). */
struct timespec bugkit_abstime_us(unsigned long us);

#endif
