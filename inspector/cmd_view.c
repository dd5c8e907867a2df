/*
 * cmd_view.c - placeholder until its issue lands.
 */
#include <stdio.h>

#include "inspector.h"

int cmd_view(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "shmscope: view: not implemented yet\n");
	return 2;
}
