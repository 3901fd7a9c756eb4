#!/bin/sh
# release/linux-x86_64.sh DIST: put connect/connect-static (make static) into DIST as
# connect-VERSION-linux-x86_64, stripped (9 MB -> 7 MB; the symbols help nobody who downloads it),
# after checking that it is what the name says: built here, on x86_64 Linux, and its --version
# naming this VERSION, the tuned libssh and the static link. `make release-linux-x86_64` runs it.
set -eu
die() { echo "release/linux-x86_64.sh: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: sh release/linux-x86_64.sh DIST"
DIST=$1
top=$(cd "$(dirname "$0")/.." && pwd)
V=$(sh "$top/release/version.sh")
BIN=$top/connect/connect-static
[ "$(uname -s) $(uname -m)" = "Linux x86_64" ] ||
    die "connect-$V-linux-x86_64 is built on x86_64 Linux (this is $(uname -s) $(uname -m))"
[ -x "$BIN" ] || die "no $BIN (make static)"
got=$("$BIN" --version) || die "$BIN --version failed"
case $got in
"connect $V (libssh "*", tuned, static)") ;;
*) die "$BIN --version says '$got', not 'connect $V (libssh ..., tuned, static)'" ;;
esac
mkdir -p "$DIST"
out=$DIST/connect-$V-linux-x86_64
strip -o "$out.tmp" "$BIN" || die "strip failed (binutils)"
chmod 755 "$out.tmp"
[ "$("$out.tmp" --version)" = "$got" ] || die "the stripped copy does not run as $BIN does"
mv -f "$out.tmp" "$out"
echo "$out: $got, $(wc -c < "$out" | tr -d ' ') bytes"
