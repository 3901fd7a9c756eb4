#!/bin/sh
# libssh/build.sh: build one libssh release into a private prefix, from Debian's source package or
# from a release tarball, optionally with this project's patches (libssh/patches/*/).
#
#   sh libssh/build.sh [-t] [-s] [-f TARBALL] [-x HOST] VERSION PREFIX
#     -t  the tuned build: each folder of libssh/patches/ holds one change, a *.patch applied with
#         patch -p1 or a `cflags` file of compiler flags, and says why at its top
#     -s  static library only (for `make static`), without the SFTP code
#         (LIBSSH_PATCHES="01-window-8mib 02-adjust-early": only those folders)
#     -f  take the sources from TARBALL (a libssh-VERSION.tar.xz from libssh.org) instead of Debian
#     -x  cross-compile for HOST, a GNU triplet (aarch64-linux-gnu): with $CROSS_CC (default
#         HOST-gcc), finding zlib under $CROSS_ROOT (a root holding usr/lib/HOST/libz.a and
#         usr/include/zlib.h: release/linux-arm64.sh)
#
# Debian's sources come through apt-get source with a private apt state under build/apt: deb-src
# entries for bullseye, bookworm, trixie and sid on the mirror this machine's own apt sources name, so
# nothing in /etc/apt changes and a normal user can run it. The newest Debian revision of VERSION is
# taken (0.11.5 -> 0.11.5-0+deb13u1), so a security update in the archive is picked up, not refused.
#
# Writes PREFIX/lib/libssh.{a,so} and PREFIX/lib/pkgconfig/libssh.pc; PREFIX/.built records how it
# was built, and a second run with the same request does nothing. Exit: 0 built, 69 a source could not
# be had (EX_UNAVAILABLE), 70 the build or a patch failed (EX_SOFTWARE), 64 usage.
set -eu

usage() { echo "usage: sh libssh/build.sh [-t] [-s] [-f TARBALL] [-x HOST] VERSION PREFIX" >&2; exit 64; }
die() { code=$1; shift; echo "libssh/build.sh: $*" >&2; exit "$code"; }

TUNED=0 STATIC=0 TARBALL= HOST=
while getopts tsf:x: opt; do
	case $opt in
	t) TUNED=1 ;;
	s) STATIC=1 ;;
	f) TARBALL=$OPTARG ;;
	x) HOST=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 2 ] || usage
VERSION=$1 PREFIX=$2
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$TOP/build
case $PREFIX in /*) ;; *) PREFIX=$(pwd)/$PREFIX ;; esac

# What this build is; a prefix holding exactly this is reused.
PATCHES= CFLAGS_FILES=
if [ $TUNED = 1 ]; then
	# LIBSSH_PATCHES="01-window-8mib ...": only these folders (to measure what each one buys).
	for d in $(ls -d "$TOP"/libssh/patches/*/ | sort); do
		d=${d%/}
		case " ${LIBSSH_PATCHES:-$(basename "$d")} " in *" $(basename "$d") "*) ;; *) continue ;; esac
		# NAME.patch applies to every release; NAME-X.Y.patch to release X.Y only.
		for f in "$d"/*.patch; do
			[ -f "$f" ] || continue
			case $f in
			*-[0-9]*.[0-9]*.patch)
				xy=${f%.patch}
				xy=${xy##*-}
				case $VERSION in "$xy".*) ;; *) continue ;; esac ;;
			esac
			PATCHES="$PATCHES $f"
		done
		[ -f "$d/cflags" ] && CFLAGS_FILES="$CFLAGS_FILES $d/cflags"
	done
fi
want="version=$VERSION tuned=$TUNED static=$STATIC tarball=${TARBALL:+$(basename "$TARBALL")}"
cc=cc
[ -n "$HOST" ] && cc=${CROSS_CC:-$HOST-gcc} && want="$want host=$HOST cc=$cc root=${CROSS_ROOT:-}"
want="$want script:$(cat "$0" "$TOP/libssh/debsrc.sh" | cksum | cut -d' ' -f1) openssl=${OPENSSL_ROOT_DIR:-}"
for p in $PATCHES $CFLAGS_FILES; do want="$want $(basename "$(dirname "$p")"):$(cksum < "$p" | cut -d' ' -f1)"; done
if [ -f "$PREFIX/.built" ] && [ "$(cat "$PREFIX/.built")" = "$want" ]; then
	echo "libssh $VERSION: already built in $PREFIX"
	exit 0
fi

for tool in cmake make $cc; do
	command -v $tool >/dev/null || die 69 "needs $tool (apt-get install cmake build-essential${HOST:+ gcc-$HOST})"
done

. "$TOP/libssh/debsrc.sh"

WORK=$BUILD/src-$$
SRC=$WORK/libssh-$VERSION
trap 'rm -rf "$WORK"' EXIT INT TERM
rm -rf "$WORK"
mkdir -p "$WORK"
if [ -n "$TARBALL" ]; then
	[ -r "$TARBALL" ] || die 66 "cannot read $TARBALL"
	mkdir -p "$SRC"
	tar -xf "$TARBALL" -C "$SRC" --strip-components=1 || die 70 "cannot unpack $TARBALL"
	echo "libssh $VERSION: from $TARBALL"
else
	command -v dpkg-source >/dev/null || die 69 "needs dpkg-source (apt-get install dpkg-dev), or -f TARBALL"
	debsrc_unpack libssh "$VERSION-" "$SRC" "use -f TARBALL (LIBSSH_SRC=)"
fi

cflags="-O2 -g"
# -l: context lines match whatever their indentation (0.12 re-indented functions the patches touch;
# they are written against 0.11.5).
for p in $PATCHES; do
	patch -d "$SRC" -p1 -l --forward --quiet < "$p" ||
	    die 70 "patch $(basename "$(dirname "$p")") does not apply to libssh $VERSION"
	echo "libssh $VERSION: applied $(basename "$(dirname "$p")")"
done
for f in $CFLAGS_FILES; do
	cflags="$cflags $(cat "$f")"
	echo "libssh $VERSION: with $(basename "$(dirname "$f")") ($(cat "$f"))"
done

if [ $STATIC = 1 ]; then
	opts="-DBUILD_SHARED_LIBS=OFF -DWITH_SFTP=OFF"
else
	opts="-DBUILD_SHARED_LIBS=ON"
fi
# Homebrew's OpenSSL is keg-only: tell cmake where it is (OPENSSL_ROOT_DIR from the environment wins).
if [ -z "${OPENSSL_ROOT_DIR:-}" ] && command -v brew >/dev/null 2>&1; then
	OPENSSL_ROOT_DIR=$(brew --prefix openssl@3 2>/dev/null || true)
fi
[ -n "${OPENSSL_ROOT_DIR:-}" ] && opts="$opts -DOPENSSL_ROOT_DIR=$OPENSSL_ROOT_DIR"
# A cross build: cmake's own cross mode, looking in CROSS_ROOT first (its usr/lib/HOST, the
# compiler's multiarch directory, is where zlib is); build tools still come from this machine.
[ -n "$HOST" ] && opts="$opts -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=${HOST%%-*}
    -DCMAKE_C_COMPILER=$cc -DCMAKE_FIND_ROOT_PATH_MODE_PROGRAM=NEVER ${CROSS_ROOT:+-DCMAKE_FIND_ROOT_PATH=$CROSS_ROOT}"
mkdir -p "$WORK/obj"
(cd "$WORK/obj" && cmake -DCMAKE_INSTALL_PREFIX="$PREFIX" -DCMAKE_INSTALL_LIBDIR=lib \
    -DCMAKE_BUILD_TYPE=None -DCMAKE_C_FLAGS="$cflags" $opts -DWITH_GSSAPI=OFF -DWITH_EXAMPLES=OFF \
    -DWITH_PCAP=OFF -DUNIT_TESTING=OFF -DCLIENT_TESTING=OFF -DWITH_SYMBOL_VERSIONING=OFF "$SRC" \
    > "$WORK/cmake.log" 2>&1) || { tail -n 30 "$WORK/cmake.log" >&2; die 70 "cmake failed for libssh $VERSION"; }
(cd "$WORK/obj" && make -j"$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)" install \
    > "$WORK/make.log" 2>&1) || { tail -n 30 "$WORK/make.log" >&2; die 70 "make failed for libssh $VERSION"; }
echo "$want" > "$PREFIX/.built"
echo "libssh $VERSION: installed in $PREFIX"
