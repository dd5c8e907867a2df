/* The raw segment source of the hex view: real segments that grow, shrink,
 * vanish and come back under it, and a shrink racing the read. */
#include "test.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "../inspector/rawseg.h"
#include "err.h"
#include "snapshot.h"

static char name[64];

static int make_seg(size_t size, const char *text)
{
	int fd = shm_open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);

	if (fd < 0)
		return -1;
	test_defer_unlink(name);
	if (ftruncate(fd, (off_t)size) < 0 ||
	    pwrite(fd, text, strlen(text), 0) != (ssize_t)strlen(text)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void test_rawseg_reads_bytes(void)
{
	struct errbuf e = {{0}};
	struct snapshot s = {0};
	struct rawseg *r;
	int fd;

	snprintf(name, sizeof(name), "/shmscope-t-rawseg-%d", getpid());
	fd = make_seg(4096, "RING");
	CHECK(fd >= 0);
	r = rawseg_open(name, &e);
	CHECK(r != NULL);
	CHECK_INT(rawseg_take(r, &s, &e), 0);
	CHECK_INT(s.size, 4096);
	CHECK(s.bytes && !memcmp(s.bytes, "RING", 4) && s.bytes[4] == 0);
	CHECK_INT(s.status, SNAP_SEG_OK);
	CHECK(s.status_msg == NULL);
	CHECK_STR(s.kind, "posix");
	CHECK_STR(s.name, name);
	snap_free(&s);
	/* Read-only: the mapping cannot be used to write. */
	CHECK(pwrite(fd, "X", 1, 5) == 1);
	CHECK_INT(rawseg_take(r, &s, &e), 0);
	CHECK_INT(s.bytes[5], 'X');
	snap_free(&s);
	rawseg_close(r);
	close(fd);
}

static void test_rawseg_shrink_grow_unlink_recreate(void)
{
	struct errbuf e = {{0}};
	struct snapshot s = {0};
	struct rawseg *r;
	int fd;

	snprintf(name, sizeof(name), "/shmscope-t-rawseg2-%d", getpid());
	fd = make_seg(4096, "HEAD");
	CHECK(fd >= 0);
	r = rawseg_open(name, &e);
	CHECK(r != NULL);
	CHECK(ftruncate(fd, 64) == 0);
	CHECK_INT(rawseg_take(r, &s, &e), 0);
	CHECK_INT(s.size, 64);
	CHECK_INT(s.status, SNAP_SEG_SHRANK);
	CHECK_STR(s.status_msg, "segment shrank to 64 bytes");
	snap_free(&s);
	CHECK(ftruncate(fd, 8192) == 0);
	CHECK(pwrite(fd, "TAIL", 4, 8000) == 4);
	CHECK_INT(rawseg_take(r, &s, &e), 0);
	CHECK_INT(s.size, 8192);
	CHECK_INT(s.status, SNAP_SEG_GREW);
	CHECK(!memcmp(s.bytes + 8000, "TAIL", 4));
	snap_free(&s);
	CHECK(shm_unlink(name) == 0);
	CHECK_INT(rawseg_take(r, &s, &e), 0);
	CHECK_INT(s.status, SNAP_SEG_UNLINKED);
	CHECK(!memcmp(s.bytes, "HEAD", 4));
	snap_free(&s);
	close(fd);
	fd = make_seg(128, "NEW!");
	CHECK(fd >= 0);
	CHECK_INT(rawseg_take(r, &s, &e), 0);
	CHECK_INT(s.status, SNAP_SEG_RECREATED);
	CHECK_STR(s.status_msg, "recreated — press r to reattach");
	snap_free(&s);
	CHECK_INT(rawseg_reattach(r, &e), 0);
	CHECK_INT(rawseg_take(r, &s, &e), 0);
	CHECK_INT(s.status, SNAP_SEG_OK);
	CHECK_INT(s.size, 128);
	CHECK(!memcmp(s.bytes, "NEW!", 4));
	snap_free(&s);
	rawseg_close(r);
	close(fd);
}

/*
 * Another process flips the size between 1 MiB and 64 bytes as fast as it
 * can while we read: a read past the new end would raise SIGBUS, which
 * kills this test.  Every snapshot must be one of the sizes seen.
 */
static void test_rawseg_survives_shrink_race(void)
{
	struct errbuf e = {{0}};
	struct rawseg *r;
	uint64_t deadline;
	pid_t child;
	int fd, takes = 0;

	snprintf(name, sizeof(name), "/shmscope-t-rawseg3-%d", getpid());
	fd = make_seg(1 << 20, "RACE");
	CHECK(fd >= 0);
	r = rawseg_open(name, &e);
	CHECK(r != NULL);
	child = fork();
	CHECK(child >= 0);
	if (child == 0) {
		for (;;) {
			if (ftruncate(fd, 64) < 0 || ftruncate(fd, 1 << 20) < 0)
				_exit(1);
		}
	}
	test_defer_kill(child);
	deadline = test_now_ms() + 1500;
	while (test_now_ms() < deadline) {
		struct snapshot s = {0};

		CHECK_INT(rawseg_take(r, &s, &e), 0);
		CHECK(s.size <= (1 << 20));
		CHECK(s.size < 4 || !memcmp(s.bytes, "RACE", 4));
		snap_free(&s);
		takes++;
	}
	CHECK(takes > 10);
	rawseg_close(r);
	close(fd);
}

static void test_rawseg_missing(void)
{
	struct errbuf e = {{0}};

	CHECK(rawseg_open("/shmscope-t-no-such-segment", &e) == NULL);
	CHECK(strstr(e.msg, "No such file") != NULL);
	CHECK(rawseg_open("no-slash", &e) == NULL);
	CHECK(strstr(e.msg, "not a POSIX segment name") != NULL);
}

int main(void)
{
	RUN(test_rawseg_reads_bytes);
	RUN(test_rawseg_shrink_grow_unlink_recreate);
	RUN(test_rawseg_survives_shrink_race);
	RUN(test_rawseg_missing);
	return test_done();
}
