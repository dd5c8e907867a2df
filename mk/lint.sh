#!/bin/sh
# make lint: cppcheck over every C file of the project; fails on any finding.
set -e
dirs=""
for d in lib inspector probes fuzz testprogs tests; do
	[ -d "$d" ] && dirs="$dirs $d"
done
# shellcheck disable=SC2086
cppcheck --quiet --error-exitcode=1 --std=c11 --enable=warning,portability \
	--inline-suppr --suppress=missingIncludeSystem -D__GNUC__ -D_GNU_SOURCE \
	-DSHMSCOPE_VERSION='"lint"' -Ilib $dirs
echo "lint: cppcheck clean"
