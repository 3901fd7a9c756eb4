/* paths.h: facts about files the library reads (the start of the one place that knows paths). */
#ifndef CONNECT_PATHS_H
#define CONNECT_PATHS_H

/*
 * Can path be opened for reading right now? Returns 0 when it can or when it
 * does not exist (ENOENT, ENOTDIR: absence is the caller's business), else -1
 * with errno (EMFILE, EACCES, EIO...). Libraries that fopen() a file and take
 * any failure for "absent" (libssh with known_hosts and ssh config) are
 * checked with it first: a file that exists and cannot be read is an error.
 */
int	paths_readable(const char *path);

/* Is errno value err a passing shortage (EMFILE, ENFILE, ENOMEM, ENOBUFS), not a fault to fix? */
int	paths_errno_is_shortage(int err);

#endif
