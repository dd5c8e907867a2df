# inspector/: the shmscope program.
INSPECTOR_SRCS := $(sort $(wildcard inspector/*.c))
INSPECTOR_LDLIBS := -lncursesw -ltinfo -ldw -lelf
$(eval $(call shm_program,shmscope,$(INSPECTOR_SRCS),$(INSPECTOR_LDLIBS)))
INSTALL_BINS += $(BIN)/shmscope
BENCHES += inspector/bench-once.sh
