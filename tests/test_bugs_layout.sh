#!/usr/bin/env bash
# Each planted bug's layout file describes the bytes its program really
# lays out: with the annotations stripped, a layout is C, so compile it and
# the program's own struct and compare their sizes; `shmscope layout` must
# find the same size with the annotations in.
. "$(dirname "$0")/lib.sh"

CC=${CC:-cc}
# NAME ROOT-STRUCT
ROOTS="lost-update ring
missing-post ring
ring-overwrite ring
abba bank
nonowner-unlock record
torn-message mailbox
aba-freelist pool
missed-wakeup queue
owner-dead account
owner-dead-hang account
shrink-sigbus log_hdr
double-post ring
init-race shared"

# layout_as_c FILE: the layout without its annotations and #includes
# (an #include "x.layout" is inlined), as C.
layout_as_c() {
	local dir f=$1
	dir=$(dirname "$f")
	while IFS= read -r line; do
		case $line in
		'#include "'*) layout_as_c "$dir/$(echo "$line" | cut -d'"' -f2)" ;;
		*) printf '%s\n' "$line" ;;
		esac
	done <"$f" | sed -E 's/@[a-z_]+(\([^()]*(\([^()]*\)[^()]*)*\))?//g' |
		python3 -c 'import re,sys; print(re.sub(r"\}[^;{}]*;", "};", sys.stdin.read()))'
}

while read -r b root; do
	t_begin "testprogs/bugs/$b.layout has the size of struct $root in $b.c"
	layout_as_c "testprogs/bugs/$b.layout" >"$T/l.h"
	printf '#include <pthread.h>\n#include <semaphore.h>\n#include <stdint.h>\n#include <stdio.h>\n#include "l.h"\nint main(void) { printf("%%zu\\n", sizeof(struct %s)); return 0; }\n' \
		"$root" >"$T/a.c"
	printf '#define main bug_main\n#include "%s"\n#undef main\nint main(void);\nint main(void) { printf("%%zu\\n", sizeof(struct %s)); return 0; }\n' \
		"$PWD/testprogs/bugs/$b.c" "$root" >"$T/b.c"
	$CC -D_GNU_SOURCE -w -I"$T" "$T/a.c" -o "$T/a" 2>"$T/err" ||
		t_fail "layout does not compile as C: $(head -3 "$T/err")"
	$CC -D_GNU_SOURCE -DSHMSCOPE_VERSION='"t"' -w -Itestprogs/bugs \
		"$T/b.c" testprogs/bugs/bugkit.c -o "$T/b" -lpthread 2>"$T/err" ||
		t_fail "program struct does not compile: $(head -3 "$T/err")"
	if [ "$T_FAILED" = 0 ]; then
		la=$("$T/a")
		lb=$("$T/b")
		[ "$la" = "$lb" ] || t_fail "layout $la bytes, program $lb"
		# and the parser, annotations and all, agrees with the compiler
		ls=$("$BIN/shmscope" layout --json --type "$root" \
			"testprogs/bugs/$b.layout" 2>"$T/err" |
			python3 -c 'import json,sys; print(json.load(sys.stdin)["size"])')
		[ "$ls" = "$lb" ] || t_fail "shmscope layout: ${ls:-error $(cat "$T/err")}, program $lb"
	fi
	t_end
done <<<"$ROOTS"
t_finish
