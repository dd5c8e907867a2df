/*
 * run.c - one run: spawn the target's tree, watch it, kill it, judge it.
 *
 * Every run has a supervisor process of its own.  It makes itself a child
 * subreaper, so that whatever the target's tree forks and orphans comes
 * back to it: it sees every orphan's exit status, and when it kills the
 * run it can find every descendant by parent links, even those that left
 * the target's process group or session.  The campaign only waits for
 * supervisors; one supervisor per run also keeps concurrent runs (--jobs)
 * from ever seeing each other's processes.
 *
 * Progress, for the hang detector: in every sample (every 1/5 of
 * --timeout, at most 100 ms apart) the supervisor takes a fingerprint of
 * the run: the pids of the tree, the CPU time (utime + stime) of each,
 * and the names, sizes and modification times of the files in the trace
 * folder.  When the fingerprint has not changed for --timeout, the run is
 * a hang: the diagnosis is written while the tree still stands, then it
 * is killed.
 *
 * Unless the machine is the reason: a loaded CI runner, or a nice'd
 * campaign beside a build, can keep a runnable thread off every CPU for
 * seconds.  While nothing moves, each sample also asks the scheduler
 * (/proc/PID/task/TID/schedstat) whether some thread was starved since
 * the last one: runnable at both and never put on a CPU between, or
 * waiting for a CPU for more than half of the time between.  A still
 * window that was mostly starved starts again, up to STARVE_MAX times,
 * and a hang found after that says so.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"
#include "proc.h"

#define MAX_TREE       4096
#define VALGRIND_ERROR 97  /* --error-exitcode: valgrind found errors */
#define STARVE_MAX     4   /* windows restarted for a starved thread */
#define STARVE_TASKS   256 /* threads whose waits for a CPU are followed */

/* Every thread of the run as the CPU scheduler saw it, at one moment. */
struct sched_sample {
	int n;
	double t;
	struct fuzz_tsched th[STARVE_TASKS];
};

struct sup {
	const struct fuzz_opts *o;
	struct fuzz_run *r;
	struct fuzz_verdict v;
	pid_t target;
	FILE *status;
	pid_t seen[MAX_TREE]; /* every pid the tree ever had, for cleanup */
	int nseen;
	uint64_t fp;	      /* last progress fingerprint */
	double last_progress; /* monotonic seconds */
	pid_t tree[MAX_TREE]; /* at the last fingerprint */
	int ntree;
	/* The last two samples of a still window, the newer at [cur]. */
	struct sched_sample smp[2];
	int cur;
	bool have_prev;
	double still_t0;  /* the first sample without progress */
	double starved_s; /* since then: some thread starved */
	int starved;	  /* times it restarted: a thread starved */
	double start;
	bool killing;	     /* statuses from here on are our kills */
	struct fuzz_pct pct; /* --strategy pct: the control segment */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *fuzz_kind_name(int kind)
{
	static const char *const names[FUZZ_NKINDS] = {
		[FUZZ_PASS] = "pass",
		[FUZZ_EXIT] = "exit",
		[FUZZ_SIGNAL] = "signal",
		[FUZZ_HANG] = "hang",
		[FUZZ_CHECK] = "check",
		[FUZZ_MISUSE] = "misuse",
		[FUZZ_VALGRIND] = "valgrind",
		[FUZZ_SETUP] = "setup",
		[FUZZ_INTERRUPTED] = "interrupted",
	};

	return kind >= 0 && kind < FUZZ_NKINDS ? names[kind] : "?";
}

static void remember(struct sup *s, pid_t pid)
{
	for (int i = 0; i < s->nseen; i++)
		if (s->seen[i] == pid)
			return;
	if (s->nseen < MAX_TREE)
		s->seen[s->nseen++] = pid;
}

/* The first failure decides the verdict; later ones only go to
 * status.txt. */
static void fail(struct sup *s, int kind, const char *sig, const char *what)
{
	if (s->v.kind != FUZZ_PASS)
		return;
	s->v.kind = kind;
	snprintf(s->v.sig, sizeof(s->v.sig), "%.500s", sig);
	snprintf(s->v.what, sizeof(s->v.what), "%.500s", what);
}

/* --- the target ---------------------------------------------------------- */

static void set_env(const struct fuzz_opts *o, const struct fuzz_run *r)
{
	char buf[8192];
	const char *old = getenv("LD_PRELOAD");

	if (o->probe[0]) {
		if (old && *old)
			snprintf(buf, sizeof(buf), "%s:%s", o->probe, old);
		else
			snprintf(buf, sizeof(buf), "%s", o->probe);
		setenv("LD_PRELOAD", buf, 1);
	}
	/* Absolute: the target may change its directory. */
	char cwd[4096] = "";
	if (r->dir[0] != '/' && !getcwd(cwd, sizeof(cwd)))
		cwd[0] = 0;
	snprintf(buf, sizeof(buf), "%s%s%.4000s/trace", cwd, cwd[0] ? "/" : "",
		 r->dir);
	setenv("SHMPROBE_DIR", buf, 1);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)r->seed);
	setenv("SHMFUZZ_SEED", buf, 1);
	setenv("SHMFUZZ_STRATEGY", fuzz_strategy_name(o->strategy), 1);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)r->index);
	setenv("SHMFUZZ_RUN", buf, 1);
}

static int redirect(int fd, const char *dir, const char *name, int flags)
{
	char path[4200];
	int f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = open(path, flags | O_CLOEXEC, 0644);
	if (f < 0 || dup2(f, fd) < 0)
		return -1;
	close(f);
	return 0;
}

/* In the forked child: become the target.  Never returns. */
static void exec_target(const struct fuzz_opts *o, const struct fuzz_run *r)
{
	char *vg[16 + 1024];
	char tool[64], logf[4200];
	char **argv = o->argv;
	sigset_t all;
	int n = 0;

	setpgid(0, 0);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	if (redirect(0, "/dev", "null", O_RDONLY) ||
	    redirect(1, r->dir, "stdout.txt", O_WRONLY | O_CREAT | O_TRUNC) ||
	    redirect(2, r->dir, "stderr.txt", O_WRONLY | O_CREAT | O_TRUNC))
		_exit(127);
	set_env(o, r);
	if (o->valgrind && o->argc < 1000) {
		snprintf(tool, sizeof(tool), "--tool=%s", o->valgrind);
		snprintf(logf, sizeof(logf), "--log-file=%s/valgrind.%%p.log",
			 r->dir);
		vg[n++] = (char *)"valgrind";
		vg[n++] = tool;
		vg[n++] = (char *)"--trace-children=yes";
		vg[n++] = (char *)"--error-exitcode=97";
		vg[n++] = logf;
		for (int i = 0; i <= o->argc; i++)
			vg[n++] = o->argv[i];
		argv = vg;
	}
	execvp(argv[0], argv);
	fprintf(stderr, "shmfuzz: %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* --- reaping ------------------------------------------------------------ */

static void judge_status(struct sup *s, pid_t pid, const char *comm, int st)
{
	char sig[512], what[600];
	const char *who = pid == s->target ? "main" : "child";

	if (WIFEXITED(st)) {
		fprintf(s->status, "%d %s %s exit %d\n", (int)pid, who, comm,
			WEXITSTATUS(st));
		if (!WEXITSTATUS(st) || s->killing)
			return;
		snprintf(sig, sizeof(sig), "exit %d of %s", WEXITSTATUS(st),
			 comm);
		snprintf(what, sizeof(what), "process %d (%s) exited with %d",
			 (int)pid, comm, WEXITSTATUS(st));
		fail(s, FUZZ_EXIT, sig, what);
	} else if (WIFSIGNALED(st)) {
		int sn = WTERMSIG(st);
		const char *name = sigabbrev_np(sn);

		fprintf(s->status, "%d %s %s signal %d SIG%s%s%s\n", (int)pid,
			who, comm, sn, name ? name : "?",
			WCOREDUMP(st) ? " core" : "",
			s->killing ? " (killed by shmfuzz)" : "");
		if (s->killing)
			return;
		snprintf(sig, sizeof(sig), "SIG%s in %s", name ? name : "?",
			 comm);
		snprintf(what, sizeof(what), "process %d (%s) killed by SIG%s",
			 (int)pid, comm, name ? name : "?");
		fail(s, FUZZ_SIGNAL, sig, what);
	}
}

/* Reap what has ended; false once no child is left. */
static bool reap(struct sup *s)
{
	for (;;) {
		siginfo_t si = {0};
		char comm[PROC_COMM_MAX] = "?";
		int st;

		/* Peek first: a zombie still has its name. */
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
			return errno != ECHILD;
		if (!si.si_pid)
			return true;
		proc_comm(si.si_pid, comm);
		if (waitpid(si.si_pid, &st, 0) < 0)
			continue;
		remember(s, si.si_pid);
		s->v.nprocs++;
		judge_status(s, si.si_pid, comm, st);
	}
}

/* How long to keep killing: a process in uninterruptible sleep may not die
 * at once, but shmfuzz must not wait for ever on it. */
#define KILL_PATIENCE_S 30

void fuzz_kill_descendants(void)
{
	pid_t pids[MAX_TREE];
	double give_up = now_s() + KILL_PATIENCE_S;
	int n;

	for (;;) {
		n = fuzz_descendants(getpid(), pids, MAX_TREE);
		for (int i = 0; i < n; i++) {
			struct fuzz_pstat ps;
			/* A group led by one of ours is ours: kill it whole,
			 * in case it has members we did not see. */
			if (!fuzz_proc_stat(pids[i], 0, &ps) &&
			    ps.pgid == pids[i])
				kill(-ps.pgid, SIGKILL);
			kill(pids[i], SIGKILL);
		}
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (!n && waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD)
			return;
		if (now_s() > give_up) {
			fprintf(stderr,
				"shmfuzz: %d process(es) would not die after "
				"%d s of SIGKILL; left behind\n",
				n, KILL_PATIENCE_S);
			return;
		}
		/* The killed need a moment to become zombies we can reap. */
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
}

static void kill_all(struct sup *s)
{
	pid_t pids[MAX_TREE];
	int n = fuzz_descendants(getpid(), pids, MAX_TREE);

	for (int i = 0; i < n; i++)
		remember(s, pids[i]);
	s->killing = true;
	kill(-s->target, SIGKILL);
	/* Reap through reap() so that status.txt lists the killed too. */
	double give_up = now_s() + KILL_PATIENCE_S;
	while (reap(s) && now_s() < give_up) {
		n = fuzz_descendants(getpid(), pids, MAX_TREE);
		for (int i = 0; i < n; i++) {
			remember(s, pids[i]);
			kill(pids[i], SIGKILL);
		}
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
	fuzz_kill_descendants();
}

/* --- progress ----------------------------------------------------------- */

static uint64_t mix(uint64_t h, uint64_t v)
{
	return (h ^ v) * 0x100000001b3ull + 0x9e3779b97f4a7c15ull;
}

static uint64_t trace_fingerprint(const char *dir)
{
	char path[4200];
	DIR *d;
	struct dirent *de;
	uint64_t h = 0;

	snprintf(path, sizeof(path), "%s/trace", dir);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, 0))
			continue;
		/* Order-independent: readdir's order may change. */
		uint64_t e = mix(mix(mix(0, st.st_ino), (uint64_t)st.st_size),
				 (uint64_t)st.st_mtim.tv_nsec ^
					 (uint64_t)st.st_mtim.tv_sec);
		h += e;
	}
	closedir(d);
	return h;
}

/* The fingerprint of the run now; the tree's pids stay in S->tree. */
static uint64_t fingerprint(struct sup *s)
{
	uint64_t h = trace_fingerprint(s->r->dir);

	s->ntree = fuzz_descendants(getpid(), s->tree, MAX_TREE);
	for (int i = 0; i < s->ntree; i++) {
		struct fuzz_pstat ps;
		remember(s, s->tree[i]);
		if (fuzz_proc_stat(s->tree[i], 0, &ps))
			continue;
		h += mix(mix(0, (uint64_t)ps.pid), ps.cpu);
	}
	return mix(h, (uint64_t)s->ntree);
}

/* --- after the run ------------------------------------------------------- */

/* valgrind's logs: any "ERROR SUMMARY: N errors" with N > 0 fails the run;
 * the first error's headline is the signature. */
static void judge_valgrind(struct sup *s)
{
	char path[4400], line[1024], head[512] = "";
	DIR *d = opendir(s->r->dir);
	struct dirent *de;
	unsigned long nerr = 0, k;

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "valgrind.", 9))
			continue;
		snprintf(path, sizeof(path), "%s/%s", s->r->dir, de->d_name);
		FILE *f = fopen(path, "r");
		bool body = false;
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			char *p = strstr(line, "== ");
			if (!p || line[0] != '=')
				continue;
			p += 3;
			p[strcspn(p, "\n")] = 0;
			if (sscanf(p, "ERROR SUMMARY: %lu errors", &k) == 1)
				nerr += k;
			else if (!*p)
				body = true;
			else if (body && !head[0] && *p != ' ' &&
				 strncmp(p, "HEAP", 4) && strncmp(p, "All", 3))
				snprintf(head, sizeof(head), "%s", p);
		}
		fclose(f);
	}
	closedir(d);
	if (!nerr)
		return;
	char sig[600], what[600];
	snprintf(sig, sizeof(sig), "%s: %s", s->o->valgrind,
		 head[0] ? head : "errors");
	snprintf(what, sizeof(what), "valgrind %s reported %lu error(s): %s",
		 s->o->valgrind, nerr, head);
	/* Valgrind's error exit status is the symptom, not the failure. */
	if (s->v.kind == FUZZ_EXIT && strstr(s->v.sig, "exit 97 "))
		s->v.kind = FUZZ_PASS;
	fail(s, FUZZ_VALGRIND, sig, what);
}

static void hang(struct sup *s)
{
	char shape[400], sig[512], what[1024], finding[400], sites[300];
	char late[120] = "";

	fflush(s->status); /* the diagnosis names the reaped from it */
	fuzz_pct_dump(&s->pct, s->o, s->r->dir); /* under pct: who held it */
	fuzz_diag_write(getpid(), s->r->dir, s->o, shape, sizeof(shape),
			finding, sizeof(finding));
	kill_all(s);
	/* Where they blocked, from the trace (complete once all are dead):
	 * the same waits reached from other code are another hang. */
	if (fuzz_blocked_sites(s->o, s->r->dir, sites, sizeof(sites)) > 0)
		snprintf(sig, sizeof(sig), "%.300s; at %.200s", shape, sites);
	else
		snprintf(sig, sizeof(sig), "%s", shape);
	if (s->starved)
		snprintf(late, sizeof(late),
			 " (after %d longer waits: a thread was starved of "
			 "CPU)",
			 s->starved);
	/* A named cycle or dead owner says more than the list of waits. */
	if (finding[0])
		snprintf(what, sizeof(what),
			 "no progress for %d ms%s; %s (see diagnosis.txt)",
			 s->o->timeout_ms, late, finding);
	else
		snprintf(what, sizeof(what),
			 "no progress for %d ms%s; blocked: %s (see "
			 "diagnosis.txt)",
			 s->o->timeout_ms, late, shape);
	fail(s, FUZZ_HANG, sig, what);
}

static void pct_deadlock(struct sup *s)
{
	char sig[512], what[1600];

	fuzz_pct_deadlock(&s->pct, s->o, s->r->dir, sig, sizeof(sig), what,
			  sizeof(what));
	fail(s, FUZZ_HANG, sig, what);
	kill_all(s);
}

static void sample_check(struct sup *s)
{
	char msg[400], where[400], what[1024];

	if (fuzz_checks_sample(s->o, s->r->dir, msg, sizeof(msg), where,
			       sizeof(where)) != 1)
		return;
	snprintf(what, sizeof(what),
		 "layout check %s failed in %s (confirmed by re-sampling)", msg,
		 where);
	fail(s, FUZZ_CHECK, msg, what);
	fflush(s->status);
	fuzz_diag_write(getpid(), s->r->dir, s->o, msg, sizeof(msg), NULL, 0);
	kill_all(s);
}

/* --- starved or hung ---------------------------------------------------- */

/* The threads of the tree the last fingerprint found, into D. */
static void sched_sample(const struct sup *s, struct sched_sample *d)
{
	d->n = 0;
	d->t = now_s();
	for (int i = 0; i < s->ntree && d->n < STARVE_TASKS; i++)
		d->n += fuzz_sched_threads(s->tree[i], d->th + d->n,
					   STARVE_TASKS - d->n);
}

/* Was a thread kept off the CPUs between samples A and B? */
static bool starved_between(const struct sched_sample *a,
			    const struct sched_sample *b)
{
	double dt = b->t - a->t;

	for (int i = 0; i < b->n; i++) {
		const struct fuzz_tsched *y = &b->th[i];

		for (int k = 0; k < a->n; k++) {
			const struct fuzz_tsched *x = &a->th[k];

			if (x->tid != y->tid)
				continue;
			if (x->state == 'R' && y->state == 'R' &&
			    x->slices == y->slices)
				return true;
			if (y->delay > x->delay &&
			    (double)(y->delay - x->delay) / 1e9 > dt / 2)
				return true;
		}
	}
	return false;
}

/* One more sample of a still window: count the time some thread was
 * starved. */
static void still_sample(struct sup *s)
{
	const struct sched_sample *prev = &s->smp[s->cur];
	struct sched_sample *cur = &s->smp[!s->cur];

	sched_sample(s, cur);
	if (!s->have_prev)
		s->still_t0 = cur->t;
	else if (starved_between(prev, cur))
		s->starved_s += cur->t - prev->t;
	s->cur = !s->cur;
	s->have_prev = true;
}

/* --- the supervisor ----------------------------------------------------- */

static void watch(struct sup *s, const sigset_t *mask)
{
	double step = s->o->timeout_ms / 5000.0, next_check = 0;
	double next_sample = 0;
	double check_every = s->o->layout ? 1.0 / s->o->check_hz : 0;

	if (step > 0.1)
		step = 0.1;
	if (step < 0.002)
		step = 0.002;
	s->last_progress = now_s();
	while (reap(s)) {
		/* Wake for whichever comes first: progress or a check. */
		double wait = step;
		if (s->pct.ctl && wait > fuzz_pct_tick(&s->pct))
			wait = fuzz_pct_tick(&s->pct);
		if (check_every && next_check - now_s() < wait)
			wait = next_check - now_s();
		if (wait < 0.0002)
			wait = 0.0002;
		struct timespec ts = {(time_t)wait,
				      (long)((wait - (time_t)wait) * 1e9)};
		int sig = sigtimedwait(mask, NULL, &ts);
		double t = now_s();

		if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
			fail(s, FUZZ_INTERRUPTED, "interrupted",
			     "shmfuzz was interrupted");
			kill_all(s);
			return;
		}
		if (s->pct.ctl && fuzz_pct_watch(&s->pct, t)) {
			pct_deadlock(s);
			return;
		}
		if (check_every && t >= next_check) {
			next_check = t + check_every;
			sample_check(s);
		}
		/* A SIGCHLD wakes us early: sample on schedule only. */
		if (t < next_sample)
			continue;
		next_sample = t + step;
		uint64_t fp = fingerprint(s);
		if (fp != s->fp) {
			s->fp = fp;
			s->last_progress = t;
			s->have_prev = false;
			s->starved_s = 0;
			s->starved = 0;
			continue;
		}
		still_sample(s);
		if ((t - s->last_progress) * 1000 < s->o->timeout_ms)
			continue;
		/* Starved for more than half the time it was looked at; or
		 * not looked at at all: the supervisor was starved itself. */
		if (s->starved < STARVE_MAX &&
		    s->starved_s >= (t - s->still_t0) / 2) {
			s->starved++;
			s->last_progress = t;
			s->have_prev = false;
			s->starved_s = 0;
			continue;
		}
		hang(s);
		return;
	}
}

static int supervise(const struct fuzz_opts *o, struct fuzz_run *r)
{
	struct sup *s = calloc(1, sizeof(*s));
	struct fuzz_verdict v;
	struct fuzz_shm_snap *before = NULL;
	char path[4200], msg[480], mwhat[480];
	sigset_t mask;
	time_t wall_start = time(NULL);
	int ret = 0;

	if (!s)
		return -ENOMEM;
	s->o = o;
	s->r = r;
	s->start = now_s();
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	/* Should the campaign die, so do we, cleaning up first. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	snprintf(path, sizeof(path), "%s/status.txt", r->dir);
	s->status = fopen(path, "w");
	if (!s->status) {
		ret = -errno;
		goto out_free;
	}
	fprintf(s->status, "# pid role comm exit N | signal N NAME\n");
	if (o->jobs == 1)
		before = fuzz_shm_snapshot();
	if (o->strategy == FUZZ_STRAT_PCT) {
		struct errbuf e = {{0}};
		if (fuzz_pct_open(&s->pct, o, r, &e)) {
			fprintf(s->status, "# pct: %s\n", e.msg);
			ret = -EIO;
			goto out_close;
		}
		/* Inherited by the target only. */
		setenv("SHMFUZZ_PCT", s->pct.name, 1);
	}
	s->target = fork();
	if (s->target < 0) {
		ret = -errno;
		goto out_close;
	}
	if (!s->target)
		exec_target(o, r);
	setpgid(s->target, s->target);
	remember(s, s->target);
	watch(s, &mask);
	fuzz_pct_close(&s->pct, r->dir, &s->v);
	fuzz_checks_close();
	/* The trace is read only when nothing else failed: a failed run is
	 * kept with its trace anyway, and a report costs a process. */
	if (s->v.kind == FUZZ_PASS &&
	    fuzz_misuse_check(o, r->dir, msg, sizeof(msg), mwhat,
			      sizeof(mwhat)) == 1) {
		char what[600];
		snprintf(what, sizeof(what), "the trace shows misuse: %s",
			 mwhat);
		fail(s, FUZZ_MISUSE, msg, what);
	}
	if (o->valgrind)
		judge_valgrind(s);
	s->v.cleaned =
		fuzz_shm_clean(r->dir, before, wall_start, s->seen, s->nseen);
	s->v.secs = now_s() - s->start;
	/* Through a local copy: gcc 12 with the sanitizers misjudges the
	 * size of s->v here (-Wstringop-overread). */
	v = s->v;
	if (write(r->fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		ret = -EIO;
out_close:
	fuzz_pct_close(&s->pct, r->dir, &s->v);
	fuzz_shm_snap_free(before);
	fclose(s->status);
out_free:
	free(s);
	return ret;
}

static int make_dirs(const char *dir, struct errbuf *e)
{
	char path[4200];

	if (mkdir(dir, 0755) && errno != EEXIST) {
		err_setn(e, errno, "%s", dir);
		return -errno;
	}
	snprintf(path, sizeof(path), "%s/trace", dir);
	if (mkdir(path, 0755) && errno != EEXIST) {
		err_setn(e, errno, "%s", path);
		return -errno;
	}
	return 0;
}

int fuzz_run_start(const struct fuzz_opts *o, struct fuzz_run *r,
		   struct errbuf *e)
{
	int fds[2], ret;

	ret = make_dirs(r->dir, e);
	if (ret)
		return ret;
	if (pipe2(fds, O_CLOEXEC)) {
		err_setn(e, errno, "pipe");
		return -errno;
	}
	fflush(NULL);
	r->sup = fork();
	if (r->sup < 0) {
		ret = -errno;
		err_setn(e, errno, "fork");
		close(fds[0]);
		close(fds[1]);
		return ret;
	}
	if (!r->sup) {
		close(fds[0]);
		r->fd = fds[1];
		_exit(supervise(o, r) ? 3 : 0);
	}
	close(fds[1]);
	r->fd = fds[0];
	return 0;
}

void fuzz_run_finish(struct fuzz_run *r, int wstatus, struct fuzz_verdict *v)
{
	ssize_t n = read(r->fd, v, sizeof(*v));

	close(r->fd);
	r->fd = -1;
	if (n == (ssize_t)sizeof(*v))
		return;
	memset(v, 0, sizeof(*v));
	v->kind = FUZZ_SETUP;
	snprintf(v->sig, sizeof(v->sig), "supervisor failed");
	snprintf(v->what, sizeof(v->what),
		 "the run's supervisor ended without a verdict (wait status "
		 "%#x)",
		 wstatus);
}
