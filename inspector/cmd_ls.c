/*
 * cmd_ls.c - placeholder until its issue lands.
 */
#include <stdio.h>

#include "inspector.h"

int cmd_ls(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "shmscope: ls: not implemented yet\n");
	return 2;
}
