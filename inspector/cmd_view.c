/*
 * cmd_view.c - `shmscope [OPTIONS] [-l LAYOUT] TARGET...`: the live view,
 * and batch mode (--once, --json, -n).
 *
 * Parsing fills one struct view_opts; each mode is one function that takes
 * it.  The live view's own options (interval, sample-hz, stuck, no-color,
 * follow) are parsed by tui_opts_set(), so the TUI documents and checks its
 * own.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "abi.h"
#include "err.h"
#include "inspector.h"
#include "json.h"
#include "layout.h"
#include "snapshot.h"
#include "tui.h"

struct view_opts {
	struct tui_opts tui;
	const char *layout_path;
	const char *type_name;
	int abi;
	bool batch; /* --once, --json or -n */
	bool json;
	long count; /* -n */
	char **targets;
	int ntargets;
};

enum { OPT_VIEW = 1, OPT_TYPE, OPT_ABI, OPT_ONCE, OPT_JSON };

static void view_usage(FILE *f)
{
	fprintf(f,
		"usage: shmscope [OPTIONS] [-l LAYOUT] TARGET...\n"
		"       shmscope --once [--json] [-n N] [-l LAYOUT] TARGET...\n"
		"\n"
		"Watch shared-memory segments live, or print snapshots of "
		"them.\n"
		"TARGET is /name or posix:/name, sysv:KEY, sysvid:ID, "
		"file:PATH "
		"or a path;\n"
		"with a layout whose root struct has @segment, TARGET may be "
		"left out.\n"
		"Without a layout the view is a hex dump whose changed bytes "
		"light up.\n"
		"\n"
		"Options:\n"
		"  -l, --layout FILE   lay the bytes out with FILE (see "
		"docs/layout.md)\n"
		"      --type NAME     the root struct, if not the layout's "
		"own\n"
		"      --abi ABI       x86-64 (default here), aarch64, i386\n"
		"      --once          print one snapshot and exit\n"
		"      --json          print snapshots as JSON (docs/json.md)\n"
		"  -n N                print N snapshots, one every "
		"--interval\n");
	tui_opts_usage(f);
	fprintf(f, "  -h, --help          this help\n"
		   "\n"
		   "Batch mode exits 0, or 3 when a @check or @expect failed.\n"
		   "Keys: q quit, ? help, space pause, Tab panel, [ ] "
		   "segment, s save JSON.\n");
}

static int view_set(struct view_opts *v, int c, const char *name,
		    const char *arg)
{
	struct errbuf e = {{0}};
	char *end;

	switch (c) {
	case 'l':
		v->layout_path = arg;
		return 0;
	case OPT_TYPE:
		v->type_name = arg;
		return 0;
	case OPT_ABI:
		v->abi = abi_from_name(arg);
		if (v->abi < 0) {
			fprintf(stderr,
				"shmscope: --abi %s: unknown ABI (x86-64, "
				"aarch64, i386)\n",
				arg);
			return 2;
		}
		return 0;
	case OPT_ONCE:
		v->batch = true;
		return 0;
	case OPT_JSON:
		v->batch = v->json = true;
		return 0;
	case 'n':
		v->count = strtol(arg, &end, 10);
		if (*end || v->count < 1 || v->count > 100000000) {
			fprintf(stderr, "shmscope: -n %s: not a count\n", arg);
			return 2;
		}
		v->batch = true;
		return 0;
	}
	if (tui_opts_set(&v->tui, name, arg, &e) < 0) {
		fprintf(stderr, "shmscope: %s\n", e.msg);
		return 2;
	}
	return 0;
}

/* 0 to go on, 1 for --help, 2 for a usage error (already printed). */
static int view_parse(int argc, char **argv, struct view_opts *v)
{
	static const struct option longopts[] = {
		{"interval", required_argument, NULL, 'd'},
		{"sample-hz", required_argument, NULL, OPT_VIEW},
		{"stuck", required_argument, NULL, OPT_VIEW},
		{"no-color", no_argument, NULL, OPT_VIEW},
		{"follow", no_argument, NULL, OPT_VIEW},
		{"layout", required_argument, NULL, 'l'},
		{"type", required_argument, NULL, OPT_TYPE},
		{"abi", required_argument, NULL, OPT_ABI},
		{"once", no_argument, NULL, OPT_ONCE},
		{"json", no_argument, NULL, OPT_JSON},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c, idx = 0, rc;

	tui_opts_init(&v->tui);
	v->abi = abi_host();
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:l:n:h", longopts, &idx)) != -1) {
		const char *name = c == 'd' ? "interval" : longopts[idx].name;

		if (c == 'h') {
			view_usage(stdout);
			return 1;
		}
		if (c == '?') {
			view_usage(stderr);
			return 2;
		}
		rc = view_set(v, c, name, optarg);
		if (rc)
			return rc;
	}
	v->targets = argv + optind;
	v->ntargets = argc - optind;
	if (!v->ntargets && !v->layout_path) {
		view_usage(stderr);
		return 2;
	}
	if (v->batch && !v->count)
		v->count = 1;
	return 0;
}

/* Attach to every target (or the layout's @segment). */
static struct view_source **view_open(struct view_opts *v,
				      const struct layout *l, int *n)
{
	struct view_source **vs;
	struct errbuf e = {{0}};

	*n = v->ntargets ? v->ntargets : 1;
	vs = calloc((size_t)*n, sizeof(*vs));
	if (!vs) {
		fprintf(stderr, "shmscope: out of memory\n");
		return NULL;
	}
	for (int i = 0; i < *n; i++) {
		vs[i] = view_source_open(v->ntargets ? v->targets[i] : NULL, l,
					 v->type_name, &e);
		if (!vs[i]) {
			fprintf(stderr, "shmscope: %s\n", e.msg);
			for (int k = 0; k < i; k++)
				view_source_close(vs[k]);
			free(vs);
			return NULL;
		}
	}
	return vs;
}

static int view_live(struct view_opts *v, struct view_source **vs, int n)
{
	struct tui_source *tabs = calloc((size_t)n, sizeof(*tabs));
	struct errbuf e = {{0}};
	int status;

	if (!tabs) {
		fprintf(stderr, "shmscope: out of memory\n");
		return 1;
	}
	for (int i = 0; i < n; i++)
		view_source_tui(vs[i], &tabs[i]);
	status = tui_run(tabs, (size_t)n, &v->tui, &e);
	if (status)
		fprintf(stderr, "shmscope: %s\n", e.msg);
	free(tabs);
	return status;
}

/* ---- batch mode ---------------------------------------------------------- */

static void once_text_sync(const struct snapshot *s)
{
	if (!s->nsyncs)
		return;
	printf("sync:\n");
	for (size_t i = 0; i < s->nsyncs; i++) {
		const struct snap_sync *y = &s->syncs[i];

		printf("  %-28s %-7s %-15s", y->path, sync_kind_name(y->kind),
		       y->state);
		if (y->kind == SYNC_SEM || y->kind == SYNC_FUTEX)
			printf(" value %lld", y->value);
		if (y->kind == SYNC_RWLOCK && y->st.readers)
			printf(" readers %d", y->st.readers);
		if (y->owner_tid)
			printf(" owner tid %d %s%s%s", (int)y->owner_tid,
			       y->owner_comm,
			       y->owner_alive == 1   ? " (alive)"
			       : y->owner_alive == 0 ? " (gone)"
						     : "",
			       "");
		if (y->waiters > 0)
			printf(" waiters %d", y->waiters);
		for (size_t w = 0; w < y->nwaiting; w++)
			printf("%s%d/%d %s",
			       w ? ", " : " waiting: ", (int)y->waiting[w].pid,
			       (int)y->waiting[w].tid, y->waiting[w].comm);
		printf("\n");
	}
}

static void once_text(const struct snapshot *s)
{
	printf("%s  %s  %llu bytes  dev %llu ino %llu\n", s->name, s->kind,
	       (unsigned long long)s->size, (unsigned long long)s->dev,
	       (unsigned long long)s->ino);
	if (s->status_msg)
		printf("status: %s\n", s->status_msg);
	printf("mapped by:");
	for (size_t i = 0; i < s->nprocs; i++)
		printf("%s %d %s", i ? "," : "", (int)s->procs[i].pid,
		       s->procs[i].comm);
	printf("%s\n", s->nprocs ? "" : " nobody");
	if (!s->nrows)
		return;
	printf("fields:\n");
	for (size_t i = 1; i < s->nrows; i++) {
		const struct snap_row *r = &s->rows[i];

		printf("  %*s%-*s %6llu  %s\n", 2 * (r->depth - 1), "",
		       28 - 2 * (r->depth - 1) > 0 ? 28 - 2 * (r->depth - 1)
						   : 1,
		       r->name, (unsigned long long)r->offset,
		       r->value ? r->value : "");
	}
	once_text_sync(s);
	for (size_t i = 0; i < s->nrings; i++)
		printf("%s  %-22s head %llu tail %llu used %llu/%llu%s\n",
		       i ? "      " : "rings:", s->rings[i].path,
		       (unsigned long long)s->rings[i].head,
		       (unsigned long long)s->rings[i].tail,
		       (unsigned long long)s->rings[i].used,
		       (unsigned long long)s->rings[i].capacity,
		       s->rings[i].valid ? "" : " (inconsistent)");
	if (s->nchecks)
		printf("checks:\n");
	for (size_t i = 0; i < s->nchecks; i++)
		printf("  %-5s %s%s%s\n", s->checks[i].ok ? "ok" : "FAIL",
		       s->checks[i].expr, s->checks[i].error ? ": " : "",
		       s->checks[i].error ? s->checks[i].error : "");
}

static void view_pause(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int view_batch(struct view_opts *v, struct view_source **vs, int n)
{
	struct errbuf e = {{0}};
	struct json j;
	bool failed = false;

	json_init(&j, stdout, false);
	for (long k = 0; k < v->count; k++) {
		if (k)
			view_pause(v->tui.interval_ms);
		for (int i = 0; i < n; i++) {
			struct snapshot s;

			if (view_source_take(vs[i], &s, &e) < 0) {
				fprintf(stderr, "shmscope: %s\n", e.msg);
				return 1;
			}
			failed |= snap_any_check_failed(&s);
			if (v->json) {
				snap_write_json(&s, &j);
				json_newline(&j);
			} else {
				once_text(&s);
			}
			snap_free(&s);
		}
		fflush(stdout);
	}
	return failed ? 3 : 0;
}

int cmd_view(int argc, char **argv)
{
	struct view_opts v;
	struct layout *l = NULL;
	struct view_source **vs;
	struct errbuf e = {{0}};
	int rc, n;

	memset(&v, 0, sizeof(v));
	rc = view_parse(argc, argv, &v);
	if (rc)
		return rc == 1 ? 0 : rc;
	if (v.layout_path) {
		l = layout_parse_file(v.layout_path, (enum abi_id)v.abi, 0, &e);
		if (!l) {
			fprintf(stderr, "%s\n", e.msg);
			return 1;
		}
	}
	vs = view_open(&v, l, &n);
	if (!vs) {
		layout_free(l);
		return 1;
	}
	rc = v.batch ? view_batch(&v, vs, n) : view_live(&v, vs, n);
	for (int i = 0; i < n; i++)
		view_source_close(vs[i]);
	free(vs);
	layout_free(l);
	return rc;
}
