/* conn.h: one accepted local connection carried by one direct-tcpip channel. */
#ifndef CONNECT_CONN_H
#define CONNECT_CONN_H

#include <sys/queue.h>
#include <stdint.h>

#include <event2/event.h>

struct forward;
struct session;

/*
 * Memory bound per connection: client bytes are read only as far as the
 * channel window lets libssh send them at once (nothing queues in connect
 * but one read left over during a key re-exchange; libssh's output holds
 * at most one window, 2 MiB with OpenSSH's sshd). We stop taking channel
 * data once CONN_DOWN_HIGH bytes wait for the local client; libssh then
 * buffers at most its receive window (CONN_WINDOW, below), which a pull
 * drains completely. So one connection holds at most about 10 MiB, however
 * slow either end is (8 MiB of it only after the client kept up with a fast
 * download: the window grows only then).
 */
#define CONN_DOWN_HIGH	(1024 * 1024)
#define CONN_DOWN_LOW	(256 * 1024)
/*
 * Largest single client read = channel write. libssh's socket is blocking
 * and a flush send()s all it holds, so this is also how long one write can
 * hold the loop on a slow uplink: 256 KiB, not more.
 */
#define CONN_IO_MAX	(256 * 1024)
#define CONN_OPEN_TIMEOUT_MS	30000	/* the server must answer a channel open by then */
/*
 * Client bytes taken while a conn waits for its channel (HELD, OPENING):
 * reading is how a client that leaves is seen, and what it sent waits here,
 * unsent, until the channel is open. Past this we stop reading (TCP holds
 * the rest) and watch only for the close, where the platform can (EV_CLOSED).
 */
#define CONN_WAIT_BUF		(64 * 1024)
/*
 * The channel's receive window. libssh opens channels with 64,000 bytes and
 * tops them up to 1,280,000 (no option); over a long round trip throughput
 * is window / RTT, and OpenSSH uses 2 MiB. We grow it to CONN_WINDOW while
 * the local client keeps up (ssh_channel_read with a large count is the only
 * way libssh offers), topping it up each time half of it was used. A client
 * that stops reading stops the top-ups: libssh then holds at most this much.
 */
#define CONN_WINDOW		(8 * 1024 * 1024)
/*
 * The most libssh may hold of a channel's data for a server that keeps to
 * the window: one window (CONN_WINDOW, and the 1,280,000 bytes libssh up to
 * 0.10 re-grants on a read whatever it still holds). Up to 0.10 libssh
 * keeps data sent past the window (to 256 MiB a channel, then drops it):
 * a channel whose server sends more is closed, its client reset.
 */
#define CONN_LIBSSH_MAX		(CONN_WINDOW + 2 * 1024 * 1024)

enum conn_state {
	CONN_HELD = 0,	/* accepted while no session is ready: waiting */
	CONN_OPENING,	/* channel open requested, no answer yet */
	/*
	 * The client left while its open was unanswered: its socket is closed
	 * (by conn_reap), only the channel waits for the server's answer, as
	 * SSH cannot cancel an open; then it is closed and the conn is DEAD.
	 */
	CONN_ORPHAN,
	CONN_OPEN,	/* bytes flow; each direction may be half-closed */
	CONN_DEAD	/* over: waiting for conn_free() outside any callback */
};

struct conn;
/*
 * Told when a conn has work for its owner's reaper, which runs from a fresh
 * event: it became DEAD (free it), or an ORPHAN (conn_reap closes its socket).
 */
typedef void (*conn_reap_fn)(struct conn *, void *arg);

/* The owner's list of conns (the supervisor's): walked with conn_first() and conn_next(). */
TAILQ_HEAD(conn_list, conn);
void	conn_list_add(struct conn_list *l, struct conn *c);
void	conn_list_remove(struct conn_list *l, struct conn *c);
struct conn *conn_next(const struct conn *c);

enum conn_state conn_state(const struct conn *c);
/* The session it is attached to, NULL while held. */
struct session *conn_session(const struct conn *c);
/* Its forward's name, for messages. */
const char *conn_forward_name(const struct conn *c);

/* Wrap an accepted socket (state HELD). Returns NULL on memory exhaustion (fd closed). */
struct conn *conn_new(struct event_base *base, struct forward *fwd, evutil_socket_t fd,
	    conn_reap_fn fn, void *arg);

/*
 * Keep a HELD conn at most timeout_ms waiting for a session, then close it.
 * Its client is watched meanwhile: one that closes or resets is dropped at
 * once, nothing of it ever sent (HAProxy's abortonclose): a request whose
 * client gave up must not run later, and it must not keep a hold slot.
 */
void	conn_hold(struct conn *c, int timeout_ms);

/* HELD -> OPENING: open its channel on a READY session. */
void	conn_attach(struct conn *c, struct session *s);

/*
 * The session died before the server answered this conn's channel open:
 * no client byte was sent yet (what it sent waits until the channel is
 * open), so nothing reached the remote end and the conn can wait for the
 * next session. Returns 1 if the conn is HELD again (the caller re-arms its
 * hold time), 0 if it is past that point and must be detached.
 */
int	conn_rehold(struct conn *c);

/* Milliseconds since the conn was accepted. */
long	conn_age_ms(const struct conn *c);

/*
 * After each pump: settle a pending open, move bytes both ways, pass EOFs
 * on. An open the server has confirmed is settled at once; one still
 * unanswered is asked again only while *opens_left > 0 (decremented), the
 * caller's budget for one pass: each such ask is a libssh packet pass of its
 * own, and 500 pending opens asked on every pass made a burst of new
 * connections quadratic. A refusal is seen once the conn's turn comes.
 */
void	conn_step(struct conn *c, int *opens_left);

/* The session is gone (its channels with it): close the local side now. */
void	conn_detach(struct conn *c, const char *why);

/* Its session is being freed with it (the tunnel goes away): forget the channel. */
void	conn_forget(struct conn *c);

/* End it (shutdown, hold limit): close both sides. */
void	conn_close(struct conn *c, const char *why);

/*
 * From the owner's reaper: close an ORPHAN's client socket (its fd is free
 * at once; only the channel waits). Returns 1 if the conn is DEAD: free it.
 */
int	conn_reap(struct conn *c);

/* Free a DEAD conn; only from the owner's reaper, never from a callback. */
void	conn_free(struct conn *c);

const char *conn_state_name(enum conn_state);

#endif
