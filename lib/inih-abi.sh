#!/bin/sh
# lib/inih-abi.sh CC "CFLAGS" "LIBS": print lib/inih-abi.h, how the libinih that CFLAGS and LIBS name
# was built, measured (its ini.h cannot say):
#   INI_HANDLER_LINENO   1 when it calls the handler with a 5th argument, the line number. Debian
#                        builds it so (its patch 0005, from libinih 48-1 on) while the ini.h it ships
#                        still says 0; upstream's default, and Homebrew's, is 0. A handler of the other
#                        type is called through the wrong function type: undefined behaviour.
#   CONNECT_INIH_GLOBALS 1 when it has Debian's run-time options (patch 0002: ini_max_line, ...);
#                        upstream has compile-time macros only.
# INIH_HANDLER_LINENO=0|1 in the environment skips the run (a cross build, where the probe cannot run);
# INIH_RUN=EMULATOR runs it through EMULATOR instead (qemu-aarch64-static: release/linux-arm64.sh).
cc=$1 cflags=$2 libs=$3
dir=$(mktemp -d "${TMPDIR:-/tmp}/inih-abi.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
die() { echo "lib/inih-abi.sh: $*" >&2; exit 1; }

cat >"$dir/g.c" <<'END'
#include <stdbool.h>
#include <ini.h>
int main(void) { ini_max_line = 4096; ini_use_stack = false; return 0; }
END
# shellcheck disable=SC2086
if $cc $cflags -o "$dir/g" "$dir/g.c" $libs >/dev/null 2>&1; then globals=1; else globals=0; fi

# Keys on lines 1, 2, 6 and 9: a library that passes no line number leaves whatever its register or
# stack slot held (upstream r61 at -O0 hands over the handler's own address there), never exactly these.
cat >"$dir/l.c" <<'END'
#define INI_HANDLER_LINENO 1
#include <ini.h>
static const int want[] = { 1, 2, 6, 9 };
static int n, bad;
static int h(void *u, const char *s, const char *k, const char *v, int lineno)
{
	(void)u; (void)s; (void)k; (void)v;
	if (n >= 4 || lineno != want[n++])
		bad = 1;
	return 1;
}
int main(void)
{
	if (ini_parse_string("a=1\nb=2\n\n;c\n[s]\nd=4\n\n\ne=5\n", h, 0) != 0)
		return 2;
	return n == 4 && !bad ? 0 : 1;
}
END
case ${INIH_HANDLER_LINENO-} in
0|1)	lineno=$INIH_HANDLER_LINENO ;;
'')	# shellcheck disable=SC2086
	$cc $cflags -o "$dir/l" "$dir/l.c" $libs >"$dir/l.log" 2>&1 ||
	    { cat "$dir/l.log" >&2; die "cannot build a program with libinih ($cc $cflags ... $libs)"; }
	# LD_LIBRARY_PATH as the caller has it: the library connect will load.
	${INIH_RUN:+"$INIH_RUN"} "$dir/l"
	case $? in
	0)	lineno=1 ;;
	1)	lineno=0 ;;
	*)	die "the libinih probe did not run (a cross build? set INIH_HANDLER_LINENO=0 or 1)" ;;
	esac ;;
*)	die "INIH_HANDLER_LINENO must be 0 or 1, not '$INIH_HANDLER_LINENO'" ;;
esac
cat <<END
/* inih-abi.h: written by lib/inih-abi.sh from the libinih this build links; include before <ini.h>. */
#ifndef CONNECT_INIH_ABI_H
#define CONNECT_INIH_ABI_H
#define INI_HANDLER_LINENO	$lineno	/* 1: the handler gets the line number (measured) */
#define CONNECT_INIH_GLOBALS	$globals	/* 1: Debian's run-time options (ini_max_line...) */
#endif
END
