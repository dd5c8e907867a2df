/*
 * test_layout_gcc.c - the parser lays out structs exactly as gcc does.
 *
 * tests/layout/corpus.h holds 50 plain C declarations (which are also a
 * layout file).  For each ABI this machine's gcc can target, this test
 * writes a C program printing sizeof, _Alignof and offsetof of every
 * field of every struct (bitfields: the first bit and the width, found by
 * setting the field in a zeroed object), compiles and runs it, and
 * compares every line with what layout_parse_file() computed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "layout.h"
#include "test.h"

#define CORPUS "tests/layout/corpus.h"

struct gen {
	FILE *c;    /* the C program */
	FILE *want; /* the lines it must print */
	int nlines;
	int depth;
};

static void gen_type(struct gen *g, const struct layout_type *root,
		     const struct layout_type *t, const char *prefix);

static void gen_field(struct gen *g, const struct layout_type *root,
		      const struct layout_field *f, const char *prefix,
		      uint64_t base)
{
	char path[512];

	if (!f->name) {
		/* anonymous: its members are reached directly */
		for (size_t i = 0; i < f->type->nfields; i++)
			gen_field(g, root, &f->type->fields[i], prefix,
				  base + f->offset);
		return;
	}
	snprintf(path, sizeof(path), "%s%s%s", prefix, prefix[0] ? "." : "",
		 f->name);
	if (f->bit_width) {
		fprintf(g->c,
			"\t{ %s x; memset(&x, 0, sizeof x); x.%s = -1;\n"
			"\t  printf(\"%s %s bits %%d %%d\\n\", first_bit(&x, "
			"sizeof x), count_bits(&x, sizeof x)); }\n",
			root->name, path, root->name, path);
		fprintf(g->want, "%s %s bits %llu %u\n", root->name, path,
			(unsigned long long)((base + f->offset) * 8 +
					     f->bit_offset),
			f->bit_width);
		g->nlines++;
		return;
	}
	if (f->type->kind == LAYOUT_ARRAY && f->type->count == 0)
		/* a flexible array member: sizeof cannot be applied */
		fprintf(g->c,
			"\tprintf(\"%s %s %%zu 0\\n\", offsetof(%s, %s));\n",
			root->name, path, root->name, path);
	else
		fprintf(g->c,
			"\tprintf(\"%s %s %%zu %%zu\\n\", offsetof(%s, %s), "
			"sizeof(((%s *)0)->%s));\n",
			root->name, path, root->name, path, root->name, path);
	fprintf(g->want, "%s %s %llu %llu\n", root->name, path,
		(unsigned long long)(base + f->offset),
		(unsigned long long)f->type->size);
	g->nlines++;
	const struct layout_type *ft = f->type;
	if (ft->kind == LAYOUT_STRUCT || ft->kind == LAYOUT_UNION) {
		for (size_t i = 0; i < ft->nfields; i++)
			gen_field(g, root, &ft->fields[i], path,
				  base + f->offset);
	} else if (ft->kind == LAYOUT_ARRAY && ft->count > 1 &&
		   (ft->elem->kind == LAYOUT_STRUCT ||
		    ft->elem->kind == LAYOUT_UNION)) {
		/* the last element: checks the stride too */
		char ep[600];
		uint64_t last = ft->count - 1;

		snprintf(ep, sizeof(ep), "%s[%llu]", path,
			 (unsigned long long)last);
		for (size_t i = 0; i < ft->elem->nfields; i++)
			gen_field(g, root, &ft->elem->fields[i], ep,
				  base + f->offset + last * ft->elem->size);
	}
}

static void gen_type(struct gen *g, const struct layout_type *root,
		     const struct layout_type *t, const char *prefix)
{
	fprintf(g->c,
		"\tprintf(\"%s size %%zu align %%zu\\n\", sizeof(%s), "
		"_Alignof(%s));\n",
		t->name, t->name, t->name);
	fprintf(g->want, "%s size %llu align %u\n", t->name,
		(unsigned long long)t->size, t->align);
	g->nlines++;
	if (t->kind != LAYOUT_STRUCT && t->kind != LAYOUT_UNION)
		return;
	for (size_t i = 0; i < t->nfields; i++)
		gen_field(g, root, &t->fields[i], prefix, 0);
}

static const char prologue[] =
	"#include <pthread.h>\n#include <semaphore.h>\n#include <stdbool.h>\n"
	"#include <stddef.h>\n#include <stdint.h>\n#include <stdio.h>\n"
	"#include <string.h>\n#include <sys/types.h>\n#include <uchar.h>\n"
	"#include <unistd.h>\n#include <wchar.h>\n"
	"#include \"%s/" CORPUS "\"\n"
	"static int first_bit(const void *p, size_t n) {\n"
	"\tconst unsigned char *b = p;\n"
	"\tfor (size_t i = 0; i < n * 8; i++) if (b[i / 8] >> (i %% 8) & 1) "
	"return (int)i;\n"
	"\treturn -1; }\n"
	"static int count_bits(const void *p, size_t n) {\n"
	"\tconst unsigned char *b = p; int c = 0;\n"
	"\tfor (size_t i = 0; i < n * 8; i++) c += b[i / 8] >> (i %% 8) & 1;\n"
	"\treturn c; }\n"
	"int main(void) {\n";

/* Compare gcc's view (for cc FLAGS) with the parser's for ABI.  Returns
 * the number of types checked, or -1 when cc cannot target it (skip). */
static int compare(enum abi_id abi, const char *flags, int *mismatches)
{
	char dir[] = "/tmp/shmscope-layout-gcc.XXXXXX", cwd[512], cmd[2048];
	char path[600], wantp[600], gotp[600];
	struct errbuf e;
	struct layout *l;
	struct gen g = {0};
	int ntypes = 0, r = -1;

	*mismatches = 0;
	if (!mkdtemp(dir) || !getcwd(cwd, sizeof(cwd)))
		return -2;
	l = layout_parse_file(CORPUS, abi, 0, &e);
	if (!l) {
		printf("# %s\n", e.msg);
		r = -2;
		goto out;
	}
	snprintf(path, sizeof(path), "%s/gen.c", dir);
	snprintf(wantp, sizeof(wantp), "%s/want", dir);
	snprintf(gotp, sizeof(gotp), "%s/got", dir);
	g.c = fopen(path, "w");
	g.want = fopen(wantp, "w");
	if (!g.c || !g.want)
		goto out;
	fprintf(g.c, prologue, cwd);
	for (size_t i = 0; layout_type_at(l, i); i++) {
		const struct layout_type *t = layout_type_at(l, i);

		if (t->kind != LAYOUT_STRUCT && t->kind != LAYOUT_UNION)
			continue;
		gen_type(&g, t, t, "");
		ntypes++;
	}
	fprintf(g.c, "\treturn 0;\n}\n");
	fclose(g.c);
	fclose(g.want);
	g.c = g.want = NULL;
	snprintf(cmd, sizeof(cmd),
		 "cc %s -w -o %s/gen %s >%s/cc.log 2>&1 && %s/gen > %s", flags,
		 dir, path, dir, dir, gotp);
	if (system(cmd) != 0) {
		snprintf(cmd, sizeof(cmd), "head -5 %s/cc.log | sed 's/^/# /'",
			 dir);
		if (system(cmd) != 0)
			printf("# cc failed\n");
		r = -1;
		goto out;
	}
	snprintf(cmd, sizeof(cmd), "diff %s %s | head -40 | sed 's/^/# /'",
		 wantp, gotp);
	FILE *d = popen(cmd, "r");
	char line[1024];
	while (d && fgets(line, sizeof(line), d)) {
		fputs(line, stdout);
		if (line[2] == '<')
			(*mismatches)++;
	}
	if (d)
		pclose(d);
	r = ntypes;
	printf("# %s: %d types, %d lines compared\n", abi_name(abi), ntypes,
	       g.nlines);
out:
	if (g.c)
		fclose(g.c);
	if (g.want)
		fclose(g.want);
	layout_free(l);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return r;
}

static void test_x86_64_matches_gcc(void)
{
	int bad, n = compare(ABI_X86_64, "-m64", &bad);

	CHECK(n >= 40);
	CHECK_INT(bad, 0);
}

static void test_i386_matches_gcc(void)
{
	int bad, n = compare(ABI_I386, "-m32", &bad);

	CHECK(n >= 40);
	CHECK_INT(bad, 0);
}

/* Whether cc can build and run 32-bit x86 programs here. */
static int can_m32(void)
{
	return system("echo 'int main(void){return 0;}' | "
		      "cc -m32 -x c -o /tmp/shmscope-m32-$$ - >/dev/null 2>&1 "
		      "&& "
		      "/tmp/shmscope-m32-$$; r=$?; rm -f /tmp/shmscope-m32-$$; "
		      "exit $r") == 0;
}

int main(void)
{
	RUN(test_x86_64_matches_gcc);
	if (can_m32())
		RUN(test_i386_matches_gcc);
	else /* gcc-multilib (make deps installs it) gives cc -m32 */
		printf("SKIP: %s: test_i386_matches_gcc: cc -m32 cannot build "
		       "here\n",
		       __FILE__);
	return test_done();
}
