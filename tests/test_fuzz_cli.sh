#!/usr/bin/env bash
# shmfuzz's command line: --help/--version, every bad option refused with
# status 2 and a message, --strategy pct accepted.
. "$(dirname "$0")/lib.sh"
# shmfuzz preloads the (never sanitized) probe into sanitized targets.
export ASAN_OPTIONS="verify_asan_link_order=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
F=$BIN/shmfuzz
H=$BUILD/tests/helper_fuzz_target

t_begin "--help and --version"
"$F" --help >"$T/out" 2>&1 || t_fail "--help exit $?"
grep -q '^usage: shmfuzz' "$T/out" || t_fail "--help prints no usage"
for o in --runs --time --seed --jobs --timeout --strategy -l --check-hz \
	--out --junit --json --shard --replay --valgrind --stop-first; do
	grep -q -- "$o" "$T/out" || t_fail "--help does not mention $o"
done
"$F" --version >"$T/out" 2>&1 || t_fail "--version exit $?"
grep -Eq '^shmfuzz [0-9]+\.[0-9]+' "$T/out" || t_fail "--version: $(cat "$T/out")"
t_end

# bad ARGS... : exit 2 with a "shmfuzz: " message, no run started
bad() {
	"$F" --out "$T/out" "$@" >"$T/o" 2>"$T/e"
	local rc=$?
	[ "$rc" = 2 ] || t_fail "shmfuzz $* exited $rc, not 2"
	grep -q '^shmfuzz: ' "$T/e" || t_fail "shmfuzz $*: no message: $(cat "$T/e")"
	[ ! -e "$T/out" ] || t_fail "shmfuzz $*: made an out folder"
}

t_begin "bad options exit 2"
bad --runs 0 -- "$H" pass
bad --runs x -- "$H" pass
bad --time -1 -- "$H" pass
bad --runs 3 --time 2 -- "$H" pass
bad --jobs 0 -- "$H" pass
bad --timeout 0 -- "$H" pass
bad --strategy chaos -- "$H" pass
bad --shard 2/2 --seed 1 -- "$H" pass
bad --shard 1 --seed 1 -- "$H" pass
bad --shard 0/2 -- "$H" pass
bad --valgrind massif -- "$H" pass
bad --check-hz 0 -- "$H" pass
bad --bogus -- "$H" pass
bad -l /nonexistent/x.layout -- "$H" pass
printf 'struct s { int x; } @check(y == 1);\n' >"$T/bad.layout"
bad -l "$T/bad.layout" -- "$H" pass
bad --runs 1
bad --runs 1 -- /nonexistent/prog
t_end

t_begin "--strategy pct is accepted (tests/test_pct_fuzz.sh tests it)"
"$F" --strategy pct --runs 2 --out "$T/out" -- "$H" pass >"$T/o" 2>"$T/e"
rc=$?
[ "$rc" = 0 ] || t_fail "exit $rc: $(cat "$T/e")"
t_end

t_begin "-l LAYOUT and --check-hz are accepted"
"$F" --runs 2 -l testprogs/ring.layout --check-hz 50 --out "$T/out" -- "$H" pass 2>"$T/e"
rc=$?
[ "$rc" = 0 ] || t_fail "exit $rc: $(cat "$T/e")"
t_end

t_finish
