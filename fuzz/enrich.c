/*
 * enrich.c - a hung run's diagnosis, in the layout's words.
 *
 * fuzz_diag_collect() found each blocked thread's futex as (segment,
 * offset).  Here every segment of the tree the layout describes is
 * snapshot (snap_take: the sync objects decoded, their owners resolved
 * through /proc, their waiters found in futex waits), and the diagnosis
 * gains:
 *  - per blocked thread, the field it waits on and who holds it;
 *  - every sync object held or waited on, its owner (alive or gone) and
 *    its waiters;
 *  - the wait-for cycles: thread A waits on a lock B holds while B waits
 *    on one A holds (any length), each named by field path;
 *  - dead owners: a lock held by a thread that is gone.
 * A dead owner's name comes from its trace file's header, else from
 * status.txt, where the supervisor wrote what it reaped.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "layout.h"
#include "snapshot.h"
#include "trace.h"

#define MAX_SEGS  8
#define MAX_EDGES 256

/* Thread TID waits for lock PATH, held by thread OWNER (0: no owner). */
struct edge {
	pid_t tid, pid, owner;
	char comm[64];
	const char *path;
};

struct enrich {
	struct fuzz_diag *d;
	const char *dir;
	struct snap_source src[MAX_SEGS];
	struct snapshot snap[MAX_SEGS];
	int nsegs;
	struct edge e[MAX_EDGES];
	int ne;
	size_t len; /* of d->extra */
};

static void say(struct enrich *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(struct enrich *x, const char *fmt, ...)
{
	size_t cap = sizeof(x->d->extra);
	va_list ap;
	int n;

	if (x->len + 1 >= cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(x->d->extra + x->len, cap - x->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		x->len +=
			(size_t)n < cap - x->len ? (size_t)n : cap - x->len - 1;
}

/* The comm a gone process had, from its trace file's header
 * (trace/PID-*.shmtrace); false when there is none. */
static bool trace_comm(const struct enrich *x, pid_t pid, char *out, size_t n)
{
	char path[4400], prefix[32];
	struct trace_header h;
	struct dirent *de;
	bool found = false;
	DIR *d;

	snprintf(path, sizeof(path), "%s/trace", x->dir);
	snprintf(prefix, sizeof(prefix), "%d-", (int)pid);
	d = opendir(path);
	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		if (strncmp(de->d_name, prefix, strlen(prefix)))
			continue;
		snprintf(path, sizeof(path), "%s/trace/%s", x->dir, de->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
		    h.pid == pid) {
			snprintf(out, n, "%.*s", (int)sizeof(h.comm), h.comm);
			found = true;
		}
		close(fd);
	}
	closedir(d);
	return found;
}

/* The comm of PID: from the diagnosis while it lives, else from its trace
 * or what the supervisor reaped (status.txt: "pid role comm ..."). */
static void comm_of(const struct enrich *x, pid_t pid, char *out, size_t n)
{
	char path[4200], line[512], comm[64];
	int p;
	FILE *f;

	for (int i = 0; i < x->d->np; i++) {
		const struct diag_proc *dp = &x->d->p[i];
		for (int k = 0; k < dp->nth; k++)
			if (dp->th[k].tid == pid || dp->pid == pid) {
				snprintf(out, n, "%s", dp->comm);
				return;
			}
	}
	if (trace_comm(x, pid, out, n))
		return;
	snprintf(out, n, "?");
	snprintf(path, sizeof(path), "%s/status.txt", x->dir);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%d %*s %63s", &p, comm) == 2 && p == pid)
			snprintf(out, n, "%s", comm);
	fclose(f);
}

/* --- segments --------------------------------------------------------------
 */

static bool seg_listed(const struct enrich *x, const char *name)
{
	for (int i = 0; i < x->nsegs; i++)
		if (!strcmp(x->src[i].seg.name, name))
			return true;
	return false;
}

/* Snapshot NAME with the layout when it describes it. */
static void open_seg(struct enrich *x, const char *name)
{
	const struct layout *l = fuzz_layout_get();
	const struct layout_type *root = l ? layout_root(l) : NULL;
	struct snap_source *s = &x->src[x->nsegs];
	struct snapshot *snap = &x->snap[x->nsegs];

	if (!root || x->nsegs == MAX_SEGS || seg_listed(x, name))
		return;
	if (root->segment && strcmp(root->segment, name))
		return;
	if (snap_source_open(s, name, l, NULL, NULL))
		return;
	if (s->seg.size < root->size || snap_take(s, snap, NULL)) {
		snap_source_close(s);
		return;
	}
	/* Big enough is not enough: a segment found by size must show the
	 * layout's @expect, or its "locks" are someone else's bytes. */
	if (!root->segment && !fuzz_expects_hold(s, snap)) {
		snap_free(snap);
		snap_source_close(s);
		return;
	}
	x->nsegs++;
}

static void open_segs(struct enrich *x)
{
	for (int i = 0; i < x->d->np; i++)
		for (int k = 0; k < x->d->p[i].nmap; k++) {
			const char *seg = x->d->p[i].map[k].seg;
			if (seg[0] == '/' || !strncmp(seg, "sysv:", 5))
				open_seg(x, seg);
		}
}

/* The sync object of segment I whose bytes hold offset OFF. */
static const struct snap_sync *sync_at(const struct enrich *x, int i,
				       uint64_t off)
{
	const struct snapshot *s = &x->snap[i];

	for (size_t r = 0; r < s->nrows; r++) {
		const struct snap_row *row = &s->rows[r];
		if (row->sync >= 0 && off >= row->offset &&
		    off < row->offset + row->size)
			return &s->syncs[row->sync];
	}
	return NULL;
}

static int seg_index(const struct enrich *x, const char *name)
{
	for (int i = 0; i < x->nsegs; i++)
		if (!strcmp(x->src[i].seg.name, name))
			return i;
	return -1;
}

static bool owned_kind(enum sync_kind k)
{
	return k == SYNC_MUTEX || k == SYNC_RWLOCK || k == SYNC_SPIN;
}

/* --- what each thread waits on ----------------------------------------------
 */

static void add_edge(struct enrich *x, pid_t tid, pid_t pid, const char *comm,
		     const struct snap_sync *y)
{
	struct edge *e;

	for (int i = 0; i < x->ne; i++)
		if (x->e[i].tid == tid)
			return;
	if (x->ne == MAX_EDGES)
		return;
	e = &x->e[x->ne++];
	e->tid = tid;
	e->pid = pid;
	snprintf(e->comm, sizeof(e->comm), "%s", comm);
	e->path = y->path;
	e->owner = owned_kind(y->kind) ? y->owner_tid : 0;
}

static void owner_text(const struct enrich *x, const struct snap_sync *y,
		       char *out, size_t n)
{
	char comm[64];

	if (!y->owner_tid) {
		snprintf(out, n, "no owner");
		return;
	}
	if (y->owner_comm[0])
		snprintf(comm, sizeof(comm), "%s", y->owner_comm);
	else
		comm_of(x, y->owner_tid, comm, sizeof(comm));
	snprintf(out, n, "held by %d (%s, %s)", (int)y->owner_tid, comm,
		 y->owner_alive == 1   ? "alive"
		 : y->owner_alive == 0 ? "gone"
				       : "unknown");
}

static void note_threads(struct enrich *x)
{
	for (int i = 0; i < x->d->np; i++) {
		struct diag_proc *p = &x->d->p[i];
		for (int k = 0; k < p->nth; k++) {
			struct diag_thread *t = &p->th[k];
			const struct snap_sync *y;
			char own[128];
			int s;

			if (!t->futex || !t->seg[0])
				continue;
			s = seg_index(x, t->seg);
			y = s < 0 ? NULL : sync_at(x, s, t->off);
			if (!y)
				continue;
			snprintf(t->field, sizeof(t->field), "%s", y->path);
			owner_text(x, y, own, sizeof(own));
			snprintf(t->note, sizeof(t->note),
				 "waits on %s (%s, %s)%s%s", y->path,
				 sync_kind_name(y->kind), y->state,
				 owned_kind(y->kind) ? ", " : "",
				 owned_kind(y->kind) ? own : "");
			add_edge(x, t->tid, p->pid, p->comm, y);
		}
	}
}

/* --- findings ------------------------------------------------------------- */

static void list_syncs(struct enrich *x)
{
	for (int i = 0; i < x->nsegs; i++) {
		const struct snapshot *s = &x->snap[i];
		for (size_t k = 0; k < s->nsyncs; k++) {
			const struct snap_sync *y = &s->syncs[k];
			char own[128];

			if (!y->owner_tid && !y->nwaiting)
				continue;
			/* A semaphore or condvar has no owner: its value
			 * says why its waiters wait. */
			if (owned_kind(y->kind))
				owner_text(x, y, own, sizeof(own));
			else
				snprintf(own, sizeof(own), "value %lld",
					 y->value);
			say(x, "%s %s (%s, %s): %s", s->name, y->path,
			    sync_kind_name(y->kind), y->state, own);
			for (size_t w = 0; w < y->nwaiting; w++) {
				const struct snap_waiter *sw = &y->waiting[w];
				say(x, "%s %d (%s)",
				    w ? "," : "; waiters:", (int)sw->tid,
				    sw->comm);
				add_edge(x, sw->tid, sw->pid, sw->comm, y);
			}
			say(x, "\n");
			if (y->owner_tid && y->owner_alive == 0) {
				char comm[64];
				comm_of(x, y->owner_tid, comm, sizeof(comm));
				say(x,
				    "owner-dead: %s held by %d (%s) which is "
				    "gone\n",
				    y->path, (int)y->owner_tid, comm);
			}
		}
	}
}

static const struct edge *edge_of(const struct enrich *x, pid_t tid)
{
	for (int i = 0; i < x->ne; i++)
		if (x->e[i].tid == tid)
			return &x->e[i];
	return NULL;
}

/* Follow the wait-for edges from each thread; with out-degree one, a
 * cycle is found by walking at most ne steps.  Each cycle is reported
 * once, from its smallest tid. */
static void find_cycles(struct enrich *x)
{
	for (int i = 0; i < x->ne; i++) {
		const struct edge *e = &x->e[i];
		pid_t start = e->tid, min = start;
		int steps = 0;

		while (e && e->owner && steps <= x->ne) {
			steps++;
			if (e->owner == start)
				break;
			if (e->owner < min)
				min = e->owner;
			e = edge_of(x, e->owner);
		}
		if (!e || !e->owner || e->owner != start || min != start)
			continue;
		say(x, "wait-for cycle (deadlock):");
		e = &x->e[i];
		for (int k = 0; k < steps; k++) {
			char comm[64];
			comm_of(x, e->owner, comm, sizeof(comm));
			say(x, "%s %d (%s) waits for %s held by %d (%s)",
			    k ? ";" : "", (int)e->tid, e->comm, e->path,
			    (int)e->owner, comm);
			e = edge_of(x, e->owner);
		}
		say(x, "\n");
	}
}

void fuzz_diag_enrich(struct fuzz_diag *d, const struct fuzz_opts *o,
		      const char *dir)
{
	struct enrich *x = calloc(1, sizeof(*x));

	(void)o;
	if (!x)
		return;
	x->d = d;
	x->dir = dir;
	x->len = strlen(d->extra);
	open_segs(x);
	note_threads(x);
	list_syncs(x);
	find_cycles(x);
	for (int i = 0; i < x->nsegs; i++) {
		snap_free(&x->snap[i]);
		snap_source_close(&x->src[i]);
	}
	free(x);
}
