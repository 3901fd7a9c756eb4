/* supervisor.h: the tunnel as a whole: listeners, the session, reconnects, held connections. */
#ifndef CONNECT_SUPERVISOR_H
#define CONNECT_SUPERVISOR_H

#include <event2/event.h>

#include "profile.h"
#include "verify.h"

enum supervisor_state {
	SUP_NEW = 0,
	SUP_CONNECTING,		/* first session on its way */
	SUP_READY,		/* a session is READY: forwards work */
	SUP_RECONNECTING,	/* the session died; waiting or retrying */
	SUP_FAILED,		/* persistent mode: an error retrying may not fix; retried at the cap */
	SUP_STOPPING,		/* shutting down: closing conns */
	SUP_STOPPED		/* done; see supervisor_exit_code() */
};

struct supervisor;
struct forward;

/* A snapshot for status reports; pointers valid until the next loop pass. */
struct supervisor_info {
	enum supervisor_state	 state;
	const char		*state_name;	/* connecting / ready / reconnecting / failed ... */
	double			 uptime_s;	/* since supervisor_start() */
	double			 session_age_s;	/* the READY session's age, -1 without one */
	unsigned		 reconnects;	/* sessions READY after the first */
	int			 attempt;	/* consecutive failed attempts now */
	const char		*last_error;	/* the latest failure, "" if none */
	double			 last_error_age_s;
	const struct forward	*fwd;		/* the forwards, with their stats */
	size_t			 nfwd;
	const char		*user, *host;	/* the SSH login: user@host port */
	int			 port;
};

/* Told of every state change (status on systemd, readiness waits). */
typedef void (*supervisor_state_fn)(struct supervisor *, enum supervisor_state, void *arg);

/* A tunnel for profile p (which must outlive it). Returns NULL on memory exhaustion. */
struct supervisor *supervisor_new(struct event_base *base, const struct profile *p);

/*
 * Resolve the target (ssh config) and load the identity (asking for a
 * passphrase on a terminal). Returns 0, or a sysexits.h code (EX_CONFIG,
 * EX_NOPERM, ...) with *cause set (malloc'd, caller frees).
 */
int	supervisor_prepare(struct supervisor *s, char **cause);

/* Bind every listener, all or nothing. Returns 0, or EX_CANTCREAT / EX_CONFIG with *cause. */
int	supervisor_bind(struct supervisor *s, char **cause);

/* Start the first session. The event loop then runs until the tunnel stops. */
void	supervisor_start(struct supervisor *s);

/* Close everything gracefully and end the loop with exit code 0. Safe from a signal event. */
void	supervisor_shutdown(struct supervisor *s, const char *why);

/*
 * Persistent (background) mode: auth refused and an unknown host key under
 * strict are retried at backoff_max, with the error kept in the status,
 * instead of stopping the tunnel; a changed host key still stops it.
 */
void	supervisor_set_persistent(struct supervisor *s, int on);

void	supervisor_set_state_cb(struct supervisor *s, supervisor_state_fn fn, void *arg);

void	supervisor_info(const struct supervisor *s, struct supervisor_info *out);

/* Lower-case name of a state, as status prints it. */
const char *supervisor_state_name(enum supervisor_state st);

enum supervisor_state supervisor_state(const struct supervisor *s);
/* 0 after a requested stop; EX_PROTOCOL (host key), EX_NOPERM (auth), EX_UNAVAILABLE (gave up)... */
int	supervisor_exit_code(const struct supervisor *s);
/* The last failure, or "". */
const char *supervisor_error(const struct supervisor *s);

/*
 * Readiness: once a session is READY (at once if it already is), open a
 * channel to every forward's remote end, GET each health path (expecting
 * 200), and report once through done(s, exit_code, reason, arg):
 *   0 and ""			every forward passed;
 *   EX_UNAVAILABLE		"forward api: 127.0.0.1:8008 refused the channel (remote port
 *				not listening?): ..." or "forward api: 127.0.0.1:8008: GET
 *				/debug.ping answered 502" (the first failing forward, in profile order);
 *   EX_TEMPFAIL		not ready within timeout_ms (no session yet, or a probe timed out);
 *   the supervisor's code	it stopped meanwhile (host key, auth, max_tries: its exit code
 *				and error; a requested stop: EX_TEMPFAIL).
 * A session lost during the probes is waited out: the next READY one is probed.
 * flags: SUP_VERIFY_RETRY probes failing forwards again every second until they
 * pass or the time is up (then their failure is reported): for start-up,
 * when the services on the Studio may still be starting.
 * timeout_ms <= 0: no deadline (each probe still gives up after 10 s).
 * done runs from a fresh event, never inside the caller; it may call
 * supervisor_verify() or supervisor_shutdown(), not supervisor_free(). Any
 * number of verifications may run at once; callable again at any time.
 * If the supervisor is freed first, done is never called.
 * Returns 0, or -1 on memory exhaustion (done will not be called).
 */
#define SUP_VERIFY_RETRY	VERIFY_RETRY
typedef verify_done_fn	supervisor_verify_fn;
int	supervisor_verify(struct supervisor *s, int timeout_ms, int flags,
	    supervisor_verify_fn done, void *arg);

/* Tell the verification started last of each failed round (VERIFY_RETRY), e.g. for a terminal. */
void	supervisor_verify_progress(struct supervisor *s, verify_progress_fn fn);

void	supervisor_free(struct supervisor *s);

#endif
