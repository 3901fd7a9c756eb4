/*
 * sockio.h: the session's socket, as the session sees it: batched through
 * sshsock where that is on and live, libssh's own I/O otherwise. The
 * session asks the same questions either way (bytes read ahead? output
 * blocked? flush) and never which it is.
 */
#ifndef CONNECT_SOCKIO_H
#define CONNECT_SOCKIO_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

struct sockio {
	int		 fd;		/* libssh's socket; -1 before attach */
	int		 on;		/* sshsock took it */
	int		 live;		/* our recv() has served libssh: checked once */
	uint64_t	 in0;		/* socket bytes at attach: the live-check's start */
	struct event	*ev_flush;	/* end of a loop pass: send what sshsock holds */
};

void	sockio_init(struct sockio *io);

/*
 * READY: batch fd's I/O through sshsock (not when CONNECT_SSHSOCK=0 or on a
 * platform without it). flush_cb(arg) runs at the end of a loop pass in
 * which packets were queued. in_bytes: libssh's socket counter now.
 * Returns 1 if on, 0 if libssh keeps its own I/O.
 */
int	sockio_attach(struct sockio *io, struct event_base *base, int fd, uint64_t in_bytes,
	    event_callback_fn flush_cb, void *arg);

/* Is sshsock carrying it? */
int	sockio_on(const struct sockio *io);

/* Bytes read from the kernel that libssh has not taken: they wake no EV_READ. */
size_t	sockio_pending(const struct sockio *io);

/* Are packets waiting for the kernel to take them (wait for EV_WRITE)? */
int	sockio_blocked(const struct sockio *io);

/* Send what is queued, never waiting. Returns 0, 1 (kernel full) or -1 with errno. */
int	sockio_flush(struct sockio *io);

/* libevent saw the socket readable and/or writable. */
void	sockio_wake(struct sockio *io, int readable, int writable);

/*
 * After a pump: once libssh has read (in_bytes grew), our recv() must have
 * served it; if not, this libssh reads another way: detach, say so once.
 */
void	sockio_check(struct sockio *io, uint64_t in_bytes);

/* Nothing more runs (the session quiesces); sockio_free() frees. */
void	sockio_stop(struct sockio *io);
void	sockio_free(struct sockio *io);

#endif
