#!/usr/bin/env bash
# ipcbench: every mechanism moves verified messages of every size; a broken
# message is caught; bad options are usage errors; nothing is left behind.
. "$(dirname "$0")/lib.sh"

IB=$BIN/ipcbench
MECHS="posix-shm posix-shm-futex sysv-shm file-mmap pipe mqueue unix-stream
unix-dgram tcp file-io"
SIZES="8 16 64 256 1024 4096 16384 65536 262144 1048576"

# Segments, queues and files of process $1 (names carry the pid).
leftovers() {
	local f
	for f in /dev/shm/ipcbench-"$1"-* /dev/mqueue/ipcbench-"$1"-* \
		"$2"/ipcbench-*; do
		[ -e "$f" ] && echo "$f"
	done
	awk -v p="$1" 'NR > 1 && $5 == p { print "sysv:" $2 }' /proc/sysvipc/shm
}

t_begin "--help and --version"
"$IB" --help >"$T/out" 2>&1 || t_fail "--help exit $?"
grep -q 'usage:' "$T/out" || t_fail "--help prints no usage"
for m in $MECHS; do
	grep -q "$m" "$T/out" || t_fail "--help does not name $m"
done
"$IB" --version >"$T/out" 2>&1 || t_fail "--version exit $?"
grep -Eq '^ipcbench [0-9]+\.[0-9]+' "$T/out" || t_fail "--version: $(cat "$T/out")"
t_end

# -n 30 --warmup 2 --reps 2: the parent verifies 2 + 1 + 30 + 2 replies,
# the child 2 + 2 + 30 + 2 * 30 messages: 129 per mechanism and size.
t_begin "every mechanism moves 129 verified messages of every size"
"$IB" --csv -q -n 30 --warmup 2 --reps 2 --dir "$T" \
	--sizes "${SIZES// /,}" >"$T/out" 2>"$T/err" ||
	t_fail "exit $?: $(cat "$T/err")"
for m in $MECHS; do
	for s in $SIZES; do
		line=$(grep "^$m,$s," "$T/out")
		[ -n "$line" ] || { t_fail "no row for $m $s"; continue; }
		IFS=, read -r _ _ sup _ _ _ _ mps _ _ _ ver _ <<<"$line"
		[ "$sup" = 1 ] || t_fail "$m $s unsupported: $line"
		[ "$ver" = 129 ] || t_fail "$m $s verified $ver, want 129"
		awk -v x="$mps" 'BEGIN { exit !(x > 0) }' ||
			t_fail "$m $s: no throughput ($mps)"
	done
done
[ "$(wc -l <"$T/out")" = 101 ] || t_fail "$(wc -l <"$T/out") CSV lines, want 101"
t_end

t_begin "the table names the machine, every mechanism and the article's columns"
"$IB" --quick -q --sizes 64,64K --dir "$T" >"$T/out" 2>"$T/err" ||
	t_fail "exit $?: $(cat "$T/err")"
grep -q "^machine: .*$(nproc) CPUs, Linux" "$T/out" || t_fail "no machine line"
grep -q '^command: ipcbench --quick' "$T/out" || t_fail "no command line"
grep -Eq '^meanwhile: other processes kept [0-9.]+ CPUs busy' "$T/out" ||
	t_fail "no line on the machine's other load"
grep -Eq '^mechanism +latency +throughput.*buffering +copies/message +flow control' \
	"$T/out" || t_fail "no summary header"
for m in $MECHS; do
	[ "$(grep -c "^$m " "$T/out")" = 3 ] || t_fail "$m: not 2 detail + 1 summary rows"
done
t_end

t_begin "--json parses and holds every result"
"$IB" --json --quick -q --only pipe,mqueue --sizes 8,1M --pin --dir "$T" \
	>"$T/out" 2>"$T/err" || t_fail "exit $?: $(cat "$T/err")"
python3 - "$T/out" <<'EOF' || t_fail "bad JSON: $(head -c 300 "$T/out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["program"] == "ipcbench"
assert d["machine"]["pinned"] != "no"
assert d["machine"]["other_cpus"] >= 0 and d["machine"]["steal_cpus"] >= 0
r = d["results"]
assert [(x["mechanism"], x["size"]) for x in r] == [
    ("pipe", 8), ("pipe", 1048576), ("mqueue", 8), ("mqueue", 1048576)]
assert all(x["supported"] and x["verified"] > 0 for x in r)
assert all(x["latency_ns"]["min"] <= x["latency_ns"]["median"] <=
           x["latency_ns"]["p99"] for x in r)
# a mqueue message bigger than msgsize_max goes in pieces, and says so
mx = int(open("/proc/sys/fs/mqueue/msgsize_max").read())
if mx < 1048576:
    assert r[3]["fragmented"] and r[3]["unit"] == mx, r[3]
assert [s["mechanism"] for s in d["summary"]] == ["pipe", "mqueue"]
EOF
t_end

t_begin "--duration picks the counts"
"$IB" --csv -q --duration 0.1 --only unix-stream --sizes 64 >"$T/out" 2>"$T/err" ||
	t_fail "exit $?: $(cat "$T/err")"
grep -q '^unix-stream,64,1,' "$T/out" || t_fail "no row: $(cat "$T/out")"
t_end

t_begin "--rounds sweeps again and folds the rounds together"
"$IB" --csv -q -n 30 --warmup 2 --reps 2 --rounds 3 --only pipe,file-io \
	--sizes 8,64K >"$T/out" 2>"$T/err" || t_fail "exit $?: $(cat "$T/err")"
[ "$(grep -c ',387,3,' "$T/out")" = 4 ] ||
	t_fail "want 4 rows of 3 x 129 verified in 3 rounds: $(cat "$T/out")"
t_end

for fault in corrupt@7 skip@40; do
	t_begin "a broken message ($fault) ends the run with status 1, on every mechanism"
	for m in $MECHS; do
		"$IB" -q --only "$m" --sizes 64,4K -n 30 --warmup 2 --reps 2 \
			--dir "$T" --inject-fault "$fault" >"$T/out" 2>"$T/err"
		rc=$?
		[ "$rc" = 1 ] || t_fail "$m: exit $rc, want 1"
		grep -Eq "^ipcbench: $m, 64 bytes: .*(checksum mismatch|sequence 41, expected 40)" \
			"$T/err" || t_fail "$m: $(cat "$T/err")"
		[ -s "$T/out" ] && t_fail "$m: printed results after a failure"
	done
	t_end
done

t_begin "bad options are usage errors naming the input"
while IFS='|' read -r args want; do
	# shellcheck disable=SC2086
	"$IB" $args >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" = 2 ] || t_fail "'$args': exit $rc, want 2"
	grep -qF -- "$want" "$T/err" || t_fail "'$args': $(cat "$T/err")"
done <<'EOF'
--only pipe,smoke-signals|'smoke-signals'
--sizes 64,4|'4'
--sizes 64,2G|'2G'
--sizes 12x|'12x'
-n 0|'0'
--reps 1000|'1000'
--duration soon|'soon'
--pin=0|'0'
--inject-fault melt@3|'melt@3'
--frobnicate|'--frobnicate'
surplus|'surplus'
-n 10 --duration 1|exclude
EOF
t_end

t_begin "interrupted runs leave no segment, queue, file or process"
for m in posix-shm posix-shm-futex sysv-shm file-mmap mqueue file-io; do
	t_spawn "$IB" -q --only "$m" --sizes 64 --duration 600 --dir "$T"
	pid=$T_LAST
	# running once the child exists: the link is made before the fork
	t_wait_for 5000 pgrep -P "$pid" >/dev/null || t_fail "$m: no child"
	child=$(pgrep -P "$pid")
	[ "$m" = mqueue ] || [ -n "$(leftovers "$pid" "$T")" ] ||
		t_fail "$m: no object seen while running"
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null
	# the child dies with its parent (PR_SET_PDEATHSIG)
	t_wait_for 5000 eval "! kill -0 ${child:-0}" ||
		t_fail "$m: child $child still running"
	left=$(leftovers "$pid" "$T")
	[ -z "$left" ] || t_fail "$m: left $left"
done
t_end

# shmscope reads the live ring of posix-shm through the layout shipped for
# 64-byte messages (where shmscope can read layouts: the skeleton cannot).
LAYOUT=$(dirname "$0")/../testprogs/ipcbench-64.layout
if "$BIN/shmscope" layout "$LAYOUT" >/dev/null 2>&1; then
	t_begin "shmscope reads a live posix-shm ring with ipcbench-64.layout"
	t_spawn "$IB" -q --only posix-shm --sizes 64 --duration 600 --dir "$T"
	pid=$T_LAST
	t_wait_for 5000 pgrep -P "$pid" >/dev/null || t_fail "no child"
	# Every slot's @expect(len == 64) holds only once each slot was
	# written: wait until both rings went round once.
	wrapped() {
		"$BIN/shmscope" --once --json -l "$LAYOUT" "/ipcbench-$pid-0" 2>/dev/null |
			python3 -c 'import json,sys; v=json.load(sys.stdin)["fields"]; sys.exit(0 if all(f["value"]["write_idx"] >= 64 for f in v if f["path"].endswith(("to_child","to_parent"))) else 1)'
	}
	t_wait_for 10000 wrapped || t_fail "the rings never went round"
	"$BIN/shmscope" --once --json -l "$LAYOUT" "/ipcbench-$pid-0" \
		>"$T/out" 2>"$T/err"
	# 3: a @check failed, which a moving ring may show (see below)
	st=$?
	[ "$st" = 0 ] || [ "$st" = 3 ] || t_fail "shmscope exit $st: $(cat "$T/err")"
	# Only the @expect checks are asserted: a snapshot of a ring that is
	# moving reads its counters one after the other, so a sum of two of
	# them may be off by one.
	python3 - "$T/out" "$pid" <<'EOF' || t_fail "$(head -c 600 "$T/out")"
import json, sys
d = json.load(open(sys.argv[1]))
pids = [m["pid"] for m in d["segment"]["mapped_by"]]
assert int(sys.argv[2]) in pids and len(pids) == 2, pids
kinds = sorted(s["kind"] for s in d["sync"])
assert kinds == ["mutex", "mutex", "sem", "sem", "sem", "sem"], kinds
expects = [c for c in d["checks"] if "==" in c["expr"]]
assert len(expects) == 2 * (3 + 64), len(expects)
assert all(c["ok"] for c in expects), [c for c in expects if not c["ok"]]
assert [r["capacity"] for r in d["rings"]] == [64, 64], d["rings"]
EOF
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null
	t_end
else
	echo "SKIP: $T_FILE: shmscope reads a live ring: no layouts in this shmscope"
fi

# a sanitized ipcbench must not object to the probe loading first
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
if [ -x "$BIN/shmtrace" ]; then
	t_begin "runs under shmtrace record"
	"$BIN/shmtrace" record -o "$T/trace" -- "$IB" --quick -q \
		--only posix-shm,sysv-shm,pipe --sizes 64 >"$T/out" 2>"$T/err" ||
		t_fail "exit $?: $(tail -3 "$T/err")"
	grep -q '^posix-shm ' "$T/out" || t_fail "no results"
	# the parent and one child per mechanism and size: 4 processes at least
	[ "$(ls "$T/trace" | wc -l)" -ge 4 ] || t_fail "traces: $(ls "$T/trace")"
	t_end
else
	echo "SKIP: $T_FILE: runs under shmtrace record: no $BIN/shmtrace"
fi
if [ -x "$BIN/shmfuzz" ]; then
	t_begin "runs under shmfuzz"
	"$BIN/shmfuzz" --runs 2 --out "$T/fuzz" -- "$IB" --quick -q \
		--only posix-shm,posix-shm-futex --sizes 64 >"$T/out" 2>&1 ||
		t_fail "exit $?: $(tail -5 "$T/out")"
	grep -q ' 0 failed' "$T/out" || t_fail "$(tail -3 "$T/out")"
	t_end
else
	echo "SKIP: $T_FILE: runs under shmfuzz: no $BIN/shmfuzz"
fi
t_finish
