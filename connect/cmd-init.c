/* cmd-init.c: `connect init NAME --id ID [...]`: write a profile (0600), never over one. */
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "profile.h"
#include "vis.h"

/* The name the loader gives the text init builds (messages say "LABEL:LINE: ..."). */
#define INIT_LABEL	"(connect init)"

/* The value of option argv[*i] ("--opt value" or "--opt=value"); NULL if it is not `opt`. */
static const char *
init_value(struct cmd_opts *o, int *i, const char *lopt, char sopt, int *missing)
{
	const char	*a = o->argv[*i];
	size_t		 n = strlen(lopt);

	if (strncmp(a, lopt, n) == 0 && a[n] == '=')
		return a + n + 1;
	if (!cmd_is_flag(a, lopt, sopt))
		return NULL;
	if (*i + 1 >= o->argc) {
		*missing = 1;
		return NULL;
	}
	return o->argv[++*i];
}

/* mkdir -p for the profile directory (0700: profiles name hosts and keys). */
static int
init_mkdirs(char *dir)
{
	char	*p;

	for (p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return mkdir(dir, 0700) == -1 && errno != EEXIST ? -1 : 0;
}

/* What `init` was asked to write. */
struct init_args {
	const char	*name, *host;
	char		 id[160];
	char		 port[16];
	int		 force;
};

/* The options after `init`: into a (and o's id, user, identity). Returns 0 or EX_USAGE. */
static int
init_parse(struct cmd_opts *o, struct init_args *a)
{
	const char	*v, *port = NULL;
	char		*cause = NULL, shown[512];
	int		 i, c, missing = 0;
	struct {
		const char	*key, *v;
	} vals[4];

	memset(a, 0, sizeof *a);
	for (i = 0; i < o->argc; i++) {
		if ((v = init_value(o, &i, "--id", 0, &missing)) != NULL)
			o->studio_id = v;
		else if ((v = init_value(o, &i, "--host", 0, &missing)) != NULL)
			a->host = v;
		else if ((v = init_value(o, &i, "--user", 'l', &missing)) != NULL)
			o->user = v;
		else if ((v = init_value(o, &i, "--port", 'p', &missing)) != NULL)
			port = v;
		else if ((v = init_value(o, &i, "--identity", 'i', &missing)) != NULL)
			o->identity = v;
		else if (cmd_is_flag(o->argv[i], "--force", 'f'))
			a->force = 1;
		else if (!missing && o->argv[i][0] != '-' && a->name == NULL)
			a->name = o->argv[i];
		else {
			fprintf(stderr, "connect: init: %s '%s' (connect init --help)\n",
			    missing ? "a value is missing after" : "unexpected", o->argv[i]);
			return EX_USAGE;
		}
		if (missing) {
			fprintf(stderr, "connect: init: a value is missing after '%s'\n", o->argv[i]);
			return EX_USAGE;
		}
	}
	if (a->name == NULL || (o->studio_id == NULL && o->user == NULL)) {
		fprintf(stderr, "usage: connect %s\n", cmd_init_entry.usage);
		return EX_USAGE;
	}
	vals[0].key = "user", vals[0].v = o->user;
	vals[1].key = "host", vals[1].v = a->host;
	vals[2].key = "port", vals[2].v = port;
	vals[3].key = "identity", vals[3].v = o->identity;
	/* Each value becomes one line "key = value": a newline in one would add a line of its own. */
	for (i = 0; i < (int)(sizeof vals / sizeof vals[0]); i++) {
		if (vals[i].v != NULL && (c = profile_value_check(vals[i].v)) != 0) {
			fprintf(stderr, "connect: init: %s: control character 0x%02x in the value: "
			    "refused (a profile value is one line of text)\n", vals[i].key, c);
			return EX_USAGE;
		}
	}
	if (port != NULL && snprintf(a->port, sizeof a->port, "%s", port) >= (int)sizeof a->port) {
		fprintf(stderr, "connect: init: port: expected a port number 1..65535\n");
		return EX_USAGE;
	}
	if (a->port[0] == '\0' && o->port != 0)
		snprintf(a->port, sizeof a->port, "%d", o->port);
	if (profile_name_check(a->name, &cause) != 0) {
		fprintf(stderr, "connect: init: %s\n", cause);
		free(cause);
		return EX_USAGE;
	}
	/* As Lightning shows it (ID, s_ID, s_ID@ssh.lightning.ai): the profile gets the bare id. */
	if (o->studio_id != NULL) {
		if (profile_studio_id(o->studio_id, a->id, sizeof a->id) != 0) {
			fprintf(stderr, "connect: init: id: expected the Studio id (letters, digits, "
			    "'_' and '-', at most 128), got '%s'\n",
			    vis_str(shown, sizeof shown, o->studio_id));
			return EX_USAGE;
		}
		o->studio_id = a->id;
	}
	return 0;
}

/* The profile's text into text. Returns its length, or 0 (said) when it does not fit. */
static size_t
init_render(const struct cmd_opts *o, const struct init_args *a, char *text, size_t len)
{
	time_t	now = time(NULL);
	size_t	n;

	n = (size_t)snprintf(text, len,
	    "; connect profile '%s', written by `connect init` on %.24s.\n"
	    "; Every key, with its default: conf/example.ini, or man connect (PROFILES).\n"
	    "\n[studio]\n%s%s%s%s%s%s%s%s%s%s%s%s%s%s%s",
	    a->name, ctime(&now),
	    o->studio_id ? "id = " : "", o->studio_id ? o->studio_id : "", o->studio_id ? "\n" : "",
	    o->user ? "user = " : "", o->user ? o->user : "", o->user ? "\n" : "",
	    a->host ? "host = " : "", a->host ? a->host : "", a->host ? "\n" : "",
	    a->port[0] ? "port = " : "", a->port, a->port[0] ? "\n" : "",
	    o->identity ? "identity = " : "", o->identity ? o->identity : "",
	    o->identity ? "\n" : "");
	if (n >= len) {
		fprintf(stderr, "connect: init: values too long\n");
		return 0;
	}
	return n;
}

/*
 * Does the loaded profile hold each value as given? A value the loader
 * reads otherwise (" ;" starts a comment, a pair of quotes is dropped)
 * would silently become another setting.
 */
static int
init_same(const struct profile *p, const struct cmd_opts *o, const struct init_args *a)
{
	const char	*key = NULL;

	if (o->studio_id != NULL && strcmp(p->studio_id, o->studio_id) != 0)
		key = "id";
	else if (o->user != NULL && strcmp(p->user, o->user) != 0)
		key = "user";
	else if (a->host != NULL && strcmp(p->host, a->host) != 0)
		key = "host";
	else if (a->port[0] != '\0' && fwdspec_parse_port(a->port) != p->port)
		key = "port";
	else if (o->identity != NULL && strcmp(p->identity, o->identity) != 0)
		key = "identity";
	if (key == NULL)
		return 0;
	fprintf(stderr, "connect: init: %s: the profile would not read back the value given "
	    "(' ;' starts a comment there, surrounding quotes are dropped)\n", key);
	return EX_USAGE;
}

/* The loader itself checks the values before anything is written. Returns 0 or an exit code. */
static int
init_check(const struct cmd_opts *o, const struct init_args *a, const char *text)
{
	struct profile	*p;
	char		*cause = NULL, *msg, *colon;
	int		 rc = 0;

	if ((p = calloc(1, sizeof *p)) == NULL)
		return EX_OSERR;
	profile_defaults(p);
	if (profile_load_string(p, text, INIT_LABEL, &cause) != 0 ||
	    profile_validate(p, &cause) != 0) {
		/* "LABEL:LINE: " points into text the user never saw: the key names the option. */
		msg = cause != NULL ? cause : "bad value";
		if (strncmp(msg, INIT_LABEL ":", sizeof INIT_LABEL) == 0 &&
		    (colon = strstr(msg + sizeof INIT_LABEL, ": ")) != NULL)
			msg = colon + 2;
		fprintf(stderr, "connect: init: %s\n", msg);
		rc = EX_USAGE;
	} else
		rc = init_same(p, o, a);
	free(cause);
	free(p);
	return rc;
}

/*
 * Write text as path (0600, its directory 0700): whole to a temporary file,
 * then put in place, never over an existing profile unless force (link()
 * fails if it exists, even racing). Returns 0 or an exit code, said.
 */
static int
init_write(const char *path, const char *text, size_t len, int force)
{
	char	tmp[PATH_MAX + 16], dir[PATH_MAX], *slash;
	int	fd, rc;

	snprintf(dir, sizeof dir, "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (init_mkdirs(dir) != 0) {
			fprintf(stderr, "connect: init: cannot create %s: %s\n", dir, strerror(errno));
			return EX_CANTCREAT;
		}
	}
	snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) == -1) {
		fprintf(stderr, "connect: init: cannot create %s: %s\n", tmp, strerror(errno));
		return EX_CANTCREAT;
	}
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) == -1 || close(fd) == -1) {
		fprintf(stderr, "connect: init: cannot write %s: %s\n", tmp, strerror(errno));
		unlink(tmp);
		return EX_IOERR;
	}
	if (force)
		rc = rename(tmp, path);
	else if ((rc = link(tmp, path)) == 0 || errno != EEXIST)
		unlink(tmp);
	if (rc != 0) {
		if (errno == EEXIST)
			fprintf(stderr, "connect: init: %s exists; not overwritten (--force to "
			    "replace it)\n", path);
		else
			fprintf(stderr, "connect: init: cannot write %s: %s\n", path,
			    strerror(errno));
		unlink(tmp);
		return EX_CANTCREAT;
	}
	return 0;
}

static int
cmd_init_exec(struct cmd_opts *o)
{
	struct init_args	a;
	char			path[PATH_MAX], text[4096];
	size_t			len;
	int			rc;

	if ((rc = init_parse(o, &a)) != 0)
		return rc;
	if (profile_path(a.name, path, sizeof path) >= (int)sizeof path) {
		fprintf(stderr, "connect: init: profile path too long\n");
		return EX_USAGE;
	}
	if ((len = init_render(o, &a, text, sizeof text)) == 0)
		return EX_USAGE;
	if ((rc = init_check(o, &a, text)) != 0 || (rc = init_write(path, text, len, a.force)) != 0)
		return rc;
	printf("wrote %s\nstart it: connect %s   (or in the background: connect -d %s)\n", path,
	    a.name, a.name);
	return 0;
}

const struct cmd_entry cmd_init_entry = {
	.name = "init",
	.usage = "init NAME --id ID [--host HOST] [-l USER] [-p PORT] [-i IDENTITY] [--force]",
	.summary = "write a profile for a Studio (mode 0600)",
	.help =
	    "  --id ID        the Studio id (the SSH user is s_ID); or -l USER\n"
	    "  --host HOST    SSH host or ~/.ssh/config alias (default ssh.lightning.ai)\n"
	    "  -l, --user USER, -p, --port PORT, -i, --identity FILE: as in the profile's [studio]\n"
	    "  -f, --force    replace an existing profile\n"
	    "\n"
	    "Writes $XDG_CONFIG_HOME/connect/NAME.ini (default ~/.config/connect) with the default\n"
	    "forwards (web 8080, api 8008, files 8081); edit it to add more (see connect(1)).\n"
	    "exit status: 0 written, 64 bad values, 73 exists (without --force) or not writable.\n",
	.exec = cmd_init_exec,
};
