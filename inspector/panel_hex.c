/*
 * panel_hex.c - the bytes of the segment, changed ones highlighted.
 *
 * The only view that needs no layout.  Sixteen bytes a line, as xxd, so
 * offsets are easy to read against `shmscope layout`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crt.h"
#include "panel.h"

#define HEX_PER_LINE 16

/* Milliseconds for the per-byte stamps; never 0 (0 means "never"). */
static uint32_t hex_stamp(int64_t ns)
{
	uint32_t ms = (uint32_t)(ns / 1000000);

	return ms ? ms : 1;
}

void panel_hex_update(struct tui_tab *t, const struct snapshot *prev)
{
	const struct snapshot *s = &t->snap;
	uint32_t now = hex_stamp(t->now_ns);
	size_t old = t->nhex, same = 0;

	if (s->size != t->nhex) {
		uint32_t *p = realloc(t->hex_changed,
				      (s->size ? s->size : 1) * sizeof(*p));

		if (!p)
			return;
		t->hex_changed = p;
		t->nhex = s->size;
		/* Bytes that appeared count as changed, unless this is the
		 * first look. */
		for (size_t i = old; i < s->size; i++)
			p[i] = prev ? now : 0;
	}
	if (!prev || !prev->bytes || !s->bytes)
		return;
	same = prev->size < s->size ? prev->size : s->size;
	for (size_t i = 0; i < same; i++)
		if (prev->bytes[i] != s->bytes[i])
			t->hex_changed[i] = now;
}

static size_t hex_count(struct tui_tab *t)
{
	if (!t->snap.bytes)
		return 0;
	return (t->snap.size + HEX_PER_LINE - 1) / HEX_PER_LINE;
}

static void hex_title(struct tui_tab *t, char *buf, size_t n)
{
	snprintf(buf, n, "%llu bytes%s%s", (unsigned long long)t->snap.size,
		 t->snap.bytes ? "" : ", not read by this source",
		 t->snap.nrows ? "  (x: back to the fields)" : "");
}

static bool hex_recent(const struct tui_tab *t, size_t i)
{
	uint32_t now = hex_stamp(t->now_ns);

	return i < t->nhex && t->hex_changed[i] &&
	       now - t->hex_changed[i] < TUI_HIGHLIGHT_NS / 1000000;
}

static void hex_draw(struct tui_tab *t, size_t line, int y, int w, bool cursor)
{
	size_t off = line * HEX_PER_LINE;
	size_t n = t->snap.size - off < HEX_PER_LINE ? t->snap.size - off
						     : HEX_PER_LINE;
	const uint8_t *b = t->snap.bytes + off;
	int base = cursor ? CRT_CURSOR : CRT_NORMAL;
	char buf[32];
	int x = 0;

	snprintf(buf, sizeof(buf), "%08zx  ", off);
	x += tui_put(y, x, w - x, cursor ? CRT_CURSOR : CRT_DIM, buf);
	for (size_t i = 0; i < HEX_PER_LINE && x < w; i++) {
		if (i < n)
			snprintf(buf, sizeof(buf), "%02x", b[i]);
		else
			snprintf(buf, sizeof(buf), "  ");
		x += tui_put(y, x, w - x,
			     i < n && hex_recent(t, off + i) ? CRT_CHANGED
							     : base,
			     buf);
		x += tui_put(y, x, w - x, base, i == 7 ? "  " : " ");
	}
	x += tui_put(y, x, w - x, base, "|");
	for (size_t i = 0; i < n && x < w; i++) {
		buf[0] = b[i] >= 0x20 && b[i] < 0x7f ? (char)b[i] : '.';
		buf[1] = 0;
		x += tui_put(y, x, w - x,
			     hex_recent(t, off + i) ? CRT_CHANGED : base, buf);
	}
	if (x < w)
		tui_put(y, x, w - x, base, "|");
}

const struct panel_ops panel_hex_ops = {
	.name = "Hex",
	.count = hex_count,
	.title = hex_title,
	.draw = hex_draw,
};
