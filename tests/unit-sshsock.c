/*
 * unit-sshsock.c: sshsock.c on socket pairs: reads ahead, poll answers,
 * batched sends, a closed fd.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sshsock.h"
#include "unit.h"

/* Remove the files test_files() left. */
static int	flush_asked;

static void
note_flush(void *arg)
{
	(void)arg;
	flush_asked++;
}

/*
 * sshsock, the batched I/O under libssh's socket (Linux): bytes come out in order and
 * once, poll() says readable while any are buffered, EOF only after them, and
 * close() drops the buffer so that a new fd with the same number starts clean.
 */
static void
test_sshsock(void)
{
	static char	 txpat[SSHSOCK_TXBUF + 4096], in2[sizeof txpat];
	char		 out[3 * 4096 + 7], in[sizeof out], buf[4096];
	struct pollfd	 pfd;
	size_t		 got = 0, i, sent;
	ssize_t		 n;
	int		 sv[2], sv2[2], attached, ok = 1;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
		UNIT_FAIL("sshsock: socketpair", "%s", strerror(errno));
		return;
	}
	attached = sshsock_attach(sv[0], note_flush, NULL);
#if defined(__linux__)
	UNIT_CHECK("sshsock: attaches on Linux", attached == 1, "not attached");
#else
	UNIT_CHECK("sshsock: does nothing here", attached == 0, "attached");
#endif
	for (i = 0; i < sizeof out; i++)
		out[i] = (char)(i * 7 + i / 251);
	if (write(sv[1], out, sizeof out) != (ssize_t)sizeof out)
		ok = 0;
	close(sv[1]);
	/* libssh's way: poll, then recv at most 4 KiB. */
	while (ok) {
		pfd.fd = sv[0];
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, 1000) != 1 || !(pfd.revents & (POLLIN | POLLHUP))) {
			ok = 0;
			break;
		}
		if ((n = recv(sv[0], buf, got == 0 ? 100 : sizeof buf, 0)) <= 0)
			break;
		if (got + (size_t)n > sizeof in) {
			ok = 0;
			break;
		}
		memcpy(in + got, buf, (size_t)n);
		got += (size_t)n;
		if (attached && got == 100)
			UNIT_CHECK("sshsock: the rest of the first read is buffered",
			    sshsock_pending(sv[0]) == sizeof out - 100, "pending %zu",
			    sshsock_pending(sv[0]));
	}
	UNIT_CHECK("sshsock: every byte once, in order, then EOF", ok && got == sizeof out &&
	    memcmp(in, out, sizeof out) == 0, "got %zu of %zu bytes", got, sizeof out);
	if (attached) {
		/* Drained: "not readable" is assumed for a zero-timeout poll until a wake-up. */
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv2) == 0) {
			sshsock_attach(sv2[0], note_flush, NULL);
			if (write(sv2[1], "ab", 2) == 2 && recv(sv2[0], buf, sizeof buf, 0) == 2 &&
			    write(sv2[1], "cd", 2) == 2) {
				pfd.fd = sv2[0];
				pfd.events = POLLIN;
				UNIT_CHECK("sshsock: after a draining read, not readable until a wake-up",
				    poll(&pfd, 1, 0) == 0, "revents %#x", (unsigned)pfd.revents);
				sshsock_wake(sv2[0], 1, 0);
				UNIT_CHECK("sshsock: after the wake-up, the kernel is asked again",
				    poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN), "revents %#x",
				    (unsigned)pfd.revents);
				UNIT_CHECK("sshsock: a waiting poll always asks the kernel",
				    recv(sv2[0], buf, sizeof buf, 0) == 2 && poll(&pfd, 1, 50) == 0,
				    "revents %#x", (unsigned)pfd.revents);
			}
			/* Sends wait for the end of the pass; a full buffer takes 0, never blocks. */
			flush_asked = 0;
			for (i = 0; i < sizeof txpat; i++)
				txpat[i] = (char)(i * 13 + i / 509);
			for (sent = 0; sent < sizeof txpat; sent += (size_t)n) {
				n = send(sv2[0], txpat + sent, sizeof txpat - sent < 3000 ?
				    sizeof txpat - sent : 3000, 0);
				if (n <= 0)
					break;
			}
			UNIT_CHECK("sshsock: sends are kept for one flush, asked for once",
			    flush_asked == 1 && sent == SSHSOCK_TXBUF && n == 0,
			    "flush asked %d times, %zu bytes taken, last send %zd", flush_asked, sent, n);
			pfd.events = POLLOUT;
			UNIT_CHECK("sshsock: a full buffer is not writable",
			    poll(&pfd, 1, 0) == 0, "revents %#x", (unsigned)pfd.revents);
			UNIT_CHECK("sshsock: a flush into a full socket is blocked, not an error",
			    sshsock_flush(sv2[0]) == 1 && sshsock_blocked(sv2[0]), "not blocked");
			/* The peer reads; each wake-up lets the rest go, in order. */
			got = 0;
			for (i = 0; i < 10000 && got < sent; i++) {
				n = recv(sv2[1], in2 + got, sizeof in2 - got, MSG_DONTWAIT);
				if (n > 0)
					got += (size_t)n;
				sshsock_wake(sv2[0], 0, 1);
				if (sshsock_flush(sv2[0]) == -1)
					break;
			}
			UNIT_CHECK("sshsock: what was sent arrives once, in order", got == sent &&
			    memcmp(in2, txpat, sent) == 0 && !sshsock_blocked(sv2[0]),
			    "%zu of %zu bytes", got, sent);
			sshsock_detach(sv2[0]);
			close(sv2[0]);
			close(sv2[1]);
		}
	}
	/* Leave bytes behind, close, and get the same fd number again. */
	close(sv[0]);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv2) != 0)
		return;
	sshsock_attach(sv2[0], note_flush, NULL);
	if (write(sv2[1], "abcdef", 6) == 6 && recv(sv2[0], buf, 2, 0) == 2)
		UNIT_CHECK("sshsock: bytes left behind are buffered", !attached ||
		    sshsock_pending(sv2[0]) == 4, "pending %zu", sshsock_pending(sv2[0]));
	i = (size_t)sv2[0];
	close(sv2[0]);
	if ((sv[0] = dup(sv2[1])) != -1) {	/* the lowest free number: the one just closed */
		UNIT_CHECK("sshsock: a closed fd leaves nothing for the next one",
		    (size_t)sv[0] == i && sshsock_pending(sv[0]) == 0,
		    "fd %d (closed fd %zu), pending %zu", sv[0], i, sshsock_pending(sv[0]));
		close(sv[0]);
	}
	close(sv2[1]);
}

void
unit_sshsock(void)
{
	test_sshsock();
}
