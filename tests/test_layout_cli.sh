#!/usr/bin/env bash
# shmscope layout FILE: pahole-like text, --json, --type, --abi, errors.
. "$(dirname "$0")/lib.sh"

RING=tests/layout/ring.layout

t_begin "layout prints offsets, sizes, holes and the total"
"$BIN/shmscope" layout "$RING" >"$T/out" 2>"$T/err" || t_fail "exit $?: $(cat "$T/err")"
grep -Eq '^	pthread_mutex_t +lock; +/\* +8 +40 \*/$' "$T/out" || t_fail "lock line"
grep -Eq 'slots\[16\] @ring\(head = write_idx, tail = read_idx\); +/\* +120 +1792 \*/' "$T/out" ||
	t_fail "slots line"
grep -q 'XXX 4 bytes hole, try to pack' "$T/out" || t_fail "no hole"
grep -q 'size: 1912, align: 8, cachelines: 30, members: 7' "$T/out" || t_fail "no total"
grep -q '@check(write_idx - read_idx <= 16)' "$T/out" || t_fail "no @check"
t_end

t_begin "layout --json has every field with absolute offsets"
"$BIN/shmscope" layout --json "$RING" >"$T/out" || t_fail "exit $?"
python3 - "$T/out" <<'PY' || t_fail "json: $(head -c 300 "$T/out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["type"] == "struct ring" and d["size"] == 1912 and d["align"] == 8
f = {x["path"]: x for x in d["fields"]}
assert f["ring.lock"] == {"path": "ring.lock", "type": "pthread_mutex_t",
                          "offset": 8, "size": 40, "align": 8}
assert f["ring.slots"]["offset"] == 120
assert f["ring.slots[0].text"]["offset"] == 132, f["ring.slots[0].text"]
PY
t_end

t_begin "layout --type and --abi"
"$BIN/shmscope" layout "$RING" --type message >"$T/out" || t_fail "exit $?"
grep -q 'size: 112, align: 8' "$T/out" || t_fail "message size"
grep -q 'struct ring' "$T/out" && t_fail "--type printed more"
"$BIN/shmscope" layout "$RING" --abi aarch64 --json >"$T/out" || t_fail "exit $?"
grep -q '"size": 48' "$T/out" || t_fail "aarch64 mutex is not 48 bytes"
"$BIN/shmscope" layout "$RING" --abi i386 --type ring >"$T/out" || t_fail "exit $?"
grep -Eq 'pthread_mutex_t +lock; +/\* +4 +24 \*/' "$T/out" || t_fail "i386 lock"
"$BIN/shmscope" layout "$RING" --type nope >"$T/out" 2>"$T/err"
[ $? = 1 ] || t_fail "unknown --type: not exit 1"
grep -q "no type named 'nope'" "$T/err" || t_fail "message: $(cat "$T/err")"
t_end

t_begin "a bad layout: exit 1 and every error as file:line:col"
printf 'struct a {\n\tfoo_t x;\n\tint y;\n\tint y;\n};\n' >"$T/bad.layout"
"$BIN/shmscope" layout "$T/bad.layout" >"$T/out" 2>"$T/err"
[ $? = 1 ] || t_fail "not exit 1"
grep -qx "$T/bad.layout:2:2: unknown type 'foo_t'" "$T/err" || t_fail "$(cat "$T/err")"
grep -qx "$T/bad.layout:4:6: duplicate field 'y'" "$T/err" || t_fail "$(cat "$T/err")"
[ -s "$T/out" ] && t_fail "printed something on stdout"
"$BIN/shmscope" layout "$T/missing.layout" >"$T/out" 2>"$T/err"
[ $? = 1 ] || t_fail "missing file: not exit 1"
grep -q "missing.layout: " "$T/err" || t_fail "$(cat "$T/err")"
t_end

t_begin "layout usage"
"$BIN/shmscope" layout --help >"$T/out" || t_fail "--help exit $?"
grep -q 'usage: shmscope layout FILE' "$T/out" || t_fail "no usage"
"$BIN/shmscope" layout >"$T/out" 2>&1
[ $? = 2 ] || t_fail "no FILE: not exit 2"
"$BIN/shmscope" layout "$RING" --abi vax >"$T/out" 2>&1
[ $? = 2 ] || t_fail "bad --abi: not exit 2"
t_end

t_finish
