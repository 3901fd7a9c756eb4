/*
 * policy.h: the tunnel's decisions as pure functions of their inputs, so
 * that each has a table of cases (tests/unit-policy.c) instead of being
 * tried only end to end: when to retry, whether to hold a connection, when
 * to grow a channel's window. The callers own the state and the clock.
 */
#ifndef CONNECT_POLICY_H
#define CONNECT_POLICY_H

#include <stdint.h>

/*
 * Failures that cost the server nothing (no route, no answer to a SYN,
 * refused port, a local shortage): retried at least every second, so that
 * the tunnel is back within a couple of seconds of the network or sshd,
 * however long it was away.
 */
#define POLICY_CHEAP_RETRY_MS	1000
/* The first retry after a working session is lost falls at random within this. */
#define POLICY_SPREAD_MS	1000

/* One failed attempt, as the retry policy sees it. */
struct policy_retry_in {
	int	initial_ms, max_ms;	/* [reconnect] backoff_initial, backoff_max */
	int	cheap;			/* the failure cost the server nothing (session_failure_cheap) */
	int	needs_person;		/* a refusal retried only because the tunnel is persistent */
	int	was_ready;		/* the session lost had been READY */
	int	attempt;		/* this attempt's number, 1 for the first failure in a row */
};

/*
 * The delay before the next attempt, in ms (>= 1), and the back-off carried
 * to the next failure (*backoff_ms, 0 to start): exponential from initial to
 * max with +-25% jitter; cheap failures within POLICY_CHEAP_RETRY_MS and
 * never growing it past that; the first retry after a working session at a
 * random moment within POLICY_SPREAD_MS (a restarted server's clients do not
 * knock at once); a refusal at the cap. rnd() is the source of jitter
 * (rand() in the tunnel; a fixed sequence in tests).
 */
int	policy_retry_delay(const struct policy_retry_in *in, int *backoff_ms, int (*rnd)(void));

enum policy_hold {
	POLICY_HOLD = 0,	/* wait for the session, at most the time left */
	POLICY_HOLD_FULL,	/* hold_max connections already wait: close it */
	POLICY_HOLD_EXPIRED	/* its hold_timeout since accept() is over: close it */
};

/*
 * A connection with no session: held counts it among those waiting, age_ms
 * since it was accepted. Sets *left_ms to the wait still allowed when HOLD.
 */
enum policy_hold policy_hold(unsigned held, int hold_max, long age_ms, int hold_timeout_ms,
	    long *left_ms);

/*
 * Should an open channel's receive window be grown now? Not before a
 * download is under way (down >= after: a short answer fits libssh's own
 * window, and an adjust per channel costs a packet per request), nor while
 * the client lags (queued >= low: the window is what bounds memory), nor
 * more often than once per half window consumed (as OpenSSH adjusts), nor
 * on a short path: path_ms, how long the server took to answer the channel's
 * open (a round trip to the sshd), under POLICY_LONG_PATH_MS. libssh's own
 * 2 MiB window then still carries 400 MB/s or more (2 MiB per 5 ms), and a
 * larger one only deepens the queues (measured: 20-50 % more CPU per GB on
 * loopback). Loopback answers in 0-4 ms, depending on the load; a path
 * across the internet takes 10 ms and more. path_ms < 0: not known, as if
 * long.
 */
#define POLICY_LONG_PATH_MS	5
int	policy_window_grow(int grown, uint64_t down, uint64_t down_at_grow, uint64_t window,
	    uint64_t after, uint64_t queued, uint64_t low, long path_ms);

#endif
