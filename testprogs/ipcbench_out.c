/*
 * ipcbench_out.c - the machine the figures come from, and the figures as
 * tables (the default), JSON (--json) or CSV (--csv).
 */
#include "ipcbench.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "json.h"

static void cpu_model(char *out, size_t outsz)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];

	snprintf(out, outsz, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) || !colon)
			continue;
		colon++;
		colon += strspn(colon, " \t");
		colon[strcspn(colon, "\n")] = 0;
		snprintf(out, outsz, "%s", colon);
		break;
	}
	fclose(f);
}

static const char *fs_name(long type)
{
	static const struct {
		long magic;
		const char *name;
	} fs[] = {
		{0xEF53, "ext4"},	 {0x01021994, "tmpfs"},
		{0x58465342, "xfs"},	 {0x9123683E, "btrfs"},
		{0x794c7630, "overlay"}, {0x6969, "nfs"},
		{0x65735546, "fuse"},	 {0x2Fc12Fc1, "zfs"},
	};

	for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++)
		if (fs[i].magic == type)
			return fs[i].name;
	return NULL;
}

/* Busy and stolen time of all CPUs so far, in clock ticks. */
static void cpu_ticks(unsigned long long *busy, unsigned long long *steal)
{
	unsigned long long v[8] = {0};
	FILE *f = fopen("/proc/stat", "r");

	*busy = *steal = 0;
	if (!f)
		return;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
		   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8) {
		/* user nice system [idle iowait] irq softirq steal */
		*busy = v[0] + v[1] + v[2] + v[5] + v[6];
		*steal = v[7];
	}
	fclose(f);
}

static double rusage_s(int who)
{
	struct rusage ru;

	if (getrusage(who, &ru))
		return 0;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

void ib_machine_finish(struct ib_machine *m)
{
	unsigned long long busy, steal;
	double hz = (double)sysconf(_SC_CLK_TCK);
	double wall = (double)(ib_now_ns() - m->t0_ns) / 1e9;
	double ours = rusage_s(RUSAGE_SELF) + rusage_s(RUSAGE_CHILDREN);

	cpu_ticks(&busy, &steal);
	if (wall <= 0 || hz <= 0)
		return;
	m->other_cpus = ((double)(busy - m->busy0) / hz - ours) / wall;
	if (m->other_cpus < 0)
		m->other_cpus = 0;
	m->steal_cpus = (double)(steal - m->steal0) / hz / wall;
}

void ib_machine_probe(struct ib_machine *m)
{
	struct utsname u;
	struct statfs sfs;

	memset(m, 0, sizeof(*m));
	cpu_model(m->cpu, sizeof(m->cpu));
	m->cores = sysconf(_SC_NPROCESSORS_ONLN);
	if (!uname(&u))
		snprintf(m->kernel, sizeof(m->kernel), "%s %s %s", u.sysname,
			 u.release, u.machine);
	snprintf(m->pinned, sizeof(m->pinned), "no");
	snprintf(m->file_dir, sizeof(m->file_dir), "%s", ib_file_dir);
	if (!statfs(ib_file_dir, &sfs)) {
		const char *n = fs_name((long)sfs.f_type);

		if (n)
			snprintf(m->file_fs, sizeof(m->file_fs), "%s", n);
		else
			snprintf(m->file_fs, sizeof(m->file_fs), "0x%lx",
				 (long)sfs.f_type);
	} else {
		snprintf(m->file_fs, sizeof(m->file_fs), "unknown");
	}
	cpu_ticks(&m->busy0, &m->steal0);
	m->t0_ns = ib_now_ns();
}

/* --- units -------------------------------------------------------------- */

static void fmt_ns(char *out, size_t outsz, double ns)
{
	if (ns < 1000)
		snprintf(out, outsz, "%.0f ns", ns);
	else if (ns < 1e6)
		snprintf(out, outsz, "%.*f us",
			 ns < 1e4   ? 2
			 : ns < 1e5 ? 1
				    : 0,
			 ns / 1e3);
	else
		snprintf(out, outsz, "%.2f ms", ns / 1e6);
}

static void fmt_rate(char *out, size_t outsz, double r)
{
	if (r >= 1e6)
		snprintf(out, outsz, "%.2fM", r / 1e6);
	else if (r >= 1e3)
		snprintf(out, outsz, "%.1fK", r / 1e3);
	else
		snprintf(out, outsz, "%.0f", r);
}

static void fmt_bw(char *out, size_t outsz, double b)
{
	if (b >= (double)(1u << 30))
		snprintf(out, outsz, "%.2f GiB/s", b / (1u << 30));
	else if (b >= (double)(1u << 20))
		snprintf(out, outsz, "%.1f MiB/s", b / (1u << 20));
	else
		snprintf(out, outsz, "%.1f KiB/s", b / 1024);
}

/* --- the summary: one row per mechanism, the article's columns ---------- */

struct summary {
	const struct ib_mech *mech;
	const struct ib_result *lat;  /* smallest size measured */
	const struct ib_result *best; /* highest bytes/s */
};

static size_t summarize(const struct ib_result *r, size_t nr, struct summary *s)
{
	size_t ns = 0;

	for (size_t i = 0; i < nr; i++) {
		size_t k;

		for (k = 0; k < ns && s[k].mech != r[i].mech; k++)
			;
		if (k == ns) {
			s[ns].mech = r[i].mech;
			s[ns].lat = s[ns].best = NULL;
			ns++;
		}
		if (!r[i].supported)
			continue;
		if (!s[k].lat || r[i].size < s[k].lat->size)
			s[k].lat = &r[i];
		if (!s[k].best || r[i].bytes_per_s > s[k].best->bytes_per_s)
			s[k].best = &r[i];
	}
	return ns;
}

static void print_machine(const struct ib_machine *m, const char *command)
{
	printf("machine: %s, %ld CPUs, %s\n", m->cpu, m->cores, m->kernel);
	printf("pinned:  %s; files in %s (%s)\n", m->pinned, m->file_dir,
	       m->file_fs);
	printf("meanwhile: other processes kept %.2f CPUs busy, the "
	       "hypervisor stole %.2f\n",
	       m->other_cpus, m->steal_cpus);
	printf("command: %s\n\n", command);
}

static void print_details(const struct ib_result *r, size_t nr)
{
	char sz[32], a[32], b[32], c[32], d[32], e[32];

	printf("%-16s %6s %10s %10s %10s %9s %11s  %s\n", "mechanism", "size",
	       "lat med", "lat p99", "lat min", "msgs/s", "bytes/s", "notes");
	for (size_t i = 0; i < nr; i++) {
		ib_fmt_size(sz, sizeof(sz), r[i].size);
		if (!r[i].supported) {
			printf("%-16s %6s %s\n", r[i].mech->name, sz,
			       "unsupported:");
			printf("%-16s %6s   %s\n", "", "", r[i].reason);
			continue;
		}
		fmt_ns(a, sizeof(a), r[i].lat_median);
		fmt_ns(b, sizeof(b), r[i].lat_p99);
		fmt_ns(c, sizeof(c), r[i].lat_min);
		fmt_rate(d, sizeof(d), r[i].msgs_per_s);
		fmt_bw(e, sizeof(e), r[i].bytes_per_s);
		printf("%-16s %6s %10s %10s %10s %9s %11s  %s\n",
		       r[i].mech->name, sz, a, b, c, d, e, r[i].note);
	}
}

static void print_summary(const struct ib_result *r, size_t nr)
{
	struct summary s[16];
	size_t ns = summarize(r, nr, s);
	char a[32], b[32], sz1[32], sz2[32];

	printf("\n%-16s %-16s %-22s %-36s %-26s %s\n", "mechanism", "latency",
	       "throughput (best)", "buffering", "copies/message",
	       "flow control");
	for (size_t i = 0; i < ns; i++) {
		if (!s[i].lat) {
			printf("%-16s %s\n", s[i].mech->name, "unsupported");
			continue;
		}
		fmt_ns(a, sizeof(a), s[i].lat->lat_median);
		ib_fmt_size(sz1, sizeof(sz1), s[i].lat->size);
		strcat(a, " @");
		strcat(a, sz1);
		fmt_bw(b, sizeof(b), s[i].best->bytes_per_s);
		ib_fmt_size(sz2, sizeof(sz2), s[i].best->size);
		strcat(b, " @");
		strcat(b, sz2);
		printf("%-16s %-16s %-22s %-36s %-26s %s\n", s[i].mech->name, a,
		       b, s[i].mech->buffering, s[i].mech->copies,
		       s[i].mech->flow);
	}
	printf("\nlatency: median one-way (round trip / 2) at the smallest "
	       "size; throughput:\nmedian of the repetitions at the size "
	       "where it is highest; every message\nverified (sequence and "
	       "checksum).\n");
}

static void print_table(const struct ib_machine *m, const char *command,
			const struct ib_result *r, size_t nr)
{
	print_machine(m, command);
	print_details(r, nr);
	print_summary(r, nr);
}

/* --- JSON and CSV -------------------------------------------------------- */

static void json_machine(struct json *j, const struct ib_machine *m)
{
	json_key(j, "machine");
	json_begin_obj(j);
	json_kv_str(j, "cpu", m->cpu);
	json_kv_int(j, "cpus", m->cores);
	json_kv_str(j, "kernel", m->kernel);
	json_kv_str(j, "pinned", m->pinned);
	json_kv_str(j, "file_dir", m->file_dir);
	json_kv_str(j, "file_fs", m->file_fs);
	json_kv_double(j, "other_cpus", m->other_cpus);
	json_kv_double(j, "steal_cpus", m->steal_cpus);
	json_end_obj(j);
}

static void json_result(struct json *j, const struct ib_result *r)
{
	json_begin_obj(j);
	json_kv_str(j, "mechanism", r->mech->name);
	json_kv_uint(j, "size", r->size);
	json_kv_bool(j, "supported", r->supported);
	if (!r->supported) {
		json_kv_str(j, "reason", r->reason);
		json_end_obj(j);
		return;
	}
	json_kv_uint(j, "unit", r->unit);
	json_kv_bool(j, "fragmented", r->unit < r->size);
	json_kv_str(j, "note", r->note);
	json_key(j, "latency_ns");
	json_begin_obj(j);
	json_kv_double(j, "median", r->lat_median);
	json_kv_double(j, "p99", r->lat_p99);
	json_kv_double(j, "min", r->lat_min);
	json_kv_uint(j, "samples", r->lat_samples);
	json_end_obj(j);
	json_key(j, "throughput");
	json_begin_obj(j);
	json_kv_double(j, "msgs_per_s", r->msgs_per_s);
	json_kv_double(j, "bytes_per_s", r->bytes_per_s);
	json_kv_uint(j, "count", r->tput_count);
	json_kv_int(j, "reps", r->tput_reps);
	json_end_obj(j);
	json_kv_uint(j, "verified", r->verified);
	json_kv_int(j, "rounds", r->rounds);
	json_end_obj(j);
}

static void print_json(const struct ib_machine *m, const char *command,
		       const struct ib_result *r, size_t nr)
{
	struct summary s[16];
	size_t ns = summarize(r, nr, s);
	struct json j;

	json_init(&j, stdout, true);
	json_begin_obj(&j);
	json_kv_str(&j, "program", "ipcbench");
	json_kv_str(&j, "version", SHMSCOPE_VERSION);
	json_kv_str(&j, "command", command);
	json_machine(&j, m);
	json_key(&j, "results");
	json_begin_arr(&j);
	for (size_t i = 0; i < nr; i++)
		json_result(&j, &r[i]);
	json_end_arr(&j);
	json_key(&j, "summary");
	json_begin_arr(&j);
	for (size_t i = 0; i < ns; i++) {
		json_begin_obj(&j);
		json_kv_str(&j, "mechanism", s[i].mech->name);
		if (s[i].lat) {
			json_kv_double(&j, "latency_ns", s[i].lat->lat_median);
			json_kv_uint(&j, "latency_size", s[i].lat->size);
			json_kv_double(&j, "best_bytes_per_s",
				       s[i].best->bytes_per_s);
			json_kv_uint(&j, "best_size", s[i].best->size);
		}
		json_kv_str(&j, "buffering", s[i].mech->buffering);
		json_kv_str(&j, "copies", s[i].mech->copies);
		json_kv_str(&j, "flow_control", s[i].mech->flow);
		json_end_obj(&j);
	}
	json_end_arr(&j);
	json_end_obj(&j);
	json_newline(&j);
}

static void csv_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

static void print_csv(const struct ib_result *r, size_t nr)
{
	printf("mechanism,size,supported,lat_median_ns,lat_p99_ns,lat_min_ns,"
	       "lat_samples,msgs_per_s,bytes_per_s,count,reps,verified,rounds,"
	       "unit,note\n");
	for (size_t i = 0; i < nr; i++) {
		printf("%s,%zu,%d,", r[i].mech->name, r[i].size,
		       r[i].supported);
		if (!r[i].supported) {
			printf(",,,,,,,,,,,");
			csv_str(r[i].reason);
			putchar('\n');
			continue;
		}
		printf("%.0f,%.0f,%.0f,%llu,%.1f,%.1f,%llu,%d,%llu,%d,%zu,",
		       r[i].lat_median, r[i].lat_p99, r[i].lat_min,
		       (unsigned long long)r[i].lat_samples, r[i].msgs_per_s,
		       r[i].bytes_per_s, (unsigned long long)r[i].tput_count,
		       r[i].tput_reps, (unsigned long long)r[i].verified,
		       r[i].rounds, r[i].unit);
		csv_str(r[i].note);
		putchar('\n');
	}
}

void ib_print(enum ib_format fmt, const struct ib_machine *m,
	      const char *command, const struct ib_result *r, size_t nr)
{
	switch (fmt) {
	case IB_OUT_TABLE:
		print_table(m, command, r, nr);
		break;
	case IB_OUT_JSON:
		print_json(m, command, r, nr);
		break;
	case IB_OUT_CSV:
		print_csv(r, nr);
		break;
	}
	fflush(stdout);
}
