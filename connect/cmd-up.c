/* cmd-up.c: `connect [NAME]`: run the tunnel in the foreground until Ctrl-C / SIGTERM. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <event2/event.h>

#include "cmd.h"
#include <libssh/libssh.h>

#include "cause.h"
#include "log.h"
#include "supervisor.h"

static void
cmd_up_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	supervisor_shutdown(arg, sig == SIGINT ? "interrupted" : "terminated");
}

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
		if (profile_find(p, name, cause) != 0)
			return EX_CONFIG;
	} else if (o->studio_id == NULL && o->user == NULL) {
		cause_set(cause, "name a profile, or give --id STUDIO_ID (try connect --help)");
		return EX_USAGE;
	}
	if (name != NULL && p->name[0] == '\0' &&
	    set_field(p->name, sizeof p->name, name, "NAME", cause))
		return EX_USAGE;
	if (o->studio_id != NULL) {
		if (set_field(p->studio_id, sizeof p->studio_id, o->studio_id, "--id", cause))
			return EX_USAGE;
		if (p->name[0] == '\0')
			snprintf(p->name, sizeof p->name, "s_%s", o->studio_id);
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

static int
cmd_up_exec(struct cmd_opts *o)
{
	struct profile		*p;
	struct event_base	*base;
	struct supervisor	*sup;
	struct event		*ev_int, *ev_term;
	char			*cause = NULL;
	int			 rc;

	if (o->argc > 1) {
		fprintf(stderr, "connect: one profile at a time (got '%s' and '%s')\n", o->argv[0],
		    o->argv[1]);
		return EX_USAGE;
	}
	if ((p = calloc(1, sizeof *p)) == NULL)
		return EX_OSERR;
	if ((rc = cmd_load_profile(o, o->argc > 0 ? o->argv[0] : NULL, p)) != 0) {
		free(p);
		return rc;
	}
	signal(SIGPIPE, SIG_IGN);	/* a client that vanished is an error return, not a death */
	log_route_libraries();
	if ((base = event_base_new()) == NULL || (sup = supervisor_new(base, p)) == NULL) {
		fprintf(stderr, "connect: out of memory\n");
		return EX_OSERR;
	}
	if ((rc = supervisor_prepare(sup, &cause)) != 0 ||
	    (rc = supervisor_bind(sup, &cause)) != 0) {
		fprintf(stderr, "connect: %s\n", cause != NULL ? cause : "cannot start");
		free(cause);
		supervisor_free(sup);
		event_base_free(base);
		free(p);
		return rc;
	}
	ev_int = evsignal_new(base, SIGINT, cmd_up_signal, sup);
	ev_term = evsignal_new(base, SIGTERM, cmd_up_signal, sup);
	evsignal_add(ev_int, NULL);
	evsignal_add(ev_term, NULL);

	supervisor_start(sup);
	event_base_dispatch(base);
	rc = supervisor_exit_code(sup);

	event_free(ev_int);
	event_free(ev_term);
	supervisor_free(sup);
	event_base_free(base);
	free(p);
	ssh_finalize();
	return rc;
}

const struct cmd_entry cmd_up_entry = {
	.name = "up",
	.usage = "[up] NAME",
	.summary = "run the tunnel in the foreground (the default)",
	.exec = cmd_up_exec,
};
