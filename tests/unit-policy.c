/*
 * unit-policy.c: the tables of lib/policy.c: retry delays and back-off,
 * holding a connection without a session, growing a channel's window.
 */
#include <stdio.h>
#include <string.h>

#include "policy.h"
#include "unit.h"

/* A fixed jitter source: the middle of every range, so delays are exact. */
static int	rnd_val;
static int
rnd_fixed(void)
{
	return rnd_val;
}

static void
test_retry(void)
{
	static const struct {
		const char	*name;
		int		 cheap, needs_person, was_ready, attempt, backoff_in;
		int		 rnd, delay, backoff_out;
	} cases[] = {
		/* initial 250, max 30000; rnd 0: the low end of the jitter (d - d/4) */
		{ "first costly failure: initial - 25%", 0, 0, 0, 1, 0, 0, 188, 250 },
		{ "second: doubled", 0, 0, 0, 2, 250, 0, 375, 500 },
		{ "doubling stops at max", 0, 0, 0, 9, 16000, 0, 22500, 30000 },
		{ "at max it stays", 0, 0, 0, 10, 30000, 0, 22500, 30000 },
		{ "cheap: within 1 s, back-off capped at 1 s", 0 + 1, 0, 0, 5, 4000, 0, 500, 1000 },
		{ "cheap early: the plain back-off", 1, 0, 0, 1, 0, 0, 188, 250 },
		{ "lost a working session: spread within 1 s", 0, 0, 1, 1, 0, 700, 700, 250 },
		{ "lost a working session, 2nd try: within 1 s", 0, 0, 1, 2, 8000, 0, 500, 16000 },
		{ "a refusal (persistent): at the cap", 0, 1, 0, 3, 500, 0, 30000, 1000 },
		{ "never 0", 0, 0, 1, 1, 0, 0, 1, 250 },
	};
	struct policy_retry_in	in;
	char			name[128];
	size_t			i;
	int			backoff, d;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(&in, 0, sizeof in);
		in.initial_ms = 250;
		in.max_ms = 30000;
		in.cheap = cases[i].cheap;
		in.needs_person = cases[i].needs_person;
		in.was_ready = cases[i].was_ready;
		in.attempt = cases[i].attempt;
		backoff = cases[i].backoff_in;
		rnd_val = cases[i].rnd;
		d = policy_retry_delay(&in, &backoff, rnd_fixed);
		snprintf(name, sizeof name, "policy_retry_delay: %s", cases[i].name);
		UNIT_CHECK(name, d == cases[i].delay && backoff == cases[i].backoff_out,
		    "delay %d (want %d), back-off %d (want %d)", d, cases[i].delay, backoff,
		    cases[i].backoff_out);
	}
	/* The jitter stays within +-25% whatever rnd says. */
	memset(&in, 0, sizeof in);
	in.initial_ms = 250;
	in.max_ms = 30000;
	in.attempt = 3;
	for (rnd_val = 0, d = 1; rnd_val < 5000 && d; rnd_val += 7) {
		int	got;

		backoff = 2000;
		got = policy_retry_delay(&in, &backoff, rnd_fixed);
		d = got >= 3000 && got <= 5000;
	}
	UNIT_CHECK("policy_retry_delay: jitter within +-25% of 4000", d, "out of range at rnd %d",
	    rnd_val);
}

static void
test_hold(void)
{
	static const struct {
		const char		*name;
		unsigned		 held;
		long			 age_ms;
		enum policy_hold	 want;
		long			 left;
	} cases[] = {
		{ "first one: held for the whole timeout", 1, 0, POLICY_HOLD, 30000 },
		{ "aged: the rest of it", 3, 12000, POLICY_HOLD, 18000 },
		{ "the 64th: held", 64, 0, POLICY_HOLD, 30000 },
		{ "the 65th: closed (hold_max)", 65, 0, POLICY_HOLD_FULL, 30000 },
		{ "held again after its time: closed", 2, 30000, POLICY_HOLD_EXPIRED, 0 },
		{ "full wins over expired", 70, 40000, POLICY_HOLD_FULL, -10000 },
	};
	char	name[128];
	size_t	i;
	long	left;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		enum policy_hold	got = policy_hold(cases[i].held, 64, cases[i].age_ms, 30000,
					    &left);

		snprintf(name, sizeof name, "policy_hold: %s", cases[i].name);
		UNIT_CHECK(name, got == cases[i].want && left == cases[i].left, "got %d left %ld",
		    (int)got, left);
	}
	UNIT_CHECK("policy_hold: hold_max 0 refuses every one", policy_hold(1, 0, 0, 30000, &left) ==
	    POLICY_HOLD_FULL, "held");
}

static void
test_window(void)
{
	static const struct {
		const char	*name;
		int		 grown;
		uint64_t	 down, at, queued;
		long		 path_ms;
		int		 want;
	} cases[] = {
		/* window 8 MiB, after 256 KiB, client queue low mark 256 KiB */
		{ "a short answer: not yet", 0, 4096, 0, 0, 50, 0 },
		{ "a download under way: grow", 0, 262144, 0, 0, 50, 1 },
		{ "... unless the client lags", 0, 1 << 20, 0, 262144, 50, 0 },
		{ "grown: not again before half a window", 1, 5 << 20, 2 << 20, 0, 50, 0 },
		{ "grown: again at half a window", 1, 6 << 20, 2 << 20, 0, 50, 1 },
		{ "a short path (open answered in 4 ms): never", 0, 64 << 20, 0, 0, 4, 0 },
		{ "... nor in 0 ms (loopback)", 1, 64 << 20, 0, 0, 0, 0 },
		{ "a path of 5 ms: grow", 0, 1 << 20, 0, 0, 5, 1 },
		{ "a path not measured: as a long one", 0, 1 << 20, 0, 0, -1, 1 },
	};
	char	name[128];
	size_t	i;
	int	got;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		got = policy_window_grow(cases[i].grown, cases[i].down, cases[i].at, 8 << 20,
		    262144, cases[i].queued, 262144, cases[i].path_ms);
		snprintf(name, sizeof name, "policy_window_grow: %s", cases[i].name);
		UNIT_CHECK(name, got == cases[i].want, "got %d", got);
	}
}

void
unit_policy(void)
{
	test_retry();
	test_hold();
	test_window();
}
