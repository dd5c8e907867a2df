#!/bin/sh
# make bench: ipcbench over every mechanism at five sizes, pinned to two
# CPUs when there are two (unpinned otherwise).
: "${BIN:=build/bin}"
pin=""
[ "$(nproc)" -ge 2 ] && pin="--pin"
exec "$BIN/ipcbench" $pin --sizes 8,256,4K,64K,1M --reps 3 --rounds 2
