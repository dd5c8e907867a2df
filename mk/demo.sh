#!/bin/sh
# make demo: for now, show what shmscope ls sees.
"$BIN/shmscope" --version
"$BIN/shmscope" ls
