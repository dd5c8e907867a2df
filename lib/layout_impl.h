/*
 * layout_impl.h - what the files of the layout module share and nobody else
 * sees: the arena, the tokens, the symbol table, the expression nodes.
 *
 *   layout_lex.c    text -> tokens
 *   layout_parse.c  tokens -> types (laid out), constants, expressions
 *   layout.c        arena, symbols, lookups, layout_path_at()
 *   expr.c          evaluating bound expressions
 */
#ifndef SHMSCOPE_LAYOUT_IMPL_H
#define SHMSCOPE_LAYOUT_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "layout.h"

/* ---- arena: everything a layout owns, freed at once ---------------------- */
struct layout_chunk;

struct layout_arena {
	struct layout_chunk *head;
	size_t used; /* in head */
	size_t cap;  /* of head */
};

/* Zeroed, 16-aligned memory that lives until layout_arena_free(); NULL
 * when out of memory. */
void *layout_arena_alloc(struct layout_arena *a, size_t n);
char *layout_arena_strndup(struct layout_arena *a, const char *s, size_t n);
char *layout_arena_printf(struct layout_arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void layout_arena_free(struct layout_arena *a);

/* ---- symbols ---------------------------------------------------------------
 */
enum layout_sym_kind {
	LAYOUT_SYM_TAG,	    /* "struct x", "union x", "enum x" */
	LAYOUT_SYM_TYPEDEF, /* a typedef name */
	LAYOUT_SYM_CONST,   /* an enumerator or #define with an integer */
	LAYOUT_SYM_BADDEF,  /* a #define that is not an integer constant */
};

struct layout_sym {
	const char *name;
	enum layout_sym_kind kind;
	struct layout_type *type; /* TAG, TYPEDEF */
	long long value;	  /* CONST */
	bool is_unsigned;	  /* CONST */
};

struct layout {
	enum abi_id abi;
	struct layout_arena arena;
	struct layout_sym *syms; /* open addressing, power-of-two size */
	size_t nsyms;
	size_t symcap;
	const struct layout_type **order; /* top-level types, in order */
	size_t norder;
	size_t ordercap;
	const struct layout_type *root;
	const struct layout_type *last_struct;
};

struct layout_sym *layout_sym_find(const struct layout *l, const char *name);
/* Add NAME (copied into the arena); NULL on out of memory. */
struct layout_sym *layout_sym_add(struct layout *l, const char *name,
				  enum layout_sym_kind kind);
int layout_order_add(struct layout *l, const struct layout_type *t);

/* ---- tokens -------------------------------------------------------------- */

enum layout_tok_kind {
	LT_EOF,
	LT_IDENT,
	LT_NUM,
	LT_STR,
	LT_PUNCT,
	LT_BADNUM, /* a floating or malformed number */
};

/* Punctuators of more than one character. */
enum {
	LP_SHL = 256,
	LP_SHR,
	LP_LE,
	LP_GE,
	LP_EQ,
	LP_NE,
	LP_AND,
	LP_OR,
	LP_ARROW,
	LP_ELLIPSIS,
	LP_HASHHASH,
	LP_OTHER, /* any other multi-char operator (+=, ++, ...) */
};

struct layout_tok {
	enum layout_tok_kind kind;
	int op;	       /* PUNCT: the char or LP_* */
	const char *s; /* the token's text */
	unsigned len;
	unsigned long long num; /* NUM */
	bool num_unsigned;	/* NUM: has a u suffix */
	bool num_long;		/* NUM: has an l suffix */
	bool bol;		/* first token of its (logical) line */
	int line;
	int col;
	int lline; /* logical line: a backslash-newline does not end it */
};

/* Turn LEN bytes of TEXT into tokens (ending with LT_EOF) in *TOKS; lexical
 * errors are reported through REPORT.  Returns the count, or -ENOMEM. */
struct layout_lexerr {
	void (*report)(void *arg, int line, int col, const char *msg);
	void *arg;
};
long layout_lex(const char *text, size_t len, struct layout_tok **toks,
		const struct layout_lexerr *err);

/* ---- expressions ----------------------------------------------------------
 */
/* The C types an expression computes in. */
enum expr_ctype { EXPR_INT, EXPR_UINT, EXPR_LONG, EXPR_ULONG };

enum expr_kind {
	EXPR_NUM,    /* constant */
	EXPR_PATH,   /* a field path, bound */
	EXPR_UNARY,  /* op a */
	EXPR_BINARY, /* a op b */
	EXPR_COND,   /* a ? b : c */
	/* unbound forms, only during parsing */
	EXPR_IDENT,
	EXPR_MEMBER,
	EXPR_INDEX,
};

struct expr_step {
	const struct layout_type *type;	  /* the type after this step */
	const struct layout_field *field; /* field step; NULL for index */
	uint64_t offset;		  /* field step: bytes added */
	const struct expr *index;	  /* index step */
};

struct expr {
	enum expr_kind kind;
	enum expr_ctype ctype;
	int op;
	long long num;
	const struct expr *a, *b, *c;
	const char *name;	 /* IDENT, MEMBER */
	struct expr_step *steps; /* PATH */
	size_t nsteps;
	const char *text;
	struct layout_loc loc;
};

#endif
