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

#endif
