/*
 * dwarf_prog.c - a program whose debug info `shmscope layout --from-dwarf`
 * turns into a layout file (tests/test_layout_dwarf.sh).  Run, it prints
 * "path offset size" for its fields, as the compiler laid them out.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum state { IDLE, RUNNING = 3, DONE };

typedef struct {
	uint64_t seq;
	uint32_t len;
	char text[20];
} message_t;

struct __attribute__((packed)) wire {
	uint8_t kind;
	uint32_t value;
	uint16_t crc;
};

struct shared_state {
	uint32_t magic;
	pthread_mutex_t lock;
	sem_t items;
	pthread_cond_t cond;
	pthread_rwlock_t rw;
	pthread_spinlock_t spin;
	pthread_barrier_t barrier;
	enum state state;
	unsigned flags : 3;
	unsigned level : 7;
	int delta : 5;
	bool ready;
	pid_t owner;
	union {
		int64_t i;
		double d;
	};
	struct {
		char a;
		long b;
	} inner;
	struct wire w;
	char pad;
	message_t slots[4];
	int grid[2][3];
	void *ptr;
	const char *name;
	int (*cb)(int);
};

struct shared_state the_state;

#define SHOW(f)                                 \
	printf("shared_state.%s %zu %zu\n", #f, \
	       offsetof(struct shared_state, f), sizeof(the_state.f))

int main(void)
{
	SHOW(magic);
	SHOW(lock);
	SHOW(items);
	SHOW(cond);
	SHOW(rw);
	SHOW(spin);
	SHOW(barrier);
	SHOW(state);
	SHOW(ready);
	SHOW(owner);
	SHOW(i);
	SHOW(d);
	SHOW(inner);
	SHOW(inner.b);
	SHOW(w);
	SHOW(w.value);
	SHOW(w.crc);
	SHOW(pad);
	SHOW(slots);
	SHOW(slots[0].text);
	SHOW(grid);
	SHOW(ptr);
	SHOW(name);
	SHOW(cb);
	printf("shared_state %zu\n", sizeof(struct shared_state));
	return 0;
}
