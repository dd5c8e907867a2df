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
