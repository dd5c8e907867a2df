/*
 * helper_proc_bench - what the /proc plumbing costs (run by `make bench`).
 *
 * Starts 50 processes mapping one segment (the scale of issue 4's
 * benchmark), then times: who maps it (one pass over every process's
 * maps), the futex-waiter scan of those 50, resolving 10,000 thread ids
 * against the mapper list, and the whole `shmscope ls` listing.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"
#include "shmobj.h"

#define NPROC 50
#define NTID  10000

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(void)
{
	char name[64];
	pid_t kids[NPROC];
	struct stat st;
	int fd, pfd[2], reps = 20;
	double t0, t_map = 0, t_wait = 0, t_tid = 0, t_tidgone = 0, t_ls = 0;
	size_t nmaps = 0, nscanned = 0;

	snprintf(name, sizeof(name), "/shmscope-bench-proc-%d", (int)getpid());
	fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
	if (fd < 0 || ftruncate(fd, 1 << 20) < 0 || fstat(fd, &st) < 0 ||
	    pipe(pfd) < 0) {
		perror("helper_proc_bench");
		shm_unlink(name);
		return 1;
	}
	for (int i = 0; i < NPROC; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			mmap(NULL, 1 << 20, PROT_READ, MAP_SHARED, fd, 0);
			(void)!write(pfd[1], "k", 1);
			pause();
			_exit(0);
		}
	}
	for (int i = 0; i < NPROC; i++) {
		char c;

		if (read(pfd[0], &c, 1) != 1)
			break;
	}
	for (int r = 0; r < reps; r++) {
		struct proc_maps m = {0};
		struct proc_waiters w = {0};
		struct shmobj_list l = {0};
		struct proc_tid t;

		t0 = now_ms();
		proc_mappers(&m, st.st_dev, st.st_ino, NULL);
		t_map += now_ms() - t0;
		nmaps = m.n;
		nscanned = m.nscanned;
		t0 = now_ms();
		proc_waiters_scan(&m, &w, NULL);
		t_wait += now_ms() - t0;
		t0 = now_ms();
		for (int i = 0; i < NTID; i++)
			proc_tid_resolve(kids[i % NPROC], 0, 0, &m, &t);
		t_tid += now_ms() - t0;
		t0 = now_ms();
		for (int i = 0; i < NTID / 10; i++)
			proc_tid_resolve(kids[i % NPROC] + 100000, 0, 0, &m,
					 &t);
		t_tidgone += now_ms() - t0;
		t0 = now_ms();
		shmobj_list(&l, NULL);
		t_ls += now_ms() - t0;
		shmobj_list_free(&l);
		proc_waiters_free(&w);
		proc_maps_free(&m);
	}
	for (int i = 0; i < NPROC; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	shm_unlink(name);
	printf("proc: %d processes map the segment (%zu mappings), %zu "
	       "processes on the machine; mean of %d runs\n",
	       NPROC, nmaps, nscanned, reps);
	printf("proc_mappers (one pass over all maps)   %8.2f ms\n",
	       t_map / reps);
	printf("proc_waiters_scan (%d processes)         %8.2f ms\n", NPROC,
	       t_wait / reps);
	printf("proc_tid_resolve x %d (with mappers)  %8.2f ms\n", NTID,
	       t_tid / reps);
	printf("proc_tid_resolve x %d (not mappers)   %8.2f ms\n", NTID / 10,
	       t_tidgone / reps);
	printf("shmobj_list (shmscope ls)               %8.2f ms\n",
	       t_ls / reps);
	return 0;
}
