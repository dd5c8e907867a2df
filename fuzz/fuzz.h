/*
 * fuzz.h - shmfuzz's internal interfaces, grouped by the file that
 * defines them.
 *
 * The process structure of a campaign:
 *
 *   shmfuzz (campaign.c)              schedules runs, records failures
 *     supervisor (run.c), one per run  child subreaper; watches, diagnoses,
 *       target tree (own pgid)         kills, cleans up, reports a verdict
 *
 * The supervisor writes everything about its run into the run's folder
 * (stdout.txt, stderr.txt, status.txt, trace/, diagnosis.*) and its verdict
 * through a pipe; the campaign then keeps the folder as failure-N or
 * removes it.
 */
#ifndef SHMFUZZ_FUZZ_H
#define SHMFUZZ_FUZZ_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "err.h"

struct layout;
struct snap_source;
struct snapshot;
struct pct_ctl;
struct pct_switch;

#define FUZZ_NAME "shmfuzz"

enum fuzz_strategy {
	FUZZ_STRAT_NOISE,
	FUZZ_STRAT_PCT, /* a controlled scheduler (pct.c, docs/pct.md) */
	FUZZ_STRAT_NONE,
};

/* A schedule saved by a pct run (schedule.txt), to follow again. */
struct fuzz_pct_sched {
	uint64_t seed;
	bool has_seed;
	unsigned depth;
	uint64_t k;
	uint32_t n;
	struct pct_switch *sw; /* n switches */
};

struct fuzz_opts {
	uint64_t runs; /* 0: unbounded (then time_s bounds) */
	double time_s; /* 0: unbounded (then runs bounds) */
	uint64_t seed; /* base seed of the campaign */
	bool seed_given;
	int jobs;
	int timeout_ms; /* no progress for this long = a hang */
	enum fuzz_strategy strategy;
	const char *layout; /* -l: NULL when not given */
	int check_hz;	    /* --check-hz: samples of the layout's @checks */
	const char *out_dir;
	const char *junit; /* NULL: no JUnit file */
	bool json;
	uint64_t shard_i, shard_n;
	bool replay;
	uint64_t replay_seed;
	const char *valgrind; /* NULL, "memcheck", "helgrind" or "drd" */
	bool stop_first;
	bool quiet;
	unsigned pct_depth; /* --depth (pct) */
	bool depth_given;
	uint64_t pct_steps;	     /* --pct-steps: k; 0: estimated */
	const char *replay_schedule; /* --replay-schedule FILE */
	const struct fuzz_pct_sched *pct_sched; /* its contents */
	bool minimize;
	char **argv; /* the target: PROG ARGS, NULL-terminated */
	int argc;
	char probe[4096];    /* libshmprobe.so to preload; "" when none */
	char shmtrace[4096]; /* shmtrace next to us, for misuse; "" none */
};

/* --- opts.c ------------------------------------------------------------ */

/* Parse the command line into O.  Returns 0, 1 when --help/--version was
 * handled (exit 0), or -EINVAL with a message in E (exit 2). */
int fuzz_opts_parse(struct fuzz_opts *o, int argc, char **argv,
		    struct errbuf *e);
const char *fuzz_strategy_name(enum fuzz_strategy s);

/* --- seed.c -------------------------------------------------------------- */

/* The seed of run INDEX of a campaign with base seed BASE: 53 bits of
 * splitmix64(BASE + INDEX). */
uint64_t fuzz_run_seed(uint64_t base, uint64_t index);
/* A fresh base seed from the kernel's random pool (or the clock). */
uint64_t fuzz_random_seed(void);

/* --- proc.c ------------------------------------------------------------ */

struct fuzz_pstat {
	pid_t pid, ppid, pgid;
	char state;
	char comm[64];
	unsigned long long cpu; /* utime + stime, clock ticks */
};

/* Read at most N-1 bytes of PATH into BUF (NUL-terminated); the length or
 * -errno. */
ssize_t fuzz_read_small(const char *path, char *buf, size_t n);
/* /proc/PID/stat (TID 0) or /proc/PID/task/TID/stat into PS; 0 or -errno. */
int fuzz_proc_stat(pid_t pid, pid_t tid, struct fuzz_pstat *ps);
/* Every descendant of ROOT, by parent links, into PIDS (at most MAX);
 * the number found. */
int fuzz_descendants(pid_t root, pid_t *pids, int max);
/* A thread as the CPU scheduler sees it. */
struct fuzz_tsched {
	pid_t tid;
	char state;	 /* of /proc/PID/task/TID/stat: 'R' runnable */
	uint64_t delay;	 /* ns spent runnable, waiting for a CPU, until its
			  * last time on one (schedstat's run_delay) */
	uint64_t slices; /* times it was put on a CPU */
};

/* The threads of PID (at most MAX) into TS; the number found (0 without
 * /proc/PID/task/TID/schedstat). */
int fuzz_sched_threads(pid_t pid, struct fuzz_tsched *ts, int max);

/* --- run.c ------------------------------------------------------------- */

enum fuzz_kind {
	FUZZ_PASS = 0,
	FUZZ_EXIT,     /* a process exited non-zero */
	FUZZ_SIGNAL,   /* a process was killed by a signal */
	FUZZ_HANG,     /* no progress for --timeout */
	FUZZ_CHECK,    /* a layout @check failed while sampled */
	FUZZ_MISUSE,   /* the probe reported misuse */
	FUZZ_VALGRIND, /* valgrind reported errors */
	FUZZ_SETUP,    /* the run could not even start */
	FUZZ_INTERRUPTED,
	FUZZ_NKINDS
};

/* What a run's supervisor tells the campaign. */
struct fuzz_verdict {
	int kind;	/* enum fuzz_kind */
	char sig[512];	/* groups identical failures; "" on a pass */
	char what[512]; /* one line for a human */
	int nprocs;	/* processes reaped */
	int cleaned;	/* segments/semaphores the fuzzer removed */
	double secs;	/* wall time of the run */
	uint64_t pct_steps, pct_k, pct_preemptions; /* pct: the run's */
};

/* One run: everything about it lives in DIR (created here). */
struct fuzz_run {
	uint64_t index, seed;
	uint64_t pct_k; /* pct: the k its change points are drawn in */
	char dir[4096];
	pid_t sup; /* its supervisor */
	int fd;	   /* read end of the verdict pipe */
};

/* Start run R (R->index, R->seed, R->dir set) under a new supervisor.
 * Returns 0 or -errno. */
int fuzz_run_start(const struct fuzz_opts *o, struct fuzz_run *r,
		   struct errbuf *e);
/* After its supervisor was reaped with wait status WSTATUS: read its verdict
 * into V (a supervisor that died without one gives FUZZ_SETUP). */
void fuzz_run_finish(struct fuzz_run *r, int wstatus, struct fuzz_verdict *v);
/* SIGKILL every descendant of the caller and reap them, until none is
 * left (the caller must be their subreaper). */
void fuzz_kill_descendants(void);
const char *fuzz_kind_name(int kind);

/* --- diag.c ------------------------------------------------------------ */

/* Write diagnosis.txt and diagnosis.json into DIR for the process tree
 * under ROOT (the supervisor), which must still be alive; leave in SHAPE
 * (size N) a summary of what the threads are blocked on, which groups
 * identical hangs, and in FINDING (size FN; may be NULL) the first
 * wait-for cycle or dead owner found, else "".  Returns 0 or -errno. */
int fuzz_diag_write(pid_t root, const char *dir, const struct fuzz_opts *o,
		    char *shape, size_t n, char *finding, size_t fn);

/* --- shmclean.c -------------------------------------------------------- */

struct fuzz_shm_snap;

/* What /dev/shm holds now (for the --jobs 1 fallback); NULL on error. */
struct fuzz_shm_snap *fuzz_shm_snapshot(void);
void fuzz_shm_snap_free(struct fuzz_shm_snap *s);
/* Remove what the run in DIR created: the objects listed in its trace
 * folder's created*.txt files, else (BEFORE != NULL, i.e. --jobs 1) the
 * /dev/shm entries that are not in BEFORE, belong to our uid and changed
 * at or after START.  SysV segments whose creator is one of PIDS (N) go
 * too.  Names removed are appended to DIR/cleaned.txt.  Returns how many
 * objects were removed. */
int fuzz_shm_clean(const char *dir, const struct fuzz_shm_snap *before,
		   time_t start, const pid_t *pids, int n);

/* For each object listed in DIR/trace/created*.txt (the probe's report of
 * what the run created: "/name", "sem:/name", "sysv:ID"; a "posix:"
 * prefix removed), call FN; the sum of what FN returned, or -1 when there
 * is no such file at all. */
int fuzz_created_foreach(const char *dir, int (*fn)(void *arg, const char *obj),
			 void *arg);

/* --- checks.c ---------------------------------------------------------- */

/* Parse -l PATH once, for every run; 0 or -EINVAL with E filled. */
int fuzz_layout_load(const char *path, struct errbuf *e);
/* The layout of -l, or NULL. */
const struct layout *fuzz_layout_get(void);
/* In a run's supervisor: sample every @check/@expect of the layout in the
 * run's segments (the root's @segment, else those the run created or maps
 * that are big enough).  0: none failed for sure; 1: one failed and was
 * confirmed by re-sampling (see checks.c), its expression into MSG and its
 * segment with the values of the fields it names into WHERE ("/ring where
 * write_idx = 40, read_idx = 3"). */
int fuzz_checks_sample(const struct fuzz_opts *o, const char *dir, char *msg,
		       size_t n, char *where, size_t wn);
/* Whether every @expect of the layout holds in SNAP, the last snapshot of
 * SRC (true without any): the sign that a segment is the one the layout
 * describes, and initialised. */
bool fuzz_expects_hold(const struct snap_source *src,
		       const struct snapshot *snap);
/* Detach from every segment the sampler attached to. */
void fuzz_checks_close(void);

/* --- misuse.c ------------------------------------------------------------ */

/* After a run: `shmtrace report --json [-l LAYOUT] DIR/trace` into
 * DIR/report.json.  0: no misuse (or no trace, no shmtrace); 1: misuse,
 * the first as "KIND LOCK at SITE" into SIG (digits of an unnamed segment
 * squashed, the call site by fuzz_site_clean(); "KIND LOCK" when the trace
 * has no stack) and as prose into WHAT. */
int fuzz_misuse_check(const struct fuzz_opts *o, const char *dir, char *sig,
		      size_t sn, char *what, size_t wn);
/* Whether the probe recorded any event in DIR/trace. */
bool fuzz_traced(const char *dir);
/* Run the shmtrace next to shmfuzz: ARGS (NULL-terminated, at most 11),
 * then -l LAYOUT when given, then DIR/trace, with stdout into the file
 * OUT and stderr discarded.  0, -EIO when it failed, or -errno. */
int fuzz_shmtrace(const struct fuzz_opts *o, const char *const *args,
		  const char *dir, const char *out);
/* Read the "misuse" array of a report's JSON (LEN bytes): the number of
 * entries that fail a run (all but "died-holding", see misuse.c), the first
 * described as above, or -EINVAL when malformed. */
int fuzz_misuse_parse(const char *json, size_t len, char *sig, size_t sn,
		      char *what, size_t wn);

/* A call site as the symbolizer printed it ("func+0x12 (f.c:40)") made
 * stable for grouping: "func (f.c:40)" when the line is known, else
 * "func+0x12" or "lib.so+0x1234"; "?" for a bare address (it moves with
 * ASLR). */
void fuzz_site_clean(const char *frame, char *out, size_t n);
/* After a hung run was killed: `shmtrace story --json --last 1 DIR/trace`
 * into DIR/blocked.json, and the call sites where its threads were left
 * blocked (mutex, rwlock, semaphore, condvar), cleaned, sorted, each once,
 * joined by ", " into OUT.  The number of sites (0: none known). */
int fuzz_blocked_sites(const struct fuzz_opts *o, const char *dir, char *out,
		       size_t n);
/* The same from a story's JSON array (LEN bytes); -EINVAL if malformed. */
int fuzz_blocked_sites_parse(const char *json, size_t len, char *out, size_t n);

/* --- failures.c -------------------------------------------------------- */

struct fuzz_group {
	int kind;
	char sig[512];
	char what[512];
	uint64_t first_index, first_seed;
	uint64_t count;
	int n; /* its folder: failure-N */
};

struct fuzz_failures {
	struct fuzz_group *g;
	int n, cap;
	uint64_t total;
};

/* Record run R's failure V: a new group keeps R's folder as failure-N, a
 * known one counts it, lists its seed and removes the folder.  Returns the
 * group. */
struct fuzz_group *fuzz_failures_add(struct fuzz_failures *f,
				     const struct fuzz_opts *o,
				     const struct fuzz_run *r,
				     const struct fuzz_verdict *v);
void fuzz_failures_free(struct fuzz_failures *f);
/* Remove PATH and everything under it. */
void fuzz_rm_rf(const char *path);
/* Write DIR/README-like files of a failure folder: seed, command. */
int fuzz_failure_describe(const struct fuzz_opts *o, const struct fuzz_run *r,
			  const struct fuzz_verdict *v);

/* --- story.c ------------------------------------------------------------ */

/* The last FUZZ_STORY_LAST events of the run in DIR, told in order by
 * `shmtrace story`, into DIR/story.txt.  0, or -errno when there is no
 * trace to tell or shmtrace failed (story.txt is then removed). */
#define FUZZ_STORY_LAST "200"
int fuzz_story_write(const struct fuzz_opts *o, const char *dir);

/* --- report.c ---------------------------------------------------------- */

struct fuzz_summary {
	uint64_t runs, passed;
	uint64_t base_seed;
	double secs;
	bool interrupted;
	uint64_t cleaned;
};

/* The --json summary on F. */
void fuzz_report_json(FILE *f, const struct fuzz_opts *o,
		      const struct fuzz_summary *s,
		      const struct fuzz_failures *fl);
/* The --junit file; 0 or -errno with E filled. */
int fuzz_report_junit(const char *path, const struct fuzz_opts *o,
		      const struct fuzz_summary *s,
		      const struct fuzz_failures *fl, struct errbuf *e);
/* The command line as one shell-quoted string into BUF. */
void fuzz_quote_argv(char **argv, char *buf, size_t n);

/* --- pct.c ------------------------------------------------------------- */

/* The supervisor's handle on a run's control segment. */
struct fuzz_pct {
	struct pct_ctl *ctl;
	char name[64];
	uint64_t last_steps;
	int last_holder;
	double last_change, deadlock_since;
	double next_reap; /* next look for dead processes outside */
	/* The holder's CPU time (ns) when it was first seen stalled. */
	int busy_slot;
	double busy_change;
	unsigned long long busy_cpu;
	int ndead, noutside;
};

/* Read a schedule.txt into PS (PS->sw allocated); 0 or -errno with E. */
int fuzz_pct_load(const char *path, struct fuzz_pct_sched *ps,
		  struct errbuf *e);
/* Create run R's control segment (named after the calling supervisor);
 * 0 or -errno with E filled. */
int fuzz_pct_open(struct fuzz_pct *p, const struct fuzz_opts *o,
		  const struct fuzz_run *r, struct errbuf *e);
/* Look at the baton at time NOW (seconds): move it on from a holder that
 * blocks outside the probe's view or died.  1 when every scheduled thread
 * is blocked for good: a deadlock (then see fuzz_pct_deadlock). */
int fuzz_pct_watch(struct fuzz_pct *p, double now);
/* How soon to look at the baton again, in seconds: sooner while the
 * holder is a thread found spinning before. */
double fuzz_pct_tick(const struct fuzz_pct *p);
/* DIR/pct.txt: the control segment as it stands (the holder, every
 * slot's state and futex word), for a hang the scheduler did not see. */
void fuzz_pct_dump(struct fuzz_pct *p, const struct fuzz_opts *o,
		   const char *dir);
/* Describe the deadlock: SIG groups identical ones, WHAT names the
 * wait-for cycle; DIR/deadlock.txt lists every thread. */
void fuzz_pct_deadlock(struct fuzz_pct *p, const struct fuzz_opts *o,
		       const char *dir, char *sig, size_t sn, char *what,
		       size_t wn);
/* The run is over: DIR/schedule.txt, steps into V, segment removed. */
void fuzz_pct_close(struct fuzz_pct *p, const char *dir,
		    struct fuzz_verdict *v);
/* Remove the control segment of supervisor SUP (it may have died). */
void fuzz_pct_unlink(pid_t sup);

/* --- minimize.c -------------------------------------------------------- */

/* --minimize: replay run R (verdict V, folder FDIR) with fewer and fewer
 * preemptions while it fails the same way; FDIR/schedule.min.txt and
 * FDIR/minimized/ (the shortest failing run, with its trace).  The number
 * of preemptions removed (MSG says more), or -1 (MSG says why). */
int fuzz_minimize(const struct fuzz_opts *o, const struct fuzz_run *r,
		  const struct fuzz_verdict *v, const char *fdir, char *msg,
		  size_t mn);

/* --- campaign.c -------------------------------------------------------- */

/* Run the campaign (or the --replay) O describes.  Returns the exit
 * status: 0 nothing failed, 1 failures, 2 setup error, 130 interrupted. */
int fuzz_campaign(struct fuzz_opts *o);

#endif
