/*
 * crt.c - curses setup, keys, colors and terminal restoration.
 */
#include "crt.h"

#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <ncursesw/term.h>

#include "err.h"

attr_t crt_attr[CRT_COLOR_COUNT];
bool crt_utf8;

static volatile sig_atomic_t crt_active;
static struct termios crt_saved_tio;
static bool crt_have_tio;
static bool crt_atexit_done;
/*
 * What endwin() would write, computed while curses may still be called:
 * a signal handler may only write() and tcsetattr(), so it replays these.
 */
static char crt_restore_seq[256];
static size_t crt_restore_len;

static const int crt_fatal_signals[] = {
	SIGSEGV, SIGBUS, SIGABRT, SIGFPE,  SIGILL,
	SIGTERM, SIGINT, SIGHUP,  SIGQUIT,
};

static void crt_add_cap(const char *cap)
{
	char *s = tigetstr(cap);
	size_t n;

	if (!s || s == (char *)-1)
		return;
	n = strlen(s);
	if (crt_restore_len + n >= sizeof(crt_restore_seq))
		return;
	memcpy(crt_restore_seq + crt_restore_len, s, n);
	crt_restore_len += n;
}

/* Async-signal-safe: only write() and tcsetattr(). */
static void crt_restore_raw(void)
{
	ssize_t unused;

	if (crt_restore_len)
		unused = write(STDOUT_FILENO, crt_restore_seq, crt_restore_len);
	(void)unused;
	if (crt_have_tio)
		tcsetattr(STDIN_FILENO, TCSANOW, &crt_saved_tio);
}

static void crt_on_fatal(int sig)
{
	if (crt_active) {
		crt_active = 0;
		crt_restore_raw();
	}
	/* SA_RESETHAND put the default action back: die of the same cause. */
	raise(sig);
}

static void crt_set_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = crt_on_fatal;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(crt_fatal_signals) / sizeof(int); i++)
		sigaction(crt_fatal_signals[i], &sa, NULL);
}

static void crt_reset_signals(void)
{
	for (size_t i = 0; i < sizeof(crt_fatal_signals) / sizeof(int); i++)
		signal(crt_fatal_signals[i], SIG_DFL);
}

static void crt_set_colors(bool color)
{
	static const struct {
		short fg, bg;
		attr_t extra, mono;
	} roles[CRT_COLOR_COUNT] = {
		[CRT_NORMAL] = {-1, -1, 0, 0},
		[CRT_TITLE] = {COLOR_BLACK, COLOR_CYAN, 0, A_REVERSE},
		[CRT_PANEL] = {COLOR_BLACK, COLOR_GREEN, 0, A_REVERSE},
		[CRT_PANEL_FOCUS] = {COLOR_BLACK, COLOR_CYAN, A_BOLD,
				     A_REVERSE | A_BOLD},
		[CRT_CURSOR] = {COLOR_BLACK, COLOR_CYAN, 0, A_REVERSE},
		[CRT_CHANGED] = {COLOR_BLACK, COLOR_YELLOW, A_BOLD,
				 A_BOLD | A_UNDERLINE},
		[CRT_ALERT] = {COLOR_WHITE, COLOR_RED, A_BOLD,
			       A_BOLD | A_UNDERLINE},
		[CRT_WARN] = {COLOR_YELLOW, -1, A_BOLD, A_BOLD},
		[CRT_OK] = {COLOR_GREEN, -1, 0, 0},
		[CRT_BUSY] = {COLOR_YELLOW, -1, 0, A_BOLD},
		[CRT_DIM] = {COLOR_CYAN, -1, 0, A_DIM},
		[CRT_GAUGE] = {COLOR_GREEN, -1, A_BOLD, A_BOLD},
		[CRT_KEY] = {COLOR_WHITE, -1, A_BOLD, A_BOLD},
		[CRT_KEY_LABEL] = {COLOR_BLACK, COLOR_CYAN, 0, A_REVERSE},
		[CRT_TAB_ACTIVE] = {COLOR_WHITE, COLOR_BLUE, A_BOLD,
				    A_BOLD | A_UNDERLINE},
	};

	if (color && has_colors()) {
		start_color();
		use_default_colors();
	} else {
		color = false;
	}
	for (int i = 0; i < CRT_COLOR_COUNT; i++) {
		if (!color) {
			crt_attr[i] = roles[i].mono;
			continue;
		}
		if (i == CRT_NORMAL) {
			crt_attr[i] = A_NORMAL;
			continue;
		}
		init_pair((short)i, roles[i].fg, roles[i].bg);
		crt_attr[i] = COLOR_PAIR(i) | roles[i].extra;
	}
}

int crt_init(bool color, struct errbuf *e)
{
	const char *cs;

	setlocale(LC_ALL, "");
	cs = nl_langinfo(CODESET);
	crt_utf8 = cs && (!strcmp(cs, "UTF-8") || !strcmp(cs, "utf8"));
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		err_set(e, "the live view needs a terminal (try --once)");
		return -1;
	}
	crt_have_tio = tcgetattr(STDIN_FILENO, &crt_saved_tio) == 0;
	if (!newterm(NULL, stdout, stdin)) {
		err_set(e, "cannot set up the terminal (TERM=%s)",
			getenv("TERM") ? getenv("TERM") : "");
		return -1;
	}
	crt_restore_len = 0;
	crt_add_cap("sgr0");
	crt_add_cap("cnorm");
	crt_add_cap("rmkx");
	crt_add_cap("rmcup");
	set_escdelay(25);
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	crt_set_colors(color);
	crt_active = 1;
	crt_set_signals();
	if (!crt_atexit_done) {
		crt_atexit_done = true;
		atexit(crt_done);
	}
	return 0;
}

void crt_done(void)
{
	if (!crt_active)
		return;
	crt_active = 0;
	curs_set(1);
	endwin();
	crt_reset_signals();
}

int64_t crt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int crt_read_key(int64_t timeout_ns)
{
	struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
	struct timespec ts;
	int c = getch();

	if (c != ERR || timeout_ns <= 0)
		return c;
	ts.tv_sec = timeout_ns / 1000000000;
	ts.tv_nsec = timeout_ns % 1000000000;
	/* A resize interrupts the wait (EINTR) and getch() reports it. */
	if (ppoll(&p, 1, &ts, NULL) > 0 &&
	    (p.revents & (POLLHUP | POLLERR | POLLNVAL)) &&
	    !(p.revents & POLLIN))
		return KEY_EXIT; /* the terminal went away */
	return getch();
}
