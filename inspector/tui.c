/*
 * tui.c - the live view: the frame loop, the keys, placing the panels.
 *
 * One loop, one thread: it sleeps in crt_read_key() until the next frame,
 * the next --sample-hz sample or a key, whichever comes first, so an idle
 * screen costs nothing between frames and sampling needs no lock.
 */
#include "tui.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "crt.h"
#include "err.h"
#include "json.h"
#include "panel.h"
#include "snapshot.h"

#define TUI_MAX_ALERTS	  3
#define TUI_MSG_NS	  5000000000LL
#define TUI_MAX_SAMPLE_HZ 100000

struct tui {
	struct tui_tab *tabs;
	size_t ntabs, cur;
	struct tui_opts o;
	bool paused, help, quit;
	char msg[1200];
	int64_t msg_until;
	bool finding;
	char find[64];
	long frames;
	uint64_t *smp_used, *smp_state;
	size_t smp_nused, smp_nstate;
};

/* --- options ------------------------------------------------------------ */

void tui_opts_init(struct tui_opts *o)
{
	const char *nc = getenv("NO_COLOR");

	memset(o, 0, sizeof(*o));
	o->interval_ms = 100;
	o->stuck_ms = 2000;
	/* no-color.org: present and not empty disables color. */
	o->color = !(nc && nc[0]);
}

static int tui_parse_int(const char *name, const char *arg, long lo, long hi,
			 int *out, struct errbuf *e)
{
	char *end;
	long v;

	if (!arg) {
		err_set(e, "--%s needs a value", name);
		return -EINVAL;
	}
	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < lo || v > hi) {
		err_set(e, "--%s: '%s' is not a number from %ld to %ld", name,
			arg, lo, hi);
		return -EINVAL;
	}
	*out = (int)v;
	return 0;
}

int tui_opts_set(struct tui_opts *o, const char *name, const char *arg,
		 struct errbuf *e)
{
	if (!strcmp(name, "interval") || !strcmp(name, "d"))
		return tui_parse_int("interval", arg, 10, 3600000,
				     &o->interval_ms, e);
	if (!strcmp(name, "sample-hz"))
		return tui_parse_int(name, arg, 0, TUI_MAX_SAMPLE_HZ,
				     &o->sample_hz, e);
	if (!strcmp(name, "stuck"))
		return tui_parse_int(name, arg, 1, INT_MAX / 2, &o->stuck_ms,
				     e);
	if (!strcmp(name, "no-color")) {
		o->color = false;
		return 0;
	}
	if (!strcmp(name, "follow")) {
		o->follow = true;
		return 0;
	}
	return -ENOENT;
}

void tui_opts_usage(FILE *f)
{
	fprintf(f,
		"  -d, --interval MS   refresh every MS milliseconds (default "
		"100)\n"
		"      --sample-hz N   sample ring indexes and lock states N "
		"times a second\n"
		"                      between frames; show min/max fill and "
		"state changes\n"
		"      --stuck MS      alert on a lock held longer than MS "
		"(default 2000)\n"
		"      --no-color      no colors (also when NO_COLOR is set)\n"
		"      --follow        reattach by itself when the segment is "
		"recreated\n");
}

/* --- helpers for the panels -------------------------------------------- */

/*
 * Values come from other programs' memory: a control character would move
 * the cursor and an escape sequence would reach the terminal, so both are
 * drawn as '.', and bytes that are not valid in the locale as '?'.
 */
int tui_put(int y, int x, int w, int role, const char *s)
{
	char out[1024];
	mbstate_t st;
	size_t in = 0, len, o = 0;
	int cols = 0;

	if (w <= 0 || y < 0 || y >= LINES || x < 0 || x >= COLS || !s)
		return 0;
	if (w > COLS - x)
		w = COLS - x;
	memset(&st, 0, sizeof(st));
	len = strlen(s);
	/* Count columns, not bytes: values may hold UTF-8. */
	while (in < len && o + MB_LEN_MAX < sizeof(out)) {
		wchar_t wc;
		size_t k = mbrtowc(&wc, s + in, len - in, &st);
		int cw = 1;

		if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
			memset(&st, 0, sizeof(st));
			k = 1;
			wc = L'?';
		} else if (wc < 0x20 || wc == 0x7f ||
			   (wc >= 0x80 && wc < 0xa0)) {
			wc = L'.';
		} else {
			cw = wcwidth(wc);
		}
		if (cw < 0) {
			cw = 1;
			wc = L'?';
		}
		if (cols + cw > w)
			break;
		if (wc == L'?' || wc == L'.') {
			out[o++] = (char)wc;
		} else {
			memcpy(out + o, s + in, k);
			o += k;
		}
		cols += cw;
		in += k;
	}
	out[o] = 0;
	attrset(crt_attr[role]);
	mvaddnstr(y, x, out, (int)o);
	attrset(A_NORMAL);
	return cols;
}

void tui_fmt_dur(char *buf, size_t n, int64_t ns)
{
	double s = (double)ns / 1e9;

	if (ns < 1000000000)
		snprintf(buf, n, "%lld ms", (long long)(ns / 1000000));
	else if (s < 60)
		snprintf(buf, n, "%.1f s", s);
	else if (s < 3600)
		snprintf(buf, n, "%.0f min", s / 60);
	else
		snprintf(buf, n, "%.1f h", s / 3600);
}

bool tui_reset_hist(void **arr, size_t *n, size_t want, size_t size)
{
	void *p = calloc(want ? want : 1, size);

	free(*arr);
	*arr = p;
	*n = p ? want : 0;
	return p != NULL;
}

static void tui_say(struct tui *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void tui_say(struct tui *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->msg, sizeof(t->msg), fmt, ap);
	va_end(ap);
	t->msg_until = crt_now_ns() + TUI_MSG_NS;
}

/* --- taking snapshots and samples --------------------------------------- */

static void tui_reattach(struct tui *t, struct tui_tab *tab)
{
	struct errbuf e = {{0}};

	if (!tab->src->reattach) {
		tui_say(t, "%s: this source cannot reattach", tab->src->title);
		return;
	}
	if (tab->src->reattach(tab->src->ctx, &e) < 0)
		tui_say(t, "reattach: %s", e.msg);
	else
		tui_say(t, "%s: reattached", tab->src->title);
}

static void tui_take(struct tui *t, struct tui_tab *tab)
{
	struct snapshot next = {0}, prev;
	struct errbuf e = {{0}};
	bool had = tab->have;

	tab->now_ns = crt_now_ns();
	if (tab->src->take(tab->src->ctx, &next, &e) < 0) {
		snap_free(&next);
		snprintf(tab->err, sizeof(tab->err), "%s",
			 e.msg[0] ? e.msg : "cannot read the segment");
		return;
	}
	tab->err[0] = 0;
	prev = tab->snap;
	tab->snap = next;
	tab->snap_ns = tab->now_ns;
	tab->have = true;
	panel_fields_update(tab, had ? &prev : NULL);
	panel_hex_update(tab, had ? &prev : NULL);
	panel_sync_update(tab);
	panel_rings_update(tab);
	panel_checks_update(tab);
	if (had)
		snap_free(&prev);
	if (!tab->snap.nrows)
		tab->hex = true;
	if (tab->snap.status == SNAP_SEG_RECREATED && t->o.follow)
		tui_reattach(t, tab);
}

static bool tui_grow(uint64_t **arr, size_t *cap, size_t want)
{
	uint64_t *p;

	if (*cap >= want)
		return true;
	p = realloc(*arr, want * sizeof(*p));
	if (!p)
		return false;
	*arr = p;
	*cap = want;
	return true;
}

static void tui_sample(struct tui *t, struct tui_tab *tab)
{
	struct tui_sample s;

	if (!tab->have || !tab->src->sample ||
	    !tui_grow(&t->smp_used, &t->smp_nused, tab->nrings + 1) ||
	    !tui_grow(&t->smp_state, &t->smp_nstate, tab->nsyncs + 1))
		return;
	s.used = t->smp_used;
	s.nrings = tab->nrings;
	s.state = t->smp_state;
	s.nsyncs = tab->nsyncs;
	if (tab->src->sample(tab->src->ctx, &s) < 0)
		return;
	for (size_t i = 0; i < s.nrings && i < tab->nrings; i++) {
		struct tui_ringhist *h = &tab->rings[i];

		if (s.used[i] < h->smin)
			h->smin = s.used[i];
		if (s.used[i] > h->smax)
			h->smax = s.used[i];
		h->nsamples++;
	}
	for (size_t i = 0; i < s.nsyncs && i < tab->nsyncs; i++) {
		struct tui_synchist *h = &tab->syncs[i];

		if (h->have_word && h->word != s.state[i])
			h->changes++;
		h->word = s.state[i];
		h->have_word = true;
	}
}

/* --- drawing ------------------------------------------------------------ */

static void tui_bar(int y, int role)
{
	attrset(crt_attr[role]);
	mvhline(y, 0, ' ', COLS);
	attrset(A_NORMAL);
}

static int tui_draw_title(struct tui *t, int y)
{
	char buf[256];
	int x = 0;

	tui_bar(y, CRT_TITLE);
	x += tui_put(y, x, COLS, CRT_TITLE, " shmscope ");
	for (size_t i = 0; i < t->ntabs; i++) {
		snprintf(buf, sizeof(buf), " %zu:%s ", i + 1,
			 t->tabs[i].src->title);
		x += tui_put(y, x, COLS - x,
			     i == t->cur ? CRT_TAB_ACTIVE : CRT_TITLE, buf);
	}
	snprintf(buf, sizeof(buf), "  every %d ms%s%s ", t->o.interval_ms,
		 t->tabs[t->cur].sampling ? ", sampling" : "",
		 t->paused ? "  PAUSED" : "");
	if ((int)strlen(buf) < COLS - x)
		tui_put(y, COLS - (int)strlen(buf), (int)strlen(buf), CRT_TITLE,
			buf);
	return y + 1;
}

/* Draw TEXT from row Y on, wrapped at spaces, at most MAXL rows. */
static int tui_wrap(int y, int role, const char *text, int maxl)
{
	int w = COLS - 1;

	for (int l = 0; l < maxl && *text && y < LINES - 1; l++) {
		size_t n = strlen(text), cut = n;
		char line[512];

		if ((int)n > w && w > 0) {
			cut = (size_t)w;
			while (cut > 0 && text[cut] != ' ')
				cut--;
			if (!cut)
				cut = (size_t)w;
		}
		if (cut >= sizeof(line))
			cut = sizeof(line) - 1;
		memcpy(line, text, cut);
		line[cut] = 0;
		tui_bar(y, role);
		tui_put(y++, 1, w, role, line);
		text += cut;
		while (*text == ' ')
			text++;
	}
	return y;
}

static int tui_draw_alerts(struct tui *t, struct tui_tab *tab, int y)
{
	char lines[TUI_MAX_ALERTS][512];
	size_t n = panel_sync_alerts(tab, t->o.stuck_ms, &lines[0][0],
				     sizeof(lines[0]), TUI_MAX_ALERTS);

	for (size_t i = 0; i < n && i < TUI_MAX_ALERTS; i++)
		y = tui_wrap(y, CRT_ALERT, lines[i], 3);
	if (n > TUI_MAX_ALERTS) {
		snprintf(lines[0], sizeof(lines[0]), "... and %zu more alert%s",
			 n - TUI_MAX_ALERTS, n - TUI_MAX_ALERTS > 1 ? "s" : "");
		y = tui_wrap(y, CRT_ALERT, lines[0], 1);
	}
	return y;
}

static int tui_draw_segment(const struct tui *t, struct tui_tab *tab, int y)
{
	const struct snapshot *s = &tab->snap;
	char buf[512];
	size_t k;
	int x;

	if (tab->err[0]) {
		tui_put(y++, 0, COLS, CRT_ALERT, tab->err);
		if (!tab->have)
			return y;
	}
	if (s->status_msg) {
		if (s->status == SNAP_SEG_RECREATED && !t->o.follow)
			snprintf(buf, sizeof(buf),
				 "%s: recreated (a new object under the name)"
				 " — press r to reattach",
				 s->name);
		else
			snprintf(buf, sizeof(buf), "%s: %s", s->name,
				 s->status_msg);
		tui_put(y++, 0, COLS, CRT_WARN, buf);
	}
	snprintf(buf, sizeof(buf), "%s  %s  %llu bytes  dev %llx ino %llu",
		 s->name, s->kind, (unsigned long long)s->size,
		 (unsigned long long)s->dev, (unsigned long long)s->ino);
	tui_put(y++, 0, COLS, CRT_NORMAL, buf);
	x = tui_put(y, 0, COLS, CRT_DIM, "mapped by: ");
	k = 0;
	buf[0] = 0;
	for (size_t i = 0; i < s->nprocs && k < sizeof(buf); i++)
		k += (size_t)snprintf(
			buf + k, sizeof(buf) - k, "%s%d %s%s", i ? ", " : "",
			s->procs[i].pid, s->procs[i].comm,
			s->procs[i].no_permission ? " (no permission)" : "");
	tui_put(y++, x, COLS - x, CRT_NORMAL,
		s->nprocs ? buf : "no other process");
	return y;
}

static bool tui_panel_shown(struct tui_tab *tab, int id)
{
	if (tab->hex)
		return id == PANEL_HEX;
	if (id == PANEL_HEX)
		return false;
	return id == PANEL_FIELDS || tab->panels[id].ops->count(tab) > 0;
}

/* Give each panel its rows: the small ones first, the field tree the rest. */
static void tui_place(struct tui_tab *tab, int y, int avail)
{
	int fields_min, rest;

	for (int i = 0; i < PANEL_COUNT; i++)
		tab->panels[i].h = 0;
	if (avail <= 0)
		return;
	if (tab->hex) {
		tab->panels[PANEL_HEX].y = y;
		tab->panels[PANEL_HEX].h = avail;
		return;
	}
	fields_min = 1 + (int)tab->nvis;
	if (fields_min > avail / 3 && fields_min > 3)
		fields_min = avail / 3 > 3 ? avail / 3 : 3;
	rest = avail - fields_min;
	for (int i = PANEL_RINGS; i < PANEL_FIELDS; i++) {
		struct panel *p = &tab->panels[i];
		int want = 1 + (int)p->ops->count(tab);

		if (!tui_panel_shown(tab, i) || rest <= 0)
			continue;
		p->h = want < rest ? want : rest;
		p->y = y;
		y += p->h;
		rest -= p->h;
		avail -= p->h;
	}
	tab->panels[PANEL_FIELDS].y = y;
	tab->panels[PANEL_FIELDS].h = avail;
}

static void tui_draw_panel(struct tui_tab *tab, int id)
{
	struct panel *p = &tab->panels[id];
	size_t n = p->ops->count(tab), rows;
	bool focus = tab->focus == id;
	char buf[256], title[300];

	if (p->h <= 0)
		return;
	p->ops->title(tab, buf, sizeof(buf));
	snprintf(title, sizeof(title), " %s: %s", p->ops->name, buf);
	tui_bar(p->y, focus ? CRT_PANEL_FOCUS : CRT_PANEL);
	tui_put(p->y, 0, COLS, focus ? CRT_PANEL_FOCUS : CRT_PANEL, title);
	rows = (size_t)(p->h - 1);
	if (p->cursor >= n)
		p->cursor = n ? n - 1 : 0;
	if (p->cursor < p->scroll)
		p->scroll = p->cursor;
	if (rows && p->cursor >= p->scroll + rows)
		p->scroll = p->cursor - rows + 1;
	if (n > rows && p->scroll > n - rows)
		p->scroll = n - rows;
	if (n <= rows)
		p->scroll = 0;
	for (size_t i = 0; i < rows && p->scroll + i < n; i++) {
		size_t line = p->scroll + i;
		int yy = p->y + 1 + (int)i;
		bool cur = focus && line == p->cursor;

		if (cur)
			tui_bar(yy, CRT_CURSOR);
		p->ops->draw(tab, line, yy, COLS, cur);
	}
}

static void tui_draw_footer(struct tui *t)
{
	static const char *const keys[][2] = {
		{"?", "Help"},	 {"Spc", "Pause"},  {"Tab", "Panel"},
		{"Ent", "Open"}, {"/", "Find"},	    {"x", "Hex"},
		{"s", "Save"},	 {"r", "Reattach"}, {"+-", "Rate"},
		{"q", "Quit"},
	};
	int y = LINES - 1, x = 0;

	if (t->finding) {
		char buf[128];

		snprintf(buf, sizeof(buf),
			 "Find: %s_   (Enter: done, Esc: "
			 "cancel, n: next)",
			 t->find);
		tui_put(y, 0, COLS, CRT_NORMAL, buf);
		return;
	}
	if (t->msg[0] && crt_now_ns() < t->msg_until) {
		tui_put(y, 0, COLS, CRT_WARN, t->msg);
		return;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && x < COLS;
	     i++) {
		x += tui_put(y, x, COLS - x, CRT_KEY, keys[i][0]);
		x += tui_put(y, x, COLS - x, CRT_KEY_LABEL, keys[i][1]);
		x += tui_put(y, x, COLS - x, CRT_NORMAL, " ");
	}
}

static void tui_draw_help(void)
{
	static const char *const lines[] = {
		"shmscope " SHMSCOPE_VERSION " - keys",
		"",
		"  q, F10        quit",
		"  ?, F1, h      this help (any key returns)",
		"  Space         pause / resume refreshing",
		"  Up/Down, k/j  move the cursor; PgUp/PgDn, Home/End",
		"  Enter, Right  expand a field (Left collapses)",
		"  Tab, S-Tab    next / previous panel",
		"  [ ]  1-9      previous / next segment, or segment N",
		"  + -           refresh faster / slower",
		"  /  n          find a field by path; next match",
		"  x             hex view of the bytes (and back)",
		"  s             write a snapshot (JSON) to a file",
		"  r             reattach (after the segment was recreated)",
		"  Ctrl-L        redraw",
		"",
		"Changed values are highlighted for 1.5 s.  Red lines at the "
		"top:",
		"a lock whose owner died, a lock held longer than --stuck, a "
		"lock-wait",
		"cycle between processes.  Failing checks come first, in red.",
		"",
		"Press any key to return.",
	};

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		tui_put((int)i, 0, COLS, i ? CRT_NORMAL : CRT_TITLE, lines[i]);
}

static void tui_draw(struct tui *t)
{
	struct tui_tab *tab = &t->tabs[t->cur];
	int y = 0;

	erase();
	if (t->help) {
		tui_draw_help();
		refresh();
		return;
	}
	y = tui_draw_title(t, y);
	tab->now_ns = crt_now_ns();
	if (tab->have)
		y = tui_draw_alerts(t, tab, y);
	y = tui_draw_segment(t, tab, y);
	if (tab->have) {
		tui_place(tab, y, LINES - 1 - y);
		if (!tui_panel_shown(tab, tab->focus) ||
		    tab->panels[tab->focus].h == 0)
			tab->focus = tab->hex ? PANEL_HEX : PANEL_FIELDS;
		for (int i = 0; i < PANEL_COUNT; i++)
			tui_draw_panel(tab, i);
	}
	tui_draw_footer(t);
	refresh();
}

/* --- keys --------------------------------------------------------------- */

static void tui_next_panel(struct tui_tab *tab, int dir)
{
	for (int k = 1; k <= PANEL_COUNT; k++) {
		int id = (tab->focus + dir * k + PANEL_COUNT) % PANEL_COUNT;

		if (tui_panel_shown(tab, id) && tab->panels[id].h > 0) {
			tab->focus = id;
			return;
		}
	}
}

static void tui_move(struct tui_tab *tab, long delta)
{
	struct panel *p = &tab->panels[tab->focus];
	long n = (long)p->ops->count(tab), c = (long)p->cursor + delta;

	if (c >= n)
		c = n - 1;
	if (c < 0)
		c = 0;
	p->cursor = (size_t)c;
}

/* Left: collapse the row, or go to its parent; Right: expand. */
static void tui_left_right(struct tui_tab *tab, bool right)
{
	struct panel *p = &tab->panels[PANEL_FIELDS];
	size_t i;

	if (tab->focus != PANEL_FIELDS || p->cursor >= tab->nvis)
		return;
	i = tab->vis[p->cursor];
	if (tab->snap.rows[i].has_children && tab->rows[i].collapsed == right) {
		tab->rows[i].collapsed = !right;
		panel_fields_visible(tab);
		return;
	}
	if (!right && tab->snap.rows[i].parent >= 0)
		for (size_t v = 0; v < tab->nvis; v++)
			if ((int)tab->vis[v] == tab->snap.rows[i].parent)
				p->cursor = v;
}

static void tui_find(struct tui *t, bool next)
{
	struct tui_tab *tab = &t->tabs[t->cur];
	struct panel *p = &tab->panels[PANEL_FIELDS];
	long v;

	if (tab->hex || !t->find[0])
		return;
	/* While typing, the current row may still match. */
	v = panel_fields_find(tab, t->find,
			      next ? p->cursor
				   : (p->cursor ? p->cursor - 1 : tab->nvis));
	if (v < 0) {
		tui_say(t, "no field matches '%s'", t->find);
		return;
	}
	tab->focus = PANEL_FIELDS;
	p->cursor = (size_t)v;
}

static void tui_find_key(struct tui *t, int c)
{
	size_t n = strlen(t->find);

	if (c == 27) {
		t->finding = false;
		t->find[0] = 0;
	} else if (c == '\n' || c == '\r' || c == KEY_ENTER) {
		t->finding = false;
	} else if (c == KEY_BACKSPACE || c == 127 || c == 8) {
		if (n)
			t->find[n - 1] = 0;
	} else if (c >= 0x20 && c < 0x7f && n + 1 < sizeof(t->find)) {
		t->find[n] = (char)c;
		t->find[n + 1] = 0;
		tui_find(t, false);
	}
}

static void tui_rate(struct tui *t, bool faster)
{
	static const int steps[] = {10,	 20,   50,   100,  200,
				    500, 1000, 2000, 5000, 10000};
	int n = sizeof(steps) / sizeof(steps[0]), i;

	for (i = 0; i < n && steps[i] < t->o.interval_ms; i++)
		;
	if (faster)
		i = i > 0 ? i - 1 : 0;
	else if (i < n && steps[i] == t->o.interval_ms)
		i = i + 1 < n ? i + 1 : n - 1;
	else if (i >= n)
		i = n - 1;
	t->o.interval_ms = steps[i];
	tui_say(t, "refreshing every %d ms", t->o.interval_ms);
}

static void tui_save(struct tui *t)
{
	struct tui_tab *tab = &t->tabs[t->cur];
	const char *dir = t->o.snap_dir ? t->o.snap_dir : ".";
	char base[128], path[PATH_MAX], abs[PATH_MAX], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	struct json j;
	FILE *f;
	int fd = -1;
	size_t k = 0;

	if (!tab->have) {
		tui_say(t, "nothing to save yet");
		return;
	}
	for (const char *s = tab->src->title; *s && k + 1 < sizeof(base); s++)
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_')
			base[k++] = *s;
	base[k] = 0;
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	for (int n = 0; n < 100 && fd < 0; n++) {
		if (n)
			snprintf(path, sizeof(path),
				 "%s/shmscope-%s-%s-%d.json", dir, base, stamp,
				 n);
		else
			snprintf(path, sizeof(path), "%s/shmscope-%s-%s.json",
				 dir, base, stamp);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		tui_say(t, "cannot write %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	json_init(&j, f, true);
	snap_write_json(&tab->snap, &j);
	json_newline(&j);
	if (fclose(f) != 0) {
		tui_say(t, "cannot write %s: %s", path, strerror(errno));
		return;
	}
	tui_say(t, "snapshot written to %s", realpath(path, abs) ? abs : path);
}

static void tui_key(struct tui *t, int c)
{
	struct tui_tab *tab = &t->tabs[t->cur];
	int page = tab->panels[tab->focus].h > 2 ? tab->panels[tab->focus].h - 2
						 : 1;

	if (t->help) {
		t->help = c == KEY_RESIZE;
		return;
	}
	if (t->finding) {
		tui_find_key(t, c);
		return;
	}
	switch (c) {
	case 'q':
	case 'Q':
	case KEY_F(10):
	case KEY_EXIT:
		t->quit = true;
		break;
	case '?':
	case 'h':
	case KEY_F(1):
		t->help = true;
		break;
	case ' ':
		t->paused = !t->paused;
		break;
	case KEY_UP:
	case 'k':
		tui_move(tab, -1);
		break;
	case KEY_DOWN:
	case 'j':
		tui_move(tab, 1);
		break;
	case KEY_PPAGE:
		tui_move(tab, -page);
		break;
	case KEY_NPAGE:
		tui_move(tab, page);
		break;
	case KEY_HOME:
	case 'g':
		tui_move(tab, -(1L << 40));
		break;
	case KEY_END:
	case 'G':
		tui_move(tab, 1L << 40);
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
		if (tab->panels[tab->focus].ops->enter)
			tab->panels[tab->focus].ops->enter(
				tab, tab->panels[tab->focus].cursor);
		break;
	case KEY_RIGHT:
	case KEY_LEFT:
		tui_left_right(tab, c == KEY_RIGHT);
		break;
	case '\t':
		tui_next_panel(tab, 1);
		break;
	case KEY_BTAB:
		tui_next_panel(tab, -1);
		break;
	case '[':
		t->cur = (t->cur + t->ntabs - 1) % t->ntabs;
		break;
	case ']':
		t->cur = (t->cur + 1) % t->ntabs;
		break;
	case '+':
	case '=':
	case '-':
		tui_rate(t, c != '-');
		break;
	case '/':
		t->finding = true;
		t->find[0] = 0;
		break;
	case 'n':
		tui_find(t, true);
		break;
	case 'x':
		if (tab->snap.nrows)
			tab->hex = !tab->hex;
		else
			tui_say(t, "no layout: the hex view is the only view");
		break;
	case 's':
		tui_save(t);
		break;
	case 'r':
		tui_reattach(t, tab);
		break;
	case 12: /* Ctrl-L */
		clearok(curscr, TRUE);
		break;
	default:
		if (c >= '1' && c <= '9' && (size_t)(c - '1') < t->ntabs)
			t->cur = (size_t)(c - '1');
		break;
	}
}

/* --- the loop ----------------------------------------------------------- */

static int tui_setup(struct tui *t, struct tui_source *srcs, size_t n,
		     const struct tui_opts *o, struct errbuf *e)
{
	static const struct panel_ops *const ops[PANEL_COUNT] = {
		[PANEL_RINGS] = &panel_rings_ops,
		[PANEL_SYNC] = &panel_sync_ops,
		[PANEL_CHECKS] = &panel_checks_ops,
		[PANEL_FIELDS] = &panel_fields_ops,
		[PANEL_HEX] = &panel_hex_ops,
	};

	memset(t, 0, sizeof(*t));
	if (!n) {
		err_set(e, "nothing to show");
		return -1;
	}
	t->o = *o;
	t->ntabs = n;
	t->tabs = calloc(n, sizeof(*t->tabs));
	if (!t->tabs) {
		err_setn(e, ENOMEM, "tabs");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		t->tabs[i].src = &srcs[i];
		t->tabs[i].focus = PANEL_FIELDS;
		t->tabs[i].sampling = o->sample_hz > 0 && srcs[i].sample;
		for (int p = 0; p < PANEL_COUNT; p++)
			t->tabs[i].panels[p].ops = ops[p];
	}
	return 0;
}

static void tui_teardown(struct tui *t)
{
	for (size_t i = 0; i < t->ntabs; i++) {
		struct tui_tab *tab = &t->tabs[i];

		if (tab->have)
			snap_free(&tab->snap);
		free(tab->rows);
		free(tab->vis);
		free(tab->hex_changed);
		free(tab->syncs);
		free(tab->rings);
		free(tab->checks);
		free(tab->check_order);
	}
	free(t->tabs);
	free(t->smp_used);
	free(t->smp_state);
}

static void tui_loop(struct tui *t)
{
	int64_t next_frame = 0, next_sample = 0;
	int64_t period = t->o.sample_hz ? 1000000000LL / t->o.sample_hz : 0;

	while (!t->quit) {
		struct tui_tab *tab = &t->tabs[t->cur];
		int64_t now = crt_now_ns(), until;
		bool sampling = tab->sampling && !t->paused;
		int c;

		if (now >= next_frame) {
			if (!t->paused) {
				tui_take(t, tab);
				t->frames++;
			}
			tui_draw(t);
			if (t->o.max_frames && t->frames >= t->o.max_frames)
				break;
			next_frame += (int64_t)t->o.interval_ms * 1000000;
			if (next_frame <= now)
				next_frame = now + (int64_t)t->o.interval_ms *
							   1000000;
		}
		if (sampling && now >= next_sample) {
			tui_sample(t, tab);
			next_sample += period;
			if (next_sample <= now)
				next_sample = now + period;
		}
		until = next_frame;
		if (sampling && next_sample < until)
			until = next_sample;
		now = crt_now_ns();
		c = crt_read_key(until > now ? until - now : 0);
		if (c == ERR)
			continue;
		tui_key(t, c);
		/* After a tab switch, show the new tab's segment now. */
		if (&t->tabs[t->cur] != tab && !t->paused)
			next_frame = 0;
		tui_draw(t);
	}
}

int tui_run(struct tui_source *tabs, size_t ntabs, const struct tui_opts *o,
	    struct errbuf *e)
{
	struct tui t;

	if (tui_setup(&t, tabs, ntabs, o, e) < 0)
		return 1;
	if (crt_init(o->color, e) < 0) {
		tui_teardown(&t);
		return 1;
	}
	tui_loop(&t);
	crt_done();
	tui_teardown(&t);
	return 0;
}
