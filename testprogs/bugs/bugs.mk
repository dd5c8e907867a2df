# testprogs/bugs/: the planted-bug suite (docs/bugs.md).  One program per
# bug, build/bin/bug-NAME from testprogs/bugs/NAME.c and the shared
# bugkit.c; `bug-NAME --fixed` runs its fixed twin.  They are test
# programs: built into build/bin, not installed.
ifndef BUGS_MK_INCLUDED
BUGS_MK_INCLUDED := 1

BUGS := $(sort $(patsubst testprogs/bugs/%.c,%,\
	$(filter-out %/bugkit.c %/noise.c,$(wildcard testprogs/bugs/*.c))))
BUG_BINS := $(addprefix $(BIN)/bug-,$(BUGS))

$(foreach b,$(BUGS),$(eval $(call shm_program,bug-$(b),testprogs/bugs/$(b).c testprogs/bugs/bugkit.c,)))

# bugnoise.so: a crude stand-in for shmfuzz's noise strategy (noise.c).
$(LIBDIR)/bugnoise.so: testprogs/bugs/noise.c
	$(quiet) CC $@
	$(Q)mkdir -p $(@D) && $(CC) $(ALL_CFLAGS) -fPIC -shared -o $@ $< -ldl
LIBS += $(LIBDIR)/bugnoise.so

# make bench: the plain hit rate of every bug (the fuzzer's baseline).
BENCHES += testprogs/bugs/hitrate.sh

endif
