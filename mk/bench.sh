#!/bin/sh
# make bench: run every benchmark the fragments listed in $BENCHES; each
# prints its own figures.
status=0
for b in $BENCHES; do
	echo "== $b"
	"$b" || status=1
done
[ -n "$BENCHES" ] || echo "no benchmarks yet"
exit $status
