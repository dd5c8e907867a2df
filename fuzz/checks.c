/*
 * checks.c - the layout's @check and @expect, sampled while a run goes on.
 *
 * The layout is parsed once, in the campaign, before any supervisor is
 * forked: every supervisor inherits it.  A supervisor keeps one snapshot
 * source per segment of its run, found by the root's @segment name, else
 * by what the probe says the run created (trace/created*.txt), else by
 * what /dev/shm objects the run's processes map; only a segment at least
 * as large as the layout's root is sampled.
 *
 * The fuzzer reads without taking the target's locks, so it can see a
 * check broken for a moment that nobody else can: write_idx moved, read_idx
 * not yet, inside the critical section.  A failure therefore counts only
 * when it is confirmed: the same check fails on CONFIRM_SAMPLES samples in
 * a row, CONFIRM_GAP_MS apart, and on at least CONFIRM_UNLOCKED of them no
 * lock of the segment was held.  Until every @expect of a segment has held
 * once, it is taken to be still initialising (magic is written last), or
 * not to be the segment the layout describes, and is not judged (the
 * root's own @segment: for at most ARM_AFTER_S).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"
#include "abi.h"
#include "layout.h"
#include "proc.h"
#include "snapshot.h"
#include "value.h"

#define MAX_SOURCES	16
#define CONFIRM_SAMPLES 3
#define CONFIRM_GAP_MS	2
/* Of which this many with no lock held: one alone may be a torn read (the
 * lock word copied free, the data a moment later, mid-update). */
#define CONFIRM_UNLOCKED 2
/* Re-sample a failing check for at most this long per tick while a lock
 * stays held; then leave the segment's failures unconfirmed for
 * CONFIRM_BACKOFF_S (a lock held for long would otherwise cost the
 * supervisor a CPU). */
#define CONFIRM_MAX_MS	  100
#define CONFIRM_BACKOFF_S 0.5
/* The root's @segment whose @expect never held is judged anyway after this
 * long: a wrong magic is a failure too.  A segment found by discovery is
 * not: it may be another segment of the run that merely is big enough. */
#define ARM_AFTER_S 2.0

static struct layout *fuzz_layout;

struct source {
	char target[300];
	struct snap_source src;
	bool open;
	bool armed;
	double first_seen;
	double calm_until; /* no confirming before: locks were held too long */
};

static struct source sources[MAX_SOURCES];
static int nsources;
static unsigned ticks;

int fuzz_layout_load(const char *path, struct errbuf *e)
{
	struct errbuf pe = {{0}};

	fuzz_layout = layout_parse_file(path, abi_host(), 0, &pe);
	if (!fuzz_layout) {
		err_set(e, "-l %s: %s", path, pe.msg);
		return -EINVAL;
	}
	if (!layout_root(fuzz_layout)) {
		err_set(e, "-l %s: no struct to use as the segment's root",
			path);
		layout_free(fuzz_layout);
		fuzz_layout = NULL;
		return -EINVAL;
	}
	return 0;
}

const struct layout *fuzz_layout_get(void)
{
	return fuzz_layout;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {0, ms * 1000000L};

	nanosleep(&ts, NULL);
}

/* --- which segments ------------------------------------------------------ */

static struct source *source_find(const char *target)
{
	for (int i = 0; i < nsources; i++)
		if (!strcmp(sources[i].target, target))
			return &sources[i];
	return NULL;
}

/* Attach to TARGET if it is big enough for the root; a segment too small
 * now (created, not yet ftruncate'd) is tried again at the next tick. */
static void source_try(const char *target)
{
	const struct layout_type *root = layout_root(fuzz_layout);
	struct source *s = source_find(target);
	struct errbuf e = {{0}};

	if (s && s->open)
		return;
	if (!s) {
		if (nsources == MAX_SOURCES)
			return;
		s = &sources[nsources++];
		memset(s, 0, sizeof(*s));
		snprintf(s->target, sizeof(s->target), "%s", target);
		s->first_seen = mono_s();
	}
	if (snap_source_open(&s->src, root->segment ? NULL : target,
			     fuzz_layout, NULL, &e))
		return;
	if (s->src.seg.size < root->size) {
		snap_source_close(&s->src);
		return;
	}
	/* Checks need the bytes, not who maps them: rescan once a second. */
	s->src.mappers_ttl_ms = 1000;
	s->open = true;
}

static int try_created(void *arg, const char *obj)
{
	(void)arg;
	if (obj[0] == '/')
		source_try(obj);
	return 0;
}

/* POSIX segments the run's processes map (not named semaphores). */
static void discover_mapped(void)
{
	pid_t pids[256];
	int n = fuzz_descendants(getpid(), pids, 256);
	struct proc_filter all = {.match = PROC_MATCH_ALL};

	for (int i = 0; i < n; i++) {
		struct proc_maps maps = {0};
		if (proc_maps_scan_pid(&maps, pids[i], &all, NULL)) {
			proc_maps_free(&maps);
			continue;
		}
		for (size_t k = 0; k < maps.n; k++) {
			const struct proc_map *m = &maps.v[k];
			const char *p = m->path;
			if (m->perms[3] != 's' || m->deleted ||
			    strncmp(p, "/dev/shm/", 9) ||
			    !strncmp(p, "/dev/shm/sem.", 13))
				continue;
			source_try(p + 8);
		}
		proc_maps_free(&maps);
	}
}

static int nopen(void)
{
	int n = 0;

	for (int i = 0; i < nsources; i++)
		n += sources[i].open;
	return n;
}

static void discover(const char *dir)
{
	const struct layout_type *root = layout_root(fuzz_layout);

	if (root->segment) {
		source_try(root->segment);
		return;
	}
	fuzz_created_foreach(dir, try_created, NULL);
	/* Until the probe lists what the run created, look at the maps; that
	 * costs a /proc walk, so not at every tick once something is found. */
	if (!nopen() || ticks % 8 == 0)
		discover_mapped();
}

/* --- judging ------------------------------------------------------------- */

static bool any_lock_held(const struct snapshot *s)
{
	for (size_t i = 0; i < s->nsyncs; i++) {
		switch (s->syncs[i].st.state) {
		case SYNC_S_LOCKED:
		case SYNC_S_CONTENDED:
		case SYNC_S_READ_LOCKED:
		case SYNC_S_WRITE_LOCKED:
			return true;
		default:
			break;
		}
	}
	return false;
}

static void expect_one(void *arg, const struct value_check *c)
{
	bool *all = arg;

	if (c->is_expect && (c->err || !c->ok))
		*all = false;
}

/* The snapshot does not say which of its checks are @expect, the value
 * tree it was built from (read from the same bytes) does; @expect needs no
 * sync decoder, so the other checks' results here are ignored. */
bool fuzz_expects_hold(const struct snap_source *src,
		       const struct snapshot *snap)
{
	struct expr_env env = {.buf = snap->bytes, .len = snap->size};
	bool all = true;

	if (!src->vt)
		return true;
	value_tree_checks(src->vt, &env, expect_one, &all);
	return all;
}

static const struct snap_check *check_find(const struct snapshot *s,
					   const char *expr)
{
	for (size_t i = 0; i < s->nchecks; i++)
		if (!strcmp(s->checks[i].expr, expr))
			return &s->checks[i];
	return NULL;
}

/* Take one snapshot of S into OUT; false when the segment is gone (the
 * source is then closed, to be found again if it comes back). */
static bool take(struct source *s, struct snapshot *out)
{
	struct errbuf e = {{0}};

	if (snap_take(&s->src, out, &e)) {
		snap_source_close(&s->src);
		s->open = false;
		return false;
	}
	if (out->status == SNAP_SEG_UNLINKED ||
	    out->status == SNAP_SEG_RECREATED) {
		snap_free(out);
		snap_source_close(&s->src);
		s->open = false;
		return false;
	}
	return true;
}

static bool is_ident(char c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

/* Whether NAME appears in EXPR as a whole identifier. */
static bool mentions(const char *expr, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = strstr(expr, name); p; p = strstr(p + 1, name))
		if ((p == expr || !is_ident(p[-1])) && !is_ident(p[len]))
			return true;
	return false;
}

/* The values of the fields check EXPR names, "a = 5, b = 4", into OUT: the
 * leaves directly in its instance ("ring.slots[3]: ..." names its
 * instance; else the root). */
static void check_values(const struct snapshot *snap, const char *expr,
			 char *out, size_t n)
{
	const char *colon = strstr(expr, ": ");
	char inst[256];
	size_t len = 0;

	out[0] = 0;
	if (!snap->nrows)
		return;
	if (colon)
		snprintf(inst, sizeof(inst), "%.*s", (int)(colon - expr), expr);
	else
		snprintf(inst, sizeof(inst), "%s", snap->rows[0].path);
	for (size_t i = 0; i < snap->nrows && len + 1 < n; i++) {
		const struct snap_row *r = &snap->rows[i];
		if (r->parent < 0 || !r->value ||
		    strcmp(snap->rows[r->parent].path, inst) ||
		    !mentions(colon ? colon + 2 : expr, r->name))
			continue;
		len += (size_t)snprintf(out + len, n - len, "%s%s = %s",
					len ? ", " : "", r->name, r->value);
	}
}

/* EXPR failed in S's last sample: sample again until it is confirmed (1,
 * with the values into MSG), it holds again (0), or the time is up (0). */
static int confirm(struct source *s, const char *expr, int unlocked, char *msg,
		   size_t n, char *vals, size_t vn)
{
	double give_up = mono_s() + CONFIRM_MAX_MS / 1000.0;
	int failing = 1;

	while (mono_s() < give_up) {
		struct snapshot snap = {0};
		const struct snap_check *c;

		sleep_ms(CONFIRM_GAP_MS);
		if (!take(s, &snap))
			return 0;
		c = check_find(&snap, expr);
		if (!c || c->ok) {
			snap_free(&snap);
			return 0;
		}
		failing++;
		unlocked += !any_lock_held(&snap);
		if (failing >= CONFIRM_SAMPLES &&
		    unlocked >= CONFIRM_UNLOCKED) {
			snprintf(msg, n, "%s", expr);
			check_values(&snap, expr, vals, vn);
			snap_free(&snap);
			return 1;
		}
		snap_free(&snap);
	}
	s->calm_until = mono_s() + CONFIRM_BACKOFF_S;
	return 0;
}

static int sample_one(struct source *s, char *msg, size_t n, char *vals,
		      size_t vn)
{
	struct snapshot snap = {0};
	int ret = 0;

	if (!take(s, &snap))
		return 0;
	if (!s->armed)
		s->armed = fuzz_expects_hold(&s->src, &snap) ||
			   (layout_root(fuzz_layout)->segment &&
			    mono_s() - s->first_seen >= ARM_AFTER_S);
	for (size_t i = 0;
	     s->armed && !ret && i < snap.nchecks && mono_s() >= s->calm_until;
	     i++) {
		const struct snap_check *c = &snap.checks[i];
		if (c->ok)
			continue;
		ret = confirm(s, c->expr, !any_lock_held(&snap), msg, n, vals,
			      vn);
	}
	snap_free(&snap);
	return ret;
}

int fuzz_checks_sample(const struct fuzz_opts *o, const char *dir, char *msg,
		       size_t n, char *where, size_t wn)
{
	(void)o;
	if (!fuzz_layout)
		return 0;
	discover(dir);
	ticks++;
	for (int i = 0; i < nsources; i++) {
		if (!sources[i].open)
			continue;
		char vals[300];
		if (sample_one(&sources[i], msg, n, vals, sizeof(vals)) == 1) {
			snprintf(where, wn, "%s%s%s", sources[i].target,
				 vals[0] ? " where " : "", vals);
			return 1;
		}
	}
	return 0;
}

void fuzz_checks_close(void)
{
	for (int i = 0; i < nsources; i++)
		if (sources[i].open)
			snap_source_close(&sources[i].src);
	nsources = 0;
}
