#include "snapshot.h"

#include <stdlib.h>
#include <string.h>

/*
 * A snapshot is built once and freed whole, so its strings and arrays come
 * from a chain of blocks rather than one malloc each: freeing thousands of
 * rows ten times a second would otherwise dominate the inspector's CPU.
 */
struct snap_block {
	struct snap_block *next;
	size_t used, cap;
	max_align_t data[];
};

#define SNAP_BLOCK_MIN (64 * 1024)

void *snap_alloc_raw(struct snapshot *s, size_t n)
{
	struct snap_block *b = s->arena_;
	size_t a = sizeof(max_align_t);
	size_t need = (n + a - 1) / a * a;

	if (need < n)
		return NULL;
	if (!b || b->cap - b->used < need) {
		size_t cap = need > SNAP_BLOCK_MIN ? need : SNAP_BLOCK_MIN;

		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->next = s->arena_;
		b->used = 0;
		b->cap = cap;
		s->arena_ = b;
	}
	void *p = (char *)b->data + b->used;
	b->used += need;
	return p;
}

void *snap_alloc(struct snapshot *s, size_t n)
{
	void *p = snap_alloc_raw(s, n);

	if (p)
		memset(p, 0, n);
	return p;
}

char *snap_strdup(struct snapshot *s, const char *str)
{
	size_t n = strlen(str) + 1;
	char *p = snap_alloc(s, n);

	if (p)
		memcpy(p, str, n);
	return p;
}

void snap_free(struct snapshot *s)
{
	struct snap_block *b = s->arena_;

	while (b) {
		struct snap_block *next = b->next;

		free(b);
		b = next;
	}
	memset(s, 0, sizeof(*s));
}
