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
	CHECK_STR(sig, "unlock-not-owner record.lock at main (m.c:3)");
	CHECK_STR(what, "unlock-not-owner of record.lock at main+0x1 (m.c:3)");
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

/* The same kind on the same lock from two call sites: two signatures;
 * the same site again (another pid, another address): the same one. */
static void test_misuse_call_site_in_signature(void)
{
	char a[256], b[256], c[256], what[256];
	const char *ja = "{\"misuse\": [{\"kind\": \"unlock-not-owner\","
			 " \"lock\": {\"name\": \"r.lock\"}, \"pid\": 5,"
			 " \"stack\": [\"unlock_a+0x9 (w.c:10)\", \"main\"]}]}";
	const char *jb = "{\"misuse\": [{\"kind\": \"unlock-not-owner\","
			 " \"lock\": {\"name\": \"r.lock\"}, \"pid\": 5,"
			 " \"stack\": [\"unlock_b+0x9 (w.c:20)\"]}]}";
	const char *jc = "{\"misuse\": [{\"kind\": \"unlock-not-owner\","
			 " \"stack\": [\"unlock_a+0x9 (w.c:10)\"], \"pid\": 7,"
			 " \"lock\": {\"name\": \"r.lock\"}}]}";

	CHECK_INT(parse(ja, a, what), 1);
	CHECK_INT(parse(jb, b, what), 1);
	CHECK_INT(parse(jc, c, what), 1);
	CHECK_STR(a, "unlock-not-owner r.lock at unlock_a (w.c:10)");
	CHECK_STR(b, "unlock-not-owner r.lock at unlock_b (w.c:20)");
	CHECK(strcmp(a, b) != 0);
	CHECK_STR(a, c);
}

static void test_site_clean(void)
{
	char s[128];

	fuzz_site_clean("f+0x12 (f.c:40)", s, sizeof(s));
	CHECK_STR(s, "f (f.c:40)");
	/* No line: the offset is what tells two calls apart. */
	fuzz_site_clean("f+0x12 (prog)", s, sizeof(s));
	CHECK_STR(s, "f+0x12");
	fuzz_site_clean("libx.so+0x1234", s, sizeof(s));
	CHECK_STR(s, "libx.so+0x1234");
	/* A bare address moves with ASLR: no use for grouping. */
	fuzz_site_clean("0x7f12345678", s, sizeof(s));
	CHECK_STR(s, "?");
	fuzz_site_clean("", s, sizeof(s));
	CHECK_STR(s, "?");
}

static void test_blocked_sites(void)
{
	char out[256];
	const char *j =
		"[{\"kind\":\"skipped\",\"events\":10},"
		"{\"kind\":\"event\",\"op\":\"end\",\"site\":\"no (x.c:1)\"},"
		"{\"kind\":\"blocked\",\"tid\":7,\"op\":\"mutex_block\","
		"\"site\":\"lock_b+0x9 (w.c:20)\"},"
		"{\"kind\":\"blocked\",\"tid\":8,\"site\":\"lock_a+0x9 "
		"(w.c:10)\"},"
		"{\"kind\":\"blocked\",\"tid\":9,\"site\":\"lock_b+0x9 "
		"(w.c:20)\"},"
		"{\"kind\":\"blocked\",\"tid\":10,\"op\":\"sem_block\"},"
		"{\"kind\":\"held\",\"object\":\"a\"}]";

	CHECK_INT(fuzz_blocked_sites_parse(j, strlen(j), out, sizeof(out)), 2);
	CHECK_STR(out, "lock_a (w.c:10), lock_b (w.c:20)");
	CHECK_INT(fuzz_blocked_sites_parse("[]", 2, out, sizeof(out)), 0);
	CHECK_STR(out, "");
	CHECK(fuzz_blocked_sites_parse("[{\"kind\"", 9, out, sizeof(out)) < 0);
	CHECK(fuzz_blocked_sites_parse("{}", 2, out, sizeof(out)) < 0);
}

int main(void)
{
	RUN(test_misuse_first_named);
	RUN(test_misuse_segment_digits_squashed);
	RUN(test_misuse_died_holding_alone_passes);
	RUN(test_misuse_none_or_malformed);
	RUN(test_misuse_call_site_in_signature);
	RUN(test_site_clean);
	RUN(test_blocked_sites);
	return test_done();
}
