#!/usr/bin/env bash
# shmfuzz --strategy pct end to end, on the small programs of
# helper_pct_progs: exact schedules, a depth-2 and a depth-3 bug found, a
# deadlock reported at once with its cycle, a thread blocked outside the
# probe's view, a child killed mid-run, --replay-schedule.
. "$(dirname "$0")/lib.sh"
export ASAN_OPTIONS="verify_asan_link_order=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
F=$BIN/shmfuzz
H=$BUILD/tests/helper_pct_progs

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
# The schedule without its pids and tids (which change from run to run).
sched() { grep -v '^thread ' "$1"; }

t_begin "the same seed gives the same schedule, another seed another one"
for i in 1 2 3; do
	"$F" --strategy pct --replay 7 --pct-steps 150 --out "$T/s$i" -- \
		"$H" det1 2>"$T/err$i"
	[ $? = 1 ] || t_fail "run $i: $(cat "$T/err$i")"
done
"$F" --strategy pct --replay 8 --pct-steps 150 --out "$T/s4" -- \
	"$H" det1 2>"$T/err4"
a=$T/s1/replay-7/schedule.txt
[ -s "$a" ] || t_fail "no schedule.txt: $(ls -R "$T/s1")"
grep -q '^switch .* preempt$' "$a" || t_fail "no preemption in $(cat "$a")"
for i in 2 3; do
	cmp -s <(sched "$a") <(sched "$T/s$i/replay-7/schedule.txt") ||
		t_fail "run $i differs: $(diff <(sched "$a") \
			<(sched "$T/s$i/replay-7/schedule.txt") | head)"
done
cmp -s <(sched "$a") <(sched "$T/s4/replay-8/schedule.txt") &&
	t_fail "seeds 7 and 8 made the same schedule"
t_end

t_begin "a depth-2 ABBA across two processes: a deadlock, at once, with its cycle"
start=$(date +%s%N)
"$F" --strategy pct --runs 200 --seed 1 --stop-first --timeout 20000 \
	--out "$T/out" -- "$H" abba 2>"$T/err"
rc=$?
ms=$(ms_since "$start")
d=$T/out/failure-1
[ "$rc" = 1 ] || t_fail "exit $rc: $(cat "$T/err")"
grep -q '^kind: hang$' "$d/failure.txt" || t_fail "$(cat "$d/failure.txt")"
grep -q '^what: deadlock at step [0-9]* (pct): wait-for cycle: thread . (pid [0-9]*) waits for anon+0x28 held by thread .' \
	"$d/failure.txt" || t_fail "no cycle named: $(cat "$d/failure.txt")"
grep -q 'blocked in mutex lock on anon+0, held by tid' "$d/deadlock.txt" ||
	t_fail "deadlock.txt: $(cat "$d/deadlock.txt")"
grep -q -- '--strategy pct --depth 3 --pct-steps [0-9]' "$d/failure.txt" ||
	t_fail "replay line: $(cat "$d/failure.txt")"
# A deadlock is not a hang waited for: far below --timeout per run.
[ "$ms" -lt 15000 ] || t_fail "took $ms ms"
t_end

t_begin "--replay-schedule reproduces the deadlock, whatever the seed"
s=$d/schedule.txt
[ -s "$s" ] || t_fail "no schedule in $d"
for seed in "" 12345; do
	"$F" ${seed:+--replay $seed} --replay-schedule "$s" --timeout 20000 \
		--out "$T/r$seed" -- "$H" abba 2>"$T/rerr"
	rc=$?
	[ "$rc" = 1 ] || t_fail "seed '$seed': exit $rc: $(cat "$T/rerr")"
	grep -q 'failed again: deadlock' "$T/rerr" ||
		t_fail "seed '$seed': $(cat "$T/rerr")"
done
t_end

t_begin "a depth-3 ordering bug (two preemptions) is found"
"$F" --strategy pct --runs 600 --seed 1 --stop-first --out "$T/out" -- \
	"$H" order 2>"$T/err"
rc=$?
[ "$rc" = 1 ] || t_fail "exit $rc: $(tail -3 "$T/err")"
grep -q 'P Q P Q' "$T/out/failure-1/stdout.txt" ||
	t_fail "$(cat "$T/out/failure-1/failure.txt")"
p=$(sed -n 's/^preemptions //p' "$T/out/failure-1/schedule.txt")
[ "${p:-0}" -ge 2 ] || t_fail "$p preemption(s)"
t_end

t_begin "--minimize: fewer preemptions, still failing, replayable, with a trace"
"$F" --strategy pct --runs 600 --seed 1 --stop-first --minimize \
	--out "$T/out" -- "$H" order 2>"$T/err"
d=$T/out/failure-1
grep -q 'minimized: [0-9]* of [0-9]* preemptions removed' "$T/err" ||
	t_fail "$(cat "$T/err")"
a=$(sed -n 's/^preemptions //p' "$d/schedule.txt")
b=$(sed -n 's/^preemptions //p' "$d/schedule.min.txt")
[ -n "$b" ] && [ "$b" -le "$a" ] && [ "$b" -ge 2 ] ||
	t_fail "preemptions $a -> $b"
[ "$b" -lt "$a" ] && { [ -d "$d/minimized/trace" ] || t_fail "no trace"; }
"$F" --replay-schedule "$d/schedule.min.txt" --out "$T/r" -- \
	"$H" order 2>"$T/rerr"
[ $? = 1 ] || t_fail "schedule.min.txt does not fail: $(cat "$T/rerr")"
t_end

t_begin "every scheduled thread blocked on a semaphore: reported at once"
start=$(date +%s%N)
"$F" --strategy pct --runs 1 --timeout 20000 --out "$T/out" -- \
	"$H" stuck 2>"$T/err"
rc=$?
ms=$(ms_since "$start")
[ "$rc" = 1 ] || t_fail "exit $rc: $(cat "$T/err")"
[ "$ms" -lt 5000 ] || t_fail "took $ms ms for a 20 s --timeout"
grep -q 'every scheduled thread is blocked' "$T/out/failure-1/failure.txt" ||
	t_fail "$(cat "$T/out/failure-1/failure.txt")"
[ "$(grep -c 'blocked in sem_wait on anon+' \
	"$T/out/failure-1/deadlock.txt")" = 2 ] ||
	t_fail "$(cat "$T/out/failure-1/deadlock.txt")"
t_end

t_begin "a timed wait times out when nothing else can run (virtual time)"
start=$(date +%s%N)
"$F" --strategy pct --runs 5 --out "$T/out" -- "$H" timed 2>"$T/err" ||
	t_fail "$(cat "$T/err") $(cat "$T"/out/failure-*/stdout.txt)"
[ "$(ms_since "$start")" -lt 5000 ] || t_fail "an hour's timeout was waited"
t_end

t_begin "a read on a pipe between sync points does not hang the scheduler"
"$F" --strategy pct --runs 10 --seed 3 --timeout 20000 --out "$T/out" -- \
	"$H" pipe 2>"$T/err" || t_fail "$(cat "$T/err")"
t_end

t_begin "a child forked mid-run, and one killed while it holds the baton"
"$F" --strategy pct --runs 10 --seed 5 --timeout 20000 --out "$T/out" -- \
	"$H" forkkill 2>"$T/err" ||
	t_fail "$(cat "$T/err") $(cat "$T"/out/failure-*/failure.txt)"
t_end

t_begin "waits for a child, a thread, a pipe and SIGCHLD: in the scheduler, one schedule per seed"
for i in 1 2 3; do
	"$F" --strategy pct --replay 11 --timeout 20000 --out "$T/w$i" -- \
		"$H" waits 2>"$T/err$i"
	[ $? = 1 ] || t_fail "run $i: $(cat "$T/err$i")"
	grep -q '^count 120$' "$T/w$i/replay-11/stdout.txt" ||
		t_fail "run $i: $(cat "$T/w$i/replay-11/"*.txt)"
done
a=$T/w1/replay-11/schedule.txt
grep -q '^switch .* block$' "$a" || t_fail "nothing blocked: $(cat "$a")"
# No wait was left to the kernel (and the watchdog).
grep -q '^switch .* outside$' "$a" && t_fail "a wait went outside: $(cat "$a")"
for i in 2 3; do
	cmp -s <(sched "$a") <(sched "$T/w$i/replay-11/schedule.txt") ||
		t_fail "run $i differs: $(diff <(sched "$a") \
			<(sched "$T/w$i/replay-11/schedule.txt") | head)"
done
t_end

# pct_passes RUNS SEED MODE: RUNS pct runs of the helper in MODE, none failing.
pct_passes() {
	"$F" --strategy pct --runs "$1" --seed "$2" --timeout 20000 \
		--out "$T/out" -- "$H" "$3" 2>"$T/err" ||
		t_fail "$(cat "$T/err") $(cat "$T"/out/failure-*/stdout.txt \
			"$T"/out/failure-*/failure.txt 2>/dev/null)"
}

t_begin "a parent waiting for a child that is SIGKILLed or crashes is woken"
start=$(date +%s%N)
# Exit 0: the parent's waitpid returned each death (the grandchildren's
# signals are the parent's to judge, not shmfuzz's).
pct_passes 5 2 killwait
ms=$(ms_since "$start")
[ "$ms" -lt 15000 ] || t_fail "took $ms ms"
t_end

t_begin "waitpid(WNOHANG) does not block under pct"
pct_passes 10 4 nohang
t_end

t_begin "a wait for a child the scheduler does not run is no deadlock"
pct_passes 3 6 unprobed
t_end

t_begin "a rare lock-order inversion (one step in ~2500) is a hot step: found in a few runs"
"$F" --strategy pct --runs 40 --seed 1 --stop-first --timeout 20000 \
	--out "$T/out" -- "$H" abbalong 2>"$T/err"
rc=$?
d=$T/out/failure-1
[ "$rc" = 1 ] || t_fail "exit $rc: $(tail -3 "$T/err")"
grep -q '^what: deadlock at step [0-9]* (pct): wait-for cycle' \
	"$d/failure.txt" || t_fail "$(cat "$d/failure.txt")"
grep -q '^directed 1$' "$d/schedule.txt" || t_fail "$(head "$d/schedule.txt")"
# Within 10 runs: plain PCT needs ~1000 for a window of one step in 2500.
n=$(sed -n 's/^run: //p' "$d/failure.txt")
[ "${n:-99}" -lt 10 ] || t_fail "found in run $n"
t_end

t_begin "a hang the scheduler cannot see keeps the control segment's state: pct.txt"
# The shell's child, cat, blocks opening a FIFO nobody will open for
# writing: outside the probe's view.  (Not a sleep: under pct a sleep
# while another thread can run is a yield, virtual time, so "sleep 100"
# could end at once when the shell had not yet reached its wait.  cat
# opens its argument after exec, so the child is a traced image, not a
# vfork child blocked in the shell's redirection.)
mkfifo "$T/fifo" || t_fail "mkfifo"
"$F" --strategy pct --runs 1 --timeout 500 --out "$T/out" -- \
	sh -c "cat '$T/fifo'; true" 2>"$T/err"
[ $? = 1 ] || t_fail "a blocked open must hang: $(cat "$T/err")"
d=$T/out/failure-1
grep -q '^kind: hang' "$d/failure.txt" || t_fail "$(cat "$d/failure.txt")"
# the shell and its child: states vary with when the watchdog looked
grep -Eq '^holder -?[0-9]+ steps [0-9]+ deadlock [01] ' "$d/pct.txt" &&
	[ "$(grep -Ec '^thread [01] pid [0-9]+ tid [0-9]+: [a-z]+.* \(futex [0-9]+, [0-9]+ steps' \
		"$d/pct.txt")" = 2 ] ||
	t_fail "pct.txt: $(cat "$d/pct.txt" 2>&1)"
t_end

t_begin "pct options: checked, and refused where they make no sense"
"$F" --strategy pct --depth 0 -- true 2>"$T/err"
[ $? = 2 ] || t_fail "--depth 0 accepted"
"$F" --strategy noise --minimize -- true 2>"$T/err"
[ $? = 2 ] || t_fail "--minimize without pct accepted"
"$F" --replay-schedule /nonexistent -- true 2>"$T/err"
[ $? = 2 ] || t_fail "a missing schedule accepted"
"$F" --help | grep -q -- '--replay-schedule FILE' || t_fail "--help"
t_end

t_finish
