/*
 * inspector.h - the shmscope program's commands.
 *
 * main.c picks a command from argv[1] and hands it argc/argv starting at the
 * command's name (argv[0] is "ls", "layout", ...).  A command returns the
 * program's exit status: 0 ok, 1 failure, 2 usage error, 3 a @check failed.
 */
#ifndef SHMSCOPE_INSPECTOR_H
#define SHMSCOPE_INSPECTOR_H

/* cmd_ls.c: `shmscope ls [--json]` — every shared-memory object. */
int cmd_ls(int argc, char **argv);

/* cmd_layout.c: `shmscope layout FILE ...` — print a laid-out layout. */
int cmd_layout(int argc, char **argv);

/* cmd_view.c: `shmscope [opts] TARGET...` — the live view and batch mode. */
int cmd_view(int argc, char **argv);

/* source.c: one segment (and its layout) as a tab of the live view. */
struct view_source;
struct layout;
struct snapshot;
struct tui_source;
struct errbuf;

/* Attach to TARGET (or the layout's @segment when NULL) described by L
 * (may be NULL); NULL with E filled on failure. */
struct view_source *view_source_open(const char *target, const struct layout *l,
				     const char *type_name, struct errbuf *e);

/* Fill T so the TUI takes its snapshots and samples from VS. */
void view_source_tui(struct view_source *vs, struct tui_source *t);

/* One snapshot, for batch mode: snap_take() on VS's segment. */
int view_source_take(struct view_source *vs, struct snapshot *out,
		     struct errbuf *e);

void view_source_close(struct view_source *vs);

#endif
