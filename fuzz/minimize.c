/*
 * minimize.c - `--minimize`: a shorter story for a pct failure.
 *
 * From the failing run's schedule.txt, drop the preemptions (the switches
 * made at a sync point while the holder could have gone on: "preempt",
 * "yield", "early") one at a time, last first, and replay the run with
 * what is left (--replay-schedule's machinery); a removal is kept when the
 * run still fails with the same kind and signature.  The schedule of the
 * last run that failed that way is saved as schedule.min.txt, and that
 * run's whole folder (its trace: the story of the bug) as minimized/.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz.h"
#include "pct.h"

#define MIN_MAX_TRIES 200

static bool preemption(unsigned reason)
{
	return reason == PCT_R_PREEMPT || reason == PCT_R_YIELD ||
	       reason == PCT_R_EARLY;
}

/* One replay of R's seed following PS; its verdict into V. */
static int try_schedule(const struct fuzz_opts *o, const struct fuzz_run *r,
			const struct fuzz_pct_sched *ps, const char *dir,
			struct fuzz_verdict *v)
{
	struct fuzz_opts mo = *o;
	struct fuzz_run t = {0};
	struct errbuf e = {{0}};
	int st;

	mo.strategy = FUZZ_STRAT_PCT;
	mo.pct_sched = ps;
	mo.valgrind = NULL;
	t.index = r->index;
	t.seed = r->seed;
	t.pct_k = ps->k;
	snprintf(t.dir, sizeof(t.dir), "%.4000s", dir);
	fuzz_rm_rf(t.dir);
	if (fuzz_run_start(&mo, &t, &e))
		return -1;
	while (waitpid(t.sup, &st, 0) < 0)
		;
	fuzz_run_finish(&t, st, v);
	fuzz_pct_unlink(t.sup);
	return 0;
}

static int count_preemptions(const struct fuzz_pct_sched *ps)
{
	int n = 0;

	for (uint32_t i = 0; i < ps->n; i++)
		n += preemption(ps->sw[i].reason);
	return n;
}

int fuzz_minimize(const struct fuzz_opts *o, const struct fuzz_run *r,
		  const struct fuzz_verdict *v, const char *fdir, char *msg,
		  size_t mn)
{
	struct fuzz_pct_sched ps, cand;
	struct errbuf e = {{0}};
	char path[4200], tdir[4096], kept[4200], best[4400];
	int tries = 0, before, removed = 0;

	snprintf(path, sizeof(path), "%s/schedule.txt", fdir);
	if (fuzz_pct_load(path, &ps, &e)) {
		snprintf(msg, mn, "%s", e.msg);
		return -1;
	}
	ps.k = v->pct_k ? v->pct_k : ps.k;
	cand = ps;
	cand.sw = calloc(ps.n ? ps.n : 1, sizeof(*cand.sw));
	if (!cand.sw) {
		free(ps.sw);
		return -1;
	}
	before = count_preemptions(&ps);
	snprintf(tdir, sizeof(tdir), "%.4000s/minimize-try", fdir);
	snprintf(kept, sizeof(kept), "%s/minimized", fdir);
	snprintf(best, sizeof(best), "%s/schedule.txt", fdir);
	for (int i = (int)ps.n - 1; i >= 0 && tries < MIN_MAX_TRIES; i--) {
		struct fuzz_verdict tv;
		if (!preemption(ps.sw[i].reason))
			continue;
		/* The schedule without switch i. */
		cand.n = 0;
		for (uint32_t j = 0; j < ps.n; j++)
			if ((int)j != i)
				cand.sw[cand.n++] = ps.sw[j];
		tries++;
		if (try_schedule(o, r, &cand, tdir, &tv) ||
		    tv.kind != v->kind || strcmp(tv.sig, v->sig))
			continue;
		memcpy(ps.sw, cand.sw, cand.n * sizeof(*cand.sw));
		ps.n = cand.n;
		removed++;
		fuzz_rm_rf(kept);
		if (rename(tdir, kept) == 0)
			snprintf(best, sizeof(best), "%s/schedule.txt", kept);
	}
	fuzz_rm_rf(tdir);
	/* The schedule the shortest failing run really followed. */
	snprintf(path, sizeof(path), "%s/schedule.min.txt", fdir);
	{
		FILE *in = fopen(best, "r"), *out = fopen(path, "w");
		char line[512];
		while (in && out && fgets(line, sizeof(line), in))
			fputs(line, out);
		if (in)
			fclose(in);
		if (out)
			fclose(out);
	}
	snprintf(msg, mn,
		 "%d of %d preemptions removed in %d replays "
		 "(schedule.min.txt%s)",
		 removed, before, tries, removed ? ", minimized/" : "");
	free(cand.sw);
	free(ps.sw);
	return removed;
}
