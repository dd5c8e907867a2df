/*
 * story.c - a failure folder's story.txt: the last steps of the failing
 * run, which process and thread did what to which object, in order
 * (`shmtrace story --last 200 [-l LAYOUT] DIR/trace`).  Written once per
 * kind of failure, when its folder is kept, so it costs a process only
 * then.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "fuzz.h"

int fuzz_story_write(const struct fuzz_opts *o, const char *dir)
{
	static const char *const story[] = {"story", "--last", FUZZ_STORY_LAST,
					    NULL};
	char out[4200];
	int ret;

	if (!o->shmtrace[0] || !o->probe[0] || !fuzz_traced(dir))
		return -ENOENT;
	snprintf(out, sizeof(out), "%s/story.txt", dir);
	ret = fuzz_shmtrace(o, story, dir, out);
	if (ret)
		unlink(out);
	return ret;
}
