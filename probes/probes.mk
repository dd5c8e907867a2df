# probes/: libshmprobe.so (the LD_PRELOAD probe) and shmtrace.
#
# The probe is built with its own rule: position-independent, hidden by
# default (the version script exports only the hooks), and never with
# sanitizers, even in SAN builds: an ASan-instrumented library preloaded
# into a program fails ("ASan runtime does not come first"), and the probe
# has to run inside uninstrumented targets too.  Tests that preload it into
# sanitized programs set ASAN_OPTIONS=verify_asan_link_order=0.
PROBE_SRCS := probes/probe_core.c probes/probe_hooks.c probes/probe_noise.c \
	probes/probe_pct.c lib/pct.c lib/trace.c lib/err.c
PROBE_OBJS := $(PROBE_SRCS:%.c=$(OBJ)/pic/%.o)
PROBE_CFLAGS := $(filter-out -fsanitize=% -fno-sanitize-recover=%,$(ALL_CFLAGS)) \
	-fPIC -fvisibility=hidden -ftls-model=initial-exec
PROBE_SO := $(LIBDIR)/libshmprobe.so

$(OBJ)/pic/%.o: %.c
	$(quiet) CC $< [pic]
	$(Q)mkdir -p $(@D) && $(CC) $(PROBE_CFLAGS) -c $< -o $@

$(PROBE_SO): $(PROBE_OBJS) probes/libshmprobe.map
	$(quiet) LD $@
	$(Q)mkdir -p $(@D) && $(CC) -shared -o $@ $(PROBE_OBJS) $(LDFLAGS) \
		-Wl,--version-script=probes/libshmprobe.map -Wl,-z,now \
		-lunwind -ldl -lpthread

LIBS += $(PROBE_SO)
INSTALL_LIBS += $(PROBE_SO)

# shmtrace: record, report, export.
SHMTRACE_SRCS := probes/shmtrace.c probes/report.c probes/export.c \
	probes/ahead.c \
	probes/symbolize.c probes/story.c
$(eval $(call shm_program,shmtrace,$(SHMTRACE_SRCS),-ldw -lelf))
INSTALL_BINS += $(BIN)/shmtrace
# shmtrace record finds the probe in ../lib: build it along.
$(BIN)/shmtrace: | $(PROBE_SO)

# The benchmark: workloads, the minimal shim (the floor), the driver.
$(eval $(call shm_program,bench_locks,probes/bench_locks.c,))
SHIM_SO := $(LIBDIR)/libshmshim.so
$(SHIM_SO): $(OBJ)/pic/probes/bench_shim.o
	$(quiet) LD $@
	$(Q)mkdir -p $(@D) && $(CC) -shared -o $@ $< $(LDFLAGS) -ldl
LIBS += $(SHIM_SO)
BENCHES += probes/bench_probe.sh
