/*
 * shmobj.h - every shared-memory object on the machine, and who maps it.
 *
 * Three sources: /dev/shm (POSIX segments, and POSIX named semaphores,
 * which glibc keeps there as "sem.NAME"), /proc/sysvipc/shm (System V
 * segments, including those marked for removal that still have attached
 * processes), and the mappings of every process (proc.h), matched to the
 * objects by device and inode.  A POSIX object that was unlinked but is
 * still mapped somewhere is found from the mappings alone and listed too.
 *
 * Nothing is skipped because the caller lacks permission: what stat() and
 * /proc/sysvipc tell anyone is always there; the processes whose mappings
 * could not be read are listed in shmobj_list.denied.
 */
#ifndef SHMSCOPE_SHMOBJ_H
#define SHMSCOPE_SHMOBJ_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "err.h"
#include "proc.h"

enum shmobj_kind {
	SHMOBJ_POSIX, /* /dev/shm/NAME */
	SHMOBJ_SEM,   /* /dev/shm/sem.NAME: a POSIX named semaphore */
	SHMOBJ_SYSV,  /* a System V segment */
};

/* One process mapping an object (all its mappings of it folded). */
struct shmobj_mapper {
	pid_t pid;
	char comm[PROC_COMM_MAX];
	unsigned nmaps;	 /* how many mappings of it the process has */
	uint64_t mapped; /* bytes mapped, all mappings together */
	bool writable;	 /* at least one mapping is writable */
};

struct shmobj {
	enum shmobj_kind kind;
	char name[NAME_MAX + 2]; /* POSIX/SEM: "/NAME" as shm_open/sem_open
				    take it ("/x" for sem.x); SYSV: "" */
	key_t key;		 /* SYSV (0: IPC_PRIVATE or removed) */
	int shmid;		 /* SYSV; -1 otherwise */
	uint64_t size;
	bool size_known; /* false for an unlinked object seen only mapped */
	uid_t uid;
	gid_t gid;
	char owner[33]; /* user name, or the uid in decimal */
	char group[33];
	mode_t mode;	      /* permission bits (07777) */
	time_t atime;	      /* POSIX: access; SYSV: last shmat */
	time_t mtime;	      /* POSIX: modification (size changes) */
	time_t ctime;	      /* POSIX: status change; SYSV: last shmctl change
				 (its creation if never changed) */
	time_t dtime;	      /* SYSV: last shmdt */
	pid_t cpid, lpid;     /* SYSV: creator, last shmat/shmdt */
	unsigned long nattch; /* SYSV: attach count as the kernel counts */
	uint64_t rss, swap;   /* SYSV: resident and swapped bytes */
	bool dest;	      /* SYSV: marked for removal, still attached */
	bool unlinked;	      /* POSIX: name gone, still mapped */
	bool readable;	      /* the caller may open it for reading */
	dev_t dev;	      /* POSIX/SEM: st_dev; SYSV: 0 (see proc.h) */
	ino_t ino;	      /* POSIX/SEM: inode; SYSV: the shmid */
	struct shmobj_mapper *mappers; /* ascending pid */
	size_t nmappers;
};

struct shmobj_list {
	struct shmobj *v; /* POSIX, SEM (by name), then SYSV (by shmid) */
	size_t n, cap;
	size_t nscanned; /* processes whose maps were looked at */
	pid_t *denied;	 /* processes whose maps could not be read */
	size_t ndenied;
	bool no_sysv;  /* /proc/sysvipc/shm could not be read */
	bool no_posix; /* /dev/shm could not be read */
};

/*
 * Fill OUT (zeroed by the caller) with every object and its mappers.
 * Returns 0, or -errno only when nothing could be listed at all (or out of
 * memory), with E filled; a missing /dev/shm or /proc/sysvipc alone is
 * noted in no_posix/no_sysv.
 */
int shmobj_list(struct shmobj_list *out, struct errbuf *e);

void shmobj_list_free(struct shmobj_list *l);

/* "posix", "sem", "sysv". */
const char *shmobj_kind_name(enum shmobj_kind k);

/* MODE's permission bits as "rw-r--r--" into BUF (10 bytes). */
const char *shmobj_mode_str(mode_t mode, char buf[10]);

#endif
