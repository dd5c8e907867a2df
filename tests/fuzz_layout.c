/*
 * fuzz_layout.c - libFuzzer over the layout parser, the evaluator and the
 * value tree (`make fuzz-layout`, run bounded by `make fuzz-layout-run`).
 *
 * The input is a layout file; its first byte also picks the ABI.  Whatever
 * parses is then used as the inspector would: every type's value tree
 * read from a patterned buffer shorter than some types, formatted and
 * written as JSON, every @check/@expect/@ring evaluated, offsets named.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "expr.h"
#include "layout.h"
#include "value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char fuzz_buf[4096];
static FILE *fuzz_null;

static int fuzz_sync(void *arg, const struct layout_type *t, const void *bytes,
		     long long *out)
{
	(void)arg;
	*out = t->sync == SYNC_SEM ? ((const unsigned char *)bytes)[0] : 1;
	return 0;
}

static void fuzz_eval(const struct expr *x, uint64_t base)
{
	struct expr_env env = {fuzz_buf, sizeof(fuzz_buf), base, fuzz_sync,
			       NULL};
	struct errbuf e;
	long long v;

	if (x)
		expr_eval(x, &env, &v, &e);
}

static void fuzz_on_check(void *arg, const struct value_check *c)
{
	(void)arg;
	if (c->err && !c->why)
		__builtin_trap(); /* an error always says why */
}

static void fuzz_type(const struct layout_type *t)
{
	struct errbuf e;
	struct value_tree *vt;
	char text[256];
	struct json j;

	for (size_t i = 0; i < t->nchecks; i++)
		fuzz_eval(t->checks[i].expr, 0);
	for (size_t i = 0; i < t->nfields; i++) {
		fuzz_eval(t->fields[i].expect, 0);
		if (t->fields[i].ring) {
			fuzz_eval(t->fields[i].ring->head, 0);
			fuzz_eval(t->fields[i].ring->tail, 0);
		}
	}
	vt = value_tree_new(t, "fuzz", 0, 4096, &e);
	if (!vt)
		return;
	value_tree_read(vt, fuzz_buf, sizeof(fuzz_buf) / 2);
	struct expr_env env = {fuzz_buf, sizeof(fuzz_buf) / 2, 0, fuzz_sync,
			       NULL};
	value_tree_checks(vt, &env, fuzz_on_check, NULL);
	for (size_t i = 0; i < vt->nleaves; i++) {
		value_format(vt->leaves[i], text, sizeof(text));
		value_path(vt, vt->leaves[i], text, sizeof(text));
	}
	json_init(&j, fuzz_null, false);
	value_json_fields(&j, vt);
	value_tree_free(vt);
	for (uint64_t off = 0; off < t->size && off < 256; off += 7)
		layout_type_path_at(t, "fuzz", off, text, sizeof(text));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct errbuf e;
	struct layout *l;
	enum abi_id abi =
		size ? (enum abi_id)(data[0] % ABI_COUNT) : ABI_X86_64;

	if (!fuzz_null) {
		fuzz_null = fopen("/dev/null", "w");
		for (size_t i = 0; i < sizeof(fuzz_buf); i++)
			fuzz_buf[i] = (unsigned char)(i * 37 + 11);
	}
	l = layout_parse_string("fuzz.layout", (const char *)data, size, abi,
				LAYOUT_NO_INCLUDE, &e);
	if (!l)
		return 0;
	for (size_t i = 0; layout_type_at(l, i); i++)
		fuzz_type(layout_type_at(l, i));
	if (layout_root(l)) {
		char path[256];

		fuzz_type(layout_root(l));
		layout_path_at(l, 0, path, sizeof(path));
	}
	layout_free(l);
	return 0;
}
