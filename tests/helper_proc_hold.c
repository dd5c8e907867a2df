/*
 * helper_proc_hold - create a segment, map it, and hold it until killed.
 *
 *   helper_proc_hold posix NAME SIZE      shm_open + mmap (read-write)
 *   helper_proc_hold sysv KEY SIZE        shmget + shmat
 *   helper_proc_hold sysv-rmid KEY SIZE   ... then IPC_RMID while attached
 *
 * Prints "ready ID" (the shmid, or 0 for POSIX) once mapped, then waits for
 * a signal.  The test that spawns it removes the segment.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	size_t size;
	int id = 0;

	if (argc != 4) {
		fprintf(stderr, "usage: helper_proc_hold posix|sysv|sysv-rmid "
				"NAME|KEY SIZE\n");
		return 2;
	}
	size = strtoul(argv[3], NULL, 0);
	if (!strcmp(argv[1], "posix")) {
		int fd = shm_open(argv[2], O_CREAT | O_RDWR, 0640);

		if (fd < 0 || ftruncate(fd, (off_t)size) < 0 ||
		    mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			 0) == MAP_FAILED) {
			perror("helper_proc_hold: posix");
			return 1;
		}
	} else {
		key_t key = (key_t)strtoul(argv[2], NULL, 0);

		id = shmget(key, size, IPC_CREAT | 0640);
		if (id < 0 || shmat(id, NULL, 0) == (void *)-1) {
			perror("helper_proc_hold: sysv");
			return 1;
		}
		if (!strcmp(argv[1], "sysv-rmid"))
			shmctl(id, IPC_RMID, NULL);
	}
	printf("ready %d\n", id);
	fflush(stdout);
	for (;;)
		pause();
}
