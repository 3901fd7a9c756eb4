/* paths.h: the one rule for ~, and facts about files the library reads. */
#ifndef CONNECT_PATHS_H
#define CONNECT_PATHS_H

#include <stddef.h>

/*
 * Can path be opened for reading right now? Returns 0 when it can or when it
 * does not exist (ENOENT, ENOTDIR: absence is the caller's business), else -1
 * with errno (EMFILE, EACCES, EIO...). Libraries that fopen() a file and take
 * any failure for "absent" (libssh with known_hosts and ssh config) are
 * checked with it first: a file that exists and cannot be read is an error.
 */
int	paths_readable(const char *path);

/*
 * The home directory, one rule everywhere (profiles, keys, known_hosts, ssh
 * config): $HOME when set and not empty (containers set it), else the
 * password database, else "/". libssh's own rule is the other way round,
 * which is why connect never lets libssh find a file by it.
 */
const char *paths_home(void);

/*
 * "~", "~/x" and "%d/x" (libssh's name for ~/.ssh) expanded by paths_home()
 * into buf; anything else copied ("~user" included). Returns buf, or NULL
 * when it does not fit.
 */
char	*paths_expand(const char *in, char *buf, size_t len);

/*
 * in made absolute against the current directory (a relative path given on
 * the command line or in a profile must mean the same once the daemon has
 * left for "/"); absolute paths and "" are copied. Returns buf, or NULL when
 * it does not fit or the current directory cannot be named.
 */
char	*paths_absolute(const char *in, char *buf, size_t len);

/*
 * May only its owner change the regular file st describes (what: "profile",
 * "ssh config", for the message)? Writable by group or others, or owned by
 * another user than the caller or root, is refused, as OpenSSH refuses such
 * a ~/.ssh/config: anyone able to edit it chooses where the tunnel goes.
 * Returns 0, or -1 with *cause naming the file, its mode and the fix.
 */
struct stat;
int	paths_check_private(const char *what, const char *path, const struct stat *st,
	    char **cause);

/* Is errno value err a passing shortage (EMFILE, ENFILE, ENOMEM, ENOBUFS), not a fault to fix? */
int	paths_errno_is_shortage(int err);

/* " (raise the open-files limit, ulimit -n)" when err is EMFILE or ENFILE, else "": for messages. */
const char *paths_fd_hint(int err);

#endif
