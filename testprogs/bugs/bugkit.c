/*
 * bugkit.c - command line, segment, children and exits of the planted-bug
 * programs (see bugkit.h).
 */
#include "bugkit.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void usage(const struct bugkit_prog *p, int status)
{
	FILE *f = status ? stderr : stdout;

	fprintf(f,
		"usage: %s [-m N] [-n NAME] [--fixed] [--force] "
		"[--deadline-ms MS] [--seed S] [-q]\n"
		"%s\n\n"
		"  -m N             messages/iterations per run (default %lu)\n"
		"  -n NAME          segment name (default /%s-PID)\n"
		"  --fixed          run the fixed twin: must never fail\n"
		"  --force          widen the race window so the bug fires:\n"
		"                   %s\n"
		"  --deadline-ms MS give up after MS ms: kill, clean up, exit "
		"3\n"
		"  --seed S         seed of the programs' own randomness "
		"(default 1)\n"
		"  -q               no summary line\n"
		"exit: 0 ok, 1 damage seen, 2 usage, 3 deadline (hung), "
		"4 setup error\n",
		p->name, p->summary, p->default_m, p->name, p->force_help);
	exit(status);
}

static unsigned long parse_ulong(const struct bugkit_prog *p, const char *opt,
				 const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || *s == '-') {
		fprintf(stderr, "%s: %s: not a number: '%s'\n", p->name, opt,
			s);
		exit(BUGKIT_USAGE);
	}
	return v;
}

void bugkit_init(struct bugkit *k, const struct bugkit_prog *p, int argc,
		 char **argv)
{
	enum {
		OPT_FIXED = 256,
		OPT_FORCE,
		OPT_DEADLINE,
		OPT_SEED,
		OPT_HELP,
		OPT_VERSION
	};
	static const struct option opts[] = {
		{"fixed", no_argument, NULL, OPT_FIXED},
		{"force", no_argument, NULL, OPT_FORCE},
		{"deadline-ms", required_argument, NULL, OPT_DEADLINE},
		{"seed", required_argument, NULL, OPT_SEED},
		{"help", no_argument, NULL, OPT_HELP},
		{"version", no_argument, NULL, OPT_VERSION},
		{NULL, 0, NULL, 0},
	};
	sigset_t set;
	int c;

	memset(k, 0, sizeof(*k));
	k->prog = p;
	k->m = p->default_m;
	k->seed = 1;
	k->fd = -1;
	k->role = "main";
	if (pipe2(k->gate, O_CLOEXEC) < 0) {
		perror(p->name);
		exit(BUGKIT_SETUP);
	}
	while ((c = getopt_long(argc, argv, "m:n:q", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			k->m = parse_ulong(p, "-m", optarg);
			if (k->m == 0 || k->m > 10000000) {
				fprintf(stderr, "%s: -m: out of range\n",
					p->name);
				exit(BUGKIT_USAGE);
			}
			break;
		case 'n':
			if (optarg[0] != '/' || strlen(optarg) >= 200 ||
			    strchr(optarg + 1, '/')) {
				fprintf(stderr,
					"%s: -n: want /NAME without another "
					"'/': '%s'\n",
					p->name, optarg);
				exit(BUGKIT_USAGE);
			}
			snprintf(k->seg, sizeof(k->seg), "%s", optarg);
			break;
		case 'q':
			k->quiet = true;
			break;
		case OPT_FIXED:
			k->fixed = true;
			break;
		case OPT_FORCE:
			k->force = true;
			break;
		case OPT_DEADLINE:
			k->deadline_ms =
				parse_ulong(p, "--deadline-ms", optarg);
			break;
		case OPT_SEED:
			k->seed = parse_ulong(p, "--seed", optarg);
			break;
		case OPT_HELP:
			usage(p, 0);
			break;
		case OPT_VERSION:
			printf("%s %s\n", p->name, SHMSCOPE_VERSION);
			exit(0);
		default:
			usage(p, BUGKIT_USAGE);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", p->name,
			argv[optind]);
		usage(p, BUGKIT_USAGE);
	}
	if (!k->seg[0])
		snprintf(k->seg, sizeof(k->seg), "/%s-%ld", p->name,
			 (long)getpid());

	/* Waited for synchronously in bugkit_wait(); children unblock. */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &k->oldmask);
	k->t0_ns = bugkit_now_ns();
}

/*
 * Children wait at the gate until the supervisor has forked them all, so
 * that the race starts with every process running rather than with the
 * first one alone for the time of the later forks.
 */
static void start_gate(struct bugkit *k)
{
	char c;

	if (k->gate[0] < 0)
		return;
	close(k->gate[1]);
	while (read(k->gate[0], &c, 1) < 0 && errno == EINTR)
		;
	close(k->gate[0]);
	k->gate[0] = k->gate[1] = -1;
}

static void open_gate(struct bugkit *k)
{
	if (k->gate[1] >= 0)
		close(k->gate[1]);
	if (k->gate[0] >= 0)
		close(k->gate[0]);
	k->gate[0] = k->gate[1] = -1;
}

static void kill_kids(struct bugkit *k)
{
	for (int i = 0; i < k->nkids; i++) {
		if (k->kids[i].pid > 0)
			kill(k->kids[i].pid, SIGKILL);
	}
	for (int i = 0; i < k->nkids; i++) {
		if (k->kids[i].pid > 0)
			waitpid(k->kids[i].pid, NULL, 0);
		k->kids[i].pid = 0;
	}
}

void bugkit_exit(struct bugkit *k, int status)
{
	kill_kids(k);
	if (k->map)
		munmap(k->map, k->size);
	if (k->fd >= 0)
		close(k->fd);
	open_gate(k);
	/* The segment may be gone already (or never made): that is fine. */
	shm_unlink(k->seg);
	fflush(stdout);
	exit(status);
}

void bugkit_fail(struct bugkit *k, int err, const char *what)
{
	dprintf(2, "%s: %s%s%s: %s\n", k->prog->name,
		k->is_child ? k->role : "", k->is_child ? ": " : "", what,
		strerror(err));
	if (k->is_child)
		_exit(BUGKIT_SETUP);
	bugkit_exit(k, BUGKIT_SETUP);
}

void *bugkit_create(struct bugkit *k, size_t size)
{
	int fd, err;
	void *p;

	fd = shm_open(k->seg, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		err = errno;
		/* Not ours: do not let bugkit_exit() remove it. */
		dprintf(2, "%s: shm_open %s: %s\n", k->prog->name, k->seg,
			strerror(err));
		exit(BUGKIT_SETUP);
	}
	k->fd = fd;
	if (ftruncate(fd, (off_t)size) < 0)
		bugkit_fail(k, errno, "ftruncate");
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		bugkit_fail(k, errno, "mmap");
	k->map = p;
	k->size = size;
	return p;
}

pid_t bugkit_spawn(struct bugkit *k, const char *role,
		   int (*fn)(struct bugkit *k, long arg), long arg)
{
	pid_t parent = getpid(), pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		bugkit_fail(k, errno, "fork");
	if (pid == 0) {
		k->is_child = true;
		k->role = role;
		k->nkids = 0;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* Pauses of a few microseconds must not last 50. */
		prctl(PR_SET_TIMERSLACK, 1000UL);
		if (getppid() != parent)
			_exit(BUGKIT_SETUP);
		sigprocmask(SIG_SETMASK, &k->oldmask, NULL);
		start_gate(k);
		_exit(fn(k, arg));
	}
	if (k->nkids < BUGKIT_MAXKIDS) {
		k->kids[k->nkids].pid = pid;
		k->kids[k->nkids].role = role;
		k->nkids++;
	}
	return pid;
}

/* Reap what has exited; returns the worst status seen, or -1 for none. */
static int reap(struct bugkit *k, int *alive)
{
	int worst = -1, st;

	*alive = 0;
	for (int i = 0; i < k->nkids; i++) {
		struct bugkit_kid *kid = &k->kids[i];
		int s;
		pid_t r;

		if (kid->pid <= 0)
			continue;
		r = waitpid(kid->pid, &st, WNOHANG);
		if (r == 0) {
			(*alive)++;
			continue;
		}
		kid->pid = 0;
		if (r < 0)
			continue;
		if (WIFSIGNALED(st)) {
			dprintf(2, "%s: DAMAGE: %s killed by %s\n",
				k->prog->name, kid->role,
				sigabbrev_np(WTERMSIG(st))
					? sigabbrev_np(WTERMSIG(st))
					: "a signal");
			s = BUGKIT_DAMAGE;
		} else {
			s = WEXITSTATUS(st);
		}
		if (s > worst)
			worst = s;
	}
	return worst;
}

int bugkit_wait(struct bugkit *k)
{
	sigset_t set;
	int worst = 0, alive, sig, s;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	fflush(stdout);
	open_gate(k);
	for (;;) {
		struct timespec ts, *tsp = NULL;

		s = reap(k, &alive);
		if (s > 0) {
			/* Damage beats setup beats nothing; never "hung". */
			worst = s == BUGKIT_DAMAGE || worst == BUGKIT_DAMAGE
					? BUGKIT_DAMAGE
					: s;
			kill_kids(k);
			return worst;
		}
		if (alive == 0)
			return worst;
		if (k->deadline_ms) {
			uint64_t end = k->t0_ns + k->deadline_ms * 1000000ull;
			uint64_t now = bugkit_now_ns();

			if (now >= end)
				goto hung;
			ts.tv_sec = (time_t)((end - now) / 1000000000ull);
			ts.tv_nsec = (long)((end - now) % 1000000000ull);
			tsp = &ts;
		}
		sig = tsp ? sigtimedwait(&set, NULL, tsp)
			  : sigwaitinfo(&set, NULL);
		if (sig == SIGCHLD || (sig < 0 && errno == EINTR))
			continue;
		if (sig < 0 && errno == EAGAIN)
			goto hung;
		if (sig > 0) {
			dprintf(2, "%s: interrupted by %s: cleaning up\n",
				k->prog->name, sigabbrev_np(sig));
			bugkit_exit(k, 128 + sig);
		}
	}
hung:
	dprintf(2, "%s: deadline: hung after %lu ms\n", k->prog->name,
		k->deadline_ms);
	if (k->prog->on_hang && k->map)
		k->prog->on_hang(k);
	kill_kids(k);
	return BUGKIT_HUNG;
}

static void vsay(int fd, const struct bugkit *k, const char *tag,
		 const char *fmt, va_list ap)
{
	char buf[1024];
	int n;

	n = snprintf(buf, sizeof(buf), "%s: %s%s%s", k->prog->name, tag,
		     k->is_child ? k->role : "", k->is_child ? ": " : "");
	if (n < 0 || n >= (int)sizeof(buf))
		n = 0;
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	n = (int)strlen(buf);
	if (n < (int)sizeof(buf) - 1)
		buf[n++] = '\n';
	/* One write() per line so lines of racing processes do not mix. */
	if (write(fd, buf, (size_t)n) < 0)
		return;
}

void bugkit_damage(const struct bugkit *k, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(2, k, "DAMAGE: ", fmt, ap);
	va_end(ap);
}

void bugkit_ok(const struct bugkit *k, const char *fmt, ...)
{
	va_list ap;

	if (k->quiet)
		return;
	fflush(stdout);
	va_start(ap, fmt);
	vsay(1, k, "ok: ", fmt, ap);
	va_end(ap);
}

void bugkit_say(const struct bugkit *k, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(2, k, "", fmt, ap);
	va_end(ap);
}

void bugkit_mutex_init(struct bugkit *k, pthread_mutex_t *m, int type,
		       bool robust)
{
	pthread_mutexattr_t a;
	int err;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_settype(&a, type);
	if (robust)
		pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	err = pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
	if (err)
		bugkit_fail(k, err, "pthread_mutex_init");
}

void bugkit_sem_init(struct bugkit *k, sem_t *s, unsigned value)
{
	if (sem_init(s, 1, value) < 0)
		bugkit_fail(k, errno, "sem_init");
}

void bugkit_cond_init(struct bugkit *k, pthread_cond_t *c)
{
	pthread_condattr_t a;
	int err;

	pthread_condattr_init(&a);
	pthread_condattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	err = pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
	if (err)
		bugkit_fail(k, err, "pthread_cond_init");
}

uint64_t bugkit_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void bugkit_spin_ns(uint64_t ns)
{
	uint64_t end = bugkit_now_ns() + ns;

	while (bugkit_now_ns() < end)
		__asm__ __volatile__("" ::: "memory");
}

bool bugkit_wait_nonzero(const uint32_t *word, unsigned long max_ms)
{
	uint64_t end = bugkit_now_ns() + max_ms * 1000000ull;

	while (!__atomic_load_n(word, __ATOMIC_ACQUIRE)) {
		if (bugkit_now_ns() >= end)
			return false;
		bugkit_sleep_us(100);
	}
	return true;
}

void bugkit_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

void bugkit_sleep_us(unsigned long us)
{
	struct timespec ts = {
		.tv_sec = (time_t)(us / 1000000),
		.tv_nsec = (long)(us % 1000000) * 1000,
	};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void bugkit_sleep_until_ns(uint64_t t)
{
	struct timespec ts = {
		.tv_sec = (time_t)(t / 1000000000ull),
		.tv_nsec = (long)(t % 1000000000ull),
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

void bugkit_clock_init(struct bugkit_clock *c, uint64_t start, uint64_t slot,
		       uint64_t gap, uint64_t salt)
{
	c->start = start;
	c->slot = slot;
	c->gap = gap;
	c->salt = salt;
	c->last = 0;
	prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
}

void bugkit_clock_wait(const struct bugkit *k, struct bugkit_clock *c,
		       uint64_t n)
{
	uint64_t r = bugkit_rng_seed(k, c->salt << 32 | n);
	uint64_t at =
		c->start + n * c->slot + (bugkit_rand(&r) >> 11) % c->slot;

	if (c->last && at < c->last + c->gap)
		at = c->last + c->gap;
	bugkit_sleep_until_ns(at);
}

void bugkit_clock_done(struct bugkit_clock *c)
{
	c->last = bugkit_now_ns();
}

uint64_t bugkit_rng_seed(const struct bugkit *k, uint64_t salt)
{
	uint64_t s = k->seed * 0x9e3779b97f4a7c15ull + salt;

	bugkit_rand(&s);
	return s ? s : 1;
}

/* splitmix64: small, good enough, and every state is valid. */
uint64_t bugkit_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t bugkit_rand_below(uint64_t *s, uint64_t n)
{
	return bugkit_rand(s) % n;
}

struct timespec bugkit_abstime_us(unsigned long us)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(us / 1000000);
	ts.tv_nsec += (long)(us % 1000000) * 1000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}
