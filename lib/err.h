/*
 * err.h - how library code reports failure.
 *
 * Library functions never print and never exit: they return -errno (or NULL)
 * and, when the caller passed a struct errbuf, leave a message there that
 * names the input and the reason.  Programs print it as
 * "shmscope: <message>".
 */
#ifndef SHMSCOPE_ERR_H
#define SHMSCOPE_ERR_H

#include <stddef.h>

struct errbuf {
	char msg[1024];
};

/* Fill E (which may be NULL) with a printf-style message. */
void err_set(struct errbuf *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Like err_set(), followed by ": strerror(errnum)". */
void err_setn(struct errbuf *e, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
