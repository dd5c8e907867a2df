#!/usr/bin/env bash
# shmtrace's command line, the probe's exported symbols, --events and
# --backtrace, and the probe under valgrind's memcheck.
. "$(dirname "$0")/lib.sh"

H=$BUILD/tests/helper_probe_scenarios
ST=$BIN/shmtrace
PROBE=$LIBDIR/libshmprobe.so
export ASAN_OPTIONS=verify_asan_link_order=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}

t_begin "shmtrace --help, --version, and usage errors exit 2"
"$ST" --help >"$T/out" 2>&1 || t_fail "--help exit $?"
grep -q 'usage:' "$T/out" || t_fail "--help prints no usage"
"$ST" --version >"$T/out" 2>&1 || t_fail "--version exit $?"
grep -Eq '^shmtrace [0-9]+\.[0-9]+' "$T/out" || t_fail "--version: $(cat "$T/out")"
for args in "" "frobnicate" "record" "report" "export $T" "record --events bogus -- true" \
	"record --backtrace 99 -- true"; do
	# shellcheck disable=SC2086
	"$ST" $args >"$T/out" 2>&1
	st=$?
	[ "$st" = 2 ] || t_fail "'shmtrace $args' exit $st, want 2"
done
for c in record report export dump; do
	"$ST" $c --help >"$T/out" 2>&1 || t_fail "$c --help exit $?"
	grep -q 'usage:' "$T/out" || t_fail "$c --help prints no usage"
done
"$ST" report "$T/nonexistent" 2>"$T/err" && t_fail "report of nothing succeeded"
grep -q '^shmtrace: ' "$T/err" || t_fail "error message: $(cat "$T/err")"
t_end

t_begin "a file that is not a trace is refused with a message, never a crash"
mkdir -p "$T/bad"
head -c 100000 /dev/urandom >"$T/bad/1-1.shmtrace"
"$ST" report "$T/bad" >"$T/out" 2>"$T/err"
[ $? = 1 ] || t_fail "exit status"
grep -q 'not a shmtrace file' "$T/err" || t_fail "message: $(cat "$T/err")"
# A real trace whose chunks are cut off: what is there is reported.
"$ST" record -o "$T/tr" -- "$H" fork "$(t_name cut)" 100 2>/dev/null
for f in "$T"/tr/*.shmtrace; do truncate -s 2000000 "$f"; done
"$ST" report "$T/tr" >"$T/out" 2>"$T/err" || t_fail "truncated: $(cat "$T/err")"
t_end

t_begin "libshmprobe.so exports only its hooks"
nm -D --defined-only "$PROBE" | awk '{print $3}' | sort >"$T/syms"
bad=$(grep -Ev '^(pthread_(mutex|rwlock|cond|spin)_[a-z]+|pthread_(create|exit)|sem_[a-z]+|shm_(open|unlink)|mmap|mmap64|munmap|mremap|ftruncate|ftruncate64|shmget|shmat|shmdt|fork|exec[lvpe]*|exit|_exit|_Exit|sched_yield|nanosleep|clock_nanosleep|usleep|sleep|wait|waitpid|wait3|wait4|waitid|sigwait|sigwaitinfo|sigtimedwait|pthread_join|read|write|close|kill|[A-Z_]*GLIBC[A-Z_0-9.]*)$' "$T/syms")
[ -z "$bad" ] || t_fail "exports more: $bad"
grep -qx pthread_mutex_lock "$T/syms" || t_fail "no pthread_mutex_lock"
t_end

t_begin "--events sem records semaphores and nothing else"
"$ST" record -o "$T/tr" --events sem -- "$H" killed "$(t_name ev)" 20 \
	2>"$T/err" || t_fail "record: $(cat "$T/err")"
"$ST" dump "$T/tr" >"$T/dump" || t_fail "dump"
grep -q ' sem_post ' "$T/dump" || t_fail "no sem_post"
grep -q ' mutex_' "$T/dump" && t_fail "mutex events recorded"
t_end

t_begin "CLOCK_MONOTONIC instead of the TSC (machines without an invariant one)"
SHMPROBE_CLOCK=monotonic "$ST" record -o "$T/tr" -- "$H" abba "$(t_name mono)" \
	2>"$T/err" || t_fail "record: $(cat "$T/err")"
"$ST" dump "$T/tr" | grep -q 'clock monotonic' || t_fail "not monotonic"
"$ST" report "$T/tr" | grep -q 'lock-order cycles: 1' || t_fail "no cycle"
t_end

t_begin "--backtrace 4 records whole stacks, symbolised with file:line"
"$ST" record -o "$T/tr" --backtrace 4 -- "$H" noexit "$(t_name bt)" 5 \
	2>"$T/err" || t_fail "record: $(cat "$T/err")"
"$ST" report --frames 4 "$T/tr" >"$T/rep" || t_fail "report"
grep -q 'lock_n+0x[0-9a-f]* (helper_probe_scenarios.c:[0-9]*) <- main+' "$T/rep" ||
	t_fail "stack: $(grep -A3 'call sites' "$T/rep")"
t_end

t_begin "report --segment keeps one segment"
seg=$(t_name seg)
"$ST" record -o "$T/tr" -- "$H" fork "$seg" 3 2>"$T/err" || t_fail "record"
"$ST" report --segment "$seg" "$T/tr" >"$T/rep" || t_fail "report"
grep -q "^  $seg+0x0  \[mutex\]" "$T/rep" || t_fail "lock missing: $(cat "$T/rep")"
"$ST" report --segment /no-such-segment "$T/tr" >"$T/rep" || t_fail "report"
grep -q "^locks (0" "$T/rep" || t_fail "not filtered: $(cat "$T/rep")"
t_end

t_begin "the probe under valgrind memcheck: no errors, events recorded"
if [ -n "$SAN" ]; then
	echo "SKIP: $T_FILE: valgrind does not run sanitized programs"
elif ! command -v valgrind >/dev/null; then
	echo "SKIP: $T_FILE: valgrind is not installed"
else
	"$ST" record -o "$T/tr" -- valgrind --tool=memcheck --error-exitcode=99 \
		--log-file="$T/vg.log" "$H" contend "$(t_name vg)" 100 \
		2>"$T/err"
	st=$?
	[ "$st" = 0 ] || t_fail "exit $st: $(cat "$T/vg.log")"
	grep -q 'ERROR SUMMARY: 0 errors' "$T/vg.log" ||
		t_fail "memcheck: $(cat "$T/vg.log")"
	"$ST" report --json "$T/tr" >"$T/r.json" || t_fail "report"
	python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
l = [l for l in r["locks"] if l["name"].endswith("+0x0")]
assert l and l[0]["acquisitions"] == 400, l
' "$T/r.json" || t_fail "counts under valgrind"
fi
t_end

t_begin "events of two CPUs sorted slightly out of order are no misuse"
# A real trace of bug-abba --fixed (4 processes, correct locking) in which an
# acquisition sorts before the previous holder's unlock: the TSCs of two
# vCPUs differ by more than the reader's slack.  It once reported
# unlock-not-owner and unlock-not-held.
tar -xzf tests/probe/abba-reordered.tgz -C "$T" || t_fail "untar"
"$ST" report --json "$T/trace" >"$T/rep.json" 2>"$T/err" || t_fail "report: $(cat "$T/err")"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["misuse"] == [], d["misuse"]; assert d["locks"][0]["acquisitions"] > 100' \
	"$T/rep.json" || t_fail "misuse reported on a correct program"
t_end

t_finish
