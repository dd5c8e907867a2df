/*
 * helper_tui_snap - run the real TUI over snapshots built by hand.
 *
 * Until the snapshot builder (layout + sync decoders + /proc) is joined,
 * this is how the screen tests feed the TUI structured data: a snapshot
 * shaped like testprogs/ring.layout's `struct ring`, whose state advances
 * one step per frame until --stop-after N, so a test knows what the
 * screen must show.  Everything drawn is drawn by the product's panels.
 *
 *   helper_tui_snap [--stop-after N] [--rows N] [--owner-dead] [--stuck]
 *                   [--cycle] [--fail-check] [--nasty] [--sample] [--frames N]
 *                   [--rusage FILE] [--take-only N] [view options: -d MS,
 * --sample-hz N,
 *                   --stuck-ms MS, --no-color, --follow]
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../inspector/tui.h"
#include "err.h"
#include "snapshot.h"

#define NSLOTS 16

struct fake {
	long step, stop_after;
	long extra_rows;
	bool owner_dead, stuck, cycle, fail_check, nasty;
	pid_t dead_pid, cyc_a, cyc_b;
	char comm[32];
	unsigned long nsample;
};

static struct snap_row *row(struct snapshot *s, int depth, int parent,
			    const char *name, const char *path,
			    const char *type, uint64_t off, uint64_t size)
{
	struct snap_row *r = &s->rows[s->nrows++];

	r->depth = depth;
	r->parent = parent;
	r->name = snap_strdup(s, name);
	r->path = snap_strdup(s, path);
	r->type = type;
	r->offset = off;
	r->size = size;
	r->sync = -1;
	return r;
}

static void set_uint(struct snapshot *s, struct snap_row *r,
		     unsigned long long v, bool hex)
{
	char buf[32];

	snprintf(buf, sizeof(buf), hex ? "0x%llx" : "%llu", v);
	r->value = snap_strdup(s, buf);
	r->vtype = SNAP_V_UINT;
	r->v.u = v;
}

static void set_str(struct snapshot *s, struct snap_row *r, const char *v)
{
	r->value = snap_strdup(s, v);
	r->vtype = SNAP_V_STR;
}

static struct snap_sync *sync_obj(struct snapshot *s, const char *path,
				  enum sync_kind kind, uint64_t off)
{
	struct snap_sync *y = &s->syncs[s->nsyncs++];

	y->path = path;
	y->kind = kind;
	y->offset = off;
	y->owner_alive = -1;
	snprintf(y->state, sizeof(y->state), "free");
	return y;
}

static void own(struct snap_sync *y, pid_t pid, const char *comm, int alive)
{
	y->owner_tid = pid;
	y->owner_pid = pid;
	snprintf(y->owner_comm, sizeof(y->owner_comm), "%s", comm);
	y->owner_alive = alive;
}

static void wait_on(struct snapshot *s, struct snap_sync *y, pid_t pid,
		    const char *comm)
{
	y->waiting = snap_alloc(s, sizeof(*y->waiting));
	y->nwaiting = 1;
	y->waiting->pid = pid;
	y->waiting->tid = pid;
	snprintf(y->waiting->comm, sizeof(y->waiting->comm), "%s", comm);
	y->waiters = 1;
}

static void fake_syncs(struct fake *f, struct snapshot *s, long k,
		       uint64_t used)
{
	struct snap_sync *y;

	s->syncs = snap_alloc(s, 5 * sizeof(*s->syncs));
	y = sync_obj(s, "ring.lock", SYNC_MUTEX, 8);
	if (f->owner_dead) {
		snprintf(y->state, sizeof(y->state), "owner-dead");
		own(y, f->dead_pid, "gone", 0);
	} else if (f->stuck || k % 2) {
		snprintf(y->state, sizeof(y->state), "locked");
		own(y, getpid(), f->comm, 1);
	}
	y = sync_obj(s, "ring.empty_slots", SYNC_SEM, 48);
	y->value = (long long)(NSLOTS - used);
	y = sync_obj(s, "ring.filled_slots", SYNC_SEM, 80);
	y->value = (long long)used;
	if (!f->cycle)
		return;
	y = sync_obj(s, "ring.lock_a", SYNC_MUTEX, 112);
	snprintf(y->state, sizeof(y->state), "contended");
	own(y, f->cyc_a, "cycle-a", 1);
	wait_on(s, y, f->cyc_b, "cycle-b");
	y = sync_obj(s, "ring.lock_b", SYNC_MUTEX, 152);
	snprintf(y->state, sizeof(y->state), "contended");
	own(y, f->cyc_b, "cycle-b", 1);
	wait_on(s, y, f->cyc_a, "cycle-a");
}

static void fake_checks(struct fake *f, struct snapshot *s, uint64_t used)
{
	s->checks = snap_alloc(s, 3 * sizeof(*s->checks));
	s->checks[0].expr = "empty_slots + filled_slots <= 16";
	s->checks[0].ok = true;
	s->checks[1].expr = "write_idx - read_idx <= 16";
	s->checks[1].ok = used <= NSLOTS;
	s->nchecks = 2;
	if (f->fail_check) {
		s->checks[2].expr = "filled_slots == 0";
		s->checks[2].ok = used == 0;
		s->nchecks = 3;
	}
}

static void fake_rows(struct fake *f, struct snapshot *s, long k, uint64_t widx,
		      uint64_t ridx)
{
	static const char *const types[] = {"uint64_t", "uint32_t",
					    "char[100]"};
	char name[64], path[128];
	struct snap_row *r;
	int slots;

	s->rows = snap_alloc(s, (size_t)(16 + NSLOTS * 4 + f->extra_rows) *
					sizeof(*s->rows));
	row(s, 0, -1, "ring", "ring", "struct ring", 0, 0)->has_children = true;
	set_uint(s, row(s, 1, 0, "magic", "ring.magic", "uint32_t", 0, 4),
		 0x52494e47, true);
	r = row(s, 1, 0, "lock", "ring.lock", "pthread_mutex_t", 8, 40);
	r->sync = 0;
	r = row(s, 1, 0, "empty_slots", "ring.empty_slots", "sem_t", 48, 32);
	r->sync = 1;
	r = row(s, 1, 0, "filled_slots", "ring.filled_slots", "sem_t", 80, 32);
	r->sync = 2;
	set_uint(
		s,
		row(s, 1, 0, "write_idx", "ring.write_idx", "uint32_t", 112, 4),
		widx, false);
	set_uint(s,
		 row(s, 1, 0, "read_idx", "ring.read_idx", "uint32_t", 116, 4),
		 ridx, false);
	slots = (int)s->nrows;
	r = row(s, 1, 0, "slots", "ring.slots", "struct message[16]", 120,
		NSLOTS * 120);
	r->has_children = r->is_array = true;
	for (int i = 0; i < NSLOTS; i++) {
		int el = (int)s->nrows;
		uint64_t seq = widx > (uint64_t)i
				       ? widx - 1 - (widx - 1 - i) % NSLOTS
				       : 0;

		snprintf(name, sizeof(name), "slots[%d]", i);
		snprintf(path, sizeof(path), "ring.slots[%d]", i);
		row(s, 2, slots, name, path, "struct message", 120 + i * 120,
		    120)
			->has_children = true;
		for (int m = 0; m < 3; m++) {
			static const char *const mn[] = {"seq", "len", "text"};

			snprintf(path, sizeof(path), "ring.slots[%d].%s", i,
				 mn[m]);
			r = row(s, 3, el, mn[m], path, types[m],
				120 + i * 120 + (m ? 4 + m * 4 : 0), 8);
			if (m == 2) {
				snprintf(name, sizeof(name), "message %llu",
					 (unsigned long long)seq);
				set_str(s, r,
					f->nasty && i == 0 ? "a\tb\nc\x1b[31md"
					: widx > (uint64_t)i ? name
							     : "");
			} else {
				set_uint(s, r, m ? 12 : seq, false);
			}
		}
	}
	if (f->extra_rows) {
		int pad = (int)s->nrows;

		r = row(s, 1, 0, "pad", "ring.pad", "uint32_t[]", 2048,
			(uint64_t)f->extra_rows * 4);
		r->has_children = r->is_array = true;
		for (long i = 0; i < f->extra_rows; i++) {
			snprintf(name, sizeof(name), "pad[%ld]", i);
			snprintf(path, sizeof(path), "ring.pad[%ld]", i);
			/* A tenth of them change every frame. */
			set_uint(s,
				 row(s, 2, pad, name, path, "uint32_t",
				     2048 + (uint64_t)i * 4, 4),
				 (unsigned long long)(i % 10 ? i : i + k),
				 false);
		}
	}
}

static int fake_take(void *ctx, struct snapshot *s, struct errbuf *e)
{
	struct fake *f = ctx;
	long k = f->stop_after >= 0 && f->step > f->stop_after ? f->stop_after
							       : f->step;
	uint64_t widx = (uint64_t)k * 3, used = (uint64_t)(k % 9);
	uint64_t ridx = widx - used;

	(void)e;
	f->step++;
	clock_gettime(CLOCK_REALTIME, &s->when);
	s->name = "/fake_ring";
	s->kind = "posix";
	s->size = 2048 + (uint64_t)f->extra_rows * 4;
	s->dev = 0x1b;
	s->ino = 4242;
	s->root_type = "ring";
	s->procs = snap_alloc(s, sizeof(*s->procs));
	s->nprocs = 1;
	s->procs->pid = getpid();
	snprintf(s->procs->comm, sizeof(s->procs->comm), "%s", f->comm);
	fake_rows(f, s, k, widx, ridx);
	fake_syncs(f, s, k, used);
	s->rings = snap_alloc(s, sizeof(*s->rings));
	s->nrings = 1;
	s->rings->path = "ring.slots";
	s->rings->head = widx;
	s->rings->tail = ridx;
	s->rings->capacity = NSLOTS;
	s->rings->used = used;
	s->rings->valid = true;
	fake_checks(f, s, used);
	return 0;
}

/* A fill that sweeps 0..16 and a lock word that flips every sample. */
static int fake_sample(void *ctx, struct tui_sample *out)
{
	struct fake *f = ctx;

	f->nsample++;
	for (size_t i = 0; i < out->nrings; i++)
		out->used[i] = f->nsample % (NSLOTS + 1);
	for (size_t i = 0; i < out->nsyncs; i++)
		out->state[i] = i == 0 ? f->nsample % 2 : 0;
	return 0;
}

static pid_t idle_child(const char *name)
{
	pid_t p = fork();

	if (p == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		prctl(PR_SET_NAME, name);
		for (;;)
			pause();
	}
	return p;
}

static void read_comm(char *buf, size_t n)
{
	FILE *f = fopen("/proc/self/comm", "r");

	buf[0] = 0;
	if (f) {
		if (fgets(buf, (int)n, f))
			buf[strcspn(buf, "\n")] = 0;
		fclose(f);
	}
}

int main(int argc, char **argv)
{
	struct fake f = {.stop_after = -1};
	struct tui_opts o;
	struct tui_source src = {0};
	struct errbuf e = {{0}};
	const char *rusage_file = NULL;
	long take_only = 0;
	struct timespec t0, t1;
	int rc;

	tui_opts_init(&o);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";

		if (!strcmp(a, "--stop-after"))
			f.stop_after = atol(v), i++;
		else if (!strcmp(a, "--rows"))
			f.extra_rows = atol(v), i++;
		else if (!strcmp(a, "--frames"))
			o.max_frames = atol(v), i++;
		else if (!strcmp(a, "--take-only"))
			take_only = atol(v), i++;
		else if (!strcmp(a, "--rusage"))
			rusage_file = v, i++;
		else if (!strcmp(a, "--owner-dead"))
			f.owner_dead = true;
		else if (!strcmp(a, "--stuck"))
			f.stuck = true;
		else if (!strcmp(a, "--cycle"))
			f.cycle = true;
		else if (!strcmp(a, "--nasty"))
			f.nasty = true;
		else if (!strcmp(a, "--fail-check"))
			f.fail_check = true;
		else if (!strcmp(a, "--sample"))
			src.sample = fake_sample;
		else if (!strcmp(a, "-d") || !strcmp(a, "--sample-hz") ||
			 !strcmp(a, "--stuck-ms")) {
			const char *name = a[1] == 'd' ? "interval"
					   : !strcmp(a, "--stuck-ms") ? "stuck"
								      : a + 2;

			if (tui_opts_set(&o, name, v, &e) < 0) {
				fprintf(stderr, "helper_tui_snap: %s\n", e.msg);
				return 2;
			}
			i++;
		} else if (tui_opts_set(&o, a + 2, NULL, &e) < 0) {
			fprintf(stderr, "helper_tui_snap: bad option %s\n", a);
			return 2;
		}
	}
	read_comm(f.comm, sizeof(f.comm));
	if (f.owner_dead) {
		/* A real pid that is gone: a child that exited and was reaped.
		 */
		f.dead_pid = fork();
		if (f.dead_pid == 0)
			_exit(0);
		waitpid(f.dead_pid, NULL, 0);
	}
	if (f.cycle) {
		f.cyc_a = idle_child("cycle-a");
		f.cyc_b = idle_child("cycle-b");
	}
	src.take = fake_take;
	src.ctx = &f;
	src.title = "/fake_ring";
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (take_only) {
		/* The source's share of the cost: build and free N snapshots.
		 */
		for (long i = 0; i < take_only; i++) {
			struct snapshot s = {0};

			fake_take(&f, &s, &e);
			snap_free(&s);
		}
		rc = 0;
	} else {
		rc = tui_run(&src, 1, &o, &e);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc)
		fprintf(stderr, "helper_tui_snap: %s\n", e.msg);
	if (f.cycle) {
		kill(f.cyc_a, SIGKILL);
		kill(f.cyc_b, SIGKILL);
		waitpid(f.cyc_a, NULL, 0);
		waitpid(f.cyc_b, NULL, 0);
	}
	if (rusage_file) {
		struct rusage ru;
		FILE *out = fopen(rusage_file, "w");

		getrusage(RUSAGE_SELF, &ru);
		if (out) {
			/* user, system and wall seconds */
			fprintf(out, "%ld.%06ld %ld.%06ld %.6f\n",
				(long)ru.ru_utime.tv_sec,
				(long)ru.ru_utime.tv_usec,
				(long)ru.ru_stime.tv_sec,
				(long)ru.ru_stime.tv_usec,
				(double)(t1.tv_sec - t0.tv_sec) +
					(double)(t1.tv_nsec - t0.tv_nsec) /
						1e9);
			fclose(out);
		}
	}
	return rc;
}
