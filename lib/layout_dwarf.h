/*
 * layout_dwarf.h - write a layout file from a binary's DWARF debug info.
 *
 * Uses elfutils' libdw: a program linking this needs -ldw -lelf.
 */
#ifndef SHMSCOPE_LAYOUT_DWARF_H
#define SHMSCOPE_LAYOUT_DWARF_H

#include <stdio.h>

#include "err.h"

/*
 * Write to OUT a layout file declaring type NAME ("ring", "struct ring" or
 * a typedef name) of BINARY and every type it needs, in an order the
 * parser accepts.  glibc's sync types come out by their names
 * (pthread_mutex_t, sem_t, ...), <stdint.h> names as themselves; a
 * struct whose offsets the C rules would not reproduce gets @packed or
 * @offset(n) on its members, so the file parses to the same offsets as
 * the binary's (it is parsed back and compared before it is written).
 * Returns 0 or -errno with a message in E.
 */
int layout_dwarf_write(const char *binary, const char *name, FILE *out,
		       struct errbuf *e);

#endif
