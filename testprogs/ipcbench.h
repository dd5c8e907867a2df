/*
 * ipcbench.h - internal header of ipcbench, the IPC benchmark.
 *
 * ipcbench moves verified messages between two processes (parent and a
 * forked child) over one mechanism at a time and measures one-way latency
 * (ping-pong) and throughput.  Each mechanism is a table of functions
 * (struct ib_mech) working on a struct ib_link, the two ends of a
 * bidirectional connection created before the fork.
 *
 * Prototypes are grouped by the file that defines them.
 */
#ifndef IPCBENCH_H
#define IPCBENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

/* Smallest message: the 8-byte header (sequence + check). */
#define IB_MIN_SIZE   8
#define IB_MAX_SIZE   (64u << 20)
#define IB_MAX_REPS   32
#define IB_MAX_ROUNDS 32

struct ib_link;

struct ib_mech {
	const char *name;
	const char *buffering; /* where messages wait, for the table */
	const char *copies;    /* copies per message, for the table */
	const char *flow;      /* what happens when the reader is slow */
	/*
	 * Create both directions for messages of l->size bytes, before the
	 * fork.  May set l->unit (< size: messages are fragmented) and
	 * l->note.  Returns 0 or -errno with E filled; on failure nothing
	 * is left behind.
	 */
	int (*open)(struct ib_link *l, struct errbuf *e);
	/* After the fork, in each process: keep end l->side, drop the other. */
	void (*keep_side)(struct ib_link *l);
	/* Move exactly N bytes (one message).  0 or -errno with E filled. */
	int (*send)(struct ib_link *l, const void *buf, size_t n,
		    struct errbuf *e);
	int (*recv)(struct ib_link *l, void *buf, size_t n, struct errbuf *e);
	/* In each process: unmap and close what it holds. */
	void (*close)(struct ib_link *l);
	/* In the parent, after the child is gone: remove names. */
	void (*destroy)(struct ib_link *l);
};

/* Everything a mechanism needs; each uses the fields it wants. */
struct ib_link {
	const struct ib_mech *mech;
	int side;    /* 0: parent, 1: child */
	size_t size; /* message size */
	size_t unit; /* largest piece moved at once (== size: whole) */
	char note[160];
	int fd[4];
	void *mem;
	size_t memsize;
	void *ring[2]; /* ring[i]: direction from side i to side 1-i */
	int shmid;
	uint64_t head, tail; /* counters a process keeps for itself */
	char name[2][64];
	char path[4096];
};

/* ipcbench_msg.c: messages, waits, cleanup on every exit path. */

/*
 * Fill BUF (N >= IB_MIN_SIZE bytes, 8-byte aligned) with message number
 * SEQ: a header (low 32 bits of SEQ, check word) and a payload that differs
 * for every SEQ and every position.
 */
void ib_msg_fill(void *buf, size_t n, uint64_t seq);

/*
 * Verify that BUF holds message SEQ of N bytes.  Returns 0, or -EBADMSG
 * with E saying what was wrong (sequence or checksum).
 */
int ib_msg_verify(const void *buf, size_t n, uint64_t seq, struct errbuf *e);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t ib_now_ns(void);

/*
 * Called by waits that may block forever: true when the other process is
 * gone (the child exited, or the parent died), so the wait gives up.
 */
bool ib_peer_gone(void);
/* In the parent before each fork / in the child after it. */
void ib_peer_watch_child(void);
void ib_peer_watch_parent(pid_t parent);

/* A hint to the CPU that we are spinning. */
void ib_cpu_relax(void);
/* Spin-then-yield backoff for polling waits; I counts the attempts. */
void ib_backoff(unsigned *i);

/*
 * Names to remove if ipcbench is interrupted (SIGINT, SIGTERM, SIGHUP) or
 * exits early.  Only the process that registered them removes them.
 */
void ib_cleanup_shm(const char *name);
void ib_cleanup_mq(const char *name);
void ib_cleanup_file(const char *path);
void ib_cleanup_sysv(int shmid);
/* The child to kill and reap on a fatal signal (0: none). */
void ib_cleanup_child(pid_t pid);
/* Forget a name once the mechanism removed it itself. */
void ib_cleanup_forget(const char *name);
void ib_cleanup_forget_sysv(int shmid);
/* Install the signal handlers and the atexit hook. */
void ib_cleanup_install(void);
/* Remove everything still registered (async-signal-safe). */
void ib_cleanup_run(void);

/* Format a byte count as "64", "4K", "1M" (exact) or "1.5M". */
void ib_fmt_size(char *out, size_t outsz, size_t n);
/* Parse "64", "4K", "4k", "1M", "1MiB"; 0 or -EINVAL. */
int ib_parse_size(const char *s, size_t *out);

/* ipcbench_ring.c: posix-shm, posix-shm-futex, sysv-shm, file-mmap. */
extern const struct ib_mech ib_mech_posix_shm;
extern const struct ib_mech ib_mech_posix_shm_futex;
extern const struct ib_mech ib_mech_sysv_shm;
extern const struct ib_mech ib_mech_file_mmap;
/* Folder for files (file-mmap, file-io); set by --dir. */
extern const char *ib_file_dir;

/* ipcbench_stream.c: pipe, unix-stream, tcp. */
extern const struct ib_mech ib_mech_pipe;
extern const struct ib_mech ib_mech_unix_stream;
extern const struct ib_mech ib_mech_tcp;
/* keep_side/close for mechanisms whose l->fd follows the stream rule. */
void ib_stream_keep_side(struct ib_link *l);
void ib_stream_close(struct ib_link *l);

/* ipcbench_dgram.c: mqueue, unix-dgram. */
extern const struct ib_mech ib_mech_mqueue;
extern const struct ib_mech ib_mech_unix_dgram;

/* ipcbench_file.c: file-io. */
extern const struct ib_mech ib_mech_file_io;

/* ipcbench_out.c: the machine, and the results as table, JSON, CSV. */

struct ib_machine {
	char cpu[128];
	long cores;
	char kernel[256];
	char pinned[32]; /* "no" or "0,1" */
	char file_dir[256];
	char file_fs[32];
	/* what else the machine did while we measured, in CPUs on average */
	double other_cpus, steal_cpus;
	/* baseline for those */
	unsigned long long busy0, steal0;
	uint64_t t0_ns;
};

struct ib_result {
	const struct ib_mech *mech;
	size_t size;
	bool supported;
	char reason[1024]; /* why not supported */
	size_t unit;
	char note[160];
	/* latency: one-way, in ns (round trip / 2) */
	uint64_t lat_samples;
	double lat_median, lat_p99, lat_min;
	/* throughput: median over repetitions */
	uint64_t tput_count; /* messages per repetition */
	int tput_reps;
	double msgs_per_s, bytes_per_s;
	uint64_t verified; /* messages verified, both directions */
	int rounds;	   /* sweeps folded into this result */
};

enum ib_format { IB_OUT_TABLE, IB_OUT_JSON, IB_OUT_CSV };

/* Name the machine and start watching its other load. */
void ib_machine_probe(struct ib_machine *m);
/* After the run: how busy the CPUs were with work that was not ours. */
void ib_machine_finish(struct ib_machine *m);
void ib_print(enum ib_format fmt, const struct ib_machine *m,
	      const char *command, const struct ib_result *r, size_t nr);

#endif
