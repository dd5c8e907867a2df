/*
 * report.c - shmtrace report: per-lock statistics, lock-order cycles,
 * misuse and semaphore figures, from one pass over the merged events.
 *
 * Locks are keyed by what they are, not where they are: (device, inode,
 * offset) for an object inside a shared segment, so the same mutex mapped
 * at different addresses in different processes is one lock; (process,
 * address) for private memory.  All state is per lock, per thread and per
 * lock-order edge: memory grows with the number of distinct locks, never
 * with the number of events.
 */
#include "shmtrace.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ihash.h"
#include "json.h"
#include "layout.h"
#include "synckind.h"

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		fprintf(stderr, "%s: out of memory\n", shmtrace_prog);
		exit(1);
	}
	return p;
}

/* ---- histograms: log-linear, 8 steps per power of two (within 12.5%) ------
 */

#define HIST_N 496

struct hist {
	uint64_t n;
	uint32_t b[HIST_N];
};

static int hist_idx(uint64_t v)
{
	int e;

	if (v < 16)
		return (int)v;
	e = 63 - __builtin_clzll(v);
	return 16 + (e - 4) * 8 + (int)((v >> (e - 3)) & 7);
}

static uint64_t hist_upper(int idx)
{
	int e, sub;

	if (idx < 16)
		return (uint64_t)idx;
	e = (idx - 16) / 8 + 4;
	sub = (idx - 16) % 8;
	return ((uint64_t)(9 + sub) << (e - 3)) - 1;
}

static void hist_add(struct hist *h, uint64_t v)
{
	h->n++;
	h->b[hist_idx(v)]++;
}

static uint64_t hist_pct(const struct hist *h, double pct, uint64_t max)
{
	uint64_t want, seen = 0;

	if (!h->n)
		return 0;
	want = (uint64_t)((double)h->n * pct / 100.0 + 0.999999);
	for (int i = 0; i < HIST_N; i++) {
		seen += h->b[i];
		if (seen >= want) {
			uint64_t u = hist_upper(i);
			return u < max ? u : max;
		}
	}
	return max;
}

/* ---- the model ---------------------------------------------------------- */

#define MAX_PIDS  16
#define MAX_SITES 8
#define MAX_HELD  64

struct site {
	int proc;
	uint32_t stack;
	uint64_t n;
};

struct lockstat {
	uint64_t k_dev, k_ino, k_off; /* identity */
	enum sync_kind kind;
	const struct trace_map *map;   /* NULL: private memory */
	const struct trace_proc *proc; /* first user */
	uint64_t addr;		       /* first address seen */
	uint64_t acq, contended, xproc, try_fail, timeouts, errors;
	uint64_t wait_total, wait_max, hold_total, hold_max;
	struct hist *wait, *hold;
	int pids[MAX_PIDS];
	int npids, more_pids;
	struct site sites[MAX_SITES];
	int nsites;
	/* live state */
	int owner; /* thread index, -1 = free */
	uint64_t owner_since;
	int depth;
	bool dead_pending, destroyed;
	int last_proc;
	/* semaphores */
	uint64_t posts, waits, blocked, blocked_ns, max_value;
};

struct held {
	int lock;
	uint64_t since;
	uint32_t stack;
};

struct thread {
	int proc;
	uint32_t tid;
	int nheld;
	struct held held[MAX_HELD];
	int pending_block; /* lock index this thread blocks on, -1 none */
	uint64_t block_since;
	int block_owner; /* who held it then (thread index), -1 */
};

struct edge {
	int from, to;
	uint64_t n;
	int pids[8];
	int npids;
	struct {
		int proc;
		uint32_t tid;
		uint32_t from_stack, to_stack;
	} ex[2];
	int nex;
};

struct misuse {
	const char *kind;
	int lock;
	int proc;
	uint32_t tid;
	int other_proc;
	uint32_t other_tid;
	uint32_t stack;
	uint64_t ticks;
	uint64_t n;
	char detail[96];
};

struct model {
	struct trace_reader *r;
	struct lockstat *locks;
	int nlocks;
	struct ihash lock_ix;
	struct thread *threads;
	int nthreads;
	struct ihash thread_ix;
	struct edge *edges;
	int nedges;
	struct ihash edge_ix;
	struct misuse *mis;
	int nmis;
	struct ihash mis_ix;
	uint64_t nevents;
	uint64_t first, last;
};

static const char *misuse_help(const char *kind)
{
	static const struct {
		const char *kind, *text;
	} t[] = {
		{"unlock-not-held", "unlock of a lock that is not held"},
		{"unlock-not-owner",
		 "unlock by a thread that is not the owner"},
		{"relock", "lock of a non-recursive lock the thread holds"},
		{"destroy-held", "destroy of a held lock"},
		{"held-at-exit", "lock still held when the process ended"},
		{"died-holding", "process died holding the lock"},
		{"owner-dead-not-consistent",
		 "EOWNERDEAD not followed by pthread_mutex_consistent"},
		{"sem-destroyed", "wait on or post to a destroyed semaphore"},
		{"use-after-unmap", "use of an object after its segment was "
				    "unmapped"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (!strcmp(t[i].kind, kind))
			return t[i].text;
	}
	return kind;
}

static enum sync_kind op_kind(unsigned op)
{
	switch (trace_op_class(op)) {
	case TRACE_CLASS_MUTEX:
		return SYNC_MUTEX;
	case TRACE_CLASS_RWLOCK:
		return SYNC_RWLOCK;
	case TRACE_CLASS_SPIN:
		return SYNC_SPIN;
	case TRACE_CLASS_SEM:
		return SYNC_SEM;
	case TRACE_CLASS_COND:
		return SYNC_COND;
	default:
		return SYNC_NONE;
	}
}

static int thread_get(struct model *m, int proc, uint32_t tid)
{
	uint64_t key = mix((uint64_t)proc, tid);
	int i = ihash_get(&m->thread_ix, key);
	struct thread *t;

	if (i >= 0)
		return i;
	m->threads = xrealloc(m->threads,
			      (size_t)(m->nthreads + 1) * sizeof(*m->threads));
	t = &m->threads[m->nthreads];
	memset(t, 0, sizeof(*t));
	t->proc = proc;
	t->tid = tid;
	t->pending_block = -1;
	ihash_put(&m->thread_ix, key, m->nthreads);
	return m->nthreads++;
}

/* The lock an event's object is, creating its entry. */
static int lock_get(struct model *m, const struct trace_proc *p,
		    const struct trace_event *ev, bool *unmapped)
{
	struct trace_where w;
	uint64_t dev, ino, off, key;
	struct lockstat *l;
	int i;

	trace_proc_where(p, ev->obj, ev->ts, &w);
	*unmapped = w.unmapped;
	if (w.map) {
		dev = w.map->dev;
		ino = w.map->ino;
		off = w.offset;
	} else {
		dev = UINT64_MAX;
		ino = (uint64_t)p->idx;
		off = ev->obj;
	}
	key = mix(mix(dev, ino), off);
	i = ihash_get(&m->lock_ix, key);
	if (i >= 0 && m->locks[i].k_dev == dev && m->locks[i].k_ino == ino &&
	    m->locks[i].k_off == off)
		return i;
	m->locks =
		xrealloc(m->locks, (size_t)(m->nlocks + 1) * sizeof(*m->locks));
	l = &m->locks[m->nlocks];
	memset(l, 0, sizeof(*l));
	l->k_dev = dev;
	l->k_ino = ino;
	l->k_off = off;
	l->kind = op_kind(ev->op);
	l->map = w.map;
	l->proc = p;
	l->addr = ev->obj;
	l->owner = -1;
	l->last_proc = -1;
	l->wait = calloc(1, sizeof(*l->wait));
	l->hold = calloc(1, sizeof(*l->hold));
	if (!l->wait || !l->hold) {
		fprintf(stderr, "%s: out of memory\n", shmtrace_prog);
		exit(1);
	}
	ihash_put(&m->lock_ix, key, m->nlocks);
	return m->nlocks++;
}

static void add_pid(int *pids, int *n, int max, int *more, int proc)
{
	for (int i = 0; i < *n; i++) {
		if (pids[i] == proc)
			return;
	}
	if (*n < max)
		pids[(*n)++] = proc;
	else if (more)
		(*more)++;
}

static void add_site(struct lockstat *l, int proc, uint32_t stack)
{
	int min = 0;

	if (!stack)
		return;
	for (int i = 0; i < l->nsites; i++) {
		if (l->sites[i].proc == proc && l->sites[i].stack == stack) {
			l->sites[i].n++;
			return;
		}
		if (l->sites[i].n < l->sites[min].n)
			min = i;
	}
	if (l->nsites < MAX_SITES) {
		l->sites[l->nsites++] = (struct site){proc, stack, 1};
		return;
	}
	/* Full: the rarest makes room (space-saving counting). */
	l->sites[min] = (struct site){proc, stack, l->sites[min].n + 1};
}

static void misuse(struct model *m, const char *kind, int lock, int proc,
		   uint32_t tid, int other_thread, uint32_t stack,
		   uint64_t ticks, const char *detail)
{
	uint64_t key = mix(mix(mix((uint64_t)(uintptr_t)kind, (uint64_t)lock),
			       (uint64_t)proc),
			   stack);
	int i = ihash_get(&m->mis_ix, key);
	struct misuse *x;

	if (i >= 0) {
		m->mis[i].n++;
		return;
	}
	m->mis = xrealloc(m->mis, (size_t)(m->nmis + 1) * sizeof(*m->mis));
	x = &m->mis[m->nmis];
	memset(x, 0, sizeof(*x));
	x->kind = kind;
	x->lock = lock;
	x->proc = proc;
	x->tid = tid;
	x->other_proc = -1;
	if (other_thread >= 0) {
		x->other_proc = m->threads[other_thread].proc;
		x->other_tid = m->threads[other_thread].tid;
	}
	x->stack = stack;
	x->ticks = ticks;
	x->n = 1;
	if (detail)
		snprintf(x->detail, sizeof(x->detail), "%s", detail);
	ihash_put(&m->mis_ix, key, m->nmis);
	m->nmis++;
}

static void add_edge(struct model *m, int from, int to, const struct thread *t,
		     uint32_t from_stack, uint32_t to_stack)
{
	uint64_t key = mix((uint64_t)from, (uint64_t)to);
	int i = ihash_get(&m->edge_ix, key);
	struct edge *e;

	if (i < 0) {
		m->edges = xrealloc(m->edges, (size_t)(m->nedges + 1) *
						      sizeof(*m->edges));
		e = &m->edges[m->nedges];
		memset(e, 0, sizeof(*e));
		e->from = from;
		e->to = to;
		ihash_put(&m->edge_ix, key, m->nedges);
		i = m->nedges++;
	}
	e = &m->edges[i];
	e->n++;
	add_pid(e->pids, &e->npids, 8, NULL, t->proc);
	for (int k = 0; k < e->nex; k++) {
		if (e->ex[k].proc == t->proc)
			return;
	}
	if (e->nex < 2) {
		e->ex[e->nex].proc = t->proc;
		e->ex[e->nex].tid = t->tid;
		e->ex[e->nex].from_stack = from_stack;
		e->ex[e->nex].to_stack = to_stack;
		e->nex++;
	}
}

static void held_push(struct thread *t, int lock, uint64_t since,
		      uint32_t stack)
{
	if (t->nheld < MAX_HELD)
		t->held[t->nheld++] = (struct held){lock, since, stack};
}

/* Remove LOCK from T's held set; its acquisition time, or 0. */
static uint64_t held_pop(struct thread *t, int lock)
{
	for (int i = t->nheld; i-- > 0;) {
		if (t->held[i].lock == lock) {
			uint64_t since = t->held[i].since;
			memmove(&t->held[i], &t->held[i + 1],
				(size_t)(t->nheld - i - 1) *
					sizeof(t->held[0]));
			t->nheld--;
			return since;
		}
	}
	return 0;
}

static bool held_has(const struct thread *t, int lock)
{
	for (int i = 0; i < t->nheld; i++)
		if (t->held[i].lock == lock)
			return true;
	return false;
}

/* Account a hold that began at SINCE (0: unknown) and ends at TICKS. */
static void release_hold(struct model *m, struct lockstat *l, uint64_t since,
			 uint64_t ticks)
{
	uint64_t hold;

	if (!since || ticks < since)
		return;
	hold = trace_reader_dur_ns(m->r, ticks - since);
	l->hold_total += hold;
	if (hold > l->hold_max)
		l->hold_max = hold;
	hist_add(l->hold, hold);
}

/* T takes (or tries to, blocking) lock LI: an edge from every lock it
 * holds.  The attempt is enough: a deadlock is an attempt that never
 * completes. */
static void add_edges(struct model *m, struct thread *t, int li, uint32_t stack)
{
	for (int i = 0; i < t->nheld; i++) {
		if (t->held[i].lock != li)
			add_edge(m, t->held[i].lock, li, t, t->held[i].stack,
				 stack);
	}
}

/* A successful acquisition of lock LI by thread TI. */
static void acquired(struct model *m, int li, int ti,
		     const struct trace_event *ev, uint64_t ticks, bool trylock)
{
	struct lockstat *l = &m->locks[li];
	struct thread *t = &m->threads[ti];
	uint64_t wait = trace_wait_ns(ev->wait);

	/* Re-entering a recursive mutex: no acquisition, no edge. */
	if (l->owner == ti && (ev->flags & TRACE_F_RECURSIVE)) {
		l->depth++;
		return;
	}
	l->acq++;
	if (ev->flags & TRACE_F_CONTENDED) {
		l->contended++;
		l->wait_total += wait;
		if (wait > l->wait_max)
			l->wait_max = wait;
		hist_add(l->wait, wait);
	}
	if (l->last_proc >= 0 && l->last_proc != t->proc)
		l->xproc++;
	l->last_proc = t->proc;
	add_pid(l->pids, &l->npids, MAX_PIDS, &l->more_pids, t->proc);
	add_site(l, t->proc, ev->aux);
	/* A blocking attempt made its edges already (at its BLOCK). */
	if (!trylock &&
	    !(ev->flags & TRACE_F_CONTENDED && t->pending_block == li))
		add_edges(m, t, li, ev->aux);
	if (l->kind != SYNC_RWLOCK || ev->op == TRACE_RW_WRLOCK ||
	    ev->op == TRACE_RW_TRYWRLOCK) {
		/* The previous holder keeps its open acquisition until its own
		 * unlock: with clocks a little apart on two CPUs, that unlock
		 * can sort after this acquisition. */
		l->owner = ti;
		l->owner_since = ticks;
		l->depth = 0;
	}
	held_push(t, li, ticks, ev->aux);
	if (ev->result == EOWNERDEAD)
		l->dead_pending = true;
}

static void released(struct model *m, int li, int ti,
		     const struct trace_event *ev, uint64_t ticks)
{
	struct lockstat *l = &m->locks[li];
	struct thread *t = &m->threads[ti];
	uint64_t since;
	bool rw = l->kind == SYNC_RWLOCK;

	/* An unlock by a thread whose own acquisition is still open is
	 * fine whoever the model thinks owns the lock now: the events of two
	 * threads were merely sorted out of order (see acquired()). */
	if (!rw && l->owner != ti && held_has(t, li)) {
		if (!ev->result)
			release_hold(m, l, held_pop(t, li), ticks);
		return;
	}
	if (!rw && l->owner < 0) {
		misuse(m, "unlock-not-held", li, t->proc, t->tid, -1, ev->aux,
		       ticks, ev->result ? strerror(ev->result) : NULL);
		return;
	}
	if (!rw && l->owner != ti) {
		int owner = l->owner;
		misuse(m, "unlock-not-owner", li, t->proc, t->tid, owner,
		       ev->aux, ticks,
		       ev->result ? strerror(ev->result) : NULL);
		if (ev->result)
			return; /* EPERM: nothing changed */
		held_pop(&m->threads[owner], li);
		l->owner = -1;
		return;
	}
	if (ev->result)
		return;
	if (!rw && l->depth > 0) {
		l->depth--;
		return;
	}
	if (l->dead_pending) {
		misuse(m, "owner-dead-not-consistent", li, t->proc, t->tid, -1,
		       ev->aux, ticks, NULL);
		l->dead_pending = false;
	}
	since = held_pop(t, li);
	if (rw && !since) {
		misuse(m, "unlock-not-held", li, t->proc, t->tid, -1, ev->aux,
		       ticks, NULL);
		return;
	}
	release_hold(m, l, since, ticks);
	if (l->owner == ti)
		l->owner = -1;
}

static void on_lock_event(struct model *m, const struct trace_proc *p,
			  const struct trace_event *ev, uint64_t ticks)
{
	bool unmapped;
	int li = lock_get(m, p, ev, &unmapped);
	int ti = thread_get(m, p->idx, ev->tid);
	struct lockstat *l = &m->locks[li];
	struct thread *t = &m->threads[ti];
	int r = ev->result;

	if (l->kind == SYNC_NONE || l->kind == SYNC_COND)
		l->kind = op_kind(ev->op);
	if (unmapped)
		misuse(m, "use-after-unmap", li, p->idx, ev->tid, -1, ev->aux,
		       ticks, trace_op_name(ev->op));
	switch (ev->op) {
	case TRACE_MUTEX_INIT:
	case TRACE_RW_INIT:
	case TRACE_SPIN_INIT:
		if (!r) {
			l->owner = -1;
			l->destroyed = false;
			l->dead_pending = false;
		}
		break;
	case TRACE_MUTEX_DESTROY:
	case TRACE_RW_DESTROY:
	case TRACE_SPIN_DESTROY:
		if (l->owner >= 0)
			misuse(m, "destroy-held", li, p->idx, ev->tid, l->owner,
			       ev->aux, ticks, r ? strerror(r) : NULL);
		if (!r) {
			if (l->owner >= 0)
				held_pop(&m->threads[l->owner], li);
			l->owner = -1;
			l->destroyed = true;
		}
		break;
	case TRACE_MUTEX_BLOCK:
	case TRACE_RW_BLOCK:
		if (l->owner == ti && !(ev->flags & TRACE_F_RECURSIVE))
			misuse(m, "relock", li, p->idx, ev->tid, -1, ev->aux,
			       ticks, "blocks on itself");
		t->pending_block = li;
		t->block_since = ticks;
		t->block_owner = l->owner;
		if (l->owner != ti)
			add_edges(m, t, li, ev->aux);
		break;
	case TRACE_MUTEX_LOCK:
	case TRACE_MUTEX_TRYLOCK:
	case TRACE_SPIN_LOCK:
	case TRACE_SPIN_TRYLOCK:
	case TRACE_RW_RDLOCK:
	case TRACE_RW_WRLOCK:
	case TRACE_RW_TRYRDLOCK:
	case TRACE_RW_TRYWRLOCK: {
		bool try = ev->op == TRACE_MUTEX_TRYLOCK ||
			   ev->op == TRACE_SPIN_TRYLOCK ||
			   ev->op == TRACE_RW_TRYRDLOCK ||
			   ev->op == TRACE_RW_TRYWRLOCK;
		if (r == 0 || r == EOWNERDEAD) {
			acquired(m, li, ti, ev, ticks, try);
		} else if (r == EDEADLK) {
			misuse(m, "relock", li, p->idx, ev->tid, -1, ev->aux,
			       ticks, "EDEADLK");
		} else if (r == EBUSY && try) {
			l->try_fail++;
		} else if (r == ETIMEDOUT) {
			l->timeouts++;
		} else {
			l->errors++;
		}
		t->pending_block = -1;
		break;
	}
	case TRACE_MUTEX_UNLOCK:
	case TRACE_SPIN_UNLOCK:
	case TRACE_RW_UNLOCK:
		released(m, li, ti, ev, ticks);
		break;
	case TRACE_MUTEX_CONSISTENT:
		if (!r)
			l->dead_pending = false;
		break;
	case TRACE_SEM_INIT:
		if (!r) {
			l->destroyed = false;
			if (ev->aux > l->max_value)
				l->max_value = ev->aux;
		}
		break;
	case TRACE_SEM_DESTROY:
		if (!r)
			l->destroyed = true;
		break;
	case TRACE_SEM_WAIT:
	case TRACE_SEM_TRYWAIT:
	case TRACE_SEM_POST:
	case TRACE_SEM_BLOCK:
		if (ev->op == TRACE_SEM_BLOCK) {
			t->pending_block = li;
			t->block_since = ticks;
			t->block_owner = -1;
		} else if (ev->op == TRACE_SEM_WAIT) {
			t->pending_block = -1;
		}
		if (l->destroyed)
			misuse(m, "sem-destroyed", li, p->idx, ev->tid, -1,
			       ev->aux, ticks, trace_op_name(ev->op));
		add_pid(l->pids, &l->npids, MAX_PIDS, &l->more_pids, p->idx);
		if (ev->op == TRACE_SEM_POST && !r) {
			l->posts++;
			if (ev->aux > l->max_value)
				l->max_value = ev->aux;
		} else if (ev->op == TRACE_SEM_WAIT && !r) {
			l->waits++;
			if (ev->flags & TRACE_F_CONTENDED) {
				uint64_t w = trace_wait_ns(ev->wait);
				l->blocked++;
				l->blocked_ns += w;
				hist_add(l->wait, w);
			}
		} else if (ev->op == TRACE_SEM_TRYWAIT && r == EAGAIN) {
			l->try_fail++;
		} else if (ev->op == TRACE_SEM_TRYWAIT && !r) {
			l->waits++;
		} else if (ev->op == TRACE_SEM_WAIT && r == ETIMEDOUT) {
			l->timeouts++;
		}
		break;
	default:
		break;
	}
}

/* Everything PROC still holds when its last event has been seen. */
static void on_proc_end(struct model *m, const struct trace_proc *p,
			uint64_t ticks)
{
	bool clean = p->hdr->state != TRACE_RUNNING;

	for (int i = 0; i < m->nlocks; i++) {
		struct lockstat *l = &m->locks[i];
		struct thread *t;

		if (l->owner < 0 || m->threads[l->owner].proc != p->idx)
			continue;
		t = &m->threads[l->owner];
		misuse(m, clean ? "held-at-exit" : "died-holding", i, p->idx,
		       t->tid, -1, 0, ticks,
		       p->hdr->state == TRACE_EXECED ? "at exec" : NULL);
		/* It stays held: a dead process's lock is never released
		 * (whoever takes a robust one next gets EOWNERDEAD). */
	}
	for (int i = 0; i < m->nthreads; i++) {
		if (m->threads[i].proc == p->idx)
			m->threads[i].nheld = 0;
	}
}

static void model_build(struct model *m)
{
	struct trace_item it;

	while (trace_reader_next(m->r, &it) > 0) {
		unsigned cls;

		if (it.kind == TRACE_ITEM_PROC_END) {
			on_proc_end(m, it.proc, it.ticks);
			continue;
		}
		m->nevents++;
		if (!m->first)
			m->first = it.ticks;
		m->last = it.ticks;
		cls = trace_op_class(it.ev->op);
		if (cls & (TRACE_CLASS_MUTEX | TRACE_CLASS_RWLOCK |
			   TRACE_CLASS_SPIN | TRACE_CLASS_SEM))
			on_lock_event(m, it.proc, it.ev, it.ticks);
	}
}

static void model_free(struct model *m)
{
	for (int i = 0; i < m->nlocks; i++) {
		free(m->locks[i].wait);
		free(m->locks[i].hold);
	}
	free(m->locks);
	free(m->threads);
	free(m->edges);
	free(m->mis);
	ihash_free(&m->lock_ix);
	ihash_free(&m->thread_ix);
	ihash_free(&m->edge_ix);
	ihash_free(&m->mis_ix);
}

/* ---- cycles: strongly connected components, then simple cycles ----------- */

#define MAX_CYCLES    32
#define MAX_CYCLE_LEN 16

struct cycles {
	int n;
	int len[MAX_CYCLES];
	int edge[MAX_CYCLES][MAX_CYCLE_LEN]; /* edge indices, in order */
};

struct graph {
	int *first, *next; /* adjacency by edge index */
	int *comp;
	int *idx, *low, *stack;
	bool *on;
	int sp, counter, ncomp;
};

static void tarjan(struct model *m, struct graph *g, int v)
{
	g->idx[v] = g->low[v] = ++g->counter;
	g->stack[g->sp++] = v;
	g->on[v] = true;
	for (int e = g->first[v]; e >= 0; e = g->next[e]) {
		int w = m->edges[e].to;
		if (!g->idx[w]) {
			tarjan(m, g, w);
			if (g->low[w] < g->low[v])
				g->low[v] = g->low[w];
		} else if (g->on[w] && g->idx[w] < g->low[v]) {
			g->low[v] = g->idx[w];
		}
	}
	if (g->low[v] == g->idx[v]) {
		int w;
		do {
			w = g->stack[--g->sp];
			g->on[w] = false;
			g->comp[w] = g->ncomp;
		} while (w != v);
		g->ncomp++;
	}
}

/* Simple cycles through START whose other nodes are all > START. */
static void find_cycles(struct model *m, struct graph *g, int start, int v,
			int *path, int depth, bool *onpath, struct cycles *c)
{
	if (c->n >= MAX_CYCLES || depth >= MAX_CYCLE_LEN)
		return;
	for (int e = g->first[v]; e >= 0 && c->n < MAX_CYCLES; e = g->next[e]) {
		int w = m->edges[e].to;
		if (g->comp[w] != g->comp[start])
			continue;
		path[depth] = e;
		if (w == start) {
			c->len[c->n] = depth + 1;
			memcpy(c->edge[c->n], path,
			       (size_t)(depth + 1) * sizeof(int));
			c->n++;
		} else if (w > start && !onpath[w]) {
			onpath[w] = true;
			find_cycles(m, g, start, w, path, depth + 1, onpath, c);
			onpath[w] = false;
		}
	}
}

static void cycles_find(struct model *m, struct cycles *c)
{
	struct graph g = {0};
	size_t n = (size_t)m->nlocks + 1;
	int path[MAX_CYCLE_LEN];
	bool *onpath;

	c->n = 0;
	if (!m->nedges)
		return;
	g.first = xrealloc(NULL, n * sizeof(int));
	g.next = xrealloc(NULL, (size_t)m->nedges * sizeof(int));
	g.comp = calloc(n, sizeof(int));
	g.idx = calloc(n, sizeof(int));
	g.low = calloc(n, sizeof(int));
	g.stack = calloc(n, sizeof(int));
	g.on = calloc(n, sizeof(bool));
	onpath = calloc(n, sizeof(bool));
	if (!g.comp || !g.idx || !g.low || !g.stack || !g.on || !onpath) {
		fprintf(stderr, "%s: out of memory\n", shmtrace_prog);
		exit(1);
	}
	for (size_t i = 0; i < n; i++)
		g.first[i] = -1;
	for (int e = m->nedges; e-- > 0;) {
		g.next[e] = g.first[m->edges[e].from];
		g.first[m->edges[e].from] = e;
	}
	for (int v = 0; v < m->nlocks; v++) {
		if (!g.idx[v])
			tarjan(m, &g, v);
	}
	for (int v = 0; v < m->nlocks && c->n < MAX_CYCLES; v++)
		find_cycles(m, &g, v, v, path, 0, onpath, c);
	free(g.first);
	free(g.next);
	free(g.comp);
	free(g.idx);
	free(g.low);
	free(g.stack);
	free(g.on);
	free(onpath);
}

/* ---- naming ----------------------------------------------------------------
 */

static struct layout *report_layout;
static const char *layout_segment; /* --segment */

/*
 * Whether the layout names objects of SEG: the segment its root's @segment
 * names, else the one --segment names, else every shared segment
 * (DESIGN.md, "Probe and traces").
 */
static bool layout_applies(const struct trace_map *seg)
{
	const struct layout_type *root = layout_root(report_layout);

	if (root && root->segment)
		return !strcmp(root->segment, seg->name);
	if (layout_segment)
		return !strcmp(layout_segment, seg->name);
	return true;
}

int report_layout_load(const char *path, const char *segment, struct errbuf *e)
{
	layout_segment = segment;
	if (!path)
		return 0;
	report_layout = layout_parse_file(path, abi_host(), 0, e);
	return report_layout ? 0 : -EINVAL;
}

void report_layout_unload(void)
{
	layout_free(report_layout);
	report_layout = NULL;
}

void report_name_object(const struct trace_map *seg, uint64_t offset, char *buf,
			size_t len)
{
	if (report_layout && layout_applies(seg) &&
	    layout_path_at(report_layout, offset, buf, len) == 0)
		return;
	snprintf(buf, len, "%s+0x%llx", seg->name, (unsigned long long)offset);
}

static void lock_name(const struct model *m, int li, char *buf, size_t len)
{
	const struct lockstat *l = &m->locks[li];

	if (l->map)
		report_name_object(l->map, l->k_off, buf, len);
	else
		snprintf(buf, len, "%#llx (private, pid %d)",
			 (unsigned long long)l->addr, (int)l->proc->hdr->pid);
}

static const struct trace_proc *proc_of(const struct model *m, int idx)
{
	return trace_reader_proc(m->r, idx);
}

static void proc_name(const struct model *m, int idx, char *buf, size_t len)
{
	const struct trace_proc *p = proc_of(m, idx);

	snprintf(buf, len, "%d (%s)", (int)p->hdr->pid, p->hdr->comm);
}

/* Frames of stack ID of process PROC, "a <- b <- c", at most MAX. */
static void stack_str(const struct model *m, int proc, uint32_t id, int max,
		      char *buf, size_t len)
{
	const struct trace_proc *p = proc_of(m, proc);
	const uint64_t *pcs;
	int n = p ? trace_proc_stack(p, id, &pcs) : 0;
	size_t used = 0;

	buf[0] = 0;
	if (n <= 0) {
		snprintf(buf, len, "?");
		return;
	}
	for (int i = 0; i < n && i < max && used + 4 < len; i++) {
		char frame[256];
		sym_pc(p, pcs[i], frame, sizeof(frame));
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 i ? " <- " : "", frame);
	}
}

/* ---- output ----------------------------------------------------------------
 */

struct opts {
	bool json;
	int top;
	const char *segment;
	int frames;
};

static int lock_cmp_ctx(const void *a, const void *b, void *ctx)
{
	const struct model *m = ctx;
	const struct lockstat *x = &m->locks[*(const int *)a];
	const struct lockstat *y = &m->locks[*(const int *)b];

	if (x->contended != y->contended)
		return x->contended < y->contended ? 1 : -1;
	if (x->wait_total != y->wait_total)
		return x->wait_total < y->wait_total ? 1 : -1;
	if (x->acq != y->acq)
		return x->acq < y->acq ? 1 : -1;
	return *(const int *)a - *(const int *)b;
}

static bool lock_selected(const struct lockstat *l, const struct opts *o)
{
	if (!o->segment)
		return true;
	return l->map && !strcmp(l->map->name, o->segment);
}

static int *sorted_locks(const struct model *m, const struct opts *o, bool sems,
			 int *n)
{
	int *v = xrealloc(NULL, (size_t)(m->nlocks + 1) * sizeof(int));

	*n = 0;
	for (int i = 0; i < m->nlocks; i++) {
		bool is_sem = m->locks[i].kind == SYNC_SEM;
		const struct lockstat *l = &m->locks[i];
		/* Objects only initialised or destroyed say nothing. */
		bool used = l->acq || l->try_fail || l->timeouts || l->errors ||
			    l->posts || l->waits;
		if (is_sem == sems && l->kind != SYNC_COND && used &&
		    lock_selected(l, o))
			v[(*n)++] = i;
	}
	qsort_r(v, (size_t)*n, sizeof(int), lock_cmp_ctx, (void *)m);
	return v;
}

static void fmt_ns(uint64_t ns, char *buf, size_t len)
{
	if (ns < 10000)
		snprintf(buf, len, "%lluns", (unsigned long long)ns);
	else if (ns < 10000000)
		snprintf(buf, len, "%.1fus", (double)ns / 1e3);
	else if (ns < 10000000000ULL)
		snprintf(buf, len, "%.1fms", (double)ns / 1e6);
	else
		snprintf(buf, len, "%.1fs", (double)ns / 1e9);
}

static void print_times(const char *what, uint64_t total, uint64_t n,
			const struct hist *h, uint64_t max)
{
	char a[32], b[32], c[32], d[32];

	fmt_ns(total, a, sizeof(a));
	fmt_ns(n ? total / n : 0, b, sizeof(b));
	fmt_ns(hist_pct(h, 99, max), c, sizeof(c));
	fmt_ns(max, d, sizeof(d));
	printf("    %s: total %s, avg %s, p99 %s, max %s\n", what, a, b, c, d);
}

static void text_procs(const struct model *m)
{
	int np = trace_reader_nprocs(m->r);

	printf("processes:\n");
	for (int i = 0; i < np; i++) {
		const struct trace_proc *p = proc_of(m, i);
		const struct trace_header *h = p->hdr;
		const char *st = h->state == TRACE_EXITED ? "exited"
				 : h->state == TRACE_EXECED
					 ? "exec'd"
					 : "killed or running";
		printf("  %d (%s) parent %d: %llu events, %u threads, %s",
		       h->pid, h->comm, h->ppid, (unsigned long long)p->nevents,
		       p->nthreads, st);
		if (h->state == TRACE_EXITED && h->exit_status >= 0)
			printf(" (status %d)", h->exit_status);
		if (h->dropped)
			printf(", %llu events DROPPED",
			       (unsigned long long)h->dropped);
		printf("\n");
	}
}

/* The busiest call sites of L, the same code in several processes
 * counted as one. */
static void print_sites(const struct model *m, const struct lockstat *l,
			const struct opts *o)
{
	char text[MAX_SITES][512];
	uint64_t n[MAX_SITES];
	int k = 0;

	for (int i = 0; i < l->nsites; i++) {
		char st[512];
		int j;

		stack_str(m, l->sites[i].proc, l->sites[i].stack, o->frames, st,
			  sizeof(st));
		for (j = 0; j < k && strcmp(text[j], st); j++)
			;
		if (j == k) {
			memcpy(text[k], st, sizeof(st));
			n[k++] = 0;
		}
		n[j] += l->sites[i].n;
	}
	if (k)
		printf("    call sites:\n");
	for (int shown = 0; shown < 3 && shown < k; shown++) {
		int b = shown;
		for (int j = shown + 1; j < k; j++) {
			if (n[j] > n[b])
				b = j;
		}
		printf("      %8llu  %s\n", (unsigned long long)n[b], text[b]);
		n[b] = n[shown];
		memcpy(text[b], text[shown], sizeof(text[0]));
	}
}

static void text_locks(const struct model *m, const struct opts *o)
{
	int n, *v = sorted_locks(m, o, false, &n);
	char name[256], pn[64];

	printf("\nlocks (%d, by contention):\n", n);
	for (int k = 0; k < n && (o->top <= 0 || k < o->top); k++) {
		const struct lockstat *l = &m->locks[v[k]];
		lock_name(m, v[k], name, sizeof(name));
		printf("  %s  [%s]\n", name, sync_kind_name(l->kind));
		printf("    acquisitions %llu, contended %llu, owner changes "
		       "between processes %llu",
		       (unsigned long long)l->acq,
		       (unsigned long long)l->contended,
		       (unsigned long long)l->xproc);
		if (l->try_fail)
			printf(", failed trylocks %llu",
			       (unsigned long long)l->try_fail);
		if (l->timeouts)
			printf(", timeouts %llu",
			       (unsigned long long)l->timeouts);
		printf("\n");
		print_times("wait", l->wait_total, l->contended, l->wait,
			    l->wait_max);
		print_times("hold", l->hold_total, l->hold->n, l->hold,
			    l->hold_max);
		printf("    processes:");
		for (int i = 0; i < l->npids; i++) {
			proc_name(m, l->pids[i], pn, sizeof(pn));
			printf(" %s", pn);
		}
		if (l->more_pids)
			printf(" and %d more", l->more_pids);
		printf("\n");
		print_sites(m, l, o);
	}
	if (o->top > 0 && n > o->top)
		printf("  ... %d more (--top 0 shows all)\n", n - o->top);
	free(v);
}

static void text_sems(const struct model *m, const struct opts *o)
{
	int n, *v = sorted_locks(m, o, true, &n);
	char name[256], a[32], pn[64];

	if (!n) {
		free(v);
		return;
	}
	printf("\nsemaphores (%d):\n", n);
	for (int k = 0; k < n; k++) {
		const struct lockstat *l = &m->locks[v[k]];
		lock_name(m, v[k], name, sizeof(name));
		fmt_ns(l->blocked_ns, a, sizeof(a));
		printf("  %s\n    posts %llu, waits %llu, blocked %llu (%s), "
		       "max value %llu",
		       name, (unsigned long long)l->posts,
		       (unsigned long long)l->waits,
		       (unsigned long long)l->blocked, a,
		       (unsigned long long)l->max_value);
		if (l->try_fail)
			printf(", failed trywaits %llu",
			       (unsigned long long)l->try_fail);
		printf("\n    processes:");
		for (int i = 0; i < l->npids; i++) {
			proc_name(m, l->pids[i], pn, sizeof(pn));
			printf(" %s", pn);
		}
		printf("\n");
	}
	free(v);
}

static void text_cycles(const struct model *m, const struct cycles *c,
			const struct opts *o)
{
	char a[256], b[256], pn[64], st[1024];

	printf("\nlock-order cycles: %d\n", c->n);
	for (int i = 0; i < c->n; i++) {
		printf("  cycle %d:", i + 1);
		for (int k = 0; k < c->len[i]; k++) {
			lock_name(m, m->edges[c->edge[i][k]].from, a,
				  sizeof(a));
			printf(" %s ->", a);
		}
		lock_name(m, m->edges[c->edge[i][0]].from, a, sizeof(a));
		printf(" %s\n", a);
		for (int k = 0; k < c->len[i]; k++) {
			const struct edge *e = &m->edges[c->edge[i][k]];
			lock_name(m, e->from, a, sizeof(a));
			lock_name(m, e->to, b, sizeof(b));
			printf("    %s then %s (%llu times) in", a, b,
			       (unsigned long long)e->n);
			for (int j = 0; j < e->npids; j++) {
				proc_name(m, e->pids[j], pn, sizeof(pn));
				printf(" %s", pn);
			}
			printf("\n");
			for (int j = 0; j < e->nex; j++) {
				proc_name(m, e->ex[j].proc, pn, sizeof(pn));
				stack_str(m, e->ex[j].proc, e->ex[j].from_stack,
					  o->frames, st, sizeof(st));
				printf("      pid %s holding first at %s\n", pn,
				       st);
				stack_str(m, e->ex[j].proc, e->ex[j].to_stack,
					  o->frames, st, sizeof(st));
				printf("      %*s then at %s\n",
				       (int)strlen(pn) + 4, "", st);
			}
		}
	}
}

static void text_misuse(const struct model *m, const struct opts *o)
{
	char a[256], pn[64], on[64], st[1024];
	int shown = 0;

	for (int i = 0; i < m->nmis; i++)
		shown += lock_selected(&m->locks[m->mis[i].lock], o);
	printf("\nmisuse: %d\n", shown);
	for (int i = 0; i < m->nmis; i++) {
		const struct misuse *x = &m->mis[i];
		if (!lock_selected(&m->locks[x->lock], o))
			continue;
		lock_name(m, x->lock, a, sizeof(a));
		proc_name(m, x->proc, pn, sizeof(pn));
		printf("  %s: %s\n    %s, pid %s tid %u", x->kind, a,
		       misuse_help(x->kind), pn, x->tid);
		if (x->other_proc >= 0) {
			proc_name(m, x->other_proc, on, sizeof(on));
			printf(" (owner: pid %s tid %u)", on, x->other_tid);
		}
		if (x->detail[0])
			printf(" [%s]", x->detail);
		if (x->n > 1)
			printf(", %llu times", (unsigned long long)x->n);
		printf("\n");
		if (x->stack) {
			stack_str(m, x->proc, x->stack, o->frames, st,
				  sizeof(st));
			printf("    at %s\n", st);
		}
	}
}

/* Threads whose last event says they were about to block: blocked
 * when the process was killed or when the trace was taken (a hang). */
static void text_blocked(const struct model *m)
{
	char a[256], pn[64], on[64], d[32];
	int n = 0;

	for (int i = 0; i < m->nthreads; i++)
		n += m->threads[i].pending_block >= 0;
	if (!n)
		return;
	printf("\nblocked when the trace ended: %d\n", n);
	for (int i = 0; i < m->nthreads; i++) {
		const struct thread *t = &m->threads[i];
		const struct lockstat *l;
		if (t->pending_block < 0)
			continue;
		l = &m->locks[t->pending_block];
		lock_name(m, t->pending_block, a, sizeof(a));
		proc_name(m, t->proc, pn, sizeof(pn));
		fmt_ns(trace_reader_ns(m->r, t->block_since), d, sizeof(d));
		printf("  pid %s tid %u waits on %s [%s] since %s", pn, t->tid,
		       a, sync_kind_name(l->kind), d);
		if (t->block_owner >= 0) {
			const struct thread *o = &m->threads[t->block_owner];
			proc_name(m, o->proc, on, sizeof(on));
			printf(", held by pid %s tid %u", on, o->tid);
		}
		printf("\n");
	}
}

static void report_text(const struct model *m, const struct cycles *c,
			const struct opts *o)
{
	char dur[32];
	uint64_t dropped = trace_reader_dropped(m->r);

	fmt_ns(trace_reader_dur_ns(m->r, m->last - m->first), dur, sizeof(dur));
	printf("shmtrace report: %d processes, %d threads, %llu events over "
	       "%s, %llu dropped\n",
	       trace_reader_nprocs(m->r), m->nthreads,
	       (unsigned long long)m->nevents, dur,
	       (unsigned long long)dropped);
	text_procs(m);
	text_locks(m, o);
	text_sems(m, o);
	text_cycles(m, c, o);
	text_misuse(m, o);
	text_blocked(m);
}

/* ---- JSON -------------------------------------------------------------------
 */

static void json_times(struct json *j, const char *key, uint64_t total,
		       uint64_t n, const struct hist *h, uint64_t max)
{
	json_key(j, key);
	json_begin_obj(j);
	json_kv_uint(j, "total", total);
	json_kv_uint(j, "avg", n ? total / n : 0);
	json_kv_uint(j, "p99", hist_pct(h, 99, max));
	json_kv_uint(j, "max", max);
	json_end_obj(j);
}

static void json_pids(struct json *j, const struct model *m, const int *pids,
		      int n)
{
	json_key(j, "pids");
	json_begin_arr(j);
	for (int i = 0; i < n; i++)
		json_int(j, proc_of(m, pids[i])->hdr->pid);
	json_end_arr(j);
}

static void json_stack(struct json *j, const struct model *m, int proc,
		       uint32_t id)
{
	const struct trace_proc *p = proc_of(m, proc);
	const uint64_t *pcs;
	int n = trace_proc_stack(p, id, &pcs);
	char frame[256];

	json_begin_arr(j);
	for (int i = 0; i < n; i++) {
		sym_pc(p, pcs[i], frame, sizeof(frame));
		json_str(j, frame);
	}
	json_end_arr(j);
}

static void json_lock_ident(struct json *j, const struct model *m, int li)
{
	const struct lockstat *l = &m->locks[li];
	char name[256];

	lock_name(m, li, name, sizeof(name));
	json_kv_str(j, "name", name);
	json_kv_str(j, "kind", sync_kind_name(l->kind));
	if (l->map) {
		json_kv_str(j, "segment", l->map->name);
		json_kv_uint(j, "offset", l->k_off);
	} else {
		json_kv_null(j, "segment");
		json_kv_uint(j, "address", l->addr);
	}
}

static int site_cmp(const void *a, const void *b)
{
	const struct site *x = a, *y = b;

	return x->n == y->n ? 0 : x->n < y->n ? 1 : -1;
}

static void json_locks(struct json *j, const struct model *m,
		       const struct opts *o)
{
	struct site sites[MAX_SITES];
	int n, *v = sorted_locks(m, o, false, &n);

	json_key(j, "locks");
	json_begin_arr(j);
	for (int k = 0; k < n && (o->top <= 0 || k < o->top); k++) {
		const struct lockstat *l = &m->locks[v[k]];
		json_begin_obj(j);
		json_lock_ident(j, m, v[k]);
		json_kv_uint(j, "acquisitions", l->acq);
		json_kv_uint(j, "contended", l->contended);
		json_kv_uint(j, "owner_changes_between_processes", l->xproc);
		json_kv_uint(j, "failed_trylocks", l->try_fail);
		json_kv_uint(j, "timeouts", l->timeouts);
		json_times(j, "wait_ns", l->wait_total, l->contended, l->wait,
			   l->wait_max);
		json_times(j, "hold_ns", l->hold_total, l->hold->n, l->hold,
			   l->hold_max);
		json_pids(j, m, l->pids, l->npids);
		json_key(j, "call_sites");
		json_begin_arr(j);
		memcpy(sites, l->sites, sizeof(sites));
		qsort(sites, (size_t)l->nsites, sizeof(sites[0]), site_cmp);
		for (int i = 0; i < l->nsites; i++) {
			json_begin_obj(j);
			json_kv_uint(j, "count", sites[i].n);
			json_kv_int(j, "pid",
				    proc_of(m, sites[i].proc)->hdr->pid);
			json_key(j, "stack");
			json_stack(j, m, sites[i].proc, sites[i].stack);
			json_end_obj(j);
		}
		json_end_arr(j);
		json_end_obj(j);
	}
	json_end_arr(j);
	free(v);
}

static void json_sems(struct json *j, const struct model *m,
		      const struct opts *o)
{
	int n, *v = sorted_locks(m, o, true, &n);

	json_key(j, "semaphores");
	json_begin_arr(j);
	for (int k = 0; k < n; k++) {
		const struct lockstat *l = &m->locks[v[k]];
		json_begin_obj(j);
		json_lock_ident(j, m, v[k]);
		json_kv_uint(j, "posts", l->posts);
		json_kv_uint(j, "waits", l->waits);
		json_kv_uint(j, "blocked", l->blocked);
		json_kv_uint(j, "blocked_ns", l->blocked_ns);
		json_kv_uint(j, "failed_trywaits", l->try_fail);
		json_kv_uint(j, "max_value", l->max_value);
		json_pids(j, m, l->pids, l->npids);
		json_end_obj(j);
	}
	json_end_arr(j);
	free(v);
}

static void json_cycles(struct json *j, const struct model *m,
			const struct cycles *c)
{
	char name[256];

	json_key(j, "cycles");
	json_begin_arr(j);
	for (int i = 0; i < c->n; i++) {
		json_begin_obj(j);
		json_key(j, "locks");
		json_begin_arr(j);
		for (int k = 0; k < c->len[i]; k++) {
			lock_name(m, m->edges[c->edge[i][k]].from, name,
				  sizeof(name));
			json_str(j, name);
		}
		json_end_arr(j);
		json_key(j, "edges");
		json_begin_arr(j);
		for (int k = 0; k < c->len[i]; k++) {
			const struct edge *e = &m->edges[c->edge[i][k]];
			json_begin_obj(j);
			lock_name(m, e->from, name, sizeof(name));
			json_kv_str(j, "from", name);
			lock_name(m, e->to, name, sizeof(name));
			json_kv_str(j, "to", name);
			json_kv_uint(j, "count", e->n);
			json_pids(j, m, e->pids, e->npids);
			json_key(j, "call_sites");
			json_begin_arr(j);
			for (int x = 0; x < e->nex; x++) {
				json_begin_obj(j);
				json_kv_int(
					j, "pid",
					proc_of(m, e->ex[x].proc)->hdr->pid);
				json_kv_uint(j, "tid", e->ex[x].tid);
				json_key(j, "from_stack");
				json_stack(j, m, e->ex[x].proc,
					   e->ex[x].from_stack);
				json_key(j, "to_stack");
				json_stack(j, m, e->ex[x].proc,
					   e->ex[x].to_stack);
				json_end_obj(j);
			}
			json_end_arr(j);
			json_end_obj(j);
		}
		json_end_arr(j);
		json_end_obj(j);
	}
	json_end_arr(j);
}

static void json_misuse(struct json *j, const struct model *m,
			const struct opts *o)
{
	json_key(j, "misuse");
	json_begin_arr(j);
	for (int i = 0; i < m->nmis; i++) {
		const struct misuse *x = &m->mis[i];
		if (!lock_selected(&m->locks[x->lock], o))
			continue;
		json_begin_obj(j);
		json_kv_str(j, "kind", x->kind);
		json_kv_str(j, "description", misuse_help(x->kind));
		json_key(j, "lock");
		json_begin_obj(j);
		json_lock_ident(j, m, x->lock);
		json_end_obj(j);
		json_kv_int(j, "pid", proc_of(m, x->proc)->hdr->pid);
		json_kv_uint(j, "tid", x->tid);
		if (x->other_proc >= 0) {
			json_kv_int(j, "owner_pid",
				    proc_of(m, x->other_proc)->hdr->pid);
			json_kv_uint(j, "owner_tid", x->other_tid);
		}
		json_kv_uint(j, "count", x->n);
		json_kv_uint(j, "time_ns", trace_reader_ns(m->r, x->ticks));
		json_kv_str(j, "detail", x->detail);
		json_key(j, "stack");
		json_stack(j, m, x->proc, x->stack);
		json_end_obj(j);
	}
	json_end_arr(j);
}

static void report_json(const struct model *m, const struct cycles *c,
			const struct opts *o)
{
	struct json j;
	int np = trace_reader_nprocs(m->r);

	json_init(&j, stdout, true);
	json_begin_obj(&j);
	json_kv_uint(&j, "events", m->nevents);
	json_kv_uint(&j, "dropped", trace_reader_dropped(m->r));
	json_kv_uint(&j, "duration_ns",
		     trace_reader_dur_ns(m->r, m->last - m->first));
	json_key(&j, "processes");
	json_begin_arr(&j);
	for (int i = 0; i < np; i++) {
		const struct trace_proc *p = proc_of(m, i);
		const struct trace_header *h = p->hdr;
		json_begin_obj(&j);
		json_kv_int(&j, "pid", h->pid);
		json_kv_int(&j, "ppid", h->ppid);
		json_kv_str(&j, "comm", h->comm);
		json_kv_str(&j, "exe", h->exe);
		json_kv_str(&j, "end",
			    h->state == TRACE_EXITED   ? "exited"
			    : h->state == TRACE_EXECED ? "exec"
						       : "killed");
		if (h->state == TRACE_EXITED && h->exit_status >= 0)
			json_kv_int(&j, "exit_status", h->exit_status);
		else
			json_kv_null(&j, "exit_status");
		json_kv_uint(&j, "events", p->nevents);
		json_kv_uint(&j, "threads", p->nthreads);
		json_kv_uint(&j, "dropped", h->dropped);
		json_end_obj(&j);
	}
	json_end_arr(&j);
	json_locks(&j, m, o);
	json_sems(&j, m, o);
	json_cycles(&j, m, c);
	json_misuse(&j, m, o);
	json_key(&j, "blocked");
	json_begin_arr(&j);
	for (int i = 0; i < m->nthreads; i++) {
		const struct thread *t = &m->threads[i];
		const struct lockstat *l;
		if (t->pending_block < 0)
			continue;
		l = &m->locks[t->pending_block];
		json_begin_obj(&j);
		json_kv_int(&j, "pid", proc_of(m, t->proc)->hdr->pid);
		json_kv_uint(&j, "tid", t->tid);
		json_key(&j, "lock");
		json_begin_obj(&j);
		json_lock_ident(&j, m, t->pending_block);
		json_end_obj(&j);
		json_kv_uint(&j, "since_ns",
			     trace_reader_ns(m->r, t->block_since));
		if (l->owner >= 0) {
			json_kv_int(&j, "owner_pid",
				    proc_of(m, m->threads[l->owner].proc)
					    ->hdr->pid);
			json_kv_uint(&j, "owner_tid", m->threads[l->owner].tid);
		}
		json_end_obj(&j);
	}
	json_end_arr(&j);
	json_end_obj(&j);
	json_newline(&j);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: shmtrace report [-l LAYOUT] [--segment NAME] [--json] "
		"[--top N] [--frames N] DIR\n"
		"  per-lock statistics (by contention), lock-order cycles,\n"
		"  misuse and semaphores of the trace in DIR.\n"
		"  --top N     show the N most contended locks (default 20, "
		"0 = all)\n"
		"  --frames N  frames shown per call site (default 4)\n");
}

int cmd_report(int argc, char **argv)
{
	static const struct option lopts[] = {
		{"layout", required_argument, NULL, 'l'},
		{"segment", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"top", required_argument, NULL, 't'},
		{"frames", required_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct opts o = {.top = 20, .frames = 4};
	const char *layout_path = NULL;
	struct model m = {0};
	struct cycles *c;
	long n;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "l:s:jt:f:h", lopts, NULL)) !=
	       -1) {
		switch (opt) {
		case 'l':
			layout_path = optarg;
			break;
		case 's':
			o.segment = optarg;
			break;
		case 'j':
			o.json = true;
			break;
		case 't':
			if (shmtrace_count("--top", optarg, 0, INT_MAX, &n) < 0)
				return 2;
			o.top = (int)n;
			break;
		case 'f':
			if (shmtrace_count("--frames", optarg, 1,
					   TRACE_STACK_DEPTH, &n) < 0)
				return 2;
			o.frames = (int)n;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	if (shmtrace_open(layout_path, o.segment, argv[optind], &m.r))
		return 1;
	model_build(&m);
	c = calloc(1, sizeof(*c));
	if (!c) {
		fprintf(stderr, "%s: out of memory\n", shmtrace_prog);
		return 1;
	}
	cycles_find(&m, c);
	if (o.json)
		report_json(&m, c, &o);
	else
		report_text(&m, c, &o);
	free(c);
	model_free(&m);
	trace_reader_close(m.r);
	sym_cleanup();
	report_layout_unload();
	return 0;
}
