#!/usr/bin/env bash
# shmscope ls: every shared-memory object with the processes that map it,
# on real segments held by real processes.
. "$(dirname "$0")/lib.sh"

SHMSCOPE=$BIN/shmscope
HOLD=$BUILD/tests/helper_proc_hold

# hold KIND NAME|KEY SIZE: start a holder, wait until it has mapped.
hold() {
	local out="$T/hold.$RANDOM"
	t_spawn "$HOLD" "$@" >"$out"
	HOLD_PID=$T_LAST
	t_wait_for 5000 grep -q '^ready' "$out" || t_fail "holder $* not ready"
	HOLD_ID=$(awk '/^ready/ { print $2 }' "$out")
}

# The table row of an object: its line, joined with the next when the name
# was too long for its column and got a line of its own.
row() {
	awk -v n="$1" '
		found && /^ / { r = r " " $0; next }
		found { exit }
		$1 == n { found = 1; r = $0 }
		END { print r }' "$T/out"
}

# A POSIX name unique to this run, removed after the test.  (t_name's own
# bookkeeping is lost when it runs in $(...), a subshell.)
shm_name() {
	local n="/shmscope-t-$1-$$-$RANDOM"
	t_shm "$n"
	SHM_NAME=$n
}

# A SysV key unique to this run.
sysv_key() { printf '0x5c%02x%04x' "$1" $(($$ & 0xffff)); }

t_begin "ls shows a POSIX segment with both of its mappers"
shm_name ls
name=$SHM_NAME
hold posix "$name" 8192
p1=$HOLD_PID
hold posix "$name" 8192
p2=$HOLD_PID
"$SHMSCOPE" ls >"$T/out" 2>"$T/err" || t_fail "exit $?: $(cat "$T/err")"
r=$(row "$name")
[ -n "$r" ] || t_fail "$name not listed: $(cat "$T/out")"
case "$r" in *" 8.0K root "*"rw-r-----"*) ;; *) t_fail "size/owner/perms: $r" ;; esac
case "$r" in *"$p1 helper_proc_hol,"*) ;; *) t_fail "mapper $p1 missing: $r" ;; esac
case "$r" in *"$p2 helper_proc_hol"*) ;; *) t_fail "mapper $p2 missing: $r" ;; esac
grep -q '^POSIX shared memory (/dev/shm)$' "$T/out" || t_fail "no POSIX section"
t_end

t_begin "ls shows a segment that was unlinked but is still mapped"
shm_name ls
name=$SHM_NAME
hold posix "$name" 4096
rm -f "/dev/shm/${name#/}"
"$SHMSCOPE" ls >"$T/out" || t_fail "exit $?"
r=$(grep -F -A1 -- "$name (unlinked)" "$T/out" | tr '\n' ' ')
case "$r" in *"$HOLD_PID helper_proc_hol"*) ;; *) t_fail "unlinked row: $r" ;; esac
t_end

t_begin "ls shows a System V segment with its mapper"
key=$(sysv_key 1)
t_sysv "$key"
hold sysv "$key" 65536
"$SHMSCOPE" ls >"$T/out" || t_fail "exit $?"
r=$(row "$key")
set -- $r
[ "$2" = "$HOLD_ID" ] || t_fail "shmid: $r (want $HOLD_ID)"
[ "$3" = 64K ] || t_fail "size: $r"
[ "$6" = 1 ] || t_fail "nattch: $r"
case "$r" in *"$HOLD_PID helper_proc_hol"*) ;; *) t_fail "mapper: $r" ;; esac
t_end

t_begin "ls shows a System V segment marked for removal while attached"
hold sysv-rmid "$(sysv_key 2)" 4096
"$SHMSCOPE" ls >"$T/out" || t_fail "exit $?"
r=$(awk -v id="$HOLD_ID" '
	found && /^ / { r = r " " $0; next }
	found { exit }
	$1 == "removed" && $2 == id { found = 1; r = $0 }
	END { print r }' "$T/out")
[ -n "$r" ] || t_fail "removed segment $HOLD_ID not listed: $(cat "$T/out")"
case "$r" in *"$HOLD_PID helper_proc_hol"*) ;; *) t_fail "mapper: $r" ;; esac
t_end

t_begin "ls --json parses and says the same"
shm_name ls
name=$SHM_NAME
hold posix "$name" 8192
ppid_=$HOLD_PID
key=$(sysv_key 3)
t_sysv "$key"
hold sysv "$key" 4096
spid=$HOLD_PID sid=$HOLD_ID
hold sysv-rmid "$(sysv_key 4)" 4096
rpid=$HOLD_PID rid=$HOLD_ID
"$SHMSCOPE" ls --json >"$T/out" || t_fail "exit $?"
python3 - "$T/out" "$name" "$ppid_" "$key" "$sid" "$spid" "$rid" "$rpid" <<'PY' || t_fail "json: $(cat "$T/out")"
import json, sys
f, name, ppid, key, sid, spid, rid, rpid = sys.argv[1:]
doc = json.load(open(f))
objs = doc["objects"]
def one(pred):
    found = [o for o in objs if pred(o)]
    assert len(found) == 1, found
    return found[0]
p = one(lambda o: o["kind"] == "posix" and o.get("name") == name)
assert p["size"] == 8192 and p["owner"] == "root" and p["mode"] == "0640", p
assert p["perms"] == "rw-r-----" and p["unlinked"] is False, p
assert [m["pid"] for m in p["mapped_by"]] == [int(ppid)], p
m = p["mapped_by"][0]
assert m["comm"] == "helper_proc_hol" and m["writable"] and m["bytes"] == 8192, m
s = one(lambda o: o["kind"] == "sysv" and o["shmid"] == int(sid))
assert s["key"] == "0x%08x" % int(key, 16) and s["size"] == 4096, s
assert s["nattch"] == 1 and s["dest"] is False and s["cpid"] == int(spid), s
assert [m["pid"] for m in s["mapped_by"]] == [int(spid)], s
r = one(lambda o: o["kind"] == "sysv" and o["shmid"] == int(rid))
assert r["dest"] is True and r["key"] == "0x00000000", r
assert [m["pid"] for m in r["mapped_by"]] == [int(rpid)], r
assert doc["processes_scanned"] > 0 and isinstance(doc["processes_denied"], list)
PY
t_end

t_begin "ls as another user lists what it cannot read and says so"
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: $T_FILE: $T_NAME: needs root to become another user"
else
	shm_name ls
name=$SHM_NAME
	hold posix "$name" 4096
	key=$(sysv_key 5)
	t_sysv "$key"
	hold sysv "$key" 4096
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$SHMSCOPE" ls >"$T/out" 2>"$T/err" || t_fail "exit $?: $(cat "$T/err")"
	r=$(row "$name")
	case "$r" in *" 4.0K root "*"rw-r----- "*" -") ;; *) t_fail "unreadable posix row: $r" ;; esac
	r=$(row "$key")
	case "$r" in *"+1 unseen") ;; *) t_fail "sysv row: $r" ;; esac
	grep -q 'processes could not be examined' "$T/out" || t_fail "no note on unreadable processes"
fi
t_end

t_begin "ls --help, and nonsense is a usage error"
"$SHMSCOPE" ls --help >"$T/out" || t_fail "--help exit $?"
grep -q '^usage: shmscope ls' "$T/out" || t_fail "no usage"
"$SHMSCOPE" ls --bogus >/dev/null 2>&1
[ $? = 2 ] || t_fail "--bogus not exit 2"
"$SHMSCOPE" ls extra >/dev/null 2>&1
[ $? = 2 ] || t_fail "extra argument not exit 2"
t_end

t_finish
