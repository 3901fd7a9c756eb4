/*
 * supervisor.c: owns the listeners, the one session and every conn.
 *
 * Only the supervisor decides when a session lives or dies: the session
 * reports DEAD, the supervisor detaches that session's conns (their clients
 * see a close), frees the session from a fresh event (never inside its
 * callbacks) and schedules the next attempt (policy.c says when). Listeners
 * stay bound throughout; connections accepted meanwhile are held. Readiness
 * checks (verify.c) watch its session; it tells them what the session does.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <libssh/libssh.h>

#include "cause.h"
#include "clock.h"
#include "compat.h"
#include "conn.h"
#include "forward.h"
#include "identity.h"
#include "log.h"
#include "policy.h"
#include "probe.h"
#include "session.h"
#include "supervisor.h"

struct supervisor {
	struct event_base	*base;
	struct evdns_base	*dns;
	const struct profile	*p;
	struct session_target	 target;
	struct session_auth	 auth;
	struct session_callbacks scb;

	enum supervisor_state	 state;
	int			 exit_code;
	char			 error[1280];

	struct forward		 fwd[PROFILE_MAX_FORWARDS];
	size_t			 nfwd;
	struct conn_list	 conns;

	struct session		*sess;		/* current, may be NULL between attempts */
	struct session		*dead_sess;	/* waiting for the reaper */
	struct event		*ev_reap;
	struct event		*ev_retry;
	struct event		*ev_net;	/* network-change watch, if the platform has one */
	int			 net_fd;
	struct event		*ev_clock;	/* wall-clock jump (sleep/resume) check */
	struct timespec		 clock_wall, clock_mono;
	struct timespec		 last_net_retry;

	int			 attempt;	/* consecutive failed attempts */
	int			 backoff_ms;
	struct timespec		 ready_at;
	struct timespec		 started_at;
	unsigned		 sessions_ready;
	enum session_failure	 last_failure;
	char			 last_logged[1024];
	struct timespec		 last_logged_at;
	char			 last_error[1024];	/* the failure before the current session */
	struct timespec		 last_error_at;
	int			 persistent;
	supervisor_state_fn	 state_fn;
	void			*state_arg;
	struct verify_list	 verifies;	/* supervisor_verify() calls in progress */
	struct verify_tunnel	 vt;		/* what they see of this tunnel */
};

static void	supervisor_connect(struct supervisor *);
static struct session *verify_tunnel_session(struct supervisor *);
static int	verify_tunnel_stopped(struct supervisor *, int *, const char **);
static const char *verify_tunnel_waiting(struct supervisor *);


const char *
supervisor_state_name(enum supervisor_state st)
{
	static const char *const names[] = {
		"new", "connecting", "ready", "reconnecting", "failed", "stopping", "stopped"
	};

	return (unsigned)st < sizeof names / sizeof names[0] ? names[st] : "?";
}

static void
supervisor_set_state(struct supervisor *s, enum supervisor_state st)
{
	if (s->state == st)
		return;
	log_debug("tunnel %s: %s -> %s", s->p->name, supervisor_state_name(s->state),
	    supervisor_state_name(st));
	s->state = st;
	if (s->state_fn != NULL)
		s->state_fn(s, st, s->state_arg);
	if (st == SUP_STOPPING)
		verify_kick_all(&s->verifies, s->state == SUP_STOPPING);	/* they report the outcome */
}

struct supervisor *
supervisor_new(struct event_base *base, const struct profile *p)
{
	struct supervisor	*s;

	if ((s = calloc(1, sizeof *s)) == NULL)
		return NULL;
	s->base = base;
	s->p = p;
	TAILQ_INIT(&s->conns);
	TAILQ_INIT(&s->verifies);
	s->vt.sup = s;
	s->vt.base = base;
	s->vt.p = p;
	s->vt.session = verify_tunnel_session;
	s->vt.stopped = verify_tunnel_stopped;
	s->vt.waiting = verify_tunnel_waiting;
	s->net_fd = -1;
	clock_mark(&s->started_at);
	return s;
}

int
supervisor_prepare(struct supervisor *s, char **cause)
{
	if (session_target_resolve(s->p, &s->target, cause) != 0)
		return EX_CONFIG;
	log_debug("target %s: %s@%s port %d, identity %s, known_hosts %s, ciphers %s",
	    s->target.alias, s->target.user, s->target.hostname, s->target.port,
	    s->target.identity, s->target.known_hosts, s->target.ciphers);
	if (session_libssh_window_capped())
		log_debug("libssh %s caps each channel's window at 2 MiB: one connection downloads at "
		    "most 2 MiB per round trip (40 MB/s at 50 ms), slower than ssh -L over a long "
		    "path; the static build has no cap (make static; README, 'One file')",
		    ssh_version(0));
	/* Once per run: reconnects reuse the key (and never ask for a passphrase again). */
	return identity_load(s->target.identity, s->target.use_agent &&
	    getenv("SSH_AUTH_SOCK") != NULL, isatty(STDIN_FILENO), &s->auth, cause);
}

static void
supervisor_reap_cb(evutil_socket_t fd, short what, void *arg);

/* A conn is DEAD or an ORPHAN: the reaper frees it or its socket, outside any callback. */
static void
supervisor_conn_reap(struct conn *c, void *arg)
{
	struct supervisor	*s = arg;

	(void)c;
	event_active(s->ev_reap, EV_TIMEOUT, 0);
}

/* Connections waiting for a session (a short list: at most hold_max). */
static unsigned
supervisor_held(const struct supervisor *s)
{
	const struct conn	*c;
	unsigned		 n = 0;

	for (c = TAILQ_FIRST(&s->conns); c != NULL; c = conn_next(c))
		n += conn_state(c) == CONN_HELD;
	return n;
}

/*
 * A HELD conn waits for a session, within hold_max and what is left of
 * hold_timeout since it was accepted; past either it is closed, logged.
 * why: set when the conn is held again after losing its session.
 */
static void
supervisor_hold(struct supervisor *s, struct conn *c, const char *why)
{
	const char	*name = conn_forward_name(c);
	unsigned	 held = supervisor_held(s);
	long		 left;
	char		 key[96];

	switch (policy_hold(held, s->p->hold_max, conn_age_ms(c), s->p->hold_timeout_ms, &left)) {
	case POLICY_HOLD_FULL:
		snprintf(key, sizeof key, "hold-full %s", name);
		log_warn_key(key, "forward %s: no session and %u connections already held (hold_max): "
		    "closing %s", name, held - 1, why ? "one whose session was lost" : "a new one");
		conn_close(c, "hold limit reached");
		return;
	case POLICY_HOLD_EXPIRED:
		snprintf(key, sizeof key, "hold-expired %s", name);
		log_warn_key(key, "forward %s: closing a held connection: no session came up within "
		    "the hold time", name);
		conn_close(c, "hold time over");
		return;
	case POLICY_HOLD:
		break;
	}
	log_info("forward %s: holding a connection until the session is back (%u held)%s%s",
	    name, held, why ? ": " : "", why ? why : "");
	conn_hold(c, (int)left);
}

/* Orphaned channel opens (conn.h, CONN_ORPHAN) one forward may have waiting. */
#define SUP_ORPHANS_MAX	128

static void
supervisor_accept(struct forward *f, evutil_socket_t fd, void *arg)
{
	struct supervisor	*s = arg;
	struct conn		*c;

	/*
	 * Clients that left while their channel open was unanswered hold no fd,
	 * but their channels wait for the server (SSH cannot cancel an open): a
	 * server that answers none would have them pile up without end.
	 */
	if (f->st.orphans >= SUP_ORPHANS_MAX) {
		char	key[96];

		snprintf(key, sizeof key, "orphans %s", f->spec->name);
		log_warn_key(key, "forward %s: %u channel opens to %s:%d are unanswered by the server, "
		    "their clients gone: refusing new connections until it answers", f->spec->name,
		    f->st.orphans, f->spec->remote_host, f->spec->remote_port);
		evutil_closesocket(fd);
		return;
	}
	if ((c = conn_new(s->base, f, fd, supervisor_conn_reap, s)) == NULL) {
		log_warn("forward %s: out of memory for a new connection", f->spec->name);
		return;
	}
	conn_list_add(&s->conns, c);
	if (s->sess != NULL && session_state(s->sess) == SESSION_READY) {
		conn_attach(c, s->sess);
		return;
	}
	supervisor_hold(s, c, NULL);
}

int
supervisor_bind(struct supervisor *s, char **cause)
{
	s->ev_reap = event_new(s->base, -1, 0, supervisor_reap_cb, s);
	if (s->ev_reap == NULL) {
		*cause = strdup("out of memory");
		return EX_OSERR;
	}
	if (forward_bind_all(s->fwd, s->p->nforwards, s->base, s->p->forwards, supervisor_accept,
	    s, cause) != 0)
		return EX_CANTCREAT;
	s->nfwd = s->p->nforwards;
	return 0;
}

/* Stop for good with an error; the loop ends once everything is closed. */
static void
supervisor_fail(struct supervisor *s, int code, const char *why)
{
	snprintf(s->error, sizeof s->error, "%s", why);
	clock_mark(&s->last_logged_at);
	log_error("%s", why);
	s->exit_code = code;
	supervisor_shutdown(s, NULL);
	s->exit_code = code;
}

/* Deadline of an urgent probe after sleep or a network change. */
#define SUP_PROBE_MS		3000

static void
supervisor_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	supervisor_connect(arg);
}

static void	supervisor_failed_attempt(struct supervisor *, enum session_failure, const char *);

static void
supervisor_session_dead(struct supervisor *s, struct session *sess)
{
	struct conn	*c;

	verify_session_dead(&s->verifies, sess);
	/*
	 * Its conns end now: their clients see a close instead of a hang. Those
	 * still waiting for their channel had nothing sent yet: they wait for the
	 * next session, within what is left of their hold time.
	 */
	for (c = TAILQ_FIRST(&s->conns); c != NULL; c = conn_next(c)) {
		if (conn_session(c) != sess)
			continue;
		if (s->state != SUP_STOPPING && conn_rehold(c))
			supervisor_hold(s, c, "the session was lost before its channel opened");
		else
			conn_detach(c, "session lost");
	}
	s->sess = NULL;
	if (s->dead_sess != NULL && s->dead_sess != sess)
		session_free(s->dead_sess);	/* an earlier one, not in its callbacks now */
	s->dead_sess = sess;
	event_active(s->ev_reap, EV_TIMEOUT, 0);
	if (s->state == SUP_STOPPING || s->state == SUP_STOPPED)
		return;
	supervisor_failed_attempt(s, session_failure(sess), session_error(sess));
}

/*
 * A refusal of keys this run has already been let in with is no wrong key:
 * Lightning's gateway refuses while a Studio is stopped or being recreated,
 * and lets the same key in moments later. It is retried with back-off, in
 * the foreground as in -d; a first-ever refusal still stops at once.
 */
static int
supervisor_refusal_passes(const struct supervisor *s, enum session_failure f)
{
	return f == SFAIL_AUTH && s->sessions_ready > 0;
}

/* An attempt ended in failure f (why: one line): stop for good, or retry when the policy says. */
static void
supervisor_failed_attempt(struct supervisor *s, enum session_failure f, const char *why)
{
	struct policy_retry_in	rin;
	struct timeval		tv;
	char			hinted[sizeof s->last_logged];
	int			delay, passes = supervisor_refusal_passes(s, f);

	if (session_failure_fatal(f) && !passes && (!s->persistent ||
	    f == SFAIL_HOSTKEY_CHANGED || f == SFAIL_LOCAL)) {
		supervisor_fail(s, session_failure_exit_code(f), why);
		return;
	}
	if (passes) {
		snprintf(hinted, sizeof hinted, "%.900s (accepted earlier in this run: the Studio may "
		    "be stopped or restarting)", why);
		why = hinted;
	}
	/*
	 * An attempt that reached READY was a success: max_tries counts failures
	 * in a row (a server that drops idle sessions is no reason to give up).
	 * Only a session that stayed up long enough earns a fresh back-off.
	 */
	if (s->state == SUP_READY) {
		s->attempt = 0;
		if (clock_since_s(&s->ready_at) * 1000 >= s->p->stable_ms)
			s->backoff_ms = 0;
	}
	s->attempt++;
	if (s->p->max_tries > 0 && s->attempt >= s->p->max_tries) {
		char	msg[1200];

		snprintf(msg, sizeof msg, "giving up after %d attempts: %.1100s", s->attempt, why);
		supervisor_fail(s, session_failure_exit_code(f), msg);
		return;
	}
	rin.initial_ms = s->p->backoff_initial_ms;
	rin.max_ms = s->p->backoff_max_ms;
	rin.cheap = session_failure_cheap(f);
	rin.needs_person = session_failure_fatal(f) && !passes;
	rin.was_ready = s->state == SUP_READY;
	rin.attempt = s->attempt;
	delay = policy_retry_delay(&rin, &s->backoff_ms, rand);
	/* Say each distinct failure once; repeats only at debug level. */
	if (strcmp(why, s->last_logged) != 0) {
		log_warn("%s; retrying in %.1f s (attempt %d)", why, delay / 1000.0, s->attempt);
		snprintf(s->last_logged, sizeof s->last_logged, "%s", why);
	} else
		log_debug("%s; retrying in %.1f s (attempt %d)", why, delay / 1000.0, s->attempt);
	s->last_failure = f;
	clock_mark(&s->last_logged_at);
	supervisor_set_state(s, session_failure_fatal(f) ? SUP_FAILED :
	    s->sessions_ready > 0 ? SUP_RECONNECTING : SUP_CONNECTING);
	if (s->ev_retry == NULL &&
	    (s->ev_retry = evtimer_new(s->base, supervisor_retry_cb, s)) == NULL) {
		supervisor_fail(s, EX_OSERR, "out of memory for the retry timer");
		return;
	}
	evtimer_add(s->ev_retry, clock_tv(&tv, delay));
}

static void
supervisor_session_ready(struct supervisor *s, struct session *sess)
{
	struct conn	*c;
	size_t		 i;

	clock_mark(&s->ready_at);
	if (s->sessions_ready == 0) {
		log_info("connected to %s (%s@%s) in %.0f ms", s->target.alias, s->target.user,
		    session_peer(sess), clock_since_s(&s->started_at) * 1000);
		for (i = 0; i < s->nfwd; i++)
			log_info("forward %s: %s:%d -> %s:%d", s->fwd[i].spec->name,
			    s->fwd[i].spec->bind_addr, s->fwd[i].spec->local_port,
			    s->fwd[i].spec->remote_host, s->fwd[i].spec->remote_port);
	} else
		log_info("reconnected to %s after %d attempt(s)", s->target.alias, s->attempt);
	s->sessions_ready++;
	/* Say the next failure even if it is the same as the last one (kept for status). */
	snprintf(s->last_error, sizeof s->last_error, "%s", s->last_logged);
	s->last_error_at = s->last_logged_at;
	s->last_logged[0] = '\0';
	supervisor_set_state(s, SUP_READY);
	for (c = TAILQ_FIRST(&s->conns); c != NULL; c = conn_next(c)) {
		if (conn_state(c) == CONN_HELD)
			conn_attach(c, sess);
	}
	verify_kick_all(&s->verifies, s->state == SUP_STOPPING);
}

static void
supervisor_session_state(struct session *sess, enum session_state st, void *arg)
{
	struct supervisor	*s = arg;

	if (sess != s->sess)
		return;
	if (st == SESSION_READY)
		supervisor_session_ready(s, sess);
	else if (st == SESSION_DEAD)
		supervisor_session_dead(s, sess);
}

/*
 * Unanswered channel opens asked again per libssh pass, oldest first (conn_step): the server answers
 * in about the order asked, so the oldest are the ones whose answer can be there.
 */
#define SUP_OPENS_PER_PASS	4

/* After each libssh pass: every conn of this session moves its bytes. */
static void
supervisor_session_pumped(struct session *sess, void *arg)
{
	struct supervisor	*s = arg;
	struct conn		*c;
	int			 opens_left = SUP_OPENS_PER_PASS;

	for (c = TAILQ_FIRST(&s->conns); c != NULL; c = conn_next(c)) {
		if (session_state(sess) == SESSION_DEAD)
			break;
		if (conn_session(c) == sess)
			conn_step(c, &opens_left);
	}
	if (session_state(sess) != SESSION_DEAD)
		verify_pumped(&s->verifies, sess);
}

static void
supervisor_connect(struct supervisor *s)
{
	if (s->state == SUP_STOPPING || s->state == SUP_STOPPED || s->sess != NULL)
		return;
	s->sess = session_new(s->base, s->dns, &s->target, &s->auth, &s->scb, s);
	if (s->sess == NULL) {	/* a shortage passes: retried like a refused port */
		supervisor_failed_attempt(s, SFAIL_RESOURCE, "out of memory for a new session");
		return;
	}
	(void)session_start(s->sess);	/* failures arrive through the state callback */
}

/* Retry now instead of waiting out the back-off (network came back, we woke up). */
static void
supervisor_retry_now(struct supervisor *s, const char *why)
{
	if (s->state == SUP_STOPPING || s->state == SUP_STOPPED)
		return;
	if (s->dead_sess != NULL) {	/* we run from our own event: free it now */
		session_free(s->dead_sess);
		s->dead_sess = NULL;
	}
	/* Debounce: a link change arrives as a burst of netlink messages. */
	if (clock_since_s(&s->last_net_retry) < 0.5)
		return;
	clock_mark(&s->last_net_retry);
	if (s->sess != NULL && session_state(s->sess) == SESSION_READY) {
		log_debug("%s: probing the session", why);
		session_probe(s->sess, SUP_PROBE_MS);
		return;
	}
	if (s->sess == NULL && s->ev_retry != NULL && evtimer_pending(s->ev_retry, NULL)) {
		log_info("%s: retrying now", why);
		evtimer_del(s->ev_retry);
		supervisor_connect(s);
		return;
	}
	/* An attempt stuck in connect or handshake on the old path: start afresh. */
	if (s->sess != NULL && session_state(s->sess) != SESSION_READY &&
	    session_state(s->sess) != SESSION_DEAD) {
		log_info("%s: restarting the connection attempt", why);
		session_free(s->sess);	/* not inside its callbacks: we run from our own event */
		s->sess = NULL;
		supervisor_connect(s);
	}
}

static void
supervisor_net_cb(evutil_socket_t fd, short what, void *arg)
{
	struct supervisor	*s = arg;

	(void)what;
	if (compat_netwatch_read(fd) == 1)
		supervisor_retry_now(s, "network changed");
}

/*
 * Monotonic time stops while a laptop sleeps; wall time does not. A gap
 * between the two means we slept: the session is probably dead, so ask now.
 */
static void
supervisor_clock_cb(evutil_socket_t fd, short what, void *arg)
{
	struct supervisor	*s = arg;
	struct timespec		 wall, mono;
	double			 dwall, dmono;

	(void)fd;
	(void)what;
	clock_gettime(CLOCK_REALTIME, &wall);
	clock_mark(&mono);
	dwall = (double)(wall.tv_sec - s->clock_wall.tv_sec) +
	    (wall.tv_nsec - s->clock_wall.tv_nsec) / 1e9;
	dmono = (double)(mono.tv_sec - s->clock_mono.tv_sec) +
	    (mono.tv_nsec - s->clock_mono.tv_nsec) / 1e9;
	s->clock_wall = wall;
	s->clock_mono = mono;
	if (dwall - dmono > s->p->keepalive_interval_ms / 1000.0) {
		log_info("the wall clock jumped %.0f s (sleep?): checking the session", dwall - dmono);
		s->last_net_retry.tv_sec = 0;
		supervisor_retry_now(s, "woke up");
	}
}

void
supervisor_start(struct supervisor *s)
{
	struct timeval	tv;

	s->scb.state_changed = supervisor_session_state;
	s->scb.pumped = supervisor_session_pumped;
	s->dns = session_dns_new(s->base);
	srand((unsigned)getpid() ^ (unsigned)time(NULL));
	if ((s->net_fd = compat_netwatch_open()) != -1) {
		s->ev_net = event_new(s->base, s->net_fd, EV_READ | EV_PERSIST, supervisor_net_cb, s);
		if (s->ev_net != NULL)
			event_add(s->ev_net, NULL);
	} else
		log_debug("no network-change notifications on this platform");
	clock_gettime(CLOCK_REALTIME, &s->clock_wall);
	clock_mark(&s->clock_mono);
	if (s->p->keepalive_interval_ms > 0 &&
	    (s->ev_clock = event_new(s->base, -1, EV_PERSIST, supervisor_clock_cb, s)) != NULL) {
		event_add(s->ev_clock, clock_tv(&tv, s->p->keepalive_interval_ms));
	}
	supervisor_set_state(s, SUP_CONNECTING);
	supervisor_connect(s);
}

/* Free dead conns and orphans' sockets, then a dead session; end the loop once a stop has drained. */
static void
supervisor_reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct supervisor	*s = arg;
	struct conn		*c, *next;

	(void)fd;
	(void)what;
	for (c = TAILQ_FIRST(&s->conns); c != NULL; c = next) {
		next = conn_next(c);
		if (!conn_reap(c))
			continue;
		conn_list_remove(&s->conns, c);
		conn_free(c);
	}
	if (s->dead_sess != NULL) {
		session_free(s->dead_sess);
		s->dead_sess = NULL;
	}
	if (s->state == SUP_STOPPING && TAILQ_EMPTY(&s->conns)) {
		if (s->sess != NULL) {
			session_free(s->sess);
			s->sess = NULL;
		}
		supervisor_set_state(s, SUP_STOPPED);
		event_base_loopexit(s->base, NULL);
	}
}

void
supervisor_shutdown(struct supervisor *s, const char *why)
{
	struct conn	*c;
	size_t		 i;

	if (s->state == SUP_STOPPING || s->state == SUP_STOPPED)
		return;
	if (why != NULL)
		log_info("stopping: %s", why);
	supervisor_set_state(s, SUP_STOPPING);
	s->exit_code = 0;
	if (s->ev_retry != NULL)
		evtimer_del(s->ev_retry);
	if (s->ev_net != NULL)
		event_del(s->ev_net);
	if (s->ev_clock != NULL)
		event_del(s->ev_clock);
	for (i = 0; i < s->nfwd; i++)
		forward_close(&s->fwd[i]);
	/* The session goes with ssh_disconnect(): channels need no close of their own. */
	for (c = TAILQ_FIRST(&s->conns); c != NULL; c = conn_next(c))
		conn_detach(c, "stopping");
	if (s->ev_reap != NULL)
		event_active(s->ev_reap, EV_TIMEOUT, 0);
	else
		event_base_loopexit(s->base, NULL);
}

void
supervisor_set_persistent(struct supervisor *s, int on)
{
	s->persistent = on;
}

void
supervisor_set_state_cb(struct supervisor *s, supervisor_state_fn fn, void *arg)
{
	s->state_fn = fn;
	s->state_arg = arg;
}

void
supervisor_info(const struct supervisor *s, struct supervisor_info *out)
{
	memset(out, 0, sizeof *out);
	out->state = s->state;
	out->state_name = supervisor_state_name(s->state);
	out->uptime_s = clock_since_s(&s->started_at);
	out->session_age_s = s->state == SUP_READY ? clock_since_s(&s->ready_at) : -1;
	out->reconnects = s->sessions_ready > 0 ? s->sessions_ready - 1 : 0;
	out->attempt = s->attempt;
	/* While down, the failure now; while up, the one before this session. */
	if (s->error[0] != '\0') {
		out->last_error = s->error;
		out->last_error_age_s = clock_since_s(&s->last_logged_at);
	} else if (s->last_logged[0] != '\0') {
		out->last_error = s->last_logged;
		out->last_error_age_s = clock_since_s(&s->last_logged_at);
	} else {
		out->last_error = s->last_error;
		out->last_error_age_s = s->last_error[0] != '\0' ? clock_since_s(&s->last_error_at) : 0;
	}
	out->fwd = s->fwd;
	out->nfwd = s->nfwd;
	out->user = s->target.user;
	out->host = s->target.hostname;
	out->port = s->target.port;
}

enum supervisor_state
supervisor_state(const struct supervisor *s)
{
	return s->state;
}

int
supervisor_exit_code(const struct supervisor *s)
{
	return s->exit_code;
}

const char *
supervisor_error(const struct supervisor *s)
{
	return s->error;
}

void
supervisor_free(struct supervisor *s)
{
	struct conn	*c;
	size_t		 i;

	if (s == NULL)
		return;
	verify_free_all(&s->verifies);
	while ((c = TAILQ_FIRST(&s->conns)) != NULL) {
		conn_list_remove(&s->conns, c);
		conn_forget(c);		/* the session's ssh_free() owns channels */
		conn_free(c);
	}
	if (s->dead_sess != NULL)
		session_free(s->dead_sess);
	if (s->sess != NULL)
		session_free(s->sess);
	for (i = 0; i < s->nfwd; i++)
		forward_close(&s->fwd[i]);
	if (s->ev_reap != NULL)
		event_free(s->ev_reap);
	if (s->ev_retry != NULL)
		event_free(s->ev_retry);
	if (s->ev_net != NULL)
		event_free(s->ev_net);
	if (s->net_fd != -1)
		close(s->net_fd);
	if (s->ev_clock != NULL)
		event_free(s->ev_clock);
	if (s->dns != NULL)
		evdns_base_free(s->dns, 0);
	ssh_key_free(s->auth.privkey);
	ssh_key_free(s->auth.pubkey);
	free(s);
}

/* The verifications' view of this tunnel. */
static struct session *
verify_tunnel_session(struct supervisor *s)
{
	return s->sess;
}

static int
verify_tunnel_stopped(struct supervisor *s, int *code, const char **why)
{
	*code = s->exit_code;
	*why = s->error;
	return s->state == SUP_STOPPING || s->state == SUP_STOPPED;
}

static const char *
verify_tunnel_waiting(struct supervisor *s)
{
	return s->last_logged;
}

void
supervisor_verify_progress(struct supervisor *s, verify_progress_fn fn)
{
	verify_set_progress(&s->verifies, fn);
}

int
supervisor_verify(struct supervisor *s, int timeout_ms, int flags, supervisor_verify_fn done,
    void *arg)
{
	return verify_start(&s->verifies, &s->vt, timeout_ms, flags, done, arg);
}
