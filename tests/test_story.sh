#!/usr/bin/env bash
# shmtrace story (docs/story.md): a real trace told in order, with names
# from a layout, in causal order across processes, repetitions collapsed,
# --last, --json; and shmfuzz's story.txt in a failure folder.
. "$(dirname "$0")/lib.sh"
ST=$BIN/shmtrace
FZ=$BIN/shmfuzz
RING_LAYOUT=testprogs/ring.layout
[ -n "$SAN" ] && export ASAN_OPTIONS="verify_asan_link_order=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"

# causal.py STORY.json [counts-file]: the story's events, in the story's
# order, replayed against the objects: a lock is never taken while another
# thread holds it, a semaphore is never taken at 0.  With the ring's
# --counts output, the story also holds exactly the operations the ring
# says its processes made.
cat >"$T_ROOT/causal.py" <<'PY'
import json, re, sys
ev = json.load(open(sys.argv[1]))
kinds = {e["kind"] for e in ev}
assert kinds <= {"event", "repeat", "skipped", "blocked", "held", "deadlock"}, kinds
owner, val, bad, n = {}, {}, 0, {}
latest, back = 0, 0
for e in ev:
    if e["kind"] != "event":
        continue
    # Reordered only as far as two CPUs' clocks disagree (a few us here),
    # never by the causal stage's give-up window.
    back = max(back, latest - e["t_ns"])
    latest = max(latest, e["t_ns"])
    o, who, op = e.get("object"), (e["p"], e.get("thread")), e["op"]
    key = op + "." + (o or "").split(".")[-1]
    n[key] = n.get(key, 0) + 1
    if op in ("mutex_lock", "mutex_trylock") and e["result"] in (None, "EOWNERDEAD"):
        if owner.get(o) not in (None, who):
            bad += 1
            print(f"{e['t_ns']}: P{who[0]} takes {o} held by P{owner[o][0]}")
        owner[o] = who
    elif op == "mutex_unlock" and e["result"] is None:
        if owner.get(o) == who:
            owner[o] = None
    elif op == "sem_init":
        val[o] = int(re.search(r"value (\d+)", e["text"]).group(1))
    elif op == "sem_post" and e["result"] is None:
        val[o] = val.get(o, 0) + 1
    elif op in ("sem_wait", "sem_trywait") and e["result"] is None and o in val:
        if val[o] <= 0:
            bad += 1
            print(f"{e['t_ns']}: P{who[0]} takes {o} at 0")
        val[o] -= 1
if bad:
    sys.exit(f"{bad} events out of causal order")
if back > 50000:
    sys.exit(f"an event told {back} ns after a later one")
if len(sys.argv) > 2:
    tot = {}
    for line in open(sys.argv[2]):
        if "ring: counts" in line:
            for k, v in re.findall(r"(\S+)=(\d+)", line):
                if k not in ("pid", "role"):
                    tot[k] = tot.get(k, 0) + int(v)
    want = {"mutex_lock.lock": tot["mutex_lock"],
            "sem_wait.empty_slots": tot["sem_wait.empty_slots"],
            "sem_post.filled_slots": tot["sem_post.filled_slots"],
            "sem_wait.filled_slots": tot["sem_wait.filled_slots"],
            "sem_post.empty_slots": tot["sem_post.empty_slots"]}
    for k, v in want.items():
        if n.get(k, 0) != v:
            sys.exit(f"{k}: story {n.get(k, 0)}, ring {v}")
PY

# The same events whatever the collapsing: shown + collapsed = all.
cat >"$T_ROOT/total.py" <<'PY'
import json, sys
ev = json.load(open(sys.argv[1]))
shown = sum(1 for e in ev if e["kind"] == "event")
rep = sum(e["events"] for e in ev if e["kind"] == "repeat")
skipped = sum(e["events"] for e in ev if e["kind"] == "skipped")
print(shown, rep, skipped)
PY

t_begin "a recorded ring: names from the layout, causal order, every operation"
seg=$(t_name sring)
"$ST" record -o "$T/tr" -- "$BIN/ring" -n "$seg" -p 2 -c 2 -m 400 --counts \
	>"$T/out" 2>&1 || t_fail "record: $(tail -3 "$T/out")"
"$ST" story -l "$RING_LAYOUT" "$T/tr" >"$T/story" 2>"$T/err" ||
	t_fail "story: $(cat "$T/err")"
for name in ring.lock ring.empty_slots ring.filled_slots; do
	grep -q " $name\$" "$T/story" || t_fail "no line names $name"
done
grep -Eq '^ +[0-9.]+  P1 [0-9]+ ring +T1 +fork -> P[0-9] \(pid [0-9]+\)' \
	"$T/story" || t_fail "no fork line: $(head -20 "$T/story")"
grep -Eq 'T1 +exit 0' "$T/story" || t_fail "no exit line"
"$ST" story --all --json -l "$RING_LAYOUT" "$T/tr" >"$T/all.json" ||
	t_fail "story --all --json"
python3 "$T_ROOT/causal.py" "$T/all.json" "$T/out" || t_fail "see above"
t_end

t_begin "causal order repaired: the reader's order had locks taken while held"
# A real trace (tests/probe/abba-reordered.tgz, see test_probe_misc.sh) in
# which the TSCs of two vCPUs differ by more than the reader's slack: in
# timestamp order, some acquisitions come before the unlock they needed.
tar -xzf tests/probe/abba-reordered.tgz -C "$T" || t_fail "untar"
"$ST" dump "$T/trace" | awk '
	/^#/ || $3 == "end" { next }
	$4 == "mutex_lock" && $7 == 0 {
		if (($5 in own) && own[$5] != $2 "/" $3) bad++
		own[$5] = $2 "/" $3
	}
	$4 == "mutex_unlock" && $7 == 0 && own[$5] == $2 "/" $3 { delete own[$5] }
	END { print bad + 0 }' >"$T/bad"
[ "$(cat "$T/bad")" -gt 0 ] ||
	t_fail "the fixture shows no reordering in timestamp order any more"
"$ST" story --all --json "$T/trace" >"$T/all.json" || t_fail "story"
python3 "$T_ROOT/causal.py" "$T/all.json" || t_fail "story order: see above"
t_end

t_begin "repetitions collapse: a long run reads short, and nothing is lost"
seg=$(t_name sring)
"$ST" record -o "$T/tr" -- "$BIN/ring" -n "$seg" -m 3000 >"$T/out" 2>&1 ||
	t_fail "record"
"$ST" story -l "$RING_LAYOUT" "$T/tr" >"$T/story" || t_fail "story"
total=$(sed -n 's/^\([0-9]*\) events: .*/\1/p' "$T/story")
lines=$(wc -l <"$T/story")
[ "${total:-0}" -gt 12000 ] || t_fail "only ${total:-?} events"
[ "$lines" -lt $((total / 10)) ] ||
	t_fail "$lines lines for $total events: not collapsed"
grep -Eq '\.\.\. P[0-9]/T1 did this [0-9]+ more times \([0-9]+ events, .*\): sem_wait ring\.(empty|filled)_slots, lock/unlock ring\.lock, sem_post ring\.(filled|empty)_slots \.\.\.' \
	"$T/story" || t_fail "no summary line: $(grep -m3 '\.\.\.' "$T/story")"
"$ST" story --json -l "$RING_LAYOUT" "$T/tr" >"$T/c.json" || t_fail "json"
"$ST" story --all --json -l "$RING_LAYOUT" "$T/tr" >"$T/a.json" ||
	t_fail "--all --json"
read -r shown rep _ < <(python3 "$T_ROOT/total.py" "$T/c.json")
read -r all arep _ < <(python3 "$T_ROOT/total.py" "$T/a.json")
[ "$arep" = 0 ] || t_fail "--all collapsed $arep events"
[ "$all" = "$total" ] || t_fail "--all: $all events, the text says $total"
[ $((shown + rep)) = "$all" ] || t_fail "shown $shown + collapsed $rep != $all"
[ "$rep" -gt $((all * 9 / 10)) ] || t_fail "only $rep of $all collapsed"
t_end

t_begin "threads of one process, a private mutex: T2, T3, lock/unlock pairs"
"$ST" record -o "$T/tr" -- "$BIN/bench_locks" contended 2000 >"$T/out" 2>&1 ||
	t_fail "record: $(cat "$T/out")"
"$ST" story "$T/tr" >"$T/story" || t_fail "story: exit $?"
# A thread's first lock may have had to wait for the other's: "lock
# (waited 77.6 us)" is a lock too.
for t in T2 T3; do
	grep -Eq "^ +[0-9.]+  P1 [0-9]+ bench_locks +$t [0-9]+ +lock( \(waited [^)]+\))? +0x[0-9a-f]+ \(private to P1\)\$" \
		"$T/story" || t_fail "no lock by $t: $(head -12 "$T/story")"
	grep -Eq "^ +\.\.\. [0-9]+ more lock/unlock pairs of 0x[0-9a-f]+ \(private to P1\) by P1/$t \(" \
		"$T/story" || t_fail "no pairs line for $t: $(grep '\.\.\.' "$T/story")"
done
"$ST" story --json "$T/tr" >"$T/c.json" || t_fail "json"
read -r shown rep _ < <(python3 "$T_ROOT/total.py" "$T/c.json")
[ $((shown + rep)) -gt 8000 ] || t_fail "shown $shown + collapsed $rep: not 2 x 2 x 2000 and more"
t_end

t_begin "--last N: the N events before the end, the rest counted"
"$ST" record -o "$T/tr" -- "$BIN/ring" -n "$(t_name sring)" -m 300 \
	>"$T/out" 2>&1 || t_fail "record"
"$ST" story --all --json "$T/tr" >"$T/a.json" || t_fail "story"
"$ST" story --last 50 --all --json "$T/tr" >"$T/l.json" || t_fail "--last"
python3 - "$T/a.json" "$T/l.json" <<'PY' || t_fail "see above"
import json, sys
a = [e for e in json.load(open(sys.argv[1])) if e["kind"] == "event"]
l = json.load(open(sys.argv[2]))
skipped = [e for e in l if e["kind"] == "skipped"]
ev = [e for e in l if e["kind"] == "event"]
assert len(ev) == 50, len(ev)
assert skipped and skipped[0]["events"] == len(a) - 50, (skipped, len(a))
assert ev == a[-50:], "the last 50 differ from the end of the whole story"
PY
"$ST" story --last 50 "$T/tr" >"$T/l.txt" || t_fail "--last text"
grep -Eq '^ +\.\.\. [0-9]+ earlier events not shown \(--last 50\) \.\.\.$' \
	"$T/l.txt" || t_fail "no skipped line: $(head -12 "$T/l.txt")"
t_end

t_begin "usage: --help, bad --last, no trace, a bad layout"
"$ST" story --help | grep -q '^usage: shmtrace story' || t_fail "--help"
"$ST" story --last 0 "$T" >/dev/null 2>&1
[ $? = 2 ] || t_fail "--last 0 must exit 2"
"$ST" story >/dev/null 2>&1
[ $? = 2 ] || t_fail "no DIR must exit 2"
"$ST" story "$T/nonexistent" >/dev/null 2>"$T/err"
[ $? = 1 ] || t_fail "a missing trace must exit 1"
grep -q '^shmtrace: ' "$T/err" || t_fail "message: $(cat "$T/err")"
printf 'struct x { nosuch y; };\n' >"$T/bad.layout"
tar -xzf tests/probe/abba-reordered.tgz -C "$T" || t_fail "untar"
"$ST" story -l "$T/bad.layout" "$T/trace" >/dev/null 2>"$T/err"
[ $? = 1 ] || t_fail "a bad layout must exit 1"
grep -q "bad.layout:1:" "$T/err" || t_fail "bad layout: $(cat "$T/err")"
t_end

t_begin "shmtrace: a bad number is refused with the option's name and range"
tar -xzf tests/probe/abba-reordered.tgz -C "$T" || t_fail "untar"
for a in "report --top abc" "report --frames 0" "story --last 5x" \
	"record --buffer-mb 0 --" "record --backtrace 99 --"; do
	# shellcheck disable=SC2086
	"$ST" $a "$T/trace" >/dev/null 2>"$T/err"
	[ $? = 2 ] || t_fail "$a must exit 2"
	opt=${a#* }
	opt=${opt%% *}
	grep -q "^shmtrace: $opt: '.*': a number from [0-9]* to [0-9]*$" \
		"$T/err" || t_fail "$a: $(cat "$T/err")"
done
"$ST" report --top 1 --frames 2 "$T/trace" >/dev/null ||
	t_fail "report --top 1 --frames 2"
t_end

t_begin "shmfuzz: a deadlock's failure folder has story.txt, names and all"
"$FZ" --runs 1 --seed 1 --timeout 1000 -q -l testprogs/bugs/abba.layout \
	--out "$T/fz" -- "$BIN/bug-abba" --force -n "$(t_name sabba)" \
	>"$T/out" 2>&1
[ $? = 1 ] || t_fail "shmfuzz must find the forced deadlock: $(cat "$T/out")"
F=$T/fz/failure-1
[ -s "$F/story.txt" ] || t_fail "no story.txt in $(ls "$F" | tr '\n' ' ')"
grep -q '^story: story.txt' "$F/failure.txt" ||
	t_fail "failure.txt does not mention it"
grep -Eq 'lock blocks, held by P[0-9]/T1 +bank\.acct\[[01]\]\.lock$' \
	"$F/story.txt" || t_fail "no named block: $(tail -15 "$F/story.txt")"
grep -Eq '^  a deadlock: P[0-9]/T1 waits for P[0-9]/T1 waits for P[0-9]/T1$' \
	"$F/story.txt" || t_fail "no deadlock line: $(tail -8 "$F/story.txt")"
t_end

t_finish
