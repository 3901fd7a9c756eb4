/*
 * cmd.c: what every command shares: the profile built from the command line,
 * the flags of the small commands, and asking a running instance its state.
 * main.c holds the table and the exits; each cmd-*.c one command.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cause.h"
#include "cmd.h"
#include "control.h"
#include "instance.h"

/* Copy a command-line value into a profile field, refusing silent truncation. */
static int
set_field(char *dst, size_t len, const char *value, const char *flag, char **cause)
{
	if (strlen(value) >= len) {
		cause_set(cause, "%s: value too long", flag);
		return -1;
	}
	memcpy(dst, value, strlen(value) + 1);
	return 0;
}

int
cmd_build_profile(struct cmd_opts *o, const char *name, struct profile *p, char **cause)
{
	int	 i;

	profile_defaults(p);
	if (o->profile_file != NULL) {
		if (profile_load_file(p, o->profile_file, cause) != 0)
			return EX_CONFIG;
	} else if (name != NULL) {
		if (profile_find(p, name, cause) != 0) {
			/* A mistyped command lands here too (connect stauts): say both. */
			if (*cause != NULL && strncmp(*cause, "no profile ", 11) == 0) {
				char	*more = NULL;

				cause_set(&more, "%s; nor is '%s' a command (connect --help)", *cause,
				    name);
				if (more != NULL) {
					free(*cause);
					*cause = more;
				}
			}
			return EX_CONFIG;
		}
	} else if (o->studio_id == NULL && o->user == NULL) {
		cause_set(cause, "name a profile, or give --id STUDIO_ID (try connect --help)");
		return EX_USAGE;
	}
	if (name != NULL && p->name[0] == '\0' &&
	    set_field(p->name, sizeof p->name, name, "NAME", cause))
		return EX_USAGE;
	if (p->name[0] == '\0' && o->profile_file != NULL) {
		/* -F dir/my-studio.ini: the instance is "my-studio" */
		const char	*b = strrchr(o->profile_file, '/');
		size_t		 n;

		b = b != NULL ? b + 1 : o->profile_file;
		n = strlen(b);
		if (n > 4 && strcmp(b + n - 4, ".ini") == 0)
			n -= 4;
		snprintf(p->name, sizeof p->name, "%.*s", (int)n, b);
	}
	if (o->studio_id != NULL) {
		/* As Lightning shows it (ID, s_ID, s_ID@ssh.lightning.ai): the bare id. */
		if (profile_studio_id(o->studio_id, p->studio_id, sizeof p->studio_id) != 0) {
			cause_set(cause, "--id %s: expected the Studio id (as ID, s_ID or "
			    "s_ID@ssh.lightning.ai; letters, digits, '_' and '-')", o->studio_id);
			return EX_USAGE;
		}
		/* The instance answers to the id given: connect stop ID, status ID. */
		if (p->name[0] == '\0')
			snprintf(p->name, sizeof p->name, "%s", p->studio_id);
	}
	if (o->user != NULL && set_field(p->user, sizeof p->user, o->user, "-l", cause))
		return EX_USAGE;
	if (o->identity != NULL &&
	    set_field(p->identity, sizeof p->identity, o->identity, "-i", cause))
		return EX_USAGE;
	if (o->ciphers != NULL && set_field(p->ciphers, sizeof p->ciphers, o->ciphers, "-c", cause))
		return EX_USAGE;
	if (o->port != 0)
		p->port = o->port;
	for (i = 0; i < o->nforwards; i++) {
		if (profile_add_forward(p, o->forwards[i], cause) != 0)
			return EX_USAGE;
	}
	if (profile_validate(p, cause) != 0)
		return EX_CONFIG;
	return 0;
}

int
cmd_load_profile(struct cmd_opts *o, const char *name, struct profile *p)
{
	char	*cause = NULL;
	int	 rc;

	if ((rc = cmd_build_profile(o, name, p, &cause)) != 0)
		fprintf(stderr, "connect: %s\n", cause != NULL ? cause :
		    rc == EX_USAGE ? "bad command line" : "bad profile");
	free(cause);
	return rc;
}

int
cmd_is_flag(const char *arg, const char *name, char shortopt)
{
	return strcmp(arg, name) == 0 || (shortopt != 0 && arg[0] == '-' &&
	    arg[1] == shortopt && arg[2] == '\0');
}

int
cmd_name_and_flag(const struct cmd_opts *o, const char *cmd, const char *flag, char shortopt,
    int *flag_set, const char **name)
{
	int	i;

	*flag_set = 0;
	*name = NULL;
	for (i = 0; i < o->argc; i++) {
		if (cmd_is_flag(o->argv[i], flag, shortopt))
			*flag_set = 1;
		else if (o->argv[i][0] == '-' || *name != NULL) {
			fprintf(stderr, "connect: %s: unexpected '%s' (connect %s --help)\n", cmd,
			    o->argv[i], cmd);
			return EX_USAGE;
		} else
			*name = o->argv[i];
	}
	return 0;
}

int
cmd_instance_state(const struct instance *in, char state[CMD_STATE_MAX])
{
	char	*reply = NULL, *cause = NULL;
	size_t	 n;
	int	 rc = -1;

	/* Its own request: the status line starts with the name, which may hold blanks. */
	if (control_call(in->sock_path, "state", 2000, &reply, &cause) == 0 &&
	    (n = strcspn(reply, "\n")) > 0 && n < CMD_STATE_MAX && reply[n] == '\n') {
		memcpy(state, reply, n);
		state[n] = '\0';
		rc = 0;
	}
	free(reply);
	free(cause);
	return rc;
}

const char *
cmd_instance_name(const char *name, char *buf, size_t len)
{
	struct instance	 in;
	char		*cause = NULL;
	const char	*use = name;

	/* The name as given, when it has files; else the id in it (s_ID, s_ID@host). */
	if (instance_init(&in, name, &cause) == 0 && access(in.pid_path, F_OK) == 0)
		goto out;
	free(cause);
	cause = NULL;
	if (profile_studio_id(name, buf, len) == 0 && strcmp(buf, name) != 0 &&
	    instance_init(&in, buf, &cause) == 0 && access(in.pid_path, F_OK) == 0)
		use = buf;
out:
	free(cause);
	return use;
}

const struct cmd_clearml cmd_clearml[CMD_CLEARML_N] = {
	{ "web", "web UI", "CLEARML_WEB_HOST" },
	{ "api", "API", "CLEARML_API_HOST" },
	{ "files", "files", "CLEARML_FILES_HOST" },
};

int
cmd_forward_port(const struct profile *p, const char *name)
{
	size_t	i;

	for (i = 0; i < p->nforwards; i++)
		if (strcmp(p->forwards[i].name, name) == 0)
			return p->forwards[i].local_port;
	return 0;
}

int
cmd_urls(const struct profile *p, char *buf, size_t len)
{
	size_t	i, used = 0;
	int	n = 0, port;

	buf[0] = '\0';
	for (i = 0; i < CMD_CLEARML_N && used < len; i++) {
		if ((port = cmd_forward_port(p, cmd_clearml[i].forward)) == 0)
			continue;
		used += (size_t)snprintf(buf + used, len - used, "%s%s http://localhost:%d",
		    n++ ? ", " : "", cmd_clearml[i].label, port);
	}
	return n;
}
