# bench/sync.mk: bench-sync times the sync decoders (docs/bench-sync.md).
$(eval $(call shm_program,bench-sync,bench/bench_sync.c))
BENCHES += $(BIN)/bench-sync
