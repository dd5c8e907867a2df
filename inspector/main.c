/*
 * main.c - shmscope: look inside live shared-memory segments.
 */
#include <stdio.h>
#include <string.h>

#include "inspector.h"

static const struct {
	const char *name;
	int (*fn)(int, char **);
} commands[] = {
	{"ls", cmd_ls},
	{"layout", cmd_layout},
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: shmscope [OPTIONS] [-l LAYOUT] TARGET...   live view "
		"of segments\n"
		"       shmscope --once [--json] [-l LAYOUT] TARGET...\n"
		"       shmscope ls [--json]                        list "
		"shared-memory objects\n"
		"       shmscope layout FILE [--type NAME] [--abi ABI] "
		"[--json]\n"
		"       shmscope layout --from-dwarf BINARY STRUCT [-o FILE]\n"
		"\n"
		"TARGET is /name or posix:/name (POSIX shm), sysv:KEY, "
		"sysvid:ID,\n"
		"file:PATH, or a path.  Run `shmscope COMMAND --help` for "
		"details.\n");
}

int main(int argc, char **argv)
{
	if (argc >= 2 &&
	    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "--version")) {
		printf("shmscope %s\n", SHMSCOPE_VERSION);
		return 0;
	}
	if (argc >= 2) {
		for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]);
		     i++)
			if (!strcmp(argv[1], commands[i].name))
				return commands[i].fn(argc - 1, argv + 1);
	}
	return cmd_view(argc, argv);
}
