#!/usr/bin/env bash
# testprogs/ring.layout describes the bytes the ring really writes: every
# field's offset and size as `shmscope layout --json` computes them equals
# what the compiler chose (`ring --offsets`), and the whole struct is as
# big as the ring's default segment.
. "$(dirname "$0")/lib.sh"
RING=$BIN/ring
LAYOUT=$(dirname "$0")/../testprogs/ring.layout

t_begin "ring.layout matches the ring's own offsets"
"$RING" --offsets >"$T/offsets" || t_fail "ring --offsets exit $?"
"$BIN/shmscope" layout --json "$LAYOUT" >"$T/json" 2>"$T/err" ||
	t_fail "shmscope layout --json: $(cat "$T/err")"
python3 - "$T/offsets" "$T/json" >"$T/diff" 2>&1 <<'PY' || t_fail "$(cat "$T/diff")"
import json, sys
want = {}
for line in open(sys.argv[1]):
    name, off, size = line.split()
    want[name] = (int(off), int(size))
lay = json.load(open(sys.argv[2]))
got = {f["path"]: (f["offset"], f["size"]) for f in lay["fields"]}
bad = []
for name, v in want.items():
    if name.startswith("message"):
        continue
    if got.get(name) != v:
        bad.append("%s: ring %s, layout %s" % (name, v, got.get(name)))
# the first slot's fields, at absolute offsets
base = want["ring.slots"][0]
for name, (off, size) in want.items():
    if not name.startswith("message."):
        continue
    path = "ring.slots[0]." + name.split(".", 1)[1]
    if path in got and got[path] != (base + off, size):
        bad.append("%s: ring %s, layout %s" % (path, (base + off, size), got[path]))
total = base + want["ring.slots"][1]
if lay.get("size") != total:
    bad.append("size: ring %d, layout %s" % (total, lay.get("size")))
if bad:
    print("; ".join(bad))
    sys.exit(1)
PY
t_end

t_begin "--from-dwarf on the ring binary gives ring.layout's header offsets"
"$BIN/shmscope" layout --from-dwarf "$RING" ring_shm -o "$T/dwarf.layout" \
	2>"$T/err" || t_fail "--from-dwarf: $(cat "$T/err")"
"$BIN/shmscope" layout --json "$T/dwarf.layout" >"$T/dwarf.json" 2>"$T/err" ||
	t_fail "the DWARF layout does not parse: $(cat "$T/err")"
"$BIN/shmscope" layout --json "$LAYOUT" >"$T/json" 2>"$T/err" ||
	t_fail "ring.layout: $(cat "$T/err")"
python3 - "$T/dwarf.json" "$T/json" >"$T/diff" 2>&1 <<'PY' || t_fail "$(cat "$T/diff")"
import json, sys
def fields(path):
    lay = json.load(open(path))
    # top-level members only, named without the root ("lock", not "ring.lock")
    return {f["path"].split(".", 1)[1]: (f["offset"], f["size"], f["type"])
            for f in lay["fields"] if f["path"].count(".") == 1}
dw, hand = fields(sys.argv[1]), fields(sys.argv[2])
bad = []
for name, (off, size, typ) in dw.items():
    if name == "slots":   # a flexible array in C, 16 messages in the layout
        if hand[name][0] != off:
            bad.append("slots at %d, layout %d" % (off, hand[name][0]))
        continue
    if hand.get(name, (None, None))[:2] != (off, size):
        bad.append("%s: dwarf %s, layout %s" % (name, (off, size), hand.get(name)))
for sync in ("lock", "empty_slots", "filled_slots"):
    if dw[sync][2] not in ("pthread_mutex_t", "sem_t"):
        bad.append("%s came out as %s" % (sync, dw[sync][2]))
if len(dw) < 16:
    bad.append("only %d fields from DWARF" % len(dw))
if bad:
    print("; ".join(bad))
    sys.exit(1)
PY
t_end

t_finish
