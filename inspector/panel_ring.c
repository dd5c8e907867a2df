/*
 * panel_ring.c - one entry per @ring: head, tail, a fill gauge, messages
 * per second from the head's movement, and the fill of the last minute.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "crt.h"
#include "panel.h"

/* A rate is measured over at least this long, so it does not flicker. */
#define RING_RATE_WINDOW_NS 500000000LL

static void ring_spark_push(struct tui_ringhist *h, int64_t now_ns,
			    int permille)
{
	int64_t sec = now_ns / 1000000000;

	if (!h->spark_sec) {
		for (int i = 0; i < TUI_SPARK_SECONDS; i++)
			h->spark[i] = -1;
		h->spark_sec = sec;
	}
	if (sec > h->spark_sec) {
		int64_t shift = sec - h->spark_sec;

		if (shift > TUI_SPARK_SECONDS)
			shift = TUI_SPARK_SECONDS;
		memmove(h->spark, h->spark + shift,
			(TUI_SPARK_SECONDS - shift) * sizeof(int));
		for (int64_t i = TUI_SPARK_SECONDS - shift;
		     i < TUI_SPARK_SECONDS; i++)
			h->spark[i] = -1;
		h->spark_sec = sec;
	}
	if (permille > h->spark[TUI_SPARK_SECONDS - 1])
		h->spark[TUI_SPARK_SECONDS - 1] = permille;
}

static int ring_permille(const struct snap_ring *r, uint64_t used)
{
	if (!r->capacity)
		return 0;
	if (used > r->capacity)
		used = r->capacity;
	return (int)(used * 1000 / r->capacity);
}

static void ring_rate(struct tui_ringhist *h, const struct snap_ring *r,
		      int64_t now_ns)
{
	uint64_t moved;

	if (!h->head_ns) {
		h->head = r->head;
		h->head_ns = now_ns;
		return;
	}
	if (now_ns - h->head_ns < RING_RATE_WINDOW_NS)
		return;
	/* A head that went back wrapped around its capacity (mode=wrap). */
	if (r->head >= h->head)
		moved = r->head - h->head;
	else
		moved = r->head + r->capacity - h->head;
	h->rate = (double)moved * 1e9 / (double)(now_ns - h->head_ns);
	h->have_rate = true;
	h->head = r->head;
	h->head_ns = now_ns;
}

void panel_rings_update(struct tui_tab *t)
{
	const struct snapshot *s = &t->snap;

	if (t->nrings != s->nrings &&
	    !tui_reset_hist((void **)&t->rings, &t->nrings, s->nrings,
			    sizeof(*t->rings)))
		return;
	for (size_t i = 0; i < s->nrings; i++) {
		const struct snap_ring *r = &s->rings[i];
		struct tui_ringhist *h = &t->rings[i];

		ring_rate(h, r, t->now_ns);
		ring_spark_push(h, t->now_ns, ring_permille(r, r->used));
		if (h->nsamples) {
			h->shown_min = h->smin < r->used ? h->smin : r->used;
			h->shown_max = h->smax > r->used ? h->smax : r->used;
		} else {
			h->shown_min = h->shown_max = r->used;
		}
		h->shown_n = h->nsamples;
		h->nsamples = 0;
		h->smin = UINT64_MAX;
		h->smax = 0;
	}
}

static size_t rings_count(struct tui_tab *t)
{
	return 2 * t->snap.nrings;
}

static void rings_title(struct tui_tab *t, char *buf, size_t n)
{
	snprintf(buf, n, "%zu", t->snap.nrings);
}

static void ring_gauge(int y, int x, int w, const struct snap_ring *r)
{
	int fill = (int)((int64_t)ring_permille(r, r->used) * w / 1000);

	if (r->used && !fill)
		fill = 1;
	tui_put(y, x, 1, CRT_NORMAL, "[");
	for (int i = 0; i < w; i++)
		tui_put(y, x + 1 + i, 1, i < fill ? CRT_GAUGE : CRT_NORMAL,
			i < fill ? "|" : " ");
	tui_put(y, x + 1 + w, 1, CRT_NORMAL, "]");
}

static void ring_line1(struct tui_tab *t, size_t i, int y, int w, int base)
{
	const struct snap_ring *r = &t->snap.rings[i];
	const struct tui_ringhist *h = i < t->nrings ? &t->rings[i] : NULL;
	char buf[256];
	int x = 0, gw;

	snprintf(buf, sizeof(buf), "%s  head %llu  tail %llu ", r->path,
		 (unsigned long long)r->head, (unsigned long long)r->tail);
	x += tui_put(y, x, w, base, buf);
	gw = w / 8 < 8 ? 8 : w / 8;
	if (x + gw + 2 < w) {
		ring_gauge(y, x, gw, r);
		x += gw + 2;
	}
	snprintf(buf, sizeof(buf), " %llu/%llu%s", (unsigned long long)r->used,
		 (unsigned long long)r->capacity,
		 r->valid ? "" : " (head/tail inconsistent)");
	x += tui_put(y, x, w - x, r->valid ? base : CRT_ALERT, buf);
	if (!h)
		return;
	if (h->have_rate)
		snprintf(buf, sizeof(buf), "  %.1f msg/s", h->rate);
	else
		snprintf(buf, sizeof(buf), "  - msg/s");
	x += tui_put(y, x, w - x, base, buf);
	if (t->sampling) {
		snprintf(buf, sizeof(buf), "  fill %llu..%llu in %llu samples",
			 (unsigned long long)h->shown_min,
			 (unsigned long long)h->shown_max,
			 (unsigned long long)h->shown_n);
		tui_put(y, x, w - x, base, buf);
	}
}

static void ring_spark(struct tui_tab *t, size_t i, int y, int w, int base)
{
	static const wchar_t blocks[] = L"▁▂▃▄▅▆▇█";
	static const char ascii[] = "_.-=+*#@";
	const struct tui_ringhist *h = i < t->nrings ? &t->rings[i] : NULL;
	int x = tui_put(y, 0, w, base, "  fill, last 60 s ");
	int cells = w - x < TUI_SPARK_SECONDS ? w - x : TUI_SPARK_SECONDS;

	if (!h || cells <= 0)
		return;
	attrset(crt_attr[CRT_GAUGE]);
	for (int c = 0; c < cells; c++) {
		int v = h->spark[TUI_SPARK_SECONDS - cells + c];
		int lvl = v < 0 ? -1 : v * 7 / 1000;

		if (lvl < 0) {
			mvaddch(y, x + c, ' ');
		} else if (crt_utf8) {
			wchar_t wc[2] = {blocks[lvl], 0};

			mvaddnwstr(y, x + c, wc, 1);
		} else {
			mvaddch(y, x + c, (chtype)ascii[lvl]);
		}
	}
	attrset(A_NORMAL);
}

static void rings_draw(struct tui_tab *t, size_t line, int y, int w,
		       bool cursor)
{
	int base = cursor ? CRT_CURSOR : CRT_NORMAL;

	if (line % 2 == 0)
		ring_line1(t, line / 2, y, w, base);
	else
		ring_spark(t, line / 2, y, w, base);
}

const struct panel_ops panel_rings_ops = {
	.name = "Rings",
	.count = rings_count,
	.title = rings_title,
	.draw = rings_draw,
};
