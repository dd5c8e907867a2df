/* Unit tests for the small shared pieces of lib/: err and abi. */
#include "test.h"

#include "abi.h"
#include "err.h"

static void test_err_set(void)
{
	struct errbuf e;

	err_set(&e, "%s:%d: %s", "f.layout", 3, "bad");
	CHECK_STR(e.msg, "f.layout:3: bad");
	err_setn(&e, ENOENT, "open %s", "/x");
	CHECK_STR(e.msg, "open /x: No such file or directory");
	err_set(NULL, "ignored");
}

static void test_abi_names(void)
{
	CHECK_INT(abi_from_name("x86_64"), ABI_X86_64);
	CHECK_INT(abi_from_name("arm64"), ABI_AARCH64);
	CHECK_INT(abi_from_name("i386"), ABI_I386);
	CHECK_INT(abi_from_name("vax"), -1);
	CHECK_STR(abi_name(ABI_AARCH64), "aarch64");
	CHECK_INT(abi_host(), ABI_X86_64);
}

int main(void)
{
	RUN(test_err_set);
	RUN(test_abi_names);
	return test_done();
}
