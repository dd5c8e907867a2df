/*
 * proc.h - who maps a segment, which process a thread id belongs to, and
 * who is blocked in a futex wait on what, all read from /proc.
 *
 * A segment is named by its device and inode, never by its name: a name can
 * be unlinked and reused, an inode cannot be confused while it is mapped.
 *
 * Device numbers.  /proc/PID/maps prints the device as "MAJOR:MINOR" in hex
 * ("00:1b"); stat(2) gives st_dev, the same device packed by makedev().  So
 * the field is parsed into its two numbers and compared as
 * makedev(major, minor) == st_dev — never by reading "00:1b" as one number
 * (which only agrees for minors below 256).  Every dev_t in this API is in
 * st_dev's encoding.
 *
 * System V segments.  A process that shmat()s segment ID shows a mapping
 * named "/SYSV%08x (deleted)" (the key) whose inode is ID on the kernel's
 * internal shm device (hugetlbfs for SHM_HUGETLB).  struct proc_map marks
 * such mappings (sysv, sysv_key); a SysV segment is identified by its shmid
 * as the inode of a /SYSV mapping.
 *
 * Permissions.  Reading another user's /proc/PID/maps needs ptrace read
 * access, and /proc/PID/task/TID/syscall ptrace attach access.  Processes
 * that could not be inspected are never silently dropped: they are listed
 * (proc_maps.denied, proc_waitproc.denied) so the caller can say so.
 */
#ifndef SHMSCOPE_PROC_H
#define SHMSCOPE_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

/* The kernel's TASK_COMM_LEN: 15 characters and a NUL. */
#define PROC_COMM_MAX 16

/* One line of /proc/PID/maps. */
struct proc_map {
	pid_t pid;
	char comm[PROC_COMM_MAX]; /* the process's comm */
	uint64_t start, end;	  /* [start, end) in that process */
	uint64_t offset;	  /* file offset mapped at start */
	char perms[5];		  /* "rw-s", "r--p", ... */
	dev_t dev;		  /* st_dev encoding (see above) */
	ino_t ino;
	bool deleted; /* the path ends in " (deleted)" (suffix removed) */
	bool sysv;    /* a System V segment: path /SYSVkkkkkkkk */
	key_t sysv_key;
	char *path; /* malloc'd; "" for anonymous mappings */
};

/* A set of mappings, and the processes whose maps could not be read.  The
 * mappings of one process are contiguous, processes in /proc order
 * (ascending pid), so distinct mappers are found by comparing each entry's
 * pid with the previous one. */
struct proc_maps {
	struct proc_map *v;
	size_t n, cap;
	pid_t *denied; /* maps unreadable (EACCES/EPERM), ascending */
	size_t ndenied, capdenied;
	size_t nscanned; /* processes looked at */
};

/* Which mappings a scan keeps. */
enum proc_match {
	PROC_MATCH_DEVINO, /* exactly (dev, ino) */
	PROC_MATCH_SYSVID, /* a /SYSV mapping with inode == the shmid */
	PROC_MATCH_SHM,	   /* everything on the given devs, and all SysV */
	PROC_MATCH_ALL,	   /* every line (for one process) */
};

struct proc_filter {
	enum proc_match match;
	dev_t dev;	   /* DEVINO */
	ino_t ino;	   /* DEVINO; the shmid for SYSVID */
	const dev_t *devs; /* SHM: the devices of /dev/shm (usually one) */
	size_t ndevs;
};

/*
 * Parse one maps LINE (without or with its newline) into M; M->path points
 * into a malloc'd copy the caller frees (or NULL on failure).  Returns 0, or
 * -EINVAL for a malformed line.  M->pid and M->comm are left untouched.
 */
int proc_maps_parse_line(const char *line, struct proc_map *m);

/*
 * Append to OUT the mappings of every process (one pass over /proc/[0-9]*)
 * that F keeps.  OUT must be zeroed or hold an earlier result (the scan
 * appends).  Processes that vanish during the scan are skipped; those whose
 * maps are unreadable go to OUT->denied.  Returns 0 or -errno (/proc
 * unreadable, out of memory) with E filled.
 */
int proc_maps_scan(struct proc_maps *out, const struct proc_filter *f,
		   struct errbuf *e);

/* The same for one process PID.  Returns 0, -ESRCH if it does not exist,
 * -EACCES if its maps are unreadable (PID is added to OUT->denied). */
int proc_maps_scan_pid(struct proc_maps *out, pid_t pid,
		       const struct proc_filter *f, struct errbuf *e);

/* Who maps (DEV, INO): proc_maps_scan with PROC_MATCH_DEVINO. */
int proc_mappers(struct proc_maps *out, dev_t dev, ino_t ino, struct errbuf *e);

/* Every mapping of a /dev/shm object or a SysV segment by any process, in
 * one pass (for `shmscope ls`).  The devices of /dev/shm are found with
 * stat(). */
int proc_shm_mappings(struct proc_maps *out, struct errbuf *e);

/* True when PID appears in M (as a mapper), resp. in M->denied. */
bool proc_maps_has_pid(const struct proc_maps *m, pid_t pid);
bool proc_maps_denied_pid(const struct proc_maps *m, pid_t pid);

/* Remove PID's mappings from M (the inspector dropping itself from a
 * segment's mappers).  Returns how many were removed. */
size_t proc_maps_drop_pid(struct proc_maps *m, pid_t pid);

/* Release what M holds and zero it. */
void proc_maps_free(struct proc_maps *m);

/*
 * Find this process's own mapping containing ADDR (used to learn the dev:ino
 * of a SysV segment after shmat()).  Returns 0 with *M filled (M->path
 * malloc'd: free it), or -ENOENT.
 */
int proc_self_mapping_at(const void *addr, struct proc_map *m,
			 struct errbuf *e);

/* /proc/PID/comm into BUF (PROC_COMM_MAX bytes); 0 or -errno ("?" left in
 * BUF on failure). */
int proc_comm(pid_t pid, char buf[PROC_COMM_MAX]);

/* /proc/PID/cmdline with its NULs turned into spaces, truncated to LEN-1;
 * 0 or -errno.  Kernel threads give "". */
int proc_cmdline(pid_t pid, char *buf, size_t len);

/* The thread-group id (process id) of thread TID from /proc/TID/status,
 * which exists for every thread, not just the main one.  Returns the tgid,
 * or -ESRCH when TID does not exist or is a zombie/dead task. */
pid_t proc_tgid(pid_t tid);

/* ---- thread id -> process ------------------------------------------- */

enum proc_tid_state {
	PROC_TID_MATCH,	  /* alive, and its process maps the segment */
	PROC_TID_REUSED,  /* alive, but its process does not map it */
	PROC_TID_GONE,	  /* no such thread (or a zombie) */
	PROC_TID_UNKNOWN, /* alive; whether it maps it could not be read */
};

struct proc_tid {
	pid_t tid;
	pid_t pid;		  /* its process; 0 when gone */
	char comm[PROC_COMM_MAX]; /* the process's comm; "" when gone */
	enum proc_tid_state state;
};

/*
 * Resolve TID, a thread id read from a lock in segment (DEV, INO).  The
 * match is trusted only when the thread's process maps that segment: thread
 * ids are reused, and one written in another pid namespace names someone
 * else here.  With MAPPERS (a proc_mappers() result for the segment, which
 * makes resolving thousands of ids cheap) membership is looked up there;
 * without, the process's maps are read.  A TID that is a mapper's pid (a
 * main thread) is answered from MAPPERS without reading /proc; any other
 * costs a read of /proc/TID/status (about 20 us), so a caller resolving
 * many ids per snapshot should remember its answers for that snapshot.
 * Always returns 0 with OUT filled.
 */
int proc_tid_resolve(pid_t tid, dev_t dev, ino_t ino,
		     const struct proc_maps *mappers, struct proc_tid *out);

/* "alive", "gone", "gone (tid reused by 1234 cat)", "unknown (no
 * permission to read 1234's maps)" into BUF. */
const char *proc_tid_describe(const struct proc_tid *t, char *buf, size_t len);

/* ---- who waits on what -------------------------------------------- */

/* A thread blocked in futex() on an address inside the segment. */
struct proc_waiter {
	pid_t pid, tid;
	char comm[PROC_COMM_MAX];  /* the process's comm */
	char tcomm[PROC_COMM_MAX]; /* the thread's comm */
	uint64_t uaddr;		   /* the futex address in that process */
	uint64_t offset;	   /* ... as an offset in the segment */
	int futex_op;		   /* op argument as passed (with flags) */
	uint32_t futex_val;	   /* the value it expects to change */
};

/* One process that maps the segment, as the scan saw it. */
struct proc_waitproc {
	pid_t pid;
	char comm[PROC_COMM_MAX];
	int nthreads; /* threads looked at */
	bool denied;  /* some task/TID/syscall could not be read */
	bool gone;    /* exited before its threads could be read */
};

struct proc_waiters {
	struct proc_waiter *v;
	size_t n, cap;
	struct proc_waitproc *procs; /* every mapping process, pid order */
	size_t nprocs;
};

/*
 * For each process in MAPPERS (a proc_mappers() result for one segment) and
 * each of its threads, read /proc/PID/task/TID/syscall; a thread blocked in
 * futex (the number of its process's ABI, see abi_is_futex_nr) whose uaddr
 * lies in one of that process's mappings of the segment becomes a waiter
 * with the address turned into a segment offset.  OUT->procs lists every
 * process of MAPPERS, each flagged when its threads could not be read; the
 * processes whose maps could not be read at all are in MAPPERS->denied (not
 * repeated here).  OUT must be zeroed.  Returns 0 or -ENOMEM.
 */
int proc_waiters_scan(const struct proc_maps *mappers, struct proc_waiters *out,
		      struct errbuf *e);

void proc_waiters_free(struct proc_waiters *w);

/* "wait", "wait_bitset", "lock_pi", "lock_pi2", "wait_requeue_pi", else
 * "op N"; the PRIVATE and CLOCK_REALTIME flags are ignored. */
const char *proc_futex_op_name(int op, char *buf, size_t len);

#endif
