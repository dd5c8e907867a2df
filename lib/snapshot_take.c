/*
 * snapshot_take.c - build a snapshot: the segment's bytes laid out by the
 * layout, every sync object decoded and joined with /proc.
 *
 * The bytes are copied once and everything is decoded from that copy, so
 * the fields, sync objects, rings and checks of one snapshot describe one
 * read of the segment.  /proc is read after the copy: an owner or a waiter
 * found there is matched against bytes that are at most one scan old.
 */
#include "snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "expr.h"
#include "layout.h"
#include "proc.h"
#include "value.h"

int snap_source_open(struct snap_source *src, const char *target,
		     const struct layout *l, const char *type_name,
		     struct errbuf *e)
{
	const struct layout_type *root = NULL;
	int rc;

	memset(src, 0, sizeof(*src));
	src->seg.fd = -1;
	src->seg.shmid = -1;
	src->layout = l;
	if (l) {
		root = type_name ? layout_find_type(l, type_name)
				 : layout_root(l);
		if (!root) {
			err_set(e,
				type_name ? "the layout has no type %s"
					  : "the layout has no struct%s",
				type_name ? type_name : "");
			return -EINVAL;
		}
		if (root->kind != LAYOUT_STRUCT && root->kind != LAYOUT_UNION) {
			err_set(e, "%s is not a struct or union", root->name);
			return -EINVAL;
		}
		if (!target)
			target = root->segment;
	}
	if (!target) {
		err_set(e, "no target: name a segment, or give a layout whose "
			   "root struct has @segment");
		return -EINVAL;
	}
	rc = seg_open(&src->seg, target, e);
	if (rc < 0)
		return rc;
	sync_target_host(&src->sync);
	if (l)
		src->sync.abi = layout_abi(l);
	if (root) {
		src->root = root;
		src->vt = value_tree_new(root, layout_type_path_name(root), 0,
					 0, e);
		if (!src->vt) {
			seg_detach(&src->seg);
			return -ENOMEM;
		}
	}
	return 0;
}

int snap_source_reattach(struct snap_source *src, struct errbuf *e)
{
	int rc = seg_reattach(&src->seg, e);

	if (rc == 0)
		src->events = 0;
	src->have_mappers = false;
	return rc;
}

void snap_source_close(struct snap_source *src)
{
	seg_detach(&src->seg);
	value_tree_free(src->vt);
	proc_maps_free(&src->mappers);
	memset(src, 0, sizeof(*src));
}

/* What a sync object stands for in an expression (DESIGN.md: a sem_t its
 * value, a mutex 1 if held). */
static int take_sync_value(void *arg, const struct layout_type *t,
			   const void *bytes, long long *out)
{
	const struct snap_source *src = arg;
	struct sync_state st;
	int rc = sync_decode(&src->sync, t->sync, bytes, t->size, &st);

	if (rc < 0)
		return rc;
	*out = st.value;
	return 0;
}

/* Everything one snap_take() needs besides the snapshot itself. */
struct take {
	struct snap_source *src;
	struct snapshot *out;
	const uint8_t *bytes;
	size_t len;
	const struct proc_maps *maps;  /* the source's, maybe reused */
	bool rescanned;		       /* maps were read by this snapshot */
	unsigned ev;		       /* SEG_EV_* of this read */
	const struct value **row_node; /* the value behind each row */
	size_t nsync;
	/* owners already resolved in this snapshot */
	struct proc_tid owners[32];
	size_t nowners;
};

/* ---- segment, bytes, mappers --------------------------------------------- */

static int take_bytes(struct take *t, struct errbuf *e)
{
	struct snap_source *src = t->src;
	struct snapshot *out = t->out;
	int ev = seg_refresh(&src->seg, e);
	uint8_t *buf;
	ssize_t n;
	char msg[256];

	if (ev < 0)
		return ev;
	src->events |= (unsigned)ev;
	t->ev = (unsigned)ev;
	/* The bytes belong to the snapshot: a viewer keeps the last one to
	 * show what changed while the next is taken. */
	buf = src->seg.size ? snap_alloc_raw(out, src->seg.size) : NULL;
	if (src->seg.size && !buf) {
		err_set(e, "%s: out of memory", src->seg.name);
		return -ENOMEM;
	}
	n = src->seg.size ? seg_read(&src->seg, 0, buf, src->seg.size) : 0;
	if (n < 0) {
		err_setn(e, (int)-n, "%s: read", src->seg.name);
		return (int)n;
	}
	t->bytes = buf;
	t->len = (size_t)n;
	out->bytes = buf;
	out->size = (uint64_t)n;
	out->name = snap_strdup(out, src->seg.name);
	out->kind = seg_kind_name(src->seg.target.kind);
	out->dev = (uint64_t)src->seg.dev;
	out->ino = (uint64_t)src->seg.ino;
	if (src->seg.state & SEG_EV_REPLACED)
		out->status = SNAP_SEG_RECREATED;
	else if (src->seg.state & (SEG_EV_UNLINKED | SEG_EV_REMOVED))
		out->status = SNAP_SEG_UNLINKED;
	else if (ev & SEG_EV_SHRANK)
		out->status = SNAP_SEG_SHRANK;
	else if (ev & SEG_EV_GREW)
		out->status = SNAP_SEG_GREW;
	if (src->seg.state | (unsigned)ev) {
		seg_describe(&src->seg, src->seg.state | (unsigned)ev, msg,
			     sizeof(msg));
		out->status_msg = snap_strdup(out, msg);
	}
	return 0;
}

static long long ms_since(const struct timespec *a)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)(now.tv_sec - a->tv_sec) * 1000 +
	       (now.tv_nsec - a->tv_nsec) / 1000000;
}

/* Can the mappers of the last scan stand for now?  Finding a new mapper
 * takes a read of every process's maps (milliseconds on a busy machine),
 * so a live view reuses the list for mappers_ttl_ms; but a mapper that
 * died must not be shown alive (an owner that is a mapper's pid is
 * trusted from the list), so each is checked, one small read apiece. */
static bool mappers_fresh(const struct snap_source *src, unsigned ev)
{
	pid_t last = 0;

	if (!src->have_mappers || !src->mappers_ttl_ms ||
	    (ev & (SEG_EV_REPLACED | SEG_EV_UNLINKED | SEG_EV_REMOVED)) ||
	    ms_since(&src->mappers_at) >= (long long)src->mappers_ttl_ms)
		return false;
	for (size_t i = 0; i < src->mappers.n; i++) {
		pid_t pid = src->mappers.v[i].pid;

		if (pid == last)
			continue;
		last = pid;
		if (proc_tgid(pid) != pid)
			return false;
	}
	return true;
}

/* Scan /proc for the segment's mappers into the source's cache; T->maps
 * points there afterwards (empty when the scan failed: not fatal, the
 * view shows the bytes and says nobody was found). */
static void take_scan_mappers(struct take *t)
{
	struct snap_source *src = t->src;

	proc_maps_free(&src->mappers);
	memset(&src->mappers, 0, sizeof(src->mappers));
	src->have_mappers = false;
	t->rescanned = true;
	t->maps = &src->mappers;
	src->mapper_scans++;
	if (proc_mappers(&src->mappers, src->seg.dev, src->seg.ino, NULL) < 0)
		return;
	proc_maps_drop_pid(&src->mappers, getpid());
	clock_gettime(CLOCK_MONOTONIC, &src->mappers_at);
	src->have_mappers = true;
}

/* OUT->procs from T->maps: one entry per process. */
static int take_procs(struct take *t)
{
	struct snapshot *out = t->out;
	size_t n = 0;

	out->procs = snap_alloc(out, (t->maps->n + 1) * sizeof(*out->procs));
	if (!out->procs)
		return -ENOMEM;
	/* Entries are contiguous per process: one per pid. */
	for (size_t i = 0; i < t->maps->n; i++) {
		const struct proc_map *m = &t->maps->v[i];

		if (n && out->procs[n - 1].pid == m->pid)
			continue;
		out->procs[n].pid = m->pid;
		snprintf(out->procs[n].comm, sizeof(out->procs[n].comm), "%s",
			 m->comm);
		out->procs[n].start = m->start;
		out->procs[n].end = m->end;
		n++;
	}
	out->nprocs = n;
	return 0;
}

static int take_mappers(struct take *t)
{
	t->maps = &t->src->mappers;
	if (!mappers_fresh(t->src, t->ev | t->src->seg.state))
		take_scan_mappers(t);
	return take_procs(t);
}

/* ---- field rows ------------------------------------------------------------
 */

static enum snap_vtype take_vtype(const struct value *v)
{
	switch (v->kind) {
	case VALUE_INT:
		return SNAP_V_INT;
	case VALUE_UINT:
	case VALUE_PTR:
		return SNAP_V_UINT;
	case VALUE_BOOL:
		return SNAP_V_BOOL;
	case VALUE_FLOAT:
		return SNAP_V_FLOAT;
	case VALUE_STRING:
		return SNAP_V_STR;
	default:
		return SNAP_V_NONE;
	}
}

static int take_row(struct take *t, const struct value *v, int depth,
		    int parent, const char *name);

/* Rows for the children of V; anonymous members add no row of their own,
 * their fields appear in the struct that holds them, as C names them. */
static int take_children(struct take *t, const struct value *v, int depth,
			 int parent)
{
	const char *pname = parent >= 0 ? t->out->rows[parent].name : "";
	char name[256];

	for (size_t i = 0; i < v->nchildren; i++) {
		const struct value *c = &v->children[i];
		int rc;

		if (v->kind == VALUE_ARRAY) {
			snprintf(name, sizeof(name), "%s[%llu]", pname,
				 (unsigned long long)c->index);
			rc = take_row(t, c, depth, parent, name);
		} else if (c->field && !c->field->name) {
			rc = take_children(t, c, depth, parent);
		} else {
			rc = take_row(t, c, depth, parent,
				      c->field ? c->field->name : "?");
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int take_row(struct take *t, const struct value *v, int depth,
		    int parent, const char *name)
{
	struct snapshot *out = t->out;
	size_t i = out->nrows++;
	struct snap_row *r = &out->rows[i];
	char buf[512];

	t->row_node[i] = v;
	r->depth = depth;
	r->parent = parent;
	r->name = snap_strdup(out, name);
	value_path(t->src->vt, v, buf, sizeof(buf));
	r->path = snap_strdup(out, buf);
	r->type = v->type->name;
	r->offset = v->offset;
	r->size = v->size;
	r->sync = -1;
	r->vtype = take_vtype(v);
	r->v.u = v->v.u;
	if (v->kind == VALUE_FLOAT)
		r->v.f = v->v.f;
	r->is_array = v->kind == VALUE_ARRAY;
	r->has_children = v->nchildren > 0;
	if (v->kind == VALUE_SYNC) {
		t->nsync++;
	} else if (!r->has_children) {
		value_format(v, buf, sizeof(buf));
		r->value = snap_strdup(out, buf);
	}
	if (!r->name || !r->path)
		return -ENOMEM;
	return take_children(t, v, depth + 1, (int)i);
}

/* ---- sync objects ------------------------------------------------------- */

/* Who owns TID: resolved once per snapshot. */
static const struct proc_tid *take_owner(struct take *t, pid_t tid)
{
	struct proc_tid *o;

	for (size_t i = 0; i < t->nowners; i++)
		if (t->owners[i].tid == tid)
			return &t->owners[i];
	o = &t->owners[t->nowners < 32 ? t->nowners++ : 31];
	proc_tid_resolve(tid, t->src->seg.dev, t->src->seg.ino, t->maps, o);
	/* An owner outside a reused list may be a process that mapped the
	 * segment since: look again before calling it anything but alive. */
	if (o->state != PROC_TID_MATCH && !t->rescanned) {
		take_scan_mappers(t);
		if (take_procs(t) < 0)
			return o;
		t->nowners = 0;
		o = &t->owners[t->nowners++];
		proc_tid_resolve(tid, t->src->seg.dev, t->src->seg.ino, t->maps,
				 o);
	}
	return o;
}

static void take_sync_owner(struct take *t, struct snap_sync *y)
{
	const struct proc_tid *o;
	char why[128];

	y->owner_alive = -1;
	if (y->st.owner_tid <= 0)
		return;
	y->owner_tid = y->st.owner_tid;
	o = take_owner(t, y->owner_tid);
	switch (o->state) {
	case PROC_TID_MATCH:
		y->owner_pid = o->pid;
		snprintf(y->owner_comm, sizeof(y->owner_comm), "%s", o->comm);
		y->owner_alive = 1;
		return;
	case PROC_TID_UNKNOWN:
		y->owner_pid = o->pid;
		snprintf(y->owner_comm, sizeof(y->owner_comm), "%s", o->comm);
		return;
	case PROC_TID_GONE:
	case PROC_TID_REUSED:
		/* A held lock whose owner is gone is the classic
		 * shared-memory deadlock, robust mutex or not. */
		y->owner_alive = 0;
		sync_state_owner_gone(&y->st);
		proc_tid_describe(o, why, sizeof(why));
		snprintf(y->detail, sizeof(y->detail),
			 "%.127s; owner %d %.100s", y->st.detail,
			 (int)y->owner_tid, why);
		return;
	}
}

static int take_syncs(struct take *t)
{
	struct snapshot *out = t->out;

	out->syncs = snap_alloc(out, (t->nsync + 1) * sizeof(*out->syncs));
	if (!out->syncs)
		return -ENOMEM;
	for (size_t i = 0; i < out->nrows; i++) {
		const struct value *v = t->row_node[i];
		struct snap_row *r = &out->rows[i];
		struct snap_sync *y;
		char buf[256];

		if (v->kind != VALUE_SYNC)
			continue;
		r->sync = (int)out->nsyncs;
		y = &out->syncs[out->nsyncs++];
		y->path = r->path;
		y->kind = v->type->sync;
		y->offset = v->offset;
		if (v->offset + v->size > t->len ||
		    sync_decode(&t->src->sync, y->kind, t->bytes + v->offset,
				v->size, &y->st) < 0) {
			snprintf(y->state, sizeof(y->state), "unreadable");
			y->owner_alive = -1;
			r->value = "unreadable";
			continue;
		}
		snprintf(y->detail, sizeof(y->detail), "%s", y->st.detail);
		take_sync_owner(t, y);
		snprintf(y->state, sizeof(y->state), "%s",
			 sync_state_name(y->st.state));
		y->value = y->st.value;
		y->waiters = y->st.waiters;
		r->vtype = SNAP_V_INT;
		r->v.i = y->value;
		if (y->owner_tid)
			snprintf(buf, sizeof(buf), "%s (tid %d%s%s)", y->state,
				 (int)y->owner_tid, y->owner_comm[0] ? " " : "",
				 y->owner_comm);
		else if (y->kind == SYNC_SEM || y->kind == SYNC_FUTEX)
			snprintf(buf, sizeof(buf), "%s (%lld)", y->state,
				 y->value);
		else
			snprintf(buf, sizeof(buf), "%s", y->state);
		r->value = snap_strdup(out, buf);
	}
	return 0;
}

/* The sync object whose bytes hold segment offset OFF, or NULL. */
static struct snap_sync *take_sync_at(struct take *t, uint64_t off)
{
	struct snapshot *out = t->out;

	for (size_t i = 0; i < out->nsyncs; i++) {
		struct snap_sync *y = &out->syncs[i];

		if (off >= y->offset &&
		    off < y->offset + sync_size(&t->src->sync, y->kind))
			return y;
	}
	return NULL;
}

/* The threads of mapping processes blocked in futex() on each object. */
static int take_waiters(struct take *t)
{
	struct snapshot *out = t->out;
	struct proc_waiters w;
	int rc = 0;

	if (!out->nsyncs || !t->maps->n)
		return 0;
	memset(&w, 0, sizeof(w));
	if (proc_waiters_scan(t->maps, &w, NULL) < 0)
		return 0;
	for (size_t i = 0; i < w.n; i++) {
		struct snap_sync *y = take_sync_at(t, w.v[i].offset);

		if (y)
			y->nwaiting++;
	}
	for (size_t i = 0; i < out->nsyncs; i++) {
		struct snap_sync *y = &out->syncs[i];

		if (!y->nwaiting)
			continue;
		y->waiting = snap_alloc(out, y->nwaiting * sizeof(*y->waiting));
		if (!y->waiting) {
			rc = -ENOMEM;
			goto out;
		}
		y->nwaiting = 0;
	}
	for (size_t i = 0; i < w.n; i++) {
		struct snap_sync *y = take_sync_at(t, w.v[i].offset);
		struct snap_waiter *sw;

		if (!y)
			continue;
		sw = &y->waiting[y->nwaiting++];
		sw->pid = w.v[i].pid;
		sw->tid = w.v[i].tid;
		snprintf(sw->comm, sizeof(sw->comm), "%s", w.v[i].comm);
	}
out:
	proc_waiters_free(&w);
	return rc;
}

/* ---- rings and checks -----------------------------------------------------
 */

static void take_env(struct take *t, struct expr_env *env, uint64_t base)
{
	env->buf = t->bytes;
	env->len = t->len;
	env->base = base;
	env->sync_value = take_sync_value;
	env->arg = t->src;
}

static int take_rings(struct take *t)
{
	struct snapshot *out = t->out;
	size_t n = 0;

	for (size_t i = 0; i < out->nrows; i++) {
		const struct value *v = t->row_node[i];

		n += v->field && v->field->ring;
	}
	if (!n)
		return 0;
	out->rings = snap_alloc(out, n * sizeof(*out->rings));
	if (!out->rings)
		return -ENOMEM;
	for (size_t i = 0; i < out->nrows; i++) {
		const struct value *v = t->row_node[i];
		struct snap_ring *r;
		struct expr_ring_state rs;
		struct expr_env env;

		if (!v->field || !v->field->ring)
			continue;
		r = &out->rings[out->nrings++];
		r->path = out->rows[i].path;
		take_env(t, &env, v->parent ? v->parent->offset : 0);
		if (expr_ring(v->field, &env, &rs, NULL) < 0)
			continue;
		r->head = (uint64_t)rs.head;
		r->tail = (uint64_t)rs.tail;
		r->capacity = rs.capacity;
		r->used = (uint64_t)rs.used;
		r->valid = rs.used >= 0 && (uint64_t)rs.used <= rs.capacity;
	}
	return 0;
}

struct take_checks {
	struct take *t;
	struct snap_check *v;
	size_t n, cap;
	int err;
};

static void take_check_one(void *arg, const struct value_check *c)
{
	struct take_checks *tc = arg;
	struct snapshot *out = tc->t->out;
	const struct value *inst;
	struct snap_check *k;
	char where[256], text[512];

	if (tc->err)
		return;
	if (tc->n == tc->cap) {
		size_t cap = tc->cap ? tc->cap * 2 : 16;
		struct snap_check *v = realloc(tc->v, cap * sizeof(*v));

		if (!v) {
			tc->err = -ENOMEM;
			return;
		}
		tc->v = v;
		tc->cap = cap;
	}
	k = &tc->v[tc->n++];
	/* A check of a nested instance (an array element, a member) is named
	 * after it, or the 16 slots' checks would all read the same. */
	inst = c->is_expect && c->v ? c->v->parent : c->v;
	if (inst && inst->parent) {
		value_path(tc->t->src->vt, inst, where, sizeof(where));
		snprintf(text, sizeof(text), "%s: %s", where, c->expr);
		k->expr = snap_strdup(out, text);
	} else {
		k->expr = snap_strdup(out, c->expr);
	}
	k->ok = c->err == 0 && c->ok;
	k->error = c->err ? snap_strdup(out, c->why ? c->why : "error") : NULL;
}

static int take_checks(struct take *t)
{
	struct take_checks tc = {.t = t};
	struct expr_env env;
	struct snapshot *out = t->out;

	take_env(t, &env, 0);
	value_tree_checks(t->src->vt, &env, take_check_one, &tc);
	if (!tc.err && tc.n) {
		out->checks = snap_alloc(out, tc.n * sizeof(*out->checks));
		if (out->checks) {
			memcpy(out->checks, tc.v, tc.n * sizeof(*tc.v));
			out->nchecks = tc.n;
		} else {
			tc.err = -ENOMEM;
		}
	}
	free(tc.v);
	return tc.err;
}

/* ---- the whole snapshot ------------------------------------------------- */

static int take_layout(struct take *t)
{
	struct snap_source *src = t->src;
	struct snapshot *out = t->out;
	int rc;

	value_tree_read(src->vt, t->bytes, t->len);
	out->root_type = layout_type_path_name(src->root);
	out->rows = snap_alloc(out, src->vt->nnodes * sizeof(*out->rows));
	t->row_node = calloc(src->vt->nnodes, sizeof(*t->row_node));
	if (!out->rows || !t->row_node)
		return -ENOMEM;
	rc = take_row(t, src->vt->root, 0, -1, out->root_type);
	if (rc == 0)
		rc = take_syncs(t);
	if (rc == 0)
		rc = take_waiters(t);
	if (rc == 0)
		rc = take_rings(t);
	if (rc == 0)
		rc = take_checks(t);
	return rc;
}

int snap_take(struct snap_source *src, struct snapshot *out, struct errbuf *e)
{
	struct take t;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&t, 0, sizeof(t));
	t.src = src;
	t.out = out;
	clock_gettime(CLOCK_REALTIME, &out->when);
	rc = take_bytes(&t, e);
	if (rc == 0)
		rc = take_mappers(&t);
	if (rc == 0 && src->vt)
		rc = take_layout(&t);
	if (rc == -ENOMEM)
		err_set(e, "%s: out of memory", src->seg.name);
	free(t.row_node);
	if (rc < 0)
		snap_free(out);
	return rc;
}

bool snap_any_check_failed(const struct snapshot *s)
{
	for (size_t i = 0; i < s->nchecks; i++)
		if (!s->checks[i].ok)
			return true;
	return false;
}
