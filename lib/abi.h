/*
 * abi.h - the target ABIs whose C layout shmscope knows.
 *
 * Every per-ABI fact (type sizes and alignments, syscall numbers) lives in
 * a table in abi.c; the sizes of glibc's
 * synchronisation types are in sync.c (sync_size, sync_align).
 */
#ifndef SHMSCOPE_ABI_H
#define SHMSCOPE_ABI_H

#include <stdbool.h>

enum abi_id {
	ABI_X86_64,
	ABI_AARCH64,
	ABI_I386,
	ABI_COUNT
};

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

#endif
