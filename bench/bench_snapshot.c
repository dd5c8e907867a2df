/*
 * bench-snapshot: the cost of one inspector snapshot (snap_take) of a
 * segment holding 10,000 sync objects mapped by 50 processes: bytes, field
 * rows, every object decoded and its owner resolved, the futex waiters of
 * all 50 processes, checks; then the same snapshot as JSON.
 */
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "layout.h"
#include "snapshot.h"

#define NOBJ   5000 /* each a mutex and a semaphore: 10,000 objects */
#define NPROC  50
#define ROUNDS 21

struct obj {
	pthread_mutex_t m;
	sem_t s;
};

static const char layout_text[] =
	"struct obj { pthread_mutex_t m; sem_t s; };\n"
	"struct big { struct obj o[5000]; } @check(o[0].s >= 0);\n";

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static struct obj *make_segment(const char *name, int *fd)
{
	pthread_mutexattr_t ma;
	struct obj *o;

	*fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (*fd < 0 || ftruncate(*fd, sizeof(struct obj) * NOBJ) < 0)
		return NULL;
	o = mmap(NULL, sizeof(struct obj) * NOBJ, PROT_READ | PROT_WRITE,
		 MAP_SHARED, *fd, 0);
	if (o == MAP_FAILED)
		return NULL;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	for (int i = 0; i < NOBJ; i++) {
		pthread_mutex_init(&o[i].m, &ma);
		sem_init(&o[i].s, 1, (unsigned)(i % 5));
		if (i % 3 == 0)
			pthread_mutex_lock(&o[i].m); /* held by us, alive */
	}
	return o;
}

int main(void)
{
	char name[64];
	struct errbuf e;
	struct layout *l;
	struct snap_source src;
	double take[ROUNDS], json[ROUNDS];
	pid_t kids[NPROC];
	int fd, status = 1;
	FILE *devnull = fopen("/dev/null", "w");

	snprintf(name, sizeof(name), "/shmscope-bench-snap-%d", (int)getpid());
	l = layout_parse_string("bench.layout", layout_text,
				sizeof(layout_text) - 1, abi_host(), 0, &e);
	if (!l || !devnull || !make_segment(name, &fd)) {
		fprintf(stderr, "bench-snapshot: setup failed\n");
		shm_unlink(name);
		return 1;
	}
	for (int i = 0; i < NPROC; i++) {
		kids[i] = fork();
		if (kids[i] == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;)
				pause(); /* keeps the inherited mapping */
		}
	}
	if (snap_source_open(&src, name, l, NULL, &e) < 0) {
		fprintf(stderr, "bench-snapshot: %s\n", e.msg);
		goto out;
	}
	for (int r = 0; r < ROUNDS; r++) {
		struct snapshot s;
		struct json j;
		double t0 = now_ms(), t1;

		if (snap_take(&src, &s, &e) < 0) {
			fprintf(stderr, "bench-snapshot: %s\n", e.msg);
			goto close;
		}
		t1 = now_ms();
		json_init(&j, devnull, false);
		snap_write_json(&s, &j);
		fflush(devnull);
		take[r] = t1 - t0;
		json[r] = now_ms() - t1;
		if (r == 0)
			printf("bench-snapshot: %zu sync objects, %zu mapping "
			       "processes, %zu field rows, median of %d\n",
			       s.nsyncs, s.nprocs, s.nrows, ROUNDS);
		snap_free(&s);
	}
	qsort(take, ROUNDS, sizeof(double), cmp);
	qsort(json, ROUNDS, sizeof(double), cmp);
	printf("  snap_take:          %7.2f ms per snapshot\n",
	       take[ROUNDS / 2]);
	printf("  snapshot as JSON:   %7.2f ms\n", json[ROUNDS / 2]);
	status = 0;
close:
	snap_source_close(&src);
out:
	for (int i = 0; i < NPROC; i++)
		kill(kids[i], SIGKILL);
	for (int i = 0; i < NPROC; i++)
		waitpid(kids[i], NULL, 0);
	shm_unlink(name);
	layout_free(l);
	fclose(devnull);
	return status;
}
