#!/bin/sh
# release/macos.sh: one macOS binary, cross-built on Linux with zig cc (release/zig.sh): connect with
# the tuned libssh (libssh/patches), OpenSSL, libevent, inih and zlib linked in, from the same Debian
# source packages as connect/connect-static, so that the only library it loads is macOS's own
# /usr/lib/libSystem.B.dylib.
#
#   sh release/macos.sh ARCH OUT SOURCE.c...      (ARCH: arm64 or x86_64; make release-macos-ARCH)
#
# From the environment (the Makefile sets them): LIBSSH_VERSION, OPENSSL_SERIES, LIBEVENT_VERSION,
# INIH_VERSION, ZLIB_VERSION (Debian version prefixes, as libssh/debsrc.sh takes them),
# MACOS_MIN (the deployment target), CONNECT_CFLAGS (the compiler flags of connect's own files).
# Everything is built under build/macos-ARCH; each library's prefix records how it was built and is
# reused by the next run that asks for the same. Exit: 0, 69 a source or zig could not be had,
# 70 a build failed, 64 usage.
#
# What a cross build needs that a native one does not (each found the hard way):
# - libevent: its configure tests kqueue by running a program; cmake with a Darwin toolchain file
#   does not, and picks kqueue.
# - OpenSSL: `ranlib -c` of its darwin targets is not an option of llvm's ranlib (RANLIB=); zig has
#   no CommonCrypto headers (release/macos-shim: the one function OpenSSL calls, which libSystem
#   exports); chacha-armv8-sve.pl sets an assembler symbol `mixin` that ends up in the object as an
#   absolute symbol, which zig 0.11's linker refuses, and then libssh's configure checks fail to
#   link and it silently builds without EVP_KDF and OpenSSL's ChaCha20: renamed Lmixin (a local
#   label, same code), and the libssh built is checked for both.
# - inih: lib/inih-abi.sh cannot run the probe of a cross binary: INIH_HANDLER_LINENO is what the
#   ini.c built here is compiled with.
# - No strip or install_name_tool afterwards: editing a linked Mach-O breaks the ad-hoc signature
#   of arm64 (which the linker writes, and without which macOS on arm64 kills the process): linked
#   stripped (-s) instead.
set -eu

usage() { echo "usage: sh release/macos.sh arm64|x86_64 OUT SOURCE.c..." >&2; exit 64; }
die() { code=$1; shift; echo "release/macos.sh: $*" >&2; exit "$code"; }

[ $# -ge 3 ] || usage
ARCH=$1 OUT=$2
shift 2
case $ARCH in
arm64) ZARCH=aarch64 OSSL_TARGET=darwin64-arm64-cc ;;
x86_64) ZARCH=x86_64 OSSL_TARGET=darwin64-x86_64-cc ;;
*) usage ;;
esac
: "${LIBSSH_VERSION:?}" "${OPENSSL_SERIES:?}" "${LIBEVENT_VERSION:?}" "${INIH_VERSION:?}" \
    "${ZLIB_VERSION:?}" "${MACOS_MIN:?}" "${CONNECT_CFLAGS:?}"
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$TOP/build
W=$BUILD/macos-$ARCH
P=$W/prefix
NPROC=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
START=$(date +%s)
for tool in cmake make perl dpkg-source; do
	command -v $tool >/dev/null || die 69 "needs $tool (apt-get install cmake build-essential perl dpkg-dev)"
done
. "$TOP/libssh/debsrc.sh"

ZIG=$(sh "$TOP/release/zig.sh" "$BUILD/zig") || exit $?
# zig's cache under build/, not the user's ~/.cache.
ZIG_GLOBAL_CACHE_DIR=$BUILD/zig/cache ZIG_LOCAL_CACHE_DIR=$BUILD/zig/cache
export ZIG_GLOBAL_CACHE_DIR ZIG_LOCAL_CACHE_DIR

# The tools, as programs that the builds' own scripts can be given by name.
mkdir -p "$W/bin" "$P/include" "$P/lib"
printf '#!/bin/sh\nexec "%s" cc -target %s-macos.%s "$@"\n' "$ZIG" "$ZARCH" "$MACOS_MIN" > "$W/bin/cc"
printf '#!/bin/sh\nexec "%s" ar "$@"\n' "$ZIG" > "$W/bin/ar"
printf '#!/bin/sh\nexec "%s" ranlib "$@"\n' "$ZIG" > "$W/bin/ranlib"
chmod 755 "$W/bin/cc" "$W/bin/ar" "$W/bin/ranlib"
CC=$W/bin/cc
cat > "$W/toolchain.cmake" <<EOF
set(CMAKE_SYSTEM_NAME Darwin)
set(CMAKE_SYSTEM_PROCESSOR $ARCH)
set(CMAKE_C_COMPILER $W/bin/cc)
set(CMAKE_AR $W/bin/ar)
set(CMAKE_RANLIB $W/bin/ranlib)
set(CMAKE_OSX_ARCHITECTURES "")
set(CMAKE_OSX_SYSROOT "")
set(CMAKE_FIND_ROOT_PATH $P)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
EOF

WORK=$W/src-$$
trap 'rm -rf "$WORK"' EXIT INT TERM
rm -rf "$WORK"
mkdir -p "$WORK"
# What a library's build depends on besides its version: the compiler, and its own part of this
# script (from its "# NAME:" comment to its mark line), so that editing one rebuilds that one.
recipe() { echo "zig:$(sed -n 1p "$BUILD/zig/.built" | cut -d' ' -f1) $(sed -n "/^# $1:/,/^	mark $1 /p" "$0" | cksum | cut -d' ' -f1)"; }

# built NAME WANT: is NAME in the prefix already built as WANT? mark NAME WANT: it is now (and the
# libssh linked against it is not).
built() { [ -f "$P/.built-$1" ] && [ "$(sed -n 1p "$P/.built-$1")" = "$2" ]; }
mark() { printf '%s\n%s\n' "$2" "Debian $DEBSRC_VERSION" > "$P/.built-$1"; rm -f "$W/libssh/.built"; }
run() { log=$1; shift; "$@" > "$log" 2>&1 || { tail -n 30 "$log" >&2; return 1; }; }

# zlib: its few files compiled as they are (its configure would guess the host).
want="zlib=$ZLIB_VERSION $(recipe zlib)"
if ! built zlib "$want"; then
	debsrc_unpack zlib "$ZLIB_VERSION" "$WORK/zlib"
	(cd "$WORK/zlib" && for f in adler32 compress crc32 deflate infback inffast inflate inftrees trees \
	    uncompr zutil gzclose gzlib gzread gzwrite; do
		"$CC" -O2 -DHAVE_UNISTD_H -DHAVE_STDARG_H -c -o $f.o $f.c 2>>"$WORK/zlib.log" ||
		    { tail -n 30 "$WORK/zlib.log" >&2; exit 1; }
	done && rm -f "$P/lib/libz.a" && "$W/bin/ar" rcs "$P/lib/libz.a" ./*.o &&
	    cp zlib.h zconf.h "$P/include/") || die 70 "zlib failed"
	mark zlib "$want"
fi

# inih: ini.c with the options Debian builds it with (its rules: the handler gets the line number,
# INIH_LINENO, and the run-time options of its patch 0002 are in ini.c itself).
INIH_LINENO=1
want="inih=$INIH_VERSION $(recipe inih)"
if ! built inih "$want"; then
	debsrc_unpack libinih "$INIH_VERSION" "$WORK/inih"
	(cd "$WORK/inih" && "$CC" -O2 -DINI_HANDLER_LINENO=$INIH_LINENO -c -o ini.o ini.c &&
	    rm -f "$P/lib/libinih.a" && "$W/bin/ar" rcs "$P/lib/libinih.a" ini.o &&
	    cp ini.h "$P/include/") || die 70 "inih failed"
	mark inih "$want"
fi

# libevent: cmake, static, without its OpenSSL and mbed TLS layers, tests and samples.
want="libevent=$LIBEVENT_VERSION $(recipe libevent)"
if ! built libevent "$want"; then
	debsrc_unpack libevent "$LIBEVENT_VERSION" "$WORK/libevent"
	mkdir -p "$WORK/libevent-obj"
	(cd "$WORK/libevent-obj" && run "$WORK/libevent-cmake.log" cmake -DCMAKE_TOOLCHAIN_FILE="$W/toolchain.cmake" \
	    -DCMAKE_INSTALL_PREFIX="$P" -DCMAKE_INSTALL_LIBDIR=lib -DCMAKE_BUILD_TYPE=Release \
	    -DEVENT__LIBRARY_TYPE=STATIC -DEVENT__DISABLE_OPENSSL=ON -DEVENT__DISABLE_MBEDTLS=ON \
	    -DEVENT__DISABLE_TESTS=ON -DEVENT__DISABLE_REGRESS=ON -DEVENT__DISABLE_SAMPLES=ON \
	    -DEVENT__DISABLE_BENCHMARK=ON -DEVENT__DISABLE_DEBUG_MODE=ON "$WORK/libevent" &&
	    grep -q 'EVENT__HAVE_KQUEUE 1' include/event2/event-config.h &&
	    run "$WORK/libevent-make.log" make -j"$NPROC" install) || die 70 "libevent failed (or has no kqueue)"
	mark libevent "$want"
fi

# openssl: the configuration of libssh/openssl.sh (static libcrypto, no modules, engines, legacy
# provider or tool, OSSL_CONFIG), for the darwin target.
OSSL_CONFIG="no-shared no-module no-engine no-dso no-legacy no-apps no-docs no-tests no-quic no-comp"
want="openssl=$OPENSSL_SERIES $(recipe openssl) shim:$(cat "$TOP"/release/macos-shim/CommonCrypto/*.h | cksum | cut -d' ' -f1)"
if ! built openssl "$want"; then
	debsrc_unpack openssl "$OPENSSL_SERIES." "$WORK/openssl"
	sed 's/\bmixin\b/Lmixin/g' "$WORK/openssl/crypto/chacha/asm/chacha-armv8-sve.pl" > "$WORK/sve.pl" &&
	    cat "$WORK/sve.pl" > "$WORK/openssl/crypto/chacha/asm/chacha-armv8-sve.pl"
	# shellcheck disable=SC2086
	(cd "$WORK/openssl" && run "$WORK/openssl-configure.log" ./Configure "$OSSL_TARGET" $OSSL_CONFIG \
	    CC="$CC" AR="$W/bin/ar" RANLIB="$W/bin/ranlib" -I"$TOP/release/macos-shim" \
	    --prefix="$P" --libdir=lib --openssldir=/private/etc/ssl &&
	    run "$WORK/openssl-make.log" make -j"$NPROC" build_libs &&
	    run "$WORK/openssl-install.log" make install_dev) || die 70 "openssl failed"
	mark openssl "$want"
fi

# libssh: libssh/build.sh as for make static; cmake reads the toolchain file from the environment.
CMAKE_TOOLCHAIN_FILE=$W/toolchain.cmake OPENSSL_ROOT_DIR=$P
export CMAKE_TOOLCHAIN_FILE OPENSSL_ROOT_DIR
sh "$TOP/libssh/build.sh" -t -s "$LIBSSH_VERSION" "$W/libssh" || exit $?
unset CMAKE_TOOLCHAIN_FILE
# A libssh whose configure checks failed to link against this OpenSSL builds without them, silently.
for sym in _EVP_KDF_fetch _EVP_chacha20 _chacha20_poly1305_aead_encrypt; do
	grep -q "$sym" "$W/libssh/lib/libssh.a" ||
	    die 70 "libssh in $W/libssh was built without $sym (OpenSSL's EVP_KDF and ChaCha20-Poly1305): see $W/libssh and the libssh cmake log"
done

# connect: its sources in a copy of their own, with the inih-abi.h of this inih (the tree's is the
# host build's, and "inih-abi.h" is looked for beside the file that includes it first).
mkdir -p "$WORK/connect/lib" "$WORK/connect/connect" "$WORK/out"
srcs=
for f in "$@"; do
	cp "$TOP/$f" "$WORK/connect/$f"
	srcs="$srcs $f"
done
cp "$TOP"/lib/*.h "$WORK/connect/lib/"
cp "$TOP"/connect/*.h "$WORK/connect/connect/"
INIH_HANDLER_LINENO=$INIH_LINENO sh "$TOP/lib/inih-abi.sh" "$CC" "-I$P/include" "$P/lib/libinih.a" \
    > "$WORK/connect/lib/inih-abi.h" || die 70 "lib/inih-abi.sh failed"
case $OUT in /*) ;; *) OUT=$TOP/$OUT ;; esac
# Linked as "connect": the linker names the signature (its identifier) after the file it writes.
# shellcheck disable=SC2086
(cd "$WORK/connect" && "$CC" $CONNECT_CFLAGS -DCONNECT_STATIC -I"$W/libssh/include" -I"$P/include" -Ilib \
    -s -o "$WORK/out/connect" $srcs "$W/libssh/lib/libssh.a" "$P/lib/libevent.a" "$P/lib/libinih.a" \
    "$P/lib/libcrypto.a" "$P/lib/libz.a") || die 70 "connect failed to build"
mv "$WORK/out/connect" "$OUT.tmp" && mv "$OUT.tmp" "$OUT"
echo "release/macos.sh: $OUT ($(wc -c < "$OUT" | tr -d ' ') bytes, $(($(date +%s) - START)) s)"
