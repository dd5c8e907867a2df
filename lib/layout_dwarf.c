/*
 * layout_dwarf.c - a layout file from DWARF (elfutils libdw).
 *
 * The struct and every type it holds by value are written as C, deepest
 * first.  Then the text is parsed back and each struct's offsets compared
 * with the binary's: a struct the C rules do not reproduce is written
 * again @packed, else with @offset(n) on its members, else with both.
 */
#include <dwarf.h>
#include <elf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "layout.h"
#include "layout_dwarf.h"

#define DW_MAX_DEPTH 64

struct dw_check {
	char *type_name; /* as the parser names it */
	Dwarf_Off die;
	uint64_t size;
	char **names; /* members, anonymous ones flattened */
	uint64_t *offsets;
	size_t n, cap;
};

struct dw_ctx {
	Dwarf *dw;
	FILE *out;
	Dwarf_Off *done;
	size_t ndone, capdone;
	Dwarf_Off *level_die; /* structs needing explicit placement */
	int *level;
	size_t nlevel;
	struct dw_check *checks;
	size_t nchecks;
	int depth;
	bool failed;
	char why[256];
};

static const char *const dw_sync_names[] = {
	"pthread_mutex_t",    "sem_t",
	"pthread_rwlock_t",   "pthread_cond_t",
	"pthread_spinlock_t", "pthread_barrier_t",
};

static bool dw_type(Dwarf_Die *die, Dwarf_Die *out)
{
	Dwarf_Attribute a;

	return dwarf_attr_integrate(die, DW_AT_type, &a) &&
	       dwarf_formref_die(&a, out);
}

static bool dw_udata(Dwarf_Die *die, unsigned at, Dwarf_Word *v)
{
	Dwarf_Attribute a;

	return dwarf_attr_integrate(die, at, &a) && dwarf_formudata(&a, v) == 0;
}

/* Follow const/volatile/atomic/restrict; false if it ends at void. */
static bool dw_strip(Dwarf_Die *die)
{
	for (int i = 0; i < DW_MAX_DEPTH; i++) {
		int tag = dwarf_tag(die);

		if (tag != DW_TAG_const_type && tag != DW_TAG_volatile_type &&
		    tag != DW_TAG_atomic_type && tag != DW_TAG_restrict_type)
			return true;
		if (!dw_type(die, die))
			return false;
	}
	return false;
}

static bool dw_is_builtin_typedef(const char *name)
{
	enum abi_ctype ct;
	bool s;

	for (size_t i = 0; i < sizeof(dw_sync_names) / sizeof(dw_sync_names[0]);
	     i++)
		if (!strcmp(name, dw_sync_names[i]))
			return true;
	return abi_typedef(ABI_X86_64, name, &ct, &s) || !strcmp(name, "bool");
}

static bool dw_done(struct dw_ctx *c, Dwarf_Die *die, bool add)
{
	Dwarf_Off off = dwarf_dieoffset(die);

	for (size_t i = 0; i < c->ndone; i++)
		if (c->done[i] == off)
			return true;
	if (add) {
		if (c->ndone == c->capdone) {
			size_t cap = c->capdone ? c->capdone * 2 : 32;
			Dwarf_Off *d = realloc(c->done, cap * sizeof(*d));

			if (!d) {
				c->failed = true;
				return false;
			}
			c->done = d;
			c->capdone = cap;
		}
		c->done[c->ndone++] = off;
	}
	return false;
}

static int dw_level(struct dw_ctx *c, Dwarf_Off off)
{
	for (size_t i = 0; i < c->nlevel; i++)
		if (c->level_die[i] == off)
			return c->level[i];
	return 0;
}

static void dw_fail(struct dw_ctx *c, const char *why, Dwarf_Die *die)
{
	if (!c->failed) {
		const char *n = die ? dwarf_diename(die) : NULL;
		snprintf(c->why, sizeof(c->why), "%s%s%s", why, n ? ": " : "",
			 n ? n : "");
	}
	c->failed = true;
}

static void dw_emit_deps(struct dw_ctx *c, Dwarf_Die *type);
static void dw_emit_def(struct dw_ctx *c, Dwarf_Die *die);

/*
 * How to write TYPE before and after a declarator: BASE "struct foo",
 * SUFFIX "[4][2]".  Anonymous struct/union types come back with
 * *ANON set to their DIE, for the caller to write inline.
 */
static bool dw_spell(struct dw_ctx *c, Dwarf_Die *type, char *base, size_t blen,
		     char *suffix, size_t slen, Dwarf_Die *anon, bool *is_anon)
{
	Dwarf_Die t = *type;
	const char *name;
	int tag;

	*is_anon = false;
	if (!dw_strip(&t)) {
		snprintf(base, blen, "void");
		return true;
	}
	tag = dwarf_tag(&t);
	name = dwarf_diename(&t);
	switch (tag) {
	case DW_TAG_base_type:
		if (!name || strstr(name, "long double") ||
		    strstr(name, "128") || strstr(name, "complex")) {
			dw_fail(c, "unsupported base type", &t);
			return false;
		}
		snprintf(base, blen, "%s", name);
		return true;
	case DW_TAG_typedef:
		snprintf(base, blen, "%s", name ? name : "?");
		return true;
	case DW_TAG_structure_type:
	case DW_TAG_union_type:
	case DW_TAG_enumeration_type:
		if (!name) {
			*anon = t;
			*is_anon = true;
			snprintf(base, blen, "%s",
				 tag == DW_TAG_union_type	  ? "union"
				 : tag == DW_TAG_enumeration_type ? "enum"
								  : "struct");
			return true;
		}
		snprintf(base, blen, "%s %s",
			 tag == DW_TAG_union_type	  ? "union"
			 : tag == DW_TAG_enumeration_type ? "enum"
							  : "struct",
			 name);
		return true;
	case DW_TAG_pointer_type: {
		Dwarf_Die p;
		int pt;

		if (!dw_type(&t, &p) || !dw_strip(&p)) {
			snprintf(base, blen, "void *");
			return true;
		}
		pt = dwarf_tag(&p);
		name = dwarf_diename(&p);
		if (name && pt == DW_TAG_base_type && !strstr(name, "128") &&
		    !strstr(name, "long double"))
			snprintf(base, blen, "%s *", name);
		else if (name && (pt == DW_TAG_structure_type ||
				  pt == DW_TAG_union_type))
			snprintf(base, blen, "%s %s *",
				 pt == DW_TAG_union_type ? "union" : "struct",
				 name);
		else
			snprintf(base, blen, "void *");
		return true;
	}
	case DW_TAG_array_type: {
		Dwarf_Die elem, sub;
		size_t pos = strlen(suffix);

		if (dwarf_child(&t, &sub) == 0) {
			do {
				Dwarf_Word n = 0, ub;

				if (dwarf_tag(&sub) != DW_TAG_subrange_type)
					continue;
				if (dw_udata(&sub, DW_AT_count, &n))
					;
				else if (dw_udata(&sub, DW_AT_upper_bound, &ub))
					n = ub + 1;
				if (pos < slen) {
					if (n ||
					    dwarf_hasattr(&sub,
							  DW_AT_upper_bound) ||
					    dwarf_hasattr(&sub, DW_AT_count))
						pos += (size_t)snprintf(
							suffix + pos,
							slen - pos,
							"[%" PRIu64 "]",
							(uint64_t)n);
					else
						pos += (size_t)snprintf(
							suffix + pos,
							slen - pos, "[]");
				}
			} while (dwarf_siblingof(&sub, &sub) == 0);
		}
		if (!dw_type(&t, &elem)) {
			dw_fail(c, "array without an element type", &t);
			return false;
		}
		if (++c->depth > DW_MAX_DEPTH) {
			dw_fail(c, "types nested too deeply", &t);
			return false;
		}
		bool ok = dw_spell(c, &elem, base, blen, suffix, slen, anon,
				   is_anon);
		c->depth--;
		return ok;
	}
	case DW_TAG_subroutine_type:
		snprintf(base, blen, "void *");
		return true;
	}
	dw_fail(c, "unsupported type", &t);
	return false;
}

static void dw_indent(struct dw_ctx *c, int n)
{
	for (int i = 0; i < n; i++)
		fputc('\t', c->out);
}

static void dw_check_add(struct dw_check *k, const char *name, uint64_t off)
{
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 16;
		char **nn = realloc(k->names, cap * sizeof(*nn));
		uint64_t *no;

		if (!nn)
			return;
		k->names = nn;
		no = realloc(k->offsets, cap * sizeof(*no));
		if (!no)
			return;
		k->offsets = no;
		k->cap = cap;
	}
	k->names[k->n] = strdup(name);
	if (k->names[k->n])
		k->offsets[k->n++] = off;
}

static void dw_body(struct dw_ctx *c, Dwarf_Die *st, int ind, int level,
		    struct dw_check *k, uint64_t base);

static void dw_member(struct dw_ctx *c, Dwarf_Die *m, int ind, int level,
		      struct dw_check *k, uint64_t base)
{
	char tb[512], suffix[256] = "";
	Dwarf_Die type, anon;
	bool is_anon;
	Dwarf_Word off = 0, dbo;
	const char *name = dwarf_diename(m);
	int bits = dwarf_bitsize(m);
	bool is_bitfield = bits > 0 || dwarf_hasattr(m, DW_AT_bit_size);

	if (!dw_type(m, &type)) {
		dw_fail(c, "member without a type", m);
		return;
	}
	dw_udata(m, DW_AT_data_member_location, &off);
	if (is_bitfield && dw_udata(m, DW_AT_data_bit_offset, &dbo))
		off = dbo / 8;
	if (!dw_spell(c, &type, tb, sizeof(tb), suffix, sizeof(suffix), &anon,
		      &is_anon))
		return;
	dw_indent(c, ind);
	if (is_anon) {
		fprintf(c->out, "%s {\n", tb);
		if (dwarf_tag(&anon) == DW_TAG_enumeration_type) {
			dw_fail(c, "anonymous enum members are not supported",
				m);
			return;
		}
		dw_body(c, &anon, ind + 1, 0, name ? NULL : k, base + off);
		dw_indent(c, ind);
		fprintf(c->out, "}");
		if (name)
			fprintf(c->out, " %s%s", name, suffix);
	} else {
		fprintf(c->out, "%s%s%s%s", tb,
			tb[strlen(tb) - 1] == '*' ? "" : " ", name ? name : "",
			suffix);
	}
	if (bits > 0)
		fprintf(c->out, " : %d", bits);
	if ((level == 2 || level == 3) && name && !is_bitfield)
		fprintf(c->out, " @offset(%" PRIu64 ")", (uint64_t)off);
	fprintf(c->out, ";\n");
	if (name && k && !is_bitfield)
		dw_check_add(k, name, base + off);
}

static void dw_body(struct dw_ctx *c, Dwarf_Die *st, int ind, int level,
		    struct dw_check *k, uint64_t base)
{
	Dwarf_Die m;

	if (++c->depth > DW_MAX_DEPTH) {
		dw_fail(c, "types nested too deeply", st);
		return;
	}
	if (dwarf_child(st, &m) == 0) {
		do {
			if (dwarf_tag(&m) == DW_TAG_member)
				dw_member(c, &m, ind, level, k, base);
		} while (!c->failed && dwarf_siblingof(&m, &m) == 0);
	}
	c->depth--;
}

/* Emit what TYPE needs defined before it can be used by value. */
static void dw_emit_deps(struct dw_ctx *c, Dwarf_Die *type)
{
	Dwarf_Die t = *type, m;
	const char *name;
	int tag;

	if (++c->depth > DW_MAX_DEPTH) {
		dw_fail(c, "types nested too deeply", type);
		return;
	}
	for (int i = 0; i < DW_MAX_DEPTH && dw_strip(&t); i++) {
		tag = dwarf_tag(&t);
		name = dwarf_diename(&t);
		if (tag == DW_TAG_array_type) {
			if (!dw_type(&t, &t))
				break;
			continue;
		}
		if (tag == DW_TAG_typedef) {
			if (name && !dw_is_builtin_typedef(name))
				dw_emit_def(c, &t);
		} else if ((tag == DW_TAG_structure_type ||
			    tag == DW_TAG_union_type ||
			    tag == DW_TAG_enumeration_type) &&
			   name) {
			dw_emit_def(c, &t);
		} else if ((tag == DW_TAG_structure_type ||
			    tag == DW_TAG_union_type) &&
			   dwarf_child(&t, &m) == 0) {
			do { /* an anonymous struct: its members' types */
				Dwarf_Die mt;

				if (dwarf_tag(&m) == DW_TAG_member &&
				    dw_type(&m, &mt))
					dw_emit_deps(c, &mt);
			} while (dwarf_siblingof(&m, &m) == 0);
		}
		break;
	}
	c->depth--;
}

static void dw_struct_deps(struct dw_ctx *c, Dwarf_Die *st)
{
	Dwarf_Die m, mt;

	if (dwarf_child(st, &m) != 0)
		return;
	do {
		if (dwarf_tag(&m) == DW_TAG_member && dw_type(&m, &mt))
			dw_emit_deps(c, &mt);
	} while (!c->failed && dwarf_siblingof(&m, &m) == 0);
}

static struct dw_check *dw_new_check(struct dw_ctx *c, const char *name,
				     Dwarf_Die *die)
{
	struct dw_check *k = realloc(c->checks, (c->nchecks + 1) * sizeof(*k));
	Dwarf_Word size = 0;

	if (!k) {
		c->failed = true;
		return NULL;
	}
	c->checks = k;
	k = &c->checks[c->nchecks++];
	memset(k, 0, sizeof(*k));
	k->type_name = strdup(name);
	k->die = dwarf_dieoffset(die);
	dw_udata(die, DW_AT_byte_size, &size);
	k->size = size;
	return k;
}

static void dw_enum(struct dw_ctx *c, Dwarf_Die *t)
{
	Dwarf_Die e;

	fprintf(c->out, "{\n");
	if (dwarf_child(t, &e) == 0) {
		do {
			Dwarf_Attribute a;
			Dwarf_Sword sv;
			Dwarf_Word uv;

			if (dwarf_tag(&e) != DW_TAG_enumerator ||
			    !dwarf_attr(&e, DW_AT_const_value, &a))
				continue;
			if (dwarf_formsdata(&a, &sv) == 0)
				fprintf(c->out, "\t%s = %" PRId64 ",\n",
					dwarf_diename(&e), (int64_t)sv);
			else if (dwarf_formudata(&a, &uv) == 0)
				fprintf(c->out, "\t%s = %" PRIu64 ",\n",
					dwarf_diename(&e), (uint64_t)uv);
		} while (dwarf_siblingof(&e, &e) == 0);
	}
	fprintf(c->out, "}");
}

static void dw_struct_text(struct dw_ctx *c, Dwarf_Die *st, const char *kw,
			   const char *tag, const char *check_name)
{
	int level = dw_level(c, dwarf_dieoffset(st));
	struct dw_check *k = dw_new_check(c, check_name, st);
	Dwarf_Word al;

	if (!k)
		return;
	fprintf(c->out, "%s%s%s {\n", kw, tag ? " " : "", tag ? tag : "");
	dw_body(c, st, 1, level, k, 0);
	fprintf(c->out, "}");
	if (level == 1 || level == 3)
		fprintf(c->out, " @packed");
	if (dw_udata(st, DW_AT_alignment, &al))
		fprintf(c->out, " __attribute__((aligned(%" PRIu64 ")))",
			(uint64_t)al);
}

static void dw_emit_def(struct dw_ctx *c, Dwarf_Die *die)
{
	int tag = dwarf_tag(die);
	const char *name = dwarf_diename(die);

	if (dw_done(c, die, true) || c->failed)
		return;
	if (tag == DW_TAG_typedef) {
		Dwarf_Die t, anon;
		char base[512], suffix[256] = "";
		bool is_anon;

		if (!dw_type(die, &t)) {
			fprintf(c->out, "typedef void *%s;\n\n",
				name); /* opaque */
			return;
		}
		dw_emit_deps(c, &t);
		if (!dw_spell(c, &t, base, sizeof(base), suffix, sizeof(suffix),
			      &anon, &is_anon))
			return;
		fprintf(c->out, "typedef ");
		if (is_anon && dwarf_tag(&anon) == DW_TAG_enumeration_type) {
			fprintf(c->out, "enum ");
			dw_enum(c, &anon);
		} else if (is_anon) {
			dw_struct_deps(c, &anon);
			dw_struct_text(c, &anon, base, NULL, name);
		} else {
			fprintf(c->out, "%s", base);
		}
		fprintf(c->out, "%s%s%s;\n\n",
			base[strlen(base) - 1] == '*' && !is_anon ? "" : " ",
			name, suffix);
		return;
	}
	if (tag == DW_TAG_enumeration_type) {
		fprintf(c->out, "enum %s ", name);
		dw_enum(c, die);
		fprintf(c->out, ";\n\n");
		return;
	}
	if (dwarf_hasattr(die, DW_AT_declaration)) {
		dw_fail(c, "no definition in the debug info for", die);
		return;
	}
	const char *kw = tag == DW_TAG_union_type ? "union" : "struct";
	char full[300];

	dw_struct_deps(c, die);
	if (c->failed)
		return;
	snprintf(full, sizeof(full), "%s %s", kw, name);
	dw_struct_text(c, die, kw, name, full);
	fprintf(c->out, ";\n\n");
}

/* ---- finding the type ---------------------------------------------------- */
static bool dw_find(Dwarf *dw, const char *want, Dwarf_Die *out)
{
	Dwarf_Off off = 0, next;
	size_t hsize;
	const char *name = want;
	int want_tag = 0;

	if (!strncmp(want, "struct ", 7)) {
		name = want + 7;
		want_tag = DW_TAG_structure_type;
	} else if (!strncmp(want, "union ", 6)) {
		name = want + 6;
		want_tag = DW_TAG_union_type;
	}
	while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, d;

		if (dwarf_offdie(dw, off + hsize, &cu) &&
		    dwarf_child(&cu, &d) == 0) {
			do {
				int tag = dwarf_tag(&d);
				const char *n = dwarf_diename(&d);

				if (!n || strcmp(n, name))
					continue;
				if ((tag == DW_TAG_structure_type ||
				     tag == DW_TAG_union_type) &&
				    (!want_tag || want_tag == tag) &&
				    !dwarf_hasattr(&d, DW_AT_declaration)) {
					*out = d;
					return true;
				}
				if (tag == DW_TAG_typedef && !want_tag) {
					*out = d;
					return true;
				}
			} while (dwarf_siblingof(&d, &d) == 0);
		}
		off = next;
	}
	return false;
}

static int dw_machine_abi(int fd)
{
	Elf64_Ehdr h; /* e_machine sits at the same place in both classes */

	if (pread(fd, &h, sizeof(h), 0) <
	    (ssize_t)offsetof(Elf64_Ehdr, e_version))
		return abi_host();
	switch (h.e_machine) {
	case EM_AARCH64:
		return ABI_AARCH64;
	case EM_386:
		return ABI_I386;
	default:
		return ABI_X86_64;
	}
}

/* ---- verifying by parsing the result ------------------------------------- */
static void dw_free_checks(struct dw_ctx *c)
{
	for (size_t i = 0; i < c->nchecks; i++) {
		for (size_t j = 0; j < c->checks[i].n; j++)
			free(c->checks[i].names[j]);
		free(c->checks[i].names);
		free(c->checks[i].offsets);
		free(c->checks[i].type_name);
	}
	free(c->checks);
	c->checks = NULL;
	c->nchecks = 0;
}

/* Raise the level of every struct the parse got wrong; how many. */
static int dw_verify(struct dw_ctx *c, const char *text, size_t len, int abi,
		     struct errbuf *e)
{
	struct layout *l = layout_parse_string("(from dwarf)", text, len, abi,
					       LAYOUT_NO_INCLUDE, e);
	int bad = 0;

	if (!l)
		return -EINVAL;
	for (size_t i = 0; i < c->nchecks; i++) {
		const struct dw_check *k = &c->checks[i];
		const struct layout_type *t = layout_find_type(l, k->type_name);
		bool wrong = !t || t->size != k->size;

		for (size_t j = 0; t && j < k->n && !wrong; j++) {
			uint64_t off;

			if (!layout_field_find(t, k->names[j], &off) ||
			    off != k->offsets[j])
				wrong = true;
		}
		if (!wrong)
			continue;
		/* Only the first: structs come deepest first, and fixing one
		 * may fix those that hold it. */
		bad++;
		size_t at = c->nlevel;
		for (size_t j = 0; j < c->nlevel; j++)
			if (c->level_die[j] == k->die)
				at = j;
		if (at == c->nlevel) {
			Dwarf_Off *d =
				realloc(c->level_die, (at + 1) * sizeof(*d));
			int *lv;

			if (!d)
				break;
			c->level_die = d;
			lv = realloc(c->level, (at + 1) * sizeof(*lv));
			if (!lv)
				break;
			c->level = lv;
			c->level_die[at] = k->die;
			c->level[at] = 0;
			c->nlevel++;
		}
		c->level[at]++;
		if (c->level[at] > 3) {
			err_set(e, "cannot reproduce the layout of '%s'",
				k->type_name);
			layout_free(l);
			return -ENOTSUP;
		}
		break;
	}
	layout_free(l);
	return bad;
}

int layout_dwarf_write(const char *binary, const char *name, FILE *out,
		       struct errbuf *e)
{
	struct dw_ctx c = {0};
	Dwarf_Die die;
	char *text = NULL;
	size_t len = 0;
	int fd, r = 0, abi;

	fd = open(binary, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err_setn(e, errno, "%s", binary);
		return -errno;
	}
	abi = dw_machine_abi(fd);
	c.dw = dwarf_begin(fd, DWARF_C_READ);
	if (!c.dw) {
		err_set(e, "%s: no debug info (%s); build it with -g", binary,
			dwarf_errmsg(-1));
		close(fd);
		return -ENOENT;
	}
	if (!dw_find(c.dw, name, &die)) {
		err_set(e,
			"%s: no struct or typedef named '%s' in the debug info",
			binary, name);
		r = -ENOENT;
		goto out;
	}
	for (int pass = 0; pass < 64; pass++) {
		free(text);
		text = NULL;
		dw_free_checks(&c);
		c.ndone = 0;
		c.out = open_memstream(&text, &len);
		if (!c.out) {
			r = -ENOMEM;
			err_set(e, "out of memory");
			goto out;
		}
		fprintf(c.out,
			"// %s from the debug info of %s (shmscope layout "
			"--from-dwarf)\n\n",
			name, binary);
		dw_emit_def(&c, &die);
		fclose(c.out);
		if (c.failed) {
			err_set(e, "%s: %s", binary, c.why);
			r = -ENOTSUP;
			goto out;
		}
		r = dw_verify(&c, text, len, abi, e);
		if (r < 0)
			goto out;
		if (r == 0)
			break;
	}
	if (r > 0) {
		err_set(e, "%s: cannot reproduce the layout of '%s'", binary,
			name);
		r = -ENOTSUP;
		goto out;
	}
	if (fwrite(text, 1, len, out) != len)
		r = -EIO;
out:
	free(text);
	dw_free_checks(&c);
	free(c.done);
	free(c.level_die);
	free(c.level);
	dwarf_end(c.dw);
	close(fd);
	return r;
}
