#!/usr/bin/env bash
# fuzz/bench-bugs.sh - shmfuzz against the planted-bug suite (make
# bench-fuzz, docs/bench-fuzz.md).
#
# For every planted bug and each strategy: runs to the first failure over K
# seeds (shmfuzz --stop-first --time T --seed k, k = 1..K), the median and
# how many of the K found it; then R replays (--replay) of the first
# failing seed found, and how many failed again.  For every fixed twin:
# failures in M runs of the default strategy.  Parameters, from the
# environment (the issue's targets in brackets; the defaults fit a session
# on a 2-core machine):
#   K seeds [20]  T seconds per seed [120]  R replays [100]
#   M twin runs [10000]  J jobs (2)  MS hang timeout (2000)
#   STRATEGIES ("none noise")  BUGS (default: every layout in testprogs/bugs)
#   TWINS (default: the same as BUGS; "" for none)
# The issue's cap of C = 10,000 runs per seed is not applied: shmfuzz takes
# --runs or --time, not both; T bounds every seed.
#
# Prints a Markdown table on stdout, progress on stderr.
set -u
: "${BUILD:=build}" "${BIN:=$BUILD/bin}"
: "${K:=5}" "${T:=20}" "${R:=20}" "${M:=500}" "${J:=2}" "${MS:=2000}"
: "${STRATEGIES:=none noise}"
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
out=$BUILD/bench-bugs
rm -rf "$out"
mkdir -p "$out"

# field JSON EXPR: one value of shmfuzz's --json summary (j is the object).
field() {
	python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1" \
		2>/dev/null || echo "?"
}

echo "K=$K T=$T s R=$R M=$M J=$J timeout=$MS ms, $(date -u '+%F %H:%M') UTC," \
	"load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| bug | strategy | found | median runs | median s | runs (each seed) | replay |"
echo "|-----|----------|------:|------------:|---------:|------------------|-------:|"
for b in $BUGS; do
	for s in $STRATEGIES; do
		runs_list="" secs_list="" nfound=0 fseed=""
		for k in $(seq 1 "$K"); do
			d=$out/$b-$s-$k
			"$F" --strategy "$s" --stop-first --time "$T" --seed "$k" \
				--jobs "$J" -l "$here/$b.layout" --timeout "$MS" \
				--out "$d" --json -q -- "$BIN/bug-$b" >"$d.json" 2>/dev/null
			n=$(field "$d.json" 'j["runs"]')
			sec=$(field "$d.json" '"%.1f" % j["seconds"]')
			if [ "$(field "$d.json" 'j["failed"]')" = 0 ]; then
				n=">$n"
			else
				nfound=$((nfound + 1))
				[ -n "$fseed" ] || fseed=$(field "$d.json" 'j["failures"][0]["first_seed"]')
			fi
			runs_list="$runs_list $n"
			secs_list="$secs_list $sec"
			echo "bench-bugs: $b $s seed $k: $n runs, $sec s" >&2
		done
		rep="-"
		if [ -n "$fseed" ]; then
			again=0
			for _ in $(seq 1 "$R"); do
				"$F" --replay "$fseed" --strategy "$s" -l "$here/$b.layout" \
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
echo "| fixed twin | strategy | failures | runs | s |"
echo "|------------|----------|---------:|-----:|--:|"
for b in $TWINS; do
	d=$out/twin-$b
	"$F" --strategy noise --runs "$M" --seed 1 --jobs "$J" -l "$here/$b.layout" \
		--timeout "$MS" --out "$d" --json -q -- "$BIN/bug-$b" --fixed \
		>"$d.json" 2>/dev/null
	echo "| bug-$b --fixed | noise | $(field "$d.json" 'j["failed"]') |" \
		"$(field "$d.json" 'j["runs"]') | $(field "$d.json" '"%.0f" % j["seconds"]') |"
done
