#!/usr/bin/env bash
# shmfuzz with a layout: @check sampled during runs and confirmed before a
# run fails; misuse from the probe's trace; a hang's diagnosis names the
# locks by field path, their owners, dead owners and the wait-for cycle.
. "$(dirname "$0")/lib.sh"
# Runs preload the (uninstrumented) probe into sanitized test programs.
export ASAN_OPTIONS=verify_asan_link_order=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}
F=$BIN/shmfuzz
H=$BUILD/tests/helper_fuzzwire_target

json() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }

new_name() {
	N=/shmscope-t-fw-$1-$$-$RANDOM
	t_shm "$N"
}

# The segment of tests/helper_fuzzwire_target.c; no @segment: the sampler
# finds the run's segment by what its processes map.
layout() {
	cat >"$T/fw.layout" <<'EOF'
struct fw {
	uint32_t        magic @expect(0x46575752) @hex;
	pthread_mutex_t lock;
	pthread_mutex_t l1;
	pthread_mutex_t l2;
	uint32_t        a;
	uint32_t        b;
} @check(a == b);
EOF
}

t_begin "a check broken only while the lock is held does not fail the run"
new_name trans
layout
# 10 ms of every 11 the check reads broken, inside the critical section.
"$F" --runs 3 --check-hz 200 -l "$T/fw.layout" --json --out "$T/out" \
	-- "$H" transient "$N" 400 >"$T/json" 2>"$T/err"
rc=$?
[ "$rc" = 0 ] || t_fail "exit $rc: $(cat "$T/json" "$T/err")"
[ "$(json "$T/json" 'j["passed"]')" = 3 ] || t_fail "$(cat "$T/json")"
[ ! -e "/dev/shm/${N#/}" ] || t_fail "$N left in /dev/shm"
t_end

t_begin "the same broken check without the lock fails the run: kind check"
new_name unl
layout
"$F" --runs 1 --check-hz 200 -l "$T/fw.layout" --json --out "$T/out" \
	-- "$H" unlocked "$N" 2000 >"$T/json" 2>"$T/err"
rc=$?
[ "$rc" = 1 ] || t_fail "exit $rc: $(cat "$T/err")"
[ "$(json "$T/json" 'j["failures"][0]["kind"], j["failures"][0]["signature"]')" = "check a == b" ] ||
	t_fail "$(cat "$T/json")"
t_end

t_begin "a check broken for good fails the run, named by its expression"
new_name brk
layout
start=$(date +%s%N)
"$F" --runs 1 -l "$T/fw.layout" --json --out "$T/out" \
	-- "$H" break "$N" 5000 >"$T/json" 2>"$T/err"
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
[ "$rc" = 1 ] || t_fail "exit $rc: $(cat "$T/err")"
[ "$(json "$T/json" 'j["failures"][0]["kind"], j["failures"][0]["signature"]')" = "check a == b" ] ||
	t_fail "$(cat "$T/json")"
# The default 10 Hz finds it long before the target's 5 s are over.
[ "$ms" -lt 3000 ] || t_fail "took $ms ms"
grep -q "^what: layout check a == b failed in $N where a = 7, b = 0 (confirmed by re-sampling)$" \
	"$T/out/failure-1/failure.txt" ||
	t_fail "failure.txt: $(cat "$T/out/failure-1/failure.txt")"
[ ! -e "/dev/shm/${N#/}" ] || t_fail "$N left in /dev/shm"
t_end

t_begin "@segment: the layout's own segment is sampled"
new_name seg
layout
sed "s|^struct fw {|struct fw @segment(\"$N\") {|" "$T/fw.layout" >"$T/seg.layout"
"$F" --runs 1 -l "$T/seg.layout" --json --out "$T/out" \
	-- "$H" break "$N" 5000 >"$T/json" 2>"$T/err"
[ "$(json "$T/json" 'j["failures"][0]["kind"]')" = check ] || t_fail "$(cat "$T/json" "$T/err")"
t_end

t_begin "a segment smaller than the layout's root is not sampled"
new_name small
printf 'struct big { uint32_t a; uint32_t b; char pad[8192]; } @check(a == b);\n' >"$T/big.layout"
"$F" --runs 1 -l "$T/big.layout" --json --out "$T/out" \
	-- "$H" break "$N" 300 >"$T/json" 2>"$T/err"
[ $? = 0 ] || t_fail "$(cat "$T/json" "$T/err")"
t_end

t_begin "another big segment whose @expect never holds is not judged"
new_name decoy
t_shm "$N-decoy"
layout
"$F" --runs 1 --check-hz 50 -l "$T/fw.layout" --json --out "$T/out" \
	-- "$H" decoy "$N" 2500 >"$T/json" 2>"$T/err"
[ $? = 0 ] || t_fail "$(cat "$T/json" "$T/err")"
# Without the @expect it is judged: the test can fail.
sed "s/ @expect(0x46575752)//" "$T/fw.layout" >"$T/nomagic.layout"
"$F" --runs 1 --check-hz 50 -l "$T/nomagic.layout" --json --out "$T/out2" \
	-- "$H" decoy "$N" 500 >"$T/json" 2>"$T/err"
[ "$(json "$T/json" 'j["failures"][0]["kind"]')" = check ] || t_fail "no magic: $(cat "$T/json" "$T/err")"
t_end

t_begin "unlock by a non-owner: kind misuse, the object by field path"
new_name own
layout
"$F" --runs 2 -l "$T/fw.layout" --json --out "$T/out" \
	-- "$H" nonowner "$N" >"$T/json" 2>"$T/err"
rc=$?
[ "$rc" = 1 ] || t_fail "exit $rc: $(cat "$T/err")"
[ "$(json "$T/json" 'j["failures"][0]["kind"], j["failures"][0]["signature"], j["failures"][0]["count"]')" = \
	"misuse unlock-not-owner fw.lock 2" ] || t_fail "$(cat "$T/json")"
[ -s "$T/out/failure-1/report.json" ] || t_fail "no report.json"
t_end

t_begin "without a layout the misuse names the segment, digits squashed"
new_name own
"$F" --runs 2 --json --out "$T/out" -- "$H" nonowner "$N" >"$T/json" 2>"$T/err"
sig=$(json "$T/json" 'j["failures"][0]["signature"], j["failures"][0]["count"]')
case "$sig" in
"unlock-not-owner /shmscope-t-fw-own-#-#+0x8 2") ;;
*) t_fail "signature: $sig" ;;
esac
t_end

t_begin "a two-process ABBA deadlock: the diagnosis names the cycle by field path"
new_name abba
layout
"$F" --runs 1 --timeout 400 -l "$T/fw.layout" --json --out "$T/out" \
	-- "$H" abba "$N" >"$T/json" 2>"$T/err"
rc=$?
[ "$rc" = 1 ] || t_fail "exit $rc: $(cat "$T/err")"
d=$T/out/failure-1
[ "$(json "$T/json" 'j["failures"][0]["kind"]')" = hang ] || t_fail "$(cat "$T/json")"
python3 - "$d/diagnosis.json" <<'PY' || t_fail "diagnosis: $(cat "$d/diagnosis.txt")"
import json, re, sys
j = json.load(open(sys.argv[1]))
f = j["findings"]
m = re.search(r"wait-for cycle \(deadlock\): (\d+) \(\S+\) waits for (fw\.l[12]) held by (\d+) \(\S+\); "
              r"(\d+) \(\S+\) waits for (fw\.l[12]) held by (\d+)", f)
assert m, f
a, la, b, b2, lb, a2 = m.groups()
assert a != b and b == b2 and a == a2 and {la, lb} == {"fw.l1", "fw.l2"}, m.groups()
pids = {str(p["pid"]) for p in j["processes"]}
assert a in pids and b in pids, (a, b, pids)
notes = [t.get("note", "") for p in j["processes"] for t in p["threads"]]
assert sum("waits on fw.l" in n and "alive" in n for n in notes) == 2, notes
PY
grep -q "futex fw.l1" <<<"$(json "$T/json" 'j["failures"][0]["signature"]')" ||
	t_fail "signature: $(json "$T/json" 'j["failures"][0]["signature"]')"
[ ! -e "/dev/shm/${N#/}" ] || t_fail "$N left in /dev/shm"
t_end

t_begin "a holder gone with a non-robust mutex held: owner-dead, the lock named"
new_name dead
layout
"$F" --runs 1 --timeout 400 -l "$T/fw.layout" --json --out "$T/out" \
	-- "$H" deadowner "$N" >"$T/json" 2>"$T/err"
rc=$?
[ "$rc" = 1 ] || t_fail "exit $rc: $(cat "$T/err")"
d=$T/out/failure-1
grep -Eq "^owner-dead: fw.lock held by [0-9]+ \(helper_fuzzwire\) which is gone$" "$d/diagnosis.txt" ||
	t_fail "diagnosis: $(cat "$d/diagnosis.txt")"
grep -q "waits on fw.lock (mutex, owner-dead), held by [0-9]* (helper_fuzzwire, gone)" "$d/diagnosis.txt" ||
	t_fail "no thread note: $(cat "$d/diagnosis.txt")"
t_end

t_begin "without -l the diagnosis stays by segment and offset"
new_name abba
"$F" --runs 1 --timeout 300 --out "$T/out" -- "$H" abba "$N" >/dev/null 2>&1
d=$T/out/failure-1
grep -q "futex $N+0x" "$d/diagnosis.txt" || t_fail "$(cat "$d/diagnosis.txt")"
grep -q "cycle" "$d/diagnosis.txt" && t_fail "a cycle without a layout?"
t_end

t_finish
