#!/usr/bin/env bash
# fuzz/bench-bugs.sh - shmfuzz against the planted-bug suite (make
# bench-fuzz, docs/bench-fuzz.md).
#
# For every planted bug and each strategy: runs to the first failure (the
# first failing run's index + 1, or the runs judged if fewer: see below)
# over K seeds (shmfuzz
# --stop-first --runs C --time T --seed k, k = 1..K), the median and how
# many of the K found it; then R replays (--replay) of the failing seeds
# found (in turn, one per base seed that found the bug), and how many failed
# again.  For every fixed twin:
# failures in M runs of the default strategy.  Parameters, from the
# environment (the issue's targets in brackets; the defaults fit a session
# on a 2-core machine):
#   K seeds [20]  T seconds per seed [120]  C runs per seed [10000]
#   R replays [100]
#   M twin runs [10000]  J jobs (2)  MS hang timeout (2000)
#   STRATEGIES ("none noise"; add pct for the controlled scheduler)  BUGS (default: every layout in testprogs/bugs)
#   TWINS (default: the same as BUGS; "" for none)
#   CHUNK twin runs per shmfuzz call (default M); LOCK a lock file taken
#   (flock) around each shmfuzz call (campaign or replay), so that a long twins run leaves
#   gaps for others' `make check` (only when not run under that lock
#   already: `make bench` takes it); OUT the output folder
#   (default $BUILD/bench-bugs)
# A twins-only run of the issue's 10,000 runs per twin, one chunk of 2,500
# at a time:  BUGS= M=10000 CHUNK=2500 LOCK=/tmp/shmscope-check.lock \
#             fuzz/bench-bugs.sh
# Chunk c of a twin runs with base seed 1 + c * CHUNK: since session 2's
# seed derivation (fuzz/seed.c: run i of base seed S is
# splitmix64(splitmix64(S) + i) >> 11) each chunk is an independent
# campaign, and the chunks together run M independent seeds (not, as
# before, the seeds of one campaign with seed 1).
# Each seed stops at whichever of C runs and T seconds comes first.
#
# Prints a Markdown table on stdout, progress on stderr.
set -u
: "${BUILD:=build}" "${BIN:=$BUILD/bin}"
: "${K:=5}" "${T:=20}" "${C:=10000}" "${R:=20}" "${M:=500}" "${J:=2}" "${MS:=2000}"
: "${STRATEGIES:=none noise}" "${CHUNK:=$M}" "${LOCK:=}"
F=$BIN/shmfuzz
here=testprogs/bugs
if [ -z "${BUGS+x}" ]; then
	BUGS=""
	for p in "$here"/*.layout; do
		b=${p##*/}
		BUGS="$BUGS ${b%.layout}"
	done
fi
[ -z "${TWINS+x}" ] && TWINS=$BUGS
: "${OUT:=$BUILD/bench-bugs}"
out=$OUT
declare -A extra
rm -rf "$out"
mkdir -p "$out"

# locked CMD...: CMD under the lock file LOCK, if one was given.
locked() {
	if [ -n "$LOCK" ]; then
		flock "$LOCK" "$@"
	else
		"$@"
	fi
}

# field JSON EXPR: one value of shmfuzz's --json summary (j is the object).
field() {
	python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1" \
		2>/dev/null || echo "?"
}

echo "K=$K T=$T s C=$C R=$R M=$M J=$J timeout=$MS ms, $(date -u '+%F %H:%M') UTC," \
	"load $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "$BUGS" ]; then
	echo
	echo "| bug | strategy | found | median runs | median s | runs (each seed) | replay |"
	echo "|-----|----------|------:|------------:|---------:|------------------|-------:|"
fi
for b in $BUGS; do
	for s in $STRATEGIES; do
		runs_list="" secs_list="" nfound=0 fseed=""
		for k in $(seq 1 "$K"); do
			d=$out/$b-$s-$k
			locked "$F" --strategy "$s" --stop-first --runs "$C" --time "$T" --seed "$k" \
				--jobs "$J" -l "$here/$b.layout" --timeout "$MS" \
				--out "$d" --json -q -- "$BIN/bug-$b" >"$d.json" 2>/dev/null
			sec=$(field "$d.json" '"%.1f" % j["seconds"]')
			if [ "$(field "$d.json" 'j["failed"]')" = 0 ]; then
				n=">$(field "$d.json" 'j["runs"]')"
			else
				# The failing run's index + 1, or the runs judged
				# if fewer.  With --jobs 2 the other job goes on
				# while a hang waits out its --timeout: those runs
				# came after it.  And a run stopped unjudged by
				# --stop-first (the failing run's neighbour that
				# started with it) is not counted.
				# A group's first_run is the run that reported
				# first, not the lowest index: with --jobs 2 two
				# failing runs (two hangs found by their
				# --timeout) can report in either order.  Every
				# failing run judged is in some seeds.txt.
				first=$(cat "$d"/failure-*/seeds.txt 2>/dev/null |
					awk '$2 == "run" && (m == "" || $3 < m) { m = $3 } END { print m }')
				n=$(field "$d.json" "min([j['runs']] + [f['first_run'] + 1 for f in j['failures']] + [${first:-j['runs']} + 1])")
				nfound=$((nfound + 1))
				fs=$(field "$d.json" 'j["failures"][0]["first_seed"]')
				fseed="$fseed $fs"
				# What else the replay needs (pct: the depth
				# and the k of the failing run), from the
				# failure's own replay line.
				extra[$fs]=$(sed -n 's/^replay: .* --strategy [a-z]*\(.*\) --timeout .*/\1/p' \
					"$d"/failure-*/failure.txt 2>/dev/null | head -1)
			fi
			runs_list="$runs_list $n"
			secs_list="$secs_list $sec"
			echo "bench-bugs: $b $s seed $k: $n runs, $sec s" >&2
		done
		# The R replays go round the failing seeds found (one per base
		# seed that found the bug): how well one seed replays varies
		# from seed to seed, a rate over several is the fairer figure.
		rep="-"
		if [ -n "$fseed" ]; then
			again=0
			set -- $fseed
			for r in $(seq 0 $((R - 1))); do
				shift $((r > 0 ? 1 : 0))
				[ $# -gt 0 ] || set -- $fseed
				# shellcheck disable=SC2086
				locked "$F" --replay "$1" --strategy "$s" ${extra[$1]:-} \
					-l "$here/$b.layout" \
					--timeout "$MS" --out "$out/$b-$s-replay" -q \
					-- "$BIN/bug-$b" >/dev/null 2>&1
				[ $? -eq 1 ] && again=$((again + 1))
				rm -rf "$out/$b-$s-replay"
			done
			rep="$again/$R"
		fi
		# The median counts a seed that found nothing as more than any.
		med=$(python3 -c '
import sys
v = sys.argv[1].split(); s = sys.argv[2].split()
key = lambda x: (x[0].startswith(">"), int(x[0].lstrip(">")))
p = sorted(zip(v, s), key=key)
r, sec = p[(len(p) - 1) // 2]
print(r, sec if not r.startswith(">") else ">" + sec)' "$runs_list" "$secs_list")
		echo "| bug-$b | $s | $nfound/$K | ${med% *} | ${med#* } |$runs_list | $rep |"
	done
done

[ -n "$TWINS" ] || exit 0

echo
echo "| fixed twin | strategy | failures | runs | s | runs/s |"
echo "|------------|----------|---------:|-----:|--:|-------:|"
for b in $TWINS; do
	nfail=0 nruns=0 secs=0 c=0 kinds=""
	while [ "$nruns" -lt "$M" ]; do
		n=$((M - nruns))
		[ "$n" -gt "$CHUNK" ] && n=$CHUNK
		d=$out/twin-$b-$c
		locked "$F" --strategy noise --runs "$n" --seed $((1 + c * CHUNK)) \
			--jobs "$J" -l "$here/$b.layout" --timeout "$MS" \
			--out "$d" --json -q -- "$BIN/bug-$b" --fixed \
			>"$d.json" 2>/dev/null
		r=$(field "$d.json" 'j["runs"]')
		f=$(field "$d.json" 'j["failed"]')
		[ "$r" = "?" ] && { echo "bench-bugs: $d.json: no summary" >&2; break; }
		nruns=$((nruns + r))
		nfail=$((nfail + f))
		secs=$(python3 -c "print(round($secs + $(field "$d.json" 'j["seconds"]'), 1))")
		[ "$f" = 0 ] || kinds="$kinds $(field "$d.json" \
			'" ".join("%s:%s" % (x["kind"], x["count"]) for x in j["failures"])')"
		echo "bench-bugs: twin $b chunk $c: $r runs, $f failed, total $nruns runs, ${secs} s" >&2
		c=$((c + 1))
		[ "$r" -gt 0 ] || break
	done
	rate=$(python3 -c "print('%.1f' % ($nruns / $secs) if $secs else '?')")
	echo "| bug-$b --fixed | noise | $nfail${kinds:+ (${kinds# })} | $nruns | ${secs%.*} | $rate |"
done
