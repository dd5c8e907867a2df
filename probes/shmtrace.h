/*
 * shmtrace.h - the parts of the shmtrace program, grouped by file.
 */
#ifndef SHMSCOPE_SHMTRACE_H
#define SHMSCOPE_SHMTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace.h"

/* shmtrace.c */
extern const char *shmtrace_prog;

/* The number ARG of option OPT ("--top") into *OUT: decimal, LO to HI.
 * 0, or -1 after saying on stderr which option and why. */
int shmtrace_count(const char *opt, const char *arg, long lo, long hi,
		   long *out);

/* What report and story do first: load the layout at LAYOUT (NULL: none)
 * for SEGMENT, open the trace in DIR.  0, or 1 (the exit status) after
 * saying why on stderr; on 1 nothing stays loaded. */
int shmtrace_open(const char *layout, const char *segment, const char *dir,
		  struct trace_reader **r);

/* record.c: shmtrace record [-o DIR] [--backtrace N] [--events L] -- PROG */
int cmd_record(int argc, char **argv);

/* ahead.c: populate ahead of the traced processes (see there why). */
struct ahead;
struct ahead_stats {
	unsigned files;	    /* trace files helped */
	uint64_t populated; /* bytes faulted in ahead of their writers */
	uint64_t released;  /* bytes of that given back after they ended */
	uint64_t cpu_ns;    /* this process's CPU time since ahead_open() */
};

/* Start watching DIR, the trace folder of a record.  0 or -errno. */
int ahead_open(struct ahead **a, const char *dir, struct errbuf *e);

/* A descriptor that becomes readable when DIR may hold a new trace file,
 * or -1 (then every round reads the folder). */
int ahead_fd(const struct ahead *a);

/* One round: find new trace files, populate the next pages of each
 * running process's event area, release the unused tail of the files of
 * processes that are gone.  Returns the milliseconds to wait (at most)
 * before the next round. */
int ahead_round(struct ahead *a);

/* Release what can be released, stop, free A (NULL is fine); ST (may be
 * NULL) gets the totals. */
void ahead_close(struct ahead *a, struct ahead_stats *st);

/* report.c: shmtrace report [-l LAYOUT] [--segment NAME] [--json]
 * [--top N] DIR */
int cmd_report(int argc, char **argv);

/* export.c: shmtrace export --chrome DIR; shmtrace dump DIR */
int cmd_export(int argc, char **argv);
int cmd_dump(int argc, char **argv);

/* symbolize.c: "func+0x12 (file.c:40)" for PC of process P; the ELF files
 * stay open until sym_cleanup(). */
void sym_pc(const struct trace_proc *p, uint64_t pc, char *buf, size_t len);
void sym_cleanup(void);

/* story.c: shmtrace story [-l LAYOUT] [--segment NAME] [--last N]
 * [--json] DIR */
int cmd_story(int argc, char **argv);

/* report.c: parse the layout at PATH (NULL: none) that names objects from
 * now on, for segment SEGMENT (NULL: as DESIGN.md says); 0, or -EINVAL
 * with the parser's message in E.  report_layout_unload() frees it. */
int report_layout_load(const char *path, const char *segment, struct errbuf *e);
void report_layout_unload(void);

/* report.c: the name of the object at OFFSET of segment SEG, into BUF:
 * "segment+0xOFFSET" today; the field path once a layout is given. */
void report_name_object(const struct trace_map *seg, uint64_t offset, char *buf,
			size_t len);

#endif
