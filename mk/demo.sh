#!/usr/bin/env bash
# make demo: start the classic ring (2 producers, 2 consumers, 5 messages a
# second each) in --hold mode, open the inspector on it (the live view on a
# terminal, one snapshot otherwise), stop it, and check that it left
# nothing behind.
set -u
: "${BUILD:=build}" "${BIN:=$BUILD/bin}"
RING=$BIN/ring
NAME=/shmscope-demo-$$
LOG=$(mktemp "${TMPDIR:-/tmp}/shmscope-demo.XXXXXX")
PID=""

cleanup() {
	if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
		kill -TERM "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	rm -f "/dev/shm/${NAME#/}" "$LOG"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for MS CMD...: poll CMD every 50 ms until it succeeds.
wait_for() {
	local n=$(($1 / 50))
	shift
	while ! "$@" 2>/dev/null; do
		n=$((n - 1))
		[ "$n" -le 0 ] && return 1
		sleep 0.05
	done
}

off() { "$RING" --offsets | awk -v f="$1" '$1 == f { print $2 }'; }
u32() { od -A n -t u4 -j "$(off "ring.$1")" -N 4 "/dev/shm/${NAME#/}" | tr -d ' '; }
read_at_least() { [ "$(u32 read_idx)" -ge "$1" ]; }
kids() { [ "$(pgrep -P "$PID" | wc -l)" = 4 ]; }

echo "\$ ring -n $NAME -p 2 -c 2 --rate 5 --hold &"
"$RING" -n "$NAME" -p 2 -c 2 --rate 5 --hold >"$LOG" 2>&1 </dev/null &
PID=$!
if ! wait_for 5000 kids; then
	echo "demo: the ring did not start:" >&2
	cat "$LOG" >&2
	exit 1
fi
sed 's/^/  /' "$LOG"
echo "  (pid $PID; producers and consumers: $(pgrep -P "$PID" | xargs))"

wait_for 5000 read_at_least 10

echo
echo "\$ shmscope ls"
"$BIN/shmscope" ls 2>&1 | sed 's/^/  /'

echo
LAYOUT=testprogs/ring.layout
if [ -t 0 ] && [ -t 1 ]; then
	echo "\$ shmscope -l $LAYOUT $NAME    (q quits, ? shows the keys)"
	"$BIN/shmscope" -l "$LAYOUT" "$NAME"
else
	# No terminal (CI, a pipe): one snapshot instead of the live view,
	# without the 16 slots' contents.
	echo "\$ shmscope --once -l $LAYOUT $NAME"
	"$BIN/shmscope" --once -l "$LAYOUT" "$NAME" 2>&1 |
		grep -v '^    ' | sed 's/^/  /'
fi

echo
echo "\$ kill -TERM $PID"
KIDS=$(pgrep -P "$PID")
kill -TERM "$PID"
wait "$PID"
rc=$?
PID=""
tail -n 1 "$LOG" | sed 's/^/  /'
echo "  exit status $rc"

left=""
[ -e "/dev/shm/${NAME#/}" ] && left="$left /dev/shm${NAME}"
for k in $KIDS; do
	[ -e "/proc/$k" ] && left="$left pid:$k"
done
if [ -n "$left" ] || [ "$rc" != 0 ]; then
	echo "demo: FAILED: left behind:${left:- nothing, but exit status $rc}" >&2
	exit 1
fi
echo "demo: nothing left behind (no /dev/shm${NAME}, no ring process)"
