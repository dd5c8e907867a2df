#!/usr/bin/env bash
# Every program answers --help and --version, and rejects nonsense with 2.
. "$(dirname "$0")/lib.sh"

for prog in shmscope ring shmtrace ipcbench; do
	t_begin "$prog --help and --version"
	"$BIN/$prog" --help >"$T/out" 2>&1 || t_fail "--help exit $?"
	grep -q 'usage:' "$T/out" || t_fail "--help prints no usage"
	"$BIN/$prog" --version >"$T/out" 2>&1 || t_fail "--version exit $?"
	grep -Eq "^$prog [0-9]+\.[0-9]+" "$T/out" || t_fail "--version: $(cat "$T/out")"
	t_end
done
t_finish
