/*
 * seed.c - the seed of every run.
 *
 * Run i of a campaign with base seed S runs with
 * splitmix64(splitmix64(S) + i): the seeds of neighbouring runs share no
 * bits, campaigns with different base seeds share no runs (they would with
 * splitmix64(S + i): --seed 1 and --seed 2 ran the same seeds shifted by
 * one), any run is named by one number,
 * and --shard I/N only has to pick the indices i with i % N == I.  Seeds
 * keep 53 bits: exact in JSON readers that use doubles (jq, JavaScript)
 * and positive in shell arithmetic.
 */
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"

static uint64_t splitmix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t fuzz_run_seed(uint64_t base, uint64_t index)
{
	/* The base is scrambled first: with splitmix64(S + i), campaigns
	 * with neighbouring base seeds ran the same seeds shifted by one
	 * (run i of --seed 5 was run i+4 of --seed 1). */
	return splitmix(splitmix(base) + index) >> 11;
}

uint64_t fuzz_random_seed(void)
{
	uint64_t s = 0;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, &s, sizeof(s)) == (ssize_t)sizeof(s)) {
			close(fd);
			return s;
		}
		close(fd);
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return fuzz_run_seed((uint64_t)ts.tv_sec * 1000000000ull +
				     (uint64_t)ts.tv_nsec,
			     (uint64_t)getpid());
}
