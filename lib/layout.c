/*
 * layout.c - what a parsed layout offers: lookups by name, the root type,
 * naming the field at an offset; and the arena and symbol table the parser
 * fills.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout_impl.h"

/* ---- arena --------------------------------------------------------------- */
struct layout_chunk {
	struct layout_chunk *next;
	size_t cap;
	_Alignas(16) unsigned char data[];
};

void *layout_arena_alloc(struct layout_arena *a, size_t n)
{
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (!a->head || a->cap - a->used < n) {
		size_t cap = n > 65536 ? n : 65536;
		struct layout_chunk *c = malloc(sizeof(*c) + cap);

		if (!c)
			return NULL;
		c->next = a->head;
		c->cap = cap;
		a->head = c;
		a->used = 0;
		a->cap = cap;
	}
	p = a->head->data + a->used;
	a->used += n;
	memset(p, 0, n);
	return p;
}

char *layout_arena_strndup(struct layout_arena *a, const char *s, size_t n)
{
	char *p = layout_arena_alloc(a, n + 1);

	if (p)
		memcpy(p, s, n);
	return p;
}

char *layout_arena_printf(struct layout_arena *a, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	p = layout_arena_alloc(a, (size_t)n + 1);
	if (!p)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void layout_arena_free(struct layout_arena *a)
{
	struct layout_chunk *c = a->head, *next;

	for (; c; c = next) {
		next = c->next;
		free(c);
	}
	a->head = NULL;
}

/* ---- symbols ------------------------------------------------------------- */
static size_t layout_hash(const char *s)
{
	size_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

struct layout_sym *layout_sym_find(const struct layout *l, const char *name)
{
	if (!l->symcap)
		return NULL;
	for (size_t i = layout_hash(name) & (l->symcap - 1);;
	     i = (i + 1) & (l->symcap - 1)) {
		if (!l->syms[i].name)
			return NULL;
		if (!strcmp(l->syms[i].name, name))
			return &l->syms[i];
	}
}

static int layout_sym_grow(struct layout *l)
{
	size_t cap = l->symcap ? l->symcap * 2 : 256;
	struct layout_sym *s = calloc(cap, sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < l->symcap; i++) {
		size_t j;

		if (!l->syms[i].name)
			continue;
		for (j = layout_hash(l->syms[i].name) & (cap - 1); s[j].name;
		     j = (j + 1) & (cap - 1))
			;
		s[j] = l->syms[i];
	}
	free(l->syms);
	l->syms = s;
	l->symcap = cap;
	return 0;
}

struct layout_sym *layout_sym_add(struct layout *l, const char *name,
				  enum layout_sym_kind kind)
{
	size_t i;

	if ((l->nsyms + 1) * 2 > l->symcap && layout_sym_grow(l) < 0)
		return NULL;
	for (i = layout_hash(name) & (l->symcap - 1); l->syms[i].name;
	     i = (i + 1) & (l->symcap - 1))
		;
	l->syms[i].name = layout_arena_strndup(&l->arena, name, strlen(name));
	if (!l->syms[i].name)
		return NULL;
	l->syms[i].kind = kind;
	l->nsyms++;
	return &l->syms[i];
}

int layout_order_add(struct layout *l, const struct layout_type *t)
{
	if (l->norder == l->ordercap) {
		size_t cap = l->ordercap ? l->ordercap * 2 : 64;
		const struct layout_type **o =
			realloc(l->order, cap * sizeof(*o));

		if (!o)
			return -ENOMEM;
		l->order = o;
		l->ordercap = cap;
	}
	l->order[l->norder++] = t;
	return 0;
}

/* ---- public lookups ------------------------------------------------------ */
void layout_free(struct layout *l)
{
	if (!l)
		return;
	layout_arena_free(&l->arena);
	free(l->syms);
	free(l->order);
	free(l);
}

enum abi_id layout_abi(const struct layout *l)
{
	return l->abi;
}

const struct layout_type *layout_find_type(const struct layout *l,
					   const char *name)
{
	const struct layout_sym *s = layout_sym_find(l, name);
	char tag[300];

	if (s && (s->kind == LAYOUT_SYM_TAG || s->kind == LAYOUT_SYM_TYPEDEF))
		return s->type;
	if (strlen(name) > 256)
		return NULL;
	static const char *const kinds[] = {"struct", "union", "enum"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(tag, sizeof(tag), "%s %s", kinds[i], name);
		s = layout_sym_find(l, tag);
		if (s && s->kind == LAYOUT_SYM_TAG && s->type->complete)
			return s->type;
	}
	return NULL;
}

const struct layout_type *layout_root(const struct layout *l)
{
	return l->root ? l->root : l->last_struct;
}

const char *layout_type_path_name(const struct layout_type *t)
{
	const char *n = t->name;

	if (!strncmp(n, "struct ", 7))
		return n + 7;
	if (!strncmp(n, "union ", 6))
		return n + 6;
	return n;
}

const struct layout_type *layout_type_at(const struct layout *l, size_t i)
{
	return i < l->norder ? l->order[i] : NULL;
}

bool layout_const(const struct layout *l, const char *name, long long *v)
{
	const struct layout_sym *s = layout_sym_find(l, name);

	if (!s || s->kind != LAYOUT_SYM_CONST)
		return false;
	*v = s->value;
	return true;
}

bool layout_is_integer(const struct layout_type *t)
{
	return t->kind == LAYOUT_INT || t->kind == LAYOUT_BOOL ||
	       t->kind == LAYOUT_ENUM || t->kind == LAYOUT_PTR;
}

const struct layout_field *layout_field_find(const struct layout_type *t,
					     const char *name, uint64_t *offset)
{
	if (t->kind != LAYOUT_STRUCT && t->kind != LAYOUT_UNION)
		return NULL;
	for (size_t i = 0; i < t->nfields; i++) {
		const struct layout_field *f = &t->fields[i];

		if (f->name && !strcmp(f->name, name)) {
			*offset = f->offset;
			return f;
		}
		if (!f->name) {
			uint64_t off;
			const struct layout_field *g =
				layout_field_find(f->type, name, &off);

			if (g) {
				*offset = f->offset + off;
				return g;
			}
		}
	}
	return NULL;
}

/* ---- naming an offset ---------------------------------------------------- */
struct pathbuf {
	char *buf;
	size_t len, pos;
};

static void pb_add(struct pathbuf *pb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void pb_add(struct pathbuf *pb, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (pb->pos >= pb->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(pb->buf + pb->pos, pb->len - pb->pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		pb->pos += (size_t)n;
	if (pb->pos >= pb->len)
		pb->pos = pb->len - 1;
}

/* Descend from type T (OFF bytes into it) to the innermost field. */
static void path_descend(struct pathbuf *pb, const struct layout_type *t,
			 uint64_t off)
{
	for (int depth = 0; depth < LAYOUT_MAX_DEPTH * 2; depth++) {
		if (t->kind == LAYOUT_ARRAY && t->elem->size) {
			uint64_t i = off / t->elem->size;

			pb_add(pb, "[%" PRIu64 "]", i);
			off -= i * t->elem->size;
			t = t->elem;
			continue;
		}
		if (t->kind != LAYOUT_STRUCT && t->kind != LAYOUT_UNION)
			break;
		const struct layout_field *hit = NULL;
		for (size_t i = 0; i < t->nfields && !hit; i++) {
			const struct layout_field *f = &t->fields[i];
			uint64_t size =
				f->bit_width
					? (f->bit_offset + f->bit_width + 7) / 8
					: f->type->size;

			if (off >= f->offset && off - f->offset < size)
				hit = f;
		}
		if (!hit)
			break; /* padding */
		if (hit->name)
			pb_add(pb, ".%s", hit->name);
		off -= hit->offset;
		t = hit->type;
		if (hit->bit_width)
			off = 0;
	}
	if (off)
		pb_add(pb, "+%" PRIu64, off);
}

int layout_type_path_at(const struct layout_type *t, const char *root,
			uint64_t offset, char *buf, size_t len)
{
	struct pathbuf pb = {buf, len, 0};

	if (!len)
		return -EINVAL;
	buf[0] = '\0';
	if (!t || offset >= t->size)
		return -ENOENT;
	pb_add(&pb, "%s", root);
	path_descend(&pb, t, offset);
	return 0;
}

int layout_path_at(const struct layout *l, uint64_t offset, char *buf,
		   size_t len)
{
	const struct layout_type *t = layout_root(l);

	if (!t) {
		if (len)
			buf[0] = '\0';
		return -ENOENT;
	}
	return layout_type_path_at(t, layout_type_path_name(t), offset, buf,
				   len);
}
