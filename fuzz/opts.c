/*
 * opts.c - shmfuzz's command line.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: shmfuzz [--runs N] [--time S] [--seed S] [--jobs J] "
		"[--timeout MS]\n"
		"               [--strategy noise|pct|none] [-l LAYOUT] "
		"[--check-hz N]\n"
		"               [--out DIR] [--junit FILE] [--json] "
		"[--shard I/N]\n"
		"               [--replay SEED] [--valgrind TOOL] "
		"[--stop-first]\n"
		"               [--depth D] [--pct-steps K] "
		"[--replay-schedule FILE] [--minimize]\n"
		"               -- PROG ARGS\n"
		"\n"
		"Run PROG's whole process tree again and again, each run with "
		"its own seed,\n"
		"until a run fails: a non-zero exit or a fatal signal in any "
		"process, a hang,\n"
		"a failed layout @check, misuse the probe saw, valgrind "
		"errors.\n"
		"\n"
		"  --runs N          stop after N runs (default 100 when "
		"--time is not given)\n"
		"  --time S          stop after S seconds; with --runs, at "
		"whichever comes first\n"
		"  --seed S          base seed of the campaign (default: "
		"random, printed)\n"
		"  --jobs J          J runs at a time (default 1)\n"
		"  --timeout MS      a run making no progress for MS is a "
		"hang (default 5000)\n"
		"  --strategy S      noise (default), pct (a controlled "
		"scheduler), none\n"
		"  --depth D         pct: bug depth, D-1 priority change "
		"points (default 3)\n"
		"  --pct-steps K     pct: steps the change points are drawn "
		"in (default:\n"
		"                    the longest run so far)\n"
		"  --replay-schedule FILE  pct: one run following a saved "
		"schedule.txt\n"
		"  --minimize        pct: shrink each new failure's schedule "
		"(schedule.min.txt)\n"
		"  -l LAYOUT         layout whose @check/@expect are sampled "
		"during runs;\n"
		"                    it also names locks in misuse and hang "
		"diagnoses\n"
		"  --check-hz N      samples per second (default 10)\n"
		"  --out DIR         where failures go (default "
		"shmfuzz-out)\n"
		"  --junit FILE      write a JUnit XML report\n"
		"  --json            print a JSON summary on stdout\n"
		"  --shard I/N       run only the runs i with i %% N == I "
		"(needs --seed)\n"
		"  --replay SEED     run that one seed once; exit 1 if it "
		"fails again\n"
		"  --valgrind TOOL   run under valgrind: memcheck, helgrind "
		"or drd\n"
		"  --stop-first      stop at the first failure\n"
		"  -q, --quiet       no progress line\n"
		"  -h, --help        this text;  --version  the version\n"
		"\n"
		"Exit status: 0 no failure, 1 failures found, 2 usage or "
		"setup error.\n");
}

enum {
	OPT_RUNS = 256,
	OPT_TIME,
	OPT_SEED,
	OPT_JOBS,
	OPT_TIMEOUT,
	OPT_STRATEGY,
	OPT_CHECK_HZ,
	OPT_OUT,
	OPT_JUNIT,
	OPT_JSON,
	OPT_SHARD,
	OPT_REPLAY,
	OPT_VALGRIND,
	OPT_STOP_FIRST,
	OPT_VERSION,
	OPT_DEPTH,
	OPT_PCT_STEPS,
	OPT_REPLAY_SCHEDULE,
	OPT_MINIMIZE,
};

static const struct option longopts[] = {
	{"runs", required_argument, NULL, OPT_RUNS},
	{"time", required_argument, NULL, OPT_TIME},
	{"seed", required_argument, NULL, OPT_SEED},
	{"jobs", required_argument, NULL, OPT_JOBS},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"strategy", required_argument, NULL, OPT_STRATEGY},
	{"layout", required_argument, NULL, 'l'},
	{"check-hz", required_argument, NULL, OPT_CHECK_HZ},
	{"out", required_argument, NULL, OPT_OUT},
	{"junit", required_argument, NULL, OPT_JUNIT},
	{"json", no_argument, NULL, OPT_JSON},
	{"shard", required_argument, NULL, OPT_SHARD},
	{"replay", required_argument, NULL, OPT_REPLAY},
	{"valgrind", required_argument, NULL, OPT_VALGRIND},
	{"stop-first", no_argument, NULL, OPT_STOP_FIRST},
	{"depth", required_argument, NULL, OPT_DEPTH},
	{"pct-steps", required_argument, NULL, OPT_PCT_STEPS},
	{"replay-schedule", required_argument, NULL, OPT_REPLAY_SCHEDULE},
	{"minimize", no_argument, NULL, OPT_MINIMIZE},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, OPT_VERSION},
	{NULL, 0, NULL, 0},
};

/* An unsigned number (decimal or 0x hex) in [MIN, MAX]. */
static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_shard(struct fuzz_opts *o, const char *s)
{
	const char *slash = strchr(s, '/');
	char a[32];

	if (!slash || (size_t)(slash - s) >= sizeof(a))
		return -EINVAL;
	memcpy(a, s, (size_t)(slash - s));
	a[slash - s] = 0;
	if (parse_u64(a, 0, UINT32_MAX, &o->shard_i) ||
	    parse_u64(slash + 1, 1, UINT32_MAX, &o->shard_n))
		return -EINVAL;
	return o->shard_i < o->shard_n ? 0 : -EINVAL;
}

static int parse_strategy(struct fuzz_opts *o, const char *s, struct errbuf *e)
{
	if (!strcmp(s, "noise")) {
		o->strategy = FUZZ_STRAT_NOISE;
	} else if (!strcmp(s, "none")) {
		o->strategy = FUZZ_STRAT_NONE;
	} else if (!strcmp(s, "pct")) {
		o->strategy = FUZZ_STRAT_PCT;
	} else {
		err_set(e, "--strategy %s: expected noise, pct or none", s);
		return -EINVAL;
	}
	return 0;
}

static int parse_valgrind(struct fuzz_opts *o, const char *s, struct errbuf *e)
{
	static const char *const tools[] = {"memcheck", "helgrind", "drd"};

	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		if (!strcmp(s, tools[i])) {
			o->valgrind = tools[i];
			return 0;
		}
	}
	err_set(e, "--valgrind %s: expected memcheck, helgrind or drd", s);
	return -EINVAL;
}

static int bad(struct errbuf *e, const char *opt, const char *arg,
	       const char *want)
{
	err_set(e, "%s %s: expected %s", opt, arg, want);
	return -EINVAL;
}

static int parse_one(struct fuzz_opts *o, int c, const char *arg,
		     struct errbuf *e)
{
	uint64_t v;
	char *end;

	switch (c) {
	case OPT_RUNS:
		if (parse_u64(arg, 1, UINT64_MAX / 2, &o->runs))
			return bad(e, "--runs", arg, "a number >= 1");
		break;
	case OPT_TIME:
		errno = 0;
		o->time_s = strtod(arg, &end);
		if (errno || *end || end == arg || !(o->time_s > 0))
			return bad(e, "--time", arg, "seconds > 0");
		break;
	case OPT_SEED:
		if (parse_u64(arg, 0, UINT64_MAX, &o->seed))
			return bad(e, "--seed", arg, "a number");
		o->seed_given = true;
		break;
	case OPT_JOBS:
		if (parse_u64(arg, 1, 1024, &v))
			return bad(e, "--jobs", arg, "1..1024");
		o->jobs = (int)v;
		break;
	case OPT_TIMEOUT:
		if (parse_u64(arg, 1, 24 * 3600 * 1000, &v))
			return bad(e, "--timeout", arg, "milliseconds >= 1");
		o->timeout_ms = (int)v;
		break;
	case OPT_STRATEGY:
		return parse_strategy(o, arg, e);
	case 'l':
		o->layout = arg;
		break;
	case OPT_CHECK_HZ:
		if (parse_u64(arg, 1, 1000, &v))
			return bad(e, "--check-hz", arg, "1..1000");
		o->check_hz = (int)v;
		break;
	case OPT_OUT:
		if (!*arg)
			return bad(e, "--out", "''", "a folder");
		o->out_dir = arg;
		break;
	case OPT_JUNIT:
		o->junit = arg;
		break;
	case OPT_JSON:
		o->json = true;
		break;
	case OPT_SHARD:
		if (parse_shard(o, arg))
			return bad(e, "--shard", arg, "I/N with 0 <= I < N");
		break;
	case OPT_REPLAY:
		if (parse_u64(arg, 0, UINT64_MAX, &o->replay_seed))
			return bad(e, "--replay", arg, "a seed");
		o->replay = true;
		break;
	case OPT_VALGRIND:
		return parse_valgrind(o, arg, e);
	case OPT_STOP_FIRST:
		o->stop_first = true;
		break;
	case OPT_DEPTH:
		if (parse_u64(arg, 1, 16, &v))
			return bad(e, "--depth", arg, "1..16");
		o->pct_depth = (unsigned)v;
		o->depth_given = true;
		break;
	case OPT_PCT_STEPS:
		if (parse_u64(arg, 1, UINT32_MAX, &o->pct_steps))
			return bad(e, "--pct-steps", arg, "a number >= 1");
		break;
	case OPT_REPLAY_SCHEDULE:
		o->replay_schedule = arg;
		break;
	case OPT_MINIMIZE:
		o->minimize = true;
		break;
	case 'q':
		o->quiet = true;
		break;
	default:
		err_set(e, "unknown option (see shmfuzz --help)");
		return -EINVAL;
	}
	return 0;
}

/* --replay-schedule: one run of the saved schedule, with its seed, depth
 * and k unless given. */
static int check_pct(struct fuzz_opts *o, struct errbuf *e)
{
	static struct fuzz_pct_sched ps;

	if (o->minimize && o->strategy != FUZZ_STRAT_PCT) {
		err_set(e, "--minimize works on pct schedules: add --strategy "
			   "pct");
		return -EINVAL;
	}
	if (!o->replay_schedule)
		return 0;
	if (fuzz_pct_load(o->replay_schedule, &ps, e))
		return -EINVAL;
	o->strategy = FUZZ_STRAT_PCT;
	o->pct_sched = &ps;
	if (!o->replay) {
		o->replay = true;
		o->replay_seed = ps.has_seed ? ps.seed : o->seed;
	}
	if (!o->pct_steps && ps.k)
		o->pct_steps = ps.k;
	if (!o->depth_given && ps.depth)
		o->pct_depth = ps.depth;
	return 0;
}

static int check_consistency(struct fuzz_opts *o, int ntime, struct errbuf *e)
{
	if (o->shard_n > 1 && !o->seed_given) {
		err_set(e, "--shard needs --seed, so that every shard takes "
			   "its part of the same campaign");
		return -EINVAL;
	}
	if (o->replay && o->shard_n > 1) {
		err_set(e, "--replay runs one seed; it takes no --shard");
		return -EINVAL;
	}
	if (!o->argc) {
		err_set(e, "no program to run (shmfuzz [OPTIONS] -- PROG "
			   "ARGS)");
		return -EINVAL;
	}
	if (!o->runs && !ntime)
		o->runs = 100;
	return check_pct(o, e);
}

int fuzz_opts_parse(struct fuzz_opts *o, int argc, char **argv,
		    struct errbuf *e)
{
	int c, ntime = 0, r;

	memset(o, 0, sizeof(*o));
	o->jobs = 1;
	o->timeout_ms = 5000;
	o->strategy = FUZZ_STRAT_NOISE;
	o->check_hz = 10;
	o->out_dir = "shmfuzz-out";
	o->shard_n = 1;
	o->pct_depth = 3;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+l:qh", longopts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 1;
		}
		if (c == OPT_VERSION) {
			printf("shmfuzz %s\n", SHMSCOPE_VERSION);
			return 1;
		}
		if (c == '?' || c == ':') {
			err_set(e,
				"%s: unknown option or missing argument "
				"(see shmfuzz --help)",
				argv[optind - 1]);
			return -EINVAL;
		}
		if (c == OPT_TIME)
			ntime = 1;
		r = parse_one(o, c, optarg, e);
		if (r)
			return r;
	}
	o->argv = argv + optind;
	o->argc = argc - optind;
	return check_consistency(o, ntime, e);
}

const char *fuzz_strategy_name(enum fuzz_strategy s)
{
	switch (s) {
	case FUZZ_STRAT_NOISE:
		return "noise";
	case FUZZ_STRAT_PCT:
		return "pct";
	case FUZZ_STRAT_NONE:
		return "none";
	}
	return "?";
}
