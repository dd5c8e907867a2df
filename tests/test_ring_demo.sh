#!/usr/bin/env bash
# `make demo` runs without a terminal (no stdin) and leaves nothing behind.
. "$(dirname "$0")/lib.sh"

t_begin "make demo's script runs the ring, stops it, leaves nothing"
timeout 60 "$(dirname "$0")/../mk/demo.sh" >"$T/out" 2>&1 </dev/null
rc=$?
[ "$rc" = 0 ] || t_fail "exit $rc: $(tail -5 "$T/out")"
grep -q '^\$ shmscope ls' "$T/out" || t_fail "does not run shmscope ls"
grep -Eq '^  ring: [0-9]+ messages from 2 producers to 2 consumers .*all verified$' "$T/out" ||
	t_fail "no verified summary"
grep -q '^demo: nothing left behind' "$T/out" || t_fail "$(tail -1 "$T/out")"
# read_idx moved between the snapshots of the header
[ "$(grep -c 'magic=0x52494e47 capacity=16' "$T/out")" = 3 ] || t_fail "no header snapshots"
t_end

t_finish
