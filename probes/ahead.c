/*
 * ahead.c - populate ahead: while `shmtrace record` waits for PROG, it keeps
 * the next part of each traced process's event area in the page cache, so
 * the traced threads find their chunks' pages there instead of allocating
 * and zeroing them in a page fault of their own.
 *
 * Why: a tracer that keeps every event needs fresh memory at the rate it
 * records (32 bytes an event); first-touch page faults of the growing
 * trace file were half of the probe's cost per event.  This process does
 * that work instead, off the traced threads and outside their critical
 * sections (it costs about as much CPU here as it did there:
 * docs/bench-probe.md says how much).  Its mapping asks for huge pages
 * (MADV_HUGEPAGE), so where the file system keeps large folios (ext4 since
 * Linux 6.16, xfs, tmpfs mounted huge=) the page cache gets 2 MiB folios,
 * and the traced process maps each of them with one fault.  Where it
 * cannot, the pages are still allocated here and only mapped there.
 *
 * Safety: this process never writes into a trace file.  It populates with
 * MADV_POPULATE_WRITE (which faults pages in without changing them) only
 * beyond the chunks a process has claimed, and gives the unused tail back
 * (a hole punched) only once the process is gone.  If it dies, or falls
 * behind, the traced threads fault their pages in themselves, as they do
 * without it: nothing is lost and nothing waits for it.
 */
#include "shmtrace.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define AHEAD_HUGE     (2u << 20) /* a PMD-sized folio */
#define AHEAD_MIN_LEAD (4u << 20)
#define AHEAD_MAX_LEAD (16u << 20)	 /* 5 ms of one thread at full speed */
#define AHEAD_STEP_MAX (8u << 20)	 /* per file per round: be fair */
#define AHEAD_MIN_USED 2		 /* chunks claimed before we help */
#define AHEAD_BUSY_MS  1		 /* a thread can record 3 MB/ms */
#define AHEAD_IDLE_MS  16		 /* nothing moved for a while */
#define AHEAD_LIVE_NS  (20 * 1000000ULL) /* how often to look for ends */

struct ahead_file {
	char name[256];
	pid_t pid;
	int fd;			/* -1: not opened yet */
	struct trace_header *h; /* the whole file, mapped */
	size_t size;
	uint64_t done;	    /* populated up to this offset */
	uint32_t last_used; /* chunks_used at the last round */
	bool gone;	    /* released: nothing more to do */
	bool failed;	    /* populating failed: stop trying */
};

struct ahead {
	char dir[4096];
	int ino;     /* inotify descriptor, or -1 */
	bool rescan; /* the folder may hold new files */
	struct ahead_file *f;
	size_t n, cap;
	uint64_t live_ns; /* when we last looked for ended processes */
	int wait_ms;	  /* the interval between rounds, adaptive */
	struct ahead_stats st;
	uint64_t cpu0_ns;
};

static uint64_t tv_ns(struct timeval tv)
{
	return (uint64_t)tv.tv_sec * 1000000000ULL +
	       (uint64_t)tv.tv_usec * 1000;
}

/* CPU time (user + system) of this process so far. */
static uint64_t cpu_ns(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return 0;
	return tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int ahead_open(struct ahead **ap, const char *dir, struct errbuf *e)
{
	struct ahead *a = calloc(1, sizeof(*a));

	if (!a) {
		err_set(e, "out of memory");
		return -ENOMEM;
	}
	snprintf(a->dir, sizeof(a->dir), "%s", dir);
	a->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	/* Without inotify the folder is read every round instead. */
	if (a->ino >= 0 &&
	    inotify_add_watch(a->ino, dir, IN_CREATE | IN_MOVED_TO) < 0) {
		close(a->ino);
		a->ino = -1;
	}
	a->rescan = true;
	a->wait_ms = AHEAD_BUSY_MS;
	a->cpu0_ns = cpu_ns();
	*ap = a;
	return 0;
}

int ahead_fd(const struct ahead *a)
{
	return a->ino;
}

/* Drain the inotify queue; any event means "read the folder again". */
static void drain_events(struct ahead *a)
{
	char buf[4096] __attribute__((aligned(8)));

	if (a->ino < 0) {
		a->rescan = true;
		return;
	}
	while (read(a->ino, buf, sizeof(buf)) > 0)
		a->rescan = true;
}

static bool known(const struct ahead *a, const char *name)
{
	for (size_t i = 0; i < a->n; i++) {
		if (!strcmp(a->f[i].name, name))
			return true;
	}
	return false;
}

static void add_file(struct ahead *a, const char *name)
{
	struct ahead_file *f;
	size_t len = strlen(name), slen = strlen(TRACE_FILE_SUFFIX);

	if (len <= slen || len >= sizeof(f->name) ||
	    strcmp(name + len - slen, TRACE_FILE_SUFFIX) || known(a, name))
		return;
	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 16;
		struct ahead_file *nf = realloc(a->f, cap * sizeof(*nf));

		if (!nf)
			return;
		a->f = nf;
		a->cap = cap;
	}
	f = &a->f[a->n++];
	memset(f, 0, sizeof(*f));
	memcpy(f->name, name, len + 1);
	/* The file name starts with the pid: the header's may not be
	 * written yet. */
	f->pid = (pid_t)atoi(name);
	f->fd = -1;
}

static void scan_dir(struct ahead *a)
{
	DIR *d = opendir(a->dir);
	struct dirent *de;

	a->rescan = false;
	if (!d)
		return;
	while ((de = readdir(d)))
		add_file(a, de->d_name);
	closedir(d);
}

/* Map F once its header is complete (the probe creates, sizes, maps and
 * then fills it).  True when it is. */
static bool file_ready(struct ahead *a, struct ahead_file *f)
{
	char path[4400];
	struct trace_header *h;
	struct stat st;
	void *m;

	if (f->h)
		return true;
	if (f->fd < 0) {
		snprintf(path, sizeof(path), "%s/%s", a->dir, f->name);
		f->fd = open(path, O_RDWR | O_CLOEXEC);
		if (f->fd < 0) {
			f->gone = true;
			return false;
		}
	}
	if (fstat(f->fd, &st) < 0 || st.st_size < TRACE_HEADER_SIZE)
		return false;
	m = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 f->fd, 0);
	if (m == MAP_FAILED) {
		f->failed = true;
		return false;
	}
	h = m;
	if (__atomic_load_n(&h->file_size, __ATOMIC_ACQUIRE) !=
		    (uint64_t)st.st_size ||
	    h->magic != TRACE_MAGIC || h->chunk_size != TRACE_CHUNK_SIZE ||
	    h->chunks_off + (uint64_t)h->nchunks * TRACE_CHUNK_SIZE >
		    (uint64_t)st.st_size) {
		munmap(m, (size_t)st.st_size);
		return false;
	}
	/* Ask for 2 MiB folios: fewer, cheaper faults here and one PMD
	 * mapping per folio in the traced process. */
	madvise(m, (size_t)st.st_size, MADV_HUGEPAGE);
	f->h = h;
	f->size = (size_t)st.st_size;
	a->st.files++;
	return true;
}

static uint64_t round_up(uint64_t v, uint64_t to)
{
	return (v + to - 1) / to * to;
}

/* End of the chunks F's process has claimed, as a file offset. */
static uint64_t claimed_end(const struct ahead_file *f, uint32_t *used)
{
	const struct trace_header *h = f->h;
	uint32_t u = __atomic_load_n(&h->chunks_used, __ATOMIC_ACQUIRE);

	if (u > h->nchunks)
		u = h->nchunks;
	*used = u;
	return h->chunks_off + (uint64_t)u * TRACE_CHUNK_SIZE;
}

/* Fault [FROM, TO) of F in: blocks first (unwritten extents in one call,
 * a third cheaper on ext4 than each page fault reserving its block;
 * harmless where not supported), then the pages.  0, or -1 when F must be
 * left alone. */
static int populate_range(struct ahead_file *f, uint64_t from, uint64_t to)
{
	if (fallocate(f->fd, 0, (off_t)from, (off_t)(to - from)) < 0 &&
	    errno == ENOSPC)
		return -1;
	/* EINVAL: a kernel before 5.14; EFAULT: the file system is full.
	 * The process faults its own pages in, as without us. */
	if (madvise((char *)f->h + from, to - from, MADV_POPULATE_WRITE) < 0)
		return -1;
	return 0;
}

/* Populate the next part of F's event area.  True if its process
 * recorded something since the last round. */
static bool populate(struct ahead *a, struct ahead_file *f)
{
	uint32_t used;
	uint64_t front = claimed_end(f, &used), lead, want, from;

	if (used == f->last_used)
		return false;
	f->last_used = used;
	if (used < AHEAD_MIN_USED)
		return true;
	/* Lead in proportion to what the process has recorded so far, so a
	 * process that records little costs little. */
	lead = (uint64_t)used * TRACE_CHUNK_SIZE / 2;
	if (lead < AHEAD_MIN_LEAD)
		lead = AHEAD_MIN_LEAD;
	if (lead > AHEAD_MAX_LEAD)
		lead = AHEAD_MAX_LEAD;
	want = round_up(front + lead, AHEAD_HUGE);
	if (want > f->size)
		want = f->size;
	/* Whole folios, from the first one the process has not begun to
	 * use, at most AHEAD_STEP_MAX at a time. */
	from = round_up(front, AHEAD_HUGE);
	if (from < f->done)
		from = f->done;
	if (want - from > AHEAD_STEP_MAX && from < want)
		want = from + AHEAD_STEP_MAX;
	if (from < want) {
		if (populate_range(f, from, want) < 0) {
			f->failed = true;
			return true;
		}
		f->done = want;
		a->st.populated += want - from;
	}
	return true;
}

/* F's process is gone: give back what it did not use, and forget F. */
static void release(struct ahead *a, struct ahead_file *f)
{
	uint32_t used;
	uint64_t front;

	if (f->h) {
		front = round_up(claimed_end(f, &used), 4096);
		if (f->done > front &&
		    fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)front, (off_t)(f->done - front)) == 0)
			a->st.released += f->done - front;
		munmap(f->h, f->size);
		f->h = NULL;
	}
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	f->gone = true;
}

/* Is F's process gone?  Only then can no thread of it claim a chunk
 * (a zombie has released its memory already, but kill() still finds it:
 * that only delays the release). */
static bool writer_gone(const struct ahead_file *f)
{
	return f->pid > 0 && kill(f->pid, 0) < 0 && errno == ESRCH;
}

int ahead_round(struct ahead *a)
{
	uint64_t now = mono_ns();
	bool live = now - a->live_ns >= AHEAD_LIVE_NS, busy = false;

	drain_events(a);
	if (a->rescan)
		scan_dir(a);
	/* One kill(pid, 0) per process every 20 ms, not every round. */
	if (live)
		a->live_ns = now;
	for (size_t i = 0; i < a->n; i++) {
		struct ahead_file *f = &a->f[i];

		if (f->gone)
			continue;
		if (live && writer_gone(f)) {
			release(a, f);
			continue;
		}
		if (f->failed)
			continue;
		if (file_ready(a, f))
			busy |= populate(a, f);
		else
			busy |= !f->failed; /* being made: look again soon */
	}
	/* Every millisecond while processes record (or start), even when we
	 * are a lead ahead: waiting longer let a thread at full speed catch
	 * up (measured).  A round costs tens of microseconds on a VM: not
	 * more often.  Backing off to AHEAD_IDLE_MS while none records. */
	if (busy)
		a->wait_ms = AHEAD_BUSY_MS;
	else if (a->wait_ms < AHEAD_IDLE_MS)
		a->wait_ms *= 2;
	return a->wait_ms;
}

void ahead_close(struct ahead *a, struct ahead_stats *st)
{
	if (!a)
		return;
	drain_events(a);
	if (a->rescan)
		scan_dir(a);
	for (size_t i = 0; i < a->n; i++) {
		struct ahead_file *f = &a->f[i];

		/* A process still running (a daemon PROG left behind) keeps
		 * its populated pages: it may use them yet. */
		if (!f->gone && writer_gone(f))
			release(a, f);
		if (f->h)
			munmap(f->h, f->size);
		if (f->fd >= 0)
			close(f->fd);
	}
	a->st.cpu_ns = cpu_ns() - a->cpu0_ns;
	if (st)
		*st = a->st;
	if (a->ino >= 0)
		close(a->ino);
	free(a->f);
	free(a);
}
