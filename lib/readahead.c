/*
 * readahead.c: a read-ahead buffer under libssh's socket (see readahead.h).
 *
 * Why interposition and not a patch: libssh's 4 KiB read is a compile-time
 * constant of the distribution's library, and its socket layer is private.
 * Defining recv/poll/close in the program is the one place where its reads
 * can be batched without carrying a fork of libssh.
 *
 * Invariants:
 * - Only fds attached here are touched; any other call is passed through
 *   unchanged (recvfrom, ppoll and the close system call stand for the
 *   interposed functions, so nothing recurses).
 * - Bytes are handed out in order and exactly once; EOF and errors reach the
 *   caller only once the buffer is empty.
 * - The buffer dies with the fd: close() of an attached fd detaches it
 *   first, so a later fd with the same number never sees stale bytes.
 */
#undef _FORTIFY_SOURCE		/* we define recv() and poll(): no inline wrappers */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "readahead.h"

#if defined(__linux__)

#include <poll.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#define RA_SLOTS	4	/* sessions alive at once: one, plus one being freed */

struct ra {
	int	 fd;		/* -1: free slot */
	char	*buf;		/* READAHEAD_SIZE bytes, kept for the next attach */
	size_t	 off, len;	/* unread bytes are buf[off .. off+len) */
};

static struct ra	ra_slots[RA_SLOTS] = {
	{ -1, NULL, 0, 0 }, { -1, NULL, 0, 0 }, { -1, NULL, 0, 0 }, { -1, NULL, 0, 0 }
};
static int		ra_attached;	/* fast path: nothing attached, nothing to look up */

static struct ra *
ra_find(int fd)
{
	int	i;

	if (ra_attached == 0 || fd < 0)
		return NULL;
	for (i = 0; i < RA_SLOTS; i++) {
		if (ra_slots[i].fd == fd)
			return &ra_slots[i];
	}
	return NULL;
}

int
readahead_attach(int fd)
{
	const char	*env = getenv("CONNECT_READAHEAD");
	struct ra	*r = NULL;
	int		 i;

	if (fd < 0 || (env != NULL && strcmp(env, "0") == 0))
		return 0;
	if (ra_find(fd) != NULL)
		return 1;
	for (i = 0; i < RA_SLOTS && r == NULL; i++) {
		if (ra_slots[i].fd == -1)
			r = &ra_slots[i];
	}
	if (r == NULL)
		return 0;
	if (r->buf == NULL && (r->buf = malloc(READAHEAD_SIZE)) == NULL)
		return 0;
	r->fd = fd;
	r->off = r->len = 0;
	ra_attached++;
	return 1;
}

void
readahead_detach(int fd)
{
	struct ra	*r = ra_find(fd);

	if (r == NULL)
		return;
	r->fd = -1;
	r->off = r->len = 0;
	ra_attached--;
}

size_t
readahead_pending(int fd)
{
	struct ra	*r = ra_find(fd);

	return r != NULL ? r->len : 0;
}

ssize_t
recv(int fd, void *buf, size_t len, int flags)
{
	struct ra	*r;
	ssize_t		 n;
	size_t		 take;

	if (flags != 0 || (r = ra_find(fd)) == NULL)
		return recvfrom(fd, buf, len, flags, NULL, NULL);
	if (r->len == 0) {
		if (len >= READAHEAD_SIZE)
			return recvfrom(fd, buf, len, 0, NULL, NULL);
		/* One system call for what libssh would take in many 4 KiB passes. */
		if ((n = recvfrom(fd, r->buf, READAHEAD_SIZE, 0, NULL, NULL)) <= 0)
			return n;
		r->off = 0;
		r->len = (size_t)n;
	}
	take = len < r->len ? len : r->len;
	memcpy(buf, r->buf + r->off, take);
	r->off += take;
	r->len -= take;
	return (ssize_t)take;
}

int
poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	struct timespec	 ts, *tsp = NULL;
	struct ra	*r;
	nfds_t		 i;
	int		 ready = 0;

	if (ra_attached != 0) {
		/* Buffered bytes make the fd readable now: answer without the kernel. */
		for (i = 0; i < nfds; i++) {
			r = ra_find(fds[i].fd);
			if (r != NULL && r->len > 0 && (fds[i].events & POLLIN))
				ready++;
		}
		if (ready > 0) {
			for (i = 0; i < nfds; i++) {
				r = ra_find(fds[i].fd);
				fds[i].revents = r != NULL && r->len > 0 &&
				    (fds[i].events & POLLIN) ? POLLIN : 0;
			}
			return ready;
		}
	}
	if (timeout >= 0) {
		ts.tv_sec = timeout / 1000;
		ts.tv_nsec = (long)(timeout % 1000) * 1000000L;
		tsp = &ts;
	}
	return ppoll(fds, nfds, tsp, NULL);
}

int
close(int fd)
{
	readahead_detach(fd);
	return (int)syscall(SYS_close, fd);
}

#else	/* not Linux: libssh reads its socket itself */

int
readahead_attach(int fd)
{
	(void)fd;
	return 0;
}

void
readahead_detach(int fd)
{
	(void)fd;
}

size_t
readahead_pending(int fd)
{
	(void)fd;
	return 0;
}

#endif
