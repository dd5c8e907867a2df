/*
 * expr.c - evaluate bound layout expressions with C's integer rules.
 *
 * Every value is held as a 64-bit pattern normalised to its C type: an int
 * is sign-extended from 32 bits, an unsigned int zero-extended, so
 * converting between the four types is just normalising again.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <string.h>

#include "expr.h"
#include "layout_impl.h"

static int64_t norm(uint64_t v, enum expr_ctype t)
{
	switch (t) {
	case EXPR_INT:
		return (int32_t)(uint32_t)v;
	case EXPR_UINT:
		return (int64_t)(uint32_t)v;
	default:
		return (int64_t)v;
	}
}

static bool is_uns(enum expr_ctype t)
{
	return t == EXPR_UINT || t == EXPR_ULONG;
}

static int width(enum expr_ctype t)
{
	return t >= EXPR_LONG ? 64 : 32;
}

/* Little-endian, whatever the host: all three ABIs are. */
static uint64_t load_le(const unsigned char *b, size_t n)
{
	uint64_t v = 0;

	for (size_t i = n; i-- > 0;)
		v = v << 8 | b[i];
	return v;
}

static int eval(const struct expr *x, const struct expr_env *env, int64_t *out,
		struct errbuf *e, int depth);

static int read_path(const struct expr *x, const struct expr_env *env,
		     int64_t *out, struct errbuf *e, int depth)
{
	uint64_t off = env->base;
	const struct layout_type *t = NULL;
	const struct layout_field *leaf = NULL;
	const unsigned char *buf = env->buf;

	for (size_t i = 0; i < x->nsteps; i++) {
		const struct expr_step *s = &x->steps[i];
		const struct layout_type *arr = i ? x->steps[i - 1].type : NULL;

		if (s->field) {
			off += s->offset;
			leaf = s->field;
		} else {
			int64_t ix;
			int r = eval(s->index, env, &ix, e, depth + 1);

			if (r < 0)
				return r;
			if (!arr || arr->kind != LAYOUT_ARRAY || ix < 0 ||
			    (uint64_t)ix >= arr->count ||
			    (is_uns(s->index->ctype) && ix < 0)) {
				err_set(e,
					"%s: index %" PRId64
					" is out of range 0..%" PRIu64,
					x->text ? x->text : "path", ix,
					arr && arr->count ? arr->count - 1 : 0);
				return -ERANGE;
			}
			off += (uint64_t)ix * s->type->size;
			leaf = NULL;
		}
		t = s->type;
	}
	if (!t)
		return -EINVAL;
	uint64_t size = leaf && leaf->bit_width
				? (leaf->bit_offset + leaf->bit_width + 7) / 8
				: t->size;
	if (!buf || off > env->len || size > env->len - off) {
		err_set(e,
			"%s: field at offset %" PRIu64
			" is outside the %zu bytes read",
			x->text ? x->text : "path", off, env->len);
		return -ERANGE;
	}
	if (t->kind == LAYOUT_SYNC) {
		long long v;
		int r;

		if (!env->sync_value) {
			err_set(e, "%s: no decoder for %s",
				x->text ? x->text : "path", t->name);
			return -ENOTSUP;
		}
		r = env->sync_value(env->arg, t, buf + off, &v);
		if (r < 0) {
			err_set(e, "%s: cannot decode %s",
				x->text ? x->text : "path", t->name);
			return -ENOTSUP;
		}
		*out = norm((uint64_t)v, x->ctype);
		return 0;
	}
	if (t->kind == LAYOUT_FLOAT) {
		double d;

		if (t->size == 4) {
			float f;
			uint32_t b = (uint32_t)load_le(buf + off, 4);
			memcpy(&f, &b, 4);
			d = f;
		} else {
			uint64_t b = load_le(buf + off, 8);
			memcpy(&d, &b, 8);
		}
		if (!(d > (double)LLONG_MIN && d < (double)LLONG_MAX)) {
			err_set(e, "%s: %g is not an integer",
				x->text ? x->text : "path", d);
			return -EDOM;
		}
		*out = (int64_t)d;
		return 0;
	}
	uint64_t v = load_le(buf + off, size > 8 ? 8 : (size_t)size);
	if (leaf && leaf->bit_width) {
		v >>= leaf->bit_offset;
		if (leaf->bit_width < 64)
			v &= (1ull << leaf->bit_width) - 1;
		if (t->is_signed && leaf->bit_width < 64 &&
		    (v >> (leaf->bit_width - 1)) & 1)
			v |= ~0ull << leaf->bit_width;
	} else if (t->size < 8 && t->is_signed &&
		   (v >> (t->size * 8 - 1)) & 1) {
		v |= ~0ull << (t->size * 8);
	}
	*out = norm(v, x->ctype);
	return 0;
}

static int binary(const struct expr *x, int64_t a, int64_t b, int64_t *out,
		  struct errbuf *e)
{
	enum expr_ctype ct = x->ctype;
	enum expr_ctype ot = ct; /* the type the operands are converted to */
	uint64_t ua, ub;

	if (x->op == '<' || x->op == '>' || x->op == LP_LE || x->op == LP_GE ||
	    x->op == LP_EQ || x->op == LP_NE) {
		enum expr_ctype at = x->a->ctype, bt = x->b->ctype;
		bool wa = at >= EXPR_LONG, wb = bt >= EXPR_LONG;

		ot = wa == wb ? (at > bt ? at : bt) : (wa ? at : bt);
	}
	if (x->op != LP_SHL && x->op != LP_SHR) {
		a = norm((uint64_t)a, ot);
		b = norm((uint64_t)b, ot);
	}
	ua = (uint64_t)a;
	ub = (uint64_t)b;
	switch (x->op) {
	case '+':
		*out = norm(ua + ub, ct);
		return 0;
	case '-':
		*out = norm(ua - ub, ct);
		return 0;
	case '*':
		*out = norm(ua * ub, ct);
		return 0;
	case '&':
		*out = norm(ua & ub, ct);
		return 0;
	case '|':
		*out = norm(ua | ub, ct);
		return 0;
	case '^':
		*out = norm(ua ^ ub, ct);
		return 0;
	case '/':
	case '%':
		if (b == 0) {
			err_set(e, "%s: division by zero",
				x->text ? x->text : "");
			return -EDOM;
		}
		if (is_uns(ct)) {
			uint64_t ma = width(ct) == 32 ? (uint32_t)ua : ua;
			uint64_t mb = width(ct) == 32 ? (uint32_t)ub : ub;
			*out = norm(x->op == '/' ? ma / mb : ma % mb, ct);
			return 0;
		}
		if (b == -1 && a == (width(ct) == 32 ? INT32_MIN : INT64_MIN)) {
			err_set(e, "%s: overflow", x->text ? x->text : "");
			return -EDOM;
		}
		*out = norm((uint64_t)(x->op == '/' ? a / b : a % b), ct);
		return 0;
	case LP_SHL:
	case LP_SHR:
		if (b < 0 || b >= width(ct) ||
		    (is_uns(x->b->ctype) && (uint64_t)b >= 64)) {
			err_set(e, "%s: shift by %" PRId64 " bits",
				x->text ? x->text : "", b);
			return -EDOM;
		}
		if (x->op == LP_SHL)
			*out = norm(ua << b, ct);
		else if (is_uns(ct))
			*out = norm((width(ct) == 32 ? (uint32_t)ua : ua) >> b,
				    ct);
		else
			*out = norm((uint64_t)(a >> b), ct);
		return 0;
	case '<':
		*out = is_uns(ot) ? ua < ub : a < b;
		return 0;
	case '>':
		*out = is_uns(ot) ? ua > ub : a > b;
		return 0;
	case LP_LE:
		*out = is_uns(ot) ? ua <= ub : a <= b;
		return 0;
	case LP_GE:
		*out = is_uns(ot) ? ua >= ub : a >= b;
		return 0;
	case LP_EQ:
		*out = ua == ub;
		return 0;
	case LP_NE:
		*out = ua != ub;
		return 0;
	}
	err_set(e, "bad operator");
	return -EINVAL;
}

static int eval(const struct expr *x, const struct expr_env *env, int64_t *out,
		struct errbuf *e, int depth)
{
	int64_t a, b;
	int r;

	if (!x || depth > 4 * LAYOUT_MAX_DEPTH) {
		err_set(e, "bad expression");
		return -EINVAL;
	}
	switch (x->kind) {
	case EXPR_NUM:
		*out = norm((uint64_t)x->num, x->ctype);
		return 0;
	case EXPR_PATH:
		return read_path(x, env, out, e, depth);
	case EXPR_UNARY:
		r = eval(x->a, env, &a, e, depth + 1);
		if (r < 0)
			return r;
		switch (x->op) {
		case '-':
			*out = norm(0 - (uint64_t)a, x->ctype);
			return 0;
		case '+':
			*out = norm((uint64_t)a, x->ctype);
			return 0;
		case '~':
			*out = norm(~(uint64_t)a, x->ctype);
			return 0;
		case '!':
			*out = a == 0;
			return 0;
		case 'C': {
			/* a cast: truncate to the target's width */
			uint64_t v = (uint64_t)a;
			unsigned bits = (unsigned)x->num * 8;
			bool sign = x->name && x->name[0] == 's';

			if (bits < 64) {
				v &= (1ull << bits) - 1;
				if (sign && (v >> (bits - 1)) & 1)
					v |= ~0ull << bits;
			}
			*out = norm(v, x->ctype);
			return 0;
		}
		}
		break;
	case EXPR_BINARY:
		r = eval(x->a, env, &a, e, depth + 1);
		if (r < 0)
			return r;
		if (x->op == LP_AND || x->op == LP_OR) {
			if ((x->op == LP_AND) == (a == 0)) {
				*out = x->op == LP_OR;
				return 0;
			}
			r = eval(x->b, env, &b, e, depth + 1);
			if (r < 0)
				return r;
			*out = b != 0;
			return 0;
		}
		r = eval(x->b, env, &b, e, depth + 1);
		if (r < 0)
			return r;
		return binary(x, a, b, out, e);
	case EXPR_COND:
		r = eval(x->a, env, &a, e, depth + 1);
		if (r < 0)
			return r;
		r = eval(a ? x->b : x->c, env, &b, e, depth + 1);
		if (r < 0)
			return r;
		*out = norm((uint64_t)b, x->ctype);
		return 0;
	default:
		break;
	}
	err_set(e, "unbound expression");
	return -EINVAL;
}

int expr_eval(const struct expr *x, const struct expr_env *env, long long *out,
	      struct errbuf *e)
{
	int64_t v;
	int r = eval(x, env, &v, e, 0);

	if (r == 0)
		*out = v;
	return r;
}

int expr_is_unsigned(const struct expr *x)
{
	return is_uns(x->ctype);
}

static int is_const(const struct expr *x, int depth)
{
	if (!x || depth > 4 * LAYOUT_MAX_DEPTH)
		return 0;
	switch (x->kind) {
	case EXPR_NUM:
		return 1;
	case EXPR_UNARY:
		return is_const(x->a, depth + 1);
	case EXPR_BINARY:
		return is_const(x->a, depth + 1) && is_const(x->b, depth + 1);
	case EXPR_COND:
		return is_const(x->a, depth + 1) && is_const(x->b, depth + 1) &&
		       is_const(x->c, depth + 1);
	default:
		return 0;
	}
}

int expr_is_const(const struct expr *x)
{
	return is_const(x, 0);
}

const char *expr_text(const struct expr *x)
{
	return x && x->text ? x->text : "";
}

int expr_ring(const struct layout_field *f, const struct expr_env *env,
	      struct expr_ring_state *out, struct errbuf *e)
{
	const struct layout_ring *r = f->ring;
	long long cap;
	int ret;

	ret = expr_eval(r->head, env, &out->head, e);
	if (ret == 0)
		ret = expr_eval(r->tail, env, &out->tail, e);
	if (ret < 0)
		return ret;
	out->capacity = f->type->kind == LAYOUT_ARRAY ? f->type->count : 0;
	cap = (long long)out->capacity;
	/* the difference in the indexes' own C type, as the program sees it */
	enum expr_ctype ct = r->head->ctype > r->tail->ctype ? r->head->ctype
							     : r->tail->ctype;
	out->used = norm((uint64_t)out->head - (uint64_t)out->tail, ct);
	if (r->wrap && cap > 0) {
		out->used %= cap;
		if (out->used < 0)
			out->used += cap;
	}
	return 0;
}
