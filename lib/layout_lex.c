/*
 * layout_lex.c - cut a layout file into tokens.
 *
 * C's tokens, plus `@` for annotations.  Comments vanish; `#` directives are
 * left to the parser, which sees the `bol` (beginning of line) flag and the
 * logical line of each token.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout_impl.h"

struct lexer {
	const char *p, *end;
	int line, col, lline;
	bool bol;
	struct layout_tok *toks;
	size_t n, cap;
	const struct layout_lexerr *err;
};

static void lex_error(struct lexer *lx, int line, int col, const char *msg)
{
	if (lx->err && lx->err->report)
		lx->err->report(lx->err->arg, line, col, msg);
}

static void lex_advance(struct lexer *lx, size_t n)
{
	while (n-- && lx->p < lx->end) {
		if (*lx->p == '\n') {
			lx->line++;
			lx->col = 1;
		} else {
			lx->col++;
		}
		lx->p++;
	}
}

/* Skip blanks, newlines and comments; false at the end of the text. */
static bool lex_skip(struct lexer *lx)
{
	while (lx->p < lx->end) {
		char c = *lx->p;
		size_t left = (size_t)(lx->end - lx->p);

		if (c == '\n') {
			lx->bol = true;
			lx->lline++;
			lex_advance(lx, 1);
		} else if (c == '\\' && left >= 2 && lx->p[1] == '\n') {
			lex_advance(lx, 2); /* the logical line goes on */
		} else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' ||
			   c == '\v') {
			lex_advance(lx, 1);
		} else if (c == '/' && left >= 2 && lx->p[1] == '/') {
			while (lx->p < lx->end && *lx->p != '\n')
				lex_advance(lx, 1);
		} else if (c == '/' && left >= 2 && lx->p[1] == '*') {
			int line = lx->line, col = lx->col;
			const char *q = lx->p + 2;

			while (q + 1 < lx->end && !(q[0] == '*' && q[1] == '/'))
				q++;
			if (q + 1 >= lx->end) {
				lex_error(lx, line, col,
					  "unterminated comment '/*'");
				lex_advance(lx, left);
				return false;
			}
			/* newlines inside a comment end a directive line */
			for (const char *r = lx->p; r < q; r++)
				if (*r == '\n')
					lx->lline++;
			lex_advance(lx, (size_t)(q + 2 - lx->p));
		} else {
			return true;
		}
	}
	return false;
}

static int lex_push(struct lexer *lx, const struct layout_tok *t)
{
	if (lx->n == lx->cap) {
		size_t cap = lx->cap ? lx->cap * 2 : 256;
		struct layout_tok *nt = realloc(lx->toks, cap * sizeof(*nt));

		if (!nt)
			return -ENOMEM;
		lx->toks = nt;
		lx->cap = cap;
	}
	lx->toks[lx->n++] = *t;
	return 0;
}

static void lex_number(struct lexer *lx, struct layout_tok *t)
{
	const char *q = lx->p;
	unsigned long long v = 0;
	int base = 10;
	bool overflow = false, bad = false, any = false;

	if (q + 1 < lx->end && q[0] == '0' && (q[1] == 'x' || q[1] == 'X')) {
		base = 16;
		q += 2;
	} else if (q + 1 < lx->end && q[0] == '0' &&
		   (q[1] == 'b' || q[1] == 'B')) {
		base = 2;
		q += 2;
	} else if (q[0] == '0') {
		base = 8;
	}
	for (; q < lx->end; q++) {
		int d;

		if (isdigit((unsigned char)*q))
			d = *q - '0';
		else if (isxdigit((unsigned char)*q) && base == 16)
			d = tolower((unsigned char)*q) - 'a' + 10;
		else
			break;
		if (d >= base)
			bad = true;
		if (v > (~0ull - (unsigned)d) / (unsigned)base)
			overflow = true;
		v = v * (unsigned)base + (unsigned)d;
		any = true;
	}
	if (base == 16 || base == 2)
		bad |= !any;
	for (; q < lx->end; q++) {
		char c = (char)tolower((unsigned char)*q);

		if (c == 'u' && !t->num_unsigned)
			t->num_unsigned = true;
		else if (c == 'l')
			t->num_long = true;
		else if (isalnum((unsigned char)*q) || *q == '.' || *q == '_')
			bad = true; /* 1.5, 1e3, 12abc */
		else
			break;
	}
	t->kind = bad || overflow ? LT_BADNUM : LT_NUM;
	t->num = v;
	t->len = (unsigned)(q - lx->p);
}

/* A quoted string or character constant starting at lx->p. */
static int lex_quoted(struct lexer *lx, struct layout_tok *t)
{
	char quote = *lx->p;
	const char *q = lx->p + 1;

	while (q < lx->end && *q != quote && *q != '\n') {
		if (*q == '\\' && q + 1 < lx->end && q[1] != '\n')
			q++;
		q++;
	}
	if (q >= lx->end || *q != quote) {
		lex_error(lx, t->line, t->col,
			  quote == '"' ? "unterminated string"
				       : "unterminated character constant");
		t->len = (unsigned)(q - lx->p);
		return -1;
	}
	t->len = (unsigned)(q + 1 - lx->p);
	if (quote == '"') {
		t->kind = LT_STR;
		return 0;
	}
	t->kind = LT_NUM;
	t->num = (unsigned char)lx->p[1];
	if (lx->p[1] == '\\' && t->len >= 4) {
		switch (lx->p[2]) {
		case 'n':
			t->num = '\n';
			break;
		case 't':
			t->num = '\t';
			break;
		case '0':
			t->num = 0;
			break;
		default:
			t->num = (unsigned char)lx->p[2];
			break;
		}
	}
	return 0;
}

static const struct {
	const char *s;
	int op;
} lex_ops[] = {
	{"...", LP_ELLIPSIS}, {"<<=", LP_OTHER}, {">>=", LP_OTHER},
	{"<<", LP_SHL},	      {">>", LP_SHR},	 {"<=", LP_LE},
	{">=", LP_GE},	      {"==", LP_EQ},	 {"!=", LP_NE},
	{"&&", LP_AND},	      {"||", LP_OR},	 {"->", LP_ARROW},
	{"##", LP_HASHHASH},  {"++", LP_OTHER},	 {"--", LP_OTHER},
	{"+=", LP_OTHER},     {"-=", LP_OTHER},	 {"*=", LP_OTHER},
	{"/=", LP_OTHER},     {"%=", LP_OTHER},	 {"&=", LP_OTHER},
	{"|=", LP_OTHER},     {"^=", LP_OTHER},
};

static void lex_punct(struct lexer *lx, struct layout_tok *t)
{
	size_t left = (size_t)(lx->end - lx->p);

	t->kind = LT_PUNCT;
	for (size_t i = 0; i < sizeof(lex_ops) / sizeof(lex_ops[0]); i++) {
		size_t n = strlen(lex_ops[i].s);

		if (n <= left && !memcmp(lx->p, lex_ops[i].s, n)) {
			t->op = lex_ops[i].op;
			t->len = (unsigned)n;
			return;
		}
	}
	t->op = (unsigned char)*lx->p;
	t->len = 1;
}

long layout_lex(const char *text, size_t len, struct layout_tok **toks,
		const struct layout_lexerr *err)
{
	struct lexer lx = {
		.p = text,
		.end = text + len,
		.line = 1,
		.col = 1,
		.lline = 1,
		.bol = true,
		.err = err,
	};
	struct layout_tok t;

	for (;;) {
		memset(&t, 0, sizeof(t));
		if (!lex_skip(&lx))
			break;
		t.s = lx.p;
		t.line = lx.line;
		t.col = lx.col;
		t.lline = lx.lline;
		t.bol = lx.bol;
		lx.bol = false;
		char c = *lx.p;
		if (isalpha((unsigned char)c) || c == '_' || c == '$') {
			const char *q = lx.p;

			while (q < lx.end && (isalnum((unsigned char)*q) ||
					      *q == '_' || *q == '$'))
				q++;
			t.kind = LT_IDENT;
			t.len = (unsigned)(q - lx.p);
		} else if (isdigit((unsigned char)c) ||
			   (c == '.' && lx.p + 1 < lx.end &&
			    isdigit((unsigned char)lx.p[1]))) {
			lex_number(&lx, &t);
		} else if (c == '"' || c == '\'') {
			if (lex_quoted(&lx, &t) < 0) {
				lex_advance(&lx, t.len ? t.len : 1);
				continue;
			}
		} else if (ispunct((unsigned char)c)) {
			lex_punct(&lx, &t);
		} else {
			char msg[64];

			snprintf(msg, sizeof(msg), "stray byte 0x%02x",
				 (unsigned char)c);
			lex_error(&lx, t.line, t.col, msg);
			lex_advance(&lx, 1);
			continue;
		}
		lex_advance(&lx, t.len);
		if (lex_push(&lx, &t) < 0)
			goto out_nomem;
	}
	memset(&t, 0, sizeof(t));
	t.kind = LT_EOF;
	t.s = lx.p;
	t.line = lx.line;
	t.col = lx.col;
	t.lline = lx.lline + 1;
	t.bol = true;
	if (lex_push(&lx, &t) < 0)
		goto out_nomem;
	*toks = lx.toks;
	return (long)lx.n;

out_nomem:
	free(lx.toks);
	*toks = NULL;
	return -ENOMEM;
}
