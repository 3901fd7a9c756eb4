#!/bin/sh
# release/version.sh: print connect's version, read from its one home, CONNECT_VERSION in
# connect/cmd.h. The header, not a VERSION file the build passes with -D, because every compiler
# run that builds connect includes it (plain, asan, static, tuned, a cross build, Homebrew's, a
# `cc *.c` by hand): none can print a version other than the tree's, or none. The scripts of
# `make release` read it here.
top=$(cd "$(dirname "$0")/.." && pwd)
v=$(sed -n 's/^#define CONNECT_VERSION "\([0-9][0-9A-Za-z.+~-]*\)"$/\1/p' "$top/connect/cmd.h")
if [ -z "$v" ] || [ "$(printf '%s\n' "$v" | wc -l)" -ne 1 ]; then
	echo "release/version.sh: no single '#define CONNECT_VERSION \"X.Y.Z\"' line in connect/cmd.h" >&2
	exit 70
fi
echo "$v"
