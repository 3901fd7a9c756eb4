/*
 * verify.c: readiness. A tunnel is ready when every forward's remote end
 * accepts a channel and its health path (if any) answers 200, through the
 * current session: one probe per forward (probe.c), rounds while services
 * start, the result reported once. It watches the session it is given
 * (ready, dead, pumped); the supervisor owns the list and forwards events.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <event2/event.h>

#include "clock.h"
#include "log.h"
#include "probe.h"
#include "session.h"
#include "verify.h"

/*
 * Each call is a verification of its own:
 * WAITING for a READY session -> PROBING every forward not yet passed ->
 * REPORTED, with PAUSED between rounds under VERIFY_RETRY and back to
 * WAITING when the session is lost. Hooks in the session callbacks only
 * record and schedule; the work (starting probes, reporting, freeing)
 * runs from the verification's own zero timer, outside any callback.
 */
#define VERIFY_RETRY_MS		1000
#define VERIFY_PROBE_MAX_MS	10000	/* one probe's limit, whatever time is left */

enum verify_phase {
	VERIFY_WAITING = 0,	/* for a READY session; ev_timer is the deadline */
	VERIFY_PROBING,		/* probes out on the current session */
	VERIFY_PAUSED,		/* VERIFY_RETRY: ev_timer is the pause before the next round */
	VERIFY_REPORTED		/* done() called; freed once its probes are idle */
};

struct verify {
	TAILQ_ENTRY(verify)	 entry;
	struct verify_list	*list;		/* the tunnel's, which holds it */
	const struct verify_tunnel *t;
	enum verify_phase	 phase;
	int			 flags, timeout_ms;
	struct timespec		 started;
	verify_done_fn		 done;
	verify_progress_fn	 progress;
	void			*arg;
	struct event		*ev_timer;
	struct event		*ev_work;	/* activated: act outside the callback that asked */
	struct probe		*probe[PROFILE_MAX_FORWARDS];
	int			 passed[PROFILE_MAX_FORWARDS];
	int			 fail_code;	/* VERIFY_RETRY: the failure to report at the deadline */
	char			 fail[1280];
};

static const char *
verify_phase_name(enum verify_phase ph)
{
	static const char *const names[] = { "waiting", "probing", "paused", "reported" };

	return (unsigned)ph < sizeof names / sizeof names[0] ? names[ph] : "?";
}

static void
verify_set_phase(struct verify *v, enum verify_phase ph)
{
	if (v->phase == ph)
		return;
	log_debug("verify %p: %s -> %s", (void *)v, verify_phase_name(v->phase),
	    verify_phase_name(ph));
	v->phase = ph;
}

/* Milliseconds left before the deadline (INT_MAX without one). */
static int
verify_left_ms(const struct verify *v)
{
	double	left;

	if (v->timeout_ms <= 0)
		return INT_MAX;
	left = v->timeout_ms - clock_since_s(&v->started) * 1000;
	return left > 0 ? (int)left : 0;
}

static void
verify_arm(struct verify *v, int ms)
{
	struct timeval	tv;

	evtimer_add(v->ev_timer, clock_tv(&tv, ms));
}

/*
 * Do the work soon, from the verification's own event. Activated, not a zero
 * timer: a stop activates the reaper, whose loopexit would end the loop
 * before a timer's next turn, and the outcome would never be reported.
 */
static void
verify_schedule(struct verify *v)
{
	event_active(v->ev_work, EV_TIMEOUT, 0);
}

void
verify_kick_all(struct verify_list *l, int stopping)
{
	struct verify	*v;

	TAILQ_FOREACH(v, l, entry) {
		/* Stopping: the session goes with ssh_disconnect() before we run; so do its channels. */
		if (stopping)
			probe_session_lost_all(v->probe, PROFILE_MAX_FORWARDS, NULL);
		verify_schedule(v);
	}
}

static void
verify_probe_done(struct probe *p, void *arg)
{
	(void)p;
	verify_schedule(arg);
}

/* Back to waiting for a session, the deadline armed again. */
static void
verify_wait(struct verify *v)
{
	verify_set_phase(v, VERIFY_WAITING);
	evtimer_del(v->ev_timer);
	if (v->timeout_ms > 0)
		verify_arm(v, verify_left_ms(v));
}

static void
verify_report(struct verify *v, int code, const char *reason)
{
	evtimer_del(v->ev_timer);
	verify_set_phase(v, VERIFY_REPORTED);
	log_debug("verify %p: exit code %d%s%s", (void *)v, code, reason[0] ? ": " : "", reason);
	v->done(v->t->sup, code, reason, v->arg);
}

/*
 * Free idle probes, except (all = 0) those that passed on this session; the
 * verification itself once none is left (all = 1). Returns 1 if v is gone.
 */
static int
verify_reap(struct verify *v, int all)
{
	size_t	i;
	int	busy = 0;

	for (i = 0; i < PROFILE_MAX_FORWARDS; i++) {
		if (v->probe[i] == NULL)
			continue;
		if (!probe_idle(v->probe[i]) || (!all && v->passed[i])) {
			busy += !probe_idle(v->probe[i]);
			continue;
		}
		probe_free(v->probe[i]);
		v->probe[i] = NULL;
	}
	if (!all || busy > 0)
		return 0;
	log_debug("verify %p: freed", (void *)v);
	TAILQ_REMOVE(v->list, v, entry);
	event_free(v->ev_timer);
	event_free(v->ev_work);
	free(v);
	return 1;
}

/* One probe per forward not passed yet, on the READY session. */
static void
verify_start_probes(struct verify *v)
{
	const struct profile	*p = v->t->p;
	struct session		*sess = v->t->session(v->t->sup);
	int			 left = verify_left_ms(v);
	size_t			 i;

	evtimer_del(v->ev_timer);
	verify_reap(v, 0);	/* the last round's failures (a busy one is kept and re-judged) */
	verify_set_phase(v, VERIFY_PROBING);
	for (i = 0; i < p->nforwards; i++) {
		if (v->passed[i] || v->probe[i] != NULL)
			continue;
		v->probe[i] = probe_start(v->t->base, sess, &p->forwards[i],
		    left < VERIFY_PROBE_MAX_MS ? left : VERIFY_PROBE_MAX_MS, verify_probe_done, v);
		if (v->probe[i] == NULL) {
			verify_report(v, EX_OSERR, "out of memory");
			return;
		}
	}
	verify_schedule(v);	/* no forward left to probe: judge now */
}

/* Every probe of the round has a result: report, or pause before another round. */
static void
verify_judge(struct verify *v)
{
	const struct profile	*prof = v->t->p;
	struct probe		*p;
	size_t			 i;
	int			 code = 0, left;

	for (i = 0; i < prof->nforwards; i++)
		if (v->probe[i] != NULL && probe_result(v->probe[i]) == PROBE_PENDING)
			return;
	for (i = 0; i < prof->nforwards; i++) {
		if ((p = v->probe[i]) == NULL || v->passed[i])
			continue;
		if (probe_result(p) == PROBE_OK) {
			v->passed[i] = 1;
		} else if (code == 0) {
			code = probe_exit_code(p);
			snprintf(v->fail, sizeof v->fail, "forward %s: %s", prof->forwards[i].name,
			    probe_message(p));
		}
	}
	if (code == 0) {
		verify_report(v, 0, "");
		return;
	}
	left = verify_left_ms(v);
	if (!(v->flags & VERIFY_RETRY) || left <= 0) {
		verify_report(v, code, v->fail);
		return;
	}
	log_debug("verify %p: %s; again in %d ms", (void *)v, v->fail, VERIFY_RETRY_MS);
	if (v->progress != NULL)
		v->progress(v->t->sup, v->fail, v->arg);
	v->fail_code = code;
	verify_set_phase(v, VERIFY_PAUSED);
	verify_arm(v, left < VERIFY_RETRY_MS ? left : VERIFY_RETRY_MS);
}

static void
verify_work_cb(evutil_socket_t fd, short what, void *arg)
{
	struct verify	*v = arg;
	struct session	*sess = v->t->session(v->t->sup);
	const char	*why;
	int		 code;

	(void)fd;
	(void)what;
	if (v->phase != VERIFY_REPORTED && v->t->stopped(v->t->sup, &code, &why))
		verify_report(v, code != 0 ? code : EX_TEMPFAIL,
		    code != 0 ? why : "stopped before the tunnel was ready");
	else if (v->phase == VERIFY_WAITING && sess != NULL && session_state(sess) == SESSION_READY)
		verify_start_probes(v);
	else if (v->phase == VERIFY_PROBING)
		verify_judge(v);
	if (v->phase == VERIFY_REPORTED)
		verify_reap(v, 1);
}

/* The deadline while waiting, or the end of a pause. */
static void
verify_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct verify	*v = arg;
	const char	*waiting = v->t->waiting(v->t->sup);
	char		 why[1400];

	(void)fd;
	(void)what;
	if (v->phase == VERIFY_PAUSED && verify_left_ms(v) > 0) {
		verify_wait(v);
		verify_schedule(v);
		return;
	}
	if (v->phase == VERIFY_PAUSED) {
		verify_report(v, v->fail_code, v->fail);
	} else {
		snprintf(why, sizeof why, "not ready within %.1f s: %s", v->timeout_ms / 1000.0,
		    waiting[0] ? waiting : v->t->session(v->t->sup) != NULL ?
		    "the SSH session is not up yet" : "no SSH session");
		verify_report(v, EX_TEMPFAIL, why);
	}
	verify_reap(v, 1);
}

void
verify_pumped(struct verify_list *l, struct session *sess)
{
	struct verify	*v;

	TAILQ_FOREACH(v, l, entry) {
		probe_pump_all(v->probe, PROFILE_MAX_FORWARDS, sess);
		if (session_state(sess) == SESSION_DEAD)
			return;
		if (v->phase == VERIFY_REPORTED)
			verify_schedule(v);	/* an orphaned open may have resolved */
	}
}

void
verify_session_dead(struct verify_list *l, struct session *sess)
{
	struct verify	*v;

	TAILQ_FOREACH(v, l, entry) {
		if (v->phase == VERIFY_PROBING || v->phase == VERIFY_PAUSED) {
			verify_wait(v);	/* first: the probes' results below must not be judged */
			memset(v->passed, 0, sizeof v->passed);
			v->fail_code = 0;
		}
		probe_session_lost_all(v->probe, PROFILE_MAX_FORWARDS, sess);
		verify_schedule(v);
	}
}

void
verify_free_all(struct verify_list *l)
{
	struct verify	*v;
	size_t		 i;

	while ((v = TAILQ_FIRST(l)) != NULL) {
		for (i = 0; i < PROFILE_MAX_FORWARDS; i++) {
			if (v->probe[i] == NULL)
				continue;
			probe_session_lost(v->probe[i]);	/* the session's ssh_free() owns channels */
			probe_free(v->probe[i]);
		}
		TAILQ_REMOVE(l, v, entry);
		event_free(v->ev_timer);
		event_free(v->ev_work);
		free(v);
	}
}

int
verify_start(struct verify_list *l, const struct verify_tunnel *t, int timeout_ms, int flags,
    verify_done_fn done, void *arg)
{
	struct verify	*v;

	if ((v = calloc(1, sizeof *v)) == NULL)
		return -1;
	v->list = l;
	v->t = t;
	v->flags = flags;
	v->timeout_ms = timeout_ms;
	v->done = done;
	v->arg = arg;
	clock_mark(&v->started);
	v->ev_timer = evtimer_new(t->base, verify_timer_cb, v);
	v->ev_work = event_new(t->base, -1, 0, verify_work_cb, v);
	if (v->ev_timer == NULL || v->ev_work == NULL) {
		if (v->ev_timer != NULL)
			event_free(v->ev_timer);
		if (v->ev_work != NULL)
			event_free(v->ev_work);
		free(v);
		return -1;
	}
	TAILQ_INSERT_TAIL(l, v, entry);
	log_debug("verify %p: every forward of %s, within %d ms%s", (void *)v, t->p->name,
	    timeout_ms, flags & VERIFY_RETRY ? ", retrying failures" : "");
	if (timeout_ms > 0)
		verify_arm(v, timeout_ms);
	verify_schedule(v);
	return 0;
}

void
verify_set_progress(struct verify_list *l, verify_progress_fn fn)
{
	struct verify	*v = TAILQ_LAST(l, verify_list);

	if (v != NULL)
		v->progress = fn;
}
