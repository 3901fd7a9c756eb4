/* forward.c: a listener per forward; accepted sockets go to the supervisor. */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "cause.h"
#include "forward.h"
#include "log.h"

static void
forward_accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct forward	*f = arg;

	(void)lev;
	(void)sa;
	(void)salen;
	if (f->failing) {
		f->failing = 0;
		log_info("forward %s: accepting connections again", f->spec->name);
	}
	f->st.conns_total++;
	f->accept_fn(f, fd, f->arg);
}

#define FORWARD_ACCEPT_PAUSE_MS	200

static void
forward_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct forward	*f = arg;

	(void)fd;
	(void)what;
	if (f->lev != NULL && !f->disabled)
		evconnlistener_enable(f->lev);
}

/*
 * accept() failing (EMFILE, ENFILE: out of fds) must not end the tunnel,
 * nor spin: the connection stays queued, so the listener is readable again
 * at once, and libevent would call back here in a loop, a log line each
 * time. So: one line until an accept works again, and a pause before the
 * next try; the queued clients wait (backlog 1024), they are not refused.
 */
static void
forward_error_cb(struct evconnlistener *lev, void *arg)
{
	struct forward		*f = arg;
	int			 err = EVUTIL_SOCKET_ERROR();
	struct timeval		 tv = { 0, FORWARD_ACCEPT_PAUSE_MS * 1000 };

	if (!f->failing)
		log_warn("forward %s: accept on port %d failed: %s%s; trying again every %d ms",
		    f->spec->name, f->spec->local_port, evutil_socket_error_to_string(err),
		    err == EMFILE || err == ENFILE ? " (raise the open-files limit, ulimit -n)" : "",
		    FORWARD_ACCEPT_PAUSE_MS);
	f->failing = 1;
	if (f->ev_resume == NULL)
		f->ev_resume = evtimer_new(evconnlistener_get_base(lev), forward_resume_cb, f);
	if (f->ev_resume == NULL)
		return;		/* out of memory: keep trying at libevent's pace */
	evconnlistener_disable(lev);
	evtimer_add(f->ev_resume, &tv);
}

/* 127.0.0.0/8 and ::1 are reachable from this machine only; anything else (a wildcard included) is not. */
static int
sockaddr_is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr) >> 24) ==
		    127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr);
	return 0;
}

int
forward_bind(struct forward *f, struct event_base *base, const struct forward_spec *spec,
    forward_accept_fn fn, void *arg, char **cause)
{
	struct addrinfo	 hints, *res = NULL;
	char		 port[16];
	int		 rc, err, loopback;

	memset(f, 0, sizeof *f);
	f->spec = spec;
	f->accept_fn = fn;
	f->arg = arg;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof port, "%d", spec->local_port);
	if ((rc = getaddrinfo(spec->bind_addr, port, &hints, &res)) != 0) {
		cause_set(cause, "forward %s: bad bind address '%s': %s (from %s)", spec->name,
		    spec->bind_addr, gai_strerror(rc), spec->origin);
		return -1;
	}
	/* A browser or a pool opens many at once: a 128 backlog made bursts wait for SYN retransmits. */
	f->lev = evconnlistener_new_bind(base, forward_accept_cb, f,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE, 1024,
	    res->ai_addr, (int)res->ai_addrlen);
	err = errno;
	loopback = sockaddr_is_loopback(res->ai_addr);
	freeaddrinfo(res);
	if (f->lev == NULL) {
		if (err == EADDRINUSE)
			cause_set(cause, "local port %d (%s, forward %s) is already in use: "
			    "stop what listens there, or change the port: %s", spec->local_port,
			    spec->bind_addr, spec->name, spec->origin);
		else
			cause_set(cause, "cannot listen on %s port %d (forward %s): %s (%s)",
			    spec->bind_addr, spec->local_port, spec->name, strerror(err),
			    spec->origin);
		return -1;
	}
	evconnlistener_set_error_cb(f->lev, forward_error_cb);
	if (!loopback)
		log_warn("forward %s listens on %s port %d: reachable from other machines",
		    spec->name, spec->bind_addr, spec->local_port);
	return 0;
}

void
forward_disable(struct forward *f)
{
	f->disabled = 1;
	if (f->ev_resume != NULL)
		event_del(f->ev_resume);
	if (f->lev != NULL)
		evconnlistener_disable(f->lev);
}

void
forward_close(struct forward *f)
{
	if (f->ev_resume != NULL) {
		event_free(f->ev_resume);
		f->ev_resume = NULL;
	}
	if (f->lev != NULL) {
		evconnlistener_free(f->lev);
		f->lev = NULL;
	}
}
