/*
 * shmtrace.c - record what a program's processes do with their locks,
 * semaphores and shared segments, and report on it.
 *
 *   shmtrace record [-o DIR] [--backtrace N] [--events LIST] -- PROG ARGS
 *   shmtrace report [-l LAYOUT] [--segment NAME] [--json] [--top N] DIR
 *   shmtrace export --chrome DIR > trace.json
 *   shmtrace story [-l LAYOUT] [--last N] [--json] DIR
 *   shmtrace dump DIR
 */
#include "shmtrace.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

const char *shmtrace_prog = "shmtrace";

static void usage(FILE *f)
{
	fprintf(f,
		"usage: shmtrace record [-o DIR] [--backtrace N] [--events "
		"LIST] "
		"-- PROG ARGS...\n"
		"       shmtrace report [-l LAYOUT] [--segment NAME] [--json] "
		"[--top N] DIR\n"
		"       shmtrace export --chrome DIR > trace.json\n"
		"       shmtrace story [-l LAYOUT] [--last N] [--json] DIR\n"
		"       shmtrace dump DIR\n"
		"\n"
		"record runs PROG with libshmprobe.so preloaded: every process "
		"(forks and\n"
		"execs too) writes its events into its own file in DIR. "
		"report names locks\n"
		"by segment+offset, so one lock mapped at different addresses "
		"is one lock.\n"
		"Run `shmtrace COMMAND --help` for the options of a "
		"command.\n");
}

int shmtrace_count(const char *opt, const char *arg, long lo, long hi,
		   long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < lo || v > hi) {
		fprintf(stderr, "%s: %s: '%s': a number from %ld to %ld\n",
			shmtrace_prog, opt, arg, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

int shmtrace_open(const char *layout, const char *segment, const char *dir,
		  struct trace_reader **r)
{
	struct errbuf e;

	if (report_layout_load(layout, segment, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	if (trace_reader_open(r, dir, &e) < 0) {
		fprintf(stderr, "%s: %s\n", shmtrace_prog, e.msg);
		report_layout_unload();
		return 1;
	}
	return 0;
}

/* ---- record ---------------------------------------------------------------
 */

/* The probe next to this binary: BIN/../lib/libshmprobe.so (the build tree
 * and an installed $PREFIX alike), or $SHMTRACE_PROBE. */
static int find_probe(char *buf, size_t len)
{
	const char *env = getenv("SHMTRACE_PROBE");
	char exe[PATH_MAX], *slash;
	ssize_t n;

	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return access(buf, R_OK) == 0 ? 0 : -errno;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return -errno;
	exe[n] = 0;
	slash = strrchr(exe, '/');
	if (slash)
		*slash = 0;
	if (snprintf(buf, len, "%s/../lib/libshmprobe.so", exe) >= (int)len)
		return -ENAMETOOLONG;
	if (access(buf, R_OK) < 0)
		return -errno;
	if (realpath(buf, exe))
		snprintf(buf, len, "%s", exe);
	return 0;
}

static void record_usage(FILE *f)
{
	fprintf(f,
		"usage: shmtrace record [-o DIR] [--backtrace N] [--events "
		"LIST] [--buffer-mb N]\n"
		"                       [--populate ahead|start|none] "
		"[--stats] "
		"-- PROG ARGS...\n"
		"  -o DIR          where the trace goes (default "
		"./shmtrace.PID)\n"
		"  --backtrace N   frames recorded per acquisition (default 1, "
		"the call site;\n"
		"                  0 = none, at most %d)\n"
		"  --events LIST   classes to record: "
		"mutex,rwlock,cond,spin,sem,"
		"shm,proc\n"
		"                  (default all)\n"
		"  --buffer-mb N   event space per process (default %d MiB); "
		"beyond it events\n"
		"                  are counted as dropped\n"
		"  --populate MODE who faults in each process's event space:\n"
		"                  ahead  shmtrace, a little ahead of each "
		"process (default)\n"
		"                  start  each process, all of it at start\n"
		"                  none   each process's threads, as they "
		"record\n"
		"  --prefault      the same as --populate start\n"
		"  --stats         say what populating ahead did and cost\n",
		TRACE_STACK_DEPTH, TRACE_DEFAULT_MB);
}

static int make_dir(const char *dir)
{
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Does DIR hold a trace already?  Mixing two runs would be one wrong
 * report. */
static bool has_trace(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;
	size_t n = strlen(TRACE_FILE_SUFFIX);

	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		found = len > n &&
			!strcmp(e->d_name + len - n, TRACE_FILE_SUFFIX);
	}
	closedir(d);
	return found;
}

static int count_files(const char *dir)
{
	struct trace_reader *r;
	struct errbuf e;
	int n;

	if (trace_reader_open(&r, dir, &e) < 0)
		return 0;
	n = trace_reader_nprocs(r);
	trace_reader_close(r);
	return n;
}

/* Wait for PID; meanwhile, with A, populate ahead of the traced
 * processes.  0 with *STATUS, or -errno. */
static int wait_prog(pid_t pid, struct ahead *a, int *status)
{
	/* Readable when PID ends: no need to poll waitpid().  Without it
	 * (Linux before 5.3) the rounds' timeouts bound the delay. */
	int pidfd = a ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
	int ret = 0;

	for (;;) {
		struct pollfd p[2] = {{.fd = pidfd, .events = POLLIN},
				      {.fd = -1, .events = POLLIN}};
		pid_t r = waitpid(pid, status, a ? WNOHANG : 0);

		if (r == pid)
			break;
		if (r < 0 && errno != EINTR) {
			ret = -errno;
			break;
		}
		if (r < 0)
			continue;
		p[1].fd = ahead_fd(a);
		if (poll(p, 2, ahead_round(a)) < 0 && errno != EINTR) {
			ret = -errno;
			break;
		}
	}
	if (pidfd >= 0)
		close(pidfd);
	return ret;
}

static void print_stats(const struct ahead_stats *st, bool ahead)
{
	if (!ahead) {
		fprintf(stderr, "%s: populated ahead: off\n", shmtrace_prog);
		return;
	}
	fprintf(stderr,
		"%s: populated ahead: %.1f MiB for %u process%s, %.1f MiB "
		"given back, %.3f ms CPU\n",
		shmtrace_prog, (double)st->populated / 1048576, st->files,
		st->files == 1 ? "" : "es", (double)st->released / 1048576,
		(double)st->cpu_ns / 1e6);
}

int cmd_record(int argc, char **argv)
{
	static const struct option lopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"backtrace", required_argument, NULL, 'b'},
		{"events", required_argument, NULL, 'e'},
		{"buffer-mb", required_argument, NULL, 'm'},
		{"prefault", no_argument, NULL, 'P'},
		{"populate", required_argument, NULL, 'p'},
		{"stats", no_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	char probe[PATH_MAX], dir[PATH_MAX], absdir[PATH_MAX], num[64];
	char preload[2 * PATH_MAX];
	const char *out = NULL, *events = NULL, *old;
	int opt, bt = 1, status, bufmb = 0, ret;
	long num_opt;
	bool ahead = true, stats = false;
	struct ahead *a = NULL;
	struct ahead_stats st = {0};
	unsigned mask;
	struct errbuf e;
	pid_t pid;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+o:b:e:m:h", lopts, NULL)) !=
	       -1) {
		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case 'b':
			if (shmtrace_count("--backtrace", optarg, 0,
					   TRACE_STACK_DEPTH, &num_opt) < 0)
				return 2;
			bt = (int)num_opt;
			break;
		case 'e':
			events = optarg;
			if (trace_parse_classes(events, &mask, &e) < 0) {
				fprintf(stderr, "%s: --events: %s\n",
					shmtrace_prog, e.msg);
				return 2;
			}
			break;
		case 'm':
			/* the probe's own bounds (probe_core.c) */
			if (shmtrace_count("--buffer-mb", optarg, 1, 65536,
					   &num_opt) < 0)
				return 2;
			bufmb = (int)num_opt;
			break;
		case 'P':
			setenv("SHMPROBE_PREFAULT", "1", 1);
			ahead = false;
			break;
		case 'p':
			ahead = !strcmp(optarg, "ahead");
			if (!strcmp(optarg, "start")) {
				setenv("SHMPROBE_PREFAULT", "1", 1);
			} else if (!ahead && strcmp(optarg, "none")) {
				fprintf(stderr,
					"%s: --populate: ahead, start or "
					"none\n",
					shmtrace_prog);
				return 2;
			}
			break;
		case 's':
			stats = true;
			break;
		case 'h':
			record_usage(stdout);
			return 0;
		default:
			record_usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		record_usage(stderr);
		return 2;
	}
	ret = find_probe(probe, sizeof(probe));
	if (ret < 0) {
		fprintf(stderr,
			"%s: cannot find libshmprobe.so next to %s: %s\n",
			shmtrace_prog, "shmtrace (../lib/)", strerror(-ret));
		return 1;
	}
	if (out && strlen(out) >= sizeof(dir)) {
		fprintf(stderr, "%s: -o: name too long\n", shmtrace_prog);
		return 2;
	}
	if (out)
		snprintf(dir, sizeof(dir), "%s", out);
	else
		snprintf(dir, sizeof(dir), "shmtrace.%d", (int)getpid());
	ret = make_dir(dir);
	if (ret < 0 || !realpath(dir, absdir)) {
		fprintf(stderr, "%s: %s: %s\n", shmtrace_prog, dir,
			strerror(ret < 0 ? -ret : errno));
		return 1;
	}
	if (has_trace(absdir)) {
		fprintf(stderr,
			"%s: %s holds a trace already; remove it or use -o\n",
			shmtrace_prog, absdir);
		return 1;
	}
	setenv("SHMPROBE_DIR", absdir, 1);
	snprintf(num, sizeof(num), "%d", bt);
	setenv("SHMPROBE_BACKTRACE", num, 1);
	if (events)
		setenv("SHMPROBE_EVENTS", events, 1);
	if (bufmb > 0) {
		snprintf(num, sizeof(num), "%d", bufmb);
		setenv("SHMPROBE_BUFFER_MB", num, 1);
	}
	/* One calibration for every process of the run. */
	trace_tsc_export();
	old = getenv("LD_PRELOAD");
	if (old && *old)
		snprintf(preload, sizeof(preload), "%s:%s", probe, old);
	else
		snprintf(preload, sizeof(preload), "%s", probe);
	setenv("LD_PRELOAD", preload, 1);
	/* Watching starts before PROG does: none of its files is missed.
	 * If it cannot, PROG's threads fault their pages in themselves. */
	if (ahead && ahead_open(&a, absdir, &e) < 0)
		ahead = false;

	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "%s: fork: %s\n", shmtrace_prog,
			strerror(errno));
		return 1;
	}
	if (pid == 0) {
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "%s: %s: %s\n", shmtrace_prog, argv[optind],
			strerror(errno));
		_exit(127);
	}
	unsetenv("LD_PRELOAD");
	/* The terminal's ^C and ^\ are for PROG; we report when it ends. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	ret = wait_prog(pid, a, &status);
	ahead_close(a, &st);
	if (ret < 0) {
		fprintf(stderr, "%s: waitpid: %s\n", shmtrace_prog,
			strerror(-ret));
		return 1;
	}
	if (stats)
		print_stats(&st, ahead);
	fprintf(stderr, "%s: trace of %d process%s in %s\n", shmtrace_prog,
		count_files(absdir), count_files(absdir) == 1 ? "" : "es",
		absdir);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

/* ---- main ------------------------------------------------------------------
 */

static const struct {
	const char *name;
	int (*fn)(int, char **);
} commands[] = {
	{"record", cmd_record}, {"report", cmd_report}, {"export", cmd_export},
	{"story", cmd_story},	{"dump", cmd_dump},
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("shmtrace %s\n", SHMSCOPE_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	}
	fprintf(stderr, "%s: unknown command '%s'\n", shmtrace_prog, argv[1]);
	usage(stderr);
	return 2;
}
