/*
 * ring.c - the classic shared-memory producer/consumer ring, done right.
 *
 * The parent creates the segment, forks the producers and consumers, and
 * then only watches: it reaps its children, stops them on SIGINT/SIGTERM,
 * kills them all if one of them dies abnormally, and at the end checks
 * what is left in the ring and prints one summary line.  It removes the
 * segment on every way out it can see.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ring.h"

/* How long stopped children get before they are killed. */
#define RING_STOP_MS 10000
#define RING_TICK_MS 50

struct child {
	pid_t pid;
	int consumer;
	unsigned id;
	int alive;
};

struct parent {
	struct ring_opts o;
	struct ring r;
	struct ring_ctl *ctl;
	struct child kids[2 * RING_MAX_PROCS];
	unsigned nkids, nalive;
	int stopping, stop_sig, abnormal, stuck, frozen;
	uint64_t stop_deadline;
	double start;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ring [OPTIONS]\n"
		"\n"
		"The classic producer/consumer ring over shared memory: a "
		"segment with a\n"
		"header, a process-shared mutex, the semaphores empty_slots "
		"and\n"
		"filled_slots, write_idx, read_idx and SLOTS message slots.  "
		"Producers\n"
		"and consumers are forked processes; consumers verify that "
		"nothing is\n"
		"lost, duplicated or reordered (per producer) and every "
		"checksum.  Prints\n"
		"`ring: segment TARGET` first and a one-line summary last.\n"
		"\n"
		"  -n NAME            segment name (default /ring-PID); with "
		"--sysv the\n"
		"                     key is derived from it\n"
		"  -p N               producer processes, 1..64 (default 1)\n"
		"  -c N               consumer processes, 1..64 (default 1)\n"
		"  -m N               messages per producer (default 1000)\n"
		"  -s N               slots, a power of two up to 65536 "
		"(default 16)\n"
		"      --size N       text bytes per message, 1..65536 "
		"(default 100)\n"
		"      --rate R       messages per second per producer, 0 = as "
		"fast as\n"
		"                     possible (default 0)\n"
		"      --hold         run until SIGINT/SIGTERM (producers "
		"never run out)\n"
		"      --sysv         a System V segment instead of POSIX shm\n"
		"      --file PATH    a file-backed segment at PATH\n"
		"      --grow-every N double the ring after every N messages "
		"written\n"
		"                     (POSIX or --file; up to 256 MiB)\n"
		"      --stop-after N after N messages consumed, freeze: "
		"everyone stays\n"
		"                     alive, blocked or paused, until "
		"SIGINT/SIGTERM\n"
		"      --counts       print each process's lock/unlock and "
		"sem_wait/\n"
		"                     sem_post counts at the end\n"
		"      --offsets      print the segment's field offsets and "
		"exit\n"
		"  -h, --help         this text\n"
		"      --version      print the version\n"
		"\n"
		"The defaults (16 slots, 100 bytes) match "
		"testprogs/ring.layout.\n"
		"Exit status: 0 all verified, 1 a check failed, a process died "
		"or the\n"
		"run was interrupted before its end (without "
		"--hold/--stop-after),\n"
		"2 usage.\n");
}

static void usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ring: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'ring --help' for more information.\n");
	exit(2);
}

static uint64_t parse_num(const char *opt, const char *arg, uint64_t min,
			  uint64_t max)
{
	char *end, buf[96];
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || *arg == '-' || v < min || v > max) {
		snprintf(buf, sizeof(buf),
			 "a number from %" PRIu64 " to %" PRIu64, min, max);
		fprintf(stderr, "ring: %s: '%s' is not %s\n", opt, arg, buf);
		fprintf(stderr, "Try 'ring --help' for more information.\n");
		exit(2);
	}
	return v;
}

static double parse_rate(const char *arg)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !(v >= 0 && v <= 1e9))
		usage_error("--rate: '%s' is not a rate from 0 to 1e9", arg);
	return v;
}

/* FNV-1a of the name: a SysV key that is stable for a given name. */
static key_t name_key(const char *name)
{
	uint32_t h = 2166136261u;

	for (const char *c = name; *c; c++) {
		h ^= (unsigned char)*c;
		h *= 16777619u;
	}
	h &= 0x7fffffff;
	return (key_t)(h ? h : 1);
}

enum {
	OPT_SIZE = 256,
	OPT_RATE,
	OPT_HOLD,
	OPT_SYSV,
	OPT_FILE,
	OPT_GROW,
	OPT_STOP,
	OPT_COUNTS,
	OPT_OFFSETS,
	OPT_VERSION
};

static const struct option long_opts[] = {
	{"size", required_argument, NULL, OPT_SIZE},
	{"rate", required_argument, NULL, OPT_RATE},
	{"hold", no_argument, NULL, OPT_HOLD},
	{"sysv", no_argument, NULL, OPT_SYSV},
	{"file", required_argument, NULL, OPT_FILE},
	{"grow-every", required_argument, NULL, OPT_GROW},
	{"stop-after", required_argument, NULL, OPT_STOP},
	{"counts", no_argument, NULL, OPT_COUNTS},
	{"offsets", no_argument, NULL, OPT_OFFSETS},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, OPT_VERSION},
	{NULL, 0, NULL, 0},
};

static void print_offsets(void)
{
#define F(f)                                                          \
	printf("ring.%s %zu %zu\n", #f, offsetof(struct ring_shm, f), \
	       sizeof(((struct ring_shm *)0)->f))
	F(magic);
	F(version);
	F(capacity);
	F(msg_size);
	F(slot_size);
	F(generation);
	F(size);
	F(creator);
	F(producers);
	F(consumers);
	F(reserved);
	F(lock);
	F(empty_slots);
	F(filled_slots);
	F(write_idx);
	F(read_idx);
#undef F
	printf("ring.slots %zu %zu\n", offsetof(struct ring_shm, slots),
	       RING_DEFAULT_SLOTS * ring_slot_size(RING_DEFAULT_SIZE));
	printf("message.seq %zu 8\n", offsetof(struct ring_msg, seq));
	printf("message.producer %zu 4\n", offsetof(struct ring_msg, producer));
	printf("message.len %zu 4\n", offsetof(struct ring_msg, len));
	printf("message.checksum %zu 4\n", offsetof(struct ring_msg, checksum));
	printf("message.text %zu %d\n", offsetof(struct ring_msg, text),
	       RING_DEFAULT_SIZE);
	printf("message %zu %zu\n", (size_t)0,
	       ring_slot_size(RING_DEFAULT_SIZE));
}

static void set_name(struct ring_opts *o, const char *n)
{
	if (strchr(n + (*n == '/'), '/') || !n[*n == '/'] ||
	    strlen(n) > NAME_MAX - 1)
		usage_error("-n: '%s' is not a segment name (one word, at "
			    "most 254 characters, optional leading '/')",
			    n);
	snprintf(o->name, sizeof(o->name), "%s%s", *n == '/' ? "" : "/", n);
}

static void check_opts(struct ring_opts *o, int named, const char *file)
{
	if (o->kind == RING_SYSV && file)
		usage_error("--sysv and --file %s exclude each other", file);
	if (o->slots & (o->slots - 1))
		usage_error("-s: slots must be a power of two, not %u",
			    o->slots);
	if (o->grow_every && o->kind == RING_SYSV)
		usage_error("--grow-every: a System V segment cannot grow "
			    "(use --file)");
	if (o->stop_after && !o->hold &&
	    o->stop_after > (uint64_t)o->producers * o->messages)
		usage_error("--stop-after: more than the %" PRIu64
			    " messages sent (-p times -m)",
			    (uint64_t)o->producers * o->messages);
	if (file) {
		if (strlen(file) >= sizeof(o->name))
			usage_error("--file: path too long: %s", file);
		snprintf(o->name, sizeof(o->name), "%s", file);
	} else if (!named) {
		snprintf(o->name, sizeof(o->name), "/ring-%d", (int)getpid());
	}
	if (o->kind == RING_SYSV)
		o->key = name_key(o->name);
}

static void parse_args(int argc, char **argv, struct ring_opts *o)
{
	const char *file = NULL;
	int c, named = 0;

	memset(o, 0, sizeof(*o));
	o->producers = o->consumers = 1;
	o->messages = 1000;
	o->slots = RING_DEFAULT_SLOTS;
	o->size = RING_DEFAULT_SIZE;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":n:p:c:m:s:h", long_opts, NULL)) !=
	       -1) {
		switch (c) {
		case 'n':
			set_name(o, optarg);
			named = 1;
			break;
		case 'p':
			o->producers =
				parse_num("-p", optarg, 1, RING_MAX_PROCS);
			break;
		case 'c':
			o->consumers =
				parse_num("-c", optarg, 1, RING_MAX_PROCS);
			break;
		case 'm':
			o->messages = parse_num("-m", optarg, 1, 1000000000);
			break;
		case 's':
			o->slots = parse_num("-s", optarg, 1, RING_MAX_SLOTS);
			break;
		case OPT_SIZE:
			o->size = parse_num("--size", optarg, 1, RING_MAX_SIZE);
			break;
		case OPT_RATE:
			o->rate = parse_rate(optarg);
			break;
		case OPT_HOLD:
			o->hold = 1;
			break;
		case OPT_SYSV:
			o->kind = RING_SYSV;
			break;
		case OPT_FILE:
			file = optarg;
			if (o->kind != RING_SYSV)
				o->kind = RING_FILE;
			break;
		case OPT_GROW:
			o->grow_every = parse_num("--grow-every", optarg, 1,
						  UINT32_MAX);
			break;
		case OPT_STOP:
			o->stop_after = parse_num("--stop-after", optarg, 1,
						  UINT64_MAX / 2);
			break;
		case OPT_COUNTS:
			o->counts = 1;
			break;
		case OPT_OFFSETS:
			print_offsets();
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		case OPT_VERSION:
			printf("ring %s\n", SHMSCOPE_VERSION);
			exit(0);
		case ':':
			usage_error("%s: missing argument", argv[optind - 1]);
		default:
			if (optopt)
				usage_error("unknown option '-%c'", optopt);
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	check_opts(o, named, file);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_stop(int sig)
{
	(void)sig;
	ring_stop = 1;
}

static void signal_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGCHLD);
}

/* In the child: die with the parent, take signals, do the work. */
static void run_child(struct parent *p, unsigned slot, pid_t parent)
{
	struct child *k = &p->kids[slot];
	struct sigaction sa;
	sigset_t set;
	int rc;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(3);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop; /* no SA_RESTART: sem_wait returns EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal_set(&set);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	if (k->consumer)
		rc = ring_consumer(&p->r, p->ctl, &p->o, k->id);
	else
		rc = ring_producer(&p->r, p->ctl, &p->o, k->id);
	p->ctl->counts[slot] = p->r.counts;
	_exit(rc);
}

static int spawn(struct parent *p)
{
	pid_t self = getpid();

	fflush(stdout);
	fflush(stderr);
	for (unsigned i = 0; i < p->o.producers + p->o.consumers; i++) {
		struct child *k = &p->kids[i];
		pid_t pid;

		k->consumer = i >= p->o.producers;
		k->id = k->consumer ? i - p->o.producers : i;
		pid = fork();
		if (pid < 0) {
			fprintf(stderr, "ring: fork: %s\n", strerror(errno));
			p->abnormal = 1;
			return -1;
		}
		if (pid == 0)
			run_child(p, i, self);
		k->pid = pid;
		k->alive = 1;
		p->nkids++;
		p->nalive++;
	}
	return 0;
}

static const char *role(const struct child *k)
{
	return k->consumer ? "consumer" : "producer";
}

static void reap(struct parent *p)
{
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (unsigned i = 0; i < p->nkids; i++) {
			struct child *k = &p->kids[i];

			if (k->pid != pid || !k->alive)
				continue;
			k->alive = 0;
			p->nalive--;
			if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
				continue;
			if (WIFSIGNALED(st) && !p->abnormal)
				fprintf(stderr,
					"ring: %s %u (pid %d) killed by signal "
					"%d (%s)\n",
					role(k), k->id, (int)pid, WTERMSIG(st),
					strsignal(WTERMSIG(st)));
			else if (!p->abnormal)
				fprintf(stderr,
					"ring: %s %u (pid %d) exited with "
					"status %d\n",
					role(k), k->id, (int)pid,
					WEXITSTATUS(st));
			p->abnormal = 1;
		}
	}
}

static void signal_all(struct parent *p, int sig)
{
	for (unsigned i = 0; i < p->nkids; i++)
		if (p->kids[i].alive)
			kill(p->kids[i].pid, sig);
}

/* --stop-after: the ring is frozen once N messages are consumed and the
 * producers have filled what is left of the ring (or run out). */
static void check_frozen(struct parent *p)
{
	uint64_t n = p->o.stop_after, want;
	struct ring_shm *s = p->r.shm;

	if (atomic_load(&p->ctl->consumed) != n)
		return;
	want = n + __atomic_load_n(&s->capacity, __ATOMIC_RELAXED);
	if (!p->o.hold && want > (uint64_t)p->o.producers * p->o.messages)
		want = (uint64_t)p->o.producers * p->o.messages;
	if (atomic_load(&p->ctl->produced) != want)
		return;
	p->frozen = 1;
	printf("ring: frozen after %" PRIu64 " messages: read_idx=%" PRIu32
	       " write_idx=%" PRIu32 "\n",
	       n, __atomic_load_n(&s->read_idx, __ATOMIC_RELAXED),
	       __atomic_load_n(&s->write_idx, __ATOMIC_RELAXED));
	fflush(stdout);
}

static uint64_t now_ms(void)
{
	return (uint64_t)(now_s() * 1000);
}

/* Watch the children until all are gone. */
static void watch(struct parent *p)
{
	struct timespec tick = {0, RING_TICK_MS * 1000000L};
	sigset_t set;
	int sig;

	signal_set(&set);
	for (;;) {
		reap(p);
		if (p->abnormal)
			signal_all(p, SIGKILL);
		if (!p->nalive)
			break;
		if (p->stopping && now_ms() > p->stop_deadline) {
			if (!p->stuck)
				fprintf(stderr,
					"ring: children did not stop in %d ms; "
					"killing them\n",
					RING_STOP_MS);
			p->stuck = 1;
			signal_all(p, SIGKILL);
		} else if (p->stopping) {
			/* Again and again: a signal that lands just before a
			 * child enters sem_wait() does not interrupt it. */
			signal_all(p, SIGTERM);
		}
		if (p->o.stop_after && !p->frozen)
			check_frozen(p);
		sig = sigtimedwait(&set, NULL, &tick);
		if ((sig == SIGINT || sig == SIGTERM || sig == SIGHUP) &&
		    !p->stopping) {
			p->stopping = 1;
			p->stop_sig = sig;
			p->stop_deadline = now_ms() + RING_STOP_MS;
		}
	}
}

static void fail(struct parent *p, const char *why)
{
	ring_report(p->ctl, "end", why);
}

/* Everyone is gone: what is still in the ring must continue each
 * producer's sequence, and account for every message sent. */
static void verify_end(struct parent *p)
{
	struct ring_ctl *ctl = p->ctl;
	struct ring_shm *s = p->r.shm;
	struct errbuf e;
	char why[256];
	int filled, empty;
	uint32_t used;

	if (ring_sync(&p->r, &e)) {
		fail(p, e.msg);
		return;
	}
	used = s->write_idx - s->read_idx;
	if (used > s->capacity) {
		snprintf(why, sizeof(why),
			 "write_idx %u - read_idx %u > %u slots", s->write_idx,
			 s->read_idx, s->capacity);
		fail(p, why);
		return;
	}
	for (uint32_t i = s->read_idx; i != s->write_idx; i++) {
		const struct ring_msg *m = ring_slot(&p->r, i);

		if (ring_check_seq(ctl, &p->o, m, why, sizeof(why)) ||
		    ring_check_sum(&p->o, m, why, sizeof(why)))
			ring_report(ctl, "left in the ring", why);
	}
	for (unsigned i = 0; i < p->o.producers; i++) {
		if (ctl->next_seq[i] != ctl->sent[i]) {
			snprintf(why, sizeof(why),
				 "producer %u sent %" PRIu64
				 " messages, %" PRIu64 " arrived",
				 i, ctl->sent[i], ctl->next_seq[i]);
			fail(p, why);
		} else if (!p->stopping && ctl->sent[i] != p->o.messages) {
			snprintf(why, sizeof(why),
				 "producer %u sent %" PRIu64 " of %" PRIu64, i,
				 ctl->sent[i], p->o.messages);
			fail(p, why);
		}
	}
	sem_getvalue(&s->filled_slots, &filled);
	sem_getvalue(&s->empty_slots, &empty);
	if ((uint32_t)filled != used || (uint32_t)empty != s->capacity - used) {
		snprintf(why, sizeof(why),
			 "semaphores filled=%d empty=%d with %u of %u slots "
			 "used",
			 filled, empty, used, s->capacity);
		fail(p, why);
	}
}

static void print_counts(const struct parent *p)
{
	const struct ring_counts *pc = &p->r.counts;

	printf("ring: counts pid=%d role=parent mutex_lock=%" PRIu64
	       " mutex_unlock=%" PRIu64 "\n",
	       (int)getpid(), pc->lock, pc->unlock);
	for (unsigned i = 0; i < p->nkids; i++) {
		const struct child *k = &p->kids[i];
		const struct ring_counts *c = &p->ctl->counts[i];

		printf("ring: counts pid=%d role=%s/%u mutex_lock=%" PRIu64
		       " mutex_unlock=%" PRIu64 " sem_wait.empty_slots=%" PRIu64
		       " sem_post.empty_slots=%" PRIu64
		       " sem_wait.filled_slots=%" PRIu64
		       " sem_post.filled_slots=%" PRIu64
		       " sem_wait_eintr=%" PRIu64 "\n",
		       (int)k->pid, role(k), k->id, c->lock, c->unlock,
		       c->empty_wait, c->empty_post, c->filled_wait,
		       c->filled_post, c->intr);
	}
}

static int summary(struct parent *p)
{
	struct ring_ctl *ctl = p->ctl;
	struct ring_shm *s = p->r.shm;
	double t = now_s() - p->start;
	uint64_t n = atomic_load(&ctl->consumed), errs;
	uint32_t left = s->write_idx - s->read_idx;
	int interrupted = p->stopping && !p->o.hold && !p->o.stop_after;

	errs = atomic_load(&ctl->errors);
	printf("ring: %" PRIu64 " messages from %u producer%s to %u consumer%s "
	       "in %.3f s (%.0f msg/s)",
	       n, p->o.producers, p->o.producers > 1 ? "s" : "", p->o.consumers,
	       p->o.consumers > 1 ? "s" : "", t, t > 0 ? (double)n / t : 0.0);
	if (left)
		printf(", %" PRIu32 " left in the ring", left);
	if (ctl->grows)
		printf(", grew %" PRIu64 " time%s to %" PRIu32 " slots",
		       ctl->grows, ctl->grows > 1 ? "s" : "", s->capacity);
	if (errs)
		printf(": FAILED (%" PRIu64 " error%s)\n", errs,
		       errs > 1 ? "s" : "");
	else if (interrupted)
		printf(": interrupted by %s\n", strsignal(p->stop_sig));
	else
		printf(": all verified\n");
	if (errs)
		fprintf(stderr, "ring: first error: %s\n", ctl->first_error);
	return errs || interrupted ? 1 : 0;
}

static void print_target(const struct ring_opts *o)
{
	char path[PATH_MAX];

	if (o->kind == RING_POSIX)
		printf("ring: segment %s\n", o->name);
	else if (o->kind == RING_SYSV)
		printf("ring: segment sysv:0x%08x\n", (unsigned)o->key);
	else
		printf("ring: segment file:%s\n",
		       realpath(o->name, path) ? path : o->name);
	printf("ring: %u producer%s, %u consumer%s, %" PRIu32
	       " slots of %" PRIu32 " bytes, ",
	       o->producers, o->producers > 1 ? "s" : "", o->consumers,
	       o->consumers > 1 ? "s" : "", o->slots, o->size);
	if (o->hold)
		printf("until stopped");
	else
		printf("%" PRIu64 " messages each", o->messages);
	if (o->rate > 0)
		printf(" at %g/s", o->rate);
	printf("\n");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static struct parent p;
	struct errbuf e;
	sigset_t set;
	int rc;

	parse_args(argc, argv, &p.o);
	/* Until the loop in watch() takes them, these signals wait: nothing
	 * can stop us between creating the segment and being ready to remove
	 * it.  Children unblock them. */
	signal_set(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	p.ctl = mmap(NULL, sizeof(*p.ctl), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p.ctl == MAP_FAILED) {
		fprintf(stderr, "ring: mmap: %s\n", strerror(errno));
		return 1;
	}
	if (ring_create(&p.r, &p.o, &e)) {
		fprintf(stderr, "ring: %s\n", e.msg);
		return 1;
	}
	print_target(&p.o);
	p.start = now_s();
	spawn(&p);
	watch(&p);
	if (!p.abnormal && !p.stuck)
		verify_end(&p);
	if (p.o.counts)
		print_counts(&p);
	rc = p.abnormal || p.stuck ? 1 : summary(&p);
	if (rc && (p.abnormal || p.stuck))
		fprintf(stderr, "ring: stopped everything; nothing verified\n");
	fflush(stdout);
	ring_remove(&p.r);
	munmap(p.ctl, sizeof(*p.ctl));
	return rc;
}
