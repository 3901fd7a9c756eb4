/* sockio.c: sshsock on or off, behind one set of questions (see sockio.h). */
#include "log.h"
#include "sockio.h"
#include "sshsock.h"

void
sockio_init(struct sockio *io)
{
	io->fd = -1;
	io->on = io->live = 0;
	io->in0 = 0;
	io->ev_flush = NULL;
}

/* sshsock has bytes to send: after every callback already queued in this pass. */
static void
sockio_need_flush(void *arg)
{
	struct sockio	*io = arg;

	if (io->ev_flush != NULL)
		event_active(io->ev_flush, EV_TIMEOUT, 0);
}

int
sockio_attach(struct sockio *io, struct event_base *base, int fd, uint64_t in_bytes,
    event_callback_fn flush_cb, void *arg)
{
	io->fd = fd;
	if ((io->ev_flush = event_new(base, -1, 0, flush_cb, arg)) == NULL ||
	    !sshsock_attach(fd, sockio_need_flush, io))
		return 0;
	io->on = 1;
	io->in0 = in_bytes;
	return 1;
}

int
sockio_on(const struct sockio *io)
{
	return io->on;
}

size_t
sockio_pending(const struct sockio *io)
{
	return io->on ? sshsock_pending(io->fd) : 0;
}

int
sockio_blocked(const struct sockio *io)
{
	return io->on && sshsock_blocked(io->fd);
}

int
sockio_flush(struct sockio *io)
{
	return io->on ? sshsock_flush(io->fd) : 0;
}

void
sockio_wake(struct sockio *io, int readable, int writable)
{
	if (io->on)
		sshsock_wake(io->fd, readable, writable);
}

void
sockio_check(struct sockio *io, uint64_t in_bytes)
{
	static int	said;

	if (!io->on || io->live || in_bytes == io->in0)
		return;
	if (sshsock_delivered(io->fd) > 0) {
		io->live = 1;
		return;
	}
	sshsock_detach(io->fd);
	io->on = 0;
	if (!said++)
		log_warn("libssh reads its socket without recv(): batched socket I/O is off "
		    "(correct, slower)");
}

void
sockio_stop(struct sockio *io)
{
	if (io->ev_flush != NULL)
		event_del(io->ev_flush);
}

void
sockio_free(struct sockio *io)
{
	if (io->ev_flush != NULL)
		event_free(io->ev_flush);
	io->ev_flush = NULL;
}
