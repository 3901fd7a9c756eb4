/* knownhosts.c: the known_hosts files, read with libssh's line parser. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libssh/libssh.h>

#include "knownhosts.h"

const char *
knownhosts_describe(ssh_key key, char *buf, size_t len)
{
	unsigned char	*hash = NULL;
	size_t		 hlen = 0;
	char		*fp;

	if (key == NULL || ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash,
	    &hlen) != 0) {
		snprintf(buf, len, "(unknown key)");
		return buf;
	}
	fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	snprintf(buf, len, "%s %s", ssh_key_type_to_char(ssh_key_type(key)), fp ? fp : "?");
	ssh_string_free_char(fp);
	ssh_clean_pubkey_hash(&hash);
	return buf;
}

void
knownhosts_name(const char *host, int port, char *buf, size_t len)
{
	if (port == 22)
		snprintf(buf, len, "%s", host);
	else
		snprintf(buf, len, "[%s]:%d", host, port);
}

/*
 * What the known_hosts file `path` records for `name` (libssh does not hand
 * back the entry for a changed key): the fingerprints of the matching lines,
 * parsed by libssh's own line parser, appended to buf at *used. Returns how
 * many lines match, or -1 with errno when the file exists but cannot be read
 * (out of fds, no permission, an I/O error): never "nothing recorded" then.
 */
static int
known_hosts_scan(const char *path, const char *name, char *buf, size_t len, size_t *used)
{
	FILE				*f;
	char				 line[8192], one[256];
	struct ssh_knownhosts_entry	*e;
	int				 n = 0, err;

	if ((f = fopen(path, "re")) == NULL)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		e = NULL;
		if (ssh_known_hosts_parse_line(name, line, &e) == SSH_OK && e != NULL) {
			knownhosts_describe(e->publickey, one, sizeof one);
			if (*used < len)
				*used += (size_t)snprintf(buf + *used, len - *used, "%s%s",
				    *used ? " and " : "", one);
			n++;
		}
		ssh_knownhosts_entry_free(e);
	}
	err = ferror(f) ? (errno != 0 ? errno : EIO) : 0;
	fclose(f);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return n;
}

int
knownhosts_recorded(const char *user_file, const char *name, char *buf, size_t len,
    const char **bad)
{
	size_t	used = 0;
	int	n, g;

	buf[0] = '\0';
	*bad = NULL;
	if ((n = known_hosts_scan(user_file, name, buf, len, &used)) == -1) {
		*bad = user_file;
		return -1;
	}
	if ((g = known_hosts_scan(KNOWNHOSTS_GLOBAL, name, buf, len, &used)) == -1) {
		if (errno != EACCES && errno != EPERM) {
			*bad = KNOWNHOSTS_GLOBAL;
			return -1;
		}
		g = 0;
	}
	n += g;
	if (n == 0)
		snprintf(buf, len, "a key of another type");
	return n;
}
