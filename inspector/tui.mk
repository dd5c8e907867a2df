# inspector/tui.mk: the live view's objects, for the test helper that runs
# the real TUI over hand-built snapshots (and the benchmark that uses it).
TUI_SRCS := inspector/crt.c inspector/tui.c \
	$(sort $(wildcard inspector/panel_*.c))
TUI_OBJS := $(TUI_SRCS:%.c=$(OBJ)/%.o)
LDLIBS_helper_tui_snap := $(TUI_OBJS) $(LIBSHMSCOPE) -lncursesw -ltinfo
$(BUILD)/tests/helper_tui_snap: $(TUI_OBJS)
BENCHES += inspector/bench-tui.sh
