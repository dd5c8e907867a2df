/*
 * bug-shrink-sigbus - a reader scans the data pages of a log kept in a
 * shared segment; a trimmer periodically shrinks the segment to its header
 * page with ftruncate (dropping the data pages) and grows it back, when
 * nobody is reading.
 *
 * The bug: the trimmer tests "readers == 0" without the lock that readers
 * register under, then calls ftruncate.  A reader that registers between the
 * test and the regrow reads pages beyond the end of the file: SIGBUS, and
 * the reader dies of it.
 * Window: the trimmer between its unlocked test and the second ftruncate
 * (across both ftruncate calls).
 * The clock (bugkit_clock): the reader plans scan n in the n-th 1 ms slot,
 * the trimmer trim n in the n-th 4 ms slot, from one start time, at
 * offsets drawn from the program's seed; one held up catches up, never
 * skips.  So where the reader is when the trimmer is held up in its window
 * does not drift with sleeps' overruns, and a failing seed fails again on
 * replay (until session 4 they slept random pauses: 75 of 100 replays).
 * Fixed twin: the trimmer tests and truncates while holding the lock, so
 * no reader can register in between.
 */
#include "bugkit.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define MAGIC	  0x53485249u /* "SHRI" */
#define HDR_SIZE  4096
#define DATA_SIZE (4 * 4096)
#define TRIM_NS	  4000000ull /* the trimmer plans a trim in each */
#define READ_NS	  1000000ull /* the reader plans a scan in each */
#define GAP_NS	  100000ull  /* a late process's steps: this far apart */
#define START_NS  2000000ull /* the first slots start this long after */

struct log_hdr {
	uint32_t magic;
	uint32_t readers; /* under lock */
	pthread_mutex_t lock;
	uint64_t trims;
	uint64_t scans;
	uint64_t data_size; /* bytes of data after the header page */
};

static void on_hang(struct bugkit *k)
{
	struct log_hdr *h = k->map;

	bugkit_say(k, "readers=%u trims=%llu scans=%llu", h->readers,
		   (unsigned long long)h->trims, (unsigned long long)h->scans);
}

/* When both clocks start: set before the fork. */
static uint64_t start_ns;

static const struct bugkit *sigbus_kit;

static void on_sigbus(int sig)
{
	static const char msg[] = ": DAMAGE: reader: SIGBUS reading the log: "
				  "the segment was shrunk under a registered "
				  "reader\n";

	if (sigbus_kit) {
		const char *name = sigbus_kit->prog->name;

		if (write(2, name, strlen(name)) < 0 ||
		    write(2, msg, sizeof(msg) - 1) < 0)
			(void)0;
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static int trimmer(struct bugkit *k, long unused)
{
	struct log_hdr *h = k->map;
	struct bugkit_clock c;

	(void)unused;
	bugkit_clock_init(&c, start_ns, TRIM_NS, GAP_NS, 1);
	for (unsigned long i = 0; i < k->m / 5 + 1;
	     i++, bugkit_clock_done(&c)) {
		bool locked = false;

		bugkit_clock_wait(k, &c, i);
		if (k->fixed) {
			pthread_mutex_lock(&h->lock);
			locked = true;
		}
		/* BUG (unlocked): a reader may register right after this. */
		if (__atomic_load_n(&h->readers, __ATOMIC_ACQUIRE) != 0) {
			if (locked)
				pthread_mutex_unlock(&h->lock);
			continue;
		}
		if (k->force)
			bugkit_sleep_us(300);
		if (ftruncate(k->fd, HDR_SIZE) < 0)
			bugkit_fail(k, errno, "ftruncate (shrink)");
		h->trims++;
		if (k->force && !locked) /* stay shrunk until a reader comes */
			bugkit_wait_nonzero(&h->readers, 1000);
		if (k->force)
			bugkit_sleep_us(1000);
		if (ftruncate(k->fd, HDR_SIZE + DATA_SIZE) < 0)
			bugkit_fail(k, errno, "ftruncate (grow)");
		if (locked)
			pthread_mutex_unlock(&h->lock);
	}
	return BUGKIT_OK;
}

static int reader(struct bugkit *k, long unused)
{
	struct log_hdr *h = k->map;
	const volatile uint8_t *data = (const uint8_t *)k->map + HDR_SIZE;
	struct bugkit_clock c;

	(void)unused;
	sigbus_kit = k;
	signal(SIGBUS, on_sigbus);
	bugkit_clock_init(&c, start_ns, READ_NS, GAP_NS, 2);
	for (unsigned long i = 0; i < k->m; i++, bugkit_clock_done(&c)) {
		unsigned sum = 0;

		bugkit_clock_wait(k, &c, i);
		pthread_mutex_lock(&h->lock);
		h->readers++;
		pthread_mutex_unlock(&h->lock);
		for (size_t off = 0; off < DATA_SIZE; off += 4096)
			sum += data[off];
		h->scans++;
		pthread_mutex_lock(&h->lock);
		h->readers--;
		pthread_mutex_unlock(&h->lock);
		(void)sum;
	}
	return BUGKIT_OK;
}

static const struct bugkit_prog prog = {
	.name = "bug-shrink-sigbus",
	.summary = "The trimmer shrinks the segment with ftruncate after an "
		   "unlocked \"no readers\" test: SIGBUS.",
	.force_help = "the trimmer waits 300 us after its test and keeps the "
		      "segment shrunk until a reader has come, then 1 ms",
	.default_m = 20,
	.on_hang = on_hang,
};

int main(int argc, char **argv)
{
	struct bugkit k;
	struct log_hdr *h;
	int st;

	bugkit_init(&k, &prog, argc, argv);
	h = bugkit_create(&k, HDR_SIZE + DATA_SIZE);
	bugkit_mutex_init(&k, &h->lock, PTHREAD_MUTEX_NORMAL, false);
	h->data_size = DATA_SIZE;
	h->magic = MAGIC;
	start_ns = bugkit_now_ns() + START_NS;
	bugkit_spawn(&k, "reader", reader, 0);
	bugkit_spawn(&k, "trimmer", trimmer, 0);
	st = bugkit_wait(&k);
	if (st == BUGKIT_OK)
		bugkit_ok(&k,
			  "%llu scans of %d data pages, %llu trims, no read "
			  "beyond the end of the segment",
			  (unsigned long long)h->scans, DATA_SIZE / 4096,
			  (unsigned long long)h->trims);
	bugkit_exit(&k, st);
}
