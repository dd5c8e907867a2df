/*
 * cmd_ls.c - `shmscope ls`: every shared-memory object on the machine, and
 * the processes that map each one.
 *
 * ipcs shows attach counts and lsipc cannot see POSIX shm at all; what a
 * person debugging a stuck ring wants is the names, sizes and *who* has
 * each one mapped, so that is the last column.  It takes whatever width is
 * left on the line and wraps onto continuation lines, so the table stays
 * readable in 80 columns however many processes share a segment.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "inspector.h"
#include "json.h"
#include "shmobj.h"

#define NAME_W 20

static void ls_usage(FILE *f)
{
	fprintf(f, "usage: shmscope ls [--json]\n"
		   "\n"
		   "List every shared-memory object on this machine: POSIX "
		   "segments\n"
		   "(/dev/shm), POSIX named semaphores (/dev/shm/sem.*) and "
		   "System V\n"
		   "segments (including those marked for removal), with size, "
		   "owner,\n"
		   "permissions, times and the processes that map each one "
		   "(pid and\n"
		   "command, matched by device and inode from /proc/*/maps).\n"
		   "\n"
		   "A POSIX object that was unlinked but is still mapped is "
		   "listed as\n"
		   "\"(unlinked)\".  Processes whose mappings cannot be read "
		   "(other\n"
		   "users' processes, unless run as root) are counted at the "
		   "end.\n"
		   "\n"
		   "  --json      one JSON object (see docs/ls.md)\n"
		   "  -h, --help  this text\n");
}

static int term_width(void)
{
	struct winsize ws;

	if (isatty(STDOUT_FILENO) &&
	    ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 60)
		return ws.ws_col;
	return 80;
}

static const char *human_size(uint64_t n, bool known, char buf[16])
{
	static const char units[] = "KMGTPE";
	double v = (double)n;
	int u = -1;

	if (!known) {
		snprintf(buf, 16, "?");
		return buf;
	}
	if (n < 1024) {
		snprintf(buf, 16, "%llu", (unsigned long long)n);
		return buf;
	}
	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(buf, 16, v < 10 ? "%.1f%c" : "%.0f%c", v, units[u]);
	return buf;
}

/* Today: "13:05:09"; otherwise "2026-11-25"; never: "-". */
static const char *short_time(time_t t, char buf[16])
{
	struct tm tm, now_tm;
	time_t now = time(NULL);

	if (t <= 0) {
		snprintf(buf, 16, "-");
		return buf;
	}
	localtime_r(&t, &tm);
	localtime_r(&now, &now_tm);
	if (tm.tm_year == now_tm.tm_year && tm.tm_yday == now_tm.tm_yday)
		strftime(buf, 16, "%H:%M:%S", &tm);
	else
		strftime(buf, 16, "%Y-%m-%d", &tm);
	return buf;
}

/* "1234 ring" into BUF: mapper I of O, or "+N unseen" past the last. */
static int mapper_item(const struct shmobj *o, size_t i, unsigned long unseen,
		       char *buf, size_t len)
{
	if (i < o->nmappers)
		return snprintf(buf, len, "%d %s", (int)o->mappers[i].pid,
				o->mappers[i].comm);
	return snprintf(buf, len, "+%lu unseen", unseen);
}

/*
 * The MAPPED BY column, which starts at column COL: "1234 ring, 1235 ring"
 * when that fits on the line; otherwise "N processes:" there and the whole
 * list on the following lines, indented and wrapped at WIDTH, so a segment
 * shared by many processes stays readable in 80 columns.  UNSEEN
 * attachments the kernel counts but no readable process showed are added
 * as "+N unseen".
 */
static void print_mappers(const struct shmobj *o, int col, int width,
			  unsigned long unseen)
{
	size_t n = o->nmappers + (unseen ? 1 : 0);
	int total = 0, x;
	char item[64];

	if (!n) {
		printf("-\n");
		return;
	}
	for (size_t i = 0; i < n; i++)
		total += mapper_item(o, i, unseen, item, sizeof(item)) +
			 (i ? 2 : 0);
	if (col + total <= width) {
		for (size_t i = 0; i < n; i++) {
			mapper_item(o, i, unseen, item, sizeof(item));
			printf("%s%s", i ? ", " : "", item);
		}
		putchar('\n');
		return;
	}
	printf("%zu process%s%s:\n    ", o->nmappers,
	       o->nmappers == 1 ? "" : "es", unseen ? " and more" : "");
	x = 4;
	for (size_t i = 0; i < n; i++) {
		int len = mapper_item(o, i, unseen, item, sizeof(item));

		if (i && x + 2 + len > width) {
			printf(",\n    ");
			x = 4;
		} else if (i) {
			printf(", ");
			x += 2;
		}
		fputs(item, stdout);
		x += len;
	}
	putchar('\n');
}

/* A name longer than its column gets a line of its own. */
static void print_name(const char *name, int w)
{
	if ((int)strlen(name) > w)
		printf("%s\n%-*s ", name, w, "");
	else
		printf("%-*s ", w, name);
}

static void print_posix(const struct shmobj_list *l, enum shmobj_kind kind,
			int width)
{
	const int col = NAME_W + 1 + 6 + 1 + 8 + 1 + 9 + 1 + 10 + 1;
	bool any = false;

	printf("%s\n", kind == SHMOBJ_SEM ? "POSIX semaphores (/dev/shm/sem.*)"
					  : "POSIX shared memory (/dev/shm)");
	printf("%-*s %6s %-8s %-9s %-10s %s\n", NAME_W, "NAME", "SIZE", "OWNER",
	       "PERMS", "MODIFIED", "MAPPED BY");
	for (size_t i = 0; i < l->n; i++) {
		const struct shmobj *o = &l->v[i];
		char name[NAME_MAX + 16], sz[16], tm[16], mode[10];

		if (o->kind != kind)
			continue;
		any = true;
		snprintf(name, sizeof(name), "%s%s", o->name,
			 o->unlinked ? " (unlinked)" : "");
		print_name(name, NAME_W);
		printf("%6s %-8.8s %-9s %-10s ",
		       human_size(o->size, o->size_known, sz), o->owner,
		       o->size_known ? shmobj_mode_str(o->mode, mode) : "?",
		       short_time(o->mtime, tm));
		print_mappers(o, col, width, 0);
	}
	if (!any)
		printf("(none)\n");
}

static void print_sysv(const struct shmobj_list *l, int width)
{
	const int col = 10 + 1 + 7 + 1 + 6 + 1 + 8 + 1 + 9 + 1 + 4 + 1 + 10 + 1;
	bool any = false;

	printf("System V shared memory (/proc/sysvipc/shm)\n");
	printf("%-10s %7s %6s %-8s %-9s %4s %-10s %s\n", "KEY", "SHMID", "SIZE",
	       "OWNER", "PERMS", "NATT", "CHANGED", "MAPPED BY");
	for (size_t i = 0; i < l->n; i++) {
		const struct shmobj *o = &l->v[i];
		char key[16], sz[16], tm[16], mode[10];
		unsigned long unseen = 0;

		if (o->kind != SHMOBJ_SYSV)
			continue;
		any = true;
		/* After IPC_RMID the kernel sets the key to IPC_PRIVATE: the
		 * state says more than the zero. */
		if (o->dest)
			snprintf(key, sizeof(key), "removed");
		else if (o->key == 0)
			snprintf(key, sizeof(key), "private");
		else
			snprintf(key, sizeof(key), "0x%08x", (unsigned)o->key);
		if (o->nattch > o->nmappers)
			unseen = o->nattch - o->nmappers;
		printf("%-10s %7d %6s %-8.8s %-9s %4lu %-10s ", key, o->shmid,
		       human_size(o->size, true, sz), o->owner,
		       shmobj_mode_str(o->mode, mode), o->nattch,
		       short_time(o->ctime, tm));
		print_mappers(o, col, width, unseen);
	}
	if (!any)
		printf("(none)\n");
}

static void print_table(const struct shmobj_list *l)
{
	int width = term_width();

	print_posix(l, SHMOBJ_POSIX, width);
	printf("\n");
	print_posix(l, SHMOBJ_SEM, width);
	printf("\n");
	print_sysv(l, width);
	if (l->no_posix)
		printf("\n(/dev/shm could not be read)\n");
	if (l->no_sysv)
		printf("\n(/proc/sysvipc/shm could not be read)\n");
	if (l->ndenied)
		printf("\n%zu of %zu processes could not be examined "
		       "(permission denied):\nthey may map objects above "
		       "without being shown%s.\n",
		       l->ndenied, l->nscanned + l->ndenied,
		       geteuid() ? "; run as root to see them" : "");
}

static void json_obj(struct json *j, const struct shmobj *o)
{
	char mode[10], oct[8];

	json_begin_obj(j);
	json_kv_str(j, "kind", shmobj_kind_name(o->kind));
	if (o->kind == SHMOBJ_SYSV) {
		char key[16];

		snprintf(key, sizeof(key), "0x%08x", (unsigned)o->key);
		json_kv_str(j, "key", key);
		json_kv_int(j, "shmid", o->shmid);
	} else {
		json_kv_str(j, "name", o->name);
		json_kv_bool(j, "unlinked", o->unlinked);
	}
	if (o->size_known)
		json_kv_uint(j, "size", o->size);
	else
		json_kv_null(j, "size");
	json_kv_str(j, "owner", o->owner);
	json_kv_uint(j, "uid", o->uid);
	json_kv_str(j, "group", o->group);
	json_kv_uint(j, "gid", o->gid);
	snprintf(oct, sizeof(oct), "%04o", (unsigned)o->mode);
	json_kv_str(j, "mode", oct);
	json_kv_str(j, "perms", shmobj_mode_str(o->mode, mode));
	json_kv_bool(j, "readable", o->readable);
	json_kv_int(j, "atime", (long long)o->atime);
	json_kv_int(j, "ctime", (long long)o->ctime);
	if (o->kind == SHMOBJ_SYSV) {
		json_kv_int(j, "dtime", (long long)o->dtime);
		json_kv_int(j, "cpid", o->cpid);
		json_kv_int(j, "lpid", o->lpid);
		json_kv_uint(j, "nattch", o->nattch);
		json_kv_bool(j, "dest", o->dest);
		json_kv_uint(j, "rss", o->rss);
		json_kv_uint(j, "swap", o->swap);
	} else {
		json_kv_int(j, "mtime", (long long)o->mtime);
		json_kv_uint(j, "dev", o->dev);
	}
	json_kv_uint(j, "ino", o->ino);
	json_key(j, "mapped_by");
	json_begin_arr(j);
	for (size_t i = 0; i < o->nmappers; i++) {
		const struct shmobj_mapper *m = &o->mappers[i];

		json_begin_obj(j);
		json_kv_int(j, "pid", m->pid);
		json_kv_str(j, "comm", m->comm);
		json_kv_uint(j, "maps", m->nmaps);
		json_kv_uint(j, "bytes", m->mapped);
		json_kv_bool(j, "writable", m->writable);
		json_end_obj(j);
	}
	json_end_arr(j);
	json_end_obj(j);
}

static void print_json(const struct shmobj_list *l)
{
	struct json j;

	json_init(&j, stdout, false);
	json_begin_obj(&j);
	json_key(&j, "objects");
	json_begin_arr(&j);
	for (size_t i = 0; i < l->n; i++)
		json_obj(&j, &l->v[i]);
	json_end_arr(&j);
	json_kv_uint(&j, "processes_scanned", l->nscanned);
	json_key(&j, "processes_denied");
	json_begin_arr(&j);
	for (size_t i = 0; i < l->ndenied; i++)
		json_int(&j, l->denied[i]);
	json_end_arr(&j);
	json_kv_bool(&j, "posix_readable", !l->no_posix);
	json_kv_bool(&j, "sysv_readable", !l->no_sysv);
	json_end_obj(&j);
	json_newline(&j);
}

int cmd_ls(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct shmobj_list l = {0};
	struct errbuf e;
	bool json = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			ls_usage(stdout);
			return 0;
		default:
			ls_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "shmscope: ls: unexpected argument '%s'\n",
			argv[optind]);
		ls_usage(stderr);
		return 2;
	}
	if (shmobj_list(&l, &e) < 0) {
		fprintf(stderr, "shmscope: ls: %s\n", e.msg);
		return 1;
	}
	if (json)
		print_json(&l);
	else
		print_table(&l);
	shmobj_list_free(&l);
	if (fflush(stdout) != 0) {
		perror("shmscope: ls: stdout");
		return 1;
	}
	return 0;
}
