/*
 * knownhosts.h: what the known_hosts files record, read by us.
 *
 * libssh decides OK / CHANGED / UNKNOWN, but does not hand back the entries
 * of a changed key (the message shows both fingerprints) and takes a file it
 * cannot open for an absent one (0.9 to 0.12): out of fds, a recorded key
 * would come back unknown. These read the same files with libssh's own line
 * parser, so that both agree, and tell "absent" from "cannot be read".
 */
#ifndef CONNECT_KNOWNHOSTS_H
#define CONNECT_KNOWNHOSTS_H

#include <stddef.h>

#include <libssh/libssh.h>

/* The system-wide file libssh reads after the user's. */
#define KNOWNHOSTS_GLOBAL	"/etc/ssh/ssh_known_hosts"

/* The name known_hosts uses: "host" on port 22, "[host]:port" otherwise. */
void	knownhosts_name(const char *host, int port, char *buf, size_t len);

/* "ssh-ed25519 SHA256:..." of key into buf ("(unknown key)" without one). Returns buf. */
const char *knownhosts_describe(ssh_key key, char *buf, size_t len);

/*
 * What user_file, then KNOWNHOSTS_GLOBAL, record for name: the keys'
 * descriptions, " and "-separated, in keys ("a key of another type" when
 * none). Returns how many entries match (0: none, or no file), or -1 with
 * errno and *bad naming a file that exists but cannot be read. The global
 * file unreadable for want of permission counts as absent, as OpenSSH and
 * libssh take it (not ours to fix, and it could not vouch for a key anyway);
 * out of fds or memory it fails.
 */
int	knownhosts_recorded(const char *user_file, const char *name, char *keys, size_t len,
	    const char **bad);

#endif
