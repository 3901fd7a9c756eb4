/* sshconfig.c: libssh's parser over the files connect names, with their read errors. */
#include <sys/stat.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libssh/libssh.h>

#include "cause.h"
#include "paths.h"
#include "sshconfig.h"

/* A name no Host block can mean: what "Host *" alone makes of a host. */
#define SSHCONFIG_SENTINEL	"connect-no-such-host.invalid"

const char *
sshconfig_user_file(char *buf, size_t len)
{
	const char	*cfg = getenv("CONNECT_SSH_CONFIG");

	if (cfg != NULL && cfg[0] != '\0')
		snprintf(buf, len, "%s", cfg);
	else
		paths_expand("~/.ssh/config", buf, len);
	return buf;
}

/* A file that exists and cannot be read would be skipped by libssh: say so instead. */
static int
sshconfig_check(const char *path, int system, char **cause)
{
	struct stat	st;

	/* OpenSSH refuses a ~/.ssh/config others may write: so does connect, before libssh reads it. */
	if (!system && stat(path, &st) == 0 && paths_check_private("ssh config", path, &st,
	    cause) != 0)
		return -1;
	if (paths_readable(path) == 0)
		return 0;
	if (system && (errno == EACCES || errno == EPERM))
		return 0;
	cause_set(cause, "cannot read %s: %s%s", path, strerror(errno), paths_fd_hint(errno));
	return -1;
}

static void
sshconfig_get(ssh_session s, enum ssh_options_e what, char *buf, size_t len)
{
	char	*v = NULL;

	buf[0] = '\0';
	if (ssh_options_get(s, what, &v) == SSH_OK) {
		snprintf(buf, len, "%s", v);
		ssh_string_free_char(v);
	}
}

int
sshconfig_read(const char *host, struct sshconfig *out, char **cause)
{
	ssh_session	 s;
	char		 user[PATH_MAX];
	int		 rc = 0, system = getenv("CONNECT_SSH_CONFIG") == NULL ||
			    getenv("CONNECT_SSH_CONFIG")[0] == '\0';

	memset(out, 0, sizeof *out);
	sshconfig_user_file(user, sizeof user);
	if (sshconfig_check(user, 0, cause) != 0 ||
	    (system && sshconfig_check(SSHCONFIG_SYSTEM, 1, cause) != 0))
		return -1;
	if ((s = ssh_new()) == NULL) {
		cause_set(cause, "out of memory");
		return -1;
	}
	/* Named files, in libssh's own order: it would look for the user's by the passwd home. */
	if (ssh_options_set(s, SSH_OPTIONS_HOST, host) != 0) {
		cause_set(cause, "bad host name '%s'", host);
		ssh_free(s);
		return -1;
	}
	if (ssh_options_parse_config(s, user) != 0 ||
	    (system && ssh_options_parse_config(s, SSHCONFIG_SYSTEM) != 0)) {
		cause_set(cause, "libssh cannot parse %s%s", user, system ? " or " SSHCONFIG_SYSTEM :
		    "");
		rc = 1;		/* what it read before the error is still its view */
	}
	sshconfig_get(s, SSH_OPTIONS_HOST, out->hostname, sizeof out->hostname);
	sshconfig_get(s, SSH_OPTIONS_USER, out->user, sizeof out->user);
	sshconfig_get(s, SSH_OPTIONS_IDENTITY, out->identity, sizeof out->identity);
	sshconfig_get(s, SSH_OPTIONS_KNOWNHOSTS, out->known_hosts, sizeof out->known_hosts);
	if (ssh_options_get_port(s, &out->port) != SSH_OK)
		out->port = 0;
	ssh_free(s);
	return rc;
}

/*
 * Its view of name is compared with that of a name no block can mean, so
 * that a "Host *" block setting User for every host does not make every typo
 * a profile.
 */
int
sshconfig_has_host(const char *name, char **cause)
{
	struct sshconfig	vn, vb;

	if (sshconfig_read(name, &vn, cause) != 0)
		return -1;
	if (sshconfig_read(SSHCONFIG_SENTINEL, &vb, cause) != 0)
		return -1;
	if (strcasecmp(vn.hostname, name) != 0 && strcasecmp(vb.hostname, SSHCONFIG_SENTINEL) == 0)
		return 1;
	if (strcmp(vn.user, vb.user) != 0 || vn.port != vb.port ||
	    strcmp(vn.identity, vb.identity) != 0)
		return 1;
	return 0;
}

int
sshconfig_lightning_hosts(void (*fn)(const char *alias, void *arg), void *arg)
{
	struct sshconfig	 c;
	FILE			*f;
	char			 path[PATH_MAX], line[1024], *w, *save, *cause = NULL;
	int			 n = 0;

	sshconfig_user_file(path, sizeof path);
	if ((f = fopen(path, "re")) == NULL)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	while (fgets(line, sizeof line, f) != NULL) {
		w = strtok_r(line, " \t\r\n=", &save);
		if (w == NULL || strcasecmp(w, "Host") != 0)
			continue;
		while ((w = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
			if (strpbrk(w, "*?!\"") != NULL)
				continue;	/* a pattern matches many hosts: no alias of one */
			/* Its view by libssh's own parser, not our reading of the block. */
			if (sshconfig_read(w, &c, &cause) == 0 &&
			    strcasecmp(c.hostname, PROFILE_DEFAULT_HOST) == 0) {
				fn(w, arg);
				n++;
			}
			free(cause);
			cause = NULL;
		}
	}
	fclose(f);
	return n;
}
