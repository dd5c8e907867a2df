/*
 * bug-aba-freelist - two producers take message nodes from a lock-free free
 * list (a stack of node indices), fill them and queue them to a consumer
 * (lock-free rings too), which checks each message and pushes the node back
 * on the free list.  No lock, no semaphore: nothing but atomics.
 *
 * The bug: the free list's head is a bare index.  A producer reads
 * head = A and A.next = B, and is preempted before its compare-and-swap;
 * meanwhile the other producer takes A and B, the consumer frees A, and the
 * head is A again, so the stale compare-and-swap succeeds and installs B,
 * which is in use: B is handed out twice (ABA).  The next owner of B finds
 * it still owned, or the consumer finds its payload overwritten.
 * Window: between the load of head's next and the compare-and-swap.  In it
 * the producer checks the candidate node's guard word under the node's
 * spin lock (the consumer rewrites the guard, under that lock, when it
 * recycles the node): a few hundred nanoseconds, which a plain run rarely
 * stretches far enough for three processes to line up in it.
 * Fixed twin: the head carries a generation tag bumped by every change.
 */
#include "bugkit.h"

#include <sched.h>
#include <stdlib.h>

#define MAGIC	0x41424146u /* "ABAF" */
#define NNODES	4
#define NIL	0xffffffffu
#define FILL_NS 200	    /* filling a message */
#define GUARD	0x46524545u /* "FREE": a node's guard word */

struct node {
	uint32_t next;	/* free list link */
	int32_t owner;	/* pid of the producer holding it, 0 when free */
	uint64_t value; /* producer << 32 | seq */
	pthread_spinlock_t lock; /* guards the guard word */
	uint32_t guard;		 /* GUARD, rewritten on every recycling */
};

/* A single-producer single-consumer ring of node indices. */
struct spsc {
	uint32_t head; /* consumer's */
	uint32_t tail; /* producer's */
	uint32_t slot[NNODES];
};

struct pool {
	uint32_t magic;
	uint32_t forced; /* --force: 1 window seen, 3 stale swap made */
	uint64_t head;	 /* low 32 bits: node index; high: tag (fixed twin) */
	struct node nodes[NNODES];
	struct spsc q[2]; /* one per producer, to the consumer */
	uint64_t pops;
	uint64_t pushes;
};

static void on_hang(struct bugkit *k)
{
	struct pool *p = k->map;

	bugkit_say(k, "head=%#llx pops=%llu pushes=%llu",
		   (unsigned long long)p->head, (unsigned long long)p->pops,
		   (unsigned long long)p->pushes);
}

static uint64_t make_head(const struct bugkit *k, uint64_t old, uint32_t idx)
{
	if (!k->fixed)
		return idx; /* BUG: no tag, so A..B..A goes unnoticed */
	return ((old >> 32) + 1) << 32 | idx;
}

/*
 * --force: hold the window open until the ABA interleaving has happened
 * (OLD's node back at the head with another successor, and NEXT in use),
 * then make the stale compare-and-swap; 2 ms at most, on the first five
 * pops of producer 0 until it has succeeded once.  True if it
 * succeeded (the node is ours); false to go the normal way.  In the fixed
 * twin the tag has changed, so the stale swap can never succeed.
 */
static bool force_window(const struct bugkit *k, struct pool *p, uint64_t old,
			 uint32_t next)
{
	uint64_t end = bugkit_now_ns() + 2000000;
	uint32_t idx = (uint32_t)old;

	if (next == NIL)
		return false;
	for (unsigned long n = 1;; n++) {
		uint64_t h = __atomic_load_n(&p->head, __ATOMIC_RELAXED);
		uint64_t stale = old;

		if ((n & 4095) == 0 && bugkit_now_ns() > end)
			break;
		/* Spin: the interleaving lasts a fraction of a microsecond. */
		if ((uint32_t)h != idx ||
		    !__atomic_load_n(&p->nodes[next].owner, __ATOMIC_RELAXED))
			continue;
		p->forced |= 1;
		if (__atomic_compare_exchange_n(
			    &p->head, &stale, make_head(k, old, next), false,
			    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			p->forced |= 2;
			return true;
		}
	}
	return false;
}

static bool guard_ok(struct node *n)
{
	bool ok;

	pthread_spin_lock(&n->lock);
	ok = n->guard == GUARD;
	pthread_spin_unlock(&n->lock);
	return ok;
}

static uint32_t pool_get(struct bugkit *k, struct pool *p, bool forced)
{
	for (;;) {
		uint64_t old = __atomic_load_n(&p->head, __ATOMIC_ACQUIRE);
		uint32_t idx = (uint32_t)old, next;

		if (idx == NIL) {
			sched_yield();
			continue;
		}
		next = __atomic_load_n(&p->nodes[idx].next, __ATOMIC_RELAXED);
		/* Check the node's guard word before claiming it. */
		if (!guard_ok(&p->nodes[idx])) {
			bugkit_damage(k, "node %u: guard word overwritten",
				      idx);
			exit(BUGKIT_DAMAGE);
		}
		if (k->force && forced && force_window(k, p, old, next)) {
			__atomic_add_fetch(&p->pops, 1, __ATOMIC_RELAXED);
			return idx;
		}
		if (__atomic_compare_exchange_n(
			    &p->head, &old, make_head(k, old, next), false,
			    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			__atomic_add_fetch(&p->pops, 1, __ATOMIC_RELAXED);
			return idx;
		}
	}
}

static void pool_put(struct bugkit *k, struct pool *p, uint32_t idx)
{
	uint64_t old;

	pthread_spin_lock(&p->nodes[idx].lock);
	p->nodes[idx].guard = GUARD;
	pthread_spin_unlock(&p->nodes[idx].lock);
	old = __atomic_load_n(&p->head, __ATOMIC_ACQUIRE);

	do {
		__atomic_store_n(&p->nodes[idx].next, (uint32_t)old,
				 __ATOMIC_RELAXED);
	} while (!__atomic_compare_exchange_n(
		&p->head, &old, make_head(k, old, idx), false, __ATOMIC_ACQ_REL,
		__ATOMIC_ACQUIRE));
	__atomic_add_fetch(&p->pushes, 1, __ATOMIC_RELAXED);
}

static int producer(struct bugkit *k, long id)
{
	struct pool *p = k->map;
	struct spsc *q = &p->q[id];
	int32_t me = (int32_t)getpid();

	for (uint64_t seq = 0; seq < k->m; seq++) {
		uint32_t idx =
			pool_get(k, p, id == 0 && seq < 5 && !(p->forced & 2));
		int32_t prev;

		prev = __atomic_exchange_n(&p->nodes[idx].owner, me,
					   __ATOMIC_ACQ_REL);
		if (prev != 0) {
			bugkit_damage(k,
				      "node %u handed out twice: pid %d holds "
				      "it already",
				      idx, prev);
			return BUGKIT_DAMAGE;
		}
		p->nodes[idx].value = (uint64_t)id << 32 | seq;
		bugkit_spin_ns(FILL_NS);
		/* Never full: at most NNODES nodes exist. */
		q->slot[q->tail % NNODES] = idx;
		__atomic_store_n(&q->tail, q->tail + 1, __ATOMIC_RELEASE);
	}
	return BUGKIT_OK;
}

static int consumer(struct bugkit *k, long unused)
{
	struct pool *p = k->map;
	uint64_t next[2] = {0, 0};

	(void)unused;
	for (unsigned long n = 0; n < 2 * k->m; n++) {
		struct spsc *q;
		uint32_t idx;
		uint64_t v;
		unsigned id;

		/* Poll both queues: the consumer keeps its CPU too. */
		for (unsigned i = 0;; i++) {
			q = &p->q[i % 2];
			if (__atomic_load_n(&q->tail, __ATOMIC_ACQUIRE) !=
			    q->head)
				break;
			if (i % 2)
				sched_yield();
		}
		idx = q->slot[q->head % NNODES];
		__atomic_store_n(&q->head, q->head + 1, __ATOMIC_RELEASE);
		v = p->nodes[idx].value;
		id = (unsigned)(v >> 32);
		if (id > 1 || (uint32_t)v != next[id]) {
			bugkit_damage(k,
				      "node %u: message %u#%u, expected the "
				      "next of producer %u: overwritten",
				      idx, id, (unsigned)(uint32_t)v, id);
			return BUGKIT_DAMAGE;
		}
		next[id]++;
		__atomic_store_n(&p->nodes[idx].owner, 0, __ATOMIC_RELEASE);
		pool_put(k, p, idx);
	}
	return BUGKIT_OK;
}

static const struct bugkit_prog prog = {
	.name = "bug-aba-freelist",
	.summary = "ABA on a lock-free free list whose head is an untagged "
		   "index: a node in use is handed out twice.",
	.force_help = "producer 0 holds its first pop's window open until "
		      "the ABA interleaving has happened",
	.default_m = 1000,
	.on_hang = on_hang,
};

int main(int argc, char **argv)
{
	struct bugkit k;
	struct pool *p;
	int st;

	bugkit_init(&k, &prog, argc, argv);
	p = bugkit_create(&k, sizeof(*p));
	for (uint32_t i = 0; i < NNODES; i++) {
		p->nodes[i].next = i + 1 < NNODES ? i + 1 : NIL;
		pthread_spin_init(&p->nodes[i].lock, PTHREAD_PROCESS_SHARED);
		p->nodes[i].guard = GUARD;
	}
	p->head = 0;
	p->magic = MAGIC;
	bugkit_spawn(&k, "consumer", consumer, 0);
	bugkit_spawn(&k, "producer0", producer, 0);
	bugkit_spawn(&k, "producer1", producer, 1);
	st = bugkit_wait(&k);
	if (st == BUGKIT_OK) {
		unsigned n = 0;

		for (uint32_t i = (uint32_t)p->head; i != NIL && n <= NNODES;
		     i = p->nodes[i].next)
			n++;
		if (n != NNODES) {
			bugkit_damage(&k, "free list holds %u nodes, want %d",
				      n, NNODES);
			st = BUGKIT_DAMAGE;
		}
	}
	if (st == BUGKIT_OK)
		bugkit_ok(&k,
			  "2 producers x %lu messages through %d nodes, none "
			  "handed out twice, free list whole",
			  k.m, NNODES);
	bugkit_exit(&k, st);
}
