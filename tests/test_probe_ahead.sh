#!/usr/bin/env bash
# shmtrace record populates each traced process's trace file ahead of it
# (probes/ahead.c): the process finds its next pages in the page cache,
# nothing it records is lost, the unused tail is given back once it is
# gone, and a shmtrace killed meanwhile costs the trace nothing.
. "$(dirname "$0")/lib.sh"

H=$BUILD/tests/helper_probe_ahead
ST=$BIN/shmtrace
export ASAN_OPTIONS=verify_asan_link_order=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}

# acquisitions N DIR: the report of DIR counts N acquisitions of the one
# lock, 0 dropped, and every process exited.
acquisitions() {
	"$ST" report --json "$2" >"$T/r.json" 2>"$T/rerr" || return 1
	python3 - "$T/r.json" "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ok = (len(r["locks"]) == 1 and r["locks"][0]["acquisitions"] == int(sys.argv[2])
      and r["dropped"] == 0 and all(p["end"] == "exited" for p in r["processes"]))
if not ok:
    json.dump({k: r[k] for k in ("locks", "dropped", "processes")}, sys.stderr)
sys.exit(0 if ok else 1)
PY
}

# gone PID: the process has ended (a zombie counts: its memory is gone).
gone() {
	[ ! -e "/proc/$1" ] || grep -q '^State:.*Z' "/proc/$1/status"
}

t_begin "the pages ahead of a process are in the page cache before it needs them"
"$ST" record --stats -o "$T/tr" -- "$H" 3000 3000 >"$T/out" 2>"$T/err"
st=$?
[ "$st" = 0 ] || t_fail "exit $st (3: the pages ahead never came): $(cat "$T/err")"
grep -qx 'locks 6000' "$T/out" || t_fail "helper output: $(cat "$T/out")"
line=$(grep 'populated ahead:' "$T/err")
echo "$line" | grep -Eq 'ahead: [1-9][0-9.]* MiB for 1 process, [1-9][0-9.]* MiB given back' ||
	t_fail "stats: $line"
acquisitions 6000 "$T/tr" || t_fail "report: $(cat "$T/rerr")"
t_end

t_begin "what the process did not use is given back: the file stays sparse"
"$ST" record -o "$T/tr" -- "$H" 3000 0 >"$T/out" 2>"$T/err" ||
	t_fail "exit $?: $(cat "$T/err")"
f=$(ls "$T"/tr/*.shmtrace)
used=$(($(stat -c '%b * %B' "$f")))
# 4 MiB or more were populated; the process used the file's head (header,
# tables, 3 chunks of 64 KiB).
[ "$used" -lt $((2 * 1048576)) ] || t_fail "$used bytes allocated"
acquisitions 3000 "$T/tr" || t_fail "report: $(cat "$T/rerr")"
t_end

t_begin "shmtrace killed with SIGKILL: the program goes on, its trace is whole"
t_spawn "$ST" record -o "$T/tr" -- "$H" 3000 5000 "$T/go" >"$T/out" 2>"$T/err"
t_wait_for 20000 grep -qx populated "$T/out" || t_fail "never populated"
kill -KILL "$T_LAST"
wait "$T_LAST" 2>/dev/null
f=$(ls "$T"/tr/*.shmtrace)
hpid=$(basename "$f")
hpid=${hpid%%-*}
T_PIDS="$T_PIDS $hpid"
touch "$T/go"
t_wait_for 20000 grep -qx 'locks 8000' "$T/out" || t_fail "helper: $(cat "$T/out")"
t_wait_for 20000 gone "$hpid" || t_fail "helper did not end"
acquisitions 8000 "$T/tr" || t_fail "report: $(cat "$T/rerr")"
t_end

t_begin "--populate ahead|start|none and --prefault; anything else is a usage error"
for m in "--populate ahead" "--populate start" "--populate none" --prefault; do
	rm -rf "$T/tr"
	# shellcheck disable=SC2086
	"$ST" record $m --stats -o "$T/tr" -- true 2>"$T/err" ||
		t_fail "$m: exit $?"
	grep -q 'populated ahead:' "$T/err" || t_fail "$m: no stats: $(cat "$T/err")"
done
grep -q 'populated ahead: off' "$T/err" || t_fail "--prefault still populates ahead"
"$ST" record --populate sometimes -o "$T/tr2" -- true 2>"$T/err"
[ $? = 2 ] || t_fail "--populate sometimes: not a usage error"
t_end

t_finish
