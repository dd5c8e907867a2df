/*
 * crt.h - the only module that talks to curses about the terminal.
 *
 * As htop's CRT.c: it sets the terminal up (wide characters, colors or
 * their monochrome stand-ins), reads keys with a deadline, and puts the
 * terminal back on every way out — return, exit(), and the fatal signals
 * (SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL, SIGTERM, SIGINT, SIGHUP,
 * SIGQUIT), after which the signal is raised again so the exit status
 * tells the truth.  Panels draw with curses calls using crt_attr[].
 */
#ifndef SHMSCOPE_CRT_H
#define SHMSCOPE_CRT_H

#include <stdbool.h>
#include <stdint.h>

#include <ncursesw/curses.h>

struct errbuf;

enum crt_color {
	CRT_NORMAL,
	CRT_TITLE,	 /* top line */
	CRT_PANEL,	 /* a panel's title bar */
	CRT_PANEL_FOCUS, /* the focused panel's title bar */
	CRT_CURSOR,	 /* the selected line */
	CRT_CHANGED,	 /* a value that just changed */
	CRT_ALERT,	 /* owner dead, stuck, deadlock, failed check */
	CRT_WARN,	 /* segment status */
	CRT_OK,		 /* a check that holds, a free lock */
	CRT_BUSY,	 /* a held lock */
	CRT_DIM,	 /* offsets, types, secondary text */
	CRT_GAUGE,	 /* the filled part of a gauge */
	CRT_KEY,	 /* the function-key bar: the key */
	CRT_KEY_LABEL,	 /* ... and what it does */
	CRT_TAB_ACTIVE,	 /* the current tab's name */
	CRT_COLOR_COUNT
};

/* Attributes per role; monochrome ones without color. */
extern attr_t crt_attr[CRT_COLOR_COUNT];

/* True when the locale is UTF-8: block elements may be drawn. */
extern bool crt_utf8;

/*
 * Set the terminal up for the screen: locale, curses, colors when COLOR,
 * and the signal handlers.  0, or -1 with a message in E (no terminal).
 */
int crt_init(bool color, struct errbuf *e);

/* Put the terminal back as it was; safe to call twice. */
void crt_done(void);

/*
 * The next key, waiting at most TIMEOUT_NS nanoseconds (0: do not wait).
 * Returns the key (KEY_RESIZE after a resize), or ERR when none came.
 * Precise to well under a millisecond, for --sample-hz.
 */
int crt_read_key(int64_t timeout_ns);

/* Nanoseconds on CLOCK_MONOTONIC. */
int64_t crt_now_ns(void);

#endif
