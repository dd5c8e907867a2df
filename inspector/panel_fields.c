/*
 * panel_fields.c - the field tree: expand/collapse, values, changes.
 */
#include <stdlib.h>
#include <string.h>

#include "crt.h"
#include "panel.h"

static bool fields_same_shape(const struct snapshot *a,
			      const struct snapshot *b)
{
	if (!a || a->nrows != b->nrows)
		return false;
	for (size_t i = 0; i < a->nrows; i++)
		if (strcmp(a->rows[i].path, b->rows[i].path))
			return false;
	return true;
}

/* What the tree shows for a sync object without a value: its state. */
static const char *fields_shown(const struct snapshot *s,
				const struct snap_row *r)
{
	if (r->value)
		return r->value;
	if (r->sync >= 0 && (size_t)r->sync < s->nsyncs)
		return s->syncs[r->sync].state;
	return NULL;
}

static bool fields_value_differs(const struct snapshot *sa,
				 const struct snap_row *a,
				 const struct snapshot *sb,
				 const struct snap_row *b)
{
	const char *va = fields_shown(sa, a), *vb = fields_shown(sb, b);

	if (!va || !vb)
		return va != vb;
	return strcmp(va, vb) != 0;
}

/*
 * A fresh tree shows the root and its members; deeper aggregates (the
 * elements of an array of structs) start collapsed so a 16-slot ring fits
 * on one screen.
 */
static void fields_reset(struct tui_tab *t)
{
	for (size_t i = 0; i < t->nrows; i++) {
		const struct snap_row *r = &t->snap.rows[i];

		t->rows[i].collapsed = r->has_children && r->depth >= 2;
	}
}

void panel_fields_visible(struct tui_tab *t)
{
	size_t n = 0;

	for (size_t i = 0; i < t->snap.nrows;) {
		const struct snap_row *r = &t->snap.rows[i];

		t->vis[n++] = i++;
		if (r->has_children && t->rows[i - 1].collapsed)
			while (i < t->snap.nrows &&
			       t->snap.rows[i].depth > r->depth)
				i++;
	}
	t->nvis = n;
	if (t->panels[PANEL_FIELDS].cursor >= n)
		t->panels[PANEL_FIELDS].cursor = n ? n - 1 : 0;
}

void panel_fields_update(struct tui_tab *t, const struct snapshot *prev)
{
	const struct snapshot *s = &t->snap;
	bool same = fields_same_shape(prev, s);

	if (!same || t->nrows != s->nrows) {
		size_t n = s->nrows;

		if (!tui_reset_hist((void **)&t->rows, &t->nrows, n,
				    sizeof(*t->rows)))
			n = 0;
		free(t->vis);
		t->vis = calloc(n ? n : 1, sizeof(*t->vis));
		if (!t->vis)
			t->nrows = 0;
		memset(t->rows, 0, t->nrows * sizeof(*t->rows));
		fields_reset(t);
	} else {
		for (size_t i = 0; i < s->nrows; i++)
			if (fields_value_differs(prev, &prev->rows[i], s,
						 &s->rows[i]))
				t->rows[i].changed_ns = t->now_ns;
	}
	if (t->nrows == s->nrows)
		panel_fields_visible(t);
	else
		t->nvis = 0;
}

static const char *fields_value(const struct tui_tab *t,
				const struct snap_row *r, char *buf, size_t n)
{
	if (r->value)
		return r->value;
	if (r->sync >= 0 && (size_t)r->sync < t->snap.nsyncs)
		return t->snap.syncs[r->sync].state;
	if (r->has_children) {
		size_t kids = 0;

		for (size_t i = (size_t)(r - t->snap.rows) + 1;
		     i < t->snap.nrows && t->snap.rows[i].depth > r->depth; i++)
			kids += t->snap.rows[i].depth == r->depth + 1;
		snprintf(buf, n, r->is_array ? "[%zu]" : "{%zu}", kids);
		return buf;
	}
	return "";
}

static void fields_draw(struct tui_tab *t, size_t line, int y, int w,
			bool cursor)
{
	size_t i = t->vis[line];
	const struct snap_row *r = &t->snap.rows[i];
	int name_w = w * 3 / 10, type_w = w / 4, x = 0;
	char buf[512], vbuf[64];
	const char *mark = " ";
	int base = cursor ? CRT_CURSOR : CRT_NORMAL;
	bool changed = t->rows[i].changed_ns &&
		       t->now_ns - t->rows[i].changed_ns < TUI_HIGHLIGHT_NS;

	if (name_w < 16)
		name_w = 16;
	if (r->has_children)
		mark = t->rows[i].collapsed ? (crt_utf8 ? "▸" : "+")
					    : (crt_utf8 ? "▾" : "-");
	snprintf(buf, sizeof(buf), "%06llx ", (unsigned long long)r->offset);
	x += tui_put(y, x, w - x, cursor ? CRT_CURSOR : CRT_DIM, buf);
	snprintf(buf, sizeof(buf), "%*s%s %s", r->depth * 2, "", mark, r->name);
	tui_put(y, x, name_w, base, buf);
	x += name_w;
	if (x < w)
		x += tui_put(y, x, 1, base, " ");
	tui_put(y, x, type_w, cursor ? CRT_CURSOR : CRT_DIM, r->type);
	x += type_w;
	if (x < w)
		x += tui_put(y, x, 1, base, " ");
	if (x < w)
		tui_put(y, x, w - x, changed && !cursor ? CRT_CHANGED : base,
			fields_value(t, r, vbuf, sizeof(vbuf)));
}

static size_t fields_count(struct tui_tab *t)
{
	return t->nvis;
}

static void fields_title(struct tui_tab *t, char *buf, size_t n)
{
	snprintf(buf, n, "%s, %zu rows  (Enter expands, / finds)",
		 t->snap.root_type ? t->snap.root_type : "no layout",
		 t->snap.nrows);
}

static void fields_enter(struct tui_tab *t, size_t line)
{
	size_t i;

	if (line >= t->nvis)
		return;
	i = t->vis[line];
	if (!t->snap.rows[i].has_children)
		return;
	t->rows[i].collapsed = !t->rows[i].collapsed;
	panel_fields_visible(t);
}

long panel_fields_find(struct tui_tab *t, const char *needle, size_t from)
{
	size_t n = t->snap.nrows, start;

	if (!n || !needle[0] || t->nrows != n)
		return -1;
	start = from < t->nvis ? t->vis[from] : 0;
	for (size_t k = 1; k <= n; k++) {
		size_t i = (start + k) % n;

		if (!strcasestr(t->snap.rows[i].path, needle))
			continue;
		for (int p = t->snap.rows[i].parent; p >= 0 && (size_t)p < n;
		     p = t->snap.rows[p].parent)
			t->rows[p].collapsed = false;
		panel_fields_visible(t);
		for (size_t v = 0; v < t->nvis; v++)
			if (t->vis[v] == i)
				return (long)v;
		return -1;
	}
	return -1;
}

const struct panel_ops panel_fields_ops = {
	.name = "Fields",
	.count = fields_count,
	.title = fields_title,
	.draw = fields_draw,
	.enter = fields_enter,
};
