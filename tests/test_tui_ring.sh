#!/usr/bin/env bash
# The live view on the real ring, frozen in a known state by --stop-after:
# the expected screen (rings, sync, checks, fields, mapped by), key
# navigation, find, resize to 80x24 and larger, and quit restoring the
# terminal.  Real ncurses in a real terminal (tmux), real processes.
. "$(dirname "$0")/lib.sh"

if ! command -v tmux >/dev/null; then
	echo "SKIP: $T_FILE: tmux is not installed"
	exit 0
fi
. "$(dirname "$0")/tmux.sh"
LAYOUT=$(realpath testprogs/ring.layout)

# A ring of 2 producers and 2 consumers frozen after 20 messages: read_idx
# 20, write_idx 36, the ring full, both producers blocked in sem_wait.
start_ring() {
	ring=$(t_name ring)
	t_spawn "$BIN/ring" -n "$ring" -p 2 -c 2 -m 1000 --stop-after 20 \
		>"$T/ring.out" 2>&1
	t_wait_for 10000 grep -q "frozen after 20" "$T/ring.out" ||
		t_fail "ring did not freeze: $(cat "$T/ring.out")"
}

t_begin "the frozen ring's screen: ring, sync with waiters, checks, fields"
start_ring
tm_run 100 30 "$SHMSCOPE" -l "$LAYOUT" "$ring"
tm_wait "$ring  posix  2080 bytes"
tm_wait "ring.slots  head 36  tail 20" && tm_wait "16/16"
tm_wait "Sync: 3 objects"
tm_has_joined "ring.empty_slots sem waiting" || t_fail "empty_slots not waiting"
tm_wait "waiters 2 ("
tm_has_joined "ring.filled_slots sem available" || t_fail "filled_slots"
tm_wait "Checks: 7, 0 failing"
tm_wait "Fields: ring, 114 rows"
tm_wait "magic                      uint32_t                  0x52494e47"
pids=$(pgrep -f -- "ring -n $ring" | sort -n | head -1)
tm_wait "mapped by: $pids ring"
t_end_san

t_begin "keys: find a field, expand the slots, help, pause, quit restores"
start_ring
tm_run 100 30 "$SHMSCOPE" -l "$LAYOUT" "$ring"
tm_wait "Fields: ring, 114 rows"
tm send-keys / w r i t e _ i d x Enter
tm_wait "write_idx                  uint32_t                  36"
tm send-keys / r i n g . s l o t s Enter
# find opens what it finds; j moves onto the first slot, Enter opens it
tm_wait "▾ slots"
tm send-keys j
tm_wait "slots[0]"
tm send-keys Enter
tm_wait "▾ slots[0]"
tm send-keys j
t_wait_for 5000 tm_has_joined "seq uint64_t" || t_fail "slots[0].seq not shown"
tm send-keys '?'
tm_wait "Press any key to return."
tm send-keys j
tm_wait_gone "Press any key to return."
tm send-keys Space
tm_wait "PAUSED"
tm send-keys q
t_wait_for 5000 tm_dead || t_fail "q did not quit"
tm_wait "STATUS=0"
[ "$(cat "$T/before")" = "$(cat "$T/after")" ] || t_fail "terminal settings not restored"
t_end_san

t_begin "resize to 80x24 and larger keeps the view usable"
start_ring
tm_run 100 30 "$SHMSCOPE" -l "$LAYOUT" "$ring"
tm_wait "Fields: ring"
tm resize-window -x 80 -y 24
tm_wait "head 36  tail 20"
[ "$(tm_screen | awk '{ if (length > m) m = length } END { print m }')" -le 80 ] ||
	t_fail "a line is wider than 80 columns"
tm resize-window -x 160 -y 50
tm_wait "head 36  tail 20" && tm_wait "Checks: 7, 0 failing"
tm_dead && t_fail "the view died on resize"
t_end_san

t_finish
