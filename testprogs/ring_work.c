/*
 * ring_work.c - what the producer and consumer processes do.
 *
 * The textbook protocol: a producer waits for an empty slot, takes the
 * lock, writes at write_idx, releases, and posts a filled slot; a consumer
 * mirrors it.  Every slot access happens with the lock held and right after
 * ring_sync(), which is what lets the ring grow under everyone's feet.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ring.h"

volatile sig_atomic_t ring_stop;

static uint32_t fnv(uint32_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 16777619u;
	}
	return h;
}

uint32_t ring_checksum(const struct ring_msg *m)
{
	uint32_t h = 2166136261u;

	h = fnv(h, &m->seq, sizeof(m->seq));
	h = fnv(h, &m->producer, sizeof(m->producer));
	h = fnv(h, &m->len, sizeof(m->len));
	return fnv(h, m->text, m->len);
}

void ring_fill(struct ring_msg *m, uint32_t size, uint32_t p, uint64_t seq)
{
	char head[48];
	int n = snprintf(head, sizeof(head), "p%" PRIu32 " #%" PRIu64 " ", p,
			 seq);

	memset(m, 0, ring_slot_size(size));
	m->seq = seq;
	m->producer = p;
	/* Vary the length a little so `len` means something. */
	m->len = size - (uint32_t)(seq % (size < 8 ? size : 8));
	for (uint32_t i = 0; i < m->len; i++)
		m->text[i] =
			(int)i < n ? head[i] : (char)('a' + (seq + i) % 26);
	m->checksum = ring_checksum(m);
}

int ring_check_seq(struct ring_ctl *ctl, const struct ring_opts *o,
		   const struct ring_msg *m, char *why, size_t n)
{
	uint64_t want;

	if (m->producer >= o->producers) {
		snprintf(why, n, "message from producer %" PRIu32 " of %u",
			 m->producer, o->producers);
		return 1;
	}
	want = ctl->next_seq[m->producer];
	if (m->seq == want) {
		ctl->next_seq[m->producer] = want + 1;
		return 0;
	}
	/* After a gap, expect what follows what came; after a step back,
	 * keep expecting what we did, so one fault is reported once. */
	if (m->seq > want)
		ctl->next_seq[m->producer] = m->seq + 1;
	snprintf(why, n,
		 "producer %" PRIu32 ": got message %" PRIu64
		 ", expected %" PRIu64 " (%s)",
		 m->producer, m->seq, want,
		 m->seq > want ? "messages lost" : "duplicated or reordered");
	return 1;
}

int ring_check_sum(const struct ring_opts *o, const struct ring_msg *m,
		   char *why, size_t n)
{
	if (m->len > o->size) {
		snprintf(why, n,
			 "producer %" PRIu32 " message %" PRIu64
			 ": length %" PRIu32 " > %" PRIu32,
			 m->producer, m->seq, m->len, o->size);
		return 1;
	}
	if (ring_checksum(m) != m->checksum) {
		snprintf(why, n,
			 "producer %" PRIu32 " message %" PRIu64
			 ": bad checksum %08" PRIx32 ", computed %08" PRIx32,
			 m->producer, m->seq, m->checksum, ring_checksum(m));
		return 1;
	}
	return 0;
}

void ring_report(struct ring_ctl *ctl, const char *who, const char *why)
{
	int no = 0;

	atomic_fetch_add(&ctl->errors, 1);
	if (atomic_compare_exchange_strong(&ctl->first_error_taken, &no, 1))
		snprintf(ctl->first_error, sizeof(ctl->first_error), "%s: %s",
			 who, why);
}

static void child_fail(const char *who, const struct errbuf *e)
{
	fprintf(stderr, "ring: %s: %s\n", who, e->msg);
}

/* Take the lock and catch up with the ring's size.  0 or -errno. */
static int lock_ring(struct ring *r, struct errbuf *e)
{
	int rc = pthread_mutex_lock(&r->shm->lock);

	if (rc == EOWNERDEAD) {
		/* The ring may be half-updated: nothing sensible to do but
		 * stop, and the parent stops everyone. */
		err_set(e, "the lock's owner died holding it");
		return -rc;
	}
	if (rc) {
		err_setn(e, rc, "pthread_mutex_lock");
		return -rc;
	}
	r->counts.lock++;
	rc = ring_sync(r, e);
	if (rc) {
		pthread_mutex_unlock(&r->shm->lock);
		r->counts.unlock++;
	}
	return rc;
}

static void unlock_ring(struct ring *r)
{
	pthread_mutex_unlock(&r->shm->lock);
	r->counts.unlock++;
}

/* sem_wait, retried when a signal interrupts it unless we must stop.
 * 0 when it got the semaphore, 1 when told to stop, -errno on error. */
static int wait_sem(struct ring *r, sem_t *s, uint64_t *count, struct errbuf *e)
{
	while (sem_wait(s) < 0) {
		if (errno != EINTR) {
			int err = errno;

			err_setn(e, err, "sem_wait");
			return -err;
		}
		r->counts.intr++;
		if (ring_stop)
			return 1;
	}
	(*count)++;
	return 0;
}

static int post_sem(sem_t *s, uint64_t *count, struct errbuf *e)
{
	if (sem_post(s) < 0) {
		int err = errno;

		err_setn(e, err, "sem_post");
		return -err;
	}
	(*count)++;
	return 0;
}

/* Sleep until the next tick of a producer's rate; 1 when told to stop. */
static int pace(struct timespec *next, long long period_ns)
{
	next->tv_sec += (time_t)(period_ns / 1000000000);
	next->tv_nsec += (long)(period_ns % 1000000000);
	if (next->tv_nsec >= 1000000000) {
		next->tv_sec++;
		next->tv_nsec -= 1000000000;
	}
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, next, NULL) ==
	       EINTR)
		if (ring_stop)
			return 1;
	return ring_stop;
}

/* --stop-after: stay alive, touching nothing, until told to stop. */
static void wait_for_stop(void)
{
	sigset_t set, old;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, &old);
	while (!ring_stop)
		sigsuspend(&old);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* Write one message.  0, 1 when told to stop, -errno with E filled. */
static int produce(struct ring *r, struct ring_ctl *ctl,
		   const struct ring_opts *o, const struct ring_msg *m,
		   struct errbuf *e)
{
	struct ring_shm *s = r->shm;
	int rc;

	rc = wait_sem(r, &s->empty_slots, &r->counts.empty_wait, e);
	if (rc)
		return rc;
	rc = lock_ring(r, e);
	if (rc)
		return rc;
	memcpy(ring_slot(r, s->write_idx), m, s->slot_size);
	s->write_idx++;
	ctl->written++;
	if (o->grow_every && ctl->written % o->grow_every == 0) {
		uint32_t cap = s->capacity;

		rc = ring_grow(r, e);
		if (!rc && s->capacity != cap)
			ctl->grows++;
	}
	unlock_ring(r);
	if (rc)
		return rc;
	return post_sem(&s->filled_slots, &r->counts.filled_post, e);
}

int ring_producer(struct ring *r, struct ring_ctl *ctl,
		  const struct ring_opts *o, unsigned id)
{
	long long period = o->rate > 0 ? (long long)(1e9 / o->rate) : 0;
	struct ring_msg *m = malloc(ring_slot_size(o->size));
	struct timespec next;
	struct errbuf e;
	char who[32];
	int rc = 0;

	snprintf(who, sizeof(who), "producer %u", id);
	if (!m) {
		fprintf(stderr, "ring: %s: out of memory\n", who);
		return 3;
	}
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (uint64_t seq = 0; o->hold || seq < o->messages; seq++) {
		if (ring_stop || (seq && period && pace(&next, period)))
			break;
		ring_fill(m, o->size, id, seq);
		rc = produce(r, ctl, o, m, &e);
		if (rc)
			break;
		ctl->sent[id] = seq + 1;
		atomic_fetch_add(&ctl->produced, 1);
	}
	free(m);
	if (rc < 0) {
		child_fail(who, &e);
		return 3;
	}
	if (o->stop_after)
		wait_for_stop();
	return 0;
}

/* Take one message.  0, 1 when told to stop, -errno with E filled. */
static int consume(struct ring *r, struct ring_ctl *ctl,
		   const struct ring_opts *o, struct ring_msg *m,
		   const char *who, struct errbuf *e)
{
	struct ring_shm *s = r->shm;
	char why[200];
	int rc, bad;

	rc = wait_sem(r, &s->filled_slots, &r->counts.filled_wait, e);
	if (rc)
		return rc;
	rc = lock_ring(r, e);
	if (rc)
		return rc;
	memcpy(m, ring_slot(r, s->read_idx), s->slot_size);
	bad = ring_check_seq(ctl, o, m, why, sizeof(why));
	s->read_idx++;
	unlock_ring(r);
	if (bad)
		ring_report(ctl, who, why);
	rc = post_sem(&s->empty_slots, &r->counts.empty_post, e);
	if (rc)
		return rc;
	if (!bad && ring_check_sum(o, m, why, sizeof(why)))
		ring_report(ctl, who, why);
	return 0;
}

int ring_consumer(struct ring *r, struct ring_ctl *ctl,
		  const struct ring_opts *o, unsigned id)
{
	uint64_t limit = UINT64_MAX;
	struct ring_msg *m = malloc(ring_slot_size(o->size));
	struct errbuf e;
	char who[32];
	int rc = 0;

	snprintf(who, sizeof(who), "consumer %u", id);
	if (!m) {
		fprintf(stderr, "ring: %s: out of memory\n", who);
		return 3;
	}
	if (o->stop_after)
		limit = o->stop_after;
	else if (!o->hold)
		limit = (uint64_t)o->producers * o->messages;
	/* A ticket stands for one message that will come: a consumer that
	 * gets none knows it is done without waiting on the semaphore. */
	while (!ring_stop && atomic_fetch_add(&ctl->claimed, 1) < limit) {
		rc = consume(r, ctl, o, m, who, &e);
		if (rc)
			break;
		atomic_fetch_add(&ctl->consumed, 1);
	}
	free(m);
	if (rc < 0) {
		child_fail(who, &e);
		return 3;
	}
	if (o->stop_after)
		wait_for_stop();
	return 0;
}
