/* Snapshots of real segments with no layout (the hex view): segments that
 * grow, shrink, vanish and come back under them, and a shrink racing the
 * read. */
#include "test.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "abi.h"
#include "err.h"
#include "layout.h"
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

static void test_snapshot_take_reads_bytes(void)
{
	struct errbuf e = {{0}};
	struct snapshot s = {0};
	struct snap_source src, *r = &src;
	int fd;

	snprintf(name, sizeof(name), "/shmscope-t-snapshot_take-%d", getpid());
	fd = make_seg(4096, "RING");
	CHECK(fd >= 0);
	CHECK_INT(snap_source_open(r, name, NULL, NULL, &e), 0);
	CHECK_INT(snap_take(r, &s, &e), 0);
	CHECK_INT(s.size, 4096);
	CHECK(s.bytes && !memcmp(s.bytes, "RING", 4) && s.bytes[4] == 0);
	CHECK_INT(s.status, SNAP_SEG_OK);
	CHECK(s.status_msg == NULL);
	CHECK_STR(s.kind, "posix");
	CHECK_STR(s.name, name);
	snap_free(&s);
	/* Read-only: the mapping cannot be used to write. */
	CHECK(pwrite(fd, "X", 1, 5) == 1);
	CHECK_INT(snap_take(r, &s, &e), 0);
	CHECK_INT(s.bytes[5], 'X');
	snap_free(&s);
	snap_source_close(r);
	close(fd);
}

static void test_snapshot_take_shrink_grow_unlink_recreate(void)
{
	struct errbuf e = {{0}};
	struct snapshot s = {0};
	struct snap_source src, *r = &src;
	int fd;

	snprintf(name, sizeof(name), "/shmscope-t-snapshot_take2-%d", getpid());
	fd = make_seg(4096, "HEAD");
	CHECK(fd >= 0);
	CHECK_INT(snap_source_open(r, name, NULL, NULL, &e), 0);
	CHECK(ftruncate(fd, 64) == 0);
	CHECK_INT(snap_take(r, &s, &e), 0);
	CHECK_INT(s.size, 64);
	CHECK_INT(s.status, SNAP_SEG_SHRANK);
	CHECK(strstr(s.status_msg, "segment shrank to 64 bytes") != NULL);
	snap_free(&s);
	CHECK(ftruncate(fd, 8192) == 0);
	CHECK(pwrite(fd, "TAIL", 4, 8000) == 4);
	CHECK_INT(snap_take(r, &s, &e), 0);
	CHECK_INT(s.size, 8192);
	CHECK_INT(s.status, SNAP_SEG_GREW);
	CHECK(!memcmp(s.bytes + 8000, "TAIL", 4));
	snap_free(&s);
	CHECK(shm_unlink(name) == 0);
	CHECK_INT(snap_take(r, &s, &e), 0);
	CHECK_INT(s.status, SNAP_SEG_UNLINKED);
	CHECK(!memcmp(s.bytes, "HEAD", 4));
	snap_free(&s);
	close(fd);
	fd = make_seg(128, "NEW!");
	CHECK(fd >= 0);
	CHECK_INT(snap_take(r, &s, &e), 0);
	CHECK_INT(s.status, SNAP_SEG_RECREATED);
	CHECK(strstr(s.status_msg, "now names another object") != NULL);
	snap_free(&s);
	CHECK_INT(snap_source_reattach(r, &e), 0);
	CHECK_INT(snap_take(r, &s, &e), 0);
	CHECK_INT(s.status, SNAP_SEG_OK);
	CHECK_INT(s.size, 128);
	CHECK(!memcmp(s.bytes, "NEW!", 4));
	snap_free(&s);
	snap_source_close(r);
	close(fd);
}

/*
 * Another process flips the size between 1 MiB and 64 bytes as fast as it
 * can while we read: a read past the new end would raise SIGBUS, which
 * kills this test.  Every snapshot must be one of the sizes seen.
 */
static void test_snapshot_take_survives_shrink_race(void)
{
	struct errbuf e = {{0}};
	struct snap_source src, *r = &src;
	uint64_t deadline;
	pid_t child;
	int fd, takes = 0;

	snprintf(name, sizeof(name), "/shmscope-t-snapshot_take3-%d", getpid());
	fd = make_seg(1 << 20, "RACE");
	CHECK(fd >= 0);
	CHECK_INT(snap_source_open(r, name, NULL, NULL, &e), 0);
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

		CHECK_INT(snap_take(r, &s, &e), 0);
		CHECK(s.size <= (1 << 20));
		CHECK(s.size < 4 || !memcmp(s.bytes, "RACE", 4));
		snap_free(&s);
		takes++;
	}
	CHECK(takes > 10);
	snap_source_close(r);
	close(fd);
}

static void test_snapshot_take_missing(void)
{
	struct errbuf e = {{0}};

	struct snap_source src;

	CHECK(snap_source_open(&src, "/shmscope-t-no-such-segment", NULL, NULL,
			       &e) < 0);
	CHECK(strstr(e.msg, "No such file") != NULL);
	CHECK(snap_source_open(&src, NULL, NULL, NULL, &e) == -EINVAL);
	CHECK(strstr(e.msg, "no target") != NULL);
}

/* A child that maps FD and, with LOCK, takes the segment's process-shared
 * mutex at offset 0; it says "r" on the pipe when done and then waits to
 * be killed. */
static pid_t mapper_child(int fd, bool lock)
{
	int p[2];
	char c = 0;
	pid_t pid;

	if (pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		pthread_mutex_t *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
					  MAP_SHARED, fd, 0);
		pthread_mutexattr_t a;

		if (m == MAP_FAILED)
			_exit(1);
		if (lock) {
			pthread_mutexattr_init(&a);
			pthread_mutexattr_setpshared(&a,
						     PTHREAD_PROCESS_SHARED);
			if (pthread_mutex_init(m, &a) || pthread_mutex_lock(m))
				_exit(1);
		}
		if (write(p[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (pid > 0) {
		test_defer_kill(pid);
		if (read(p[0], &c, 1) != 1 || c != 'r')
			pid = -1;
	}
	close(p[0]);
	return pid;
}

static void kill_and_reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/*
 * A live view reuses the list of mappers for mappers_ttl_ms, but never
 * shows a dead mapper alive, and looks again when a lock's owner is not
 * in the list (a process that mapped the segment since).
 */
static void test_snapshot_take_mapper_cache(void)
{
	static const char text[] = "struct s { pthread_mutex_t lock; };\n";
	struct errbuf e = {{0}};
	struct snapshot s = {0};
	struct snap_source src, *r = &src;
	struct layout *l;
	pid_t a, b;
	int fd;

	snprintf(name, sizeof(name), "/shmscope-t-snapshot_take4-%d", getpid());
	fd = make_seg(4096, "");
	CHECK(fd >= 0);
	l = layout_parse_string("t.layout", text, sizeof(text) - 1, abi_host(),
				0, &e);
	CHECK(l != NULL);
	a = mapper_child(fd, false);
	CHECK(a > 0);
	CHECK_INT(snap_source_open(r, name, l, NULL, &e), 0);
	r->mappers_ttl_ms = 600000;
	CHECK_INT(snap_take(r, &s, &e), 0);
	CHECK_INT(s.nprocs, 1);
	CHECK_INT(s.procs[0].pid, a);
	CHECK_INT(r->mapper_scans, 1);
	snap_free(&s);

	/* Nothing changed: the list is reused. */
	CHECK_INT(snap_take(r, &s, &e), 0);
	CHECK_INT(s.nprocs, 1);
	CHECK_INT(r->mapper_scans, 1);
	snap_free(&s);

	/* A new process maps the segment and holds its lock: its owner is
	 * not in the list, so the list is read again. */
	b = mapper_child(fd, true);
	CHECK(b > 0);
	CHECK_INT(snap_take(r, &s, &e), 0);
	CHECK_INT(r->mapper_scans, 2);
	CHECK_INT(s.nsyncs, 1);
	CHECK_INT(s.syncs[0].owner_tid, b);
	CHECK_INT(s.syncs[0].owner_alive, 1);
	CHECK_INT(s.nprocs, 2);
	snap_free(&s);

	/* A mapper died: never shown alive, whatever the age of the list. */
	kill_and_reap(a);
	CHECK_INT(snap_take(r, &s, &e), 0);
	CHECK_INT(r->mapper_scans, 3);
	CHECK_INT(s.nprocs, 1);
	CHECK_INT(s.procs[0].pid, b);
	snap_free(&s);

	/* The owner died: its lock's owner is gone at once. */
	kill_and_reap(b);
	CHECK_INT(snap_take(r, &s, &e), 0);
	CHECK_INT(s.nprocs, 0);
	CHECK_INT(s.syncs[0].owner_alive, 0);
	snap_free(&s);

	/* Without a TTL every snapshot reads /proc. */
	r->mappers_ttl_ms = 0;
	unsigned before = r->mapper_scans;
	CHECK_INT(snap_take(r, &s, &e), 0);
	snap_free(&s);
	CHECK_INT(snap_take(r, &s, &e), 0);
	snap_free(&s);
	CHECK_INT(r->mapper_scans, before + 2);
	snap_source_close(r);
	layout_free(l);
	close(fd);
}

int main(void)
{
	RUN(test_snapshot_take_reads_bytes);
	RUN(test_snapshot_take_shrink_grow_unlink_recreate);
	RUN(test_snapshot_take_survives_shrink_race);
	RUN(test_snapshot_take_missing);
	RUN(test_snapshot_take_mapper_cache);
	return test_done();
}
