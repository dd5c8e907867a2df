/*
 * ihash.h - a small open-addressing hash from a 64-bit key to an index
 * into the caller's array (the caller compares the full key).  Out of
 * memory ends the program: this is only for shmtrace's own tables.
 */
#ifndef SHMSCOPE_IHASH_H
#define SHMSCOPE_IHASH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct ihash {
	int *slot; /* index + 1, 0 = empty */
	uint64_t *key;
	size_t cap, n;
};

static inline int ihash_get(const struct ihash *h, uint64_t key)
{
	if (!h->cap)
		return -1;
	for (size_t i = key & (h->cap - 1);; i = (i + 1) & (h->cap - 1)) {
		if (!h->slot[i])
			return -1;
		if (h->key[i] == key)
			return h->slot[i] - 1;
	}
}

static inline void ihash_put(struct ihash *h, uint64_t key, int idx);

static inline void ihash_grow(struct ihash *h)
{
	struct ihash n = {0};

	n.cap = h->cap ? h->cap * 2 : 256;
	n.slot = calloc(n.cap, sizeof(*n.slot));
	n.key = calloc(n.cap, sizeof(*n.key));
	if (!n.slot || !n.key) {
		fprintf(stderr, "shmtrace: out of memory\n");
		exit(1);
	}
	for (size_t i = 0; i < h->cap; i++) {
		if (h->slot[i])
			ihash_put(&n, h->key[i], h->slot[i] - 1);
	}
	free(h->slot);
	free(h->key);
	*h = n;
}

static inline void ihash_put(struct ihash *h, uint64_t key, int idx)
{
	size_t i;

	if ((h->n + 1) * 2 > h->cap)
		ihash_grow(h);
	for (i = key & (h->cap - 1); h->slot[i]; i = (i + 1) & (h->cap - 1))
		;
	h->slot[i] = idx + 1;
	h->key[i] = key;
	h->n++;
}

static inline void ihash_free(struct ihash *h)
{
	free(h->slot);
	free(h->key);
}

static inline uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	h *= 0xff51afd7ed558ccdULL;
	return h ^ (h >> 33);
}

#endif
