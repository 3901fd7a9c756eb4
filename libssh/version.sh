#!/bin/sh
# libssh/version.sh DEFAULT [TARBALL]: the libssh version to build: read from TARBALL's name
# (libssh-0.12.2.tar.xz -> 0.12.2) when one is given, else DEFAULT.
if [ -n "${2:-}" ]; then
	v=$(basename "$2" | sed -n 's/^libssh-\([0-9][0-9.]*[0-9]\)\.tar\..*$/\1/p')
	if [ -z "$v" ]; then
		echo "libssh/version.sh: cannot read a version from '$2' (want libssh-X.Y.Z.tar.xz)" >&2
		exit 64
	fi
	echo "$v"
else
	echo "$1"
fi
