#!/bin/sh
# deps.sh: install the Debian packages that building and testing connect need, when missing.
#   sh tests/deps.sh [fuzz] [valgrind] [static]   also libFuzzer's runtime (make fuzz) / valgrind /
#   what libssh/build.sh needs (make static, make test-matrix)
# Quiet when everything is present. As root: apt-get update (once) and apt-get install. Otherwise
# through sudo when it works without a password; else prints what to install and exits 1.
#
# Each package is checked by what it provides (a command, a pkg-config module, a file), falling
# back to `dpkg -s` when that check cannot be made; so a tool installed some other way counts.

missing=

# have_pkg DEB: true when dpkg knows DEB as installed.
have_pkg() {
	command -v dpkg-query >/dev/null 2>&1 &&
	    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# need DEB CHECK...: DEB is missing unless the shell command CHECK succeeds or dpkg has DEB.
need() {
	_deb=$1
	shift
	if eval "$*" >/dev/null 2>&1 || have_pkg "$_deb"; then
		return 0
	fi
	missing="$missing $_deb"
}

# want DEB CHECK...: as need, for what only some checks use: installed where apt-get is, else
# only named (those checks skip, saying so).
optional=
want() {
	_before=$missing
	need "$@"
	[ "$missing" = "$_before" ] && return 0
	if ! command -v apt-get >/dev/null 2>&1; then
		missing=$_before
		optional="$optional $1"
	fi
}

# pc MODULE: the pkg-config module exists (false when pkg-config itself is missing).
pc() {
	command -v pkg-config >/dev/null 2>&1 && pkg-config --exists "$1"
}

need build-essential 'command -v cc || command -v gcc'
need make 'command -v make'
need pkg-config 'command -v pkg-config'
need libssh-dev 'pc libssh'
need libevent-dev 'pc libevent'
need libinih-dev 'pc inih'
need openssh-server 'test -x /usr/sbin/sshd'
need openssh-client 'command -v ssh && command -v ssh-keygen'
need curl 'command -v curl'
need iperf3 'command -v iperf3'
need wrk 'command -v wrk'
need procps 'command -v ps'
# t-window-abuse's hostile server; a python3 first in PATH (pyenv) may lack Debian's modules.
need python3-paramiko "python3 -c 'import paramiko' || /usr/bin/python3 -c 'import paramiko'"
# What make test's own checks use, so that a fresh machine runs them rather than skip: t-portable
# builds with clang (macOS's compiler) and bmake (BSD make); t-completion tries zsh and fish;
# t-install serves dist/ with python3's http.server (python3-paramiko brings python3), checks
# connect.rb with ruby -c, and strips the release binary (binutils).
want clang 'command -v clang'
want bmake 'command -v bmake'
want zsh 'command -v zsh'
want fish 'command -v fish'
want ruby 'command -v ruby'
want binutils 'command -v strip && command -v readelf'
for _extra in "$@"; do
	case $_extra in
	fuzz)
		# libFuzzer's runtime: clang's resource dir must hold libclang_rt.fuzzer.
		need libclang-rt-dev 'ls "$(clang -print-resource-dir)"/lib/linux/libclang_rt.fuzzer-*.a' ;;
	valgrind)
		need valgrind 'command -v valgrind' ;;
	static)
		# libssh and OpenSSL from Debian's source packages (libssh/build.sh, libssh/openssl.sh:
		# OpenSSL's Configure wants perl's core modules, not only perl-base), static libraries to link.
		need cmake 'command -v cmake'
		need perl 'perl -MIPC::Cmd -e 1'
		need dpkg-dev 'command -v dpkg-source'
		need patch 'command -v patch'
		need libssl-dev 'test -f /usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/libcrypto.a'
		need zlib1g-dev 'test -f /usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/libz.a'
		need debian-archive-keyring 'test -r /usr/share/keyrings/debian-archive-keyring.gpg' ;;
	esac
done

[ -n "$optional" ] && echo "deps.sh: not installed, the checks that use them skip:$optional" >&2
[ -z "$missing" ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
	echo "deps.sh: missing:$missing" >&2
	echo "deps.sh: this is not a Debian-like system (no apt-get); install the equivalents" \
	    "(Homebrew: libssh libevent inih pkg-config curl iperf3 wrk)" >&2
	exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
	as_root=
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	as_root="sudo -n"
else
	echo "deps.sh: missing:$missing" >&2
	echo "deps.sh: run as root (or with sudo):" >&2
	echo "  apt-get update && apt-get install -y --no-install-recommends$missing" >&2
	exit 1
fi

echo "deps.sh: installing:$missing"
$as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q || {
	echo "deps.sh: apt-get update failed" >&2
	exit 1
}
# shellcheck disable=SC2086 # $missing is a list of package names
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing || {
	echo "deps.sh: apt-get install failed for:$missing" >&2
	exit 1
}
