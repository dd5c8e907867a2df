/*
 * abi.h - the target ABIs whose C layout shmscope knows.
 *
 * Every per-ABI fact (type sizes and alignments, the sizes of glibc's
 * synchronisation types, syscall numbers) lives in one table in abi.c.
 */
#ifndef SHMSCOPE_ABI_H
#define SHMSCOPE_ABI_H

enum abi_id { ABI_X86_64, ABI_AARCH64, ABI_I386, ABI_COUNT };

/* The ABI this program was compiled for. */
enum abi_id abi_host(void);

/* Look up "x86-64"/"x86_64", "aarch64"/"arm64", "i386"/"x86"; -1 if none. */
int abi_from_name(const char *name);

/* The canonical name of ID ("x86-64", "aarch64", "i386"). */
const char *abi_name(enum abi_id id);

#endif

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
