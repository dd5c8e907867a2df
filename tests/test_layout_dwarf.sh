#!/usr/bin/env bash
# shmscope layout --from-dwarf: a layout file from a binary's debug info that
# parses to the offsets the compiler chose.
. "$(dirname "$0")/lib.sh"

SRC=tests/layout/dwarf_prog.c
HAND=tests/layout/dwarf_prog.layout

# "path offset size" of every field of a layout, from --json.
fields() {
	python3 -c '
import json, sys
d = json.load(sys.stdin)
print(d["type"], d["size"], d["align"])
for f in d["fields"]:
    print(f["path"], f["offset"], f["size"], f.get("bit_offset", ""), f.get("bit_size", ""))
'
}

t_begin "from-dwarf writes sync types by name and round-trips"
if ! cc -g -O0 -o "$T/prog" "$SRC" -lpthread 2>"$T/cc.log"; then
	t_fail "cc: $(cat "$T/cc.log")"
else
	"$BIN/shmscope" layout --from-dwarf "$T/prog" shared_state -o "$T/out.layout" 2>"$T/err" ||
		t_fail "exit $?: $(cat "$T/err")"
	for ty in pthread_mutex_t sem_t pthread_cond_t pthread_rwlock_t \
		pthread_spinlock_t pthread_barrier_t; do
		grep -q "^	$ty " "$T/out.layout" || t_fail "no $ty member in the output"
	done
	grep -q '__data\|__size' "$T/out.layout" && t_fail "glibc internals leaked"
	"$BIN/shmscope" layout --json "$T/out.layout" --type shared_state | fields >"$T/dwarf" ||
		t_fail "the output does not parse: $(cat "$T/out.layout")"
	"$BIN/shmscope" layout --json "$HAND" --type shared_state | fields >"$T/hand" ||
		t_fail "$HAND does not parse"
	diff "$T/hand" "$T/dwarf" >"$T/diff" || t_fail "offsets differ: $(cat "$T/diff")"
	# and both agree with the compiler, as the program itself prints it
	"$T/prog" >"$T/real" || t_fail "prog exit $?"
	[ "$(wc -l <"$T/real")" -ge 20 ] || t_fail "prog printed too little"
	while read -r path off size; do
		if [ "$path" = shared_state ]; then
			grep -q "^struct shared_state $off " "$T/dwarf" || t_fail "size $off"
		else
			awk -v p="$path" -v o="$off" -v s="$size" \
				'$1 == p && $2 == o && $3 == s { f = 1 } END { exit !f }' \
				"$T/dwarf" || t_fail "$path: gcc says $off $size"
		fi
	done <"$T/real"
fi
t_end

t_begin "from-dwarf refuses what it cannot do"
cc -O0 -o "$T/nodebug" "$SRC" -lpthread 2>/dev/null
"$BIN/shmscope" layout --from-dwarf "$T/nodebug" shared_state >"$T/out" 2>"$T/err"
[ $? = 1 ] || t_fail "no debug info: exit not 1"
grep -q 'shmscope: layout: .*-g\|no struct' "$T/err" || t_fail "message: $(cat "$T/err")"
cc -g -O0 -o "$T/prog" "$SRC" -lpthread 2>/dev/null
"$BIN/shmscope" layout --from-dwarf "$T/prog" no_such_struct >"$T/out" 2>"$T/err"
[ $? = 1 ] || t_fail "unknown struct: exit not 1"
grep -q "no struct or typedef named 'no_such_struct'" "$T/err" || t_fail "message: $(cat "$T/err")"
"$BIN/shmscope" layout --from-dwarf "$T/prog" >"$T/out" 2>"$T/err"
[ $? = 2 ] || t_fail "missing STRUCT: exit not 2"
t_end

t_finish
