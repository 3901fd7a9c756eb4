/*
 * fakeclock.c: an LD_PRELOAD shim for tests. It adds the number of seconds
 * in the file $FAKECLOCK_FILE (read at each call) to CLOCK_REALTIME, and to
 * nothing else: the wall clock jumps as it does when a laptop wakes from
 * sleep, while CLOCK_MONOTONIC (which stops during suspend) does not.
 * Only for the plain build: ASan must come first in the library list.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int	clock_gettime(clockid_t, struct timespec *);

int
clock_gettime(clockid_t id, struct timespec *ts)
{
	static int	(*real)(clockid_t, struct timespec *);
	const char	*path;
	FILE		*f;
	long		 off;
	int		 rc;

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "clock_gettime");
	rc = real(id, ts);
	if (rc == 0 && id == CLOCK_REALTIME && (path = getenv("FAKECLOCK_FILE")) != NULL &&
	    (f = fopen(path, "r")) != NULL) {
		if (fscanf(f, "%ld", &off) == 1)
			ts->tv_sec += off;
		fclose(f);
	}
	return rc;
}
