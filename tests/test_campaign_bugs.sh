#!/usr/bin/env bash
# The CI campaign over the planted-bug suite (testprogs/bugs/campaign.sh,
# make fuzz-bugs), on one quick bug with small budgets: a bug that fires is
# reported found and a fixed twin that never fails is reported passed (exit
# 0); a program that cannot fail listed as a bug (the twin, via --fixed) is
# reported NOT FOUND and the campaign exits 1; a twin that fails fails it
# too, unless its failures' kind is ignored with -i.  shmfuzz cleans up
# every run.
. "$(dirname "$0")/lib.sh"
# shmfuzz preloads the (never sanitized) probe into sanitized bug programs.
export ASAN_OPTIONS=verify_asan_link_order=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}
C=testprogs/bugs/campaign.sh

t_begin "campaign: a bug found and a twin passed: exit 0"
$C -o "$T/c" -b lost-update:20:--force -w lost-update -r 10 >"$T/out" 2>&1
st=$?
[ $st -eq 0 ] || t_fail "exit $st: $(cat "$T/out")"
grep -Eq '^bug  lost-update +found in [0-9]+ runs / [0-9.]+ s \(exit: ' "$T/out" ||
	t_fail "no found line: $(cat "$T/out")"
grep -Eq '^twin lost-update +passed 10 runs / ' "$T/out" ||
	t_fail "no twin line: $(cat "$T/out")"
grep -q '^campaign: ok: 1/1 bugs found, 1/1 twins passed, strategy noise' "$T/out" ||
	t_fail "no summary: $(cat "$T/out")"
ls -d "$T"/c/bugs/lost-update/failure-1 >/dev/null 2>&1 ||
	t_fail "the failure folder is not kept"
t_end

t_begin "campaign: a bug not found within its budget: exit 1"
$C -o "$T/c" -b lost-update:1:--fixed >"$T/out" 2>&1
st=$?
[ $st -eq 1 ] || t_fail "exit $st: $(cat "$T/out")"
grep -Eq '^bug  lost-update +NOT FOUND in [0-9]+ runs / [0-9.]+ s \(budget 1 s\)' "$T/out" ||
	t_fail "no NOT FOUND line: $(cat "$T/out")"
grep -q '^campaign: FAILED: 0/1 bugs found, 0/0 twins passed' "$T/out" ||
	t_fail "no summary: $(cat "$T/out")"
t_end

t_begin "campaign: a twin that fails fails the campaign; -i KIND ignores it"
# A stand-in "bug" whose twin fails every run (exit 1), next to the real
# shmfuzz: BIN points at a folder with both.
mkdir -p "$T/bin"
ln -s "$(cd "$BIN" && pwd)/shmfuzz" "$T/bin/shmfuzz"
printf '#!/bin/sh\nexit 1\n' >"$T/bin/bug-alwaysfails"
chmod +x "$T/bin/bug-alwaysfails"
BIN=$T/bin $C -o "$T/c" -w alwaysfails -r 3 -j 1 >"$T/out" 2>&1
st=$?
[ $st -eq 1 ] || t_fail "exit $st: $(cat "$T/out")"
grep -Eq '^twin alwaysfails +FAILED 3 of 3 runs / [0-9.]+ s \(exit: ' "$T/out" ||
	t_fail "no FAILED line: $(cat "$T/out")"
grep -q '^campaign: FAILED: 0/0 bugs found, 0/1 twins passed' "$T/out" ||
	t_fail "no summary: $(cat "$T/out")"
BIN=$T/bin $C -o "$T/c" -w alwaysfails -r 3 -j 1 -i misuse -i exit >"$T/out" 2>&1
st=$?
[ $st -eq 0 ] || t_fail "-i exit: exit $st: $(cat "$T/out")"
grep -Eq '^twin alwaysfails +passed 3 runs / [0-9.]+ s, IGNORED 3 failure\(s\) \(exit: ' "$T/out" ||
	t_fail "-i exit: no IGNORED line: $(cat "$T/out")"
t_end

t_begin "campaign: a usage error: exit 2"
$C -x >"$T/out" 2>&1
st=$?
[ $st -eq 2 ] || t_fail "exit $st"
grep -q '^usage: ' "$T/out" || t_fail "no usage: $(cat "$T/out")"
t_end

t_finish
