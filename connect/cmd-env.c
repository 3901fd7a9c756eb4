/*
 * cmd-env.c: `connect env NAME`: the CLEARML_*_HOST exports a ClearML client
 * needs to use NAME's tunnel, for eval "$(connect env NAME)".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cmd.h"
#include "profile.h"

static int
cmd_env_exec(struct cmd_opts *o)
{
	struct profile	*p;
	size_t		 i;
	int		 rc, n = 0, port;

	if (o->argc > 1) {
		fprintf(stderr, "connect: env: one profile at a time (connect env --help)\n");
		return EX_USAGE;
	}
	if ((p = calloc(1, sizeof *p)) == NULL)
		return EX_OSERR;
	if ((rc = cmd_load_profile(o, o->argc > 0 ? o->argv[0] : NULL, p)) != 0) {
		free(p);
		return rc;
	}
	/*
	 * localhost, whatever the bind address: ClearML stores file-server URLs in
	 * artifacts, so every machine must name them alike (http://localhost:8081).
	 */
	for (i = 0; i < CMD_CLEARML_N; i++) {
		if ((port = cmd_forward_port(p, cmd_clearml[i].forward)) == 0)
			continue;
		printf("export %s=http://localhost:%d\n", cmd_clearml[i].var, port);
		n++;
	}
	free(p);
	if (n == 0) {
		fprintf(stderr, "connect: env: the profile has no web, api or files forward "
		    "(default_forwards = no?)\n");
		return EX_CONFIG;
	}
	return 0;
}

const struct cmd_entry cmd_env_entry = {
	.name = "env",
	.usage = "env NAME",
	.summary = "print the CLEARML_WEB_HOST, _API_HOST and _FILES_HOST exports for NAME's forwards",
	.help =
	    "For a shell: eval \"$(connect env my-studio)\", then ClearML clients use the tunnel.\n"
	    "The URLs name localhost and the forwards' local ports (web, api, files); -F, --id\n"
	    "and -L apply as for the tunnel.\n"
	    "exit status: 0 printed, 78 profile error or no ClearML forward.\n",
	.globals = 1,
	.exec = cmd_env_exec,
};
