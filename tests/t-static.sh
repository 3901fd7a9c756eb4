#!/bin/sh
# t-static.sh: connect/connect-static (make static) runs where nothing else is: in an empty root
# holding only the binary and this test's files, against the test sshd, forwards byte-exact.
# As root: chroot(8). As a normal user: unshare -r (a user namespace) when the kernel allows it, else
# these checks skip, saying so. Without connect/connect-static (make static) everything skips.
# The arm64 pass of run.sh runs it on connect/connect-arm64 (CONNECT_STATIC) with STATIC_EMU, a
# static qemu-user: it runs the binary, and is copied into the empty root beside it (qemu-user
# itself loads nothing); STATIC_MACHINE (AArch64) is the ELF machine the binary must be for;
# STATIC_OPENSSL_BUILT the .built file of the OpenSSL it must link.
. "$(dirname "$0")/lib.sh"
t_init static

STATIC=${CONNECT_STATIC:-$TOP/connect/connect-static}
if [ ! -x "$STATIC" ]; then
	t_skip "static binary" "no $STATIC (make static builds it; Linux only)"
	t_done
fi
EMU=${STATIC_EMU:-}
if [ -n "$EMU" ] && ! [ -x "$EMU" ]; then
	t_fail "static binary's emulator" "STATIC_EMU=$EMU is not an executable file"
	t_done
fi
if [ -n "${STATIC_MACHINE:-}" ]; then
	if ! command -v readelf >/dev/null 2>&1; then
		t_skip "static binary is for $STATIC_MACHINE" "no readelf (binutils)"
	else
		m=$(readelf -hW "$STATIC" | sed -n 's/^ *Machine: *//p')
		case $m in
		*"$STATIC_MACHINE"*) t_pass "static binary is an ELF for $m" ;;
		*) t_fail "static binary is for $STATIC_MACHINE" "readelf says Machine: '$m'" ;;
		esac
	fi
fi

# No program interpreter and no shared library needed: nothing for a foreign system to provide.
# (The emulator too: it is copied into the root.)
if command -v readelf >/dev/null 2>&1; then
	for f in "$STATIC" $EMU; do
		if readelf -lW "$f" | grep -q 'INTERP'; then
			t_fail "$f needs no loader" "readelf finds a PT_INTERP: $(readelf -pW .interp "$f" 2>&1 | tail -n 2)"
		elif readelf -dW "$f" 2>/dev/null | grep -q NEEDED; then
			t_fail "$f needs no loader" "it needs shared libraries: $(readelf -dW "$f" | grep NEEDED)"
		elif [ "$f" = "$STATIC" ]; then
			t_pass "static binary needs no loader and no shared library"
		else
			t_pass "its emulator $f needs no loader and no shared library"
		fi
	done
else
	t_skip "static binary needs no loader" "no readelf (binutils)"
fi
# EMU -0 FILE FILE: argv[0] as it would be without the emulator.
case $($EMU ${EMU:+-0 "$STATIC"} "$STATIC" --version) in
*"(libssh "*) t_pass "static binary runs${EMU:+ under $EMU}: $($EMU ${EMU:+-0 "$STATIC"} "$STATIC" --version)" ;;
*) t_fail "static binary runs" "--version printed '$($EMU ${EMU:+-0 "$STATIC"} "$STATIC" --version 2>&1)'" ;;
esac
# make static links the OpenSSL that libssh/openssl.sh built (build/openssl/.built names its Debian
# version), not the system's: its version string must be in the binary.
OSSL_BUILT=${STATIC_OPENSSL_BUILT:-$TOP/build/openssl/.built}
if { [ -z "${CONNECT_STATIC:-}" ] || [ -n "${STATIC_OPENSSL_BUILT:-}" ]; } && [ -f "$OSSL_BUILT" ] &&
    command -v strings >/dev/null 2>&1; then
	ossl=$(sed -n 's/^Debian \([0-9][0-9.]*[0-9]\)-.*/\1/p' "$OSSL_BUILT")
	if [ -n "$ossl" ] && strings "$STATIC" | grep -q "^OpenSSL $ossl "; then
		t_pass "static binary links OpenSSL $ossl (libssh/openssl.sh)"
	else
		t_fail "static binary links OpenSSL '$ossl'" "$(strings "$STATIC" | grep -m 2 '^OpenSSL [0-9]')"
	fi
else
	t_skip "static binary's OpenSSL" "no $OSSL_BUILT (make static builds it) or no strings (binutils)"
fi

# How to enter the empty root (full paths: the programs run with an empty environment).
CHROOT=$(command -v chroot 2>/dev/null || echo /usr/sbin/chroot)
if t_is_root; then
	ENTER=$CHROOT
elif command -v unshare >/dev/null 2>&1 && unshare -r "$CHROOT" / /bin/true 2>/dev/null; then
	ENTER="$(command -v unshare) -r $CHROOT"
else
	t_skip "in an empty root" "needs root, or unshare -r (user namespaces), to chroot"
	t_done
fi

if ! sshd_start; then
	t_fail sshd "the test sshd did not start (see above)"
	t_done
fi
set -- $($TNET freeport 6)
P_WEB=$1 P_ECHO=$2 P_BLAST=$3 L_WEB=$4 L_ECHO=$5 L_BLAST=$6
serve_start --http "$P_WEB:web" --echo "$P_ECHO" --blast "$P_BLAST:67108864" && wait_port "$P_BLAST" ||
    { t_fail services "tnet serve did not start"; t_done; }

# The whole root: the binary, a key, a profile, an empty known_hosts directory, /tmp.
R=$T/root
mkdir -p "$R/ssh" "$R/tmp" "$R/home" "$R/run"
chmod 1777 "$R/tmp"
chmod 700 "$R/ssh" "$R/run"
cp "$STATIC" "$R/connect"
# /connect runs as /emu -0 /connect /connect when there is an emulator.
RUN=/connect
if [ -n "$EMU" ]; then
	cp "$EMU" "$R/emu"
	RUN="/emu -0 /connect /connect"
fi
cp "$SSHD_KEY" "$R/ssh/id"
chmod 600 "$R/ssh/id"
write_profile "$R/p.tmp" "default_forwards = no" "$(fwd web "$L_WEB" "$P_WEB")" \
    "$(fwd echo "$L_ECHO" "$P_ECHO")" "$(fwd blast "$L_BLAST" "$P_BLAST")"
sed -e "s|^identity = .*|identity = /ssh/id|" -e "s|^known_hosts = .*|known_hosts = /ssh/known_hosts|" \
    "$R/p.tmp" >"$R/p.ini" && rm -f "$R/p.tmp"
echo "empty root: $(cd "$R" && find . | sort | tr '\n' ' ')" >&2

# No environment but HOME and the runtime directory: no PATH, no locale, nothing of the host's.
env -i HOME=/home XDG_RUNTIME_DIR=/run $ENTER "$R" $RUN -F /p.ini -v </dev/null >"$T/up.log" 2>&1 &
UP=$!
t_track $UP
if wait_log "$T/up.log" "connected to" 20; then
	t_pass "in an empty root: connects and authenticates ($ENTER)"
else
	t_fail "in an empty root: connects and authenticates" "$(tail -n 5 "$T/up.log")"
fi
# The first contact recorded the host key inside the root.
if [ -s "$R/ssh/known_hosts" ] && grep -q "$SSHD_PORT" "$R/ssh/known_hosts"; then
	t_pass "in an empty root: the host key is recorded in its known_hosts"
else
	t_fail "in an empty root: the host key is recorded" "$R/ssh/known_hosts: $(cat "$R/ssh/known_hosts" 2>&1)"
fi
wait_port "$L_BLAST" 10
t_eq "in an empty root: web answers" "$(curl -s -m 10 "http://127.0.0.1:$L_WEB/")" "service web"
if $TNET echo 127.0.0.1 "$L_ECHO" --bytes 16777216 --conns 4 --timeout 60 >"$T/echo.out" 2>&1; then
	t_pass "in an empty root: 4 x 16 MiB echoed byte-exact"
else
	t_fail "in an empty root: 4 x 16 MiB echoed byte-exact" "$(tail -n 3 "$T/echo.out")"
fi
if $TNET read 127.0.0.1 "$L_BLAST" --bytes 67108864 --timeout 60 >"$T/read.out" 2>&1; then
	t_pass "in an empty root: 64 MiB download byte-exact"
else
	t_fail "in an empty root: 64 MiB download byte-exact" "$(tail -n 3 "$T/read.out")"
fi
# The control socket works inside the root too.
st=$(env -i HOME=/home XDG_RUNTIME_DIR=/run $ENTER "$R" $RUN status p 2>&1)
case $st in
*ready*) t_pass "in an empty root: status answers ready" ;;
*) t_fail "in an empty root: status answers ready" "$st" ;;
esac
t_stop $UP TERM 10
rc=$?
t_eq "in an empty root: SIGTERM stops it, exit 0" "$rc" 0
grep -E 'warning|error' "$T/up.log" | head -n 5 >&2
t_done
