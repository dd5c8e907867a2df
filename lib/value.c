/*
 * value.c - a type's values out of a buffer of bytes.
 *
 * The tree is allocated in one block whose size is counted from the type
 * first, so a huge type is refused before anything is allocated.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "value.h"

#define VALUE_MAX_TYPE_DEPTH 256

/* Bytes of a @string kept: long ones are cut. */
#define VALUE_MAX_STRING 65536

static size_t str_cap(const struct layout_type *t)
{
	return t->size < VALUE_MAX_STRING ? (size_t)t->size : VALUE_MAX_STRING;
}

/* Nodes and string bytes type T needs; false when over MAX. */
static bool count(const struct layout_type *t, unsigned flags, size_t max,
		  size_t *nodes, size_t *strbytes, int depth)
{
	if (depth > VALUE_MAX_TYPE_DEPTH || *nodes >= max)
		return false;
	(*nodes)++;
	if (t->kind == LAYOUT_ARRAY && (flags & LAYOUT_F_STRING)) {
		*strbytes += str_cap(t) + 1;
		return true;
	}
	if (t->kind == LAYOUT_ARRAY) {
		size_t n0 = 0, s0 = 0;

		if (!t->count)
			return true;
		if (!count(t->elem, 0, max - *nodes, &n0, &s0, depth + 1))
			return false;
		if (n0 && t->count > (max - *nodes) / n0)
			return false;
		*nodes += n0 * (size_t)t->count;
		*strbytes += s0 * (size_t)t->count; /* s0 <= 64K * nodes */
		return true;
	}
	if (t->kind == LAYOUT_STRUCT || t->kind == LAYOUT_UNION) {
		for (size_t i = 0; i < t->nfields; i++)
			if (!count(t->fields[i].type, t->fields[i].flags, max,
				   nodes, strbytes, depth + 1))
				return false;
	}
	return true;
}

struct builder {
	struct value *nodes;
	size_t used;
	char *strings;
	size_t sused;
	const struct value **leaves;
	size_t nleaves;
};

static void build(struct builder *b, struct value *v)
{
	const struct layout_type *t = v->type;
	unsigned flags = v->field ? v->field->flags : 0;

	if (t->kind == LAYOUT_ARRAY && (flags & LAYOUT_F_STRING)) {
		v->str = b->strings + b->sused;
		b->sused += str_cap(t) + 1;
		b->leaves[b->nleaves++] = v;
		return;
	}
	if (t->kind == LAYOUT_ARRAY) {
		v->children = b->nodes + b->used;
		v->nchildren = t->count;
		b->used += t->count;
		for (uint64_t i = 0; i < t->count; i++) {
			struct value *c = &v->children[i];

			c->type = t->elem;
			c->parent = v;
			c->index = i;
			c->offset = v->offset + i * t->elem->size;
			c->size = t->elem->size;
			build(b, c);
		}
		return;
	}
	if (t->kind == LAYOUT_STRUCT || t->kind == LAYOUT_UNION) {
		v->children = b->nodes + b->used;
		v->nchildren = t->nfields;
		b->used += t->nfields;
		for (size_t i = 0; i < t->nfields; i++) {
			const struct layout_field *f = &t->fields[i];
			struct value *c = &v->children[i];

			c->type = f->type;
			c->field = f;
			c->parent = v;
			c->offset = v->offset + f->offset;
			c->size =
				f->bit_width
					? (f->bit_offset + f->bit_width + 7) / 8
					: f->type->size;
			build(b, c);
		}
		return;
	}
	b->leaves[b->nleaves++] = v;
}

static int cmp_leaf(const void *a, const void *b)
{
	const struct value *x = *(const struct value *const *)a;
	const struct value *y = *(const struct value *const *)b;

	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return x < y ? -1 : x > y;
}

struct value_tree *value_tree_new(const struct layout_type *t,
				  const char *root_name, uint64_t base,
				  size_t max_nodes, struct errbuf *e)
{
	struct value_tree *vt;
	size_t nodes = 0, strbytes = 0;
	struct builder b = {0};

	if (!max_nodes)
		max_nodes = VALUE_MAX_NODES;
	if (!count(t, 0, max_nodes, &nodes, &strbytes, 0)) {
		err_set(e, "%s: more than %zu values, too many to show",
			t->name, max_nodes);
		return NULL;
	}
	vt = calloc(1, sizeof(*vt));
	if (!vt)
		goto out_nomem;
	vt->nodes = calloc(nodes, sizeof(*vt->nodes));
	vt->leaves = calloc(nodes, sizeof(*vt->leaves));
	vt->strings = calloc(strbytes ? strbytes : 1, 1);
	vt->name = strdup(root_name);
	if (!vt->nodes || !vt->leaves || !vt->strings || !vt->name)
		goto out_free;
	vt->root = vt->nodes;
	vt->root->type = t;
	vt->root->offset = base;
	vt->root->size = t->size;
	vt->root_name = vt->name;
	b.nodes = vt->nodes;
	b.used = 1;
	b.strings = vt->strings;
	b.leaves = vt->leaves;
	build(&b, vt->root);
	vt->nnodes = b.used;
	vt->nleaves = b.nleaves;
	qsort(vt->leaves, vt->nleaves, sizeof(*vt->leaves), cmp_leaf);
	return vt;

out_free:
	value_tree_free(vt);
out_nomem:
	err_set(e, "out of memory");
	return NULL;
}

void value_tree_free(struct value_tree *vt)
{
	if (!vt)
		return;
	free(vt->nodes);
	free((void *)vt->leaves);
	free(vt->strings);
	free(vt->name);
	free(vt);
}

static uint64_t load_le(const unsigned char *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

static void decode(struct value *v, const unsigned char *buf, size_t len)
{
	const struct layout_type *t = v->type;
	const struct layout_field *f = v->field;
	const unsigned char *p;
	uint64_t raw;

	v->kind = VALUE_NONE;
	if (v->offset > len || v->size > len - v->offset)
		return;
	p = buf + v->offset;
	switch (t->kind) {
	case LAYOUT_ARRAY: { /* a @string */
		size_t n = 0;

		while (n < t->size && n < str_cap(t) && p[n])
			n++;
		memcpy(v->str, p, n);
		v->str[n] = '\0';
		v->str_len = n;
		v->kind = VALUE_STRING;
		return;
	}
	case LAYOUT_SYNC:
		v->kind = VALUE_SYNC;
		return;
	case LAYOUT_FLOAT:
		if (t->size == 4) {
			uint32_t b32 = (uint32_t)load_le(p, 4);
			float fl;

			memcpy(&fl, &b32, 4);
			v->v.f = fl;
		} else if (t->size == 8) {
			uint64_t b64 = load_le(p, 8);

			memcpy(&v->v.f, &b64, 8);
		} else {
			return;
		}
		v->kind = VALUE_FLOAT;
		return;
	default:
		break;
	}
	if (v->size > 8 || !layout_is_integer(t))
		return;
	raw = load_le(p, (size_t)v->size);
	if (f && f->bit_width) {
		raw >>= f->bit_offset;
		if (f->bit_width < 64)
			raw &= (1ull << f->bit_width) - 1;
		if (t->is_signed && f->bit_width < 64 &&
		    (raw >> (f->bit_width - 1)) & 1)
			raw |= ~0ull << f->bit_width;
	} else if (t->is_signed && v->size < 8 && v->size &&
		   (raw >> (v->size * 8 - 1)) & 1) {
		raw |= ~0ull << (v->size * 8);
	}
	if (t->kind == LAYOUT_PTR) {
		v->kind = VALUE_PTR;
		v->v.u = raw;
	} else if (t->kind == LAYOUT_BOOL) {
		v->kind = VALUE_BOOL;
		v->v.u = raw;
	} else if (t->is_signed) {
		v->kind = VALUE_INT;
		v->v.i = (long long)raw;
	} else {
		v->kind = VALUE_UINT;
		v->v.u = raw;
	}
}

void value_tree_read(struct value_tree *vt, const void *buf, size_t len)
{
	for (size_t i = 0; i < vt->nnodes; i++) {
		struct value *v = &vt->nodes[i];
		bool present = v->offset <= len && v->size <= len - v->offset;

		if (v->type->kind == LAYOUT_STRUCT ||
		    v->type->kind == LAYOUT_UNION)
			v->kind = present ? VALUE_STRUCT : VALUE_NONE;
		else if (v->type->kind == LAYOUT_ARRAY && !v->str)
			v->kind = present ? VALUE_ARRAY : VALUE_NONE;
	}
	for (size_t i = 0; i < vt->nleaves; i++)
		decode((struct value *)vt->leaves[i], buf, len);
}

/* ---- paths --------------------------------------------------------------- */
size_t value_path(const struct value_tree *vt, const struct value *v, char *buf,
		  size_t len)
{
	const struct value *chain[VALUE_MAX_TYPE_DEPTH + 2];
	int n = 0;
	size_t pos;
	int w;

	for (; v && v->parent && n < VALUE_MAX_TYPE_DEPTH + 1; v = v->parent)
		chain[n++] = v;
	w = snprintf(buf, len, "%s", vt->root_name);
	pos = w > 0 ? (size_t)w : 0;
	while (n-- > 0) {
		const struct value *c = chain[n];
		size_t room = pos < len ? len - pos : 0;
		char *at = room ? buf + pos : NULL;

		if (c->field && c->field->name)
			w = snprintf(at, room, ".%s", c->field->name);
		else if (!c->field)
			w = snprintf(at, room, "[%" PRIu64 "]", c->index);
		else
			w = 0;
		pos += w > 0 ? (size_t)w : 0;
	}
	return pos;
}

/* The child of V named by the path component at *P (".x" or "[3]"). */
static const struct value *step(const struct value *v, const char **p)
{
	const char *s = *p;

	if (*s == '[') {
		char *end;
		unsigned long long i = strtoull(s + 1, &end, 10);

		if (end == s + 1 || *end != ']' ||
		    v->type->kind != LAYOUT_ARRAY || i >= v->nchildren ||
		    v->str)
			return NULL;
		*p = end + 1;
		return &v->children[i];
	}
	if (*s != '.')
		return NULL;
	s++;
	size_t n = strcspn(s, ".[");
	for (size_t i = 0; i < v->nchildren && !v->str; i++) {
		const struct value *c = &v->children[i];
		const char *q;
		const struct value *r;

		if (!c->field)
			break;
		if (c->field->name) {
			if (strlen(c->field->name) == n &&
			    !memcmp(c->field->name, s, n)) {
				*p = s + n;
				return c;
			}
			continue;
		}
		q = *p; /* look inside an anonymous member */
		r = step(c, &q);
		if (r) {
			*p = q;
			return r;
		}
	}
	return NULL;
}

const struct value *value_find(const struct value_tree *vt, const char *path)
{
	size_t rl = strlen(vt->root_name);
	const struct value *v = vt->root;

	if (strncmp(path, vt->root_name, rl))
		return NULL;
	path += rl;
	for (int i = 0; *path && v && i < 4 * VALUE_MAX_TYPE_DEPTH; i++)
		v = step(v, &path);
	return *path ? NULL : v;
}

/* ---- text and JSON ------------------------------------------------------- */
static void format_string(const struct value *v, char *buf, size_t len)
{
	size_t pos = 0;

	if (len < 3) {
		if (len)
			buf[0] = '\0';
		return;
	}
	buf[pos++] = '"';
	for (size_t i = 0; i < v->str_len && pos + 6 < len; i++) {
		unsigned char c = (unsigned char)v->str[i];

		if (c == '"' || c == '\\') {
			buf[pos++] = '\\';
			buf[pos++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			pos += (size_t)snprintf(buf + pos, len - pos, "\\x%02x",
						c);
		} else {
			buf[pos++] = (char)c;
		}
	}
	buf[pos++] = '"';
	buf[pos] = '\0';
}

void value_format(const struct value *v, char *buf, size_t len)
{
	unsigned flags = v->field ? v->field->flags : 0;
	const struct layout_type *t = v->type;

	if (!len)
		return;
	switch (v->kind) {
	case VALUE_NONE:
		snprintf(buf, len, "?");
		return;
	case VALUE_INT:
	case VALUE_UINT:
		if (t->kind == LAYOUT_ENUM) {
			for (size_t i = 0; i < t->nenums; i++) {
				if (t->enums[i].value == v->v.i) {
					snprintf(buf, len, "%s",
						 t->enums[i].name);
					return;
				}
			}
		}
		if (flags & LAYOUT_F_HEX) {
			unsigned long long u = v->v.u;
			unsigned bits = v->field && v->field->bit_width
						? v->field->bit_width
						: (unsigned)v->size * 8;
			if (bits < 64)
				u &= (1ull << bits) - 1;
			snprintf(buf, len, "0x%llx", u);
		} else if (v->kind == VALUE_INT) {
			snprintf(buf, len, "%lld", v->v.i);
		} else {
			snprintf(buf, len, "%llu", v->v.u);
		}
		return;
	case VALUE_BOOL:
		if (v->v.u <= 1)
			snprintf(buf, len, "%s", v->v.u ? "true" : "false");
		else
			snprintf(buf, len, "%llu", v->v.u);
		return;
	case VALUE_FLOAT:
		snprintf(buf, len, "%g", v->v.f);
		return;
	case VALUE_PTR:
		snprintf(buf, len, "0x%llx", v->v.u);
		return;
	case VALUE_STRING:
		format_string(v, buf, len);
		return;
	case VALUE_SYNC:
		snprintf(buf, len, "(%s)", t->name);
		return;
	case VALUE_STRUCT:
		snprintf(buf, len, "{...}");
		return;
	case VALUE_ARRAY:
		snprintf(buf, len, "[%zu]", v->nchildren);
		return;
	}
	buf[0] = '\0';
}

static void json_members(struct json *j, const struct value *v)
{
	for (size_t i = 0; i < v->nchildren; i++) {
		const struct value *c = &v->children[i];

		if (!c->field->name) {
			json_members(j, c); /* anonymous: merged in */
			continue;
		}
		json_key(j, c->field->name);
		value_json(j, c);
	}
}

void value_json(struct json *j, const struct value *v)
{
	switch (v->kind) {
	case VALUE_INT:
		json_int(j, v->v.i);
		return;
	case VALUE_UINT:
	case VALUE_PTR:
		json_uint(j, v->v.u);
		return;
	case VALUE_BOOL:
		if (v->v.u <= 1)
			json_bool(j, v->v.u != 0);
		else
			json_uint(j, v->v.u);
		return;
	case VALUE_FLOAT:
		json_double(j, v->v.f);
		return;
	case VALUE_STRING:
		json_strn(j, v->str, v->str_len);
		return;
	case VALUE_ARRAY:
		json_begin_arr(j);
		for (size_t i = 0; i < v->nchildren; i++)
			value_json(j, &v->children[i]);
		json_end_arr(j);
		return;
	case VALUE_STRUCT:
		json_begin_obj(j);
		json_members(j, v);
		json_end_obj(j);
		return;
	case VALUE_NONE:
	case VALUE_SYNC:
		break;
	}
	json_null(j);
}

void value_json_field(struct json *j, const struct value_tree *vt,
		      const struct value *v)
{
	char path[1024];

	value_path(vt, v, path, sizeof(path));
	json_begin_obj(j);
	json_kv_str(j, "path", path);
	json_kv_str(j, "type", v->type->name);
	json_kv_uint(j, "offset", v->offset);
	json_kv_uint(j, "size", v->size);
	json_key(j, "value");
	value_json(j, v);
	json_end_obj(j);
}

static void json_field_list(struct json *j, const struct value_tree *vt,
			    const struct value *v)
{
	for (size_t i = 0; i < v->nchildren; i++) {
		const struct value *c = &v->children[i];

		if (c->field && !c->field->name)
			json_field_list(j, vt, c);
		else
			value_json_field(j, vt, c);
	}
}

void value_json_fields(struct json *j, const struct value_tree *vt)
{
	json_begin_arr(j);
	if (vt->root->type->kind == LAYOUT_STRUCT ||
	    vt->root->type->kind == LAYOUT_UNION)
		json_field_list(j, vt, vt->root);
	else
		value_json_field(j, vt, vt->root);
	json_end_arr(j);
}

/* ---- @check and @expect -------------------------------------------------- */
static void check_expect(const struct value *v, const struct expr_env *env,
			 void (*fn)(void *arg, const struct value_check *c),
			 void *arg)
{
	struct value_check c = {v, NULL, true, 0, NULL, false};
	struct expr_env env2 = *env;
	struct errbuf e;
	char text[512];
	long long want;

	snprintf(text, sizeof(text), "%s == %s", v->field->name,
		 expr_text(v->field->expect));
	c.expr = text;
	env2.base = v->parent ? v->parent->offset : 0;
	c.err = expr_eval(v->field->expect, &env2, &want, &e);
	if (c.err == 0 && v->kind != VALUE_INT && v->kind != VALUE_UINT &&
	    v->kind != VALUE_BOOL && v->kind != VALUE_PTR) {
		c.err = -ERANGE;
		snprintf(e.msg, sizeof(e.msg), "%s: not readable",
			 v->field->name);
	}
	if (c.err) {
		c.why = e.msg;
	} else if (v->kind == VALUE_INT) {
		c.ok = v->v.i == want;
	} else {
		/* compare as the field's width: @expect(0xffffffff) on a
		 * uint32_t */
		unsigned long long mask =
			v->size >= 8 ? ~0ull : (1ull << (v->size * 8)) - 1;
		c.ok = (v->v.u & mask) == ((unsigned long long)want & mask);
	}
	fn(arg, &c);
}

void value_tree_checks(const struct value_tree *vt, const struct expr_env *env,
		       void (*fn)(void *arg, const struct value_check *c),
		       void *arg)
{
	for (size_t i = 0; i < vt->nnodes; i++) {
		const struct value *v = &vt->nodes[i];
		const struct layout_type *t = v->type;

		if (v->field && v->field->expect)
			check_expect(v, env, fn, arg);
		if (t->kind != LAYOUT_STRUCT && t->kind != LAYOUT_UNION)
			continue;
		for (size_t k = 0; k < t->nchecks; k++) {
			struct value_check c = {
				v, t->checks[k].text, false, 0, NULL, false};
			struct expr_env env2 = *env;
			struct errbuf e;
			long long r;

			env2.base = v->offset;
			c.err = expr_eval(t->checks[k].expr, &env2, &r, &e);
			if (c.err)
				c.why = e.msg;
			else
				c.ok = r != 0;
			fn(arg, &c);
		}
	}
}
