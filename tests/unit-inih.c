/*
 * unit-inih.c: the handler type lib/profile.c gives inih is the one the
 * linked libinih calls. Debian builds libinih with INI_HANDLER_LINENO=1 (a
 * 5th argument, the line number) while its ini.h says 0: a handler of the
 * other type is called through the wrong function type.
 */
#define INI_HANDLER_LINENO 1	/* this file's probe handler takes the 5th argument */
#include <ini.h>

#include "profile.h"
#include "unit.h"

static const int	probe_want[] = { 1, 2, 6, 9 };
static int		probe_n, probe_bad;

static int
probe_handler(void *u, const char *s, const char *k, const char *v, int lineno)
{
	(void)u;
	(void)s;
	(void)k;
	(void)v;
	if (probe_n >= 4 || lineno != probe_want[probe_n++])
		probe_bad = 1;
	return 1;
}

void
unit_inih(void)
{
	int	passes, rc;

	/*
	 * Keys on lines 1, 2, 6, 9: a library that passes no line number leaves
	 * whatever its register held (upstream r61 at -O0: the handler's address).
	 */
	rc = ini_parse_string("a=1\nb=2\n\n;c\n[s]\nd=4\n\n\ne=5\n", probe_handler, NULL);
	passes = rc == 0 && probe_n == 4 && !probe_bad;
	UNIT_CHECK("inih: connect's handler type is the one libinih calls", passes ==
	    profile_inih_lineno(), "libinih %s the handler a line number, but lib/profile.c was built "
	    "with INI_HANDLER_LINENO=%d (lib/inih-abi.h is stale or wrong: make clean)",
	    passes ? "passes" : "does not pass", profile_inih_lineno());
}
