/*
 * trace.c - names of the trace operations and the streaming reader.
 *
 * The reader maps every file of a trace read-only and merges the
 * per-thread chains of chunks with a binary heap keyed by the time of each
 * chain's next event, so it holds one cursor per thread whatever the
 * number of events.
 */
#include "trace.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const op_names[TRACE_OP_COUNT] = {
	[TRACE_OP_NONE] = "none",
	[TRACE_MUTEX_INIT] = "mutex_init",
	[TRACE_MUTEX_DESTROY] = "mutex_destroy",
	[TRACE_MUTEX_LOCK] = "mutex_lock",
	[TRACE_MUTEX_TRYLOCK] = "mutex_trylock",
	[TRACE_MUTEX_UNLOCK] = "mutex_unlock",
	[TRACE_MUTEX_CONSISTENT] = "mutex_consistent",
	[TRACE_MUTEX_BLOCK] = "mutex_block",
	[TRACE_RW_INIT] = "rwlock_init",
	[TRACE_RW_DESTROY] = "rwlock_destroy",
	[TRACE_RW_RDLOCK] = "rwlock_rdlock",
	[TRACE_RW_WRLOCK] = "rwlock_wrlock",
	[TRACE_RW_TRYRDLOCK] = "rwlock_tryrdlock",
	[TRACE_RW_TRYWRLOCK] = "rwlock_trywrlock",
	[TRACE_RW_UNLOCK] = "rwlock_unlock",
	[TRACE_RW_BLOCK] = "rwlock_block",
	[TRACE_COND_INIT] = "cond_init",
	[TRACE_COND_DESTROY] = "cond_destroy",
	[TRACE_COND_WAIT] = "cond_wait",
	[TRACE_COND_SIGNAL] = "cond_signal",
	[TRACE_COND_BROADCAST] = "cond_broadcast",
	[TRACE_SPIN_INIT] = "spin_init",
	[TRACE_SPIN_DESTROY] = "spin_destroy",
	[TRACE_SPIN_LOCK] = "spin_lock",
	[TRACE_SPIN_TRYLOCK] = "spin_trylock",
	[TRACE_SPIN_UNLOCK] = "spin_unlock",
	[TRACE_SEM_INIT] = "sem_init",
	[TRACE_SEM_DESTROY] = "sem_destroy",
	[TRACE_SEM_WAIT] = "sem_wait",
	[TRACE_SEM_TRYWAIT] = "sem_trywait",
	[TRACE_SEM_POST] = "sem_post",
	[TRACE_SEM_OPEN] = "sem_open",
	[TRACE_SEM_CLOSE] = "sem_close",
	[TRACE_SEM_UNLINK] = "sem_unlink",
	[TRACE_SEM_BLOCK] = "sem_block",
	[TRACE_SHM_OPEN] = "shm_open",
	[TRACE_SHM_UNLINK] = "shm_unlink",
	[TRACE_MMAP] = "mmap",
	[TRACE_MUNMAP] = "munmap",
	[TRACE_MREMAP] = "mremap",
	[TRACE_FTRUNCATE] = "ftruncate",
	[TRACE_SHMGET] = "shmget",
	[TRACE_SHMAT] = "shmat",
	[TRACE_SHMDT] = "shmdt",
	[TRACE_FORK] = "fork",
	[TRACE_EXEC] = "exec",
	[TRACE_EXIT] = "exit",
	[TRACE_THREAD_CREATE] = "thread_create",
	[TRACE_THREAD_EXIT] = "thread_exit",
};

const char *trace_op_name(unsigned op)
{
	return op < TRACE_OP_COUNT && op_names[op] ? op_names[op] : "?";
}

unsigned trace_op_class(unsigned op)
{
	if (op >= TRACE_MUTEX_INIT && op <= TRACE_MUTEX_BLOCK)
		return TRACE_CLASS_MUTEX;
	if (op >= TRACE_RW_INIT && op <= TRACE_RW_BLOCK)
		return TRACE_CLASS_RWLOCK;
	if (op >= TRACE_COND_INIT && op <= TRACE_COND_BROADCAST)
		return TRACE_CLASS_COND;
	if (op >= TRACE_SPIN_INIT && op <= TRACE_SPIN_UNLOCK)
		return TRACE_CLASS_SPIN;
	if (op >= TRACE_SEM_INIT && op <= TRACE_SEM_BLOCK)
		return TRACE_CLASS_SEM;
	if (op >= TRACE_SHM_OPEN && op <= TRACE_SHMDT)
		return TRACE_CLASS_SHM;
	if (op >= TRACE_FORK && op < TRACE_OP_COUNT)
		return TRACE_CLASS_PROC;
	return 0;
}

bool trace_op_acquires(unsigned op)
{
	switch (op) {
	case TRACE_MUTEX_LOCK:
	case TRACE_MUTEX_TRYLOCK:
	case TRACE_RW_RDLOCK:
	case TRACE_RW_WRLOCK:
	case TRACE_RW_TRYRDLOCK:
	case TRACE_RW_TRYWRLOCK:
	case TRACE_SPIN_LOCK:
	case TRACE_SPIN_TRYLOCK:
	case TRACE_SEM_WAIT:
	case TRACE_SEM_TRYWAIT:
	case TRACE_COND_WAIT:
		return true;
	default:
		return false;
	}
}

static const struct {
	const char *name;
	unsigned mask;
} class_names[] = {
	{"mutex", TRACE_CLASS_MUTEX}, {"rwlock", TRACE_CLASS_RWLOCK},
	{"cond", TRACE_CLASS_COND},   {"spin", TRACE_CLASS_SPIN},
	{"sem", TRACE_CLASS_SEM},     {"shm", TRACE_CLASS_SHM},
	{"proc", TRACE_CLASS_PROC},   {"all", TRACE_CLASS_ALL},
};

int trace_parse_classes(const char *list, unsigned *mask, struct errbuf *e)
{
	const char *p = list;

	*mask = 0;
	while (*p) {
		size_t n = strcspn(p, ",");
		size_t i;

		for (i = 0; i < sizeof(class_names) / sizeof(class_names[0]);
		     i++) {
			if (strlen(class_names[i].name) == n &&
			    !strncmp(p, class_names[i].name, n))
				break;
		}
		if (i == sizeof(class_names) / sizeof(class_names[0])) {
			err_set(e,
				"unknown event class '%.*s' (use mutex, "
				"rwlock, "
				"cond, spin, sem, shm, proc, all)",
				(int)n, p);
			return -EINVAL;
		}
		*mask |= class_names[i].mask;
		p += n;
		if (*p == ',')
			p++;
	}
	if (!*mask) {
		err_set(e, "empty event list");
		return -EINVAL;
	}
	return 0;
}

bool trace_tsc_invariant(void)
{
#if defined(__x86_64__)
	char buf[8192];
	char *flags;
	int fd = open("/proc/cpuinfo", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	flags = strstr(buf, "\nflags");
	if (!flags)
		return false;
	flags[strcspn(flags + 1, "\n") + 1] = 0;
	return strstr(flags, " constant_tsc") && strstr(flags, " nonstop_tsc");
#else
	return false;
#endif
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void trace_tsc_export(void)
{
	char num[32];

	if (getenv("SHMPROBE_CLOCK") || getenv("SHMPROBE_TSC_HZ") ||
	    !trace_tsc_invariant())
		return;
	snprintf(num, sizeof(num), "%.0f", trace_tsc_calibrate(20));
	setenv("SHMPROBE_TSC_HZ", num, 1);
}

double trace_tsc_calibrate(unsigned ms)
{
#if defined(__x86_64__)
	uint64_t n0, n1, c0, c1;

	n0 = mono_ns();
	c0 = __builtin_ia32_rdtsc();
	do {
		n1 = mono_ns();
	} while (n1 - n0 < (uint64_t)ms * 1000000);
	c1 = __builtin_ia32_rdtsc();
	return (double)(c1 - c0) * 1e9 / (double)(n1 - n0);
#else
	(void)ms;
	return 0;
#endif
}

/* ---- reader ------------------------------------------------------------ */

struct stream {
	struct trace_proc *proc;
	struct trace_chunk *buf; /* the current chunk, read */
	bool loaded;		 /* buf holds chunk */
	uint32_t head;		 /* index of the thread's first chunk */
	uint32_t chunk;		 /* index of the current one */
	uint32_t pos;		 /* event index in the chunk */
	uint64_t ticks;		 /* of the current event */
	uint64_t key;		 /* what the heap sorts by */
	const struct trace_event *ev;
};

struct trace_reader {
	struct trace_proc *procs;
	int nprocs;
	struct stream *streams; /* all of them */
	int nstreams;
	struct stream **heap;
	int nheap;
	int *live;    /* per process: streams not yet exhausted */
	int next_end; /* processes with no streams, reported first */
	bool common_tsc;
	double tps;	       /* ticks per second of the common clock */
	uint64_t slack;	       /* TRACE_ACQUIRE_SLACK_NS in common ticks */
	struct trace_event ev; /* the event last returned */
	uint64_t t0;
};

/* Read LEN bytes of chunk IDX of P into BUF; false if it is not there.
 * Chunks are read rather than mapped: pages mapped from the page cache
 * come in large folios that madvise cannot keep out, and the reader must
 * not grow with the trace. */
static bool read_chunk(const struct trace_proc *p, uint32_t idx, void *buf,
		       size_t len)
{
	const struct trace_header *h = p->hdr;
	uint64_t off = h->chunks_off + (uint64_t)idx * h->chunk_size;

	if (idx >= h->nchunks || off + h->chunk_size > p->size)
		return false;
	return pread(p->fd, buf, len, (off_t)off) == (ssize_t)len;
}

static uint64_t proc_ticks(const struct trace_reader *r,
			   const struct trace_proc *p, uint64_t raw)
{
	const struct trace_header *h = p->hdr;
	double d;

	if (r->common_tsc)
		return raw;
	/* Everything in CLOCK_MONOTONIC ns. */
	d = ((double)raw - (double)h->anchor_ticks) * 1e9 / h->ticks_per_sec;
	return (uint64_t)((double)h->anchor_ns + d);
}

/* Load the event under S's cursor, or follow the chain; false at its end. */
static bool stream_load(const struct trace_reader *r, struct stream *s)
{
	for (;;) {
		const struct trace_chunk *c = s->buf;
		const struct trace_event *ev;

		if (!s->loaded) {
			if (!read_chunk(s->proc, s->chunk, s->buf,
					TRACE_CHUNK_SIZE))
				return false;
			s->loaded = true;
		}
		if (c->magic != TRACE_CHUNK_MAGIC)
			return false;
		if (s->pos < TRACE_CHUNK_EVENTS) {
			ev = (const struct trace_event *)(c + 1) + s->pos;
			if (ev->op) {
				s->ev = ev;
				s->ticks = proc_ticks(r, s->proc, ev->ts);
				s->key = s->ticks;
				if (trace_op_acquires(ev->op))
					s->key += r->slack;
				return true;
			}
		}
		/* A thread's chunks are claimed in increasing order: a link
		 * back would be a corrupt file (and a loop). */
		if (!c->next || c->next - 1 <= s->chunk)
			return false;
		s->chunk = c->next - 1;
		s->pos = 0;
		s->loaded = false;
	}
}

static bool heap_less(const struct stream *a, const struct stream *b)
{
	return a->key < b->key;
}

static void heap_push(struct trace_reader *r, struct stream *s)
{
	int i = r->nheap++;

	while (i > 0) {
		int parent = (i - 1) / 2;
		if (!heap_less(s, r->heap[parent]))
			break;
		r->heap[i] = r->heap[parent];
		i = parent;
	}
	r->heap[i] = s;
}

static struct stream *heap_pop(struct trace_reader *r)
{
	struct stream *top = r->heap[0], *last;
	int i = 0;

	last = r->heap[--r->nheap];
	for (;;) {
		int c = 2 * i + 1;
		if (c >= r->nheap)
			break;
		if (c + 1 < r->nheap && heap_less(r->heap[c + 1], r->heap[c]))
			c++;
		if (!heap_less(r->heap[c], last))
			break;
		r->heap[i] = r->heap[c];
		i = c;
	}
	if (r->nheap > 0)
		r->heap[i] = last;
	return top;
}

static bool header_ok(const struct trace_header *h, size_t size)
{
	if (size < TRACE_HEADER_SIZE || h->magic != TRACE_MAGIC ||
	    h->version != TRACE_VERSION)
		return false;
	if (h->maps_off + (uint64_t)h->maps_cap * sizeof(struct trace_map) >
		    size ||
	    h->stacks_off + (uint64_t)h->stacks_cap *
				    sizeof(struct trace_stack) >
		    size)
		return false;
	if (h->chunk_size != TRACE_CHUNK_SIZE || h->chunks_off > size)
		return false;
	if (!(h->ticks_per_sec > 0))
		return false;
	/* Strings are printed: they must end inside their fields. */
	if (!memchr(h->comm, 0, sizeof(h->comm)) ||
	    !memchr(h->exe, 0, sizeof(h->exe)) ||
	    !memchr(h->cmdline, 0, sizeof(h->cmdline)))
		return false;
	return true;
}

static int proc_load(struct trace_proc *p, const char *path, struct errbuf *e)
{
	struct stat st;
	void *m;
	int fd;
	const struct trace_header *h;

	snprintf(p->path, sizeof(p->path), "%s", path);
	p->fd = -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		int err = errno;
		err_setn(e, err, "%s", path);
		if (fd >= 0)
			close(fd);
		return -err;
	}
	if ((size_t)st.st_size < TRACE_HEADER_SIZE) {
		close(fd);
		err_set(e, "%s: not a shmtrace file (too short)", path);
		return -EINVAL;
	}
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		int err = errno;
		err_setn(e, err, "mmap %s", path);
		close(fd);
		return -err;
	}
	h = m;
	p->size = (size_t)st.st_size;
	p->hdr = h;
	if (!header_ok(h, p->size)) {
		munmap(m, p->size);
		close(fd);
		p->hdr = NULL;
		err_set(e, "%s: not a shmtrace file of version %d", path,
			TRACE_VERSION);
		return -EINVAL;
	}
	p->maps = (const struct trace_map *)((const char *)m + h->maps_off);
	p->nmaps = h->maps_count < h->maps_cap ? h->maps_count : h->maps_cap;
	for (uint32_t i = 0; i < p->nmaps; i++) {
		if (!memchr(p->maps[i].name, 0, sizeof(p->maps[i].name))) {
			p->nmaps = i; /* corrupt from here on */
			break;
		}
	}
	p->stacks =
		(const struct trace_stack *)((const char *)m + h->stacks_off);
	p->fd = fd;
	p->nstacks = h->stacks_cap;
	return 0;
}

static int proc_cmp(const void *a, const void *b)
{
	const struct trace_proc *x = a, *y = b;

	if (x->hdr->anchor_ns != y->hdr->anchor_ns)
		return x->hdr->anchor_ns < y->hdr->anchor_ns ? -1 : 1;
	return x->hdr->pid - y->hdr->pid;
}

static bool has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), m = strlen(suf);
	return n >= m && !strcmp(s + n - m, suf);
}

static int collect_files(struct trace_reader *r, const char *dir,
			 struct errbuf *e)
{
	struct dirent *d;
	struct stat st;
	char path[4096];
	int cap = 0, ret = 0;
	DIR *dh;

	if (stat(dir, &st) < 0) {
		err_setn(e, errno, "%s", dir);
		return -errno;
	}
	if (S_ISREG(st.st_mode)) {
		r->procs = calloc(1, sizeof(*r->procs));
		if (!r->procs)
			return -ENOMEM;
		ret = proc_load(&r->procs[0], dir, e);
		if (ret == 0)
			r->nprocs = 1;
		return ret;
	}
	dh = opendir(dir);
	if (!dh) {
		err_setn(e, errno, "%s", dir);
		return -errno;
	}
	while ((d = readdir(dh))) {
		if (!has_suffix(d->d_name, TRACE_FILE_SUFFIX))
			continue;
		if (r->nprocs == cap) {
			struct trace_proc *n;
			cap = cap ? cap * 2 : 16;
			n = realloc(r->procs, (size_t)cap * sizeof(*n));
			if (!n) {
				ret = -ENOMEM;
				break;
			}
			r->procs = n;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		memset(&r->procs[r->nprocs], 0, sizeof(r->procs[0]));
		ret = proc_load(&r->procs[r->nprocs], path, e);
		if (ret < 0)
			break;
		r->nprocs++;
	}
	closedir(dh);
	if (ret == 0 && r->nprocs == 0) {
		err_set(e, "%s: no *%s files: not a trace directory", dir,
			TRACE_FILE_SUFFIX);
		ret = -ENOENT;
	}
	return ret;
}

static int build_streams(struct trace_reader *r)
{
	int cap = 0;

	for (int i = 0; i < r->nprocs; i++) {
		struct trace_proc *p = &r->procs[i];
		uint32_t used = p->hdr->chunks_used;

		if (used > p->hdr->nchunks)
			used = p->hdr->nchunks;
		for (uint32_t c = 0; c < used; c++) {
			struct trace_chunk ch;

			if (!read_chunk(p, c, &ch, sizeof(ch)) ||
			    ch.magic != TRACE_CHUNK_MAGIC || ch.seq != 0)
				continue;
			if (r->nstreams == cap) {
				struct stream *n;
				cap = cap ? cap * 2 : 64;
				n = realloc(r->streams,
					    (size_t)cap * sizeof(*n));
				if (!n)
					return -ENOMEM;
				r->streams = n;
			}
			r->streams[r->nstreams] = (struct stream){
				.proc = p, .head = c, .chunk = c};
			r->streams[r->nstreams].buf = malloc(TRACE_CHUNK_SIZE);
			if (!r->streams[r->nstreams++].buf)
				return -ENOMEM;
			p->nthreads++;
		}
	}
	r->heap = calloc((size_t)r->nstreams + 1, sizeof(*r->heap));
	r->live = calloc((size_t)r->nprocs + 1, sizeof(*r->live));
	return r->heap && r->live ? 0 : -ENOMEM;
}

void trace_reader_rewind(struct trace_reader *r)
{
	r->nheap = 0;
	r->next_end = 0;
	for (int i = 0; i < r->nprocs; i++) {
		r->live[i] = 0;
		r->procs[i].ended = false;
		r->procs[i].nevents = 0;
	}
	for (int i = 0; i < r->nstreams; i++) {
		struct stream *s = &r->streams[i];

		s->chunk = s->head;
		s->pos = 0;
		s->loaded = false;
		if (stream_load(r, s)) {
			r->live[s->proc->idx]++;
			heap_push(r, s);
		}
	}
}

int trace_reader_open(struct trace_reader **rp, const char *dir,
		      struct errbuf *e)
{
	struct trace_reader *r = calloc(1, sizeof(*r));
	int ret;

	*rp = NULL;
	if (!r)
		return -ENOMEM;
	ret = collect_files(r, dir, e);
	if (ret < 0)
		goto out_close;
	qsort(r->procs, (size_t)r->nprocs, sizeof(r->procs[0]), proc_cmp);
	r->common_tsc = true;
	for (int i = 0; i < r->nprocs; i++) {
		r->procs[i].idx = i;
		if (r->procs[i].hdr->clock != TRACE_CLOCK_TSC)
			r->common_tsc = false;
	}
	r->tps = r->common_tsc ? r->procs[0].hdr->ticks_per_sec : 1e9;
	r->slack = (uint64_t)(r->tps * TRACE_ACQUIRE_SLACK_NS / 1e9);
	r->t0 = proc_ticks(r, &r->procs[0], r->procs[0].hdr->anchor_ticks);
	ret = build_streams(r);
	if (ret < 0) {
		err_set(e, "out of memory");
		goto out_close;
	}
	trace_reader_rewind(r);
	*rp = r;
	return 0;
out_close:
	trace_reader_close(r);
	return ret;
}

void trace_reader_close(struct trace_reader *r)
{
	if (!r)
		return;
	for (int i = 0; i < r->nprocs; i++) {
		if (r->procs[i].hdr)
			munmap((void *)r->procs[i].hdr, r->procs[i].size);
		if (r->procs[i].fd >= 0)
			close(r->procs[i].fd);
	}
	for (int i = 0; i < r->nstreams; i++)
		free(r->streams[i].buf);
	free(r->procs);
	free(r->streams);
	free(r->heap);
	free(r->live);
	free(r);
}

int trace_reader_nprocs(const struct trace_reader *r)
{
	return r->nprocs;
}

const struct trace_proc *trace_reader_proc(const struct trace_reader *r, int i)
{
	return i >= 0 && i < r->nprocs ? &r->procs[i] : NULL;
}

int trace_reader_next(struct trace_reader *r, struct trace_item *it)
{
	struct stream *s;
	struct trace_proc *p;

	/* Processes without any event end before everything else. */
	while (r->next_end < r->nprocs) {
		p = &r->procs[r->next_end++];
		if (p->nthreads == 0 && !p->ended) {
			p->ended = true;
			it->kind = TRACE_ITEM_PROC_END;
			it->proc = p;
			it->ev = NULL;
			it->ticks = proc_ticks(r, p, p->hdr->anchor_ticks);
			it->key = it->ticks;
			return 1;
		}
	}
	for (;;) {
		if (r->nheap == 0)
			return 0;
		s = r->heap[0];
		p = s->proc;
		if (!s->ev) {
			/* Exhausted on the previous call: retire it now. */
			heap_pop(r);
			if (--r->live[p->idx] == 0 && !p->ended) {
				p->ended = true;
				it->kind = TRACE_ITEM_PROC_END;
				it->proc = p;
				it->ev = NULL;
				it->ticks = s->ticks;
				it->key = s->key;
				return 1;
			}
			continue;
		}
		break;
	}
	heap_pop(r);
	/* A copy: advancing may read the next chunk over this one. */
	r->ev = *s->ev;
	it->kind = TRACE_ITEM_EVENT;
	it->proc = p;
	it->ev = &r->ev;
	it->ticks = s->ticks;
	it->key = s->key;
	p->nevents++;
	s->pos++;
	if (!stream_load(r, s))
		s->ev = NULL; /* keep its last time; retire it next call */
	heap_push(r, s);
	return 1;
}

uint64_t trace_reader_ns(const struct trace_reader *r, uint64_t ticks)
{
	if (ticks <= r->t0)
		return 0;
	return trace_reader_dur_ns(r, ticks - r->t0);
}

uint64_t trace_reader_dur_ns(const struct trace_reader *r, uint64_t dticks)
{
	if (!r->common_tsc)
		return dticks;
	return (uint64_t)((double)dticks * 1e9 / r->tps);
}

uint64_t trace_reader_dropped(const struct trace_reader *r)
{
	uint64_t n = 0;

	for (int i = 0; i < r->nprocs; i++)
		n += r->procs[i].hdr->dropped;
	return n;
}

int trace_proc_where(const struct trace_proc *p, uint64_t addr, uint64_t ticks,
		     struct trace_where *w)
{
	const struct trace_map *gone = NULL;

	memset(w, 0, sizeof(*w));
	/* The newest matching mapping wins: scan backwards. */
	for (uint32_t i = p->nmaps; i-- > 0;) {
		const struct trace_map *m = &p->maps[i];

		if (!m->valid || m->kind == TRACE_MAP_CODE)
			continue;
		if (addr < m->start || addr >= m->end)
			continue;
		if (m->t_map > ticks)
			continue;
		if (m->t_unmap && m->t_unmap <= ticks) {
			if (!gone)
				gone = m;
			continue;
		}
		w->map = m;
		w->offset = addr - m->start + m->file_off;
		return 0;
	}
	if (gone) {
		w->map = gone;
		w->offset = addr - gone->start + gone->file_off;
		w->unmapped = true;
	}
	return 0;
}

const struct trace_map *trace_proc_code_map(const struct trace_proc *p,
					    uint64_t pc)
{
	for (uint32_t i = p->nmaps; i-- > 0;) {
		const struct trace_map *m = &p->maps[i];

		if (m->valid && m->kind == TRACE_MAP_CODE && pc >= m->start &&
		    pc < m->end)
			return m;
	}
	return NULL;
}

int trace_proc_stack(const struct trace_proc *p, uint32_t id,
		     const uint64_t **pcs)
{
	const struct trace_stack *s;

	if (id == 0 || id > p->nstacks)
		return 0;
	s = &p->stacks[id - 1];
	if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != 2 ||
	    s->depth > TRACE_STACK_DEPTH)
		return 0;
	*pcs = s->pc;
	return (int)s->depth;
}
