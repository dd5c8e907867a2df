# bench/sync.mk: bench-sync times the sync decoders (docs/bench-sync.md).
$(eval $(call shm_program,bench-sync,bench/bench_sync.c))
BENCHES += $(BIN)/bench-sync

# bench-snapshot: one inspector snapshot of 10,000 sync objects mapped by 50
# processes (issue 4's figure).
$(eval $(call shm_program,bench-snapshot,bench/bench_snapshot.c))
BENCHES += $(BIN)/bench-snapshot
