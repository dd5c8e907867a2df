/*
 * helper_probe_ahead - a target for the tests of `shmtrace record`'s
 * populating ahead (probes/ahead.c).
 *
 * usage: helper_probe_ahead BEFORE AFTER [GOFILE]
 *
 * Locks and unlocks a private mutex BEFORE times, then waits (at most 20
 * s) until the pages past its trace file's claimed chunks are in the page
 * cache (populated by someone else: this process never touches them),
 * then, with GOFILE, waits (at most 20 s) for GOFILE to exist, then locks
 * AFTER more times.  Prints "populated" once it saw the pages, "locks N"
 * at the end.  Exit 0; 3 when the pages never came; 4 when GOFILE never
 * came; 2 for usage.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define DEADLINE_MS 20000

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

static void lock_n(long n)
{
	for (long i = 0; i < n; i++) {
		pthread_mutex_lock(&m);
		pthread_mutex_unlock(&m);
	}
}

/* The trace file's mapping in /proc/self/maps (the probe splits it in
 * parts with different advice): START and END. */
static bool find_trace(uintptr_t *start, uintptr_t *end)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4096];
	bool found = false;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e, off;

		if (!strstr(line, ".shmtrace") ||
		    sscanf(line, "%lx-%lx %*s %lx", &s, &e, &off) != 3)
			continue;
		if (!found || s - off < *start)
			*start = s - off;
		if (!found || e > *end)
			*end = e;
		found = true;
	}
	fclose(f);
	return found;
}

/* Is the 2 MiB past the first 4 MiB of the file in the page cache?  The
 * probe claims its first chunks below that; the events written before the
 * wait fit there too. */
static bool populated(uintptr_t start, uintptr_t end)
{
	static unsigned char vec[512];
	uintptr_t a = start + (4u << 20);

	if (a + (2u << 20) > end)
		return false;
	if (mincore((void *)a, 2u << 20, vec) < 0)
		return false;
	for (size_t i = 0; i < sizeof(vec); i++) {
		if (!(vec[i] & 1))
			return false;
	}
	return true;
}

static bool wait_for(bool (*cond)(const void *), const void *arg)
{
	struct timespec tick = {0, 10 * 1000000};

	for (int ms = 0; ms < DEADLINE_MS; ms += 10) {
		if (cond(arg))
			return true;
		nanosleep(&tick, NULL);
	}
	return cond(arg);
}

static uintptr_t t_start, t_end;

static bool ahead_done(const void *arg)
{
	(void)arg;
	return populated(t_start, t_end);
}

static bool file_exists(const void *arg)
{
	return access((const char *)arg, F_OK) == 0;
}

int main(int argc, char **argv)
{
	long before, after;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: helper_probe_ahead BEFORE AFTER "
				"[GOFILE]\n");
		return 2;
	}
	before = atol(argv[1]);
	after = atol(argv[2]);
	lock_n(before);
	if (!find_trace(&t_start, &t_end) || !wait_for(ahead_done, NULL))
		return 3;
	printf("populated\n");
	fflush(stdout);
	if (argc == 4 && !wait_for(file_exists, argv[3]))
		return 4;
	lock_n(after);
	printf("locks %ld\n", before + after);
	return 0;
}
