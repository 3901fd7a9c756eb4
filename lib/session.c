/*
 * session.c: one SSH session as a state machine driven by libevent.
 *
 * RESOLVING -> CONNECTING -> HANDSHAKE -> AUTH -> READY, and DEAD from any of
 * them. dial.c resolves and connects the TCP socket (libssh would block in
 * getaddrinfo and try one address); we hand libssh a dup of the socket:
 * libssh closes its copy on errors, ours stays valid for libevent until
 * session_free(). libssh is non-blocking; every wake-up of its socket runs
 * a bounded "pump" of ssh_event_dopoll(), and EV_WRITE is armed only while
 * libssh's output buffer is non-empty (ssh_get_status(), not the poll flags,
 * which never clear; see LIBSSH-NOTES). sockio.c batches the socket's I/O
 * where it can; knownhosts.c and sshconfig.c read the files; the failure
 * policy (fatal, cheap, exit code) is here, once.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <libssh/libssh.h>
#include <libssh/server.h>	/* ssh_send_keepalive(): works on clients too */

#include "cause.h"
#include "clock.h"
#include "dial.h"
#include "identity.h"
#include "compat.h"
#include "knownhosts.h"
#include "log.h"
#include "paths.h"
#include "sshconfig.h"
#include "sockio.h"
#include "sshsock.h"
#include "session.h"
#include "vis.h"

/* libssh pass limit per wake-up: enough to drain a burst, small enough to let local sockets run. */
#define SESSION_PUMP_PASSES	64

enum auth_step {
	AUTH_START = 0,
	AUTH_AGENT,	/* ssh_userauth_agent() in progress */
	AUTH_KEY_TRY,	/* offering the public key */
	AUTH_KEY_SIGN,	/* signing with the private key */
};

struct session {
	struct event_base	*base;
	struct evdns_base	*dns;
	const struct session_target *t;
	const struct session_auth *auth;
	const struct session_callbacks *cb;
	void			*arg;

	enum session_state	 state;
	enum session_failure	 failure;
	char			 error[1024];
	char			 peer[INET6_ADDRSTRLEN + 16];
	char			 addresses[256];	/* what the name resolved to */
	char			 hostkey[256];		/* the server's: "type SHA256:..." */
	char			 auth_used[PATH_MAX + 320];

	struct dial		*dial;		/* RESOLVING, CONNECTING */

	int			 fd;		/* ours: libevent watches it */
	int			 ssh_fd;	/* the dup libssh owns while it is open */
	int			 ssh_took_fd;	/* libssh started using ssh_fd (first ssh_connect) */
	ssh_session		 ssh;
	ssh_event		 ssh_ev;
	struct ssh_counter_struct counter_sock, counter_raw;

	struct event		*ev_read;	/* persistent EV_READ on fd once libssh runs */
	struct event		*ev_write;	/* EV_WRITE: TCP connect, then libssh output pending */
	int			 ev_write_on;
	struct event		*ev_deadline;	/* connect / handshake / auth deadline */
	struct event		*ev_kick;	/* "pump soon" */
	struct event		*ev_keepalive;	/* READY: probe and watch for silence */
	struct event		*ev_probe;	/* one urgent probe's deadline */
	uint64_t		 probe_in;
	struct sockio		 io;		/* batched or not: the session asks the same */

	enum auth_step		 auth_step;
	char			 auth_tried[PATH_MAX + 512];

	uint64_t		 ka_last_in;	/* socket byte count when last looked at */
	double			 ka_last_rx;	/* monotonic seconds: last time a byte arrived */
	double			 ka_last_sent;	/* ... and a keepalive left */
};

static void	session_step(struct session *);
static void	session_note_rx(struct session *);

int
session_failure_fatal(enum session_failure f)
{
	switch (f) {
	case SFAIL_HOSTKEY_CHANGED:
	case SFAIL_HOSTKEY_UNKNOWN:
	case SFAIL_AUTH:
	case SFAIL_LOCAL:
		return 1;
	default:
		return 0;
	}
}

int
session_failure_cheap(enum session_failure f)
{
	return f == SFAIL_RESOLVE || f == SFAIL_CONNECT || f == SFAIL_RESOURCE;
}

int
session_failure_exit_code(enum session_failure f)
{
	switch (f) {
	case SFAIL_HOSTKEY_CHANGED:
	case SFAIL_HOSTKEY_UNKNOWN:
		return EX_PROTOCOL;
	case SFAIL_AUTH:
		return EX_NOPERM;
	case SFAIL_LOCAL:
		return EX_SOFTWARE;
	case SFAIL_RESOURCE:
		return EX_OSERR;
	case SFAIL_HOSTKEY_UNREADABLE:
		return EX_NOINPUT;
	default:
		return EX_UNAVAILABLE;
	}
}

const char *
session_state_name(enum session_state st)
{
	static const char *const names[] = {
		"new", "resolving", "connecting", "handshake", "auth", "ready", "dead"
	};

	return (unsigned)st < sizeof names / sizeof names[0] ? names[st] : "?";
}

/* The one place a state changes: logged, then reported. */
static void
session_set_state(struct session *s, enum session_state st)
{
	if (s->state == st)
		return;
	log_debug("session %s: %s -> %s", s->t->alias, session_state_name(s->state),
	    session_state_name(st));
	s->state = st;
	if (s->cb->state_changed != NULL)
		s->cb->state_changed(s, st, s->arg);
}

/* Stop every event; nothing of ours runs for this session afterwards. */
static void
session_quiesce(struct session *s)
{
	struct event	*evs[] = { s->ev_read, s->ev_write, s->ev_deadline, s->ev_kick,
	    s->ev_keepalive, s->ev_probe };
	size_t		 i;

	for (i = 0; i < sizeof evs / sizeof evs[0]; i++)
		if (evs[i] != NULL)
			event_del(evs[i]);
	dial_stop(s->dial);
	sockio_stop(&s->io);
	s->ev_write_on = 0;
}

/* Declare the session dead with one line saying why. First reason wins. */
static void
session_fail(struct session *s, enum session_failure f, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
session_fail(struct session *s, enum session_failure f, const char *fmt, ...)
{
	va_list	ap;
	char	raw[sizeof s->error];

	if (s->state == SESSION_DEAD)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	/* libssh's errors carry the server's banner and DISCONNECT text: printable only. */
	vis_str(s->error, sizeof s->error, raw);
	s->failure = f;
	session_quiesce(s);
	log_debug("session %s failed: %s", s->t->alias, s->error);
	session_set_state(s, SESSION_DEAD);
}

/*
 * A path from the profile or the ssh config, ~ expanded (paths_expand) and
 * made absolute: -d's daemon reads known_hosts from "/". Returns 0 or -1
 * with *cause.
 */
static int
target_path(const char *in, char *buf, size_t len, const char *what, char **cause)
{
	char	exp[PATH_MAX];

	if (paths_expand(in, exp, sizeof exp) != NULL && paths_absolute(exp, buf, len) != NULL)
		return 0;
	cause_set(cause, "%s: path too long: %s", what, in);
	return -1;
}

int
session_target_resolve(const struct profile *p, struct session_target *t, char **cause)
{
	struct sshconfig	 c;
	char			 userbuf[PROFILE_STR_MAX];
	const char		*user, *kh;

	memset(t, 0, sizeof *t);
	snprintf(t->alias, sizeof t->alias, "%s", p->host[0] ? p->host : PROFILE_DEFAULT_HOST);
	/* HostName, Port, User, IdentityFile, UserKnownHostsFile: read once, here. */
	switch (sshconfig_read(t->alias, &c, cause)) {
	case 0:
		break;
	case 1:		/* as libssh itself would: what it could read counts */
		log_warn("%s; going on without the rest of it", *cause);
		free(*cause);
		*cause = NULL;
		break;
	default:
		return -1;
	}
	snprintf(t->hostname, sizeof t->hostname, "%s", c.hostname[0] ? c.hostname : t->alias);
	t->port = p->port > 0 ? p->port : c.port > 0 ? (int)c.port : PROFILE_DEFAULT_PORT;
	user = profile_user(p, userbuf, sizeof userbuf);
	snprintf(t->user, sizeof t->user, "%s", user != NULL && user[0] != '\0' ? user : c.user);

	/* libssh's built-in id_* defaults are not ours: Lightning's key is the default. */
	if (p->identity[0] == '\0' && (c.identity[0] == '\0' ||
	    strncmp(c.identity, "%d/id_", 6) == 0)) {
		if (identity_default(t->identity, sizeof t->identity) == NULL) {
			cause_set(cause, "identity: path too long: %s", paths_home());
			return -1;
		}
	} else if (target_path(p->identity[0] != '\0' ? p->identity : c.identity, t->identity,
	    sizeof t->identity, "identity", cause) != 0)
		return -1;

	/*
	 * Lightning's block says UserKnownHostsFile /dev/null, which would make
	 * every key "new" forever and a changed key undetectable: keys go to
	 * ~/.ssh/known_hosts then, shared with OpenSSH.
	 */
	kh = p->known_hosts[0] != '\0' ? p->known_hosts : c.known_hosts;
	if (p->known_hosts[0] == '\0' && strcmp(kh, "/dev/null") == 0) {
		log_debug("ssh config sets UserKnownHostsFile /dev/null; using ~/.ssh/known_hosts");
		kh = "";
	}
	if (target_path(kh[0] != '\0' ? kh : "~/.ssh/known_hosts", t->known_hosts,
	    sizeof t->known_hosts, "known_hosts", cause) != 0)
		return -1;

	t->use_agent = p->use_agent;
	t->hostkey_policy = p->hostkey_policy;
	if (p->ciphers[0] != '\0')
		snprintf(t->ciphers, sizeof t->ciphers, "%s", p->ciphers);
	else if (compat_cpu_has_aes())	/* AES-NI: GCM is much faster than chacha20 */
		snprintf(t->ciphers, sizeof t->ciphers, "%s",
		    "aes128-gcm@openssh.com,aes256-gcm@openssh.com,chacha20-poly1305@openssh.com,"
		    "aes128-ctr,aes256-ctr");
	else
		snprintf(t->ciphers, sizeof t->ciphers, "%s",
		    "chacha20-poly1305@openssh.com,aes128-gcm@openssh.com,aes256-gcm@openssh.com,"
		    "aes128-ctr,aes256-ctr");
	t->connect_timeout_ms = p->connect_timeout_ms;
	t->handshake_timeout_ms = p->handshake_timeout_ms;
	t->auth_timeout_ms = p->auth_timeout_ms;
	t->keepalive_interval_ms = p->keepalive_interval_ms;
	t->keepalive_count = p->keepalive_count;
	if (t->user[0] == '\0') {
		cause_set(cause, "no SSH user for %s: set id or user in [studio]", t->alias);
		return -1;
	}
	return 0;
}

struct evdns_base *
session_dns_new(struct event_base *base)
{
	struct evdns_base	*dns;

	/* Idle between lookups: no socket held open while the tunnel runs. */
	if ((dns = evdns_base_new(base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
	    EVDNS_BASE_DISABLE_WHEN_INACTIVE)) == NULL)
		dns = evdns_base_new(base, EVDNS_BASE_DISABLE_WHEN_INACTIVE);	/* no resolv.conf */
	return dns;
}

struct session *
session_new(struct event_base *base, struct evdns_base *dns, const struct session_target *t,
    const struct session_auth *auth, const struct session_callbacks *cb, void *arg)
{
	struct session	*s;

	if ((s = calloc(1, sizeof *s)) == NULL)
		return NULL;
	s->base = base;
	s->dns = dns;
	s->t = t;
	s->auth = auth;
	s->cb = cb;
	s->arg = arg;
	s->fd = -1;
	s->ssh_fd = -1;
	sockio_init(&s->io);
	return s;
}

static void
session_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session	*s = arg;

	(void)fd;
	(void)what;
	switch (s->state) {
	case SESSION_RESOLVING:
		session_fail(s, SFAIL_RESOLVE, "resolving %s timed out", s->t->hostname);
		break;
	case SESSION_CONNECTING:
		session_fail(s, SFAIL_CONNECT, "connecting to %s port %d timed out after %d ms",
		    s->t->hostname, s->t->port, s->t->connect_timeout_ms);
		break;
	case SESSION_HANDSHAKE:
		session_fail(s, SFAIL_HANDSHAKE, "SSH handshake with %s timed out after %d ms",
		    s->peer, s->t->handshake_timeout_ms);
		break;
	case SESSION_AUTH:	/* a slow or silent server, not a refusal: retried */
		session_fail(s, SFAIL_HANDSHAKE, "authentication with %s timed out after %d ms",
		    s->peer, s->t->auth_timeout_ms);
		break;
	default:
		break;
	}
}

static void
session_arm_deadline(struct session *s, int ms)
{
	struct timeval	tv;

	event_add(s->ev_deadline, clock_tv(&tv, ms));
}

/*
 * EV_WRITE only while output waits (session_output_pending): waiting on it
 * otherwise spins. With sshsock that is a full kernel behind sshsock's
 * buffer, or libssh holding output itself: when sshsock cannot answer a poll
 * from what it knows, the kernel's answer counts, a nearly full send buffer
 * says "not writable", and only EV_WRITE brings that output round again.
 */
static void
session_update_write(struct session *s)
{
	int	want;

	if (s->ssh == NULL || s->state == SESSION_DEAD)
		return;
	want = session_output_pending(s);
	if (want && !s->ev_write_on) {
		event_add(s->ev_write, NULL);
		s->ev_write_on = 1;
	} else if (!want && s->ev_write_on) {
		event_del(s->ev_write);
		s->ev_write_on = 0;
	}
}

/* Did libssh lose the connection? */
static int
session_lost(struct session *s)
{
	int	st = ssh_get_status(s->ssh);

	return (st & (SSH_CLOSED | SSH_CLOSED_ERROR)) != 0 || !ssh_is_connected(s->ssh);
}

/*
 * libssh 0.11 and later drop channel data sent past the window, saying so
 * only in the session's error ("Window exceeded"), and cannot say which
 * channel lost it: some client's stream now has a hole. OpenSSH's client
 * ends the session when a peer ignores the window ("peer ignored channel
 * window"); so do we, every client then sees a reset rather than a stream
 * with bytes missing. (Up to 0.10 libssh keeps such data: conn.c bounds it.)
 */
static int
session_window_violated(struct session *s)
{
	return ssh_get_error_code(s->ssh) == SSH_FATAL &&
	    strcmp(ssh_get_error(s->ssh), "Window exceeded") == 0;
}

/* Run libssh until it has nothing more to do right now, bounded. */
static void
session_pump(struct session *s)
{
	int	i, rc;

	for (i = 0; i < SESSION_PUMP_PASSES; i++) {
		rc = ssh_event_dopoll(s->ssh_ev, 0);
		if (rc == SSH_AGAIN)
			break;
		if (rc == SSH_ERROR || session_lost(s)) {
			session_fail(s, SFAIL_LOST, "connection to %s lost: %s", s->peer,
			    ssh_get_error(s->ssh));
			return;
		}
	}
	if (session_window_violated(s)) {
		session_fail(s, SFAIL_LOST, "%s sent data past a channel's window, which libssh %s "
		    "drops: a protocol violation; ending the session (as OpenSSH does) rather than "
		    "pass on a stream with bytes missing", s->peer, ssh_version(0));
		return;
	}
	if (session_lost(s)) {
		session_fail(s, SFAIL_LOST, "connection to %s lost: %s", s->peer,
		    ssh_get_error(s->ssh));
		return;
	}
	session_note_rx(s);
	sockio_check(&s->io, s->counter_sock.in_bytes);
	if (s->cb->pumped != NULL)
		s->cb->pumped(s, s->arg);
	/*
	 * Channel calls in pumped() can process packets meant for other conns,
	 * and bytes left in sshsock's read buffer wake no EV_READ: go round again.
	 */
	if (s->state == SESSION_READY && (s->counter_sock.in_bytes != s->ka_last_in ||
	    sockio_pending(&s->io) > 0))
		session_kick(s);
	if (s->state == SESSION_READY && session_lost(s)) {
		session_fail(s, SFAIL_LOST, "connection to %s lost: %s", s->peer,
		    ssh_get_error(s->ssh));
		return;
	}
	session_update_write(s);
}

/*
 * Send what sshsock holds (the packets of one loop pass, together); then, if
 * libssh kept output back because the buffer was full, pump so that it
 * hands over the rest.
 */
static void
session_flush(struct session *s)
{
	if (s->state != SESSION_READY || !sockio_on(&s->io))
		return;
	if (sockio_flush(&s->io) == -1) {
		session_fail(s, SFAIL_LOST, "connection to %s lost: %s", s->peer, strerror(errno));
		return;
	}
	if (!sockio_blocked(&s->io) && (ssh_get_status(s->ssh) & SSH_WRITE_PENDING)) {
		session_pump(s);
		return;
	}
	/*
	 * A libssh call made outside the pump (a channel write flushing, a
	 * channel open) may have read ahead into sshsock: such bytes wake no
	 * EV_READ, so pump for them.
	 */
	if (sockio_pending(&s->io) > 0)
		session_kick(s);
	session_update_write(s);
}

static void
session_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	session_flush(arg);
}

static void
session_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session	*s = arg;

	(void)fd;
	(void)what;
	if (s->state == SESSION_READY) {
		/*
		 * Linux leaves quick-ack mode on its own and then delays ACKs up
		 * to 40 ms; sshd waits for them before its next small packet (a
		 * channel open's confirmation): p99 61 -> 27 ms, 0.56x -> 1.03x
		 * the request rate of ssh -L under wrk, a connection per request.
		 */
		if (what & EV_READ)
			compat_quickack(s->fd);
		sockio_wake(&s->io, (what & EV_READ) != 0, (what & EV_WRITE) != 0);
		if ((what & EV_WRITE) && sockio_on(&s->io)) {
			session_flush(s);	/* pumps if libssh had output waiting */
			return;
		}
		session_pump(s);
	} else
		session_step(s);
}

static void
session_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	session_io_cb(fd, what, arg);
}

/*
 * A zero timer, not event_active(): libevent runs newly activated events in
 * the same pass, so a kick that leads to another kick would starve every
 * timer (keepalive included); a timer waits for the next loop iteration.
 */
void
session_kick(struct session *s)
{
	static const struct timeval	now = { 0, 0 };

	if (s->state == SESSION_READY && s->ev_kick != NULL && !evtimer_pending(s->ev_kick, NULL))
		evtimer_add(s->ev_kick, &now);
}

/*
 * Send keepalive@openssh.com (want-reply). libssh allows one global request
 * in flight and only clears a finished one on the next call: the first call
 * collects an answered request, the second sends a new one if possible.
 */
static void
session_send_keepalive(struct session *s)
{
	ssh_send_keepalive(s->ssh);
	ssh_send_keepalive(s->ssh);
}

/* Note when bytes last arrived (called after every pump: cheap, the clock is a vDSO call). */
static void
session_note_rx(struct session *s)
{
	if (s->counter_sock.in_bytes != s->ka_last_in) {
		s->ka_last_in = s->counter_sock.in_bytes;
		s->ka_last_rx = clock_now_s();
	}
}

/*
 * Like OpenSSH's ServerAliveInterval: a keepalive goes out only after an
 * interval with nothing received; interval x count of silence is death. The
 * timer is re-armed for whichever comes first, so death is declared on time,
 * not up to one interval late.
 */
static void
session_keepalive_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session	*s = arg;
	double		 now, interval, limit, next_ka, next;
	struct timeval	 tv;

	(void)fd;
	(void)what;
	if (s->state != SESSION_READY)
		return;
	session_note_rx(s);
	now = clock_now_s();
	interval = s->t->keepalive_interval_ms / 1000.0;
	limit = interval * s->t->keepalive_count;
	if (now - s->ka_last_rx >= limit) {
		session_fail(s, SFAIL_KEEPALIVE, "%s stopped answering: nothing received for %.1f s "
		    "(keepalive interval %d ms x count %d)", s->peer, now - s->ka_last_rx,
		    s->t->keepalive_interval_ms, s->t->keepalive_count);
		return;
	}
	next_ka = (s->ka_last_rx > s->ka_last_sent ? s->ka_last_rx : s->ka_last_sent) + interval;
	if (now >= next_ka - 0.001) {
		if (now - s->ka_last_rx >= interval * 1.5)
			log_debug("session %s: nothing received for %.1f s, keepalive sent",
			    s->t->alias, now - s->ka_last_rx);
		s->ka_last_sent = now;
		next_ka = now + interval;
		session_send_keepalive(s);
		session_kick(s);	/* its poll pass may have read packets for the conns */
	}
	next = next_ka < s->ka_last_rx + limit ? next_ka : s->ka_last_rx + limit;
	next -= now;
	if (next < 0.01)
		next = 0.01;
	evtimer_add(s->ev_keepalive, clock_tv_s(&tv, next));
}

static void
session_probe_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session	*s = arg;

	(void)fd;
	(void)what;
	if (s->state == SESSION_READY && s->counter_sock.in_bytes == s->probe_in)
		session_fail(s, SFAIL_KEEPALIVE, "%s did not answer an urgent keepalive", s->peer);
}

void
session_probe(struct session *s, int deadline_ms)
{
	struct timeval	tv;

	if (s->state != SESSION_READY || evtimer_pending(s->ev_probe, NULL))
		return;
	s->probe_in = s->counter_sock.in_bytes;
	evtimer_add(s->ev_probe, clock_tv(&tv, deadline_ms));
	session_send_keepalive(s);
	session_pump(s);
}

static void
session_ready(struct session *s)
{
	struct timeval	tv;

	event_del(s->ev_deadline);
	/* Only now: before READY, session_step() makes one libssh pass per wake-up. */
	if (ssh_get_fd(s->ssh) == s->ssh_fd && sockio_attach(&s->io, s->base, s->ssh_fd,
	    s->counter_sock.in_bytes, session_flush_cb, s)) {
		log_debug("session %s: socket I/O batched (%d KiB reads, sends once per pass)",
		    s->t->alias, SSHSOCK_RXBUF / 1024);
	}
	s->ka_last_in = s->counter_sock.in_bytes;
	s->ka_last_rx = s->ka_last_sent = clock_now_s();
	if (s->t->keepalive_interval_ms > 0) {
		evtimer_add(s->ev_keepalive, clock_tv(&tv, s->t->keepalive_interval_ms));
	}
	session_set_state(s, SESSION_READY);
}

/*
 * libssh (0.9 to 0.12) reads known_hosts with fopen() and takes any failure
 * for "no such file": out of fds, or with a file it may not read, a recorded
 * key comes back UNKNOWN. Before UNKNOWN counts, every file must be read by
 * us too (or be absent) and record nothing for the name, with libssh's own
 * line parser so that both agree. Returns 0 when the answer stands, else -1
 * with the session failed: retried, like a network error, never accepted.
 */
static int
session_confirm_unknown(struct session *s, const char *name, const char *offered)
{
	char		 recorded[512];
	const char	*bad;
	int		 n, err;

	if ((n = knownhosts_recorded(s->t->known_hosts, name, recorded, sizeof recorded, &bad)) == -1) {
		err = errno;
		session_fail(s, paths_errno_is_shortage(err) ? SFAIL_RESOURCE :
		    SFAIL_HOSTKEY_UNREADABLE, "cannot read %s: %s: the host key of %s (%s) cannot "
		    "be checked against it; not connecting%s", bad, strerror(err), name, offered,
		    paths_fd_hint(err));
		return -1;
	}
	if (n > 0) {
		session_fail(s, SFAIL_HOSTKEY_UNREADABLE, "libssh could not read the entries "
		    "for %s in %s (%s); the server offered %s: not connecting", name,
		    s->t->known_hosts, recorded, offered);
		return -1;
	}
	return 0;
}

/* Apply our policy: a changed key never passes, whatever any config says. Returns 0 to go on. */
static int
session_check_hostkey(struct session *s)
{
	ssh_key				 key = NULL;
	struct ssh_knownhosts_entry	*entry = NULL;
	enum ssh_known_hosts_e		 known;
	char				 offered[256], expected[512], name[PROFILE_STR_MAX + 16];
	const char			*bad;

	if (ssh_get_server_publickey(s->ssh, &key) != SSH_OK) {
		session_fail(s, SFAIL_HANDSHAKE, "%s sent no host key", s->peer);
		return -1;
	}
	knownhosts_describe(key, offered, sizeof offered);
	ssh_key_free(key);
	snprintf(s->hostkey, sizeof s->hostkey, "%s", offered);
	knownhosts_name(s->t->hostname, s->t->port, name, sizeof name);

	known = ssh_session_get_known_hosts_entry(s->ssh, &entry);
	switch (known) {
	case SSH_KNOWN_HOSTS_OK:
		ssh_knownhosts_entry_free(entry);
		log_debug("host key of %s is known: %s", name, offered);
		return 0;
	case SSH_KNOWN_HOSTS_CHANGED:
	case SSH_KNOWN_HOSTS_OTHER:
		ssh_knownhosts_entry_free(entry);
		if (knownhosts_recorded(s->t->known_hosts, name, expected, sizeof expected, &bad) == -1)
			snprintf(expected, sizeof expected, "another key");
		/* The profile's explicit opt-out, never the ssh config's: said at every session. */
		if (s->t->hostkey_policy == HOSTKEY_INSECURE) {
			log_warn("HOST KEY NOT VERIFIED for %s: %s records %s, the server offered %s; "
			    "connecting anyway because host_key_policy = insecure-accept-any (anyone "
			    "between here and the server can read and change this tunnel)", name,
			    s->t->known_hosts, expected, offered);
			return 0;
		}
		session_fail(s, SFAIL_HOSTKEY_CHANGED,
		    "HOST KEY CHANGED for %s: %s records %s, the server offered %s. Refusing to "
		    "connect (this may be an attack). If the server's key really changed, remove "
		    "the old entry: ssh-keygen -R '%s' -f %s", name, s->t->known_hosts, expected,
		    offered, name, s->t->known_hosts);
		return -1;
	case SSH_KNOWN_HOSTS_UNKNOWN:
	case SSH_KNOWN_HOSTS_NOT_FOUND:
		ssh_knownhosts_entry_free(entry);
		if (session_confirm_unknown(s, name, offered) != 0)
			return -1;
		if (s->t->hostkey_policy == HOSTKEY_STRICT) {
			session_fail(s, SFAIL_HOSTKEY_UNKNOWN,
			    "host key of %s is not known (%s) and host_key_policy is strict: "
			    "check the fingerprint, then record it with: ssh-keyscan -p %d %s >> %s "
			    "(or set host_key_policy = accept-new)", name, offered, s->t->port,
			    s->t->hostname, s->t->known_hosts);
			return -1;
		}
		if (s->t->hostkey_readonly) {
			log_debug("host key of %s is new (%s); not recorded (read-only)", name,
			    offered);
			return 0;
		}
		if (ssh_session_update_known_hosts(s->ssh) != SSH_OK)
			log_warn("could not record the host key of %s in %s: %s", name,
			    s->t->known_hosts, ssh_get_error(s->ssh));
		else
			log_info("recorded new host key of %s in %s: %s", name,
			    s->t->known_hosts, offered);
		return 0;
	case SSH_KNOWN_HOSTS_ERROR:
	default:
		/* libssh's only errors here are allocations: a shortage, retried. */
		ssh_knownhosts_entry_free(entry);
		session_fail(s, SFAIL_RESOURCE, "cannot check the host key of %s against %s: %s", name,
		    s->t->known_hosts, ssh_get_error(s->ssh));
		return -1;
	}
}

static void
auth_tried_add(struct session *s, const char *what)
{
	size_t	len = strlen(s->auth_tried);

	snprintf(s->auth_tried + len, sizeof s->auth_tried - len, "%s%s", len ? ", " : "", what);
}

/* Is the process out of fds right now? (one more descriptor, at once closed, tells) */
static int
session_out_of_fds(const struct session *s)
{
	int	fd;

	if ((fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 0)) != -1) {
		close(fd);
		return 0;
	}
	return errno == EMFILE || errno == ENFILE;
}

static void
session_auth_refused(struct session *s)
{
	/* The agent is a socket: out of fds it cannot be asked, which is no refusal. */
	if (s->auth_step == AUTH_AGENT && s->auth->privkey == NULL && session_out_of_fds(s)) {
		session_fail(s, SFAIL_RESOURCE, "cannot ask ssh-agent for keys: out of file "
		    "descriptors (raise the open-files limit, ulimit -n)");
		return;
	}
	if (s->auth_tried[0] == '\0')
		auth_tried_add(s, "nothing: no ssh-agent and no readable identity file");
	session_fail(s, SFAIL_AUTH, "%s@%s refused authentication; tried: %s", s->t->user, s->peer,
	    s->auth_tried);
}

/* SSH_AUTH_ERROR is a broken connection or protocol, not a refusal: retried like any loss. */
static void
session_auth_broken(struct session *s)
{
	session_fail(s, SFAIL_LOST, "connection to %s broke during authentication: %s", s->peer,
	    ssh_get_error(s->ssh));
}

/* One step of authentication: agent keys first, then the identity file. */
static void
session_auth_step(struct session *s)
{
	int	 rc;

	for (;;) {
		switch (s->auth_step) {
		case AUTH_START:
			if (s->t->use_agent && getenv("SSH_AUTH_SOCK") != NULL) {
				s->auth_step = AUTH_AGENT;
				break;
			}
			if (s->auth->privkey != NULL) {
				s->auth_step = AUTH_KEY_TRY;
				break;
			}
			session_auth_refused(s);
			return;
		case AUTH_AGENT:
			rc = ssh_userauth_agent(s->ssh, NULL);
			if (rc == SSH_AUTH_AGAIN)
				return;
			if (rc == SSH_AUTH_SUCCESS) {
				log_info("authenticated as %s with a key from ssh-agent", s->t->user);
				snprintf(s->auth_used, sizeof s->auth_used, "a key from ssh-agent");
				session_ready(s);
				return;
			}
			if (session_lost(s)) {
				session_auth_broken(s);
				return;
			}
			auth_tried_add(s, "ssh-agent keys");
			if (s->auth->privkey == NULL) {
				session_auth_refused(s);
				return;
			}
			s->auth_step = AUTH_KEY_TRY;
			break;
		case AUTH_KEY_TRY:
			rc = ssh_userauth_try_publickey(s->ssh, NULL, s->auth->pubkey);
			if (rc == SSH_AUTH_AGAIN)
				return;
			if (rc == SSH_AUTH_ERROR || session_lost(s)) {
				session_auth_broken(s);
				return;
			}
			if (rc != SSH_AUTH_SUCCESS) {
				auth_tried_add(s, s->auth->desc);
				session_auth_refused(s);
				return;
			}
			s->auth_step = AUTH_KEY_SIGN;
			break;
		case AUTH_KEY_SIGN:
			rc = ssh_userauth_publickey(s->ssh, NULL, s->auth->privkey);
			if (rc == SSH_AUTH_AGAIN)
				return;
			if (rc == SSH_AUTH_ERROR || session_lost(s)) {
				session_auth_broken(s);
				return;
			}
			if (rc != SSH_AUTH_SUCCESS) {
				auth_tried_add(s, s->auth->desc);
				session_auth_refused(s);
				return;
			}
			log_info("authenticated as %s with %s", s->t->user, s->auth->desc);
			snprintf(s->auth_used, sizeof s->auth_used, "%s", s->auth->desc);
			session_ready(s);
			return;
		}
	}
}

int
session_libssh_window_capped(void)
{
#if defined(CONNECT_LIBSSH_TUNED)
	return 0;
#else
	return ssh_version(SSH_VERSION_INT(0, 11, 0)) != NULL;
#endif
}

/* HANDSHAKE and AUTH: re-call the pending libssh function (it returns SSH_AGAIN until done). */
static void
session_step(struct session *s)
{
	int	rc;

	switch (s->state) {
	case SESSION_HANDSHAKE:
		rc = ssh_connect(s->ssh);
		if (rc == SSH_AGAIN)
			break;
		if (rc != SSH_OK) {
			/*
			 * Name what the server said it is. libssh 0.10 puts an unusable
			 * banner in its error; 0.11 and 0.12 overwrite that error with
			 * "Wrong state in callback_receive_banner" and the banner is lost.
			 */
			const char	*err = ssh_get_error(s->ssh);
			const char	*banner = ssh_get_serverbanner(s->ssh);
			int		 say = banner != NULL && strstr(err, "banner:") == NULL;

			session_fail(s, SFAIL_HANDSHAKE, "SSH handshake with %s failed: %s%s%s%s", s->peer,
			    err, say ? " (server banner: " : "", say ? banner : "", say ? ")" : "");
			return;
		}
		if (session_check_hostkey(s) != 0)
			return;
		session_set_state(s, SESSION_AUTH);
		if (s->state != SESSION_AUTH)
			return;
		event_del(s->ev_deadline);
		session_arm_deadline(s, s->t->auth_timeout_ms);
		/* FALLTHROUGH */
	case SESSION_AUTH:
		session_auth_step(s);
		break;
	default:
		return;
	}
	/*
	 * libssh may answer SSH_AGAIN on a socket it has already closed after
	 * an error (its poll handle is gone): our dup still polls readable, so
	 * without this check we would spin until the deadline.
	 */
	if (s->state != SESSION_DEAD && (ssh_get_status(s->ssh) & (SSH_CLOSED | SSH_CLOSED_ERROR))) {
		session_fail(s, SFAIL_LOST, "connection to %s lost during the %s: %s", s->peer,
		    s->state == SESSION_AUTH ? "authentication" : "handshake", ssh_get_error(s->ssh));
		return;
	}
	if (s->state != SESSION_DEAD)
		session_update_write(s);
}

/* The kernel's bounds (Linux: MAX_TCP_KEEPIDLE, MAX_TCP_KEEPINTVL, MAX_TCP_KEEPCNT). */
#define TCP_KEEP_S_MAX		32767
#define TCP_KEEPCNT_MAX		127

void
session_tcp_timers(int interval_ms, int count, struct session_tcp_timers *tt)
{
	long long	total;

	if (interval_ms <= 0) {		/* keepalive off: TCP's own, at the defaults */
		tt->idle_s = tt->intvl_s = 30;
		tt->cnt = 3;
		tt->user_timeout_ms = 0;
		return;
	}
	tt->idle_s = interval_ms / 1000 + (interval_ms % 1000 != 0);
	if (tt->idle_s > TCP_KEEP_S_MAX)
		tt->idle_s = TCP_KEEP_S_MAX;
	tt->intvl_s = tt->idle_s;
	tt->cnt = count <= 0 ? 3 : count > TCP_KEEPCNT_MAX ? TCP_KEEPCNT_MAX : count;
	/* 360m x 101 is past INT_MAX: multiplied in 64 bits, then capped. */
	total = (long long)interval_ms * ((long long)(count > 0 ? count : 3) + 1);
	tt->user_timeout_ms = total > INT_MAX ? INT_MAX : (int)total;
}

/*
 * What the server asks of us (a channel opened towards us, a global request):
 * refused at once. Without a callback libssh keeps each, unanswered, for an
 * ssh_message_get() we never call: 3000 forwarded-tcpip opens from a hostile
 * server held 170 MB (t-window-abuse).
 */
static int
session_refuse_message(ssh_session ssh, ssh_message msg, void *arg)
{
	(void)ssh;
	(void)msg;
	(void)arg;
	return 1;	/* libssh answers with its default (a failure) and frees it */
}

/* TCP is up: hand a dup of the socket to libssh and start the handshake. */
static void
session_start_ssh(struct session *s)
{
	struct session_tcp_timers	tt;
	int				zero = 0, one = 1, fl, rc;
	long				timeout = 0;

	/* libssh expects a blocking socket: it writes only after its poll says POLLOUT. */
	if ((fl = fcntl(s->fd, F_GETFL)) != -1)
		(void)fcntl(s->fd, F_SETFL, fl & ~O_NONBLOCK);
	session_tcp_timers(s->t->keepalive_interval_ms, s->t->keepalive_count, &tt);
	compat_tune_ssh_socket(s->fd, tt.idle_s, tt.intvl_s, tt.cnt, tt.user_timeout_ms);
	if ((s->ssh_fd = dup(s->fd)) == -1) {
		session_fail(s, SFAIL_RESOURCE, "cannot duplicate the SSH socket: %s%s",
		    strerror(errno), paths_fd_hint(errno));
		return;
	}
	if ((s->ssh = ssh_new()) == NULL || (s->ssh_ev = ssh_event_new()) == NULL) {
		session_fail(s, SFAIL_RESOURCE, "out of memory");
		return;
	}
	ssh_set_message_callback(s->ssh, session_refuse_message, NULL);
	ssh_options_set(s->ssh, SSH_OPTIONS_PROCESS_CONFIG, &zero);	/* resolved once already */
	ssh_options_set(s->ssh, SSH_OPTIONS_HOST, s->t->hostname);
	ssh_options_set(s->ssh, SSH_OPTIONS_PORT, &s->t->port);
	ssh_options_set(s->ssh, SSH_OPTIONS_USER, s->t->user);
	ssh_options_set(s->ssh, SSH_OPTIONS_KNOWNHOSTS, s->t->known_hosts);
	ssh_options_set(s->ssh, SSH_OPTIONS_STRICTHOSTKEYCHECK, &one);	/* our policy decides */
	ssh_options_set(s->ssh, SSH_OPTIONS_NODELAY, &one);
	ssh_options_set(s->ssh, SSH_OPTIONS_TIMEOUT, &timeout);
	if (ssh_options_set(s->ssh, SSH_OPTIONS_CIPHERS_C_S, s->t->ciphers) != SSH_OK ||
	    ssh_options_set(s->ssh, SSH_OPTIONS_CIPHERS_S_C, s->t->ciphers) != SSH_OK) {
		session_fail(s, SFAIL_LOCAL, "cipher list '%s' not supported: %s", s->t->ciphers,
		    ssh_get_error(s->ssh));
		return;
	}
	ssh_options_set(s->ssh, SSH_OPTIONS_FD, &s->ssh_fd);
	ssh_set_blocking(s->ssh, 0);
	ssh_set_counters(s->ssh, &s->counter_sock, &s->counter_raw);

	s->ev_write_on = 0;
	s->ev_write = event_new(s->base, s->fd, EV_WRITE | EV_PERSIST, session_io_cb, s);
	s->ev_read = event_new(s->base, s->fd, EV_READ | EV_PERSIST, session_io_cb, s);
	if (s->ev_write == NULL || s->ev_read == NULL) {
		session_fail(s, SFAIL_RESOURCE, "out of memory");
		return;
	}
	event_del(s->ev_deadline);
	session_set_state(s, SESSION_HANDSHAKE);
	if (s->state != SESSION_HANDSHAKE)
		return;
	session_arm_deadline(s, s->t->handshake_timeout_ms);

	/* The first call creates libssh's poll handle; only then can it join our ssh_event. */
	rc = ssh_connect(s->ssh);
	/*
	 * libssh owns the fd once ssh_connect() has set it, and its first pass
	 * may already have closed it (a reset seen by that poll): a closed fd is
	 * one it took too, or session_free() would close the number again, by
	 * then perhaps a client's. Nothing opens an fd inside that one call.
	 */
	s->ssh_took_fd = ssh_get_fd(s->ssh) == s->ssh_fd ||
	    (fcntl(s->ssh_fd, F_GETFD) == -1 && errno == EBADF);
	if (rc == SSH_ERROR) {
		session_fail(s, SFAIL_HANDSHAKE, "SSH handshake with %s failed: %s", s->peer,
		    ssh_get_error(s->ssh));
		return;
	}
	if (ssh_event_add_session(s->ssh_ev, s->ssh) != SSH_OK) {
		session_fail(s, SFAIL_RESOURCE, "ssh_event_add_session failed (out of memory?)");
		return;
	}
	event_add(s->ev_read, NULL);
	session_step(s);
}

/* The dial's news: resolved (CONNECTING, its deadline), connected (the handshake), or failed. */
static void
session_dial_cb(struct dial *d, enum dial_event ev, void *arg)
{
	struct session	*s = arg;

	switch (ev) {
	case DIAL_RESOLVED:
		snprintf(s->addresses, sizeof s->addresses, "%s", dial_addresses(d));
		session_set_state(s, SESSION_CONNECTING);
		if (s->state != SESSION_CONNECTING) {
			dial_stop(d);
			return;
		}
		event_del(s->ev_deadline);
		session_arm_deadline(s, s->t->connect_timeout_ms);
		break;
	case DIAL_CONNECTED:
		snprintf(s->peer, sizeof s->peer, "%s", dial_peer(d));
		s->fd = dial_take_fd(d);
		session_start_ssh(s);
		break;
	case DIAL_FAILED:
		session_fail(s, dial_failure(d) == DIAL_NO_NAME ? SFAIL_RESOLVE :
		    dial_failure(d) == DIAL_NO_MEMORY ? SFAIL_RESOURCE : SFAIL_CONNECT, "%s",
		    dial_error(d));
		break;
	}
}

int
session_start(struct session *s)
{
	s->ev_deadline = evtimer_new(s->base, session_deadline_cb, s);
	s->ev_kick = evtimer_new(s->base, session_kick_cb, s);
	s->ev_keepalive = evtimer_new(s->base, session_keepalive_cb, s);
	s->ev_probe = evtimer_new(s->base, session_probe_cb, s);
	if (s->ev_deadline == NULL || s->ev_kick == NULL || s->ev_keepalive == NULL ||
	    s->ev_probe == NULL) {
		session_fail(s, SFAIL_RESOURCE, "out of memory");
		return -1;
	}
	session_set_state(s, SESSION_RESOLVING);
	session_arm_deadline(s, s->t->connect_timeout_ms);
	/* Its callback may run before this returns (numeric hosts, /etc/hosts). */
	if ((s->dial = dial_start(s->base, s->dns, s->t->hostname, s->t->port, session_dial_cb,
	    s)) == NULL)
		session_fail(s, SFAIL_RESOURCE, "out of memory");
	return s->state == SESSION_DEAD ? -1 : 0;
}

void
session_free(struct session *s)
{
	int	libssh_has_fd;

	if (s == NULL)
		return;
	session_quiesce(s);
	if (s->ssh != NULL) {
		/*
		 * libssh closes its socket on I/O errors; ssh_disconnect() never
		 * closes a given fd. So: ours to close unless libssh took it and
		 * already closed it, long ago (it no longer knows an fd) or in
		 * ssh_disconnect() itself (a failed send; nothing can have opened
		 * that number again since, in this one call).
		 */
		libssh_has_fd = ssh_get_fd(s->ssh) != SSH_INVALID_SOCKET;
		if (s->ssh_ev != NULL)
			ssh_event_remove_session(s->ssh_ev, s->ssh);
		if (libssh_has_fd && ssh_is_connected(s->ssh)) {
			/*
			 * The DISCONNECT must not block the loop on a dead peer's
			 * full send buffer: libssh's socket is a blocking one, and
			 * outside sshsock its send() would wait for TCP to give up.
			 * Attached, sshsock takes it into its buffer.
			 */
			(void)evutil_make_socket_nonblocking(s->ssh_fd);
			ssh_disconnect(s->ssh);
		}
		ssh_free(s->ssh);
		/* close() also lets sshsock go: a last flush, DISCONNECT included; unread bytes die. */
		if (s->ssh_fd != -1 && (libssh_has_fd ? fcntl(s->ssh_fd, F_GETFD) != -1 :
		    !s->ssh_took_fd))
			close(s->ssh_fd);
	} else if (s->ssh_fd != -1)
		close(s->ssh_fd);
	if (s->ssh_ev != NULL)
		ssh_event_free(s->ssh_ev);
	if (s->ev_read != NULL)
		event_free(s->ev_read);
	if (s->ev_write != NULL)
		event_free(s->ev_write);
	if (s->ev_deadline != NULL)
		event_free(s->ev_deadline);
	if (s->ev_kick != NULL)
		event_free(s->ev_kick);
	if (s->ev_keepalive != NULL)
		event_free(s->ev_keepalive);
	sockio_free(&s->io);
	if (s->ev_probe != NULL)
		event_free(s->ev_probe);
	dial_free(s->dial);
	if (s->fd != -1)
		evutil_closesocket(s->fd);
	free(s);
}

enum session_state
session_state(const struct session *s)
{
	return s->state;
}

enum session_failure
session_failure(const struct session *s)
{
	return s->failure;
}

const char *
session_error(const struct session *s)
{
	return s->error;
}

const char *
session_peer(const struct session *s)
{
	return s->peer;
}

const char *
session_addresses(const struct session *s)
{
	return s->addresses;
}

const char *
session_hostkey(const struct session *s)
{
	return s->hostkey;
}

const char *
session_auth_used(const struct session *s)
{
	return s->auth_used;
}

ssh_session
session_ssh(struct session *s)
{
	return s->ssh;
}

int
session_output_pending(const struct session *s)
{
	return s->ssh != NULL && ((ssh_get_status(s->ssh) & SSH_WRITE_PENDING) != 0 ||
	    sockio_blocked(&s->io));
}

uint64_t
session_bytes_in(const struct session *s)
{
	return s->counter_sock.in_bytes;
}

uint64_t
session_bytes_out(const struct session *s)
{
	return s->counter_sock.out_bytes;
}
