/* control.c: the instance's unix control socket (server in the event loop, blocking client). */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "cause.h"
#include "clock.h"
#include "compat.h"
#include "control.h"
#include "listener.h"
#include "log.h"

enum ctl_conn_state {
	CTL_READING = 0,	/* waiting for the request line */
	CTL_WRITING,		/* reply queued; closed once it is out */
	CTL_DONE		/* waiting for the reaper */
};

struct ctl_conn {
	TAILQ_ENTRY(ctl_conn)	 entry;
	struct control		*ctl;
	struct bufferevent	*bev;
	enum ctl_conn_state	 state;
	int			 run_after;
};

struct control {
	struct event_base	*base;
	struct listener		 lst;	/* out of fds: pauses, not spins (any local user can connect) */
	struct event		*ev_reap;
	control_handler_fn	 handler;
	control_after_fn	 after;
	void			*arg;
	TAILQ_HEAD(, ctl_conn)	 conns;
};

static const struct {
	const char		*words;
	enum control_request	 req;
} control_requests[] = {
	{ "status", CTL_REQ_STATUS },
	{ "status --json", CTL_REQ_STATUS_JSON },
	{ "state", CTL_REQ_STATE },
	{ "stop", CTL_REQ_STOP },
};

enum control_request
control_parse(const char *line, size_t len)
{
	size_t	i;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	/* A NUL would end the comparison early: "stop\0junk" is not "stop". */
	if (len > CONTROL_REQUEST_MAX || memchr(line, '\0', len) != NULL)
		return CTL_REQ_INVALID;
	for (i = 0; i < sizeof control_requests / sizeof control_requests[0]; i++) {
		if (strlen(control_requests[i].words) == len &&
		    memcmp(control_requests[i].words, line, len) == 0)
			return control_requests[i].req;
	}
	return CTL_REQ_INVALID;
}

const char *
control_request_name(enum control_request req)
{
	size_t	i;

	for (i = 0; i < sizeof control_requests / sizeof control_requests[0]; i++) {
		if (control_requests[i].req == req)
			return control_requests[i].words;
	}
	return "(invalid)";
}

static int
control_sockaddr(const char *path, struct sockaddr_un *sun, char **cause)
{
	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun->sun_path) {
		cause_set(cause, "control socket path too long (%zu bytes, at most %zu): %s "
		    "(set XDG_RUNTIME_DIR to a shorter directory)", strlen(path),
		    sizeof sun->sun_path - 1, path);
		return -1;
	}
	memcpy(sun->sun_path, path, strlen(path) + 1);
	return 0;
}

/* Mark a connection finished; the reaper frees it outside any of its callbacks. */
static void
ctl_conn_done(struct ctl_conn *cc)
{
	if (cc->state == CTL_DONE)
		return;
	cc->state = CTL_DONE;
	bufferevent_disable(cc->bev, EV_READ | EV_WRITE);
	event_active(cc->ctl->ev_reap, EV_TIMEOUT, 0);
}

static void
ctl_reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct control	*c = arg;
	struct ctl_conn	*cc, *next;
	int		 after = 0;

	(void)fd;
	(void)what;
	for (cc = TAILQ_FIRST(&c->conns); cc != NULL; cc = next) {
		next = TAILQ_NEXT(cc, entry);
		if (cc->state != CTL_DONE)
			continue;
		after |= cc->run_after;
		TAILQ_REMOVE(&c->conns, cc, entry);
		bufferevent_free(cc->bev);
		free(cc);
	}
	if (after && c->after != NULL)
		c->after(c->arg);
}

static void
ctl_write_cb(struct bufferevent *bev, void *arg)
{
	struct ctl_conn	*cc = arg;

	if (cc->state == CTL_WRITING && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		ctl_conn_done(cc);
}

static void
ctl_read_cb(struct bufferevent *bev, void *arg)
{
	struct ctl_conn	*cc = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	enum control_request	 req;
	char			*line;
	size_t			 n;

	if (cc->state != CTL_READING)
		return;
	if ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF)) == NULL) {
		if (evbuffer_get_length(in) > CONTROL_REQUEST_MAX)
			ctl_conn_done(cc);	/* not a client of ours */
		return;
	}
	req = control_parse(line, n);
	free(line);
	log_debug("control: request %s", control_request_name(req));
	cc->state = CTL_WRITING;
	bufferevent_disable(bev, EV_READ);
	cc->run_after = cc->ctl->handler(req, bufferevent_get_output(bev), cc->ctl->arg) == 1;
	ctl_write_cb(bev, cc);	/* an empty reply: done now */
}

static void
ctl_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	ctl_conn_done(arg);	/* EOF, error or timeout: nothing more to do for this client */
}

static void
ctl_accept_cb(struct listener *l, evutil_socket_t fd, void *arg)
{
	struct control	*c = arg;
	struct ctl_conn	*cc;
	struct timeval	 tv = { 5, 0 };
	uid_t		 uid;

	(void)l;
	if (compat_peer_uid(fd, &uid) != 0 || uid != getuid()) {
		log_warn_key("control-uid", "control: refused a connection from uid %ld (only uid %ld "
		    "may control this instance)", compat_peer_uid(fd, &uid) == 0 ? (long)uid : -1L,
		    (long)getuid());
		evutil_closesocket(fd);
		return;
	}
	if ((cc = calloc(1, sizeof *cc)) == NULL ||
	    (cc->bev = bufferevent_socket_new(c->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		free(cc);
		evutil_closesocket(fd);
		return;
	}
	cc->ctl = c;
	TAILQ_INSERT_TAIL(&c->conns, cc, entry);
	bufferevent_setcb(cc->bev, ctl_read_cb, ctl_write_cb, ctl_event_cb, cc);
	bufferevent_set_timeouts(cc->bev, &tv, &tv);
	bufferevent_enable(cc->bev, EV_READ | EV_WRITE);
}

struct control *
control_listen(struct event_base *base, const char *path, control_handler_fn handler,
    control_after_fn after, void *arg, char **cause)
{
	struct control		*c;
	struct sockaddr_un	 sun;
	char			 what[sizeof c->lst.what];
	mode_t			 old;
	int			 rc;

	if (control_sockaddr(path, &sun, cause) != 0)
		return NULL;
	if ((c = calloc(1, sizeof *c)) == NULL) {
		cause_set(cause, "out of memory");
		return NULL;
	}
	TAILQ_INIT(&c->conns);
	c->base = base;
	c->handler = handler;
	c->after = after;
	c->arg = arg;
	if ((c->ev_reap = event_new(base, -1, 0, ctl_reap_cb, c)) == NULL) {
		free(c);
		cause_set(cause, "out of memory");
		return NULL;
	}
	(void)unlink(path);
	snprintf(what, sizeof what, "control socket: accept on %s", path);
	old = umask(077);	/* born 0600: no window where others could connect */
	rc = listener_open(&c->lst, base, (struct sockaddr *)&sun, sizeof sun, 16, 0, what,
	    ctl_accept_cb, c);
	umask(old);
	if (rc != 0) {
		cause_set(cause, "cannot listen on %s: %s", path, strerror(errno));
		event_free(c->ev_reap);
		free(c);
		return NULL;
	}
	(void)chmod(path, 0600);
	return c;
}

void
control_free(struct control *c)
{
	struct ctl_conn	*cc;

	if (c == NULL)
		return;
	while ((cc = TAILQ_FIRST(&c->conns)) != NULL) {
		TAILQ_REMOVE(&c->conns, cc, entry);
		bufferevent_free(cc->bev);
		free(cc);
	}
	listener_close(&c->lst);
	event_free(c->ev_reap);
	free(c);
}


int
control_send_request(int fd, const char *request)
{
	char	line[CONTROL_REQUEST_MAX + 2];
	int	n;

	n = snprintf(line, sizeof line, "%s\n", request);
	if (n < 0 || (size_t)n >= sizeof line) {
		errno = EMSGSIZE;
		return -1;
	}
	/*
	 * An instance that stops as we connect closes before reading: the send
	 * then gets EPIPE, which must be an error return, not a SIGPIPE that
	 * kills status, stop or list. One short line: the buffer takes it whole.
	 */
	compat_nosigpipe(fd);
	if (send(fd, line, (size_t)n, MSG_NOSIGNAL) != n)
		return -1;
	return 0;
}

int
control_call(const char *path, const char *request, int timeout_ms, char **reply, char **cause)
{
	struct sockaddr_un	 sun;
	struct timespec		 start;
	struct pollfd		 pfd;
	char			*buf = NULL, *nb;
	size_t			 len = 0, cap = 0;
	ssize_t			 n;
	long			 left;
	int			 fd;

	*reply = NULL;
	if (control_sockaddr(path, &sun, cause) != 0)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1) {
		cause_set(cause, "socket: %s", strerror(errno));
		return -1;
	}
	clock_mark(&start);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		cause_set(cause, "cannot reach %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (control_send_request(fd, request) != 0) {
		cause_set(cause, "cannot send to %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	for (;;) {
		if ((left = timeout_ms - clock_since_ms(&start)) <= 0) {
			cause_set(cause, "%s did not answer within %d ms", path, timeout_ms);
			goto fail;
		}
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)left) == -1) {
			if (errno == EINTR)
				continue;
			cause_set(cause, "poll: %s", strerror(errno));
			goto fail;
		}
		if (pfd.revents == 0)
			continue;
		if (cap - len < 4096) {
			if (cap >= CONTROL_REPLY_MAX) {
				cause_set(cause, "%s: reply too long", path);
				goto fail;
			}
			cap = cap ? cap * 2 : 8192;
			if ((nb = realloc(buf, cap + 1)) == NULL) {
				cause_set(cause, "out of memory");
				goto fail;
			}
			buf = nb;
		}
		if ((n = read(fd, buf + len, cap - len)) == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			cause_set(cause, "reading from %s: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (buf == NULL && (buf = malloc(1)) == NULL) {
		cause_set(cause, "out of memory");
		return -1;
	}
	buf[len] = '\0';
	*reply = buf;
	return 0;

fail:
	free(buf);
	close(fd);
	return -1;
}
