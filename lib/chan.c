/* chan.c: a direct-tcpip channel's open, callbacks and end, the one safe way. */
#include <string.h>

#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include "chan.h"
#include "session.h"

static int
chan_data_cb(ssh_session ssh, ssh_channel ch, void *data, uint32_t len, int is_stderr,
    void *arg)
{
	struct chan	*c = arg;

	(void)ssh;
	(void)ch;
	c->cb_seen = 1;
	if (is_stderr)
		return (int)len;	/* direct-tcpip has no stderr; drop anything odd */
	return c->ops->data(c->arg, data, len);
}

static void
chan_eof_cb(ssh_session ssh, ssh_channel ch, void *arg)
{
	struct chan	*c = arg;

	(void)ssh;
	(void)ch;
	c->cb_seen = c->remote_eof = 1;
	if (c->ops->eof != NULL)
		c->ops->eof(c->arg);
}

static void
chan_close_cb(ssh_session ssh, ssh_channel ch, void *arg)
{
	struct chan	*c = arg;

	(void)ssh;
	(void)ch;
	c->cb_seen = c->remote_eof = c->remote_closed = 1;
	if (c->ops->close != NULL)
		c->ops->close(c->arg);
}

int
chan_new(struct chan *c, struct session *sess, const struct chan_ops *ops, void *arg)
{
	memset(c, 0, sizeof *c);
	c->sess = sess;
	c->ops = ops;
	c->arg = arg;
	if ((c->ch = ssh_channel_new(session_ssh(sess))) == NULL)
		return -1;
	/* Before the open: data arriving with the confirmation must not bypass them. */
	c->cbs.userdata = c;
	c->cbs.channel_data_function = chan_data_cb;
	c->cbs.channel_eof_function = chan_eof_cb;
	c->cbs.channel_close_function = chan_close_cb;
	ssh_callbacks_init(&c->cbs);
	ssh_set_channel_callbacks(c->ch, &c->cbs);
	return 0;
}

int
chan_open(struct chan *c, const char *host, int port, const char *orig_host,
    int orig_port)
{
	int	rc;

	rc = ssh_channel_open_forward(c->ch, host, port, orig_host, orig_port);
	if (rc != SSH_OK && rc != SSH_AGAIN && c->cb_seen) {
		/* Opened, answered and closed within one libssh pass: not a refusal. */
		c->remote_eof = c->remote_closed = 1;
		rc = SSH_OK;
	}
	return rc;
}

void
chan_close(struct chan *c)
{
	if (c->ch == NULL || c->remote_closed || !ssh_channel_is_open(c->ch))
		return;
	ssh_channel_close(c->ch);
	session_kick(c->sess);
}

void
chan_forget(struct chan *c)
{
	/* ssh_free() frees the channel with the session: forget it, call nothing on it. */
	c->ch = NULL;
	c->sess = NULL;
}

/*
 * Data for a channel we freed, until the server's CLOSE comes: dropped.
 * Without a callback libssh (up to 0.10) buffers it, window or not: a
 * server that ignores both the window and our CLOSE would grow it forever.
 */
static int
chan_discard_cb(ssh_session ssh, ssh_channel ch, void *data, uint32_t len, int is_stderr,
    void *arg)
{
	(void)ssh;
	(void)ch;
	(void)data;
	(void)is_stderr;
	(void)arg;
	return (int)len;
}

/* Never freed, no userdata: safe for libssh to call whenever the CLOSE comes, or never. */
static struct ssh_channel_callbacks_struct chan_discard_cbs = {
	.size = sizeof(struct ssh_channel_callbacks_struct),
	.channel_data_function = chan_discard_cb,
};

void
chan_free(struct chan *c)
{
	if (c->ch == NULL)
		return;
	/* Ours off first: libssh keeps the channel until the server's CLOSE arrives. */
	ssh_remove_channel_callbacks(c->ch, &c->cbs);
	ssh_set_channel_callbacks(c->ch, &chan_discard_cbs);
	if (!c->remote_closed && ssh_channel_is_open(c->ch))
		ssh_channel_close(c->ch);
	ssh_channel_free(c->ch);
	c->ch = NULL;
	if (c->sess != NULL)
		session_kick(c->sess);
}
