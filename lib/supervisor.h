/* supervisor.h: the tunnel as a whole: listeners, the session, reconnects, held connections. */
#ifndef CONNECT_SUPERVISOR_H
#define CONNECT_SUPERVISOR_H

#include <event2/event.h>

#include "profile.h"

enum supervisor_state {
	SUP_NEW = 0,
	SUP_CONNECTING,		/* first session on its way */
	SUP_READY,		/* a session is READY: forwards work */
	SUP_RECONNECTING,	/* the session died; waiting or retrying */
	SUP_STOPPING,		/* shutting down: closing conns */
	SUP_STOPPED		/* done; see supervisor_exit_code() */
};

struct supervisor;

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

enum supervisor_state supervisor_state(const struct supervisor *s);
/* 0 after a requested stop; EX_PROTOCOL (host key), EX_NOPERM (auth), EX_UNAVAILABLE (gave up)... */
int	supervisor_exit_code(const struct supervisor *s);
/* The last failure, or "". */
const char *supervisor_error(const struct supervisor *s);

void	supervisor_free(struct supervisor *s);

#endif
