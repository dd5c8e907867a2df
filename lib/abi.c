#include "abi.h"

#include <string.h>

static const struct {
	const char *name;
	const char *alias;
} abi_names[ABI_COUNT] = {
	[ABI_X86_64] = {"x86-64", "x86_64"},
	[ABI_AARCH64] = {"aarch64", "arm64"},
	[ABI_I386] = {"i386", "x86"},
};

enum abi_id abi_host(void)
{
#if defined(__aarch64__)
	return ABI_AARCH64;
#elif defined(__i386__)
	return ABI_I386;
#else
	return ABI_X86_64;
#endif
}

int abi_from_name(const char *name)
{
	for (int i = 0; i < ABI_COUNT; i++)
		if (!strcmp(name, abi_names[i].name) ||
		    !strcmp(name, abi_names[i].alias))
			return i;
	return -1;
}

const char *abi_name(enum abi_id id)
{
	return (unsigned)id < ABI_COUNT ? abi_names[id].name : "?";
}

/* Futex syscall numbers per ABI: arch/x86/entry/syscalls/syscall_64.tbl,
 * syscall_32.tbl and include/uapi/asm-generic/unistd.h (aarch64). */
static const struct {
	long futex;
	long futex_time64; /* -1: the ABI has none (64-bit time already) */
	unsigned elf_machine;
} abi_sys[ABI_COUNT] = {
	[ABI_X86_64] = { 202, -1, 62 /* EM_X86_64 */ },
	[ABI_AARCH64] = { 98, -1, 183 /* EM_AARCH64 */ },
	[ABI_I386] = { 240, 422, 3 /* EM_386 */ },
};

long abi_futex_nr(enum abi_id id)
{
	return (unsigned)id < ABI_COUNT ? abi_sys[id].futex : -1;
}

bool abi_is_futex_nr(enum abi_id id, long nr)
{
	if ((unsigned)id >= ABI_COUNT || nr < 0)
		return false;
	return nr == abi_sys[id].futex || nr == abi_sys[id].futex_time64;
}

int abi_from_elf_machine(unsigned machine)
{
	for (int i = 0; i < ABI_COUNT; i++)
		if (abi_sys[i].elf_machine == machine)
			return i;
	return -1;
}
