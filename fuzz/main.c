/*
 * main.c - shmfuzz: run a shared-memory program until its races show.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

/* The probe lives next to us: build/bin/../lib/libshmprobe.so, or
 * $PREFIX/bin/../lib once installed.  No probe, no LD_PRELOAD: runs still
 * fail on exits, signals and hangs, only without the schedule noise. */
static void find_probe(struct fuzz_opts *o)
{
	char self[PATH_MAX], path[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	o->probe[0] = 0;
	o->shmtrace[0] = 0;
	if (n <= 0)
		return;
	self[n] = 0;
	slash = strrchr(self, '/');
	if (!slash)
		return;
	*slash = 0;
	snprintf(path, sizeof(path), "%s/../lib/libshmprobe.so", self);
	if (access(path, R_OK))
		return;
	if (!realpath(path, o->probe))
		o->probe[0] = 0;
	/* shmtrace, for the misuse the trace shows. */
	snprintf(path, sizeof(path), "%s/shmtrace", self);
	if (access(path, X_OK) || !realpath(path, o->shmtrace))
		o->shmtrace[0] = 0;
}

/* Whether PROG can be executed (as execvp would find it). */
static bool findable(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0;
	if (!path)
		path = "/usr/bin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, path, prog);
		if (!access(buf, X_OK))
			return true;
		path += len + (path[len] == ':');
	}
	return false;
}

int main(int argc, char **argv)
{
	struct fuzz_opts o;
	struct errbuf e = {{0}};
	int r = fuzz_opts_parse(&o, argc, argv, &e);

	if (r == 1)
		return 0;
	if (r < 0) {
		fprintf(stderr, "shmfuzz: %s\n", e.msg);
		return 2;
	}
	if (!findable(o.argv[0])) {
		fprintf(stderr, "shmfuzz: %s: cannot be executed: %s\n",
			o.argv[0], strerror(errno ? errno : ENOENT));
		return 2;
	}
	if (o.layout && fuzz_layout_load(o.layout, &e) < 0) {
		fprintf(stderr, "shmfuzz: %s\n", e.msg);
		return 2;
	}
	find_probe(&o);
	return fuzz_campaign(&o);
}
