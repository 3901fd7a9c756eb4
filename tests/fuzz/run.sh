#!/bin/sh
# run.sh SECS: run each libFuzzer harness (tests/fuzz/fuzz-*) for SECS seconds (default 30), one
# after the other, starting from its seed corpus in tests/fuzz/corpus/NAME. New inputs go to a
# work copy under tests/tmp (the repository's corpus only changes by hand); a crash, leak or
# UB report stops that harness and is kept there as crash-*/leak-*. Prints one line per harness
# and exits 1 if any found something.
cd "$(dirname "$0")/../.." || exit 1
SECS=${1:-30}
[ -n "$SECS" ] || SECS=30
WORK=tests/tmp/fuzz
mkdir -p "$WORK"
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export UBSAN_OPTIONS
fail=0
summary=
for name in profile fwdspec control; do
	bin=tests/fuzz/fuzz-$name
	[ -x "$bin" ] || { echo "fuzz: $bin is missing (make fuzz builds it)"; exit 1; }
	rm -rf "$WORK/$name" && mkdir -p "$WORK/$name/corpus" "$WORK/$name/artifacts"
	cp tests/fuzz/corpus/$name/* "$WORK/$name/corpus/" 2>/dev/null
	dict=
	[ -f tests/fuzz/$name.dict ] && dict=-dict=tests/fuzz/$name.dict
	echo "fuzz: $name for $SECS s"
	"$bin" -max_total_time="$SECS" -print_final_stats=1 -max_len=4096 -timeout=10 \
	    -artifact_prefix="$WORK/$name/artifacts/" $dict "$WORK/$name/corpus" \
	    >"$WORK/$name/log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$WORK/$name/log")
	found=$(ls "$WORK/$name/artifacts" | wc -l)
	if [ $rc -ne 0 ] || [ "$found" -ne 0 ]; then
		fail=1
		echo "fuzz: $name FOUND something (exit $rc): $WORK/$name/artifacts/"
		grep -m 5 -E 'ERROR|SUMMARY|runtime error' "$WORK/$name/log"
	fi
	summary="$summary
fuzz: $name: ${runs:-?} inputs in $SECS s, corpus $(ls "$WORK/$name/corpus" | wc -l), findings $found"
done
echo "$summary"
exit $fail
