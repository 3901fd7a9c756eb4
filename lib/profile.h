/* profile.h: one Studio's settings, from its ini file, ~/.ssh/config and the command line. */
#ifndef CONNECT_PROFILE_H
#define CONNECT_PROFILE_H

#include <limits.h>
#include <stddef.h>

#include "fwdspec.h"

#define PROFILE_MAX_FORWARDS	64
#define PROFILE_STR_MAX		256

#define PROFILE_DEFAULT_HOST	"ssh.lightning.ai"
#define PROFILE_DEFAULT_PORT	22
#define PROFILE_DEFAULT_IDENTITY "~/.ssh/lightning_rsa"

enum hostkey_policy {
	HOSTKEY_ACCEPT_NEW = 0,	/* unknown host: record and go on; changed: refuse */
	HOSTKEY_STRICT,		/* unknown host: refuse with the fingerprint; changed: refuse */
	HOSTKEY_INSECURE	/* insecure-accept-any: a changed key is used, loudly (a person chose it) */
};

/*
 * The settings. Filled by profile_*() below, then read-only: live state is
 * kept elsewhere and never written back. Empty string / 0 means "not set
 * here": the session then takes the value from ~/.ssh/config (host alias
 * lookup by libssh) or the built-in default.
 */
struct profile {
	char	name[PROFILE_STR_MAX];		/* profile name as typed ("my-studio") */
	char	path[PATH_MAX];			/* ini file loaded, "" when none */
	int	from_ssh_config;		/* no ini: built from a "Host name" block */

	char	studio_id[PROFILE_STR_MAX];	/* -> user "s_<id>" */
	char	user[PROFILE_STR_MAX];		/* explicit user (wins over studio_id) */
	char	host[PROFILE_STR_MAX];		/* host or ~/.ssh/config alias */
	int	port;				/* 0: ssh config, else 22 */
	char	identity[PATH_MAX];		/* "" : ssh config IdentityFile, else default */
	int	use_agent;			/* try ssh-agent keys first (default 1) */
	char	known_hosts[PATH_MAX];		/* "" : ssh config, else ~/.ssh/known_hosts */
	enum hostkey_policy hostkey_policy;
	char	ciphers[PROFILE_STR_MAX * 2];	/* "" : built-in preference */

	struct forward_spec forwards[PROFILE_MAX_FORWARDS];
	size_t	nforwards;

	/* Keepalive and reconnect (all durations in milliseconds). */
	int	keepalive_interval_ms;		/* default 5000 */
	int	keepalive_count;		/* default 3 */
	int	connect_timeout_ms;		/* default 10000 */
	int	handshake_timeout_ms;		/* default 10000 */
	int	auth_timeout_ms;		/* default 10000 */
	int	backoff_initial_ms;		/* default 250 */
	int	backoff_max_ms;			/* default 30000 */
	int	stable_ms;			/* default 30000 */
	int	max_tries;			/* 0 = forever */
	int	hold_max;			/* held connections during an outage, default 64 */
	int	hold_timeout_ms;		/* default 30000 */
};

/* Fill *p with the built-in defaults, including forwards web 8080, api 8008 (health /debug.ping), files 8081. */
void	profile_defaults(struct profile *p);

/*
 * Load an ini file over *p (which holds defaults). Returns 0, or -1 with
 * *cause a malloc'd one-line message "FILE:LINE: ..." naming the key and
 * what was expected (caller frees). Sets p->path. Refuses a file that is
 * world-writable or not regular, and lines over 1024 bytes. After an error
 * *p is partly changed: discard it. The format is in conf/example.ini.
 */
int	profile_load_file(struct profile *p, const char *path, char **cause);

/* Same, from a string; `label` stands for the file name in messages and p->path (tests, fuzzing). */
int	profile_load_string(struct profile *p, const char *text, const char *label, char **cause);

/*
 * Find and load the profile `name`: $XDG_CONFIG_HOME/connect/NAME.ini
 * (default ~/.config/connect/NAME.ini); when absent, a "Host NAME" block in
 * ~/.ssh/config (checked through libssh's own config parser) gives a
 * profile with host = NAME and the default forwards. Sets p->name. NAME
 * must be [A-Za-z0-9._-]+. $CONNECT_SSH_CONFIG, when set, replaces
 * ~/.ssh/config (tests). Returns 0, or -1 with *cause (e.g. where it
 * looked and how to create one).
 */
int	profile_find(struct profile *p, const char *name, char **cause);

/*
 * Is name a profile name: [A-Za-z0-9._-]+, at most 128 bytes (no '/', so
 * NAME.ini stays in the profile directory)? The one rule for every command
 * that reads or writes a profile by name. Returns 0, or -1 with *cause.
 */
int	profile_name_check(const char *name, char **cause);

/*
 * The first control byte (below 0x20, or DEL) in value, or 0: none may be in
 * a profile's value (a newline would start a line of its own).
 */
int	profile_value_check(const char *value);

/* The path NAME.ini would have. Returns snprintf's result. */
int	profile_path(const char *name, char *buf, size_t len);


/* Append a -L forward from the command line. Returns 0 or -1 with *cause. */
int	profile_add_forward(struct profile *p, const char *spec, char **cause);

/*
 * The Studio id in each form Lightning shows it: "ID", "s_ID",
 * "s_ID@ssh.lightning.ai", or the whole "ssh s_ID@ssh.lightning.ai". The bare
 * ID (letters, digits, '_' and '-', at most 128) into out. Returns 0, or -1
 * when it is none of those (another host after '@', more words, bad bytes).
 */
int	profile_studio_id(const char *in, char *out, size_t len);

/*
 * Final checks once every source is applied: id or user present (unless
 * from_ssh_config), no two forwards on the same bind address and local
 * port, ranges. Returns 0 or -1 with *cause naming where to fix it.
 */
int	profile_validate(const struct profile *p, char **cause);

/* The INI_HANDLER_LINENO this file's inih handler was built with: 1, it takes the line number. */
int	profile_inih_lineno(void);

/* The SSH user: p->user, else "s_" + p->studio_id, else "" (ssh config decides). */
const char *profile_user(const struct profile *p, char *buf, size_t len);


#endif
