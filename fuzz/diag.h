/*
 * diag.h - what a hung run was doing when it was stopped.
 *
 * fuzz_diag_collect() reads the tree from /proc: every process, every
 * thread, the system call each thread is in and, for futex waits, the
 * (segment, offset) of the futex word, found through the process's shared
 * mappings.  The writers turn that into diagnosis.txt / diagnosis.json and
 * into the "shape" that groups identical hangs.
 *
 * With a layout, fuzz_diag_enrich() (enrich.c) names each futex by its
 * field, decodes the locks' owners and waiters, and finds wait-for cycles
 * and dead owners: the `note` of a thread and the `extra` of the
 * diagnosis, which both writers print.
 */
#ifndef SHMFUZZ_DIAG_H
#define SHMFUZZ_DIAG_H

#include <stdint.h>
#include <sys/types.h>

#include "fuzz.h"

#define DIAG_MAX_PROCS	 256
#define DIAG_MAX_THREADS 64
#define DIAG_MAX_MAPS	 32

/* A shared mapping of a segment in one process. */
struct diag_map {
	uint64_t start, end, pgoff;
	char seg[256]; /* "/name", "sem:/name", "sysv:0xKEY", "file:PATH" */
};

struct diag_thread {
	pid_t tid;
	char comm[64];
	char state;
	char wchan[64];
	long nr; /* system call number; -1 none, -2 running */
	uint64_t args[6];
	char call[32];	 /* its name, "running" or "-" */
	bool futex;	 /* blocked in a futex wait */
	uint64_t uaddr;	 /* the futex word */
	char seg[256];	 /* its segment, "" when in private memory */
	uint64_t off;	 /* its offset in the segment */
	char field[128]; /* enrich: the field of the futex, "ring.lock" */
	char note[256];	 /* enrich: "waits on ring.lock ... held by 1234" */
};

struct diag_proc {
	pid_t pid, ppid, pgid;
	char comm[64];
	char state;
	char cmdline[256];
	struct diag_thread th[DIAG_MAX_THREADS];
	int nth;
	struct diag_map map[DIAG_MAX_MAPS];
	int nmap;
};

struct fuzz_diag {
	struct diag_proc p[DIAG_MAX_PROCS];
	int np;
	char extra[8192]; /* enrich: findings about the whole tree */
};

/* Read the tree under ROOT into D.  Returns 0 or -errno. */
int fuzz_diag_collect(pid_t root, struct fuzz_diag *d);
/* Add what the layout and the sync decoders know to D: the field each
 * futex is, every sync object held or waited on with its owner and
 * waiters, wait-for cycles, dead owners.  DIR is the run's folder (its
 * status.txt names processes already reaped).  Nothing without -l. */
void fuzz_diag_enrich(struct fuzz_diag *d, const struct fuzz_opts *o,
		      const char *dir);

#endif
