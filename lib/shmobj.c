/*
 * shmobj.c - list POSIX segments, POSIX semaphores and SysV segments with
 * the processes that map them.
 */
#include "shmobj.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#define SHM_DIR "/dev/shm"

const char *shmobj_kind_name(enum shmobj_kind k)
{
	switch (k) {
	case SHMOBJ_POSIX:
		return "posix";
	case SHMOBJ_SEM:
		return "sem";
	case SHMOBJ_SYSV:
		return "sysv";
	}
	return "?";
}

const char *shmobj_mode_str(mode_t mode, char buf[10])
{
	static const char rwx[] = "rwxrwxrwx";

	for (int i = 0; i < 9; i++)
		buf[i] = (mode & (0400 >> i)) ? rwx[i] : '-';
	buf[9] = '\0';
	return buf;
}

static void owner_names(struct shmobj *o)
{
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;
	char buf[4096];

	if (getpwuid_r(o->uid, &pw, buf, sizeof(buf), &pwp) == 0 && pwp)
		snprintf(o->owner, sizeof(o->owner), "%s", pw.pw_name);
	else
		snprintf(o->owner, sizeof(o->owner), "%u", (unsigned)o->uid);
	if (getgrgid_r(o->gid, &gr, buf, sizeof(buf), &grp) == 0 && grp)
		snprintf(o->group, sizeof(o->group), "%s", gr.gr_name);
	else
		snprintf(o->group, sizeof(o->group), "%u", (unsigned)o->gid);
}

static struct shmobj *obj_new(struct shmobj_list *l)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		struct shmobj *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		l->v = v;
		l->cap = cap;
	}
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	l->v[l->n].shmid = -1;
	return &l->v[l->n++];
}

static int list_posix(struct shmobj_list *l)
{
	struct dirent *d;
	DIR *dir = opendir(SHM_DIR);

	if (!dir) {
		l->no_posix = true;
		return 0;
	}
	while ((d = readdir(dir))) {
		char path[sizeof(SHM_DIR) + NAME_MAX + 2];
		struct shmobj *o;
		struct stat st;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), SHM_DIR "/%s", d->d_name);
		if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		o = obj_new(l);
		if (!o) {
			closedir(dir);
			return -ENOMEM;
		}
		if (!strncmp(d->d_name, "sem.", 4) && d->d_name[4]) {
			o->kind = SHMOBJ_SEM;
			snprintf(o->name, sizeof(o->name), "/%s",
				 d->d_name + 4);
		} else {
			o->kind = SHMOBJ_POSIX;
			snprintf(o->name, sizeof(o->name), "/%s", d->d_name);
		}
		o->size = (uint64_t)st.st_size;
		o->size_known = true;
		o->uid = st.st_uid;
		o->gid = st.st_gid;
		o->mode = st.st_mode & 07777;
		o->atime = st.st_atim.tv_sec;
		o->mtime = st.st_mtim.tv_sec;
		o->ctime = st.st_ctim.tv_sec;
		o->dev = st.st_dev;
		o->ino = st.st_ino;
		o->readable = faccessat(AT_FDCWD, path, R_OK, AT_EACCESS) == 0;
		owner_names(o);
	}
	closedir(dir);
	return 0;
}

/* Could the caller attach SysV segment O for reading? */
static bool sysv_readable(const struct shmobj *o, uid_t cuid, gid_t cgid)
{
	uid_t me = geteuid();

	if (me == 0)
		return true;
	if (me == o->uid || me == cuid)
		return o->mode & 0400;
	if (getegid() == o->gid || getegid() == cgid)
		return o->mode & 0040;
	return o->mode & 0004;
}

static int list_sysv(struct shmobj_list *l)
{
	FILE *f = fopen("/proc/sysvipc/shm", "re");
	char line[512];

	if (!f) {
		l->no_sysv = true;
		return 0;
	}
	/* The first line names the columns. */
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return 0;
	}
	while (fgets(line, sizeof(line), f)) {
		long long key, atime, dtime, ctime;
		unsigned long long size, rss = 0, swap = 0;
		unsigned perms, uid, gid, cuid, cgid;
		int shmid, cpid, lpid;
		unsigned long nattch;
		struct shmobj *o;

		if (sscanf(line,
			   "%lld %d %o %llu %d %d %lu %u %u %u %u %lld %lld "
			   "%lld %llu %llu",
			   &key, &shmid, &perms, &size, &cpid, &lpid, &nattch,
			   &uid, &gid, &cuid, &cgid, &atime, &dtime, &ctime,
			   &rss, &swap) < 14)
			continue;
		o = obj_new(l);
		if (!o) {
			fclose(f);
			return -ENOMEM;
		}
		o->kind = SHMOBJ_SYSV;
		o->key = (key_t)key;
		o->shmid = shmid;
		o->size = size;
		o->size_known = true;
		o->mode = perms & 0777;
		o->dest = perms & SHM_DEST;
		o->cpid = cpid;
		o->lpid = lpid;
		o->nattch = nattch;
		o->uid = uid;
		o->gid = gid;
		o->atime = (time_t)atime;
		o->dtime = (time_t)dtime;
		o->ctime = (time_t)ctime;
		o->rss = rss;
		o->swap = swap;
		o->ino = (ino_t)shmid;
		o->readable = sysv_readable(o, cuid, cgid);
		owner_names(o);
	}
	fclose(f);
	return 0;
}

static bool map_is_obj(const struct proc_map *m, const struct shmobj *o)
{
	if (o->kind == SHMOBJ_SYSV)
		return m->sysv && m->ino == o->ino;
	return !m->sysv && m->dev == o->dev && m->ino == o->ino;
}

static int add_mapper(struct shmobj *o, const struct proc_map *m)
{
	struct shmobj_mapper *x;
	size_t i;

	for (i = 0; i < o->nmappers; i++)
		if (o->mappers[i].pid == m->pid)
			break;
	if (i == o->nmappers) {
		x = realloc(o->mappers, (o->nmappers + 1) * sizeof(*x));
		if (!x)
			return -ENOMEM;
		o->mappers = x;
		x = &o->mappers[o->nmappers++];
		memset(x, 0, sizeof(*x));
		x->pid = m->pid;
		memcpy(x->comm, m->comm, sizeof(x->comm));
	}
	x = &o->mappers[i];
	x->nmaps++;
	x->mapped += m->end - m->start;
	if (m->perms[1] == 'w')
		x->writable = true;
	return 0;
}

/* An object of /dev/shm that is mapped but no longer has a name: what the
 * mapping (and, when allowed, map_files) can tell. */
static struct shmobj *add_unlinked(struct shmobj_list *l,
				   const struct proc_map *m)
{
	char path[96];
	const char *base = strrchr(m->path, '/');
	struct shmobj *o = obj_new(l);
	struct stat st;

	if (!o)
		return NULL;
	o->kind = SHMOBJ_POSIX;
	o->unlinked = true;
	snprintf(o->name, sizeof(o->name), "%s", base ? base : "/?");
	if (!strncmp(o->name, "/sem.", 5)) {
		o->kind = SHMOBJ_SEM;
		memmove(o->name + 1, o->name + 5, strlen(o->name + 5) + 1);
	}
	o->dev = m->dev;
	o->ino = m->ino;
	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx",
		 (int)m->pid, (unsigned long long)m->start,
		 (unsigned long long)m->end);
	if (stat(path, &st) == 0 && st.st_ino == m->ino) {
		o->size = (uint64_t)st.st_size;
		o->size_known = true;
		o->uid = st.st_uid;
		o->gid = st.st_gid;
		o->mode = st.st_mode & 07777;
		o->atime = st.st_atim.tv_sec;
		o->mtime = st.st_mtim.tv_sec;
		o->ctime = st.st_ctim.tv_sec;
		o->readable = faccessat(AT_FDCWD, path, R_OK, AT_EACCESS) == 0;
		owner_names(o);
	} else {
		o->size = m->offset + (m->end - m->start);
		snprintf(o->owner, sizeof(o->owner), "?");
		snprintf(o->group, sizeof(o->group), "?");
	}
	return o;
}

static int attach_mappers(struct shmobj_list *l, const struct proc_maps *pm)
{
	for (size_t i = 0; i < pm->n; i++) {
		const struct proc_map *m = &pm->v[i];
		struct shmobj *o = NULL;

		for (size_t j = 0; j < l->n; j++) {
			if (map_is_obj(m, &l->v[j])) {
				o = &l->v[j];
				break;
			}
		}
		if (!o && !m->sysv && m->deleted && m->path[0] == '/')
			o = add_unlinked(l, m);
		if (!o)
			continue;
		if (add_mapper(o, m) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int cmp_mapper(const void *a, const void *b)
{
	const struct shmobj_mapper *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static int cmp_obj(const void *a, const void *b)
{
	const struct shmobj *x = a, *y = b;

	if (x->kind != y->kind)
		return (int)x->kind - (int)y->kind;
	if (x->kind == SHMOBJ_SYSV)
		return (x->shmid > y->shmid) - (x->shmid < y->shmid);
	return strcmp(x->name, y->name);
}

int shmobj_list(struct shmobj_list *out, struct errbuf *e)
{
	struct proc_maps pm = {0};
	int ret;

	ret = list_posix(out);
	if (ret == 0)
		ret = list_sysv(out);
	if (ret < 0)
		goto nomem;
	if (out->no_posix && out->no_sysv) {
		err_set(e, "cannot read " SHM_DIR " nor /proc/sysvipc/shm");
		return -ENOENT;
	}
	ret = proc_shm_mappings(&pm, e);
	if (ret < 0)
		return ret;
	ret = attach_mappers(out, &pm);
	if (ret < 0)
		goto nomem;
	out->nscanned = pm.nscanned;
	out->denied = pm.denied;
	out->ndenied = pm.ndenied;
	pm.denied = NULL;
	pm.ndenied = 0;
	proc_maps_free(&pm);
	/* qsort wants a non-NULL base even for nothing to sort. */
	for (size_t i = 0; i < out->n; i++)
		if (out->v[i].nmappers > 1)
			qsort(out->v[i].mappers, out->v[i].nmappers,
			      sizeof(out->v[i].mappers[0]), cmp_mapper);
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(out->v[0]), cmp_obj);
	return 0;
nomem:
	proc_maps_free(&pm);
	err_set(e, "out of memory listing shared-memory objects");
	return -ENOMEM;
}

void shmobj_list_free(struct shmobj_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].mappers);
	free(l->v);
	free(l->denied);
	memset(l, 0, sizeof(*l));
}
