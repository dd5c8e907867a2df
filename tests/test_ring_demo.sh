#!/usr/bin/env bash
# `make demo` runs without a terminal (no stdin), shows the inspector's
# snapshot of the live ring, and leaves nothing behind.
. "$(dirname "$0")/lib.sh"

t_begin "make demo's script runs the ring, stops it, leaves nothing"
timeout 60 "$(dirname "$0")/../mk/demo.sh" >"$T/out" 2>&1 </dev/null
rc=$?
[ "$rc" = 0 ] || t_fail "exit $rc: $(tail -5 "$T/out")"
grep -q '^\$ shmscope ls' "$T/out" || t_fail "does not run shmscope ls"
grep -Eq '^  ring: [0-9]+ messages from 2 producers to 2 consumers .*all verified$' "$T/out" ||
	t_fail "no verified summary"
grep -q '^demo: nothing left behind' "$T/out" || t_fail "$(tail -1 "$T/out")"
# without a terminal the inspector prints one snapshot of the live ring
grep -q '^\$ shmscope --once -l testprogs/ring.layout /shmscope-demo-' "$T/out" ||
	t_fail "does not run the inspector"
grep -Eq '^    magic +0  0x52494e47$' "$T/out" || t_fail "no ring header in the snapshot"
grep -Eq '^  rings:  ring.slots +head [0-9]+ tail [0-9]+ used [0-9]+/16$' "$T/out" ||
	t_fail "no ring in the snapshot"
grep -q '^    ok    write_idx - read_idx <= 16$' "$T/out" || t_fail "no checks"
t_end

t_finish
