#!/usr/bin/env bash
# hitrate.sh - how often does a planted bug fire in plain runs?
#
#   testprogs/bugs/hitrate.sh [-r RUNS] [-d DEADLINE_MS] [-b BINDIR] [BUG...]
#
# Runs each bug-BUG program (default: all of them) RUNS times (default 200),
# plain, one run at a time, with --deadline-ms DEADLINE_MS (default 2000) so
# that a hang counts as a hit, and prints one line per bug:
#   bug-NAME  hits/runs  rate%  (damage D, hung H, other O)  ms/run
# Extra arguments for the programs go after "--".
set -u
runs=200
deadline=2000
bindir=${BIN:-build/bin}
# Split off the programs' own arguments first: getopts eats a bare "--".
ours=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
	ours+=("$1")
	shift
done
[ "${1:-}" = "--" ] && shift
extra=("$@")
set -- "${ours[@]}"
while getopts r:d:b: o; do
	case $o in
	r) runs=$OPTARG ;;
	d) deadline=$OPTARG ;;
	b) bindir=$OPTARG ;;
	*) echo "usage: $0 [-r RUNS] [-d DEADLINE_MS] [-b BINDIR] [BUG...] [-- ARGS]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
bugs=("$@")
if [ ${#bugs[@]} -eq 0 ]; then
	for p in "$bindir"/bug-*; do bugs+=("${p##*/bug-}"); done
fi
printf '%-22s %9s %7s  %-28s %s\n' program hits/runs rate statuses ms/run
for b in "${bugs[@]}"; do
	prog=$bindir/bug-$b
	dmg=0 hung=0 other=0
	start=$(date +%s%N)
	for ((i = 0; i < runs; i++)); do
		"$prog" -q --deadline-ms "$deadline" "${extra[@]}" >/dev/null 2>&1
		case $? in
		0) ;;
		1) dmg=$((dmg + 1)) ;;
		3) hung=$((hung + 1)) ;;
		*) other=$((other + 1)) ;;
		esac
	done
	end=$(date +%s%N)
	hits=$((dmg + hung + other))
	printf '%-22s %9s %6s%%  %-28s %d\n' "bug-$b" "$hits/$runs" \
		"$(awk -v h=$hits -v r=$runs 'BEGIN { printf "%.1f", 100 * h / r }')" \
		"(damage $dmg, hung $hung, other $other)" \
		$(((end - start) / 1000000 / runs))
done
