# fuzz/: the shmfuzz program (build/bin/shmfuzz) and its benchmark.
FUZZ_SRCS := $(sort $(wildcard fuzz/*.c))
$(eval $(call shm_program,shmfuzz,$(FUZZ_SRCS),))
INSTALL_BINS += $(BIN)/shmfuzz
BENCHES += fuzz/bench-fuzz.sh
