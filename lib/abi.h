/*
 * abi.h - the target ABIs whose C layout shmscope knows.
 *
 * Every per-ABI fact (type sizes and alignments, syscall numbers) lives in
 * a table in abi.c.
 */
#ifndef SHMSCOPE_ABI_H
#define SHMSCOPE_ABI_H

#include <stdbool.h>

enum abi_id { ABI_X86_64, ABI_AARCH64, ABI_I386, ABI_COUNT };

/* The ABI this program was compiled for. */
enum abi_id abi_host(void);

/* Look up "x86-64"/"x86_64", "aarch64"/"arm64", "i386"/"x86"; -1 if none. */
int abi_from_name(const char *name);

/* The canonical name of ID ("x86-64", "aarch64", "i386"). */
const char *abi_name(enum abi_id id);

/*
 * Syscall numbers shmscope needs to recognise in /proc/PID/task/TID/syscall
 * (kept apart from the layout tables).  A thread blocked in a futex wait
 * shows the futex syscall number of its process's ABI: x86-64 202, aarch64
 * 98, i386 240 (and futex_time64, 422, which 32-bit glibc uses for timed
 * waits).
 */

/* The futex(2) syscall number of ID; -1 for an unknown ID. */
long abi_futex_nr(enum abi_id id);

/* True when NR is a futex syscall (futex or futex_time64) under ID. */
bool abi_is_futex_nr(enum abi_id id, long nr);

/* The ABI of an ELF e_machine value (EM_X86_64, EM_AARCH64, EM_386);
 * -1 for any other machine. */
int abi_from_elf_machine(unsigned machine);

/* ---- C layout facts (used by the layout parser) -------------------------
 * Kept apart from the rest of this header so other parts can add their own
 * per-ABI facts without touching these.
 */
#include <stdbool.h>

#include "synckind.h"

/* The C base types whose size and alignment differ between ABIs. */
enum abi_ctype {
	ABI_C_BOOL,
	ABI_C_CHAR,
	ABI_C_SHORT,
	ABI_C_INT,
	ABI_C_LONG,
	ABI_C_LLONG,
	ABI_C_PTR,
	ABI_C_FLOAT,
	ABI_C_DOUBLE,
	ABI_C_COUNT
};

/* Size and alignment inside a struct, in bytes. */
struct abi_size {
	unsigned size;
	unsigned align;
};

/* The size and in-struct alignment of CT on ID (i386 aligns long long and
 * double to 4 inside structs, as gcc does). */
struct abi_size abi_ctype_size(enum abi_id id, enum abi_ctype ct);

/* Whether plain `char` is signed on ID (it is not on aarch64). */
bool abi_char_signed(enum abi_id id);

/* The size and alignment of glibc's type for synchronisation object KIND on
 * ID ({0, 0} for SYNC_NONE). */
struct abi_size abi_sync_size(enum abi_id id, enum sync_kind kind);

/* The C type and signedness that the <stdint.h>/<sys/types.h>/<stddef.h>
 * name NAME stands for on ID.  Returns false if NAME is not such a name. */
bool abi_typedef(enum abi_id id, const char *name, enum abi_ctype *ct,
		 bool *is_signed);

#endif
