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
	[ABI_X86_64] = {202, -1, 62 /* EM_X86_64 */},
	[ABI_AARCH64] = {98, -1, 183 /* EM_AARCH64 */},
	[ABI_I386] = {240, 422, 3 /* EM_386 */},
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

/* ---- C layout facts -------------------------------------------------------
 * One table per fact, one column per ABI.  Sources: the psABIs (System V
 * x86-64, AAPCS64, System V i386) and glibc's bits/pthreadtypes-arch.h and
 * bits/semaphore.h; the x86-64 and i386 columns are checked against gcc by
 * tests/test_layout_gcc.sh.
 */

static const struct abi_size abi_ctypes[ABI_COUNT][ABI_C_COUNT] =
	{
		[ABI_X86_64] =
			{
				[ABI_C_BOOL] = {1, 1},
				[ABI_C_CHAR] = {1, 1},
				[ABI_C_SHORT] = {2, 2},
				[ABI_C_INT] = {4, 4},
				[ABI_C_LONG] = {8, 8},
				[ABI_C_LLONG] = {8, 8},
				[ABI_C_PTR] = {8, 8},
				[ABI_C_FLOAT] = {4, 4},
				[ABI_C_DOUBLE] = {8, 8},
			},
		[ABI_AARCH64] =
			{
				[ABI_C_BOOL] = {1, 1},
				[ABI_C_CHAR] = {1, 1},
				[ABI_C_SHORT] = {2, 2},
				[ABI_C_INT] = {4, 4},
				[ABI_C_LONG] = {8, 8},
				[ABI_C_LLONG] = {8, 8},
				[ABI_C_PTR] = {8, 8},
				[ABI_C_FLOAT] = {4, 4},
				[ABI_C_DOUBLE] = {8, 8},
			},
		[ABI_I386] =
			{
				[ABI_C_BOOL] = {1, 1},
				[ABI_C_CHAR] = {1, 1},
				[ABI_C_SHORT] = {2, 2},
				[ABI_C_INT] = {4, 4},
				[ABI_C_LONG] = {4, 4},
				[ABI_C_LLONG] = {8, 4},
				[ABI_C_PTR] = {4, 4},
				[ABI_C_FLOAT] = {4, 4},
				[ABI_C_DOUBLE] = {8, 4},
			},
};

static const bool abi_char_signedness[ABI_COUNT] = {
	[ABI_X86_64] = true,
	[ABI_AARCH64] = false,
	[ABI_I386] = true,
};

static const struct abi_size abi_syncs[ABI_COUNT][SYNC_KIND_COUNT] = {
	[ABI_X86_64] =
		{
			[SYNC_MUTEX] = {40, 8},
			[SYNC_SEM] = {32, 8},
			[SYNC_RWLOCK] = {56, 8},
			[SYNC_COND] = {48, 8},
			[SYNC_SPIN] = {4, 4},
			[SYNC_BARRIER] = {32, 8},
			[SYNC_FUTEX] = {4, 4},
		},
	[ABI_AARCH64] =
		{
			[SYNC_MUTEX] = {48, 8},
			[SYNC_SEM] = {32, 8},
			[SYNC_RWLOCK] = {56, 8},
			[SYNC_COND] = {48, 8},
			[SYNC_SPIN] = {4, 4},
			[SYNC_BARRIER] = {32, 8},
			[SYNC_FUTEX] = {4, 4},
		},
	[ABI_I386] =
		{
			[SYNC_MUTEX] = {24, 4},
			[SYNC_SEM] = {16, 4},
			[SYNC_RWLOCK] = {32, 4},
			[SYNC_COND] = {48, 4},
			[SYNC_SPIN] = {4, 4},
			[SYNC_BARRIER] = {20, 4},
			[SYNC_FUTEX] = {4, 4},
		},
};

/* Typedef names: the C type each stands for, per ABI, and signedness. */
static const struct {
	const char *name;
	enum abi_ctype ct[ABI_COUNT];
	bool is_signed;
} abi_typedefs[] = {
#define ALL3(t)         \
	{               \
		t, t, t \
	}
	{"int8_t", ALL3(ABI_C_CHAR), true},
	{"uint8_t", ALL3(ABI_C_CHAR), false},
	{"int16_t", ALL3(ABI_C_SHORT), true},
	{"uint16_t", ALL3(ABI_C_SHORT), false},
	{"int32_t", ALL3(ABI_C_INT), true},
	{"uint32_t", ALL3(ABI_C_INT), false},
	{"int64_t", {ABI_C_LONG, ABI_C_LONG, ABI_C_LLONG}, true},
	{"uint64_t", {ABI_C_LONG, ABI_C_LONG, ABI_C_LLONG}, false},
	{"int_least8_t", ALL3(ABI_C_CHAR), true},
	{"uint_least8_t", ALL3(ABI_C_CHAR), false},
	{"int_least16_t", ALL3(ABI_C_SHORT), true},
	{"uint_least16_t", ALL3(ABI_C_SHORT), false},
	{"int_least32_t", ALL3(ABI_C_INT), true},
	{"uint_least32_t", ALL3(ABI_C_INT), false},
	{"int_least64_t", {ABI_C_LONG, ABI_C_LONG, ABI_C_LLONG}, true},
	{"uint_least64_t", {ABI_C_LONG, ABI_C_LONG, ABI_C_LLONG}, false},
	{"int_fast8_t", ALL3(ABI_C_CHAR), true},
	{"uint_fast8_t", ALL3(ABI_C_CHAR), false},
	{"int_fast16_t", {ABI_C_LONG, ABI_C_LONG, ABI_C_INT}, true},
	{"uint_fast16_t", {ABI_C_LONG, ABI_C_LONG, ABI_C_INT}, false},
	{"int_fast32_t", {ABI_C_LONG, ABI_C_LONG, ABI_C_INT}, true},
	{"uint_fast32_t", {ABI_C_LONG, ABI_C_LONG, ABI_C_INT}, false},
	{"int_fast64_t", {ABI_C_LONG, ABI_C_LONG, ABI_C_LLONG}, true},
	{"uint_fast64_t", {ABI_C_LONG, ABI_C_LONG, ABI_C_LLONG}, false},
	{"intmax_t", {ABI_C_LONG, ABI_C_LONG, ABI_C_LLONG}, true},
	{"uintmax_t", {ABI_C_LONG, ABI_C_LONG, ABI_C_LLONG}, false},
	{"intptr_t", ALL3(ABI_C_LONG), true},
	{"uintptr_t", ALL3(ABI_C_LONG), false},
	{"size_t", ALL3(ABI_C_LONG), false},
	{"ssize_t", ALL3(ABI_C_LONG), true},
	{"ptrdiff_t", ALL3(ABI_C_LONG), true},
	{"off_t", ALL3(ABI_C_LONG), true},
	{"off64_t", {ABI_C_LONG, ABI_C_LONG, ABI_C_LLONG}, true},
	{"pid_t", ALL3(ABI_C_INT), true},
	{"uid_t", ALL3(ABI_C_INT), false},
	{"gid_t", ALL3(ABI_C_INT), false},
	{"id_t", ALL3(ABI_C_INT), false},
	{"mode_t", ALL3(ABI_C_INT), false},
	{"key_t", ALL3(ABI_C_INT), true},
	{"useconds_t", ALL3(ABI_C_INT), false},
	{"suseconds_t", ALL3(ABI_C_LONG), true},
	{"time_t", ALL3(ABI_C_LONG), true},
	{"clock_t", ALL3(ABI_C_LONG), true},
	{"dev_t", {ABI_C_LONG, ABI_C_LONG, ABI_C_LLONG}, false},
	{"ino_t", ALL3(ABI_C_LONG), false},
	{"ino64_t", {ABI_C_LONG, ABI_C_LONG, ABI_C_LLONG}, false},
	{"nlink_t", {ABI_C_LONG, ABI_C_INT, ABI_C_INT}, false},
	{"blksize_t", {ABI_C_LONG, ABI_C_INT, ABI_C_LONG}, true},
	{"blkcnt_t", ALL3(ABI_C_LONG), true},
	{"wchar_t", ALL3(ABI_C_INT), true}, /* unsigned on aarch64: below */
	{"char16_t", ALL3(ABI_C_SHORT), false},
	{"char32_t", ALL3(ABI_C_INT), false},
	{"atomic_bool", ALL3(ABI_C_BOOL), false},
	{"atomic_char", ALL3(ABI_C_CHAR), true},
	{"atomic_schar", ALL3(ABI_C_CHAR), true},
	{"atomic_uchar", ALL3(ABI_C_CHAR), false},
	{"atomic_short", ALL3(ABI_C_SHORT), true},
	{"atomic_ushort", ALL3(ABI_C_SHORT), false},
	{"atomic_int", ALL3(ABI_C_INT), true},
	{"atomic_uint", ALL3(ABI_C_INT), false},
	{"atomic_long", ALL3(ABI_C_LONG), true},
	{"atomic_ulong", ALL3(ABI_C_LONG), false},
	{"atomic_llong", ALL3(ABI_C_LLONG), true},
	{"atomic_ullong", ALL3(ABI_C_LLONG), false},
	{"atomic_size_t", ALL3(ABI_C_LONG), false},
	{"atomic_intptr_t", ALL3(ABI_C_LONG), true},
	{"atomic_uintptr_t", ALL3(ABI_C_LONG), false},
#undef ALL3
};

struct abi_size abi_ctype_size(enum abi_id id, enum abi_ctype ct)
{
	static const struct abi_size none = {0, 0};

	if ((unsigned)id >= ABI_COUNT || (unsigned)ct >= ABI_C_COUNT)
		return none;
	return abi_ctypes[id][ct];
}

bool abi_char_signed(enum abi_id id)
{
	return (unsigned)id < ABI_COUNT && abi_char_signedness[id];
}

struct abi_size abi_sync_size(enum abi_id id, enum sync_kind kind)
{
	static const struct abi_size none = {0, 0};

	if ((unsigned)id >= ABI_COUNT || (unsigned)kind >= SYNC_KIND_COUNT)
		return none;
	return abi_syncs[id][kind];
}

bool abi_typedef(enum abi_id id, const char *name, enum abi_ctype *ct,
		 bool *is_signed)
{
	if ((unsigned)id >= ABI_COUNT)
		return false;
	for (size_t i = 0; i < sizeof(abi_typedefs) / sizeof(abi_typedefs[0]);
	     i++) {
		if (strcmp(name, abi_typedefs[i].name))
			continue;
		*ct = abi_typedefs[i].ct[id];
		*is_signed = abi_typedefs[i].is_signed;
		/* aarch64's wchar_t is unsigned int (AAPCS64). */
		if (id == ABI_AARCH64 && !strcmp(name, "wchar_t"))
			*is_signed = false;
		return true;
	}
	return false;
}
