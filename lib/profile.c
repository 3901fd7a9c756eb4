/*
 * profile.c: a Studio's settings from its ini file, ~/.ssh/config and the
 * command line, checked before anything connects.
 *
 * inih does the key/value splitting, but every line reaches it through
 * load_reader(), which counts lines (not every inih passes line numbers to
 * handlers), refuses over-long lines instead of letting inih split them,
 * parses section headers itself (inih cuts and does not trim them) and
 * strips indentation, so that inih's multi-line values can never append an
 * indented line to the previous key.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "inih-abi.h"	/* before ini.h: the handler type the linked libinih really calls */
#include <ini.h>
#include <libssh/libssh.h>

#include "cause.h"
#include "paths.h"
#include "profile.h"
#include "sshconfig.h"
#include "vis.h"

#define PROFILE_LINE_MAX	1024		/* bytes per ini line, newline excluded */
#define PROFILE_INI_BUF		4096		/* inih's line buffer: > PROFILE_LINE_MAX + "\r\n\0" */
#define PROFILE_ID_MAX		128
#define PROFILE_BUILTIN_REMOTE	"0.0.0.0"	/* the built-in forwards' destination on the Studio */
#define PROFILE_NAME_MAX	128
#define PROFILE_DURATION_MAX	86400000	/* 24h in ms: more is a typo */
#define PROFILE_BUILTIN		"built-in default"
#define PROFILE_ECHO_MAX	60		/* how much of a bad line a message repeats */
#define PROFILE_KEYS_MAX	16

enum section {
	SECT_NONE = 0,
	SECT_STUDIO,
	SECT_FORWARD,
	SECT_KEEPALIVE,
	SECT_RECONNECT,
	SECT_COUNT
};

static const char *const section_names[SECT_COUNT] = {
	"", "studio", "forward", "keepalive", "reconnect"
};

enum key_type {
	K_ID,		/* Studio id: [A-Za-z0-9_-]+, "" unsets */
	K_WORD,		/* user, host: no spaces, no leading '-', "" unsets */
	K_PATH,		/* identity, known_hosts: anything, "" unsets */
	K_CIPHERS,	/* comma list, no spaces, "" unsets */
	K_PORT,		/* 1..65535 */
	K_BOOL,		/* yes/no */
	K_POLICY,	/* accept-new | strict | insecure-accept-any */
	K_DEFFWD,	/* default_forwards: yes/no, applied at the end of the file */
	K_BIND,		/* IP literal, localhost or * */
	K_RHOST,	/* remote host: a name or address, brackets allowed */
	K_HEALTH,	/* "/path", or "" or none */
	K_DURATION,	/* 5, 5s, 250ms, 2m; > 0 */
	K_COUNT		/* whole number in [min, max] */
};

struct key {
	const char	*name;
	enum section	 sect;
	enum key_type	 type;
	size_t		 off;		/* into struct profile, or struct forward_spec for [forward] */
	size_t		 len;		/* string fields: buffer size */
	int		 min, max;	/* K_COUNT range */
};

#define PF(f)	offsetof(struct profile, f), sizeof(((struct profile *)0)->f)
#define FF(f)	offsetof(struct forward_spec, f), sizeof(((struct forward_spec *)0)->f)

/* Every key, grouped by section in the order the example file documents them. */
static const struct key keys[] = {
	{ "id",			SECT_STUDIO,	K_ID,		PF(studio_id),		0, 0 },
	{ "user",		SECT_STUDIO,	K_WORD,		PF(user),		0, 0 },
	{ "host",		SECT_STUDIO,	K_WORD,		PF(host),		0, 0 },
	{ "port",		SECT_STUDIO,	K_PORT,		PF(port),		0, 0 },
	{ "identity",		SECT_STUDIO,	K_PATH,		PF(identity),		0, 0 },
	{ "agent",		SECT_STUDIO,	K_BOOL,		PF(use_agent),		0, 0 },
	{ "known_hosts",	SECT_STUDIO,	K_PATH,		PF(known_hosts),	0, 0 },
	{ "host_key_policy",	SECT_STUDIO,	K_POLICY,	PF(hostkey_policy),	0, 0 },
	{ "ciphers",		SECT_STUDIO,	K_CIPHERS,	PF(ciphers),		0, 0 },
	{ "default_forwards",	SECT_STUDIO,	K_DEFFWD,	0, 0,			0, 0 },

	{ "local_port",		SECT_FORWARD,	K_PORT,		FF(local_port),		0, 0 },
	{ "bind",		SECT_FORWARD,	K_BIND,		FF(bind_addr),		0, 0 },
	{ "remote_host",	SECT_FORWARD,	K_RHOST,	FF(remote_host),	0, 0 },
	{ "remote_port",	SECT_FORWARD,	K_PORT,		FF(remote_port),	0, 0 },
	{ "health",		SECT_FORWARD,	K_HEALTH,	FF(health_path),	0, 0 },

	{ "interval",		SECT_KEEPALIVE,	K_DURATION,	PF(keepalive_interval_ms), 0, 0 },
	{ "count",		SECT_KEEPALIVE,	K_COUNT,	PF(keepalive_count),	1, 100 },

	{ "connect_timeout",	SECT_RECONNECT,	K_DURATION,	PF(connect_timeout_ms),	0, 0 },
	{ "handshake_timeout",	SECT_RECONNECT,	K_DURATION,	PF(handshake_timeout_ms), 0, 0 },
	{ "auth_timeout",	SECT_RECONNECT,	K_DURATION,	PF(auth_timeout_ms),	0, 0 },
	{ "backoff_initial",	SECT_RECONNECT,	K_DURATION,	PF(backoff_initial_ms),	0, 0 },
	{ "backoff_max",	SECT_RECONNECT,	K_DURATION,	PF(backoff_max_ms),	0, 0 },
	{ "stable",		SECT_RECONNECT,	K_DURATION,	PF(stable_ms),		0, 0 },
	{ "max_tries",		SECT_RECONNECT,	K_COUNT,	PF(max_tries),		0, 1000000 },
	{ "hold_max",		SECT_RECONNECT,	K_COUNT,	PF(hold_max),		0, 100000 },
	{ "hold_timeout",	SECT_RECONNECT,	K_DURATION,	PF(hold_timeout_ms),	0, 0 },
};
#define NKEYS	(sizeof keys / sizeof keys[0])

/* The built-in forwards: ClearML's web, API and file server, same port on both ends. */
static const struct {
	const char	*name;
	int		 port;
	const char	*health;
} builtin_forwards[] = {
	{ "web",	8080,	"" },
	{ "api",	8008,	"/debug.ping" },
	{ "files",	8081,	"" },
};

/* One load of one ini text: the source, where we are, and what this text has set. */
struct load {
	struct profile	*p;
	const char	*label;		/* file name for messages */
	FILE		*f;		/* source: a file, or ... */
	const char	*s;		/* ... a string */
	int		 lineno;
	char		 line[PROFILE_LINE_MAX + 2];
	char		*cause;		/* first error; parsing stops there */

	enum section	 sect;
	int		 sect_line;		/* header line of the current section */
	int		 hdr_line[SECT_COUNT];	/* first header of [studio], [keepalive], [reconnect] */
	int		 seen[NKEYS];		/* line each key was set in the current section */
	size_t		 fwd;			/* current [forward]: index in p->forwards */
	int		 fwd_new;		/* ... added by this section, not a built-in */
	int		 fwd_line[PROFILE_MAX_FORWARDS]; /* header line per forward, 0: not here */

	int		 default_forwards;	/* -1 not set, 0 no, 1 yes */
	int		 backoff_initial_line, backoff_max_line;
};

static void	load_error(struct load *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static void	forward_origin(struct forward_spec *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

/* Record the first error of a load as "LABEL:LINE: ..."; later ones are consequences. */
static void
load_error(struct load *l, int line, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[PROFILE_LINE_MAX * 2 + 256];

	if (l->cause != NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cause_set(&l->cause, "%s:%d: %s", l->label, line, msg);
	if (l->cause == NULL)
		l->cause = strdup("out of memory");
}

/* The text of a bad line, shortened, for a message. */
static const char *
load_echo(const char *s, char *buf, size_t len)
{
	if (strlen(s) <= PROFILE_ECHO_MAX)
		snprintf(buf, len, "%s", s);
	else
		snprintf(buf, len, "%.*s...", PROFILE_ECHO_MAX, s);
	return buf;
}

/* Was this forward filled in by profile_defaults() and left alone since? */
static int
forward_is_builtin(const struct forward_spec *fs)
{
	return strncmp(fs->origin, PROFILE_BUILTIN, strlen(PROFILE_BUILTIN)) == 0;
}

/* Format an origin through a copy: the arguments often live in the same struct. */
static void
forward_origin(struct forward_spec *fs, const char *fmt, ...)
{
	va_list	ap;
	char	buf[FWDSPEC_ORIGIN_MAX];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	memcpy(fs->origin, buf, strlen(buf) + 1);
}

/* The origin of an untouched built-in forward says where to change it. */
static void
forward_builtin_origin(struct forward_spec *fs, const char *where)
{
	forward_origin(fs, PROFILE_BUILTIN " (set local_port in a [forward %s] section of %s)",
	    fs->name, where);
}


/* Is s non-empty and only ASCII [A-Za-z0-9] plus `extra`? (isalnum() would follow the locale) */
static int
profile_charset(const char *s, const char *extra)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if ((*s < 'a' || *s > 'z') && (*s < 'A' || *s > 'Z') && (*s < '0' || *s > '9') &&
		    strchr(extra, *s) == NULL)
			return 0;
	}
	return 1;
}

void
profile_defaults(struct profile *p)
{
	size_t	i;

	memset(p, 0, sizeof *p);
	p->use_agent = 1;
	p->hostkey_policy = HOSTKEY_ACCEPT_NEW;
	for (i = 0; i < sizeof builtin_forwards / sizeof builtin_forwards[0]; i++) {
		struct forward_spec	*fs = &p->forwards[p->nforwards++];

		snprintf(fs->name, sizeof fs->name, "%s", builtin_forwards[i].name);
		snprintf(fs->bind_addr, sizeof fs->bind_addr, "127.0.0.1");
		fs->local_port = builtin_forwards[i].port;
		/*
		 * What the script this replaces asked Lightning's gateway for (ssh -L
		 * P:0.0.0.0:P), proven there for years; "localhost" was never tried
		 * through it. On the Studio (Linux) 0.0.0.0 as a destination is the
		 * machine itself, with no name to resolve (localhost may be ::1 first).
		 */
		snprintf(fs->remote_host, sizeof fs->remote_host, "%s", PROFILE_BUILTIN_REMOTE);
		fs->remote_port = builtin_forwards[i].port;
		snprintf(fs->health_path, sizeof fs->health_path, "%s", builtin_forwards[i].health);
		forward_builtin_origin(fs, "the profile");
	}
	p->keepalive_interval_ms = 5000;
	p->keepalive_count = 3;
	p->connect_timeout_ms = 10000;
	p->handshake_timeout_ms = 10000;
	p->auth_timeout_ms = 10000;
	p->backoff_initial_ms = 250;
	p->backoff_max_ms = 30000;
	p->stable_ms = 30000;
	p->max_tries = 0;
	p->hold_max = 64;
	p->hold_timeout_ms = 30000;
}

/* Durations: digits and an optional unit ms, s or m (none means seconds). */
static int
parse_duration(const char *s, int *ms)
{
	long long	v = 0;
	int		mult;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		v = v * 10 + (*s - '0');
		if (v > PROFILE_DURATION_MAX)
			return -1;
	}
	if (*s == '\0' || strcmp(s, "s") == 0)
		mult = 1000;
	else if (strcmp(s, "ms") == 0)
		mult = 1;
	else if (strcmp(s, "m") == 0)
		mult = 60000;
	else
		return -1;
	v *= mult;
	if (v <= 0 || v > PROFILE_DURATION_MAX)
		return -1;
	*ms = (int)v;
	return 0;
}

/* A whole number in [min, max], digits only. */
static int
parse_count(const char *s, int min, int max, int *out)
{
	long long	v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		v = v * 10 + (*s - '0');
		if (v > max)
			return -1;
	}
	if (v < min)
		return -1;
	*out = (int)v;
	return 0;
}

/* yes/no, and the usual synonyms. Returns 1, 0, or -1. */
static int
parse_bool(const char *s)
{
	if (strcasecmp(s, "yes") == 0 || strcasecmp(s, "true") == 0 ||
	    strcasecmp(s, "on") == 0 || strcmp(s, "1") == 0)
		return 1;
	if (strcasecmp(s, "no") == 0 || strcasecmp(s, "false") == 0 ||
	    strcasecmp(s, "off") == 0 || strcmp(s, "0") == 0)
		return 0;
	return -1;
}

/* A token that ssh would take as a user or host: no blanks, not an option. */
static int
is_word(const char *s)
{
	if (*s == '-')
		return 0;
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s <= ' ' || *s == 0x7f)	/* blanks and controls */
			return 0;
	}
	return 1;
}

/* Copy a string value into a field, refusing to cut it. */
static int
load_copy(struct load *l, const struct key *k, char *dst, const char *value)
{
	if (strlen(value) >= k->len) {
		load_error(l, l->lineno, "%s: value longer than %zu bytes", k->name, k->len - 1);
		return -1;
	}
	memcpy(dst, value, strlen(value) + 1);
	return 0;
}

/* Parse one value into its field; every message says what was expected. */
static int
load_set(struct load *l, const struct key *k, const char *value)
{
	struct forward_spec	*fs = &l->p->forwards[l->fwd];
	char			*base, *str, tmp[FWDSPEC_HOST_MAX];
	int			*ip, v, line = l->lineno;

	base = k->sect == SECT_FORWARD ? (char *)fs : (char *)l->p;
	str = base + k->off;
	ip = (int *)(void *)(base + k->off);

	switch (k->type) {
	case K_ID: {
		char	idbuf[PROFILE_ID_MAX + 1];

		if (*value == '\0')
			return load_copy(l, k, str, value);
		if (profile_studio_id(value, idbuf, sizeof idbuf) != 0) {
			load_error(l, line, "%s: expected the Studio id (letters, digits, '_' and '-', "
			    "at most %d, as ID, s_ID or s_ID@ssh.lightning.ai), got '%s'", k->name,
			    PROFILE_ID_MAX, value);
			return -1;
		}
		return load_copy(l, k, str, idbuf);
	}
	case K_WORD:
		if (!is_word(value)) {
			load_error(l, line, "%s: expected one word without spaces, not starting "
			    "with '-', got '%s'", k->name, value);
			return -1;
		}
		return load_copy(l, k, str, value);
	case K_PATH:
		if ((v = profile_value_check(value)) != 0) {
			load_error(l, line, "%s: control character 0x%02x in the path", k->name, v);
			return -1;
		}
		return load_copy(l, k, str, value);
	case K_CIPHERS:
		if (*value != '\0' && !profile_charset(value, "@.,_+-")) {
			load_error(l, line, "%s: expected a comma-separated list of cipher names "
			    "without spaces, got '%s'", k->name, value);
			return -1;
		}
		return load_copy(l, k, str, value);
	case K_PORT:
		if ((v = fwdspec_parse_port(value)) == -1) {
			load_error(l, line, "%s: expected a port number 1..65535, got '%s'",
			    k->name, value);
			return -1;
		}
		*ip = v;
		return 0;
	case K_BOOL:
	case K_DEFFWD:
		if ((v = parse_bool(value)) == -1) {
			load_error(l, line, "%s: expected yes or no, got '%s'", k->name, value);
			return -1;
		}
		if (k->type == K_DEFFWD)
			l->default_forwards = v;
		else
			*ip = v;
		return 0;
	case K_POLICY:
		if (strcmp(value, "accept-new") == 0)
			l->p->hostkey_policy = HOSTKEY_ACCEPT_NEW;
		else if (strcmp(value, "strict") == 0)
			l->p->hostkey_policy = HOSTKEY_STRICT;
		else if (strcmp(value, "insecure-accept-any") == 0)
			l->p->hostkey_policy = HOSTKEY_INSECURE;
		else {
			load_error(l, line, "%s: expected accept-new or strict (a changed key is "
			    "always refused), got '%s'", k->name, value);
			return -1;
		}
		return 0;
	case K_BIND:
		if (*value == '\0' || fwdspec_parse_bind(value, tmp, sizeof tmp) != 0) {
			load_error(l, line, "%s: expected an IP address, 'localhost' or '*', "
			    "got '%s'", k->name, value);
			return -1;
		}
		return load_copy(l, k, str, tmp);
	case K_RHOST:
		if (fwdspec_parse_host(value, tmp, sizeof tmp) != 0) {
			load_error(l, line, "%s: expected a host name or address, got '%s'",
			    k->name, value);
			return -1;
		}
		return load_copy(l, k, str, tmp);
	case K_HEALTH:
		if (*value == '\0' || strcmp(value, "none") == 0)
			value = "";
		else if (*value != '/' || !is_word(value)) {
			load_error(l, line, "%s: expected an HTTP path starting with '/', or none, "
			    "got '%s'", k->name, value);
			return -1;
		}
		return load_copy(l, k, str, value);
	case K_DURATION:
		if (parse_duration(value, &v) != 0) {
			load_error(l, line, "%s: expected a duration > 0 such as 5, 5s, 250ms or 2m "
			    "(at most 24h), got '%s'", k->name, value);
			return -1;
		}
		*ip = v;
		return 0;
	case K_COUNT:
		if (parse_count(value, k->min, k->max, &v) != 0) {
			load_error(l, line, "%s: expected a whole number %d..%d, got '%s'", k->name,
			    k->min, k->max, value);
			return -1;
		}
		*ip = v;
		return 0;
	}
	return -1;
}

/* "id, user, host, ..." for an unknown-key message. */
static void
load_key_list(enum section sect, char *buf, size_t len)
{
	size_t	i, off = 0;
	int	n;

	buf[0] = '\0';
	for (i = 0; i < NKEYS; i++) {
		if (keys[i].sect != sect)
			continue;
		n = snprintf(buf + off, len - off, "%s%s", off == 0 ? "" : ", ", keys[i].name);
		if (n < 0 || (size_t)n >= len - off)
			return;
		off += (size_t)n;
	}
}

/*
 * inih calls this for each key = value; the line number comes from
 * load_reader(). Its type is the one the library calls (lib/inih-abi.sh
 * measures it): Debian's libinih passes the line number too, upstream's not.
 */
#if INI_HANDLER_LINENO
static int
load_handler(void *arg, const char *section, const char *name, const char *value, int lineno)
#else
static int
load_handler(void *arg, const char *section, const char *name, const char *value)
#endif
{
	struct load		*l = arg;
	struct forward_spec	*fs;
	char			 list[512], sect[FWDSPEC_NAME_MAX + 16];
	char			 unquoted[PROFILE_LINE_MAX];
	const char		*hash;
	size_t			 i, n;

	(void)section;	/* cut at 49 bytes and untrimmed by inih: load_header() tracks it */
	if (l->cause != NULL)
		return 0;
#if INI_HANDLER_LINENO
	/* One line per reader call: inih's count is ours, unless another libinih is loaded now. */
	if (lineno != l->lineno) {
		load_error(l, l->lineno, "libinih reports line %d here: connect was built against "
		    "a libinih that passes line numbers, and this one does not (rebuild connect)",
		    lineno);
		return 0;
	}
#endif
	if (l->sect == SECT_NONE) {
		load_error(l, l->lineno, "key '%s' is outside any section (put it under "
		    "[studio], [forward NAME], [keepalive] or [reconnect])", name);
		return 0;
	}
	if (l->sect == SECT_FORWARD)
		snprintf(sect, sizeof sect, "[forward %s]", l->p->forwards[l->fwd].name);
	else
		snprintf(sect, sizeof sect, "[%s]", section_names[l->sect]);

	for (i = 0; i < NKEYS; i++) {
		if (keys[i].sect == l->sect && strcasecmp(keys[i].name, name) == 0)
			break;
	}
	if (i == NKEYS) {
		load_key_list(l->sect, list, sizeof list);
		for (i = 0; i < NKEYS; i++) {
			if (strcasecmp(keys[i].name, name) == 0)
				break;
		}
		load_error(l, l->lineno, "unknown key '%s' in %s (valid keys: %s)%s%s%s", name,
		    sect, list, i < NKEYS ? "; it belongs in [" : "",
		    i < NKEYS ? section_names[keys[i].sect] : "",
		    i < NKEYS ? (keys[i].sect == SECT_FORWARD ? " NAME]" : "]") : "");
		return 0;
	}
	if (l->seen[i] != 0) {
		load_error(l, l->lineno, "%s set twice in %s, first at line %d", keys[i].name, sect,
		    l->seen[i]);
		return 0;
	}
	l->seen[i] = l->lineno;

	/* inih ends a value only at " ;": a " #" would silently become part of it. */
	for (hash = strchr(value, '#'); hash != NULL; hash = strchr(hash + 1, '#')) {
		if (hash > value && isspace((unsigned char)hash[-1])) {
			load_error(l, l->lineno, "%s: '#' starts a comment only at the start of a "
			    "line; put ' ;' before a comment after a value", keys[i].name);
			return 0;
		}
	}
	/* One pair of double quotes around a value is dropped: "" is the empty value. */
	n = strlen(value);
	if (n >= 2 && value[0] == '"' && value[n - 1] == '"') {
		memcpy(unquoted, value + 1, n - 2);
		unquoted[n - 2] = '\0';
		value = unquoted;
	}
	if (load_set(l, &keys[i], value) != 0)
		return 0;

	fs = &l->p->forwards[l->fwd];
	if (strcmp(keys[i].name, "local_port") == 0)
		forward_origin(fs, "%s:%d (key local_port in [forward %s])", l->label,
		    l->lineno, fs->name);
	else if (strcmp(keys[i].name, "backoff_initial") == 0)
		l->backoff_initial_line = l->lineno;
	else if (strcmp(keys[i].name, "backoff_max") == 0)
		l->backoff_max_line = l->lineno;
	return 1;
}

/* Begin [forward NAME]: change the forward of that name, or add a new one. */
static int
load_forward_begin(struct load *l, const char *name)
{
	struct profile		*p = l->p;
	struct forward_spec	*fs;
	size_t			 i;

	if (*name == '\0') {
		load_error(l, l->lineno, "[forward] needs a name, as in [forward tensorboard]");
		return -1;
	}
	if (!profile_charset(name, "._-") || strlen(name) >= FWDSPEC_NAME_MAX) {
		load_error(l, l->lineno, "bad forward name '%s': use letters, digits, '.', '_' "
		    "and '-' (at most %d)", name, FWDSPEC_NAME_MAX - 1);
		return -1;
	}
	for (i = 0; i < p->nforwards; i++) {
		if (strcmp(p->forwards[i].name, name) == 0)
			break;
	}
	if (i < p->nforwards && l->fwd_line[i] != 0) {
		load_error(l, l->lineno, "section [forward %s] appears twice, first at line %d",
		    name, l->fwd_line[i]);
		return -1;
	}
	l->fwd_new = i == p->nforwards;
	if (l->fwd_new) {
		if (p->nforwards == PROFILE_MAX_FORWARDS) {
			load_error(l, l->lineno, "too many forwards (at most %d)",
			    PROFILE_MAX_FORWARDS);
			return -1;
		}
		fs = &p->forwards[p->nforwards++];
		memset(fs, 0, sizeof *fs);
		memcpy(fs->name, name, strlen(name) + 1);	/* length checked above */
		snprintf(fs->bind_addr, sizeof fs->bind_addr, "127.0.0.1");
		snprintf(fs->remote_host, sizeof fs->remote_host, "localhost");
	} else {
		/* A built-in keeps its local_port: the section header is where to change it. */
		fs = &p->forwards[i];
		forward_origin(fs, "%s:%d ([forward %s] keeps the built-in local_port %d; "
		    "set it there)", l->label, l->lineno, fs->name, fs->local_port);
	}
	l->fwd = i;
	l->fwd_line[i] = l->lineno;
	return 0;
}

/* A forward section is over: fill in what defaults to another field. */
static int
load_forward_end(struct load *l)
{
	struct forward_spec	*fs = &l->p->forwards[l->fwd];
	size_t			 i;
	int			 remote_set = 0;

	if (fs->local_port == 0) {
		load_error(l, l->sect_line, "[forward %s] needs local_port (it is a new forward; "
		    "the built-in ones are web, api and files)", fs->name);
		return -1;
	}
	for (i = 0; i < NKEYS; i++) {
		if (keys[i].sect == SECT_FORWARD && strcmp(keys[i].name, "remote_port") == 0)
			remote_set = l->seen[i] != 0;
	}
	if (l->fwd_new && !remote_set)
		fs->remote_port = fs->local_port;
	return 0;
}

/*
 * A "[...]" line: close the previous section, check this one. Parsed here
 * rather than from inih's section argument, which is cut at 49 bytes and
 * keeps inner blanks.
 */
static int
load_header(struct load *l, const char *line)
{
	char		 inner[PROFILE_LINE_MAX], echo[PROFILE_ECHO_MAX + 4], *kind, *arg, *e;
	const char	*end, *rest;
	enum section	 sect;
	size_t		 n;

	if ((end = strchr(line, ']')) == NULL) {
		load_error(l, l->lineno, "section header without ']': '%s'",
		    load_echo(line, echo, sizeof echo));
		return -1;
	}
	for (rest = end + 1; isspace((unsigned char)*rest); rest++)
		;
	if (*rest != '\0' && *rest != ';' && *rest != '#') {
		load_error(l, l->lineno, "unexpected text after ']': '%s'",
		    load_echo(rest, echo, sizeof echo));
		return -1;
	}
	n = (size_t)(end - line - 1);
	memcpy(inner, line + 1, n);
	inner[n] = '\0';
	for (kind = inner; isspace((unsigned char)*kind); kind++)
		;
	for (e = kind + strlen(kind); e > kind && isspace((unsigned char)e[-1]); e--)
		;
	*e = '\0';
	for (arg = kind; *arg != '\0' && !isspace((unsigned char)*arg); arg++)
		;
	if (*arg != '\0') {
		*arg++ = '\0';
		while (isspace((unsigned char)*arg))
			arg++;
	}

	if (l->sect == SECT_FORWARD && load_forward_end(l) != 0)
		return -1;

	for (sect = SECT_STUDIO; sect < SECT_COUNT; sect++) {
		if (strcasecmp(kind, section_names[sect]) == 0)
			break;
	}
	if (sect == SECT_COUNT || (sect != SECT_FORWARD && *arg != '\0')) {
		if (*arg != '\0')
			arg[-1] = ' ';
		load_error(l, l->lineno, "unknown section [%s]: expected [studio], "
		    "[forward NAME], [keepalive] or [reconnect]", kind);
		return -1;
	}
	if (sect == SECT_FORWARD) {
		if (load_forward_begin(l, arg) != 0)
			return -1;
	} else {
		if (l->hdr_line[sect] != 0) {
			load_error(l, l->lineno, "section [%s] appears twice, first at line %d",
			    section_names[sect], l->hdr_line[sect]);
			return -1;
		}
		l->hdr_line[sect] = l->lineno;
	}
	l->sect = sect;
	l->sect_line = l->lineno;
	memset(l->seen, 0, sizeof l->seen);
	return 0;
}

/* One raw line into l->line. Returns 1, 0 at the end, or -1 with the error recorded. */
static int
load_getline(struct load *l)
{
	size_t	n = 0;
	int	c, any = 0, nul = 0;

	for (;;) {
		if (l->f != NULL)
			c = getc(l->f);
		else
			c = *l->s != '\0' ? (unsigned char)*l->s++ : EOF;
		if (c == EOF || c == '\n') {
			any |= c == '\n';
			break;
		}
		any = 1;
		if (c == '\0')
			nul = 1;
		if (n == PROFILE_LINE_MAX + 1) {	/* room for a final '\r' only */
			l->lineno++;
			load_error(l, l->lineno, "line longer than %d bytes", PROFILE_LINE_MAX);
			return -1;
		}
		l->line[n++] = (char)c;
	}
	if (l->f != NULL && ferror(l->f)) {
		cause_set(&l->cause, "cannot read %s: %s", l->label, strerror(errno));
		return -1;
	}
	if (!any)
		return 0;
	l->lineno++;
	if (n > 0 && l->line[n - 1] == '\r')
		n--;
	l->line[n] = '\0';
	if (n > PROFILE_LINE_MAX) {
		load_error(l, l->lineno, "line longer than %d bytes", PROFILE_LINE_MAX);
		return -1;
	}
	if (nul) {
		load_error(l, l->lineno, "NUL byte in line");
		return -1;
	}
	return 1;
}

/*
 * inih's reader: one line per call, so l->lineno is the line inih is about
 * to hand to load_handler(). Leading blanks are dropped here: an indented
 * line is read as a line of its own and never continues a value.
 */
static char *
load_reader(char *str, int num, void *arg)
{
	struct load	*l = arg;
	char		*s, *c, echo[PROFILE_ECHO_MAX + 4];
	int		 indented;

	if (l->cause != NULL || load_getline(l) != 1)
		return NULL;
	s = l->line;
	if (l->lineno == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	indented = isspace((unsigned char)*s);
	while (isspace((unsigned char)*s))
		s++;

	if (*s == '[') {
		if (load_header(l, s) != 0)
			return NULL;
		s = l->line + strlen(l->line);	/* inih needs only the line: its section is ours */
	} else if (*s == ';' || *s == '#') {
		s = l->line + strlen(l->line);	/* a comment of any length fits any inih */
	} else if (*s != '\0') {
		/* A key line needs '=' (or ':') before any inline comment, as inih reads it. */
		for (c = s; *c != '\0' && *c != '=' && *c != ':'; c++) {
			if (*c == ';' && isspace((unsigned char)c[-1]))
				break;
		}
		if ((*c != '=' && *c != ':') || c == s) {
			load_error(l, l->lineno, "expected 'key = value', '[section]' or a comment, "
			    "got '%s'%s", load_echo(s, echo, sizeof echo), indented ?
			    " (an indented line does not continue the previous value)" : "");
			return NULL;
		}
	}
	if (strlen(s) + 2 > (size_t)num) {
		load_error(l, l->lineno, "line longer than inih's buffer (%d bytes; a libinih with "
		    "Debian's run-time options takes up to %d)", num, PROFILE_LINE_MAX);
		return NULL;
	}
	snprintf(str, (size_t)num, "%s\n", s);
	return str;
}

/*
 * Debian builds inih with its options as globals: pin the ones this parser
 * relies on. Upstream's are compile-time macros, whose defaults (a 200-byte
 * line buffer on the stack, multi-line values, inline ';' comments, BOM) the
 * reader copes with: it strips indentation, handles the BOM itself and
 * refuses a line that does not fit the buffer.
 */
static void
load_setup_inih(void)
{
#if CONNECT_INIH_GLOBALS
	ini_use_stack = false;
	ini_max_line = PROFILE_INI_BUF;
	ini_initial_alloc = PROFILE_INI_BUF;
	ini_allow_realloc = false;
	ini_allow_multiline = false;
	ini_allow_inline_comments = true;
	ini_allow_no_value = false;
	ini_allow_bom = true;
	ini_stop_on_first_error = true;
#endif
}

/* Parse the whole source, then apply what needs the whole file (default_forwards). */
static int
load_run(struct load *l, char **cause)
{
	struct profile	*p = l->p;
	size_t		 i, j;
	int		 rc;

	load_setup_inih();
	l->default_forwards = -1;
	rc = ini_parse_stream(load_reader, l, load_handler, l);
	if (l->cause == NULL && l->sect == SECT_FORWARD)
		load_forward_end(l);
	if (l->cause == NULL && rc == -2)
		l->cause = strdup("out of memory");
	else if (l->cause == NULL && rc != 0)
		load_error(l, rc, "syntax error");

	if (l->cause == NULL && l->default_forwards == 0) {
		for (i = j = 0; i < p->nforwards; i++) {
			if (forward_is_builtin(&p->forwards[i]) && l->fwd_line[i] == 0)
				continue;
			if (i != j)
				p->forwards[j] = p->forwards[i];
			l->fwd_line[j++] = l->fwd_line[i];
		}
		p->nforwards = j;
	}
	if (l->cause == NULL && p->backoff_initial_ms > p->backoff_max_ms &&
	    (l->backoff_initial_line != 0 || l->backoff_max_line != 0)) {
		load_error(l, l->backoff_initial_line != 0 ? l->backoff_initial_line :
		    l->backoff_max_line, "backoff_initial (%dms) is longer than backoff_max (%dms)",
		    p->backoff_initial_ms, p->backoff_max_ms);
	}
	if (l->cause != NULL) {
		*cause = l->cause;
		return -1;
	}
	for (i = 0; i < p->nforwards; i++) {
		if (forward_is_builtin(&p->forwards[i]))
			forward_builtin_origin(&p->forwards[i], l->label);
	}
	return 0;
}

/* Set p->path, refusing to cut it. */
static int
profile_set_path(struct profile *p, const char *path, char **cause)
{
	if (strlen(path) >= sizeof p->path) {
		cause_set(cause, "profile path too long: %.64s...", path);
		return -1;
	}
	memmove(p->path, path, strlen(path) + 1);	/* path may be p->path */
	return 0;
}

int
profile_load_string(struct profile *p, const char *text, const char *label, char **cause)
{
	struct load	l;

	if (profile_set_path(p, label, cause) != 0)
		return -1;
	memset(&l, 0, sizeof l);
	l.p = p;
	l.label = label;
	l.s = text;
	return load_run(&l, cause);
}

/* A profile says where to connect and with which key: anyone able to edit it owns the tunnel. */
int
profile_load_file(struct profile *p, const char *path, char **cause)
{
	struct load	l;
	struct stat	st;
	FILE		*f;
	int		rc;

	if (profile_set_path(p, path, cause) != 0)
		return -1;
	if ((f = fopen(path, "r")) == NULL) {
		cause_set(cause, "cannot open profile %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) != 0) {
		cause_set(cause, "cannot stat profile %s: %s", path, strerror(errno));
		fclose(f);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		cause_set(cause, "profile %s is not a regular file", path);
		fclose(f);
		return -1;
	}
	if (paths_check_private("profile", path, &st, cause) != 0) {
		fclose(f);
		return -1;
	}
	memset(&l, 0, sizeof l);
	l.p = p;
	l.label = path;
	l.f = f;
	rc = load_run(&l, cause);
	fclose(f);
	return rc;
}

int
profile_path(const char *name, char *buf, size_t len)
{
	const char	*xdg = getenv("XDG_CONFIG_HOME");
	char		 rel[PATH_MAX];

	/* The XDG spec says to ignore a relative XDG_CONFIG_HOME. */
	if (xdg != NULL && xdg[0] == '/')
		return snprintf(buf, len, "%s/connect/%s.ini", xdg, name);
	/* paths_expand: a home of "/" (a uid without a passwd entry) gives "/.config", not "//". */
	snprintf(rel, sizeof rel, "~/.config/connect/%s.ini", name);
	if (paths_expand(rel, buf, len) == NULL)
		return (int)len;	/* too long, as snprintf would say */
	return (int)strlen(buf);
}

int
profile_name_check(const char *name, char **cause)
{
	char	shown[PROFILE_NAME_MAX * 4 + 8];

	if (profile_charset(name, "._-") && strlen(name) <= PROFILE_NAME_MAX)
		return 0;
	cause_set(cause, "bad profile name '%s': use letters, digits, '.', '_' and '-' "
	    "(at most %d)", vis_str(shown, sizeof shown, name), PROFILE_NAME_MAX);
	return -1;
}

int
profile_value_check(const char *value)
{
	const unsigned char	*u;

	for (u = (const unsigned char *)value; *u != '\0'; u++) {
		if (*u < 0x20 || *u == 0x7f)
			return *u;
	}
	return 0;
}

int
profile_find(struct profile *p, const char *name, char **cause)
{
	char		 path[PATH_MAX];
	char		 cfgname[PATH_MAX], *why = NULL;
	struct stat	 st;
	size_t		 i;
	int		 found;

	if (profile_name_check(name, cause) != 0)
		return -1;
	sshconfig_user_file(cfgname, sizeof cfgname);
	if (profile_path(name, path, sizeof path) >= (int)sizeof path) {
		cause_set(cause, "profile '%s': path too long", name);
		return -1;
	}
	if (stat(path, &st) == 0 || errno != ENOENT) {
		if (profile_load_file(p, path, cause) != 0)
			return -1;
		snprintf(p->name, sizeof p->name, "%s", name);
		p->from_ssh_config = 0;
		return 0;
	}

	if ((found = sshconfig_has_host(name, &why)) == -1) {
		cause_set(cause, "no profile '%s': %s does not exist, and %s", name, path,
		    why != NULL ? why : "the ssh config cannot be read");
		free(why);
		return -1;
	}
	if (found == 0) {
		cause_set(cause, "no profile '%s': %s does not exist and %s has no 'Host %s' "
		    "block (create one with: connect init %s --id STUDIO_ID)", name, path, cfgname,
		    name, name);
		return -1;
	}
	snprintf(p->name, sizeof p->name, "%s", name);
	snprintf(p->host, sizeof p->host, "%s", name);
	p->path[0] = '\0';
	p->from_ssh_config = 1;
	for (i = 0; i < p->nforwards; i++) {
		if (forward_is_builtin(&p->forwards[i]))
			forward_builtin_origin(&p->forwards[i], path);
	}
	return 0;
}

int
profile_add_forward(struct profile *p, const char *spec, char **cause)
{
	struct forward_spec	fs;

	if (fwdspec_parse(&fs, spec, cause) != 0)
		return -1;
	if (p->nforwards == PROFILE_MAX_FORWARDS) {
		cause_set(cause, "-L %s: too many forwards (at most %d)", spec,
		    PROFILE_MAX_FORWARDS);
		return -1;
	}
	p->forwards[p->nforwards++] = fs;
	return 0;
}

/* Do two listeners collide? Same address, or either on a wildcard. */
static int
bind_conflict(const struct forward_spec *a, const struct forward_spec *b)
{
	if (a->local_port != b->local_port)
		return 0;
	if (strcmp(a->bind_addr, b->bind_addr) == 0)
		return 1;
	return strcmp(a->bind_addr, "0.0.0.0") == 0 || strcmp(a->bind_addr, "::") == 0 ||
	    strcmp(b->bind_addr, "0.0.0.0") == 0 || strcmp(b->bind_addr, "::") == 0;
}

/* "PATH: " or "profile NAME: " or "": who the message is about. */
static const char *
profile_where(const struct profile *p, char *buf, size_t len)
{
	if (p->path[0] != '\0')
		snprintf(buf, len, "%s: ", p->path);
	else if (p->name[0] != '\0')
		snprintf(buf, len, "profile '%s': ", p->name);
	else
		buf[0] = '\0';
	return buf;
}

int
profile_studio_id(const char *in, char *out, size_t len)
{
	const char	*at, *gw = PROFILE_DEFAULT_HOST;
	size_t		 n;

	while (*in == ' ' || *in == '\t')
		in++;
	if (strncmp(in, "ssh ", 4) == 0)	/* the whole command Lightning shows */
		for (in += 4; *in == ' '; in++)
			;
	n = strcspn(in, " \t\r\n");
	if (in[n] != '\0' && in[n + strspn(in + n, " \t\r\n")] != '\0')
		return -1;	/* more words */
	/* s_ID@ssh.lightning.ai: the login as Lightning prints it; another host is not an id. */
	if ((at = memchr(in, '@', n)) != NULL) {
		if ((size_t)(in + n - at - 1) != strlen(gw) || strncasecmp(at + 1, gw, strlen(gw)) != 0)
			return -1;
		n = (size_t)(at - in);
	}
	if (n >= 2 && strncmp(in, "s_", 2) == 0) {
		in += 2;
		n -= 2;
	}
	if (n == 0 || n > PROFILE_ID_MAX || n >= len)
		return -1;
	memcpy(out, in, n);
	out[n] = '\0';
	return profile_charset(out, "_-") ? 0 : -1;
}

int
profile_validate(const struct profile *p, char **cause)
{
	const struct forward_spec	*a, *b;
	char				 where[PATH_MAX + 32];
	size_t				 i, j;

	profile_where(p, where, sizeof where);
	if (!p->from_ssh_config && p->studio_id[0] == '\0' && p->user[0] == '\0') {
		if (p->path[0] != '\0')
			cause_set(cause, "%sno Studio id: set id = STUDIO_ID (or user = "
			    "s_STUDIO_ID) in its [studio] section, or give --id", where);
		else
			cause_set(cause, "%sno Studio id: give --id STUDIO_ID or a profile name",
			    where);
		return -1;
	}
	if (p->studio_id[0] != '\0' && (!profile_charset(p->studio_id, "_-") ||
	    strlen(p->studio_id) > PROFILE_ID_MAX)) {
		cause_set(cause, "%sbad Studio id '%s': expected letters, digits, '_' and '-' "
		    "(at most %d)", where, p->studio_id, PROFILE_ID_MAX);
		return -1;
	}
	if (p->port < 0 || p->port > 65535) {
		cause_set(cause, "%sbad SSH port %d: expected 1..65535", where, p->port);
		return -1;
	}
	if (p->nforwards == 0) {
		cause_set(cause, "%sno forwards: add a [forward NAME] section, set "
		    "default_forwards = yes, or give -L", where);
		return -1;
	}
	for (i = 0; i < p->nforwards; i++) {
		a = &p->forwards[i];
		if (a->local_port < 1 || a->local_port > 65535 || a->remote_port < 1 ||
		    a->remote_port > 65535 || a->bind_addr[0] == '\0' || a->remote_host[0] == '\0') {
			cause_set(cause, "%sforward %s is incomplete: needs local_port, "
			    "remote_port 1..65535, bind and remote_host (%s)", where, a->name,
			    a->origin);
			return -1;
		}
		for (j = 0; j < i; j++) {
			b = &p->forwards[j];
			if (!bind_conflict(a, b))
				continue;
			cause_set(cause, "local port %d is taken twice: forward %s on %s (%s) "
			    "and forward %s on %s (%s); change one of them", a->local_port,
			    b->name, b->bind_addr, b->origin, a->name, a->bind_addr, a->origin);
			return -1;
		}
	}
	if (p->keepalive_interval_ms <= 0 || p->keepalive_count <= 0 ||
	    p->connect_timeout_ms <= 0 || p->handshake_timeout_ms <= 0 ||
	    p->auth_timeout_ms <= 0 || p->backoff_initial_ms <= 0 || p->backoff_max_ms <= 0 ||
	    p->stable_ms <= 0 || p->hold_timeout_ms <= 0 || p->max_tries < 0 || p->hold_max < 0) {
		cause_set(cause, "%sa keepalive or reconnect setting is out of range", where);
		return -1;
	}
	if (p->backoff_initial_ms > p->backoff_max_ms) {
		cause_set(cause, "%sbackoff_initial (%dms) is longer than backoff_max (%dms)",
		    where, p->backoff_initial_ms, p->backoff_max_ms);
		return -1;
	}
	return 0;
}

const char *
profile_user(const struct profile *p, char *buf, size_t len)
{
	if (p->user[0] != '\0')
		return p->user;
	if (p->studio_id[0] != '\0')
		snprintf(buf, len, "s_%s", p->studio_id);
	else if (len > 0)
		buf[0] = '\0';
	return buf;
}

int
profile_inih_lineno(void)
{
	return INI_HANDLER_LINENO;
}
