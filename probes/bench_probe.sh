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

declare -A N=([uncontended]=1000000 [contended]=500000 [ring]=200000)

# run CONFIG CASE: print "cpu_ns events wall_ns" of one run
run() {
	local cfg=$1 c=$2 out
	rm -rf "$TMP/tr"
	case $cfg in
	plain) out=$("$W" "$c" "${N[$c]}") ;;
	shim) out=$(LD_PRELOAD=$SHIM "$W" "$c" "${N[$c]}") ;;
	bt*) out=$("$ST" record -o "$TMP/tr" --buffer-mb 128 \
		--backtrace "${cfg#bt}" -- "$W" "$c" "${N[$c]}" 2>/dev/null) ;;
	pf*) out=$("$ST" record -o "$TMP/tr" --buffer-mb 128 --prefault \
		--backtrace "${cfg#pf}" -- "$W" "$c" "${N[$c]}" 2>/dev/null) ;;
	esac
	set -- $out
	echo "$4 $2 $6 $8"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

CFGS="plain shim bt0 bt1 bt8 pf1"
# One row of the table from cpu[] (medians) of case $c, events from the
# plain runs, wall time from the pf1 runs.
report_row() {
	local ev wall base s p1 pf mevs
	ev=$(awk 'NR == 1 { print $2 }' "$TMP/$src.plain")
	wall=$(awk '{ print $3 }' "$TMP/$src.pf1" | median)
	add() { awk -v a="${cpu[$1]}" -v b="${cpu[plain]}" -v e="$ev" \
		'BEGIN { printf "%.1f", (a - b) / e }'; }
	base=$(awk -v a="${cpu[plain]}" -v e="$ev" 'BEGIN { printf "%.1f", a / e }')
	s=$(add shim)
	p1=$(add bt1)
	pf=$(add pf1)
	ratio() { awk -v p="$1" -v s="$s" 'BEGIN { printf "%.2f", (s > 0) ? p / s : 0 }'; }
	mevs=$(awk -v e="$ev" -v w="$wall" 'BEGIN { printf "%.1f", e / w * 1000 }')
	printf '%-12s %7s %7s %7s %7s %7s %7s %8s %8s %7s\n' "$c" "$base" "+$s" \
		"+$(add bt0)" "+$p1" "+$(add bt8)" "+$pf" "$(ratio "$p1")" \
		"$(ratio "$pf")" "$mevs"
}

declare -A cpu=()
printf '%-12s %7s %7s %7s %7s %7s %7s %8s %8s %7s\n' case plain shim bt0 \
	bt1 bt8 pf1 bt1/shim pf1/shim Mev/s
status=0
for c in uncontended contended ring ring-user; do
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
the probe with 0, 1 (default: the call site) or 8 frames per acquisition.
pf1: bt1 with --prefault (the trace's pages faulted in at start, so the
figure is the recording itself; without it, first-touch page faults of the
growing trace file are included).  Mev/s: events per second, wall time, pf1.
ring-user: the same ring runs, user CPU time only.
EOT
exit $status
