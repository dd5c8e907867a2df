#!/usr/bin/env bash
# campaign.sh - the bounded fuzzing campaign over the planted-bug suite, for
# CI (`make fuzz-bugs`, docs/ci.md).
#
#   testprogs/bugs/campaign.sh [-o DIR] [-s SEED] [-j JOBS] [-r TWIN_RUNS]
#                              [-T TIMEOUT_MS] [-S STRATEGY]
#                              [-i KIND]... [-b BUG[:BUDGET[:ARGS]]]...
#                              [-w TWIN]...
#
# For every planted bug, shmfuzz (strategy noise by default) runs
# build/bin/bug-NAME with its layout and --stop-first until a run fails;
# the bug must be found within its budget (seconds).  For every fixed twin
# (bug-NAME --fixed), TWIN_RUNS runs (default 300) must all pass.
# Without -b/-w: every bug with its budget from the table below, and every
# twin.  With -b or -w: only those.  ARGS (words separated by commas) are
# extra arguments for the bug program, e.g. -b lost-update:5:--force.
#
# -i KIND: a twin whose only failures are of that kind (shmfuzz's kinds:
# exit, signal, hang, check, misuse, valgrind) still passes, and its line
# says what was ignored.  Only for a known false report (docs/ci.md);
# without -i every failure of a twin fails the campaign.
#
# One line per bug and per twin, then a summary line.  Exit 0 when every
# bug was found and every twin passed, 1 otherwise, 2 on a usage error.
# shmfuzz cleans up after every run; its failure folders stay under
# DIR/bugs/NAME and DIR/twins/NAME (default DIR: build/campaign), for CI
# to upload as artifacts.
set -u
: "${BUILD:=build}" "${BIN:=$BUILD/bin}"
here=$(dirname "$0")
out=$BUILD/campaign
seed=1
jobs=2
twin_runs=300
timeout=2000
strategy=noise
sel_bugs=()
sel_twins=()
ignore=" "
selected=0

# Budgets in seconds, from docs/bench-fuzz.md (noise, --jobs 2, seeds 1-5,
# the 2-core development VM under load, and three campaigns): at least 5
# times the slowest find measured, never under 20 s.  aba-freelist is the
# slow one (up to 706 runs, 14 s: its window holds no sync call for the
# noise to stretch); the
# hangs cost a --timeout (2 s) each.  Found bugs stop early, so the budgets
# only cost time when a bug is missed: all of them add up to 360 s.
budget_of() {
	case $1 in
	aba-freelist) echo 90 ;;
	abba | missed-wakeup | owner-dead-hang) echo 30 ;;
	*) echo 20 ;;
	esac
}

usage() {
	echo "usage: $0 [-o DIR] [-s SEED] [-j JOBS] [-r TWIN_RUNS] [-T TIMEOUT_MS]" \
		"[-S STRATEGY] [-i KIND]... [-b BUG[:BUDGET[:ARGS]]]... [-w TWIN]..." >&2
	exit 2
}

while getopts o:s:j:r:T:S:i:b:w:h o; do
	case $o in
	o) out=$OPTARG ;;
	s) seed=$OPTARG ;;
	j) jobs=$OPTARG ;;
	r) twin_runs=$OPTARG ;;
	T) timeout=$OPTARG ;;
	S) strategy=$OPTARG ;;
	i) ignore="$ignore$OPTARG " ;;
	b) sel_bugs+=("$OPTARG"); selected=1 ;;
	w) sel_twins+=("$OPTARG"); selected=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage

F=$BIN/shmfuzz
[ -x "$F" ] || { echo "campaign: $F: not built (make)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "campaign: python3 is needed" >&2; exit 2; }

if [ $selected -eq 0 ]; then
	for p in "$here"/*.layout; do
		b=${p##*/}
		b=${b%.layout}
		sel_bugs+=("$b:$(budget_of "$b")")
		sel_twins+=("$b")
	done
fi

# summarise JSON [IGNORE]: "RUNS SECONDS FAILED IGNORED WHAT" from shmfuzz's
# --json summary; IGNORED counts the failed runs whose kind is in IGNORE
# (blank-separated), WHAT is the first failure not ignored (else the first).
summarise() {
	python3 - "$1" "${2:- }" <<'PY'
import json, sys
try:
    j = json.load(open(sys.argv[1]))
except Exception as e:
    print("? ? ? 0 no summary (%s)" % e)
    sys.exit(0)
ign = sys.argv[2].split()
f = j.get("failures") or []
n_ign = sum(x.get("count", 1) for x in f if x.get("kind") in ign)
kept = [x for x in f if x.get("kind") not in ign] or f
first = kept[0] if kept else {}
print(j["runs"], "%.1f" % j["seconds"], j["failed"], n_ign,
      (first.get("kind", "-") + ": " + first.get("signature", "")).strip())
PY
}

start=$(date +%s.%N)
nbugs=0 found=0 ntwins=0 passed=0
rm -rf "$out"
mkdir -p "$out/bugs" "$out/twins"

for spec in "${sel_bugs[@]}"; do
	IFS=: read -r name budget args <<<"$spec"
	[ -n "$budget" ] || budget=$(budget_of "$name")
	prog=$BIN/bug-$name
	layout=$here/$name.layout
	extra=()
	[ -n "$args" ] && IFS=, read -r -a extra <<<"$args"
	lopt=()
	[ -f "$layout" ] && lopt=(-l "$layout")
	nbugs=$((nbugs + 1))
	d=$out/bugs/$name
	"$F" --strategy "$strategy" --stop-first --time "$budget" --seed "$seed" \
		--jobs "$jobs" "${lopt[@]}" --timeout "$timeout" --out "$d" --json -q \
		-- "$prog" "${extra[@]}" >"$d.json" 2>"$d.err"
	rc=$?
	read -r runs secs nfail _ what <<<"$(summarise "$d.json")"
	if [ $rc -eq 1 ] && [ "$nfail" != 0 ]; then
		found=$((found + 1))
		printf 'bug  %-20s found in %s runs / %s s (%s)\n' "$name" "$runs" "$secs" "$what"
	elif [ $rc -eq 0 ]; then
		printf 'bug  %-20s NOT FOUND in %s runs / %s s (budget %s s)\n' \
			"$name" "$runs" "$secs" "$budget"
	else
		printf 'bug  %-20s ERROR: shmfuzz exit %s: %s\n' "$name" "$rc" \
			"$(head -1 "$d.err")"
	fi
done

for name in "${sel_twins[@]}"; do
	prog=$BIN/bug-$name
	layout=$here/$name.layout
	lopt=()
	[ -f "$layout" ] && lopt=(-l "$layout")
	ntwins=$((ntwins + 1))
	d=$out/twins/$name
	"$F" --strategy "$strategy" --runs "$twin_runs" --seed "$seed" \
		--jobs "$jobs" "${lopt[@]}" --timeout "$timeout" --out "$d" --json -q \
		-- "$prog" --fixed >"$d.json" 2>"$d.err"
	rc=$?
	read -r runs secs nfail nign what <<<"$(summarise "$d.json" "$ignore")"
	if [ $rc -eq 0 ] && [ "$runs" = "$twin_runs" ]; then
		passed=$((passed + 1))
		printf 'twin %-20s passed %s runs / %s s\n' "$name" "$runs" "$secs"
	elif [ $rc -eq 1 ] && [ "$runs" = "$twin_runs" ] && [ "$nfail" = "$nign" ]; then
		passed=$((passed + 1))
		printf 'twin %-20s passed %s runs / %s s, IGNORED %s failure(s) (%s) see %s\n' \
			"$name" "$runs" "$secs" "$nign" "$what" "$d"
	elif [ $rc -eq 1 ]; then
		printf 'twin %-20s FAILED %s of %s runs / %s s (%s) see %s\n' \
			"$name" "$nfail" "$runs" "$secs" "$what" "$d"
	else
		printf 'twin %-20s ERROR: shmfuzz exit %s: %s\n' "$name" "$rc" \
			"$(head -1 "$d.err")"
	fi
done

total=$(python3 -c "import sys; print('%.0f' % (float(sys.argv[2]) - float(sys.argv[1])))" \
	"$start" "$(date +%s.%N)")
ok=0
[ $found -eq $nbugs ] && [ $passed -eq $ntwins ] && ok=1
printf 'campaign: %s: %d/%d bugs found, %d/%d twins passed, strategy %s, seed %s, %s s\n' \
	"$([ $ok -eq 1 ] && echo ok || echo FAILED)" "$found" "$nbugs" "$passed" \
	"$ntwins" "$strategy" "$seed" "$total"
[ $ok -eq 1 ]
