/* listener.c: an evconnlistener that pauses when accept() fails instead of spinning. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "listener.h"
#include "log.h"
#include "paths.h"

static void
listener_accept_cb(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct listener	*l = arg;

	(void)lev;
	(void)sa;
	(void)salen;
	if (l->failing) {
		l->failing = 0;
		log_info("%s: accepting connections again", l->what);
	}
	l->accept_fn(l, fd, l->arg);
}

static void
listener_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener	*l = arg;

	(void)fd;
	(void)what;
	if (l->lev != NULL && !l->disabled)
		evconnlistener_enable(l->lev);
}

/*
 * libevent calls this and returns; the failed connection is still queued,
 * so without the pause the socket is readable at once and this runs again.
 */
static void
listener_error_cb(struct evconnlistener *lev, void *arg)
{
	struct listener	*l = arg;
	int		 err = EVUTIL_SOCKET_ERROR();
	struct timeval	 tv = { 0, LISTENER_PAUSE_MS * 1000 };

	if (!l->failing)
		log_warn("%s failed: %s%s; trying again every %d ms", l->what,
		    evutil_socket_error_to_string(err), paths_fd_hint(err), LISTENER_PAUSE_MS);
	l->failing = 1;
	if (l->ev_resume == NULL)
		l->ev_resume = evtimer_new(evconnlistener_get_base(lev), listener_resume_cb, l);
	if (l->ev_resume == NULL)
		return;		/* out of memory: keep trying at libevent's pace */
	evconnlistener_disable(lev);
	evtimer_add(l->ev_resume, &tv);
}

int
listener_open(struct listener *l, struct event_base *base, const struct sockaddr *sa,
    socklen_t salen, int backlog, int reuse, const char *what, listener_accept_fn fn, void *arg)
{
	unsigned	flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC;

	memset(l, 0, sizeof *l);
	snprintf(l->what, sizeof l->what, "%s", what);
	l->accept_fn = fn;
	l->arg = arg;
	if (reuse)
		flags |= LEV_OPT_REUSEABLE;
	if ((l->lev = evconnlistener_new_bind(base, listener_accept_cb, l, flags, backlog,
	    sa, (int)salen)) == NULL)
		return -1;	/* errno from bind() or listen() */
	evconnlistener_set_error_cb(l->lev, listener_error_cb);
	return 0;
}

void
listener_disable(struct listener *l)
{
	l->disabled = 1;
	if (l->ev_resume != NULL)
		event_del(l->ev_resume);
	if (l->lev != NULL)
		evconnlistener_disable(l->lev);
}

void
listener_close(struct listener *l)
{
	if (l->ev_resume != NULL) {
		event_free(l->ev_resume);
		l->ev_resume = NULL;
	}
	if (l->lev != NULL) {
		evconnlistener_free(l->lev);
		l->lev = NULL;
	}
}
