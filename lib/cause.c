/* cause.c: formatted error messages for callers of lib/. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cause.h"

void
cause_set(char **cause, const char *fmt, ...)
{
	va_list	ap;

	if (cause == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) == -1)
		*cause = NULL;
	va_end(ap);
}
