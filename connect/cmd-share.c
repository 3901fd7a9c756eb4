/*
 * cmd-share.c: `connect share [NAME]`: run on the Studio that serves ClearML
 * (the old deployment's `make host`), it prints what the other machines run
 * to reach it, and the clearml.conf block they use.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cmd.h"
#include "profile.h"

static int
cmd_share_exec(struct cmd_opts *o)
{
	const char	*own = getenv("LIGHTNING_CLOUD_SPACE_ID"), *src, *name = "clearml";
	char		 id[160], *cause = NULL;

	if (o->argc > 1) {
		fprintf(stderr, "connect: share: at most one NAME (connect share --help)\n");
		return EX_USAGE;
	}
	if (o->argc == 1)
		name = o->argv[0];
	/* The line printed is run as it stands: a name init would refuse must not reach it. */
	if (profile_name_check(name, &cause) != 0) {
		fprintf(stderr, "connect: share: %s\n", cause);
		free(cause);
		return EX_USAGE;
	}
	/* --id wins: the id of a Studio named on purpose; else this Studio's own. */
	src = o->studio_id != NULL ? o->studio_id : own != NULL && own[0] != '\0' ? own : NULL;
	if (src == NULL) {
		fprintf(stderr, "connect: share: run it on the Studio that serves ClearML (it reads "
		    "LIGHTNING_CLOUD_SPACE_ID there), or give --id STUDIO_ID\n");
		return EX_USAGE;
	}
	if (profile_studio_id(src, id, sizeof id) != 0) {
		fprintf(stderr, "connect: share: '%s' is not a Studio id\n", src);
		return EX_USAGE;
	}
	printf("# On a laptop or an agent Studio, to reach ClearML on this Studio (%s):\n"
	    "connect init %s --id %s      # once; then: connect %s   (or connect -d %s)\n"
	    "TARGET_LIGHTNING_ID=%s connect.sh   # the old interface\n"
	    "\n"
	    "# clearml.conf there (the same URLs on every machine: artifacts store them):\n"
	    "api {\n"
	    "    web_server: http://localhost:8080\n"
	    "    api_server: http://localhost:8008\n"
	    "    files_server: http://localhost:8081\n"
	    "}\n", id, name, id, name, name, id);
	return 0;
}

const struct cmd_entry cmd_share_entry = {
	.name = "share",
	.usage = "share [NAME]",
	.summary = "on the ClearML server's Studio: print what other machines run to reach it",
	.help =
	    "Prints the `connect init NAME --id ID` line (NAME: clearml unless given), the\n"
	    "TARGET_LIGHTNING_ID=ID line of the old interface, and the api { } block for\n"
	    "clearml.conf with the localhost URLs. ID is LIGHTNING_CLOUD_SPACE_ID (set inside a\n"
	    "Studio), or --id.\n"
	    "exit status: 0 printed, 64 no Studio id (not in a Studio, and no --id), or a bad NAME.\n",
	.globals = 1,
	.exec = cmd_share_exec,
};
