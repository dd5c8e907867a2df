#!/usr/bin/env bash
# The probe's noise strategy (SHMFUZZ_STRATEGY=noise): decisions replay
# with the seed, process and thread indices do not depend on pids, exec
# keeps the index, none/unset decides nothing; created.PID.txt lists what
# a program created.
. "$(dirname "$0")/lib.sh"

H=$BUILD/tests/helper_noise_race
PROBE=$(realpath "$LIBDIR/libshmprobe.so")
export ASAN_OPTIONS=verify_asan_link_order=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}

# under DIR STRATEGY SEED CMD...: run CMD under the probe as shmfuzz would,
# with the decision log on.
under() {
	local dir=$1 strat=$2 seed=$3
	shift 3
	mkdir -p "$dir"
	env SHMPROBE_DIR="$dir" SHMFUZZ_STRATEGY="$strat" SHMFUZZ_SEED="$seed" \
		SHMPROBE_NOISE_LOG=1 LD_PRELOAD="$PROBE" "$@"
}

# decisions DIR: every decision of the run, ordered by (process, exec
# generation, thread, count): each thread's sequence, whatever the pids.
decisions() {
	cat "$1"/noise-*.txt 2>/dev/null | sort -k1,1 -k2,2n -k3,3 -k4,4n
}

t_begin "the same seed makes the same decisions in every process and thread"
under "$T/a" noise 42 "$H" tree "$(t_name ta)" >"$T/a.out" || t_fail "run a: exit $?"
under "$T/b" noise 42 "$H" tree "$(t_name tb)" >"$T/b.out" || t_fail "run b: exit $?"
decisions "$T/a" >"$T/a.dec"
decisions "$T/b" >"$T/b.dec"
[ -s "$T/a.dec" ] || t_fail "no decision logged"
cmp -s "$T/a.dec" "$T/b.dec" || t_fail "seed 42 twice: $(diff "$T/a.dec" "$T/b.dec" | head -5)"
# Four images (main, two children, the exec'd leaf), three threads in main.
n=$(grep -c '^process ' "$T/a.dec")
[ "$n" = 4 ] || t_fail "$n process lines, want 4"
for k in sleep yield spin; do
	grep -q " $k " "$T/a.dec" || t_fail "no $k decision"
done
t_end

t_begin "a different seed makes different decisions"
under "$T/a" noise 42 "$H" tree "$(t_name ta)" >/dev/null || t_fail "run a"
under "$T/c" noise 43 "$H" tree "$(t_name tc)" >/dev/null || t_fail "run c"
decisions "$T/a" | grep -v '^process' >"$T/a.dec"
decisions "$T/c" | grep -v '^process' >"$T/c.dec"
cmp -s "$T/a.dec" "$T/c.dec" && t_fail "seeds 42 and 43 decided alike"
t_end

t_begin "process index: 0 for the first, derived over fork, kept over exec"
under "$T/a" noise 7 "$H" tree "$(t_name tp)" >/dev/null || t_fail "run"
grep -h '^process ' "$T"/a/noise-*.txt | sort >"$T/procs"
grep -q '^process 0 gen 0 ' "$T/procs" || t_fail "no process 0: $(cat "$T/procs")"
# The child that exec'd: one index, generations 0 and 1, one pid's file.
leaf=$(awk '$4 == 1 { print $2 }' "$T/procs")
[ -n "$leaf" ] && [ "$leaf" != 0 ] || t_fail "no exec'd image: $(cat "$T/procs")"
grep -q "^process $leaf gen 0 " "$T/procs" || t_fail "exec changed the index"
f=$(grep -l "^process $leaf gen 1 " "$T"/a/noise-*.txt)
grep -q "^process $leaf gen 0 " "$f" || t_fail "gen 0 and 1 not in one pid's file"
# Threads 0, 1, 2 of process 0 all decided something (1000 points each).
for th in 0 1 2; do
	awk -v t=$th '$1 == 0 && $2 == 0 && $3 == t' "$T"/a/noise-*.txt |
		grep -q . || t_fail "no decision of thread $th"
done
t_end

t_begin "strategy none, an unknown one, or unset: no decision at all"
for s in none pct ""; do
	rm -rf "$T/n"
	under "$T/n" "$s" 42 "$H" tree "$(t_name tn)" >/dev/null || t_fail "run '$s'"
	ls "$T"/n/noise-*.txt >/dev/null 2>&1 && t_fail "strategy '$s' decided"
	ls "$T"/n/*.shmtrace >/dev/null 2>&1 || t_fail "strategy '$s': no trace"
done
# Without SHMPROBE_DIR the probe is inert, noise or not: it runs as plain.
env SHMFUZZ_STRATEGY=noise SHMFUZZ_SEED=1 SHMPROBE_NOISE_LOG=1 \
	LD_PRELOAD="$PROBE" "$H" tree "$(t_name ti)" >/dev/null ||
	t_fail "inert run: exit $?"
t_end

t_begin "created.PID.txt lists the segment, semaphore and SysV segment made"
name=$(t_name cr)
under "$T/a" none 1 "$H" tree "$name" >"$T/out" || t_fail "run: exit $?"
id=$(awk '/^sysv/ { print $2 }' "$T/out")
cat "$T"/a/created.*.txt >"$T/created" 2>/dev/null
[ "$(grep -cx "$name" "$T/created")" = 1 ] ||
	t_fail "segment $name not listed once: $(cat "$T/created")"
grep -qx "sem:$name-sem" "$T/created" || t_fail "no sem:$name-sem"
grep -qx "sysv:$id" "$T/created" || t_fail "no sysv:$id: $(cat "$T/created")"
[ "$(wc -l <"$T/created")" = 3 ] || t_fail "more lines: $(cat "$T/created")"
t_end

t_begin "pinning: the seed pins the run to one CPU, or leaves it"
all=$("$H" cpus)
seen=""
for seed in 1 2 3 4 5 6 7 8 9 10 11 12; do
	rm -rf "$T/p"
	n=$(under "$T/p" noise $seed "$H" cpus) || t_fail "seed $seed: exit $?"
	read -r _ _ _ _ _ _ _ pin _ cpu <"$(ls "$T"/p/noise-*.txt)"
	if [ "$pin" = 0 ] || [ "$all" = 1 ]; then
		want=$all
	else
		want=1
	fi
	[ "$n" = "$want" ] || t_fail "seed $seed: pin $pin cpu $cpu, $n CPUs allowed, want $want"
	seen="$seen $pin"
done
if [ "$all" -gt 1 ]; then
	for m in 0 1 2; do
		case " $seen " in *" $m "*) ;; *) t_fail "pin mode $m never chosen:$seen" ;; esac
	done
fi
t_end

t_finish
