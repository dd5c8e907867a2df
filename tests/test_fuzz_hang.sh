#!/usr/bin/env bash
# shmfuzz and what a run leaves: a hang is detected within --timeout and
# diagnosed (the futex named by segment and offset); segments a run leaves
# are removed; SIGINT mid-campaign leaves no process and no segment.
. "$(dirname "$0")/lib.sh"
# shmfuzz preloads the (never sanitized) probe into sanitized targets.
export ASAN_OPTIONS="verify_asan_link_order=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
F=$BIN/shmfuzz
H=$BUILD/tests/helper_fuzz_target

json() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }

# A unique segment name in $N, removed by t_end should shmfuzz leave it.
new_name() {
	N=/shmscope-t-fuzz-$1-$$-$RANDOM
	t_shm "$N"
}

t_begin "a child blocked in sem_wait: a hang, diagnosed, within --timeout"
new_name hang
start=$(date +%s%N)
"$F" --runs 1 --timeout 400 --json --out "$T/out" -- "$H" hang "$N" >"$T/json" 2>"$T/err"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
[ "$rc" = 1 ] || t_fail "exit $rc: $(cat "$T/err")"
[ "$ms" -lt 3000 ] || t_fail "took $ms ms for a 400 ms timeout"
[ "$(json "$T/json" 'j["failures"][0]["kind"]')" = hang ] || t_fail "$(cat "$T/json")"
d=$T/out/failure-1
grep -q "futex $N+0x40 " "$d/diagnosis.txt" ||
	t_fail "diagnosis does not name $N+0x40: $(cat "$d/diagnosis.txt")"
python3 - "$d/diagnosis.json" "$N" <<'PY' || t_fail "diagnosis.json: $(cat "$d/diagnosis.json")"
import json, sys
j = json.load(open(sys.argv[1]))
fx = [t["futex"] for p in j["processes"] for t in p["threads"] if "futex" in t]
assert any(f["segment"] == sys.argv[2] and f["offset"] == 64 for f in fx), fx
assert len(j["processes"]) == 2
PY
grep -q "killed by shmfuzz" "$d/status.txt" || t_fail "status: $(cat "$d/status.txt")"
[ ! -e "/dev/shm/${N#/}" ] || t_fail "$N left in /dev/shm"
grep -qx "$N" "$d/cleaned.txt" || t_fail "cleaned.txt: $(cat "$d/cleaned.txt" 2>&1)"
pgrep -f "$N" >/dev/null && t_fail "processes left: $(pgrep -af "$N")"
t_end

t_begin "the frozen ring: producers blocked on ring.empty_slots, by offset"
new_name ring
off=$("$BIN/ring" --offsets | awk '$1 == "ring.empty_slots" { printf "%#x", $2 }')
"$F" --runs 1 --timeout 500 --out "$T/out" -- "$BIN/ring" -n "$N" -p 2 -c 2 -m 1000 --stop-after 50 2>"$T/err"
[ $? = 1 ] || t_fail "exit not 1: $(cat "$T/err")"
[ "$(grep -c "futex $N+$off " "$T/out/failure-1/diagnosis.txt")" -ge 1 ] ||
	t_fail "no thread on $N+$off: $(cat "$T/out/failure-1/diagnosis.txt")"
[ ! -e "/dev/shm/${N#/}" ] || t_fail "$N left in /dev/shm"
t_end

t_begin "identical hangs are grouped"
new_name hang
"$F" --runs 3 --timeout 200 --json --out "$T/out" -- "$H" hang "$N" >"$T/json" 2>/dev/null
[ "$(json "$T/json" 'len(j["failures"]), j["failures"][0]["count"]')" = "1 3" ] ||
	t_fail "$(cat "$T/json")"
t_end

t_begin "a segment a run leaves is removed (--jobs 1: /dev/shm diff)"
new_name leak
"$F" --runs 3 --json --out "$T/out" -- "$H" leak "$N" >"$T/json" 2>/dev/null
[ $? = 0 ] || t_fail "exit not 0"
[ ! -e "/dev/shm/${N#/}" ] || t_fail "$N left in /dev/shm"
[ "$(json "$T/json" 'j["cleaned"]')" = 3 ] || t_fail "cleaned: $(json "$T/json" 'j["cleaned"]')"
t_end

t_begin "a segment in use by another process is never removed"
new_name inuse
"$H" hang "$N" &
t_spawn_pid=$!
T_PIDS="$T_PIDS $t_spawn_pid"
t_wait_for 5000 test -e "/dev/shm/${N#/}" || t_fail "helper made no segment"
"$F" --runs 2 --out "$T/out" -- "$H" pass 2>/dev/null
[ -e "/dev/shm/${N#/}" ] || t_fail "shmfuzz removed a segment that was not its run's"
kill -KILL $(pgrep -f "$N") 2>/dev/null
t_end

t_begin "with --jobs 2, objects the probe reports in created*.txt are removed"
new_name rep
"$F" --runs 4 --jobs 2 --json --out "$T/out" -- "$H" report "$N" >"$T/json" 2>/dev/null
[ $? = 0 ] || t_fail "exit not 0"
[ ! -e "/dev/shm/${N#/}" ] || t_fail "$N left in /dev/shm"
[ "$(json "$T/json" 'j["cleaned"]')" -ge 1 ] || t_fail "cleaned nothing"
t_end

t_begin "SIGINT mid-campaign: no process, no segment left, exit 130"
new_name int
for i in 0 1 2 3; do t_shm "$N-$i"; done
"$F" --runs 100 --jobs 2 --timeout 60000 --out "$T/out" -- "$H" linger "$N" 2>"$T/err" &
fz=$!
T_PIDS="$T_PIDS $fz"
t_wait_for 5000 test -e "/dev/shm/${N#/}-0" -a -e "/dev/shm/${N#/}-1" ||
	t_fail "the runs did not start"
started() { [ "$(pgrep -fc "$N")" -ge 9 ]; }
t_wait_for 5000 started || t_fail "not all processes started"
kill -INT "$fz"
wait "$fz"
rc=$?
[ "$rc" = 130 ] || t_fail "exit $rc: $(cat "$T/err")"
left=$(pgrep -af "$N")
[ -z "$left" ] || t_fail "processes left: $left"
ls /dev/shm | grep -q "${N#/}" && t_fail "segments left: $(ls /dev/shm | grep "${N#/}")"
[ ! -d "$T/out/runs" ] || t_fail "run folders left: $(ls "$T/out/runs")"
t_end

t_begin "shmfuzz killed with SIGKILL: its supervisors still clean up"
new_name kill
for i in 0 1 2 3; do t_shm "$N-$i"; done
"$F" -q --runs 100 --jobs 2 --timeout 60000 --out "$T/out" -- "$H" linger "$N" 2>"$T/err" &
fz=$!
T_PIDS="$T_PIDS $fz"
t_wait_for 5000 test -e "/dev/shm/${N#/}-0" -a -e "/dev/shm/${N#/}-1" ||
	t_fail "the runs did not start"
started() { [ "$(pgrep -fc "$N")" -ge 8 ]; }
t_wait_for 5000 started || t_fail "not all processes started"
kill -KILL "$fz"
wait "$fz" 2>/dev/null
no_procs() { [ -z "$(pgrep -f "$N")" ]; }
no_segs() { ! ls /dev/shm | grep -q "${N#/}"; }
t_wait_for 5000 no_procs || t_fail "processes left: $(pgrep -af "$N")"
t_wait_for 5000 no_segs || t_fail "segments left: $(ls /dev/shm | grep "${N#/}")"
t_end

# starved_run SECONDS MS: a spinner at the highest priority on CPU 0 for
# SECONDS, and beside it one shmfuzz run (--timeout MS) of a target pinned
# there at the lowest, which gets no CPU meanwhile (CFS weights 88761
# against 15) and needs ~0.1 s of it afterwards.  Sets rc.
starved_run() {
	t_spawn taskset -c 0 nice -n -20 timeout "$1" sh -c 'while :; do :; done'
	# running: the timeout's child is the spinner
	t_wait_for 2000 sh -c "pgrep -P $T_LAST >/dev/null"
	"$F" --runs 1 --timeout "$2" --json --out "$T/out" -- sh -c \
		"taskset -c 0 nice -n 19 sh -c 'i=0; while [ \$i -lt 30000 ]; do i=\$((i+1)); done'" \
		>"$T/json" 2>"$T/err"
	rc=$?
}

if ! nice -n -20 true 2>/dev/null || ! command -v taskset >/dev/null; then
	echo "SKIP: $T_FILE: starved runs: need root (nice -20) and taskset"
else
	t_begin "a starved run is not a hang: the window restarts while a thread waits for a CPU"
	starved_run 2 1000
	[ "$rc" = 0 ] || t_fail "exit $rc: $(cat "$T/err") $(cat "$T"/out/failure-1/failure.txt 2>&1)"
	t_end

	t_begin "starved for longer than 5 windows: a hang that says the thread was starved"
	starved_run 4 300
	[ "$rc" = 1 ] || t_fail "exit $rc: $(cat "$T/err")"
	grep -q '^what: no progress for 300 ms (after 4 longer waits: a thread was starved of CPU)' \
		"$T/out/failure-1/failure.txt" ||
		t_fail "failure.txt: $(cat "$T/out/failure-1/failure.txt" 2>&1)"
	t_end
fi

t_finish
