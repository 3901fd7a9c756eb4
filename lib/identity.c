/*
 * identity.c: load the identity file once per run; reconnects reuse the key.
 *
 * libssh asks its auth callback for a passphrase only when the key is
 * encrypted, so one import both decrypts and tells "passphrase-protected"
 * apart from "not a key". (Without a callback, OpenSSL would prompt on the
 * terminal itself for a PEM key, even in a daemon.)
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <libssh/libssh.h>

#include "cause.h"
#include "identity.h"
#include "paths.h"
#include "log.h"

struct identity_ask {
	const char	*path;
	int		 may_prompt;
	int		 encrypted;	/* libssh asked: the key is passphrase-protected */
};

static int
identity_passphrase_cb(const char *prompt, char *buf, size_t len, int echo, int verify,
    void *userdata)
{
	struct identity_ask	*a = userdata;
	char			 ask[PATH_MAX + 64];

	(void)prompt;
	(void)echo;
	(void)verify;
	a->encrypted = 1;
	if (!a->may_prompt)
		return -1;
	snprintf(ask, sizeof ask, "Enter passphrase for %s: ", a->path);
	return ssh_getpass(ask, buf, len, 0, 0) == 0 ? 0 : -1;
}

/*
 * Where Lightning's tools keep its key, in the order tried when no identity
 * is set: `lightning ssh configure` writes the first, the SDK's `lightning
 * studio ssh` / `connect` the second.
 */
static const struct {
	const char	*path, *by;
} identity_defaults[] = {
	{ "~/.ssh/lightning_rsa",	"written by 'lightning ssh configure'" },
	{ "~/.lightning/lightning_rsa",	"kept by 'lightning studio ssh'" },
};
#define IDENTITY_NDEFAULTS	(sizeof identity_defaults / sizeof identity_defaults[0])

const char *
identity_default(char *buf, size_t len)
{
	char	path[PATH_MAX];
	size_t	i;

	for (i = 0; i < IDENTITY_NDEFAULTS; i++) {
		if (paths_expand(identity_defaults[i].path, path, sizeof path) != NULL &&
		    access(path, F_OK) == 0)
			break;
	}
	if (i == IDENTITY_NDEFAULTS)
		i = 0;
	return paths_expand(identity_defaults[i].path, buf, len);
}

/*
 * Is path the first default and no default exists? Then "neither ... nor ..." into buf, naming
 * each with what writes it; returns 1, else 0.
 */
static int
identity_none_of_defaults(const char *path, char *buf, size_t len)
{
	char	p[IDENTITY_NDEFAULTS][PATH_MAX];
	size_t	i;

	for (i = 0; i < IDENTITY_NDEFAULTS; i++) {
		if (paths_expand(identity_defaults[i].path, p[i], sizeof p[i]) == NULL ||
		    access(p[i], F_OK) == 0)
			return 0;
	}
	if (strcmp(path, p[0]) != 0)
		return 0;
	snprintf(buf, len, "neither %s (%s) nor %s (%s) exists", p[0], identity_defaults[0].by,
	    p[1], identity_defaults[1].by);
	return 1;
}

/* A private key readable by others is refused, as OpenSSH does. */
static int
identity_check_mode(const char *path, char **cause)
{
	struct stat	sb;

	if (stat(path, &sb) == -1)
		return 0;
	if ((sb.st_mode & 077) != 0 && sb.st_uid == getuid()) {
		cause_set(cause, "identity %s has mode %04o: a private key must not be "
		    "readable by others (chmod 600 %s)", path, (unsigned)(sb.st_mode & 07777),
		    path);
		return -1;
	}
	return 0;
}

int
identity_load(const char *path, int agent, int may_prompt, struct session_auth *auth,
    char **cause)
{
	struct identity_ask	 ask = { path, may_prompt, 0 };
	unsigned char		*hash = NULL;
	size_t			 hlen;
	char			 fp[128], *h, neither[PATH_MAX * 2 + 128];

	auth->privkey = auth->pubkey = NULL;
	auth->desc[0] = '\0';
	if (access(path, F_OK) == -1) {
		int	none = identity_none_of_defaults(path, neither, sizeof neither);

		if (agent) {
			log_debug("identity %s does not exist; using ssh-agent only", path);
			if (none)
				snprintf(auth->desc, sizeof auth->desc, "ssh-agent keys (no identity: "
				    "%.4300s)", neither);
			else
				snprintf(auth->desc, sizeof auth->desc, "ssh-agent keys (no file %s)",
				    path);
			return 0;
		}
		if (none)
			cause_set(cause, "no identity: %s, and no ssh-agent is running (run "
			    "'lightning ssh configure', or set identity in [studio] of the profile)",
			    neither);
		else
			cause_set(cause, "identity %s does not exist and no ssh-agent is running "
			    "(run 'lightning ssh configure', or set identity in [studio] of the "
			    "profile)", path);
		return EX_NOPERM;
	}
	if (identity_check_mode(path, cause) != 0)
		return EX_NOPERM;
	/* libssh would call an unreadable file (EACCES, out of fds) "not a private key". */
	if (paths_readable(path) != 0) {
		int	err = errno;

		if (agent) {
			log_warn("identity %s cannot be read (%s); using ssh-agent", path,
			    strerror(err));
			snprintf(auth->desc, sizeof auth->desc, "ssh-agent keys (%s cannot be read: "
			    "%s)", path, strerror(err));
			return 0;
		}
		cause_set(cause, "identity %s cannot be read: %s%s", path, strerror(err),
		    paths_fd_hint(err));
		return paths_errno_is_shortage(err) ? EX_OSERR : EX_NOPERM;
	}
	if (ssh_pki_import_privkey_file(path, NULL, identity_passphrase_cb, &ask,
	    &auth->privkey) != SSH_OK) {
		auth->privkey = NULL;
		if (agent) {
			log_info("identity %s cannot be loaded%s; using ssh-agent", path,
			    ask.encrypted ? " without its passphrase" : "");
			snprintf(auth->desc, sizeof auth->desc, "ssh-agent keys (%s %s)", path,
			    !ask.encrypted ? "is not a private key libssh can read" : may_prompt ?
			    "not decrypted: wrong passphrase" : "is passphrase-protected and there "
			    "is no terminal to ask on");
			return 0;
		}
		if (ask.encrypted && may_prompt)
			cause_set(cause, "identity %s: wrong passphrase", path);
		else if (ask.encrypted)
			cause_set(cause, "identity %s is passphrase-protected and there is no "
			    "terminal to ask for it (add it to ssh-agent with: ssh-add %s)", path, path);
		else
			cause_set(cause, "identity %s cannot be loaded: not a private key that "
			    "libssh can read (the private key, not the .pub?)", path);
		return EX_NOPERM;
	}
	if (ssh_pki_export_privkey_to_pubkey(auth->privkey, &auth->pubkey) != SSH_OK) {
		cause_set(cause, "identity %s: cannot derive its public key", path);
		return EX_NOPERM;
	}
	snprintf(fp, sizeof fp, "?");
	if (ssh_get_publickey_hash(auth->pubkey, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) == 0) {
		if ((h = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen)) != NULL) {
			snprintf(fp, sizeof fp, "%s", h);
			ssh_string_free_char(h);
		}
		ssh_clean_pubkey_hash(&hash);
	}
	snprintf(auth->desc, sizeof auth->desc, "%s (%s %s)", path,
	    ssh_key_type_to_char(ssh_key_type(auth->pubkey)), fp);
	return 0;
}
