#!/usr/bin/env bash
# bench-once: wall time of `shmscope --once --json -l testprogs/ring.layout`
# on the demo ring (2 producers, 2 consumers, running at 20 msg/s each),
# the cost a script pays per snapshot, process start included.  Median of
# 50 runs.
set -u
: "${BUILD:=build}" "${BIN:=$BUILD/bin}"
name=/shmscope-bench-once-$$
"$BIN/ring" -n "$name" -p 2 -c 2 --rate 20 --hold >/dev/null 2>&1 &
ring=$!
trap 'kill -TERM $ring 2>/dev/null; wait $ring 2>/dev/null; rm -f /dev/shm/${name#/}' EXIT
for _ in $(seq 100); do
	[ -e "/dev/shm/${name#/}" ] && break
	sleep 0.05
done
times=()
for _ in $(seq 50); do
	t0=$(date +%s%N)
	"$BIN/shmscope" --once --json -l testprogs/ring.layout "$name" >/dev/null ||
		{ echo "bench-once: shmscope failed" >&2; exit 1; }
	t1=$(date +%s%N)
	times+=($(((t1 - t0) / 1000)))
done
median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 25p)
printf 'bench-once: shmscope --once --json on the demo ring: %d.%03d ms (median of 50, process start included)\n' \
	$((median / 1000)) $((median % 1000))
