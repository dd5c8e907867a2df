/*
 * cmd_layout.c - placeholder until its issue lands.
 */
#include <stdio.h>

#include "inspector.h"

int cmd_layout(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "shmscope: layout: not implemented yet\n");
	return 2;
}
