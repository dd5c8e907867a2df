#!/usr/bin/env bash
# shmfuzz --valgrind memcheck: the tool's errors fail the run, grouped by
# the first error; a clean target passes under it.
. "$(dirname "$0")/lib.sh"
# shmfuzz preloads the (never sanitized) probe into sanitized targets.
export ASAN_OPTIONS="verify_asan_link_order=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
F=$BIN/shmfuzz
H=$BUILD/tests/helper_fuzz_target

json() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }

if [ -n "${SAN:-}" ] || ! command -v valgrind >/dev/null; then
	echo "SKIP: test_fuzz_valgrind.sh: no valgrind (or a sanitized build)"
	t_finish
fi

t_begin "--valgrind memcheck: an invalid read is a valgrind failure"
"$F" --runs 2 --valgrind memcheck --timeout 20000 --json --out "$T/out" -- "$H" badread >"$T/json" 2>"$T/err"
[ $? = 1 ] || t_fail "exit not 1: $(cat "$T/err")"
[ "$(json "$T/json" 'j["failures"][0]["kind"], j["failures"][0]["count"]')" = "valgrind 2" ] ||
	t_fail "$(cat "$T/json")"
json "$T/json" 'j["failures"][0]["signature"]' | grep -q 'memcheck: Invalid read' ||
	t_fail "signature: $(json "$T/json" 'j["failures"][0]["signature"]')"
ls "$T/out/failure-1"/valgrind.*.log >/dev/null 2>&1 || t_fail "no valgrind log kept"
t_end

t_begin "--valgrind memcheck: a clean target passes"
"$F" --runs 2 --valgrind memcheck --timeout 20000 --out "$T/out" -- "$H" pass 2>"$T/err" ||
	t_fail "exit $?: $(cat "$T/err")"
t_end

t_finish
