/*
 * cmd_view.c - `shmscope [OPTIONS] TARGET...`: the live view.
 *
 * Parsing fills one struct view_opts; each mode is one function that takes
 * it (view_live now; batch mode --once/--json joins it as view_once).  The
 * view options proper (interval, sample-hz, stuck, no-color, follow) are
 * parsed by tui_opts_set(), so the TUI documents and checks its own.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "inspector.h"
#include "rawseg.h"
#include "tui.h"

struct view_opts {
	struct tui_opts tui;
	char **targets;
	int ntargets;
};

static void view_usage(FILE *f)
{
	fprintf(f, "usage: shmscope [OPTIONS] TARGET...\n"
		   "\n"
		   "Watch shared-memory segments live.  TARGET is /name or "
		   "posix:/name.\n"
		   "Without a layout the view is a hex dump whose changed "
		   "bytes light up.\n"
		   "\n"
		   "Options:\n");
	tui_opts_usage(f);
	fprintf(f, "  -h, --help          this help\n"
		   "\n"
		   "Keys: q quit, ? help, space pause, Tab panel, [ ] "
		   "segment, s save JSON.\n");
}

/* 0 to go on, 1 for --help, 2 for a usage error (already printed). */
static int view_parse(int argc, char **argv, struct view_opts *v)
{
	static const struct option longopts[] = {
		{"interval", required_argument, NULL, 'd'},
		{"sample-hz", required_argument, NULL, 1},
		{"stuck", required_argument, NULL, 1},
		{"no-color", no_argument, NULL, 1},
		{"follow", no_argument, NULL, 1},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct errbuf e = {{0}};
	int c, idx = 0;

	tui_opts_init(&v->tui);
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:h", longopts, &idx)) != -1) {
		const char *name = c == 1 ? longopts[idx].name : "interval";

		if (c == 'h') {
			view_usage(stdout);
			return 1;
		}
		if (c == '?') {
			view_usage(stderr);
			return 2;
		}
		if (tui_opts_set(&v->tui, name, optarg, &e) < 0) {
			fprintf(stderr, "shmscope: %s\n", e.msg);
			return 2;
		}
	}
	v->targets = argv + optind;
	v->ntargets = argc - optind;
	if (!v->ntargets) {
		view_usage(stderr);
		return 2;
	}
	return 0;
}

/* "/name" and "posix:/name" name POSIX segments; the rest comes later. */
static const char *view_posix_name(const char *target)
{
	if (!strncmp(target, "posix:", 6))
		target += 6;
	return target[0] == '/' && !strchr(target + 1, '/') ? target : NULL;
}

static int view_live(struct view_opts *v)
{
	struct tui_source *srcs = calloc((size_t)v->ntargets, sizeof(*srcs));
	struct rawseg **segs = calloc((size_t)v->ntargets, sizeof(*segs));
	struct errbuf e = {{0}};
	int status = 1;

	if (!srcs || !segs) {
		fprintf(stderr, "shmscope: out of memory\n");
		goto out;
	}
	for (int i = 0; i < v->ntargets; i++) {
		const char *name = view_posix_name(v->targets[i]);

		if (!name) {
			fprintf(stderr,
				"shmscope: %s: only POSIX segments (/name) "
				"can be viewed so far\n",
				v->targets[i]);
			status = 2;
			goto out;
		}
		segs[i] = rawseg_open(name, &e);
		if (!segs[i]) {
			fprintf(stderr, "shmscope: %s\n", e.msg);
			goto out;
		}
		rawseg_source(segs[i], &srcs[i]);
	}
	status = tui_run(srcs, (size_t)v->ntargets, &v->tui, &e);
	if (status)
		fprintf(stderr, "shmscope: %s\n", e.msg);
out:
	for (int i = 0; segs && i < v->ntargets; i++)
		rawseg_close(segs[i]);
	free(segs);
	free(srcs);
	return status;
}

int cmd_view(int argc, char **argv)
{
	struct view_opts v;
	int rc;

	memset(&v, 0, sizeof(v));
	rc = view_parse(argc, argv, &v);
	if (rc)
		return rc == 1 ? 0 : rc;
	return view_live(&v);
}
