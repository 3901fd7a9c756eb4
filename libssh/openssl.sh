#!/bin/sh
# libssh/openssl.sh: the OpenSSL of the static build: static libraries, from Debian's
# source package of a pinned OpenSSL series, into a private prefix.
#
#   sh libssh/openssl.sh [-x HOST] SERIES PREFIX   (SERIES: 3.5 takes the newest 3.5.x Debian serves)
#   -x  cross-compile for HOST, a GNU triplet (aarch64-linux-gnu): with $CROSS_CC (default HOST-gcc)
#       and HOST-ar, HOST-ranlib (release/linux-arm64.sh)
#
# Why not the system's libcrypto.a: Debian 12's is OpenSSL 3.0, whose AES-GCM runs at about a third
# of the speed of 3.5's on a CPU with VAES and AVX-512 (x86 servers since Intel Ice Lake and AMD Zen 4),
# and AES-GCM is the largest single cost of a tunnel (libssh/README.md). Debian 13's 3.5 is an LTS
# series that gets its security fixes in the archive, like the pinned libssh.
#
# The libraries only (libssh needs libcrypto alone), without shared libraries, loadable modules,
# engines, the legacy provider or the command-line tool. OPENSSLDIR stays Debian's /usr/lib/ssl, as for the
# system's libcrypto.a. Writes PREFIX/lib/libcrypto.a (and libssl.a), PREFIX/include/openssl
# and PREFIX/lib/pkgconfig; PREFIX/.built records how, and a second run with the same request
# does nothing. Exit: 0 built, 69 the source could not be had (EX_UNAVAILABLE), 70 the build failed
# (EX_SOFTWARE), 64 usage.
set -eu

usage() { echo "usage: sh libssh/openssl.sh [-x HOST] SERIES PREFIX" >&2; exit 64; }
die() { code=$1; shift; echo "libssh/openssl.sh: $*" >&2; exit "$code"; }

HOST=
while getopts x: opt; do
	case $opt in
	x) HOST=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || usage
SERIES=$1 PREFIX=$2
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$TOP/build
case $PREFIX in /*) ;; *) PREFIX=$(pwd)/$PREFIX ;; esac

CONFIG="no-shared no-module no-engine no-dso no-legacy no-apps no-docs no-tests no-quic no-comp"
cc=cc
[ -n "$HOST" ] && cc=${CROSS_CC:-$HOST-gcc}
want="series=$SERIES config=$CONFIG${HOST:+ host=$HOST cc=$cc} script:$(cat "$0" "$TOP/libssh/debsrc.sh" | cksum | cut -d' ' -f1)"
if [ -f "$PREFIX/.built" ] && [ "$(sed -n 1p "$PREFIX/.built")" = "$want" ]; then
	echo "openssl $SERIES: already built in $PREFIX ($(sed -n 2p "$PREFIX/.built"))"
	exit 0
fi

for tool in perl make $cc dpkg-source; do
	command -v $tool >/dev/null || die 69 "needs $tool (apt-get install perl build-essential dpkg-dev${HOST:+ gcc-$HOST})"
done
. "$TOP/libssh/debsrc.sh"

WORK=$BUILD/src-openssl-$$
SRC=$WORK/openssl
trap 'rm -rf "$WORK"' EXIT INT TERM
rm -rf "$WORK"
mkdir -p "$WORK"
debsrc_unpack openssl "$SERIES." "$SRC"

cross=
case ${HOST:-$(uname -m)} in
x86_64|x86_64-linux-*) target=linux-x86_64 ;;
aarch64|aarch64-linux-*) target=linux-aarch64 ;;
*-*) die 64 "no OpenSSL target known for $HOST" ;;
*) target= ;;	# ./Configure guesses
esac
# A cross build names its tools; a native one leaves them to Configure, as before.
[ -n "$HOST" ] && cross="CC=$cc AR=$HOST-ar RANLIB=$HOST-ranlib"
# shellcheck disable=SC2086
(cd "$SRC" && ./Configure $target $CONFIG $cross --prefix="$PREFIX" --libdir=lib --openssldir=/usr/lib/ssl \
    > "$WORK/configure.log" 2>&1) || { tail -n 30 "$WORK/configure.log" >&2; die 70 "Configure failed for openssl $DEBSRC_VERSION"; }
# build_libs then install_dev: the static libraries, headers and .pc files, nothing else.
(cd "$SRC" && make -j"$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)" build_libs > "$WORK/make.log" 2>&1 &&
    make install_dev > "$WORK/install.log" 2>&1) ||
    { tail -n 30 "$WORK/make.log" "$WORK/install.log" >&2 2>/dev/null; die 70 "make failed for openssl $DEBSRC_VERSION"; }
printf '%s\n%s\n' "$want" "Debian $DEBSRC_VERSION" > "$PREFIX/.built"
echo "openssl $SERIES: $DEBSRC_VERSION installed in $PREFIX"
