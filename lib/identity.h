/* identity.h: the user's private key, loaded once per run (the tunnel and `connect check` share this). */
#ifndef CONNECT_IDENTITY_H
#define CONNECT_IDENTITY_H

#include <stddef.h>

#include "session.h"

/*
 * The key file to use when no identity is set (profile, -i, IdentityFile):
 * ~/.ssh/lightning_rsa (lightning ssh configure) if it exists, else
 * ~/.lightning/lightning_rsa (the SDK's lightning studio ssh) if that
 * exists, else the first; expanded into buf. Returns buf, or NULL when the
 * path does not fit. When neither exists, identity_load() names both.
 */
const char *identity_default(char *buf, size_t len);

/*
 * Load the private key at `path` into auth->privkey and auth->pubkey and
 * describe it in auth->desc ("PATH (ssh-ed25519 SHA256:...)"). A key file
 * readable by group or others is refused, as OpenSSH does. A
 * passphrase-protected key is decrypted with a passphrase asked on the
 * terminal when may_prompt is set (the passphrase is never logged), and is
 * reported as such otherwise.
 *
 * agent: ssh-agent keys will be offered too. Then a missing or unusable
 * file is not an error: auth->privkey stays NULL and auth->desc says why
 * only agent keys are used.
 *
 * Returns 0 when authentication can go ahead, or EX_NOPERM with *cause
 * (malloc'd one line naming the file, what is wrong and how to fix it;
 * the caller frees). The caller frees the keys with ssh_key_free().
 */
int	identity_load(const char *path, int agent, int may_prompt, struct session_auth *auth,
	    char **cause);

#endif
