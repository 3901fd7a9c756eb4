/* dial.c: evdns lookup, then non-blocking connects with redials of an unanswered SYN. */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>

#include "clock.h"
#include "dial.h"
#include "log.h"

enum dial_state {
	DIAL_RESOLVING = 0,
	DIAL_CONNECTING,
	DIAL_DONE		/* connected, failed or stopped: nothing more runs */
};

struct dial {
	struct event_base	*base;
	struct evdns_base	*dns;
	char			 host[256];
	int			 port;
	dial_fn			 fn;
	void			*arg;

	enum dial_state		 state;
	enum dial_failure	 failure;
	struct evdns_getaddrinfo_request *req;
	struct evutil_addrinfo	*ai_list, *ai_next;
	const struct evutil_addrinfo *ai;	/* the address being dialled */
	int			 fd;			/* its first dial; -1 when none */
	struct event		*ev;
	int			 extra_fd[DIAL_MAX - 1];	/* more dials to it, -1 if unused */
	struct event		*extra_ev[DIAL_MAX - 1];
	struct event		*ev_redial;
	char			 peer[INET6_ADDRSTRLEN + 16];
	char			 addresses[256];
	char			 last[256];	/* the last address's error */
	char			 error[768];	/* the whole failure, for dial_error() */
};

static void	dial_next(struct dial *);

/* Close the extra dials (connected or not): one connection is enough. */
static void
dial_close_extras(struct dial *d)
{
	size_t	i;

	for (i = 0; i < DIAL_MAX - 1; i++) {
		if (d->extra_ev[i] != NULL) {
			event_free(d->extra_ev[i]);
			d->extra_ev[i] = NULL;
		}
		if (d->extra_fd[i] != -1) {
			evutil_closesocket(d->extra_fd[i]);
			d->extra_fd[i] = -1;
		}
	}
}

/* Close the first dial and its event. */
static void
dial_close_first(struct dial *d)
{
	if (d->ev != NULL) {
		event_free(d->ev);
		d->ev = NULL;
	}
	if (d->fd != -1) {
		evutil_closesocket(d->fd);
		d->fd = -1;
	}
}

void
dial_stop(struct dial *d)
{
	struct evdns_getaddrinfo_request *req;

	if (d == NULL)
		return;
	d->state = DIAL_DONE;
	if ((req = d->req) != NULL) {
		d->req = NULL;
		evdns_getaddrinfo_cancel(req);
	}
	if (d->ev_redial != NULL)
		event_del(d->ev_redial);
	dial_close_extras(d);
	dial_close_first(d);
}

/* The end: tell the owner once. */
static void
dial_report(struct dial *d, enum dial_event ev)
{
	if (ev != DIAL_RESOLVED)
		d->state = DIAL_DONE;
	d->fn(d, ev, d->arg);
}

static void
dial_fail(struct dial *d, enum dial_failure f, const char *why)
{
	if (d->state == DIAL_DONE)
		return;
	d->failure = f;
	snprintf(d->error, sizeof d->error, "%s", why);
	dial_stop(d);
	dial_report(d, DIAL_FAILED);
}

/* A non-blocking socket connecting to ai. Returns it, or -1 with d->last set. */
static int
dial_socket(struct dial *d, const struct evutil_addrinfo *ai)
{
	int	fd;

	if ((fd = socket(ai->ai_family, SOCK_STREAM, IPPROTO_TCP)) == -1) {
		snprintf(d->last, sizeof d->last, "socket: %s", strerror(errno));
		return -1;
	}
	evutil_make_socket_nonblocking(fd);
	evutil_make_socket_closeonexec(fd);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1 && errno != EINPROGRESS) {
		snprintf(d->last, sizeof d->last, "%s: %s", d->peer, strerror(errno));
		evutil_closesocket(fd);
		return -1;
	}
	return fd;
}

/* Did the connect on fd succeed? Returns 0, or the error (also put in d->last). */
static int
dial_result(struct dial *d, int fd)
{
	int		err = 0;
	socklen_t	len = sizeof err;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		snprintf(d->last, sizeof d->last, "%s: %s", d->peer, strerror(err));
		log_debug("connect to %s failed: %s", d->peer, strerror(err));
	}
	return err;
}

/* fd connected: it is the one; close the rest and tell the owner. */
static void
dial_won(struct dial *d, int fd)
{
	if (fd != d->fd)
		dial_close_first(d);
	else if (d->ev != NULL) {
		event_free(d->ev);
		d->ev = NULL;
	}
	d->fd = fd;
	event_del(d->ev_redial);
	dial_close_extras(d);
	dial_report(d, DIAL_CONNECTED);
}

static void
dial_first_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dial	*d = arg;

	(void)what;
	if (dial_result(d, fd) != 0) {
		/* A refusal or an unreachable address: the other dials to it would fare no better. */
		dial_close_extras(d);
		event_del(d->ev_redial);
		dial_close_first(d);
		dial_next(d);
		return;
	}
	/* Not "connected to": that line (supervisor.c) means the SSH session is up, and is waited for. */
	log_debug("TCP connection to %s is up", d->peer);
	dial_won(d, fd);
}

/* One of the extra dials answered: it becomes the connection. */
static void
dial_extra_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dial	*d = arg;
	size_t		 i;

	(void)what;
	for (i = 0; i < DIAL_MAX - 1 && d->extra_fd[i] != fd; i++)
		;
	if (i == DIAL_MAX - 1)
		return;
	if (dial_result(d, fd) != 0) {
		event_free(d->extra_ev[i]);
		d->extra_ev[i] = NULL;
		evutil_closesocket(fd);
		d->extra_fd[i] = -1;
		return;		/* the first dial still decides */
	}
	log_debug("TCP connection to %s is up (dial %zu of the same address)", d->peer, i + 2);
	d->extra_fd[i] = -1;	/* the connection now: not closed with the extras */
	dial_won(d, fd);
}

/* Unanswered for DIAL_REDIAL_MS: dial the same address once more (see dial.h). */
static void
dial_redial_cb(evutil_socket_t unused, short what, void *arg)
{
	struct dial	*d = arg;
	struct timeval	 tv;
	size_t		 i;
	int		 fd;

	(void)unused;
	(void)what;
	if (d->state != DIAL_CONNECTING || d->ai == NULL)
		return;
	for (i = 0; i < DIAL_MAX - 1 && d->extra_fd[i] != -1; i++)
		;
	if (i == DIAL_MAX - 1)
		return;		/* enough in flight: their retransmissions cover the rest */
	if ((fd = dial_socket(d, d->ai)) == -1)
		return;
	if ((d->extra_ev[i] = event_new(d->base, fd, EV_WRITE, dial_extra_cb, d)) == NULL) {
		evutil_closesocket(fd);
		return;
	}
	d->extra_fd[i] = fd;
	event_add(d->extra_ev[i], NULL);
	log_debug("connect to %s unanswered: dialling it again (%zu in flight)", d->peer, i + 2);
	event_add(d->ev_redial, clock_tv(&tv, DIAL_REDIAL_MS));
}

/* "1.2.3.4" or "::1" of ai into buf. */
static const char *
dial_ntop(const struct evutil_addrinfo *ai, char *buf, size_t len)
{
	const void	*in = ai->ai_family == AF_INET6 ?
			    (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr :
			    (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr;

	if (evutil_inet_ntop(ai->ai_family, in, buf, len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

/* Try the next resolved address; fail when none is left. */
static void
dial_next(struct dial *d)
{
	struct evutil_addrinfo	*ai;
	struct timeval		 tv;
	char			 addr[INET6_ADDRSTRLEN], why[sizeof d->error];

	while ((ai = d->ai_next) != NULL) {
		d->ai_next = ai->ai_next;
		snprintf(d->peer, sizeof d->peer, ai->ai_family == AF_INET6 ? "[%s]:%d" : "%s:%d",
		    dial_ntop(ai, addr, sizeof addr), d->port);
		if ((d->fd = dial_socket(d, ai)) == -1)
			continue;
		if ((d->ev = event_new(d->base, d->fd, EV_WRITE, dial_first_cb, d)) == NULL) {
			dial_fail(d, DIAL_NO_MEMORY, "out of memory");
			return;
		}
		event_add(d->ev, NULL);
		d->ai = ai;
		event_add(d->ev_redial, clock_tv(&tv, DIAL_REDIAL_MS));
		return;
	}
	snprintf(why, sizeof why, "cannot connect to %s port %d: %s", d->host, d->port,
	    d->last[0] ? d->last : "no address");
	dial_fail(d, DIAL_NO_ROUTE, why);
}

static void
dial_resolved_cb(int result, struct evutil_addrinfo *res, void *arg)
{
	struct dial	*d = arg;
	char		 addr[INET6_ADDRSTRLEN], why[sizeof d->error];
	size_t		 used = 0;
	struct evutil_addrinfo *ai;

	if (result == EVUTIL_EAI_CANCEL)
		return;		/* d may be gone */
	d->req = NULL;
	if (result != 0) {
		snprintf(why, sizeof why, "cannot resolve %s: %s", d->host,
		    evutil_gai_strerror(result));
		dial_fail(d, DIAL_NO_NAME, why);
		return;
	}
	d->ai_list = d->ai_next = res;
	for (ai = res; ai != NULL && used < sizeof d->addresses; ai = ai->ai_next)
		used += (size_t)snprintf(d->addresses + used, sizeof d->addresses - used, "%s%s",
		    used ? ", " : "", dial_ntop(ai, addr, sizeof addr));
	d->state = DIAL_CONNECTING;
	dial_report(d, DIAL_RESOLVED);
	if (d->state == DIAL_CONNECTING)	/* the owner may have stopped it */
		dial_next(d);
}

struct dial *
dial_start(struct event_base *base, struct evdns_base *dns, const char *host, int port,
    dial_fn fn, void *arg)
{
	struct evutil_addrinfo		 hints;
	struct evdns_getaddrinfo_request *req;
	struct dial			*d;
	char				 portstr[16];
	size_t				 i;

	if ((d = calloc(1, sizeof *d)) == NULL)
		return NULL;
	d->base = base;
	d->dns = dns;
	snprintf(d->host, sizeof d->host, "%s", host);
	d->port = port;
	d->fn = fn;
	d->arg = arg;
	d->fd = -1;
	for (i = 0; i < DIAL_MAX - 1; i++)
		d->extra_fd[i] = -1;
	if ((d->ev_redial = evtimer_new(base, dial_redial_cb, d)) == NULL) {
		free(d);
		return NULL;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = EVUTIL_AI_ADDRCONFIG;
	snprintf(portstr, sizeof portstr, "%d", port);
	/* The callback may run before this returns (numeric hosts, /etc/hosts). */
	req = evdns_getaddrinfo(dns, d->host, portstr, &hints, dial_resolved_cb, d);
	if (d->state == DIAL_RESOLVING)
		d->req = req;
	return d;
}

int
dial_take_fd(struct dial *d)
{
	int	fd = d->fd;

	d->fd = -1;
	return fd;
}

const char *
dial_peer(const struct dial *d)
{
	return d->peer;
}

const char *
dial_addresses(const struct dial *d)
{
	return d->addresses;
}

enum dial_failure
dial_failure(const struct dial *d)
{
	return d->failure;
}

const char *
dial_error(const struct dial *d)
{
	return d->error;
}

void
dial_free(struct dial *d)
{
	if (d == NULL)
		return;
	dial_stop(d);
	if (d->ev_redial != NULL)
		event_free(d->ev_redial);
	if (d->ai_list != NULL)
		evutil_freeaddrinfo(d->ai_list);
	free(d);
}
