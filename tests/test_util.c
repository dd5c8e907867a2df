/* Unit tests for the small shared pieces of lib/: err and abi. */
#include "test.h"

#include "abi.h"
#include "err.h"
#include "json.h"

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

static void test_json_writer(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct json j;

	CHECK(f != NULL);
	json_init(&j, f, false);
	json_begin_obj(&j);
	json_kv_str(&j, "name", "a\"b\\c\n\x01\xff");
	json_key(&j, "list");
	json_begin_arr(&j);
	json_int(&j, -3);
	json_uint(&j, 18446744073709551615ULL);
	json_bool(&j, true);
	json_null(&j);
	json_begin_obj(&j);
	json_end_obj(&j);
	json_end_arr(&j);
	json_kv_double(&j, "half", 0.5);
	json_end_obj(&j);
	fclose(f);
	CHECK_STR(buf, "{\"name\":\"a\\\"b\\\\c\\n\\u0001\\u00ff\","
		       "\"list\":[-3,18446744073709551615,true,null,{}],"
		       "\"half\":0.5}");
	free(buf);
}

int main(void)
{
	RUN(test_json_writer);
	RUN(test_err_set);
	RUN(test_abi_names);
	return test_done();
}
