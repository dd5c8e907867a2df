# tests/proc.mk: the /proc plumbing's benchmark (tests/helper_proc_bench.c is
# built by tests.mk like every helper).
BENCHES += $(BUILD)/tests/helper_proc_bench
