#!/usr/bin/env bash
# bench_pct.sh - what the pct baton costs per sync point.
#
# Each workload of bench_locks (uncontended, contended, ring) runs once
# under `shmfuzz --strategy none` (the probe records, nothing more) and
# once under `--strategy pct` (the baton at every sync point), REPS times
# interleaved; the median wall time of each, and the difference per probe
# event (one event = one sync point), in ns.  "ring" switches the baton
# between two processes at every blocking sem_wait: it is the cost of a
# switch (futex wake, futex wait, the other process scheduled).
#
#   probes/bench_pct.sh [REPS]        (default 5; `make bench` runs it)
set -u
BUILD=${BUILD:-build}
F=$BUILD/bin/shmfuzz
B=$BUILD/bin/bench_locks
REPS=${1:-5}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench-pct.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export ASAN_OPTIONS="verify_asan_link_order=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"

# run STRATEGY WORKLOAD N: "events wall_ns" of one run.
run() {
	local out=$TMP/o-$1-$2
	rm -rf "$out"
	# exit 1 keeps the run's folder (and its stdout).
	"$F" --strategy "$1" --replay 1 --pct-steps 1000000000 --timeout 60000 \
		--out "$out" -- sh -c "$B $2 $3; exit 1" >/dev/null 2>&1
	sed -n 's/^events \([0-9]*\) cpu_ns [0-9]* wall_ns \([0-9]*\).*/\1 \2/p' \
		"$out"/replay-1/stdout.txt
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf '%-12s %8s %12s %12s %10s\n' workload events none_ms pct_ms ns/point
for w in uncontended:100000 contended:50000 ring:20000; do
	name=${w%%:*} n=${w##*:}
	: >"$TMP/none" && : >"$TMP/pct"
	for _ in $(seq "$REPS"); do
		run none "$name" "$n" >>"$TMP/none"
		run pct "$name" "$n" >>"$TMP/pct"
	done
	ev=$(awk '{print $1}' "$TMP/pct" | median)
	a=$(awk '{print $2}' "$TMP/none" | median)
	b=$(awk '{print $2}' "$TMP/pct" | median)
	if [ -z "$ev" ] || [ -z "$a" ] || [ -z "$b" ]; then
		echo "bench_pct: $name: no figures (see $F)" >&2
		continue
	fi
	printf '%-12s %8d %12.1f %12.1f %10.0f\n' "$name" "$ev" \
		"$(echo "$a / 1000000" | bc -l)" "$(echo "$b / 1000000" | bc -l)" \
		"$(echo "($b - $a) / $ev" | bc -l)"
done
