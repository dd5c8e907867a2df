# tests/tmux.sh - drive shmscope's screen in a real terminal: tmux servers
# of their own (one socket per run), send-keys, capture-pane, and waits with
# deadlines.  Source it after tests/lib.sh.
SHMSCOPE=$(realpath "$BIN/shmscope")
SNAP=$(realpath "$BUILD/tests/helper_tui_snap")
TM_N=0
TM_SOCK="shmscope-tui-$$-0"
TM_ALL=""
tm() { tmux -L "$TM_SOCK" "$@"; }
TM_DIR="${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)"
# kill-server leaves the socket file behind: remove it too.
tm_kill() {
	tmux -L "$TM_SOCK" kill-server 2>/dev/null
	rm -f "$TM_DIR/$TM_SOCK"
	return 0
}
# A sanitized build's reports (leaks at exit, UB) fail the test.
t_end_san() {
	local f
	for f in "$T"/san.*; do
		[ -e "$f" ] || continue
		t_fail "sanitizer: $(head -c 300 "$f")"
	done
	t_end
}
tm_kill_all() {
	for s in $TM_ALL; do
		tmux -L "$s" kill-server 2>/dev/null
		rm -f "$TM_DIR/$s"
	done
	return 0
}
trap 'tm_kill_all; t_exit' EXIT
trap 'tm_kill_all; t_exit; exit 130' INT TERM

# tm_run W H [env VAR=VALUE...] PROG ARGS: run PROG in a fresh tmux server
# (its own socket), in $T, in UTF-8.  The pane's script prints a marker,
# saves the terminal's stty state, runs PROG (which leaves its pid in
# $T/pid), prints its exit status and saves the stty state again.  The pane
# stays after it exits so its last screen and status can be read.
tm_run() {
	local w=$1 h=$2
	shift 2
	tm_kill
	TM_N=$((TM_N + 1))
	TM_SOCK="shmscope-tui-$$-$TM_N"
	TM_ALL="$TM_ALL $TM_SOCK"
	rm -f "$T/pid" "$T/before" "$T/after"
	{
		# Sanitizer reports go to files the test looks for at its end.
		echo "export ASAN_OPTIONS='log_path=$T/san' UBSAN_OPTIONS='log_path=$T/san'"
		echo "echo BEFORE-MARK"
		echo "stty -g >'$T/before'"
		printf "sh -c 'echo \$\$ >\"\$0\"; exec \"\$@\"' '%s'" "$T/pid"
		printf ' %q' "$@"
		echo
		echo 'echo STATUS=$?'
		echo "stty -g >'$T/after'"
		# Stay, so the pane's terminal state can be read (a dead pane
		# hides its cursor); kill-server ends it.
		echo "exec sleep 3600"
	} >"$T/run.sh"
	echo "set -g remain-on-exit on" >"$T/tmux.conf"
	LC_ALL=C.UTF-8 tmux -L "$TM_SOCK" -f "$T/tmux.conf" new-session -d \
		-x "$w" -y "$h" -c "$T" "bash $T/run.sh" || t_fail "tmux did not start"
	t_wait_for 5000 test -s "$T/pid" || t_fail "program did not start"
}
tm_screen() { tm capture-pane -p 2>/dev/null; }
tm_has() { tm_screen | grep -qF -- "$1"; }
# Lines joined with spaces: for text the screen wrapped.
tm_has_joined() { tm_screen | tr '\n' ' ' | tr -s ' ' | grep -qF -- "$1"; }
tm_lacks() { ! tm_screen | grep -qF -- "$1"; }
tm_var() { tm display-message -p "#{$1}" 2>/dev/null; }
# The program has exited: the pane's script went on after it.
tm_dead() { test -s "$T/after"; }
# tm_wait TEXT: wait (5 s) for TEXT on the screen, else fail showing it.
tm_wait() {
	t_wait_for 5000 tm_has "$1" && return 0
	t_fail "screen never showed '$1'"
	tm_screen | sed 's/^/    | /'
	return 1
}
tm_wait_gone() {
	t_wait_for 5000 tm_lacks "$1" && return 0
	t_fail "screen still shows '$1'"
	tm_screen | sed 's/^/    | /'
	return 1
}
new_seg() { # new_seg VAR SIZE: a fresh segment of SIZE zero bytes
	local n="/shmscope-t-tui-$$-$RANDOM"
	t_shm "$n"
	head -c "$2" /dev/zero >"/dev/shm/${n#/}"
	eval "$1=\$n"
}
poke() { # poke NAME OFFSET STRING: write into the segment in place
	printf '%s' "$3" | dd of="/dev/shm/${1#/}" bs=1 seek="$2" \
		conv=notrunc status=none
}

