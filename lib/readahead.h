/*
 * readahead.h: a read-ahead buffer under libssh's socket.
 *
 * libssh 0.10 reads its socket 4 KiB at a time (compile-time MAX_BUF_SIZE),
 * one poll() and one recv() per 4 KiB: two system calls per 4 KiB was most of
 * what kept loopback download below OpenSSH. On Linux the program defines
 * recv(), poll() and close() itself (ELF symbol interposition: libssh's calls
 * bind to the executable's definitions first). For an attached fd, recv()
 * reads up to READAHEAD_SIZE from the kernel at once and hands libssh 4 KiB
 * pieces from memory, and poll() reports it readable while bytes are left,
 * without a system call. Every other fd, and every other platform, goes
 * straight to the C library: elsewhere these functions do nothing.
 *
 * Single-threaded, like the rest of the program.
 */
#ifndef CONNECT_READAHEAD_H
#define CONNECT_READAHEAD_H

#include <stddef.h>

#define READAHEAD_SIZE	(256 * 1024)

/*
 * Start buffering reads of fd (a READY session's socket, as libssh holds it).
 * Off when the environment has CONNECT_READAHEAD=0 (for A/B measurements) or
 * where unsupported. Returns 1 if attached, 0 if not.
 */
int	readahead_attach(int fd);

/* Stop buffering fd and drop what is buffered. close() of fd does this too. */
void	readahead_detach(int fd);

/* Bytes read from the kernel for fd that libssh has not taken yet. */
size_t	readahead_pending(int fd);

#endif
