/*
 * proc.c - mappings, thread ids and futex waiters from /proc.
 *
 * Everything here is a read of some /proc file that can vanish at any
 * moment (processes exit while we look): ENOENT and ESRCH mean "gone" and
 * are skipped, EACCES and EPERM mean "not allowed" and are recorded.
 */
#include "proc.h"

#include <ctype.h>
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "abi.h"

#define FUTEX_OP_MASK 0x7f /* drop FUTEX_PRIVATE_FLAG/CLOCK_REALTIME */

/* Read up to LEN-1 bytes of PATH into BUF and NUL-terminate it.  Returns
 * the byte count or -errno. */
static ssize_t read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, total = 0;

	if (fd < 0)
		return -errno;
	while ((size_t)total < len - 1) {
		n = read(fd, buf + total, len - 1 - (size_t)total);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = -errno;
			close(fd);
			return n;
		}
		if (n == 0)
			break;
		total += n;
	}
	close(fd);
	buf[total] = '\0';
	return total;
}

static bool is_denied(int err)
{
	return err == EACCES || err == EPERM;
}

static bool is_gone(int err)
{
	return err == ENOENT || err == ESRCH;
}

int proc_comm(pid_t pid, char buf[PROC_COMM_MAX])
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	n = read_small(path, buf, PROC_COMM_MAX);
	if (n < 0) {
		snprintf(buf, PROC_COMM_MAX, "?");
		return (int)n;
	}
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

int proc_cmdline(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;

	if (len == 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	n = read_small(path, buf, len);
	if (n < 0) {
		buf[0] = '\0';
		return (int)n;
	}
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	while (n > 0 && buf[n - 1] == ' ')
		buf[--n] = '\0';
	return 0;
}

pid_t proc_tgid(pid_t tid)
{
	char path[64], buf[4096], *p;
	ssize_t n;
	long tgid;

	if (tid <= 0)
		return -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	n = read_small(path, buf, sizeof(buf));
	if (n < 0)
		return is_gone((int)-n) ? -ESRCH : (pid_t)n;
	p = strstr(buf, "\nState:");
	/* A zombie's thread id names nobody who can hold anything. */
	if (p &&
	    (strstr(p, "\nState:\tZ") == p || strstr(p, "\nState:\tX") == p))
		return -ESRCH;
	p = strstr(buf, "\nTgid:");
	if (!p)
		return -ESRCH;
	tgid = strtol(p + 6, NULL, 10);
	return tgid > 0 ? (pid_t)tgid : -ESRCH;
}

/* ---- parsing maps ---------------------------------------------------- */

static const char *parse_hex(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 16);
	if (end == s || errno)
		return NULL;
	return end;
}

int proc_maps_parse_line(const char *line, struct proc_map *m)
{
	static const char deleted[] = " (deleted)";
	const char *s = line;
	uint64_t major, minor, ino;
	size_t plen;
	char *end;

	m->path = NULL;
	s = parse_hex(s, &m->start);
	if (!s || *s++ != '-')
		return -EINVAL;
	s = parse_hex(s, &m->end);
	if (!s || *s++ != ' ')
		return -EINVAL;
	if (strlen(s) < 5 || s[4] != ' ')
		return -EINVAL;
	memcpy(m->perms, s, 4);
	m->perms[4] = '\0';
	s += 5;
	s = parse_hex(s, &m->offset);
	if (!s || *s++ != ' ')
		return -EINVAL;
	s = parse_hex(s, &major);
	if (!s || *s++ != ':')
		return -EINVAL;
	s = parse_hex(s, &minor);
	if (!s || *s++ != ' ')
		return -EINVAL;
	errno = 0;
	ino = strtoull(s, &end, 10);
	if (end == s || errno)
		return -EINVAL;
	s = end;
	while (*s == ' ' || *s == '\t')
		s++;
	m->dev = makedev((unsigned)major, (unsigned)minor);
	m->ino = (ino_t)ino;
	plen = strcspn(s, "\n");
	m->deleted = plen >= sizeof(deleted) - 1 &&
		     !memcmp(s + plen - (sizeof(deleted) - 1), deleted,
			     sizeof(deleted) - 1);
	if (m->deleted)
		plen -= sizeof(deleted) - 1;
	m->path = strndup(s, plen);
	if (!m->path)
		return -ENOMEM;
	/* "/SYSV" and exactly eight hex digits: the key of a SysV segment. */
	m->sysv = false;
	m->sysv_key = 0;
	if (plen == 13 && !strncmp(s, "/SYSV", 5)) {
		uint64_t key;
		const char *e = parse_hex(s + 5, &key);

		if (e == s + 13) {
			m->sysv = true;
			m->sysv_key = (key_t)(uint32_t)key;
		}
	}
	return 0;
}

static bool filter_keeps(const struct proc_filter *f, const struct proc_map *m)
{
	switch (f->match) {
	case PROC_MATCH_DEVINO:
		return m->dev == f->dev && m->ino == f->ino;
	case PROC_MATCH_SYSVID:
		return m->sysv && m->ino == f->ino;
	case PROC_MATCH_SHM:
		if (m->sysv)
			return true;
		if (m->ino == 0)
			return false;
		for (size_t i = 0; i < f->ndevs; i++)
			if (m->dev == f->devs[i])
				return true;
		return false;
	case PROC_MATCH_ALL:
		return true;
	}
	return false;
}

/*
 * A cheap test on the raw line before the full parse, so that scanning
 * thousands of library mappings costs little: the inode field must be
 * non-zero for every filter but ALL — except for SysV segment 0, whose
 * inode is its shmid, 0.
 */
static bool line_may_match(const char *line, const struct proc_filter *f)
{
	const char *s = line;

	if (f->match == PROC_MATCH_ALL)
		return true;
	for (int field = 0; field < 4; field++) {
		s = strchr(s, ' ');
		if (!s)
			return false;
		s++;
	}
	if (s[0] == '0' && s[1] == ' ')
		return f->match == PROC_MATCH_SHM ? strstr(s, "/SYSV") != NULL
						  : f->ino == 0;
	return true;
}

static int maps_push(struct proc_maps *out, const struct proc_map *m)
{
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 16;
		struct proc_map *v = realloc(out->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		out->v = v;
		out->cap = cap;
	}
	out->v[out->n++] = *m;
	return 0;
}

static int denied_push(struct proc_maps *out, pid_t pid)
{
	if (out->ndenied == out->capdenied) {
		size_t cap = out->capdenied ? out->capdenied * 2 : 16;
		pid_t *v = realloc(out->denied, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		out->denied = v;
		out->capdenied = cap;
	}
	out->denied[out->ndenied++] = pid;
	return 0;
}

int proc_maps_scan_pid(struct proc_maps *out, pid_t pid,
		       const struct proc_filter *f, struct errbuf *e)
{
	char path[64], comm[PROC_COMM_MAX] = "";
	char *line = NULL;
	size_t cap = 0, first = out->n;
	int ret = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	fp = fopen(path, "re");
	if (!fp) {
		ret = -errno;
		goto fail;
	}
	out->nscanned++;
	errno = 0;
	while (getline(&line, &cap, fp) > 0) {
		struct proc_map m;

		if (!line_may_match(line, f))
			continue;
		if (proc_maps_parse_line(line, &m) < 0 ||
		    !filter_keeps(f, &m)) {
			free(m.path);
			continue;
		}
		m.pid = pid;
		m.comm[0] = '\0';
		if (maps_push(out, &m) < 0) {
			free(m.path);
			ret = -ENOMEM;
			break;
		}
	}
	/* Unreadable maps open fine and fail on the first read. */
	if (ret == 0 && ferror(fp) && errno)
		ret = -errno;
	free(line);
	fclose(fp);
	if (ret == 0 && out->n > first) {
		proc_comm(pid, comm);
		for (size_t i = first; i < out->n; i++)
			memcpy(out->v[i].comm, comm, sizeof(comm));
	}
	if (ret == 0)
		return 0;
fail:
	if (is_denied(-ret)) {
		if (denied_push(out, pid) < 0)
			ret = -ENOMEM;
		else
			err_set(e, "/proc/%d/maps: permission denied",
				(int)pid);
	} else if (is_gone(-ret)) {
		ret = -ESRCH;
		err_set(e, "process %d does not exist", (int)pid);
	} else {
		err_setn(e, -ret, "%s", path);
	}
	return ret;
}

static bool is_pid_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

int proc_maps_scan(struct proc_maps *out, const struct proc_filter *f,
		   struct errbuf *e)
{
	struct dirent *d;
	DIR *dir = opendir("/proc");
	int ret = 0;

	if (!dir) {
		err_setn(e, errno, "/proc");
		return -errno;
	}
	while ((d = readdir(dir))) {
		int r;

		if (!is_pid_name(d->d_name))
			continue;
		r = proc_maps_scan_pid(out, (pid_t)atoi(d->d_name), f, NULL);
		if (r == -ENOMEM) {
			err_set(e, "out of memory reading /proc");
			ret = r;
			break;
		}
	}
	closedir(dir);
	return ret;
}

int proc_mappers(struct proc_maps *out, dev_t dev, ino_t ino, struct errbuf *e)
{
	struct proc_filter f = {
		.match = PROC_MATCH_DEVINO, .dev = dev, .ino = ino};

	return proc_maps_scan(out, &f, e);
}

int proc_shm_mappings(struct proc_maps *out, struct errbuf *e)
{
	struct proc_filter f = {.match = PROC_MATCH_SHM};
	struct stat st;
	dev_t dev;

	if (stat("/dev/shm", &st) == 0) {
		dev = st.st_dev;
		f.devs = &dev;
		f.ndevs = 1;
	}
	return proc_maps_scan(out, &f, e);
}

bool proc_maps_has_pid(const struct proc_maps *m, pid_t pid)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].pid == pid)
			return true;
	return false;
}

bool proc_maps_denied_pid(const struct proc_maps *m, pid_t pid)
{
	for (size_t i = 0; i < m->ndenied; i++)
		if (m->denied[i] == pid)
			return true;
	return false;
}

size_t proc_maps_drop_pid(struct proc_maps *m, pid_t pid)
{
	size_t kept = 0, n = m->n;

	for (size_t i = 0; i < n; i++) {
		if (m->v[i].pid == pid)
			free(m->v[i].path);
		else
			m->v[kept++] = m->v[i];
	}
	m->n = kept;
	return n - kept;
}

void proc_maps_free(struct proc_maps *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].path);
	free(m->v);
	free(m->denied);
	memset(m, 0, sizeof(*m));
}

int proc_self_mapping_at(const void *addr, struct proc_map *m, struct errbuf *e)
{
	struct proc_filter f = {.match = PROC_MATCH_ALL};
	struct proc_maps all = {0};
	uint64_t a = (uint64_t)(uintptr_t)addr;
	int ret = proc_maps_scan_pid(&all, getpid(), &f, e);

	if (ret < 0)
		goto out;
	ret = -ENOENT;
	for (size_t i = 0; i < all.n; i++) {
		if (a >= all.v[i].start && a < all.v[i].end) {
			*m = all.v[i];
			all.v[i].path = NULL;
			ret = 0;
			break;
		}
	}
	if (ret < 0)
		err_set(e, "no mapping of this process contains %p", addr);
out:
	proc_maps_free(&all);
	return ret;
}

/* ---- thread id -> process ------------------------------------------- */

int proc_tid_resolve(pid_t tid, dev_t dev, ino_t ino,
		     const struct proc_maps *mappers, struct proc_tid *out)
{
	struct proc_maps own = {0};
	pid_t pid;

	memset(out, 0, sizeof(*out));
	out->tid = tid;
	/* Most owners are main threads of a mapper: the scan that made the
	 * list saw them alive, so no /proc read is needed. */
	for (size_t i = 0; mappers && tid > 0 && i < mappers->n; i++) {
		if (mappers->v[i].pid == tid) {
			out->pid = tid;
			memcpy(out->comm, mappers->v[i].comm, PROC_COMM_MAX);
			out->state = PROC_TID_MATCH;
			return 0;
		}
	}
	pid = proc_tgid(tid);
	if (pid < 0) {
		out->state = PROC_TID_GONE;
		return 0;
	}
	out->pid = pid;
	proc_comm(pid, out->comm);
	if (mappers) {
		if (proc_maps_has_pid(mappers, pid))
			out->state = PROC_TID_MATCH;
		else if (proc_maps_denied_pid(mappers, pid))
			out->state = PROC_TID_UNKNOWN;
		else
			out->state = PROC_TID_REUSED;
		return 0;
	}
	struct proc_filter f = {
		.match = PROC_MATCH_DEVINO, .dev = dev, .ino = ino};
	int r = proc_maps_scan_pid(&own, pid, &f, NULL);

	if (r == -ESRCH)
		out->state = PROC_TID_GONE;
	else if (r < 0)
		out->state = PROC_TID_UNKNOWN;
	else
		out->state = own.n ? PROC_TID_MATCH : PROC_TID_REUSED;
	if (out->state == PROC_TID_GONE) {
		out->pid = 0;
		out->comm[0] = '\0';
	}
	proc_maps_free(&own);
	return 0;
}

const char *proc_tid_describe(const struct proc_tid *t, char *buf, size_t len)
{
	switch (t->state) {
	case PROC_TID_MATCH:
		snprintf(buf, len, "alive");
		break;
	case PROC_TID_REUSED:
		snprintf(buf, len, "gone (tid reused by %d %s)", (int)t->pid,
			 t->comm);
		break;
	case PROC_TID_GONE:
		snprintf(buf, len, "gone");
		break;
	case PROC_TID_UNKNOWN:
		snprintf(buf, len, "unknown (no permission to read %d's maps)",
			 (int)t->pid);
		break;
	}
	return buf;
}

/* ---- who waits on what ---------------------------------------------- */

/* The ABI a process runs under, from its executable's ELF header; the
 * host's when that cannot be read. */
static enum abi_id process_abi(pid_t pid)
{
	char path[64];
	unsigned char hdr[EI_NIDENT + 4];
	int fd, abi = -1;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, hdr, sizeof(hdr)) == (ssize_t)sizeof(hdr) &&
		    !memcmp(hdr, ELFMAG, SELFMAG)) {
			/* e_machine follows e_type at offset 18, in the
			 * file's byte order. */
			unsigned m = hdr[EI_DATA] == ELFDATA2MSB
					     ? (unsigned)hdr[18] << 8 | hdr[19]
					     : (unsigned)hdr[19] << 8 | hdr[18];
			abi = abi_from_elf_machine(m);
		}
		close(fd);
	}
	return abi < 0 ? abi_host() : (enum abi_id)abi;
}

static int waiter_push(struct proc_waiters *w, const struct proc_waiter *x)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;
		struct proc_waiter *v = realloc(w->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		w->v = v;
		w->cap = cap;
	}
	w->v[w->n++] = *x;
	return 0;
}

/* The segment offset of UADDR in PID's mappings of the segment, or -1. */
static int64_t seg_offset_of(const struct proc_maps *mappers, pid_t pid,
			     uint64_t uaddr)
{
	for (size_t i = 0; i < mappers->n; i++) {
		const struct proc_map *m = &mappers->v[i];

		if (m->pid == pid && uaddr >= m->start && uaddr < m->end)
			return (int64_t)(m->offset + (uaddr - m->start));
	}
	return -1;
}

/*
 * One thread: "NR ARG0 ... ARG5 SP PC" while blocked in a syscall,
 * "running" or "-1 SP PC" otherwise.  Returns 1 when it is a futex wait
 * inside the segment (X filled), 0 when not, -errno on read failure.
 */
static int scan_thread(const struct proc_maps *mappers, pid_t pid, pid_t tid,
		       enum abi_id abi, struct proc_waiter *x)
{
	char path[96], buf[512];
	unsigned long long arg[6];
	long nr;
	ssize_t n;
	int64_t off;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)pid,
		 (int)tid);
	n = read_small(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	if (sscanf(buf, "%ld %llx %llx %llx %llx %llx %llx", &nr, &arg[0],
		   &arg[1], &arg[2], &arg[3], &arg[4], &arg[5]) != 7)
		return 0;
	if (!abi_is_futex_nr(abi, nr))
		return 0;
	off = seg_offset_of(mappers, pid, arg[0]);
	if (off < 0)
		return 0;
	memset(x, 0, sizeof(*x));
	x->pid = pid;
	x->tid = tid;
	x->uaddr = arg[0];
	x->offset = (uint64_t)off;
	x->futex_op = (int)arg[1];
	x->futex_val = (uint32_t)arg[2];
	return 1;
}

static int scan_process(const struct proc_maps *mappers,
			struct proc_waitproc *p, struct proc_waiters *out)
{
	char path[64];
	struct dirent *d;
	enum abi_id abi = process_abi(p->pid);
	DIR *dir;
	int ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)p->pid);
	dir = opendir(path);
	if (!dir) {
		if (is_denied(errno))
			p->denied = true;
		else
			p->gone = true;
		return 0;
	}
	while ((d = readdir(dir))) {
		struct proc_waiter x;
		int r;

		if (!is_pid_name(d->d_name))
			continue;
		p->nthreads++;
		r = scan_thread(mappers, p->pid, (pid_t)atoi(d->d_name), abi,
				&x);
		if (r < 0 && is_denied(-r))
			p->denied = true;
		if (r <= 0)
			continue;
		memcpy(x.comm, p->comm, sizeof(x.comm));
		snprintf(path, sizeof(path), "/proc/%d/task/%d/comm",
			 (int)p->pid, (int)x.tid);
		if (read_small(path, x.tcomm, sizeof(x.tcomm)) > 0)
			x.tcomm[strcspn(x.tcomm, "\n")] = '\0';
		if (waiter_push(out, &x) < 0) {
			ret = -ENOMEM;
			break;
		}
	}
	closedir(dir);
	return ret;
}

static int cmp_waitproc(const void *a, const void *b)
{
	const struct proc_waitproc *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

int proc_waiters_scan(const struct proc_maps *mappers, struct proc_waiters *out,
		      struct errbuf *e)
{
	size_t np = 0;

	out->procs = calloc(mappers->n + 1, sizeof(*out->procs));
	if (!out->procs)
		goto nomem;
	/* The distinct processes of MAPPERS.  Those whose maps could not be
	 * read are in mappers->denied already and not repeated here. */
	for (size_t i = 0; i < mappers->n; i++) {
		size_t j;

		for (j = 0; j < np; j++)
			if (out->procs[j].pid == mappers->v[i].pid)
				break;
		if (j < np)
			continue;
		out->procs[np].pid = mappers->v[i].pid;
		memcpy(out->procs[np].comm, mappers->v[i].comm, PROC_COMM_MAX);
		np++;
	}
	out->nprocs = np;
	for (size_t i = 0; i < np; i++)
		if (scan_process(mappers, &out->procs[i], out) < 0)
			goto nomem;
	qsort(out->procs, out->nprocs, sizeof(*out->procs), cmp_waitproc);
	return 0;
nomem:
	err_set(e, "out of memory scanning futex waiters");
	return -ENOMEM;
}

void proc_waiters_free(struct proc_waiters *w)
{
	free(w->v);
	free(w->procs);
	memset(w, 0, sizeof(*w));
}

const char *proc_futex_op_name(int op, char *buf, size_t len)
{
	static const char *const names[] = {
		[0] = "wait",	     [6] = "lock_pi",
		[9] = "wait_bitset", [11] = "wait_requeue_pi",
		[13] = "lock_pi2",
	};
	int cmd = op & FUTEX_OP_MASK;

	if ((unsigned)cmd < sizeof(names) / sizeof(names[0]) && names[cmd])
		snprintf(buf, len, "%s", names[cmd]);
	else
		snprintf(buf, len, "op %d", cmd);
	return buf;
}
