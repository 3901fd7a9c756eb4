#!/bin/sh
# release/dist.sh DIST RELEASE_URL LIBSSH_VERSION [HOMEPAGE]: the rest of a release, beside the
# binaries the release-* targets put in DIST (make release-dist runs it last):
#   connect-VERSION.tar.gz  release/tarball.sh (git archive of HEAD)
#   install.sh              release/install.sh.in, RELEASE_URL baked in as its default
#   connect.rb              release/connect.rb.in: the tarball at RELEASE_URL and its sha256, and the
#                           libssh LIBSSH_VERSION release tarball (Debian's copy) and its sha256
#   SHA256SUMS              every file in DIST, as `sha256sum -c` and `shasum -a 256 -c` read it
# RELEASE_URL is where DIST's files will be served from, as one directory (a GitHub release's
# .../releases/download/vVERSION, say). A file in DIST named for another version is refused
# (SHA256SUMS would vouch for it): make release starts from an empty DIST.
set -eu
die() { echo "release/dist.sh: $*" >&2; exit 1; }
[ $# -ge 3 ] || die "usage: sh release/dist.sh DIST RELEASE_URL LIBSSH_VERSION [HOMEPAGE]"
DIST=$1 URL=${2%/} LV=$3 HOMEPAGE=${4:-}
top=$(cd "$(dirname "$0")/.." && pwd)
V=$(sh "$top/release/version.sh")
case $URL in
http://* | https://*) ;;
*) die "RELEASE_URL='$URL': give the http(s) URL the files of dist/ will be served from," \
    "e.g. make release RELEASE_URL=https://github.com/OWNER/connect/releases/download/v$V" ;;
esac
case $URL in *[\ \"\'\\\|\&\#]*) die "RELEASE_URL='$URL': no spaces, quotes, \\, |, & or #" ;; esac
HOMEPAGE=${HOMEPAGE:-$URL}

if command -v sha256sum >/dev/null 2>&1; then
	sha256() { sha256sum "$1" | cut -d' ' -f1; }
else
	sha256() { shasum -a 256 "$1" | cut -d' ' -f1; }
fi

mkdir -p "$DIST"
for f in "$DIST"/*; do
	[ -f "$f" ] || continue
	case ${f##*/} in
	"connect-$V-"* | "connect-$V.tar.gz" | install.sh | connect.rb | SHA256SUMS) ;;
	connect-*) die "$f is not of version $V: start from an empty $DIST (make release does)" ;;
	esac
done

sh "$top/release/tarball.sh" "$DIST"
TARBALL_SHA=$(sha256 "$DIST/connect-$V.tar.gz")

# libssh's release tarball, as Debian's source package of it carries it: apt checked it against the
# archive's signed Sources index when libssh/build.sh (make static) fetched it; fetched here if not.
BUILD=$top/build
orig=$BUILD/apt/src/libssh_$LV.orig.tar.xz
if [ ! -f "$orig" ]; then
	. "$top/libssh/debsrc.sh"
	rm -rf "$BUILD/release-libssh"
	debsrc_unpack libssh "$LV-" "$BUILD/release-libssh" "build.sh's -f path has no Debian copy to name"
	rm -rf "$BUILD/release-libssh"
fi
[ -f "$orig" ] || die "no $orig"
LIBSSH_SHA=$(sha256 "$orig")
# The .dsc beside it (checked by apt too) must list that very file.
grep -q "^ $LIBSSH_SHA [0-9]* libssh_$LV.orig.tar.xz\$" "$BUILD"/apt/src/libssh_"$LV"-*.dsc 2>/dev/null ||
    die "$orig: its sha256 $LIBSSH_SHA is not in a libssh_$LV-*.dsc beside it"
LIBSSH_URL=https://deb.debian.org/debian/pool/main/libs/libssh/libssh_$LV.orig.tar.xz

subst() {
	sed -e "s|@VERSION@|$V|g" -e "s|@RELEASE_URL@|$URL|g" -e "s|@HOMEPAGE@|$HOMEPAGE|g" \
	    -e "s|@SHA256@|$TARBALL_SHA|g" -e "s|@LIBSSH_VERSION@|$LV|g" -e "s|@LIBSSH_URL@|$LIBSSH_URL|g" \
	    -e "s|@LIBSSH_SHA256@|$LIBSSH_SHA|g" "$1" > "$2.tmp"
	if grep -n '@[A-Z0-9_]*@' "$2.tmp" >&2; then
		rm -f "$2.tmp"
		die "$1: a placeholder left unfilled (above)"
	fi
	mv -f "$2.tmp" "$2"
	echo "$2"
}
subst "$top/release/install.sh.in" "$DIST/install.sh"
chmod 755 "$DIST/install.sh"
subst "$top/release/connect.rb.in" "$DIST/connect.rb"

# Every file but SHA256SUMS itself, by name, in the format both sha256sum and shasum check.
(
	cd "$DIST"
	for f in *; do
		case $f in SHA256SUMS | SHA256SUMS.tmp) continue ;; esac
		[ -f "$f" ] || continue
		echo "$(sha256 "$f")  $f"
	done > SHA256SUMS.tmp
	mv -f SHA256SUMS.tmp SHA256SUMS
)
echo "$DIST/SHA256SUMS: $(wc -l < "$DIST/SHA256SUMS" | tr -d ' ') files"
sed 's/^/  /' "$DIST/SHA256SUMS"
for n in linux-x86_64 linux-arm64 macos-arm64 macos-x86_64; do
	[ -f "$DIST/connect-$V-$n" ] || echo "release/dist.sh: note: no connect-$V-$n in $DIST" >&2
done
