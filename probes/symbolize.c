/*
 * symbolize.c - turn a recorded return address into "func+0x12 (f.c:40)".
 *
 * Offline: the process is gone, so dladdr() cannot help.  The trace's
 * mapping table says which file was mapped where (and from which file
 * offset); the program headers of that file turn the file offset into an
 * ELF address, and libdw (dwfl) finds the symbol and the source line.
 * One Dwfl per file, kept for the whole report.
 */
#include "shmtrace.h"

#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct symfile {
	char path[120];
	Dwfl *dwfl;
	Dwfl_Module *mod;
	GElf_Phdr *load;
	int nload;
	bool bad;
};

static struct symfile *files;
static int nfiles;

static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
};

static void load_phdrs(struct symfile *f)
{
	int fd = open(f->path, O_RDONLY | O_CLOEXEC);
	size_t n = 0;
	Elf *elf;

	if (fd < 0)
		return;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (elf && elf_getphdrnum(elf, &n) == 0 && n > 0) {
		f->load = calloc(n, sizeof(*f->load));
		for (size_t i = 0; f->load && i < n; i++) {
			GElf_Phdr ph;
			if (gelf_getphdr(elf, (int)i, &ph) &&
			    ph.p_type == PT_LOAD)
				f->load[f->nload++] = ph;
		}
	}
	if (elf)
		elf_end(elf);
	close(fd);
}

static struct symfile *symfile_get(const char *path)
{
	struct symfile *f;

	for (int i = 0; i < nfiles; i++) {
		if (!strcmp(files[i].path, path))
			return &files[i];
	}
	f = realloc(files, (size_t)(nfiles + 1) * sizeof(*files));
	if (!f)
		return NULL;
	files = f;
	f = &files[nfiles++];
	memset(f, 0, sizeof(*f));
	snprintf(f->path, sizeof(f->path), "%s", path);
	load_phdrs(f);
	f->dwfl = dwfl_begin(&callbacks);
	if (f->dwfl) {
		dwfl_report_begin(f->dwfl);
		f->mod = dwfl_report_elf(f->dwfl, path, path, -1, 0, false);
		dwfl_report_end(f->dwfl, NULL, NULL);
	}
	f->bad = !f->mod || !f->nload;
	return f;
}

void sym_cleanup(void)
{
	for (int i = 0; i < nfiles; i++) {
		if (files[i].dwfl)
			dwfl_end(files[i].dwfl);
		free(files[i].load);
	}
	free(files);
	files = NULL;
	nfiles = 0;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

void sym_pc(const struct trace_proc *p, uint64_t pc, char *buf, size_t len)
{
	const struct trace_map *m = trace_proc_code_map(p, pc);
	struct symfile *f;
	uint64_t foff, vaddr = 0;
	GElf_Addr bias = 0;
	GElf_Off off = 0;
	GElf_Sym sym;
	const char *name = NULL;
	bool found = false;
	Dwfl_Line *line;

	if (!m) {
		snprintf(buf, len, "%#llx", (unsigned long long)pc);
		return;
	}
	foff = pc - m->start + m->file_off;
	f = symfile_get(m->name);
	if (!f || f->bad) {
		snprintf(buf, len, "%s+%#llx", base_name(m->name),
			 (unsigned long long)foff);
		return;
	}
	for (int i = 0; i < f->nload; i++) {
		const GElf_Phdr *ph = &f->load[i];
		if (foff >= ph->p_offset &&
		    foff < ph->p_offset + ph->p_filesz) {
			vaddr = foff - ph->p_offset + ph->p_vaddr;
			found = true;
			break;
		}
	}
	if (!found) {
		snprintf(buf, len, "%s+%#llx", base_name(m->name),
			 (unsigned long long)foff);
		return;
	}
	dwfl_module_getelf(f->mod, &bias);
	/* A return address points after the call: look up the call. */
	name = dwfl_module_addrinfo(f->mod, vaddr + bias - 1, &off, &sym, NULL,
				    NULL, NULL);
	line = dwfl_module_getsrc(f->mod, vaddr + bias - 1);
	if (name) {
		int lno = 0;
		const char *src =
			line ? dwfl_lineinfo(line, NULL, &lno, NULL, NULL, NULL)
			     : NULL;
		if (src)
			snprintf(buf, len, "%s+%#llx (%s:%d)", name,
				 (unsigned long long)off + 1, base_name(src),
				 lno);
		else
			snprintf(buf, len, "%s+%#llx (%s)", name,
				 (unsigned long long)off + 1,
				 base_name(m->name));
	} else {
		snprintf(buf, len, "%s+%#llx", base_name(m->name),
			 (unsigned long long)vaddr);
	}
}
