/*
 * cmd_layout.c - `shmscope layout`: show how a layout file is laid out, the
 * way pahole shows a binary's structs, or write a layout file from a
 * binary's debug info.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "inspector.h"
#include "json.h"
#include "layout.h"
#include "layout_dwarf.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: shmscope layout FILE [--type NAME] [--abi ABI] "
		"[--json]\n"
		"       shmscope layout --from-dwarf BINARY STRUCT [-o FILE]\n"
		"\n"
		"Print how the structs of layout FILE are laid out: each "
		"member's\n"
		"offset and size, holes, padding, total size and alignment.\n"
		"  --type NAME   only this type (\"ring\", \"struct ring\", a "
		"typedef)\n"
		"  --abi ABI     x86-64 (default here), aarch64 or i386\n"
		"  --json        "
		"{\"type\",\"size\",\"align\",\"fields\":[...]} of the root\n"
		"                type (or NAME): every field, nested ones "
		"included\n"
		"  --from-dwarf BINARY STRUCT\n"
		"                write a layout file for STRUCT from BINARY's "
		"debug\n"
		"                info (build it with -g) to stdout or -o "
		"FILE\n");
}

/* ---- pahole-like text ---------------------------------------------------- */
struct stats {
	uint64_t sum_members;
	unsigned nholes;
	uint64_t sum_holes;
	unsigned nbitholes;
	unsigned members;
};

static void indent(int n)
{
	for (int i = 0; i < n; i++)
		putchar('\t');
}

static uint64_t field_end_bits(const struct layout_field *f)
{
	if (f->bit_width)
		return f->offset * 8 + f->bit_offset + f->bit_width;
	return (f->offset + f->type->size) * 8;
}

static void print_annots(const struct layout_field *f, char *buf, size_t len)
{
	size_t pos = 0;

	buf[0] = '\0';
#define ADD(...)                                                      \
	do {                                                          \
		if (pos < len)                                        \
			pos += (size_t)snprintf(buf + pos, len - pos, \
						__VA_ARGS__);         \
	} while (0)
	if (f->flags & LAYOUT_F_HEX)
		ADD(" @hex");
	if (f->flags & LAYOUT_F_STRING)
		ADD(" @string");
	if (f->flags & LAYOUT_F_TID)
		ADD(" @tid");
	if (f->flags & LAYOUT_F_PID)
		ADD(" @pid");
	if (f->expect)
		ADD(" @expect(%s)", expr_text(f->expect));
	if (f->ring)
		ADD(" @ring(head = %s, tail = %s%s)", expr_text(f->ring->head),
		    expr_text(f->ring->tail),
		    f->ring->wrap ? ", mode = wrap" : "");
#undef ADD
}

static void print_members(const struct layout_type *t, uint64_t base, int depth,
			  struct stats *st);

static void print_hole(uint64_t from_bits, uint64_t to_bits, int depth,
		       struct stats *st)
{
	uint64_t bits = to_bits - from_bits;

	if (to_bits <= from_bits)
		return;
	if (bits % 8 || from_bits % 8) {
		uint64_t b =
			bits < 8 - from_bits % 8 ? bits : 8 - from_bits % 8;

		if (from_bits % 8 == 0)
			b = bits % 8;
		printf("\n");
		indent(depth);
		printf("/* XXX %" PRIu64 " bit%s hole, try to pack */\n", b,
		       b == 1 ? "" : "s");
		st->nbitholes++;
		bits -= b;
		if (bits < 8)
			return;
	}
	printf("\n");
	indent(depth);
	printf("/* XXX %" PRIu64 " byte%s hole, try to pack */\n\n", bits / 8,
	       bits / 8 == 1 ? "" : "s");
	st->nholes++;
	st->sum_holes += bits / 8;
}

static void print_field(const struct layout_field *f, uint64_t base, int depth,
			struct stats *st)
{
	char decl[512], ann[512], pos[64];
	const struct layout_type *t = f->type;
	const char *tn = t->name;
	const char *dims = "";

	if (!f->name) {
		indent(depth);
		printf("%s {\n", t->kind == LAYOUT_UNION ? "union" : "struct");
		print_members(t, base + f->offset, depth + 1, st);
		indent(depth);
		printf("%-*s /* %5" PRIu64 " %5" PRIu64 " */\n",
		       56 - depth * 8 > 0 ? 56 - depth * 8 : 0, "};",
		       base + f->offset, t->size);
		return;
	}
	if (t->kind == LAYOUT_ARRAY) {
		/* "struct message slots[16]": split the name at its dims */
		const char *b = strchr(tn, '[');
		const struct layout_type *leaf = t;

		while (leaf->kind == LAYOUT_ARRAY)
			leaf = leaf->elem;
		if (b && leaf->kind != LAYOUT_PTR) {
			dims = b;
			snprintf(decl, sizeof(decl), "%.*s", (int)(b - tn), tn);
			tn = decl;
		}
	}
	print_annots(f, ann, sizeof(ann));
	char line[1024];
	if (f->bit_width)
		snprintf(line, sizeof(line), "%-26s %s:%u%s;", tn, f->name,
			 f->bit_width, ann);
	else
		snprintf(line, sizeof(line), "%-26s %s%s%s;", tn, f->name, dims,
			 ann);
	if (f->bit_width)
		snprintf(pos, sizeof(pos),
			 "/* %5" PRIu64 ":%2u %4" PRIu64 " */",
			 base + f->offset, f->bit_offset, t->size);
	else
		snprintf(pos, sizeof(pos), "/* %5" PRIu64 " %5" PRIu64 " */",
			 base + f->offset, t->size);
	indent(depth);
	int w = 56 - depth * 8;
	printf("%-*s %s\n", w > 0 ? w : 0, line, pos);
}

static void print_members(const struct layout_type *t, uint64_t base, int depth,
			  struct stats *st)
{
	uint64_t end = 0;

	for (size_t i = 0; i < t->nfields; i++) {
		const struct layout_field *f = &t->fields[i];
		uint64_t start = f->offset * 8 + f->bit_offset;

		if (t->kind == LAYOUT_STRUCT)
			print_hole(end, start, depth, st);
		print_field(f, base, depth, st);
		if (f->name) {
			st->members++;
			if (!f->bit_width)
				st->sum_members += f->type->size;
		}
		if (field_end_bits(f) > end)
			end = field_end_bits(f);
	}
}

static uint64_t members_end(const struct layout_type *t)
{
	uint64_t end = 0;

	for (size_t i = 0; i < t->nfields; i++)
		if (field_end_bits(&t->fields[i]) > end)
			end = field_end_bits(&t->fields[i]);
	return end;
}

static void print_type(const struct layout_type *t)
{
	struct stats st = {0};
	uint64_t end;

	if (t->kind == LAYOUT_ENUM) {
		printf("%s {\n", t->name);
		for (size_t i = 0; i < t->nenums; i++)
			printf("\t%s = %lld,\n", t->enums[i].name,
			       t->enums[i].value);
		printf("};\t/* size: %" PRIu64 ", align: %u */\n\n", t->size,
		       t->align);
		return;
	}
	if (t->kind != LAYOUT_STRUCT && t->kind != LAYOUT_UNION) {
		printf("%s;\t/* size: %" PRIu64 ", align: %u */\n\n", t->name,
		       t->size, t->align);
		return;
	}
	printf("%s {\n",
	       !strchr(t->name, ' ')
		       ? (t->kind == LAYOUT_UNION ? "union" : "struct")
		       : t->name);
	print_members(t, 0, 1, &st);
	end = members_end(t);
	if (t->kind == LAYOUT_STRUCT && end % 8) {
		printf("\n\t/* XXX %" PRIu64 " bits hole, try to pack */\n",
		       8 - end % 8);
		st.nbitholes++;
	}
	printf("\n\t/* size: %" PRIu64 ", align: %u, cachelines: %" PRIu64
	       ", members: %u */\n",
	       t->size, t->align, (t->size + 63) / 64, st.members);
	if (st.nholes || st.nbitholes)
		printf("\t/* sum members: %" PRIu64
		       ", holes: %u, sum holes: %" PRIu64
		       ", bit holes: %u */\n",
		       st.sum_members, st.nholes, st.sum_holes, st.nbitholes);
	if (t->size > (end + 7) / 8)
		printf("\t/* padding: %" PRIu64 " */\n",
		       t->size - (end + 7) / 8);
	if (t->size % 64)
		printf("\t/* last cacheline: %" PRIu64 " bytes */\n",
		       t->size % 64);
	printf("}%s", strchr(t->name, ' ') ? "" : " ");
	if (!strchr(t->name, ' '))
		printf("%s", t->name); /* a typedef'd anonymous struct */
	if (t->segment)
		printf(" @segment(\"%s\")", t->segment);
	for (size_t i = 0; i < t->nchecks; i++)
		printf("\n  @check(%s)", t->checks[i].text);
	printf(";\n\n");
}

/* ---- JSON ---------------------------------------------------------------- */

static void json_fields(struct json *j, const struct layout_type *t,
			const char *path, uint64_t base, int depth);

static void json_one(struct json *j, const struct layout_field *f,
		     const struct layout_type *t, const char *path,
		     uint64_t off, int depth)
{
	json_begin_obj(j);
	json_kv_str(j, "path", path);
	json_kv_str(j, "type", t->name);
	json_kv_uint(j, "offset", off);
	json_kv_uint(j, "size", t->size);
	json_kv_uint(j, "align", t->align);
	if (f && f->bit_width) {
		json_kv_uint(j, "bit_offset", f->bit_offset);
		json_kv_uint(j, "bit_size", f->bit_width);
	}
	json_end_obj(j);
	if (depth > 200)
		return;
	if (t->kind == LAYOUT_STRUCT || t->kind == LAYOUT_UNION) {
		json_fields(j, t, path, off, depth + 1);
	} else if (t->kind == LAYOUT_ARRAY && t->count &&
		   (t->elem->kind == LAYOUT_STRUCT ||
		    t->elem->kind == LAYOUT_UNION ||
		    t->elem->kind == LAYOUT_ARRAY)) {
		/* elements are laid out alike: the first stands for all */
		char p[2048];

		snprintf(p, sizeof(p), "%s[0]", path);
		json_one(j, NULL, t->elem, p, off, depth + 1);
	}
}

static void json_fields(struct json *j, const struct layout_type *t,
			const char *path, uint64_t base, int depth)
{
	for (size_t i = 0; i < t->nfields; i++) {
		const struct layout_field *f = &t->fields[i];
		char p[2048];

		if (!f->name) {
			json_fields(j, f->type, path, base + f->offset,
				    depth + 1);
			continue;
		}
		snprintf(p, sizeof(p), "%s.%s", path, f->name);
		json_one(j, f, f->type, p, base + f->offset, depth);
	}
}

static void print_json(const struct layout_type *t)
{
	struct json j;

	json_init(&j, stdout, true);
	json_begin_obj(&j);
	json_kv_str(&j, "type", t->name);
	json_kv_uint(&j, "size", t->size);
	json_kv_uint(&j, "align", t->align);
	json_key(&j, "fields");
	json_begin_arr(&j);
	if (t->kind == LAYOUT_STRUCT || t->kind == LAYOUT_UNION)
		json_fields(&j, t, layout_type_path_name(t), 0, 0);
	json_end_arr(&j);
	json_end_obj(&j);
	json_newline(&j);
}

/* ---- the command --------------------------------------------------------- */
static int from_dwarf(int argc, char **argv, const char *out)
{
	struct errbuf e;
	FILE *f = stdout;
	int r;

	if (argc != 2) {
		usage(stderr);
		return 2;
	}
	if (out) {
		f = fopen(out, "w");
		if (!f) {
			perror(out);
			return 1;
		}
	}
	r = layout_dwarf_write(argv[0], argv[1], f, &e);
	if (out && fclose(f) != 0 && r == 0) {
		perror(out);
		return 1;
	}
	if (r < 0) {
		fprintf(stderr, "shmscope: layout: %s\n", e.msg);
		if (out)
			remove(out);
		return 1;
	}
	return 0;
}

int cmd_layout(int argc, char **argv)
{
	static const struct option opts[] = {
		{"type", required_argument, NULL, 't'},
		{"abi", required_argument, NULL, 'a'},
		{"json", no_argument, NULL, 'j'},
		{"from-dwarf", no_argument, NULL, 'd'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *type = NULL, *out = NULL;
	enum abi_id abi = abi_host();
	bool json = false, dwarf = false;
	struct layout *l;
	struct errbuf e;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "t:a:jdo:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			type = optarg;
			break;
		case 'a':
			if (abi_from_name(optarg) < 0) {
				fprintf(stderr,
					"shmscope: layout: unknown ABI '%s' "
					"(x86-64, aarch64, i386)\n",
					optarg);
				return 2;
			}
			abi = (enum abi_id)abi_from_name(optarg);
			break;
		case 'j':
			json = true;
			break;
		case 'd':
			dwarf = true;
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("shmscope %s\n", SHMSCOPE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (dwarf)
		return from_dwarf(argc - optind, argv + optind, out);
	if (argc - optind != 1 || out) {
		usage(stderr);
		return 2;
	}
	l = layout_parse_file(argv[optind], abi, 0, &e);
	if (!l) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	const struct layout_type *t =
		type ? layout_find_type(l, type) : layout_root(l);
	if (type && !t) {
		fprintf(stderr, "shmscope: layout: %s: no type named '%s'\n",
			argv[optind], type);
		layout_free(l);
		return 1;
	}
	if (json) {
		if (!t) {
			fprintf(stderr,
				"shmscope: layout: %s: no struct in it\n",
				argv[optind]);
			layout_free(l);
			return 1;
		}
		print_json(t);
	} else if (type) {
		print_type(t);
	} else {
		printf("/* %s, ABI %s */\n\n", argv[optind], abi_name(abi));
		for (size_t i = 0; layout_type_at(l, i); i++)
			print_type(layout_type_at(l, i));
	}
	layout_free(l);
	return 0;
}
