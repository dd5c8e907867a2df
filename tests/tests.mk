# tests/: every tests/test_*.c is a test program run by `make check`; every
# tests/helper_*.c is a program tests drive (holding a lock, blocking on a
# semaphore, ...).  Both link libshmscope.a; a test that needs more libraries
# sets LDLIBS_<name> in its part's fragment.  tests/test_*.sh are run too.
TEST_C_SRCS := $(sort $(wildcard tests/test_*.c tests/helper_*.c))
TEST_DIR := $(BUILD)/tests

define shm_test
$(TEST_DIR)/$(1): $(OBJ)/tests/$(1).o $(LIBSHMSCOPE)
	$$(quiet) LD $$@
	$$(Q)mkdir -p $$(@D) && $$(CC) $$(ALL_CFLAGS) -o $$@ $$< \
		$$(LIBSHMSCOPE) $$(ALL_LDFLAGS) $$(LDLIBS_$(1)) $$(LIB_LDLIBS)
TESTS_BUILT += $(TEST_DIR)/$(1)
endef
$(foreach t,$(basename $(notdir $(TEST_C_SRCS))),$(eval $(call shm_test,$(t))))

TESTS += $(filter $(TEST_DIR)/test_%,$(TESTS_BUILT))
TEST_HELPERS := $(filter $(TEST_DIR)/helper_%,$(TESTS_BUILT))
TEST_SCRIPTS += $(sort $(wildcard tests/test_*.sh))
all: $(TEST_HELPERS)
