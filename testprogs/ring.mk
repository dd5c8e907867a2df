# testprogs/ring: the classic producer/consumer ring (build/bin/ring).
RING_SRCS := testprogs/ring.c testprogs/ring_seg.c testprogs/ring_work.c
$(eval $(call shm_program,ring,$(RING_SRCS),))
