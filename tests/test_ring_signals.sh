#!/usr/bin/env bash
# The ring stops cleanly on SIGTERM/SIGINT, never hangs when a child dies,
# freezes in a known state with --stop-after, and its checks catch a
# segment corrupted behind its back.
. "$(dirname "$0")/lib.sh"
RING=$BIN/ring

new_name() {
	N=/shmscope-t-$1-$$-$RANDOM
	t_shm "$N"
}

# Offset of a field as the ring's compiler laid it out.
off() { "$RING" --offsets | awk -v f="$1" '$1 == f { print $2 }'; }
# u32 FILE OFFSET: the 32-bit unsigned value there.
u32() { od -A n -t u4 -j "$2" -N 4 "$1" | tr -d ' '; }

# PID has exited (gone, or a zombie waiting for us).
exited() { [ ! -e "/proc/$1" ] || [ "$(awk '{ print $3 }' "/proc/$1/stat")" = Z ]; }
nkids() { [ "$(pgrep -P "$1" | wc -l)" = "$2" ]; }
seg_of() { sed -n 's/^ring: segment //p' "$1"; }

# stop_ring PID SIG: send SIG, wait (10 s at most) and leave the status in RC.
stop_ring() {
	kill -"$2" "$1"
	t_wait_for 10000 exited "$1" || { t_fail "ring did not stop on SIG$2"; return 1; }
	wait "$1"
	RC=$?
}

for kind in posix sysv file; do
	for sig in TERM INT; do
		t_begin "SIG$sig stops a --hold ring ($kind) and leaves nothing"
		new_name hold
		case $kind in
		posix) args=(-n "$N") ;;
		sysv) args=(--sysv -n "$N") ;;
		file) args=(--file "$T/seg") ;;
		esac
		t_spawn "$RING" "${args[@]}" -p 2 -c 2 --rate 200 --hold >"$T/out" 2>&1
		pid=$T_LAST
		t_wait_for 5000 nkids $pid 4 || t_fail "children did not start"
		kids=$(pgrep -P $pid)
		seg=$(seg_of "$T/out")
		case $seg in
		sysv:*) t_sysv "${seg#sysv:}" ;;
		file:*) [ -f "$T/seg" ] || t_fail "no file segment" ;;
		/*) [ -e "/dev/shm/${N#/}" ] || t_fail "no segment in /dev/shm" ;;
		*) t_fail "no segment line" ;;
		esac
		stop_ring $pid $sig
		[ "${RC:-x}" = 0 ] || t_fail "exit status $RC after SIG$sig"
		for k in $kids; do exited $k || t_fail "child $k still there"; done
		[ -e "/dev/shm/${N#/}" ] && t_fail "$N left in /dev/shm"
		[ -e "$T/seg" ] && t_fail "file segment left behind"
		if [ $kind = sysv ]; then
			k=$((${seg#sysv:}))
			awk -v k=$k 'NR > 1 && $1 == k { f = 1 } END { exit !f }' \
				/proc/sysvipc/shm && t_fail "$seg left behind"
		fi
		t_end
	done
done

t_begin "--hold summary says all verified after SIGTERM"
new_name hold
"$RING" -n "$N" -p 2 -c 2 --rate 500 --hold >"$T/out" 2>&1 &
T_PIDS="$T_PIDS $!"
pid=$!
t_wait_for 5000 nkids $pid 4 || t_fail "children did not start"
# Let some messages through: wait until the consumers have read 20.
ridx=$(off ring.read_idx)
moved() { [ "$(u32 "/dev/shm/${N#/}" "$ridx")" -ge 20 ]; }
t_wait_for 5000 moved || t_fail "no messages moved"
stop_ring $pid TERM
grep -Eq '^ring: [0-9]+ messages from 2 producers to 2 consumers in .*: all verified$' "$T/out" ||
	t_fail "summary: $(tail -1 "$T/out")"
t_end

t_begin "SIGTERM before the end of a normal run: exit 1, interrupted, clean"
new_name term
"$RING" -n "$N" -p 1 -c 1 -m 1000000 --rate 100 >"$T/out" 2>&1 &
T_PIDS="$T_PIDS $!"
pid=$!
t_wait_for 5000 nkids $pid 2 || t_fail "children did not start"
stop_ring $pid TERM
[ "${RC:-x}" = 1 ] || t_fail "exit status $RC"
grep -q 'interrupted by Terminated$' "$T/out" || t_fail "$(tail -1 "$T/out")"
[ -e "/dev/shm/${N#/}" ] && t_fail "$N left in /dev/shm"
t_end

for who in producer consumer; do
	t_begin "a $who killed with SIGKILL: the parent kills the rest, cleans up, exits 1"
	new_name kill
	"$RING" -n "$N" -p 2 -c 2 --rate 1000 --hold >"$T/out" 2>"$T/err" &
	T_PIDS="$T_PIDS $!"
	pid=$!
	t_wait_for 5000 nkids $pid 4 || t_fail "children did not start"
	kids=$(pgrep -P $pid | sort -n)
	# Children are forked producers first.
	if [ $who = producer ]; then victim=$(echo "$kids" | head -1); else victim=$(echo "$kids" | tail -1); fi
	kill -KILL "$victim"
	t_wait_for 10000 exited $pid || t_fail "parent hangs after its child died"
	wait $pid
	rc=$?
	[ "$rc" = 1 ] || t_fail "exit status $rc"
	grep -q "ring: $who [01] (pid $victim) killed by signal 9" "$T/err" || t_fail "$(cat "$T/err")"
	for k in $kids; do exited $k || t_fail "child $k still there"; done
	[ -e "/dev/shm/${N#/}" ] && t_fail "$N left in /dev/shm"
	t_end
done

t_begin "a killed parent takes its children with it"
new_name orphan
# Orphans go to the nearest subreaper; make one, so that they are reaped
# even where pid 1 does not reap (containers), and wait for it to run out
# of descendants.
python3 -c '
import ctypes, os, sys
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
if os.fork() == 0:
    os.execv(sys.argv[1], sys.argv[1:])
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
' "$RING" -n "$N" -p 2 -c 2 --rate 100 --hold >"$T/out" 2>&1 &
T_PIDS="$T_PIDS $!"
reaper=$!
has_ring() { pid=$(pgrep -P $reaper) && [ -n "$pid" ] && nkids $pid 4; }
t_wait_for 5000 has_ring || t_fail "ring did not start"
kids=$(pgrep -P $pid)
kill -KILL $pid
for k in $kids; do
	t_wait_for 5000 exited $k || t_fail "child $k outlived its parent"
done
t_wait_for 5000 exited $reaper || t_fail "descendants left"
wait $reaper
# Nobody can remove the segment then: t_end does.
t_end

t_begin "--stop-after freezes the ring in a known state until SIGTERM"
new_name stop
seg=/dev/shm/${N#/}
"$RING" -n "$N" -p 2 -c 3 -m 1000 --stop-after 700 >"$T/out" 2>&1 &
T_PIDS="$T_PIDS $!"
pid=$!
t_wait_for 10000 grep -q '^ring: frozen' "$T/out" || t_fail "never froze: $(cat "$T/out")"
grep -qx 'ring: frozen after 700 messages: read_idx=700 write_idx=716' "$T/out" ||
	t_fail "$(grep frozen "$T/out")"
r1=$(u32 "$seg" "$(off ring.read_idx)")
w1=$(u32 "$seg" "$(off ring.write_idx)")
[ "$r1/$w1" = 700/716 ] || t_fail "segment says read_idx=$r1 write_idx=$w1"
[ "$(u32 "$seg" "$(off ring.magic)")" = $((0x52494e47)) ] || t_fail "bad magic"
# glibc's sem_t starts with its 32-bit value.
[ "$(u32 "$seg" "$(off ring.filled_slots)")" = 16 ] || t_fail "filled_slots is not 16"
[ "$(u32 "$seg" "$(off ring.empty_slots)")" = 0 ] || t_fail "empty_slots is not 0"
nkids $pid 5 || t_fail "not all 5 children alive"
for k in $(pgrep -P $pid); do
	st=$(awk '{ print $3 }' /proc/$k/stat)
	[ "$st" = S ] || t_fail "child $k is in state $st, not sleeping"
done
# Frozen means frozen: a while later nothing has moved.
sum1=$(md5sum <"$seg")
t_wait_for 300 false
[ "$(md5sum <"$seg")" = "$sum1" ] || t_fail "the segment changed while frozen"
stop_ring $pid TERM
[ "${RC:-x}" = 0 ] || t_fail "exit status $RC"
grep -q '^ring: 700 messages .*, 16 left in the ring: all verified$' "$T/out" ||
	t_fail "$(tail -1 "$T/out")"
[ -e "$seg" ] && t_fail "segment left behind"
t_end

t_begin "--stop-after with fewer messages left than slots"
new_name stop
"$RING" -n "$N" -p 1 -c 1 -m 105 --stop-after 100 >"$T/out" 2>&1 &
T_PIDS="$T_PIDS $!"
pid=$!
t_wait_for 10000 grep -q '^ring: frozen' "$T/out" || t_fail "never froze"
grep -qx 'ring: frozen after 100 messages: read_idx=100 write_idx=105' "$T/out" ||
	t_fail "$(grep frozen "$T/out")"
nkids $pid 2 || t_fail "children exited while frozen"
stop_ring $pid INT
[ "${RC:-x}" = 0 ] || t_fail "exit status $RC"
t_end

# corrupt WHAT: freeze a ring, change the first message still in it behind
# its back, and expect the final check to catch it.
corrupt() {
	local what=$1 seg slot size
	new_name corrupt
	seg=/dev/shm/${N#/}
	"$RING" -n "$N" -p 2 -c 2 -m 100 --stop-after 50 >"$T/out" 2>"$T/err" &
	T_PIDS="$T_PIDS $!"
	pid=$!
	t_wait_for 10000 grep -q '^ring: frozen' "$T/out" || t_fail "never froze"
	# read_idx 50 is in slot 50 % 16 = 2; slots are 120 bytes.
	size=$("$RING" --offsets | awk '$1 == "message" { print $3 }')
	slot=$(($(off ring.slots) + 2 * size))
	case $what in
	text) printf 'X' | dd of="$seg" bs=1 seek=$((slot + 30)) conv=notrunc status=none ;;
	dup) # the message after it becomes a copy of it
		dd if="$seg" of="$seg" bs=1 skip=$slot seek=$((slot + size)) \
			count="$size" conv=notrunc status=none ;;
	esac
	stop_ring $pid TERM
	[ "${RC:-x}" = 1 ] || t_fail "exit status $RC"
	grep -q 'FAILED' "$T/out" || t_fail "summary: $(tail -1 "$T/out")"
}

t_begin "a corrupted payload fails the checksum"
corrupt text
grep -q 'first error: left in the ring: producer [01] message [0-9]*: bad checksum' "$T/err" ||
	t_fail "$(cat "$T/err")"
t_end

t_begin "a duplicated message is caught"
corrupt dup
grep -q 'first error: left in the ring: producer [01]: got message [0-9]*, expected [0-9]* (duplicated or reordered)' "$T/err" ||
	t_fail "$(cat "$T/err")"
t_end

t_finish
