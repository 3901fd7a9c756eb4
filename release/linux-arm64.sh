#!/bin/sh
# release/linux-arm64.sh: connect for aarch64 Linux as one static file (connect/connect-arm64),
# cross-compiled on an x86_64 Debian machine: the tuned libssh and OpenSSL of the x86_64 static
# build (libssh/build.sh -x, libssh/openssl.sh -x: the same Debian source packages and patches);
# glibc from Debian's cross toolchain (libc6-dev-arm64-cross); zlib, libevent and inih from Debian's
# arm64 -dev packages, unpacked into a private root (PREFIX/sysroot), not installed: Debian 12's
# libevent-dev is not Multi-Arch "same", so installing libevent-dev:arm64 would remove this
# machine's own libevent-dev. The Makefile drives it (make arm64, make release-linux-arm64); its
# variables come in through the environment.
#
#   sh release/linux-arm64.sh check           is everything the build needs here? (else 69, saying what)
#   sh release/linux-arm64.sh deps            the private root, then OpenSSL and the tuned libssh, once
#   sh release/linux-arm64.sh link OUT SRC... compile and link SRC... (connect's own) into OUT
#
# Environment: ARM64_HOST (GNU triplet, aarch64-linux-gnu), ARM64_DEBARCH (arm64), ARM64_CC (HOST-gcc), ARM64_QEMU
# (qemu-aarch64-static: runs the libinih probe and OUT --version; optional for the build),
# ARM64_PREFIX (build/arm64), ARM64_CFLAGS (the compile flags of connect-static), LIBSSH_VERSION,
# OPENSSL_SERIES, LIBSSH_SRC (a tarball instead of Debian's package, as for make static).
#
# What Debian 12 needs (as root; --no-install-recommends leaves out the C library otherwise):
#   apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static
# The arm64 -dev packages come through apt-get download with a private apt state (BUILD/apt-arm64:
# this machine's own apt sources, its lists for arm64; no root needed, nothing in /etc/apt changes),
# so they are the versions of this machine's amd64 ones, checked against the archive's signatures.
# Exit: 0 done, 64 usage, 69 a tool or library is missing, 70 a build step failed.
set -eu

usage() { echo "usage: sh release/linux-arm64.sh check | deps | link OUT SRC..." >&2; exit 64; }
die() { code=$1; shift; echo "release/linux-arm64.sh: $*" >&2; exit "$code"; }

TOP=$(cd "$(dirname "$0")/.." && pwd)
HOST=${ARM64_HOST:-aarch64-linux-gnu}
CC=${ARM64_CC:-$HOST-gcc}
QEMU=${ARM64_QEMU:-qemu-aarch64-static}
PREFIX=${ARM64_PREFIX:-build/arm64}
case $PREFIX in /*) ;; *) PREFIX=$TOP/$PREFIX ;; esac
LIBSSH_VERSION=${LIBSSH_VERSION:-0.11.5}
OPENSSL_SERIES=${OPENSSL_SERIES:-3.5}
DEBARCH=${ARM64_DEBARCH:-arm64}	# Debian's name for HOST's architecture
INSTALL="apt-get install gcc-$HOST libc6-dev-$DEBARCH-cross qemu-user-static"
SYSROOT=$PREFIX/sysroot
DEBS="zlib1g-dev libevent-dev libinih-dev"

# lib NAME: the path of HOST's static library NAME (libz.a) as the cross compiler finds it, or nothing.
lib() {
	_l=$($CC -print-file-name="$1" 2>/dev/null) || return 0
	[ "$_l" != "$1" ] && [ -f "$_l" ] && echo "$_l"
	return 0
}

# check: the cross compiler, its C library, and the tools of the build.
check() {
	command -v "$CC" >/dev/null 2>&1 || { echo "no $CC (as root: $INSTALL)"; return 69; }
	[ -n "$(lib libc.a)" ] || { echo "$CC finds no libc.a (as root: $INSTALL)"; return 69; }
	for _t in cmake perl dpkg-source dpkg-deb apt-get "$HOST-ar" "$HOST-ranlib" "$HOST-nm"; do
		command -v "$_t" >/dev/null 2>&1 || { echo "no $_t (sh tests/deps.sh static; $INSTALL)"; return 69; }
	done
	return 0
}

# sysroot: DEBS for DEBARCH unpacked into SYSROOT (usr/include, usr/lib/HOST), once per version set.
sysroot() {
	_apt=$TOP/build/apt-$DEBARCH
	mkdir -p "$_apt/lists/partial" "$_apt/cache/archives/partial" "$_apt/debs"
	: >"$_apt/status"
	set -- -o APT::Architecture="$DEBARCH" -o APT::Architectures="$DEBARCH" \
	    -o Dir::State::Lists="$_apt/lists" -o Dir::Cache="$_apt/cache" -o Dir::State::status="$_apt/status" \
	    -o Debug::NoLocking=1 -o APT::Sandbox::User="$(id -un)"
	# One update a day, as libssh/debsrc.sh does.
	if [ -z "$(find "$_apt/lists" -name '*Packages*' -mtime -1 2>/dev/null | head -n 1)" ]; then
		apt-get "$@" -qq update || die 69 "apt-get update of the $DEBARCH package lists failed"
	fi
	_pv=
	for _p in $DEBS; do
		_v=$(apt-cache "$@" policy "$_p" 2>/dev/null | awk '$1 == "Candidate:" { print $2 }')
		case $_v in ''|'(none)') die 69 "this machine's apt sources have no $_p for $DEBARCH" ;; esac
		_pv="$_pv $_p=$_v"
	done
	_want="debs:$_pv script:$(cksum <"$0" | cut -d' ' -f1)"
	if [ -f "$SYSROOT/.built" ] && [ "$(cat "$SYSROOT/.built")" = "$_want" ]; then
		echo "arm64 sysroot: already in $SYSROOT ($_want)"
		return 0
	fi
	rm -rf "$SYSROOT" "$_apt/debs"
	mkdir -p "$SYSROOT" "$_apt/debs"
	# shellcheck disable=SC2086 # the list of PACKAGE=VERSION
	(cd "$_apt/debs" && apt-get "$@" -qq download $_pv) 2>&1 | grep -v '^W:' >&2 || true
	for _p in $DEBS; do
		_deb=$(ls "$_apt/debs/${_p}_"*"_$DEBARCH.deb" 2>/dev/null | head -n 1)
		[ -n "$_deb" ] || die 69 "apt-get download $_p:$DEBARCH failed"
		dpkg-deb -x "$_deb" "$SYSROOT" || die 70 "dpkg-deb -x $_deb failed"
	done
	for _a in libz.a libevent.a libinih.a; do
		[ -f "$SYSROOT/usr/lib/$HOST/$_a" ] || die 70 "no $_a in $SYSROOT/usr/lib/$HOST"
	done
	echo "$_want" >"$SYSROOT/.built"
	echo "arm64 sysroot: $_want"
}

[ $# -ge 1 ] || usage
mode=$1
shift
case $mode in
check)
	[ $# -eq 0 ] || usage
	why=$(check) || { echo "$why"; exit 69; }
	echo "arm64: $CC and $HOST's static libraries are here"
	exit 0 ;;
deps)
	[ $# -eq 0 ] || usage
	why=$(check) || die 69 "$why"
	sysroot
	CROSS_CC=$CC CROSS_ROOT=$SYSROOT
	export CROSS_CC CROSS_ROOT
	sh "$TOP/libssh/openssl.sh" -x "$HOST" "$OPENSSL_SERIES" "$PREFIX/openssl"
	v=$(sh "$TOP/libssh/version.sh" "$LIBSSH_VERSION" "${LIBSSH_SRC:-}")
	OPENSSL_ROOT_DIR=$PREFIX/openssl
	export OPENSSL_ROOT_DIR
	sh "$TOP/libssh/build.sh" -t -s -x "$HOST" ${LIBSSH_SRC:+-f "$LIBSSH_SRC"} "$v" "$PREFIX/libssh-static"
	# libssh's cmake drops what it does not find in this OpenSSL without failing (the macOS spike lost
	# EVP_KDF and ChaCha20 so, to libssh's slower fallbacks): the cross build must use what the
	# native one does.
	for sym in EVP_KDF_derive EVP_MAC_init EVP_chacha20; do
		"$HOST-nm" -u "$PREFIX/libssh-static/lib/libssh.a" 2>/dev/null | grep -q " $sym\$" ||
		    die 70 "libssh for $HOST does not use OpenSSL's $sym: its cmake did not find it in $PREFIX/openssl"
	done
	exit 0 ;;
link)
	[ $# -ge 2 ] || usage ;;
*)
	usage ;;
esac

OUT=$1
shift
why=$(check) || die 69 "$why"
for f in "$PREFIX/openssl/lib/libcrypto.a" "$PREFIX/libssh-static/lib/libssh.a" "$SYSROOT/.built"; do
	[ -f "$f" ] || die 69 "no $f (make arm64 builds it)"
done
cd "$TOP"

# lib/profile.c includes lib/inih-abi.h, measured from this machine's libinih: HOST's must be built
# the same way (the same Debian package, so it is), measured under qemu when it is here.
[ -f lib/inih-abi.h ] || die 69 "no lib/inih-abi.h (make lib/inih-abi.h)"
if command -v "$QEMU" >/dev/null 2>&1; then
	INIH_RUN=$QEMU
	export INIH_RUN
	sh lib/inih-abi.sh "$CC" "-I$SYSROOT/usr/include" "-static -L$SYSROOT/usr/lib/$HOST -linih" \
	    >"$PREFIX/inih-abi.h" ||
	    die 70 "the libinih probe failed for $HOST"
	cmp -s lib/inih-abi.h "$PREFIX/inih-abi.h" || die 70 "$HOST's libinih is not built like this" \
	    "machine's: lib/inih-abi.h and $PREFIX/inih-abi.h differ, and lib/profile.c can take only one"
else
	echo "release/linux-arm64.sh: no $QEMU: $HOST's libinih is taken to be built like this machine's" \
	    "(the same Debian package)" >&2
fi

# As connect/connect-static (Makefile): one compiler run, libc and everything else linked in.
# shellcheck disable=SC2086 # ARM64_CFLAGS is a list of flags
$CC ${ARM64_CFLAGS:--std=c11 -D_GNU_SOURCE -O2 -g -DCONNECT_LIBSSH_TUNED} -DCONNECT_STATIC \
    -I"$PREFIX/libssh-static/include" -I"$SYSROOT/usr/include" -Ilib -static -o "$OUT.tmp" "$@" \
    -L"$SYSROOT/usr/lib/$HOST" "$PREFIX/libssh-static/lib/libssh.a" -levent -linih "$PREFIX/openssl/lib/libcrypto.a" -lz -lpthread ||
    { rm -f "$OUT.tmp"; die 70 "compiling connect for $HOST failed"; }
mv "$OUT.tmp" "$OUT"
if command -v "$QEMU" >/dev/null 2>&1; then
	echo "$OUT: $("$QEMU" "$OUT" --version)"
else
	echo "$OUT: built (no $QEMU to run it)"
fi
