/*
 * seg.c - attach read-only to a segment and follow what happens to it.
 */
#include "seg.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc.h"

#define SHM_DIR "/dev/shm"

const char *seg_kind_name(enum seg_kind k)
{
	switch (k) {
	case SEG_POSIX:
		return "posix";
	case SEG_SYSV:
		return "sysv";
	case SEG_FILE:
		return "file";
	}
	return "?";
}

/* KEY as C reads an integer: 0x hex, or decimal; negative decimals are
 * accepted because key_t is signed and ipcs prints some keys that way. */
static int parse_int(const char *s, long long min, long long max,
		     long long *out)
{
	char *end;
	long long v;

	if (!*s)
		return -EINVAL;
	errno = 0;
	if ((s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) && s[2]) {
		unsigned long long u = strtoull(s + 2, &end, 16);

		if (*end || errno || u > 0xffffffffULL)
			return -EINVAL;
		v = (long long)u;
	} else {
		v = strtoll(s, &end, 10);
		if (*end || errno)
			return -EINVAL;
	}
	if (v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int set_posix(struct seg_target *t, const char *name, const char *arg,
		     struct errbuf *e)
{
	while (*name == '/')
		name++;
	if (!*name || strchr(name, '/') || strlen(name) > NAME_MAX ||
	    !strcmp(name, ".") || !strcmp(name, "..")) {
		err_set(e,
			"%s: not a POSIX shared-memory name (\"/name\", one "
			"component)",
			arg);
		return -EINVAL;
	}
	t->kind = SEG_POSIX;
	snprintf(t->name, sizeof(t->name), "/%s", name);
	return 0;
}

static int set_file(struct seg_target *t, const char *path, const char *arg,
		    struct errbuf *e)
{
	if (!*path || strlen(path) >= sizeof(t->name)) {
		err_set(e, "%s: not a usable file path", arg);
		return -EINVAL;
	}
	t->kind = SEG_FILE;
	snprintf(t->name, sizeof(t->name), "%s", path);
	return 0;
}

int seg_parse_target(const char *arg, struct seg_target *t, struct errbuf *e)
{
	long long v;

	memset(t, 0, sizeof(*t));
	t->shmid = -1;
	if (!strncmp(arg, "posix:", 6))
		return set_posix(t, arg + 6, arg, e);
	if (!strncmp(arg, "sysv:", 5)) {
		if (parse_int(arg + 5, INT32_MIN, UINT32_MAX, &v) < 0) {
			err_set(e, "%s: not a System V key (0x hex or decimal)",
				arg);
			return -EINVAL;
		}
		/* shmget(IPC_PRIVATE, ...) would create, not find. */
		if (v == 0) {
			err_set(e,
				"%s: key 0 is IPC_PRIVATE and names no "
				"segment; use sysvid:ID",
				arg);
			return -EINVAL;
		}
		t->kind = SEG_SYSV;
		t->key = (key_t)(int32_t)(uint32_t)v;
		return 0;
	}
	if (!strncmp(arg, "sysvid:", 7)) {
		if (parse_int(arg + 7, 0, INT32_MAX, &v) < 0) {
			err_set(e, "%s: not a System V shmid", arg);
			return -EINVAL;
		}
		t->kind = SEG_SYSV;
		t->by_id = true;
		t->shmid = (int)v;
		return 0;
	}
	if (!strncmp(arg, "file:", 5))
		return set_file(t, arg + 5, arg, e);
	if (!strncmp(arg, SHM_DIR "/", sizeof(SHM_DIR)))
		return set_posix(t, arg + sizeof(SHM_DIR), arg, e);
	if (arg[0] == '/' && !strchr(arg + 1, '/'))
		return set_posix(t, arg, arg, e);
	if (strchr(arg, '/'))
		return set_file(t, arg, arg, e);
	err_set(e,
		"%s: not a target (use /name, posix:/name, sysv:KEY, "
		"sysvid:ID, file:PATH)",
		arg);
	return -EINVAL;
}

const char *seg_target_str(const struct seg_target *t, char *buf, size_t len)
{
	switch (t->kind) {
	case SEG_POSIX:
		snprintf(buf, len, "%s", t->name);
		break;
	case SEG_SYSV:
		if (t->by_id)
			snprintf(buf, len, "sysvid:%d", t->shmid);
		else
			snprintf(buf, len, "sysv:0x%08x", (unsigned)t->key);
		break;
	case SEG_FILE:
		snprintf(buf, len, "file:%s", t->name);
		break;
	}
	return buf;
}

/* The path a POSIX or file target's name lives at. */
static void target_path(const struct seg_target *t, char *buf, size_t len)
{
	if (t->kind == SEG_POSIX)
		snprintf(buf, len, SHM_DIR "%s", t->name);
	else
		snprintf(buf, len, "%s", t->name);
}

static int attach_fd(struct seg *s, struct errbuf *e)
{
	char path[PATH_MAX + 16];
	struct stat st;
	void *p;

	target_path(&s->target, path, sizeof(path));
	s->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (s->fd < 0 || fstat(s->fd, &st) < 0) {
		int err = errno;

		err_setn(e, err, "%s", s->name);
		return -err;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(e, "%s: not a regular file", s->name);
		return -EINVAL;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	if (st.st_size <= 0)
		return 0;
	if ((uint64_t)st.st_size > SIZE_MAX) {
		err_set(e, "%s: too large to map", s->name);
		return -EFBIG;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, s->fd, 0);
	if (p == MAP_FAILED) {
		int err = errno;

		err_setn(e, err, "%s: mmap", s->name);
		return -err;
	}
	s->base = p;
	s->map_size = s->size = s->seen_size = (size_t)st.st_size;
	return 0;
}

static int attach_sysv(struct seg *s, struct errbuf *e)
{
	struct shmid_ds ds;
	struct proc_map m;
	void *p;
	int id = s->target.shmid;

	if (!s->target.by_id) {
		id = shmget(s->target.key, 0, 0);
		if (id < 0) {
			int err = errno;

			err_setn(e, err, "%s", s->name);
			return -err;
		}
	}
	if (shmctl(id, IPC_STAT, &ds) < 0) {
		int err = errno;

		err_setn(e, err, "%s", s->name);
		return -err;
	}
	p = shmat(id, NULL, SHM_RDONLY);
	if (p == (void *)-1) {
		int err = errno;

		err_setn(e, err, "%s: shmat", s->name);
		return -err;
	}
	s->shmid = id;
	s->base = p;
	s->map_size = s->size = s->seen_size = ds.shm_segsz;
	if (ds.shm_perm.mode & SHM_DEST)
		s->state |= SEG_EV_REMOVED;
	/* The device is the kernel's internal shm mount, known only from the
	 * mapping itself; the inode is the shmid. */
	if (proc_self_mapping_at(p, &m, NULL) == 0) {
		s->dev = m.dev;
		free(m.path);
	}
	s->ino = (ino_t)id;
	return 0;
}

int seg_attach(struct seg *s, const struct seg_target *t, struct errbuf *e)
{
	int ret;

	memset(s, 0, sizeof(*s));
	s->target = *t;
	s->fd = -1;
	s->shmid = -1;
	seg_target_str(t, s->name, sizeof(s->name));
	ret = t->kind == SEG_SYSV ? attach_sysv(s, e) : attach_fd(s, e);
	if (ret < 0)
		seg_detach(s);
	return ret;
}

int seg_open(struct seg *s, const char *arg, struct errbuf *e)
{
	struct seg_target t;
	int ret = seg_parse_target(arg, &t, e);

	if (ret < 0) {
		memset(s, 0, sizeof(*s));
		s->fd = s->shmid = -1;
		return ret;
	}
	return seg_attach(s, &t, e);
}

void seg_detach(struct seg *s)
{
	if (s->base) {
		if (s->target.kind == SEG_SYSV)
			shmdt(s->base);
		else
			munmap((void *)s->base, s->map_size);
	}
	if (s->fd >= 0)
		close(s->fd);
	s->base = NULL;
	s->map_size = s->size = 0;
	s->fd = -1;
	s->shmid = -1;
}

/* Make SIZE bytes readable: extend (or create) the mapping when needed. */
static int remap(struct seg *s, size_t size, struct errbuf *e)
{
	void *p;

	if (size <= s->map_size) {
		s->size = size;
		return 0;
	}
	if (s->base)
		p = mremap((void *)s->base, s->map_size, size, MREMAP_MAYMOVE);
	else
		p = mmap(NULL, size, PROT_READ, MAP_SHARED, s->fd, 0);
	if (p == MAP_FAILED) {
		int err = errno;

		err_setn(e, err, "%s: remap to %zu bytes", s->name, size);
		return -err;
	}
	s->base = p;
	s->map_size = s->size = size;
	return 0;
}

static int refresh_fd(struct seg *s, unsigned *events, struct errbuf *e)
{
	char path[PATH_MAX + 16];
	struct stat st, named;
	size_t size;
	int ret;

	if (fstat(s->fd, &st) < 0) {
		int err = errno;

		err_setn(e, err, "%s: fstat", s->name);
		return -err;
	}
	size = st.st_size > 0 ? (size_t)st.st_size : 0;
	/* Against the size of the last refresh, not s->size, which
	 * seg_read() may already have clamped. */
	if (size > s->seen_size)
		*events |= SEG_EV_GREW;
	else if (size < s->seen_size)
		*events |= SEG_EV_SHRANK;
	s->seen_size = size;
	ret = remap(s, size, e);
	if (ret < 0)
		return ret;
	/* "Shrank" holds from a shrink until the next growth. */
	if (*events & SEG_EV_SHRANK)
		s->state |= SEG_EV_SHRANK;
	else if (*events & SEG_EV_GREW)
		s->state &= ~SEG_EV_SHRANK;
	/* Unlinked: our inode has no names left, or the name is gone; replaced:
	 * the name leads to another object now. */
	target_path(&s->target, path, sizeof(path));
	s->state &= ~(SEG_EV_UNLINKED | SEG_EV_REPLACED);
	if (stat(path, &named) < 0) {
		s->state |= SEG_EV_UNLINKED;
	} else if (named.st_dev != s->dev || named.st_ino != s->ino) {
		s->state |= SEG_EV_UNLINKED | SEG_EV_REPLACED;
	} else if (st.st_nlink == 0) {
		s->state |= SEG_EV_UNLINKED;
	}
	return 0;
}

static int refresh_sysv(struct seg *s, struct errbuf *e)
{
	struct shmid_ds ds;
	int id;

	/* Linux keeps IPC_STAT working on a removed segment while anyone is
	 * attached, and we are. */
	if (shmctl(s->shmid, IPC_STAT, &ds) < 0) {
		int err = errno;

		err_setn(e, err, "%s: shmctl", s->name);
		return -err;
	}
	s->state &= ~(SEG_EV_REMOVED | SEG_EV_REPLACED);
	if (ds.shm_perm.mode & SHM_DEST)
		s->state |= SEG_EV_REMOVED;
	if (!s->target.by_id) {
		id = shmget(s->target.key, 0, 0);
		if (id >= 0 && id != s->shmid)
			s->state |= SEG_EV_REPLACED;
	}
	return 0;
}

int seg_refresh(struct seg *s, struct errbuf *e)
{
	unsigned old = s->state, events = 0;
	int ret;

	if (s->target.kind == SEG_SYSV) {
		if (s->shmid < 0) {
			err_set(e, "%s: not attached", s->name);
			return -EBADF;
		}
		ret = refresh_sysv(s, e);
	} else {
		if (s->fd < 0) {
			err_set(e, "%s: not attached", s->name);
			return -EBADF;
		}
		ret = refresh_fd(s, &events, e);
	}
	if (ret < 0)
		return ret;
	events |= s->state & ~old & ~SEG_EV_SHRANK;
	return (int)events;
}

int seg_reattach(struct seg *s, struct errbuf *e)
{
	struct seg fresh;
	struct seg_target t = s->target;
	int ret = seg_attach(&fresh, &t, e);

	if (ret < 0)
		return ret;
	seg_detach(s);
	*s = fresh;
	return 0;
}

const char *seg_describe(const struct seg *s, unsigned events, char *buf,
			 size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
#define ADD(...)                                                              \
	do {                                                                  \
		if (n < len)                                                  \
			n += (size_t)snprintf(buf + n, len - n, "%s",         \
					      n ? "; " : "");                 \
		if (n < len)                                                  \
			n += (size_t)snprintf(buf + n, len - n, __VA_ARGS__); \
	} while (0)
	if (events & SEG_EV_GREW)
		ADD("segment grew to %zu bytes", s->size);
	if (events & SEG_EV_SHRANK)
		ADD("segment shrank to %zu bytes", s->size);
	if (events & SEG_EV_REPLACED)
		ADD("%s now names another object (reattach to follow it)",
		    s->name);
	else if (events & SEG_EV_UNLINKED)
		ADD("%s was unlinked (old mapping still readable)", s->name);
	if (events & SEG_EV_REMOVED)
		ADD("%s is marked for removal (gone when the last process "
		    "detaches)",
		    s->name);
#undef ADD
	return buf;
}

/* ---- the SIGBUS guard ----------------------------------------------
 *
 * A load from a page past the end of a shrunk file raises SIGBUS.  While a
 * thread is inside a guarded load, our handler jumps back out of it; any
 * other SIGBUS goes to whatever handler was there before ours (or, if that
 * was the default, is re-raised by the faulting instruction running again
 * after the default is put back).  SA_NODEFER keeps SIGBUS unblocked after
 * the jump, so the next fault is caught too.
 */
static __thread sigjmp_buf guard_jmp;
static __thread volatile sig_atomic_t guard_on;
static struct sigaction guard_old;
static pthread_once_t guard_once = PTHREAD_ONCE_INIT;

static void guard_handler(int sig, siginfo_t *si, void *uc)
{
	if (guard_on) {
		guard_on = 0;
		siglongjmp(guard_jmp, 1);
	}
	if (guard_old.sa_flags & SA_SIGINFO) {
		guard_old.sa_sigaction(sig, si, uc);
	} else if (guard_old.sa_handler != SIG_DFL &&
		   guard_old.sa_handler != SIG_IGN) {
		guard_old.sa_handler(sig);
	} else {
		sigaction(SIGBUS, &guard_old, NULL);
	}
}

static void guard_setup(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = guard_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &guard_old);
}

void seg_guard_install(void)
{
	pthread_once(&guard_once, guard_setup);
}

/* Copy N bytes from SRC (in a mapping) to DST; -EFAULT if a page of SRC
 * is gone.  Loads of 1, 2, 4 or 8 aligned bytes are single loads. */
static int guarded_copy(void *dst, const volatile void *src, size_t n)
{
	seg_guard_install();
	if (sigsetjmp(guard_jmp, 0))
		return -EFAULT;
	guard_on = 1;
	switch ((n == 1 || n == 2 || n == 4 || n == 8) &&
				(uintptr_t)src % n == 0
			? n
			: 0) {
	case 1:
		*(uint8_t *)dst = __atomic_load_n((const volatile uint8_t *)src,
						  __ATOMIC_RELAXED);
		break;
	case 2:
		*(uint16_t *)dst = __atomic_load_n(
			(const volatile uint16_t *)src, __ATOMIC_RELAXED);
		break;
	case 4:
		*(uint32_t *)dst = __atomic_load_n(
			(const volatile uint32_t *)src, __ATOMIC_RELAXED);
		break;
	case 8:
		*(uint64_t *)dst = __atomic_load_n(
			(const volatile uint64_t *)src, __ATOMIC_RELAXED);
		break;
	default:
		memcpy(dst, (const void *)src, n);
		break;
	}
	guard_on = 0;
	return 0;
}

/* How far guarded_words() got when a fault cut it short. */
static __thread volatile size_t guard_done;

/*
 * Copy N bytes from SRC (in a mapping) to DST a word at a time: every
 * aligned 8-byte word is one load, so an aligned value of 1 to 8 bytes that
 * a writer stores at once is never torn in the copy.  Returns N, or how many
 * bytes were copied before a page of SRC turned out to be gone.
 */
static size_t guarded_words(void *dst, const volatile void *src, size_t n)
{
	const volatile unsigned char *s = src;
	unsigned char *d = dst;
	size_t i = 0;

	seg_guard_install();
	guard_done = 0;
	if (sigsetjmp(guard_jmp, 0))
		return guard_done;
	guard_on = 1;
	for (; i < n && ((uintptr_t)(s + i) & 7); guard_done = ++i)
		d[i] = s[i];
	for (; i + 8 <= n; i += 8, guard_done = i) {
		uint64_t w = __atomic_load_n((const volatile uint64_t *)(s + i),
					     __ATOMIC_RELAXED);

		memcpy(d + i, &w, 8);
	}
	for (; i < n; guard_done = ++i)
		d[i] = s[i];
	guard_on = 0;
	return n;
}

/* After a fault at OFF: believe the file's size, or at least OFF. */
static void clamp_after_fault(struct seg *s, size_t off)
{
	struct stat st;

	if (s->fd >= 0 && fstat(s->fd, &st) == 0 && st.st_size >= 0 &&
	    (size_t)st.st_size < s->size)
		s->size = (size_t)st.st_size;
	else if (off < s->size)
		s->size = off;
	s->state |= SEG_EV_SHRANK;
}

int seg_load(struct seg *s, size_t off, unsigned width, uint64_t *out)
{
	union {
		uint8_t u8;
		uint16_t u16;
		uint32_t u32;
		uint64_t u64;
	} v;
	const char *p;

	if (width != 1 && width != 2 && width != 4 && width != 8)
		return -EINVAL;
	if (!s->base || off > s->size || s->size - off < width)
		return -ERANGE;
	p = (const char *)s->base + off;
	v.u64 = 0;
	if (guarded_copy(&v, p, width) < 0) {
		clamp_after_fault(s, off);
		return -EFAULT;
	}
	switch (width) {
	case 1:
		*out = v.u8;
		break;
	case 2:
		*out = v.u16;
		break;
	case 4:
		*out = v.u32;
		break;
	default:
		*out = v.u64;
		break;
	}
	return 0;
}

ssize_t seg_read(struct seg *s, size_t off, void *dst, size_t len)
{
	struct stat st;
	size_t n, r;

	if (s->fd >= 0 && fstat(s->fd, &st) == 0 &&
	    (st.st_size < 0 || (size_t)st.st_size < s->size)) {
		s->size = st.st_size > 0 ? (size_t)st.st_size : 0;
		s->state |= SEG_EV_SHRANK;
	}
	if (!s->base || off >= s->size)
		return 0;
	n = s->size - off < len ? s->size - off : len;
	r = guarded_words(dst, (const char *)s->base + off, n);
	/* The pages past r faulted: the object shrank after our check. */
	if (r < n)
		clamp_after_fault(s, off + r);
	return (ssize_t)r;
}
