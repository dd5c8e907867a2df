/*
 * layout.h - layout files: parse C declarations with annotations and lay
 * them out by a target ABI's C rules, exactly as gcc does.
 *
 *   struct errbuf e;
 *   struct layout *l = layout_parse_file("ring.layout", ABI_X86_64, 0, &e);
 *   if (!l) { fprintf(stderr, "%s\n", e.msg); ... }   // file:line:col: ...
 *   const struct layout_type *root = layout_root(l);
 *   for (size_t i = 0; i < root->nfields; i++) ... root->fields[i].offset
 *   layout_free(l);
 *
 * Everything a layout owns (types, fields, expressions, names) lives until
 * layout_free().  Offsets are in bytes from the start of the containing
 * type; a bitfield also has a bit position inside its first byte.  The
 * syntax is DESIGN.md's "Layout files"; docs/layout.md is the reference.
 *
 * Expressions (@check, @expect, @ring) are evaluated with expr.h; values
 * are read out of a segment's bytes with value.h.
 */
#ifndef SHMSCOPE_LAYOUT_H
#define SHMSCOPE_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi.h"
#include "err.h"
#include "synckind.h"

/* Limits that keep any input from costing unbounded time or memory. */
#define LAYOUT_MAX_FILE_SIZE	 (16u << 20)  /* bytes of one layout file */
#define LAYOUT_MAX_TYPE_SIZE	 (1ull << 36) /* largest type: 64 GiB */
#define LAYOUT_MAX_DEPTH	 48	      /* nesting of types and exprs */
#define LAYOUT_MAX_INCLUDE_DEPTH 16
#define LAYOUT_MAX_ERRORS	 16 /* errors reported before giving up */

enum layout_kind {
	LAYOUT_INT,    /* char ... long long, stdint names; also bool */
	LAYOUT_BOOL,   /* _Bool / bool */
	LAYOUT_FLOAT,  /* float, double */
	LAYOUT_PTR,    /* any pointer, shown raw */
	LAYOUT_ENUM,   /* enum NAME: an integer with named values */
	LAYOUT_STRUCT, /* struct */
	LAYOUT_UNION,  /* union */
	LAYOUT_ARRAY,  /* ELEM[COUNT] */
	LAYOUT_SYNC,   /* pthread_mutex_t, sem_t, ... futex: see ->sync */
};

/* Where something was declared. */
struct layout_loc {
	const char *file;
	int line;
	int col;
};

struct expr; /* expr.h */

/* Field flags: the annotations that only change how a value is shown. */
#define LAYOUT_F_HEX	(1u << 0) /* @hex */
#define LAYOUT_F_STRING (1u << 1) /* @string: char array up to its NUL */
#define LAYOUT_F_TID	(1u << 2) /* @tid: a thread id */
#define LAYOUT_F_PID	(1u << 3) /* @pid: a process id */
#define LAYOUT_F_PACKED (1u << 4) /* @packed: alignment 1 */
#define LAYOUT_F_OFFSET (1u << 5) /* @offset(n): placed by hand */

/* @ring(head = EXPR, tail = EXPR[, mode = monotonic|wrap]) on an array:
 * head and tail are evaluated in the struct that holds the array.
 * monotonic: the indexes only grow (slot = index % capacity); wrap: they
 * stay below capacity. */
struct layout_ring {
	const struct expr *head;
	const struct expr *tail;
	bool wrap;
};

/* @check(EXPR) on a struct: evaluated in an instance of it. */
struct layout_check {
	const struct expr *expr;
	const char *text; /* the expression as written */
	struct layout_loc loc;
};

struct layout_enumerator {
	const char *name;
	long long value;
};

struct layout_field;

struct layout_type {
	enum layout_kind kind;
	/* "uint32_t", "struct ring", "pthread_mutex_t", "struct message[16]",
	 * "char *"; anonymous structs are "struct {...}". */
	const char *name;
	uint64_t size;
	unsigned align;
	bool is_signed;	     /* INT, ENUM: signedness */
	bool complete;	     /* STRUCT/UNION/ENUM: defined, not only named */
	enum sync_kind sync; /* SYNC: which object */
	/* ARRAY */
	const struct layout_type *elem;
	uint64_t count;
	/* STRUCT, UNION: members in declaration order; an anonymous
	 * struct/union member has name NULL. */
	struct layout_field *fields;
	size_t nfields;
	/* ENUM */
	struct layout_enumerator *enums;
	size_t nenums;
	/* STRUCT, UNION annotations */
	const char *segment; /* @segment("name") or NULL */
	struct layout_check *checks;
	size_t nchecks;
	bool packed;
	struct layout_loc loc;
};

struct layout_field {
	const char *name; /* NULL: anonymous struct/union member */
	const struct layout_type *type;
	uint64_t offset;     /* bytes from the start of the containing type */
	unsigned bit_offset; /* bitfield: first bit inside byte `offset` */
	unsigned bit_width;  /* bitfield width; 0 if not a bitfield */
	unsigned flags;	     /* LAYOUT_F_* */
	const struct expr *expect;	/* @expect(value) or NULL */
	const struct layout_ring *ring; /* @ring(...) or NULL */
	struct layout_loc loc;
};

struct layout;

/* Flags for layout_parse_*. */
#define LAYOUT_NO_INCLUDE (1u << 0) /* #include is an error (fuzzing) */

/*
 * Parse the layout file PATH (and what it includes) and lay it out for
 * ABI.  Returns the layout, or NULL with every error found (up to
 * LAYOUT_MAX_ERRORS, one "file:line:col: message" per line) in E.
 */
struct layout *layout_parse_file(const char *path, enum abi_id abi,
				 unsigned flags, struct errbuf *e);

/* Same, from LEN bytes of TEXT (need not be NUL-terminated) named NAME in
 * messages; includes are relative to NAME's folder. */
struct layout *layout_parse_string(const char *name, const char *text,
				   size_t len, enum abi_id abi, unsigned flags,
				   struct errbuf *e);

/* Free L and everything it owns.  NULL is fine. */
void layout_free(struct layout *l);

/* The ABI L was laid out for. */
enum abi_id layout_abi(const struct layout *l);

/*
 * The type named NAME: "struct ring", "union u", "enum e", a typedef name,
 * or a bare tag ("ring") when no typedef has that name.  NULL if none.
 */
const struct layout_type *layout_find_type(const struct layout *l,
					   const char *name);

/* The root type: the struct marked @segment, else the last top-level
 * struct or union defined, else NULL. */
const struct layout_type *layout_root(const struct layout *l);

/* The name a root type's paths start with ("ring" for struct ring). */
const char *layout_type_path_name(const struct layout_type *t);

/* Top-level named structs, unions, enums and typedefs, in the order they
 * were defined: I from 0 while the result is not NULL. */
const struct layout_type *layout_type_at(const struct layout *l, size_t i);

/* The value of integer constant NAME (enumerator or #define); false if
 * there is none. */
bool layout_const(const struct layout *l, const char *name, long long *v);

/*
 * Look up member NAME in struct/union T, looking through anonymous
 * members as C does; *OFFSET gets its offset from the start of T.
 */
const struct layout_field *layout_field_find(const struct layout_type *t,
					     const char *name,
					     uint64_t *offset);

/*
 * Name the innermost field of the root type that contains byte OFFSET
 * (from the start of the segment) in BUF: "ring.slots[3].seq", with
 * "+N" appended when OFFSET is N bytes into it ("ring.lock+16").  Bytes in
 * padding are named after the struct that holds them ("ring+13").
 * Returns 0, or -ENOENT when OFFSET is past the root type or there is no
 * root (BUF then holds "").
 */
int layout_path_at(const struct layout *l, uint64_t offset, char *buf,
		   size_t len);

/* The same for type T whose paths start with ROOT. */
int layout_type_path_at(const struct layout_type *t, const char *root,
			uint64_t offset, char *buf, size_t len);

/* Whether T is an integer-like scalar (INT, BOOL, ENUM, PTR). */
bool layout_is_integer(const struct layout_type *t);

#endif
