#!/usr/bin/env bash
# shmfuzz --strategy noise end to end: a lost update that plain runs rarely
# show is found in most noisy runs.
. "$(dirname "$0")/lib.sh"

H=$BUILD/tests/helper_noise_race
FZ=$BIN/shmfuzz
export ASAN_OPTIONS=verify_asan_link_order=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}

# failed STRATEGY: how many of 40 runs (seed 1) lose an update.
failed() {
	"$FZ" --runs 40 --seed 1 --strategy "$1" --json -q --out "$T/$1" -- \
		"$H" race "$(t_name race)" 20 50 2>"$T/$1.err" >"$T/$1.json"
	sed -n 's/^  "failed": \([0-9]*\),$/\1/p' "$T/$1.json"
}

t_begin "noise finds a lost update much more often than plain runs"
none=$(failed none)
noise=$(failed noise)
[ -n "$none" ] && [ -n "$noise" ] || t_fail "no summary: $(cat "$T"/*.err)"
echo "# failed runs of 40: none $none, noise $noise"
[ "${noise:-0}" -ge 10 ] || t_fail "noise: only $noise of 40 runs failed"
[ "${noise:-0}" -ge $((3 * ${none:-0})) ] || t_fail "noise $noise vs none $none"
t_end

t_finish
