/*
 * Unit tests of shmfuzz's reader of `shmtrace report --json`'s "misuse"
 * array (fuzz/misuse.c, a program file: included here whole).
 */
#include "test.h"

#include "../fuzz/misuse.c"

static int parse(const char *json, char *sig, char *what)
{
	return fuzz_misuse_parse(json, strlen(json), sig, 256, what, 256);
}

static void test_misuse_first_named(void)
{
	char sig[256], what[256];
	const char *j =
		"{\"processes\": [{\"pid\": 1, \"comm\": \"a \\\"b\\\" }\"}],"
		" \"locks\": [], \"cycles\": [{\"locks\": [\"x\", \"y\"]}],"
		" \"misuse\": [{\"kind\": \"unlock-not-owner\","
		" \"description\": \"unlock by a thread, {not} the owner\","
		" \"lock\": {\"name\": \"record.lock\", \"kind\": \"mutex\","
		" \"segment\": \"/r-12\", \"offset\": 8}, \"pid\": 12,"
		" \"stack\": [\"main+0x1 (m.c:3)\"]},"
		" {\"kind\": \"relock\", \"lock\": {\"name\": \"b\"}}],"
		" \"blocked\": []}";

	CHECK_INT(parse(j, sig, what), 2);
	CHECK_STR(sig, "unlock-not-owner record.lock");
	CHECK_STR(what, "unlock-not-owner of record.lock");
}

static void test_misuse_segment_digits_squashed(void)
{
	char sig[256], what[256];
	const char *j =
		"{\"misuse\": [{\"lock\": {\"segment\": null,"
		" \"name\": \"/shm-t-123-45+0x40\"}, \"kind\": \"relock\"}]}";

	CHECK_INT(parse(j, sig, what), 1);
	CHECK_STR(sig, "relock /shm-t-#-#+0x40");
	CHECK_STR(what, "relock of /shm-t-123-45+0x40");
}

static void test_misuse_died_holding_alone_passes(void)
{
	char sig[256] = "", what[256] = "";
	const char *j = "{\"misuse\": [{\"kind\": \"died-holding\", \"lock\":"
			" {\"name\": \"account.lock\"}}]}";
	const char *j2 = "{\"misuse\": [{\"kind\": \"died-holding\", \"lock\":"
			 " {\"name\": \"account.lock\"}}, {\"kind\":"
			 " \"owner-dead-not-consistent\", \"lock\":"
			 " {\"name\": \"account.lock\"}}]}";

	CHECK_INT(parse(j, sig, what), 0);
	CHECK_INT(parse(j2, sig, what), 1);
	CHECK_STR(sig, "owner-dead-not-consistent account.lock");
}

static void test_misuse_none_or_malformed(void)
{
	char sig[256] = "", what[256] = "";

	CHECK_INT(parse("{\"locks\": [1, 2], \"misuse\": []}", sig, what), 0);
	CHECK_INT(parse("{\"locks\": []}", sig, what), 0);
	CHECK_STR(sig, "");
	CHECK(parse("{\"misuse\": [{\"kind\": \"x\"", sig, what) < 0);
	CHECK(parse("{\"misuse\": [{\"kind\": \"x\"}", sig, what) < 0);
	CHECK(parse("[", sig, what) < 0);
	CHECK(parse("", sig, what) < 0);
}

int main(void)
{
	RUN(test_misuse_first_named);
	RUN(test_misuse_segment_digits_squashed);
	RUN(test_misuse_died_holding_alone_passes);
	RUN(test_misuse_none_or_malformed);
	return test_done();
}
