/*
 * panel.h - the parts of a tab's screen, for tui.c and panel_*.c.
 *
 * A tab holds the last snapshot of its source and what the screen
 * remembers across snapshots: when each value last changed, since when
 * each lock has been in its state, the fill history of each ring, how
 * often each check failed.  A panel is a small object with a function
 * table, as htop's panels and meters: it says how many lines it has and
 * draws one of them; tui.c places panels, scrolls them and moves the
 * cursor.
 */
#ifndef SHMSCOPE_PANEL_H
#define SHMSCOPE_PANEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "snapshot.h"

struct tui_source;

/* How long a changed value stays highlighted (htop -H does the same). */
#define TUI_HIGHLIGHT_NS 1500000000LL
/* One sparkline cell per second over the last minute. */
#define TUI_SPARK_SECONDS 60

enum panel_id {
	PANEL_RINGS,
	PANEL_SYNC,
	PANEL_CHECKS,
	PANEL_FIELDS,
	PANEL_HEX,
	PANEL_COUNT
};

struct tui_tab;

struct panel_ops {
	const char *name;
	/* Lines of content. */
	size_t (*count)(struct tui_tab *t);
	/* The title bar's text after the name ("3 objects"). */
	void (*title)(struct tui_tab *t, char *buf, size_t n);
	/* Draw content line LINE at screen row Y, W columns wide. */
	void (*draw)(struct tui_tab *t, size_t line, int y, int w, bool cursor);
	/* Enter on LINE; optional. */
	void (*enter)(struct tui_tab *t, size_t line);
};

struct panel {
	const struct panel_ops *ops;
	size_t cursor, scroll;
	int y, h; /* placed on screen this frame, title bar included; 0 h:
		     hidden */
};

struct tui_rowhist {
	int64_t changed_ns; /* when its value last changed; 0: never */
	bool collapsed;
};

struct tui_synchist {
	char state[24];
	int64_t since_ns;      /* first seen in this state */
	int64_t held_since_ns; /* first seen held by this owner; 0: not held */
	pid_t owner_tid;
	uint64_t word; /* last sampled state word */
	bool have_word;
	uint64_t changes;	/* sampled state changes since the last frame */
	uint64_t shown_changes; /* ... as of the last frame, for display */
};

struct tui_ringhist {
	uint64_t head;
	int64_t head_ns;
	double rate; /* messages per second */
	bool have_rate;
	/* Highest fill of each second, -1 for no data; spark_sec is the
	 * second (of the monotonic clock) of the newest cell. */
	int spark[TUI_SPARK_SECONDS]; /* per mille of capacity */
	int64_t spark_sec;
	/* --sample-hz: min/max fill since the last frame, and at it. */
	uint64_t smin, smax, nsamples;
	uint64_t shown_min, shown_max, shown_n;
};

struct tui_checkhist {
	bool failing;
	time_t first_failed; /* wall clock; 0: never failed */
	time_t failing_since;
	unsigned long
		nfailed; /* times it went from ok (or unseen) to failing */
};

struct tui_tab {
	struct tui_source *src;
	struct snapshot snap;
	bool have;	 /* snap holds a snapshot */
	char err[1024];	 /* the last take's error, "" if none */
	int64_t snap_ns; /* monotonic time of snap */
	struct tui_rowhist *rows;
	size_t nrows;
	size_t *vis; /* row indexes shown, collapsed subtrees skipped */
	size_t nvis;
	uint32_t *hex_changed; /* per byte: ms (monotonic) it changed; 0 */
	size_t nhex;
	struct tui_synchist *syncs;
	size_t nsyncs;
	struct tui_ringhist *rings;
	size_t nrings;
	struct tui_checkhist *checks;
	size_t nchecks;
	size_t *check_order; /* failing first */
	struct panel panels[PANEL_COUNT];
	int focus;
	bool hex;	/* the hex view is shown */
	int64_t now_ns; /* the frame's time, for highlight decisions */
	bool sampling;	/* --sample-hz is on for this tab */
};

extern const struct panel_ops panel_rings_ops, panel_sync_ops, panel_checks_ops,
	panel_fields_ops, panel_hex_ops;

/* panel_fields.c: after a new snapshot (PREV the old one, or NULL). */
void panel_fields_update(struct tui_tab *t, const struct snapshot *prev);
/* Rebuild the visible rows after a collapse/expand. */
void panel_fields_visible(struct tui_tab *t);
/* Find the first row after visible line FROM whose path contains NEEDLE
 * (case-insensitive), expanding its parents; its visible line, or -1. */
long panel_fields_find(struct tui_tab *t, const char *needle, size_t from);

/* panel_hex.c */
void panel_hex_update(struct tui_tab *t, const struct snapshot *prev);

/* panel_sync.c */
void panel_sync_update(struct tui_tab *t);
/*
 * The alerts of tab T, one line each into LINES (up to MAX of LEN bytes):
 * owner-dead locks, locks held longer than STUCK_MS, lock-wait cycles.
 * Returns how many there are (may exceed MAX).
 */
size_t panel_sync_alerts(struct tui_tab *t, int stuck_ms, char *lines,
			 size_t len, size_t max);

/* panel_ring.c */
void panel_rings_update(struct tui_tab *t);

/* panel_checks.c */
void panel_checks_update(struct tui_tab *t);

/* Helpers shared by the panels (tui.c). */

/* Write S at (Y, X), at most W columns, in ATTR; returns columns used. */
int tui_put(int y, int x, int w, int attr_role, const char *s);
/* A duration in a short human form: "850 ms", "3.2 s", "4 min", "2 h". */
void tui_fmt_dur(char *buf, size_t n, int64_t ns);
/* Make *ARR WANT zeroed elements of SIZE (*N = WANT): a history starts
 * over when what it follows changed shape.  False (and *N = 0) on ENOMEM. */
bool tui_reset_hist(void **arr, size_t *n, size_t want, size_t size);

#endif
