/*
 * story.c - shmtrace story: a trace told as one interleaving, in order:
 * which process and thread did which operation on which named object.
 *
 * Three stages, all streaming, so memory grows with the number of threads
 * and objects, never with the number of events:
 *
 *   reader  ->  causal order  ->  [--last ring]  ->  printer (collapses
 *               (a few held                           repetitions)
 *               back events)
 *
 * The reader merges the per-thread chains by timestamp; the timestamps of
 * two CPUs can disagree by more than the reader's slack (seen here: a few
 * us between vCPUs), so an acquisition can come out before the release
 * that allowed it.  A story told in that order would be wrong exactly
 * where it matters, so the second stage holds such an acquisition (and
 * every later event of its thread) back until the release has been told:
 * the lock's owner unlocked it, the semaphore was posted.  It gives up
 * after STORY_WINDOW_NS of trace time or STORY_QMAX held events: the model
 * it judges by (owners, semaphore values) can be wrong when events were
 * dropped, and then the timestamps are all there is.
 *
 * The printer collapses a pattern of up to STORY_PMAX events that repeats
 * (the same threads doing the same operations on the same objects): it is
 * shown twice, then counted, and its last repetition is shown again just
 * before whatever broke it, where the story usually goes on.
 */
#include "shmtrace.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ihash.h"
#include "json.h"

#define STORY_PMAX	16		 /* longest pattern collapsed */
#define STORY_HIST	(2 * STORY_PMAX) /* signatures kept per thread */
#define STORY_WIN	256		 /* events told late, to show more */
#define STORY_QMAX	1024		 /* events held back at most ... */
#define STORY_WINDOW_NS 200000		 /* ... for at most this long */

enum rec_kind {
	REC_EVENT,
	REC_END, /* a process image ended without a recorded exit/exec */
};

/* One line of the story: an event and what the model said about it. */
struct rec {
	uint64_t ticks; /* the reader's common ticks */
	uint64_t ts;	/* the process's own clock, to resolve obj */
	uint64_t obj;
	uint64_t okey; /* the object's identity, 0 for none */
	uint32_t wait, aux;
	int proc;   /* reader index of the process image */
	int thread; /* index into story.th; -1 for REC_END */
	int other;  /* BLOCK: the holder (thread index), else -1 */
	uint8_t kind, op, flags;
	int16_t result;
};

/* A thread's last events, and the pattern it is repeating. */
struct coll {
	uint64_t hist[STORY_HIST]; /* signatures of its last events */
	uint64_t nhist;
	int run[STORY_PMAX + 1]; /* run[k]: events equal to the k-th before */
	int period;		 /* the pattern's length; 0 none */
	bool filled;		 /* pat holds one whole repetition */
	struct rec pat[STORY_PMAX];
	uint64_t nsup; /* repeating events since the pattern began */
	/* Those that left the window unshown, for the next summary. */
	uint64_t done, first, last, waits, wait_ns;
};

struct sthread {
	int pno; /* P number of its process (by pid) */
	int no;	 /* T number within the process: T1 is the main thread */
	uint32_t tid;
	int proc;    /* reader index of its latest image */
	int pending; /* its events held back by the causal stage */
	bool blocked;
	struct rec block; /* its BLOCK, while blocked */
	struct coll *coll;
};

struct sobj {
	uint64_t key;
	int owner;	/* thread index, -1 free */
	int64_t value;	/* semaphore value, -1 unknown */
	int poster;	/* the last thread that posted, -1 none */
	uint64_t post;	/* when (common ticks) */
	struct rec any; /* an event on it, to name it */
};

/* The printer's window: events wait here before they are shown, so that
 * a repetition can still be shown when what follows makes it news. */
struct wslot {
	struct rec x;
	bool sup; /* not shown: part of a repetition */
};

/* A summary of a thread's repetitions, due before the window's event
 * BEFORE (a sequence number). */
struct mark {
	uint64_t before;
	int thread;
	int period;
	struct rec pat[STORY_PMAX];
};

struct opts {
	bool json;
	bool all;      /* no collapsing */
	uint64_t last; /* 0: everything */
};

struct story {
	struct trace_reader *r;
	struct opts o;
	struct json j;
	int *pno; /* per reader proc: its P number */
	bool *ended, *exited;
	struct sthread *th;
	int nth;
	struct ihash th_ix;
	struct sobj *obj;
	int nobj;
	struct ihash obj_ix;
	/* causal stage */
	struct rec *q;
	int nq;
	/* --last */
	struct rec *ring;
	uint64_t nring, total;
	struct wslot *win;
	uint64_t whead, wtail;
	struct mark *marks;
	int nmarks;
	uint64_t printed, collapsed;
};

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		fprintf(stderr, "%s: out of memory\n", shmtrace_prog);
		exit(1);
	}
	return p;
}

/* ---- who and what ---------------------------------------------------- */

static const struct trace_proc *proc_of(const struct story *s, int idx)
{
	return trace_reader_proc(s->r, idx);
}

static int thread_get(struct story *s, int proc, uint32_t tid)
{
	const struct trace_proc *p = proc_of(s, proc);
	uint64_t key = mix((uint64_t)p->hdr->pid, tid);
	int i = ihash_get(&s->th_ix, key);
	struct sthread *t;
	int no = 1;

	if (i >= 0) {
		s->th[i].proc = proc;
		return i;
	}
	/* T1 is the main thread; the others count up as they appear. */
	for (int k = 0; k < s->nth; k++) {
		if (s->th[k].pno == s->pno[proc] && s->th[k].no >= no)
			no = s->th[k].no + 1;
	}
	if ((pid_t)tid == p->hdr->pid)
		no = 1;
	else if (no == 1)
		no = 2;
	s->th = xrealloc(s->th, (size_t)(s->nth + 1) * sizeof(*s->th));
	t = &s->th[s->nth];
	memset(t, 0, sizeof(*t));
	t->pno = s->pno[proc];
	t->no = no;
	t->tid = tid;
	t->proc = proc;
	ihash_put(&s->th_ix, key, s->nth);
	return s->nth++;
}

static void who(const struct story *s, int thread, char *buf, size_t len)
{
	const struct sthread *t = &s->th[thread];

	snprintf(buf, len, "P%d/T%d", t->pno, t->no);
}

static bool is_sync(unsigned op)
{
	return trace_op_class(op) &
	       (TRACE_CLASS_MUTEX | TRACE_CLASS_RWLOCK | TRACE_CLASS_COND |
		TRACE_CLASS_SPIN | TRACE_CLASS_SEM);
}

/* Does OP's obj hold an address worth naming? */
static bool has_object(unsigned op)
{
	switch (op) {
	case TRACE_MMAP:
	case TRACE_MUNMAP:
	case TRACE_MREMAP:
	case TRACE_SHMAT:
	case TRACE_SHMDT:
		return true;
	case TRACE_SEM_UNLINK:
		return false;
	default:
		return is_sync(op);
	}
}

static void rec_where(const struct story *s, const struct rec *x,
		      struct trace_where *w)
{
	trace_proc_where(proc_of(s, x->proc), x->obj, x->ts, w);
}

/* The object of X: its field path or segment+offset, the segment for a
 * segment call, an address private to its process otherwise. */
static void obj_name(const struct story *s, const struct rec *x, char *buf,
		     size_t len)
{
	struct trace_where w;

	buf[0] = 0;
	if (x->kind != REC_EVENT || !has_object(x->op))
		return;
	rec_where(s, x, &w);
	if (w.map && is_sync(x->op))
		report_name_object(w.map, w.offset, buf, len);
	else if (w.map)
		snprintf(buf, len, "%s", w.map->name);
	else
		snprintf(buf, len, "%#llx (private to P%d)",
			 (unsigned long long)x->obj, s->pno[x->proc]);
}

static uint64_t obj_key(const struct story *s, const struct rec *x)
{
	struct trace_where w;

	if (!has_object(x->op))
		return 0;
	rec_where(s, x, &w);
	if (w.map)
		return mix(mix(w.map->dev, w.map->ino), w.offset) | 1;
	return mix(mix(UINT64_MAX, (uint64_t)proc_of(s, x->proc)->hdr->pid),
		   x->obj) |
	       1;
}

static void fmt_ms(uint64_t ns, char *buf, size_t len)
{
	if (ns < 1000)
		snprintf(buf, len, "%llu ns", (unsigned long long)ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.1f us", (double)ns / 1e3);
	else if (ns < 10000000000ULL)
		snprintf(buf, len, "%.2f ms", (double)ns / 1e6);
	else
		snprintf(buf, len, "%.1f s", (double)ns / 1e9);
}

static const char *errname(int e)
{
	const char *n = strerrorname_np(e);

	return n ? n : "error";
}

/* The operation's short name, as patterns list it ("lock", "sem_post"). */
static const char *op_word(unsigned op, unsigned flags)
{
	switch (op) {
	case TRACE_MUTEX_LOCK:
		return flags & TRACE_F_COND ? "relock" : "lock";
	case TRACE_MUTEX_TRYLOCK:
		return "trylock";
	case TRACE_MUTEX_UNLOCK:
		return flags & TRACE_F_COND ? "unlock for cond_wait" : "unlock";
	case TRACE_MUTEX_BLOCK:
		return "lock blocks";
	case TRACE_RW_BLOCK:
		return "rwlock blocks";
	case TRACE_RW_RDLOCK:
		return "rdlock";
	case TRACE_RW_WRLOCK:
		return "wrlock";
	case TRACE_RW_TRYRDLOCK:
		return "tryrdlock";
	case TRACE_RW_TRYWRLOCK:
		return "trywrlock";
	case TRACE_RW_UNLOCK:
		return "unlock";
	case TRACE_SEM_BLOCK:
		return "sem_wait blocks";
	default:
		return trace_op_name(op);
	}
}

/* The operation and its result, as the story's line shows it. */
static void op_text(const struct story *s, const struct rec *x, char *buf,
		    size_t len)
{
	const struct trace_proc *p = proc_of(s, x->proc);
	uint64_t wait = trace_wait_ns(x->wait);
	size_t n;
	char t[32], o[32];

	if (x->kind == REC_END) {
		if (p->hdr->state == TRACE_EXITED && p->hdr->exit_status >= 0)
			snprintf(buf, len, "exit %d", p->hdr->exit_status);
		else if (p->hdr->state == TRACE_EXITED)
			snprintf(buf, len, "exit");
		else
			snprintf(buf, len,
				 "no exit after this: killed or crashed");
		return;
	}
	n = (size_t)snprintf(buf, len, "%s", op_word(x->op, x->flags));
	if (x->result && n < len)
		n += (size_t)snprintf(buf + n, len - n, " %s",
				      errname(x->result));
	if (n >= len)
		return;
	switch (x->op) {
	case TRACE_MUTEX_BLOCK:
	case TRACE_RW_BLOCK:
		if (x->other >= 0) {
			who(s, x->other, o, sizeof(o));
			snprintf(buf + n, len - n, ", held by %s", o);
		}
		return;
	case TRACE_SEM_BLOCK:
		snprintf(buf + n, len - n, " (value 0)");
		return;
	case TRACE_SEM_POST:
		if (!x->result)
			snprintf(buf + n, len - n, " (value %u)", x->aux);
		return;
	case TRACE_SEM_INIT:
		snprintf(buf + n, len - n, " (value %u)", x->aux);
		return;
	case TRACE_MMAP:
	case TRACE_FTRUNCATE:
		snprintf(buf + n, len - n, " %u KiB", x->aux);
		return;
	case TRACE_EXIT:
		snprintf(buf + n, len - n, " %d", (int)x->aux);
		return;
	case TRACE_FORK:
		if (!x->result) {
			int child = -1;
			for (int i = 0; i < trace_reader_nprocs(s->r); i++) {
				if (proc_of(s, i)->hdr->pid == (pid_t)x->obj)
					child = s->pno[i];
			}
			if (child > 0)
				snprintf(buf + n, len - n, " -> P%d (pid %llu)",
					 child, (unsigned long long)x->obj);
			else
				snprintf(buf + n, len - n, " -> pid %llu",
					 (unsigned long long)x->obj);
		}
		return;
	default:
		break;
	}
	if ((x->flags & TRACE_F_CONTENDED) && wait) {
		fmt_ms(wait, t, sizeof(t));
		snprintf(buf + n, len - n, " (waited %s)", t);
	} else if (x->op == TRACE_COND_WAIT && wait) {
		fmt_ms(wait, t, sizeof(t));
		snprintf(buf + n, len - n, " (waited %s)", t);
	}
}

/* ---- the model the causal stage judges by ----------------------------- */

static bool acquires_exclusive(unsigned op)
{
	switch (op) {
	case TRACE_MUTEX_LOCK:
	case TRACE_MUTEX_TRYLOCK:
	case TRACE_SPIN_LOCK:
	case TRACE_SPIN_TRYLOCK:
	case TRACE_RW_WRLOCK:
	case TRACE_RW_TRYWRLOCK:
		return true;
	default:
		return false;
	}
}

static bool releases(unsigned op)
{
	return op == TRACE_MUTEX_UNLOCK || op == TRACE_SPIN_UNLOCK ||
	       op == TRACE_RW_UNLOCK;
}

/* The object of X, made on first sight; valid until the next call. */
static struct sobj *obj_get(struct story *s, const struct rec *x)
{
	int i = ihash_get(&s->obj_ix, x->okey);
	struct sobj *o;

	if (i >= 0)
		return &s->obj[i];
	s->obj = xrealloc(s->obj, (size_t)(s->nobj + 1) * sizeof(*s->obj));
	o = &s->obj[s->nobj];
	memset(o, 0, sizeof(*o));
	o->key = x->okey;
	o->owner = -1;
	o->value = -1;
	o->poster = -1;
	o->any = *x;
	ihash_put(&s->obj_ix, x->okey, s->nobj++);
	return o;
}

static bool ok_acquired(const struct rec *x)
{
	return x->result == 0 || x->result == EOWNERDEAD;
}

/* Must X wait for an event not told yet?  An acquisition of a lock that
 * another live thread holds, a wait on a semaphore at 0. */
static bool must_wait(struct story *s, const struct rec *x)
{
	const struct sobj *o;

	if (x->kind != REC_EVENT || !x->okey || !ok_acquired(x))
		return false;
	o = obj_get(s, x);
	if (acquires_exclusive(x->op))
		return x->result != EOWNERDEAD && o->owner >= 0 &&
		       o->owner != x->thread && !s->ended[s->th[o->owner].proc];
	if (x->op == TRACE_SEM_WAIT || x->op == TRACE_SEM_TRYWAIT)
		return o->value == 0;
	return false;
}

/* Tell the model that X happened; fills X->other. */
static void apply(struct story *s, struct rec *x)
{
	struct sobj *o;
	struct sthread *t;

	x->other = -1;
	if (x->kind == REC_END) {
		s->ended[x->proc] = true;
		return;
	}
	t = &s->th[x->thread];
	t->blocked = false;
	if (x->op == TRACE_EXIT)
		s->exited[x->proc] = true;
	if (!x->okey || !is_sync(x->op))
		return;
	/* A condvar wait is seen when it returns: until then, the unlock
	 * that began it is the thread's last word. */
	if (x->op == TRACE_MUTEX_UNLOCK && (x->flags & TRACE_F_COND)) {
		t->blocked = true;
		t->block = *x;
	}
	o = obj_get(s, x);
	switch (x->op) {
	case TRACE_MUTEX_BLOCK:
	case TRACE_RW_BLOCK:
	case TRACE_SEM_BLOCK:
		if (o->owner >= 0 && o->owner != x->thread)
			x->other = o->owner;
		t->blocked = true;
		t->block = *x;
		return;
	case TRACE_SEM_INIT:
		o->value = x->aux;
		return;
	case TRACE_SEM_POST:
		if (!x->result) {
			/* Counted, not taken from aux: aux is the value at
			 * the post's moment, and the waits told around it
			 * may have been reordered.  aux only when the
			 * start is unknown (sem_open, or initialised before
			 * the trace began). */
			o->value = o->value < 0 ? x->aux : o->value + 1;
			o->poster = x->thread;
			o->post = x->ticks;
		}
		return;
	case TRACE_SEM_WAIT:
	case TRACE_SEM_TRYWAIT:
		if (!x->result && o->value > 0)
			o->value--;
		return;
	default:
		break;
	}
	if (acquires_exclusive(x->op) && ok_acquired(x))
		o->owner = x->thread;
	else if (releases(x->op) && !x->result && o->owner == x->thread)
		o->owner = -1;
}

/* ---- the printer: lines, and collapsed repetitions ------------------- */

static void print_legend(struct story *s, const char *dir)
{
	int np = trace_reader_nprocs(s->r);
	uint64_t dropped = trace_reader_dropped(s->r);

	if (s->o.json)
		return;
	printf("story of %s: %d process image%s\n", dir, np,
	       np == 1 ? "" : "s");
	for (int i = 0; i < np; i++) {
		const struct trace_header *h = proc_of(s, i)->hdr;
		int parent = 0;
		for (int k = 0; k < np; k++) {
			if (proc_of(s, k)->hdr->pid == h->ppid)
				parent = s->pno[k];
		}
		printf("  P%-3d pid %-7d %-15s %s", s->pno[i], h->pid, h->comm,
		       h->cmdline);
		if (parent)
			printf("  (child of P%d)", parent);
		printf("\n");
	}
	if (dropped)
		printf("warning: %llu events were not recorded (the trace was "
		       "full): the story has gaps\n",
		       (unsigned long long)dropped);
	printf("\n%10s  %-22s %-8s %-36s %s\n", "ms", "process", "thread",
	       "operation", "object");
}

static void json_who(struct story *s, int proc, int thread)
{
	const struct trace_header *h = proc_of(s, proc)->hdr;

	json_kv_int(&s->j, "p", s->pno[proc]);
	json_kv_int(&s->j, "pid", h->pid);
	json_kv_str(&s->j, "comm", h->comm);
	if (thread >= 0) {
		json_kv_int(&s->j, "thread", s->th[thread].no);
		json_kv_uint(&s->j, "tid", s->th[thread].tid);
	}
}

static void json_rec(struct story *s, const struct rec *x)
{
	struct json *j = &s->j;
	char buf[512];
	struct trace_where w;

	json_begin_obj(j);
	json_kv_str(j, "kind", "event");
	json_kv_uint(j, "t_ns", trace_reader_ns(s->r, x->ticks));
	json_who(s, x->proc, x->thread);
	json_kv_str(j, "op", x->kind == REC_END ? "end" : trace_op_name(x->op));
	op_text(s, x, buf, sizeof(buf));
	json_kv_str(j, "text", buf);
	if (x->kind == REC_EVENT && x->result)
		json_kv_str(j, "result", errname(x->result));
	else
		json_kv_null(j, "result");
	if (x->kind == REC_EVENT && (x->flags & TRACE_F_CONTENDED))
		json_kv_uint(j, "waited_ns", trace_wait_ns(x->wait));
	obj_name(s, x, buf, sizeof(buf));
	if (buf[0]) {
		json_kv_str(j, "object", buf);
		rec_where(s, x, &w);
		if (w.map) {
			json_kv_str(j, "segment", w.map->name);
			json_kv_uint(j, "offset", w.offset);
		}
	}
	if (x->other >= 0) {
		json_kv_int(j, "held_by_p", s->th[x->other].pno);
		json_kv_int(j, "held_by_thread", s->th[x->other].no);
	}
	json_end_obj(j);
}

static void print_rec(struct story *s, const struct rec *x)
{
	const struct trace_header *h = proc_of(s, x->proc)->hdr;
	char op[256], obj[256], proc[64], thr[32];

	s->printed++;
	if (s->o.json) {
		json_rec(s, x);
		return;
	}
	op_text(s, x, op, sizeof(op));
	obj_name(s, x, obj, sizeof(obj));
	snprintf(proc, sizeof(proc), "P%d %d %s", s->pno[x->proc], h->pid,
		 h->comm);
	if (x->thread < 0)
		snprintf(thr, sizeof(thr), "-");
	else if (s->th[x->thread].no == 1)
		snprintf(thr, sizeof(thr), "T1");
	else
		snprintf(thr, sizeof(thr), "T%d %u", s->th[x->thread].no,
			 s->th[x->thread].tid);
	printf("%10.3f  %-22s %-8s %-36s %s\n",
	       (double)trace_reader_ns(s->r, x->ticks) / 1e6, proc, thr, op,
	       obj);
}

static uint64_t rec_sig(const struct rec *x)
{
	/* Processes and segments: every fork, mmap... is news. */
	uint64_t what = is_sync(x->op) ? x->okey : x->obj ^ x->ticks;

	return mix(mix(mix((uint64_t)x->thread, x->op),
		       (uint64_t)(uint16_t)x->result),
		   mix(what, x->flags & TRACE_F_COND));
}

/* The pattern M repeats, in words: "sem_wait ring.empty_slots,
 * lock/unlock ring.lock, sem_post ring.filled_slots". */
static void pattern_text(const struct story *s, const struct mark *m, char *buf,
			 size_t len)
{
	size_t n = 0;

	buf[0] = 0;
	for (int i = 0; i < m->period && n + 1 < len; i++) {
		const struct rec *x = &m->pat[i];
		char obj[256], res[40] = "";
		bool pair = i + 1 < m->period && x->op == TRACE_MUTEX_LOCK &&
			    !x->result && m->pat[i + 1].okey == x->okey &&
			    m->pat[i + 1].op == TRACE_MUTEX_UNLOCK;

		obj_name(s, x, obj, sizeof(obj));
		if (x->result)
			snprintf(res, sizeof(res), " %s", errname(x->result));
		n += (size_t)snprintf(
			buf + n, len - n, "%s%s%s%s%s", i ? ", " : "",
			pair ? "lock/unlock" : op_word(x->op, x->flags), res,
			obj[0] ? " " : "", obj);
		if (pair)
			i++;
	}
}

static bool lock_pair(const struct mark *m)
{
	return m->period == 2 && m->pat[0].op == TRACE_MUTEX_LOCK &&
	       m->pat[1].op == TRACE_MUTEX_UNLOCK && !m->pat[0].result &&
	       m->pat[0].okey == m->pat[1].okey;
}

/* Say what M's thread repeated, and how often, since its last summary. */
static void print_summary(struct story *s, const struct mark *m)
{
	struct coll *c = s->th[m->thread].coll;
	char pat[1024], w[32], from[32], to[32], obj[256], extra[96] = "";
	uint64_t times = c->done / (uint64_t)m->period;

	if (!c->done)
		return;
	s->collapsed += c->done;
	who(s, m->thread, w, sizeof(w));
	snprintf(from, sizeof(from), "%.3f",
		 (double)trace_reader_ns(s->r, c->first) / 1e6);
	snprintf(to, sizeof(to), "%.3f",
		 (double)trace_reader_ns(s->r, c->last) / 1e6);
	if (c->waits) {
		char wt[32];
		fmt_ms(c->wait_ns, wt, sizeof(wt));
		snprintf(extra, sizeof(extra), "; %llu waited, %s in all",
			 (unsigned long long)c->waits, wt);
	}
	pattern_text(s, m, pat, sizeof(pat));
	if (s->o.json) {
		struct json *j = &s->j;
		json_begin_obj(j);
		json_kv_str(j, "kind", "repeat");
		json_who(s, s->th[m->thread].proc, m->thread);
		json_kv_uint(j, "t_ns", trace_reader_ns(s->r, c->first));
		json_kv_uint(j, "end_ns", trace_reader_ns(s->r, c->last));
		json_kv_uint(j, "times", times);
		json_kv_uint(j, "events", c->done);
		json_kv_uint(j, "waits", c->waits);
		json_kv_uint(j, "waited_ns", c->wait_ns);
		json_kv_str(j, "text", pat);
		json_key(j, "pattern");
		json_begin_arr(j);
		for (int i = 0; i < m->period; i++)
			json_rec(s, &m->pat[i]);
		json_end_arr(j);
		json_end_obj(j);
	} else if (lock_pair(m)) {
		obj_name(s, &m->pat[0], obj, sizeof(obj));
		printf("%10s  ... %llu more lock/unlock pairs of %s by %s "
		       "(%s to %s ms%s) ...\n",
		       "", (unsigned long long)times, obj, w, from, to, extra);
	} else {
		printf("%10s  ... %s did this %llu more time%s (%llu events, "
		       "%s to %s ms%s): %s ...\n",
		       "", w, (unsigned long long)times, times == 1 ? "" : "s",
		       (unsigned long long)c->done, from, to, extra, pat);
	}
	c->done = 0;
	c->waits = c->wait_ns = 0;
}

/* The oldest event of the window leaves it: shown, or counted in its
 * thread's next summary; the summaries due before it come first. */
static void window_pop(struct story *s)
{
	uint64_t seq = s->wtail++;
	struct wslot *w = &s->win[seq % STORY_WIN];
	struct coll *c;

	for (int i = 0; i < s->nmarks;) {
		if (s->marks[i].before != seq) {
			i++;
			continue;
		}
		print_summary(s, &s->marks[i]);
		s->marks[i] = s->marks[--s->nmarks];
	}
	if (!w->sup) {
		print_rec(s, &w->x);
		return;
	}
	c = s->th[w->x.thread].coll;
	if (!c->done)
		c->first = w->x.ticks;
	c->last = w->x.ticks;
	c->done++;
	if (w->x.flags & TRACE_F_CONTENDED) {
		c->waits++;
		c->wait_ns += trace_wait_ns(w->x.wait);
	}
}

static void window_push(struct story *s, const struct rec *x, bool sup)
{
	struct wslot *w;

	if (s->whead - s->wtail == STORY_WIN)
		window_pop(s);
	w = &s->win[s->whead++ % STORY_WIN];
	w->x = *x;
	w->sup = sup;
}

/* A summary of thread T's pattern, due before the event with sequence
 * number BEFORE. */
static void add_mark(struct story *s, int t, uint64_t before)
{
	struct coll *c = s->th[t].coll;
	struct mark *m;

	s->marks =
		xrealloc(s->marks, (size_t)(s->nmarks + 1) * sizeof(*s->marks));
	m = &s->marks[s->nmarks++];
	m->thread = t;
	m->before = before;
	m->period = c->period;
	memcpy(m->pat, c->pat, sizeof(m->pat));
}

static bool is_block(unsigned op)
{
	return op == TRACE_MUTEX_BLOCK || op == TRACE_RW_BLOCK ||
	       op == TRACE_SEM_BLOCK;
}

/*
 * Thread T's pattern ends.  The repetition it cut short and the whole one
 * before it are shown after all, when they are still in the window: they
 * lead to what happens next (with the blocks among them, and after them:
 * a thread that blocked for good).  The summary goes before them.
 */
static void interrupt(struct story *s, int t)
{
	struct coll *c = s->th[t].coll;
	uint64_t p, show, before = s->whead;

	if (!c || !c->period)
		return;
	p = (uint64_t)c->period;
	show = c->nsup % p + (c->nsup >= p ? p : 0);
	for (uint64_t seq = s->whead; seq-- > s->wtail;) {
		struct wslot *w = &s->win[seq % STORY_WIN];
		if (!w->sup || w->x.thread != t)
			continue;
		if (!is_block(w->x.op)) {
			if (!show)
				break;
			show--;
		}
		w->sup = false;
		before = seq;
	}
	add_mark(s, t, before);
	c->period = 0;
	c->filled = false;
	c->nsup = 0;
	memset(c->run, 0, sizeof(c->run));
}

static void coll_push(struct coll *c, uint64_t sig)
{
	c->hist[c->nhist++ % STORY_HIST] = sig;
}

static uint64_t coll_back(const struct coll *c, uint64_t back)
{
	return c->hist[(c->nhist - back) % STORY_HIST];
}

static struct coll *coll_of(struct story *s, int t)
{
	if (!s->th[t].coll) {
		s->th[t].coll = calloc(1, sizeof(struct coll));
		if (!s->th[t].coll) {
			fprintf(stderr, "%s: out of memory\n", shmtrace_prog);
			exit(1);
		}
	}
	return s->th[t].coll;
}

/* Tell X, unless it repeats what its thread did just before. */
static void emit(struct story *s, const struct rec *x)
{
	struct coll *c;
	uint64_t sig, p;

	if (s->o.all) {
		print_rec(s, x);
		return;
	}
	if (x->kind == REC_END) {
		for (int t = 0; t < s->nth; t++)
			if (s->th[t].proc == x->proc)
				interrupt(s, t);
		window_push(s, x, false);
		return;
	}
	c = coll_of(s, x->thread);
	/* A thread in a pattern may block now and then: that is no news
	 * (its wait is counted), unless it never returns; see interrupt(). */
	if (is_block(x->op)) {
		window_push(s, x, c->period != 0);
		return;
	}
	sig = rec_sig(x);
	p = (uint64_t)c->period;
	if (p && sig == coll_back(c, p)) {
		if (!c->filled)
			c->pat[c->nsup] = *x;
		if (c->nsup + 1 >= p)
			c->filled = true;
		c->nsup++;
		coll_push(c, sig);
		window_push(s, x, true);
		return;
	}
	if (p)
		interrupt(s, x->thread);
	for (uint64_t k = 1; k <= STORY_PMAX; k++) {
		if (k <= c->nhist && sig == coll_back(c, k))
			c->run[k]++;
		else
			c->run[k] = 0;
	}
	coll_push(c, sig);
	window_push(s, x, false);
	/* Its last K events repeat the K before them: a pattern. */
	for (int k = 1; k <= STORY_PMAX; k++) {
		if (c->run[k] >= k) {
			c->period = k;
			break;
		}
	}
}

/* The end: every pattern is broken off, the window drained. */
static void emit_end(struct story *s)
{
	for (int t = 0; t < s->nth; t++)
		interrupt(s, t);
	while (s->wtail < s->whead)
		window_pop(s);
	/* Summaries due before events that never came. */
	for (int i = 0; i < s->nmarks; i++)
		print_summary(s, &s->marks[i]);
	s->nmarks = 0;
}

/* ---- the causal stage ------------------------------------------------- */

static void deliver(struct story *s, struct rec *x)
{
	apply(s, x);
	s->total++;
	if (!s->o.last) {
		emit(s, x);
		return;
	}
	s->ring[(s->total - 1) % s->o.last] = *x;
}

/* Is the I-th held event behind an earlier held event of its thread (or,
 * for an end, of its process)? */
static bool behind(const struct story *s, int i)
{
	const struct rec *x = &s->q[i];

	for (int k = 0; k < i; k++) {
		if (x->kind == REC_END ? s->q[k].proc == x->proc
				       : s->q[k].thread == x->thread)
			return true;
	}
	return false;
}

static void unqueue(struct story *s, int i)
{
	struct rec x = s->q[i];

	memmove(&s->q[i], &s->q[i + 1],
		(size_t)(s->nq - i - 1) * sizeof(*s->q));
	s->nq--;
	if (x.thread >= 0)
		s->th[x.thread].pending--;
	deliver(s, &x);
}

/* Deliver every held event that may go now; with FORCE, the oldest goes
 * whatever the model says. */
static void release(struct story *s, bool force)
{
	bool progress = true;

	if (force && s->nq)
		unqueue(s, 0);
	while (progress) {
		progress = false;
		for (int i = 0; i < s->nq; i++) {
			if (!behind(s, i) && !must_wait(s, &s->q[i])) {
				unqueue(s, i);
				progress = true;
				break;
			}
		}
	}
}

static bool held_for(const struct story *s, const struct rec *x)
{
	if (x->kind == REC_END) {
		for (int k = 0; k < s->nq; k++)
			if (s->q[k].proc == x->proc)
				return true;
		return false;
	}
	return s->th[x->thread].pending > 0;
}

static void causal(struct story *s, struct rec *x)
{
	while (s->nq &&
	       (s->nq >= STORY_QMAX ||
		trace_reader_dur_ns(s->r, x->ticks > s->q[0].ticks
						  ? x->ticks - s->q[0].ticks
						  : 0) > STORY_WINDOW_NS))
		release(s, true);
	if (held_for(s, x) || must_wait(s, x)) {
		s->q[s->nq++] = *x;
		if (x->thread >= 0)
			s->th[x->thread].pending++;
		return;
	}
	deliver(s, x);
	release(s, false);
}

/* ---- reading ---------------------------------------------------------- */

static void read_all(struct story *s)
{
	struct trace_item it;

	while (trace_reader_next(s->r, &it) > 0) {
		struct rec x = {0};

		x.proc = it.proc->idx;
		x.ticks = it.ticks;
		x.other = -1;
		if (it.kind == TRACE_ITEM_PROC_END) {
			/* An exec or a recorded exit said it already. */
			if (it.proc->hdr->state == TRACE_EXECED ||
			    s->exited[x.proc])
				continue;
			x.kind = REC_END;
			x.thread = -1;
		} else {
			const struct trace_event *ev = it.ev;
			x.kind = REC_EVENT;
			x.ts = ev->ts;
			x.obj = ev->obj;
			x.wait = ev->wait;
			x.aux = ev->aux;
			x.op = ev->op;
			x.flags = ev->flags;
			x.result = ev->result;
			x.thread = thread_get(s, x.proc, ev->tid);
			x.okey = obj_key(s, &x);
			/* Seen while reading, not when told: an exit makes
			 * the end that follows it say nothing. */
			if (x.op == TRACE_EXIT)
				s->exited[x.proc] = true;
		}
		causal(s, &x);
	}
	while (s->nq)
		release(s, true);
}

/* The thread T waits for at the end: the holder of the lock it blocked
 * on, or -1. */
static int waits_for(struct story *s, int t)
{
	const struct sthread *th = &s->th[t];

	if (!th->blocked || th->block.op == TRACE_SEM_BLOCK ||
	    th->block.op == TRACE_MUTEX_UNLOCK)
		return -1;
	return obj_get(s, &th->block)->owner;
}

static void end_line(bool *any)
{
	if (!*any)
		printf("\nat the end:\n");
	*any = true;
}

/* The call site of the blocking call B (its stack's first frame,
 * symbolized) into BUF; false when the trace has no stack for it. */
static bool block_site(const struct story *s, const struct rec *b, char *buf,
		       size_t len)
{
	const struct trace_proc *p = proc_of(s, b->proc);
	const uint64_t *pcs;

	if (!b->aux || trace_proc_stack(p, b->aux, &pcs) <= 0)
		return false;
	sym_pc(p, pcs[0], buf, len);
	return true;
}

static void end_blocked(struct story *s, int t, bool *any)
{
	const struct rec *b = &s->th[t].block;
	const struct sobj *so = obj_get(s, b);
	char w[32], o[32], obj[256], at[32], site[256];

	who(s, t, w, sizeof(w));
	obj_name(s, b, obj, sizeof(obj));
	if (s->o.json) {
		json_begin_obj(&s->j);
		json_kv_str(&s->j, "kind", "blocked");
		json_who(s, b->proc, t);
		json_kv_str(&s->j, "op",
			    b->op == TRACE_MUTEX_UNLOCK ? "cond_wait"
							: trace_op_name(b->op));
		json_kv_str(&s->j, "object", obj);
		if (so->owner >= 0 && b->op != TRACE_MUTEX_UNLOCK) {
			json_kv_int(&s->j, "held_by_p", s->th[so->owner].pno);
			json_kv_int(&s->j, "held_by_thread",
				    s->th[so->owner].no);
		}
		if (block_site(s, b, site, sizeof(site)))
			json_kv_str(&s->j, "site", site);
		json_end_obj(&s->j);
		return;
	}
	end_line(any);
	if (b->op == TRACE_MUTEX_UNLOCK) {
		printf("  %s was waiting in cond_wait (it released %s for "
		       "it)\n",
		       w, obj);
		return;
	}
	printf("  %s was blocked %s %s", w,
	       b->op == TRACE_SEM_BLOCK ? "in sem_wait on" : "on", obj);
	if (so->owner >= 0) {
		who(s, so->owner, o, sizeof(o));
		printf(", held by %s%s", o, so->owner == t ? " (itself)" : "");
	}
	if (b->op == TRACE_SEM_BLOCK && so->poster >= 0) {
		who(s, so->poster, o, sizeof(o));
		fmt_ms(trace_reader_ns(s->r, so->post), at, sizeof(at));
		printf(" (last sem_post by %s at %s)", o, at);
	} else if (b->op == TRACE_SEM_BLOCK) {
		printf(" (never posted in the trace)");
	}
	printf("\n");
}

static void end_held(struct story *s, int i, bool *any)
{
	const struct sobj *so = &s->obj[i];
	const struct sthread *th = &s->th[so->owner];
	bool died = s->ended[th->proc] &&
		    proc_of(s, th->proc)->hdr->state == TRACE_RUNNING;
	char w[32], obj[256];

	who(s, so->owner, w, sizeof(w));
	obj_name(s, &so->any, obj, sizeof(obj));
	if (s->o.json) {
		json_begin_obj(&s->j);
		json_kv_str(&s->j, "kind", "held");
		json_who(s, th->proc, so->owner);
		json_kv_str(&s->j, "object", obj);
		json_kv_bool(&s->j, "owner_died", died);
		json_end_obj(&s->j);
		return;
	}
	end_line(any);
	printf("  %s was still held by %s%s\n", obj, w,
	       died ? ", whose process ended without exit" : "");
}

/* Threads that wait for each other in a circle, each circle once (from
 * its lowest thread). */
static void end_cycles(struct story *s, bool *any)
{
	for (int t = 0; t < s->nth; t++) {
		int u = waits_for(s, t), n = 1;
		char w[32];

		while (u > t && n <= s->nth) {
			u = waits_for(s, u);
			n++;
		}
		if (u != t)
			continue;
		if (s->o.json) {
			json_begin_obj(&s->j);
			json_kv_str(&s->j, "kind", "deadlock");
			json_key(&s->j, "threads");
			json_begin_arr(&s->j);
		} else {
			end_line(any);
			printf("  a deadlock:");
		}
		u = t;
		do {
			who(s, u, w, sizeof(w));
			if (s->o.json)
				json_str(&s->j, w);
			else
				printf(" %s waits for", w);
			u = waits_for(s, u);
		} while (u != t);
		who(s, t, w, sizeof(w));
		if (s->o.json) {
			json_end_arr(&s->j);
			json_end_obj(&s->j);
		} else {
			printf(" %s\n", w);
		}
	}
}

/* What was left hanging: threads blocked for good, locks still held. */
static void print_end(struct story *s)
{
	bool any = false;

	for (int t = 0; t < s->nth; t++)
		if (s->th[t].blocked)
			end_blocked(s, t, &any);
	for (int i = 0; i < s->nobj; i++)
		if (s->obj[i].owner >= 0)
			end_held(s, i, &any);
	end_cycles(s, &any);
}

static void tell(struct story *s, const char *dir)
{
	uint64_t n, first;

	if (s->o.json) {
		json_init(&s->j, stdout, false);
		json_begin_arr(&s->j);
	}
	print_legend(s, dir);
	read_all(s);
	if (s->o.last) {
		n = s->total < s->o.last ? s->total : s->o.last;
		first = s->total - n;
		if (first && s->o.json) {
			json_begin_obj(&s->j);
			json_kv_str(&s->j, "kind", "skipped");
			json_kv_uint(&s->j, "events", first);
			json_end_obj(&s->j);
		} else if (first) {
			printf("%10s  ... %llu earlier events not shown "
			       "(--last %llu) ...\n",
			       "", (unsigned long long)first,
			       (unsigned long long)s->o.last);
		}
		for (uint64_t i = first; i < s->total; i++)
			emit(s, &s->ring[i % s->o.last]);
	}
	if (!s->o.all)
		emit_end(s);
	print_end(s);
	if (s->o.json) {
		json_end_arr(&s->j);
		json_newline(&s->j);
		return;
	}
	printf("\n%llu events", (unsigned long long)s->total);
	if (s->o.last && s->total > s->o.last)
		printf("; of the last %llu", (unsigned long long)s->o.last);
	printf(": %llu shown, %llu in collapsed repetitions\n",
	       (unsigned long long)s->printed,
	       (unsigned long long)s->collapsed);
}

/* P numbers by pid, in the order the processes started. */
static void number_procs(struct story *s)
{
	int np = trace_reader_nprocs(s->r), next = 1;

	s->pno = xrealloc(NULL, (size_t)np * sizeof(*s->pno));
	s->ended = calloc((size_t)np + 1, sizeof(*s->ended));
	s->exited = calloc((size_t)np + 1, sizeof(*s->exited));
	if (!s->ended || !s->exited) {
		fprintf(stderr, "%s: out of memory\n", shmtrace_prog);
		exit(1);
	}
	for (int i = 0; i < np; i++) {
		s->pno[i] = 0;
		for (int k = 0; k < i; k++) {
			if (proc_of(s, k)->hdr->pid == proc_of(s, i)->hdr->pid)
				s->pno[i] = s->pno[k];
		}
		if (!s->pno[i])
			s->pno[i] = next++;
	}
}

static void story_free(struct story *s)
{
	for (int t = 0; t < s->nth; t++)
		free(s->th[t].coll);
	free(s->win);
	free(s->marks);
	free(s->pno);
	free(s->ended);
	free(s->exited);
	free(s->th);
	free(s->obj);
	free(s->q);
	free(s->ring);
	ihash_free(&s->th_ix);
	ihash_free(&s->obj_ix);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: shmtrace story [-l LAYOUT] [--segment NAME] [--last N] "
		"[--all] [--json] DIR\n"
		"  the trace in DIR as one interleaving, in order: which "
		"process and thread\n"
		"  did which operation on which object.  Repetitions are "
		"collapsed.\n"
		"  -l LAYOUT       name objects by field path (ring.lock)\n"
		"  --segment NAME  the segment the layout describes (when it "
		"has no @segment)\n"
		"  --last N        only the last N events (where a bug "
		"usually is)\n"
		"  --all           every event: no repetition collapsed\n"
		"  --json          a JSON array of events (docs/story.md)\n");
}

int cmd_story(int argc, char **argv)
{
	static const struct option lopts[] = {
		{"layout", required_argument, NULL, 'l'},
		{"segment", required_argument, NULL, 's'},
		{"last", required_argument, NULL, 'n'},
		{"json", no_argument, NULL, 'j'},
		{"all", no_argument, NULL, 'a'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *layout = NULL, *segment = NULL;
	struct story s = {0};
	long n;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "l:s:n:jah", lopts, NULL)) !=
	       -1) {
		switch (opt) {
		case 'l':
			layout = optarg;
			break;
		case 's':
			segment = optarg;
			break;
		case 'n':
			if (shmtrace_count("--last", optarg, 1, 1000000, &n) <
			    0)
				return 2;
			s.o.last = (uint64_t)n;
			break;
		case 'j':
			s.o.json = true;
			break;
		case 'a':
			s.o.all = true;
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
	if (shmtrace_open(layout, segment, argv[optind], &s.r))
		return 1;
	s.q = xrealloc(NULL, STORY_QMAX * sizeof(*s.q));
	s.win = xrealloc(NULL, STORY_WIN * sizeof(*s.win));
	if (s.o.last)
		s.ring = xrealloc(NULL, s.o.last * sizeof(*s.ring));
	number_procs(&s);
	tell(&s, argv[optind]);
	story_free(&s);
	sym_cleanup();
	trace_reader_close(s.r);
	report_layout_unload();
	return 0;
}
