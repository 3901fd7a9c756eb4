/*
 * sshconfig.h: what ~/.ssh/config says about a host, read in one place.
 *
 * libssh's own parser decides (ours would disagree with it on Match,
 * Include, ...), but connect chooses the files: libssh would find
 * ~/.ssh/config through the password database while every other path of
 * ours follows $HOME (containers set HOME), and it skips a file it cannot
 * open, so that out of fds a Host block would silently be missing.
 */
#ifndef CONNECT_SSHCONFIG_H
#define CONNECT_SSHCONFIG_H

#include <limits.h>

#include "profile.h"

/* The system-wide file, read after the user's as libssh and OpenSSH do. */
#define SSHCONFIG_SYSTEM	"/etc/ssh/ssh_config"

/* libssh's view of one host name; empty strings and port 0 where the config says nothing. */
struct sshconfig {
	char		hostname[PROFILE_STR_MAX];	/* after HostName (the name itself if none) */
	char		user[PROFILE_STR_MAX];
	char		identity[PATH_MAX];		/* the first IdentityFile, unexpanded */
	char		known_hosts[PATH_MAX];		/* UserKnownHostsFile, unexpanded */
	unsigned int	port;
};

/*
 * The user's config file: $CONNECT_SSH_CONFIG when set (tests), else
 * ~/.ssh/config by connect's home rule (paths_home). Into buf; returns buf.
 */
const char *sshconfig_user_file(char *buf, size_t len);

/*
 * Read what the config says for host: the user's file, then (unless
 * CONNECT_SSH_CONFIG names one) SSHCONFIG_SYSTEM. A file that exists but
 * cannot be read is an error (the system file unreadable for want of
 * permission is skipped, as OpenSSH does). Returns 0; 1 with *cause when
 * libssh's parser gave up part way (out holds what it read before); or -1
 * with *cause when a file cannot be read or the host name is refused.
 */
int	sshconfig_read(const char *host, struct sshconfig *out, char **cause);

/* Has the config a block of its own for name (not merely "Host *")? 1, 0, or -1 with *cause. */
int	sshconfig_has_host(const char *name, char **cause);

/*
 * The Host aliases of the user's file (plain names: no pattern, no
 * negation) whose HostName is Lightning's gateway, as `lightning ssh
 * configure` writes them: fn(alias, arg) for each, in file order. Include
 * is not followed. Returns how many, or -1 when the file cannot be read
 * (absent: 0).
 */
int	sshconfig_lightning_hosts(void (*fn)(const char *alias, void *arg), void *arg);

#endif
