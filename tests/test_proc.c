/*
 * Unit tests for lib/proc: mappers by dev:ino, thread id -> process, futex
 * waiters turned into segment offsets, permission reported not hidden.
 * Everything runs on real segments and real forked processes.
 */
#include "test.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "abi.h"
#include "proc.h"

#define SEG_SIZE 16384

static char seg_name[64];

/* A fresh POSIX segment of SEG_SIZE bytes, mapped shared read-write. */
static void *make_seg(struct stat *st)
{
	static int n;
	void *p;
	int fd;

	snprintf(seg_name, sizeof(seg_name), "/shmscope-t-proc-%d-%d",
		 (int)getpid(), n++);
	fd = shm_open(seg_name, O_CREAT | O_EXCL | O_RDWR, 0600);
	if (fd < 0)
		return NULL;
	test_defer_unlink(seg_name);
	if (ftruncate(fd, SEG_SIZE) < 0 || fstat(fd, st) < 0) {
		close(fd);
		return NULL;
	}
	p = mmap(NULL, SEG_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

static int count_pid(const struct proc_maps *m, pid_t pid)
{
	int n = 0;

	for (size_t i = 0; i < m->n; i++)
		n += m->v[i].pid == pid;
	return n;
}

static const struct proc_map *find_pid(const struct proc_maps *m, pid_t pid)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].pid == pid)
			return &m->v[i];
	return NULL;
}

static void test_parse_line(void)
{
	struct proc_map m;

	CHECK_INT(
		proc_maps_parse_line("7f0000001000-7f0000003000 rw-s 00002000 "
				     "00:1b 4242                       "
				     "/dev/shm/ring\n",
				     &m),
		0);
	CHECK(m.start == 0x7f0000001000ULL && m.end == 0x7f0000003000ULL);
	CHECK_INT(m.offset, 0x2000);
	CHECK_STR(m.perms, "rw-s");
	CHECK(m.dev == makedev(0, 0x1b));
	CHECK_INT(m.ino, 4242);
	CHECK_STR(m.path, "/dev/shm/ring");
	CHECK(!m.deleted && !m.sysv);
	free(m.path);

	/* A minor above 255: "00:10a" is makedev(0, 0x10a), which is not the
	 * number 0x10a — the reason devices are never compared as text. */
	CHECK_INT(proc_maps_parse_line("1000-2000 r--s 00000000 00:10a 7 "
				       "/dev/shm/x (deleted)",
				       &m),
		  0);
	CHECK(m.dev == makedev(0, 0x10a));
	CHECK(m.dev != (dev_t)0x10a);
	CHECK(m.deleted);
	CHECK_STR(m.path, "/dev/shm/x");
	free(m.path);

	CHECK_INT(proc_maps_parse_line("1000-2000 rw-s 00000000 00:01 32769 "
				       "   /SYSV0000abcd (deleted)",
				       &m),
		  0);
	CHECK(m.sysv && m.deleted);
	CHECK_INT(m.sysv_key, 0xabcd);
	CHECK_INT(m.ino, 32769);
	free(m.path);

	CHECK_INT(proc_maps_parse_line("1000-2000 rw-p 00000000 00:00 0 ", &m),
		  0);
	CHECK_STR(m.path, "");
	CHECK(!m.sysv);
	free(m.path);

	CHECK_INT(proc_maps_parse_line("garbage", &m), -EINVAL);
	CHECK(m.path == NULL);
	CHECK_INT(proc_maps_parse_line("1000-2000 rw", &m), -EINVAL);
}

/* The parent and a child that maps only the second page find each other,
 * with the child's offset, matched by st_dev/st_ino from stat(). */
static void test_mappers_by_devino(void)
{
	struct proc_maps m = {0};
	struct errbuf e;
	struct stat st;
	const struct proc_map *pm;
	char *p = make_seg(&st);
	int pfd[2];
	pid_t child;

	CHECK(p != NULL);
	CHECK(pipe(pfd) == 0);
	child = fork();
	if (child == 0) {
		int fd = shm_open(seg_name, O_RDONLY, 0);
		void *q = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 4096);

		(void)!write(pfd[1], q == MAP_FAILED ? "e" : "k", 1);
		pause();
		_exit(0);
	}
	test_defer_kill(child);
	char c = 0;
	CHECK(read(pfd[0], &c, 1) == 1 && c == 'k');
	close(pfd[0]);
	close(pfd[1]);

	CHECK_INT(proc_mappers(&m, st.st_dev, st.st_ino, &e), 0);
	pm = find_pid(&m, getpid());
	CHECK(pm != NULL);
	CHECK(pm->start == (uint64_t)(uintptr_t)p);
	CHECK_INT(pm->end - pm->start, SEG_SIZE);
	CHECK_INT(pm->offset, 0);
	CHECK_STR(pm->perms, "rw-s");
	CHECK(strstr(pm->path, seg_name) != NULL);
	/* The child has the mapping it inherited and its own of page 1. */
	CHECK_INT(count_pid(&m, child), 2);
	pm = NULL;
	for (size_t i = 0; i < m.n; i++)
		if (m.v[i].pid == child && m.v[i].offset == 4096)
			pm = &m.v[i];
	CHECK(pm != NULL);
	CHECK_INT(pm->end - pm->start, 4096);
	CHECK_STR(pm->perms, "r--s");
	/* Nobody else maps a segment created a moment ago. */
	for (size_t i = 0; i < m.n; i++)
		CHECK(m.v[i].pid == getpid() || m.v[i].pid == child);

	/* The inspector drops itself from the list. */
	CHECK_INT(proc_maps_drop_pid(&m, getpid()), 1);
	CHECK_INT(count_pid(&m, getpid()), 0);
	CHECK_INT(count_pid(&m, child), 2);
	proc_maps_free(&m);

	/* A different inode on the same device is not ours. */
	CHECK_INT(proc_mappers(&m, st.st_dev, st.st_ino + 100000, &e), 0);
	CHECK_INT(count_pid(&m, getpid()), 0);
	proc_maps_free(&m);
	munmap(p, SEG_SIZE);
}

/* The one-pass scan used by `ls` sees POSIX and SysV mappings. */
static void test_shm_mappings(void)
{
	struct proc_maps m = {0};
	struct errbuf e;
	struct stat st;
	char *p = make_seg(&st);
	int id = shmget(IPC_PRIVATE, 8192, 0600 | IPC_CREAT);
	void *q;
	bool posix = false, sysv = false;

	CHECK(p != NULL);
	CHECK(id >= 0);
	q = shmat(id, NULL, SHM_RDONLY);
	shmctl(id, IPC_RMID, NULL); /* gone once we detach */
	CHECK(q != (void *)-1);
	CHECK_INT(proc_shm_mappings(&m, &e), 0);
	for (size_t i = 0; i < m.n; i++) {
		if (m.v[i].pid != getpid())
			continue;
		if (m.v[i].dev == st.st_dev && m.v[i].ino == st.st_ino)
			posix = true;
		if (m.v[i].sysv && m.v[i].ino == (ino_t)id) {
			sysv = true;
			CHECK_INT(m.v[i].sysv_key, 0);
			CHECK_STR(m.v[i].perms, "r--s");
		}
	}
	CHECK(posix);
	CHECK(sysv);
	proc_maps_free(&m);

	/* proc_self_mapping_at tells the SysV segment's dev:ino, and
	 * proc_mappers finds us by it. */
	struct proc_map self;
	CHECK_INT(proc_self_mapping_at(q, &self, &e), 0);
	CHECK(self.sysv);
	CHECK_INT(self.ino, id);
	CHECK_INT(proc_mappers(&m, self.dev, self.ino, &e), 0);
	CHECK_INT(count_pid(&m, getpid()), 1);
	free(self.path);
	proc_maps_free(&m);
	shmdt(q);
	munmap(p, SEG_SIZE);
}

struct thread_arg {
	_Atomic pid_t tid;
};

static void *thread_main(void *a)
{
	struct thread_arg *t = a;

	t->tid = (pid_t)syscall(SYS_gettid);
	for (;;)
		pause();
	return NULL;
}

/* A child with a second thread writes that thread's id into the segment;
 * it resolves to the child, which maps the segment. */
static void test_tid_of_thread(void)
{
	struct stat st;
	struct thread_arg *shared = make_seg(&st);
	struct proc_tid t;
	char buf[128];
	pid_t child;

	CHECK(shared != NULL);
	shared->tid = 0;
	child = fork();
	if (child == 0) {
		pthread_t th;

		pthread_create(&th, NULL, thread_main, shared);
		for (;;)
			pause();
	}
	test_defer_kill(child);
	WAIT_FOR(shared->tid != 0, 5000);
	CHECK(shared->tid != child);
	CHECK_INT(proc_tgid(shared->tid), child);
	CHECK_INT(proc_tgid(child), child);

	CHECK_INT(proc_tid_resolve(shared->tid, st.st_dev, st.st_ino, NULL, &t),
		  0);
	CHECK_INT(t.state, PROC_TID_MATCH);
	CHECK_INT(t.pid, child);
	CHECK_STR(t.comm, "test_proc");
	CHECK_STR(proc_tid_describe(&t, buf, sizeof(buf)), "alive");

	/* The same thread read from a segment the child does not map: the id
	 * names somebody, but not the one who wrote it. */
	struct stat other;
	void *q = make_seg(&other);
	CHECK(q != NULL);
	CHECK_INT(proc_tid_resolve(shared->tid, other.st_dev, other.st_ino,
				   NULL, &t),
		  0);
	CHECK_INT(t.state, PROC_TID_REUSED);
	snprintf(buf, sizeof(buf), "gone (tid reused by %d test_proc)",
		 (int)child);
	char got[128];
	CHECK_STR(proc_tid_describe(&t, got, sizeof(got)), buf);

	/* With a mapper list, the answer comes from it. */
	struct proc_maps m = {0};
	CHECK_INT(proc_mappers(&m, st.st_dev, st.st_ino, NULL), 0);
	CHECK_INT(proc_tid_resolve(shared->tid, 0, 0, &m, &t), 0);
	CHECK_INT(t.state, PROC_TID_MATCH);
	CHECK_INT(t.pid, child);
	CHECK_INT(proc_tid_resolve(child, 0, 0, &m, &t), 0);
	CHECK_INT(t.state, PROC_TID_MATCH);
	CHECK_STR(t.comm, "test_proc");
	/* Our parent is alive but does not map the segment: for this
	 * segment, that id was reused. */
	CHECK_INT(proc_tid_resolve(getppid(), 0, 0, &m, &t), 0);
	CHECK_INT(t.state, PROC_TID_REUSED);
	CHECK_INT(t.pid, getppid());
	proc_maps_free(&m);
	munmap(q, SEG_SIZE);
	munmap(shared, SEG_SIZE);
}

static void test_dead_pid_gone(void)
{
	struct stat st;
	void *p = make_seg(&st);
	struct proc_tid t;
	char buf[64];
	pid_t child;

	CHECK(p != NULL);
	child = fork();
	if (child == 0)
		_exit(0);
	CHECK(waitpid(child, NULL, 0) == child);
	CHECK_INT(proc_tgid(child), -ESRCH);
	CHECK_INT(proc_tid_resolve(child, st.st_dev, st.st_ino, NULL, &t), 0);
	CHECK_INT(t.state, PROC_TID_GONE);
	CHECK_INT(t.pid, 0);
	CHECK_STR(proc_tid_describe(&t, buf, sizeof(buf)), "gone");

	/* A zombie is gone too: its maps are empty, it holds nothing. */
	child = fork();
	if (child == 0)
		_exit(0);
	test_defer_kill(child);
	WAIT_FOR(proc_tgid(child) == -ESRCH, 5000);
	CHECK_INT(proc_tid_resolve(child, st.st_dev, st.st_ino, NULL, &t), 0);
	CHECK_INT(t.state, PROC_TID_GONE);
	munmap(p, SEG_SIZE);
}

static const struct proc_waiter *find_waiter(const struct proc_waiters *w,
					     pid_t pid)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->v[i].pid == pid)
			return &w->v[i];
	return NULL;
}

/* A second thread "waiter" blocked in a private FUTEX_WAIT_BITSET. */
static void *bitset_waiter(void *word)
{
	pthread_setname_np(pthread_self(), "waiter");
	for (;;)
		syscall(SYS_futex, word, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG,
			0, NULL, NULL, FUTEX_BITSET_MATCH_ANY);
	return NULL;
}

static size_t count_waiters(const struct proc_waiters *w, pid_t pid)
{
	size_t n = 0;

	for (size_t i = 0; i < w->n; i++)
		n += w->v[i].pid == pid;
	return n;
}

/* One child blocked in a raw FUTEX_WAIT on offset 128, another in
 * sem_wait on a sem_t at offset 256 while its second thread waits on
 * offset 512: all are found with their offsets and thread ids. */
static void test_futex_waiters(void)
{
	struct stat st;
	char *p = make_seg(&st);
	sem_t *sem = (sem_t *)(p + 256);
	_Atomic uint32_t *word = (_Atomic uint32_t *)(p + 128);
	struct proc_maps m = {0};
	struct proc_waiters w = {0};
	const struct proc_waiter *x;
	char op[32];
	pid_t a, b;

	CHECK(p != NULL);
	*word = 7;
	CHECK(sem_init(sem, 1, 0) == 0);
	a = fork();
	if (a == 0) {
		for (;;)
			syscall(SYS_futex, word, FUTEX_WAIT, 7, NULL, NULL, 0);
	}
	test_defer_kill(a);
	b = fork();
	if (b == 0) {
		pthread_t th;

		pthread_create(&th, NULL, bitset_waiter, p + 512);
		sem_wait(sem);
		_exit(0);
	}
	test_defer_kill(b);

	CHECK_INT(proc_mappers(&m, st.st_dev, st.st_ino, NULL), 0);
	uint64_t deadline = test_now_ms() + 5000;
	for (;;) {
		proc_waiters_free(&w);
		CHECK_INT(proc_waiters_scan(&m, &w, NULL), 0);
		if (find_waiter(&w, a) && count_waiters(&w, b) == 2)
			break;
		if (test_now_ms() > deadline) {
			test_fail(__FILE__, __LINE__,
				  "children never seen blocked (%zu waiters)",
				  w.n);
			goto out;
		}
		test_pause_ms(1);
	}
	x = find_waiter(&w, a);
	CHECK_INT(x->tid, a);
	CHECK_INT(x->offset, 128);
	CHECK(x->uaddr == (uint64_t)(uintptr_t)word);
	CHECK_INT(x->futex_val, 7);
	CHECK_STR(proc_futex_op_name(x->futex_op, op, sizeof(op)), "wait");
	CHECK_STR(x->comm, "test_proc");
	for (size_t i = 0; i < w.n; i++) {
		x = &w.v[i];
		if (x->pid != b)
			continue;
		if (x->tid == b) {
			CHECK(x->offset >= 256 &&
			      x->offset < 256 + sizeof(sem_t));
			CHECK_INT(x->offset % 4, 0);
			CHECK_STR(x->tcomm, "test_proc");
		} else {
			CHECK_INT(x->offset, 512);
			CHECK_INT(proc_tgid(x->tid), b);
			CHECK_STR(x->tcomm, "waiter");
			CHECK_STR(x->comm, "test_proc");
			CHECK_STR(
				proc_futex_op_name(x->futex_op, op, sizeof(op)),
				"wait_bitset");
		}
	}
	/* Nobody else waits, and every mapping process was looked at. */
	CHECK_INT(w.n, 3);
	CHECK_INT(w.nprocs, 3);
	for (size_t i = 0; i < w.nprocs; i++) {
		CHECK(!w.procs[i].denied);
		CHECK(w.procs[i].nthreads >= 1);
	}
out:
	proc_waiters_free(&w);
	proc_maps_free(&m);
	munmap(p, SEG_SIZE);
}

/* Without the right to look, the process is listed as denied. */
static void test_denied_reported(void)
{
	struct stat st;
	void *p = make_seg(&st);
	struct proc_maps m = {0};
	pid_t child;
	int status;

	CHECK(p != NULL);
	if (geteuid() != 0) {
		printf("SKIP: test_proc.c: test_denied_reported: needs root "
		       "to drop to another user\n");
		munmap(p, SEG_SIZE);
		return;
	}
	CHECK_INT(proc_mappers(&m, st.st_dev, st.st_ino, NULL), 0);
	CHECK_INT(count_pid(&m, getpid()), 1);
	child = fork();
	if (child == 0) {
		struct proc_maps mine = {0};
		struct proc_waiters w = {0};
		int bad = 0;

		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(10);
		/* The root parent's maps are closed to nobody. */
		proc_mappers(&mine, st.st_dev, st.st_ino, NULL);
		if (proc_maps_has_pid(&mine, getppid()))
			bad |= 1;
		if (!proc_maps_denied_pid(&mine, getppid()))
			bad |= 2;
		/* And so are its threads' syscalls. */
		proc_waiters_scan(&m, &w, NULL);
		if (w.nprocs != 1 || w.procs[0].pid != getppid() ||
		    !w.procs[0].denied)
			bad |= 4;
		_exit(bad);
	}
	test_defer_kill(child);
	CHECK(waitpid(child, &status, 0) == child);
	CHECK(WIFEXITED(status));
	CHECK_INT(WEXITSTATUS(status), 0);
	proc_maps_free(&m);
	munmap(p, SEG_SIZE);
}

static void test_comm_cmdline(void)
{
	char comm[PROC_COMM_MAX], cmd[256];

	CHECK_INT(proc_comm(getpid(), comm), 0);
	CHECK_STR(comm, "test_proc");
	CHECK_INT(proc_cmdline(getpid(), cmd, sizeof(cmd)), 0);
	CHECK(strstr(cmd, "test_proc") != NULL);
	CHECK(proc_comm(-5, comm) < 0);
}

static void test_futex_abi(void)
{
	CHECK_INT(abi_futex_nr(ABI_X86_64), 202);
	CHECK_INT(abi_futex_nr(ABI_AARCH64), 98);
	CHECK_INT(abi_futex_nr(ABI_I386), 240);
	CHECK(abi_is_futex_nr(ABI_I386, 422));
	CHECK(!abi_is_futex_nr(ABI_X86_64, 240));
	CHECK(abi_is_futex_nr(abi_host(), SYS_futex));
	CHECK_INT(abi_from_elf_machine(62), ABI_X86_64);
	CHECK_INT(abi_from_elf_machine(183), ABI_AARCH64);
	CHECK_INT(abi_from_elf_machine(40), -1);
}

int main(void)
{
	RUN(test_parse_line);
	RUN(test_mappers_by_devino);
	RUN(test_shm_mappings);
	RUN(test_tid_of_thread);
	RUN(test_dead_pid_gone);
	RUN(test_futex_waiters);
	RUN(test_denied_reported);
	RUN(test_comm_cmdline);
	RUN(test_futex_abi);
	return test_done();
}
