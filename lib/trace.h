/*
 * trace.h - the on-disk format of a shmtrace trace, and a reader for it.
 *
 * Every traced process writes one file, DIR/<pid>-<ns>.shmtrace, mapped
 * MAP_SHARED by the probe (libshmprobe.so), so whatever the process wrote
 * is in the page cache the moment it is written: a SIGKILL loses nothing.
 * The file is, in this order (all offsets are in the header):
 *
 *   struct trace_header        one page: who, when, the clock calibration
 *   struct trace_map[]         every mapping of a segment or of code, with
 *                              the time it appeared and the time it went
 *   struct trace_stack[]       deduplicated call stacks (open hashing)
 *   chunks                     TRACE_CHUNK_SIZE bytes each: a trace_chunk
 *                              header and fixed 32-byte trace_events
 *
 * A thread claims a chunk with one atomic add on the header's chunks_used
 * and appends events to it without any atomic operation; when the chunk is
 * full it claims the next one and links it from the old one (chunk.next),
 * so each thread's events form one chain in time order.  When the file is
 * full, events are counted in header.dropped instead: nothing is lost
 * without being counted.  An event is valid once its op is non-zero (the
 * last word is stored last, with release order).
 *
 * docs/trace-format.md describes the same for people.
 */
#ifndef SHMSCOPE_TRACE_H
#define SHMSCOPE_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

#define TRACE_MAGIC	  0x3143525454484d53ULL /* "SMHTTRC1" */
#define TRACE_VERSION	  1
#define TRACE_HEADER_SIZE 4096
#define TRACE_CHUNK_SIZE  65536
#define TRACE_CHUNK_MAGIC 0x4b4e4843u /* "CHNK" */
#define TRACE_MAPS_MAX	  2048
#define TRACE_STACK_SLOTS 8192
#define TRACE_STACK_DEPTH 16
#define TRACE_FILE_SUFFIX ".shmtrace"
#define TRACE_DEFAULT_MB  64

enum trace_clock {
	TRACE_CLOCK_MONOTONIC = 1, /* ticks are CLOCK_MONOTONIC ns */
	TRACE_CLOCK_TSC = 2,	   /* ticks are an invariant TSC */
};

enum trace_state {
	TRACE_RUNNING = 0, /* no clean end seen: still running, or killed */
	TRACE_EXITED = 1,  /* exit(), _exit() or return from main */
	TRACE_EXECED = 2,  /* replaced by exec (the new image has a file) */
};

/* Operations.  The classes (TRACE_CLASS_*) are what --events selects. */
enum trace_op {
	TRACE_OP_NONE = 0,
	/* mutex */
	TRACE_MUTEX_INIT,
	TRACE_MUTEX_DESTROY,
	TRACE_MUTEX_LOCK, /* lock, timedlock, clocklock; wait = blocked */
	TRACE_MUTEX_TRYLOCK,
	TRACE_MUTEX_UNLOCK,
	TRACE_MUTEX_CONSISTENT,
	TRACE_MUTEX_BLOCK, /* about to block: the lock was busy */
	/* rwlock */
	TRACE_RW_INIT,
	TRACE_RW_DESTROY,
	TRACE_RW_RDLOCK,
	TRACE_RW_WRLOCK,
	TRACE_RW_TRYRDLOCK,
	TRACE_RW_TRYWRLOCK,
	TRACE_RW_UNLOCK,
	TRACE_RW_BLOCK,
	/* condvar: obj is the condvar; the mutex is released and retaken
	 * around the wait, recorded as MUTEX_UNLOCK/LOCK with TRACE_F_COND */
	TRACE_COND_INIT,
	TRACE_COND_DESTROY,
	TRACE_COND_WAIT, /* returned from a wait; wait = time waited */
	TRACE_COND_SIGNAL,
	TRACE_COND_BROADCAST,
	/* spinlock */
	TRACE_SPIN_INIT,
	TRACE_SPIN_DESTROY,
	TRACE_SPIN_LOCK,
	TRACE_SPIN_TRYLOCK,
	TRACE_SPIN_UNLOCK,
	/* semaphore: aux of POST is the value after the post */
	TRACE_SEM_INIT,
	TRACE_SEM_DESTROY,
	TRACE_SEM_WAIT, /* wait, timedwait, clockwait */
	TRACE_SEM_TRYWAIT,
	TRACE_SEM_POST,
	TRACE_SEM_OPEN,
	TRACE_SEM_CLOSE,
	TRACE_SEM_UNLINK,
	TRACE_SEM_BLOCK,
	/* segments: obj is the address (or fd, shmid); aux is a size in KiB
	 * or the fd; the mapping table has the details */
	TRACE_SHM_OPEN,
	TRACE_SHM_UNLINK,
	TRACE_MMAP,
	TRACE_MUNMAP,
	TRACE_MREMAP,
	TRACE_FTRUNCATE,
	TRACE_SHMGET,
	TRACE_SHMAT,
	TRACE_SHMDT,
	/* processes and threads: FORK's obj is the child's pid */
	TRACE_FORK,
	TRACE_EXEC,
	TRACE_EXIT,
	TRACE_THREAD_CREATE,
	TRACE_THREAD_EXIT,
	TRACE_OP_COUNT
};

enum trace_class {
	TRACE_CLASS_MUTEX = 1 << 0,
	TRACE_CLASS_RWLOCK = 1 << 1,
	TRACE_CLASS_COND = 1 << 2,
	TRACE_CLASS_SPIN = 1 << 3,
	TRACE_CLASS_SEM = 1 << 4,
	TRACE_CLASS_SHM = 1 << 5,
	TRACE_CLASS_PROC = 1 << 6,
	TRACE_CLASS_ALL = (1 << 7) - 1,
};

/* trace_event.flags */
#define TRACE_F_RECURSIVE  0x01 /* mutex is PTHREAD_MUTEX_RECURSIVE */
#define TRACE_F_ERRORCHECK 0x02 /* mutex is PTHREAD_MUTEX_ERRORCHECK */
#define TRACE_F_ROBUST	   0x04
#define TRACE_F_PSHARED	   0x08
#define TRACE_F_CONTENDED  0x10 /* the acquisition had to wait */
#define TRACE_F_COND	   0x20 /* released/retaken by a condvar wait */

/* One event: 32 bytes.  ts is in the file's ticks (see trace_header.clock).
 * wait is ns when bit 31 is clear, else (wait & 0x7fffffff) microseconds.
 * aux is the call stack id (0 = none) for lock operations, the value after
 * a sem_post, a size or fd for segment calls, the status for EXIT.
 * result is 0 or the errno value the call returned or set. */
struct trace_event {
	uint64_t ts;
	uint64_t obj;
	uint32_t wait;
	uint32_t aux;
	uint32_t tid;
	uint8_t op;
	uint8_t flags;
	int16_t result;
};

struct trace_chunk {
	uint32_t magic;
	uint32_t tid;
	uint32_t seq;  /* 0 for the first chunk of a thread */
	uint32_t next; /* index + 1 of the thread's next chunk, 0 = last */
	uint64_t first_ts;
	uint32_t dropped; /* events this thread dropped before this chunk */
	uint32_t pad[9];
};

#define TRACE_CHUNK_EVENTS                                 \
	((TRACE_CHUNK_SIZE - sizeof(struct trace_chunk)) / \
	 sizeof(struct trace_event))

enum trace_map_kind {
	TRACE_MAP_POSIX = 1, /* a POSIX shm object: name is "/name" */
	TRACE_MAP_FILE,	     /* a shared mapping of a regular file */
	TRACE_MAP_SYSV,	     /* a System V segment: name is "sysv:0xKEY" */
	TRACE_MAP_ANON,	     /* MAP_SHARED|MAP_ANONYMOUS (shared by fork) */
	TRACE_MAP_CODE,	     /* an executable mapping, for symbols */
};

/* A mapping.  Identity across processes is (dev, ino) for files and POSIX
 * objects, (0, shmid | 1<<63) for SysV, (0, creator pid << 48 ^ start) for
 * anonymous shared memory.  t_unmap is 0 while mapped.  valid is set last. */
struct trace_map {
	uint64_t start;
	uint64_t end;
	uint64_t file_off;
	uint64_t dev;
	uint64_t ino;
	uint64_t t_map;
	uint64_t t_unmap;
	uint32_t kind;
	uint32_t valid;
	char name[120];
};

/* A call stack: state 0 empty, 1 being written, 2 ready. */
struct trace_stack {
	uint32_t state;
	uint32_t depth;
	uint64_t hash;
	uint64_t pc[TRACE_STACK_DEPTH];
};

struct trace_header {
	uint64_t magic;
	uint32_t version;
	uint32_t header_size;
	uint64_t file_size;
	int32_t pid;
	int32_t ppid;
	uint32_t clock;	       /* enum trace_clock */
	uint32_t backtrace;    /* frames per acquisition (0 = none) */
	double ticks_per_sec;  /* calibration: ticks per second */
	uint64_t anchor_ticks; /* a tick count ...                    */
	uint64_t anchor_ns;    /* ... and CLOCK_MONOTONIC at that moment */
	uint64_t anchor_realtime_ns;
	uint64_t maps_off;
	uint32_t maps_cap;
	uint32_t maps_count; /* atomic */
	uint64_t stacks_off;
	uint32_t stacks_cap;
	uint32_t stacks_used; /* atomic */
	uint64_t chunks_off;
	uint32_t chunk_size;
	uint32_t nchunks;
	uint32_t chunks_used; /* atomic */
	uint32_t state;	      /* enum trace_state */
	uint64_t dropped;     /* atomic: events not recorded */
	uint64_t stacks_dropped;
	uint64_t end_ticks; /* when state was set */
	int32_t exit_status;
	uint32_t events;   /* enum trace_class mask */
	uint32_t exec_gen; /* 0, or how many execs preceded this image */
	uint32_t pad;
	char comm[16];
	char exe[256];
	char cmdline[512];
};

/* Acquisition timestamps are read without a fence and may precede the
 * release that allowed them by up to a few hundred ns; the reader sorts
 * acquisitions this much later than their timestamp (their times, as
 * returned, are not changed). */
#define TRACE_ACQUIRE_SLACK_NS 1000

/* Does OP take a lock or a semaphore unit (sorted with the slack above)? */
bool trace_op_acquires(unsigned op);

/* Name of OP ("mutex_lock", ...); "?" for an unknown value. */
const char *trace_op_name(unsigned op);

/* The class (TRACE_CLASS_*) OP belongs to; 0 for none. */
unsigned trace_op_class(unsigned op);

/* Parse a comma-separated list of class names ("mutex,sem,all") into a
 * mask; -EINVAL (message in E) on an unknown name. */
int trace_parse_classes(const char *list, unsigned *mask, struct errbuf *e);

/* Is the x86-64 TSC invariant (cpuinfo flags constant_tsc and
 * nonstop_tsc), so all CPUs and processes share one clock?  False
 * elsewhere. */
bool trace_tsc_invariant(void);

/* Measure the TSC's ticks per second against CLOCK_MONOTONIC over MS ms
 * (busy: the caller waits that long). */
double trace_tsc_calibrate(unsigned ms);

/* For a program that starts traced processes (shmtrace record, shmfuzz):
 * measure the TSC once and put its rate into SHMPROBE_TSC_HZ, so that
 * every probe of the run takes it instead of spending 5 ms measuring it.
 * Does nothing when SHMPROBE_CLOCK or SHMPROBE_TSC_HZ is already set, or
 * when the TSC is not invariant. */
void trace_tsc_export(void);

/* Decode the wait field of an event into nanoseconds. */
static inline uint64_t trace_wait_ns(uint32_t wait)
{
	if (wait & 0x80000000u)
		return (uint64_t)(wait & 0x7fffffffu) * 1000;
	return wait;
}

/* Encode NS for the wait field. */
static inline uint32_t trace_wait_encode(uint64_t ns)
{
	uint64_t us;

	if (ns < 0x80000000ULL)
		return (uint32_t)ns;
	us = ns / 1000;
	return 0x80000000u |
	       (uint32_t)(us > 0x7fffffffULL ? 0x7fffffffULL : us);
}

/* ---- reader ------------------------------------------------------------ */

/* One process image (one file) of a trace. */
struct trace_proc {
	int idx; /* index in the reader */
	char path[4096];
	const struct trace_header *hdr;
	size_t size;
	int fd; /* chunks are read with pread, not through the mapping */
	const struct trace_map *maps;
	uint32_t nmaps;
	const struct trace_stack *stacks;
	uint32_t nstacks;
	uint64_t nevents; /* counted while reading */
	uint32_t nthreads;
	bool ended; /* every stream of this process has been read */
};

struct trace_reader;

enum trace_item_kind {
	TRACE_ITEM_EVENT = 1,
	TRACE_ITEM_PROC_END, /* the last event of PROC has been returned */
};

struct trace_item {
	enum trace_item_kind kind;
	const struct trace_proc *proc;
	const struct trace_event *ev; /* for TRACE_ITEM_EVENT; valid until
				       * the next trace_reader_next() */
	uint64_t ticks; /* the event's time in the reader's common ticks */
	uint64_t key;	/* the time it was sorted by (ticks + slack for an
			 * acquisition) */
};

/* Open every *.shmtrace file in DIR (or DIR itself if it is one file).
 * Events are then returned in one global time order by
 * trace_reader_next(), merging the per-thread chains: memory is bounded by
 * the number of threads (one 64 KiB chunk buffer each), not events.
 * -errno with a message in E. */
int trace_reader_open(struct trace_reader **r, const char *dir,
		      struct errbuf *e);

void trace_reader_close(struct trace_reader *r);

/* Number of process images, and the I-th of them (sorted by start). */
int trace_reader_nprocs(const struct trace_reader *r);
const struct trace_proc *trace_reader_proc(const struct trace_reader *r, int i);

/* Next item in time order: 1 with *IT filled, 0 at the end. */
int trace_reader_next(struct trace_reader *r, struct trace_item *it);

/* Start again from the first event. */
void trace_reader_rewind(struct trace_reader *r);

/* Convert common ticks (trace_item.ticks) to ns since the first process
 * started, and a tick difference to ns. */
uint64_t trace_reader_ns(const struct trace_reader *r, uint64_t ticks);
uint64_t trace_reader_dur_ns(const struct trace_reader *r, uint64_t dticks);

/* Total events dropped over all processes. */
uint64_t trace_reader_dropped(const struct trace_reader *r);

/* What an address of process P was at time TICKS (common ticks). */
struct trace_where {
	const struct trace_map *map; /* NULL: private memory */
	uint64_t offset;	     /* offset in the segment */
	bool unmapped;		     /* map is set but was unmapped by then */
};

/* Resolve ADDR of P at TS (P's own clock: an event's ts) to a segment
 * mapping (kinds other than TRACE_MAP_CODE).  Returns 0; W->map is NULL
 * for private memory. */
int trace_proc_where(const struct trace_proc *p, uint64_t addr, uint64_t ts,
		     struct trace_where *w);

/* The code mapping of P that held PC (any time), or NULL. */
const struct trace_map *trace_proc_code_map(const struct trace_proc *p,
					    uint64_t pc);

/* The stack with id ID (1-based; 0 = none): its depth and pcs, or 0. */
int trace_proc_stack(const struct trace_proc *p, uint32_t id,
		     const uint64_t **pcs);

#endif
