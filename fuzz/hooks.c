/*
 * hooks.c - where shmfuzz meets the parts being written beside it.
 *
 * Each function here is a seam the lead wires once its part has merged:
 * the layout parser (-l, @check sampling, naming the futex a thread waits
 * on by its field path) and the probe's trace analysis (misuse).  Until
 * then they do the part that needs nothing else, and say so.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"

/* HOOK(layout): parse PATH with lib/layout and keep it for the samples.
 * For now: the file must be readable. */
int fuzz_hook_layout_load(const char *path, struct errbuf *e)
{
	if (access(path, R_OK)) {
		int err = errno;
		err_setn(e, err, "-l %s", path);
		return -err;
	}
	return 0;
}

/* HOOK(layout): map the layout's segment read-only (the run's, found by
 * the @segment name or through the created objects in DIR/trace), evaluate
 * every @check and @expect; on the first that fails write its expression
 * and values into MSG and return 1. */
int fuzz_hook_check(const struct fuzz_opts *o, const char *dir, char *msg,
		    size_t n)
{
	(void)o;
	(void)dir;
	(void)msg;
	(void)n;
	return 0;
}

/* HOOK(probe): the lead may replace this by the misuse analysis of
 * shmtrace report over DIR/trace.  What it does now is the documented
 * interim contract: the probe (or anything in the run) writes findings as
 * lines into DIR/trace/misuse*.txt; the first line is the signature. */
int fuzz_hook_misuse(const struct fuzz_opts *o, const char *dir, char *msg,
		     size_t n)
{
	char path[4400], line[512];
	DIR *d;
	struct dirent *de;
	int found = 0;

	(void)o;
	snprintf(path, sizeof(path), "%s/trace", dir);
	d = opendir(path);
	if (!d)
		return 0;
	while (!found && (de = readdir(d))) {
		if (strncmp(de->d_name, "misuse", 6) ||
		    !strstr(de->d_name, ".txt"))
			continue;
		snprintf(path, sizeof(path), "%s/trace/%s", dir, de->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\n")] = 0;
			if (line[0]) {
				snprintf(msg, n, "%s", line);
				found = 1;
				break;
			}
		}
		fclose(f);
	}
	closedir(d);
	return found;
}

/* HOOK(layout, sync): for every thread blocked on a futex in a segment
 * the layout describes, name the field (t->note = "ring.filled_slots"),
 * decode the lock's owner, and put wait-for cycles and dead owners into
 * d->extra. */
void fuzz_diag_enrich(struct fuzz_diag *d, const struct fuzz_opts *o)
{
	(void)d;
	(void)o;
}
