#!/usr/bin/env bash
# The ring under valgrind's memcheck: no errors in the parent or in any of
# the forked producers and consumers (a child's error makes it exit with
# 99, which the parent reports as an abnormal death and exits 1).
. "$(dirname "$0")/lib.sh"
RING=$BIN/ring

if [ -n "${SAN:-}" ]; then
	echo "SKIP: $T_FILE: valgrind cannot run a sanitized ($SAN) build"
	t_finish
fi
if ! command -v valgrind >/dev/null; then
	echo "SKIP: $T_FILE: valgrind is not installed"
	t_finish
fi

vg() {
	local out=$1 rc
	shift
	timeout 300 valgrind --tool=memcheck --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite -q "$RING" "$@" >"$out" 2>&1
	rc=$?
	[ "$rc" = 0 ] || { t_fail "exit $rc: $(tail -5 "$out")"; return; }
	grep -q 'all verified$' "$out" || t_fail "$(tail -1 "$out")"
	grep -q '^==[0-9]*==' "$out" && t_fail "valgrind said: $(grep -m3 '^==' "$out")"
}

t_begin "memcheck: POSIX ring, 2 producers, 2 consumers"
N=/shmscope-t-vg-$$-$RANDOM
t_shm "$N"
vg "$T/out" -n "$N" -p 2 -c 2 -m 300
t_end

t_begin "memcheck: System V ring, 3 producers, 1 consumer"
vg "$T/out" --sysv -n "vg-$$-$RANDOM" -p 3 -c 1 -m 200
t_sysv "$(sed -n 's/^ring: segment sysv://p' "$T/out")"
t_end

t_begin "memcheck: file-backed ring growing while it runs"
vg "$T/out" --file "$T/seg" --grow-every 50 -p 2 -c 3 -m 200
grep -q 'grew' "$T/out" || t_fail "did not grow"
t_end

t_begin "memcheck: --hold ring stopped with SIGTERM"
N=/shmscope-t-vg-$$-$RANDOM
t_shm "$N"
valgrind --tool=memcheck --error-exitcode=99 -q "$RING" -n "$N" -p 2 -c 2 \
	--rate 200 --hold >"$T/out" 2>&1 &
T_PIDS="$T_PIDS $!"
pid=$!
# Children exist once the segment does and the fork happened.
kids4() { [ "$(pgrep -P $pid | wc -l)" = 4 ]; }
t_wait_for 30000 kids4 || t_fail "children did not start"
kill -TERM $pid
exited() { [ ! -e "/proc/$1" ] || [ "$(awk '{ print $3 }' "/proc/$1/stat")" = Z ]; }
t_wait_for 30000 exited $pid || t_fail "did not stop on SIGTERM"
wait $pid
rc=$?
[ "$rc" = 0 ] || t_fail "exit $rc: $(tail -5 "$T/out")"
grep -q '^==[0-9]*==' "$T/out" && t_fail "valgrind said: $(grep -m3 '^==' "$T/out")"
t_end

t_finish
