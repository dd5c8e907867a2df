/*
 * shmclean.c - remove the segments and semaphores a run left behind.
 *
 * Three sources, in order of trust:
 *  1. the probe's report: DIR/trace/created*.txt, one object per line
 *     ("/name" or "posix:/name" a POSIX segment, "sem:/name" a named
 *     semaphore, "sysv:ID" a System V segment by id);
 *  2. System V segments whose creator pid (/proc/sysvipc/shm) is a process
 *     of the run: exact, whatever the concurrency;
 *  3. without a report and with --jobs 1 only: what appeared in /dev/shm
 *     during the run, belongs to our uid and changed at or after the run
 *     started.  With concurrent runs nothing tells whose an entry is, so
 *     this fallback is off.
 * An object is removed only when it still exists, changed at or after the
 * run started (a second of slack: file times come from a coarse clock), and no
 * live process maps or holds it open: every process of the run is gone by then,
 * so a segment still in use is someone else's (another program of the same user
 * that happened to create one while the run went on).
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

struct fuzz_shm_snap {
	char **names;
	ino_t *inos;
	int n;
};

struct fuzz_shm_snap *fuzz_shm_snapshot(void)
{
	struct fuzz_shm_snap *s = calloc(1, sizeof(*s));
	DIR *d = opendir("/dev/shm");
	struct dirent *de;
	int cap = 0;

	if (!s || !d) {
		free(s);
		if (d)
			closedir(d);
		return NULL;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (s->n == cap) {
			cap = cap ? 2 * cap : 64;
			char **nn =
				realloc(s->names, (size_t)cap * sizeof(*nn));
			if (nn)
				s->names = nn;
			ino_t *ni = realloc(s->inos, (size_t)cap * sizeof(*ni));
			if (ni)
				s->inos = ni;
			if (!nn || !ni)
				break;
		}
		s->names[s->n] = strdup(de->d_name);
		s->inos[s->n++] = de->d_ino;
	}
	closedir(d);
	return s;
}

void fuzz_shm_snap_free(struct fuzz_shm_snap *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->n; i++)
		free(s->names[i]);
	free(s->names);
	free(s->inos);
	free(s);
}

static bool in_snap(const struct fuzz_shm_snap *s, const char *name, ino_t ino)
{
	for (int i = 0; i < s->n; i++)
		if (s->inos[i] == ino && s->names[i] &&
		    !strcmp(s->names[i], name))
			return true;
	return false;
}

static void note(const char *dir, const char *what)
{
	char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/cleaned.txt", dir);
	f = fopen(path, "a");
	if (!f)
		return;
	fprintf(f, "%s\n", what);
	fclose(f);
}

static bool maps_file(const char *pid, const char *path)
{
	char buf[4400], line[4400];
	FILE *f;
	size_t len = strlen(path);
	bool found = false;

	snprintf(buf, sizeof(buf), "/proc/%s/maps", pid);
	f = fopen(buf, "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *p = strchr(line, '/');
		if (p && !strncmp(p, path, len) &&
		    (p[len] == '\n' || p[len] == 0))
			found = true;
	}
	fclose(f);
	return found;
}

static bool holds_file(const char *pid, const char *path)
{
	char dir[300], link[4400], target[4400];
	DIR *d;
	struct dirent *de;
	bool found = false;

	snprintf(dir, sizeof(dir), "/proc/%s/fd", pid);
	d = opendir(dir);
	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		snprintf(link, sizeof(link), "%s/%s", dir, de->d_name);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		found = !strcmp(target, path);
	}
	closedir(d);
	return found;
}

/* Whether a live process maps PATH or has it open. */
static bool in_use(const char *path)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	bool found = false;

	if (!d)
		return true;
	while (!found && (de = readdir(d)))
		if (de->d_name[0] >= '0' && de->d_name[0] <= '9')
			found = maps_file(de->d_name, path) ||
				holds_file(de->d_name, path);
	closedir(d);
	return found;
}

/* Remove /dev/shm/FILE if it is ours, new and unused; 1 when removed. */
static int remove_shm_file(const char *dir, const char *file, time_t start,
			   const char *label)
{
	char path[4200];
	struct stat st;

	if (!*file || strchr(file, '/'))
		return 0;
	snprintf(path, sizeof(path), "/dev/shm/%s", file);
	if (lstat(path, &st) || st.st_uid != getuid() ||
	    st.st_ctim.tv_sec < start - 1 || in_use(path) || unlink(path))
		return 0;
	note(dir, label);
	return 1;
}

static int remove_sysv(const char *dir, int id, time_t start)
{
	struct shmid_ds ds;
	char what[64];

	if (shmctl(id, IPC_STAT, &ds) || ds.shm_ctime < start - 1 ||
	    ds.shm_nattch || shmctl(id, IPC_RMID, NULL))
		return 0;
	snprintf(what, sizeof(what), "sysv:%d", id);
	note(dir, what);
	return 1;
}

static int clean_line(const char *dir, const char *line, time_t start)
{
	char file[300];
	int id;

	if (line[0] == '/') {
		return remove_shm_file(dir, line + 1, start, line);
	} else if (!strncmp(line, "sem:/", 5)) {
		snprintf(file, sizeof(file), "sem.%s", line + 5);
		return remove_shm_file(dir, file, start, line);
	} else if (sscanf(line, "sysv:%d", &id) == 1) {
		return remove_sysv(dir, id, start);
	}
	return 0;
}

int fuzz_created_foreach(const char *dir, int (*fn)(void *arg, const char *obj),
			 void *arg)
{
	char path[4400], line[512];
	DIR *d;
	struct dirent *de;
	int n = 0, reports = 0;

	snprintf(path, sizeof(path), "%s/trace", dir);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "created", 7) ||
		    !strstr(de->d_name, ".txt"))
			continue;
		snprintf(path, sizeof(path), "%s/trace/%s", dir, de->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		reports++;
		while (fgets(line, sizeof(line), f)) {
			char *obj = line;
			obj[strcspn(obj, "\r\n")] = 0;
			if (!strncmp(obj, "posix:", 6))
				obj += 6;
			n += fn(arg, obj);
		}
		fclose(f);
	}
	closedir(d);
	return reports ? n : -1;
}

struct clean_arg {
	const char *dir;
	time_t start;
};

static int clean_one(void *arg, const char *obj)
{
	const struct clean_arg *c = arg;

	return clean_line(c->dir, obj, c->start);
}

/* Source 1; -1 when the run has no report at all. */
static int clean_reported(const char *dir, time_t start)
{
	struct clean_arg c = {dir, start};

	return fuzz_created_foreach(dir, clean_one, &c);
}

/* Source 2. */
static int clean_sysv_by_creator(const char *dir, time_t start,
				 const pid_t *pids, int npids)
{
	FILE *f = fopen("/proc/sysvipc/shm", "r");
	char line[512];
	int n = 0;

	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return 0;
	}
	while (fgets(line, sizeof(line), f)) {
		int key, id, cpid;
		if (sscanf(line, "%d %d %*o %*u %d", &key, &id, &cpid) != 3)
			continue;
		for (int i = 0; i < npids; i++)
			if (pids[i] == cpid) {
				n += remove_sysv(dir, id, start);
				break;
			}
	}
	fclose(f);
	return n;
}

/* Source 3. */
static int clean_diff(const char *dir, const struct fuzz_shm_snap *before,
		      time_t start)
{
	DIR *d = opendir("/dev/shm");
	struct dirent *de;
	char label[300];
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' ||
		    in_snap(before, de->d_name, de->d_ino))
			continue;
		if (!strncmp(de->d_name, "sem.", 4))
			snprintf(label, sizeof(label), "sem:/%s",
				 de->d_name + 4);
		else
			snprintf(label, sizeof(label), "/%s", de->d_name);
		n += remove_shm_file(dir, de->d_name, start, label);
	}
	closedir(d);
	return n;
}

int fuzz_shm_clean(const char *dir, const struct fuzz_shm_snap *before,
		   time_t start, const pid_t *pids, int n)
{
	int removed = clean_reported(dir, start);

	if (removed < 0)
		removed = before ? clean_diff(dir, before, start) : 0;
	return removed + clean_sysv_by_creator(dir, start, pids, n);
}
