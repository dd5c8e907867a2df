/*
 * bug-owner-dead-hang - bug-owner-dead with a non-robust mutex: a producer
 * killed inside its critical section leaves the lock held by a dead process
 * and the next locker waits forever (a hang).  The fixed twin uses a
 * robust mutex and handles EOWNERDEAD.  See owner-dead.c.
 */
#define OWNER_DEAD_NONROBUST 1
#include "owner-dead.c"
