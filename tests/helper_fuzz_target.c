/*
 * helper_fuzz_target.c - small targets the shmfuzz tests drive.
 *
 *   helper_fuzz_target pass                exit 0
 *   helper_fuzz_target seedfail N K        exit 3 when SHMFUZZ_SEED % N == K
 *   helper_fuzz_target grandchild          a grandchild, orphaned, crashes
 *   helper_fuzz_target hang NAME           a child blocks in sem_wait on the
 *                                          sem_t at offset 64 of segment NAME
 *   helper_fuzz_target leak NAME           create segment NAME, exit 0
 *   helper_fuzz_target report NAME         like leak, and list NAME in
 *                                          $SHMPROBE_DIR/created.PID.txt as
 *                                          the probe will
 *   helper_fuzz_target linger NAME         report NAME-$SHMFUZZ_RUN, fork two
 *                                          children, all sleep for ever
 *   helper_fuzz_target badread             read past a malloc'd block
 *   helper_fuzz_target env                 print the SHMFUZZ_/SHMPROBE_
 *                                          environment
 */
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t seed(void)
{
	const char *s = getenv("SHMFUZZ_SEED");

	return s ? strtoull(s, NULL, 10) : 0;
}

static void *make_seg(const char *name, size_t size)
{
	int fd = shm_open(name, O_RDWR | O_CREAT, 0600);
	void *p;

	if (fd < 0 || ftruncate(fd, (off_t)size)) {
		perror(name);
		exit(1);
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	return p;
}

static void report(const char *name)
{
	const char *dir = getenv("SHMPROBE_DIR");
	char path[4096];
	FILE *f;

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/created.%d.txt", dir, (int)getpid());
	f = fopen(path, "a");
	if (!f)
		return;
	fprintf(f, "%s\n", name);
	fclose(f);
}

static int grandchild(void)
{
	pid_t child = fork();

	if (child < 0)
		return 1;
	if (!child) {
		pid_t parent = getpid();
		pid_t gc = fork();
		if (gc < 0)
			_exit(1);
		if (!gc) {
			/* Crash only once orphaned, so that nobody but
			 * shmfuzz can see it. */
			while (getppid() == parent)
				usleep(1000);
			raise(SIGSEGV);
			_exit(0);
		}
		_exit(0);
	}
	waitpid(child, NULL, 0);
	return 0;
}

static int hang(const char *name)
{
	char *p = make_seg(name, 4096);
	sem_t *sem = (sem_t *)(p + 64);
	pid_t child;

	sem_init(sem, 1, 0);
	child = fork();
	if (child < 0)
		return 1;
	if (!child) {
		while (sem_wait(sem) && errno == EINTR)
			;
		_exit(0);
	}
	waitpid(child, NULL, 0);
	shm_unlink(name);
	return 0;
}

static int linger(const char *base)
{
	char name[256];
	const char *run = getenv("SHMFUZZ_RUN");

	snprintf(name, sizeof(name), "%s-%s", base, run ? run : "x");
	make_seg(name, 4096);
	report(name);
	for (int i = 0; i < 2; i++)
		if (fork() == 0)
			break;
	for (;;)
		pause();
	return 0;
}

static int badread(void)
{
	int *volatile p = malloc(16 * sizeof(int));
	volatile int i = 16; /* one past the end: memcheck sees it */
	int v;

	if (!p)
		return 1;
	v = p[i];
	free(p);
	return v == 123456789;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	if (!strcmp(mode, "pass"))
		return 0;
	if (!strcmp(mode, "seedfail") && argc == 4)
		return seed() % strtoull(argv[2], NULL, 10) ==
				       strtoull(argv[3], NULL, 10)
			       ? 3
			       : 0;
	if (!strcmp(mode, "grandchild"))
		return grandchild();
	if (!strcmp(mode, "hang") && argc == 3)
		return hang(argv[2]);
	if (!strcmp(mode, "leak") && argc == 3) {
		make_seg(argv[2], 4096);
		return 0;
	}
	if (!strcmp(mode, "report") && argc == 3) {
		make_seg(argv[2], 4096);
		report(argv[2]);
		return 0;
	}
	if (!strcmp(mode, "linger") && argc == 3)
		return linger(argv[2]);
	if (!strcmp(mode, "badread"))
		return badread();
	if (!strcmp(mode, "env")) {
		const char *v[] = {"SHMFUZZ_SEED", "SHMFUZZ_STRATEGY",
				   "SHMFUZZ_RUN",  "SHMPROBE_DIR",
				   "LD_PRELOAD",   "SHMPROBE_TSC_HZ"};
		for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
			printf("%s=%s\n", v[i],
			       getenv(v[i]) ? getenv(v[i]) : "");
		return 0;
	}
	fprintf(stderr, "usage: helper_fuzz_target MODE ...\n");
	return 2;
}
