/*
 * tui.h - the live screen of shmscope.
 *
 * The screen knows nothing about layouts, /proc or how a segment is
 * attached: it draws `struct snapshot`s (lib/snapshot.h) that sources hand
 * it, one source per tab.  crt.c owns curses; tui.c runs the loop and the
 * keys; panel_*.c draw the parts of a tab.
 */
#ifndef SHMSCOPE_TUI_H
#define SHMSCOPE_TUI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct snapshot;
struct errbuf;

/*
 * A cheap read between frames for --sample-hz.  Before each call the TUI
 * points the arrays at room for as many rings and sync objects as the last
 * snapshot had (same order as snapshot.rings / snapshot.syncs) and sets the
 * counts; the source fills used[i] (the ring's fill) and state[i] (any word
 * whose change means the object changed state, e.g. the futex word), and
 * may lower the counts if it knows fewer.
 */
struct tui_sample {
	uint64_t *used;
	size_t nrings;
	uint64_t *state;
	size_t nsyncs;
};

/*
 * Where the snapshots of one tab come from.
 *
 * take: fill OUT (zeroed by the caller) with the segment now; 0, or -errno
 *   with a message in E.  OUT is released with snap_free() by the TUI.
 *   A shrunk/unlinked/recreated segment is not an error: say so in
 *   out->status / out->status_msg.
 * sample: optional (NULL: --sample-hz does nothing for this tab).  Must be
 *   cheap: it may run 10,000 times a second.  0 or -errno.
 * reattach: optional; drop the current mapping and attach to what the name
 *   names now (key `r`, and by itself with --follow when a snapshot says
 *   SNAP_SEG_RECREATED).  0 or -errno with a message in E.
 * title: the tab's name ("/demo_ring").
 */
struct tui_source {
	int (*take)(void *ctx, struct snapshot *out, struct errbuf *e);
	int (*sample)(void *ctx, struct tui_sample *out);
	int (*reattach)(void *ctx, struct errbuf *e);
	void *ctx;
	const char *title;
};

/* The live view's options (see tui_opts_set for their spellings). */
struct tui_opts {
	int interval_ms; /* -d/--interval, default 100 */
	int sample_hz;	 /* --sample-hz, 0: off */
	int stuck_ms;	 /* --stuck, default 2000 */
	bool color;	 /* false with --no-color or $NO_COLOR */
	bool follow;	 /* --follow: reattach a recreated segment */
	long max_frames; /* quit after this many frames (tests, bench); 0 */
	const char *snap_dir; /* where `s` writes; NULL: the current folder */
};

/* Defaults: 100 ms, no sampling, stuck 2000 ms, color unless $NO_COLOR. */
void tui_opts_init(struct tui_opts *o);

/*
 * Apply one view option by its long name without dashes ("interval",
 * "sample-hz", "stuck", "no-color", "follow"); ARG is its argument or NULL.
 * Returns 0, -ENOENT if NAME is not a view option (the caller's own), or
 * -EINVAL with a message in E for a bad value.
 */
int tui_opts_set(struct tui_opts *o, const char *name, const char *arg,
		 struct errbuf *e);

/* The --help lines of the view options. */
void tui_opts_usage(FILE *f);

/*
 * Run the screen over NTABS sources until the user quits.  Returns 0, or 1
 * with a message in E if the terminal could not be set up.  The terminal
 * is restored on return and on any fatal signal.
 */
int tui_run(struct tui_source *tabs, size_t ntabs, const struct tui_opts *o,
	    struct errbuf *e);

#endif
