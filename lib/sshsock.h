/*
 * sshsock.h: what the program knows about libssh's socket, so that libssh's
 * own poll()s, recv()s and send()s cost fewer system calls.
 *
 * libssh 0.10 reads its socket 4 KiB per pass (compile-time MAX_BUF_SIZE),
 * each read after a poll(), and flushes every packet it sends with another
 * poll(): two or three system calls per 4 KiB down and one extra per request.
 * On Linux the program defines recv(), send(), poll() and close() itself (ELF
 * symbol interposition: libssh's calls bind to the executable's definitions
 * first). For an attached fd:
 * - recv() reads up to SSHSOCK_RXBUF from the kernel at once and hands libssh
 *   its 4 KiB pieces from memory;
 * - send() keeps packets in a buffer that the loop sends in one system call at
 *   the end of its pass (need_flush, given at attach, asks for that pass);
 *   sending never blocks (MSG_DONTWAIT); a full buffer takes what fits, and
 *   libssh keeps the rest until poll() says there is room again;
 * - poll() with a zero timeout is answered from what is known: readable while
 *   bytes are buffered, not readable once a read emptied the kernel's queue
 *   (until the next wake-up: sshsock_wake, from the libevent callback of that
 *   fd), writable while the send buffer has room. Only what is not known goes
 *   to the kernel.
 * Every other fd, and every other platform, goes straight to the C library;
 * elsewhere these functions do nothing. Single-threaded, like the program.
 */
#ifndef CONNECT_SSHSOCK_H
#define CONNECT_SSHSOCK_H

#include <stddef.h>

#define SSHSOCK_RXBUF	(256 * 1024)
#define SSHSOCK_TXBUF	(256 * 1024)

/*
 * Take over fd (a READY session's socket, as libssh holds it). need_flush(arg)
 * is called when bytes start waiting to be sent: it must arrange for
 * sshsock_flush() before the loop sleeps (e.g. event_active()). Off when the
 * environment has CONNECT_SSHSOCK=0 (for A/B measurements) or where
 * unsupported. Returns 1 if attached, 0 if not.
 */
int	sshsock_attach(int fd, void (*need_flush)(void *), void *arg);

/*
 * Send what is buffered, without waiting. Returns 0 (all sent), 1 (the kernel
 * is full: wait for EV_WRITE, then sshsock_wake and flush again), or -1 with
 * errno (the connection failed; libssh's next read or write fails too).
 */
int	sshsock_flush(int fd);

/* Are bytes waiting for the kernel to take them (flush returned 1)? */
int	sshsock_blocked(int fd);

/* Let go of fd: one last non-blocking flush, then drop what is buffered. close() does this too. */
void	sshsock_detach(int fd);

/* Bytes read from the kernel for fd that libssh has not taken yet. */
size_t	sshsock_pending(int fd);

/*
 * Bytes handed to libssh through our recv() since attach. Zero while libssh
 * reads (its counters grow) means the interposition is not live (a libssh
 * that reads its socket another way): the caller detaches, so that correct
 * but slower beats a poll() answered from state that never changes.
 */
unsigned long long sshsock_delivered(int fd);

/* libevent says fd is readable (readable != 0) and/or writable: ask the kernel again. */
void	sshsock_wake(int fd, int readable, int writable);

#endif
