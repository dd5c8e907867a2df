#!/usr/bin/env bash
# fuzz/bench-fuzz.sh - runs per second of shmfuzz on a trivial target (the
# cost of a run: supervisor fork, target fork/exec, watching, cleanup),
# with --jobs 1 and 2, strategy none.  Prints one line per case.
set -u
: "${BUILD:=build}" "${BIN:=$BUILD/bin}"
F=$BIN/shmfuzz
TARGET=${BENCH_FUZZ_TARGET:-/bin/true}
RUNS=${BENCH_FUZZ_RUNS:-2000}
out=$(mktemp -d "${TMPDIR:-/tmp}/bench-fuzz.XXXXXX")
trap 'rm -rf "$out"' EXIT

for jobs in 1 2; do
	"$F" --runs "$RUNS" --jobs "$jobs" --strategy none --seed 1 --json -q \
		--out "$out/o" -- "$TARGET" >"$out/j" || exit 1
	python3 - "$out/j" "$jobs" "$TARGET" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
print("shmfuzz %s, --jobs %s: %d runs in %.2f s = %.0f runs/s" %
      (sys.argv[3], sys.argv[2], j["runs"], j["seconds"], j["runs_per_second"]))
PY
done
