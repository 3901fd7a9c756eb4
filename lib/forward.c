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
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "cause.h"
#include "compat.h"
#include "forward.h"
#include "log.h"

static void
forward_accept_cb(struct listener *l, evutil_socket_t fd, void *arg)
{
	struct forward	*f = arg;

	(void)l;
	f->st.conns_total++;
	f->accept_fn(f, fd, f->arg);
}

/* The listening address of spec, for bind() and for a check. Returns getaddrinfo's code. */
static int
forward_resolve(const struct forward_spec *spec, struct addrinfo **res)
{
	struct addrinfo	hints;
	char		port[16];

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(port, sizeof port, "%d", spec->local_port);
	return getaddrinfo(spec->bind_addr, port, &hints, res);
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

/* Which of the n forwards holds a listener colliding with sa (skipping `self`)? Or NULL. */
static const struct forward *
forward_holder(const struct forward *fwd, size_t n, const struct forward *self,
    const struct sockaddr *sa)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (&fwd[i] == self || fwd[i].lst.lev == NULL)
			continue;
		if (compat_addr_conflict((const struct sockaddr *)&fwd[i].addr, sa))
			return &fwd[i];
	}
	return NULL;
}

/*
 * The loopback default (localhost, 127.0.0.1) also listens on [::1], as
 * `ssh -L` does for localhost: macOS and many resolvers try ::1 first for
 * "localhost", and http://[::1]:8080 was refused. Best effort: without IPv6
 * it is skipped; taken, said once with who has it (the IPv4 one works). The
 * n forwards' own listeners are all bound by now: one of them with
 * bind = ::1 on this port is named, as it is no other program.
 */
static void
forward_bind_v6(struct forward *f, struct event_base *base, const struct forward *fwd, size_t n)
{
	const struct forward	*h;
	struct sockaddr_in6	 sin6;
	char			 what[128], holder[128];

	memset(&sin6, 0, sizeof sin6);
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = in6addr_loopback;
	sin6.sin6_port = htons((uint16_t)f->spec->local_port);
	snprintf(what, sizeof what, "forward %s: accept on [::1] port %d", f->spec->name,
	    f->spec->local_port);
	if (listener_open(&f->lst6, base, (struct sockaddr *)&sin6, sizeof sin6, 1024, 1, what,
	    forward_accept_cb, f) == 0) {
		f->has6 = 1;
		return;
	}
	if (errno != EADDRINUSE)
		log_debug("forward %s: no IPv6 loopback here (%s): 127.0.0.1 only", f->spec->name,
		    strerror(errno));
	else if ((h = forward_holder(fwd, n, f, (struct sockaddr *)&sin6)) != NULL)
		log_warn("forward %s: [::1] port %d is forward %s's (bind %s, %s): IPv6 clients of "
		    "localhost:%d reach forward %s, not forward %s; give one of them another "
		    "local_port to keep them apart", f->spec->name, f->spec->local_port,
		    h->spec->name, h->spec->bind_addr, h->spec->origin, f->spec->local_port,
		    h->spec->name, f->spec->name);
	else
		log_warn("forward %s: [::1] port %d is taken by %s: IPv6 clients of localhost:%d "
		    "reach it, not the tunnel (127.0.0.1 is the tunnel's)", f->spec->name,
		    f->spec->local_port, compat_port_holder((struct sockaddr *)&sin6, holder,
		    sizeof holder) ? holder : "another program", f->spec->local_port);
}

/* Bind f's own listener (spec->bind_addr), naming the holder when it is taken. */
static int
forward_bind_one(struct forward *f, struct event_base *base, const struct forward *fwd,
    size_t n, char **cause)
{
	const struct forward_spec	*spec = f->spec;
	const struct forward		*h;
	struct addrinfo			*res = NULL;
	char				 what[128], holder[160];
	int				 rc, err, loopback;

	if ((rc = forward_resolve(spec, &res)) != 0) {
		cause_set(cause, "forward %s: bad bind address '%s': %s (from %s)", spec->name,
		    spec->bind_addr, gai_strerror(rc), spec->origin);
		return -1;
	}
	if (res->ai_addrlen <= sizeof f->addr)
		memcpy(&f->addr, res->ai_addr, res->ai_addrlen);
	snprintf(what, sizeof what, "forward %s: accept on port %d", spec->name, spec->local_port);
	/* A browser or a pool opens many at once: a 128 backlog made bursts wait for SYN retransmits. */
	rc = listener_open(&f->lst, base, res->ai_addr, res->ai_addrlen, 1024, 1, what,
	    forward_accept_cb, f);
	err = errno;
	loopback = sockaddr_is_loopback(res->ai_addr);
	if (rc != 0 && err == EADDRINUSE) {
		/* profile_validate refuses the same bind twice; another spelling of it lands here. */
		if ((h = forward_holder(fwd, n, f, res->ai_addr)) != NULL)
			cause_set(cause, "local port %d (%s, forward %s) is already in use by "
			    "forward %s of this tunnel (bind %s, %s): give one of them another "
			    "local_port: %s", spec->local_port, spec->bind_addr, spec->name,
			    h->spec->name, h->spec->bind_addr, h->spec->origin, spec->origin);
		else if (compat_port_holder(res->ai_addr, holder, sizeof holder))
			cause_set(cause, "local port %d (%s, forward %s) is already in use by %s: "
			    "stop it, or change the port: %s", spec->local_port, spec->bind_addr,
			    spec->name, holder, spec->origin);
		else
			cause_set(cause, "local port %d (%s, forward %s) is already in use: "
			    "stop what listens there, or change the port: %s", spec->local_port,
			    spec->bind_addr, spec->name, spec->origin);
	} else if (rc != 0)
		cause_set(cause, "cannot listen on %s port %d (forward %s): %s (%s)",
		    spec->bind_addr, spec->local_port, spec->name, strerror(err), spec->origin);
	freeaddrinfo(res);
	if (rc != 0)
		return -1;
	if (!loopback)
		log_warn("forward %s listens on %s port %d: reachable from other machines",
		    spec->name, spec->bind_addr, spec->local_port);
	return 0;
}

int
forward_bind_all(struct forward *fwd, size_t n, struct event_base *base,
    const struct forward_spec *specs, forward_accept_fn fn, void *arg, char **cause)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		memset(&fwd[i], 0, sizeof fwd[i]);
		fwd[i].spec = &specs[i];
		fwd[i].accept_fn = fn;
		fwd[i].arg = arg;
	}
	/*
	 * Every forward's own address first, the extra [::1] ones after: an
	 * explicit bind = ::1 wins over 127.0.0.1's implicit [::1] whichever
	 * section comes first (the other order said "already in use").
	 */
	for (i = 0; i < n; i++) {
		if (forward_bind_one(&fwd[i], base, fwd, n, cause) != 0) {
			while (i-- > 0)
				forward_close(&fwd[i]);
			return -1;
		}
	}
	for (i = 0; i < n; i++)
		if (strcmp(fwd[i].spec->bind_addr, "127.0.0.1") == 0)
			forward_bind_v6(&fwd[i], base, fwd, n);
	return 0;
}

int
forward_port_free(const struct forward_spec *spec)
{
	struct addrinfo	*res = NULL;
	int		 fd, one = 1, err = 0;

	if (forward_resolve(spec, &res) != 0)
		return EINVAL;
	/* As the tunnel binds (SO_REUSEADDR): TIME_WAIT leftovers are no obstacle. */
	if ((fd = socket(res->ai_family, SOCK_STREAM, 0)) == -1)
		err = errno;
	else {
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, res->ai_addr, res->ai_addrlen) == -1 || listen(fd, 1) == -1)
			err = errno;
		close(fd);
	}
	freeaddrinfo(res);
	return err;
}

int
forward_port_holder(const struct forward_spec *spec, char *buf, size_t len)
{
	struct addrinfo	*res = NULL;
	int		 found;

	if (forward_resolve(spec, &res) != 0)
		return 0;
	found = compat_port_holder(res->ai_addr, buf, len);
	freeaddrinfo(res);
	return found;
}

void
forward_conn_opened(struct forward *f)
{
	f->st.conns_open++;
}

void
forward_conn_closed(struct forward *f)
{
	if (f->st.conns_open > 0)
		f->st.conns_open--;
}

void
forward_orphan(struct forward *f, int delta)
{
	if (delta > 0)
		f->st.orphans++;
	else if (f->st.orphans > 0)
		f->st.orphans--;
}

void
forward_count(struct forward *f, uint64_t up, uint64_t down)
{
	f->st.bytes_up += up;
	f->st.bytes_down += down;
}

void
forward_refused(struct forward *f, const char *why)
{
	f->st.failures++;
	snprintf(f->st.last_error, sizeof f->st.last_error, "%s", why);
}

void
forward_disable(struct forward *f)
{
	listener_disable(&f->lst);
	if (f->has6)
		listener_disable(&f->lst6);
}

void
forward_close(struct forward *f)
{
	listener_close(&f->lst);
	if (f->has6)
		listener_close(&f->lst6);
	f->has6 = 0;
}
