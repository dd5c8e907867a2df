#!/usr/bin/env bash
# shmfuzz campaigns: passing targets, failures found and recorded, replay,
# grandchildren, shards, the JSON summary and JUnit file, the environment
# each run gets.
. "$(dirname "$0")/lib.sh"
# shmfuzz preloads the (never sanitized) probe into sanitized targets.
export ASAN_OPTIONS="verify_asan_link_order=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
F=$BIN/shmfuzz
H=$BUILD/tests/helper_fuzz_target

# json FILE EXPR: print a Python expression over the JSON object `j`.
json() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }

t_begin "a target that always passes: exit 0, JSON says 0 failures"
"$F" --runs 30 --seed 7 --json --out "$T/out" -- "$H" pass >"$T/json" 2>"$T/err"
rc=$?
[ "$rc" = 0 ] || t_fail "exit $rc: $(tail -3 "$T/err")"
[ "$(json "$T/json" 'j["runs"], j["passed"], j["failed"], len(j["failures"])')" = "30 30 0 0" ] ||
	t_fail "json: $(cat "$T/json")"
[ -z "$(ls "$T/out")" ] || t_fail "a passing campaign left $(ls "$T/out")"
t_end

t_begin "each run gets its seed, strategy, run index and trace folder"
"$F" --runs 1 --seed 7 --strategy none --out "$T/out" -- sh -c "$H env; exit 1" 2>/dev/null
[ $? = 1 ] || t_fail "exit not 1"
d=$T/out/failure-1
grep -qx "SHMFUZZ_STRATEGY=none" "$d/stdout.txt" || t_fail "strategy: $(cat "$d/stdout.txt")"
grep -qx "SHMFUZZ_RUN=0" "$d/stdout.txt" || t_fail "no SHMFUZZ_RUN=0"
grep -qx "SHMFUZZ_SEED=$(cat "$d/seed")" "$d/stdout.txt" || t_fail "seed differs from $d/seed"
grep -qx "SHMPROBE_DIR=.*/runs/run-0/trace" "$d/stdout.txt" || t_fail "SHMPROBE_DIR"
t_end

t_begin "libshmprobe.so next to shmfuzz is preloaded into every run"
mkdir -p "$T/inst/bin" "$T/inst/lib"
cp "$F" "$T/inst/bin/shmfuzz"
lib=$(ldd "$H" | awk '/libc\.so/ { print $3 }')
cp "$lib" "$T/inst/lib/libshmprobe.so"
# sh, not the helper: under ASan a preload ahead of the sanitizer aborts.
"$T/inst/bin/shmfuzz" --runs 1 --out "$T/out" -- sh -c 'echo "LD_PRELOAD=$LD_PRELOAD"; exit 1' 2>/dev/null
grep -qx "LD_PRELOAD=$(realpath "$T/inst/lib/libshmprobe.so")" "$T/out/failure-1/stdout.txt" ||
	t_fail "$(cat "$T/out/failure-1/stdout.txt")"
if [ ! -e "$(dirname "$F")/../lib/libshmprobe.so" ]; then
	"$F" --runs 1 --out "$T/out2" -- sh -c "$H env; exit 1" 2>"$T/err"
	grep -qx "LD_PRELOAD=" "$T/out2/failure-1/stdout.txt" || t_fail "preloads without a probe"
	grep -q "libshmprobe.so not found" "$T/err" || t_fail "no word about the missing probe"
fi
t_end

t_begin "a target failing on some seeds: found, recorded, replayed"
"$F" --runs 60 --seed 11 --json --out "$T/out" -- "$H" seedfail 7 3 >"$T/json" 2>"$T/err"
rc=$?
[ "$rc" = 1 ] || t_fail "exit $rc"
n=$(json "$T/json" 'j["failed"]')
[ "$n" -ge 1 ] 2>/dev/null || t_fail "no failure in 60 runs: $(cat "$T/json")"
[ "$(json "$T/json" 'len(j["failures"])')" = 1 ] || t_fail "not grouped into one"
[ "$(json "$T/json" 'j["failures"][0]["count"]')" = "$n" ] || t_fail "count != failed"
[ "$(json "$T/json" 'j["failures"][0]["kind"]')" = exit ] || t_fail "kind"
d=$T/out/failure-1
for f in seed command failure.txt status.txt stdout.txt stderr.txt trace seeds.txt count.txt; do
	[ -e "$d/$f" ] || t_fail "no $f in failure-1"
done
seed=$(cat "$d/seed")
[ "$seed" = "$(json "$T/json" 'j["failures"][0]["first_seed"]')" ] || t_fail "first_seed"
[ $((seed % 7)) = 3 ] || t_fail "recorded seed $seed does not fail"
[ "$(wc -l <"$d/seeds.txt")" = "$n" ] || t_fail "seeds.txt has not $n lines"
while read -r s _; do
	[ $((s % 7)) = 3 ] || t_fail "seed $s in seeds.txt does not fail"
done <"$d/seeds.txt"
grep -q 'exit 3' "$d/status.txt" || t_fail "status.txt: $(cat "$d/status.txt")"
"$F" --replay "$seed" --out "$T/out" -- "$H" seedfail 7 3 2>"$T/rerr"
rc=$?
[ "$rc" = 1 ] || t_fail "--replay $seed exited $rc"
grep -q "seed $seed failed again" "$T/rerr" || t_fail "replay says: $(cat "$T/rerr")"
"$F" --replay 1 --out "$T/out" -- "$H" seedfail 7 3 2>"$T/rerr"
rc=$?
[ "$rc" = 0 ] || t_fail "--replay of a passing seed exited $rc"
grep -q "seed 1 passed" "$T/rerr" || t_fail "replay says: $(cat "$T/rerr")"
"$F" --replay "$seed" --json --out "$T/out" -- "$H" seedfail 7 3 >"$T/rj" 2>/dev/null
[ "$(json "$T/rj" 'j["replay"], j["failed"], j["kind"]')" = "$seed True exit" ] ||
	t_fail "replay --json: $(cat "$T/rj")"
"$F" --replay 1 --json --out "$T/out" -- "$H" seedfail 7 3 >"$T/rj" 2>/dev/null
[ "$(json "$T/rj" 'j["replay"], j["failed"], j["folder"]')" = "1 False None" ] ||
	t_fail "replay --json: $(cat "$T/rj")"
t_end

t_begin "--stop-first ends the campaign at the first failure"
"$F" --runs 500 --seed 11 --stop-first --json --out "$T/out" -- "$H" seedfail 7 3 >"$T/json" 2>/dev/null
[ $? = 1 ] || t_fail "exit not 1"
[ "$(json "$T/json" 'j["failed"]')" = 1 ] || t_fail "failed: $(json "$T/json" 'j["failed"]')"
[ "$(json "$T/json" 'j["runs"] < 500')" = True ] || t_fail "ran on"
t_end

t_begin "a grandchild that crashes after its parent exited is detected"
"$F" --runs 3 --seed 1 --json --out "$T/out" -- "$H" grandchild >"$T/json" 2>"$T/err"
[ $? = 1 ] || t_fail "exit not 1"
# Under ASan the SIGSEGV is caught by the sanitizer, which exits 1.
if [ -n "${SAN:-}" ]; then want="exit 3"; line='child helper_fuzz_tar exit [1-9]'
else want="signal 3"; line='child helper_fuzz_tar signal 11 SIGSEGV'; fi
[ "$(json "$T/json" 'j["failures"][0]["kind"], j["failures"][0]["count"]')" = "$want" ] ||
	t_fail "$(cat "$T/json")"
grep -Eq "$line" "$T/out/failure-1/status.txt" ||
	t_fail "status: $(cat "$T/out/failure-1/status.txt")"
t_end

t_begin "--shard 0/2 and 1/2 cover the campaign, disjoint"
for s in 0/2 1/2 all; do
	o=$T/out-${s%/2}
	if [ $s = all ]; then sh=; else sh="--shard $s"; fi
	"$F" --runs 21 --seed 99 $sh --out "$o" -- "$H" seedfail 1 0 2>/dev/null
	awk '{ print $1 }' "$o/failure-1/seeds.txt" | sort >"$T/seeds-${s%/2}"
done
[ "$(wc -l <"$T/seeds-0")" = 11 ] || t_fail "shard 0 ran $(wc -l <"$T/seeds-0")"
[ "$(wc -l <"$T/seeds-1")" = 10 ] || t_fail "shard 1 ran $(wc -l <"$T/seeds-1")"
[ -z "$(comm -12 "$T/seeds-0" "$T/seeds-1")" ] || t_fail "shards overlap"
sort -m "$T/seeds-0" "$T/seeds-1" | cmp -s - "$T/seeds-all" || t_fail "union differs"
t_end

t_begin "--junit: valid XML, a testcase per failure kind, one for a pass"
"$F" --runs 40 --seed 3 --jobs 2 --junit "$T/f.xml" --out "$T/out" -- "$H" seedfail 5 1 2>/dev/null
[ $? = 1 ] || t_fail "exit not 1"
python3 - "$T/f.xml" <<'PY' || t_fail "bad JUnit (failing)"
import sys, xml.etree.ElementTree as ET
s = ET.parse(sys.argv[1]).getroot().find("testsuite")
cases = s.findall("testcase")
assert len(cases) == 1 and cases[0].find("failure") is not None, cases
assert s.get("failures") == "1"
PY
"$F" --runs 5 --junit "$T/p.xml" --out "$T/out" -- "$H" pass 2>/dev/null || t_fail "pass exit"
python3 - "$T/p.xml" <<'PY' || t_fail "bad JUnit (passing)"
import sys, xml.etree.ElementTree as ET
s = ET.parse(sys.argv[1]).getroot().find("testsuite")
cases = s.findall("testcase")
assert len(cases) == 1 and cases[0].find("failure") is None
assert s.get("failures") == "0"
PY
t_end

t_begin "--time bounds the campaign"
start=$(date +%s%N)
"$F" --time 1 --json --out "$T/out" -- "$H" pass >"$T/json" 2>/dev/null
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
[ "$rc" = 0 ] || t_fail "exit $rc"
[ "$ms" -ge 1000 ] && [ "$ms" -lt 4000 ] || t_fail "took $ms ms"
[ "$(json "$T/json" 'j["runs"] > 10')" = True ] || t_fail "runs: $(json "$T/json" 'j["runs"]')"
t_end

t_begin "--runs and --time together: whichever comes first"
# The run count comes first: 5 quick runs, long before 60 s.
"$F" --runs 5 --time 60 --json --out "$T/out" -- "$H" pass >"$T/json" 2>"$T/err"
rc=$?
[ "$rc" = 0 ] || t_fail "exit $rc: $(tail -3 "$T/err")"
[ "$(json "$T/json" 'j["runs"], j["seconds"] < 30')" = "5 True" ] ||
	t_fail "--runs 5 --time 60: $(cat "$T/json")"
# The time comes first: a second is far too short for a million runs.
start=$(date +%s%N)
"$F" --runs 1000000 --time 1 --json --out "$T/out" -- "$H" pass >"$T/json" 2>"$T/err"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
[ "$rc" = 0 ] || t_fail "exit $rc: $(tail -3 "$T/err")"
[ "$ms" -ge 1000 ] && [ "$ms" -lt 4000 ] || t_fail "took $ms ms"
[ "$(json "$T/json" '0 < j["runs"] < 1000000')" = True ] ||
	t_fail "--runs 1000000 --time 1: $(json "$T/json" 'j["runs"]') runs"
t_end

t_begin "--jobs 2 runs the same seeds as --jobs 1"
for j in 1 2; do
	"$F" --runs 40 --seed 5 --jobs $j --out "$T/o$j" -- "$H" seedfail 4 1 2>/dev/null
	sort "$T/o$j/failure-1/seeds.txt" >"$T/s$j"
done
[ -s "$T/s1" ] || t_fail "no failure"
cmp -s "$T/s1" "$T/s2" || t_fail "seeds differ: $(diff "$T/s1" "$T/s2")"
t_end

t_begin "the ring is a passing target, with --jobs 2"
"$F" --runs 6 --jobs 2 --json --out "$T/out" -- "$BIN/ring" -p 2 -c 2 -m 300 >"$T/json" 2>"$T/err"
[ $? = 0 ] || t_fail "exit: $(tail -3 "$T/err")"
[ "$(json "$T/json" 'j["passed"]')" = 6 ] || t_fail "$(cat "$T/json")"
t_end

t_finish
