/*
 * chan.h: one direct-tcpip channel on a session, as conn (a local
 * client's) and probe (a readiness check's) both use it: made with its
 * callbacks set before the open, opened without blocking, closed and freed
 * the one safe way.
 *
 * libssh traps this keeps in one place (LIBSSH-NOTES): callbacks set after
 * the open miss data that came with the confirmation; an open "refused"
 * after a callback already ran was opened, answered and closed in one pass;
 * freeing a channel whose callbacks are still set lets libssh call into
 * freed memory when the server's CLOSE arrives; ssh_free() of the session
 * frees every channel without calling back, so a dead session's channels
 * are forgotten, never touched.
 */
#ifndef CONNECT_CHAN_H
#define CONNECT_CHAN_H

#include <stdint.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

struct session;

/*
 * What the owner does with the channel's events. They run inside libssh's
 * packet handling: record, never act (nothing freed, no channel call).
 */
struct chan_ops {
	/* Data from the server: return how much was taken (the rest is offered again). */
	int	(*data)(void *arg, void *data, uint32_t len);
	void	(*eof)(void *arg);	/* optional: the server sent EOF */
	void	(*close)(void *arg);	/* optional: the server closed the channel */
};

struct chan {
	ssh_channel		 ch;		/* NULL: none, or forgotten with its session */
	struct session		*sess;
	const struct chan_ops *ops;
	void			*arg;
	struct ssh_channel_callbacks_struct cbs;
	int			 cb_seen;	/* a callback ran: the server answered the open */
	int			 remote_eof;
	int			 remote_closed;
};

/*
 * Make the channel on sess (which must be READY), its callbacks set before
 * any open. Returns 0, or -1 (libssh's error is the session's).
 */
int	chan_new(struct chan *c, struct session *sess, const struct chan_ops *ops,
	    void *arg);

/*
 * Ask for host:port (orig: what the server is told the connection comes
 * from). Call again, same arguments, after each pump while it returns
 * SSH_AGAIN. Returns SSH_OK when opened (also when it was opened, answered
 * and closed within one libssh pass), SSH_AGAIN, or SSH_ERROR when refused
 * or the session failed (ssh_get_error_code() tells: SSH_REQUEST_DENIED is
 * the server's refusal).
 */
int	chan_open(struct chan *c, const char *host, int port, const char *orig_host,
	    int orig_port);

/* Send CLOSE now if the channel is open; libssh frees it once the server's CLOSE comes. */
void	chan_close(struct chan *c);

/* The session is gone (or going): forget the channel, call nothing on it. */
void	chan_forget(struct chan *c);

/* Callbacks off, CLOSE if still open, free; a pump is asked for to send it. Safe when none. */
void	chan_free(struct chan *c);

#endif
