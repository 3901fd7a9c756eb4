#!/bin/sh
# matrix.sh: `make test` against each libssh version given, each built from Debian's source package
# into build/libssh-VERSION (libssh/build.sh) and loaded by a copy of the tree in build/matrix/VERSION.
#
#   sh tests/matrix.sh 0.9.8 0.10.6 0.11.5 0.12.2
#
# The static build's pass is left out (STATIC=0): it does not depend on the system libssh.
# Each copy is built with PKG_CONFIG_PATH pointing at that prefix and runs with LD_LIBRARY_PATH on it;
# before testing, `connect --version` of both the plain and the sanitizer build must name that libssh
# (else the wrong library would be tested, and that counts as a failure). Prints each version's summary
# line and ends with the sum: "N passed, N failed, N skipped". Exit 1 if anything failed.
cd "$(dirname "$0")/.." || exit 1
TOP=$(pwd)
[ $# -gt 0 ] || { echo "usage: sh tests/matrix.sh VERSION..." >&2; exit 64; }

total_pass=0 total_fail=0 total_skip=0
results=
for v in "$@"; do
	prefix=$TOP/build/libssh-$v
	tree=$TOP/build/matrix/$v
	log=$TOP/build/matrix/$v.log
	echo "== libssh $v"
	mkdir -p "$TOP/build/matrix"
	if ! sh libssh/build.sh "$v" "$prefix"; then
		echo "FAIL libssh $v: could not be built"
		total_fail=$((total_fail + 1))
		results="$results
libssh $v: not built"
		continue
	fi
	rm -rf "$tree"
	mkdir -p "$tree"
	tar -cf - --exclude=./build --exclude=./.git --exclude=./tests/tmp --exclude='*.o' . |
	    (cd "$tree" && tar -xf -)
	(
		cd "$tree" || exit 1
		PKG_CONFIG_PATH=$prefix/lib/pkgconfig
		LD_LIBRARY_PATH=$prefix/lib
		export PKG_CONFIG_PATH LD_LIBRARY_PATH
		make clean >/dev/null
		make all tests/connect-asan >/dev/null 2>&1 || { echo "FAIL libssh $v: build failed"; exit 2; }
		for bin in connect/connect tests/connect-asan; do
			got=$("./$bin" --version)
			case $got in
			*"(libssh $v/"*) echo "$bin: $got" ;;
			*) echo "FAIL libssh $v: $bin loads another libssh: $got"; exit 2 ;;
			esac
		done
		STATIC=0 make test
	) > "$log" 2>&1
	rc=$?
	grep -E '^(FAIL|== |connect/connect:|tests/connect-asan:)' "$log" | head -n 40
	last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [ -z "$last" ]; then
		echo "FAIL libssh $v: no summary (exit $rc), see $log"
		total_fail=$((total_fail + 1))
		last="no summary (exit $rc)"
	else
		p=$(echo "$last" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
		f=$(echo "$last" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
		s=$(echo "$last" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
		total_pass=$((total_pass + p)) total_fail=$((total_fail + f)) total_skip=$((total_skip + ${s:-0}))
	fi
	echo "libssh $v: $last"
	results="$results
libssh $v: $last"
done
echo "== matrix$results"
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" -eq 0 ]
