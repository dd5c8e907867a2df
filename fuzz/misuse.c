/*
 * misuse.c - what the probe's trace says the run did wrong.
 *
 * The trace analysis lives in shmtrace (probes/report.c is a program, not
 * a library), so the supervisor runs `shmtrace report --json [-l LAYOUT]
 * DIR/trace` into DIR/report.json and reads the "misuse" array back.  The
 * reader below knows just enough JSON for that: it walks any value, and
 * picks out misuse[i].kind and misuse[i].lock.name.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz.h"
#include "trace.h"

/* --- a minimal JSON reader ---------------------------------------------- */

struct jr {
	const char *p, *end;
	bool bad;
};

static void jr_ws(struct jr *r)
{
	while (r->p < r->end && isspace((unsigned char)*r->p))
		r->p++;
}

/* The next character after blanks, 0 at the end (the text has no NUL). */
static char jr_peek(struct jr *r)
{
	jr_ws(r);
	return r->p < r->end ? *r->p : 0;
}

static bool jr_eat(struct jr *r, char c)
{
	jr_ws(r);
	if (r->p < r->end && *r->p == c) {
		r->p++;
		return true;
	}
	return false;
}

/* A string into OUT (size N, may be NULL); escapes other than \" and \\
 * are kept as written, which is enough for names. */
static void jr_string(struct jr *r, char *out, size_t n)
{
	size_t len = 0;

	if (!jr_eat(r, '"')) {
		r->bad = true;
		return;
	}
	while (r->p < r->end && *r->p != '"') {
		char c = *r->p++;
		if (c == '\\' && r->p < r->end)
			c = *r->p++;
		if (out && len + 1 < n)
			out[len++] = c;
	}
	if (out && n)
		out[len] = 0;
	if (r->p >= r->end)
		r->bad = true;
	else
		r->p++;
}

static void jr_skip(struct jr *r, int depth)
{
	jr_ws(r);
	if (r->p >= r->end || depth > 64) {
		r->bad = true;
		return;
	}
	if (*r->p == '"') {
		jr_string(r, NULL, 0);
	} else if (*r->p == '{' || *r->p == '[') {
		char close = *r->p == '{' ? '}' : ']';
		bool obj = *r->p == '{';
		r->p++;
		if (jr_eat(r, close))
			return;
		do {
			if (obj) {
				jr_string(r, NULL, 0);
				if (!jr_eat(r, ':'))
					r->bad = true;
			}
			jr_skip(r, depth + 1);
		} while (!r->bad && jr_eat(r, ','));
		if (!jr_eat(r, close))
			r->bad = true;
	} else {
		while (r->p < r->end && !strchr(",]} \t\r\n", *r->p))
			r->p++;
	}
}

/* In the object at R, find KEY (R is left at its value); false if absent
 * (R is then past the object). */
static bool jr_key(struct jr *r, const char *key)
{
	char k[64];

	if (!jr_eat(r, '{')) {
		r->bad = true;
		return false;
	}
	if (jr_eat(r, '}'))
		return false;
	do {
		jr_string(r, k, sizeof(k));
		if (!jr_eat(r, ':'))
			r->bad = true;
		if (r->bad)
			return false;
		if (!strcmp(k, key))
			return true;
		jr_skip(r, 0);
	} while (!r->bad && jr_eat(r, ','));
	jr_eat(r, '}');
	return false;
}

/* Walk the object at R: for each key, FN reads (or skips) its value. */
static void jr_object(struct jr *r,
		      void (*fn)(struct jr *r, const char *key, void *arg),
		      void *arg)
{
	char k[64];

	if (!jr_eat(r, '{')) {
		r->bad = true;
		return;
	}
	if (jr_eat(r, '}'))
		return;
	do {
		jr_string(r, k, sizeof(k));
		if (!jr_eat(r, ':'))
			r->bad = true;
		if (r->bad)
			return;
		fn(r, k, arg);
	} while (!r->bad && jr_eat(r, ','));
	if (!jr_eat(r, '}'))
		r->bad = true;
}

/* The first string of the array at R into OUT (size N; "" when the array
 * is empty), R past the array. */
static void read_first_str(struct jr *r, char *out, size_t n)
{
	out[0] = 0;
	if (!jr_eat(r, '[')) {
		r->bad = true;
		return;
	}
	if (jr_eat(r, ']'))
		return;
	do {
		if (!out[0] && jr_peek(r) == '"')
			jr_string(r, out, n);
		else
			jr_skip(r, 0);
	} while (!r->bad && jr_eat(r, ','));
	if (!jr_eat(r, ']'))
		r->bad = true;
}

void fuzz_site_clean(const char *frame, char *out, size_t n)
{
	const char *open = strstr(frame, " (");
	const char *plus = strstr(frame, "+0x");
	size_t fn;

	/* A bare address: the symbolizer found no mapping, and an address
	 * moves with ASLR. */
	if (!frame[0] || !strncmp(frame, "0x", 2)) {
		snprintf(out, n, "?");
		return;
	}
	/* "func+0x12 (f.c:40)": the function and the line, which stay put
	 * when code around them moves; "func+0x12 (prog)": the offset. */
	if (open && strchr(open, ':') && plus && plus < open) {
		fn = (size_t)(plus - frame);
		snprintf(out, n, "%.*s%s", (int)fn, frame, open);
		return;
	}
	fn = open ? (size_t)(open - frame) : strlen(frame);
	snprintf(out, n, "%.*s", (int)fn, frame);
}

/* What is read of a misuse object: its kind, its lock's name and the call
 * site (the first frame of its stack, "" when not recorded). */
struct misuse_rec {
	char kind[64], lock[256], site[256];
};

static void misuse_key(struct jr *r, const char *k, void *arg)
{
	struct misuse_rec *m = arg;

	if (!strcmp(k, "kind") && jr_peek(r) == '"') {
		jr_string(r, m->kind, sizeof(m->kind));
	} else if (!strcmp(k, "lock") && jr_peek(r) == '{') {
		const char *obj = r->p;
		if (jr_key(r, "name") && jr_peek(r) == '"')
			jr_string(r, m->lock, sizeof(m->lock));
		r->p = obj;
		jr_skip(r, 0);
	} else if (!strcmp(k, "stack") && jr_peek(r) == '[') {
		read_first_str(r, m->site, sizeof(m->site));
	} else {
		jr_skip(r, 0);
	}
}

/* Segment names carry pids and counters ("/t-1234+0x40"): digits in the
 * segment part of an unnamed lock would keep identical misuse apart. */
static void squash_segment_digits(char *s)
{
	char *plus = strrchr(s, '+');
	char *w = s;

	if (s[0] != '/' || !plus)
		return;
	for (char *p = s; *p; p++) {
		if (p < plus && isdigit((unsigned char)*p)) {
			if (w == s || w[-1] != '#')
				*w++ = '#';
		} else {
			*w++ = *p;
		}
	}
	*w = 0;
}

/* Misuse the report lists that does not fail a run by itself.  A process
 * that died holding a lock is judged by its own exit status (a crash is a
 * "signal" failure) and by what its death did to the others: a hang, or
 * EOWNERDEAD not made consistent ("owner-dead-not-consistent").  A program
 * that kills a worker on purpose and recovers its robust mutex is right. */
static bool benign(const char *kind)
{
	return !strcmp(kind, "died-holding");
}

int fuzz_misuse_parse(const char *json, size_t len, char *sig, size_t sn,
		      char *what, size_t wn)
{
	struct jr r = {json, json + len, false};
	struct misuse_rec m;
	char site[256];
	int count = 0;

	if (!jr_key(&r, "misuse") || !jr_eat(&r, '['))
		return r.bad ? -EINVAL : 0;
	if (jr_eat(&r, ']'))
		return 0;
	do {
		memset(&m, 0, sizeof(m));
		jr_object(&r, misuse_key, &m);
		if (r.bad)
			return -EINVAL;
		if (benign(m.kind))
			continue;
		if (count++)
			continue;
		fuzz_site_clean(m.site, site, sizeof(site));
		snprintf(what, wn, "%s of %s%s%s", m.kind,
			 m.lock[0] ? m.lock : "?", m.site[0] ? " at " : "",
			 m.site);
		squash_segment_digits(m.lock);
		/* The same misuse at another call site is another bug. */
		snprintf(sig, sn, "%s %s%s%s", m.kind, m.lock[0] ? m.lock : "?",
			 m.site[0] ? " at " : "", m.site[0] ? site : "");
	} while (jr_eat(&r, ','));
	if (!jr_eat(&r, ']'))
		return -EINVAL;
	return count;
}

/* What is read of a story record: its "kind" and "site". */
struct story_rec {
	char kind[64], site[256];
};

static void story_key(struct jr *r, const char *k, void *arg)
{
	struct story_rec *x = arg;

	if (!strcmp(k, "kind") && jr_peek(r) == '"')
		jr_string(r, x->kind, sizeof(x->kind));
	else if (!strcmp(k, "site") && jr_peek(r) == '"')
		jr_string(r, x->site, sizeof(x->site));
	else
		jr_skip(r, 0);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int fuzz_blocked_sites_parse(const char *json, size_t len, char *out, size_t n)
{
	struct jr r = {json, json + len, false};
	struct story_rec x;
	char site[256];
	char *sites[64];
	int ns = 0, ret;
	size_t used = 0;

	out[0] = 0;
	if (!jr_eat(&r, '['))
		return -EINVAL;
	if (jr_eat(&r, ']'))
		return 0;
	do {
		memset(&x, 0, sizeof(x));
		jr_object(&r, story_key, &x);
		if (r.bad)
			break;
		if (strcmp(x.kind, "blocked") || !x.site[0] || ns == 64)
			continue;
		fuzz_site_clean(x.site, site, sizeof(site));
		sites[ns] = strdup(site);
		if (sites[ns])
			ns++;
	} while (jr_eat(&r, ','));
	if (r.bad || !jr_eat(&r, ']')) {
		ret = -EINVAL;
		goto out_free;
	}
	/* A set: sorted, each site once, whichever thread blocked first. */
	qsort(sites, (size_t)ns, sizeof(sites[0]), str_cmp);
	ret = 0;
	for (int i = 0; i < ns; i++) {
		if (i && !strcmp(sites[i], sites[i - 1]))
			continue;
		if (used + strlen(sites[i]) + 3 >= n)
			break;
		used += (size_t)snprintf(out + used, n - used, "%s%s",
					 ret ? ", " : "", sites[i]);
		ret++;
	}
out_free:
	for (int i = 0; i < ns; i++)
		free(sites[i]);
	return ret;
}

/* --- running the report -------------------------------------------------- */

/* The whole of the file PATH into a new buffer (*LEN bytes), or NULL. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	if (n > 0)
		buf = malloc((size_t)n);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = buf ? (size_t)n : 0;
	return buf;
}

/* Whether the probe recorded any event in DIR/trace: a process that never
 * touched a lock has no chunk in use, and a trace without events has no
 * misuse to find (the report would cost a process for nothing). */
bool fuzz_traced(const char *dir)
{
	char path[4400];
	struct trace_header h;
	DIR *d;
	struct dirent *de;
	bool any = false;

	snprintf(path, sizeof(path), "%s/trace", dir);
	d = opendir(path);
	if (!d)
		return false;
	while (!any && (de = readdir(d))) {
		if (!strstr(de->d_name, ".shmtrace"))
			continue;
		snprintf(path, sizeof(path), "%s/trace/%s", dir, de->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		/* An unreadable header: let the report judge it. */
		any = pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
		      h.magic != TRACE_MAGIC ||
		      __atomic_load_n(&h.chunks_used, __ATOMIC_RELAXED) > 0;
		close(fd);
	}
	closedir(d);
	return any;
}

int fuzz_shmtrace(const struct fuzz_opts *o, const char *const *args,
		  const char *dir, const char *out)
{
	char trace[4200];
	char *argv[16];
	int n = 0, st;
	pid_t pid;

	snprintf(trace, sizeof(trace), "%s/trace", dir);
	argv[n++] = (char *)o->shmtrace;
	while (*args && n < 12)
		argv[n++] = (char *)*args++;
	if (o->layout) {
		argv[n++] = (char *)"-l";
		argv[n++] = (char *)o->layout;
	}
	argv[n++] = trace;
	argv[n] = NULL;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			      0644);
		int nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || dup2(fd, 1) < 0 || nul < 0 || dup2(nul, 2) < 0)
			_exit(127);
		unsetenv("LD_PRELOAD");
		execv(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	return WIFEXITED(st) && !WEXITSTATUS(st) ? 0 : -EIO;
}

int fuzz_misuse_check(const struct fuzz_opts *o, const char *dir, char *sig,
		      size_t sn, char *what, size_t wn)
{
	char out[4200], *buf;
	size_t len;
	int ret;

	static const char *const report[] = {"report", "--json", NULL};

	if (!o->shmtrace[0] || !o->probe[0] || !fuzz_traced(dir))
		return 0;
	snprintf(out, sizeof(out), "%s/report.json", dir);
	if (fuzz_shmtrace(o, report, dir, out))
		return 0; /* an empty trace: nothing to say */
	buf = slurp(out, &len);
	if (!buf)
		return 0;
	ret = fuzz_misuse_parse(buf, len, sig, sn, what, wn);
	free(buf);
	return ret > 0;
}

int fuzz_blocked_sites(const struct fuzz_opts *o, const char *dir, char *out,
		       size_t n)
{
	char path[4200], *buf;
	size_t len;
	int ret;

	/* Only the end matters: who was left blocked, and where. */
	static const char *const story[] = {"story", "--json", "--last", "1",
					    NULL};

	out[0] = 0;
	if (!o->shmtrace[0] || !o->probe[0] || !fuzz_traced(dir))
		return 0;
	snprintf(path, sizeof(path), "%s/blocked.json", dir);
	if (fuzz_shmtrace(o, story, dir, path))
		return 0;
	buf = slurp(path, &len);
	if (!buf)
		return 0;
	ret = fuzz_blocked_sites_parse(buf, len, out, n);
	free(buf);
	return ret < 0 ? 0 : ret;
}
