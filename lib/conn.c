/*
 * conn.c: one local client <-> one direct-tcpip channel.
 *
 * Up (client -> server): we recv() straight from the client socket, at most
 * the channel's remote window (and CONN_IO_MAX), and only while libssh's
 * output buffer is empty, then hand it to ssh_channel_write(): nothing is
 * queued in connect itself and libssh never holds more than one round of
 * writes. (A bufferevent would read 4 KiB per callback in libevent 2.1, and
 * libssh would then send 4 KiB packets: a quarter of the throughput.) Down (server -> client): the channel data callback takes
 * what fits under CONN_DOWN_HIGH and leaves the rest in libssh, whose window
 * then stops growing; when the client drains we pull the rest with
 * ssh_channel_read_timeout(), which also re-opens the window.
 * EOF is passed on per direction; the conn ends when both are done.
 * Before the channel is open the client is watched (conn_read_waiting): a
 * client that leaves is never served later and holds no fd.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include "chan.h"
#include "clock.h"
#include "compat.h"
#include "conn.h"
#include "forward.h"
#include "log.h"
#include "policy.h"
#include "session.h"
#include "vis.h"

struct conn {
	TAILQ_ENTRY(conn) entry;	/* in the owner's conn_list */
	unsigned	 id;
	enum conn_state	 state;
	struct event_base *base;
	struct forward	*fwd;
	struct session	*sess;
	struct chan	 chan;		/* its remote_eof, remote_closed and cb_seen are ours to read */
	struct bufferevent *bev;	/* the client socket, for writing (down) */
	struct event	*ev_read;	/* the client socket, for reading (up) */
	int		 reading;	/* ev_read is armed */
	struct event	*ev_gone;	/* EV_CLOSED while waiting with CONN_WAIT_BUF full */
	struct event	*ev_hold;
	conn_reap_fn	 reap_fn;
	void		*reap_arg;

	int		 local_eof;	/* client shut its write side */
	int		 eof_sent;	/* ... and we passed that on as channel EOF */
	int		 local_shut;	/* we shut the client's read side down (shutdown SHUT_WR) */
	int		 down_blocked;	/* libssh holds channel data we had no room for */
	size_t		 in_libssh;	/* ... this much, at the last data callback */
	int		 open_failed;	/* the server refused the channel */
	struct evbuffer	*pending;	/* client bytes not in the channel yet (waiting, rekey) */
	uint64_t	 up, down;
	uint64_t	 down_at_grow;	/* c->down when the window was last grown */
	int		 window_grown;	/* grown at least once */
	int		 window_capped;	/* libssh cannot grow it (session_libssh_window_capped) */
	struct timespec	 accepted;	/* CLOCK_MONOTONIC: the hold time counts from here */
	struct timespec	 open_sent;	/* when the channel open was requested */
	long		 path_ms;	/* how long the open took to be answered: the path's length */
};

static unsigned	conn_next_id = 1;

static void	conn_finish(struct conn *, const char *);
static void	conn_check_done(struct conn *);
static void	conn_read_waiting(struct conn *, evutil_socket_t);

void
conn_list_add(struct conn_list *l, struct conn *c)
{
	TAILQ_INSERT_TAIL(l, c, entry);
}

void
conn_list_remove(struct conn_list *l, struct conn *c)
{
	TAILQ_REMOVE(l, c, entry);
}

struct conn *
conn_next(const struct conn *c)
{
	return TAILQ_NEXT(c, entry);
}

enum conn_state
conn_state(const struct conn *c)
{
	return c->state;
}

struct session *
conn_session(const struct conn *c)
{
	return c->sess;
}

const char *
conn_forward_name(const struct conn *c)
{
	return c->fwd->spec->name;
}

const char *
conn_state_name(enum conn_state st)
{
	static const char *const names[] = { "held", "opening", "orphan", "open", "dead" };

	return (unsigned)st < sizeof names / sizeof names[0] ? names[st] : "?";
}

/* The window grows (CONN_WINDOW) once this much has come down the channel. */
#define CONN_WINDOW_AFTER	(256 * 1024)

/* Bytes moved: the conn's own counts and its forward's (status shows both). */
static void
conn_count(struct conn *c, uint64_t up, uint64_t down)
{
	c->up += up;
	c->down += down;
	forward_count(c->fwd, up, down);
}

/* The one place a conn's state changes. */
static void
conn_set_state(struct conn *c, enum conn_state st)
{
	if (c->state == st)
		return;
	log_debug("conn #%u (%s): %s -> %s", c->id, c->fwd->spec->name,
	    conn_state_name(c->state), conn_state_name(st));
	if (c->state == CONN_ORPHAN || st == CONN_ORPHAN)
		forward_orphan(c->fwd, st == CONN_ORPHAN ? 1 : -1);
	c->state = st;
	if ((st == CONN_DEAD || st == CONN_ORPHAN) && c->reap_fn != NULL)
		c->reap_fn(c, c->reap_arg);
}

/* Channel data: take what fits; what we leave stays in libssh and is offered again. */
static int
conn_channel_data(void *arg, void *data, uint32_t len)
{
	struct conn	*c = arg;
	struct evbuffer	*out;
	size_t		 have, n, sent;
	/*
	 * The open confirmation and the first data can be handled in one libssh
	 * pass, before conn_try_open() sees the channel open: keep that data.
	 */
	if ((c->state != CONN_OPEN && c->state != CONN_OPENING) || c->bev == NULL || c->local_shut)
		return (int)len;	/* local side gone: discard until the channel closes */
	out = bufferevent_get_output(c->bev);
	have = evbuffer_get_length(out);
	if (have >= CONN_DOWN_HIGH) {
		c->down_blocked = 1;
		c->in_libssh = len;
		return 0;
	}
	/*
	 * Nothing queued for the client: hand the data to its socket now.
	 * Queueing it instead costs a copy into the bufferevent, and an
	 * EV_WRITE add, a writev and a delete one loop later: per small HTTP
	 * answer three syscalls and a loop pass more (strace under wrk), and
	 * for bulk data the copy and two epoll_ctl calls per pass cost more
	 * than one send() per 32 KiB packet (iperf3 -R on loopback, three A/B
	 * rounds: connect's CPU per GB 5-7 % lower; epoll_ctl calls per GB
	 * 15,000-29,000 -> none). What the socket does not take is queued as
	 * before, and everything after it while anything is queued; errors
	 * surface there too.
	 */
	sent = 0;
	if (have == 0) {
		ssize_t	r = send(bufferevent_getfd(c->bev), data, len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (r > 0)
			sent = (size_t)r;
	}
	n = len - sent < CONN_DOWN_HIGH - have ? len - sent : CONN_DOWN_HIGH - have;
	if (n > 0 && evbuffer_add(out, (const char *)data + sent, n) != 0)
		n = 0;
	n += sent;
	conn_count(c, 0, (uint64_t)n);
	c->down_blocked = n < len;
	c->in_libssh = len - n;	/* len is all libssh holds: what we leave stays there */
	return (int)n;
}

static void
conn_channel_eof(void *arg)
{
	struct conn	*c = arg;

	log_debug("conn #%u: channel EOF from server", c->id);
}

static void
conn_channel_close(void *arg)
{
	struct conn	*c = arg;

	log_debug("conn #%u: channel closed by server", c->id);
}

static const struct chan_ops conn_channel_ops = {
	conn_channel_data, conn_channel_eof, conn_channel_close
};

/* Read client bytes only while the channel can take them right away. */
static void
conn_want_read(struct conn *c, int on)
{
	if (on == c->reading || c->ev_read == NULL)
		return;
	if (on)
		event_add(c->ev_read, NULL);
	else
		event_del(c->ev_read);
	c->reading = on;
}

/*
 * The channel failed a write: the normal end if the server closed first, else
 * an error. libssh calls a channel closed also when its session died, which
 * is no normal end: taking it for one would pass a FIN to a cut stream.
 */
static void
conn_write_failed(struct conn *c)
{
	conn_want_read(c, 0);
	if (c->chan.remote_closed ||
	    (ssh_channel_is_closed(c->chan.ch) && ssh_is_connected(session_ssh(c->sess))))
		c->chan.remote_closed = c->chan.remote_eof = 1;	/* "Remote channel is closed" */
	else
		conn_finish(c, ssh_get_error(session_ssh(c->sess)));
}

/* Pass the client's EOF on once every byte before it has gone into the channel. */
static void
conn_send_eof(struct conn *c)
{
	if (!c->local_eof || c->eof_sent || c->chan.remote_closed ||
	    (c->pending != NULL && evbuffer_get_length(c->pending) > 0))
		return;
	ssh_channel_send_eof(c->chan.ch);
	c->eof_sent = 1;
	log_debug("conn #%u: client EOF passed to server", c->id);
	session_kick(c->sess);
}

/*
 * Write what the channel did not take last time: ssh_channel_write() takes
 * less than offered (even 0) while a key re-exchange runs. Returns 1 when
 * nothing is left pending.
 */
static int
conn_flush_pending(struct conn *c)
{
	size_t		 n;
	uint32_t	 win;
	unsigned char	*p;
	int		 rc;

	if (c->pending == NULL || (n = evbuffer_get_length(c->pending)) == 0)
		return 1;
	if (session_output_pending(c->sess) || (win = ssh_channel_window_size(c->chan.ch)) == 0)
		return 0;
	if (n > win)
		n = win;
	if ((p = evbuffer_pullup(c->pending, (ssize_t)n)) == NULL)
		return 0;
	if ((rc = ssh_channel_write(c->chan.ch, p, (uint32_t)n)) < 0) {
		conn_write_failed(c);
		return 0;
	}
	evbuffer_drain(c->pending, (size_t)rc);
	conn_count(c, (uint64_t)rc, 0);
	if (rc > 0)
		session_kick(c->sess);
	return evbuffer_get_length(c->pending) == 0;
}

/* After each pump: finish pending writes and EOF, then read the client if the channel can take it. */
static void
conn_push_up(struct conn *c)
{
	if (c->state != CONN_OPEN || c->chan.remote_closed) {
		conn_want_read(c, 0);
		return;
	}
	if (!conn_flush_pending(c) || c->state != CONN_OPEN)
		return;
	conn_send_eof(c);
	/*
	 * Only arm here; the read callback disarms when it finds the channel
	 * blocked. Toggling on every pump would cost two epoll_ctl calls each.
	 */
	if (!c->reading && !c->local_eof && !session_output_pending(c->sess) &&
	    ssh_channel_window_size(c->chan.ch) > 0)
		conn_want_read(c, 1);
}

/*
 * EV_CLOSED with CONN_WAIT_BUF full: a FIN or a reset came behind what the
 * client sent. While HELD either means gone; while OPENING only a reset does
 * (a half-close after a request is kept: the rest and the FIN wait in the
 * kernel, read once the channel is open).
 */
static void
conn_gone_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;
	socklen_t	 len = sizeof(int);
	int		 err = 0;

	(void)what;
	if (c->state == CONN_OPENING &&
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) {
		event_del(c->ev_gone);
		return;
	}
	log_debug("conn #%u (%s): the client left before its channel opened", c->id,
	    c->fwd->spec->name);
	conn_finish(c, "the client left");
}

/*
 * Waiting for its channel (HELD, OPENING) the client is read: what it sends
 * waits in c->pending, unsent, and a client that leaves is seen at once, as
 * HAProxy's abortonclose does. A close or reset while HELD drops the conn:
 * nothing of it is sent, its hold slot is free (a ClearML client that timed
 * out and retried would otherwise have its request run twice). While
 * OPENING, a close after bytes is kept as a half-close, passed on once the
 * channel is open (the open takes one round trip, and `printf req | nc -N`
 * waits for the answer); a close with nothing sent, or a reset, is a client
 * gone: the conn becomes an ORPHAN and its socket is closed at once.
 */
static void
conn_read_waiting(struct conn *c, evutil_socket_t fd)
{
	size_t	have = c->pending != NULL ? evbuffer_get_length(c->pending) : 0;
	int	n, err;

	if (have >= CONN_WAIT_BUF) {
		conn_want_read(c, 0);	/* TCP holds the rest; resumed once the channel is open */
		if (c->ev_gone == NULL &&
		    (event_base_get_features(c->base) & EV_FEATURE_EARLY_CLOSE) != 0 &&
		    (c->ev_gone = event_new(c->base, fd, EV_CLOSED | EV_PERSIST, conn_gone_cb,
		    c)) != NULL)
			event_add(c->ev_gone, NULL);
		return;
	}
	if (c->pending == NULL && (c->pending = evbuffer_new()) == NULL) {
		conn_finish(c, "out of memory");
		return;
	}
	n = evbuffer_read(c->pending, fd, (int)(CONN_WAIT_BUF - have));
	err = errno;
	if (n > 0 || (n < 0 && (err == EAGAIN || err == EWOULDBLOCK || err == EINTR)))
		return;
	if (n == 0 && c->state == CONN_OPENING && have > 0) {
		c->local_eof = 1;
		conn_want_read(c, 0);
		log_debug("conn #%u: EOF from client while its channel opens: passed on once open",
		    c->id);
		return;
	}
	log_debug("conn #%u (%s): the client left (%s) while %s: nothing of it was sent", c->id,
	    c->fwd->spec->name, n == 0 ? "closed" : strerror(err),
	    c->state == CONN_HELD ? "held" : "its channel opened");
	conn_finish(c, NULL);
}

/* The client sent something: move at most one window's worth into the channel. */
static void
conn_local_read_cb(evutil_socket_t fd, short what, void *arg)
{
	static unsigned char	 buf[CONN_IO_MAX];
	struct conn		*c = arg;
	uint32_t		 win;
	ssize_t			 n;
	int			 rc;

	(void)what;
	if (c->state == CONN_HELD || c->state == CONN_OPENING) {
		conn_read_waiting(c, fd);
		return;
	}
	if (c->state != CONN_OPEN || !conn_flush_pending(c) || c->state != CONN_OPEN ||
	    session_output_pending(c->sess) || (win = ssh_channel_window_size(c->chan.ch)) == 0) {
		conn_want_read(c, 0);	/* conn_push_up re-arms after a pump */
		return;
	}
	n = recv(fd, buf, win < sizeof buf ? win : sizeof buf, 0);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		conn_finish(c, strerror(errno));
		return;
	}
	if (n == 0) {
		c->local_eof = 1;
		conn_want_read(c, 0);
		log_debug("conn #%u: EOF from client", c->id);
		conn_send_eof(c);
		conn_check_done(c);
		return;
	}
	if ((rc = ssh_channel_write(c->chan.ch, buf, (uint32_t)n)) < 0) {
		conn_write_failed(c);
		return;
	}
	conn_count(c, (uint64_t)rc, 0);
	if (rc < n) {	/* key re-exchange: keep the rest, stop reading until it is written */
		if (c->pending == NULL)
			c->pending = evbuffer_new();
		if (c->pending == NULL || evbuffer_add(c->pending, buf + rc, (size_t)(n - rc)) != 0) {
			conn_finish(c, "out of memory");
			return;
		}
		conn_want_read(c, 0);
		session_kick(c->sess);
	} else if (session_output_pending(c->sess))
		session_kick(c->sess);	/* libssh kept output back: EV_WRITE is armed by a pump */
	/* else the packet went straight out: a pump now would only poll an empty socket. */
	if (rc == n)
		conn_push_up(c);
}

/*
 * The client drained: pull everything libssh kept for us. Reading re-opens
 * the window to a full 1,280,000 bytes whatever is still buffered, so a
 * partial pull would let libssh's buffer grow by the difference each time;
 * a complete one bounds it to one window.
 */
static void
conn_pull_down(struct conn *c)
{
	static char	 scratch[64 * 1024];
	struct evbuffer	*out;
	int		 n, pulled = 0;

	if (c->state != CONN_OPEN || c->bev == NULL)
		return;
	out = bufferevent_get_output(c->bev);
	while (c->down_blocked) {
		/* Timeout 0: never waits; may run libssh callbacks (ours included) first. */
		n = ssh_channel_read_timeout(c->chan.ch, scratch, sizeof scratch, 0, 0);
		if (n <= 0) {
			c->down_blocked = 0;	/* nothing buffered (or EOF/closed) */
			break;
		}
		pulled = 1;
		if (evbuffer_add(out, scratch, (size_t)n) != 0)
			break;
		conn_count(c, 0, (uint64_t)n);
	}
	if (pulled)
		session_kick(c->sess);	/* a window adjust is queued */
}

/* Pass the server's EOF on once everything before it has reached the client; end when both sides are done. */
static void
conn_check_done(struct conn *c)
{
	struct evbuffer	*out;

	if (c->state != CONN_OPEN || c->bev == NULL)
		return;
	out = bufferevent_get_output(c->bev);
	if (c->chan.remote_eof && !c->local_shut && !c->down_blocked) {
		if (evbuffer_get_length(out) == 0) {
			shutdown(bufferevent_getfd(c->bev), SHUT_WR);
			c->local_shut = 1;
			log_debug("conn #%u: server EOF passed to client", c->id);
		} else	/* be told when it is empty, not just low */
			bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	}
	if (c->local_shut && (c->eof_sent || c->chan.remote_closed))
		conn_finish(c, NULL);
}

static void
conn_write_cb(struct bufferevent *bev, void *arg)
{
	struct conn	*c = arg;

	(void)bev;
	if (c->down_blocked)
		conn_pull_down(c);
	conn_check_done(c);
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct conn	*c = arg;
	char		 why[128];

	(void)bev;
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF)) {
		snprintf(why, sizeof why, "local client: %s",
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		conn_finish(c, why);
	}
}

struct conn *
conn_new(struct event_base *base, struct forward *fwd, evutil_socket_t fd, conn_reap_fn fn,
    void *arg)
{
	struct conn	*c;
	int		 one = 1;

	if ((c = calloc(1, sizeof *c)) == NULL) {
		evutil_closesocket(fd);
		return NULL;
	}
	c->id = conn_next_id++;
	c->base = base;
	c->fwd = fwd;
	c->reap_fn = fn;
	c->reap_arg = arg;
	c->state = CONN_HELD;
	clock_mark(&c->accepted);
	c->path_ms = -1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		evutil_closesocket(fd);
		free(c);
		return NULL;
	}
	/* The bufferevent only writes (down); reading is ours (see conn_local_read_cb). */
	bufferevent_setcb(c->bev, NULL, conn_write_cb, conn_event_cb, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, CONN_DOWN_LOW, 0);
	bufferevent_set_max_single_write(c->bev, CONN_IO_MAX);
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_enable(c->bev, EV_WRITE);
	c->ev_read = event_new(base, fd, EV_READ | EV_PERSIST, conn_local_read_cb, c);
	if (c->ev_read == NULL) {
		bufferevent_free(c->bev);
		free(c);
		return NULL;
	}
	forward_conn_opened(fwd);
	log_debug("conn #%u: accepted on forward %s", c->id, fwd->spec->name);
	return c;
}

static void
conn_hold_expired(evutil_socket_t fd, short what, void *arg)
{
	struct conn	*c = arg;
	char		 why[96];

	(void)fd;
	(void)what;
	if (c->state == CONN_OPENING) {
		snprintf(why, sizeof why, "open-timeout %s", c->fwd->spec->name);
		log_warn_key(why, "forward %s: the server did not answer a channel open in %d s",
		    c->fwd->spec->name, CONN_OPEN_TIMEOUT_MS / 1000);
		conn_finish(c, "channel open timed out");
		return;
	}
	if (c->state != CONN_HELD)
		return;
	snprintf(why, sizeof why, "hold-expired %s", c->fwd->spec->name);
	log_warn_key(why, "forward %s: closing a held connection: no session came up within the "
	    "hold time", c->fwd->spec->name);
	conn_finish(c, "hold time over");
}

/* One timer per conn: the hold limit while HELD, the open deadline while OPENING. */
static void
conn_arm_timer(struct conn *c, int timeout_ms)
{
	struct timeval	tv;

	if (c->ev_hold == NULL)
		c->ev_hold = evtimer_new(c->base, conn_hold_expired, c);
	if (c->ev_hold == NULL)
		return;
	evtimer_add(c->ev_hold, clock_tv(&tv, timeout_ms));
}

void
conn_hold(struct conn *c, int timeout_ms)
{
	conn_arm_timer(c, timeout_ms);
	conn_want_read(c, 1);	/* watched: conn_read_waiting */
}

/* Request the channel; libssh answers SSH_AGAIN until the server replies. */
static void
conn_try_open(struct conn *c)
{
	const struct forward_spec	*fs = c->fwd->spec;
	int				 rc;

	rc = chan_open(&c->chan, fs->remote_host, fs->remote_port, "127.0.0.1",
	    fs->local_port);
	if (rc == SSH_AGAIN)
		return;		/* the request is queued; the pump sends it and brings the answer */
	if (rc != SSH_OK) {
		const char	*err = ssh_get_error(session_ssh(c->sess)), *reason;
		char		 raw[1024], why[1024], key[160];

		/* The server's reason is its text: printable only (status shows it). */
		snprintf(raw, sizeof raw, "channel to %s:%d refused: %s", fs->remote_host,
		    fs->remote_port, err);
		vis_str(why, sizeof why, raw);
		forward_refused(c->fwd, why);
		/*
		 * libssh's text names its channel number, new each time: the line's
		 * meaning is the forward and the server's reason ("error (2) Connect
		 * failed"), so a client retrying against a stopped service is said
		 * once a minute, not once a connection.
		 */
		reason = strstr(err, "error (");
		snprintf(key, sizeof key, "refused %s %s", fs->name, reason != NULL ? reason : err);
		log_warn_key(key, "forward %s: %s", fs->name, why);
		c->open_failed = 1;
		conn_finish(c, "channel open refused");
		return;
	}
	if (c->state == CONN_ORPHAN) {	/* the client left while we waited: close the channel */
		conn_set_state(c, CONN_OPEN);
		conn_finish(c, "client left before the channel opened");
		return;
	}
	if (c->ev_hold != NULL)
		evtimer_del(c->ev_hold);
	if (c->ev_gone != NULL)
		event_del(c->ev_gone);
	c->path_ms = clock_since_ms(&c->open_sent);
	log_debug("conn #%u: channel open answered in %ld ms", c->id, c->path_ms);
	conn_set_state(c, CONN_OPEN);
	conn_push_up(c);
	conn_check_done(c);	/* an EOF may have come with the confirmation */
}

void
conn_attach(struct conn *c, struct session *s)
{
	if (c->state != CONN_HELD)
		return;
	if (c->ev_hold != NULL)
		evtimer_del(c->ev_hold);
	c->sess = s;
	if (chan_new(&c->chan, s, &conn_channel_ops, c) != 0) {
		conn_finish(c, "cannot create a channel");
		return;
	}
	conn_set_state(c, CONN_OPENING);
	conn_arm_timer(c, CONN_OPEN_TIMEOUT_MS);
	conn_want_read(c, !c->local_eof);	/* still watched while the open waits */
	clock_mark(&c->open_sent);
	conn_try_open(c);
	if (c->sess != NULL)
		session_kick(c->sess);	/* we run outside the pump: get the request sent */
}

int
conn_rehold(struct conn *c)
{
	/*
	 * cb_seen: the server did answer (and may have sent data). A client that
	 * half-closed while opening is gone by the rule of HELD (conn_read_waiting).
	 */
	if (c->state != CONN_OPENING || c->chan.cb_seen || c->open_failed || c->local_eof)
		return 0;
	if (c->ev_hold != NULL)
		evtimer_del(c->ev_hold);
	chan_forget(&c->chan);	/* ssh_free() frees it with the session, as conn_detach */
	c->sess = NULL;
	conn_set_state(c, CONN_HELD);
	return 1;
}

long
conn_age_ms(const struct conn *c)
{
	return clock_since_ms(&c->accepted);
}

/*
 * Keep the receive window near CONN_WINDOW while the client keeps up: grow
 * it once a download is under way and again each time half of it has been
 * used (one WINDOW_ADJUST per CONN_WINDOW / 2 bytes). Asking
 * ssh_channel_read() for more than the window is how: libssh up to 0.10
 * grows it to the count asked for. 0.11 and 0.12 ignore the count (2 MiB
 * at most, whatever we do) unless patched (libssh/patches/01-*, the static
 * build), and then keep the window at CONN_WINDOW by themselves.
 * On a short path (policy_window_grow) the window stays libssh's 2 MiB, which
 * is more than such a path holds.
 */
static void
conn_grow_window(struct conn *c)
{
	static char	 sink[CONN_WINDOW];
	struct evbuffer	*out;
	int		 n;

	if (c->state != CONN_OPEN || c->bev == NULL || c->down_blocked || c->chan.remote_eof ||
	    c->window_capped)
		return;
	/* An adjust per channel per request would be one more packet and send() each (wrk). */
	out = bufferevent_get_output(c->bev);
	if (!policy_window_grow(c->window_grown, c->down, c->down_at_grow, CONN_WINDOW,
	    CONN_WINDOW_AFTER, evbuffer_get_length(out), CONN_DOWN_LOW, c->path_ms))
		return;
	if (!c->window_grown) {
		if (session_libssh_window_capped()) {	/* asking would change nothing */
			c->window_capped = 1;
			return;
		}
		log_debug("conn #%u: window to %d MiB (the channel's open took %ld ms: a long path)",
		    c->id, CONN_WINDOW >> 20, c->path_ms);
	}
	c->window_grown = 1;
	c->down_at_grow = c->down;
	/*
	 * Asking for CONN_WINDOW bytes sends the adjust first; the read itself
	 * never waits (timeout 0) and usually finds nothing: our callback takes
	 * data as it comes. What it does find goes to the client like any data.
	 */
	n = ssh_channel_read_timeout(c->chan.ch, sink, sizeof sink, 0, 0);
	if (n > 0 && evbuffer_add(out, sink, (size_t)n) == 0) {
		conn_count(c, 0, (uint64_t)n);
	}
	session_kick(c->sess);	/* the adjust is queued: get it sent */
}

/*
 * A server that sends past the window makes libssh (up to 0.10) hold more
 * than any window we granted: end that conn (its client sees a reset) before
 * it costs more memory. Returns 1 if it did.
 */
static int
conn_check_overrun(struct conn *c)
{
	char	key[96];

	if (c->in_libssh <= CONN_LIBSSH_MAX)
		return 0;
	snprintf(key, sizeof key, "overrun %s", c->fwd->spec->name);
	log_warn_key(key, "forward %s: the server ignores the channel window (it sent more than %d "
	    "MiB to a client that is not reading): connection reset", c->fwd->spec->name,
	    CONN_LIBSSH_MAX >> 20);
	conn_finish(c, "the server sent past the channel window");
	return 1;
}

void
conn_step(struct conn *c, int *opens_left)
{
	switch (c->state) {
	case CONN_OPENING:
	case CONN_ORPHAN:
		if (c->chan.ch != NULL && (ssh_channel_is_open(c->chan.ch) || c->chan.cb_seen))
			conn_try_open(c);	/* answered: settles without a packet pass */
		else if (*opens_left > 0) {
			(*opens_left)--;
			conn_try_open(c);
		}
		break;
	case CONN_OPEN:
		if (conn_check_overrun(c))
			break;
		conn_push_up(c);
		if (c->down_blocked && c->bev != NULL &&
		    evbuffer_get_length(bufferevent_get_output(c->bev)) < CONN_DOWN_LOW)
			conn_pull_down(c);
		conn_grow_window(c);
		conn_check_done(c);
		break;
	default:
		break;
	}
}

/*
 * End the conn: the client sees a close. A channel still opening cannot be
 * closed yet (freeing it leaks it on the server), so such a conn waits as an
 * orphan for the open to resolve.
 *
 * An open stream cut short (why set: the session lost, a channel error,
 * stopping) ends with a reset, not a FIN: to a client reading until EOF a
 * FIN would say the server sent everything, and the bytes it misses would
 * go unnoticed. The close in conn_free sends the reset (SO_LINGER 0); a
 * shutdown first would send a FIN before it. Ends before the channel opened
 * (refused, hold limits) keep the plain close: no byte of the stream was
 * promised yet.
 */
static void
conn_finish(struct conn *c, const char *why)
{
	struct linger	abort_close = { 1, 0 };

	/* An orphan ends only when its open is answered (or its session goes). */
	if (c->state == CONN_DEAD ||
	    (c->state == CONN_ORPHAN && c->chan.ch != NULL && !c->open_failed))
		return;
	conn_want_read(c, 0);
	if (c->ev_gone != NULL)
		event_del(c->ev_gone);
	if (c->bev != NULL) {
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
		if (why == NULL || c->state != CONN_OPEN ||
		    setsockopt(bufferevent_getfd(c->bev), SOL_SOCKET, SO_LINGER, &abort_close,
		    sizeof abort_close) != 0)
			shutdown(bufferevent_getfd(c->bev), SHUT_RDWR);
	}
	if (c->state == CONN_OPENING && c->chan.ch != NULL && !c->open_failed) {
		log_debug("conn #%u: %s; waiting for the channel open to resolve", c->id,
		    why ? why : "closed");
		conn_set_state(c, CONN_ORPHAN);	/* the reaper closes its socket (conn_reap) */
		return;
	}
	log_debug("conn #%u (%s) closed%s%s: %llu bytes up, %llu down", c->id, c->fwd->spec->name,
	    why ? ": " : "", why ? why : "", (unsigned long long)c->up,
	    (unsigned long long)c->down);
	conn_set_state(c, CONN_DEAD);
}

void
conn_detach(struct conn *c, const char *why)
{
	chan_forget(&c->chan);	/* ssh_free() frees it without calling back */
	c->sess = NULL;
	conn_finish(c, why);
}

void
conn_forget(struct conn *c)
{
	chan_forget(&c->chan);
	c->sess = NULL;
}

void
conn_close(struct conn *c, const char *why)
{
	conn_finish(c, why);
}

/* The client side: its events, what it sent and its socket (closed with the bufferevent). */
static void
conn_free_local(struct conn *c)
{
	if (c->bev == NULL)
		return;
	forward_conn_closed(c->fwd);
	if (c->ev_gone != NULL)
		event_free(c->ev_gone);
	if (c->ev_read != NULL)
		event_free(c->ev_read);
	if (c->pending != NULL)
		evbuffer_free(c->pending);
	bufferevent_free(c->bev);
	c->ev_gone = c->ev_read = NULL;
	c->pending = NULL;
	c->bev = NULL;
	c->reading = 0;
}

int
conn_reap(struct conn *c)
{
	if (c->state == CONN_ORPHAN)
		conn_free_local(c);	/* only the channel waits for the server's answer */
	return c->state == CONN_DEAD;
}

void
conn_free(struct conn *c)
{
	if (c->state == CONN_ORPHAN)
		forward_orphan(c->fwd, -1);
	conn_free_local(c);
	chan_free(&c->chan);
	if (c->ev_hold != NULL)
		event_free(c->ev_hold);
	free(c);
}
