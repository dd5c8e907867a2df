#!/usr/bin/env bash
# make bench: the probe's added CPU time per event against the same
# workload without it, in the same run, next to the floor (libshmshim.so:
# a cycle-counter read and a 32-byte append per call, nothing else).
# Each figure is the median of $REPEAT runs.  Figures: docs/bench-probe.md.
set -u
: "${BUILD:=build}" "${BIN:=$BUILD/bin}" "${LIBDIR:=$BUILD/lib}"
W=$BIN/bench_locks
ST=$BIN/shmtrace
SHIM=$(realpath "$LIBDIR/libshmshim.so")
REPEAT=${REPEAT:-5}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/shmscope-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

declare -A N=([uncontended]=1000000 [paced]=1000000 [contended]=500000 \
	[ring]=200000)

# run CONFIG CASE: print "cpu_ns events wall_ns user_ns recorder_ns" of
# one run; recorder_ns is the CPU time shmtrace itself spent populating
# ahead (0 for the runs without shmtrace).
run() {
	local cfg=$1 c=$2 out rec=0 pop=ahead
	rm -rf "$TMP/tr"
	case $cfg in
	nf*) pop=none ;;
	pf*) pop=start ;;
	esac
	case $cfg in
	plain) out=$("$W" "$c" "${N[$c]}") ;;
	shim) out=$(LD_PRELOAD=$SHIM "$W" "$c" "${N[$c]}") ;;
	*) out=$("$ST" record -o "$TMP/tr" --buffer-mb 128 --stats \
		--populate $pop --backtrace "${cfg#??}" \
		-- "$W" "$c" "${N[$c]}" 2>"$TMP/stats")
		rec=$(awk '/populated ahead:.*ms CPU/ {
			print int($(NF - 2) * 1e6) }' "$TMP/stats") ;;
	esac
	set -- $out
	echo "$4 $2 $6 $8 ${rec:-0}"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

CFGS="plain shim bt0 bt1 bt8 nf1 pf1"
# One row of the table from cpu[] (medians) of case $c, events from the
# plain runs, wall time from the bt1 runs.
report_row() {
	local ev wall base s p1 rec all mevs
	ev=$(awk 'NR == 1 { print $2 }' "$TMP/$src.plain")
	wall=$(awk '{ print $3 }' "$TMP/$src.bt1" | median)
	add() { awk -v a="${cpu[$1]}" -v b="${cpu[plain]}" -v e="$ev" \
		'BEGIN { printf "%.1f", (a - b) / e }'; }
	base=$(awk -v a="${cpu[plain]}" -v e="$ev" 'BEGIN { printf "%.1f", a / e }')
	s=$(add shim)
	p1=$(add bt1)
	rec=$(awk '{ print $5 }' "$TMP/$src.bt1" | median)
	rec=$(awk -v r="$rec" -v e="$ev" 'BEGIN { printf "%.1f", r / e }')
	all=$(awk -v p="$p1" -v r="$rec" 'BEGIN { printf "%.1f", p + r }')
	ratio() { awk -v p="$1" -v s="$s" 'BEGIN { printf "%.2f", (s > 0) ? p / s : 0 }'; }
	mevs=$(awk -v e="$ev" -v w="$wall" 'BEGIN { printf "%.1f", e / w * 1000 }')
	printf '%-11s %6s %6s %6s %6s %6s %6s %6s %6s %8s %8s %6s\n' "$c" \
		"$base" "+$s" "+$(add bt0)" "+$p1" "+$(add bt8)" "+$(add nf1)" \
		"+$(add pf1)" "$rec" "$(ratio "$p1")" "$(ratio "$all")" "$mevs"
}

declare -A cpu=()
printf '%-11s %6s %6s %6s %6s %6s %6s %6s %6s %8s %8s %6s\n' case plain \
	shim bt0 bt1 bt8 nf1 pf1 rec bt1/shim +rec/shim Mev/s
status=0
for c in uncontended paced contended ring ring-user; do
	src=$c
	col=1
	if [ "$c" = ring-user ]; then
		src=ring
		# The same runs, user time only: the ring's system time (futex
		# wake-ups) swings with scheduling more than the probe costs.
		col=4
		for cfg in $CFGS; do
			cpu[$cfg]=$(awk -v k=$col '{ print $k }' "$TMP/ring.$cfg" | median)
		done
		report_row
		continue
	fi
	for cfg in $CFGS; do
		: >"$TMP/$src.$cfg"
	done
	# Interleave the configurations so drift hits them alike.
	for ((i = 0; i < REPEAT; i++)); do
		for cfg in $CFGS; do
			run "$cfg" "$c" >>"$TMP/$src.$cfg" || status=1
		done
	done
	for cfg in $CFGS; do
		cpu[$cfg]=$(awk '{ print $1 }' "$TMP/$c.$cfg" | median)
	done
	report_row
done
cat <<'EOT'
CPU ns per event (user + system, all threads and processes of the workload):
plain is the workload alone, the others what each adds to it.  shim: the
floor (rdtsc + a 32-byte append to a reused per-thread ring).  bt0/bt1/bt8:
the probe with 0, 1 (default: the call site) or 8 frames per acquisition,
shmtrace populating each process's trace file ahead of it (the default).
nf1: bt1 with --populate none (each thread faults its own pages in as it
records: what a probe preloaded without shmtrace record does, shmfuzz's).
pf1: bt1 with --populate start (all of it faulted in at process start).
rec: CPU ns per event spent by shmtrace itself populating ahead in the bt1
runs (not in the workload's CPU time); +rec/shim: (bt1 + rec) / shim.
Mev/s: events per second, wall time, bt1.  ring-user: the same ring runs,
user CPU time only.
EOT
exit $status
