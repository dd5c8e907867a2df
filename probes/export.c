/*
 * export.c - shmtrace export --chrome: the trace as Chrome trace events
 * (Perfetto and chrome://tracing open it), and shmtrace dump: every event
 * as a line of text.
 *
 * One track per thread, grouped by process; a "wait" span for each
 * acquisition that blocked, a "hold" span from each acquisition to its
 * release, instants for fork, exec and exit.  Spans are written when they
 * end, so only the locks each thread holds are kept in memory.
 */
#include "shmtrace.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ihash.h"
#include "json.h"

#define EXPORT_HELD 64

struct xthread {
	int proc;
	uint32_t tid;
	int nheld;
	struct {
		uint64_t obj;
		uint64_t since;
	} held[EXPORT_HELD];
};

struct xstate {
	struct trace_reader *r;
	struct json j;
	struct xthread *threads;
	int nthreads;
	struct ihash ix;
};

static struct xthread *xthread_get(struct xstate *x, const struct trace_proc *p,
				   uint32_t tid)
{
	uint64_t key = mix((uint64_t)p->idx, tid);
	int i = ihash_get(&x->ix, key);
	struct xthread *t;
	char name[64];

	if (i >= 0)
		return &x->threads[i];
	x->threads = realloc(x->threads,
			     (size_t)(x->nthreads + 1) * sizeof(*x->threads));
	if (!x->threads) {
		fprintf(stderr, "%s: out of memory\n", shmtrace_prog);
		exit(1);
	}
	t = &x->threads[x->nthreads];
	memset(t, 0, sizeof(*t));
	t->proc = p->idx;
	t->tid = tid;
	ihash_put(&x->ix, key, x->nthreads++);
	snprintf(name, sizeof(name), "%s %u", p->hdr->comm, tid);
	json_begin_obj(&x->j);
	json_kv_str(&x->j, "name", "thread_name");
	json_kv_str(&x->j, "ph", "M");
	json_kv_int(&x->j, "pid", p->hdr->pid);
	json_kv_uint(&x->j, "tid", tid);
	json_key(&x->j, "args");
	json_begin_obj(&x->j);
	json_kv_str(&x->j, "name", name);
	json_end_obj(&x->j);
	json_end_obj(&x->j);
	return t;
}

static void obj_name(const struct trace_proc *p, const struct trace_event *ev,
		     char *buf, size_t len)
{
	struct trace_where w;

	trace_proc_where(p, ev->obj, ev->ts, &w);
	if (w.map)
		report_name_object(w.map, w.offset, buf, len);
	else
		snprintf(buf, len, "%#llx", (unsigned long long)ev->obj);
}

static void span(struct xstate *x, const struct trace_proc *p, uint32_t tid,
		 const char *cat, const char *what, const char *obj,
		 uint64_t start_ns, uint64_t dur_ns)
{
	char name[300];

	snprintf(name, sizeof(name), "%s %s", what, obj);
	json_begin_obj(&x->j);
	json_kv_str(&x->j, "name", name);
	json_kv_str(&x->j, "cat", cat);
	json_kv_str(&x->j, "ph", "X");
	json_kv_double(&x->j, "ts", (double)start_ns / 1000.0);
	json_kv_double(&x->j, "dur", (double)dur_ns / 1000.0);
	json_kv_int(&x->j, "pid", p->hdr->pid);
	json_kv_uint(&x->j, "tid", tid);
	json_end_obj(&x->j);
}

static void instant(struct xstate *x, const struct trace_proc *p, uint32_t tid,
		    const char *what, uint64_t ns)
{
	json_begin_obj(&x->j);
	json_kv_str(&x->j, "name", what);
	json_kv_str(&x->j, "ph", "i");
	json_kv_str(&x->j, "s", "t");
	json_kv_double(&x->j, "ts", (double)ns / 1000.0);
	json_kv_int(&x->j, "pid", p->hdr->pid);
	json_kv_uint(&x->j, "tid", tid);
	json_end_obj(&x->j);
}

static bool is_acquire(unsigned op)
{
	return op == TRACE_MUTEX_LOCK || op == TRACE_MUTEX_TRYLOCK ||
	       op == TRACE_RW_RDLOCK || op == TRACE_RW_WRLOCK ||
	       op == TRACE_RW_TRYRDLOCK || op == TRACE_RW_TRYWRLOCK ||
	       op == TRACE_SPIN_LOCK || op == TRACE_SPIN_TRYLOCK;
}

static bool is_release(unsigned op)
{
	return op == TRACE_MUTEX_UNLOCK || op == TRACE_RW_UNLOCK ||
	       op == TRACE_SPIN_UNLOCK;
}

static void export_event(struct xstate *x, const struct trace_item *it)
{
	const struct trace_event *ev = it->ev;
	const struct trace_proc *p = it->proc;
	struct xthread *t = xthread_get(x, p, ev->tid);
	uint64_t now = trace_reader_ns(x->r, it->ticks);
	uint64_t wait = trace_wait_ns(ev->wait);
	char name[256];

	if (is_acquire(ev->op) &&
	    (ev->result == 0 || ev->result == EOWNERDEAD)) {
		obj_name(p, ev, name, sizeof(name));
		if (wait)
			span(x, p, ev->tid, "wait", "wait", name,
			     now > wait ? now - wait : 0, wait);
		if (t->nheld < EXPORT_HELD) {
			t->held[t->nheld].obj = ev->obj;
			t->held[t->nheld].since = now;
			t->nheld++;
		}
	} else if (is_release(ev->op) && ev->result == 0) {
		for (int i = t->nheld; i-- > 0;) {
			if (t->held[i].obj != ev->obj)
				continue;
			obj_name(p, ev, name, sizeof(name));
			span(x, p, ev->tid, "hold", "hold", name,
			     t->held[i].since, now - t->held[i].since);
			memmove(&t->held[i], &t->held[i + 1],
				(size_t)(t->nheld - i - 1) *
					sizeof(t->held[0]));
			t->nheld--;
			break;
		}
	} else if ((ev->op == TRACE_SEM_WAIT || ev->op == TRACE_COND_WAIT) &&
		   wait) {
		obj_name(p, ev, name, sizeof(name));
		span(x, p, ev->tid, "wait", trace_op_name(ev->op), name,
		     now > wait ? now - wait : 0, wait);
	} else if (ev->op == TRACE_FORK || ev->op == TRACE_EXEC ||
		   ev->op == TRACE_EXIT || ev->op == TRACE_SEM_POST) {
		instant(x, p, ev->tid, trace_op_name(ev->op), now);
	}
}

int cmd_export(int argc, char **argv)
{
	static const struct option lopts[] = {
		{"chrome", no_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct xstate x = {0};
	struct trace_item it;
	struct errbuf e;
	bool chrome = false;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "ch", lopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			chrome = true;
			break;
		case 'h':
			printf("usage: shmtrace export --chrome DIR > "
			       "trace.json\n");
			return 0;
		default:
			fprintf(stderr, "usage: shmtrace export --chrome DIR > "
					"trace.json\n");
			return 2;
		}
	}
	if (!chrome || optind != argc - 1) {
		fprintf(stderr,
			"usage: shmtrace export --chrome DIR > trace.json\n");
		return 2;
	}
	if (trace_reader_open(&x.r, argv[optind], &e) < 0) {
		fprintf(stderr, "%s: %s\n", shmtrace_prog, e.msg);
		return 1;
	}
	json_init(&x.j, stdout, false);
	json_begin_obj(&x.j);
	json_kv_str(&x.j, "displayTimeUnit", "ns");
	json_key(&x.j, "traceEvents");
	json_begin_arr(&x.j);
	for (int i = 0; i < trace_reader_nprocs(x.r); i++) {
		const struct trace_proc *p = trace_reader_proc(x.r, i);
		char name[64];
		snprintf(name, sizeof(name), "%s (%d)", p->hdr->comm,
			 p->hdr->pid);
		json_begin_obj(&x.j);
		json_kv_str(&x.j, "name", "process_name");
		json_kv_str(&x.j, "ph", "M");
		json_kv_int(&x.j, "pid", p->hdr->pid);
		json_key(&x.j, "args");
		json_begin_obj(&x.j);
		json_kv_str(&x.j, "name", name);
		json_end_obj(&x.j);
		json_end_obj(&x.j);
	}
	while (trace_reader_next(x.r, &it) > 0) {
		if (it.kind == TRACE_ITEM_EVENT)
			export_event(&x, &it);
	}
	json_end_arr(&x.j);
	json_end_obj(&x.j);
	json_newline(&x.j);
	free(x.threads);
	ihash_free(&x.ix);
	trace_reader_close(x.r);
	return 0;
}

int cmd_dump(int argc, char **argv)
{
	struct trace_reader *r;
	struct trace_item it;
	struct errbuf e;

	if (argc != 2 || argv[1][0] == '-') {
		if (argc == 2 && !strcmp(argv[1], "--help")) {
			printf("usage: shmtrace dump DIR\n");
			return 0;
		}
		fprintf(stderr, "usage: shmtrace dump DIR\n");
		return 2;
	}
	if (trace_reader_open(&r, argv[1], &e) < 0) {
		fprintf(stderr, "%s: %s\n", shmtrace_prog, e.msg);
		return 1;
	}
	for (int i = 0; i < trace_reader_nprocs(r); i++) {
		const struct trace_proc *p = trace_reader_proc(r, i);
		const struct trace_header *h = p->hdr;
		printf("# process %d (%s) parent %d: %s, clock %s %.0f Hz, "
		       "%u/%u chunks, %llu dropped, %u maps\n",
		       h->pid, h->comm, h->ppid, h->cmdline,
		       h->clock == TRACE_CLOCK_TSC ? "tsc" : "monotonic",
		       h->ticks_per_sec, h->chunks_used, h->nchunks,
		       (unsigned long long)h->dropped, p->nmaps);
		for (uint32_t k = 0; k < p->nmaps; k++) {
			const struct trace_map *m = &p->maps[k];
			if (m->kind == TRACE_MAP_CODE)
				continue;
			printf("#   map %#llx-%#llx %s dev %llu ino %llu "
			       "off %llu%s\n",
			       (unsigned long long)m->start,
			       (unsigned long long)m->end, m->name,
			       (unsigned long long)m->dev,
			       (unsigned long long)m->ino,
			       (unsigned long long)m->file_off,
			       m->t_unmap ? " (unmapped)" : "");
		}
	}
	while (trace_reader_next(r, &it) > 0) {
		const struct trace_event *ev = it.ev;
		if (it.kind == TRACE_ITEM_PROC_END) {
			printf("%12llu %7d         end\n",
			       (unsigned long long)trace_reader_ns(r, it.ticks),
			       it.proc->hdr->pid);
			continue;
		}
		printf("%12llu %7d %7u %-16s %#14llx res %-3d wait %-8llu "
		       "aux %u flags %#x\n",
		       (unsigned long long)trace_reader_ns(r, it.ticks),
		       it.proc->hdr->pid, ev->tid, trace_op_name(ev->op),
		       (unsigned long long)ev->obj, ev->result,
		       (unsigned long long)trace_wait_ns(ev->wait), ev->aux,
		       ev->flags);
	}
	trace_reader_close(r);
	return 0;
}
