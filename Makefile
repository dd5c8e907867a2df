# shmscope — one non-recursive GNU Makefile.
#
# Each part of the tree describes itself in a fragment, <dir>/*.mk, included
# below; a fragment adds its programs to BINS/LIBS and its tests to TESTS so
# that this file never has to know about them.  Sources under lib/ are picked
# up by wildcard into libshmscope.a.
#
#   make [all]          build everything into build/
#   make check          build and run every test (ends with "N passed, N failed");
#                       T=word runs only the tests whose names contain it
#   make demo           run the ring and look at it
#   make deps           install missing Debian packages
#   make bench          run the benchmarks and print their figures
#   make format | lint | clean | install [PREFIX=/usr/local DESTDIR=]
#   V=1 (verbose)  WERROR=1 (warnings are errors)  SAN=address,undefined

.DEFAULT_GOAL := all
SHELL := /bin/bash

VERSION := 0.1.0
PREFIX ?= /usr/local
DESTDIR ?=

CC ?= cc
ifeq ($(origin CC),default)
CC := gcc
endif

comma := ,
ifeq ($(SAN),)
BUILD := build
else
# A sanitized build lives in its own folder so objects never mix.
BUILD := build/san-$(subst $(comma),-,$(SAN))
endif
BIN := $(BUILD)/bin
LIBDIR := $(BUILD)/lib
OBJ := $(BUILD)/obj

WARN := -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes \
	-Wmissing-prototypes -Wwrite-strings -Wundef -Wvla
ifeq ($(WERROR),1)
WARN += -Werror
endif

OPT ?= -O2
CFLAGS ?= -g $(OPT)
ALL_CFLAGS := -std=gnu11 $(WARN) $(CFLAGS) -D_GNU_SOURCE \
	-DSHMSCOPE_VERSION='"$(VERSION)"' -Ilib -MMD -MP
ALL_LDFLAGS := $(LDFLAGS)
ifneq ($(SAN),)
ALL_CFLAGS += -fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=all
ALL_LDFLAGS += -fsanitize=$(SAN)
endif

ifeq ($(V),1)
Q :=
quiet = @:
else
Q := @
quiet = @printf '  %-7s %s\n'
endif

# Filled in by the fragments.  DEPS_PKGS: Debian packages `make deps` ensures.
DEPS_PKGS := libncurses-dev libunwind-dev valgrind libdw-dev tmux pkg-config \
	clang libclang-rt-14-dev cppcheck clang-tidy clang-format python3
BINS :=
LIBS :=
TESTS :=
TEST_SCRIPTS :=
TESTS_BUILT :=
INSTALL_BINS :=
INSTALL_LIBS :=
BENCHES :=
CLEAN :=

# --- libshmscope.a: everything in lib/ ------------------------------------
LIB_SRCS := $(sort $(wildcard lib/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(OBJ)/%.o)
LIBSHMSCOPE := $(BUILD)/libshmscope.a
# Libraries libshmscope.a needs; fragments may add to it.
LIB_LDLIBS := -lpthread -lrt -lm

$(LIBSHMSCOPE): $(LIB_OBJS)
	$(quiet) AR $@
	$(Q)mkdir -p $(@D) && rm -f $@ && $(AR) rcs $@ $^

$(OBJ)/%.o: %.c
	$(quiet) CC $<
	$(Q)mkdir -p $(@D) && $(CC) $(ALL_CFLAGS) $(CFLAGS_$(dir $<)) -c $< -o $@

# $(eval $(call shm_program,NAME,SOURCES,EXTRA_LDLIBS)): build/bin/NAME from
# SOURCES linked with libshmscope.a.
define shm_program
$(BIN)/$(1): $(patsubst %.c,$(OBJ)/%.o,$(2)) $(LIBSHMSCOPE)
	$$(quiet) LD $$@
	$$(Q)mkdir -p $$(@D) && $$(CC) $$(ALL_CFLAGS) -o $$@ $$(filter %.o,$$^) \
		$$(LIBSHMSCOPE) $$(ALL_LDFLAGS) $(3) $$(LIB_LDLIBS)
BINS += $(BIN)/$(1)
endef

include $(sort $(wildcard */*.mk */*/*.mk))

all: $(BINS) $(LIBS) $(TESTS)

# --- dependencies ----------------------------------------------------------
deps:
	$(Q)./mk/deps.sh $(DEPS_PKGS)

# --- tests -------------------------------------------------------------------
# tests/run runs every test executable and script, checks that nothing was
# left in /dev/shm, in SysV IPC or in the process table, and prints the
# "N passed, N failed" line.
check: deps all
	$(Q)BUILD=$(BUILD) BIN=$(BIN) LIBDIR=$(LIBDIR) SAN=$(SAN) \
		TESTS="$(TESTS)" TEST_SCRIPTS="$(TEST_SCRIPTS)" \
		./tests/run $(T)

demo: deps all
	$(Q)BUILD=$(BUILD) BIN=$(BIN) LIBDIR=$(LIBDIR) ./mk/demo.sh

bench: all $(BENCHES)
	$(Q)BUILD=$(BUILD) BIN=$(BIN) LIBDIR=$(LIBDIR) BENCHES="$(BENCHES)" \
		./mk/bench.sh

# --- housekeeping -----------------------------------------------------------
FORMAT_SRCS = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	$(Q)clang-format -i $(FORMAT_SRCS)

lint: all
	$(Q)./mk/lint.sh

install: all
	$(Q)install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib \
		$(DESTDIR)$(PREFIX)/share/man/man1
	$(Q)for b in $(INSTALL_BINS); do install -m 755 $$b $(DESTDIR)$(PREFIX)/bin/; done
	$(Q)for l in $(INSTALL_LIBS); do install -m 755 $$l $(DESTDIR)$(PREFIX)/lib/; done
	$(Q)for m in $(wildcard docs/*.1); do install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man1/; done

clean:
	$(Q)rm -rf build $(CLEAN)

.PHONY: all check demo deps bench format lint install clean

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
