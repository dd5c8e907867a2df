#!/usr/bin/env bash
# shmscope --once on real sync objects in known states, held by real
# processes (tests/helper_view_states.c): state, owner and waiters, as text
# and as the JSON of docs/json.md, field by field; exit status 3 because
# the layout has a failing @check.
. "$(dirname "$0")/lib.sh"

HELPER=$BUILD/tests/helper_view_states
LAYOUT=tests/view/states.layout

start_states() {
	seg=$(t_name states)
	t_spawn "$HELPER" "$seg" >"$T/helper.out" 2>"$T/helper.err"
	helper=$T_LAST
	t_wait_for 10000 grep -qx ready "$T/helper.out" || {
		t_fail "helper never got ready: $(cat "$T/helper.err")"
		return 1
	}
}

t_begin "--once --json: every state, owner and waiter, field by field"
if start_states; then
	"$BIN/shmscope" --once --json -l "$LAYOUT" "$seg" >"$T/snap.json"
	st=$?
	[ "$st" = 3 ] || t_fail "exit status $st, want 3 (a @check fails)"
	python3 - "$T/snap.json" "$T/helper.out" "$helper" <<'PY' || t_fail "JSON: see above"
import json, sys
snap = json.load(open(sys.argv[1]))
ids = dict(l.strip().split("=") for l in open(sys.argv[2]) if "=" in l)
ids = {k: int(v) for k, v in ids.items()}
helper = int(sys.argv[3])
s = {x["path"]: x for x in snap["sync"]}
def want(path, **kv):
    for k, v in kv.items():
        got = s[path][k]
        if got != v:
            print(f"{path}.{k} = {got!r}, want {v!r}")
            sys.exit(1)
want("states.held", kind="mutex", state="locked", owner_tid=ids["held_pid"],
     owner_pid=ids["held_pid"], owner_alive=True, waiters=0)
want("states.dead", state="owner-dead", owner_tid=ids["dead_tid"],
     owner_alive=False)
want("states.robust_dead", state="owner-dead", owner_tid=ids["robust_tid"],
     owner_alive=False)
want("states.recursive", state="locked", owner_pid=ids["recursive_pid"],
     owner_alive=True)
want("states.recursive", type="recursive", recursion=3)
want("states.held", type="normal", robust=False, shared=True)
want("states.robust_dead", robust=True)
want("states.three", kind="sem", state="available", value=3, waiters=0,
     owner_tid=None)
want("states.waited", state="waiting", value=0, waiters=2)
w = sorted(x["pid"] for x in s["states.waited"]["waiting"])
assert w == sorted([ids["waiter1_pid"], ids["waiter2_pid"]]), w
want("states.rw", kind="rwlock", state="read-locked", value=2)
want("states.cv", kind="cond", state="waiting", waiters=1)
assert [x["pid"] for x in s["states.cv"]["waiting"]] == [ids["cv_pid"]]
want("states.spin", kind="spin", state="locked")
want("states.destroyed", state="destroyed")
want("states.garbage", state="invalid")
seg = snap["segment"]
assert seg["kind"] == "posix", seg
mappers = {p["pid"] for p in seg["mapped_by"]}
assert helper in mappers and ids["held_pid"] in mappers, mappers
assert ids["dead_pid"] not in mappers, mappers
f = {x["path"]: x for x in snap["fields"]}
assert f["states.magic"]["value"] == 0x53544154, f["states.magic"]
assert f["states.helper"]["value"] == helper, f["states.helper"]
assert f["states.held"]["type"] == "pthread_mutex_t", f["states.held"]
assert f["states.held"]["offset"] == 8 and f["states.held"]["size"] == 40
c = {x["expr"]: x["ok"] for x in snap["checks"]}
assert c == {"three == 3": True, "three == 2": False,
             "magic == 0x53544154": True}, c
PY
fi
t_end

t_begin "--once as text names owners, the dead and the waiters"
if start_states; then
	"$BIN/shmscope" --once -l "$LAYOUT" "$seg" >"$T/snap.txt"
	grep -Eq "states.dead +mutex +owner-dead +owner tid [0-9]+ +\(gone\)" "$T/snap.txt" ||
		t_fail "no owner-dead line: $(cat "$T/snap.txt")"
	grep -q "FAIL  three == 2" "$T/snap.txt" || t_fail "failing check not shown"
	grep -Eq "states.waited .* waiters 2 waiting: [0-9]+/[0-9]+ .*, [0-9]+/" "$T/snap.txt" ||
		t_fail "waiters not named"
fi
t_end

t_begin "-n 3 --json prints three snapshots, one per line"
if start_states; then
	"$BIN/shmscope" --json -n 3 --interval 10 -l "$LAYOUT" "$seg" >"$T/n.json"
	[ "$(wc -l <"$T/n.json")" = 3 ] || t_fail "$(wc -l <"$T/n.json") lines"
	python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$T/n.json" ||
		t_fail "a line is not JSON"
fi
t_end

t_begin "errors: missing segment, bad layout, usage"
"$BIN/shmscope" --once /shmscope-t-no-such-$$ 2>"$T/err"
[ $? = 1 ] || t_fail "missing segment: want exit 1"
grep -q "No such file" "$T/err" || t_fail "missing segment: $(cat "$T/err")"
printf 'struct x { nosuchtype a; };\n' >"$T/bad.layout"
"$BIN/shmscope" --once -l "$T/bad.layout" /whatever 2>"$T/err"
[ $? = 1 ] || t_fail "bad layout: want exit 1"
grep -q "bad.layout:1:" "$T/err" || t_fail "bad layout: $(cat "$T/err")"
"$BIN/shmscope" --once -n 0 /x 2>/dev/null
[ $? = 2 ] || t_fail "-n 0: want exit 2"
"$BIN/shmscope" --once 2>/dev/null
[ $? = 2 ] || t_fail "no target: want exit 2"
t_end

t_finish
