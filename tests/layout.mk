# tests/layout.mk: the layout language's fuzzer, benchmark and needs.

# i386 layouts are checked against gcc -m32 (tests/test_layout_gcc.c).
DEPS_PKGS += gcc-multilib

# --- libFuzzer harness over the parser, evaluator and value tree ------------
#   make fuzz-layout        build $(BUILD)/fuzz-layout (clang)
#   make fuzz-layout-run    run it for FUZZ_LAYOUT_RUNS executions from the
#                           seed corpus; fails on any crash, leak or timeout
FUZZ_LAYOUT := $(BUILD)/fuzz-layout
FUZZ_LAYOUT_SRCS := tests/fuzz_layout.c lib/layout.c lib/layout_lex.c \
	lib/layout_parse.c lib/expr.c lib/value.c lib/abi.c lib/err.c lib/json.c
FUZZ_LAYOUT_RUNS ?= 200000
FUZZ_CC ?= clang

$(FUZZ_LAYOUT): $(FUZZ_LAYOUT_SRCS) $(wildcard lib/*.h)
	$(quiet) FUZZ $@
	$(Q)mkdir -p $(@D) && $(FUZZ_CC) -std=gnu11 -g -O1 \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-D_GNU_SOURCE -DSHMSCOPE_VERSION='"$(VERSION)"' -Ilib \
		$(FUZZ_LAYOUT_SRCS) -o $@

fuzz-layout: $(FUZZ_LAYOUT)

fuzz-layout-run: $(FUZZ_LAYOUT)
	$(Q)rm -rf $(BUILD)/fuzz-layout-corpus && mkdir -p $(BUILD)/fuzz-layout-corpus
	$(Q)mkdir -p $(BUILD)/fuzz-layout-seeds && \
		cp tests/layout/*.layout tests/layout/corpus.h $(BUILD)/fuzz-layout-seeds/
	$(Q)$(FUZZ_LAYOUT) -runs=$(FUZZ_LAYOUT_RUNS) -seed=1 -max_len=4096 \
		-timeout=10 -rss_limit_mb=2048 -dict=tests/layout/fuzz.dict \
		-artifact_prefix=$(BUILD)/fuzz-layout- \
		$(BUILD)/fuzz-layout-corpus $(BUILD)/fuzz-layout-seeds

.PHONY: fuzz-layout fuzz-layout-run

# --- benchmark: parse a 10,000-line layout, decode a 1 MiB segment ----------
$(eval $(call shm_program,bench-layout,tests/bench_layout.c,))
BENCHES += $(BIN)/bench-layout
