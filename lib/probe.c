/*
 * probe.c: is a forward usable end to end? One direct-tcpip channel through
 * the READY session, an optional HTTP GET of the health path, then close.
 *
 * OPENING -> [SENDING -> READING ->] DONE. Driven like a conn: the owner
 * calls probe_step() after every pump of the session (libssh answers
 * SSH_AGAIN to the open until the server replies), channel callbacks only
 * record what arrived, and the owner frees the probe outside any callback.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <event2/event.h>
#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include "chan.h"
#include "clock.h"
#include "log.h"
#include "probe.h"
#include "session.h"
#include "vis.h"

/* A status line longer than this is not one ("HTTP/1.1 200 OK\r\n" is 17 bytes). */
#define PROBE_REPLY_MAX	256

struct probe {
	struct session			*sess;
	const struct forward_spec	*fs;
	enum probe_state		 state;
	enum probe_result		 result;
	int				 http_status;
	char				 msg[1024];
	int				 timeout_ms;
	probe_done_fn			 fn;
	void				*arg;
	struct event			*ev_timeout;

	struct chan			 chan;
	int				 open_answered;	/* accepted or refused by the server */
	int				 open_pending;	/* DONE while the open is unanswered */

	char				 req[2 * FWDSPEC_HOST_MAX + 64];
	size_t				 req_len, req_sent;
	char				 reply[PROBE_REPLY_MAX];
	size_t				 reply_len;
};

const char *
probe_state_name(enum probe_state st)
{
	static const char *const names[] = { "opening", "sending", "reading", "done" };

	return (unsigned)st < sizeof names / sizeof names[0] ? names[st] : "?";
}

const char *
probe_result_name(enum probe_result r)
{
	static const char *const names[] = {
		"pending", "ok", "refused", "http status", "bad reply", "timeout", "session lost"
	};

	return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "?";
}

/* The one place the state changes. DONE carries the result in the same line. */
static void
probe_set_state(struct probe *p, enum probe_state st)
{
	if (p->state == st)
		return;
	if (st == PROBE_DONE)
		log_debug("probe %s: %s -> done (%s: %s)", p->fs->name, probe_state_name(p->state),
		    probe_result_name(p->result), p->msg);
	else
		log_debug("probe %s: %s -> %s", p->fs->name, probe_state_name(p->state),
		    probe_state_name(st));
	p->state = st;
}

/* The result is known: close, report. First result wins. */
static void
probe_finish(struct probe *p, enum probe_result r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
probe_finish(struct probe *p, enum probe_result r, const char *fmt, ...)
{
	va_list	ap;
	char	raw[sizeof p->msg];

	if (p->result != PROBE_PENDING)
		return;
	p->result = r;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	/* The server's words (refusals) and the service's status line: printable only. */
	vis_str(p->msg, sizeof p->msg, raw);
	if (p->ev_timeout != NULL)
		evtimer_del(p->ev_timeout);
	if (!p->open_answered && p->chan.ch != NULL)
		p->open_pending = 1;	/* closed in probe_try_open() once the server answers */
	else
		chan_close(&p->chan);
	probe_set_state(p, PROBE_DONE);
	p->fn(p, p->arg);
}

/* Record, never act: this runs inside libssh's packet handling. */
static int
probe_channel_data(void *arg, void *data, uint32_t len)
{
	struct probe	*p = arg;
	size_t		 room = sizeof p->reply - 1 - p->reply_len;

	if (p->result != PROBE_PENDING)
		return (int)len;
	/* Only the status line matters: keep the start, drop the rest. */
	if (room > 0 && memchr(p->reply, '\n', p->reply_len) == NULL) {
		if (len < room)
			room = len;
		memcpy(p->reply + p->reply_len, data, room);
		p->reply_len += room;
		p->reply[p->reply_len] = '\0';
	}
	return (int)len;
}

/* EOF and CLOSE only set the channel's flags, which the steps read. */
static const struct chan_ops probe_channel_ops = { probe_channel_data, NULL, NULL };

/* Printable start of what came back, for a message. */
static const char *
probe_reply_excerpt(const struct probe *p, char *buf, size_t len)
{
	size_t	i, n = 0;

	for (i = 0; i < p->reply_len && n + 1 < len && n < 40; i++) {
		if (p->reply[i] == '\r' || p->reply[i] == '\n')
			break;
		buf[n++] = isprint((unsigned char)p->reply[i]) ? p->reply[i] : '?';
	}
	buf[n] = '\0';
	return buf;
}

/* READING: judge the status line once it is complete, or the reply once it ended. */
static void
probe_read(struct probe *p)
{
	const struct forward_spec	*fs = p->fs;
	char				 ex[64];
	int				 major, minor, status, n = 0;

	if (memchr(p->reply, '\n', p->reply_len) != NULL) {
		if (sscanf(p->reply, "HTTP/%d.%d %3d%n", &major, &minor, &status, &n) != 3 ||
		    n == 0 || status < 100 || status > 999) {
			probe_finish(p, PROBE_BAD_REPLY, "%s:%d: GET %s: the reply is not HTTP ('%s')",
			    fs->remote_host, fs->remote_port, fs->health_path,
			    probe_reply_excerpt(p, ex, sizeof ex));
			return;
		}
		p->http_status = status;
		if (status == 200)
			probe_finish(p, PROBE_OK, "%s:%d accepts a channel; GET %s answered 200",
			    fs->remote_host, fs->remote_port, fs->health_path);
		else
			probe_finish(p, PROBE_HTTP_STATUS, "%s:%d: GET %s answered %d",
			    fs->remote_host, fs->remote_port, fs->health_path, status);
		return;
	}
	if (p->reply_len >= sizeof p->reply - 1)
		probe_finish(p, PROBE_BAD_REPLY, "%s:%d: GET %s: the reply is not HTTP ('%s')",
		    fs->remote_host, fs->remote_port, fs->health_path,
		    probe_reply_excerpt(p, ex, sizeof ex));
	else if (p->chan.remote_eof && p->reply_len > 0)
		probe_finish(p, PROBE_BAD_REPLY, "%s:%d: GET %s: the reply ended before a status "
		    "line ('%s')", fs->remote_host, fs->remote_port, fs->health_path,
		    probe_reply_excerpt(p, ex, sizeof ex));
	else if (p->chan.remote_eof)
		probe_finish(p, PROBE_BAD_REPLY, "%s:%d: GET %s: closed without answering",
		    fs->remote_host, fs->remote_port, fs->health_path);
}

/* SENDING: write what the window takes; READING once all of the request is in. */
static void
probe_send(struct probe *p)
{
	uint32_t	win;
	size_t		n;
	int		rc;

	while (p->req_sent < p->req_len) {
		if (p->chan.remote_eof) {	/* the service hung up on us before we could ask */
			probe_read(p);
			if (p->result == PROBE_PENDING)
				probe_finish(p, PROBE_BAD_REPLY, "%s:%d: GET %s: closed without "
				    "answering", p->fs->remote_host, p->fs->remote_port,
				    p->fs->health_path);
			return;
		}
		if ((win = ssh_channel_window_size(p->chan.ch)) == 0)
			return;		/* the next pump may bring a window adjust */
		n = p->req_len - p->req_sent;
		if (n > win)
			n = win;
		rc = ssh_channel_write(p->chan.ch, p->req + p->req_sent, (uint32_t)n);
		if (rc < 0) {
			p->chan.remote_eof = p->chan.remote_closed = 1;	/* "Remote channel is closed" */
			continue;
		}
		if (rc == 0)
			return;		/* key re-exchange: later */
		p->req_sent += (size_t)rc;
		session_kick(p->sess);
	}
	probe_set_state(p, PROBE_READING);
	probe_read(p);
}

/* OPENING (or DONE with an open pending): libssh answers SSH_AGAIN until the server replies. */
static void
probe_try_open(struct probe *p)
{
	const struct forward_spec	*fs = p->fs;
	ssh_session			 ssh = session_ssh(p->sess);
	int				 rc;

	rc = chan_open(&p->chan, fs->remote_host, fs->remote_port, "127.0.0.1", 0);
	if (rc == SSH_AGAIN)
		return;
	p->open_answered = 1;
	if (p->open_pending) {		/* we gave up waiting; now the channel can be closed */
		p->open_pending = 0;
		log_debug("probe %s: the channel open was answered late (%s); %s", fs->name,
		    rc == SSH_OK ? "accepted" : "refused", rc == SSH_OK ? "closing it" : "done");
		if (rc == SSH_OK)
			chan_close(&p->chan);
		return;
	}
	if (rc != SSH_OK) {
		/* The server's OPEN_FAILURE sets SSH_REQUEST_DENIED; anything else is the session. */
		if (ssh_get_error_code(ssh) == SSH_REQUEST_DENIED)
			probe_finish(p, PROBE_REFUSED, "%s:%d refused the channel (remote port not "
			    "listening?): %s", fs->remote_host, fs->remote_port, ssh_get_error(ssh));
		else
			probe_finish(p, PROBE_SESSION_LOST, "%s:%d: the channel open failed: %s",
			    fs->remote_host, fs->remote_port, ssh_get_error(ssh));
		return;
	}
	if (fs->health_path[0] == '\0') {
		probe_finish(p, PROBE_OK, "%s:%d accepts a channel", fs->remote_host,
		    fs->remote_port);
		return;
	}
	probe_set_state(p, PROBE_SENDING);
	probe_send(p);
}

static void
probe_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe			*p = arg;
	const struct forward_spec	*fs = p->fs;
	double				 secs = p->timeout_ms / 1000.0;

	(void)fd;
	(void)what;
	if (p->state == PROBE_OPENING)
		probe_finish(p, PROBE_TIMEOUT, "%s:%d: the server did not answer the channel open "
		    "within %.1f s", fs->remote_host, fs->remote_port, secs);
	else
		probe_finish(p, PROBE_TIMEOUT, "%s:%d accepts a channel, but GET %s got no status "
		    "line within %.1f s", fs->remote_host, fs->remote_port, fs->health_path, secs);
}

struct probe *
probe_start(struct event_base *base, struct session *s, const struct forward_spec *fs,
    int timeout_ms, probe_done_fn fn, void *arg)
{
	struct probe	*p;
	struct timeval	 tv;
	int		 v6 = strchr(fs->remote_host, ':') != NULL;

	if ((p = calloc(1, sizeof *p)) == NULL)
		return NULL;
	p->sess = s;
	p->fs = fs;
	p->fn = fn;
	p->arg = arg;
	p->timeout_ms = timeout_ms;
	p->state = PROBE_OPENING;
	if ((p->ev_timeout = evtimer_new(base, probe_timeout_cb, p)) == NULL) {
		free(p);
		return NULL;
	}
	/* HTTP/1.0 and Connection: close: the service ends the reply by closing. */
	p->req_len = (size_t)snprintf(p->req, sizeof p->req, "GET %s HTTP/1.0\r\nHost: %s%s%s\r\n"
	    "Connection: close\r\n\r\n", fs->health_path, v6 ? "[" : "", fs->remote_host,
	    v6 ? "]" : "");
	log_debug("probe %s: opening a channel to %s:%d%s%s", fs->name, fs->remote_host,
	    fs->remote_port, fs->health_path[0] ? " for GET " : "", fs->health_path);
	if (chan_new(&p->chan, s, &probe_channel_ops, p) != 0) {
		probe_finish(p, PROBE_SESSION_LOST, "%s:%d: cannot make a channel: %s",
		    fs->remote_host, fs->remote_port, ssh_get_error(session_ssh(s)));
		return p;
	}
	evtimer_add(p->ev_timeout, clock_tv(&tv, timeout_ms));
	probe_try_open(p);
	if (p->chan.ch != NULL)
		session_kick(s);	/* we run outside the pump: get the request sent */
	return p;
}

void
probe_step(struct probe *p)
{
	if (p->chan.ch == NULL)
		return;
	switch (p->state) {
	case PROBE_OPENING:
		probe_try_open(p);
		break;
	case PROBE_SENDING:
		probe_send(p);
		break;
	case PROBE_READING:
		probe_read(p);
		break;
	case PROBE_DONE:
		if (p->open_pending)
			probe_try_open(p);
		break;
	}
}

void
probe_session_lost(struct probe *p)
{
	chan_forget(&p->chan);	/* ssh_free() frees it with the session */
	p->open_pending = 0;
	probe_finish(p, PROBE_SESSION_LOST, "%s:%d: the SSH session was lost during the probe",
	    p->fs->remote_host, p->fs->remote_port);
}

int
probe_idle(const struct probe *p)
{
	return p->state == PROBE_DONE && !p->open_pending;
}

void
probe_free(struct probe *p)
{
	if (p == NULL)
		return;
	chan_free(&p->chan);
	if (p->ev_timeout != NULL)
		event_free(p->ev_timeout);
	free(p);
}

enum probe_state
probe_state(const struct probe *p)
{
	return p->state;
}

enum probe_result
probe_result(const struct probe *p)
{
	return p->result;
}

int
probe_http_status(const struct probe *p)
{
	return p->http_status;
}

const char *
probe_message(const struct probe *p)
{
	return p->msg;
}

int
probe_exit_code(const struct probe *p)
{
	switch (p->result) {
	case PROBE_OK:
		return 0;
	case PROBE_TIMEOUT:
		return EX_TEMPFAIL;
	default:
		return EX_UNAVAILABLE;
	}
}

const struct forward_spec *
probe_forward(const struct probe *p)
{
	return p->fs;
}

struct session *
probe_session(const struct probe *p)
{
	return p->sess;
}

void
probe_pump_all(struct probe *const *probes, size_t n, struct session *sess)
{
	size_t	i;

	for (i = 0; i < n && session_state(sess) != SESSION_DEAD; i++)
		if (probes[i] != NULL && probes[i]->sess == sess && !probe_idle(probes[i]))
			probe_step(probes[i]);
}

void
probe_session_lost_all(struct probe *const *probes, size_t n, struct session *sess)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (probes[i] != NULL && (sess == NULL || probes[i]->sess == sess))
			probe_session_lost(probes[i]);
}
