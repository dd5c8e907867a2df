/*
 * seg.h - naming, attaching read-only to, and following a live segment.
 *
 * Targets (DESIGN.md, "Targets on the command line"; docs/targets.md):
 *   /name, posix:/name     POSIX shared memory (/dev/shm/name)
 *   sysv:KEY               System V segment by key (0x hex, or decimal)
 *   sysvid:ID              System V segment by shmid
 *   file:PATH              any file, mapped shared
 *   PATH                   a path with a '/' that is not under /dev/shm
 *                          ("/dev/shm/x" means the POSIX segment "/x")
 *
 * Attaching is always read-only: O_RDONLY + PROT_READ + MAP_SHARED, or
 * shmat(SHM_RDONLY).  Nothing here ever writes to a segment.
 *
 * A live segment changes under its observer.  seg_refresh() notices it:
 *   grew       POSIX/file: the mapping is extended (mremap; s->base may
 *              move) and s->size is the new size.
 *   shrank     s->size is clamped to the new size, so reads never touch
 *              the pages past the end (which would raise SIGBUS); the
 *              mapping itself is kept, so growing back needs no remap.
 *   unlinked   the name no longer exists; the mapping stays readable.
 *   replaced   the name now names another object (another inode, or for
 *              sysv:KEY another shmid): say so, and seg_reattach() to
 *              follow it.
 *   removed    SysV: marked for removal (IPC_RMID while attached).
 *
 * Safe reads.  Never dereference s->base directly: a page past the end of
 * a file that shrank raises SIGBUS.  Two ways to read:
 *  - seg_read() copies a range (a snapshot).  It checks the size with
 *    fstat() just before the copy (POSIX/file) and copies an aligned 8-byte
 *    word at a time, each word one load, so no aligned value of up to 8
 *    bytes is torn.  Should the file shrink between the check and the copy,
 *    the SIGBUS guard below ends the copy short and the size is clamped.
 *  - seg_load() reads one aligned 1/2/4/8-byte value with a single load
 *    from the mapping, so it is never torn, for fields a writer updates
 *    atomically (lock words, ring indexes).  It does not call fstat; the
 *    last guard is a SIGBUS handler (seg_guard_install) that turns a fault
 *    inside the load into -EFAULT and clamps the size.
 */
#ifndef SHMSCOPE_SEG_H
#define SHMSCOPE_SEG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ipc.h>
#include <sys/types.h>

#include "err.h"

enum seg_kind {
	SEG_POSIX,
	SEG_SYSV,
	SEG_FILE,
};

/* A parsed target. */
struct seg_target {
	enum seg_kind kind;
	char name[PATH_MAX]; /* POSIX "/name"; FILE the path; SYSV "" */
	bool by_id;	     /* SYSV: sysvid:ID rather than sysv:KEY */
	key_t key;	     /* SYSV by key */
	int shmid;	     /* SYSV by id */
};

/*
 * Parse ARG into T.  Returns 0, or -EINVAL with E saying what is wrong
 * ("sysv:zz: not a key").  A POSIX name is a single '/'-prefixed component
 * of at most NAME_MAX bytes.
 */
int seg_parse_target(const char *arg, struct seg_target *t, struct errbuf *e);

/* "posix", "sysv", "file". */
const char *seg_kind_name(enum seg_kind k);

/* The target as a user would type it back: "/ring", "sysv:0x00001234",
 * "sysvid:42", "file:/tmp/x". */
const char *seg_target_str(const struct seg_target *t, char *buf, size_t len);

/* seg_refresh() events (a bit set). */
enum {
	SEG_EV_GREW = 1 << 0,
	SEG_EV_SHRANK = 1 << 1,
	SEG_EV_UNLINKED = 1 << 2,
	SEG_EV_REPLACED = 1 << 3,
	SEG_EV_REMOVED = 1 << 4,
};

/* An attached segment.  Treat as read-only outside seg.c. */
struct seg {
	struct seg_target target;
	char name[PATH_MAX + 16]; /* seg_target_str() of the target */
	int fd;			  /* POSIX/FILE: kept open for fstat; else -1 */
	int shmid;		  /* SYSV; else -1 */
	const void *base;	  /* NULL while the size is 0 */
	size_t map_size;	  /* bytes mapped */
	size_t size;		  /* bytes that may be read now (<= map_size) */
	dev_t dev;		  /* st_dev encoding (see proc.h) */
	ino_t ino;		  /* SYSV: the shmid */
	unsigned state;		  /* SEG_EV_* that currently hold */
	size_t seen_size;	  /* size at the last seg_refresh (private) */
};

/*
 * Attach read-only to T.  S is filled; on failure S is left detached
 * (seg_detach is harmless) and E says why ("/ring: No such file or
 * directory", "sysv:0x1234: Permission denied").  Returns 0 or -errno.
 */
int seg_attach(struct seg *s, const struct seg_target *t, struct errbuf *e);

/* seg_parse_target + seg_attach. */
int seg_open(struct seg *s, const char *arg, struct errbuf *e);

/* Unmap/detach and close.  S may be zeroed or detached already. */
void seg_detach(struct seg *s);

/*
 * Look at the object again.  Returns the SEG_EV_* events that happened
 * since the last call (0: nothing changed), or -errno when the segment can
 * no longer be examined at all.  s->state holds the conditions that are
 * true now (e.g. SEG_EV_UNLINKED stays set while the name is missing).
 * A segment that grew is remapped here (s->base may change).
 */
int seg_refresh(struct seg *s, struct errbuf *e);

/* Detach and attach again by the same target (after SEG_EV_REPLACED or
 * SEG_EV_UNLINKED when the name came back).  On failure S keeps the old
 * attachment.  Returns 0 or -errno. */
int seg_reattach(struct seg *s, struct errbuf *e);

/* Describe EVENTS as one line, e.g. "segment shrank to 4096 bytes; name
 * unlinked (old mapping still readable)". */
const char *seg_describe(const struct seg *s, unsigned events, char *buf,
			 size_t len);

/*
 * Copy up to LEN bytes at offset OFF into DST, never past the current end
 * of the object (see "Safe reads" above).  Returns the number of bytes
 * copied (0 at or past the end), or -errno.  A short copy because the
 * object shrank under us clamps s->size and sets SEG_EV_SHRANK in
 * s->state.
 */
ssize_t seg_read(struct seg *s, size_t off, void *dst, size_t len);

/*
 * Read the WIDTH-byte (1, 2, 4, 8) value at OFF, native byte order, with
 * one load when OFF is aligned to WIDTH (bytewise otherwise).  Returns 0,
 * -ERANGE when it is not wholly inside the current size, -EINVAL for a bad
 * WIDTH, or -EFAULT when the page was gone (the object shrank since the
 * last refresh: s->size is clamped and SEG_EV_SHRANK set in s->state).
 */
int seg_load(struct seg *s, size_t off, unsigned width, uint64_t *out);

/*
 * Install the SIGBUS guard seg_load() relies on (done by the first
 * seg_load anyway; idempotent).  It chains to the handler installed before
 * it, so a program with its own fatal-signal handler (the TUI restoring the
 * terminal) should install that first and then call this; a handler
 * installed later replaces the guard.
 */
void seg_guard_install(void);

#endif
