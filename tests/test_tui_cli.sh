#!/usr/bin/env bash
# `shmscope TARGET` outside a screen: its options, its errors, its exits.
. "$(dirname "$0")/lib.sh"

t_begin "view --help lists the view options"
"$BIN/shmscope" /x --help >"$T/out" 2>&1 || t_fail "exit $?"
for o in --interval --sample-hz --stuck --no-color --follow; do
	grep -q -- "$o" "$T/out" || t_fail "--help lacks $o"
done
t_end

t_begin "bad view options are usage errors (2) naming the option"
"$BIN/shmscope" --interval abc /x 2>"$T/err"
[ $? = 2 ] || t_fail "--interval abc: not 2"
grep -q "interval" "$T/err" || t_fail "message: $(cat "$T/err")"
"$BIN/shmscope" --sample-hz 1000000 /x 2>"$T/err"
[ $? = 2 ] || t_fail "--sample-hz 1000000: not 2"
"$BIN/shmscope" --stuck 0 /x 2>"$T/err"
[ $? = 2 ] || t_fail "--stuck 0: not 2"
"$BIN/shmscope" --bogus /x 2>"$T/err"
[ $? = 2 ] || t_fail "--bogus: not 2"
"$BIN/shmscope" 2>"$T/err"
[ $? = 2 ] || t_fail "no target: not 2"
t_end

t_begin "a missing segment fails with 1 and says why"
"$BIN/shmscope" "/shmscope-t-none-$$" 2>"$T/err" </dev/null
[ $? = 1 ] || t_fail "not 1"
grep -q "shmscope: /shmscope-t-none-$$: No such file" "$T/err" || t_fail "message: $(cat "$T/err")"
t_end

t_begin "without a terminal the view says so and fails with 1"
seg=$(t_name cli)
t_shm "$seg"
head -c 64 /dev/zero >"/dev/shm/${seg#/}"
"$BIN/shmscope" "$seg" </dev/null >"$T/out" 2>"$T/err"
[ $? = 1 ] || t_fail "not 1"
grep -q "needs a terminal" "$T/err" || t_fail "message: $(cat "$T/err")"
[ -s "$T/out" ] && t_fail "wrote to stdout: $(head -c 200 "$T/out")"
t_end

t_finish
