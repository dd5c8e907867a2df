/*
 * value.h - the values of a laid-out type, read from a segment's bytes.
 *
 *   struct value_tree *vt = value_tree_new(root, "ring", 0, 0, &e);
 *   value_tree_read(vt, map, size);          // again on every refresh
 *   for (size_t i = 0; i < vt->nleaves; i++) {
 *           const struct value *v = vt->leaves[i];
 *           value_path(vt, v, path, sizeof(path));    // "ring.slots[3].seq"
 *           value_format(v, text, sizeof(text));      // "42", "0x52494e47"
 *   }
 *   value_json_fields(&json, vt);           // DESIGN.md's "fields" array
 *   value_tree_free(vt);
 *
 * The tree's shape (one node per struct, array, element and field) is
 * built once from the type; value_tree_read() only decodes.  A value never
 * reads past its own bytes nor past the buffer: what lies outside the
 * buffer is VALUE_NONE.  Sync objects are leaves of kind VALUE_SYNC that
 * the decoders (sync.h) interpret from their offset and size; @tid/@pid
 * fields stay numbers, with their flag in ->field->flags.
 */
#ifndef SHMSCOPE_VALUE_H
#define SHMSCOPE_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "expr.h"
#include "json.h"
#include "layout.h"

#define VALUE_MAX_NODES (1u << 21) /* default bound: ~200 MiB of nodes */

enum value_kind {
	VALUE_NONE,   /* not readable: outside the buffer, or unsupported */
	VALUE_INT,    /* v.i: signed integers and signed enums */
	VALUE_UINT,   /* v.u: unsigned integers, unsigned enums */
	VALUE_BOOL,   /* v.u: 0 or 1 (other bytes show as their number) */
	VALUE_FLOAT,  /* v.f */
	VALUE_PTR,    /* v.u: an address, meaningless in other processes */
	VALUE_STRING, /* str: a @string char array up to its first NUL */
	VALUE_SYNC,   /* a sync object: decode it from offset/size */
	VALUE_STRUCT, /* children: members (anonymous ones included) */
	VALUE_ARRAY,  /* children: elements */
};

struct value {
	const struct layout_type *type;
	const struct layout_field *field; /* NULL: root or array element */
	const struct value *parent;	  /* NULL: root */
	uint64_t index;			  /* array element: its index */
	uint64_t offset;		  /* absolute, from the buffer start */
	uint64_t size;			  /* bytes it occupies */
	enum value_kind kind;
	union {
		long long i;
		unsigned long long u;
		double f;
	} v;
	char *str; /* VALUE_STRING: NUL-terminated copy */
	size_t str_len;
	struct value *children;
	size_t nchildren;
};

struct value_tree {
	struct value *root;
	const char *root_name;
	const struct value **leaves; /* every leaf, in offset order */
	size_t nleaves;
	size_t nnodes;
	/* private */
	struct value *nodes;
	char *strings;
	char *name;
};

/*
 * Build the tree of type T placed at offset BASE of a buffer, whose paths
 * start with ROOT_NAME.  MAX_NODES bounds its size (0: VALUE_MAX_NODES);
 * a bigger type is an error.  Every leaf is VALUE_NONE until read.
 */
struct value_tree *value_tree_new(const struct layout_type *t,
				  const char *root_name, uint64_t base,
				  size_t max_nodes, struct errbuf *e);

/* Decode every value from LEN bytes at BUF (the whole segment). */
void value_tree_read(struct value_tree *vt, const void *buf, size_t len);

void value_tree_free(struct value_tree *vt);

/* V's path ("ring.slots[3].seq") into BUF; returns the length it needs. */
size_t value_path(const struct value_tree *vt, const struct value *v, char *buf,
		  size_t len);

/* The node whose path is PATH, or NULL. */
const struct value *value_find(const struct value_tree *vt, const char *path);

/* V as text: 42, -1, 0x2a (@hex), 3.5, "text", true, RUNNING (for enums),
 * 0x7f00deadbeef (pointers), "?" (not readable), {...}, [16]. */
void value_format(const struct value *v, char *buf, size_t len);

/* V's JSON value: number, string, null (sync, unreadable), array for an
 * array, object for a struct (anonymous members merged in). */
void value_json(struct json *j, const struct value *v);

/* One {"path","type","offset","size","value"} object for V. */
void value_json_field(struct json *j, const struct value_tree *vt,
		      const struct value *v);

/* DESIGN.md's "fields" array: one object per member of the root (those of
 * anonymous members included), nested values inside. */
void value_json_fields(struct json *j, const struct value_tree *vt);

/* One evaluated @check or @expect. */
struct value_check {
	const struct value
		*v; /* @check: the struct instance; @expect: the field */
	const char
		*expr; /* "write_idx - read_idx <= 16", "magic == 0x52494e47" */
	bool is_expect;
	int err;	 /* 0, or what expr_eval() returned */
	const char *why; /* err != 0: the evaluator's message */
	bool ok;	 /* err == 0: the check holds */
};

/*
 * Evaluate every @check of every struct instance in VT (root, nested
 * structs, array elements) and every @expect, against the bytes and sync
 * decoder of ENV (its base is ignored: each instance has its own), calling
 * FN for each in tree order.  @expect compares with the value last read by
 * value_tree_read(), so read first, from the same bytes.
 */
void value_tree_checks(const struct value_tree *vt, const struct expr_env *env,
		       void (*fn)(void *arg, const struct value_check *c),
		       void *arg);

#endif
