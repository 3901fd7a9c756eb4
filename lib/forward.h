/* forward.h: one listener per forward spec; it outlives sessions. */
#ifndef CONNECT_FORWARD_H
#define CONNECT_FORWARD_H

#include <sys/socket.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "fwdspec.h"
#include "listener.h"

struct forward;

/* Called for each accepted local connection; the callee owns fd. */
typedef void (*forward_accept_fn)(struct forward *, evutil_socket_t fd, void *arg);

struct forward_stats {
	uint64_t	conns_total;	/* accepted since start */
	unsigned	conns_open;	/* currently alive */
	uint64_t	bytes_up;	/* local client -> remote */
	uint64_t	bytes_down;	/* remote -> local client */
	uint64_t	failures;	/* channels the server refused */
	unsigned	orphans;	/* clients gone, their channel open still unanswered */
	char		last_error[1024];
};

struct forward {
	const struct forward_spec *spec;
	struct listener		 lst;		/* pauses, not spins, when accept() fails */
	struct listener		 lst6;		/* [::1] beside a 127.0.0.1 one, if has6 */
	int			 has6;
	struct sockaddr_storage	 addr;		/* lst's address, to name it as a holder */
	struct forward_stats	 st;
	forward_accept_fn	 accept_fn;
	void			*arg;
};

/*
 * Set up the n forwards of specs in fwd (an array of n) and bind each
 * spec->bind_addr:spec->local_port (reusable, close-on-exec), then the
 * extra [::1] listener of each 127.0.0.1 one; start accepting. Returns 0,
 * or -1 with nothing left open and *cause (malloc'd) naming the port, the
 * error and, when the port is busy, who holds it (one of these forwards, or
 * a process) and where to change it (spec->origin).
 */
int	forward_bind_all(struct forward *fwd, size_t n, struct event_base *base,
	    const struct forward_spec *specs, forward_accept_fn fn, void *arg, char **cause);

/*
 * Could spec's local port be bound now (connect check: nothing is kept)?
 * Returns 0, or the errno of the bind (EADDRINUSE: something listens there).
 */
int	forward_port_free(const struct forward_spec *spec);

/*
 * Who listens where spec would bind (compat_port_holder: its address, or a
 * wildcard over it)? Writes "pid N (name)" into buf; returns 1, or 0 when
 * the system does not say.
 */
int	forward_port_holder(const struct forward_spec *spec, char *buf, size_t len);

/*
 * The counters status shows, written here only: a connection taken on and
 * let go (conn.c, once each; an orphan's is let go when its socket closes),
 * an orphan added or ended (delta +1 / -1), bytes moved, a channel the
 * server refused (why: printable, kept as last_error).
 */
void	forward_conn_opened(struct forward *f);
void	forward_conn_closed(struct forward *f);
void	forward_orphan(struct forward *f, int delta);
void	forward_count(struct forward *f, uint64_t up, uint64_t down);
void	forward_refused(struct forward *f, const char *why);

/* Stop accepting for a while (shutting down) or for good. */
void	forward_disable(struct forward *f);
void	forward_close(struct forward *f);

#endif
