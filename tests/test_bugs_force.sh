#!/usr/bin/env bash
# The planted-bug suite's detectors (testprogs/bugs/, docs/bugs.md): with
# --force, which widens each race window, every buggy program sees its bug
# and says so: exit 1 with its own DAMAGE message, or, for the hangs, exit 3
# "deadline: hung" under --deadline-ms.  Nothing is left behind either way.
# Also: --help/--version/usage, and a hung program killed by SIGTERM or by
# SIGKILL to its process group cleans up.
. "$(dirname "$0")/lib.sh"

# NAME STATUS PATTERN (grep -E on stderr)
EXPECT="
lost-update 1 never written|message lost
missing-post 3 deadline: hung
ring-overwrite 1 overwritten before it was read
abba 3 deadline: hung
nonowner-unlock 1 unlock by a non-owner.*Operation not permitted
torn-message 1 is torn
aba-freelist 1 handed out twice|free list holds|overwritten
missed-wakeup 3 deadline: hung
owner-dead 1 record inconsistent
owner-dead-hang 3 deadline: hung
shrink-sigbus 1 SIGBUS
double-post 1 a post without a message
init-race 1 increments lost|re-initialised
"

# The ABA needs three processes to line up even with its window held open;
# it gets a few tries.  Every other program must fire on its first.
tries_for() { [ "$1" = aba-freelist ] && echo 10 || echo 1; }

while read -r b want pattern; do
	[ -n "$b" ] || continue
	t_begin "bug-$b --force: exit $want, /$pattern/"
	prog=$BIN/bug-$b
	tries=$(tries_for "$b")
	for ((i = 0; i < tries; i++)); do
		name=$(t_name "$b")
		"$prog" --force -n "$name" --deadline-ms 1500 >"$T/out" \
			2>"$T/err"
		st=$?
		[ -e "/dev/shm/${name#/}" ] && t_fail "left $name behind"
		[ "$st" = "$want" ] && break
	done
	[ "$st" = "$want" ] || t_fail "exit $st, want $want: $(cat "$T/err")"
	grep -Eq -- "$pattern" "$T/err" ||
		t_fail "stderr lacks /$pattern/: $(cat "$T/err")"
	if [ "$want" = 1 ]; then
		grep -q "^bug-$b: DAMAGE: " "$T/err" ||
			t_fail "no 'bug-$b: DAMAGE:' line: $(cat "$T/err")"
	fi
	t_end
done <<<"$EXPECT"

t_begin "every bug program answers --help, --version, and usage errors"
for p in "$BIN"/bug-*; do
	n=${p##*/}
	"$p" --help >"$T/out" 2>&1 || t_fail "$n --help: exit $?"
	grep -q '^usage: ' "$T/out" || t_fail "$n --help: no usage"
	grep -q -- '--fixed' "$T/out" || t_fail "$n --help: no --fixed"
	"$p" --version >"$T/out" 2>&1 || t_fail "$n --version: exit $?"
	grep -Eq "^$n [0-9]+\.[0-9]+" "$T/out" || t_fail "$n --version"
	"$p" --bogus >/dev/null 2>&1
	[ $? = 2 ] || t_fail "$n --bogus: not exit 2"
	"$p" -m 0 >/dev/null 2>&1
	[ $? = 2 ] || t_fail "$n -m 0: not exit 2"
done
t_end

t_begin "hitrate.sh counts hits: 3/3 forced runs, 0/3 fixed ones"
BIN=$BIN testprogs/bugs/hitrate.sh -r 3 lost-update -- --force >"$T/out" 2>&1
grep -Eq '^bug-lost-update +3/3 +100\.0%  \(damage 3, hung 0' "$T/out" ||
	t_fail "forced: $(cat "$T/out")"
BIN=$BIN testprogs/bugs/hitrate.sh -r 3 lost-update -- --fixed >"$T/out" 2>&1
grep -Eq '^bug-lost-update +0/3 +0\.0%' "$T/out" || t_fail "fixed: $(cat "$T/out")"
t_end

# nkids PID N / ngroup PGID N: PID has N children / the group N members.
nkids() { [ "$(pgrep -c -P "$1")" = "$2" ]; }
ngroup() { [ "$(pgrep -c -g "$1")" = "$2" ]; }

# A hung run must be killable: SIGTERM to the supervisor cleans up.
t_begin "a hung bug-abba killed by SIGTERM removes its segment and children"
name=$(t_name abba)
t_shm "$name"
t_spawn "$BIN/bug-abba" --force -n "$name"
pid=$T_LAST
t_wait_for 5000 test -e "/dev/shm/${name#/}" || t_fail "segment never made"
t_wait_for 5000 nkids "$pid" 2 || t_fail "no 2 children (the tellers)"
kids=$(pgrep -P "$pid" | tr '\n' ' ')
kill -TERM "$pid"
wait "$pid"
st=$?
[ "$st" = 143 ] || t_fail "exit $st, want 143"
[ -e "/dev/shm/${name#/}" ] && t_fail "segment left behind"
for k in $kids; do
	kill -0 "$k" 2>/dev/null && t_fail "child $k still alive"
done
t_end

# SIGKILL to the whole process group (what shmfuzz does): no process
# survives; the segment is the killer's to remove (t_name does it here).
t_begin "a hung bug-owner-dead-hang dies whole with its process group"
name=$(t_name odh)
t_shm "$name" # t_name ran in a subshell: make the cleanup know it
setsid "$BIN/bug-owner-dead-hang" --force -n "$name" &
pid=$!
T_PIDS="$T_PIDS $pid"
t_wait_for 5000 test -e "/dev/shm/${name#/}" || t_fail "segment never made"
t_wait_for 5000 ngroup "$pid" 4 || t_fail "no 3 children"
kill -KILL -- "-$pid"
wait "$pid" 2>/dev/null
t_wait_for 5000 ngroup "$pid" 0 ||
	t_fail "left running: $(pgrep -g "$pid" | tr '\n' ' ')"
t_end
t_finish
