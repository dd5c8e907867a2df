/*
 * expr.h - evaluating a layout's expressions (@check, @expect, @ring)
 * against the bytes of a segment.
 *
 * Expressions are parsed with their layout (layout.h) and are bound to the
 * struct they were written in: a field path `write_idx` or `a.b[3].c` is
 * read from the instance of that struct that starts at env->base.  Integer
 * C semantics: int/unsigned/long/unsigned long with the usual arithmetic
 * conversions, so `write_idx - read_idx` on two uint32_t wraps as in C.
 * Reading a sync object (a sem_t stands for its value, a mutex for 1 if
 * held) goes through env->sync_value, supplied by the caller that knows
 * how to decode them.
 */
#ifndef SHMSCOPE_EXPR_H
#define SHMSCOPE_EXPR_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "layout.h"

struct expr_env {
	const void *buf; /* the segment's bytes */
	size_t len;	 /* how many of them may be read */
	uint64_t base;	 /* offset of the struct the expression is bound to */
	/* The integer a sync object of type T stands for, from its SIZE bytes
	 * at BYTES: 0 with *OUT set, or -errno.  NULL: reading a sync object is
	 * an evaluation error ("no decoder"). */
	int (*sync_value)(void *arg, const struct layout_type *t,
			  const void *bytes, long long *out);
	void *arg;
};

/*
 * Evaluate X in ENV.  Returns 0 with the value in *OUT (an unsigned
 * result above LLONG_MAX comes out as its two's complement), or -EDOM
 * (division by zero, bad shift, overflow of INT_MIN / -1), -ERANGE (an
 * index out of its array's bounds, a field outside the buffer), -ENOTSUP
 * (a sync object with no decoder or failing decoder) with a message in E.
 */
int expr_eval(const struct expr *x, const struct expr_env *env, long long *out,
	      struct errbuf *e);

/* A @ring's state (DESIGN.md's "rings" entry). */
struct expr_ring_state {
	long long head;
	long long tail;
	uint64_t capacity; /* elements of the array */
	long long used;	   /* monotonic: head - tail; wrap: (head - tail) mod
			      capacity */
};

/*
 * Evaluate the @ring of field F (F->ring must not be NULL) of the struct
 * instance at env->base.  Returns 0, or what expr_eval() returns.
 */
int expr_ring(const struct layout_field *f, const struct expr_env *env,
	      struct expr_ring_state *out, struct errbuf *e);

/* Whether X's value is unsigned in C (so *out should print as such). */
int expr_is_unsigned(const struct expr *x);

/* Whether X needs no segment bytes (a constant). */
int expr_is_const(const struct expr *x);

/* The expression as written in the layout file. */
const char *expr_text(const struct expr *x);

#endif
