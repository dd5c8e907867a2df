# testprogs/bugs/campaign.mk: shmfuzz against the planted-bug suite.
#   make fuzz-bugs    the bounded CI campaign (testprogs/bugs/campaign.sh):
#                     every bug found within its budget, every fixed twin
#                     passes 300 runs; outputs in build/campaign.
#                     FUZZ_BUGS_FLAGS: more options for campaign.sh,
#                     e.g. "-i KIND" (docs/ci.md)
#   make bench-fuzz   runs to first failure, replay rate and twin failures
#                     per bug and strategy (fuzz/bench-bugs.sh; K, T, R, M
#                     from the environment, docs/bench-fuzz.md)
ifndef CAMPAIGN_MK_INCLUDED
CAMPAIGN_MK_INCLUDED := 1

.PHONY: fuzz-bugs bench-fuzz
fuzz-bugs: $(BIN)/shmfuzz $(BIN)/shmtrace $(BUG_BINS) $(LIBS)
	BUILD=$(BUILD) BIN=$(BIN) testprogs/bugs/campaign.sh -o $(BUILD)/campaign $(FUZZ_BUGS_FLAGS)

bench-fuzz: $(BIN)/shmfuzz $(BIN)/shmtrace $(BUG_BINS) $(LIBS)
	BUILD=$(BUILD) BIN=$(BIN) fuzz/bench-bugs.sh

endif
