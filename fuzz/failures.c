/*
 * failures.c - failure records: one folder per kind of failure.
 *
 * Two runs fail "the same way" when their verdicts have the same kind and
 * signature (the exit status or signal and the process name; the shape of
 * what the threads were blocked on; the failed check; the first misuse;
 * the first valgrind error).  The first run of a group keeps its whole
 * folder as failure-N; the later ones only add their seed to its seeds.txt
 * and their count to count.txt.
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void fuzz_rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The first N with no failure-N in the out folder (an earlier campaign
 * may have left some: they are kept). */
static int next_free(const struct fuzz_opts *o, int from)
{
	char path[4200];
	struct stat st;

	for (int n = from;; n++) {
		snprintf(path, sizeof(path), "%s/failure-%d", o->out_dir, n);
		if (stat(path, &st))
			return n;
	}
}

static void write_count(const struct fuzz_opts *o, const struct fuzz_group *g)
{
	char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/failure-%d/count.txt", o->out_dir,
		 g->n);
	f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f, "%llu\n", (unsigned long long)g->count);
	fclose(f);
}

static void add_seed(const char *dir, const struct fuzz_run *r)
{
	char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/seeds.txt", dir);
	f = fopen(path, "a");
	if (!f)
		return;
	fprintf(f, "%llu run %llu\n", (unsigned long long)r->seed,
		(unsigned long long)r->index);
	fclose(f);
}

int fuzz_failure_describe(const struct fuzz_opts *o, const struct fuzz_run *r,
			  const struct fuzz_verdict *v)
{
	char path[4200], cmd[8192], self[8400], pct[128] = "";
	bool story = fuzz_story_write(o, r->dir) == 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/failure.txt", r->dir);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fuzz_quote_argv(o->argv, cmd, sizeof(cmd));
	/* pct: k changes along a campaign; the replay needs the run's. */
	if (o->strategy == FUZZ_STRAT_PCT)
		snprintf(pct, sizeof(pct), " --depth %u --pct-steps %llu",
			 o->pct_depth, (unsigned long long)v->pct_k);
	snprintf(self, sizeof(self),
		 "shmfuzz --replay %llu --strategy %s%s "
		 "--timeout %d%s%s -- %s",
		 (unsigned long long)r->seed, fuzz_strategy_name(o->strategy),
		 pct, o->timeout_ms, o->valgrind ? " --valgrind " : "",
		 o->valgrind ? o->valgrind : "", cmd);
	fprintf(f, "kind: %s\n", fuzz_kind_name(v->kind));
	fprintf(f, "what: %s\n", v->what);
	fprintf(f, "signature: %s\n", v->sig);
	fprintf(f, "seed: %llu\n", (unsigned long long)r->seed);
	fprintf(f, "run: %llu\n", (unsigned long long)r->index);
	fprintf(f, "strategy: %s\n", fuzz_strategy_name(o->strategy));
	fprintf(f, "command: %s\n", cmd);
	fprintf(f, "replay: %s\n", self);
	fprintf(f, "seconds: %.3f\n", v->secs);
	if (o->strategy == FUZZ_STRAT_PCT)
		fprintf(f, "pct: depth %u k %llu steps %llu preemptions %llu\n",
			o->pct_depth, (unsigned long long)v->pct_k,
			(unsigned long long)v->pct_steps,
			(unsigned long long)v->pct_preemptions);
	if (story)
		fprintf(f, "story: story.txt (the last " FUZZ_STORY_LAST
			   " events, in order)\n");
	fclose(f);
	snprintf(path, sizeof(path), "%s/seed", r->dir);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "%llu\n", (unsigned long long)r->seed);
	fclose(f);
	snprintf(path, sizeof(path), "%s/command", r->dir);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "%s\n", cmd);
	fclose(f);
	return 0;
}

struct fuzz_group *fuzz_failures_add(struct fuzz_failures *f,
				     const struct fuzz_opts *o,
				     const struct fuzz_run *r,
				     const struct fuzz_verdict *v)
{
	char path[4200];
	struct fuzz_group *g;

	f->total++;
	for (int i = 0; i < f->n; i++) {
		g = &f->g[i];
		if (g->kind != v->kind || strcmp(g->sig, v->sig))
			continue;
		g->count++;
		snprintf(path, sizeof(path), "%s/failure-%d", o->out_dir, g->n);
		add_seed(path, r);
		write_count(o, g);
		fuzz_rm_rf(r->dir);
		return g;
	}
	if (f->n == f->cap) {
		int cap = f->cap ? 2 * f->cap : 8;
		struct fuzz_group *ng =
			realloc(f->g, (size_t)cap * sizeof(*ng));
		if (!ng)
			return NULL;
		f->g = ng;
		f->cap = cap;
	}
	g = &f->g[f->n];
	memset(g, 0, sizeof(*g));
	g->kind = v->kind;
	snprintf(g->sig, sizeof(g->sig), "%s", v->sig);
	snprintf(g->what, sizeof(g->what), "%s", v->what);
	g->first_index = r->index;
	g->first_seed = r->seed;
	g->count = 1;
	g->n = next_free(o, f->n ? f->g[f->n - 1].n + 1 : 1);
	f->n++;
	fuzz_failure_describe(o, r, v);
	add_seed(r->dir, r);
	snprintf(path, sizeof(path), "%s/failure-%d", o->out_dir, g->n);
	if (rename(r->dir, path))
		g->n = -1;
	else
		write_count(o, g);
	return g;
}

void fuzz_failures_free(struct fuzz_failures *f)
{
	free(f->g);
	memset(f, 0, sizeof(*f));
}
