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

static int
cmd_init_exec(struct cmd_opts *o)
{
	struct profile	*p;
	const char	*name = NULL, *host = NULL, *v;
	char		 path[PATH_MAX], tmp[PATH_MAX + 16], dir[PATH_MAX], text[4096], *slash;
	char		*cause = NULL, port[16] = "", *msg, *colon;
	int		 i, force = 0, missing = 0, fd, rc = 0;
	size_t		 len;
	time_t		 now = time(NULL);

	for (i = 0; i < o->argc; i++) {
		if ((v = init_value(o, &i, "--id", 0, &missing)) != NULL)
			o->studio_id = v;
		else if ((v = init_value(o, &i, "--host", 0, &missing)) != NULL)
			host = v;
		else if ((v = init_value(o, &i, "--user", 'l', &missing)) != NULL)
			o->user = v;
		else if ((v = init_value(o, &i, "--port", 'p', &missing)) != NULL)
			snprintf(port, sizeof port, "%s", v);
		else if ((v = init_value(o, &i, "--identity", 'i', &missing)) != NULL)
			o->identity = v;
		else if (cmd_is_flag(o->argv[i], "--force", 'f'))
			force = 1;
		else if (!missing && o->argv[i][0] != '-' && name == NULL)
			name = o->argv[i];
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
	if (name == NULL || (o->studio_id == NULL && o->user == NULL)) {
		fprintf(stderr, "usage: connect %s\n", cmd_init_entry.usage);
		return EX_USAGE;
	}
	if (port[0] == '\0' && o->port != 0)
		snprintf(port, sizeof port, "%d", o->port);
	if (profile_path(name, path, sizeof path) >= (int)sizeof path) {
		fprintf(stderr, "connect: init: profile path too long\n");
		return EX_USAGE;
	}
	len = (size_t)snprintf(text, sizeof text,
	    "; connect profile '%s', written by `connect init` on %.24s.\n"
	    "; Every key, with its default: conf/example.ini, or man connect (PROFILES).\n"
	    "\n[studio]\n%s%s%s%s%s%s%s%s%s%s%s%s%s%s%s",
	    name, ctime(&now),
	    o->studio_id ? "id = " : "", o->studio_id ? o->studio_id : "", o->studio_id ? "\n" : "",
	    o->user ? "user = " : "", o->user ? o->user : "", o->user ? "\n" : "",
	    host ? "host = " : "", host ? host : "", host ? "\n" : "",
	    port[0] ? "port = " : "", port, port[0] ? "\n" : "",
	    o->identity ? "identity = " : "", o->identity ? o->identity : "",
	    o->identity ? "\n" : "");
	if (len >= sizeof text) {
		fprintf(stderr, "connect: init: values too long\n");
		return EX_USAGE;
	}
	/* The values are checked by the loader itself before anything is written. */
	if ((p = calloc(1, sizeof *p)) == NULL)
		return EX_OSERR;
	profile_defaults(p);
	if (profile_load_string(p, text, INIT_LABEL, &cause) != 0 ||
	    profile_validate(p, &cause) != 0) {
		/* "LABEL:LINE: " points into text the user never saw: the key names the option. */
		msg = cause;
		if (strncmp(msg, INIT_LABEL ":", sizeof INIT_LABEL) == 0 &&
		    (colon = strstr(msg + sizeof INIT_LABEL, ": ")) != NULL)
			msg = colon + 2;
		fprintf(stderr, "connect: init: %s\n", msg);
		free(cause);
		free(p);
		return EX_USAGE;
	}
	free(p);
	snprintf(dir, sizeof dir, "%s", path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (init_mkdirs(dir) != 0) {
			fprintf(stderr, "connect: init: cannot create %s: %s\n", dir, strerror(errno));
			return EX_CANTCREAT;
		}
	}
	/* Written whole to a temporary file, then put in place: never a half-written profile. */
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
	/* link() fails if the profile exists: no overwrite without --force, even racing. */
	if (force)
		rc = rename(tmp, path);
	else if ((rc = link(tmp, path)) == 0 || errno != EEXIST)
		unlink(tmp);
	if (rc != 0) {
		if (errno == EEXIST) {
			fprintf(stderr, "connect: init: %s exists; not overwritten (--force to replace "
			    "it)\n", path);
			unlink(tmp);
			return EX_CANTCREAT;
		}
		fprintf(stderr, "connect: init: cannot write %s: %s\n", path, strerror(errno));
		unlink(tmp);
		return EX_CANTCREAT;
	}
	printf("wrote %s\nstart it: connect %s   (or in the background: connect -d %s)\n", path,
	    name, name);
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
