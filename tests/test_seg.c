/*
 * Unit tests for lib/seg: target syntax, read-only attach (a write must
 * fault), and following a live segment that grows, shrinks, is unlinked
 * and is recreated — on real POSIX, SysV and file segments.
 */
#include "test.h"

#include <fcntl.h>
#include <sys/shm.h>
#include <sys/stat.h>

#include "proc.h"
#include "seg.h"

static char name[64];

/* Create POSIX segment NAME of SIZE bytes filled with BYTE; returns an fd
 * open read-write (the "writer" side of each test). */
static int make_posix(size_t size, int byte)
{
	static int n;
	char *p;
	int fd;

	snprintf(name, sizeof(name), "/shmscope-t-seg-%d-%d", (int)getpid(),
		 n++);
	fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
	if (fd < 0)
		return -1;
	test_defer_unlink(name);
	if (ftruncate(fd, (off_t)size) < 0)
		return -1;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -1;
	memset(p, byte, size);
	munmap(p, size);
	return fd;
}

static void test_parse_targets(void)
{
	struct seg_target t;
	struct errbuf e;
	char buf[PATH_MAX + 16];

	CHECK_INT(seg_parse_target("/ring", &t, &e), 0);
	CHECK_INT(t.kind, SEG_POSIX);
	CHECK_STR(t.name, "/ring");
	CHECK_INT(seg_parse_target("posix:/ring", &t, &e), 0);
	CHECK_INT(t.kind, SEG_POSIX);
	CHECK_STR(t.name, "/ring");
	CHECK_INT(seg_parse_target("posix:ring", &t, &e), 0);
	CHECK_STR(t.name, "/ring");
	CHECK_INT(seg_parse_target("/dev/shm/ring", &t, &e), 0);
	CHECK_INT(t.kind, SEG_POSIX);
	CHECK_STR(t.name, "/ring");

	CHECK_INT(seg_parse_target("sysv:0x1234abcd", &t, &e), 0);
	CHECK_INT(t.kind, SEG_SYSV);
	CHECK(!t.by_id);
	CHECK_INT(t.key, 0x1234abcd);
	CHECK_INT(seg_parse_target("sysv:4660", &t, &e), 0);
	CHECK_INT(t.key, 0x1234);
	CHECK_INT(seg_parse_target("sysv:0xffffffff", &t, &e), 0);
	CHECK_INT(t.key, -1);
	CHECK_STR(seg_target_str(&t, buf, sizeof(buf)), "sysv:0xffffffff");
	CHECK_INT(seg_parse_target("sysvid:42", &t, &e), 0);
	CHECK(t.by_id);
	CHECK_INT(t.shmid, 42);
	CHECK_STR(seg_target_str(&t, buf, sizeof(buf)), "sysvid:42");

	CHECK_INT(seg_parse_target("file:/tmp/x", &t, &e), 0);
	CHECK_INT(t.kind, SEG_FILE);
	CHECK_STR(t.name, "/tmp/x");
	CHECK_STR(seg_target_str(&t, buf, sizeof(buf)), "file:/tmp/x");
	CHECK_INT(seg_parse_target("/tmp/x", &t, &e), 0);
	CHECK_INT(t.kind, SEG_FILE);
	CHECK_INT(seg_parse_target("./data/seg", &t, &e), 0);
	CHECK_INT(t.kind, SEG_FILE);
	CHECK_STR(t.name, "./data/seg");
	CHECK_STR(seg_kind_name(SEG_FILE), "file");

	CHECK_INT(seg_parse_target("ring", &t, &e), -EINVAL);
	CHECK(strstr(e.msg, "not a target") != NULL);
	CHECK_INT(seg_parse_target("sysv:zz", &t, &e), -EINVAL);
	CHECK_STR(e.msg, "sysv:zz: not a System V key (0x hex or decimal)");
	CHECK_INT(seg_parse_target("sysv:0x123456789", &t, &e), -EINVAL);
	CHECK_INT(seg_parse_target("sysv:0", &t, &e), -EINVAL);
	CHECK(strstr(e.msg, "use sysvid:ID") != NULL);
	CHECK_INT(seg_parse_target("sysvid:-1", &t, &e), -EINVAL);
	CHECK_INT(seg_parse_target("sysvid:", &t, &e), -EINVAL);
	CHECK_INT(seg_parse_target("posix:/a/b", &t, &e), -EINVAL);
	CHECK_INT(seg_parse_target("posix:/", &t, &e), -EINVAL);
	CHECK_INT(seg_parse_target("file:", &t, &e), -EINVAL);
}

/* Run FN in a child; true when it died of SIGSEGV or SIGBUS. */
static bool write_faults(volatile char *p)
{
	int status;
	pid_t child = fork();

	if (child == 0) {
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		p[0] = 'x';
		_exit(0);
	}
	if (waitpid(child, &status, 0) != child)
		return false;
	return WIFSIGNALED(status) &&
	       (WTERMSIG(status) == SIGSEGV || WTERMSIG(status) == SIGBUS);
}

static void test_posix_readonly(void)
{
	struct seg s;
	struct errbuf e;
	struct stat st;
	char buf[16];
	int fd = make_posix(8192, 'a');

	CHECK(fd >= 0);
	CHECK(fstat(fd, &st) == 0);
	CHECK_INT(seg_open(&s, name, &e), 0);
	CHECK_INT(s.size, 8192);
	CHECK(s.dev == st.st_dev && s.ino == st.st_ino);
	CHECK_STR(s.name, name);
	CHECK_INT(seg_read(&s, 8190, buf, sizeof(buf)), 2);
	CHECK(buf[0] == 'a' && buf[1] == 'a');
	CHECK_INT(seg_read(&s, 9000, buf, sizeof(buf)), 0);
	/* The mapping is read-only and cannot be made writable. */
	CHECK(write_faults((volatile char *)s.base));
	CHECK(mprotect((void *)s.base, 4096, PROT_READ | PROT_WRITE) < 0);
	CHECK_INT(errno, EACCES);
	/* The fd it keeps is read-only too. */
	CHECK(fcntl(s.fd, F_GETFL) >= 0);
	CHECK_INT(fcntl(s.fd, F_GETFL) & O_ACCMODE, O_RDONLY);
	CHECK_INT(seg_refresh(&s, &e), 0);
	seg_detach(&s);
	close(fd);

	CHECK(seg_open(&s, "/shmscope-t-seg-does-not-exist", &e) == -ENOENT);
	CHECK(strstr(e.msg, "No such file") != NULL);
	seg_detach(&s);
}

static void test_sysv_readonly(void)
{
	struct seg s;
	struct errbuf e;
	char arg[64], buf[4];
	key_t key = (key_t)(0x5e000000 | (getpid() & 0xffffff));
	int id = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600);
	char *w;

	CHECK(id >= 0);
	w = shmat(id, NULL, 0);
	shmctl(id, IPC_RMID, NULL); /* freed when both of us detach */
	CHECK(w != (void *)-1);
	memcpy(w, "sysv", 4);

	snprintf(arg, sizeof(arg), "sysvid:%d", id);
	CHECK_INT(seg_open(&s, arg, &e), 0);
	CHECK_INT(s.size, 4096);
	CHECK_INT(s.ino, id);
	CHECK_STR(seg_kind_name(s.target.kind), "sysv");
	CHECK_INT(seg_read(&s, 0, buf, 4), 4);
	CHECK(!memcmp(buf, "sysv", 4));
	CHECK(write_faults((volatile char *)s.base));
	CHECK(mprotect((void *)s.base, 4096, PROT_READ | PROT_WRITE) < 0);
	/* Marked for removal before we came: that is the state now. */
	CHECK(s.state & SEG_EV_REMOVED);

	/* Its dev:ino finds both attachments, ours and the writer's. */
	struct proc_maps m = {0};
	CHECK_INT(proc_mappers(&m, s.dev, s.ino, &e), 0);
	CHECK_INT(m.n, 2);
	proc_maps_free(&m);
	seg_detach(&s);
	shmdt(w);
}

static void test_sysv_by_key_removed_recreated(void)
{
	struct seg s;
	struct errbuf e;
	char arg[64], msg[512];
	key_t key = (key_t)(0x5d000000 | (getpid() & 0xffffff));
	int id = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600), id2;

	CHECK(id >= 0);
	snprintf(arg, sizeof(arg), "sysv:0x%08x", (unsigned)key);
	if (seg_open(&s, arg, &e) < 0) {
		shmctl(id, IPC_RMID, NULL);
		CHECK(!"seg_open sysv:KEY");
	}
	CHECK_INT(s.shmid, id);
	CHECK_INT(seg_refresh(&s, &e), 0);

	/* Removed while we are attached: still readable, reported. */
	CHECK(shmctl(id, IPC_RMID, NULL) == 0);
	CHECK_INT(seg_refresh(&s, &e), SEG_EV_REMOVED);
	CHECK_INT(seg_refresh(&s, &e), 0); /* an event is told once */
	CHECK(s.state & SEG_EV_REMOVED);
	CHECK(strstr(seg_describe(&s, SEG_EV_REMOVED, msg, sizeof(msg)),
		     "marked for removal") != NULL);

	/* Somebody creates the key again: another segment. */
	id2 = shmget(key, 8192, IPC_CREAT | IPC_EXCL | 0600);
	CHECK(id2 >= 0);
	if (seg_refresh(&s, &e) != SEG_EV_REPLACED) {
		shmctl(id2, IPC_RMID, NULL);
		CHECK(!"SEG_EV_REPLACED");
	}
	CHECK_INT(seg_reattach(&s, &e), 0);
	CHECK_INT(s.shmid, id2);
	CHECK_INT(s.size, 8192);
	CHECK_INT(s.state, 0);
	shmctl(id2, IPC_RMID, NULL);
	seg_detach(&s);
}

static void test_grow_shrink(void)
{
	struct seg s;
	struct errbuf e;
	char buf[8192], msg[512];
	int fd = make_posix(4096, 'a');
	char *w;

	CHECK(fd >= 0);
	CHECK_INT(seg_open(&s, name, &e), 0);
	CHECK_INT(seg_refresh(&s, &e), 0);

	/* Grow: remapped, the new bytes readable. */
	CHECK(ftruncate(fd, 3 * 4096) == 0);
	w = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(w != MAP_FAILED);
	memset(w + 4096, 'b', 2 * 4096);
	munmap(w, 3 * 4096);
	CHECK_INT(seg_refresh(&s, &e), SEG_EV_GREW);
	CHECK_INT(s.size, 3 * 4096);
	CHECK_INT(seg_read(&s, 3 * 4096 - 2, buf, 8), 2);
	CHECK(buf[0] == 'b' && buf[1] == 'b');
	CHECK_STR(seg_describe(&s, SEG_EV_GREW, msg, sizeof(msg)),
		  "segment grew to 12288 bytes");

	/* Shrink, without a refresh first: the read is clamped, no SIGBUS,
	 * and the next refresh still reports the shrink. */
	CHECK(ftruncate(fd, 100) == 0);
	CHECK_INT(seg_read(&s, 0, buf, sizeof(buf)), 100);
	CHECK(buf[99] == 'a');
	CHECK_INT(seg_read(&s, 5000, buf, 10), 0);
	CHECK(s.state & SEG_EV_SHRANK);
	CHECK_INT(seg_refresh(&s, &e), SEG_EV_SHRANK);
	CHECK_INT(s.size, 100);
	CHECK_STR(seg_describe(&s, SEG_EV_SHRANK, msg, sizeof(msg)),
		  "segment shrank to 100 bytes");
	CHECK_INT(seg_refresh(&s, &e), 0);

	/* Grow back within the old mapping. */
	CHECK(ftruncate(fd, 8192) == 0);
	CHECK_INT(seg_refresh(&s, &e), SEG_EV_GREW);
	CHECK_INT(s.size, 8192);
	CHECK(!(s.state & SEG_EV_SHRANK));
	CHECK_INT(seg_read(&s, 8000, buf, 500), 192);
	CHECK(buf[0] == 0); /* truncated away and back: zeros */
	seg_detach(&s);
	close(fd);
}

/* A writer process shrinks and regrows the segment as fast as it can while
 * we read it whole: no read may die of SIGBUS, whatever the timing. */
static void test_shrink_race(void)
{
	struct seg s;
	struct errbuf e;
	static char buf[1 << 20];
	int fd = make_posix(1 << 20, 'r');
	pid_t writer;
	int short_reads = 0;

	CHECK(fd >= 0);
	CHECK_INT(seg_open(&s, name, &e), 0);
	writer = fork();
	if (writer == 0) {
		for (;;) {
			(void)!ftruncate(fd, 4096);
			(void)!ftruncate(fd, 1 << 20);
		}
	}
	test_defer_kill(writer);
	uint64_t end = test_now_ms() + 300;
	while (test_now_ms() < end) {
		ssize_t n;

		CHECK(seg_refresh(&s, &e) >= 0);
		n = seg_read(&s, 0, buf, sizeof(buf));
		CHECK(n >= 0);
		short_reads += n < (ssize_t)sizeof(buf);
	}
	CHECK(short_reads > 0); /* the race was really exercised */
	seg_detach(&s);
	close(fd);
}

static void test_unlink_recreate(void)
{
	struct seg s;
	struct errbuf e;
	struct stat st;
	char buf[4], msg[512];
	int fd = make_posix(4096, 'o'), fd2;

	CHECK(fd >= 0);
	CHECK_INT(seg_open(&s, name, &e), 0);

	CHECK(shm_unlink(name) == 0);
	CHECK_INT(seg_refresh(&s, &e), SEG_EV_UNLINKED);
	CHECK_INT(seg_read(&s, 0, buf, 1), 1);
	CHECK(buf[0] == 'o');
	CHECK_INT(seg_refresh(&s, &e), 0);
	CHECK(strstr(seg_describe(&s, SEG_EV_UNLINKED, msg, sizeof(msg)),
		     "was unlinked (old mapping still readable)") != NULL);

	/* Recreated under the same name: another inode. */
	fd2 = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
	CHECK(fd2 >= 0);
	CHECK(ftruncate(fd2, 2 * 4096) == 0);
	CHECK(pwrite(fd2, "n", 1, 0) == 1);
	CHECK(fstat(fd2, &st) == 0);
	CHECK_INT(seg_refresh(&s, &e), SEG_EV_REPLACED);
	CHECK(s.state & SEG_EV_UNLINKED);
	CHECK_INT(seg_read(&s, 0, buf, 1), 1);
	CHECK(buf[0] == 'o'); /* still the old object until we reattach */
	CHECK_INT(seg_reattach(&s, &e), 0);
	CHECK(s.ino == st.st_ino);
	CHECK_INT(s.size, 2 * 4096);
	CHECK_INT(s.state, 0);
	CHECK_INT(seg_read(&s, 0, buf, 1), 1);
	CHECK(buf[0] == 'n');
	CHECK_INT(seg_refresh(&s, &e), 0);
	seg_detach(&s);
	close(fd);
	close(fd2);
}

static void test_file_target(void)
{
	char path[128], arg[160], buf[8];
	struct seg s;
	struct errbuf e;
	int fd;

	snprintf(path, sizeof(path), "/tmp/shmscope-t-seg-file-%d",
		 (int)getpid());
	fd = open(path, O_CREAT | O_EXCL | O_RDWR, 0600);
	CHECK(fd >= 0);
	if (write(fd, "filedata", 8) != 8) {
		unlink(path);
		CHECK(!"write");
	}
	snprintf(arg, sizeof(arg), "file:%s", path);
	if (seg_open(&s, arg, &e) < 0) {
		unlink(path);
		CHECK(!"seg_open file:");
	}
	unlink(path);
	CHECK_INT(s.size, 8);
	CHECK_STR(seg_kind_name(s.target.kind), "file");
	CHECK_INT(seg_read(&s, 0, buf, 8), 8);
	CHECK(!memcmp(buf, "filedata", 8));
	CHECK(write_faults((volatile char *)s.base));
	CHECK_INT(seg_refresh(&s, &e), SEG_EV_UNLINKED);
	seg_detach(&s);
	close(fd);

	/* An empty file attaches (size 0) and is mapped once it grows. */
	fd = open(path, O_CREAT | O_EXCL | O_RDWR, 0600);
	CHECK(fd >= 0);
	if (seg_open(&s, path, &e) < 0) {
		unlink(path);
		CHECK(!"seg_open empty");
	}
	CHECK_INT(s.size, 0);
	CHECK(s.base == NULL);
	CHECK_INT(seg_read(&s, 0, buf, 8), 0);
	CHECK(pwrite(fd, "x", 1, 0) == 1);
	unlink(path);
	CHECK_INT(seg_refresh(&s, &e), SEG_EV_GREW | SEG_EV_UNLINKED);
	CHECK_INT(seg_read(&s, 0, buf, 8), 1);
	CHECK(buf[0] == 'x');
	seg_detach(&s);
	close(fd);
}

/* Single loads, bounds, and the SIGBUS guard: a load from a page the
 * file lost since the last refresh returns -EFAULT instead of killing us. */
static void test_load(void)
{
	struct seg s;
	struct errbuf e;
	uint64_t v = 0;
	int fd = make_posix(3 * 4096, 0);
	uint64_t word = 0x1122334455667788ULL;

	CHECK(fd >= 0);
	CHECK(pwrite(fd, &word, 8, 4096) == 8);
	CHECK_INT(seg_open(&s, name, &e), 0);
	CHECK_INT(seg_load(&s, 4096, 8, &v), 0);
	CHECK(v == word);
	CHECK_INT(seg_load(&s, 4096, 4, &v), 0);
	CHECK(v == 0x55667788);
	CHECK_INT(seg_load(&s, 4097, 2, &v), 0); /* unaligned: bytewise */
	CHECK(v == 0x6677);
	CHECK_INT(seg_load(&s, 4096 + 7, 1, &v), 0);
	CHECK(v == 0x11);
	CHECK_INT(seg_load(&s, 3 * 4096 - 4, 8, &v), -ERANGE);
	CHECK_INT(seg_load(&s, 0, 3, &v), -EINVAL);

	/* Shrink behind its back: no refresh, no fstat in seg_load. */
	CHECK(ftruncate(fd, 4096) == 0);
	CHECK_INT(s.size, 3 * 4096);
	CHECK_INT(seg_load(&s, 2 * 4096, 8, &v), -EFAULT);
	CHECK_INT(s.size, 4096);
	CHECK(s.state & SEG_EV_SHRANK);
	CHECK_INT(seg_load(&s, 2 * 4096, 8, &v), -ERANGE);
	CHECK_INT(seg_load(&s, 0, 8, &v), 0);
	/* The guard catches twice in a row (SIGBUS is not left blocked). */
	s.size = 3 * 4096;
	CHECK_INT(seg_load(&s, 4096, 4, &v), -EFAULT);
	s.size = 3 * 4096;
	CHECK_INT(seg_load(&s, 2 * 4096 + 8, 4, &v), -EFAULT);
	CHECK_INT(seg_refresh(&s, &e), SEG_EV_SHRANK);

	/* A SIGBUS outside a guarded load goes to the handler installed
	 * before the guard (test.h's, which cleans up and re-raises it), so
	 * it still kills as it would have. */
	pid_t child = fork();
	if (child == 0) {
		volatile const char *p = (const char *)s.base + 2 * 4096;
		(void)*p;
		_exit(0);
	}
	int status;
	CHECK(waitpid(child, &status, 0) == child);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS);
	seg_detach(&s);
	close(fd);
}

/*
 * A writer flips aligned 8-byte words between all-zero and all-one bits as
 * fast as it can; every copy seg_read makes must hold each word whole
 * (issue 5: a value is never torn).  The copies start at offset 3, so the
 * unaligned head and tail are exercised too.
 */
static void test_read_not_torn(void)
{
	struct seg s;
	struct errbuf e;
	unsigned char buf[64];
	int fd = make_posix(4096, 0);
	volatile uint64_t *w;
	pid_t writer;
	long copies = 0;

	CHECK(fd >= 0);
	w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(w != MAP_FAILED);
	CHECK_INT(seg_open(&s, name, &e), 0);
	writer = fork();
	if (writer == 0) {
		for (uint64_t v = 0;; v = ~v)
			for (int i = 1; i < 8; i++)
				__atomic_store_n(&w[i], v, __ATOMIC_RELAXED);
	}
	test_defer_kill(writer);
	for (uint64_t end = test_now_ms() + 300; test_now_ms() < end;
	     copies++) {
		CHECK_INT(seg_read(&s, 3, buf, sizeof(buf) - 3),
			  sizeof(buf) - 3);
		for (int i = 1; i < 7; i++) {
			uint64_t v;

			memcpy(&v, buf + 8 * i - 3, 8);
			if (v != 0 && v != ~(uint64_t)0) {
				test_fail(__FILE__, __LINE__,
					  "word %d torn: %016llx after %ld "
					  "copies",
					  i, (unsigned long long)v, copies);
				return;
			}
		}
	}
	CHECK(copies > 1000);
	seg_detach(&s);
	munmap((void *)w, 4096);
	close(fd);
}

int main(void)
{
	RUN(test_parse_targets);
	RUN(test_posix_readonly);
	RUN(test_sysv_readonly);
	RUN(test_sysv_by_key_removed_recreated);
	RUN(test_grow_shrink);
	RUN(test_shrink_race);
	RUN(test_read_not_torn);
	RUN(test_unlink_recreate);
	RUN(test_file_target);
	RUN(test_load);
	return test_done();
}
