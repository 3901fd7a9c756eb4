/*
 * sshsock.c: what the program knows about libssh's socket (see sshsock.h).
 *
 * Why interposition and not a patch: the 4 KiB read and the poll before every
 * read and after every packet are inside the distribution's libssh, whose
 * socket layer is private. Defining recv/send/poll/close in the program is
 * the one place where they can be batched without carrying a fork of libssh.
 *
 * Invariants:
 * - Only attached fds are touched; any other call goes to the C library
 *   unchanged (recvfrom, sendto, ppoll and the close system call stand for
 *   the interposed functions, so nothing recurses).
 * - Bytes are handed out in order and exactly once; EOF and errors reach the
 *   caller only once the buffer is empty.
 * - "Not readable" and "not writable" are only ever assumed until the next
 *   wake-up: libevent's level-triggered EV_READ/EV_WRITE on the same socket
 *   fire while the kernel has data or room, and each wake-up forgets them.
 *   Nothing is ever assumed for a poll() that may wait (timeout != 0).
 * - "Writable" is assumed freely: send() cannot block, at worst it takes 0.
 * - The buffer dies with the fd: close() of an attached fd detaches it
 *   first, so a later fd with the same number never sees stale bytes.
 */
#undef _FORTIFY_SOURCE		/* we define recv() and poll(): no inline wrappers */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sshsock.h"

#if defined(__linux__)

#include <poll.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#define SS_SLOTS	4	/* sessions alive at once: one, plus one being freed */

struct ss {
	int	 fd;		/* -1: free slot */
	char	*buf;		/* SSHSOCK_RXBUF bytes, kept for the next attach */
	size_t	 off, len;	/* unread bytes are buf[off .. off+len) */
	int	 rx_drained;	/* a read emptied the kernel's queue: not readable until a wake */
	char	*tx;		/* SSHSOCK_TXBUF bytes: packets of one loop pass, sent together */
	size_t	 txlen;
	int	 tx_blocked;	/* the kernel took less than offered: wait for a wake (EV_WRITE) */
	int	 err;		/* a send failed: every later call fails with it */
	unsigned long long delivered;	/* bytes our recv() handed out: the live-check */
	int	 bypass;	/* CONNECT_SSHSOCK=bypass-recv: recv() not ours, as some libssh */
	void	(*need_flush)(void *);
	void	*arg;
};

static struct ss	ss_slots[SS_SLOTS] = { { .fd = -1 }, { .fd = -1 }, { .fd = -1 }, { .fd = -1 } };
static int		ss_attached;	/* fast path: nothing attached, nothing to look up */

static struct ss *
ss_find(int fd)
{
	int	i;

	if (ss_attached == 0 || fd < 0)
		return NULL;
	for (i = 0; i < SS_SLOTS; i++) {
		if (ss_slots[i].fd == fd)
			return &ss_slots[i];
	}
	return NULL;
}

int
sshsock_attach(int fd, void (*need_flush)(void *), void *arg)
{
	const char	*env = getenv("CONNECT_SSHSOCK");
	struct ss	*r = NULL;
	int		 i;

	if (fd < 0 || need_flush == NULL || (env != NULL && strcmp(env, "0") == 0))
		return 0;
	if (ss_find(fd) != NULL)
		return 1;
	for (i = 0; i < SS_SLOTS && r == NULL; i++) {
		if (ss_slots[i].fd == -1)
			r = &ss_slots[i];
	}
	if (r == NULL)
		return 0;
	if (r->buf == NULL && (r->buf = malloc(SSHSOCK_RXBUF)) == NULL)
		return 0;
	if (r->tx == NULL && (r->tx = malloc(SSHSOCK_TXBUF)) == NULL)
		return 0;
	r->fd = fd;
	r->off = r->len = r->txlen = 0;
	r->rx_drained = r->tx_blocked = r->err = 0;
	r->delivered = 0;
	/* Tests: a libssh that reads its socket without recv(), for the live-check. */
	r->bypass = env != NULL && strcmp(env, "bypass-recv") == 0;
	r->need_flush = need_flush;
	r->arg = arg;
	ss_attached++;
	return 1;
}

/* Send what is buffered without waiting. Returns 0 (all out), 1 (some left), -1 (failed). */
static int
ss_flush(struct ss *r)
{
	ssize_t	n;

	if (r->err != 0) {
		errno = r->err;
		return -1;
	}
	while (r->txlen > 0) {
		n = sendto(r->fd, r->tx, r->txlen, MSG_DONTWAIT | MSG_NOSIGNAL, NULL, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			r->tx_blocked = 1;
			return 1;
		}
		if (n == -1) {
			r->err = errno;
			return -1;
		}
		if ((size_t)n < r->txlen)
			memmove(r->tx, r->tx + n, r->txlen - (size_t)n);
		r->txlen -= (size_t)n;
	}
	r->tx_blocked = 0;
	return 0;
}

void
sshsock_detach(int fd)
{
	struct ss	*r = ss_find(fd);

	if (r == NULL)
		return;
	(void)ss_flush(r);	/* best effort: a last close or disconnect message */
	r->fd = -1;
	r->off = r->len = r->txlen = 0;
	ss_attached--;
}

int
sshsock_flush(int fd)
{
	struct ss	*r = ss_find(fd);

	return r != NULL ? ss_flush(r) : 0;
}

int
sshsock_blocked(int fd)
{
	struct ss	*r = ss_find(fd);

	return r != NULL && r->tx_blocked && r->txlen > 0;
}

size_t
sshsock_pending(int fd)
{
	struct ss	*r = ss_find(fd);

	return r != NULL ? r->len : 0;
}

unsigned long long
sshsock_delivered(int fd)
{
	struct ss	*r = ss_find(fd);

	return r != NULL ? r->delivered : 0;
}

void
sshsock_wake(int fd, int readable, int writable)
{
	struct ss	*r = ss_find(fd);

	if (r == NULL)
		return;
	if (readable)
		r->rx_drained = 0;
	if (writable)
		r->tx_blocked = 0;
}

ssize_t
recv(int fd, void *buf, size_t len, int flags)
{
	struct ss	*r;
	ssize_t		 n;
	size_t		 take;

	if (flags != 0 || (r = ss_find(fd)) == NULL || r->bypass)
		return recvfrom(fd, buf, len, flags, NULL, NULL);
	if (r->len == 0) {
		/* One system call for what libssh would take in many 4 KiB passes. */
		if ((n = recvfrom(fd, r->buf, SSHSOCK_RXBUF, 0, NULL, NULL)) <= 0)
			return n;
		r->off = 0;
		r->len = (size_t)n;
		r->rx_drained = (size_t)n < SSHSOCK_RXBUF;	/* a short read took it all */
	}
	take = len < r->len ? len : r->len;
	memcpy(buf, r->buf + r->off, take);
	r->off += take;
	r->len -= take;
	r->delivered += take;
	return (ssize_t)take;
}

ssize_t
send(int fd, const void *buf, size_t len, int flags)
{
	struct ss	*r;
	size_t		 take;

	if ((r = ss_find(fd)) == NULL)
		return sendto(fd, buf, len, flags, NULL, 0);
	if (r->err != 0) {
		errno = r->err;
		return -1;
	}
	/*
	 * Keep it for the end of this loop pass: many requests' packets then
	 * leave in one system call and fewer TCP segments. A full buffer takes
	 * what fits; libssh keeps the rest and waits for POLLOUT.
	 */
	take = SSHSOCK_TXBUF - r->txlen;
	if (take > len)
		take = len;
	if (take == 0)
		return 0;
	memcpy(r->tx + r->txlen, buf, take);
	if (r->txlen == 0)
		r->need_flush(r->arg);
	r->txlen += take;
	return (ssize_t)take;
}

/* What is known of one attached entry: its revents, or -1 if the kernel must be asked. */
static int
ss_known(const struct ss *r, short events)
{
	short	rev = 0;

	if (events & POLLIN) {
		if (r->len > 0)
			rev |= POLLIN;
		else if (!r->rx_drained)
			return -1;
	}
	if ((events & POLLOUT) && r->txlen < SSHSOCK_TXBUF)
		rev |= POLLOUT;	/* room in our buffer: send() will take something */
	return rev;
}

int
poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	struct timespec	 ts, *tsp = NULL;
	struct ss	*r;
	nfds_t		 i;
	int		 rev, ready = 0, unknown = 0, rc;

	if (ss_attached != 0) {
		/* What is known goes into revents now; ppoll() below overwrites all of it. */
		for (i = 0; i < nfds; i++) {
			r = ss_find(fds[i].fd);
			if (r == NULL || (rev = ss_known(r, fds[i].events)) < 0) {
				unknown++;
				rev = 0;
			}
			fds[i].revents = (short)rev;
			ready += rev != 0;
		}
		/* Something is ready now, or nothing can change without a wake-up: no system call. */
		if (ready > 0 || (unknown == 0 && timeout == 0))
			return ready;
	}
	if (timeout >= 0) {
		ts.tv_sec = timeout / 1000;
		ts.tv_nsec = (long)(timeout % 1000) * 1000000L;
		tsp = &ts;
	}
	rc = ppoll(fds, nfds, tsp, NULL);
	for (i = 0; rc > 0 && ss_attached != 0 && i < nfds; i++) {
		if ((r = ss_find(fds[i].fd)) == NULL)
			continue;
		/* The kernel's answer is news: forget what was assumed. */
		if (fds[i].revents & (POLLIN | POLLHUP | POLLERR))
			r->rx_drained = 0;
	}
	return rc;
}

int
close(int fd)
{
	sshsock_detach(fd);
	return (int)syscall(SYS_close, fd);
}

#else	/* not Linux: libssh does its own socket I/O */

unsigned long long
sshsock_delivered(int fd)
{
	(void)fd;
	return 0;
}

int
sshsock_attach(int fd, void (*need_flush)(void *), void *arg)
{
	(void)fd;
	(void)need_flush;
	(void)arg;
	return 0;
}

int
sshsock_flush(int fd)
{
	(void)fd;
	return 0;
}

int
sshsock_blocked(int fd)
{
	(void)fd;
	return 0;
}

void
sshsock_detach(int fd)
{
	(void)fd;
}

size_t
sshsock_pending(int fd)
{
	(void)fd;
	return 0;
}

void
sshsock_wake(int fd, int readable, int writable)
{
	(void)fd;
	(void)readable;
	(void)writable;
}

#endif
