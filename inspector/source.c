/*
 * source.c - a tab of the live view fed by snap_take(): the TUI's
 * struct tui_source over a struct snap_source.
 *
 * --sample-hz wants ring fills and lock words thousands of times a second,
 * far more often than a whole snapshot can be built.  A sample copies the
 * segment's bytes once (seg_read never reads past the end, so a shrink
 * cannot raise SIGBUS) and evaluates only the rings and the sync words the
 * last snapshot listed, in its order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "inspector.h"
#include "layout.h"
#include "snapshot.h"
#include "tui.h"
#include "value.h"

struct view_source {
	struct snap_source src;
	/* What a sample reads, from the last snapshot. */
	const struct layout_field **ring_field;
	uint64_t *ring_base;
	size_t nrings;
	uint64_t *sync_off;
	size_t nsyncs;
	uint8_t *scratch;
	size_t scratch_cap;
};

/* Remember the rings and sync objects of S for the samples that follow. */
static int source_remember(struct view_source *vs, const struct snapshot *s)
{
	const struct value_tree *vt = vs->src.vt;
	size_t nr = 0;

	free(vs->ring_field);
	free(vs->ring_base);
	free(vs->sync_off);
	vs->ring_field = calloc(s->nrings + 1, sizeof(*vs->ring_field));
	vs->ring_base = calloc(s->nrings + 1, sizeof(*vs->ring_base));
	vs->sync_off = calloc(s->nsyncs + 1, sizeof(*vs->sync_off));
	vs->nrings = vs->nsyncs = 0;
	if (!vs->ring_field || !vs->ring_base || !vs->sync_off)
		return -ENOMEM;
	for (size_t i = 0; vt && i < s->nrings; i++) {
		const struct value *v = value_find(vt, s->rings[i].path);

		if (!v || !v->field || !v->field->ring)
			break;
		vs->ring_field[nr] = v->field;
		vs->ring_base[nr] = v->parent ? v->parent->offset : 0;
		nr++;
	}
	vs->nrings = nr;
	for (size_t i = 0; i < s->nsyncs; i++)
		vs->sync_off[i] = s->syncs[i].offset;
	vs->nsyncs = s->nsyncs;
	return 0;
}

static int source_take(void *ctx, struct snapshot *out, struct errbuf *e)
{
	struct view_source *vs = ctx;
	int rc = snap_take(&vs->src, out, e);

	if (rc == 0 && source_remember(vs, out) < 0) {
		snap_free(out);
		err_set(e, "out of memory");
		return -ENOMEM;
	}
	return rc;
}

static int source_sample(void *ctx, struct tui_sample *out)
{
	struct view_source *vs = ctx;
	struct seg *seg = &vs->src.seg;
	ssize_t n;

	if (seg->size > vs->scratch_cap) {
		uint8_t *b = realloc(vs->scratch, seg->size);

		if (!b)
			return -ENOMEM;
		vs->scratch = b;
		vs->scratch_cap = seg->size;
	}
	n = seg->size ? seg_read(seg, 0, vs->scratch, seg->size) : 0;
	if (n < 0)
		return (int)n;
	if (out->nrings > vs->nrings)
		out->nrings = vs->nrings;
	for (size_t i = 0; i < out->nrings; i++) {
		struct expr_env env = {
			.buf = vs->scratch,
			.len = (size_t)n,
			.base = vs->ring_base[i],
		};
		struct expr_ring_state rs;

		out->used[i] = expr_ring(vs->ring_field[i], &env, &rs, NULL)
				       ? 0
				       : (uint64_t)rs.used;
	}
	if (out->nsyncs > vs->nsyncs)
		out->nsyncs = vs->nsyncs;
	for (size_t i = 0; i < out->nsyncs; i++) {
		uint32_t w = 0;

		/* Every sync object starts with its futex word. */
		if (vs->sync_off[i] + 4 <= (uint64_t)n)
			memcpy(&w, vs->scratch + vs->sync_off[i], 4);
		out->state[i] = w;
	}
	return 0;
}

static int source_reattach(void *ctx, struct errbuf *e)
{
	struct view_source *vs = ctx;

	return snap_source_reattach(&vs->src, e);
}

struct view_source *view_source_open(const char *target, const struct layout *l,
				     const char *type_name, struct errbuf *e)
{
	struct view_source *vs = calloc(1, sizeof(*vs));

	if (!vs) {
		err_set(e, "out of memory");
		return NULL;
	}
	if (snap_source_open(&vs->src, target, l, type_name, e) < 0) {
		free(vs);
		return NULL;
	}
	/* A new mapper shows within a second; a dead one at once. */
	vs->src.mappers_ttl_ms = 1000;
	return vs;
}

void view_source_tui(struct view_source *vs, struct tui_source *t)
{
	memset(t, 0, sizeof(*t));
	t->take = source_take;
	t->sample = source_sample;
	t->reattach = source_reattach;
	t->ctx = vs;
	t->title = vs->src.seg.name;
}

int view_source_take(struct view_source *vs, struct snapshot *out,
		     struct errbuf *e)
{
	return snap_take(&vs->src, out, e);
}

void view_source_close(struct view_source *vs)
{
	if (!vs)
		return;
	snap_source_close(&vs->src);
	free(vs->ring_field);
	free(vs->ring_base);
	free(vs->sync_off);
	free(vs->scratch);
	free(vs);
}
