/*
 * rawseg.h - a POSIX segment as raw bytes, for the hex view.
 *
 * The smallest source the TUI can show: no layout, no /proc.  It maps the
 * segment read-only, checks its size before every read so a shrink never
 * raises SIGBUS, remaps when it grows, and notices when the name is
 * unlinked or points at a new segment.  lib/seg will replace it; it lives
 * in this one file so that swap is one line in cmd_view.c.
 */
#ifndef SHMSCOPE_RAWSEG_H
#define SHMSCOPE_RAWSEG_H

struct errbuf;
struct snapshot;
struct tui_source;

struct rawseg;

/* Attach to POSIX segment NAME ("/name") read-only; NULL with E filled. */
struct rawseg *rawseg_open(const char *name, struct errbuf *e);

/* Unmap and free; NULL is fine. */
void rawseg_close(struct rawseg *r);

/*
 * Fill OUT's segment part (name, kind, size, dev, ino, status, bytes — a
 * copy owned by OUT).  0, or -errno with E filled.
 */
int rawseg_take(struct rawseg *r, struct snapshot *out, struct errbuf *e);

/* Attach again to whatever the name names now.  0 or -errno, E filled. */
int rawseg_reattach(struct rawseg *r, struct errbuf *e);

/* A TUI source (take, reattach) reading R; R must outlive it. */
void rawseg_source(struct rawseg *r, struct tui_source *out);

#endif
