/*
 * panel_checks.c - every @check and @expect, failing ones first, with when
 * they first failed and how many times.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crt.h"
#include "panel.h"

void panel_checks_update(struct tui_tab *t)
{
	const struct snapshot *s = &t->snap;
	time_t now = s->when.tv_sec ? s->when.tv_sec : time(NULL);
	size_t k = 0;

	if (t->nchecks != s->nchecks) {
		size_t n = s->nchecks;

		free(t->check_order);
		t->check_order = calloc(n ? n : 1, sizeof(*t->check_order));
		if (!t->check_order ||
		    !tui_reset_hist((void **)&t->checks, &t->nchecks, n,
				    sizeof(*t->checks))) {
			t->nchecks = 0;
			return;
		}
	}
	for (size_t i = 0; i < s->nchecks; i++) {
		struct tui_checkhist *h = &t->checks[i];
		bool failing = !s->checks[i].ok;

		if (failing && !h->failing) {
			h->nfailed++;
			h->failing_since = now;
			if (!h->first_failed)
				h->first_failed = now;
		}
		h->failing = failing;
	}
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < s->nchecks; i++)
			if (t->checks[i].failing == (pass == 0))
				t->check_order[k++] = i;
}

static size_t checks_count(struct tui_tab *t)
{
	return t->nchecks == t->snap.nchecks ? t->nchecks : 0;
}

static void checks_title(struct tui_tab *t, char *buf, size_t n)
{
	size_t bad = 0;

	for (size_t i = 0; i < t->nchecks; i++)
		bad += t->checks[i].failing;
	snprintf(buf, n, "%zu, %zu failing", t->nchecks, bad);
}

static void checks_draw(struct tui_tab *t, size_t line, int y, int w,
			bool cursor)
{
	size_t i = t->check_order[line];
	const struct snap_check *c = &t->snap.checks[i];
	const struct tui_checkhist *h = &t->checks[i];
	char buf[512], first[16] = "", since[16] = "";
	struct tm tm;
	int x = 0;

	if (h->first_failed && localtime_r(&h->first_failed, &tm))
		strftime(first, sizeof(first), "%H:%M:%S", &tm);
	if (h->failing_since && localtime_r(&h->failing_since, &tm))
		strftime(since, sizeof(since), "%H:%M:%S", &tm);
	x += tui_put(y, x, w,
		     cursor	  ? CRT_CURSOR
		     : h->failing ? CRT_ALERT
				  : CRT_OK,
		     h->failing ? "FAIL" : " ok ");
	x += tui_put(y, x, w - x, CRT_NORMAL, " ");
	x += tui_put(y, x, w - x, cursor ? CRT_CURSOR : CRT_NORMAL, c->expr);
	if (c->error)
		snprintf(buf, sizeof(buf), "  error: %s", c->error);
	else if (h->failing)
		snprintf(buf, sizeof(buf),
			 "  failing since %s, failed %lu time%s, first at %s",
			 since, h->nfailed, h->nfailed == 1 ? "" : "s", first);
	else if (h->nfailed)
		snprintf(buf, sizeof(buf), "  failed %lu time%s, first at %s",
			 h->nfailed, h->nfailed == 1 ? "" : "s", first);
	else
		buf[0] = 0;
	tui_put(y, x, w - x, h->failing ? CRT_ALERT : CRT_DIM, buf);
}

const struct panel_ops panel_checks_ops = {
	.name = "Checks",
	.count = checks_count,
	.title = checks_title,
	.draw = checks_draw,
};
