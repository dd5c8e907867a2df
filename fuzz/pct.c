/*
 * pct.c - the supervisor's side of `--strategy pct` (the probe's side is
 * probes/probe_pct.c, the decisions lib/pct.c).
 *
 * Per run: create the control segment (its name goes to the target in
 * SHMFUZZ_PCT), load a schedule to follow when --replay-schedule asks,
 * watch the baton while the run goes, save schedule.txt and remove the
 * segment at the end.
 *
 * Watching, every PCT_TICK_S:
 *  - the holder has not passed a sync point for a while: if it is dead,
 *    its process leaves the schedule (and the blocked retry: a robust
 *    mutex it held tells them so); if it sleeps in the kernel (a read, a
 *    waitpid: outside the probe's view) for PCT_OUTSIDE_S, or keeps
 *    running without a sync point for PCT_BUSY_S, it is marked outside
 *    and the baton moves on; it comes back at its next sync point;
 *  - every scheduled thread is blocked (ctl->deadlock): with nobody
 *    outside, a deadlock at once; with threads outside that sleep in the
 *    kernel for PCT_CONFIRM_S too, a deadlock as well (a timed wait times
 *    out first).  Before that, dead processes leave the schedule.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fuzz.h"
#include "layout.h"
#include "pct.h"
#include "trace.h"

#define PCT_OUTSIDE_S 0.010
#define PCT_BUSY_S    0.100
#define PCT_CONFIRM_S 0.050
#define PCT_TICK_S    0.001  /* how often the baton is looked at */
#define PCT_SPIN_TICK 0.0002 /* ... while a known spinner holds it */
#define PCT_SPIN_MAX  9	     /* PCT_BUSY_S halved at most this often */
#define PCT_REAP_S    0.010 /* how often dead outside processes are looked for */

static void ctl_lock(struct pct_ctl *ctl)
{
	if (pthread_mutex_lock(&ctl->lock) == EOWNERDEAD)
		pthread_mutex_consistent(&ctl->lock);
}

static void ctl_unlock(struct pct_ctl *ctl)
{
	pthread_mutex_unlock(&ctl->lock);
}

static void wake(struct pct_ctl *ctl, int slot)
{
	if (slot >= 0)
		syscall(SYS_futex, &ctl->th[slot].futex, 1 /* FUTEX_WAKE */,
			0x7fffffff, NULL, NULL, 0);
}

int fuzz_pct_load(const char *path, struct fuzz_pct_sched *ps, struct errbuf *e)
{
	FILE *f = fopen(path, "r");
	char line[256], reason[32];
	unsigned long long a, b;
	int lineno = 0;

	if (!f) {
		err_setn(e, errno, "%s", path);
		return -errno;
	}
	memset(ps, 0, sizeof(*ps));
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "seed %llu", &a) == 1) {
			ps->seed = a;
			ps->has_seed = true;
		} else if (sscanf(line, "depth %llu", &a) == 1) {
			ps->depth = (unsigned)a;
		} else if (sscanf(line, "k %llu", &a) == 1) {
			ps->k = a;
		} else if (sscanf(line, "switch %llu %llu %31s", &a, &b,
				  reason) == 3) {
			unsigned r;
			if (ps->n >= PCT_MAX_REPLAY)
				break;
			if (!ps->sw && !(ps->sw = calloc(PCT_MAX_REPLAY,
							 sizeof(*ps->sw)))) {
				fclose(f);
				return -ENOMEM;
			}
			for (r = 0; r < PCT_NREASONS; r++)
				if (!strcmp(reason, pct_reason_name(r)))
					break;
			ps->sw[ps->n].step = a;
			ps->sw[ps->n].slot = (uint32_t)b;
			ps->sw[ps->n].reason = r < PCT_NREASONS ? r : 0;
			ps->n++;
		} else if (strncmp(line, "steps ", 6) &&
			   strncmp(line, "preemptions ", 12) &&
			   strncmp(line, "change", 6) &&
			   strncmp(line, "directed ", 9) &&
			   strncmp(line, "hot ", 4) &&
			   strncmp(line, "thread ", 7) &&
			   strncmp(line, "lost ", 5)) {
			err_set(e, "%s:%d: not a schedule line", path, lineno);
			fclose(f);
			return -EINVAL;
		}
	}
	fclose(f);
	if (!ps->n) {
		err_set(e, "%s: no switch in this schedule", path);
		return -EINVAL;
	}
	return 0;
}

int fuzz_pct_open(struct fuzz_pct *p, const struct fuzz_opts *o,
		  const struct fuzz_run *r, struct errbuf *e)
{
	pthread_mutexattr_t ma;
	int fd;

	memset(p, 0, sizeof(*p));
	p->last_holder = -2;
	p->busy_slot = -1;
	snprintf(p->name, sizeof(p->name), "/shmfuzz-pct-%d", (int)getpid());
	shm_unlink(p->name);
	fd = shm_open(p->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		err_setn(e, errno, "shm_open %s", p->name);
		return -errno;
	}
	if (ftruncate(fd, sizeof(struct pct_ctl))) {
		err_setn(e, errno, "ftruncate %s", p->name);
		goto out_unlink;
	}
	p->ctl = mmap(NULL, sizeof(struct pct_ctl), PROT_READ | PROT_WRITE,
		      MAP_SHARED, fd, 0);
	if (p->ctl == MAP_FAILED) {
		p->ctl = NULL;
		err_setn(e, errno, "mmap %s", p->name);
		goto out_unlink;
	}
	close(fd);
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&p->ctl->lock, &ma);
	pthread_mutexattr_destroy(&ma);
	pct_ctl_setup(p->ctl, r->seed, o->pct_depth, r->pct_k);
	if (o->pct_sched) {
		const struct fuzz_pct_sched *ps = o->pct_sched;
		memcpy(p->ctl->replay, ps->sw, ps->n * sizeof(ps->sw[0]));
		p->ctl->nreplay = ps->n;
	}
	return 0;
out_unlink:
	close(fd);
	shm_unlink(p->name);
	return -EIO;
}

/* The state letter of a thread in /proc ('?' when it is gone). */
static char thread_state(int pid, int tid)
{
	struct fuzz_pstat ps;

	if (pid <= 0)
		return 'R'; /* not started yet */
	if (fuzz_proc_stat(pid, tid > 0 ? tid : pid, &ps))
		return '?';
	return ps.state;
}

static bool gone(char st)
{
	return st == '?' || st == 'Z' || st == 'X' || st == 'x';
}

/* Processes of the schedule that died: their slots leave. */
static int reap_dead(struct pct_ctl *ctl)
{
	int h = ctl->holder, n = 0;

	for (uint32_t s = 0; s < ctl->nslots; s++) {
		const struct pct_thread *th = &ctl->th[s];
		if (th->state == PCT_GONE || th->pid <= 0)
			continue;
		if (!gone(thread_state(th->pid, 0)))
			continue;
		h = pct_leave_process(ctl, th->pid, true);
		n++;
	}
	if (n)
		wake(ctl, h);
	return n;
}

static int slot_of_tid(const struct pct_ctl *ctl, int tid);

/* Processes of the schedule outside the probe's view that died: their
 * slots leave (a parent waiting for them is woken). */
static void reap_dead_outside(struct pct_ctl *ctl)
{
	int h = ctl->holder, n = 0;

	for (uint32_t s = 0; s < ctl->nslots; s++) {
		const struct pct_thread *th = &ctl->th[s];
		if (th->state != PCT_OUTSIDE || th->pid <= 0 ||
		    !gone(thread_state(th->pid, 0)))
			continue;
		h = pct_leave_process(ctl, th->pid, true);
		n++;
	}
	if (n)
		wake(ctl, h);
}

/* Is process PID a child of PARENT the schedule does not run to its end:
 * not in it, or outside the probe's view? */
static bool unscheduled_child(const struct pct_ctl *ctl, int parent)
{
	pid_t pids[512];
	int n = fuzz_descendants(getpid(), pids, 512);

	for (int i = 0; i < n; i++) {
		struct fuzz_pstat ps;
		bool known = false;
		if (fuzz_proc_stat(pids[i], 0, &ps) || ps.ppid != parent)
			continue;
		for (uint32_t s = 0; s < ctl->nslots && !known; s++)
			known = ctl->th[s].pid == pids[i] &&
				ctl->th[s].state != PCT_GONE &&
				ctl->th[s].state != PCT_OUTSIDE;
		if (!known)
			return true;
	}
	return false;
}

/* A blocked thread waits for a child or a thread that the schedule does
 * not run: its end comes without the probe, and is no deadlock. */
/* The slot a pthread_join waits for, by its block key: its tid may not
 * be known yet (a thread joined before it first ran). */
static int joined_slot(const struct pct_ctl *ctl, const struct pct_obj *ob)
{
	for (uint32_t s = 0; s < ctl->nslots; s++)
		if (pct_join_key((int)s) == ob->key)
			return (int)s;
	return -1;
}

static bool waits_outside(const struct pct_ctl *ctl)
{
	for (uint32_t s = 0; s < ctl->nslots; s++) {
		const struct pct_thread *th = &ctl->th[s];
		if (th->state != PCT_BLOCKED)
			continue;
		if (th->obj.op == PCT_OP_CHILD &&
		    unscheduled_child(ctl, th->pid))
			return true;
		if (th->obj.op == PCT_OP_JOIN) {
			int j = joined_slot(ctl, &th->obj);
			if (j >= 0 && ctl->th[j].state == PCT_OUTSIDE)
				return true;
		}
	}
	return false;
}

/* A blocked thread looks again itself (a pipe, a signal): the kernel may
 * wake it without the probe. */
static bool any_recheck(const struct pct_ctl *ctl)
{
	for (uint32_t s = 0; s < ctl->nslots; s++)
		if (ctl->th[s].state == PCT_BLOCKED && ctl->th[s].recheck)
			return true;
	return false;
}

/* Every outside thread sleeps in the kernel (none may post soon). */
static bool outside_asleep(const struct pct_ctl *ctl)
{
	for (uint32_t s = 0; s < ctl->nslots; s++) {
		const struct pct_thread *th = &ctl->th[s];
		char st;
		if (th->state != PCT_OUTSIDE)
			continue;
		st = thread_state(th->pid, th->tid);
		if (st != 'S' && st != 'D' && !gone(st))
			return false;
	}
	return true;
}

/* The CPU time thread TID of PID has had, in ns (0: not known). */
static unsigned long long cpu_ns(int pid, int tid)
{
	char path[64], buf[128];
	unsigned long long ns;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", pid,
		 tid > 0 ? tid : pid);
	if (fuzz_read_small(path, buf, sizeof(buf)) <= 0 ||
	    sscanf(buf, "%llu", &ns) != 1)
		return 0;
	return ns;
}

/* Has the holder H, found running or runnable IDLE s after its last
 * step, run LIMIT s on a CPU since?  CPU time, not wall time: on a
 * loaded machine a thread waiting for a CPU is not spinning. */
static bool busy_for(struct fuzz_pct *p, int h, double idle, double limit)
{
	const struct pct_thread *th = &p->ctl->th[h];
	unsigned long long c = cpu_ns(th->pid, th->tid);

	if (!c)
		return idle >= limit;
	if (p->busy_slot != h || p->busy_change != p->last_change) {
		p->busy_slot = h;
		p->busy_change = p->last_change;
		p->busy_cpu = c;
		return false;
	}
	return (double)(c - p->busy_cpu) >= limit * 1e9;
}

/* The holder made no step for a while. */
static void stalled(struct fuzz_pct *p, double idle)
{
	struct pct_ctl *ctl = p->ctl;
	int h = ctl->holder;
	const struct pct_thread *th;
	char st;

	if (h < 0)
		return;
	th = &ctl->th[h];
	if (th->pid <= 0) /* forked, not yet running */
		return;
	st = thread_state(th->pid, th->tid);
	if (gone(thread_state(th->pid, 0))) {
		wake(ctl, pct_leave_process(ctl, th->pid, true));
		p->ndead++;
	} else if (gone(st)) {
		wake(ctl, pct_leave(ctl, h));
	} else if ((st == 'S' || st == 'D' || st == 't' || st == 'T') &&
		   idle >= PCT_OUTSIDE_S) {
		wake(ctl, pct_outside(ctl));
		p->noutside++;
	} else if (busy_for(p, h, idle,
			    PCT_BUSY_S / (1 << (th->spins < PCT_SPIN_MAX
							? th->spins
							: PCT_SPIN_MAX)))) {
		/* Running with no sync point: a long computation, or a spin
		 * on a flag another thread must set.  A thread found so once
		 * is given less time the next times. */
		ctl->th[h].spins++;
		wake(ctl, pct_outside(ctl));
		p->noutside++;
	}
}

/* Is a deadlock confirmed now? */
static bool deadlocked(struct fuzz_pct *p, double now)
{
	struct pct_ctl *ctl = p->ctl;

	if (!ctl->deadlock) {
		p->deadlock_since = 0;
		return false;
	}
	if (reap_dead(ctl) || waits_outside(ctl)) {
		p->deadlock_since = 0;
		return false;
	}
	if (!pct_count(ctl, PCT_OUTSIDE) && !any_recheck(ctl))
		return true;
	if (!outside_asleep(ctl)) {
		p->deadlock_since = 0;
		return false;
	}
	if (!p->deadlock_since)
		p->deadlock_since = now;
	return now - p->deadlock_since >= PCT_CONFIRM_S;
}

double fuzz_pct_tick(const struct fuzz_pct *p)
{
	const struct pct_ctl *ctl = p->ctl;
	int h = ctl ? __atomic_load_n(&ctl->holder, __ATOMIC_ACQUIRE) : -1;

	/* A thread found spinning keeps being given less time (down to
	 * 0.2 ms of CPU): looking every 1 ms would cost it that much. */
	return h >= 0 && h < PCT_MAX_THREADS && ctl->th[h].spins >= 4
		       ? PCT_SPIN_TICK
		       : PCT_TICK_S;
}

int fuzz_pct_watch(struct fuzz_pct *p, double now)
{
	struct pct_ctl *ctl = p->ctl;
	int found = 0;

	if (!ctl)
		return 0;
	ctl_lock(ctl);
	if (ctl->steps != p->last_steps || ctl->holder != p->last_holder ||
	    !p->last_change) {
		p->last_steps = ctl->steps;
		p->last_holder = ctl->holder;
		p->last_change = now;
	} else if (ctl->holder >= 0) {
		stalled(p, now - p->last_change);
	} else if (now - p->last_change >= PCT_OUTSIDE_S) {
		/* Nobody has held the baton for a while, yet a thread could
		 * run: a release nobody passed on.  Give it on. */
		wake(ctl, pct_nudge(ctl));
	}
	if (now >= p->next_reap) {
		p->next_reap = now + PCT_REAP_S;
		reap_dead_outside(ctl);
	}
	if (deadlocked(p, now))
		found = 1;
	ctl_unlock(ctl);
	return found;
}

/* ---- the deadlock's story ---------------------------------------------- */

static void name_obj(const struct fuzz_opts *o, const struct pct_obj *ob,
		     char *out, size_t n)
{
	const struct layout *l = fuzz_layout_get();
	char path[160] = "";

	(void)o;
	if (ob->op == PCT_OP_CHILD) {
		snprintf(out, n, "its children");
		return;
	}
	if (ob->op == PCT_OP_JOIN) {
		snprintf(out, n, "thread tid %d", ob->owner_tid);
		return;
	}
	if (ob->op == PCT_OP_PIPE) {
		snprintf(out, n, "a pipe");
		return;
	}
	if (!ob->seg[0]) {
		snprintf(out, n, "private %#llx", (unsigned long long)ob->off);
		return;
	}
	if (l && layout_path_at(l, ob->off, path, sizeof(path)) == 0 && path[0])
		snprintf(out, n, "%s", path);
	else if (!strncmp(ob->seg, "anon:", 5)) /* its pid and address vary */
		snprintf(out, n, "anon+%#llx", (unsigned long long)ob->off);
	else
		snprintf(out, n, "%s+%#llx", ob->seg,
			 (unsigned long long)ob->off);
}

static int slot_of_tid(const struct pct_ctl *ctl, int tid)
{
	for (uint32_t s = 0; s < ctl->nslots; s++)
		if (ctl->th[s].tid == tid && ctl->th[s].state != PCT_GONE)
			return (int)s;
	return -1;
}

static const char *op_verb(unsigned op)
{
	switch (op) {
	case TRACE_MUTEX_LOCK:
		return "mutex lock";
	case TRACE_RW_RDLOCK:
		return "rwlock read-lock";
	case TRACE_RW_WRLOCK:
		return "rwlock write-lock";
	case TRACE_SPIN_LOCK:
		return "spin lock";
	case TRACE_SEM_WAIT:
		return "sem_wait";
	case TRACE_COND_WAIT:
		return "cond wait";
	case PCT_OP_CHILD:
		return "wait for a child";
	case PCT_OP_JOIN:
		return "pthread_join";
	case PCT_OP_PIPE:
		return "read of a pipe";
	}
	return trace_op_name(op);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void squash_digits(char *s)
{
	char *w = s;

	for (const char *r = s; *r; r++) {
		if (*r >= '0' && *r <= '9') {
			if (w == s || w[-1] != '#')
				*w++ = '#';
		} else {
			*w++ = *r;
		}
	}
	*w = 0;
}

/* A wait-for cycle through slot START, named into OUT; false if none. */
static bool cycle_from(const struct fuzz_opts *o, const struct pct_ctl *ctl,
		       int start, char *out, size_t n, char *names[],
		       int *nnames, char store[][128])
{
	int seen[PCT_MAX_THREADS] = {0}, ns = 0, s = start;
	size_t len = 0;

	while (ns < PCT_MAX_THREADS) {
		const struct pct_thread *th;
		if (s < 0 || s >= PCT_MAX_THREADS)
			return false;
		for (int i = 0; i < ns; i++)
			if (seen[i] == s) {
				if (s != start)
					return false;
				goto found;
			}
		seen[ns++] = s;
		th = ctl->th + s;
		if (th->state != PCT_BLOCKED || !th->obj.owner_tid)
			return false;
		s = slot_of_tid(ctl, th->obj.owner_tid);
	}
	return false;
found:
	*nnames = 0;
	for (int i = 0; i < ns; i++) {
		const struct pct_thread *th = &ctl->th[seen[i]];
		char obj[160];
		int next = seen[(i + 1) % ns];
		name_obj(o, &th->obj, obj, sizeof(obj));
		len += (size_t)snprintf(
			out + len, len < n ? n - len : 0,
			"%sthread %d (pid %d) waits for %s held by thread %d "
			"(pid %d)",
			i ? "; " : "", seen[i], th->pid, obj, next,
			ctl->th[next].pid);
		snprintf(store[*nnames], 128, "%.120s", obj);
		squash_digits(store[*nnames]);
		names[*nnames] = store[*nnames];
		(*nnames)++;
	}
	return true;
}

/* One line per slot: its state, what it waits for, its futex word. */
static void write_threads(FILE *f, const struct fuzz_opts *o,
			  const struct pct_ctl *ctl)
{
	char obj[160];

	for (uint32_t s = 0; s < ctl->nslots; s++) {
		const struct pct_thread *th = &ctl->th[s];
		fprintf(f, "thread %u pid %d tid %d: %s", s, th->pid, th->tid,
			pct_state_name(th->state));
		if (th->state == PCT_BLOCKED) {
			int ow = th->obj.owner_tid;
			name_obj(o, &th->obj, obj, sizeof(obj));
			fprintf(f, " in %s on %s", op_verb(th->obj.op), obj);
			if (ow)
				fprintf(f, ", held by tid %d (thread %d)", ow,
					slot_of_tid(ctl, ow));
		}
		fprintf(f, " (futex %u, %llu steps, spins %u)\n", th->futex,
			(unsigned long long)th->steps, th->spins);
	}
}

void fuzz_pct_deadlock(struct fuzz_pct *p, const struct fuzz_opts *o,
		       const char *dir, char *sig, size_t sn, char *what,
		       size_t wn)
{
	const struct pct_ctl *ctl = p->ctl;
	char path[4200], cycle[1500] = "", obj[160];
	static char store[PCT_MAX_THREADS][128];
	char *names[PCT_MAX_THREADS];
	int nn = 0;
	FILE *f;

	for (uint32_t s = 0; s < ctl->nslots && !cycle[0]; s++)
		if (!cycle_from(o, ctl, (int)s, cycle, sizeof(cycle), names,
				&nn, store))
			cycle[0] = 0;
	if (!cycle[0]) {
		/* No owner cycle (semaphores, condvars): the waits. */
		for (uint32_t s = 0; s < ctl->nslots; s++) {
			const struct pct_thread *th = &ctl->th[s];
			if (th->state != PCT_BLOCKED)
				continue;
			name_obj(o, &th->obj, obj, sizeof(obj));
			snprintf(store[nn], 128, "%.20s %.100s",
				 op_verb(th->obj.op), obj);
			squash_digits(store[nn]);
			names[nn] = store[nn];
			nn++;
		}
	}
	qsort(names, (size_t)nn, sizeof(names[0]), cmp_str);
	size_t len = (size_t)snprintf(sig, sn, "deadlock: %s",
				      cycle[0] ? "cycle " : "blocked ");
	for (int i = 0; i < nn; i++) {
		if (i && !strcmp(names[i], names[i - 1]))
			continue;
		len += (size_t)snprintf(sig + len, len < sn ? sn - len : 0,
					"%s%s", i ? ", " : "", names[i]);
	}
	if (cycle[0])
		snprintf(what, wn,
			 "deadlock at step %llu (pct): wait-for cycle: %s (see "
			 "deadlock.txt)",
			 (unsigned long long)ctl->deadlock_step, cycle);
	else
		snprintf(what, wn,
			 "deadlock at step %llu (pct): every scheduled thread "
			 "is blocked (see deadlock.txt)",
			 (unsigned long long)ctl->deadlock_step);
	snprintf(path, sizeof(path), "%s/deadlock.txt", dir);
	f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f, "%s\n\n", what);
	write_threads(f, o, ctl);
	fclose(f);
}

void fuzz_pct_dump(struct fuzz_pct *p, const struct fuzz_opts *o,
		   const char *dir)
{
	struct pct_ctl *ctl = p->ctl;
	char path[4200];
	FILE *f;

	if (!ctl)
		return;
	snprintf(path, sizeof(path), "%s/pct.txt", dir);
	f = fopen(path, "w");
	if (!f)
		return;
	ctl_lock(ctl);
	fprintf(f,
		"holder %d steps %llu deadlock %u (at step %llu, %u outside) "
		"switches %u\n\n",
		ctl->holder, (unsigned long long)ctl->steps, ctl->deadlock,
		(unsigned long long)ctl->deadlock_step,
		ctl->noutside_at_deadlock, ctl->nsched);
	write_threads(f, o, ctl);
	ctl_unlock(ctl);
	fclose(f);
}

/* ---- the end of a run -------------------------------------------------- */

static void write_schedule(const struct pct_ctl *ctl, const char *dir)
{
	char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/schedule.txt", dir);
	f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f, "# shmfuzz pct schedule (docs/pct.md)\n");
	fprintf(f,
		"seed %llu\ndepth %u\nk %llu\nsteps %llu\n"
		"preemptions %llu\n",
		(unsigned long long)ctl->seed, ctl->depth,
		(unsigned long long)ctl->k, (unsigned long long)ctl->steps,
		(unsigned long long)ctl->preemptions);
	fprintf(f, "directed %u\nhot %llu %llu\n", ctl->directed,
		(unsigned long long)ctl->hot,
		(unsigned long long)ctl->hot_fired);
	fprintf(f, "change");
	for (unsigned i = 0; i + 1 < ctl->depth; i++)
		fprintf(f, " %llu", (unsigned long long)ctl->change[i]);
	fputc('\n', f);
	for (uint32_t s = 0; s < ctl->nslots; s++)
		fprintf(f, "thread %u pid %d tid %d steps %llu %s\n", s,
			ctl->th[s].pid, ctl->th[s].tid,
			(unsigned long long)ctl->th[s].steps,
			pct_state_name(ctl->th[s].state));
	if (ctl->sched_lost)
		fprintf(f, "lost %u\n", ctl->sched_lost);
	fprintf(f, "# switch STEP THREAD REASON\n");
	for (uint32_t i = 0; i < ctl->nsched; i++)
		fprintf(f, "switch %llu %u %s\n",
			(unsigned long long)ctl->sched[i].step,
			ctl->sched[i].slot,
			pct_reason_name(ctl->sched[i].reason));
	fclose(f);
}

void fuzz_pct_close(struct fuzz_pct *p, const char *dir, struct fuzz_verdict *v)
{
	const char *keep = getenv("SHMFUZZ_PCT_KEEP");

	if (!p->ctl)
		return;
	write_schedule(p->ctl, dir);
	if (keep && *keep) {
		/* Every run's schedule, passing or not (docs/pct.md). */
		char path[4200];
		snprintf(path, sizeof(path), "%s/%llu-%d", keep,
			 (unsigned long long)p->ctl->seed, (int)getpid());
		if (!mkdir(path, 0755))
			write_schedule(p->ctl, path);
	}
	v->pct_steps = p->ctl->steps;
	v->pct_k = p->ctl->k;
	v->pct_preemptions = p->ctl->preemptions;
	munmap(p->ctl, sizeof(struct pct_ctl));
	p->ctl = NULL;
	shm_unlink(p->name);
}

void fuzz_pct_unlink(pid_t sup)
{
	char name[64];

	snprintf(name, sizeof(name), "/shmfuzz-pct-%d", (int)sup);
	shm_unlink(name);
}
