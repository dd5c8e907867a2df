/* The snapshot's JSON: nesting of aggregate values, sync and ring entries. */
#include "test.h"

#include "json.h"
#include "snapshot.h"

static struct snap_row *add_row(struct snapshot *s, int depth, int parent,
				const char *name, const char *path)
{
	struct snap_row *r = &s->rows[s->nrows++];

	r->depth = depth;
	r->parent = parent;
	r->name = snap_strdup(s, name);
	r->path = snap_strdup(s, path);
	r->type = "uint32_t";
	r->sync = -1;
	return r;
}

static void test_snapshot_json_nesting(void)
{
	struct snapshot s = {0};
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	struct json j;
	struct snap_row *r;

	s.name = "/t";
	s.kind = "posix";
	s.size = 64;
	s.rows = snap_alloc(&s, 8 * sizeof(*s.rows));
	CHECK(s.rows != NULL);
	r = add_row(&s, 0, -1, "ring", "ring");
	r->has_children = true;
	r = add_row(&s, 1, 0, "idx", "ring.idx");
	r->vtype = SNAP_V_UINT;
	r->v.u = 7;
	r = add_row(&s, 1, 0, "slots", "ring.slots");
	r->is_array = r->has_children = true;
	r = add_row(&s, 2, 2, "slots[0]", "ring.slots[0]");
	r->has_children = true;
	r = add_row(&s, 3, 3, "seq", "ring.slots[0].seq");
	r->vtype = SNAP_V_INT;
	r->v.i = -1;
	r = add_row(&s, 3, 3, "text", "ring.slots[0].text");
	r->vtype = SNAP_V_STR;
	r->value = "hi";
	s.syncs = snap_alloc(&s, sizeof(*s.syncs));
	s.nsyncs = 1;
	s.syncs[0].path = "ring.lock";
	s.syncs[0].kind = SYNC_MUTEX;
	snprintf(s.syncs[0].state, sizeof(s.syncs[0].state), "locked");
	s.syncs[0].owner_tid = 42;
	s.syncs[0].owner_alive = 0;

	f = open_memstream(&buf, &len);
	CHECK(f != NULL);
	json_init(&j, f, false);
	snap_write_json(&s, &j);
	fclose(f);
	CHECK(strstr(buf, "\"path\":\"ring.slots\",\"type\":\"uint32_t\","
			  "\"offset\":0,\"size\":0,"
			  "\"value\":[{\"seq\":-1,\"text\":\"hi\"}]") != NULL);
	CHECK(strstr(buf, "\"path\":\"ring.idx\",\"type\":\"uint32_t\","
			  "\"offset\":0,\"size\":0,\"value\":7}") != NULL);
	CHECK(strstr(buf, "\"state\":\"locked\",\"value\":0,\"waiters\":0,"
			  "\"owner_tid\":42,\"owner_pid\":null,"
			  "\"owner_comm\":null,\"owner_alive\":false") != NULL);
	free(buf);
	snap_free(&s);
	CHECK(s.arena_ == NULL);
}

int main(void)
{
	RUN(test_snapshot_json_nesting);
	return test_done();
}
