#!/bin/sh
# release/tarball.sh DIST: the source tarball DIST/connect-VERSION.tar.gz, unpacking to
# connect-VERSION/, made by `git archive` of HEAD: exactly the committed files, nothing built, and
# the same bytes for the same commit (so the Homebrew formula's sha256 can be checked against a
# rebuild). It builds with plain `make` where there is no git (tests/t-install.sh checks that).
# Uncommitted changes are not in it: it says so. Outside a git checkout it refuses, naming why.
set -eu
die() { echo "release/tarball.sh: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: sh release/tarball.sh DIST"
DIST=$1
top=$(cd "$(dirname "$0")/.." && pwd)
V=$(sh "$top/release/version.sh")
command -v git >/dev/null 2>&1 || die "needs git: the tarball is made from a git checkout (git archive)"
git -C "$top" rev-parse --verify -q HEAD >/dev/null 2>&1 ||
    die "$top is not a git checkout: the tarball is made from one (git archive)"
# The header in HEAD must name the same version as the tree's, or the tarball would build another.
hv=$(git -C "$top" show HEAD:connect/cmd.h | sed -n 's/^#define CONNECT_VERSION "\(.*\)"$/\1/p')
[ "$hv" = "$V" ] || die "connect/cmd.h says $V but HEAD's says '$hv': commit it first"
dirty=$(git -C "$top" status --porcelain --untracked-files=no | wc -l | tr -d ' ')
[ "$dirty" -eq 0 ] || echo "release/tarball.sh: note: $dirty changed file(s) not committed are not in the tarball" >&2
mkdir -p "$DIST"
out=$DIST/connect-$V.tar.gz
# gzip -n: no name or time stamp in the gzip header, so the bytes depend on the commit only.
git -C "$top" archive --format=tar --prefix="connect-$V/" HEAD | gzip -n -9 > "$out.tmp" ||
    die "git archive failed"
mv -f "$out.tmp" "$out"
echo "$out: $(git -C "$top" rev-parse --short HEAD), $(wc -c < "$out" | tr -d ' ') bytes"
