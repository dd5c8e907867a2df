/*
 * ipcbench.c - main: options, and the measurement of one mechanism at one
 * message size between a parent and a forked child.
 *
 * For each (mechanism, size): the link is created, the child is forked,
 * and both run the same script of phases, each message verified on arrival:
 *
 *   warm-up    W ping-pongs, then a burst of W messages and one reply
 *   latency    L ping-pongs, timed one by one by the parent (one-way = /2)
 *   throughput R repetitions of N messages; the child stamps the time it
 *              verified the last one and answers, the parent started the
 *              clock before the first
 *
 * The counts L and N are decided by the parent after the warm-up (from
 * -n, --quick, --duration or the size) and handed to the child in a shared
 * page before the first latency message.
 */
#include "ipcbench.h"

#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROG "ipcbench"

static const struct ib_mech *const all_mechs[] = {
	&ib_mech_posix_shm,   &ib_mech_posix_shm_futex,
	&ib_mech_sysv_shm,    &ib_mech_file_mmap,
	&ib_mech_pipe,	      &ib_mech_mqueue,
	&ib_mech_unix_stream, &ib_mech_unix_dgram,
	&ib_mech_tcp,	      &ib_mech_file_io,
};
#define NMECHS	  (sizeof(all_mechs) / sizeof(all_mechs[0]))
#define MAX_SIZES 32

/*
 * Faults a test can inject into the parent's messages, to show that a
 * broken mechanism is caught: a flipped payload byte, a skipped number.
 */
enum { FAULT_NONE, FAULT_CORRUPT, FAULT_SKIP };

struct opts {
	const struct ib_mech *mechs[NMECHS];
	size_t nmechs;
	size_t sizes[MAX_SIZES];
	size_t nsizes;
	uint64_t count;	 /* -n: 0 = by size */
	double duration; /* seconds per mechanism and size, 0 = by count */
	uint64_t warmup; /* 0 = by size */
	int reps;
	int rounds;
	bool quick;
	int pin[2]; /* -1: unpinned */
	enum ib_format format;
	bool progress;
	int fault;
	uint64_t fault_seq;
};

/* The page parent and child share for counts, stamps and errors. */
struct shared {
	uint64_t lat_count;
	uint64_t tput_count;
	uint64_t t_end[IB_MAX_REPS];
	uint64_t verified;
	char err[1024];
};

/* One side's state while measuring. */
struct side {
	struct ib_link *l;
	struct shared *sh;
	void *tx, *rx;
	uint64_t tx_seq, rx_seq;
	uint64_t verified;
	/* --inject-fault: the parent breaks one message on purpose */
	int fault;
	uint64_t fault_seq;
	struct errbuf e;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [options]\n"
		"Measure IPC latency and throughput between two processes.\n"
		"\n"
		"  --only LIST        mechanisms, comma-separated (default: "
		"all):\n"
		"                     posix-shm, posix-shm-futex, sysv-shm, "
		"file-mmap, pipe,\n"
		"                     mqueue, unix-stream, unix-dgram, tcp, "
		"file-io\n"
		"  --sizes LIST       message sizes, e.g. 64,4K,1M (default: 8 "
		"and the powers\n"
		"                     of 4 from 16 to 1M); at least 8, at most "
		"64M\n"
		"  -n, --count N      ping-pongs and messages per repetition "
		"(default: by size)\n"
		"  --duration SEC     instead: about SEC seconds per mechanism "
		"and size\n"
		"  --warmup N         warm-up messages (default: by size)\n"
		"  --reps N           throughput repetitions, median reported "
		"(default 3)\n"
		"  --rounds N         sweep everything N times, report the "
		"medians\n"
		"  --quick            small counts, for tests\n"
		"  --pin[=A,B]        pin parent and child to two CPUs "
		"(default: the first two)\n"
		"  --dir DIR          folder for the file-mmap and file-io "
		"files\n"
		"                     (default: $TMPDIR, else /tmp)\n"
		"  --json, --csv      machine-readable output instead of the "
		"tables\n"
		"  -q, --quiet        no progress line on stderr\n"
		"  --inject-fault corrupt@N|skip@N\n"
		"                     break the parent's message N on purpose "
		"(tests)\n"
		"  -h, --help         this help\n"
		"  -V, --version      version\n"
		"\n"
		"Every message carries a sequence number and a checksum and is "
		"verified on\n"
		"arrival; a failed verification ends " PROG
		" with status 1.  Usage errors: 2.\n");
}

static void __attribute__((noreturn, format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry '" PROG " --help'.\n", stderr);
	exit(2);
}

static const struct ib_mech *find_mech(const char *name, size_t len)
{
	for (size_t i = 0; i < NMECHS; i++)
		if (strlen(all_mechs[i]->name) == len &&
		    !strncmp(all_mechs[i]->name, name, len))
			return all_mechs[i];
	return NULL;
}

static void parse_only(struct opts *o, const char *list)
{
	const char *p = list;

	o->nmechs = 0;
	for (;;) {
		size_t len = strcspn(p, ",");
		const struct ib_mech *m = find_mech(p, len);

		if (!m)
			usage_error("--only: unknown mechanism '%.*s'",
				    (int)len, p);
		for (size_t i = 0; i < o->nmechs; i++)
			if (o->mechs[i] == m)
				usage_error("--only: '%s' given twice",
					    m->name);
		o->mechs[o->nmechs++] = m;
		if (!p[len])
			break;
		p += len + 1;
	}
}

static void parse_sizes(struct opts *o, const char *list)
{
	char buf[64];
	const char *p = list;

	o->nsizes = 0;
	for (;;) {
		size_t len = strcspn(p, ",");
		size_t v;

		snprintf(buf, sizeof(buf), "%.*s", (int)len, p);
		if (o->nsizes == MAX_SIZES)
			usage_error("--sizes: more than %d sizes", MAX_SIZES);
		if (ib_parse_size(buf, &v) || v < IB_MIN_SIZE)
			usage_error("--sizes: bad size '%s' (want 8..64M, "
				    "e.g. 64, 4K, 1M)",
				    buf);
		o->sizes[o->nsizes++] = v;
		if (!p[len])
			break;
		p += len + 1;
	}
}

static uint64_t parse_count(const char *opt, const char *s, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s < '0' || *s > '9' || *end || errno || v == 0 || v > max)
		usage_error("%s: bad number '%s' (want 1..%llu)", opt, s,
			    (unsigned long long)max);
	return v;
}

static void parse_pin(struct opts *o, const char *arg)
{
	cpu_set_t set;
	int n = 0;

	if (arg) {
		char *end;
		long a = strtol(arg, &end, 10), b;

		if (end == arg || *end != ',')
			usage_error("--pin: bad CPU pair '%s' (want A,B)", arg);
		b = strtol(end + 1, &end, 10);
		if (*end || a < 0 || b < 0 || a >= CPU_SETSIZE ||
		    b >= CPU_SETSIZE || a == b)
			usage_error("--pin: bad CPU pair '%s' (want A,B)", arg);
		o->pin[0] = (int)a;
		o->pin[1] = (int)b;
	}
	if (sched_getaffinity(0, sizeof(set), &set))
		usage_error("--pin: sched_getaffinity: %s", strerror(errno));
	if (arg) {
		for (int i = 0; i < 2; i++)
			if (!CPU_ISSET(o->pin[i], &set))
				usage_error("--pin: CPU %d is not available "
					    "to this process",
					    o->pin[i]);
		return;
	}
	for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, &set))
			o->pin[n++] = c;
	if (n < 2)
		usage_error("--pin: this process may run on one CPU only");
}

static void parse_fault(struct opts *o, const char *arg)
{
	const char *at = strchr(arg, '@');

	if (at && !strncmp(arg, "corrupt@", 8))
		o->fault = FAULT_CORRUPT;
	else if (at && !strncmp(arg, "skip@", 5))
		o->fault = FAULT_SKIP;
	else
		usage_error("--inject-fault: bad fault '%s' (want corrupt@N "
			    "or skip@N)",
			    arg);
	o->fault_seq = parse_count("--inject-fault", at + 1, UINT64_MAX - 1);
}

enum {
	OPT_ONLY = 256,
	OPT_SIZES,
	OPT_DURATION,
	OPT_WARMUP,
	OPT_REPS,
	OPT_QUICK,
	OPT_PIN,
	OPT_DIR,
	OPT_JSON,
	OPT_CSV,
	OPT_FAULT,
	OPT_ROUNDS,
};

static const struct option longopts[] = {
	{"only", required_argument, NULL, OPT_ONLY},
	{"sizes", required_argument, NULL, OPT_SIZES},
	{"count", required_argument, NULL, 'n'},
	{"duration", required_argument, NULL, OPT_DURATION},
	{"warmup", required_argument, NULL, OPT_WARMUP},
	{"reps", required_argument, NULL, OPT_REPS},
	{"rounds", required_argument, NULL, OPT_ROUNDS},
	{"quick", no_argument, NULL, OPT_QUICK},
	{"pin", optional_argument, NULL, OPT_PIN},
	{"dir", required_argument, NULL, OPT_DIR},
	{"json", no_argument, NULL, OPT_JSON},
	{"csv", no_argument, NULL, OPT_CSV},
	{"inject-fault", required_argument, NULL, OPT_FAULT},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

static void default_sizes(struct opts *o)
{
	o->sizes[o->nsizes++] = 8;
	for (size_t s = 16; s <= (1u << 20); s *= 4)
		o->sizes[o->nsizes++] = s;
}

static void parse_args(struct opts *o, int argc, char **argv)
{
	const char *tmp = getenv("TMPDIR");
	int c;

	memset(o, 0, sizeof(*o));
	o->pin[0] = o->pin[1] = -1;
	o->reps = 0;
	o->progress = isatty(2);
	if (tmp && *tmp)
		ib_file_dir = tmp;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":n:qhV", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_ONLY:
			parse_only(o, optarg);
			break;
		case OPT_SIZES:
			parse_sizes(o, optarg);
			break;
		case 'n':
			o->count = parse_count("-n", optarg, 1000000000);
			break;
		case OPT_DURATION: {
			char *end;

			o->duration = strtod(optarg, &end);
			if (end == optarg || *end || !(o->duration > 0) ||
			    o->duration > 3600)
				usage_error("--duration: bad number of seconds "
					    "'%s'",
					    optarg);
			break;
		}
		case OPT_WARMUP:
			o->warmup = parse_count("--warmup", optarg, 10000000);
			break;
		case OPT_REPS:
			o->reps =
				(int)parse_count("--reps", optarg, IB_MAX_REPS);
			break;
		case OPT_ROUNDS:
			o->rounds = (int)parse_count("--rounds", optarg,
						     IB_MAX_ROUNDS);
			break;
		case OPT_QUICK:
			o->quick = true;
			break;
		case OPT_PIN:
			parse_pin(o, optarg);
			break;
		case OPT_DIR:
			ib_file_dir = optarg;
			break;
		case OPT_JSON:
			o->format = IB_OUT_JSON;
			break;
		case OPT_CSV:
			o->format = IB_OUT_CSV;
			break;
		case 'q':
			o->progress = false;
			break;
		case OPT_FAULT:
			parse_fault(o, optarg);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf(PROG " " SHMSCOPE_VERSION "\n");
			exit(0);
		case ':':
			usage_error("option '%s' needs a value",
				    argv[optind - 1]);
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (o->count && o->duration > 0)
		usage_error("-n and --duration exclude each other");
	if (!o->nmechs) {
		for (size_t i = 0; i < NMECHS; i++)
			o->mechs[i] = all_mechs[i];
		o->nmechs = NMECHS;
	}
	if (!o->nsizes)
		default_sizes(o);
	if (!o->reps)
		o->reps = o->quick ? 1 : 3;
	if (!o->rounds)
		o->rounds = 1;
}

/* --- counts -------------------------------------------------------------- */

static uint64_t clamp_u64(uint64_t v, uint64_t lo, uint64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static uint64_t warmup_count(const struct opts *o, size_t size)
{
	if (o->warmup)
		return o->warmup;
	if (o->quick)
		return 3;
	return clamp_u64((8u << 20) / size, 10, 1000);
}

static uint64_t lat_count(const struct opts *o, size_t size, double rtt_ns)
{
	if (o->count)
		return o->count;
	if (o->quick)
		return 20;
	if (o->duration > 0)
		return clamp_u64((uint64_t)(o->duration / 3 * 1e9 / rtt_ns), 10,
				 10000000);
	return clamp_u64((32u << 20) / size, 50, 20000);
}

static uint64_t tput_count(const struct opts *o, size_t size, double msg_ns)
{
	if (o->count)
		return o->count;
	if (o->quick)
		return 40;
	if (o->duration > 0)
		return clamp_u64((uint64_t)(o->duration * 2 / 3 / o->reps *
					    1e9 / msg_ns),
				 10, 100000000);
	return clamp_u64((256u << 20) / size, 100, 200000);
}

/* --- moving verified messages ------------------------------------------ */

static int send_msg(struct side *s)
{
	ib_msg_fill(s->tx, s->l->size, s->tx_seq);
	if (s->fault && s->tx_seq == s->fault_seq) {
		if (s->fault == FAULT_SKIP)
			ib_msg_fill(s->tx, s->l->size, s->tx_seq + 1);
		else
			((unsigned char *)s->tx)[s->l->size - 1] ^= 0x40;
	}
	s->tx_seq++;
	return s->l->mech->send(s->l, s->tx, s->l->size, &s->e);
}

static int recv_msg(struct side *s)
{
	int rc = s->l->mech->recv(s->l, s->rx, s->l->size, &s->e);

	if (rc)
		return rc;
	rc = ib_msg_verify(s->rx, s->l->size, s->rx_seq, &s->e);
	if (rc)
		return rc;
	s->rx_seq++;
	s->verified++;
	return 0;
}

/* The child answers every ping and stamps each burst. */
static int child_script(struct side *s, uint64_t warmup, int reps)
{
	uint64_t n;
	int rc;

	for (uint64_t i = 0; i < warmup; i++)
		if ((rc = recv_msg(s)) || (rc = send_msg(s)))
			return rc;
	for (uint64_t i = 0; i < warmup; i++)
		if ((rc = recv_msg(s)))
			return rc;
	if ((rc = send_msg(s)))
		return rc;
	/* the parent set the counts before this first ping */
	if ((rc = recv_msg(s)) || (rc = send_msg(s)))
		return rc;
	n = s->sh->lat_count;
	for (uint64_t i = 1; i < n; i++)
		if ((rc = recv_msg(s)) || (rc = send_msg(s)))
			return rc;
	n = s->sh->tput_count;
	for (int r = 0; r < reps; r++) {
		for (uint64_t i = 0; i < n; i++)
			if ((rc = recv_msg(s)))
				return rc;
		s->sh->t_end[r] = ib_now_ns();
		if ((rc = send_msg(s)))
			return rc;
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int parent_latency(struct side *s, const struct opts *o, double rtt,
			  double msg_ns, struct ib_result *res)
{
	uint64_t n = lat_count(o, s->l->size, rtt), *ns;
	int rc = 0;

	s->sh->lat_count = n;
	s->sh->tput_count = tput_count(o, s->l->size, msg_ns);
	ns = malloc(n * sizeof(*ns));
	if (!ns) {
		err_set(&s->e, "out of memory for %llu samples",
			(unsigned long long)n);
		return -ENOMEM;
	}
	for (uint64_t i = 0; i < n && !rc; i++) {
		uint64_t t0 = ib_now_ns();

		rc = send_msg(s);
		if (!rc)
			rc = recv_msg(s);
		ns[i] = ib_now_ns() - t0;
	}
	if (!rc) {
		qsort(ns, n, sizeof(*ns), cmp_u64);
		res->lat_samples = n;
		res->lat_min = ns[0] / 2.0;
		res->lat_median = ns[n / 2] / 2.0;
		res->lat_p99 =
			ns[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] / 2.0;
	}
	free(ns);
	return rc;
}

static int parent_throughput(struct side *s, int reps, struct ib_result *res)
{
	uint64_t n = s->sh->tput_count;
	double rate[IB_MAX_REPS] = {0};
	int rc;

	for (int r = 0; r < reps; r++) {
		uint64_t t0 = ib_now_ns();

		for (uint64_t i = 0; i < n; i++)
			if ((rc = send_msg(s)))
				return rc;
		if ((rc = recv_msg(s)))
			return rc;
		rate[r] = n * 1e9 / (double)(s->sh->t_end[r] - t0);
	}
	qsort(rate, (size_t)reps, sizeof(rate[0]), cmp_double);
	res->tput_count = n;
	res->tput_reps = reps;
	res->msgs_per_s = rate[reps / 2];
	res->bytes_per_s = res->msgs_per_s * (double)s->l->size;
	return 0;
}

static int parent_script(struct side *s, const struct opts *o, uint64_t warmup,
			 struct ib_result *res)
{
	uint64_t t0;
	double rtt, msg_ns;
	int rc;

	t0 = ib_now_ns();
	for (uint64_t i = 0; i < warmup; i++)
		if ((rc = send_msg(s)) || (rc = recv_msg(s)))
			return rc;
	rtt = (double)(ib_now_ns() - t0) / (double)warmup;
	t0 = ib_now_ns();
	for (uint64_t i = 0; i < warmup; i++)
		if ((rc = send_msg(s)))
			return rc;
	if ((rc = recv_msg(s)))
		return rc;
	msg_ns = (double)(ib_now_ns() - t0) / (double)warmup;
	rc = parent_latency(s, o, rtt, msg_ns, res);
	if (rc)
		return rc;
	return parent_throughput(s, o->reps, res);
}

static void pin_to(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		fprintf(stderr, PROG ": pinning to CPU %d: %s\n", cpu,
			strerror(errno));
		exit(1);
	}
}

static int alloc_buffers(struct side *s, size_t size)
{
	if (posix_memalign(&s->tx, 64, size) ||
	    posix_memalign(&s->rx, 64, size))
		return -ENOMEM;
	/* fault the pages in now, not during the first timed message */
	memset(s->tx, 0, size);
	memset(s->rx, 0, size);
	return 0;
}

static void __attribute__((noreturn))
run_child(struct ib_link *l, struct shared *sh, const struct opts *o,
	  pid_t parent, uint64_t warmup)
{
	struct side s = {.l = l, .sh = sh};
	int rc;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	ib_peer_watch_parent(parent);
	if (getppid() != parent)
		_exit(1);
	pin_to(o->pin[1]);
	l->side = 1;
	l->mech->keep_side(l);
	if (alloc_buffers(&s, l->size)) {
		snprintf(sh->err, sizeof(sh->err), "child: out of memory");
		_exit(1);
	}
	rc = child_script(&s, warmup, o->reps);
	sh->verified = s.verified;
	if (rc)
		snprintf(sh->err, sizeof(sh->err), "%s", s.e.msg);
	l->mech->close(l);
	_exit(rc ? 1 : 0);
}

/*
 * Measure one mechanism at one size into RES.  A link that cannot be made
 * (a limit, a missing feature) is a result too: unsupported, with the
 * reason.  Returns 0, or -1 when a message failed (already reported).
 */
static int measure(const struct opts *o, const struct ib_mech *m, size_t size,
		   struct shared *sh, struct ib_result *res)
{
	struct ib_link l;
	struct side s = {.l = &l,
			 .sh = sh,
			 .fault = o->fault,
			 .fault_seq = o->fault_seq};
	uint64_t warmup = warmup_count(o, size);
	char sz[32];
	pid_t pid;
	int rc, status;

	memset(&l, 0, sizeof(l));
	memset(res, 0, sizeof(*res));
	memset(sh, 0, sizeof(*sh));
	for (int i = 0; i < 4; i++)
		l.fd[i] = -1;
	l.mech = m;
	l.size = size;
	l.unit = size;
	res->mech = m;
	res->size = size;
	ib_fmt_size(sz, sizeof(sz), size);
	if (m->open(&l, &s.e)) {
		snprintf(res->reason, sizeof(res->reason), "%s", s.e.msg);
		return 0;
	}
	res->supported = true;
	res->unit = l.unit;
	snprintf(res->note, sizeof(res->note), "%s", l.note);
	if (alloc_buffers(&s, size)) {
		err_set(&s.e, "out of memory");
		rc = -ENOMEM;
		goto out_close;
	}
	ib_peer_watch_child();
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		err_setn(&s.e, errno, "fork");
		rc = -errno;
		goto out_close;
	}
	if (pid == 0)
		run_child(&l, sh, o, getppid(), warmup);
	ib_cleanup_child(pid);
	pin_to(o->pin[0]);
	l.side = 0;
	m->keep_side(&l);
	rc = parent_script(&s, o, warmup, res);
	if (rc)
		kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	ib_cleanup_child(0);
	if (!rc && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		err_set(&s.e, "child failed: %s",
			sh->err[0] ? sh->err : "no reason given");
		rc = -EIO;
	} else if (rc && sh->err[0]) {
		/* the child saw it first: its reason is the real one */
		err_set(&s.e, "child: %s", sh->err);
	}
	res->verified = s.verified + sh->verified;
	m->close(&l);
	goto out_destroy;

out_close:
	/* no child: drop its end too */
	m->keep_side(&l);
	m->close(&l);
out_destroy:
	m->destroy(&l);
	free(s.tx);
	free(s.rx);
	if (rc) {
		fprintf(stderr, PROG ": %s, %s bytes: %s\n", m->name, sz,
			s.e.msg);
		return -1;
	}
	return 0;
}

static void command_line(char *out, size_t outsz, int argc, char **argv)
{
	size_t n = 0;

	out[0] = 0;
	for (int i = 0; i < argc && n < outsz; i++)
		n += (size_t)snprintf(out + n, outsz - n, "%s%s", i ? " " : "",
				      i ? argv[i] : PROG);
}

static double median_of(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(v[0]), cmp_double);
	return v[n / 2];
}

/*
 * Fold ROUNDS sweeps (RR[k * stride + i]) into OUT[i]: the median of the
 * rounds' medians, p99s and rates, the smallest minimum, the sums of the
 * samples and verified messages.  A size unsupported in any round is
 * unsupported.
 */
static void combine_rounds(struct ib_result *out, const struct ib_result *rr,
			   int rounds, size_t stride)
{
	double med[IB_MAX_ROUNDS], p99[IB_MAX_ROUNDS], mps[IB_MAX_ROUNDS];

	for (size_t i = 0; i < stride; i++) {
		struct ib_result *o = &out[i];

		*o = rr[i];
		o->rounds = rounds;
		for (int k = 0; k < rounds; k++) {
			const struct ib_result *r = &rr[k * stride + i];

			if (!r->supported) {
				*o = *r;
				break;
			}
			med[k] = r->lat_median;
			p99[k] = r->lat_p99;
			mps[k] = r->msgs_per_s;
			if (k == 0)
				continue;
			if (r->lat_min < o->lat_min)
				o->lat_min = r->lat_min;
			o->lat_samples += r->lat_samples;
			o->verified += r->verified;
			o->tput_reps += r->tput_reps;
		}
		if (!o->supported)
			continue;
		o->lat_median = median_of(med, rounds);
		o->lat_p99 = median_of(p99, rounds);
		o->msgs_per_s = median_of(mps, rounds);
		o->bytes_per_s = o->msgs_per_s * (double)o->size;
	}
}

int main(int argc, char **argv)
{
	struct opts o;
	struct ib_machine mach;
	struct ib_result *res;
	struct shared *sh;
	char cmd[1024];
	size_t nr = 0, total;
	int status = 0;

	parse_args(&o, argc, argv);
	command_line(cmd, sizeof(cmd), argc, argv);
	ib_cleanup_install();
	signal(SIGPIPE, SIG_IGN);
	total = o.nmechs * o.nsizes;
	res = calloc(total * ((size_t)o.rounds + 1), sizeof(*res));
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (!res || sh == MAP_FAILED) {
		fprintf(stderr, PROG ": out of memory\n");
		return 1;
	}
	ib_machine_probe(&mach);
	if (o.pin[0] >= 0)
		snprintf(mach.pinned, sizeof(mach.pinned), "%d,%d", o.pin[0],
			 o.pin[1]);
	/*
	 * Rounds sweep everything again, so that a burst of load elsewhere
	 * on the machine spoils one round of a mechanism, not all of it.
	 */
	for (int k = 0; k < o.rounds && !status; k++) {
		for (size_t i = 0; i < o.nmechs && !status; i++) {
			for (size_t j = 0; j < o.nsizes && !status; j++) {
				char sz[32];

				ib_fmt_size(sz, sizeof(sz), o.sizes[j]);
				if (o.progress)
					fprintf(stderr,
						"\r\033[K" PROG
						": round %d/%d: %s %s "
						"(%zu/%zu)",
						k + 1, o.rounds,
						o.mechs[i]->name, sz,
						nr % total + 1, total);
				if (measure(&o, o.mechs[i], o.sizes[j], sh,
					    &res[total + nr]))
					status = 1;
				nr++;
			}
		}
	}
	if (o.progress)
		fprintf(stderr, "\r\033[K");
	if (!status) {
		ib_machine_finish(&mach);
		combine_rounds(res, res + total, o.rounds, total);
		ib_print(o.format, &mach, cmd, res, total);
	}
	free(res);
	munmap(sh, sizeof(*sh));
	return status;
}
