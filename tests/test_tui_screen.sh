#!/usr/bin/env bash
# The live view on a real terminal (tmux): hex view of a real segment that
# changes, keys, help, pause, find/expand/collapse, resize, alerts, segment
# status, saving a snapshot, and the terminal restored on quit and on
# fatal signals.  Structured screens come from tests/helper_tui_snap, which
# runs the product's TUI over hand-built snapshots.
. "$(dirname "$0")/lib.sh"

if ! command -v tmux >/dev/null; then
	echo "SKIP: $T_FILE: tmux is not installed"
	exit 0
fi
. "$(dirname "$0")/tmux.sh"

t_begin "hex view shows a real segment's bytes change, highlighted"
new_seg seg 256
poke "$seg" 0 "RING"
tm_run 100 30 "$SHMSCOPE" "$seg"
tm_wait "00000000  52 49 4e 47 00" && tm_wait "|RING....."
poke "$seg" 16 "ABCD"
tm_wait "00000010  41 42 43 44 00 00"
# The changed bytes are drawn with an attribute of their own.
tm capture-pane -p -e | grep '^.*00000010' | grep -q $'\e\\[[0-9;]*m41' ||
	t_fail "changed bytes are not highlighted"
tm_wait "$seg  posix  256 bytes"
tm_wait "?Help"
t_end_san

t_begin "help screen opens with ? and closes with any key"
new_seg seg 64
tm_run 100 30 "$SHMSCOPE" "$seg"
tm_wait "00000000" && tm send-keys '?'
tm_wait "this help (any key returns)" && tm_wait "Press any key to return."
tm send-keys j
tm_wait_gone "Press any key to return." && tm_wait "00000000"
tm send-keys F1
tm_wait "this help (any key returns)"
t_end_san

t_begin "space pauses refreshing and resumes it"
new_seg seg 64
tm_run 100 30 "$SHMSCOPE" "$seg"
tm_wait "00000000  00 00" && tm send-keys Space
tm_wait "PAUSED"
poke "$seg" 0 "Z"
# Let several frames pass (a key forces a redraw; the message proves the
# loop ran after the write) and the old byte must still be shown.
tm send-keys + && tm_wait "refreshing every 50 ms"
tm send-keys - && tm_wait "refreshing every 100 ms"
tm_has "00000000  00 00" || t_fail "paused screen changed"
tm send-keys Space
tm_wait_gone "PAUSED" && tm_wait "00000000  5a 00"
t_end_san

t_begin "field tree: find, navigate, collapse and expand"
tm_run 100 30 "$SNAP" --stop-after 5
tm_wait "Fields: ring, 72 rows" && tm_wait "▸ slots[3]"
tm_lacks 'message 3' || t_fail "slots[3] shown expanded at start"
tm send-keys / s l o t s '[' 3 ']' . t e x t Enter
tm_wait 'message 3'
tm send-keys k k k && tm send-keys Enter
tm_wait_gone 'message 3' && tm_wait "▸ slots[3]"
tm send-keys Enter
tm_wait 'message 3' && tm_wait "▾ slots[3]"
tm send-keys Left
tm_wait_gone 'message 3'
tm send-keys Right
tm_wait 'message 3'
t_end_san

t_begin "changed field values are highlighted for a moment, steady ones not"
# Moving: write_idx changes every frame.  Stopped: after 1.5 s, nothing is.
tm_run 100 30 "$SNAP"
tm_wait "write_idx"
hl() { tm capture-pane -p -e | grep "write_idx" | grep -q $'\e\\[[0-9;]*43m'; }
t_wait_for 5000 hl || t_fail "a changing value is not highlighted"
tm_run 100 30 "$SNAP" --stop-after 2
tm_wait "head 6  tail 4"
t_wait_for 5000 sh -c "! tmux -L $TM_SOCK capture-pane -p -e | grep write_idx | grep -q $'\e\\[[0-9;]*43m'" ||
	t_fail "a steady value stays highlighted"
t_end_san

t_begin "several segments: one tab each, [ ] and digits switch"
new_seg seg1 32
new_seg seg2 48
tm_run 100 30 "$SHMSCOPE" "$seg1" "posix:$seg2"
tm_wait "1:$seg1" && tm_wait "2:$seg2" && tm_wait "$seg1  posix  32 bytes"
tm send-keys ']'
tm_wait "$seg2  posix  48 bytes"
tm send-keys 1
tm_wait "$seg1  posix  32 bytes"
tm send-keys '['
tm_wait "$seg2  posix  48 bytes"
t_end_san

t_begin "control characters and escapes in values are drawn as dots"
tm_run 100 30 "$SNAP" --stop-after 5 --nasty
tm_wait "Fields: ring" && tm send-keys / s l o t s '[' 0 ']' . t e x t Enter
tm_wait "a.b.c.[31md"
tm_screen | tail -1 | grep -q '^?Help' || t_fail "the footer moved"
t_end_san

t_begin "panels: ring, sync, checks (failing first), mapped by"
tm_run 100 30 "$SNAP" --stop-after 5 --fail-check
tm_wait "ring.slots  head 15  tail 10" && tm_wait "5/16"
tm_wait "fill, last 60 s"
tm_wait "ring.lock" && tm_wait "owner $(cat "$T/pid") helper_tui_snap"
tm_wait "ring.filled_slots" && tm_wait "Checks: 3, 1 failing"
tm_wait "mapped by: $(cat "$T/pid") helper_tui_snap"
tm_screen | grep -E '^(FAIL| ok )' | head -1 | grep -q '^FAIL filled_slots == 0' ||
	t_fail "the failing check is not first"
tm_wait "failed 1 time, first at"
t_end_san

t_begin "--sample-hz shows min/max fill and state changes between frames"
tm_run 100 30 "$SNAP" --stop-after 5 --sample --sample-hz 2000
tm_wait "fill 0..16 in " && tm_wait " changes val"
t_end_san

t_begin "resize to 80x24 and larger keeps the screen whole"
tm_run 100 30 "$SNAP" --stop-after 5
tm_wait "Fields: ring"
tm resize-window -x 80 -y 24
t_wait_for 5000 sh -c "[ \"\$(tmux -L $TM_SOCK capture-pane -p | wc -l)\" = 24 ]" ||
	t_fail "pane is not 24 lines"
t_wait_for 5000 sh -c "tmux -L $TM_SOCK capture-pane -p | tail -1 | grep -q '^?Help'" ||
	t_fail "footer not on the last line at 80x24"
tm_wait "Fields: ring" && tm_wait " Sync: 3 objects"
tm resize-window -x 140 -y 50
t_wait_for 5000 sh -c "tmux -L $TM_SOCK capture-pane -p | sed -n 50p | grep -q '^?Help'" ||
	t_fail "footer not on the last line at 140x50"
tm_wait "▸ slots[15]"
tm resize-window -x 20 -y 5
tm resize-window -x 100 -y 30
tm_wait "Fields: ring"
tm_dead && t_fail "died on a tiny window"
t_end_san

t_begin "alerts: owner dead, stuck lock, lock-wait cycle"
tm_run 100 30 "$SNAP" --owner-dead
tm_wait "OWNER DEAD: ring.lock: owner" && tm_wait "gone (dead) died holding it"
tm_run 100 30 "$SNAP" --stuck --stuck-ms 300
tm_wait "STUCK: ring.lock held for" && tm_wait "(--stuck 300 ms)"
tm_run 100 30 "$SNAP" --cycle
tm_wait "DEADLOCK:"
pa=$(pgrep -n -x -P "$(cat "$T/pid")" cycle-a) pb=$(pgrep -n -x -P "$(cat "$T/pid")" cycle-b)
t_wait_for 5000 tm_has_joined "$pa cycle-a waits for ring.lock_b held by $pb cycle-b" ||
	t_fail "no cycle a->b: $(tm_screen)"
t_wait_for 5000 tm_has_joined "$pb cycle-b waits for ring.lock_a held by $pa cycle-a" ||
	t_fail "no cycle b->a"

t_end_san

t_begin "segment shrinks, grows, is unlinked, is recreated: reported, r reattaches"
new_seg seg 4096
poke "$seg" 0 "HEAD"
tm_run 100 30 "$SHMSCOPE" "$seg"
tm_wait "4096 bytes"
truncate -s 64 "/dev/shm/${seg#/}"
tm_wait "$seg: segment shrank to 64 bytes" && tm_wait "  64 bytes"
truncate -s 8192 "/dev/shm/${seg#/}"
tm_wait "segment grew to 8192 bytes" && tm_wait "Hex: 8192 bytes"
rm -f "/dev/shm/${seg#/}"
tm_wait "was unlinked (old mapping still readable)"
tm_wait "|HEAD"
head -c 128 /dev/zero >"/dev/shm/${seg#/}"
tm_wait "recreated (a new object under the name)" && tm_wait "press r to reattach"
tm send-keys r
tm_wait "reattached" && tm_wait "Hex: 128 bytes"
tm_wait_gone "press r to reattach"
tm_dead && t_fail "the view died"
t_end_san

t_begin "--follow reattaches a recreated segment by itself"
new_seg seg 64
tm_run 100 30 "$SHMSCOPE" --follow "$seg"
tm_wait "Hex: 64 bytes"
rm -f "/dev/shm/${seg#/}"
head -c 32 /dev/zero >"/dev/shm/${seg#/}"
tm_wait "Hex: 32 bytes"
t_end_san

t_begin "s writes the snapshot as JSON and says where"
tm_run 100 30 "$SNAP" --stop-after 5
tm_wait "head 15  tail 10" && tm send-keys s
tm_wait "snapshot written to"
file=$(tm_screen | sed -n 's/.*snapshot written to \(.*\.json\).*/\1/p' | head -1)
[ -f "$file" ] || t_fail "no file at '$file'"
python3 - "$file" <<'PY' || t_fail "JSON does not hold the snapshot"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["segment"]["name"] == "/fake_ring", d["segment"]
f = {x["path"]: x for x in d["fields"]}
assert f["ring.write_idx"]["value"] == 15, f["ring.write_idx"]
assert f["ring.slots"]["value"][3]["text"] == 'message 3'
s = {x["path"]: x for x in d["sync"]}
assert s["ring.lock"]["state"] == "locked"
assert d["rings"][0]["head"] == 15 and d["rings"][0]["used"] == 5
PY
t_end_san

t_begin "--no-color and NO_COLOR draw without colors"
tm_run 100 30 "$SNAP" --stop-after 5 --no-color
tm_wait "Fields: ring"
tm capture-pane -p -e | grep -q $'\e\\[[34][0-7]m' && t_fail "--no-color used colors"
tm_run 100 30 env NO_COLOR=1 "$SNAP" --stop-after 5
tm_wait "Fields: ring"
tm capture-pane -p -e | grep -q $'\e\\[[34][0-7]m' && t_fail "NO_COLOR used colors"
tm_run 100 30 "$SNAP" --stop-after 5
tm_wait "Fields: ring"
tm capture-pane -p -e | grep -q $'\e\\[[34][0-7]m' || t_fail "no colors by default"
t_end_san

t_begin "without a UTF-8 locale the tree and sparkline fall back to ASCII"
tm_run 100 30 env LC_ALL=C "$SNAP" --stop-after 5
tm_wait "Fields: ring" && tm_wait "+ slots[3]" && tm_wait "- slots"
tm_screen | grep 'fill, last 60 s' | grep -q '[_.=+*#@-]' || t_fail "no ASCII sparkline"
tm_lacks "▁" || t_fail "block elements in the C locale"
t_end_san

# Exit paths: q, SIGTERM, SIGSEGV.  Each restores the terminal: the
# alternate screen is left, the cursor is visible, stty is as before, and
# the shell's own screen (the marker) is back.
check_restored() { # check_restored EXPECTED_STATUS
	t_wait_for 5000 tm_dead || t_fail "program did not exit"
	[ "$(tm_var alternate_on)" = 0 ] || t_fail "still on the alternate screen"
	[ "$(tm_var cursor_flag)" = 1 ] || t_fail "cursor left hidden"
	cmp -s "$T/before" "$T/after" || t_fail "stty changed: $(cat "$T/before") -> $(cat "$T/after")"
	tm_wait "BEFORE-MARK" && tm_wait "STATUS=$1"
	tm_lacks "?Help" || t_fail "the TUI is still on screen"
}

t_begin "q quits with status 0 and restores the terminal"
new_seg seg 64
tm_run 100 30 "$SHMSCOPE" "$seg"
tm_wait "00000000" && tm send-keys q
check_restored 0
t_end_san

for sig in TERM SEGV INT; do
	t_begin "SIG$sig restores the terminal and kills with SIG$sig"
	new_seg seg 64
	tm_run 100 30 "$SHMSCOPE" "$seg"
	tm_wait "00000000" && kill -"$sig" "$(cat "$T/pid")"
	check_restored $((128 + $(kill -l "$sig")))
	t_end_san
done

tm_kill
t_finish
