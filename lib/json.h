/*
 * json.h - a small streaming JSON writer.
 *
 * Every JSON shmscope prints (ls --json, layout --json, --once --json,
 * shmtrace report --json, shmfuzz --json) goes through this, so escaping
 * and separators are right in one place.  Nesting is tracked up to
 * JSON_MAX_DEPTH levels; deeper output is a caller bug and is clamped.
 *
 *   struct json j;
 *   json_init(&j, stdout, 0);
 *   json_begin_obj(&j);
 *   json_kv_str(&j, "name", "/demo_ring");
 *   json_key(&j, "fields"); json_begin_arr(&j); ... json_end_arr(&j);
 *   json_end_obj(&j);
 *   json_newline(&j);
 */
#ifndef SHMSCOPE_JSON_H
#define SHMSCOPE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 64

struct json {
	FILE *f;
	int depth;
	bool pretty;
	bool after_key;
	bool has_items[JSON_MAX_DEPTH];
};

/* Write to F; PRETTY indents with two spaces, else one line. */
void json_init(struct json *j, FILE *f, bool pretty);

void json_begin_obj(struct json *j);
void json_end_obj(struct json *j);
void json_begin_arr(struct json *j);
void json_end_arr(struct json *j);

/* The key of the next value inside an object. */
void json_key(struct json *j, const char *key);

/* Values.  json_strn writes at most N bytes of S (stops at NUL); bytes that
 * are not valid UTF-8 are written as \u00XX so the output always parses. */
void json_str(struct json *j, const char *s);
void json_strn(struct json *j, const char *s, size_t n);
void json_int(struct json *j, long long v);
void json_uint(struct json *j, unsigned long long v);
void json_double(struct json *j, double v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);

/* key + value in one call. */
void json_kv_str(struct json *j, const char *key, const char *s);
void json_kv_int(struct json *j, const char *key, long long v);
void json_kv_uint(struct json *j, const char *key, unsigned long long v);
void json_kv_double(struct json *j, const char *key, double v);
void json_kv_bool(struct json *j, const char *key, bool v);
void json_kv_null(struct json *j, const char *key);

/* End a top-level value with a newline (for one-object-per-line output). */
void json_newline(struct json *j);

#endif
