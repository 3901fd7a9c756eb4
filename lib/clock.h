/*
 * clock.h: monotonic time and the timevals libevent wants, in one place
 * (open-coded six times before). Monotonic: a wall-clock jump (a laptop
 * waking, NTP) moves no deadline; supervisor.c compares the two on purpose.
 */
#ifndef CONNECT_CLOCK_H
#define CONNECT_CLOCK_H

#include <sys/time.h>
#include <time.h>

/* ms (>= 0) as a timeval for event_add(). Returns tv. */
struct timeval *clock_tv(struct timeval *tv, long ms);

/* The same for a duration in seconds (>= 0, fractions kept to the microsecond). Returns tv. */
struct timeval *clock_tv_s(struct timeval *tv, double s);

/* Now, on the monotonic clock. */
void	clock_mark(struct timespec *ts);

/* Monotonic seconds now (for differences only). */
double	clock_now_s(void);

/* Seconds since a clock_mark(). */
double	clock_since_s(const struct timespec *since);

/* Milliseconds since a clock_mark(), whole. */
long	clock_since_ms(const struct timespec *since);

#endif
