/*
 * panel_sync.c - locks, semaphores and friends: state, owner, waiters,
 * how long in that state; and the alerts drawn in red at the top.
 */
#include <stdio.h>
#include <string.h>

#include "crt.h"
#include "panel.h"

static bool sync_same_shape(const struct tui_tab *t)
{
	return t->nsyncs == t->snap.nsyncs;
}

/* Held: an exclusive-ish lock in any state but free. */
static bool sync_is_held(const struct snap_sync *y)
{
	if (y->kind != SYNC_MUTEX && y->kind != SYNC_RWLOCK &&
	    y->kind != SYNC_SPIN)
		return false;
	return strcmp(y->state, "free") && strcmp(y->state, "unlocked") &&
	       strcmp(y->state, "destroyed") && y->state[0];
}

static bool sync_owner_dead(const struct snap_sync *y)
{
	return !strcmp(y->state, "owner-dead") ||
	       (y->owner_tid && y->owner_alive == 0 && sync_is_held(y));
}

void panel_sync_update(struct tui_tab *t)
{
	const struct snapshot *s = &t->snap;

	if (!sync_same_shape(t) &&
	    !tui_reset_hist((void **)&t->syncs, &t->nsyncs, s->nsyncs,
			    sizeof(*t->syncs)))
		return;
	for (size_t i = 0; i < s->nsyncs; i++) {
		const struct snap_sync *y = &s->syncs[i];
		struct tui_synchist *h = &t->syncs[i];

		if (strcmp(h->state, y->state) || !h->since_ns) {
			snprintf(h->state, sizeof(h->state), "%s", y->state);
			h->since_ns = t->now_ns;
		}
		if (!sync_is_held(y))
			h->held_since_ns = 0;
		else if (!h->held_since_ns || h->owner_tid != y->owner_tid)
			h->held_since_ns = t->now_ns;
		h->owner_tid = y->owner_tid;
		h->shown_changes = h->changes;
		h->changes = 0;
	}
}

static void sync_owner(const struct snap_sync *y, char *buf, size_t n)
{
	if (!y->owner_tid) {
		buf[0] = 0;
		return;
	}
	if (y->owner_pid && y->owner_pid != y->owner_tid)
		snprintf(buf, n, "%d %s tid %d%s", y->owner_pid,
			 y->owner_comm[0] ? y->owner_comm : "?", y->owner_tid,
			 y->owner_alive == 0 ? " (dead)" : "");
	else
		snprintf(buf, n, "%d %s%s", y->owner_tid,
			 y->owner_comm[0] ? y->owner_comm : "?",
			 y->owner_alive == 0 ? " (dead)" : "");
}

static size_t sync_count(struct tui_tab *t)
{
	return t->snap.nsyncs;
}

static void sync_title(struct tui_tab *t, char *buf, size_t n)
{
	snprintf(buf, n, "%zu objects", t->snap.nsyncs);
}

static int sync_state_role(const struct snap_sync *y)
{
	if (sync_owner_dead(y) || !strcmp(y->state, "inconsistent"))
		return CRT_ALERT;
	if (sync_is_held(y) || !strcmp(y->state, "contended"))
		return CRT_BUSY;
	return CRT_OK;
}

static void sync_draw(struct tui_tab *t, size_t line, int y, int w, bool cursor)
{
	const struct snap_sync *o = &t->snap.syncs[line];
	const struct tui_synchist *h =
		line < t->nsyncs ? &t->syncs[line] : NULL;
	int base = cursor ? CRT_CURSOR : CRT_NORMAL;
	char buf[512], owner[96], dur[32] = "";
	int x = 0, pw = w / 4 > 14 ? w / 4 : 14;
	size_t k;

	tui_put(y, x, pw, base, o->path);
	x += pw + 1;
	snprintf(buf, sizeof(buf), "%-5s", sync_kind_name(o->kind));
	x += tui_put(y, x, w - x, cursor ? CRT_CURSOR : CRT_DIM, buf);
	x += tui_put(y, x, w - x, base, " ");
	snprintf(buf, sizeof(buf), "%-10s", o->state);
	x += tui_put(y, x, w - x, cursor ? CRT_CURSOR : sync_state_role(o),
		     buf);
	if (h && h->since_ns)
		tui_fmt_dur(dur, sizeof(dur), t->now_ns - h->since_ns);
	sync_owner(o, owner, sizeof(owner));
	k = (size_t)snprintf(buf, sizeof(buf), " for %-7s", dur);
	if (t->sampling && h && k < sizeof(buf))
		k += (size_t)snprintf(buf + k, sizeof(buf) - k, " %llu changes",
				      (unsigned long long)h->shown_changes);
	if (k < sizeof(buf))
		k += (size_t)snprintf(buf + k, sizeof(buf) - k, " val %lld",
				      o->value);
	if (owner[0] && k < sizeof(buf))
		k += (size_t)snprintf(buf + k, sizeof(buf) - k, "  owner %s",
				      owner);
	if (k < sizeof(buf))
		k += (size_t)snprintf(buf + k, sizeof(buf) - k, "  waiters %d",
				      o->waiters);
	for (size_t i = 0; i < o->nwaiting && k < sizeof(buf); i++)
		k += (size_t)snprintf(buf + k, sizeof(buf) - k, "%s%d %s",
				      i ? ", " : " (", o->waiting[i].tid,
				      o->waiting[i].comm);
	if (o->nwaiting && k < sizeof(buf))
		k += (size_t)snprintf(buf + k, sizeof(buf) - k, ")");
	if (o->detail[0] && k < sizeof(buf))
		snprintf(buf + k, sizeof(buf) - k, "  %s", o->detail);
	tui_put(y, x, w - x, base, buf);
}

/* --- alerts ------------------------------------------------------------- */

static void alert_add(char *lines, size_t len, size_t max, size_t *n,
		      const char *text)
{
	if (*n < max)
		snprintf(lines + *n * len, len, "%s", text);
	(*n)++;
}

/* The sync object thread TID is seen waiting on, or -1. */
static long sync_waited_by(const struct snapshot *s, pid_t tid)
{
	for (size_t i = 0; i < s->nsyncs; i++)
		for (size_t w = 0; w < s->syncs[i].nwaiting; w++)
			if (s->syncs[i].waiting[w].tid == tid)
				return (long)i;
	return -1;
}

static const char *sync_comm_of(const struct snapshot *s, pid_t tid)
{
	for (size_t i = 0; i < s->nsyncs; i++) {
		if (s->syncs[i].owner_tid == tid && s->syncs[i].owner_comm[0])
			return s->syncs[i].owner_comm;
		for (size_t w = 0; w < s->syncs[i].nwaiting; w++)
			if (s->syncs[i].waiting[w].tid == tid)
				return s->syncs[i].waiting[w].comm;
	}
	return "?";
}

#define SYNC_CYCLE_MAX 16

/*
 * Wait-for graph: a waiting thread points at the owner of what it waits
 * on.  A thread waits on one thing at a time, so following the edges from
 * each waiter either ends or comes back; a cycle is reported once, from
 * its smallest tid.
 */
/*
 * Follow the wait-for edges from thread START: WHO[c] waits for sync
 * PATH[c], owned by WHO[c + 1].  Returns the cycle's length if the walk
 * comes back to START and START is its smallest tid (so each cycle is
 * reported once), else 0.
 */
static int sync_cycle_walk(const struct snapshot *s, pid_t start,
			   long path[SYNC_CYCLE_MAX], pid_t who[SYNC_CYCLE_MAX])
{
	pid_t cur = start;
	int n = 0;

	while (n < SYNC_CYCLE_MAX) {
		long o = sync_waited_by(s, cur);

		if (o < 0 || !s->syncs[o].owner_tid || cur < start)
			return 0;
		who[n] = cur;
		path[n++] = o;
		cur = s->syncs[o].owner_tid;
		if (cur == start)
			return n;
	}
	return 0;
}

static void sync_cycles(const struct snapshot *s, char *lines, size_t len,
			size_t max, size_t *n)
{
	long path[SYNC_CYCLE_MAX];
	pid_t who[SYNC_CYCLE_MAX];
	char buf[512];

	for (size_t i = 0; i < s->nsyncs; i++) {
		for (size_t w = 0; w < s->syncs[i].nwaiting; w++) {
			int c, nc = sync_cycle_walk(s,
						    s->syncs[i].waiting[w].tid,
						    path, who);
			size_t k;

			if (!nc || path[0] != (long)i)
				continue;
			k = (size_t)snprintf(buf, sizeof(buf), "DEADLOCK:");
			for (c = 0; c < nc && k < sizeof(buf); c++) {
				const struct snap_sync *y = &s->syncs[path[c]];

				k += (size_t)snprintf(
					buf + k, sizeof(buf) - k,
					" %d %s waits for %s held by %d %s%s",
					who[c], sync_comm_of(s, who[c]),
					y->path, y->owner_tid,
					sync_comm_of(s, y->owner_tid),
					c + 1 < nc ? ";" : "");
			}
			alert_add(lines, len, max, n, buf);
		}
	}
}

size_t panel_sync_alerts(struct tui_tab *t, int stuck_ms, char *lines,
			 size_t len, size_t max)
{
	const struct snapshot *s = &t->snap;
	size_t n = 0;
	char buf[512], owner[96], dur[32];

	/* Most serious first: a deadlock never resolves by itself. */
	sync_cycles(s, lines, len, max, &n);
	for (size_t i = 0; i < s->nsyncs; i++) {
		const struct snap_sync *y = &s->syncs[i];
		const struct tui_synchist *h =
			i < t->nsyncs ? &t->syncs[i] : NULL;

		sync_owner(y, owner, sizeof(owner));
		if (sync_owner_dead(y)) {
			snprintf(buf, sizeof(buf),
				 "OWNER DEAD: %s: owner %s died holding it",
				 y->path, owner[0] ? owner : "?");
			alert_add(lines, len, max, &n, buf);
		} else if (h && h->held_since_ns &&
			   t->now_ns - h->held_since_ns >=
				   (int64_t)stuck_ms * 1000000) {
			tui_fmt_dur(dur, sizeof(dur),
				    t->now_ns - h->held_since_ns);
			snprintf(buf, sizeof(buf),
				 "STUCK: %s held for %s by %s (--stuck %d ms)",
				 y->path, dur, owner[0] ? owner : "?",
				 stuck_ms);
			alert_add(lines, len, max, &n, buf);
		}
	}
	return n;
}

const struct panel_ops panel_sync_ops = {
	.name = "Sync",
	.count = sync_count,
	.title = sync_title,
	.draw = sync_draw,
};
