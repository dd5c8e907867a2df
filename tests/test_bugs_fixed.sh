#!/usr/bin/env bash
# The planted-bug suite's fixed twins (testprogs/bugs/, docs/bugs.md): each
# `bug-NAME --fixed` passes RUNS plain runs and one --force run with exit 0,
# prints its summary line, and leaves no segment and no process behind.
. "$(dirname "$0")/lib.sh"

RUNS=${BUGS_FIXED_RUNS:-40}
BUGS="lost-update missing-post ring-overwrite abba nonowner-unlock
torn-message aba-freelist missed-wakeup owner-dead owner-dead-hang
shrink-sigbus double-post init-race"

for b in $BUGS; do
	t_begin "bug-$b --fixed passes $RUNS runs and one --force run"
	prog=$BIN/bug-$b
	[ -x "$prog" ] || t_fail "$prog not built"
	for ((i = 0; i < RUNS + 1 && T_FAILED == 0; i++)); do
		name=$(t_name "$b")
		force=""
		[ "$i" = "$RUNS" ] && force=--force
		"$prog" --fixed $force -n "$name" --deadline-ms 10000 \
			>"$T/out" 2>"$T/err"
		st=$?
		[ "$st" = 0 ] || t_fail "run $i $force: exit $st: $(cat "$T/err")"
		grep -q "^bug-$b: ok: " "$T/out" ||
			t_fail "run $i: no summary line: $(cat "$T/out")"
		[ -e "/dev/shm/${name#/}" ] && t_fail "run $i left $name"
	done
	t_end
done
t_finish
