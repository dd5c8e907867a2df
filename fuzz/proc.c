/*
 * proc.c - the little of /proc the fuzzer reads: who descends from whom,
 * and how much CPU they used.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

ssize_t fuzz_read_small(const char *path, char *buf, size_t n)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t len, got = 0;

	if (fd < 0)
		return -errno;
	while ((size_t)got < n - 1) {
		len = read(fd, buf + got, n - 1 - (size_t)got);
		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0)
			break;
		got += len;
	}
	close(fd);
	buf[got] = 0;
	return got;
}

int fuzz_proc_stat(pid_t pid, pid_t tid, struct fuzz_pstat *ps)
{
	char path[64], buf[1024], *p, *close_paren;
	unsigned long long utime, stime;
	int ppid, pgid;
	char state;

	if (tid)
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid,
			 (int)tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (fuzz_read_small(path, buf, sizeof(buf)) <= 0)
		return -ESRCH;
	/* comm may hold spaces and parentheses: it ends at the last ')'. */
	p = strchr(buf, '(');
	close_paren = strrchr(buf, ')');
	if (!p || !close_paren || close_paren < p)
		return -EINVAL;
	snprintf(ps->comm, sizeof(ps->comm), "%.*s", (int)(close_paren - p - 1),
		 p + 1);
	if (sscanf(close_paren + 2,
		   "%c %d %d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &state,
		   &ppid, &pgid, &utime, &stime) != 5)
		return -EINVAL;
	ps->pid = tid ? tid : pid;
	ps->state = state;
	ps->ppid = ppid;
	ps->pgid = pgid;
	ps->cpu = utime + stime;
	return 0;
}

int fuzz_descendants(pid_t root, pid_t *pids, int max)
{
	struct ent {
		pid_t pid, ppid;
	} *all = NULL;
	int nall = 0, cap = 0, n = 0;
	DIR *d = opendir("/proc");
	struct dirent *de;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		struct fuzz_pstat ps;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (fuzz_proc_stat(atoi(de->d_name), 0, &ps))
			continue;
		if (nall == cap) {
			cap = cap ? cap * 2 : 512;
			struct ent *na =
				realloc(all, (size_t)cap * sizeof(*na));
			if (!na)
				break;
			all = na;
		}
		all[nall].pid = ps.pid;
		all[nall++].ppid = ps.ppid;
	}
	closedir(d);
	/* Breadth first: pids[0..n) are found, each round adds their
	 * children.  A tree is small; the quadratic walk is fine. */
	for (int head = -1; head < n; head++) {
		pid_t parent = head < 0 ? root : pids[head];
		for (int i = 0; i < nall && n < max; i++)
			if (all[i].ppid == parent)
				pids[n++] = all[i].pid;
	}
	free(all);
	return n;
}

int fuzz_sched_threads(pid_t pid, struct fuzz_tsched *ts, int max)
{
	char path[64], buf[128];
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return 0;
	while (n < max && (de = readdir(d))) {
		unsigned long long run, delay, slices;
		struct fuzz_pstat ps;
		pid_t tid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		tid = (pid_t)atoi(de->d_name);
		snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat",
			 (int)pid, (int)tid);
		if (fuzz_read_small(path, buf, sizeof(buf)) <= 0 ||
		    sscanf(buf, "%llu %llu %llu", &run, &delay, &slices) != 3 ||
		    fuzz_proc_stat(pid, tid, &ps))
			continue;
		ts[n].tid = tid;
		ts[n].state = ps.state;
		ts[n].delay = delay;
		ts[n++].slices = slices;
	}
	closedir(d);
	return n;
}
