/*
 * campaign.c - the schedule of runs: seeds, shards, jobs, bounds, progress.
 *
 * The campaign's signals (SIGCHLD, SIGINT, SIGTERM, SIGHUP) stay blocked
 * and are taken with sigtimedwait(), so there is no handler to keep
 * async-signal-safe: an interrupt is just another event of the loop, after
 * which every supervisor is told to stop (SIGTERM: it kills its run and
 * cleans up) and waited for.  The campaign is a child subreaper too, so
 * that the tree of a supervisor that died anyway comes back here and is
 * killed at the end.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"
#include "trace.h"
#include "json.h"
#include "pct.h"

struct campaign {
	struct fuzz_opts *o;
	struct fuzz_run *slot; /* o->jobs of them; sup == 0 when free */
	int active;
	uint64_t next; /* next run index */
	bool stop, interrupted;
	double start, deadline, last_line;
	bool tty;
	struct fuzz_summary sum;
	struct fuzz_failures fl;
	struct fuzz_verdict replay_v; /* --replay: the run's verdict */
	uint64_t pct_max;	      /* pct: the most steps a run took (k) */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool more(const struct campaign *c)
{
	if (c->stop)
		return false;
	if (c->o->runs && c->next >= c->o->runs)
		return false;
	if (c->o->time_s > 0 && now_s() >= c->deadline)
		return false;
	return true;
}

static void progress(struct campaign *c, bool final)
{
	double t = now_s(), el = t - c->start;

	if (c->o->quiet || c->o->replay || (final && !c->tty))
		return;
	if (!final && t - c->last_line < (c->tty ? 0.2 : 10.0))
		return;
	c->last_line = t;
	fprintf(stderr,
		"%sshmfuzz: %llu runs, %.1f runs/s, %llu failed (%d "
		"kind%s)%s",
		c->tty ? "\r" : "", (unsigned long long)c->sum.runs,
		el > 0 ? (double)c->sum.runs / el : 0.0,
		(unsigned long long)c->fl.total, c->fl.n,
		c->fl.n == 1 ? "" : "s", c->tty ? "\033[K" : "\n");
	if (final && c->tty)
		fputc('\n', stderr);
}

static void clear_line(const struct campaign *c)
{
	if (c->tty && !c->o->quiet && !c->o->replay)
		fputs("\r\033[K", stderr);
}

static int start_one(struct campaign *c, struct fuzz_run *r)
{
	struct errbuf e = {{0}};

	r->index = c->next;
	/* pct's k: given, else the longest run so far (the first runs use a
	 * default); a run's failure records the k it used. */
	r->pct_k = c->o->pct_steps ? c->o->pct_steps
		   : c->pct_max	   ? c->pct_max
				   : PCT_DEFAULT_K;
	r->seed = c->o->replay ? c->o->replay_seed
			       : fuzz_run_seed(c->sum.base_seed, r->index);
	if (c->o->replay)
		snprintf(r->dir, sizeof(r->dir), "%s/replay-%llu",
			 c->o->out_dir, (unsigned long long)r->seed);
	else
		snprintf(r->dir, sizeof(r->dir), "%s/runs/run-%llu",
			 c->o->out_dir, (unsigned long long)r->index);
	fuzz_rm_rf(r->dir);
	if (fuzz_run_start(c->o, r, &e)) {
		clear_line(c);
		fprintf(stderr, "shmfuzz: %s\n", e.msg);
		r->sup = 0;
		return -1;
	}
	c->next += c->o->shard_n;
	c->active++;
	return 0;
}

static void stop_all(struct campaign *c)
{
	c->stop = true;
	for (int i = 0; i < c->o->jobs; i++)
		if (c->slot[i].sup > 0)
			kill(c->slot[i].sup, SIGTERM);
}

/* --minimize: a new failure's schedule, shortened (minimize.c). */
static void minimize(struct campaign *c, const struct fuzz_run *r,
		     const struct fuzz_verdict *v, const char *dir)
{
	char msg[600];

	if (!c->o->minimize || c->o->strategy != FUZZ_STRAT_PCT ||
	    c->interrupted)
		return;
	if (fuzz_minimize(c->o, r, v, dir, msg, sizeof(msg)) < 0)
		fprintf(stderr, "shmfuzz: %s: cannot minimize: %s\n", dir, msg);
	else if (!c->o->quiet)
		fprintf(stderr, "shmfuzz: %s: minimized: %s\n", dir, msg);
}

static void judged(struct campaign *c, struct fuzz_run *r,
		   const struct fuzz_verdict *v)
{
	struct fuzz_group *g;

	c->sum.cleaned += (uint64_t)v->cleaned;
	if (v->pct_steps > c->pct_max)
		c->pct_max = v->pct_steps;
	if (c->o->replay)
		c->replay_v = *v;
	if (v->kind == FUZZ_INTERRUPTED) {
		fuzz_rm_rf(r->dir);
		return;
	}
	c->sum.runs++;
	if (v->kind == FUZZ_PASS) {
		c->sum.passed++;
		fuzz_rm_rf(r->dir);
		return;
	}
	if (c->o->replay) {
		fuzz_failure_describe(c->o, r, v);
		c->fl.total++;
		minimize(c, r, v, r->dir);
		return;
	}
	int before = c->fl.n;
	g = fuzz_failures_add(&c->fl, c->o, r, v);
	if (g && c->fl.n > before) {
		clear_line(c);
		fprintf(stderr,
			"shmfuzz: failure-%d: %s: %s (run %llu, seed %llu)\n",
			g->n, fuzz_kind_name(g->kind), g->what,
			(unsigned long long)r->index,
			(unsigned long long)r->seed);
		if (g->n > 0) {
			char dir[4200];
			snprintf(dir, sizeof(dir), "%s/failure-%d",
				 c->o->out_dir, g->n);
			minimize(c, r, v, dir);
		}
	}
	if (c->o->stop_first)
		stop_all(c);
}

static void reap(struct campaign *c)
{
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (int i = 0; i < c->o->jobs; i++) {
			struct fuzz_run *r = &c->slot[i];
			struct fuzz_verdict v;
			if (r->sup != pid)
				continue;
			fuzz_run_finish(r, st, &v);
			fuzz_pct_unlink(pid);
			r->sup = 0;
			c->active--;
			judged(c, r, &v);
			break;
		}
		/* Else an orphan of a supervisor that died: gone now. */
	}
}

static void loop(struct campaign *c, const sigset_t *mask)
{
	struct timespec tick = {0, 100000000};

	for (;;) {
		for (int i = 0; i < c->o->jobs && more(c); i++)
			if (!c->slot[i].sup && start_one(c, &c->slot[i]))
				stop_all(c);
		if (!c->active)
			return;
		int sig = sigtimedwait(mask, NULL, &tick);
		if ((sig == SIGINT || sig == SIGTERM || sig == SIGHUP) &&
		    !c->interrupted) {
			c->interrupted = true;
			stop_all(c);
		}
		reap(c);
		progress(c, false);
	}
}

static int make_out(const struct fuzz_opts *o)
{
	char path[4200];

	if (mkdir(o->out_dir, 0755) && errno != EEXIST)
		return -errno;
	snprintf(path, sizeof(path), "%s/runs", o->out_dir);
	if (mkdir(path, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

static void summary(struct campaign *c)
{
	if (c->o->quiet)
		return;
	fprintf(stderr,
		"shmfuzz: %llu runs in %.1f s, %llu failed in %d group%s%s; "
		"base seed %llu\n",
		(unsigned long long)c->sum.runs, c->sum.secs,
		(unsigned long long)c->fl.total, c->fl.n,
		c->fl.n == 1 ? "" : "s", c->interrupted ? " (interrupted)" : "",
		(unsigned long long)c->sum.base_seed);
	for (int i = 0; i < c->fl.n; i++) {
		const struct fuzz_group *g = &c->fl.g[i];
		fprintf(stderr,
			"  %s/failure-%d: %s: %s (%llu run%s, first run "
			"%llu, seed %llu)\n",
			c->o->out_dir, g->n, fuzz_kind_name(g->kind), g->sig,
			(unsigned long long)g->count, g->count == 1 ? "" : "s",
			(unsigned long long)g->first_index,
			(unsigned long long)g->first_seed);
	}
}

/* --replay --json: one object saying whether the failure came back. */
static void replay_json(const struct campaign *c)
{
	const struct fuzz_run *r = &c->slot[0];
	const struct fuzz_verdict *v = &c->replay_v;
	bool failed = c->fl.total > 0;
	struct json j;

	json_init(&j, stdout, true);
	json_begin_obj(&j);
	json_kv_uint(&j, "replay", r->seed);
	json_kv_bool(&j, "interrupted", c->interrupted);
	json_kv_bool(&j, "failed", failed);
	json_kv_str(&j, "kind", fuzz_kind_name(v->kind));
	json_kv_str(&j, "signature", v->sig);
	json_kv_str(&j, "what", v->what);
	json_kv_double(&j, "seconds", v->secs);
	if (failed)
		json_kv_str(&j, "folder", r->dir);
	else
		json_kv_null(&j, "folder");
	json_end_obj(&j);
	json_newline(&j);
}

static int replay_result(struct campaign *c)
{
	const struct fuzz_run *r = &c->slot[0];

	if (c->o->json)
		replay_json(c);

	if (c->interrupted) {
		fprintf(stderr, "shmfuzz: replay of seed %llu interrupted\n",
			(unsigned long long)r->seed);
		return 130;
	}
	if (!c->fl.total) {
		fprintf(stderr,
			"shmfuzz: seed %llu passed: no failure this time\n",
			(unsigned long long)r->seed);
		return 0;
	}
	char path[4200], line[700];
	snprintf(path, sizeof(path), "%s/failure.txt", r->dir);
	FILE *f = fopen(path, "r");
	fprintf(stderr, "shmfuzz: seed %llu failed again:",
		(unsigned long long)r->seed);
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "what: ", 6))
			fprintf(stderr, " %s", line + 6);
	if (f)
		fclose(f);
	fprintf(stderr, "  (everything in %s)\n", r->dir);
	return 1;
}

int fuzz_campaign(struct fuzz_opts *o)
{
	struct campaign c = {0};
	sigset_t mask;
	char path[4200];
	int ret;

	c.o = o;
	c.slot = calloc((size_t)o->jobs, sizeof(*c.slot));
	if (!c.slot || make_out(o)) {
		fprintf(stderr, "shmfuzz: %s: %s\n", o->out_dir,
			strerror(errno));
		free(c.slot);
		return 2;
	}
	c.sum.base_seed = o->seed_given ? o->seed : fuzz_random_seed();
	c.next = o->shard_i;
	c.tty = isatty(2);
	c.start = now_s();
	c.last_line = c.start;
	c.deadline = c.start + o->time_s;
	if (o->replay) {
		o->runs = 1;
		o->jobs = 1;
		c.next = 0;
	} else if (!o->quiet) {
		fprintf(stderr, "shmfuzz: base seed %llu%s\n",
			(unsigned long long)c.sum.base_seed,
			o->seed_given ? "" : " (--seed to run these again)");
	}
	if (!o->probe[0] && o->strategy == FUZZ_STRAT_NOISE && !o->quiet)
		fprintf(stderr, "shmfuzz: libshmprobe.so not found next to "
				"shmfuzz: runs without schedule noise\n");
	/* One calibration for every process of every run. */
	if (o->probe[0])
		trace_tsc_export();
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	/* A shell starts background commands with SIGINT ignored, and an
	 * ignored signal is discarded, not queued for sigtimedwait(). */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	loop(&c, &mask);
	/* Whatever a dead supervisor left came to us. */
	fuzz_kill_descendants();
	c.sum.secs = now_s() - c.start;
	c.sum.interrupted = c.interrupted;
	progress(&c, true);
	snprintf(path, sizeof(path), "%s/runs", o->out_dir);
	rmdir(path);
	if (o->replay) {
		ret = replay_result(&c);
		goto out;
	}
	summary(&c);
	if (o->json)
		fuzz_report_json(stdout, o, &c.sum, &c.fl);
	ret = c.interrupted ? 130 : c.fl.total ? 1 : 0;
	if (o->junit) {
		struct errbuf e = {{0}};
		if (fuzz_report_junit(o->junit, o, &c.sum, &c.fl, &e)) {
			fprintf(stderr, "shmfuzz: %s\n", e.msg);
			ret = 2;
		}
	}
out:
	fuzz_failures_free(&c.fl);
	free(c.slot);
	return ret;
}
