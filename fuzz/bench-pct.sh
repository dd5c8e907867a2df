#!/usr/bin/env bash
# fuzz/bench-pct.sh - what pct's baton costs per synchronisation point
# (make bench, docs/bench-pct.md).
#
# The workloads of the probe benchmark (build/bin/bench_locks: one thread
# on a private mutex; two threads on one mutex; two processes over a shm
# ring with a mutex and two semaphores), each run once by shmfuzz with
# --strategy none (the probe records, nothing is scheduled) and once with
# --strategy pct (every lock, unlock, wait and post also passes the
# baton), REPS times in turn.  bench_locks times its own loop: the
# difference of the medians, per call, is the baton's cost.  Parameters
# from the environment: N calls per thread (20000), REPS (5).
set -u
: "${BUILD:=build}" "${BIN:=$BUILD/bin}"
: "${N:=20000}" "${REPS:=5}"
F=$BIN/shmfuzz
out=$(mktemp -d "${TMPDIR:-/tmp}/bench-pct.XXXXXX")
trap 'rm -rf "$out"' EXIT

# one STRATEGY WORKLOAD REP: "wall_ns events" of one run, or nothing.
one() {
	rm -rf "$out/o" "$out/r"
	"$F" --strategy "$1" --runs 1 --seed "$3" --timeout 20000 -q \
		--out "$out/o" -- /bin/sh -c \
		'exec "$0" "$1" "$2" >"$3"' "$BIN/bench_locks" "$2" "$N" \
		"$out/r" >/dev/null 2>&1
	sed -n 's/^events \([0-9]*\) cpu_ns [0-9]* wall_ns \([0-9]*\).*/\2 \1/p' \
		"$out/r" 2>/dev/null
}

for w in uncontended contended ring; do
	: >"$out/none" && : >"$out/pct"
	for rep in $(seq 1 "$REPS"); do
		for s in none pct; do
			one "$s" "$w" "$rep" >>"$out/$s"
		done
	done
	python3 - "$w" "$out/none" "$out/pct" "$REPS" <<'PY'
import statistics, sys
w, reps = sys.argv[1], sys.argv[4]
def per_call(path):
    v = [int(a) / int(b) for a, b in (l.split() for l in open(path)) if int(b)]
    return (statistics.median(v), len(v)) if v else (None, 0)
(none, nn), (pct, np) = per_call(sys.argv[2]), per_call(sys.argv[3])
if none is None or pct is None:
    print(f"pct baton, {w}: no figure (runs that printed: none {nn}, pct {np} of {reps})")
else:
    print(f"pct baton, {w}: {none:.0f} ns per call without, {pct:.0f} ns with: "
          f"{pct - none:.0f} ns per sync point (median of {min(nn, np)} runs)")
PY
done
