/*
 * diag.c - the diagnosis of a hung run, from /proc.
 *
 * /proc/PID/task/TID/syscall gives the system call a blocked thread is in
 * and its arguments; for futex() the first argument is the address of the
 * futex word in that process.  The same word has a different address in
 * every process that maps the segment, so the address is turned into the
 * name every process shares: the segment (from /proc/PID/maps) and the
 * offset inside it.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "diag.h"
#include "json.h"
#include "proc.h"

static const struct {
	long nr;
	const char *name;
} calls[] = {
	{SYS_futex, "futex"},
#ifdef SYS_futex_waitv
	{SYS_futex_waitv, "futex_waitv"},
#endif
	{SYS_read, "read"},
	{SYS_write, "write"},
	{SYS_nanosleep, "nanosleep"},
	{SYS_clock_nanosleep, "clock_nanosleep"},
	{SYS_wait4, "wait4"},
	{SYS_waitid, "waitid"},
	{SYS_ppoll, "ppoll"},
	{SYS_pselect6, "pselect6"},
	{SYS_epoll_pwait, "epoll_pwait"},
	{SYS_rt_sigsuspend, "rt_sigsuspend"},
	{SYS_rt_sigtimedwait, "rt_sigtimedwait"},
	{SYS_semtimedop, "semtimedop"},
	{SYS_msgrcv, "msgrcv"},
	{SYS_recvfrom, "recvfrom"},
	{SYS_accept4, "accept4"},
	{SYS_flock, "flock"},
	{SYS_fcntl, "fcntl"},
	{SYS_sched_yield, "sched_yield"},
	{SYS_openat, "openat"},
#ifdef SYS_poll
	{SYS_poll, "poll"},
	{SYS_select, "select"},
	{SYS_pause, "pause"},
	{SYS_epoll_wait, "epoll_wait"},
	{SYS_semop, "semop"},
	{SYS_accept, "accept"},
	{SYS_open, "open"},
#endif
};

/* Copy as much of SRC as fits into DST (size N). */
static void scopy(char *dst, size_t n, const char *src)
{
	size_t l = strnlen(src, n - 1);

	memcpy(dst, src, l);
	dst[l] = 0;
}

static const char *call_name(long nr)
{
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		if (calls[i].nr == nr)
			return calls[i].name;
	return NULL;
}

/* The name other processes know a mapped file by: "/name" (POSIX shm),
 * "sem:/name", "sysv:0xKEY", "memfd:NAME", "anon-shared" (memory shared
 * by fork, known to no other process), "file:PATH". */
static void seg_name(const char *path, char *out, size_t n)
{
	unsigned key;

	if (!strncmp(path, "/dev/shm/sem.", 13))
		snprintf(out, n, "sem:/%.200s", path + 13);
	else if (!strncmp(path, "/dev/shm/", 9))
		snprintf(out, n, "/%.200s", path + 9);
	else if (!strncmp(path, "/dev/zero", 9))
		snprintf(out, n, "anon-shared"); /* MAP_SHARED|MAP_ANONYMOUS */
	else if (!strncmp(path, "/memfd:", 7))
		snprintf(out, n, "memfd:%.200s", path + 7);
	else if (sscanf(path, "/SYSV%x", &key) == 1)
		snprintf(out, n, "sysv:0x%08x", key);
	else
		snprintf(out, n, "file:%.240s", path);
}

static void read_maps(struct diag_proc *p)
{
	struct proc_filter all = {.match = PROC_MATCH_ALL};
	struct proc_maps maps = {0};

	if (proc_maps_scan_pid(&maps, p->pid, &all, NULL) < 0)
		goto out;
	for (size_t i = 0; i < maps.n && p->nmap < DIAG_MAX_MAPS; i++) {
		const struct proc_map *pm = &maps.v[i];
		struct diag_map *m = &p->map[p->nmap];

		/* Shared file mappings only: that is where cross-process
		 * locks live.  Library text is mapped private. */
		if (pm->perms[3] != 's' || pm->path[0] != '/')
			continue;
		m->start = pm->start;
		m->end = pm->end;
		m->pgoff = pm->offset;
		seg_name(pm->path, m->seg, sizeof(m->seg));
		p->nmap++;
	}
out:
	proc_maps_free(&maps);
}

static void locate_futex(const struct diag_proc *p, struct diag_thread *t)
{
	for (int i = 0; i < p->nmap; i++) {
		const struct diag_map *m = &p->map[i];
		if (t->uaddr >= m->start && t->uaddr < m->end) {
			scopy(t->seg, sizeof(t->seg), m->seg);
			t->off = t->uaddr - m->start + m->pgoff;
			return;
		}
	}
}

static void read_thread(struct diag_proc *p, pid_t tid)
{
	struct diag_thread *t = &p->th[p->nth++];
	struct fuzz_pstat ps;
	char path[96], buf[512];
	unsigned long long a[6];
	long nr;
	const char *name;

	t->tid = tid;
	if (!fuzz_proc_stat(p->pid, tid, &ps)) {
		snprintf(t->comm, sizeof(t->comm), "%s", ps.comm);
		t->state = ps.state;
	}
	snprintf(path, sizeof(path), "/proc/%d/task/%d/wchan", (int)p->pid,
		 (int)tid);
	if (fuzz_read_small(path, t->wchan, sizeof(t->wchan)) <= 0)
		snprintf(t->wchan, sizeof(t->wchan), "-");
	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)p->pid,
		 (int)tid);
	t->nr = -1;
	snprintf(t->call, sizeof(t->call), "-");
	if (fuzz_read_small(path, buf, sizeof(buf)) <= 0)
		return;
	if (!strncmp(buf, "running", 7)) {
		t->nr = -2;
		snprintf(t->call, sizeof(t->call), "running");
		return;
	}
	if (sscanf(buf, "%ld %llx %llx %llx %llx %llx %llx", &nr, &a[0], &a[1],
		   &a[2], &a[3], &a[4], &a[5]) != 7 ||
	    nr < 0)
		return;
	t->nr = nr;
	for (int i = 0; i < 6; i++)
		t->args[i] = a[i];
	name = call_name(nr);
	if (name)
		snprintf(t->call, sizeof(t->call), "%s", name);
	else
		snprintf(t->call, sizeof(t->call), "syscall_%ld", nr);
	if (nr == SYS_futex) {
		t->futex = true;
		t->uaddr = a[0];
		locate_futex(p, t);
	}
}

static void read_proc(struct diag_proc *p)
{
	char path[64];
	struct fuzz_pstat ps;
	DIR *d;
	struct dirent *de;

	if (!fuzz_proc_stat(p->pid, 0, &ps)) {
		p->ppid = ps.ppid;
		p->pgid = ps.pgid;
		p->state = ps.state;
		snprintf(p->comm, sizeof(p->comm), "%s", ps.comm);
	}
	proc_cmdline(p->pid, p->cmdline, sizeof(p->cmdline));
	read_maps(p);
	snprintf(path, sizeof(path), "/proc/%d/task", (int)p->pid);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d)) && p->nth < DIAG_MAX_THREADS)
		if (isdigit((unsigned char)de->d_name[0]))
			read_thread(p, atoi(de->d_name));
	closedir(d);
}

int fuzz_diag_collect(pid_t root, struct fuzz_diag *d)
{
	pid_t pids[DIAG_MAX_PROCS];
	int n = fuzz_descendants(root, pids, DIAG_MAX_PROCS);

	d->np = 0;
	for (int i = 0; i < n; i++) {
		struct diag_proc *p = &d->p[d->np++];
		memset(p, 0, sizeof(*p));
		p->pid = pids[i];
		read_proc(p);
	}
	return 0;
}

/* --- writers ----------------------------------------------------------- */

static void write_txt(FILE *f, const struct fuzz_diag *d)
{
	fprintf(f, "%d process(es) alive when the run was stopped\n", d->np);
	for (int i = 0; i < d->np; i++) {
		const struct diag_proc *p = &d->p[i];
		fprintf(f, "\nprocess %d (%s) state %c ppid %d pgid %d: %s\n",
			(int)p->pid, p->comm, p->state ? p->state : '?',
			(int)p->ppid, (int)p->pgid, p->cmdline);
		for (int k = 0; k < p->nmap; k++)
			fprintf(f, "  maps %s offset %#llx at %#llx-%#llx\n",
				p->map[k].seg,
				(unsigned long long)p->map[k].pgoff,
				(unsigned long long)p->map[k].start,
				(unsigned long long)p->map[k].end);
		for (int k = 0; k < p->nth; k++) {
			const struct diag_thread *t = &p->th[k];
			fprintf(f, "  thread %d (%s) state %c in %s wchan %s",
				(int)t->tid, t->comm, t->state ? t->state : '?',
				t->call, t->wchan);
			if (t->futex && t->seg[0])
				fprintf(f, ": futex %s+%#llx (address %#llx)",
					t->seg, (unsigned long long)t->off,
					(unsigned long long)t->uaddr);
			else if (t->futex)
				fprintf(f, ": futex at %#llx in private memory",
					(unsigned long long)t->uaddr);
			fprintf(f, "\n");
			if (t->note[0])
				fprintf(f, "    %s\n", t->note);
		}
	}
	if (d->extra[0])
		fprintf(f, "\n%s\n", d->extra);
}

static void write_thread_json(struct json *j, const struct diag_thread *t)
{
	char st[2] = {t->state ? t->state : '?', 0};

	json_begin_obj(j);
	json_kv_int(j, "tid", t->tid);
	json_kv_str(j, "comm", t->comm);
	json_kv_str(j, "state", st);
	json_kv_str(j, "wchan", t->wchan);
	json_kv_str(j, "syscall", t->call);
	json_kv_int(j, "syscall_nr", t->nr);
	if (t->nr >= 0) {
		json_key(j, "args");
		json_begin_arr(j);
		for (int i = 0; i < 6; i++)
			json_uint(j, t->args[i]);
		json_end_arr(j);
	}
	if (t->futex) {
		json_key(j, "futex");
		json_begin_obj(j);
		json_kv_uint(j, "address", t->uaddr);
		if (t->seg[0]) {
			json_kv_str(j, "segment", t->seg);
			json_kv_uint(j, "offset", t->off);
		} else {
			json_kv_null(j, "segment");
		}
		json_end_obj(j);
	}
	if (t->note[0])
		json_kv_str(j, "note", t->note);
	json_end_obj(j);
}

static void write_json(FILE *f, const struct fuzz_diag *d)
{
	struct json j;

	json_init(&j, f, true);
	json_begin_obj(&j);
	json_key(&j, "processes");
	json_begin_arr(&j);
	for (int i = 0; i < d->np; i++) {
		const struct diag_proc *p = &d->p[i];
		char st[2] = {p->state ? p->state : '?', 0};

		json_begin_obj(&j);
		json_kv_int(&j, "pid", p->pid);
		json_kv_int(&j, "ppid", p->ppid);
		json_kv_int(&j, "pgid", p->pgid);
		json_kv_str(&j, "comm", p->comm);
		json_kv_str(&j, "state", st);
		json_kv_str(&j, "cmdline", p->cmdline);
		json_key(&j, "segments");
		json_begin_arr(&j);
		for (int k = 0; k < p->nmap; k++) {
			json_begin_obj(&j);
			json_kv_str(&j, "segment", p->map[k].seg);
			json_kv_uint(&j, "start", p->map[k].start);
			json_kv_uint(&j, "end", p->map[k].end);
			json_kv_uint(&j, "offset", p->map[k].pgoff);
			json_end_obj(&j);
		}
		json_end_arr(&j);
		json_key(&j, "threads");
		json_begin_arr(&j);
		for (int k = 0; k < p->nth; k++)
			write_thread_json(&j, &p->th[k]);
		json_end_arr(&j);
		json_end_obj(&j);
	}
	json_end_arr(&j);
	if (d->extra[0])
		json_kv_str(&j, "findings", d->extra);
	json_end_obj(&j);
	json_newline(&j);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Digits in segment names are usually a pid or a counter: they would
 * make every hang a group of its own. */
static void squash_digits(char *s)
{
	char *w = s;

	for (const char *r = s; *r; r++) {
		if (isdigit((unsigned char)*r)) {
			if (w == s || w[-1] != '#')
				*w++ = '#';
		} else {
			*w++ = *r;
		}
	}
	*w = 0;
}

/* "comm futex /seg+0x40, comm wait4", sorted and without repeats. */
static void shape(const struct fuzz_diag *d, char *out, size_t n)
{
	static char buf[512][160];
	char *items[512] = {NULL};
	int ni = 0;
	size_t len = 0;

	for (int i = 0; i < d->np; i++) {
		for (int k = 0; k < d->p[i].nth && ni < 512; k++) {
			const struct diag_thread *t = &d->p[i].th[k];
			char seg[256];
			if (t->nr < 0 && t->nr != -2)
				continue;
			snprintf(seg, sizeof(seg), "%s", t->seg);
			squash_digits(seg);
			if (t->futex && t->field[0])
				snprintf(buf[ni], sizeof(buf[ni]),
					 "%.20s futex %.120s", t->comm,
					 t->field);
			else if (t->futex && seg[0])
				snprintf(buf[ni], sizeof(buf[ni]),
					 "%.20s futex %.100s+%#llx", t->comm,
					 seg, (unsigned long long)t->off);
			else
				snprintf(buf[ni], sizeof(buf[ni]), "%.20s %s",
					 t->comm, t->call);
			items[ni] = buf[ni];
			ni++;
		}
	}
	qsort(items, (size_t)ni, sizeof(items[0]), cmp_str);
	out[0] = 0;
	for (int i = 0; i < ni; i++) {
		if (i && !strcmp(items[i], items[i - 1]))
			continue;
		len += (size_t)snprintf(out + len, len < n ? n - len : 0,
					"%s%s", len ? ", " : "", items[i]);
	}
	if (!ni)
		snprintf(out, n, "no thread in a system call");
}

/* The first line of D's findings that names a cycle or a dead owner. */
static void first_finding(const struct fuzz_diag *d, char *out, size_t n)
{
	static const char *const heads[] = {"wait-for cycle", "owner-dead:"};

	out[0] = 0;
	for (size_t h = 0; h < 2; h++) {
		const char *p = strstr(d->extra, heads[h]);
		if (p && (p == d->extra || p[-1] == '\n')) {
			snprintf(out, n, "%.*s", (int)strcspn(p, "\n"), p);
			return;
		}
	}
}

int fuzz_diag_write(pid_t root, const char *dir, const struct fuzz_opts *o,
		    char *shp, size_t n, char *finding, size_t fn)
{
	struct fuzz_diag *d = calloc(1, sizeof(*d));
	char path[4200];
	FILE *f;
	int ret = 0;

	if (!d)
		return -ENOMEM;
	fuzz_diag_collect(root, d);
	fuzz_diag_enrich(d, o, dir);
	shape(d, shp, n);
	if (finding)
		first_finding(d, finding, fn);
	snprintf(path, sizeof(path), "%s/diagnosis.txt", dir);
	f = fopen(path, "w");
	if (f) {
		write_txt(f, d);
		fclose(f);
	} else {
		ret = -errno;
	}
	snprintf(path, sizeof(path), "%s/diagnosis.json", dir);
	f = fopen(path, "w");
	if (f) {
		write_json(f, d);
		fclose(f);
	} else {
		ret = -errno;
	}
	free(d);
	return ret;
}
