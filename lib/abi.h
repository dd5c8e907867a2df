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
