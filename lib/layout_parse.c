/*
 * layout_parse.c - tokens to laid-out types.
 *
 * A recursive-descent parser for the C declarations people paste from
 * their headers plus shmscope's annotations.  Each struct is laid out as
 * soon as its closing brace (and the annotations after it) are read, with
 * gcc's rules for the ABI; its expressions are then bound to its fields.
 * Errors are collected ("file:line:col: message"), the parser skips to the
 * next `;` or `}` and goes on, up to LAYOUT_MAX_ERRORS.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "expr.h"
#include "layout_impl.h"

struct pfile {
	const char *name; /* in the arena */
	const char *real; /* realpath, malloc'd (NULL for strings) */
};

struct lexerr {
	int line, col;
	char msg[96];
};

struct parser {
	struct layout_tok eof; /* what cur() returns past the end */
	struct lexerr lexerr[LAYOUT_MAX_ERRORS];
	size_t nlexerr;
	struct layout *l;
	struct errbuf *e;
	size_t elen;
	int nerr;
	bool stop;  /* too many errors */
	bool quiet; /* parsing a #define: errors only mark failure */
	bool failed;
	unsigned flags;
	struct layout_tok *toks;
	long pos, ntoks, limit;
	const char *file;
	const char *text; /* of the current file */
	int depth;
	struct pfile inc[LAYOUT_MAX_INCLUDE_DEPTH + 1];
	int ninc;
	char **done; /* realpaths already included */
	size_t ndone;
	struct layout_type *void_type;
	int anon;
};

/* Parser-side facts about a member while its struct is being read. */
struct pfield {
	struct layout_field f;
	const struct layout_tok *tok; /* name, or type for unnamed */
	unsigned attr_align;	      /* __attribute__((aligned(n))) */
	uint64_t given_offset;	      /* @offset(n) */
	bool is_bitfield;
	bool is_member; /* false: unnamed bitfield, only padding */
	struct expr *expect;
	struct expr *ring_head, *ring_tail;
	bool ring_wrap;
};

struct fvec {
	struct pfield *v;
	size_t n, cap;
};

/* Annotations and attributes read around a declaration. */
struct annots {
	unsigned flags;
	unsigned attr_align;
	bool packed;
	bool has_offset;
	uint64_t offset;
	struct expr *expect;
	struct expr *ring_head, *ring_tail;
	bool ring_wrap, has_ring;
	const char *segment;
	struct layout_check *checks;
	size_t nchecks;
	const struct layout_tok *where; /* first annotation, for messages */
};

/* ---- tokens and errors --------------------------------------------------- */
/* An end: at the real end, or at the end of a directive line. */
static const struct layout_tok *cur_end(struct parser *p)
{
	p->eof.kind = LT_EOF;
	p->eof.line = p->pos < p->ntoks ? p->toks[p->pos].line
					: p->toks[p->ntoks - 1].line;
	p->eof.col = p->pos < p->ntoks ? p->toks[p->pos].col
				       : p->toks[p->ntoks - 1].col;
	p->eof.s = "";
	return &p->eof;
}

static const struct layout_tok *cur(struct parser *p)
{
	if (p->pos < p->limit)
		return &p->toks[p->pos];
	return cur_end(p);
}

static const struct layout_tok *peek(struct parser *p, int k)
{
	if (p->pos + k < p->limit)
		return &p->toks[p->pos + k];
	return cur_end(p);
}

static void next(struct parser *p)
{
	if (p->pos < p->limit)
		p->pos++;
}

static bool is_op(const struct layout_tok *t, int op)
{
	return t->kind == LT_PUNCT && t->op == op;
}

static bool is_word(const struct layout_tok *t, const char *w)
{
	return t->kind == LT_IDENT && strlen(w) == t->len &&
	       !memcmp(t->s, w, t->len);
}

static bool accept(struct parser *p, int op)
{
	if (!is_op(cur(p), op))
		return false;
	next(p);
	return true;
}

/* The token as text for messages, cut at 40 bytes. */
static void tok_text(const struct layout_tok *t, char *buf, size_t len)
{
	unsigned n = t->len > 40 ? 40 : t->len;

	if (t->kind == LT_EOF)
		snprintf(buf, len, "end of input");
	else
		snprintf(buf, len, "'%.*s%s'", (int)n, t->s,
			 t->len > 40 ? "..." : "");
}

static void emit_msg(struct parser *p, int line, int col, const char *msg);

/* Lexical errors wait here so that messages come in file order. */
static void flush_lexerr(struct parser *p, int line, int col)
{
	size_t k = 0;

	for (size_t i = 0; i < p->nlexerr; i++) {
		struct lexerr *x = &p->lexerr[i];

		if (x->line < line || (x->line == line && x->col <= col))
			emit_msg(p, x->line, x->col, x->msg);
		else
			p->lexerr[k++] = *x;
	}
	p->nlexerr = k;
}

static void perr_msg(struct parser *p, int line, int col, const char *msg)
{
	if (!p->quiet && line > 0)
		flush_lexerr(p, line, col);
	emit_msg(p, line, col, msg);
}

static void emit_msg(struct parser *p, int line, int col, const char *msg)
{
	if (p->quiet) {
		p->failed = true;
		return;
	}
	if (p->stop)
		return;
	if (p->e && p->elen < sizeof(p->e->msg) - 1) {
		size_t room = sizeof(p->e->msg) - p->elen;
		const char *sep = p->elen ? "\n" : "";
		int n = line > 0 ? snprintf(p->e->msg + p->elen, room,
					    "%s%s:%d:%d: %s", sep, p->file,
					    line, col, msg)
				 : snprintf(p->e->msg + p->elen, room,
					    "%s%s: %s", sep, p->file, msg);
		if (n > 0)
			p->elen += (size_t)n;
		if (p->elen >= sizeof(p->e->msg))
			p->elen = sizeof(p->e->msg) - 1;
	}
	if (++p->nerr >= LAYOUT_MAX_ERRORS)
		p->stop = true;
}

static void perr(struct parser *p, const struct layout_tok *t, const char *fmt,
		 ...) __attribute__((format(printf, 3, 4)));
static void perr(struct parser *p, const struct layout_tok *t, const char *fmt,
		 ...)
{
	va_list ap;
	char msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	perr_msg(p, t ? t->line : 0, t ? t->col : 0, msg);
}

/* "expected X before 'tok'" */
static void expected(struct parser *p, const char *what)
{
	char tt[64];

	tok_text(cur(p), tt, sizeof(tt));
	perr(p, cur(p), "expected %s before %s", what, tt);
}

static bool expect_op(struct parser *p, int op, const char *what)
{
	if (accept(p, op))
		return true;
	expected(p, what);
	return false;
}

static void lex_report(void *arg, int line, int col, const char *msg)
{
	struct parser *p = arg;

	if (p->nlexerr == sizeof(p->lexerr) / sizeof(p->lexerr[0])) {
		flush_lexerr(p, INT_MAX, INT_MAX);
		return;
	}
	p->lexerr[p->nlexerr].line = line;
	p->lexerr[p->nlexerr].col = col;
	snprintf(p->lexerr[p->nlexerr].msg, sizeof(p->lexerr[0].msg), "%s",
		 msg);
	p->nlexerr++;
}

/* Skip to just after the next `;` at this nesting level, or to just before
 * a `}` that closes the current level. */
static void recover(struct parser *p)
{
	int depth = 0;

	for (;;) {
		const struct layout_tok *t = cur(p);

		if (t->kind == LT_EOF)
			return;
		if (is_op(t, '{') || is_op(t, '(') || is_op(t, '['))
			depth++;
		if (is_op(t, ')') || is_op(t, ']'))
			depth--;
		if (is_op(t, '}')) {
			if (depth <= 0)
				return;
			depth--;
		}
		next(p);
		if (is_op(t, ';') && depth <= 0)
			return;
	}
}

static struct layout_loc loc_of(struct parser *p, const struct layout_tok *t)
{
	struct layout_loc loc = {p->file, t->line, t->col};
	return loc;
}

static char *tok_dup(struct parser *p, const struct layout_tok *t)
{
	return layout_arena_strndup(&p->l->arena, t->s, t->len);
}

static void *zalloc(struct parser *p, size_t n)
{
	void *m = layout_arena_alloc(&p->l->arena, n);

	if (!m && !p->stop) {
		perr(p, cur(p), "out of memory");
		p->stop = true;
	}
	return m;
}

/* ---- types --------------------------------------------------------------- */
static struct layout_type *new_type(struct parser *p, enum layout_kind kind,
				    const char *name)
{
	struct layout_type *t = zalloc(p, sizeof(*t));

	if (!t)
		return NULL;
	t->kind = kind;
	t->name = name;
	t->complete = true;
	t->loc.file = p->file;
	return t;
}

static struct layout_type *builtin(struct parser *p, const char *name,
				   enum layout_kind kind, enum abi_ctype ct,
				   bool is_signed)
{
	struct layout_sym *s = layout_sym_find(p->l, name);
	struct abi_size sz = abi_ctype_size(p->l->abi, ct);
	struct layout_type *t;

	if (s && s->kind == LAYOUT_SYM_TYPEDEF)
		return s->type;
	t = new_type(p, kind,
		     layout_arena_strndup(&p->l->arena, name, strlen(name)));
	if (!t || !t->name)
		return NULL;
	t->size = sz.size;
	t->align = sz.align;
	t->is_signed = is_signed;
	s = layout_sym_add(p->l, name, LAYOUT_SYM_TYPEDEF);
	if (s)
		s->type = t;
	return t;
}

static const struct {
	const char *name;
	enum sync_kind kind;
} sync_names[] = {
	{"pthread_mutex_t", SYNC_MUTEX},
	{"sem_t", SYNC_SEM},
	{"pthread_rwlock_t", SYNC_RWLOCK},
	{"pthread_cond_t", SYNC_COND},
	{"pthread_spinlock_t", SYNC_SPIN},
	{"pthread_barrier_t", SYNC_BARRIER},
	{"futex", SYNC_FUTEX},
};

/* A typedef name: the user's, a sync type, or a <stdint.h> one. */
static struct layout_type *typedef_name(struct parser *p,
					const struct layout_tok *t)
{
	char name[128];
	struct layout_sym *s;
	enum abi_ctype ct;
	bool sign;

	if (t->kind != LT_IDENT || t->len >= sizeof(name))
		return NULL;
	memcpy(name, t->s, t->len);
	name[t->len] = '\0';
	s = layout_sym_find(p->l, name);
	if (s)
		return s->kind == LAYOUT_SYM_TYPEDEF ? s->type : NULL;
	for (size_t i = 0; i < sizeof(sync_names) / sizeof(sync_names[0]);
	     i++) {
		struct abi_size sz;
		struct layout_type *ty;

		if (strcmp(name, sync_names[i].name))
			continue;
		sz = abi_sync_size(p->l->abi, sync_names[i].kind);
		ty = new_type(p, LAYOUT_SYNC, tok_dup(p, t));
		if (!ty)
			return NULL;
		ty->size = sz.size;
		ty->align = sz.align;
		ty->sync = sync_names[i].kind;
		s = layout_sym_add(p->l, name, LAYOUT_SYM_TYPEDEF);
		if (s)
			s->type = ty;
		return ty;
	}
	if (abi_typedef(p->l->abi, name, &ct, &sign))
		return builtin(p, name,
			       ct == ABI_C_BOOL ? LAYOUT_BOOL : LAYOUT_INT, ct,
			       sign);
	if (!strcmp(name, "bool"))
		return builtin(p, "bool", LAYOUT_BOOL, ABI_C_BOOL, false);
	return NULL;
}

static bool is_qualifier(const struct layout_tok *t)
{
	static const char *const q[] = {
		"const",	 "volatile", "restrict",      "__restrict",
		"__restrict__",	 "__const",  "__volatile__",  "__volatile",
		"__extension__", "register", "static",	      "extern",
		"inline",	 "__inline", "__inline__",    "auto",
		"_Noreturn",	 "__thread", "_Thread_local",
	};
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++)
		if (is_word(t, q[i]))
			return true;
	return false;
}

static const char *const int_words[] = {
	"void",	    "char",  "short", "int",	"long",	      "signed",
	"unsigned", "_Bool", "float", "double", "__signed__", "__signed",
};
enum {
	W_VOID,
	W_CHAR,
	W_SHORT,
	W_INT,
	W_LONG,
	W_SIGNED,
	W_UNSIGNED,
	W_BOOL,
	W_FLOAT,
	W_DOUBLE,
	W_SIGNED2,
	W_SIGNED3,
	W_COUNT
};

static int int_word(const struct layout_tok *t)
{
	for (int i = 0; i < W_COUNT; i++)
		if (is_word(t, int_words[i]))
			return i == W_SIGNED2 || i == W_SIGNED3 ? W_SIGNED : i;
	return -1;
}

static struct layout_type *int_type(struct parser *p, const int *n,
				    const struct layout_tok *at)
{
	bool sign = n[W_SIGNED] > 0, uns = n[W_UNSIGNED] > 0;
	int others = n[W_VOID] + n[W_BOOL] + n[W_FLOAT] + n[W_DOUBLE];

	if ((sign && uns) || n[W_SHORT] + (n[W_LONG] > 0) > 1 ||
	    n[W_LONG] > 2 || n[W_CHAR] > 1 || n[W_INT] > 1 ||
	    (others && (n[W_CHAR] + n[W_SHORT] + n[W_INT] + sign + uns ||
			others > 1 + (n[W_DOUBLE] && n[W_LONG]))) ||
	    (n[W_CHAR] && (n[W_SHORT] || n[W_LONG] || n[W_INT]))) {
		perr(p, at, "invalid combination of type specifiers");
		return NULL;
	}
	if (n[W_VOID])
		return p->void_type;
	if (n[W_BOOL])
		return builtin(p, "_Bool", LAYOUT_BOOL, ABI_C_BOOL, false);
	if (n[W_FLOAT])
		return builtin(p, "float", LAYOUT_FLOAT, ABI_C_FLOAT, true);
	if (n[W_DOUBLE]) {
		if (n[W_LONG]) {
			perr(p, at, "long double is not supported");
			return NULL;
		}
		return builtin(p, "double", LAYOUT_FLOAT, ABI_C_DOUBLE, true);
	}
	if (n[W_CHAR]) {
		if (uns)
			return builtin(p, "unsigned char", LAYOUT_INT,
				       ABI_C_CHAR, false);
		if (sign)
			return builtin(p, "signed char", LAYOUT_INT, ABI_C_CHAR,
				       true);
		return builtin(p, "char", LAYOUT_INT, ABI_C_CHAR,
			       abi_char_signed(p->l->abi));
	}
	if (n[W_SHORT])
		return builtin(p, uns ? "unsigned short" : "short", LAYOUT_INT,
			       ABI_C_SHORT, !uns);
	if (n[W_LONG] == 2)
		return builtin(p, uns ? "unsigned long long" : "long long",
			       LAYOUT_INT, ABI_C_LLONG, !uns);
	if (n[W_LONG] == 1)
		return builtin(p, uns ? "unsigned long" : "long", LAYOUT_INT,
			       ABI_C_LONG, !uns);
	return builtin(p, uns ? "unsigned int" : "int", LAYOUT_INT, ABI_C_INT,
		       !uns);
}

/* ---- expressions --------------------------------------------------------- */
static struct expr *parse_expr(struct parser *p);
static struct layout_type *parse_type_name(struct parser *p);
static struct layout_type *parse_specifiers(struct parser *p, struct annots *an,
					    bool *anon_def);

static struct expr *new_expr(struct parser *p, enum expr_kind kind,
			     const struct layout_tok *t)
{
	struct expr *x = zalloc(p, sizeof(*x));

	if (x) {
		x->kind = kind;
		x->loc = loc_of(p, t);
	}
	return x;
}

static enum expr_ctype num_ctype(unsigned long long v, bool decimal, bool uns,
				 bool lng)
{
	if (uns && !lng && v <= UINT_MAX)
		return EXPR_UINT;
	if (uns)
		return EXPR_ULONG;
	if (!lng && v <= INT_MAX)
		return EXPR_INT;
	if (!lng && !decimal && v <= UINT_MAX)
		return EXPR_UINT;
	if (v <= LLONG_MAX)
		return EXPR_LONG;
	return EXPR_ULONG;
}

static struct expr *num_expr(struct parser *p, const struct layout_tok *t,
			     unsigned long long v, enum expr_ctype ct)
{
	struct expr *x = new_expr(p, EXPR_NUM, t);

	if (x) {
		x->num = (long long)v;
		x->ctype = ct;
	}
	return x;
}

static bool starts_type(struct parser *p, const struct layout_tok *t)
{
	return int_word(t) >= 0 || is_word(t, "struct") ||
	       is_word(t, "union") || is_word(t, "enum") ||
	       is_word(t, "_Atomic") || is_word(t, "const") ||
	       is_word(t, "volatile") || typedef_name(p, t);
}

/* offsetof(TYPE, a.b[3].c) */
static struct expr *parse_offsetof(struct parser *p,
				   const struct layout_tok *start)
{
	const struct layout_type *t;
	uint64_t off = 0;

	next(p);
	if (!expect_op(p, '(', "'('"))
		return NULL;
	t = parse_type_name(p);
	if (!t || !expect_op(p, ',', "','"))
		return NULL;
	for (int i = 0;; i++) {
		const struct layout_tok *n = cur(p);

		if (i > 0 && accept(p, '[')) {
			struct expr *ix = parse_expr(p);
			long long v;

			if (!ix || !expect_op(p, ']', "']'"))
				return NULL;
			if (ix->kind != EXPR_NUM || t->kind != LAYOUT_ARRAY) {
				perr(p, n, "bad index in offsetof");
				return NULL;
			}
			v = ix->num;
			if (v < 0 || (uint64_t)v >= t->count) {
				perr(p, n,
				     "index %lld out of range in offsetof", v);
				return NULL;
			}
			off += (uint64_t)v * t->elem->size;
			t = t->elem;
			continue;
		}
		if (i > 0 && !accept(p, '.'))
			break;
		n = cur(p);
		if (n->kind != LT_IDENT) {
			expected(p, "a field name");
			return NULL;
		}
		char name[128];
		uint64_t foff;
		const struct layout_field *f = NULL;

		snprintf(name, sizeof(name), "%.*s", (int)n->len, n->s);
		if (n->len < sizeof(name))
			f = layout_field_find(t, name, &foff);
		if (!f) {
			perr(p, n, "'%s' has no field '%s'", t->name, name);
			return NULL;
		}
		off += foff;
		t = f->type;
		next(p);
	}
	if (!expect_op(p, ')', "')'"))
		return NULL;
	return num_expr(p, start, off, EXPR_ULONG);
}

static struct expr *parse_primary(struct parser *p)
{
	const struct layout_tok *t = cur(p);
	struct expr *x;
	char tt[64];

	if (t->kind == LT_NUM) {
		bool dec = !(t->s[0] == '0' && t->len > 1) && t->s[0] != '\'';
		next(p);
		return num_expr(p, t, t->num,
				t->s[0] == '\'' ? EXPR_INT
						: num_ctype(t->num, dec,
							    t->num_unsigned,
							    t->num_long));
	}
	if (t->kind == LT_BADNUM) {
		tok_text(t, tt, sizeof(tt));
		perr(p, t, "bad integer constant %s", tt);
		next(p);
		return NULL;
	}
	if (is_word(t, "offsetof") || is_word(t, "__builtin_offsetof"))
		return parse_offsetof(p, t);
	if (t->kind == LT_IDENT) {
		x = new_expr(p, EXPR_IDENT, t);
		if (x)
			x->name = tok_dup(p, t);
		next(p);
		return x;
	}
	if (accept(p, '(')) {
		x = parse_expr(p);
		if (x && !expect_op(p, ')', "')'"))
			return NULL;
		return x;
	}
	tok_text(t, tt, sizeof(tt));
	perr(p, t, "expected an expression before %s", tt);
	return NULL;
}

static struct expr *parse_postfix(struct parser *p)
{
	struct expr *x = parse_primary(p);

	while (x) {
		const struct layout_tok *t = cur(p);
		struct expr *y;

		if (accept(p, '.')) {
			if (cur(p)->kind != LT_IDENT) {
				expected(p, "a field name");
				return NULL;
			}
			y = new_expr(p, EXPR_MEMBER, cur(p));
			if (!y)
				return NULL;
			y->name = tok_dup(p, cur(p));
			y->a = x;
			next(p);
		} else if (accept(p, '[')) {
			y = new_expr(p, EXPR_INDEX, t);
			if (!y)
				return NULL;
			y->a = x;
			y->b = parse_expr(p);
			if (!y->b || !expect_op(p, ']', "']'"))
				return NULL;
		} else {
			break;
		}
		x = y;
	}
	return x;
}

static struct expr *parse_unary(struct parser *p)
{
	const struct layout_tok *t = cur(p);
	struct expr *x = NULL;

	if (++p->depth > LAYOUT_MAX_DEPTH) {
		perr(p, t, "expression nested too deeply");
		p->depth--;
		return NULL;
	}
	if (is_op(t, '-') || is_op(t, '+') || is_op(t, '~') || is_op(t, '!')) {
		next(p);
		x = new_expr(p, EXPR_UNARY, t);
		if (x) {
			x->op = t->op;
			x->a = parse_unary(p);
			if (!x->a)
				x = NULL;
		}
	} else if (is_word(t, "sizeof")) {
		next(p);
		if (is_op(cur(p), '(') && starts_type(p, peek(p, 1))) {
			const struct layout_type *ty;

			next(p);
			ty = parse_type_name(p);
			if (ty && expect_op(p, ')', "')'"))
				x = num_expr(p, t, ty->size, EXPR_ULONG);
		} else {
			x = new_expr(p, EXPR_UNARY, t);
			if (x) {
				x->op = 's';
				x->a = parse_unary(p);
				if (!x->a)
					x = NULL;
			}
		}
	} else if (is_op(t, '(') && starts_type(p, peek(p, 1))) {
		const struct layout_type *ty;

		next(p);
		ty = parse_type_name(p);
		if (ty && expect_op(p, ')', "')'")) {
			if (!layout_is_integer(ty)) {
				perr(p, t, "cast to '%s': not an integer type",
				     ty->name);
			} else {
				x = new_expr(p, EXPR_UNARY, t);
				if (x) {
					x->op = 'C';
					x->num = (long long)ty->size;
					x->ctype =
						ty->size > 4
							? (ty->is_signed
								   ? EXPR_LONG
								   : EXPR_ULONG)
							: (ty->is_signed ||
									   ty->size <
										   4
								   ? EXPR_INT
								   : EXPR_UINT);
					/* remember the cast's own width */
					x->name = ty->is_signed ? "s" : "u";
					x->a = parse_unary(p);
					if (!x->a)
						x = NULL;
				}
			}
		}
	} else {
		x = parse_postfix(p);
	}
	p->depth--;
	return x;
}

static int binop_prec(const struct layout_tok *t)
{
	if (t->kind != LT_PUNCT)
		return -1;
	switch (t->op) {
	case LP_OR:
		return 1;
	case LP_AND:
		return 2;
	case '|':
		return 3;
	case '^':
		return 4;
	case '&':
		return 5;
	case LP_EQ:
	case LP_NE:
		return 6;
	case '<':
	case '>':
	case LP_LE:
	case LP_GE:
		return 7;
	case LP_SHL:
	case LP_SHR:
		return 8;
	case '+':
	case '-':
		return 9;
	case '*':
	case '/':
	case '%':
		return 10;
	}
	return -1;
}

static struct expr *parse_binary(struct parser *p, int minprec)
{
	struct expr *x = parse_unary(p);

	while (x) {
		const struct layout_tok *t = cur(p);
		int prec = binop_prec(t);
		struct expr *y;

		if (prec < minprec || prec < 0)
			break;
		next(p);
		y = new_expr(p, EXPR_BINARY, t);
		if (!y)
			return NULL;
		y->op = t->op;
		y->a = x;
		y->b = parse_binary(p, prec + 1);
		if (!y->b)
			return NULL;
		x = y;
	}
	return x;
}

static struct expr *parse_expr(struct parser *p)
{
	const struct layout_tok *start = cur(p);
	struct expr *c, *x;

	if (++p->depth > LAYOUT_MAX_DEPTH) {
		perr(p, start, "expression nested too deeply");
		p->depth--;
		return NULL;
	}
	c = parse_binary(p, 1);
	if (c && is_op(cur(p), '?')) {
		const struct layout_tok *q = cur(p);

		next(p);
		x = new_expr(p, EXPR_COND, q);
		if (x) {
			x->a = c;
			x->b = parse_expr(p);
			if (x->b && expect_op(p, ':', "':'"))
				x->c = parse_expr(p);
			if (!x->b || !x->c)
				x = NULL;
		}
		c = x;
	}
	p->depth--;
	if (c && !c->text) {
		const struct layout_tok *end = &p->toks[p->pos - 1];
		if (end >= start)
			c->text = layout_arena_strndup(
				&p->l->arena, start->s,
				(size_t)(end->s + end->len - start->s));
	}
	return c;
}

/* ---- binding expressions to a struct's fields ---------------------------- */
static enum expr_ctype common_ctype(enum expr_ctype a, enum expr_ctype b)
{
	bool wa = a >= EXPR_LONG, wb = b >= EXPR_LONG;

	if (wa == wb)
		return a > b ? a : b; /* same width: unsigned wins */
	return wa ? a : b;	      /* the 64-bit one */
}

static enum expr_ctype leaf_ctype(const struct layout_type *t,
				  const struct layout_field *f)
{
	if (f && f->bit_width) {
		if (f->bit_width < 32 || (f->bit_width == 32 && t->is_signed))
			return EXPR_INT;
		if (f->bit_width == 32)
			return EXPR_UINT;
	}
	if (t->kind == LAYOUT_SYNC || t->kind == LAYOUT_BOOL)
		return EXPR_INT;
	if (t->kind == LAYOUT_PTR)
		return t->size > 4 ? EXPR_ULONG : EXPR_UINT;
	if (t->size < 4)
		return EXPR_INT;
	if (t->size == 4)
		return t->is_signed ? EXPR_INT : EXPR_UINT;
	return t->is_signed ? EXPR_LONG : EXPR_ULONG;
}

struct bindctx {
	const struct layout_type *scope; /* NULL: constants only */
	const char *what;		 /* "array length", "@check", ... */
};

static struct expr *bind(struct parser *p, struct expr *x,
			 const struct bindctx *b, bool value);

static struct expr *bind_const_sym(struct parser *p, struct expr *x)
{
	struct layout_sym *s = layout_sym_find(p->l, x->name);

	if (!s || s->kind != LAYOUT_SYM_CONST)
		return NULL;
	x->kind = EXPR_NUM;
	x->num = s->value;
	x->ctype = s->is_unsigned ? ((unsigned long long)s->value <= UINT_MAX
					     ? EXPR_UINT
					     : EXPR_ULONG)
				  : (s->value >= INT_MIN && s->value <= INT_MAX
					     ? EXPR_INT
					     : EXPR_LONG);
	return x;
}

/* A field path rooted in the scope: IDENT, MEMBER, INDEX chains. */
static struct expr *bind_path(struct parser *p, struct expr *x,
			      const struct bindctx *b)
{
	const struct expr *chain[LAYOUT_MAX_DEPTH + 1];
	int n = 0;
	struct expr *e = x;
	const struct layout_type *t = b->scope;
	struct expr *path;

	while (e->kind != EXPR_IDENT) {
		if (n >= LAYOUT_MAX_DEPTH) {
			perr(p, cur(p), "field path too long");
			return NULL;
		}
		chain[n++] = e;
		e = (struct expr *)e->a;
		if (!e || (e->kind != EXPR_IDENT && e->kind != EXPR_MEMBER &&
			   e->kind != EXPR_INDEX)) {
			struct layout_tok at = {.line = x->loc.line,
						.col = x->loc.col};
			perr(p, &at,
			     "%s: only fields can be indexed or have members",
			     b->what);
			return NULL;
		}
	}
	chain[n++] = e;
	path = new_expr(p, EXPR_PATH, cur(p));
	if (!path)
		return NULL;
	path->loc = x->loc;
	path->text = x->text;
	path->steps = zalloc(p, (size_t)n * sizeof(*path->steps));
	if (!path->steps)
		return NULL;
	for (int i = n - 1; i >= 0; i--) {
		const struct expr *c = chain[i];
		struct expr_step *st = &path->steps[path->nsteps];
		struct layout_tok at = {.line = c->loc.line, .col = c->loc.col};

		if (c->kind == EXPR_INDEX) {
			if (t->kind != LAYOUT_ARRAY) {
				perr(p, &at, "%s: '%s' is not an array",
				     b->what, t->name);
				return NULL;
			}
			st->index = bind(p, (struct expr *)c->b, b, true);
			if (!st->index)
				return NULL;
			t = t->elem;
		} else {
			uint64_t off;
			const struct layout_field *f =
				layout_field_find(t, c->name, &off);

			if (!f) {
				if (c->kind == EXPR_IDENT)
					perr(p, &at,
					     "%s: unknown field or constant "
					     "'%s'",
					     b->what, c->name);
				else
					perr(p, &at,
					     "%s: '%s' has no field '%s'",
					     b->what, t->name, c->name);
				return NULL;
			}
			st->field = f;
			st->offset = off;
			t = f->type;
		}
		st->type = t;
		path->nsteps++;
	}
	return path;
}

static struct expr *bind(struct parser *p, struct expr *x,
			 const struct bindctx *b, bool value)
{
	struct layout_tok at;

	if (!x)
		return NULL;
	at.line = x->loc.line;
	at.col = x->loc.col;
	switch (x->kind) {
	case EXPR_NUM:
	case EXPR_PATH:
		return x;
	case EXPR_IDENT:
		if (b->scope) {
			uint64_t off;
			if (layout_field_find(b->scope, x->name, &off))
				break;
		}
		if (bind_const_sym(p, x))
			return x;
		if (!b->scope) {
			perr(p, &at, "%s is not an integer constant: '%s'",
			     b->what, x->name);
			return NULL;
		}
		break;
	case EXPR_MEMBER:
	case EXPR_INDEX:
		if (!b->scope) {
			perr(p, &at, "%s is not an integer constant: '%s'",
			     b->what, x->text ? x->text : "?");
			return NULL;
		}
		break;
	case EXPR_UNARY:
		if (x->op == 's') { /* sizeof field-path */
			struct expr *a;

			if (!b->scope || (x->a->kind != EXPR_IDENT &&
					  x->a->kind != EXPR_MEMBER &&
					  x->a->kind != EXPR_INDEX)) {
				perr(p, &at,
				     "%s: sizeof needs a type or a field",
				     b->what);
				return NULL;
			}
			a = bind_path(p, (struct expr *)x->a, b);
			if (!a)
				return NULL;
			x->kind = EXPR_NUM;
			x->num = (long long)a->steps[a->nsteps - 1].type->size;
			x->ctype = EXPR_ULONG;
			return x;
		}
		x->a = bind(p, (struct expr *)x->a, b, true);
		if (!x->a)
			return NULL;
		if (x->op == '!')
			x->ctype = EXPR_INT;
		else if (x->op != 'C')
			x->ctype = x->a->ctype;
		return x;
	case EXPR_BINARY:
		x->a = bind(p, (struct expr *)x->a, b, true);
		x->b = bind(p, (struct expr *)x->b, b, true);
		if (!x->a || !x->b)
			return NULL;
		switch (x->op) {
		case LP_SHL:
		case LP_SHR:
			x->ctype = x->a->ctype;
			break;
		case LP_AND:
		case LP_OR:
		case LP_EQ:
		case LP_NE:
		case '<':
		case '>':
		case LP_LE:
		case LP_GE:
			x->ctype = EXPR_INT;
			break;
		default:
			x->ctype = common_ctype(x->a->ctype, x->b->ctype);
		}
		return x;
	case EXPR_COND:
		x->a = bind(p, (struct expr *)x->a, b, true);
		x->b = bind(p, (struct expr *)x->b, b, true);
		x->c = bind(p, (struct expr *)x->c, b, true);
		if (!x->a || !x->b || !x->c)
			return NULL;
		x->ctype = common_ctype(x->b->ctype, x->c->ctype);
		return x;
	}
	/* a field path */
	struct expr *path = bind_path(p, x, b);
	if (!path)
		return NULL;
	const struct expr_step *last = &path->steps[path->nsteps - 1];
	if (value && !layout_is_integer(last->type) &&
	    last->type->kind != LAYOUT_SYNC &&
	    last->type->kind != LAYOUT_FLOAT) {
		perr(p, &at, "%s: '%s' is a %s, not a number", b->what,
		     path->text ? path->text : x->name, last->type->name);
		return NULL;
	}
	path->ctype = leaf_ctype(last->type, last->field);
	if (last->type->kind == LAYOUT_FLOAT)
		path->ctype = EXPR_LONG;
	return path;
}

/* Parse and evaluate an integer constant expression; false on error. */
static bool const_expr(struct parser *p, const char *what, long long *v,
		       bool *is_unsigned)
{
	struct bindctx b = {NULL, what};
	struct expr *x = parse_expr(p);
	struct expr_env env = {0};
	struct errbuf e;

	x = bind(p, x, &b, true);
	if (!x)
		return false;
	if (expr_eval(x, &env, v, &e) < 0) {
		struct layout_tok at = {.line = x->loc.line, .col = x->loc.col};
		perr(p, &at, "%s: %s", what, e.msg);
		return false;
	}
	if (is_unsigned)
		*is_unsigned = x->ctype == EXPR_UINT || x->ctype == EXPR_ULONG;
	return true;
}

/* ---- annotations and attributes ------------------------------------------ */
static bool annot_arg_open(struct parser *p, const char *name)
{
	if (accept(p, '('))
		return true;
	expected(p, "'(' after the annotation");
	(void)name;
	return false;
}

static bool parse_ring(struct parser *p, struct annots *an)
{
	if (!annot_arg_open(p, "ring"))
		return false;
	do {
		const struct layout_tok *k = cur(p);
		char tt[64];

		if (k->kind != LT_IDENT || !is_op(peek(p, 1), '=')) {
			tok_text(k, tt, sizeof(tt));
			perr(p, k,
			     "bad annotation argument %s: @ring takes head=, "
			     "tail= and mode=",
			     tt);
			return false;
		}
		next(p);
		next(p);
		if (is_word(k, "head")) {
			an->ring_head = parse_expr(p);
			if (!an->ring_head)
				return false;
		} else if (is_word(k, "tail")) {
			an->ring_tail = parse_expr(p);
			if (!an->ring_tail)
				return false;
		} else if (is_word(k, "mode")) {
			const struct layout_tok *m = cur(p);

			if (is_word(m, "wrap")) {
				an->ring_wrap = true;
			} else if (!is_word(m, "monotonic")) {
				tok_text(m, tt, sizeof(tt));
				perr(p, m,
				     "bad annotation argument %s: mode is "
				     "monotonic or wrap",
				     tt);
				return false;
			}
			next(p);
		} else {
			tok_text(k, tt, sizeof(tt));
			perr(p, k,
			     "bad annotation argument %s: @ring takes head=, "
			     "tail= and mode=",
			     tt);
			return false;
		}
	} while (accept(p, ','));
	if (!expect_op(p, ')', "')'"))
		return false;
	if (!an->ring_head || !an->ring_tail) {
		perr(p, an->where, "@ring needs both head= and tail=");
		return false;
	}
	an->has_ring = true;
	return true;
}

/* A string token's contents, unescaped enough for segment names. */
static char *str_value(struct parser *p, const struct layout_tok *t)
{
	char *s = zalloc(p, t->len);
	size_t n = 0;

	if (!s)
		return NULL;
	for (unsigned i = 1; i + 1 < t->len; i++) {
		if (t->s[i] == '\\' && i + 2 < t->len)
			i++;
		s[n++] = t->s[i];
	}
	s[n] = '\0';
	return s;
}

static bool parse_attribute(struct parser *p, struct annots *an)
{
	int depth;

	next(p); /* __attribute__ */
	if (!expect_op(p, '(', "'('") || !expect_op(p, '(', "'('"))
		return false;
	for (depth = 2; depth > 0;) {
		const struct layout_tok *t = cur(p);

		if (t->kind == LT_EOF) {
			expected(p, "')'");
			return false;
		}
		if (depth == 2 &&
		    (is_word(t, "packed") || is_word(t, "__packed__"))) {
			an->packed = true;
		} else if (depth == 2 && (is_word(t, "aligned") ||
					  is_word(t, "__aligned__"))) {
			long long v = 16;

			next(p);
			if (accept(p, '(')) {
				if (!const_expr(p, "alignment", &v, NULL) ||
				    !expect_op(p, ')', "')'"))
					return false;
			}
			if (v <= 0 || (v & (v - 1)) || v > (1 << 28)) {
				perr(p, t,
				     "alignment %lld is not a power of two", v);
				return false;
			}
			if ((unsigned)v > an->attr_align)
				an->attr_align = (unsigned)v;
			continue;
		}
		if (is_op(t, '('))
			depth++;
		if (is_op(t, ')'))
			depth--;
		next(p);
	}
	return true;
}

/* Annotations (@...) and attributes; ON_FIELD says which are allowed. */
static bool parse_annotations(struct parser *p, struct annots *an,
			      bool on_field)
{
	for (;;) {
		const struct layout_tok *t = cur(p), *n;
		char tt[64];

		if (is_word(t, "__attribute__") || is_word(t, "__attribute")) {
			if (!parse_attribute(p, an))
				return false;
			continue;
		}
		if (is_word(t, "_Alignas") || is_word(t, "alignas")) {
			long long v;

			next(p);
			if (!expect_op(p, '(', "'('") ||
			    !const_expr(p, "alignment", &v, NULL) ||
			    !expect_op(p, ')', "')'"))
				return false;
			if (v <= 0 || (v & (v - 1)) || v > (1 << 28)) {
				perr(p, t,
				     "alignment %lld is not a power of two", v);
				return false;
			}
			if ((unsigned)v > an->attr_align)
				an->attr_align = (unsigned)v;
			continue;
		}
		if (!is_op(t, '@'))
			return true;
		if (!an->where)
			an->where = t;
		next(p);
		n = cur(p);
		if (n->kind != LT_IDENT) {
			tok_text(n, tt, sizeof(tt));
			perr(p, n,
			     "expected an annotation name after '@', not %s",
			     tt);
			return false;
		}
		next(p);
		bool field_only = is_word(n, "hex") || is_word(n, "string") ||
				  is_word(n, "tid") || is_word(n, "pid") ||
				  is_word(n, "expect") || is_word(n, "ring") ||
				  is_word(n, "offset");
		bool struct_only = is_word(n, "segment") || is_word(n, "check");

		if ((field_only && !on_field) || (struct_only && on_field)) {
			perr(p, n, "@%.*s is not allowed on a %s", (int)n->len,
			     n->s, on_field ? "field" : "struct");
			return false;
		}
		if (is_word(n, "hex")) {
			an->flags |= LAYOUT_F_HEX;
		} else if (is_word(n, "string")) {
			an->flags |= LAYOUT_F_STRING;
		} else if (is_word(n, "tid")) {
			an->flags |= LAYOUT_F_TID;
		} else if (is_word(n, "pid")) {
			an->flags |= LAYOUT_F_PID;
		} else if (is_word(n, "packed")) {
			an->packed = true;
			an->flags |= LAYOUT_F_PACKED;
		} else if (is_word(n, "expect")) {
			if (!annot_arg_open(p, "expect"))
				return false;
			an->expect = parse_expr(p);
			if (!an->expect || !expect_op(p, ')', "')'"))
				return false;
		} else if (is_word(n, "offset")) {
			long long v;
			bool uns;

			if (!annot_arg_open(p, "offset"))
				return false;
			const struct layout_tok *a = cur(p);
			if (!const_expr(p, "@offset", &v, &uns))
				return false;
			if ((v < 0 && !uns) ||
			    (unsigned long long)v > LAYOUT_MAX_TYPE_SIZE) {
				tok_text(a, tt, sizeof(tt));
				perr(p, a,
				     "bad annotation argument %s: @offset "
				     "needs an offset from 0 to %llu",
				     tt, LAYOUT_MAX_TYPE_SIZE);
				return false;
			}
			if (!expect_op(p, ')', "')'"))
				return false;
			an->has_offset = true;
			an->offset = (uint64_t)v;
			an->flags |= LAYOUT_F_OFFSET;
		} else if (is_word(n, "ring")) {
			if (!parse_ring(p, an))
				return false;
		} else if (is_word(n, "segment")) {
			const struct layout_tok *a;

			if (!annot_arg_open(p, "segment"))
				return false;
			a = cur(p);
			if (a->kind != LT_STR || a->len < 3) {
				tok_text(a, tt, sizeof(tt));
				perr(p, a,
				     "bad annotation argument %s: @segment "
				     "needs a segment name in quotes",
				     tt);
				return false;
			}
			an->segment = str_value(p, a);
			next(p);
			if (!expect_op(p, ')', "')'"))
				return false;
		} else if (is_word(n, "check")) {
			struct layout_check *c;
			struct expr *x;

			if (!annot_arg_open(p, "check"))
				return false;
			x = parse_expr(p);
			if (!x || !expect_op(p, ')', "')'"))
				return false;
			c = zalloc(p, (an->nchecks + 1) * sizeof(*c));
			if (!c)
				return false;
			if (an->nchecks)
				memcpy(c, an->checks, an->nchecks * sizeof(*c));
			c[an->nchecks].expr = x;
			c[an->nchecks].text = x->text;
			c[an->nchecks].loc = x->loc;
			an->checks = c;
			an->nchecks++;
		} else {
			perr(p, n, "unknown annotation '@%.*s'", (int)n->len,
			     n->s);
			return false;
		}
		if (!field_only && !struct_only && !is_word(n, "packed"))
			continue;
		/* no arguments where none are taken */
		if ((is_word(n, "hex") || is_word(n, "string") ||
		     is_word(n, "tid") || is_word(n, "pid")) &&
		    is_op(cur(p), '(')) {
			perr(p, cur(p),
			     "bad annotation argument '(': @%.*s takes none",
			     (int)n->len, n->s);
			return false;
		}
	}
}

/* ---- declarators --------------------------------------------------------- */
struct decl {
	const struct layout_tok *name;
	struct layout_type *type;
};

static struct layout_type *
pointer_to(struct parser *p, const struct layout_type *base, const char *suffix)
{
	struct abi_size sz = abi_ctype_size(p->l->abi, ABI_C_PTR);
	struct layout_type *t = new_type(
		p, LAYOUT_PTR,
		layout_arena_printf(&p->l->arena, "%s%s%s", base->name,
				    suffix[0] == '*' ? " " : "", suffix));
	if (!t || !t->name)
		return NULL;
	t->size = sz.size;
	t->align = sz.align;
	return t;
}

static bool is_incomplete(const struct parser *p, const struct layout_type *t)
{
	return t == p->void_type || !t->complete;
}

static bool parse_declarator(struct parser *p, struct layout_type *base,
			     struct decl *d, bool abstract)
{
	char stars[LAYOUT_MAX_DEPTH + 1];
	int nstar = 0;
	bool fnptr = false;
	long long dims[LAYOUT_MAX_DEPTH];
	const struct layout_tok *dimtok[LAYOUT_MAX_DEPTH];
	int ndim = 0;
	struct layout_type *t = base;

	d->name = NULL;
	while (accept(p, '*')) {
		if (nstar >= LAYOUT_MAX_DEPTH) {
			perr(p, cur(p), "too many '*'");
			return false;
		}
		stars[nstar++] = '*';
		while (is_qualifier(cur(p)) || is_word(cur(p), "_Atomic"))
			next(p);
	}
	stars[nstar] = '\0';
	if (is_op(cur(p), '(') && is_op(peek(p, 1), '*')) {
		/* (*name)(params) or (*name[N])(params): a pointer */
		next(p);
		while (accept(p, '*'))
			while (is_qualifier(cur(p)))
				next(p);
		if (cur(p)->kind == LT_IDENT) {
			d->name = cur(p);
			next(p);
		}
		fnptr = true;
	} else if (cur(p)->kind == LT_IDENT &&
		   !is_word(cur(p), "__attribute__")) {
		d->name = cur(p);
		next(p);
	}
	if (!d->name && !abstract) {
		expected(p, "a field name");
		return false;
	}
	while (is_op(cur(p), '[')) {
		const struct layout_tok *bt = cur(p);
		long long v;
		bool uns = false;

		next(p);
		if (ndim >= LAYOUT_MAX_DEPTH) {
			perr(p, bt, "too many array dimensions");
			return false;
		}
		if (accept(p, ']')) {
			v = 0; /* flexible array member */
		} else {
			if (!const_expr(p, "array length", &v, &uns))
				return false;
			if (v < 0 && !uns) {
				perr(p, bt, "array length is negative: %lld",
				     v);
				return false;
			}
			if (!expect_op(p, ']', "']'"))
				return false;
		}
		dimtok[ndim] = bt;
		dims[ndim++] = v;
	}
	if (fnptr) {
		int depth = 0;

		if (!expect_op(p, ')', "')'"))
			return false;
		if (is_op(cur(p), '(')) {
			do {
				if (is_op(cur(p), '('))
					depth++;
				else if (is_op(cur(p), ')'))
					depth--;
				else if (cur(p)->kind == LT_EOF)
					break;
				next(p);
			} while (depth > 0);
		}
		t = pointer_to(p, base, " (*)()");
	} else if (nstar) {
		t = pointer_to(p, base, stars);
	}
	if (!t)
		return false;
	for (int i = ndim - 1; i >= 0; i--) {
		struct layout_type *a;
		char suffix[64 * 4] = "";
		size_t sl = 0;

		if (is_incomplete(p, t)) {
			perr(p, dimtok[i], "array of incomplete type '%s'",
			     t->name);
			return false;
		}
		if ((unsigned long long)dims[i] > LAYOUT_MAX_TYPE_SIZE ||
		    (t->size && (unsigned long long)dims[i] >
					LAYOUT_MAX_TYPE_SIZE / t->size)) {
			perr(p, dimtok[i],
			     "array '%.*s' is too large: %llu elements of "
			     "%" PRIu64 " bytes (the limit is %llu bytes)",
			     d->name ? (int)d->name->len : 0,
			     d->name ? d->name->s : "",
			     (unsigned long long)dims[i], t->size,
			     LAYOUT_MAX_TYPE_SIZE);
			return false;
		}
		for (int k = i; k < ndim && sl < sizeof(suffix) - 24; k++)
			sl += (size_t)snprintf(suffix + sl, sizeof(suffix) - sl,
					       "[%lld]", dims[k]);
		const struct layout_type *leaf = t;
		while (leaf->kind == LAYOUT_ARRAY)
			leaf = leaf->elem;
		a = new_type(p, LAYOUT_ARRAY,
			     layout_arena_printf(&p->l->arena, "%s%s",
						 leaf->name, suffix));
		if (!a || !a->name)
			return false;
		a->elem = t;
		a->count = (uint64_t)dims[i];
		a->size = a->count * t->size;
		a->align = t->align;
		t = a;
	}
	d->type = t;
	return true;
}

/* A type name in sizeof/offsetof/casts: specifiers + abstract declarator. */
static struct layout_type *parse_type_name(struct parser *p)
{
	struct annots an = {0};
	bool anon;
	struct decl d;
	struct layout_type *t = parse_specifiers(p, &an, &anon);

	if (!t || !parse_declarator(p, t, &d, true))
		return NULL;
	if (is_incomplete(p, d.type)) {
		perr(p, cur(p), "incomplete type '%s'", d.type->name);
		return NULL;
	}
	return d.type;
}

/* ---- structs and unions -------------------------------------------------- */
static int fvec_push(struct fvec *fv, const struct pfield *f)
{
	if (fv->n == fv->cap) {
		size_t cap = fv->cap ? fv->cap * 2 : 16;
		struct pfield *v = realloc(fv->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		fv->v = v;
		fv->cap = cap;
	}
	fv->v[fv->n++] = *f;
	return 0;
}

static bool name_taken(const struct fvec *fv, const char *name)
{
	for (size_t i = 0; i < fv->n; i++) {
		const struct pfield *f = &fv->v[i];
		uint64_t off;

		if (!f->is_member)
			continue;
		if (f->f.name && !strcmp(f->f.name, name))
			return true;
		if (!f->f.name && layout_field_find(f->f.type, name, &off))
			return true;
	}
	return false;
}

/* An anonymous member's names must not clash with the struct's. */
static bool anon_clash(struct parser *p, const struct fvec *fv,
		       const struct layout_type *t, const struct layout_tok *at)
{
	for (size_t i = 0; i < t->nfields; i++) {
		const struct layout_field *f = &t->fields[i];

		if (f->name && name_taken(fv, f->name)) {
			perr(p, at, "duplicate field '%s'", f->name);
			return true;
		}
		if (!f->name && anon_clash(p, fv, f->type, at))
			return true;
	}
	return false;
}

static void directive(struct parser *p);
static void parse_enum_body(struct parser *p, struct layout_type *t);

static bool parse_bitwidth(struct parser *p, struct pfield *pf,
			   const struct layout_type *t)
{
	const struct layout_tok *w = cur(p);
	long long v;
	const char *name = pf->f.name ? pf->f.name : "(unnamed)";

	if (!const_expr(p, "bitfield width", &v, NULL))
		return false;
	if (t->kind != LAYOUT_INT && t->kind != LAYOUT_BOOL &&
	    t->kind != LAYOUT_ENUM) {
		perr(p, w, "bitfield '%s' has non-integer type '%s'", name,
		     t->name);
		return false;
	}
	if (v < 0 || (uint64_t)v > t->size * 8) {
		perr(p, w,
		     "width %lld of bitfield '%s' does not fit its type '%s'",
		     v, name, t->name);
		return false;
	}
	if (v == 0 && pf->f.name) {
		perr(p, w, "zero width for bitfield '%s'", name);
		return false;
	}
	pf->f.bit_width = (unsigned)v;
	pf->is_bitfield = true;
	return true;
}

static bool check_field_annots(struct parser *p, struct pfield *pf,
			       const struct annots *an)
{
	const struct layout_type *t = pf->f.type;

	if ((an->flags & LAYOUT_F_STRING) &&
	    !(t->kind == LAYOUT_ARRAY && t->elem->kind == LAYOUT_INT &&
	      t->elem->size == 1)) {
		perr(p, an->where, "@string on '%s', which is not a char array",
		     pf->f.name);
		return false;
	}
	if (an->has_ring && t->kind != LAYOUT_ARRAY) {
		perr(p, an->where, "@ring on '%s', which is not an array",
		     pf->f.name);
		return false;
	}
	if (an->has_offset && pf->is_bitfield) {
		perr(p, an->where, "@offset on bitfield '%s'", pf->f.name);
		return false;
	}
	pf->f.flags = an->flags;
	pf->attr_align = an->attr_align;
	pf->given_offset = an->offset;
	pf->expect = an->expect;
	pf->ring_head = an->ring_head;
	pf->ring_tail = an->ring_tail;
	pf->ring_wrap = an->ring_wrap;
	if (an->packed)
		pf->f.flags |= LAYOUT_F_PACKED;
	return true;
}

/* One member declaration: `TYPE a, *b[3] : 4 @hex, ...;` */
static void parse_member(struct parser *p, struct fvec *fv)
{
	struct annots spec_an = {0};
	bool anon_def = false;
	const struct layout_tok *start = cur(p);
	struct layout_type *base = parse_specifiers(p, &spec_an, &anon_def);

	if (!base) {
		recover(p);
		return;
	}
	if (accept(p, ';')) {
		struct pfield pf = {0};

		if (!anon_def ||
		    (base->kind != LAYOUT_STRUCT && base->kind != LAYOUT_UNION))
			return; /* declares a type only */
		if (anon_clash(p, fv, base, start))
			return;
		pf.f.type = base;
		pf.f.loc = loc_of(p, start);
		pf.tok = start;
		pf.is_member = true;
		pf.attr_align = spec_an.attr_align;
		if (fvec_push(fv, &pf) < 0)
			perr(p, start, "out of memory");
		return;
	}
	for (;;) {
		struct pfield pf = {0};
		struct annots an = {0};
		struct decl d = {0};

		an.attr_align = spec_an.attr_align;
		an.packed = spec_an.packed;
		if (is_op(cur(p), ':')) {
			d.type = base; /* unnamed bitfield */
			pf.tok = cur(p);
		} else if (!parse_declarator(p, base, &d, false)) {
			recover(p);
			return;
		}
		pf.f.type = d.type;
		pf.is_member = d.name != NULL;
		if (d.name) {
			pf.f.name = tok_dup(p, d.name);
			pf.tok = d.name;
		}
		pf.f.loc = loc_of(p, pf.tok);
		if (accept(p, ':') && !parse_bitwidth(p, &pf, d.type)) {
			recover(p);
			return;
		}
		if (!parse_annotations(p, &an, true) ||
		    !check_field_annots(p, &pf, &an)) {
			recover(p);
			return;
		}
		if (is_incomplete(p, d.type)) {
			perr(p, pf.tok, "field '%s' has incomplete type '%s'",
			     pf.f.name ? pf.f.name : "(unnamed)", d.type->name);
		} else if (pf.f.name && name_taken(fv, pf.f.name)) {
			perr(p, pf.tok, "duplicate field '%s'", pf.f.name);
		} else if (fvec_push(fv, &pf) < 0) {
			perr(p, pf.tok, "out of memory");
			p->stop = true;
		}
		if (accept(p, ','))
			continue;
		if (!expect_op(p, ';', "';'"))
			recover(p);
		return;
	}
}

static uint64_t round_up(uint64_t v, uint64_t a)
{
	return a ? (v + a - 1) / a * a : v;
}

/* Place every member as gcc does; false when the struct is too large. */
static bool place_fields(struct parser *p, struct layout_type *t,
			 struct fvec *fv, const struct annots *an,
			 const struct layout_tok *at)
{
	bool is_union = t->kind == LAYOUT_UNION;
	uint64_t bitpos = 0, maxbits = 0;
	unsigned align = 1;

	for (size_t i = 0; i < fv->n; i++) {
		struct pfield *pf = &fv->v[i];
		const struct layout_type *ft = pf->f.type;
		bool packed = an->packed || (pf->f.flags & LAYOUT_F_PACKED);
		unsigned fal = packed ? 1 : ft->align;

		if (pf->attr_align > fal)
			fal = pf->attr_align;
		if (is_union)
			bitpos = 0;
		if (pf->is_bitfield) {
			uint64_t w = pf->f.bit_width, tb = ft->size * 8;
			uint64_t ab = (uint64_t)ft->align * 8;

			if (w == 0) {
				bitpos = round_up(bitpos, ab);
			} else {
				if (!packed &&
				    ((bitpos % ab) + w + ab - 1) / ab > tb / ab)
					bitpos = round_up(bitpos, ab);
				pf->f.offset = bitpos / 8;
				pf->f.bit_offset = (unsigned)(bitpos % 8);
				bitpos += w;
				if (pf->is_member && fal > align)
					align = fal;
			}
		} else {
			if (pf->f.flags & LAYOUT_F_OFFSET) {
				if (pf->given_offset * 8 < bitpos &&
				    !is_union) {
					perr(p, pf->tok,
					     "@offset(%" PRIu64
					     ") of '%s' overlaps the field "
					     "before it",
					     pf->given_offset,
					     pf->f.name ? pf->f.name : "");
					return false;
				}
				bitpos = pf->given_offset * 8;
			} else {
				bitpos = round_up(bitpos, (uint64_t)fal * 8);
			}
			pf->f.offset = bitpos / 8;
			bitpos += ft->size * 8;
			if (fal > align)
				align = fal;
		}
		if (bitpos > maxbits)
			maxbits = bitpos;
		if (maxbits / 8 > LAYOUT_MAX_TYPE_SIZE) {
			perr(p, at,
			     "'%s' is too large (the limit is %llu bytes)",
			     t->name, LAYOUT_MAX_TYPE_SIZE);
			return false;
		}
	}
	if (an->attr_align > align)
		align = an->attr_align;
	t->align = align;
	t->size = round_up((maxbits + 7) / 8, align);
	return true;
}

/* Bind the struct's expressions now that its fields are known. */
static void bind_struct(struct parser *p, struct layout_type *t,
			struct fvec *fv, const struct annots *an)
{
	size_t k = 0;

	for (size_t i = 0; i < fv->n; i++) {
		struct pfield *pf = &fv->v[i];
		struct layout_field *f;

		if (!pf->is_member)
			continue;
		f = &t->fields[k++];
		if (pf->expect) {
			struct bindctx b = {t, "@expect"};
			f->expect = bind(p, pf->expect, &b, true);
		}
		if (pf->ring_head) {
			struct bindctx b = {t, "@ring"};
			struct layout_ring *r = zalloc(p, sizeof(*r));

			if (!r)
				return;
			r->head = bind(p, pf->ring_head, &b, true);
			r->tail = bind(p, pf->ring_tail, &b, true);
			r->wrap = pf->ring_wrap;
			if (r->head && r->tail)
				f->ring = r;
		}
	}
	for (size_t i = 0; i < an->nchecks; i++) {
		struct bindctx b = {t, "@check"};
		struct expr *x =
			bind(p, (struct expr *)an->checks[i].expr, &b, true);
		if (x)
			an->checks[i].expr = x;
	}
	t->checks = an->checks;
	t->nchecks = an->nchecks;
}

static struct layout_type *tag_type(struct parser *p, const char *kw,
				    const struct layout_tok *tag,
				    enum layout_kind kind)
{
	char name[160];
	struct layout_sym *s;
	struct layout_type *t;

	snprintf(name, sizeof(name), "%s %.*s", kw,
		 tag->len > 128 ? 128 : (int)tag->len, tag->s);
	s = layout_sym_find(p->l, name);
	if (s)
		return s->type;
	t = new_type(p, kind,
		     layout_arena_strndup(&p->l->arena, name, strlen(name)));
	if (!t || !t->name)
		return NULL;
	t->complete = false;
	t->loc = loc_of(p, tag);
	s = layout_sym_add(p->l, name, LAYOUT_SYM_TAG);
	if (!s)
		return NULL;
	s->type = t;
	return t;
}

static void parse_struct_body(struct parser *p, struct layout_type *t,
			      struct annots *an, const struct layout_tok *kw)
{
	struct fvec fv = {0};
	size_t k = 0;

	next(p); /* { */
	if (++p->depth > LAYOUT_MAX_DEPTH) {
		perr(p, kw, "structs nested too deeply");
		p->stop = true;
		p->depth--;
		return;
	}
	while (!is_op(cur(p), '}') && cur(p)->kind != LT_EOF && !p->stop) {
		long before = p->pos;

		if (is_op(cur(p), '#') && cur(p)->bol)
			directive(p);
		else if (!accept(p, ';'))
			parse_member(p, &fv);
		if (p->pos == before)
			next(p);
	}
	p->depth--;
	if (!expect_op(p, '}', "'}'"))
		goto out;
	if (!parse_annotations(p, an, false))
		recover(p);
	t->packed = an->packed;
	t->segment = an->segment;
	if (!place_fields(p, t, &fv, an, kw))
		goto out;
	for (size_t i = 0; i < fv.n; i++)
		k += fv.v[i].is_member;
	t->fields = zalloc(p, (k ? k : 1) * sizeof(*t->fields));
	if (!t->fields)
		goto out;
	k = 0;
	for (size_t i = 0; i < fv.n; i++)
		if (fv.v[i].is_member)
			t->fields[k++] = fv.v[i].f;
	t->nfields = k;
	t->complete = true;
	bind_struct(p, t, &fv, an);
out:
	free(fv.v);
}

/* struct/union [attrs] [TAG] [annots] [{ ... } [annots]] */
static struct layout_type *parse_struct(struct parser *p, bool *anon_def)
{
	const struct layout_tok *kw = cur(p);
	bool is_union = is_word(kw, "union");
	const char *kws = is_union ? "union" : "struct";
	enum layout_kind kind = is_union ? LAYOUT_UNION : LAYOUT_STRUCT;
	struct annots an = {0};
	const struct layout_tok *tag = NULL;
	struct layout_type *t;

	next(p);
	if (!parse_annotations(p, &an, false))
		return NULL;
	if (cur(p)->kind == LT_IDENT) {
		tag = cur(p);
		next(p);
	}
	if (!parse_annotations(p, &an, false))
		return NULL;
	if (!is_op(cur(p), '{')) {
		if (!tag) {
			expected(p, "a struct name or '{'");
			return NULL;
		}
		t = tag_type(p, kws, tag, kind);
		if (t && t->kind != kind) {
			perr(p, tag,
			     "'%.*s' was declared as a different kind of tag",
			     (int)tag->len, tag->s);
			return NULL;
		}
		return t;
	}
	if (tag) {
		t = tag_type(p, kws, tag, kind);
		if (!t)
			return NULL;
		if (t->complete) {
			perr(p, tag, "redefinition of '%s'", t->name);
			t = new_type(p, kind, t->name); /* parse it anyway */
		}
	} else {
		t = new_type(p, kind,
			     is_union ? "union {...}" : "struct {...}");
		*anon_def = true;
	}
	if (!t)
		return NULL;
	t->loc = loc_of(p, tag ? tag : kw);
	t->complete = false;
	parse_struct_body(p, t, &an, kw);
	if (!t->complete)
		return NULL;
	if (tag)
		layout_order_add(p->l, t);
	if (p->depth == 0)
		p->l->last_struct = t;
	if (t->segment) {
		if (p->l->root && p->l->root != t)
			perr(p, tag ? tag : kw,
			     "two structs are marked @segment: '%s' and '%s'",
			     p->l->root->name, t->name);
		else
			p->l->root = t;
	}
	return t;
}

/* ---- enums --------------------------------------------------------------- */
static void parse_enum_body(struct parser *p, struct layout_type *t)
{
	long long v = 0, min = 0, max = 0;
	struct layout_enumerator *en = NULL;
	size_t n = 0, cap = 0;
	bool any = false;

	next(p); /* { */
	while (!is_op(cur(p), '}') && cur(p)->kind != LT_EOF && !p->stop) {
		const struct layout_tok *id = cur(p);
		struct layout_sym *s;
		char name[160];

		if (id->kind != LT_IDENT || id->len >= 128) {
			expected(p, "an enumerator name");
			recover(p);
			return;
		}
		next(p);
		if (accept(p, '=') &&
		    !const_expr(p, "enumerator value", &v, NULL)) {
			recover(p);
			return;
		}
		snprintf(name, sizeof(name), "%.*s", (int)id->len, id->s);
		s = layout_sym_find(p->l, name);
		if (s && s->kind != LAYOUT_SYM_BADDEF) {
			perr(p, id, "redefinition of '%s'", name);
		} else {
			if (!s)
				s = layout_sym_add(p->l, name,
						   LAYOUT_SYM_CONST);
			if (!s)
				return;
			s->kind = LAYOUT_SYM_CONST;
			s->value = v;
			s->is_unsigned = false;
		}
		if (n == cap) {
			struct layout_enumerator *ne;

			cap = cap ? cap * 2 : 16;
			ne = zalloc(p, cap * sizeof(*ne));
			if (!ne)
				return;
			if (n)
				memcpy(ne, en, n * sizeof(*ne));
			en = ne;
		}
		en[n].name = s ? s->name : "";
		en[n++].value = v;
		if (!any || v < min)
			min = v;
		if (!any || v > max)
			max = v;
		any = true;
		v++;
		if (!accept(p, ','))
			break;
	}
	if (!expect_op(p, '}', "'}'"))
		return;
	t->enums = en;
	t->nenums = n;
	if (min >= INT_MIN && max <= INT_MAX) {
		t->size = 4;
		t->is_signed = min < 0;
	} else if (min >= 0 && max <= (long long)UINT_MAX) {
		t->size = 4;
		t->is_signed = false;
	} else {
		t->size = 8;
		t->is_signed = min < 0;
	}
	t->align = abi_ctype_size(p->l->abi,
				  t->size == 8 ? ABI_C_LLONG : ABI_C_INT)
			   .align;
	t->complete = true;
}

static struct layout_type *parse_enum(struct parser *p, bool *anon_def)
{
	const struct layout_tok *kw = cur(p), *tag = NULL;
	struct annots an = {0};
	struct layout_type *t;

	next(p);
	if (!parse_annotations(p, &an, false))
		return NULL;
	if (cur(p)->kind == LT_IDENT) {
		tag = cur(p);
		next(p);
	}
	if (!is_op(cur(p), '{')) {
		if (!tag) {
			expected(p, "an enum name or '{'");
			return NULL;
		}
		return tag_type(p, "enum", tag, LAYOUT_ENUM);
	}
	if (tag) {
		t = tag_type(p, "enum", tag, LAYOUT_ENUM);
		if (t && t->complete) {
			perr(p, tag, "redefinition of '%s'", t->name);
			t = new_type(p, LAYOUT_ENUM, t->name);
		}
	} else {
		t = new_type(p, LAYOUT_ENUM, "enum {...}");
		*anon_def = true;
	}
	if (!t)
		return NULL;
	t->loc = loc_of(p, tag ? tag : kw);
	t->complete = false;
	parse_enum_body(p, t);
	if (!t->complete)
		return NULL;
	parse_annotations(p, &an, false);
	if (tag)
		layout_order_add(p->l, t);
	return t;
}

/* ---- declaration specifiers ---------------------------------------------- */
static struct layout_type *parse_specifiers(struct parser *p, struct annots *an,
					    bool *anon_def)
{
	int n[W_COUNT] = {0};
	bool any_int = false;
	struct layout_type *t = NULL;
	const struct layout_tok *start = cur(p);

	*anon_def = false;
	for (;;) {
		const struct layout_tok *tok = cur(p);
		int w;

		if (is_qualifier(tok)) {
			next(p);
		} else if (is_word(tok, "_Atomic") && is_op(peek(p, 1), '(')) {
			if (t || any_int)
				break;
			next(p);
			next(p);
			t = parse_type_name(p);
			if (!t || !expect_op(p, ')', "')'"))
				return NULL;
		} else if (is_word(tok, "_Atomic")) {
			next(p);
		} else if (is_word(tok, "__attribute__") ||
			   is_word(tok, "__attribute")) {
			if (!parse_attribute(p, an))
				return NULL;
		} else if ((w = int_word(tok)) >= 0) {
			if (t)
				break;
			n[w]++;
			any_int = true;
			next(p);
		} else if (is_word(tok, "struct") || is_word(tok, "union")) {
			if (t || any_int)
				break;
			t = parse_struct(p, anon_def);
			if (!t)
				return NULL;
		} else if (is_word(tok, "enum")) {
			if (t || any_int)
				break;
			t = parse_enum(p, anon_def);
			if (!t)
				return NULL;
		} else if (!t && !any_int && tok->kind == LT_IDENT) {
			t = typedef_name(p, tok);
			if (!t) {
				char tt[64];

				tok_text(tok, tt, sizeof(tt));
				perr(p, tok, "unknown type %s", tt);
				return NULL;
			}
			next(p);
		} else {
			break;
		}
	}
	if (any_int) {
		if (t) {
			perr(p, start,
			     "invalid combination of type specifiers");
			return NULL;
		}
		return int_type(p, n, start);
	}
	if (!t) {
		char tt[64];

		tok_text(cur(p), tt, sizeof(tt));
		perr(p, cur(p), "expected a type before %s", tt);
	}
	return t;
}

/* ---- top level ----------------------------------------------------------- */
static bool same_type(const struct layout_type *a, const struct layout_type *b)
{
	return a == b ||
	       (a->kind == b->kind && a->size == b->size &&
		a->align == b->align && a->is_signed == b->is_signed &&
		a->sync == b->sync && a->elem == b->elem &&
		a->count == b->count && a->fields == b->fields);
}

static void parse_typedef(struct parser *p)
{
	struct annots an = {0};
	bool anon_def;
	struct layout_type *base;

	next(p); /* typedef */
	base = parse_specifiers(p, &an, &anon_def);
	if (!base) {
		recover(p);
		return;
	}
	for (;;) {
		struct decl d;
		struct layout_type *t;
		struct layout_sym *s;
		char name[160];

		if (!parse_declarator(p, base, &d, false)) {
			recover(p);
			return;
		}
		parse_annotations(p, &an, false);
		if (d.name->len >= 128) {
			perr(p, d.name, "name too long");
			recover(p);
			return;
		}
		snprintf(name, sizeof(name), "%.*s", (int)d.name->len,
			 d.name->s);
		t = d.type;
		if (anon_def && t == base &&
		    (t->kind == LAYOUT_STRUCT || t->kind == LAYOUT_UNION ||
		     t->kind == LAYOUT_ENUM)) {
			t->name = tok_dup(p, d.name); /* typedef struct {} x; */
			layout_order_add(p->l, t);
			anon_def = false;
		} else if (t->kind != LAYOUT_STRUCT &&
			   t->kind != LAYOUT_UNION && t->kind != LAYOUT_ENUM &&
			   t != p->void_type) {
			struct layout_type *c = zalloc(p, sizeof(*c));

			if (!c)
				return;
			*c = *t;
			c->name = tok_dup(p, d.name);
			t = c;
		}
		s = layout_sym_find(p->l, name);
		if (!s)
			s = typedef_name(p, d.name)
				    ? layout_sym_find(p->l, name)
				    : NULL;
		if (s &&
		    (s->kind != LAYOUT_SYM_TYPEDEF || !same_type(s->type, t))) {
			perr(p, d.name, "conflicting types for '%s'", name);
		} else if (!s) {
			s = layout_sym_add(p->l, name, LAYOUT_SYM_TYPEDEF);
			if (s)
				s->type = t;
		}
		if (accept(p, ','))
			continue;
		if (!expect_op(p, ';', "';'"))
			recover(p);
		return;
	}
}

/* Skip a declaration we do not use (a variable, a function prototype). */
static void skip_declaration(struct parser *p)
{
	int depth = 0;

	for (;;) {
		const struct layout_tok *t = cur(p);

		if (t->kind == LT_EOF)
			return;
		next(p);
		if (is_op(t, '{') || is_op(t, '('))
			depth++;
		else if (is_op(t, '}') || is_op(t, ')'))
			if (--depth <= 0 && is_op(t, '}'))
				return;
		if (is_op(t, ';') && depth <= 0)
			return;
	}
}

static void top_decl(struct parser *p)
{
	const struct layout_tok *t = cur(p);
	struct annots an = {0};
	bool anon_def;

	if (accept(p, ';'))
		return;
	if (is_word(t, "typedef")) {
		parse_typedef(p);
		return;
	}
	if (is_word(t, "_Static_assert") || is_word(t, "static_assert") ||
	    is_word(t, "extern") || is_word(t, "static") ||
	    is_word(t, "inline")) {
		skip_declaration(p);
		return;
	}
	if (!parse_specifiers(p, &an, &anon_def)) {
		recover(p);
		if (is_op(cur(p), '}'))
			next(p);
		return;
	}
	if (!accept(p, ';'))
		skip_declaration(p); /* a variable or a function: not ours */
}

/* ---- directives and files ------------------------------------------------ */
static void parse_tokens(struct parser *p);
static void parse_file(struct parser *p, const char *path,
		       const struct layout_tok *from);

/* The end (exclusive) of the directive line starting at p->pos. */
static long line_end(struct parser *p)
{
	long i = p->pos;
	int ll = p->toks[i].lline;

	while (i < p->ntoks && p->toks[i].kind != LT_EOF &&
	       p->toks[i].lline == ll)
		i++;
	return i;
}

static void define(struct parser *p, long end)
{
	const struct layout_tok *name = cur(p);
	struct layout_sym *s;
	long long v;
	bool uns = false, ok;
	char buf[160];
	long save = p->limit;

	if (name->kind != LT_IDENT || name->len >= 128)
		return;
	snprintf(buf, sizeof(buf), "%.*s", (int)name->len, name->s);
	next(p);
	if (p->pos >= end)
		return; /* #define FLAG */
	if (is_op(cur(p), '(') && cur(p)->s == name->s + name->len)
		return; /* a function-like macro */
	p->limit = end;
	p->quiet = true;
	p->failed = false;
	ok = const_expr(p, "#define", &v, &uns) && p->pos == end && !p->failed;
	p->quiet = false;
	p->limit = save;
	s = layout_sym_find(p->l, buf);
	if (s && s->kind != LAYOUT_SYM_CONST && s->kind != LAYOUT_SYM_BADDEF)
		return; /* a type name: leave it */
	if (!s)
		s = layout_sym_add(p->l, buf, LAYOUT_SYM_CONST);
	if (!s)
		return;
	s->kind = ok ? LAYOUT_SYM_CONST : LAYOUT_SYM_BADDEF;
	s->value = ok ? v : 0;
	s->is_unsigned = uns;
}

static void directive(struct parser *p)
{
	const struct layout_tok *hash = cur(p), *d;
	long end = line_end(p);

	next(p);
	d = cur(p);
	if (p->pos < end && is_word(d, "include")) {
		const struct layout_tok *f = peek(p, 1);

		next(p);
		if (p->pos < end && is_op(f, '<')) {
			/* <stdint.h> and friends: their names are built in */
		} else if (p->pos >= end || f->kind != LT_STR) {
			perr(p, hash, "#include needs a file name in quotes");
		} else {
			char *path = str_value(p, f);

			if (path)
				parse_file(p, path, f);
		}
	} else if (p->pos < end && is_word(d, "define")) {
		next(p);
		define(p, end);
	}
	p->pos = end; /* any other directive is a comment */
}

static char *read_text(const char *path, size_t *len, struct errbuf *e)
{
	struct stat st;
	char *buf;
	size_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		err_setn(e, errno, "cannot open '%s'", path);
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > LAYOUT_MAX_FILE_SIZE) {
		err_set(e, "'%s' is not a regular file of at most %u bytes",
			path, LAYOUT_MAX_FILE_SIZE);
		close(fd);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		err_set(e, "out of memory");
		return NULL;
	}
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Run the parser over TEXT as file NAME, then restore the including one. */
static void parse_text(struct parser *p, const char *name, const char *text,
		       size_t len)
{
	struct layout_tok *saved_toks = p->toks;
	long saved_pos = p->pos, saved_n = p->ntoks, saved_limit = p->limit;
	const char *saved_file = p->file, *saved_text = p->text;
	int saved_depth = p->depth;
	struct layout_lexerr le = {lex_report, p};
	struct layout_tok *toks;
	long n;

	struct lexerr saved_lexerr[LAYOUT_MAX_ERRORS];
	size_t saved_nlexerr = p->nlexerr;

	memcpy(saved_lexerr, p->lexerr, sizeof(saved_lexerr));
	p->nlexerr = 0;
	p->file = name;
	n = layout_lex(text, len, &toks, &le);
	if (n < 0) {
		perr_msg(p, 1, 1, "out of memory");
		p->stop = true;
	} else {
		p->toks = toks;
		p->ntoks = p->limit = n;
		p->pos = 0;
		p->text = text;
		p->depth = 0;
		parse_tokens(p);
		free(toks);
	}
	flush_lexerr(p, INT_MAX, INT_MAX);
	memcpy(p->lexerr, saved_lexerr, sizeof(saved_lexerr));
	p->nlexerr = saved_nlexerr;
	p->toks = saved_toks;
	p->pos = saved_pos;
	p->ntoks = saved_n;
	p->limit = saved_limit;
	p->file = saved_file;
	p->text = saved_text;
	p->depth = saved_depth;
}

static void parse_tokens(struct parser *p)
{
	while (cur(p)->kind != LT_EOF && !p->stop) {
		long before = p->pos;

		if (is_op(cur(p), '#') && cur(p)->bol)
			directive(p);
		else
			top_decl(p);
		if (p->pos == before) {
			char tt[64];

			tok_text(cur(p), tt, sizeof(tt));
			perr(p, cur(p), "unexpected %s", tt);
			next(p);
		}
	}
}

/* The folder of FILE, for relative includes ("" for none). */
static char *dir_of(struct parser *p, const char *file)
{
	const char *slash = strrchr(file, '/');

	return layout_arena_strndup(&p->l->arena, file,
				    slash ? (size_t)(slash - file + 1) : 0);
}

static void parse_file(struct parser *p, const char *path,
		       const struct layout_tok *from)
{
	char *full, *real, *text;
	struct errbuf e;
	size_t len;

	if (p->flags & LAYOUT_NO_INCLUDE) {
		perr(p, from, "#include is not allowed here");
		return;
	}
	if (path[0] == '/' || !p->ninc)
		full = layout_arena_strndup(&p->l->arena, path, strlen(path));
	else
		full = layout_arena_printf(&p->l->arena, "%s%s",
					   dir_of(p, p->inc[p->ninc - 1].name),
					   path);
	if (!full)
		return;
	real = realpath(full, NULL);
	if (!real) {
		if (from)
			perr(p, from, "cannot open '%s': %s", full,
			     strerror(errno));
		else
			perr_msg(p, 0, 0, strerror(errno));
		return;
	}
	for (int i = 0; i < p->ninc; i++) {
		if (p->inc[i].real && !strcmp(p->inc[i].real, real)) {
			perr(p, from, "include cycle: '%s' includes itself",
			     full);
			free(real);
			return;
		}
	}
	for (size_t i = 0; i < p->ndone; i++) {
		if (!strcmp(p->done[i], real)) {
			free(real); /* included before: once is enough */
			return;
		}
	}
	if (p->ninc > LAYOUT_MAX_INCLUDE_DEPTH) {
		perr(p, from, "#include nested too deeply");
		free(real);
		return;
	}
	text = read_text(full, &len, &e);
	if (!text) {
		if (from)
			perr(p, from, "%s", e.msg);
		else
			perr_msg(p, 0, 0, e.msg);
		free(real);
		return;
	}
	char **done = realloc(p->done, (p->ndone + 1) * sizeof(*done));
	if (!done) {
		free(real);
		free(text);
		return;
	}
	p->done = done;
	p->done[p->ndone++] = real;
	p->inc[p->ninc].name = full;
	p->inc[p->ninc++].real = real;
	parse_text(p, full, text, len);
	p->ninc--;
	free(text);
}

/* ---- entry points -------------------------------------------------------- */
static struct layout *parser_begin(struct parser *p, enum abi_id abi,
				   unsigned flags, struct errbuf *e)
{
	struct layout *l = calloc(1, sizeof(*l));

	memset(p, 0, sizeof(*p));
	if (e)
		e->msg[0] = '\0';
	if (!l) {
		err_set(e, "out of memory");
		return NULL;
	}
	l->abi = (unsigned)abi < ABI_COUNT ? abi : ABI_X86_64;
	p->l = l;
	p->e = e;
	p->flags = flags;
	p->file = "";
	p->void_type = new_type(p, LAYOUT_INT, "void");
	if (!p->void_type) {
		layout_free(l);
		err_set(e, "out of memory");
		return NULL;
	}
	return l;
}

static struct layout *parser_end(struct parser *p)
{
	for (size_t i = 0; i < p->ndone; i++)
		free(p->done[i]);
	free(p->done);
	if (p->nerr) {
		layout_free(p->l);
		return NULL;
	}
	return p->l;
}

struct layout *layout_parse_file(const char *path, enum abi_id abi,
				 unsigned flags, struct errbuf *e)
{
	struct parser p;

	if (!parser_begin(&p, abi, flags & ~LAYOUT_NO_INCLUDE, e))
		return NULL;
	p.file = path;
	parse_file(&p, path, NULL);
	return parser_end(&p);
}

struct layout *layout_parse_string(const char *name, const char *text,
				   size_t len, enum abi_id abi, unsigned flags,
				   struct errbuf *e)
{
	struct parser p;
	char *n;

	if (!parser_begin(&p, abi, flags, e))
		return NULL;
	n = layout_arena_strndup(&p.l->arena, name, strlen(name));
	if (!n) {
		layout_free(p.l);
		err_set(e, "out of memory");
		return NULL;
	}
	if (len > LAYOUT_MAX_FILE_SIZE) {
		err_set(e, "%s: larger than %u bytes", name,
			LAYOUT_MAX_FILE_SIZE);
		layout_free(p.l);
		return NULL;
	}
	p.inc[0].name = n;
	p.inc[0].real = NULL;
	p.ninc = 1;
	parse_text(&p, n, text, len);
	return parser_end(&p);
}
