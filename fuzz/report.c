/*
 * report.c - the --json summary and the --junit file.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "json.h"

void fuzz_quote_argv(char **argv, char *buf, size_t n)
{
	size_t len = 0;

	buf[0] = 0;
	for (int i = 0; argv[i] && len + 1 < n; i++) {
		const char *a = argv[i];
		bool plain = *a != 0;

		for (const char *p = a; *p; p++)
			if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
				    "QRSTUVWXYZ0123456789-_./=:,+@%",
				    *p))
				plain = false;
		if (i)
			buf[len++] = ' ';
		if (plain) {
			len += (size_t)snprintf(buf + len, n - len, "%s", a);
		} else {
			buf[len++] = '\'';
			for (const char *p = a; *p && len + 5 < n; p++) {
				if (*p == '\'') {
					memcpy(buf + len, "'\\''", 4);
					len += 4;
				} else {
					buf[len++] = *p;
				}
			}
			if (len + 1 < n)
				buf[len++] = '\'';
		}
		if (len >= n)
			len = n - 1;
		buf[len] = 0;
	}
}

void fuzz_report_json(FILE *f, const struct fuzz_opts *o,
		      const struct fuzz_summary *s,
		      const struct fuzz_failures *fl)
{
	struct json j;
	char cmd[8192], path[4200];

	fuzz_quote_argv(o->argv, cmd, sizeof(cmd));
	json_init(&j, f, true);
	json_begin_obj(&j);
	json_kv_str(&j, "target", cmd);
	json_kv_str(&j, "strategy", fuzz_strategy_name(o->strategy));
	json_kv_uint(&j, "base_seed", s->base_seed);
	json_key(&j, "shard");
	json_begin_arr(&j);
	json_uint(&j, o->shard_i);
	json_uint(&j, o->shard_n);
	json_end_arr(&j);
	json_kv_uint(&j, "runs", s->runs);
	json_kv_uint(&j, "passed", s->passed);
	json_kv_uint(&j, "failed", fl->total);
	json_kv_double(&j, "seconds", s->secs);
	json_kv_double(&j, "runs_per_second",
		       s->secs > 0 ? (double)s->runs / s->secs : 0);
	json_kv_bool(&j, "interrupted", s->interrupted);
	json_kv_uint(&j, "cleaned", s->cleaned);
	json_key(&j, "failures");
	json_begin_arr(&j);
	for (int i = 0; i < fl->n; i++) {
		const struct fuzz_group *g = &fl->g[i];
		json_begin_obj(&j);
		json_kv_str(&j, "kind", fuzz_kind_name(g->kind));
		json_kv_str(&j, "signature", g->sig);
		json_kv_str(&j, "what", g->what);
		json_kv_uint(&j, "count", g->count);
		json_kv_uint(&j, "first_run", g->first_index);
		json_kv_uint(&j, "first_seed", g->first_seed);
		snprintf(path, sizeof(path), "%s/failure-%d", o->out_dir, g->n);
		if (g->n > 0)
			json_kv_str(&j, "folder", path);
		else
			json_kv_null(&j, "folder");
		json_end_obj(&j);
	}
	json_end_arr(&j);
	json_end_obj(&j);
	json_newline(&j);
}

/* XML text: the five entities escaped, control bytes and non-ASCII bytes
 * (which could be invalid UTF-8) replaced, so the file always parses. */
static void xml_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		switch (c) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&apos;", f);
			break;
		default:
			if ((c < 0x20 && c != '\n' && c != '\t') || c >= 0x7f)
				fputc('?', f);
			else
				fputc(c, f);
		}
	}
}

static void junit_case(FILE *f, const char *cls, const struct fuzz_opts *o,
		       const struct fuzz_group *g, char *cmd)
{
	char name[700];

	snprintf(name, sizeof(name), "%s: %s", fuzz_kind_name(g->kind), g->sig);
	fputs("    <testcase classname=\"", f);
	xml_text(f, cls);
	fputs("\" name=\"", f);
	xml_text(f, name);
	fputs("\">\n      <failure type=\"", f);
	xml_text(f, fuzz_kind_name(g->kind));
	fputs("\" message=\"", f);
	xml_text(f, g->what);
	fprintf(f,
		"\">%llu run(s) failed this way; first: run %llu, seed "
		"%llu\nfolder: %s/failure-%d\nreplay: shmfuzz --replay "
		"%llu --strategy %s -- ",
		(unsigned long long)g->count,
		(unsigned long long)g->first_index,
		(unsigned long long)g->first_seed, o->out_dir, g->n,
		(unsigned long long)g->first_seed,
		fuzz_strategy_name(o->strategy));
	xml_text(f, cmd);
	fputs("</failure>\n    </testcase>\n", f);
}

int fuzz_report_junit(const char *path, const struct fuzz_opts *o,
		      const struct fuzz_summary *s,
		      const struct fuzz_failures *fl, struct errbuf *e)
{
	FILE *f = fopen(path, "w");
	char cmd[8192], cls[300];
	const char *base = strrchr(o->argv[0], '/');

	if (!f) {
		err_setn(e, errno, "--junit %s", path);
		return -errno;
	}
	fuzz_quote_argv(o->argv, cmd, sizeof(cmd));
	snprintf(cls, sizeof(cls), "shmfuzz.%s", base ? base + 1 : o->argv[0]);
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(f,
		"<testsuites>\n  <testsuite name=\"shmfuzz\" tests=\"%d\" "
		"failures=\"%d\" errors=\"0\" time=\"%.3f\">\n",
		fl->n ? fl->n : 1, fl->n, s->secs);
	fprintf(f, "    <properties>\n      <property name=\"command\" "
		   "value=\"");
	xml_text(f, cmd);
	fprintf(f,
		"\"/>\n      <property name=\"base_seed\" value=\"%llu\"/>\n"
		"      <property name=\"shard\" value=\"%llu/%llu\"/>\n"
		"      <property name=\"runs\" value=\"%llu\"/>\n"
		"    </properties>\n",
		(unsigned long long)s->base_seed,
		(unsigned long long)o->shard_i, (unsigned long long)o->shard_n,
		(unsigned long long)s->runs);
	for (int i = 0; i < fl->n; i++)
		junit_case(f, cls, o, &fl->g[i], cmd);
	if (!fl->n) {
		fputs("    <testcase classname=\"", f);
		xml_text(f, cls);
		fprintf(f,
			"\" name=\"%llu runs, no failure\" time=\"%.3f\"/>\n",
			(unsigned long long)s->runs, s->secs);
	}
	fprintf(f, "  </testsuite>\n</testsuites>\n");
	if (fclose(f)) {
		err_setn(e, errno, "--junit %s", path);
		return -EIO;
	}
	return 0;
}
