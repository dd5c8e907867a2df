/*
 * ipcbench_msg.c - what every mechanism shares: the message format and its
 * verification, the clock, waits that notice a dead peer, and the cleanup
 * of named objects on every exit path.
 */
#include "ipcbench.h"

#include <errno.h>
#include <mqueue.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define IB_K 0x9e3779b97f4a7c15ull

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

static uint32_t fold(uint64_t sum, uint64_t seq, size_t n)
{
	uint64_t h = mix64(sum ^ mix64(seq + ((uint64_t)n << 40)));

	return (uint32_t)(h ^ (h >> 32));
}

/*
 * The payload is word i = base + (i + 1) * K with base derived from the
 * sequence number, so a stale slot, a torn message or a shifted stream all
 * change the sum.  Filling and summing are one pass each, at memory speed,
 * and cost every mechanism the same.
 */
void ib_msg_fill(void *buf, size_t n, uint64_t seq)
{
	uint64_t *w = (uint64_t *)((char *)buf + 8);
	size_t nw = (n - 8) / 8, tail = (n - 8) % 8;
	uint64_t base = mix64(seq), sum = 0, v = base;
	uint32_t hdr[2];

	for (size_t i = 0; i < nw; i++) {
		v += IB_K;
		w[i] = v;
		sum += v;
	}
	for (size_t j = 0; j < tail; j++) {
		unsigned char c = (unsigned char)(base >> (8 * j)) ^ (j + 1);

		((unsigned char *)(w + nw))[j] = c;
		sum += c;
	}
	hdr[0] = (uint32_t)seq;
	hdr[1] = fold(sum, seq, n);
	memcpy(buf, hdr, sizeof(hdr));
}

int ib_msg_verify(const void *buf, size_t n, uint64_t seq, struct errbuf *e)
{
	const uint64_t *w = (const uint64_t *)((const char *)buf + 8);
	size_t nw = (n - 8) / 8, tail = (n - 8) % 8;
	uint64_t s0 = 0, s1 = 0;
	uint32_t hdr[2];
	size_t i;

	memcpy(hdr, buf, sizeof(hdr));
	if (hdr[0] != (uint32_t)seq) {
		err_set(e, "message %llu: sequence %u, expected %u",
			(unsigned long long)seq, hdr[0], (uint32_t)seq);
		return -EBADMSG;
	}
	for (i = 0; i + 1 < nw; i += 2) {
		s0 += w[i];
		s1 += w[i + 1];
	}
	if (i < nw)
		s0 += w[i];
	for (size_t j = 0; j < tail; j++)
		s0 += ((const unsigned char *)(w + nw))[j];
	if (hdr[1] != fold(s0 + s1, seq, n)) {
		err_set(e, "message %llu (%zu bytes): checksum mismatch",
			(unsigned long long)seq, n);
		return -EBADMSG;
	}
	return 0;
}

uint64_t ib_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* --- the other process ------------------------------------------------- */

static volatile sig_atomic_t child_exited;
static pid_t watched_parent;

static void on_sigchld(int sig)
{
	(void)sig;
	child_exited = 1;
}

void ib_peer_watch_child(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigchld;
	/* no SA_RESTART: a blocked wait returns EINTR and looks again */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	child_exited = 0;
	watched_parent = 0;
}

void ib_peer_watch_parent(pid_t parent)
{
	signal(SIGCHLD, SIG_DFL);
	child_exited = 0;
	watched_parent = parent;
}

bool ib_peer_gone(void)
{
	if (watched_parent)
		return getppid() != watched_parent;
	return child_exited;
}

void ib_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

void ib_backoff(unsigned *i)
{
	if (*i < 200) {
		ib_cpu_relax();
	} else {
		sched_yield();
	}
	(*i)++;
}

/* --- cleanup ----------------------------------------------------------- */

#define IB_NCLEAN 16

enum clean_kind { CLEAN_NONE, CLEAN_SHM, CLEAN_MQ, CLEAN_FILE, CLEAN_SYSV };

static struct {
	enum clean_kind kind;
	pid_t owner;
	int shmid;
	char name[4096];
} cleanups[IB_NCLEAN];

static void clean_add(enum clean_kind kind, const char *name, int shmid)
{
	for (int i = 0; i < IB_NCLEAN; i++) {
		if (cleanups[i].kind != CLEAN_NONE)
			continue;
		snprintf(cleanups[i].name, sizeof(cleanups[i].name), "%s",
			 name ? name : "");
		cleanups[i].shmid = shmid;
		cleanups[i].owner = getpid();
		cleanups[i].kind = kind;
		return;
	}
}

void ib_cleanup_shm(const char *name)
{
	clean_add(CLEAN_SHM, name, -1);
}

void ib_cleanup_mq(const char *name)
{
	clean_add(CLEAN_MQ, name, -1);
}

void ib_cleanup_file(const char *path)
{
	clean_add(CLEAN_FILE, path, -1);
}

void ib_cleanup_sysv(int shmid)
{
	clean_add(CLEAN_SYSV, NULL, shmid);
}

void ib_cleanup_forget(const char *name)
{
	for (int i = 0; i < IB_NCLEAN; i++)
		if (cleanups[i].kind != CLEAN_NONE &&
		    cleanups[i].kind != CLEAN_SYSV &&
		    !strcmp(cleanups[i].name, name))
			cleanups[i].kind = CLEAN_NONE;
}

void ib_cleanup_forget_sysv(int shmid)
{
	for (int i = 0; i < IB_NCLEAN; i++)
		if (cleanups[i].kind == CLEAN_SYSV &&
		    cleanups[i].shmid == shmid)
			cleanups[i].kind = CLEAN_NONE;
}

void ib_cleanup_run(void)
{
	pid_t self = getpid();

	for (int i = 0; i < IB_NCLEAN; i++) {
		if (cleanups[i].kind == CLEAN_NONE || cleanups[i].owner != self)
			continue;
		switch (cleanups[i].kind) {
		case CLEAN_SHM:
			shm_unlink(cleanups[i].name);
			break;
		case CLEAN_MQ:
			mq_unlink(cleanups[i].name);
			break;
		case CLEAN_FILE:
			unlink(cleanups[i].name);
			break;
		case CLEAN_SYSV:
			shmctl(cleanups[i].shmid, IPC_RMID, NULL);
			break;
		case CLEAN_NONE:
			break;
		}
		cleanups[i].kind = CLEAN_NONE;
	}
}

static volatile pid_t child_pid;

void ib_cleanup_child(pid_t pid)
{
	child_pid = pid;
}

static void on_fatal(int sig)
{
	pid_t c = child_pid;

	/* take the child along, so that no orphan outlives us */
	if (c > 0) {
		kill(c, SIGKILL);
		waitpid(c, NULL, 0);
	}
	ib_cleanup_run();
	signal(sig, SIG_DFL);
	raise(sig);
}

void ib_cleanup_install(void)
{
	static const int sigs[] = {SIGINT,  SIGTERM, SIGHUP, SIGQUIT,
				   SIGSEGV, SIGBUS,  SIGABRT};
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	atexit(ib_cleanup_run);
}

/* --- sizes ------------------------------------------------------------- */

void ib_fmt_size(char *out, size_t outsz, size_t n)
{
	if (n >= (1u << 20) && n % (1u << 20) == 0)
		snprintf(out, outsz, "%zuM", n >> 20);
	else if (n >= (1u << 20))
		snprintf(out, outsz, "%.1fM", (double)n / (1 << 20));
	else if (n >= 1024 && n % 1024 == 0)
		snprintf(out, outsz, "%zuK", n >> 10);
	else
		snprintf(out, outsz, "%zu", n);
}

int ib_parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (*end == 'K' || *end == 'k') {
		v <<= 10;
		end++;
	} else if (*end == 'M' || *end == 'm') {
		v <<= 20;
		end++;
	}
	if (!strcmp(end, "iB") || !strcmp(end, "B"))
		end += strlen(end);
	if (*end || v > IB_MAX_SIZE)
		return -EINVAL;
	*out = v;
	return 0;
}
