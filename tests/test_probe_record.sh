#!/usr/bin/env bash
# The probe under real programs: results and errno pass through unchanged,
# every process (forks, execs, 100 threads, a SIGKILLed child, a program
# that returns from main) is in the trace, and the report counts what the
# programs did.
. "$(dirname "$0")/lib.sh"

H=$BUILD/tests/helper_probe_scenarios
E=$BUILD/tests/helper_probe_errno
ST=$BIN/shmtrace
# Sanitized helpers check that ASan's runtime comes first; the probe is
# preloaded before it on purpose (it is built without sanitizers).
export ASAN_OPTIONS=verify_asan_link_order=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}

# jq-like checks without jq: python3 EXPR over the report's JSON as `r`.
jcheck() {
	local file=$1 expr=$2
	python3 - "$file" "$expr" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
def lock(name_part):
    return [l for l in r["locks"] if name_part in l["name"]]
def kinds():
    return sorted(set(m["kind"] for m in r["misuse"]))
ok = eval(sys.argv[2])
if not ok:
    print("check failed: %s" % sys.argv[2], file=sys.stderr)
    json.dump(r, sys.stderr, indent=1)
sys.exit(0 if ok else 1)
EOF
}

# record MODE N: run the scenarios helper under the probe into $T/tr and
# write the JSON report to $T/r.json.
record() {
	local seg
	seg=$(t_name probe)
	"$ST" record -o "$T/tr" -- "$H" "$1" "$seg" "${2:-10}" \
		>"$T/out" 2>"$T/err"
	echo $? >"$T/status"
	"$ST" report --json --top 0 "$T/tr" >"$T/r.json" 2>>"$T/err" ||
		t_fail "report failed: $(cat "$T/err")"
}

t_begin "return values and errno are the same with and without the probe"
seg=$(t_name errno)
"$E" "$seg" >"$T/plain" 2>&1 || t_fail "plain run: exit $?"
seg=$(t_name errno)
"$ST" record -o "$T/tr" -- "$E" "$seg" >"$T/probed" 2>"$T/err" ||
	t_fail "probed run: exit $?"
grep -q 'EOWNERDEAD' "$T/plain" || t_fail "table lacks EOWNERDEAD"
grep -q 'EINTR' "$T/plain" || t_fail "table lacks EINTR"
diff "$T/plain" "$T/probed" >"$T/diff" || t_fail "differs: $(cat "$T/diff")"
[ "$(ls "$T/tr" | grep -c shmtrace)" -ge 3 ] ||
	t_fail "expected 3 trace files (2 forks): $(ls "$T/tr")"
t_end

t_begin "record exits with the program's status and says where the trace is"
"$ST" record -o "$T/tr" -- sh -c 'exit 7' 2>"$T/err"
st=$?
[ "$st" = 7 ] || t_fail "status $st, want 7"
grep -q "trace of .* in $T/tr" "$T/err" || t_fail "stderr: $(cat "$T/err")"
"$ST" record -o "$T/tr" -- true 2>"$T/err" &&
	t_fail "record into a used trace directory must fail"
"$ST" record -o "$T/tr2" -- sh -c 'kill -KILL $$' 2>"$T/err"
st=$?
[ "$st" = 137 ] || t_fail "killed: status $st, want 137"
t_end

t_begin "fork: both processes' acquisitions of one shared mutex"
record fork 50
jcheck "$T/r.json" 'lock("+0x0")[0]["acquisitions"] == 100 and len(lock("+0x0")[0]["pids"]) == 2' ||
	t_fail "counts"
t_end

t_begin "exec: the new image is traced too"
record exec 30
jcheck "$T/r.json" 'len(r["processes"]) == 2 and r["processes"][0]["pid"] == r["processes"][1]["pid"] and r["processes"][0]["end"] == "exec"' ||
	t_fail "exec'd image missing"
jcheck "$T/r.json" 'lock("+0x0")[0]["acquisitions"] == 60' || t_fail "counts"
t_end

t_begin "exec with an empty environment: the probe puts itself back"
record exec-noenv 30
jcheck "$T/r.json" 'len(r["processes"]) == 2 and lock("+0x0")[0]["acquisitions"] == 60' ||
	t_fail "exec'd image not traced"
t_end

t_begin "100 threads: every acquisition is counted"
record threads 200
jcheck "$T/r.json" 'lock("+0x0")[0]["acquisitions"] == 20000 and r["processes"][0]["threads"] >= 101 and r["dropped"] == 0' ||
	t_fail "counts"
t_end

t_begin "a child killed with SIGKILL keeps what it recorded"
record killed 500
jcheck "$T/r.json" 'lock("+0x0")[0]["acquisitions"] == 500 and sorted(p["end"] for p in r["processes"]) == ["exited", "killed"]' ||
	t_fail "killed child's events"
t_end

t_begin "a program that returns from main without calling exit"
record noexit 40
jcheck "$T/r.json" 'lock("+0x0")[0]["acquisitions"] == 40 and r["processes"][0]["end"] == "exited"' ||
	t_fail "counts"
t_end

t_begin "a SysV segment shared over fork is one lock: sysv:KEY+0x0"
record sysv 30
jcheck "$T/r.json" 'len([l for l in r["locks"] if l["name"].startswith("sysv:") and l["name"].endswith("+0x0") and l["acquisitions"] == 60 and len(l["pids"]) == 2]) == 1' ||
	t_fail "sysv lock"
t_end

t_begin "MAP_SHARED|MAP_ANONYMOUS shared over fork is one lock"
record anon 30
jcheck "$T/r.json" 'len([l for l in r["locks"] if l["name"].startswith("anon:") and l["acquisitions"] == 60 and len(l["pids"]) == 2]) == 1' ||
	t_fail "anon lock"
t_end

t_begin "a segment moved by mremap keeps its locks' names"
record mremap 25
jcheck "$T/r.json" 'lock("+0x0")[0]["acquisitions"] == 50 and r["misuse"] == []' ||
	t_fail "moved lock"
t_end

t_begin "condvar turns: the mutex released and retaken inside each wait"
record cond 500
[ "$(cat "$T/status")" = 0 ] || t_fail "exit $(cat "$T/status")"
jcheck "$T/r.json" 'lock("+0x0")[0]["acquisitions"] >= 1000 and r["misuse"] == [] and r["blocked"] == []' ||
	t_fail "cond"
t_end

t_begin "ABBA across two processes: the cycle is reported though no deadlock happened"
record abba
jcheck "$T/r.json" 'len(r["cycles"]) == 1 and len(r["cycles"][0]["locks"]) == 2 and len(set(p for e in r["cycles"][0]["edges"] for p in e["pids"])) == 2' ||
	t_fail "cycle"
jcheck "$T/r.json" 'all(e["call_sites"][0]["to_stack"] for e in r["cycles"][0]["edges"])' ||
	t_fail "edges without call sites"
"$ST" report "$T/tr" >"$T/text"
grep -q 'lock-order cycles: 1' "$T/text" || t_fail "text: $(cat "$T/text")"
t_end

t_begin "a real deadlock: who waits on what, held by whom"
record deadlock
[ "$(cat "$T/status")" = 142 ] || t_fail "status $(cat "$T/status"), want 142 (SIGALRM)"
jcheck "$T/r.json" 'len(r["blocked"]) == 2 and all(b["owner_pid"] != b["pid"] for b in r["blocked"]) and len(r["cycles"]) == 1' ||
	t_fail "blocked threads"
jcheck "$T/r.json" 'kinds() == ["died-holding"]' || t_fail "misuse"
t_end

t_begin "a three-lock cycle over three processes"
record abc
jcheck "$T/r.json" 'len(r["cycles"]) == 1 and len(r["cycles"][0]["locks"]) == 3' ||
	t_fail "cycle"
t_end

t_begin "no cycle when every process takes the locks in one order"
record fork 5
jcheck "$T/r.json" 'r["cycles"] == []' || t_fail "false cycle"
jcheck "$T/r.json" 'r["misuse"] == []' || t_fail "false misuse"
t_end

for kind in unlock-not-held unlock-not-owner relock destroy-held held-at-exit \
	died-holding owner-dead-not-consistent sem-destroyed use-after-unmap; do
	t_begin "misuse $kind is named"
	record "$kind"
	jcheck "$T/r.json" "'$kind' in kinds()" || t_fail "not reported"
	case $kind in
	unlock-not-owner)
		jcheck "$T/r.json" '[m for m in r["misuse"] if m["kind"] == "unlock-not-owner" and m["owner_pid"] != m["pid"]]' ||
			t_fail "owner in another process not named"
		;;
	esac
	t_end
done

t_begin "export --chrome writes wait and hold spans per thread"
record contend 2000
"$ST" export --chrome "$T/tr" >"$T/t.json" || t_fail "export failed"
python3 - "$T/t.json" <<'EOF' || t_fail "bad chrome trace"
import json, sys
t = json.load(open(sys.argv[1]))
ev = t["traceEvents"]
assert any(e["ph"] == "M" and e["name"] == "process_name" for e in ev)
holds = [e for e in ev if e.get("cat") == "hold"]
assert len(holds) == 8000, len(holds)
assert len(set(e["pid"] for e in holds)) == 2
EOF
t_end

t_begin "the probe stays inert without SHMPROBE_DIR and prints nothing"
LD_PRELOAD=$(realpath "$LIBDIR/libshmprobe.so") "$H" fork "$(t_name inert)" 5 \
	>"$T/out" 2>&1 || t_fail "exit $?"
[ -s "$T/out" ] && t_fail "output: $(cat "$T/out")"
t_end

t_finish
