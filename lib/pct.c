/*
 * pct.c - the scheduling decisions of the pct strategy (see pct.h).
 *
 * Every function runs with ctl->lock held, in the probe (any thread of
 * the run) or in the run's supervisor, and touches nothing but the
 * control segment: no system call, no allocation, no output.
 */
#include <string.h>

#include "pct.h"

/* Priorities: change point i gives i << PRIO_CHANGE_SHIFT (1 .. depth-1);
 * yielders count down from PRIO_YIELD; initial priorities are above
 * PRIO_INIT.  A thread already below PRIO_YIELD that yields goes below
 * every other thread (there is room under the change points). */
#define PRIO_CHANGE_SHIFT 40
#define PRIO_YIELD	  (1ULL << 59)
#define PRIO_INIT	  (1ULL << 60)
#define GOLDEN		  0x9e3779b97f4a7c15ULL

static uint64_t mix(uint64_t h, uint64_t v)
{
	uint64_t z = h + (v + 1) * GOLDEN;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t pct_obj_key(uint64_t dev, uint64_t ino, uint64_t off)
{
	uint64_t k = mix(mix(mix(0x6f626a, dev), ino), off);

	return k ? k : 1;
}

uint64_t pct_child_key(int pid)
{
	return pct_obj_key(0x6368696c64ULL, (uint64_t)(uint32_t)pid, 0);
}

uint64_t pct_join_key(int slot)
{
	return pct_obj_key(0x6a6f696eULL, (uint64_t)(uint32_t)slot, 0);
}

void pct_ctl_setup(struct pct_ctl *ctl, uint64_t seed, unsigned depth,
		   uint64_t k)
{
	if (depth < 1)
		depth = 1;
	if (depth > PCT_MAX_DEPTH)
		depth = PCT_MAX_DEPTH;
	if (k < 1)
		k = 1;
	ctl->magic = PCT_MAGIC;
	ctl->size = sizeof(*ctl);
	ctl->seed = seed;
	ctl->depth = depth;
	ctl->k = k;
	ctl->holder = -1;
	ctl->yield_floor = PRIO_YIELD;
	ctl->directed = (unsigned)(mix(mix(seed, 0x686f74), 0) >> 63);
	ctl->hot_prio = (1ULL << PRIO_CHANGE_SHIFT) - 1;
	/* Change point i (1-based) at a step uniform in [1, k]. */
	for (unsigned i = 0; i + 1 < depth; i++)
		ctl->change[i] = 1 + mix(mix(seed, 0x636870), i) % k;
}

int pct_join(struct pct_ctl *ctl, int pid, int tid)
{
	struct pct_thread *th;
	uint32_t s = ctl->nslots;

	if (s >= PCT_MAX_THREADS)
		return -1;
	ctl->nslots = s + 1;
	th = &ctl->th[s];
	memset(&th->obj, 0, sizeof(th->obj));
	th->pid = pid;
	th->tid = tid;
	th->execing = 0;
	th->timed = th->timed_out = th->woken = 0;
	th->ppid = 0;
	th->exited = 0;
	th->pthread = 0;
	th->recheck = 0;
	/* Distinct: the low bits are the slot itself. */
	th->prio = PRIO_INIT + ((mix(ctl->seed, s) >> 36) << 20) + s;
	__atomic_store_n(&th->state, PCT_RUNNABLE, __ATOMIC_RELEASE);
	return (int)s;
}

static void record(struct pct_ctl *ctl, int slot, unsigned reason)
{
	if (ctl->nsched >= PCT_MAX_SCHED) {
		ctl->sched_lost++;
		return;
	}
	ctl->sched[ctl->nsched].step = ctl->steps;
	ctl->sched[ctl->nsched].slot = (uint32_t)slot;
	ctl->sched[ctl->nsched].reason = reason;
	ctl->nsched++;
}

static bool can_run(const struct pct_ctl *ctl, int s)
{
	uint32_t st = ctl->th[s].state;

	return st == PCT_RUNNABLE || st == PCT_RUNNING;
}

/* Runnable, or a short timed wait whose timer may fire now. */
static bool may_run(const struct pct_ctl *ctl, int s)
{
	const struct pct_thread *th = &ctl->th[s];

	return can_run(ctl, s) ||
	       (th->state == PCT_BLOCKED && th->timed && th->early);
}

/* S goes below every other thread. */
static void below_all(struct pct_ctl *ctl, int s)
{
	struct pct_thread *th = &ctl->th[s];
	uint64_t low = th->prio;

	for (uint32_t i = 0; i < ctl->nslots; i++)
		if ((int)i != s && ctl->th[i].state != PCT_GONE &&
		    ctl->th[i].prio <= low)
			low = ctl->th[i].prio - 1;
	if (low >= 1)
		th->prio = low;
}

/* S gives way: below every thread that yielded before it (round robin
 * among spinners); one lowered by a change point goes below all. */
static void give_way(struct pct_ctl *ctl, int s)
{
	struct pct_thread *th = &ctl->th[s];

	if (th->prio >= (uint64_t)ctl->depth << PRIO_CHANGE_SHIFT)
		th->prio = ctl->yield_floor--;
	else
		below_all(ctl, s);
}

/* S's timer fires: it runs, and gives way next (as after a sleep). */
static void time_out(struct pct_ctl *ctl, int s)
{
	ctl->th[s].timed_out = 1;
	ctl->th[s].state = PCT_RUNNABLE;
	give_way(ctl, s);
}

/* Give the baton to NEW (-1: to nobody). */
static int grant(struct pct_ctl *ctl, int new, unsigned reason)
{
	int old = ctl->holder;

	if (old == new)
		return new;
	if (old >= 0 && ctl->th[old].state == PCT_RUNNING)
		ctl->th[old].state = PCT_RUNNABLE;
	ctl->run_len = 0;
	if (new >= 0) {
		ctl->th[new].state = PCT_RUNNING;
		record(ctl, new, reason);
		if (reason == PCT_R_PREEMPT)
			ctl->preemptions++;
		__atomic_add_fetch(&ctl->th[new].futex, 1, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&ctl->holder, new, __ATOMIC_RELEASE);
	return new;
}

static int highest(const struct pct_ctl *ctl)
{
	int best = -1;

	for (uint32_t s = 0; s < ctl->nslots; s++) {
		if (!may_run(ctl, (int)s))
			continue;
		if (best < 0 || ctl->th[s].prio > ctl->th[best].prio)
			best = (int)s;
	}
	return best;
}

/* Was the switch forced (the holder could not go on), or a choice made
 * at a sync point?  A replayed switch applies to a decision of its kind. */
static bool forced(unsigned reason)
{
	return reason != PCT_R_PREEMPT && reason != PCT_R_YIELD &&
	       reason != PCT_R_EARLY;
}

/* The replay schedule's choice for a decision of kind REASON at this
 * step, or -1 to decide as usual. */
static int replayed(struct pct_ctl *ctl, unsigned reason)
{
	while (ctl->replay_pos < ctl->nreplay &&
	       ctl->replay[ctl->replay_pos].step < ctl->steps)
		ctl->replay_pos++;
	if (ctl->replay_pos >= ctl->nreplay)
		return -1;
	const struct pct_switch *w = &ctl->replay[ctl->replay_pos];
	if (w->step != ctl->steps || forced(w->reason) != forced(reason) ||
	    w->slot >= ctl->nslots)
		return -1;
	ctl->replay_pos++;
	return may_run(ctl, (int)w->slot) ? (int)w->slot : -1;
}

static int earlier(const struct timespec *a, const struct timespec *b)
{
	if (a->tv_sec != b->tv_sec)
		return a->tv_sec < b->tv_sec;
	return a->tv_nsec < b->tv_nsec;
}

/* Nothing can run.  Without threads outside the probe's view, a timed
 * wait times out (the earliest deadline first: virtual time jumps to
 * it); else, with blocked threads, it is a deadlock. */
static int idle(struct pct_ctl *ctl)
{
	int nout = pct_count(ctl, PCT_OUTSIDE), best = -1;

	for (uint32_t s = 0; s < ctl->nslots && !nout; s++) {
		const struct pct_thread *th = &ctl->th[s];
		if (th->state != PCT_BLOCKED || !th->timed)
			continue;
		if (best < 0 || earlier(&th->deadline, &ctl->th[best].deadline))
			best = (int)s;
	}
	if (best >= 0) {
		time_out(ctl, best);
		return grant(ctl, best, PCT_R_TIMEOUT);
	}
	if (pct_count(ctl, PCT_BLOCKED) && !ctl->deadlock) {
		ctl->deadlock = 1;
		ctl->noutside_at_deadlock = (uint32_t)nout;
		ctl->deadlock_step = ctl->steps;
	}
	return grant(ctl, -1, PCT_R_BLOCK);
}

/* Decide who runs after a decision of kind REASON by the holder. */
static int decide(struct pct_ctl *ctl, unsigned reason)
{
	int h = ctl->holder, next = -1;

	if (ctl->nreplay)
		next = replayed(ctl, reason);
	if (next < 0 && ctl->nreplay && h >= 0 && can_run(ctl, h))
		next = h; /* replaying: no preemption the schedule lacks */
	if (next < 0)
		next = highest(ctl);
	if (next < 0)
		return idle(ctl);
	if (ctl->th[next].state == PCT_BLOCKED) {
		time_out(ctl, next);
		reason = forced(reason) ? PCT_R_EARLY_BLOCK : PCT_R_EARLY;
	}
	if (next != h && !forced(reason) && h >= 0 && !can_run(ctl, h))
		reason = PCT_R_BLOCK;
	return grant(ctl, next, reason);
}

int pct_point(struct pct_ctl *ctl, int self, bool yield)
{
	struct pct_thread *th = &ctl->th[self];

	bool starving;

	ctl->steps++;
	th->steps++;
	/* A holder this long is spinning (a retry loop, a timed wait that
	 * keeps timing out): it goes below every thread, even those a
	 * change point lowered, or it could starve them for ever. */
	starving = ++ctl->run_len > PCT_FAIR_STEPS;
	if (!ctl->nreplay) {
		for (unsigned i = 0; i + 1 < ctl->depth; i++)
			if (ctl->change[i] == ctl->steps)
				th->prio = (uint64_t)(i + 1)
					   << PRIO_CHANGE_SHIFT;
	}
	if (starving) {
		below_all(ctl, self);
		yield = true;
	} else if (yield) {
		give_way(ctl, self);
	}
	return decide(ctl, yield ? PCT_R_YIELD : PCT_R_PREEMPT);
}

int pct_hot(struct pct_ctl *ctl, int self)
{
	uint64_t n = ctl->hot++;

	if (ctl->directed && !ctl->nreplay &&
	    (mix(mix(ctl->seed, 0x686f74), n + 1) >> 63)) {
		/* Below every other thread, and below every earlier hot
		 * step's: the others run until they block or yield to it. */
		ctl->th[self].prio = ctl->hot_prio--;
		ctl->hot_fired++;
	}
	return pct_point(ctl, self, false);
}

bool pct_lock_order(struct pct_ctl *ctl, int self, uint64_t from, uint64_t to)
{
	bool known = false, inverted = false;

	for (uint32_t i = 0; i < ctl->nedges; i++) {
		const struct pct_edge *e = &ctl->edge[i];
		if (e->from == from && e->to == to && e->slot == self)
			known = true;
		if (e->from == to && e->to == from && e->slot != self)
			inverted = true;
	}
	if (!known && ctl->nedges < PCT_MAX_EDGES) {
		struct pct_edge *e = &ctl->edge[ctl->nedges++];
		e->from = from;
		e->to = to;
		e->slot = self;
		e->used = 1;
	}
	return inverted;
}

int pct_block(struct pct_ctl *ctl, int self, const struct pct_obj *obj,
	      const struct timespec *deadline, bool early)
{
	struct pct_thread *th = &ctl->th[self];

	th->obj = *obj;
	th->timed = deadline != NULL;
	th->early = deadline && early;
	if (deadline)
		th->deadline = *deadline;
	th->timed_out = 0;
	th->woken = 0;
	th->block_seq = ++ctl->block_seq;
	th->state = PCT_BLOCKED;
	return decide(ctl, PCT_R_BLOCK);
}

int pct_wake(struct pct_ctl *ctl, uint64_t key, bool all)
{
	int first = -1, n = 0;

	for (uint32_t s = 0; s < ctl->nslots; s++) {
		struct pct_thread *th = &ctl->th[s];
		if (th->state != PCT_BLOCKED || (key && th->obj.key != key))
			continue;
		if (all || !key) {
			th->state = PCT_RUNNABLE;
			th->woken = 1;
			n++;
		} else if (first < 0 ||
			   th->block_seq < ctl->th[first].block_seq) {
			first = (int)s;
		}
	}
	if (first >= 0) {
		ctl->th[first].state = PCT_RUNNABLE;
		ctl->th[first].woken = 1;
		n++;
	}
	if (n)
		ctl->deadlock = 0;
	return n;
}

int pct_wake_op(struct pct_ctl *ctl, uint32_t op)
{
	int n = 0;

	for (uint32_t s = 0; s < ctl->nslots; s++) {
		struct pct_thread *th = &ctl->th[s];
		if (th->state != PCT_BLOCKED || th->obj.op != op)
			continue;
		th->state = PCT_RUNNABLE;
		th->woken = 1;
		n++;
	}
	if (n)
		ctl->deadlock = 0;
	return n;
}

int pct_leave(struct pct_ctl *ctl, int self)
{
	ctl->th[self].state = PCT_GONE;
	ctl->th[self].execing = 0;
	pct_wake(ctl, pct_join_key(self), true);
	/* Nobody holding the baton (all blocked but for threads outside,
	 * of which this was one): whoever it woke must be given it. */
	if (ctl->holder >= 0 && ctl->holder != self)
		return ctl->holder;
	return decide(ctl, PCT_R_LEAVE);
}

int pct_leave_process(struct pct_ctl *ctl, int pid, bool dead)
{
	bool held = false;
	int ppid = 0, n = 0;

	for (uint32_t s = 0; s < ctl->nslots; s++) {
		struct pct_thread *th = &ctl->th[s];
		if (th->pid != pid)
			continue;
		if (th->ppid)
			ppid = th->ppid;
		if (th->tid == pid && !th->exited)
			th->exited = 1;
		if (th->state == PCT_GONE)
			continue;
		if (ctl->holder == (int)s)
			held = true;
		th->state = PCT_GONE;
		th->execing = 0;
		pct_wake(ctl, pct_join_key((int)s), true);
		n++;
	}
	if (dead) {
		pct_wake(ctl, 0, true);
	} else if (n) {
		if (ppid)
			pct_wake(ctl, pct_child_key(ppid), true);
		pct_wake_op(ctl, PCT_OP_PIPE);
	}
	if (!held && ctl->holder >= 0)
		return ctl->holder;
	return decide(ctl, dead ? PCT_R_DEAD : PCT_R_LEAVE);
}

int pct_nudge(struct pct_ctl *ctl)
{
	if (ctl->holder >= 0 || !pct_count(ctl, PCT_RUNNABLE))
		return ctl->holder;
	return decide(ctl, PCT_R_RESUME);
}

int pct_outside(struct pct_ctl *ctl)
{
	int h = ctl->holder;

	if (h < 0)
		return -1;
	ctl->th[h].state = PCT_OUTSIDE;
	return decide(ctl, PCT_R_OUTSIDE);
}

int pct_resume(struct pct_ctl *ctl, int self)
{
	struct pct_thread *th = &ctl->th[self];

	if (ctl->holder == self) {
		th->state = PCT_RUNNING;
		return self;
	}
	if (th->state == PCT_OUTSIDE || th->state == PCT_BLOCKED ||
	    th->state == PCT_FREE)
		th->state = PCT_RUNNABLE;
	ctl->deadlock = 0;
	if (ctl->holder >= 0)
		return ctl->holder;
	return grant(ctl, self, ctl->nsched ? PCT_R_RESUME : PCT_R_START);
}

int pct_count(const struct pct_ctl *ctl, enum pct_state st)
{
	int n = 0;

	for (uint32_t s = 0; s < ctl->nslots; s++)
		n += ctl->th[s].state == (uint32_t)st;
	return n;
}

const char *pct_reason_name(unsigned reason)
{
	static const char *const names[PCT_NREASONS] = {
		[PCT_R_START] = "start",
		[PCT_R_PREEMPT] = "preempt",
		[PCT_R_YIELD] = "yield",
		[PCT_R_BLOCK] = "block",
		[PCT_R_LEAVE] = "leave",
		[PCT_R_OUTSIDE] = "outside",
		[PCT_R_DEAD] = "dead",
		[PCT_R_TIMEOUT] = "timeout",
		[PCT_R_RESUME] = "resume",
		[PCT_R_EARLY] = "early",
		[PCT_R_EARLY_BLOCK] = "early-block",
	};

	return reason < PCT_NREASONS ? names[reason] : "?";
}

const char *pct_state_name(unsigned state)
{
	static const char *const names[] = {
		"free", "runnable", "running", "blocked", "outside", "gone",
	};

	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "?";
}
