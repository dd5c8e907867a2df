#!/usr/bin/env bash
# testprogs/ring under the probe, reported with ring.layout: the report
# names ring.lock, ring.empty_slots and ring.filled_slots, and its counts
# equal what the ring's processes say they did (ring --counts).  Also a
# layout naming another segment leaves this one as segment+offset.
. "$(dirname "$0")/lib.sh"
ST=$BIN/shmtrace
LAYOUT=testprogs/ring.layout
# The probe (never sanitized) preloaded into a sanitized ring comes before
# the ASan runtime in the library list; that is fine, tell ASan so.
[ -n "$SAN" ] && export ASAN_OPTIONS="verify_asan_link_order=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"

for shape in "1 1 3000" "2 2 1500" "3 2 1000"; do
	set -- $shape
	t_begin "ring -p $1 -c $2 -m $3 under the probe: names and counts match"
	seg=$(t_name pring)
	"$ST" record -o "$T/tr" -- "$BIN/ring" -n "$seg" -p "$1" -c "$2" -m "$3" \
		--counts >"$T/out" 2>&1 || t_fail "record: $(tail -3 "$T/out")"
	"$ST" report --json -l "$LAYOUT" "$T/tr" >"$T/rep.json" 2>"$T/err" ||
		t_fail "report: $(cat "$T/err")"
	python3 - "$T/out" "$T/rep.json" "$seg" <<'PY' || t_fail "see above"
import json, re, sys
tot = {}
for line in open(sys.argv[1]):
    if "ring: counts" not in line:
        continue
    for k, v in re.findall(r"(\S+)=(\d+)", line):
        if k not in ("pid", "role"):
            tot[k] = tot.get(k, 0) + int(v)
rep = json.load(open(sys.argv[2]))
locks = {l["name"]: l for l in rep["locks"]}
sems = {s["name"]: s for s in rep["semaphores"]}
def eq(what, got, want):
    if got != want:
        print(f"{what}: report {got}, ring {want}")
        sys.exit(1)
eq("locks named", sorted(locks), ["ring.lock"])
eq("semaphores named", sorted(sems), ["ring.empty_slots", "ring.filled_slots"])
eq("ring.lock acquisitions", locks["ring.lock"]["acquisitions"], tot["mutex_lock"])
eq("ring.lock segment", locks["ring.lock"]["segment"], sys.argv[3])
eq("ring.lock offset", locks["ring.lock"]["offset"], 48)
for s in ("empty_slots", "filled_slots"):
    eq(f"{s} posts", sems["ring." + s]["posts"], tot["sem_post." + s])
    eq(f"{s} waits", sems["ring." + s]["waits"], tot["sem_wait." + s])
eq("misuse", rep["misuse"], [])
eq("cycles", rep["cycles"], [])
eq("dropped", rep["dropped"], 0)
PY
	t_end
done

t_begin "a layout for another segment leaves this one as segment+offset"
seg=$(t_name pring)
"$ST" record -o "$T/tr" -- "$BIN/ring" -n "$seg" -m 100 >"$T/out" 2>&1 ||
	t_fail "record"
sed 's|^struct ring {|struct ring @segment("/some-other-segment") {|' \
	"$LAYOUT" >"$T/other.layout"
grep -q '@segment("/some-other-segment")' "$T/other.layout" || t_fail "sed"
"$ST" report -l "$T/other.layout" "$T/tr" >"$T/rep" || t_fail "report"
grep -q "^  $seg+0x30  \[mutex\]" "$T/rep" || t_fail "$(grep -A1 '^locks' "$T/rep")"
"$ST" report -l "$T/other.layout" --segment "$seg" "$T/tr" >"$T/rep" ||
	t_fail "report --segment"
grep -q "^  $seg+0x30  \[mutex\]" "$T/rep" ||
	t_fail "@segment must win over --segment: $(grep -A1 '^locks' "$T/rep")"
"$ST" report -l "$LAYOUT" --segment "$seg" "$T/tr" >"$T/rep" || t_fail "report"
grep -q "^  ring.lock  \[mutex\]" "$T/rep" || t_fail "--segment: $(grep -A1 '^locks' "$T/rep")"
printf 'struct x { nosuch y; };\n' >"$T/bad.layout"
"$ST" report -l "$T/bad.layout" "$T/tr" >/dev/null 2>"$T/err"
[ $? = 1 ] || t_fail "a bad layout must exit 1"
grep -q "bad.layout:1:" "$T/err" || t_fail "bad layout: $(cat "$T/err")"
t_end

t_finish
