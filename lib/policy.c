/* policy.c: retry delays, holding and window growth, without state or clocks. */
#include "policy.h"

int
policy_retry_delay(const struct policy_retry_in *in, int *backoff_ms, int (*rnd)(void))
{
	int	d, jitter;

	if (*backoff_ms <= 0)
		*backoff_ms = in->initial_ms;
	else if (*backoff_ms < in->max_ms / 2)
		*backoff_ms *= 2;
	else
		*backoff_ms = in->max_ms;
	d = *backoff_ms;
	jitter = d / 4;
	if (jitter > 0)
		d += rnd() % (2 * jitter + 1) - jitter;
	/*
	 * The first retry after losing a working session is quick too: the
	 * network just came back or sshd restarted. Back-off keeps growing for
	 * a server that keeps failing (a flapping one gets one try a second).
	 */
	if ((in->cheap || in->was_ready) && d > POLICY_CHEAP_RETRY_MS)
		d = POLICY_CHEAP_RETRY_MS / 2 + rnd() % (POLICY_CHEAP_RETRY_MS / 2 + 1);
	/*
	 * Cheap failures do not escalate the back-off either: 2 s of a closed
	 * port took it to 4 s, so a costly failure once sshd was back (a
	 * MaxStartups drop, when many clients return) waited 8 s +-25%, now 2.
	 */
	if (in->cheap && *backoff_ms > POLICY_CHEAP_RETRY_MS)
		*backoff_ms = POLICY_CHEAP_RETRY_MS;
	/*
	 * A server restart ends every client's session at the same instant; with
	 * backoff_initial's +-25% all of them would knock within 125 ms, past a
	 * stock sshd's MaxStartups (10), which drops the rest (make bench-many).
	 */
	if (in->was_ready && in->attempt == 1)
		d = rnd() % (POLICY_SPREAD_MS + 1);
	/* Persistent mode: a refusal is asked again only at the cap (someone may fix the key). */
	if (in->needs_person)
		d = in->max_ms;
	return d > 0 ? d : 1;
}

enum policy_hold
policy_hold(unsigned held, int hold_max, long age_ms, int hold_timeout_ms, long *left_ms)
{
	*left_ms = hold_timeout_ms - age_ms;
	if (held > (unsigned)hold_max)
		return POLICY_HOLD_FULL;
	if (*left_ms <= 0)
		return POLICY_HOLD_EXPIRED;
	return POLICY_HOLD;
}

int
policy_window_grow(int grown, uint64_t down, uint64_t down_at_grow, uint64_t window,
    uint64_t after, uint64_t queued, uint64_t low, long path_ms)
{
	if (path_ms >= 0 && path_ms < POLICY_LONG_PATH_MS)
		return 0;
	if (grown && down - down_at_grow < window / 2)
		return 0;
	if (!grown && down < after)
		return 0;
	return queued < low;
}
