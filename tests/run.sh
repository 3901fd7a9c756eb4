#!/bin/sh
# run.sh: run the unit tables (tests/unit-asan) and every end-to-end script (tests/t-*.sh, in name
# order), count their PASS/FAIL/SKIP lines and end with "N passed, N failed, N skipped".
# Exit 1 if anything failed. `make test` builds everything first and calls this.
#
#   sh tests/run.sh                 everything
#   sh tests/run.sh t-harness unit  only these (script names with or without .sh; "unit" = the tables)
#
# Environment: STATIC (0: no second pass with connect/connect-static; see below); ARM64 (0: no arm64
# pass under qemu; see below); VALGRIND (non-empty: every connect runs under valgrind memcheck, see
# tests/valgrind-connect; `make valgrind`); TEST_TIMEOUT (seconds per script, default 300); CONNECT (the binary the scripts test;
# default tests/connect-asan when built, else connect/connect); TMPDIR (where the scripts' temp dirs
# go). Each program's output is also kept in tests/tmp/run.XXXXXX/NAME.log; that directory is removed
# when everything passed. A script that exits non-zero without any FAIL line counts as one failure,
# and so does a script that hits the timeout. Sanitizer reports (ASan, LSan, UBSan) are written to
# files there, whichever process hit them (a connect in the background included); each one found
# counts as a failure and is printed. Under VALGRIND so are valgrind's logs (valgrind.PID there) that
# report an error, or that lack valgrind's closing summary (a process it never got to check).
cd "$(dirname "$0")/.." || exit 1
TOP=$(pwd)
export TOP

mkdir -p tests/tmp 2>/dev/null
RUN_DIR=$(mktemp -d "$TOP/tests/tmp/run.XXXXXX" 2>/dev/null) ||
    RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/connect-run.XXXXXX") || exit 1

ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=23:log_path=$RUN_DIR/sanitizer"
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=23:log_path=$RUN_DIR/sanitizer"
LSAN_OPTIONS="exitcode=23:log_path=$RUN_DIR/sanitizer"
export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS

if [ -n "${VALGRIND:-}" ]; then
	# make valgrind: every connect the scripts start runs under memcheck (tests/valgrind-connect).
	CONNECT=$TOP/tests/valgrind-connect
	VG_LOG_DIR=$RUN_DIR
	export VG_LOG_DIR
elif [ -z "${CONNECT:-}" ]; then
	if [ -x "$TOP/tests/connect-asan" ]; then
		CONNECT=$TOP/tests/connect-asan
	else
		CONNECT=$TOP/connect/connect
	fi
fi
export CONNECT

TEST_TIMEOUT=${TEST_TIMEOUT:-300}
if command -v timeout >/dev/null 2>&1; then
	TIMEOUT="timeout -k 10 $TEST_TIMEOUT"
else
	TIMEOUT=
	echo "note: no timeout(1): a hanging script will hang the run"
fi

if [ "$(id -u)" -eq 0 ]; then
	echo "running as root: root-only tests run"
else
	echo "running as $(id -un), not root: root-only tests skip, saying so"
fi
echo "testing $CONNECT; logs in $RUN_DIR"

# Ctrl-C or SIGTERM: stop the running program with everything it started. timeout(1) runs it in a
# process group of its own (so that a timeout kills its background processes too), which the
# terminal's Ctrl-C does not reach: signal that group.
on_signal() {
	if [ -s "$RUN_DIR/current.pid" ]; then
		_cur=$(cat "$RUN_DIR/current.pid")
		kill -TERM -"$_cur" 2>/dev/null || kill -TERM "$_cur" 2>/dev/null
	fi
	echo "run.sh: interrupted; logs in $RUN_DIR"
	exit 130
}
trap on_signal INT TERM HUP

PASSED=0
FAILED=0
SKIPPED=0

# run_one NAME CMD...: run CMD, show and keep its output, add up its lines.
run_one() {
	_name=$1
	shift
	echo "== $_name"
	{
		$TIMEOUT "$@" </dev/null 2>&1 &
		echo "$!" >"$RUN_DIR/current.pid"
		wait "$!"
		echo "$?" >"$RUN_DIR/$_name.rc"
	} | tee "$RUN_DIR/$_name.log"
	rm -f "$RUN_DIR/current.pid"
	_rc=$(cat "$RUN_DIR/$_name.rc" 2>/dev/null || echo 1)
	_p=$(grep -c '^PASS: ' "$RUN_DIR/$_name.log")
	_f=$(grep -c '^FAIL: ' "$RUN_DIR/$_name.log")
	_s=$(grep -c '^SKIP: ' "$RUN_DIR/$_name.log")
	if [ -n "$TIMEOUT" ] && { [ "$_rc" -eq 124 ] || [ "$_rc" -eq 137 ]; }; then
		echo "FAIL: $_name: timed out after $TEST_TIMEOUT s"
		_f=$((_f + 1))
	elif [ "$_rc" -ne 0 ] && [ "$_f" -eq 0 ]; then
		echo "FAIL: $_name: exited $_rc without reporting"
		_f=1
	fi
	PASSED=$((PASSED + _p))
	FAILED=$((FAILED + _f))
	SKIPPED=$((SKIPPED + _s))
}

# selected NAME: true when NAME is to run (no arguments: everything).
selected() {
	[ -z "$SELECTION" ] && return 0
	for _sel in $SELECTION; do
		[ "${_sel%.sh}" = "${1%.sh}" ] && return 0
	done
	return 1
}
SELECTION=$*

if selected unit; then
	if [ -x tests/unit-asan ]; then
		run_one unit-asan tests/unit-asan
	else
		echo "FAIL: unit-asan: tests/unit-asan is missing (make tests/unit-asan)"
		FAILED=$((FAILED + 1))
	fi
fi
for t in tests/t-*.sh; do
	[ -f "$t" ] || continue
	name=${t#tests/}
	selected "$name" || continue
	run_one "$name" sh "$t"
done

# The static build (make static) runs the same end-to-end scripts a second time, as "static/NAME",
# except those that do not start a tunnel (t-harness, t-completion), build from source (t-portable)
# or check other files (t-macos), and t-static, which is about it alone. STATIC=0 leaves this pass out.
CONNECT_STATIC=${CONNECT_STATIC:-$TOP/connect/connect-static}
if [ "${STATIC:-1}" != 0 ] && [ -z "${VALGRIND:-}" ] && [ "$CONNECT" != "$CONNECT_STATIC" ]; then
	if [ -x "$CONNECT_STATIC" ]; then
		echo "testing the static build $CONNECT_STATIC ($("$CONNECT_STATIC" --version))"
		for t in tests/t-*.sh; do
			name=${t#tests/}
			case $name in t-harness.sh|t-completion.sh|t-portable.sh|t-macos.sh|t-static.sh|t-install.sh) continue ;; esac
			selected "$name" || continue
			CONNECT=$CONNECT_STATIC run_one "static-$name" sh "$t"
		done
	elif [ "$(uname)" = Linux ] && [ -z "$SELECTION" ]; then
		echo "SKIP: static build: no $CONNECT_STATIC (make static), its pass is left out"
		SKIPPED=$((SKIPPED + 1))
	fi
fi

# The arm64 build (make arm64) under qemu-user, as "arm64-NAME": CONNECT is tests/qemu-arm64, which
# runs connect/connect-arm64 under ARM64_QEMU; the rest of each script (sshd, tnet, curl) is this
# machine's. ARM64_TESTS: the scripts whose checks depend most on the CPU and the libraries built for
# it (OpenSSL's aarch64 code, every cipher, rekeying, the tuned libssh's windows and buffers, static
# glibc and libevent, -d and the control socket in t-errors and t-pressure), then t-static's empty
# root with qemu copied in beside the binary. Left out by default: t-background and t-security
# (about 190 s together, waiting, not computing: as long natively; their logic is the same C on
# either CPU), t-netns, t-flaky, t-giveup and t-window-abuse (fault injection and hostile servers,
# the same C again: the other two passes check it). ARM64_TESTS="..." runs others. "arm64-t-core"
# selects only its arm64 run. ARM64=0 leaves the pass out.
CONNECT_ARM64=${CONNECT_ARM64:-$TOP/connect/connect-arm64}
ARM64_QEMU=${ARM64_QEMU:-qemu-aarch64-static}
ARM64_TESTS=${ARM64_TESTS:-t-core t-check t-errors t-rekey t-ciphers t-window t-resilience t-pressure}
if [ "${ARM64:-1}" != 0 ] && [ -z "${VALGRIND:-}" ]; then
	if [ -x "$CONNECT_ARM64" ] && command -v "$ARM64_QEMU" >/dev/null 2>&1; then
		ARM64_BINARY=$CONNECT_ARM64
		export ARM64_BINARY ARM64_QEMU
		_arm64_any=0
		for name in $ARM64_TESTS t-static; do
			selected "$name" || selected "arm64-$name" || continue
			_arm64_any=1
		done
		[ $_arm64_any = 1 ] &&
		    echo "testing the arm64 build $CONNECT_ARM64 under $ARM64_QEMU ($("$TOP/tests/qemu-arm64" --version))"
		for name in $ARM64_TESTS; do
			[ -f "tests/$name.sh" ] || continue
			selected "$name" || selected "arm64-$name" || continue
			CONNECT=$TOP/tests/qemu-arm64 \
			    CONNECT_CMDLINE="[^ ]*$ARM64_QEMU -0 $TOP/tests/qemu-arm64 $CONNECT_ARM64" \
			    run_one "arm64-$name.sh" sh "tests/$name.sh"
		done
		if selected t-static || selected arm64-t-static; then
			CONNECT_STATIC=$CONNECT_ARM64 STATIC_EMU=$(command -v "$ARM64_QEMU") STATIC_MACHINE=AArch64 \
			    STATIC_OPENSSL_BUILT=$TOP/build/arm64/openssl/.built run_one arm64-t-static.sh sh tests/t-static.sh
		fi
	elif [ "$(uname)" = Linux ] && [ "$(uname -m)" = x86_64 ] && [ -z "$SELECTION" ]; then
		if [ ! -x "$CONNECT_ARM64" ]; then
			echo "SKIP: arm64 build: no $CONNECT_ARM64 (make arm64: needs gcc-aarch64-linux-gnu and" \
			    "Debian's :arm64 libraries, see release/linux-arm64.sh), its pass is left out"
		else
			echo "SKIP: arm64 build: no $ARM64_QEMU (apt-get install qemu-user-static), its pass is left out"
		fi
		SKIPPED=$((SKIPPED + 1))
	fi
fi

for r in "$RUN_DIR"/sanitizer.*; do
	[ -s "$r" ] || continue
	echo "FAIL: ${r##*/}: report in $r:"
	sed 's/^/  | /' "$r"
	FAILED=$((FAILED + 1))
done
# valgrind: one log per connect process. Clean: its summary says 0 errors. No summary at all: valgrind
# never got to check it (killed by SIGKILL, or still running), a failure too unless the test killed
# it on purpose (t_sigkill renamed its log valgrind-killed.PID).
if [ -n "${VALGRIND:-}" ]; then
	_vg_ok=0
	for r in "$RUN_DIR"/valgrind.*; do
		[ -f "$r" ] || continue
		if grep -q 'ERROR SUMMARY: 0 errors' "$r"; then
			_vg_ok=$((_vg_ok + 1))
			continue
		elif grep -q 'ERROR SUMMARY: ' "$r"; then
			echo "FAIL: ${r##*/}: valgrind report in $r:"
		else
			echo "FAIL: ${r##*/}: never checked by valgrind (killed by SIGKILL, or still running): $r:"
		fi
		sed 's/^/  | /' "$r"
		FAILED=$((FAILED + 1))
	done
	echo "valgrind: $_vg_ok connect processes checked clean;" \
	    "$(ls "$RUN_DIR"/valgrind-killed.* 2>/dev/null | wc -l) killed on purpose with SIGKILL (unchecked)"
fi

if [ "$FAILED" -eq 0 ]; then
	rm -rf "$RUN_DIR"
	rmdir "$TOP/tests/tmp" 2>/dev/null
else
	echo "logs kept in $RUN_DIR"
fi
echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" -eq 0 ]
