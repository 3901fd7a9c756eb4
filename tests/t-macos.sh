#!/bin/sh
# t-macos.sh: the macOS binaries (make release-macos-arm64, release-macos-x86_64) checked without a
# Mac, by tests/machocheck.py: a PIE executable of the right CPU, libSystem the only library, no
# rpath, a deployment target, the arm64 signature's page hashes equal to the file's pages, every
# imported symbol in zig's libSystem stubs; then the strings `connect --version` prints are in it,
# and copies changed in one place each fail the check that should catch them (a byte of __TEXT, the
# library's name, an imported symbol's name). Skips when a binary is not built, or without python3
# or zig's stubs (build/zig, fetched by the build).
. "$(dirname "$0")/lib.sh"
t_init macos

CHECK=$TOP/tests/machocheck.py
TBD=${ZIG_LIBSYSTEM_DIR:-$TOP/build/zig/pkg/lib/libc/darwin}
MACOS_MIN=$(sed -n 's/^MACOS_MIN =[[:space:]]*//p' "$TOP/Makefile")
VERSION=$(sed -n 's/.*CONNECT_VERSION "\(.*\)".*/\1/p' "$TOP/connect/cmd.h")
LIBSSH_VERSION=$(sed -n 's/^LIBSSH_TUNED_VERSION =[[:space:]]*//p' "$TOP/Makefile")

if ! command -v python3 >/dev/null 2>&1; then
	t_skip "macOS binaries" "no python3 (tests/machocheck.py)"
	t_done
fi

# mutate IN OUT OLD NEW: OUT is IN with the first OLD (bytes, as a Python literal) replaced by NEW
# (same length), or with the byte at offset OLD flipped when NEW is "flip".
mutate() {
	python3 - "$@" <<'EOF'
import sys
src, dst, old, new = sys.argv[1:5]
d = bytearray(open(src, "rb").read())
if new == "flip":
    d[int(old)] ^= 0xFF
else:
    o, n = old.encode(), new.encode()
    i = d.find(o)
    if i < 0 or len(o) != len(n):
        sys.exit("no %r in %s" % (old, src))
    d[i:i + len(o)] = n
open(dst, "wb").write(d)
EOF
}

# check NAME FILE ARCH: machocheck's lines as this script's checks.
check() {
	_c_out=$(python3 "$CHECK" --arch "$3" --min "$MACOS_MIN" --tbd-dir "$TBD" "$2" 2>&1)
	_c_rc=$?
	printf '%s\n' "$_c_out" | while IFS= read -r line; do
		case $line in
		"ok: "*) echo "PASS: $1: ${line#ok: }" ;;
		"FAIL: "*) echo "FAIL: $1: ${line#FAIL: }" ;;
		*) echo "$1: $line" >&2 ;;
		esac
	done
	# The counters live in this shell: count here what the loop printed.
	T_PASSED=$((T_PASSED + $(printf '%s\n' "$_c_out" | grep -c '^ok: ')))
	T_FAILED=$((T_FAILED + $(printf '%s\n' "$_c_out" | grep -c '^FAIL: ')))
	if [ "$_c_rc" -ne 0 ] && ! printf '%s\n' "$_c_out" | grep -q '^FAIL: '; then
		t_fail "$1: machocheck" "exit $_c_rc with no FAIL line: $(printf '%s\n' "$_c_out" | tail -n 1)"
	fi
}

# must_fail NAME FILE ARCH WHAT: machocheck must fail FILE, and on the check WHAT.
must_fail() {
	_m_out=$(python3 "$CHECK" --arch "$3" --min "$MACOS_MIN" --tbd-dir "$TBD" "$2" 2>&1)
	if [ $? -eq 1 ] && printf '%s\n' "$_m_out" | grep -q "^FAIL: $4"; then
		t_pass "$1"
	else
		t_fail "$1" "machocheck did not fail '$4': $(printf '%s\n' "$_m_out" | grep -m 1 "$4" || printf '%s\n' "$_m_out" | tail -n 1)"
	fi
}

for arch in arm64 x86_64; do
	bin=$TOP/connect/connect-macos-$arch
	if [ ! -f "$bin" ]; then
		t_skip "macos $arch" "no $bin (make release-macos-$arch builds it)"
		continue
	fi
	if [ ! -f "$TBD/libSystem.11.tbd" ]; then
		t_skip "macos $arch" "no zig libSystem stubs in $TBD (make release-macos-$arch fetches zig)"
		continue
	fi
	check "macos $arch" "$bin" "$arch"

	# What `connect --version` prints, which cannot be run here: its parts are in the binary.
	for s in "$VERSION" "connect %s (libssh %s%s%s)" "$LIBSSH_VERSION/openssl/zlib" ", tuned" ", static"; do
		if grep -qaF "$s" "$bin"; then
			t_pass "macos $arch: '$s' is in the binary (connect --version)"
		else
			t_fail "macos $arch: '$s' in the binary" "not found: connect --version would not print it"
		fi
	done
	ossl=$(sed -n 's/^Debian \([0-9][0-9.]*[0-9]\)-.*/\1/p' "$TOP/build/macos-$arch/prefix/.built-openssl" 2>/dev/null)
	if [ -z "$ossl" ]; then
		t_skip "macos $arch: OpenSSL version" "no build/macos-$arch/prefix/.built-openssl"
	elif grep -qaF "OpenSSL $ossl " "$bin"; then
		t_pass "macos $arch: links the OpenSSL built for it ($ossl)"
	else
		t_fail "macos $arch: links OpenSSL $ossl" "no 'OpenSSL $ossl ' in the binary"
	fi

	# Each check can fail: copies changed in one place.
	if [ "$arch" = arm64 ]; then
		set -- $(python3 "$CHECK" --text-offset "$bin")
		if [ $# -eq 2 ] && mutate "$bin" "$T/flip" $(($1 + $2 / 2)) flip; then
			must_fail "macos $arch: a byte of __TEXT changed fails the page hashes" "$T/flip" "$arch" \
			    "code signature: page hashes"
		else
			t_fail "macos $arch: a changed copy" "cannot find __TEXT,__text"
		fi
	fi
	if mutate "$bin" "$T/lib" /usr/lib/libSystem.B.dylib /usr/lib/libSystem.C.dylib; then
		must_fail "macos $arch: another library's name fails 'only library'" "$T/lib" "$arch" "only library"
	else
		t_fail "macos $arch: a copy naming another library" "no libSystem.B.dylib in it"
	fi
	# _CCRandomGenerateBytes (OpenSSL's seeding) renamed to a symbol no libSystem has.
	if mutate "$bin" "$T/sym" _CCRandomGenerateBytes _CCRandomGenerateBytez; then
		must_fail "macos $arch: an import libSystem lacks fails the symbol check" "$T/sym" "$arch" \
		    "imported symbols exported by libSystem"
	else
		t_fail "macos $arch: a copy importing a missing symbol" "no _CCRandomGenerateBytes in it"
	fi
	if [ "$arch" = arm64 ]; then other=x86_64; else other=arm64; fi
	must_fail "macos $arch: checked as $other fails 'CPU'" "$bin" "$other" "CPU"
done
t_done
