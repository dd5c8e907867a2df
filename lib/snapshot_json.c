/*
 * snapshot_json.c - a snapshot as the JSON object of docs/json.md.
 */
#include "json.h"
#include "snapshot.h"
#include "sync.h"

/* Emit the value of row I; return the index of the row after its subtree. */
static size_t snap_json_value(const struct snapshot *s, size_t i,
			      struct json *j)
{
	const struct snap_row *r = &s->rows[i];
	size_t k = i + 1;

	switch (r->vtype) {
	case SNAP_V_INT:
		json_int(j, r->v.i);
		break;
	case SNAP_V_UINT:
		json_uint(j, r->v.u);
		break;
	case SNAP_V_FLOAT:
		json_double(j, r->v.f);
		break;
	case SNAP_V_BOOL:
		json_bool(j, r->v.u != 0);
		break;
	case SNAP_V_STR:
		json_str(j, r->value ? r->value : "");
		break;
	case SNAP_V_NONE:
		if (!r->has_children) {
			json_null(j); /* unreadable: outside the segment */
			break;
		}
		if (r->is_array)
			json_begin_arr(j);
		else
			json_begin_obj(j);
		while (k < s->nrows && s->rows[k].depth > r->depth) {
			if (!r->is_array)
				json_key(j, s->rows[k].name);
			k = snap_json_value(s, k, j);
		}
		if (r->is_array)
			json_end_arr(j);
		else
			json_end_obj(j);
		return k;
	}
	while (k < s->nrows && s->rows[k].depth > r->depth)
		k++;
	return k;
}

static void snap_json_segment(const struct snapshot *s, struct json *j)
{
	json_key(j, "segment");
	json_begin_obj(j);
	json_kv_str(j, "name", s->name);
	json_kv_str(j, "kind", s->kind);
	json_kv_uint(j, "size", s->size);
	json_kv_uint(j, "dev", s->dev);
	json_kv_uint(j, "ino", s->ino);
	if (s->status_msg)
		json_kv_str(j, "status", s->status_msg);
	json_key(j, "mapped_by");
	json_begin_arr(j);
	for (size_t i = 0; i < s->nprocs; i++) {
		json_begin_obj(j);
		json_kv_int(j, "pid", s->procs[i].pid);
		json_kv_str(j, "comm", s->procs[i].comm);
		json_end_obj(j);
	}
	json_end_arr(j);
	json_end_obj(j);
}

static void snap_json_fields(const struct snapshot *s, struct json *j)
{
	json_key(j, "fields");
	json_begin_arr(j);
	for (size_t i = 0; i < s->nrows; i++) {
		const struct snap_row *r = &s->rows[i];

		/* The root's members; deeper fields are inside their
		 * values, as docs/json.md says. */
		if (r->depth != 1)
			continue;
		json_begin_obj(j);
		json_kv_str(j, "path", r->path);
		json_kv_str(j, "type", r->type);
		json_kv_uint(j, "offset", r->offset);
		json_kv_uint(j, "size", r->size);
		json_key(j, "value");
		snap_json_value(s, i, j);
		json_end_obj(j);
	}
	json_end_arr(j);
}

static void snap_json_sync(const struct snapshot *s, struct json *j)
{
	json_key(j, "sync");
	json_begin_arr(j);
	for (size_t i = 0; i < s->nsyncs; i++) {
		const struct snap_sync *y = &s->syncs[i];

		json_begin_obj(j);
		json_kv_str(j, "path", y->path);
		json_kv_uint(j, "offset", y->offset);
		if (y->st.kind != SYNC_NONE) {
			/* What the decoder found, with its kind's extras
			 * (type, robust, recursion, readers, clock, ...). */
			sync_json(j, &y->st);
		} else {
			json_kv_str(j, "kind", sync_kind_name(y->kind));
			json_kv_str(j, "state", y->state);
			json_kv_int(j, "value", y->value);
			json_kv_int(j, "waiters", y->waiters);
			if (y->owner_tid)
				json_kv_int(j, "owner_tid", y->owner_tid);
			else
				json_kv_null(j, "owner_tid");
			if (y->detail[0])
				json_kv_str(j, "detail", y->detail);
		}
		if (y->owner_tid && y->owner_pid)
			json_kv_int(j, "owner_pid", y->owner_pid);
		else
			json_kv_null(j, "owner_pid");
		if (y->owner_tid && y->owner_comm[0])
			json_kv_str(j, "owner_comm", y->owner_comm);
		else
			json_kv_null(j, "owner_comm");
		if (y->owner_tid && y->owner_alive >= 0)
			json_kv_bool(j, "owner_alive", y->owner_alive);
		else
			json_kv_null(j, "owner_alive");
		json_key(j, "waiting");
		json_begin_arr(j);
		for (size_t w = 0; w < y->nwaiting; w++) {
			json_begin_obj(j);
			json_kv_int(j, "pid", y->waiting[w].pid);
			json_kv_int(j, "tid", y->waiting[w].tid);
			json_kv_str(j, "comm", y->waiting[w].comm);
			json_end_obj(j);
		}
		json_end_arr(j);
		json_end_obj(j);
	}
	json_end_arr(j);
}

static void snap_json_rings_checks(const struct snapshot *s, struct json *j)
{
	json_key(j, "rings");
	json_begin_arr(j);
	for (size_t i = 0; i < s->nrings; i++) {
		const struct snap_ring *r = &s->rings[i];

		json_begin_obj(j);
		json_kv_str(j, "path", r->path);
		json_kv_uint(j, "head", r->head);
		json_kv_uint(j, "tail", r->tail);
		json_kv_uint(j, "capacity", r->capacity);
		json_kv_uint(j, "used", r->used);
		json_kv_bool(j, "valid", r->valid);
		json_end_obj(j);
	}
	json_end_arr(j);
	json_key(j, "checks");
	json_begin_arr(j);
	for (size_t i = 0; i < s->nchecks; i++) {
		const struct snap_check *c = &s->checks[i];

		json_begin_obj(j);
		json_kv_str(j, "expr", c->expr);
		json_kv_bool(j, "ok", c->ok);
		if (c->error)
			json_kv_str(j, "error", c->error);
		json_end_obj(j);
	}
	json_end_arr(j);
}

void snap_write_json(const struct snapshot *s, struct json *j)
{
	json_begin_obj(j);
	json_kv_double(j, "time",
		       (double)s->when.tv_sec + s->when.tv_nsec / 1e9);
	snap_json_segment(s, j);
	if (s->root_type)
		json_kv_str(j, "type", s->root_type);
	snap_json_fields(s, j);
	snap_json_sync(s, j);
	snap_json_rings_checks(s, j);
	json_end_obj(j);
}
