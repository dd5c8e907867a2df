/*
 * test_layout_parse.c - the layout language: annotations, errors with their
 * messages, expressions with C's integer rules, values out of bytes, the
 * aarch64 facts, naming offsets.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "expr.h"
#include "layout.h"
#include "test.h"
#include "value.h"

static struct layout *parse(const char *text, enum abi_id abi, struct errbuf *e)
{
	return layout_parse_string("t.layout", text, strlen(text), abi, 0, e);
}

/* Parsing TEXT fails and the messages contain WANT. */
#define CHECK_ERROR(text, want)                                          \
	do {                                                             \
		struct errbuf e_;                                        \
		struct layout *l_ = parse(text, ABI_X86_64, &e_);        \
		layout_free(l_);                                         \
		CHECK(l_ == NULL);                                       \
		if (!strstr(e_.msg, want)) {                             \
			test_fail(__FILE__, __LINE__,                    \
				  "message \"%s\" lacks \"%s\"", e_.msg, \
				  want);                                 \
			return;                                          \
		}                                                        \
	} while (0)

static const struct layout_field *field(const struct layout_type *t,
					const char *name)
{
	uint64_t off;

	return layout_field_find(t, name, &off);
}

static void test_ring_layout(void)
{
	struct errbuf e;
	struct layout *l = layout_parse_file("tests/layout/ring.layout",
					     ABI_X86_64, 0, &e);
	const struct layout_type *r;

	CHECK(l != NULL);
	r = layout_root(l);
	CHECK_STR(r->name, "struct ring");
	CHECK_STR(r->segment, "/demo_ring");
	CHECK_INT(r->nchecks, 2);
	CHECK_STR(r->checks[1].text, "write_idx - read_idx <= 16");
	CHECK_INT(field(r, "lock")->offset, 8);
	CHECK_INT(field(r, "lock")->type->sync, SYNC_MUTEX);
	CHECK_INT(field(r, "empty_slots")->type->sync, SYNC_SEM);
	CHECK_INT(field(r, "slots")->offset, 120);
	CHECK_INT(field(r, "slots")->type->count, 16);
	CHECK(field(r, "slots")->ring != NULL);
	CHECK(field(r, "magic")->flags & LAYOUT_F_HEX);
	CHECK(field(r, "magic")->expect != NULL);
	CHECK_INT(r->size, 1912);
	CHECK(layout_find_type(l, "message") != NULL);
	CHECK(layout_find_type(l, "struct message") != NULL);
	layout_free(l);
}

static void test_errors_have_position_and_token(void)
{
	CHECK_ERROR("struct a {\n\tfoo_t x;\n};",
		    "t.layout:2:2: unknown type 'foo_t'");
	CHECK_ERROR("struct a { int x; char x; };",
		    "t.layout:1:24: duplicate field 'x'");
	CHECK_ERROR("struct a { int x; union { int x; }; };",
		    "duplicate field 'x'");
	CHECK_ERROR("struct a { int x; };\n/* never closed\n",
		    "t.layout:2:1: unterminated comment '/*'");
	CHECK_ERROR("struct a @segment(42) { int x; };",
		    "t.layout:1:19: bad annotation argument '42': @segment "
		    "needs a segment name in quotes");
	CHECK_ERROR("struct a { int r[4] @ring(head = 1, size = 2); };",
		    "bad annotation argument 'size'");
	CHECK_ERROR("struct a { int x @offset(-4); };",
		    "bad annotation argument '-'");
	CHECK_ERROR(
		"struct a { int n; char b[n]; };",
		"t.layout:1:26: array length is not an integer constant: 'n'");
	CHECK_ERROR("struct a { char b[2 - 3]; };",
		    "t.layout:1:18: array length is negative: -1");
	CHECK_ERROR(
		"struct a { char b[1ULL << 40]; };",
		"array 'b' is too large: 1099511627776 elements of 1 bytes");
	CHECK_ERROR("struct a { struct b x; };",
		    "field 'x' has incomplete type 'struct b'");
	CHECK_ERROR("struct a { int x; } @check(y > 0);",
		    "@check: unknown field or constant 'y'");
	CHECK_ERROR("struct a { int x : 40; };",
		    "width 40 of bitfield 'x' does not fit its type 'int'");
	CHECK_ERROR("struct a { int x @frobnicate; };",
		    "unknown annotation '@frobnicate'");
	CHECK_ERROR("struct a { int x; } @hex;",
		    "@hex is not allowed on a struct");
	CHECK_ERROR("struct a { char s[4] @string @hex(3); };",
		    "bad annotation argument '('");
	CHECK_ERROR("struct a { int x @string; };",
		    "@string on 'x', which is not a char array");
	CHECK_ERROR("struct a { int x; }; struct a { int y; };",
		    "redefinition of 'struct a'");
	CHECK_ERROR("struct a { long double d; };",
		    "long double is not supported");
	CHECK_ERROR("struct a { int x }", "expected ';' before '}'");
	CHECK_ERROR("struct a { char c[\"x\"]; };", "expected an expression");
}

static void test_several_errors_reported(void)
{
	struct errbuf e;
	struct layout *l = parse("struct a { foo_t x; };\n"
				 "struct b { int y; int y; };\n"
				 "struct c { char z[-1]; };\n",
				 ABI_X86_64, &e);

	CHECK(l == NULL);
	CHECK(strstr(e.msg, "t.layout:1:12: unknown type 'foo_t'") != NULL);
	CHECK(strstr(e.msg, "t.layout:2:23: duplicate field 'y'") != NULL);
	CHECK(strstr(e.msg, "t.layout:3:18: array length is negative: -1") !=
	      NULL);
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

static void test_include(void)
{
	char dir[] = "/tmp/shmscope-layout-inc.XXXXXX", a[128], b[128], c[128];
	struct errbuf e;
	struct layout *l;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(a, sizeof(a), "%s/a.layout", dir);
	snprintf(b, sizeof(b), "%s/sub/b.layout", dir);
	snprintf(c, sizeof(c), "%s/sub", dir);
	CHECK(mkdir(c, 0700) == 0);
	/* relative to the including file; included twice is included once */
	CHECK(write_file(
		      a,
		      "#include \"sub/b.layout\"\n#include \"sub/b.layout\"\n"
		      "struct top { struct inner i; char pad[N]; };\n") == 0);
	CHECK(write_file(b, "#define N (2 + 3)\nstruct inner { long x; };\n") ==
	      0);
	l = layout_parse_file(a, ABI_X86_64, 0, &e);
	if (!l)
		printf("# %s\n", e.msg);
	CHECK(l != NULL);
	CHECK_INT(layout_root(l)->size, 16);
	layout_free(l);

	/* a cycle: b includes a */
	CHECK(write_file(b, "#include \"../a.layout\"\nstruct inner { long x; "
			    "};\n") == 0);
	l = layout_parse_file(a, ABI_X86_64, 0, &e);
	CHECK(l == NULL);
	if (!strstr(e.msg, "include cycle: '") ||
	    !strstr(e.msg, "a.layout' includes itself")) {
		test_fail(__FILE__, __LINE__, "%s", e.msg);
		goto out;
	}
	CHECK(strstr(e.msg, "sub/b.layout:1:10:") != NULL);
	/* not a regular file: refused, not read forever */
	l = layout_parse_string("x", "#include \"/dev/zero\"\n", 21, ABI_X86_64,
				0, &e);
	CHECK(l == NULL);
	CHECK(strstr(e.msg, "'/dev/zero' is not a regular file") != NULL);
	l = layout_parse_file("/dev/zero", ABI_X86_64, 0, &e);
	CHECK(l == NULL);
	/* disabled for fuzzing */
	l = layout_parse_string("x", "#include \"a\"\n", 13, ABI_X86_64,
				LAYOUT_NO_INCLUDE, &e);
	CHECK(l == NULL);
	CHECK(strstr(e.msg, "#include is not allowed here") != NULL);
out:
	unlink(a);
	unlink(b);
	rmdir(c);
	rmdir(dir);
}

static void test_pasted_header(void)
{
	/* what people paste: typedefs, guards, prototypes, attributes */
	static const char text[] =
		"#ifndef SHARED_H\n#define SHARED_H\n"
		"#include <stdint.h>\n" /* ignored: a system include is a # line
					 */
		"#define MAX(a, b) ((a) > (b) ? (a) : (b))\n"
		"#define VERSION \"1.0\"\n"
		"typedef struct node node_t;\n"
		"struct node { node_t *next; int v; };\n"
		"typedef enum { IDLE, BUSY = 4 } state_t;\n"
		"int do_things(int x, const char *y);\n"
		"static inline int f(void) { return 1; }\n"
		"typedef struct __attribute__((packed)) { uint8_t a; uint32_t "
		"b; } hdr_t;\n"
		"struct all { node_t n; state_t s; hdr_t h; volatile _Atomic "
		"uint64_t c;\n"
		"    unsigned long flags; const char *name; void (*cb)(void "
		"*); };\n"
		"#endif\n";
	struct errbuf e;
	struct layout *l = layout_parse_string(
		"h.layout", text, sizeof(text) - 1, ABI_X86_64, 0, &e);
	const struct layout_type *t;

	if (!l)
		printf("# %s\n", e.msg);
	CHECK(l != NULL);
	t = layout_root(l);
	CHECK_STR(t->name, "struct all");
	CHECK_INT(field(t, "s")->offset, 16);
	CHECK_STR(field(t, "s")->type->name, "state_t");
	CHECK_INT(field(t, "h")->offset, 20);
	CHECK_INT(field(t, "h")->type->size, 5);
	CHECK_INT(field(t, "c")->offset, 32);
	CHECK_INT(field(t, "cb")->offset, 56);
	CHECK_INT(t->size, 64);
	layout_free(l);
}

static void test_offset_and_packed_annotations(void)
{
	struct errbuf e;
	struct layout *l = parse("struct p @packed { char a; int b; };\n"
				 "struct q { char a; int b @packed; long c "
				 "@offset(64); char d; };\n",
				 ABI_X86_64, &e);
	const struct layout_type *p, *q;

	CHECK(l != NULL);
	p = layout_find_type(l, "p");
	q = layout_find_type(l, "q");
	CHECK_INT(p->size, 5);
	CHECK_INT(p->align, 1);
	CHECK_INT(field(q, "b")->offset, 1);
	CHECK_INT(field(q, "c")->offset, 64);
	CHECK_INT(field(q, "d")->offset, 72);
	CHECK_INT(q->size, 80);
	layout_free(l);
	CHECK_ERROR("struct q { long a; long c @offset(4); };",
		    "@offset(4) of 'c' overlaps the field before it");
}

static void test_aarch64_known_values(void)
{
	/* AAPCS64 + glibc's aarch64 bits/pthreadtypes-arch.h, by hand */
	struct errbuf e;
	struct layout *l = parse(
		"struct s { char a; pthread_mutex_t m; sem_t s; char b;\n"
		"  pthread_rwlock_t rw; pthread_cond_t c; pthread_spinlock_t "
		"sp;\n"
		"  pthread_barrier_t bar; long l; wchar_t w; nlink_t nl;\n"
		"  blksize_t bs; void *p; };\n"
		"struct bits { char c : 3; unsigned x : 30; char y; };\n",
		ABI_AARCH64, &e);
	const struct layout_type *s, *b;

	CHECK(l != NULL);
	s = layout_find_type(l, "s");
	CHECK_INT(field(s, "m")->offset, 8);
	CHECK_INT(field(s, "m")->type->size, 48);
	CHECK_INT(field(s, "s")->offset, 56);
	CHECK_INT(field(s, "s")->type->size, 32);
	CHECK_INT(field(s, "b")->offset, 88);
	CHECK_INT(field(s, "rw")->offset, 96);
	CHECK_INT(field(s, "rw")->type->size, 56);
	CHECK_INT(field(s, "c")->offset, 152);
	CHECK_INT(field(s, "c")->type->size, 48);
	CHECK_INT(field(s, "sp")->offset, 200);
	CHECK_INT(field(s, "bar")->offset, 208);
	CHECK_INT(field(s, "bar")->type->size, 32);
	CHECK_INT(field(s, "l")->offset, 240);
	CHECK_INT(field(s, "w")->offset, 248);
	CHECK(!field(s, "w")->type->is_signed); /* wchar_t: unsigned int */
	CHECK_INT(field(s, "nl")->offset, 252); /* nlink_t: unsigned int */
	CHECK_INT(field(s, "bs")->offset, 256); /* blksize_t: int */
	CHECK_INT(field(s, "p")->offset, 264);
	CHECK_INT(s->size, 272);
	CHECK(!layout_find_type(l, "char")->is_signed); /* plain char */
	b = layout_find_type(l, "bits");
	CHECK_INT(field(b, "x")->offset * 8 + field(b, "x")->bit_offset, 32);
	CHECK_INT(field(b, "y")->offset, 8);
	CHECK_INT(b->size, 12);
	layout_free(l);
}

static void test_i386_known_values(void)
{
	struct errbuf e;
	struct layout *l = parse("struct s { char a; long long ll; double d;\n"
				 "  pthread_mutex_t m; sem_t s; "
				 "pthread_barrier_t b; long l; };\n",
				 ABI_I386, &e);
	const struct layout_type *s;

	CHECK(l != NULL);
	s = layout_root(l);
	CHECK_INT(field(s, "ll")->offset, 4); /* 4-aligned inside structs */
	CHECK_INT(field(s, "d")->offset, 12);
	CHECK_INT(field(s, "m")->offset, 20);
	CHECK_INT(field(s, "s")->offset, 44);
	CHECK_INT(field(s, "b")->offset, 60);
	CHECK_INT(field(s, "l")->offset, 80);
	CHECK_INT(s->size, 84);
	CHECK_INT(s->align, 4);
	layout_free(l);
}

/* ---- expressions --------------------------------------------------------- */
static int fake_sync(void *arg, const struct layout_type *t, const void *bytes,
		     long long *out)
{
	(void)arg;
	(void)bytes;
	*out = t->sync == SYNC_SEM ? 7 : 1;
	return 0;
}

static const char expr_layout[] =
	"#define CAP 16\n"
	"enum st { A = 1, B = 2 };\n"
	"struct msg { uint64_t seq; uint32_t len; };\n"
	"struct r {\n"
	"  uint32_t w, rd; int32_t neg; uint8_t small; sem_t s; "
	"pthread_mutex_t m;\n"
	"  int idx; struct msg slots[4]; unsigned bf : 3; int sbf : 4; int "
	"zero;\n"
	"} @check(w - rd <= CAP)\n"
	"  @check(neg < 0u)\n"
	"  @check(neg < 0)\n"
	"  @check(slots[idx].seq == 42 && slots[1].len + 1 == 10)\n"
	"  @check(s + m == 8)\n"
	"  @check(sizeof(struct msg) == 16 && offsetof(struct msg, len) == 8)\n"
	"  @check((uint8_t)(small + 1) == 0 && -small < 0 && ~0u == "
	"4294967295)\n"
	"  @check(bf == 7 && sbf == -1 && B << 3 == 16 && (A ? 10 : 20) == "
	"10)\n"
	"  @check(100 / zero)\n"
	"  @check(slots[idx + 3].seq)\n"
	"  @check(1 << 40)\n"
	"  @check(1LL << 40 == 1099511627776 && -7 / 2 == -3 && -7 % 2 == -1)\n"
	"  @check(sizeof slots == 64 && sizeof(uint16_t *) == 8);\n";

static void test_expressions(void)
{
	struct errbuf e;
	struct layout *l = parse(expr_layout, ABI_X86_64, &e);
	const struct layout_type *r;
	unsigned char buf[256] = {0};
	struct expr_env env = {buf, 0, 0, NULL, NULL};
	long long v;
	const struct layout_field *f;

	if (!l)
		printf("# %s\n", e.msg);
	CHECK(l != NULL);
	r = layout_root(l);
	env.len = r->size;
	/* w = 3, rd = 5: w - rd wraps to 4294967294 as in C */
	buf[field(r, "w")->offset] = 3;
	buf[field(r, "rd")->offset] = 5;
	memset(buf + field(r, "neg")->offset, 0xff, 4); /* -1 */
	buf[field(r, "small")->offset] = 255;
	buf[field(r, "idx")->offset] = 2;
	f = field(r, "slots");
	buf[f->offset + 2 * 16] = 42; /* slots[2].seq */
	buf[f->offset + 16 + 8] = 9;  /* slots[1].len */
	f = field(r, "bf");
	buf[f->offset] = 0x7f; /* bf = 7, sbf = 0xf = -1 */

	CHECK_INT(expr_eval(r->checks[0].expr, &env, &v, &e), 0);
	CHECK_INT(v, 0);
	CHECK_INT(expr_eval(r->checks[1].expr, &env, &v, &e), 0);
	CHECK_INT(v, 0); /* -1 converted to unsigned is not < 0u */
	CHECK_INT(expr_eval(r->checks[2].expr, &env, &v, &e), 0);
	CHECK_INT(v, 1);
	CHECK_INT(expr_eval(r->checks[3].expr, &env, &v, &e), 0);
	CHECK_INT(v, 1);
	/* sync objects need the caller's decoder */
	CHECK_INT(expr_eval(r->checks[4].expr, &env, &v, &e), -ENOTSUP);
	CHECK(strstr(e.msg, "no decoder for sem_t") != NULL);
	env.sync_value = fake_sync;
	CHECK_INT(expr_eval(r->checks[4].expr, &env, &v, &e), 0);
	CHECK_INT(v, 1);
	for (int i = 5; i <= 7; i++) {
		CHECK_INT(expr_eval(r->checks[i].expr, &env, &v, &e), 0);
		CHECK_INT(v, 1);
	}
	CHECK_INT(expr_eval(r->checks[8].expr, &env, &v, &e), -EDOM);
	CHECK(strstr(e.msg, "division by zero") != NULL);
	CHECK_INT(expr_eval(r->checks[9].expr, &env, &v, &e), -ERANGE);
	CHECK(strstr(e.msg, "index 5 is out of range 0..3") != NULL);
	CHECK_INT(expr_eval(r->checks[10].expr, &env, &v, &e), -EDOM);
	CHECK(strstr(e.msg, "shift by 40 bits") != NULL);
	CHECK_INT(expr_eval(r->checks[11].expr, &env, &v, &e), 0);
	CHECK_INT(v, 1);
	CHECK_INT(expr_eval(r->checks[12].expr, &env, &v, &e), 0);
	CHECK_INT(v, 1);
	/* a buffer too short is an error, not a read past it */
	env.len = 8;
	CHECK_INT(expr_eval(r->checks[3].expr, &env, &v, &e), -ERANGE);
	CHECK(strstr(e.msg, "outside the 8 bytes") != NULL);
	CHECK_STR(expr_text(r->checks[0].expr), "w - rd <= CAP");
	layout_free(l);

	/* rings: used as the program computes it */
	l = parse("struct q { uint32_t h, t; int ring[8] @ring(head = h, tail "
		  "= t);\n"
		  "  int16_t wh, wt; int w[5] @ring(head = wh, tail = wt, mode "
		  "= wrap); };",
		  ABI_X86_64, &e);
	CHECK(l != NULL);
	r = layout_root(l);
	struct expr_ring_state rs;
	uint32_t ht[2] = {10, 4};
	int16_t w2[2] = {1, 3};
	memset(buf, 0, sizeof(buf));
	memcpy(buf, ht, 8);
	memcpy(buf + field(r, "wh")->offset, w2, 4);
	env.len = r->size;
	CHECK_INT(expr_ring(field(r, "ring"), &env, &rs, &e), 0);
	CHECK_INT(rs.head, 10);
	CHECK_INT(rs.tail, 4);
	CHECK_INT(rs.capacity, 8);
	CHECK_INT(rs.used, 6);
	CHECK_INT(expr_ring(field(r, "w"), &env, &rs, &e), 0);
	CHECK_INT(rs.used, 3); /* (1 - 3) mod 5 */
	ht[0] = 2;	       /* head behind tail: uint32_t wraps */
	memcpy(buf, ht, 8);
	CHECK_INT(expr_ring(field(r, "ring"), &env, &rs, &e), 0);
	CHECK_INT(rs.used, 4294967294LL);
	layout_free(l);
}

/* ---- values -------------------------------------------------------------- */
static void test_values(void)
{
	struct errbuf e;
	struct layout *l = layout_parse_file("tests/layout/ring.layout",
					     ABI_X86_64, 0, &e);
	const struct layout_type *r;
	struct value_tree *vt;
	unsigned char buf[2048];
	const struct value *v;
	char path[128], text[128];
	char *json = NULL;
	size_t jlen = 0;

	CHECK(l != NULL);
	r = layout_root(l);
	memset(buf, 0, sizeof(buf));
	memcpy(buf, "GNIR", 4); /* 0x52494e47 little-endian */
	buf[112] = 9;		/* write_idx */
	memcpy(buf + 120 + 3 * 112 + 12, "hello\0world", 11);
	memset(buf + 120 + 4 * 112 + 12, 'x', 100); /* no NUL at all */
	vt = value_tree_new(r, layout_type_path_name(r), 0, 0, &e);
	CHECK(vt != NULL);
	value_tree_read(vt, buf, r->size);
	CHECK_INT(vt->nnodes, 1 + 7 + 16 + 16 * 3);
	v = value_find(vt, "ring.magic");
	CHECK(v != NULL);
	value_format(v, text, sizeof(text));
	CHECK_STR(text, "0x52494e47");
	v = value_find(vt, "ring.slots[3].text");
	CHECK(v != NULL);
	CHECK_INT(v->kind, VALUE_STRING);
	CHECK_STR(v->str, "hello");
	CHECK_INT(v->offset, 120 + 3 * 112 + 12);
	value_path(vt, v, path, sizeof(path));
	CHECK_STR(path, "ring.slots[3].text");
	v = value_find(vt, "ring.slots[4].text");
	CHECK_INT(v->str_len, 100); /* stops at the field's end */
	v = value_find(vt, "ring.lock");
	CHECK_INT(v->kind, VALUE_SYNC);
	CHECK_INT(v->size, 40);
	CHECK(value_find(vt, "ring.slots[16]") == NULL);
	CHECK(value_find(vt, "ring.nope") == NULL);
	/* leaves come in offset order */
	for (size_t i = 1; i < vt->nleaves; i++)
		CHECK(vt->leaves[i - 1]->offset <= vt->leaves[i]->offset);
	/* a short buffer: what is outside it is unreadable, not read */
	value_tree_read(vt, buf, 100);
	CHECK_INT(value_find(vt, "ring.write_idx")->kind, VALUE_NONE);
	CHECK_INT(value_find(vt, "ring.magic")->kind, VALUE_UINT);
	value_tree_read(vt, buf, r->size);

	FILE *f = open_memstream(&json, &jlen);
	struct json j;
	json_init(&j, f, false);
	value_json_fields(&j, vt);
	fclose(f);
	CHECK(strstr(json,
		     "{\"path\":\"ring.magic\",\"type\":\"uint32_t\","
		     "\"offset\":0,\"size\":4,\"value\":1380535879}") != NULL);
	CHECK(strstr(json,
		     "{\"path\":\"ring.lock\",\"type\":\"pthread_mutex_"
		     "t\",\"offset\":8,\"size\":40,\"value\":null}") != NULL);
	CHECK(strstr(json, "{\"seq\":0,\"len\":0,\"text\":\"hello\"}") != NULL);
	CHECK(strstr(json, "\"path\":\"ring.slots\",\"type\":\"struct "
			   "message[16]\",\"offset\":120,\"size\":1792,"
			   "\"value\":[{") != NULL);
	free(json);
	value_tree_free(vt);

	/* too many nodes: refused before allocating */
	vt = value_tree_new(r, "ring", 0, 10, &e);
	CHECK(vt == NULL);
	CHECK(strstr(e.msg, "more than 10 values") != NULL);
	layout_free(l);
}

static void test_value_kinds(void)
{
	struct errbuf e;
	struct layout *l =
		parse("enum st { IDLE, RUN = 3 };\n"
		      "struct v { int8_t i8; int16_t neg; float f; double d; "
		      "bool b;\n"
		      "  enum st s; void *p; unsigned bf : 4; int sbf : 4; "
		      "pid_t pid @pid;\n"
		      "  union { int ui; char uc; }; int m[2][2]; };\n",
		      ABI_X86_64, &e);
	const struct layout_type *t;
	struct value_tree *vt;
	unsigned char buf[128] = {0};
	char text[64];
	float fl = 1.5f;
	double d = -2.25;
	int16_t neg = -300;

	CHECK(l != NULL);
	t = layout_root(l);
	uint64_t anon_off;
	CHECK(layout_field_find(t, "ui", &anon_off) != NULL);
	CHECK_INT(anon_off, 40);
	buf[field(t, "i8")->offset] = 0x80;
	memcpy(buf + field(t, "neg")->offset, &neg, 2);
	memcpy(buf + field(t, "f")->offset, &fl, 4);
	memcpy(buf + field(t, "d")->offset, &d, 8);
	buf[field(t, "b")->offset] = 1;
	buf[field(t, "s")->offset] = 3;
	buf[field(t, "p")->offset] = 0x10;
	buf[field(t, "bf")->offset] = 0x9a; /* bf = 0xa, sbf = 0x9 = -7 */
	buf[field(t, "pid")->offset] = 77;
	buf[anon_off] = 65;
	buf[field(t, "m")->offset + 12] = 5; /* m[1][1] */
	vt = value_tree_new(t, "v", 0, 0, &e);
	CHECK(vt != NULL);
	value_tree_read(vt, buf, sizeof(buf));
#define FMT(path, want)                                        \
	do {                                                   \
		const struct value *v_ = value_find(vt, path); \
		CHECK(v_ != NULL);                             \
		value_format(v_, text, sizeof(text));          \
		CHECK_STR(text, want);                         \
	} while (0)
	FMT("v.i8", "-128");
	FMT("v.neg", "-300");
	FMT("v.f", "1.5");
	FMT("v.d", "-2.25");
	FMT("v.b", "true");
	FMT("v.s", "RUN");
	FMT("v.p", "0x10");
	FMT("v.bf", "10");
	FMT("v.sbf", "-7");
	FMT("v.pid", "77");
	FMT("v.ui", "65");
	FMT("v.uc", "65");
	FMT("v.m[1][1]", "5");
	FMT("v.m", "[2]");
	CHECK(value_find(vt, "v.pid")->field->flags & LAYOUT_F_PID);
	value_tree_free(vt);
	layout_free(l);
}

static void test_path_at(void)
{
	struct errbuf e;
	struct layout *l = layout_parse_file("tests/layout/ring.layout",
					     ABI_X86_64, 0, &e);
	char buf[128];

	CHECK(l != NULL);
	CHECK_INT(layout_path_at(l, 8, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "ring.lock");
	CHECK_INT(layout_path_at(l, 24, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "ring.lock+16");
	CHECK_INT(layout_path_at(l, 120 + 3 * 112 + 8, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "ring.slots[3].len");
	CHECK_INT(layout_path_at(l, 5, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "ring+5"); /* padding */
	CHECK_INT(layout_path_at(l, 1912, buf, sizeof(buf)), -ENOENT);
	CHECK_STR(buf, "");
	layout_free(l);
}

struct seen {
	int n, failed, errors;
	char last[256];
};

static void on_check(void *arg, const struct value_check *c)
{
	struct seen *s = arg;

	s->n++;
	if (c->err)
		s->errors++;
	else if (!c->ok)
		s->failed++;
	if (c->err || !c->ok)
		snprintf(s->last, sizeof(s->last), "%s", c->expr);
}

static void test_tree_checks(void)
{
	struct errbuf e;
	struct layout *l = parse("struct slot { uint32_t seq; uint32_t len; } "
				 "@check(len <= 8);\n"
				 "struct top { uint32_t magic "
				 "@expect(0xfeedf00d) @hex; sem_t s;\n"
				 "  struct slot slots[3]; } @check(s >= 0);\n",
				 ABI_X86_64, &e);
	struct value_tree *vt;
	unsigned char buf[128] = {0};
	uint32_t magic = 0xfeedf00d, len = 9;
	struct expr_env env = {buf, sizeof(buf), 0, NULL, NULL};
	struct seen s = {0};

	CHECK(l != NULL);
	vt = value_tree_new(layout_root(l), "top", 0, 0, &e);
	CHECK(vt != NULL);
	memcpy(buf, &magic, 4);
	memcpy(buf + 40 + 8 + 4, &len, 4); /* slots[1].len = 9 */
	value_tree_read(vt, buf, sizeof(buf));
	value_tree_checks(vt, &env, on_check, &s);
	CHECK_INT(s.n, 5);	/* one @expect, top's @check, three slots' */
	CHECK_INT(s.errors, 1); /* s >= 0 with no sem decoder */
	CHECK_INT(s.failed, 1); /* slots[1] */
	env.sync_value = fake_sync;
	memset(&s, 0, sizeof(s));
	magic = 1;
	memcpy(buf, &magic, 4);
	value_tree_read(vt, buf, sizeof(buf));
	value_tree_checks(vt, &env, on_check, &s);
	CHECK_INT(s.errors, 0);
	CHECK_INT(s.failed, 2);
	value_tree_free(vt);
	layout_free(l);
}

static void test_path_at_nested(void)
{
	struct errbuf e;
	struct layout *l = parse("struct n { char c; unsigned a : 3, b : 9;\n"
				 "  union { uint16_t w; uint8_t by[2]; };\n"
				 "  struct { int x, y; } pt[2]; };\n",
				 ABI_X86_64, &e);
	char buf[64];
	struct value_tree *vt;
	unsigned char bytes[32] = {0};
	char *json = NULL;
	size_t jlen = 0;
	struct json j;
	FILE *f;

	CHECK(l != NULL);
	CHECK_INT(layout_path_at(l, 1, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "n.a"); /* byte 1 holds a (bits 0-2) and b's start */
	CHECK_INT(layout_path_at(l, 2, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "n.b"); /* b: bits 3-11 from byte 1 */
	CHECK_INT(layout_path_at(l, 4, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "n.w"); /* the first union member that holds it */
	CHECK_INT(layout_path_at(l, 5, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "n.w+1");
	CHECK_INT(layout_path_at(l, 8 + 8 + 4, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "n.pt[1].y");
	/* JSON: anonymous members merged into their struct */
	vt = value_tree_new(layout_root(l), "n", 0, 0, &e);
	CHECK(vt != NULL);
	bytes[4] = 1;
	value_tree_read(vt, bytes, sizeof(bytes));
	f = open_memstream(&json, &jlen);
	json_init(&j, f, false);
	value_json(&j, vt->root);
	fclose(f);
	CHECK_STR(json, "{\"c\":0,\"a\":0,\"b\":0,\"w\":1,\"by\":[1,0],"
			"\"pt\":[{\"x\":0,\"y\":0},{\"x\":0,\"y\":0}]}");
	free(json);
	value_tree_free(vt);
	layout_free(l);
}

static void test_no_crash_on_garbage(void)
{
	static const char *const inputs[] = {
		"",
		"@",
		"struct",
		"struct {",
		"struct a { int x[",
		"}}}}",
		"((((",
		"struct a { int x; } @check(",
		"#define",
		"#include",
		"struct a { int x : ; };",
		"typedef",
		"enum { A = 1 / 0 };",
		"struct a { int "
		"x[1][2][3][4][5][6][7][8][9][10][11][12][13][14][15][16][17]["
		"18][19][20]"
		"[21][22][23][24][25][26][27][28][29][30][31][32][33][34][35]["
		"36][37][38][39][40]"
		"[41][42][43][44][45][46][47][48][49][50]; };",
		"struct a { char x[0x7fffffffffffffff]; };",
		"struct a { char x[99999999999999999999999]; };",
		"struct a { int x; } @check(x ? x ? x ? x : 1 : 2 : 3)",
		"\"unterminated",
		"'",
		"\x01\x02\xff",
		"struct a @segment(\"",
	};
	char deep[4096];
	struct errbuf e;
	size_t n = 0;

	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++)
		layout_free(parse(inputs[i], ABI_X86_64, &e));
	/* nesting far beyond the limit: an error, not a stack overflow */
	for (int i = 0; i < 1000 && n + 12 < sizeof(deep); i++)
		n += (size_t)snprintf(deep + n, sizeof(deep) - n, "struct{");
	CHECK(parse(deep, ABI_X86_64, &e) == NULL);
	CHECK(strstr(e.msg, "nested too deeply") != NULL);
	n = (size_t)snprintf(deep, sizeof(deep), "struct a { int x; } @check(");
	for (int i = 0; i < 1000 && n + 2 < sizeof(deep); i++)
		deep[n++] = '(';
	deep[n] = '\0';
	CHECK(parse(deep, ABI_X86_64, &e) == NULL);
	CHECK(strstr(e.msg, "nested too deeply") != NULL);
}

int main(void)
{
	RUN(test_ring_layout);
	RUN(test_errors_have_position_and_token);
	RUN(test_several_errors_reported);
	RUN(test_include);
	RUN(test_pasted_header);
	RUN(test_offset_and_packed_annotations);
	RUN(test_aarch64_known_values);
	RUN(test_i386_known_values);
	RUN(test_expressions);
	RUN(test_values);
	RUN(test_value_kinds);
	RUN(test_path_at);
	RUN(test_path_at_nested);
	RUN(test_tree_checks);
	RUN(test_no_crash_on_garbage);
	return test_done();
}
