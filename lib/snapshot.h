/*
 * snapshot.h - one moment of a segment, as the inspector shows it.
 *
 * A snapshot is plain data: the segment's identity and status, the bytes,
 * the field rows of its layout (a flattened tree), the decoded sync objects
 * with their owners and waiters, the rings, the checks, and the processes
 * mapping it.  The builder (snap_take) joins the layout, the sync decoders
 * and /proc; the TUI, `--once` and `--json` only read snapshots, so each can
 * be tested with snapshots of real segments without the others.
 *
 * All strings are owned by the snapshot and freed by snap_free().
 */
#ifndef SHMSCOPE_SNAPSHOT_H
#define SHMSCOPE_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "err.h"
#include "proc.h"
#include "seg.h"
#include "sync.h"
#include "synckind.h"

/* How a leaf's value is typed in JSON. */
enum snap_vtype {
	SNAP_V_NONE, /* aggregate (struct, union, array): see children */
	SNAP_V_INT,
	SNAP_V_UINT,
	SNAP_V_FLOAT,
	SNAP_V_STR,
	SNAP_V_BOOL,
};

/* One row of the field tree, in display order (parents before children). */
struct snap_row {
	int depth;	  /* 0 for the root struct */
	int parent;	  /* index of the parent row, -1 for the root */
	const char *name; /* last path component: "lock", "slots[3]", "seq" */
	const char *path; /* "ring.slots[3].seq" */
	const char *type; /* C type as written: "uint32_t", "struct message" */
	uint64_t offset;  /* absolute, from the start of the segment */
	uint64_t size;
	const char *value; /* formatted per annotations; NULL for aggregates */
	enum snap_vtype vtype;
	union {
		long long i;
		unsigned long long u;
		double f;
	} v;	       /* the leaf's value for JSON; strings use value */
	bool is_array; /* aggregate shown as a JSON array */
	bool has_children;
	int sync; /* index into snapshot.syncs, or -1 */
};

struct snap_proc {
	pid_t pid;
	char comm[32];
	uint64_t start, end; /* address range of its mapping */
	bool no_permission;  /* could not read its /proc entries */
};

struct snap_waiter {
	pid_t pid, tid;
	char comm[32];
};

/* A decoded synchronisation object (DESIGN.md's "sync" entries). */
struct snap_sync {
	const char *path;
	enum sync_kind kind;
	uint64_t offset;
	char state[24];	 /* free|locked|contended|owner-dead|... */
	long long value; /* sem value, readers, futex word ... */
	int waiters;	 /* from the object's bytes */
	pid_t owner_tid; /* 0: none */
	pid_t owner_pid; /* 0: unknown */
	char owner_comm[32];
	int owner_alive;	     /* 1 alive, 0 gone, -1 unknown/no owner */
	char detail[256];	     /* "recursive, count 3; owner 12 gone" */
	struct sync_state st;	     /* everything the decoder found */
	struct snap_waiter *waiting; /* threads seen blocked on it (/proc) */
	size_t nwaiting;
};

struct snap_ring {
	const char *path;
	uint64_t head, tail, capacity, used;
	bool valid; /* false if head/tail are inconsistent */
};

struct snap_check {
	const char *expr;
	bool ok;
	const char *error; /* evaluation error, or NULL */
};

enum snap_seg_status {
	SNAP_SEG_OK,
	SNAP_SEG_GREW,
	SNAP_SEG_SHRANK,
	SNAP_SEG_UNLINKED,
	SNAP_SEG_RECREATED,
};

struct snapshot {
	struct timespec when; /* CLOCK_REALTIME of the read */
	/* Segment. */
	const char *name; /* as the user named it */
	const char *kind; /* "posix" | "sysv" | "file" */
	uint64_t size;	  /* readable size now */
	uint64_t dev, ino;
	enum snap_seg_status status;
	const char *status_msg; /* "segment shrank to 64 bytes", or NULL */
	/* The bytes read (size bytes). */
	const uint8_t *bytes;
	/* Processes mapping it. */
	struct snap_proc *procs;
	size_t nprocs;
	/* Layout-derived parts; all empty without a layout. */
	const char *root_type; /* "ring" */
	struct snap_row *rows;
	size_t nrows;
	struct snap_sync *syncs;
	size_t nsyncs;
	struct snap_ring *rings;
	size_t nrings;
	struct snap_check *checks;
	size_t nchecks;
	/* Private: the arena every string and array above lives in. */
	void *arena_;
};

/* Allocate N zeroed bytes owned by S (freed by snap_free); NULL on ENOMEM. */
void *snap_alloc(struct snapshot *s, size_t n);

/* The same without zeroing, for buffers about to be filled whole. */
void *snap_alloc_raw(struct snapshot *s, size_t n);

/* Copy STR into S's arena; NULL on ENOMEM. */
char *snap_strdup(struct snapshot *s, const char *str);

/* Release everything a snapshot owns and zero it. */
void snap_free(struct snapshot *s);

struct json;
struct layout;
struct layout_type;
struct value_tree;

/*
 * Where snapshots come from: one attached segment and, optionally, the
 * layout that describes it.  Treat as opaque outside snapshot_take.c.
 */
struct snap_source {
	struct seg seg;
	const struct layout *layout; /* NULL: bytes only */
	const struct layout_type *root;
	struct value_tree *vt;
	struct sync_target sync;
	unsigned events; /* SEG_EV_* not yet shown */
	/* The processes mapping the segment, from the last full scan of
	 * /proc (see snap_take): reused while younger than mappers_ttl_ms and
	 * all of them still alive.  mappers_ttl_ms is 0 (rescan every time)
	 * until the caller sets it. */
	struct proc_maps mappers;
	bool have_mappers;
	struct timespec mappers_at;
	unsigned mappers_ttl_ms;
	unsigned mapper_scans; /* full scans made (tests, benchmarks) */
};

/*
 * Attach read-only to TARGET (DESIGN.md's target syntax) described by
 * layout L (may be NULL), whose root is TYPE_NAME or else the layout's
 * root.  TARGET may be NULL when the root has @segment.  L must outlive
 * SRC.  Returns 0 or -errno with E saying why.
 */
int snap_source_open(struct snap_source *src, const char *target,
		     const struct layout *l, const char *type_name,
		     struct errbuf *e);

/* Attach again by the same target (the segment was recreated). */
int snap_source_reattach(struct snap_source *src, struct errbuf *e);

void snap_source_close(struct snap_source *src);

/*
 * Read the segment now and build OUT from it: bytes, mappers, field rows,
 * sync objects (owners resolved through /proc, owner-dead when the owner
 * is gone, waiters from the threads blocked in futex on them), rings and
 * checks.  OUT owns its bytes (OUT->bytes), so a viewer can keep it next
 * to the following one to see what changed.
 * Growth, shrinking, unlinking and recreation are reported in OUT->status,
 * not as errors.  Returns 0, or -errno when the segment cannot be read at
 * all.  Free OUT with snap_free().
 */
int snap_take(struct snap_source *src, struct snapshot *out, struct errbuf *e);

/* Whether any check of S failed (the exit status 3 of batch mode). */
bool snap_any_check_failed(const struct snapshot *s);

/*
 * Write S as the JSON object of DESIGN.md / docs/json.md: "segment",
 * "fields" (every field below the root, aggregates with nested values),
 * "sync", "rings", "checks".
 */
void snap_write_json(const struct snapshot *s, struct json *j);

#endif
