/* cmd-status.c: `connect status [NAME] [--json]`: ask each running instance over its socket. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "cmd.h"
#include "control.h"
#include "instance.h"
#include "status.h"

/* Print one instance's status. Returns 0, CMD_EXIT_NOT_RUNNING, or an error code. */
static int
status_one(const char *name, int json, int quiet_if_stopped, int *printed)
{
	struct instance	 in;
	char		*reply = NULL, *cause = NULL;
	size_t		 n;
	pid_t		 pid;
	int		 called;

	if (instance_init(&in, name, &cause) != 0) {
		fprintf(stderr, "connect: %s\n", cause);
		free(cause);
		return EX_USAGE;
	}
	if ((pid = instance_running(&in)) == 0) {
		/* For scripts, an object all the same: {"name": ..., "state": "stopped"}. */
		if (json && !quiet_if_stopped) {
			struct evbuffer	*b = evbuffer_new();

			if (b != NULL) {
				status_format_stopped(b, name);
				fwrite(evbuffer_pullup(b, -1), 1, evbuffer_get_length(b), stdout);
				evbuffer_free(b);
			}
			(*printed)++;
		} else if (!quiet_if_stopped)
			fprintf(stderr, "%s: not running\n", name);
		return CMD_EXIT_NOT_RUNNING;
	}
	called = control_call(in.sock_path, json ? "status --json" : "status", 5000, &reply,
	    &cause);
	if (called != 0 && access(in.sock_path, F_OK) == -1 && errno == ENOENT) {
		/* Locked, no socket yet: it is starting (a passphrase asked, the first connect). */
		if (json) {
			struct evbuffer	*b = evbuffer_new();

			if (b != NULL) {
				status_format_starting(b, name, pid);
				printf("%s", *printed ? ",\n" : "");
				fwrite(evbuffer_pullup(b, -1), 1, evbuffer_get_length(b), stdout);
				evbuffer_free(b);
			}
		} else if (pid > 0)
			printf("%s%s: starting (pid %ld): not listening on its control socket yet "
			    "(asking for a passphrase, or still setting up)\n", *printed ? "\n" : "",
			    name, (long)pid);
		else
			printf("%s%s: starting (pid not written yet)\n", *printed ? "\n" : "", name);
		(*printed)++;
		free(cause);
		free(reply);
		return 0;
	}
	if (called != 0 || reply[0] == '\0') {
		fprintf(stderr, "connect: %s: running (pid %ld) but its control socket does not "
		    "answer: %s\n", name, (long)pid, cause != NULL ? cause :
		    "closed without a reply (another user's instance?)");
		free(cause);
		free(reply);
		return EX_UNAVAILABLE;
	}
	n = strlen(reply);
	while (n > 0 && reply[n - 1] == '\n')
		reply[--n] = '\0';
	if (json)
		printf("%s%s", *printed ? ",\n" : "", reply);
	else
		printf("%s%s\n", *printed ? "\n" : "", reply);
	(*printed)++;
	free(reply);
	return 0;
}

static int
cmd_status_exec(struct cmd_opts *o)
{
	char	**names = NULL, *cause = NULL;
	int	  json = 0, i, n, rc = 0, r, printed = 0;
	const char *name = NULL;

	if (cmd_name_and_flag(o, "status", "--json", 'j', &json, &name) != 0)
		return EX_USAGE;
	if (name != NULL) {
		char	buf[256];

		rc = status_one(cmd_instance_name(name, buf, sizeof buf), json, 0, &printed);
		if (json && printed)
			printf("\n");
		return rc;
	}
	if ((n = instance_list(&names, &cause)) < 0) {
		fprintf(stderr, "connect: %s\n", cause);
		free(cause);
		return EX_OSERR;
	}
	if (json)
		printf("[");
	for (i = 0; i < n; i++) {
		r = status_one(names[i], json, 1, &printed);
		if (r != 0 && r != CMD_EXIT_NOT_RUNNING)
			rc = r;
		free(names[i]);
	}
	free(names);
	if (json)
		printf("]\n");
	else if (printed == 0)
		printf("no tunnel running\n");
	return rc;
}

const struct cmd_entry cmd_status_entry = {
	.name = "status",
	.usage = "status [NAME] [--json]",
	.summary = "state, uptime, reconnects, last error and per-forward counters of running "
	    "tunnels",
	.help =
	    "  NAME           only this one (exit 3 if it is not running)\n"
	    "  -j, --json     JSON: one object for NAME, else an array of every running tunnel\n"
	    "\n"
	    "States: connecting, ready, reconnecting, failed (an error retrying may not fix, retried\n"
	    "at backoff_max), stopping.\n",
	.exec = cmd_status_exec,
};
