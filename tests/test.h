/*
 * test.h - a tiny harness for shmscope's C tests.
 *
 *   static void test_something(void) { CHECK(x == 1); CHECK_INT(a, b); }
 *   int main(void) { RUN(test_something); return test_done(); }
 *
 * Each test prints "PASS: file: name" or "FAIL: file: name: why"; tests/run
 * counts those lines.  A failed CHECK returns from the test function, and
 * the cleanups registered with test_defer_kill()/test_defer_unlink() run
 * after every test whatever happened, and at exit or on a fatal signal, so a
 * failing test leaves no process or segment behind.
 *
 * Waiting is done with WAIT_FOR(cond, ms): poll the condition until it holds
 * or the deadline passes.  Never sleep and hope.
 */
#ifndef SHMSCOPE_TEST_H
#define SHMSCOPE_TEST_H

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TEST_MAX_DEFER 64

static int test_npass, test_nfail, test_cur_failed;
static const char *test_cur_name = "";
static pid_t test_kill_list[TEST_MAX_DEFER];
static int test_nkill;
static char test_unlink_list[TEST_MAX_DEFER][256];
static int test_nunlink;

static inline void test_cleanup(void)
{
	for (int i = 0; i < test_nkill; i++) {
		if (test_kill_list[i] > 0) {
			kill(test_kill_list[i], SIGKILL);
			waitpid(test_kill_list[i], NULL, 0);
		}
	}
	test_nkill = 0;
	for (int i = 0; i < test_nunlink; i++)
		shm_unlink(test_unlink_list[i]);
	test_nunlink = 0;
}

/* Kill (SIGKILL) and reap PID after the current test. */
static inline void test_defer_kill(pid_t pid)
{
	if (test_nkill < TEST_MAX_DEFER)
		test_kill_list[test_nkill++] = pid;
}

/* shm_unlink NAME after the current test. */
static inline void test_defer_unlink(const char *name)
{
	if (test_nunlink < TEST_MAX_DEFER)
		snprintf(test_unlink_list[test_nunlink++], 256, "%s", name);
}

static inline void test_on_signal(int sig)
{
	test_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

static inline void test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline void test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	printf("FAIL: %s: %s: %s:%d: ", file, test_cur_name, file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	test_cur_failed = 1;
}

static inline uint64_t test_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static inline void test_pause_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

#define CHECK(cond)                                                 \
	do {                                                        \
		if (!(cond)) {                                      \
			test_fail(__FILE__, __LINE__, "%s", #cond); \
			return;                                     \
		}                                                   \
	} while (0)

#define CHECK_INT(a, b)                                                      \
	do {                                                                 \
		long long a_ = (long long)(a), b_ = (long long)(b);          \
		if (a_ != b_) {                                              \
			test_fail(__FILE__, __LINE__,                        \
				  "%s == %s: %lld != %lld", #a, #b, a_, b_); \
			return;                                              \
		}                                                            \
	} while (0)

#define CHECK_STR(a, b)                                                    \
	do {                                                               \
		const char *a_ = (a), *b_ = (b);                           \
		if (!a_ || !b_ || strcmp(a_, b_) != 0) {                   \
			test_fail(__FILE__, __LINE__,                      \
				  "%s == %s: \"%s\" != \"%s\"", #a, #b,    \
				  a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
			return;                                            \
		}                                                          \
	} while (0)

/* Poll COND every millisecond until it holds; fail the test after MS. */
#define WAIT_FOR(cond, ms)                                                     \
	do {                                                                   \
		uint64_t dl_ = test_now_ms() + (ms);                           \
		while (!(cond)) {                                              \
			if (test_now_ms() > dl_) {                             \
				test_fail(__FILE__, __LINE__,                  \
					  "timed out after %d ms waiting for " \
					  "%s",                                \
					  (int)(ms), #cond);                   \
				return;                                        \
			}                                                      \
			test_pause_ms(1);                                      \
		}                                                              \
	} while (0)

#define RUN(fn) test_run(#fn, fn)

static inline void test_run(const char *name, void (*fn)(void))
{
	static int installed;
	if (!installed) {
		installed = 1;
		atexit(test_cleanup);
		signal(SIGINT, test_on_signal);
		signal(SIGTERM, test_on_signal);
		signal(SIGSEGV, test_on_signal);
		signal(SIGABRT, test_on_signal);
		signal(SIGBUS, test_on_signal);
	}
	test_cur_name = name;
	test_cur_failed = 0;
	fn();
	test_cleanup();
	if (test_cur_failed) {
		test_nfail++;
	} else {
		test_npass++;
		printf("PASS: %s: %s\n", __BASE_FILE__, name);
	}
	fflush(stdout);
}

/* Print this binary's summary; the exit status for main(). */
static inline int test_done(void)
{
	printf("%s: %d passed, %d failed\n", __BASE_FILE__, test_npass,
	       test_nfail);
	return test_nfail ? 1 : 0;
}

#endif
