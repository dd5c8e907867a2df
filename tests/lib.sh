# tests/lib.sh - helpers for shmscope's shell tests (source it).
#
#   . "$(dirname "$0")/lib.sh"
#   t_begin "ring moves 1000 messages"
#   "$BIN/ring" -n "$(t_name ring)" -m 1000 >"$T/out" || t_fail "exit $?"
#   t_end
#   t_finish                       # last line of the script
#
# Every test gets a scratch folder $T.  t_spawn runs a command in the
# background and remembers it; t_shm NAME remembers a POSIX segment.  Both
# are cleaned up after each test (t_end) and on any exit or signal, so a
# failing test leaves nothing behind.  t_wait_for waits for a condition
# with a deadline instead of sleeping.

: "${BUILD:=build}" "${BIN:=$BUILD/bin}" "${LIBDIR:=$BUILD/lib}"
T_FILE=$(basename "$0")
T_NPASS=0
T_NFAIL=0
T_NAME=""
T_FAILED=0
T_PIDS=""
T_SHMS=""
T_SYSV=""
T_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/shmscope-test.XXXXXX")
# Names registered by t_name, which usually runs in a $(...) subshell and so
# cannot set a variable of ours: they go to a file instead.
T_NAMES="$T_ROOT/names"
: >"$T_NAMES"
T=""

t_cleanup() {
	for p in $T_PIDS; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	T_PIDS=""
	for s in $T_SHMS $(cat "$T_NAMES" 2>/dev/null); do
		rm -f "/dev/shm/${s#/}"
	done
	T_SHMS=""
	: >"$T_NAMES" 2>/dev/null
	for k in $T_SYSV; do ipcrm -M "$k" 2>/dev/null; done
	T_SYSV=""
}

t_exit() {
	t_cleanup
	rm -rf "$T_ROOT"
}
trap t_exit EXIT
trap 't_exit; exit 130' INT TERM

# A name for a POSIX segment unique to this test run; it is removed later.
t_name() {
	local n="/shmscope-t-${1:-x}-$$-$RANDOM"
	echo "$n" >>"$T_NAMES"
	echo "$n"
}

# Remember a POSIX segment name or SysV key created some other way.
t_shm() { T_SHMS="$T_SHMS $1"; }
t_sysv() { T_SYSV="$T_SYSV $1"; }

# t_spawn CMD ARGS...: run in the background; $! is remembered as T_LAST.
t_spawn() {
	"$@" &
	T_LAST=$!
	T_PIDS="$T_PIDS $T_LAST"
}

t_begin() {
	T_NAME=$1
	T_FAILED=0
	T="$T_ROOT/$T_NPASS.$T_NFAIL"
	mkdir -p "$T"
}

t_fail() {
	[ "$T_FAILED" = 1 ] && return 0
	T_FAILED=1
	echo "FAIL: $T_FILE: $T_NAME: $*"
}

# t_check DESCRIPTION CMD...: fail with DESCRIPTION unless CMD succeeds.
t_check() {
	local what=$1
	shift
	"$@" || t_fail "$what"
}

t_end() {
	t_cleanup
	if [ "$T_FAILED" = 1 ]; then
		T_NFAIL=$((T_NFAIL + 1))
	else
		T_NPASS=$((T_NPASS + 1))
		echo "PASS: $T_FILE: $T_NAME"
	fi
}

# t_wait_for MS CMD...: run CMD every 10 ms until it succeeds; 1 on timeout.
t_wait_for() {
	local ms=$1 start now
	shift
	start=$(date +%s%N)
	while ! "$@" 2>/dev/null; do
		now=$(date +%s%N)
		[ $(((now - start) / 1000000)) -ge "$ms" ] && return 1
		sleep 0.01
	done
	return 0
}

t_finish() {
	echo "$T_FILE: $T_NPASS passed, $T_NFAIL failed"
	[ "$T_NFAIL" = 0 ]
	exit $?
}
