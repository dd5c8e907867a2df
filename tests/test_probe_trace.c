/* Unit tests of lib/trace: names, classes, wait encoding, and the reader
 * over a real trace written by the probe. */
#include "test.h"

#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>

#include "trace.h"

static void test_names_and_classes(void)
{
	struct errbuf e;
	unsigned mask;

	for (unsigned op = 1; op < TRACE_OP_COUNT; op++) {
		CHECK(strcmp(trace_op_name(op), "?") != 0);
		CHECK(trace_op_class(op) != 0);
	}
	CHECK_STR(trace_op_name(TRACE_OP_COUNT), "?");
	CHECK_STR(trace_op_name(TRACE_MUTEX_LOCK), "mutex_lock");
	CHECK_INT(trace_parse_classes("mutex,sem", &mask, &e), 0);
	CHECK_INT(mask, TRACE_CLASS_MUTEX | TRACE_CLASS_SEM);
	CHECK_INT(trace_parse_classes("all", &mask, &e), 0);
	CHECK_INT(mask, TRACE_CLASS_ALL);
	CHECK_INT(trace_parse_classes("mutex,bogus", &mask, &e), -EINVAL);
	CHECK(strstr(e.msg, "bogus") != NULL);
	CHECK_INT(trace_parse_classes("", &mask, &e), -EINVAL);
	CHECK(trace_op_acquires(TRACE_MUTEX_LOCK));
	CHECK(!trace_op_acquires(TRACE_MUTEX_UNLOCK));
	CHECK_INT(sizeof(struct trace_event), 32);
	CHECK_INT(sizeof(struct trace_chunk), 64);
	CHECK(sizeof(struct trace_header) <= TRACE_HEADER_SIZE);
}

static void test_wait_encoding(void)
{
	CHECK_INT(trace_wait_ns(trace_wait_encode(0)), 0);
	CHECK_INT(trace_wait_ns(trace_wait_encode(12345)), 12345);
	CHECK_INT(trace_wait_ns(trace_wait_encode(0x7fffffffULL)),
		  0x7fffffffULL);
	/* Beyond 2.1 s: microseconds. */
	CHECK_INT(trace_wait_ns(trace_wait_encode(5000000123ULL)),
		  5000000000ULL);
	/* Saturates at 2^31 us (about 36 min). */
	CHECK_INT(trace_wait_ns(trace_wait_encode(UINT64_MAX)),
		  0x7fffffffULL * 1000);
}

static void test_reader_errors(void)
{
	struct trace_reader *r;
	struct errbuf e;
	char dir[] = "/tmp/shmscope-trace-XXXXXX";

	CHECK(trace_reader_open(&r, "/nonexistent/trace", &e) < 0);
	CHECK(strstr(e.msg, "/nonexistent/trace") != NULL);
	CHECK(mkdtemp(dir) != NULL);
	CHECK_INT(trace_reader_open(&r, dir, &e), -ENOENT);
	CHECK(strstr(e.msg, "not a trace directory") != NULL);
	rmdir(dir);
}

/* Run the scenarios helper under the probe (as shmtrace would) into DIR. */
static int record(const char *dir, const char *mode, const char *seg,
		  const char *n)
{
	const char *build = getenv("BUILD") ? getenv("BUILD") : "build";
	const char *libdir = getenv("LIBDIR");
	char helper[PATH_MAX], probe[PATH_MAX], abs[PATH_MAX];
	pid_t pid;
	int st;

	snprintf(helper, sizeof(helper), "%s/tests/helper_probe_scenarios",
		 build);
	if (libdir)
		snprintf(probe, sizeof(probe), "%s/libshmprobe.so", libdir);
	else
		snprintf(probe, sizeof(probe), "%s/lib/libshmprobe.so", build);
	if (!realpath(probe, abs))
		return -1;
	pid = fork();
	if (pid == 0) {
		setenv("SHMPROBE_DIR", dir, 1);
		setenv("LD_PRELOAD", abs, 1);
		setenv("ASAN_OPTIONS", "verify_asan_link_order=0", 1);
		execl(helper, helper, mode, seg, n, (char *)NULL);
		_exit(127);
	}
	test_defer_kill(pid);
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[PATH_MAX];

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

static void test_reader_on_a_real_trace(void)
{
	char dir[] = "/tmp/shmscope-trace-XXXXXX", seg[64];
	struct trace_reader *r;
	struct trace_item it;
	struct errbuf e;
	uint64_t last_ticks = 0;
	int locks = 0, unlocks = 0, ends = 0, rc;
	const struct trace_proc *p;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(seg, sizeof(seg), "/shmscope-t-trace-%d", (int)getpid());
	test_defer_unlink(seg);
	rc = record(dir, "noexit", seg, "7");
	if (rc != 0)
		remove_dir(dir);
	CHECK_INT(rc, 0);
	rc = trace_reader_open(&r, dir, &e);
	if (rc < 0)
		remove_dir(dir);
	CHECK_INT(rc, 0);
	CHECK_INT(trace_reader_nprocs(r), 1);
	p = trace_reader_proc(r, 0);
	CHECK_INT(p->hdr->state, TRACE_EXITED);
	while (trace_reader_next(r, &it) > 0) {
		struct trace_where w;

		if (it.kind == TRACE_ITEM_PROC_END) {
			ends++;
			continue;
		}
		/* One thread: its events come in time order. */
		if (it.ticks < last_ticks)
			break;
		last_ticks = it.ticks;
		if (it.ev->op != TRACE_MUTEX_LOCK &&
		    it.ev->op != TRACE_MUTEX_UNLOCK)
			continue;
		trace_proc_where(it.proc, it.ev->obj, it.ev->ts, &w);
		if (!w.map || strcmp(w.map->name, seg) != 0 || w.offset != 0)
			continue;
		locks += it.ev->op == TRACE_MUTEX_LOCK;
		unlocks += it.ev->op == TRACE_MUTEX_UNLOCK;
	}
	trace_reader_rewind(r);
	CHECK_INT(trace_reader_next(r, &it), 1);
	trace_reader_close(r);
	remove_dir(dir);
	CHECK_INT(locks, 7);
	CHECK_INT(unlocks, 7);
	CHECK_INT(ends, 1);
}

int main(void)
{
	RUN(test_names_and_classes);
	RUN(test_wait_encoding);
	RUN(test_reader_errors);
	RUN(test_reader_on_a_real_trace);
	return test_done();
}
