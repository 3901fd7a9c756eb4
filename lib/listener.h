/*
 * listener.h: a listening socket in the event loop that survives accept()
 * failing.
 *
 * Out of fds (EMFILE, ENFILE) accept() fails and the connection stays
 * queued: the socket is readable again at once, and a plain evconnlistener
 * would call back in a loop, logging each time (632951 lines in 3 s, seen).
 * A listener says it once, pauses LISTENER_PAUSE_MS, tries again, and says
 * when accepting works again. Queued clients wait; none is refused. The
 * forwards and the control socket both use it.
 */
#ifndef CONNECT_LISTENER_H
#define CONNECT_LISTENER_H

#include <sys/types.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <event2/listener.h>

#define LISTENER_PAUSE_MS	200

struct listener;

/* One accepted connection; the callee owns fd. */
typedef void (*listener_accept_fn)(struct listener *, evutil_socket_t fd, void *arg);

struct listener {
	struct evconnlistener	*lev;
	struct event		*ev_resume;	/* accepting again after accept() failed */
	int			 failing;	/* accept() failed; said once until one works */
	int			 disabled;	/* listener_disable(): the resume timer stays off */
	char			 what[128];	/* "forward web: accept on port 8080", for the log */
	listener_accept_fn	 accept_fn;
	void			*arg;
};

/*
 * Bind sa (close-on-exec; reusable when reuse is set) with this backlog and
 * start accepting; `what` names it in the log. Returns 0, or -1 with errno
 * from the bind or listen (the caller words the message: it knows the key).
 */
int	listener_open(struct listener *l, struct event_base *base, const struct sockaddr *sa,
	    socklen_t salen, int backlog, int reuse, const char *what, listener_accept_fn fn,
	    void *arg);

/* Stop accepting for good (the socket stays bound until listener_close). */
void	listener_disable(struct listener *l);

/* Close the socket and free the timer; safe on a listener never opened. */
void	listener_close(struct listener *l);

#endif
