#!/usr/bin/env bash
# The ring moves messages correctly through POSIX, System V and file-backed
# segments (growing ones too), with 1..4 producers and consumers, and leaves
# nothing behind; bad options are refused with status 2.
. "$(dirname "$0")/lib.sh"
RING=$BIN/ring

# new_name WORD: a unique POSIX name in $N, removed by t_end should the ring
# leave it.  (Not $(t_name): in a subshell its registration is lost.)
new_name() {
	N=/shmscope-t-$1-$$-$RANDOM
	t_shm "$N"
}

# ring_ok OUT ARGS...: run the ring (60 s at most), expect exit 0, an
# "all verified" summary with the right message count.
ring_ok() {
	local out=$1 want=$2 rc
	shift 2
	timeout 60 "$RING" "$@" >"$out" 2>&1
	rc=$?
	[ "$rc" = 0 ] || { t_fail "ring $* exited $rc: $(tail -3 "$out")"; return 1; }
	grep -q "^ring: $want messages from .*: all verified$" "$out" ||
		{ t_fail "ring $*: $(tail -1 "$out")"; return 1; }
	return 0
}

# The segment the ring said it used is gone.
gone() {
	local seg
	seg=$(sed -n 's/^ring: segment //p' "$1")
	case $seg in
	/*) [ ! -e "/dev/shm/${seg#/}" ] || t_fail "$seg left in /dev/shm" ;;
	sysv:*)
		! awk -v k=$((${seg#sysv:})) 'NR > 1 && $1 == k { f = 1 } END { exit !f }' \
			/proc/sysvipc/shm || t_fail "$seg left behind"
		;;
	file:*) [ ! -e "${seg#file:}" ] || t_fail "$seg left behind" ;;
	*) t_fail "no 'ring: segment' line" ;;
	esac
}

t_begin "--help and --version"
"$RING" --help >"$T/out" 2>&1 || t_fail "--help exit $?"
grep -q '^usage: ring' "$T/out" || t_fail "--help prints no usage"
for o in --hold --sysv --file --grow-every --stop-after --counts --rate --size; do
	grep -q -- "$o" "$T/out" || t_fail "--help does not mention $o"
done
"$RING" --version >"$T/out" 2>&1 || t_fail "--version exit $?"
grep -Eq '^ring [0-9]+\.[0-9]+' "$T/out" || t_fail "--version: $(cat "$T/out")"
t_end

for p in 1 2 3 4; do
	for c in 1 2 3 4; do
		t_begin "POSIX ring, $p producers, $c consumers, 2000 messages each"
		new_name ring
		n=$N
		ring_ok "$T/out" $((p * 2000)) -n "$n" -p $p -c $c -m 2000 && gone "$T/out"
		grep -qx "ring: segment $n" "$T/out" || t_fail "no segment line for $n"
		t_end
	done
done

t_begin "POSIX ring with one slot and one-byte messages"
new_name ring
	ring_ok "$T/out" 9000 -n "$N" -p 3 -c 2 -m 3000 -s 1 --size 1 && gone "$T/out"
t_end

t_begin "POSIX ring with big messages"
new_name ring
	ring_ok "$T/out" 2000 -n "$N" -p 2 -c 2 -m 1000 -s 4 --size 4000 && gone "$T/out"
t_end

t_begin "default name is derived from the pid"
ring_ok "$T/out" 1000 && gone "$T/out"
grep -Eq '^ring: segment /ring-[0-9]+$' "$T/out" || t_fail "$(head -1 "$T/out")"
t_end

for pc in "1 1" "2 3" "4 4"; do
	set -- $pc
	t_begin "System V ring, $1 producers, $2 consumers"
	ring_ok "$T/out" $(($1 * 3000)) --sysv -n "sysv-$$-$RANDOM" -p $1 -c $2 -m 3000
	# Should the ring leave its segment behind, t_end removes it.
	t_sysv "$(sed -n 's/^ring: segment sysv://p' "$T/out")"
	gone "$T/out"
	t_end
done

for pc in "1 1" "2 2" "4 3"; do
	set -- $pc
	t_begin "file-backed ring growing every 500 messages, $1 producers, $2 consumers"
	f=$T/ring.seg
	ring_ok "$T/out" $(($1 * 4000)) --file "$f" --grow-every 500 -p $1 -c $2 -m 4000 && gone "$T/out"
	grep -Eq 'grew [0-9]+ times to [0-9]+ slots' "$T/out" || t_fail "did not grow: $(tail -1 "$T/out")"
	t_end
done

t_begin "file-backed ring without growth"
ring_ok "$T/out" 6000 --file "$T/ring.seg" -p 2 -c 2 -m 3000 && gone "$T/out"
grep -q grew "$T/out" && t_fail "grew without --grow-every"
t_end

t_begin "POSIX ring growing, rate-limited so growth meets waiting processes"
new_name grow
	ring_ok "$T/out" 600 -n "$N" --grow-every 100 -s 2 -p 3 -c 2 -m 200 --rate 2000 && gone "$T/out"
grep -q 'grew 6 times to 128 slots' "$T/out" || t_fail "$(tail -1 "$T/out")"
t_end

t_begin "growth stops at 65536 slots"
ring_ok "$T/out" 40000 --file "$T/ring.seg" --grow-every 1000 -p 2 -c 2 -m 20000 && gone "$T/out"
grep -q 'grew 12 times to 65536 slots' "$T/out" || t_fail "$(tail -1 "$T/out")"
t_end

t_begin "--counts adds up"
new_name counts
	ring_ok "$T/out" 3000 -n "$N" -p 3 -c 2 -m 1000 --counts
awk '
/role=producer/ { np++; for (i = 1; i <= NF; i++) { split($i, kv, "="); p[kv[1]] += kv[2] } }
/role=consumer/ { nc++; for (i = 1; i <= NF; i++) { split($i, kv, "="); c[kv[1]] += kv[2] } }
/role=parent/ { npar++ }
END {
	ok = np == 3 && nc == 2 && npar == 1 &&
	     p["mutex_lock"] == 3000 && p["mutex_unlock"] == 3000 &&
	     p["sem_wait.empty_slots"] == 3000 && p["sem_post.filled_slots"] == 3000 &&
	     p["sem_post.empty_slots"] == 0 && p["sem_wait.filled_slots"] == 0 &&
	     c["mutex_lock"] == 3000 && c["mutex_unlock"] == 3000 &&
	     c["sem_wait.filled_slots"] == 3000 && c["sem_post.empty_slots"] == 3000 &&
	     c["sem_wait.empty_slots"] == 0 && c["sem_post.filled_slots"] == 0
	exit !ok
}' "$T/out" || t_fail "counts do not add up: $(grep counts "$T/out")"
# Each count line names a live pid of this run: the children's are distinct.
[ "$(grep -c 'ring: counts pid=' "$T/out")" = 6 ] || t_fail "not 6 count lines"
[ "$(grep -o 'pid=[0-9]*' "$T/out" | sort -u | wc -l)" = 6 ] || t_fail "pids not distinct"
t_end

t_begin "bad options exit 2 with a clear message"
bad() {
	local want=$1 rc
	shift
	"$RING" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" = 2 ] || t_fail "ring $*: exit $rc, not 2"
	grep -q -- "$want" "$T/err" || t_fail "ring $*: said '$(head -1 "$T/err")'"
	[ -s "$T/out" ] && t_fail "ring $*: wrote to stdout"
}
bad "unknown option '--bogus'" --bogus
bad "unknown option '-x'" -x
bad "-p: '0' is not a number from 1 to 64" -p 0
bad "-c: '65' is not a number from 1 to 64" -c 65
bad "-m: 'lots' is not a number" -m lots
bad "-s: slots must be a power of two" -s 12
bad "--size: '0' is not a number" --size 0
bad "--rate: 'fast' is not a rate" --rate fast
bad "--rate: '-1' is not a rate" --rate -1
bad "--grow-every: a System V segment cannot grow" --sysv --grow-every 10
bad "--sysv and --file" --sysv --file "$T/x"
bad "--stop-after: more than the 10 messages" -m 5 -p 2 --stop-after 11
bad "-n: 'a/b' is not a segment name" -n a/b
bad "-p: missing argument" -p
bad "unexpected argument 'extra'" extra
bad "Try 'ring --help'" -q
t_end

t_begin "an existing segment is refused, not reused"
new_name exists
n=$N
: >"/dev/shm/${n#/}"
timeout 10 "$RING" -n "$n" >"$T/out" 2>&1 && t_fail "ran over an existing segment"
grep -q 'exists already' "$T/out" || t_fail "$(cat "$T/out")"
[ -e "/dev/shm/${n#/}" ] || t_fail "removed a segment it did not create"
t_end

t_finish
