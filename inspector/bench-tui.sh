#!/usr/bin/env bash
# bench-tui.sh - CPU used by the live view (make bench).
#
# Runs the real TUI in a 100x30 tmux pane over tests/helper_tui_snap's
# ring-shaped snapshot grown to ~1,090 rows (--rows 1000; a tenth of the
# values change every frame), refreshing at 10 Hz for 10 s (100 frames),
# and prints the CPU it used as a percentage of one core (getrusage of the
# process, user + system, over its wall time).  Then the same with
# --sample-hz 10000, and the source's own share (building and freeing the
# snapshots without a screen).
set -u
: "${BUILD:=build}"
HELPER=$(realpath "$BUILD/tests/helper_tui_snap")
SOCK="shmscope-bench-tui-$$"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/shmscope-bench-tui.XXXXXX")
trap 'tmux -L "$SOCK" kill-server 2>/dev/null; rm -rf "$TMP" "/dev/shm/shmscope-bench-tui-$$" "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$SOCK"' EXIT

command -v tmux >/dev/null || { echo "bench-tui: tmux missing, skipped"; exit 0; }

# run NAME ARGS...: one measured run; prints "user sys wall".
run() {
	local name=$1 deadline
	shift
	rm -f "$TMP/$name"
	tmux -L "$SOCK" kill-server 2>/dev/null
	LC_ALL=C.UTF-8 tmux -L "$SOCK" -f /dev/null new-session -d -x 100 -y 30 \
		"$HELPER $* --rusage $TMP/$name" || return 1
	deadline=$(($(date +%s) + 60))
	while [ ! -s "$TMP/$name" ]; do
		[ "$(date +%s)" -gt "$deadline" ] && { echo "bench-tui: $name timed out" >&2; return 1; }
		sleep 0.2
	done
	cat "$TMP/$name"
}

# hex NAME SIZE: shmscope's hex view of a real SIZE-byte segment for 10 s;
# prints "user sys wall" from /proc/PID/stat (clock ticks).
hex() {
	local seg="/shmscope-bench-tui-$$" hz pid t0
	head -c "$2" /dev/zero >"/dev/shm/${seg#/}"
	tmux -L "$SOCK" kill-server 2>/dev/null
	LC_ALL=C.UTF-8 tmux -L "$SOCK" -f /dev/null new-session -d -x 100 -y 30 \
		"sh -c 'echo \$\$ >$TMP/pid; exec $(realpath "$BUILD/bin/shmscope") $seg'"
	while [ ! -s "$TMP/pid" ]; do sleep 0.1; done
	pid=$(cat "$TMP/pid")
	t0=$(date +%s.%N)
	sleep 10 # the measurement's duration, not a wait for something
	hz=$(getconf CLK_TCK)
	awk -v hz="$hz" -v t0="$t0" -v t1="$(date +%s.%N)" \
		'{ sub(/^.*\) /, ""); printf "%.3f %.3f %.3f\n", $12 / hz, $13 / hz, t1 - t0 }' \
		"/proc/$pid/stat"
	tmux -L "$SOCK" kill-server 2>/dev/null
	rm -f "/dev/shm/${seg#/}" "$TMP/pid"
}

pct() { awk '{ printf "%.2f%% of a core (user %.3f s, sys %.3f s, wall %.2f s)", ($1 + $2) * 100 / $3, $1, $2, $3 }'; }

r1=$(run tui --rows 1000 -d 100 --frames 100) || exit 1
r2=$(run sample --rows 1000 -d 100 --frames 100 --sample --sample-hz 10000) || exit 1
"$HELPER" --rows 1000 --take-only 100 --rusage "$TMP/take" || exit 1
r3=$(cat "$TMP/take")
r4=$(hex hex 1048576) || exit 1

echo "tui: 1,090-row snapshot, 10 Hz, 10 s:          $(echo "$r1" | pct)"
echo "tui: same, --sample-hz 10000:                  $(echo "$r2" | pct)"
echo "hex view of a 1 MiB segment, 10 Hz, 10 s:     $(echo "$r4" | pct)"
echo "source alone: 100 snapshots built and freed: $(echo "$r3" | awk '{ printf "%.2f ms CPU per snapshot", ($1 + $2) * 1000 / 100 }')"
