/*
 * probe_core.c - the probe's state: initialisation, the trace file, chunks,
 * the mapping table and the stack table.  Everything here is off the hot
 * path: it runs once per process, once per chunk, once per mmap or once
 * per new call site.
 *
 * Configuration (set by `shmtrace record`):
 *   SHMPROBE_DIR        where the trace files go; without it the probe
 *                       stays inert and every call passes straight through
 *   SHMPROBE_BACKTRACE  frames per acquisition (default 1: the call site)
 *   SHMPROBE_EVENTS     classes to trace (mutex,rwlock,cond,spin,sem,shm,proc)
 *   SHMPROBE_BUFFER_MB  size of the event area of each file (default 64)
 *   SHMPROBE_TSC_HZ     the cycle counter's rate, measured once by shmtrace
 *   SHMPROBE_PREFAULT   fault the event area in at start (no page faults
 *                       while recording; costs startup time and memory)
 */
#include "probe.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>

__thread struct probe_thread probe_tls
	__attribute__((tls_model("initial-exec")));
unsigned probe_mask;
/* Next to probe_mask: the hooks read both, one cache line. */
int probe_noise;
int probe_backtrace = 1;
bool probe_tsc;
double probe_ns_per_tick = 1.0;

#define PROBE_DEFINE_REAL(name, ver) __typeof__(name) *real_##name;
PROBE_REAL_FUNCS(PROBE_DEFINE_REAL)
#undef PROBE_DEFINE_REAL

static struct {
	struct trace_header *hdr;
	size_t size;
	char dir[1024];
	char self[1024]; /* this library's path, for exec */
	unsigned events;
	double tps;
	int maps_lock;
	bool inited;
} P;

/* A PMD-sized folio: the unit `shmtrace record` populates ahead in. */
#define PROBE_HEAD_ALIGN (2u << 20)

static char exec_env_dir[1100];
static char exec_env_preload[8192];
static char exec_env_pindex[96];

/* ---- resolving ----------------------------------------------------------- */

static const struct {
	const char *name;
	const char *version; /* NULL: the default version */
	void **slot;
} real_tab[] = {
#define PROBE_ENTRY(name, ver) {#name, ver, (void **)&real_##name},
	PROBE_REAL_FUNCS(PROBE_ENTRY)
#undef PROBE_ENTRY
};

void probe_resolve(void)
{
	for (size_t i = 0; i < sizeof(real_tab) / sizeof(real_tab[0]); i++) {
		void *p = NULL;

		if (*real_tab[i].slot)
			continue;
		if (real_tab[i].version)
			p = dlvsym(RTLD_NEXT, real_tab[i].name,
				   real_tab[i].version);
		if (!p)
			p = dlsym(RTLD_NEXT, real_tab[i].name);
		*real_tab[i].slot = p;
	}
}

/* ---- small helpers ------------------------------------------------------- */

static uint32_t gettid_cached(void)
{
	return (uint32_t)syscall(SYS_gettid);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t probe_clock_slow(void)
{
	return mono_ns();
}

static void lock_maps(void)
{
	while (__atomic_exchange_n(&P.maps_lock, 1, __ATOMIC_ACQUIRE))
		sched_yield();
}

static void unlock_maps(void)
{
	__atomic_store_n(&P.maps_lock, 0, __ATOMIC_RELEASE);
}

/* Diagnostics go to DIR/probe-<pid>.log, never to the target's output. */
static void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void diag(const char *fmt, ...)
{
	char path[1100], buf[512];
	va_list ap;
	int fd, n;

	if (!P.dir[0])
		return;
	snprintf(path, sizeof(path), "%s/probe-%d.log", P.dir, (int)getpid());
	n = snprintf(buf, sizeof(buf), "pid %d: ", (int)getpid());
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (write(fd, buf, (size_t)n) < 0) {
		/* nowhere else to say it */
	}
	close(fd);
}

/* Copy SRC into DST of LEN bytes, truncating: paths longer than the
 * trace's name field are cut, not an error. */
static void copy_str(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	dst[n] = 0;
}

static void read_small_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = 0;

	buf[0] = 0;
	if (fd < 0)
		return;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = 0;
}

/* ---- clock ------------------------------------------------------------------
 */

static void clock_setup(void)
{
	const char *hz = getenv("SHMPROBE_TSC_HZ");
	const char *clk = getenv("SHMPROBE_CLOCK");

	if (clk && !strcmp(clk, "monotonic")) {
		probe_tsc = false;
	} else if (hz && atof(hz) > 1e6) {
		probe_tsc = true;
		P.tps = atof(hz);
	} else if (trace_tsc_invariant()) {
		probe_tsc = true;
		P.tps = trace_tsc_calibrate(5);
	}
	if (!probe_tsc)
		P.tps = 1e9;
	probe_ns_per_tick = 1e9 / P.tps;
}

/* ---- the trace file ------------------------------------------------------ */

static size_t file_layout(struct trace_header *h, uint32_t nchunks)
{
	uint64_t off = TRACE_HEADER_SIZE;

	h->maps_off = off;
	h->maps_cap = TRACE_MAPS_MAX;
	off += (uint64_t)TRACE_MAPS_MAX * sizeof(struct trace_map);
	off = (off + 4095) & ~4095ULL;
	h->stacks_off = off;
	h->stacks_cap = TRACE_STACK_SLOTS;
	off += (uint64_t)TRACE_STACK_SLOTS * sizeof(struct trace_stack);
	off = (off + TRACE_CHUNK_SIZE - 1) & ~(uint64_t)(TRACE_CHUNK_SIZE - 1);
	h->chunks_off = off;
	h->chunk_size = TRACE_CHUNK_SIZE;
	h->nchunks = nchunks;
	off += (uint64_t)nchunks * TRACE_CHUNK_SIZE;
	return (size_t)off;
}

/* The head of a file of SIZE bytes laid out as H: up to the first 2 MiB
 * boundary past the tables.  `shmtrace record` populates the event area
 * from there on (see probes/ahead.c). */
static size_t file_head(const struct trace_header *h, size_t size)
{
	uint64_t head = (h->chunks_off + PROBE_HEAD_ALIGN) &
			~(uint64_t)(PROBE_HEAD_ALIGN - 1);

	return head < size ? (size_t)head : size;
}

/* Create and map this process's file; fill the header.  0 or -errno. */
static int file_create(void)
{
	struct trace_header tmp, *h;
	char path[1200];
	const char *mb = getenv("SHMPROBE_BUFFER_MB");
	long nmb = mb ? atol(mb) : TRACE_DEFAULT_MB;
	uint64_t anchor_ns, anchor_ticks;
	struct timespec rt;
	size_t size;
	void *m;
	int fd, err;

	if (nmb < 1)
		nmb = 1;
	if (nmb > 65536)
		nmb = 65536;
	memset(&tmp, 0, sizeof(tmp));
	size = file_layout(
		&tmp, (uint32_t)((uint64_t)nmb * 1048576 / TRACE_CHUNK_SIZE));
	anchor_ticks = probe_now();
	anchor_ns = mono_ns();
	clock_gettime(CLOCK_REALTIME, &rt);
	snprintf(path, sizeof(path), "%s/%d-%llu%s", P.dir, (int)getpid(),
		 (unsigned long long)anchor_ns, TRACE_FILE_SUFFIX);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = errno;
		diag("cannot create %s: %s", path, strerror(err));
		return -err;
	}
	if (REAL(ftruncate)(fd, (off_t)size) < 0) {
		err = errno;
		diag("cannot size %s: %s", path, strerror(err));
		close(fd);
		unlink(path);
		return -err;
	}
	m = REAL(mmap)(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	err = errno;
	close(fd);
	if (m == MAP_FAILED) {
		diag("cannot map %s: %s", path, strerror(err));
		unlink(path);
		return -err;
	}
	if (RUNNING_ON_VALGRIND)
		VALGRIND_MAKE_MEM_DEFINED(m, size);
	/* The head of the file (header, tables, the first chunks) is touched
	 * a page here and there: without this, the first write fault of an
	 * ext4 file reads around it (8 MiB here: 2 ms to zero, 2.5 ms more
	 * to unlink), which a process that records little never needs. */
	madvise(m, file_head(&tmp, size), MADV_RANDOM);
	h = m;
	*h = tmp;
	h->magic = TRACE_MAGIC;
	h->version = TRACE_VERSION;
	h->header_size = TRACE_HEADER_SIZE;
	h->file_size = size;
	h->pid = (int32_t)getpid();
	h->ppid = (int32_t)getppid();
	h->clock = probe_tsc ? TRACE_CLOCK_TSC : TRACE_CLOCK_MONOTONIC;
	h->backtrace = (uint32_t)probe_backtrace;
	h->ticks_per_sec = P.tps;
	h->anchor_ticks = anchor_ticks;
	h->anchor_ns = anchor_ns;
	h->anchor_realtime_ns =
		(uint64_t)rt.tv_sec * 1000000000ULL + (uint64_t)rt.tv_nsec;
	h->events = P.events;
	h->exit_status = -1;
	read_small_file("/proc/self/comm", h->comm, sizeof(h->comm));
	h->comm[strcspn(h->comm, "\n")] = 0;
	{
		ssize_t n =
			readlink("/proc/self/exe", h->exe, sizeof(h->exe) - 1);
		h->exe[n > 0 ? n : 0] = 0;
	}
	read_small_file("/proc/self/cmdline", h->cmdline, sizeof(h->cmdline));
	for (size_t i = 0; i + 1 < sizeof(h->cmdline); i++) {
		if (!h->cmdline[i] && h->cmdline[i + 1])
			h->cmdline[i] = ' ';
	}
	P.hdr = h;
	P.size = size;
	/* Opt-in: fault the whole event area in now, so that recording never
	 * takes a page fault (the cost moves to startup). */
	if (getenv("SHMPROBE_PREFAULT"))
		madvise((char *)m + h->chunks_off, size - h->chunks_off,
			MADV_POPULATE_WRITE);
	return 0;
}

static struct trace_map *maps_base(void)
{
	return (struct trace_map *)((char *)P.hdr + P.hdr->maps_off);
}

static struct trace_stack *stacks_base(void)
{
	return (struct trace_stack *)((char *)P.hdr + P.hdr->stacks_off);
}

/* ---- chunks
 * ------------------------------------------------------------------ */

void probe_drop(struct probe_thread *t)
{
	(void)t;
	if (P.hdr)
		__atomic_fetch_add(&P.hdr->dropped, 1, __ATOMIC_RELAXED);
}

struct trace_event *probe_new_chunk(struct probe_thread *t)
{
	struct trace_header *h = P.hdr;
	struct trace_chunk *c;
	uint32_t idx;
	int saved = errno;

	if (!h)
		return NULL;
	idx = __atomic_fetch_add(&h->chunks_used, 1, __ATOMIC_RELAXED);
	if (idx >= h->nchunks) {
		__atomic_fetch_add(&h->dropped, 1, __ATOMIC_RELAXED);
		t->cur = t->end = NULL;
		return NULL;
	}
	c = (struct trace_chunk *)((char *)h + h->chunks_off +
				   (uint64_t)idx * TRACE_CHUNK_SIZE);
	/* Fault the chunk in now rather than one page fault per 128 events
	 * later; harmless where the kernel does not know the advice. */
	madvise(c, TRACE_CHUNK_SIZE, MADV_POPULATE_WRITE);
	if (!t->tid)
		t->tid = gettid_cached();
	c->tid = t->tid;
	c->seq = t->seq++;
	c->first_ts = probe_now();
	c->dropped = t->drops;
	__atomic_store_n(&c->magic, TRACE_CHUNK_MAGIC, __ATOMIC_RELEASE);
	if (t->chunk)
		__atomic_store_n(&t->chunk->next, idx + 1, __ATOMIC_RELEASE);
	t->chunk = c;
	t->cur = (struct trace_event *)(c + 1);
	t->end = t->cur + TRACE_CHUNK_EVENTS;
	errno = saved;
	return t->cur;
}

/* ---- mapping table
 * ------------------------------------------------------------ */

/* Append a mapping entry; the caller holds the maps lock. */
static void map_append(const struct trace_map *m)
{
	struct trace_header *h = P.hdr;
	uint32_t i = h->maps_count;
	struct trace_map *slot;

	if (i >= h->maps_cap) {
		diag("mapping table full (%u entries)", h->maps_cap);
		return;
	}
	slot = &maps_base()[i];
	*slot = *m;
	slot->valid = 0;
	__atomic_store_n(&slot->valid, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&h->maps_count, i + 1, __ATOMIC_RELEASE);
}

static bool code_known(uint64_t start, uint64_t end, uint64_t ino)
{
	struct trace_map *m = maps_base();

	for (uint32_t i = 0; i < P.hdr->maps_count; i++) {
		if (m[i].kind == TRACE_MAP_CODE && !m[i].t_unmap &&
		    m[i].start == start && m[i].end == end && m[i].ino == ino)
			return true;
	}
	return false;
}

/* Add every executable file mapping of /proc/self/maps not yet known. */
static void scan_code_maps(void)
{
	static char buf[65536];
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t n;
	char *line, *next;

	if (fd < 0)
		return;
	while (len < sizeof(buf) - 1 &&
	       (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = 0;
	for (line = buf; line && *line; line = next) {
		unsigned long long s, e, off, ino;
		unsigned maj, min;
		char perms[8];
		int pos = 0;
		struct trace_map m;

		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &s, &e,
			   perms, &off, &maj, &min, &ino, &pos) < 7)
			continue;
		if (perms[2] != 'x' || line[pos] != '/')
			continue;
		if (code_known(s, e, ino))
			continue;
		memset(&m, 0, sizeof(m));
		m.start = s;
		m.end = e;
		m.file_off = off;
		m.dev = makedev(maj, min);
		m.ino = ino;
		m.kind = TRACE_MAP_CODE;
		m.t_map = probe_now();
		copy_str(m.name, sizeof(m.name), line + pos);
		map_append(&m);
	}
}

static void fd_name(int fd, char *name, size_t len, uint32_t *kind)
{
	char link[64], target[512];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		n = 0;
	target[n] = 0;
	if ((size_t)n > 10 && !strcmp(target + n - 10, " (deleted)"))
		target[n - 10] = 0;
	if (!strncmp(target, "/dev/shm/", 9)) {
		*kind = TRACE_MAP_POSIX;
		copy_str(name, len, target + 8);
	} else {
		*kind = TRACE_MAP_FILE;
		copy_str(name, len, target);
	}
}

void probe_map_fd(void *start, size_t len, int prot, int flags, int fd,
		  off_t off)
{
	struct probe_thread *t = &probe_tls;
	struct trace_map m;
	struct stat st;
	int saved = errno;
	bool shared = (flags & MAP_TYPE) != MAP_PRIVATE;

	if (!P.hdr || t->busy)
		return;
	if (!shared && !(prot & PROT_EXEC))
		return;
	if (!shared && fd < 0)
		return;
	t->busy = 1;
	memset(&m, 0, sizeof(m));
	m.start = (uint64_t)(uintptr_t)start;
	m.end = m.start + ((len + 4095) & ~(size_t)4095);
	m.file_off = (uint64_t)off;
	if (fd >= 0 && fstat(fd, &st) == 0) {
		m.dev = st.st_dev;
		m.ino = st.st_ino;
		fd_name(fd, m.name, sizeof(m.name), &m.kind);
		if (!shared)
			m.kind = TRACE_MAP_CODE;
	} else {
		m.kind = TRACE_MAP_ANON;
		m.dev = 0;
		m.ino = (uint64_t)getpid() << 48 ^ m.start;
		snprintf(m.name, sizeof(m.name), "anon:%d:%#llx", (int)getpid(),
			 (unsigned long long)m.start);
	}
	m.t_map = probe_now();
	lock_maps();
	map_append(&m);
	unlock_maps();
	t->busy = 0;
	errno = saved;
}

/* End every live entry overlapping [a, b); keep the parts outside. */
static void maps_cut(uint64_t a, uint64_t b, uint64_t now)
{
	struct trace_map *maps = maps_base();
	uint32_t n = P.hdr->maps_count;

	for (uint32_t i = 0; i < n; i++) {
		struct trace_map m = maps[i];

		if (m.t_unmap || m.end <= a || m.start >= b)
			continue;
		maps[i].t_unmap = now;
		if (m.start < a) {
			struct trace_map l = m;
			l.end = a;
			l.t_map = now;
			l.t_unmap = 0;
			map_append(&l);
		}
		if (m.end > b) {
			struct trace_map r = m;
			r.file_off += b - m.start;
			r.start = b;
			r.t_map = now;
			r.t_unmap = 0;
			map_append(&r);
		}
	}
}

void probe_map_gone(void *start, size_t len)
{
	struct probe_thread *t = &probe_tls;
	uint64_t a = (uint64_t)(uintptr_t)start;

	if (!P.hdr || t->busy)
		return;
	t->busy = 1;
	lock_maps();
	if (len == 0) {
		/* shmdt: the whole attachment that starts at START */
		const struct trace_map *maps = maps_base();
		for (uint32_t i = 0; i < P.hdr->maps_count; i++) {
			if (maps[i].start == a && !maps[i].t_unmap &&
			    maps[i].kind != TRACE_MAP_CODE)
				len = maps[i].end - a;
		}
	}
	maps_cut(a, a + ((len + 4095) & ~(size_t)4095), probe_now());
	unlock_maps();
	t->busy = 0;
}

void probe_map_move(void *old, size_t oldlen, void *new, size_t newlen)
{
	struct probe_thread *t = &probe_tls;
	uint64_t a = (uint64_t)(uintptr_t)old, now;
	struct trace_map *maps, found;
	bool have = false;

	if (!P.hdr || t->busy)
		return;
	t->busy = 1;
	lock_maps();
	maps = maps_base();
	for (uint32_t i = P.hdr->maps_count; i-- > 0;) {
		if (!maps[i].t_unmap && maps[i].kind != TRACE_MAP_CODE &&
		    maps[i].start <= a && a < maps[i].end) {
			found = maps[i];
			have = true;
			break;
		}
	}
	now = probe_now();
	maps_cut(a, a + ((oldlen + 4095) & ~(size_t)4095), now);
	if (have) {
		found.file_off += a - found.start;
		found.start = (uint64_t)(uintptr_t) new;
		found.end = found.start + ((newlen + 4095) & ~(size_t)4095);
		found.t_map = now;
		found.t_unmap = 0;
		map_append(&found);
	}
	unlock_maps();
	t->busy = 0;
}

void probe_map_sysv(int shmid, const void *addr)
{
	struct probe_thread *t = &probe_tls;
	struct shmid_ds ds;
	struct trace_map m;
	int saved = errno;

	if (!P.hdr || t->busy)
		return;
	if (shmctl(shmid, IPC_STAT, &ds) < 0) {
		errno = saved;
		return;
	}
	t->busy = 1;
	memset(&m, 0, sizeof(m));
	m.kind = TRACE_MAP_SYSV;
	m.start = (uint64_t)(uintptr_t)addr;
	m.end = m.start + ((ds.shm_segsz + 4095) & ~(size_t)4095);
	m.dev = 0;
	m.ino = (1ULL << 63) | (uint32_t)shmid;
	snprintf(m.name, sizeof(m.name), "sysv:%#x",
		 (unsigned)ds.shm_perm.__key);
	m.t_map = probe_now();
	lock_maps();
	map_append(&m);
	unlock_maps();
	t->busy = 0;
	errno = saved;
}

void probe_map_sem(const char *name, const sem_t *sem)
{
	struct probe_thread *t = &probe_tls;
	char path[600];
	struct trace_map m;
	struct stat st;
	int saved = errno;

	if (!P.hdr || t->busy || !name)
		return;
	while (*name == '/')
		name++;
	snprintf(path, sizeof(path), "/dev/shm/sem.%s", name);
	if (stat(path, &st) < 0) {
		errno = saved;
		return;
	}
	t->busy = 1;
	memset(&m, 0, sizeof(m));
	m.kind = TRACE_MAP_POSIX;
	m.start = (uint64_t)(uintptr_t)sem & ~4095ULL;
	m.end = m.start + 4096;
	m.dev = st.st_dev;
	m.ino = st.st_ino;
	snprintf(m.name, sizeof(m.name), "/sem.%s", name);
	m.t_map = probe_now();
	lock_maps();
	map_append(&m);
	unlock_maps();
	t->busy = 0;
	errno = saved;
}

/* ---- stacks
 * -------------------------------------------------------------------- */

static uint64_t hash_pcs(const uint64_t *pc, int n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)n;

	for (int i = 0; i < n; i++) {
		h ^= pc[i];
		h *= 0xff51afd7ed558ccdULL;
		h ^= h >> 33;
	}
	return h ? h : 1;
}

static bool pcs_covered(const uint64_t *pc, int n)
{
	const struct trace_map *maps = maps_base();
	uint32_t count = __atomic_load_n(&P.hdr->maps_count, __ATOMIC_ACQUIRE);

	for (int i = 0; i < n; i++) {
		bool ok = false;
		for (uint32_t j = 0; j < count && !ok; j++)
			ok = maps[j].kind == TRACE_MAP_CODE &&
			     !maps[j].t_unmap && maps[j].start <= pc[i] &&
			     pc[i] < maps[j].end;
		if (!ok)
			return false;
	}
	return true;
}

/* The id of the stack PC[0..N) in the file's table, inserting it. */
static uint32_t stack_intern(const uint64_t *pc, int n)
{
	struct trace_stack *tab = stacks_base();
	uint32_t cap = P.hdr->stacks_cap;
	uint64_t h = hash_pcs(pc, n);

	for (uint32_t probe = 0; probe < 64; probe++) {
		uint32_t i = (uint32_t)(h + probe) & (cap - 1);
		struct trace_stack *s = &tab[i];
		uint32_t st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);

		if (st == 0) {
			uint32_t zero = 0;
			if (!__atomic_compare_exchange_n(
				    &s->state, &zero, 1, false,
				    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
				probe--;
				continue; /* look at it again */
			}
			s->hash = h;
			s->depth = (uint32_t)n;
			memcpy(s->pc, pc, (size_t)n * sizeof(pc[0]));
			__atomic_store_n(&s->state, 2, __ATOMIC_RELEASE);
			__atomic_fetch_add(&P.hdr->stacks_used, 1,
					   __ATOMIC_RELAXED);
			/* Code loaded since we last looked (dlopen): note
			 * it, so the report can name these addresses. */
			if (!pcs_covered(pc, n) &&
			    !__atomic_exchange_n(&P.maps_lock, 1,
						 __ATOMIC_ACQUIRE)) {
				scan_code_maps();
				unlock_maps();
			}
			return i + 1;
		}
		while (st == 1) {
			__builtin_ia32_pause();
			st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
		}
		if (s->hash == h && s->depth == (uint32_t)n &&
		    !memcmp(s->pc, pc, (size_t)n * sizeof(pc[0])))
			return i + 1;
	}
	__atomic_fetch_add(&P.hdr->stacks_dropped, 1, __ATOMIC_RELAXED);
	return 0;
}

uint32_t probe_site_slow(struct probe_thread *t, uint64_t ra)
{
	unsigned i = (unsigned)(ra >> 2) & (PROBE_SITE_CACHE - 1);
	uint32_t id;
	int saved = errno;

	if (!P.hdr)
		return 0;
	t->busy = 1;
	id = stack_intern(&ra, 1);
	t->busy = 0;
	t->sites[i].key = ra;
	t->sites[i].id = id;
	errno = saved;
	return id;
}

__attribute__((noinline)) uint32_t probe_stack_slow(struct probe_thread *t)
{
	void *buf[TRACE_STACK_DEPTH + 2];
	uint64_t pc[TRACE_STACK_DEPTH];
	int want = probe_backtrace, n;
	uint32_t id;
	int saved = errno;

	if (!P.hdr)
		return 0;
	if (want > TRACE_STACK_DEPTH)
		want = TRACE_STACK_DEPTH;
	t->busy = 2;
	/* Frames 0 and 1 are this function and the hook. */
	n = unw_backtrace(buf, want + 2) - 2;
	if (n <= 0) {
		t->busy = 0;
		errno = saved;
		return 0;
	}
	for (int i = 0; i < n; i++)
		pc[i] = (uint64_t)(uintptr_t)buf[i + 2];
	t->busy = 1;
	id = stack_intern(pc, n);
	t->busy = 0;
	errno = saved;
	return id;
}

/* ---- objects created
 * ------------------------------------------------------------- */

bool probe_active(void)
{
	return P.hdr != NULL;
}

void probe_created(const char *line)
{
	char path[1100], buf[600];
	int fd, n, saved = errno;

	if (!P.hdr)
		return;
	snprintf(path, sizeof(path), "%s/created.%d.txt", P.dir, (int)getpid());
	n = snprintf(buf, sizeof(buf), "%s\n", line);
	if (n >= (int)sizeof(buf))
		goto out;
	/* Opened per line (objects are created rarely): a descriptor kept
	 * open could be closed by the program and its number reused. */
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		goto out;
	if (write(fd, buf, (size_t)n) < 0)
		diag("cannot write %s: %s", path, strerror(errno));
	close(fd);
out:
	errno = saved;
}

/* ---- process life
 * ----------------------------------------------------------------- */

void probe_mark_end(unsigned state, int status)
{
	struct trace_header *h = P.hdr;

	/* A vfork child shares our memory and file: not its end. */
	if (!h || h->pid != (int32_t)getpid())
		return;
	h->exit_status = status;
	h->end_ticks = probe_now();
	__atomic_store_n(&h->state, state, __ATOMIC_RELEASE);
}

static bool env_has(char *const envp[], const char *var, const char *value)
{
	size_t n = strlen(var);

	for (int i = 0; envp && envp[i]; i++) {
		if (!strncmp(envp[i], var, n) && envp[i][n] == '=')
			return !value || strstr(envp[i] + n + 1, value);
	}
	return false;
}

static bool env_has_exact(char *const envp[], const char *entry)
{
	for (int i = 0; envp && envp[i]; i++) {
		if (!strcmp(envp[i], entry))
			return true;
	}
	return false;
}

char *const *probe_exec_env(char *const envp[])
{
	const char *old = NULL, *pindex = probe_noise_env();
	size_t n = 0, sz;
	char **copy;
	int j = 0;

	if (!P.inited || !P.dir[0] || !P.self[0])
		return envp;
	if (env_has(envp, "SHMPROBE_DIR", NULL) &&
	    env_has(envp, "LD_PRELOAD", "libshmprobe") &&
	    (!pindex || env_has_exact(envp, pindex)))
		return envp;
	while (envp && envp[n])
		n++;
	sz = (n + 4) * sizeof(char *);
	/* No malloc: this may run in a vfork child. */
	copy = REAL(mmap)(NULL, sz, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (copy == MAP_FAILED)
		return envp;
	for (size_t i = 0; i < n; i++) {
		if (!strncmp(envp[i], "LD_PRELOAD=", 11))
			old = envp[i] + 11;
		if (!strncmp(envp[i], "SHMPROBE_DIR=", 13) ||
		    !strncmp(envp[i], "LD_PRELOAD=", 11) ||
		    (pindex && !strncmp(envp[i], "SHMPROBE_PINDEX=", 16)))
			continue;
		copy[j++] = envp[i];
	}
	snprintf(exec_env_dir, sizeof(exec_env_dir), "SHMPROBE_DIR=%s", P.dir);
	copy[j++] = exec_env_dir;
	if (old && strstr(old, "libshmprobe"))
		snprintf(exec_env_preload, sizeof(exec_env_preload),
			 "LD_PRELOAD=%s", old);
	else
		snprintf(exec_env_preload, sizeof(exec_env_preload),
			 "LD_PRELOAD=%s%s%s", P.self, old && *old ? ":" : "",
			 old ? old : "");
	copy[j++] = exec_env_preload;
	if (pindex) {
		copy_str(exec_env_pindex, sizeof(exec_env_pindex), pindex);
		copy[j++] = exec_env_pindex;
	}
	copy[j] = NULL;
	return copy;
}

/* ---- init and fork
 * --------------------------------------------------------------- */

static void atfork_prepare(void)
{
	probe_noise_prefork(&probe_tls);
	lock_maps();
}

static void atfork_parent(void)
{
	unlock_maps();
	probe_noise_parent(&probe_tls);
}

/* Claim T's first chunk now, before the program's first sync call: at
 * that call it would cost tens of microseconds (the chunk is faulted in),
 * a window the probe would open inside whatever race the call is part
 * of.  Called while probe_mask is still 0 (a signal handler's calls pass
 * straight through). */
static void claim_first_chunk(struct probe_thread *t)
{
	t->busy = 1;
	__asm__ __volatile__("" ::: "memory");
	(void)probe_new_chunk(t);
	__asm__ __volatile__("" ::: "memory");
	t->busy = 0;
}

/* The child: a file of its own, with the mappings it inherited. */
static void atfork_child(void)
{
	struct trace_header *old = P.hdr;
	size_t oldsize = P.size;
	struct probe_thread *t = &probe_tls;
	struct trace_map *om;
	int saved = errno;

	P.maps_lock = 0;
	if (!old)
		return;
	probe_mask = 0;
	probe_noise_child(t);
	memset(t, 0, sizeof(*t));
	P.hdr = NULL;
	if (file_create() < 0) {
		REAL(munmap)(old, oldsize);
		errno = saved;
		return;
	}
	om = (struct trace_map *)((char *)old + old->maps_off);
	for (uint32_t i = 0; i < old->maps_count && i < old->maps_cap; i++) {
		if (om[i].valid && !om[i].t_unmap)
			map_append(&om[i]);
	}
	REAL(munmap)(old, oldsize);
	claim_first_chunk(t);
	probe_mask = P.events;
	errno = saved;
}

__attribute__((constructor)) static void probe_init(void)
{
	const char *dir = getenv("SHMPROBE_DIR");
	const char *bt = getenv("SHMPROBE_BACKTRACE");
	const char *ev = getenv("SHMPROBE_EVENTS");
	int saved = errno;

	probe_resolve();
	if (P.inited)
		return;
	P.inited = true;
	if (!dir || !*dir)
		return; /* inert: everything passes straight through */
	copy_str(P.dir, sizeof(P.dir), dir);
	P.events = TRACE_CLASS_ALL;
	if (ev && *ev && trace_parse_classes(ev, &P.events, NULL) < 0) {
		diag("bad SHMPROBE_EVENTS '%s': tracing everything", ev);
		P.events = TRACE_CLASS_ALL;
	}
	if (bt && *bt) {
		probe_backtrace = atoi(bt);
		if (probe_backtrace < 0)
			probe_backtrace = 0;
		if (probe_backtrace > TRACE_STACK_DEPTH)
			probe_backtrace = TRACE_STACK_DEPTH;
	}
	{
		Dl_info di;
		if (dladdr((void *)probe_resolve, &di) && di.dli_fname)
			copy_str(P.self, sizeof(P.self), di.dli_fname);
	}
	clock_setup();
	if (file_create() < 0) {
		errno = saved;
		return;
	}
	lock_maps();
	scan_code_maps();
	unlock_maps();
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
	probe_noise_init(P.dir);
	claim_first_chunk(&probe_tls);
	probe_mask = P.events;
	errno = saved;
}

/* Returning from main ends up here (its exit() is libc-internal, which no
 * interposer sees); exit() and _exit() have marked the file already. */
__attribute__((destructor)) static void probe_fini(void)
{
	probe_pct_exit();
	if (P.hdr && P.hdr->state == TRACE_RUNNING)
		probe_mark_end(TRACE_EXITED, -1);
}

/* ---- object names for the pct scheduler (probe_pct.c) ------------------ */

bool probe_map_find(const void *addr, uint64_t *dev, uint64_t *ino,
		    uint64_t *off, const char **name)
{
	uint64_t a = (uint64_t)(uintptr_t)addr;
	struct trace_map *m;
	uint32_t n;

	if (!P.hdr)
		return false;
	m = maps_base();
	n = __atomic_load_n(&P.hdr->maps_count, __ATOMIC_ACQUIRE);
	/* Newest first: an address reused by a later mapping is that one. */
	for (uint32_t i = n; i-- > 0;) {
		if (m[i].kind == TRACE_MAP_CODE || m[i].t_unmap ||
		    !__atomic_load_n(&m[i].valid, __ATOMIC_ACQUIRE))
			continue;
		if (a < m[i].start || a >= m[i].end)
			continue;
		*dev = m[i].dev;
		*ino = m[i].ino;
		*off = a - m[i].start + m[i].file_off;
		*name = m[i].name;
		return true;
	}
	return false;
}
