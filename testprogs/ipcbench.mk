# testprogs/ipcbench.mk: ipcbench, the IPC latency/throughput benchmark.
IPCBENCH_SRCS := $(sort $(wildcard testprogs/ipcbench*.c))
$(eval $(call shm_program,ipcbench,$(IPCBENCH_SRCS),))
INSTALL_BINS += $(BIN)/ipcbench
# make bench: every mechanism at five sizes, two rounds: about two minutes.
BENCHES += testprogs/ipcbench_bench.sh
