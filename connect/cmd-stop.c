/* cmd-stop.c: `connect stop NAME | --all`: ask over the socket, wait for the exit, report it. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cmd.h"
#include "compat.h"
#include "control.h"
#include "instance.h"
#include "profile.h"

#define STOP_WAIT_MS	15000
#define STOP_PID_WAIT_MS	2000

/* NAME is no tunnel: say what is running instead, as status does. */
static void
stop_unknown(const char *name)
{
	struct instance	  in;
	char		**names = NULL, *cause = NULL;
	int		  i, n, shown = 0;

	fprintf(stderr, "connect: stop: no tunnel named '%s' is running", name);
	if ((n = instance_list(&names, &cause)) > 0) {
		for (i = 0; i < n; i++) {
			if (instance_init(&in, names[i], &cause) == 0 && instance_running(&in) != 0)
				fprintf(stderr, "%s%s", shown++ ? ", " : "; running: ", names[i]);
			free(cause);
			cause = NULL;
			free(names[i]);
		}
	}
	free(names);
	free(cause);
	fprintf(stderr, "%s\n", shown ? "" : "; none is (connect list shows the profiles)");
}

static int
stop_one(const char *name, int quiet_if_stopped)
{
	struct instance	 in;
	char		*reply = NULL, *cause = NULL;
	pid_t		 pid, holder;
	int		 waited;

	if (instance_init(&in, name, &cause) != 0) {
		fprintf(stderr, "connect: %s\n", cause);
		free(cause);
		return EX_USAGE;
	}
	if ((pid = instance_running(&in)) == 0) {
		char	path[PATH_MAX];
		int	known = access(in.pid_path, F_OK) == 0 ||
			    (profile_path(name, path, sizeof path) < (int)sizeof path &&
			    access(path, F_OK) == 0);

		/* Files left by an instance that died (kill -9): take them and remove them. */
		if (instance_claim(&in, &holder, &cause) == 0)
			instance_release(&in);
		free(cause);
		if (quiet_if_stopped)
			return 0;
		/* A known tunnel already stopped: done (scripts stop unconditionally). */
		if (known) {
			printf("%s: not running\n", name);
			return 0;
		}
		stop_unknown(name);
		return CMD_EXIT_NOT_RUNNING;
	}
	/* Locked without a pid: an older connect's start-up, which writes it after the fork. */
	for (waited = 0; pid == -1 && waited < STOP_PID_WAIT_MS; waited += 50) {
		usleep(50000);
		pid = instance_running(&in);
	}
	if (pid == 0) {
		printf("%s: not running\n", name);
		return 0;
	}
	if (pid == -1) {
		fprintf(stderr, "connect: %s: starting, and its pid file names no process yet: "
		    "nothing to stop now; try again (connect status %s)\n", name, name);
		return EX_TEMPFAIL;
	}
	if (control_call(in.sock_path, "stop", 5000, &reply, &cause) != 0 || reply[0] == '\0') {
		/*
		 * No socket yet (starting: asking for a passphrase, connecting),
		 * or a wedged or foreign-uid one: the signal, which works for us
		 * only. A -d parent named in the file passes it on to its daemon.
		 */
		if (kill(pid, SIGTERM) == -1) {
			fprintf(stderr, "connect: %s: cannot stop pid %ld: %s (%s)\n", name, (long)pid,
			    strerror(errno), cause != NULL ? cause : "no reply on the socket");
			free(cause);
			free(reply);
			return EX_NOPERM;
		}
	}
	free(cause);
	free(reply);
	for (waited = 0; waited < STOP_WAIT_MS; waited += 50) {
		/* The lock goes before the process is gone: wait for both. */
		if (instance_running(&in) == 0 && !compat_pid_alive(pid)) {
			printf("%s: stopped (pid %ld)\n", name, (long)pid);
			return 0;
		}
		usleep(50000);
	}
	fprintf(stderr, "connect: %s: pid %ld did not exit within %d s\n", name, (long)pid,
	    STOP_WAIT_MS / 1000);
	return EX_TEMPFAIL;
}

static int
cmd_stop_exec(struct cmd_opts *o)
{
	char	**names = NULL, *cause = NULL;
	int	  all = 0, i, n, rc = 0, r, stopped = 0;
	const char *name = NULL;

	if (cmd_name_and_flag(o, "stop", "--all", 'a', &all, &name) != 0)
		return EX_USAGE;
	if (all == (name != NULL)) {
		fprintf(stderr, "connect: stop: name one tunnel, or --all\n");
		return EX_USAGE;
	}
	if (name != NULL) {
		char	buf[256];

		return stop_one(cmd_instance_name(name, buf, sizeof buf), 0);
	}
	if ((n = instance_list(&names, &cause)) < 0) {
		fprintf(stderr, "connect: %s\n", cause);
		free(cause);
		return EX_OSERR;
	}
	for (i = 0; i < n; i++) {
		struct instance	in;

		if (instance_init(&in, names[i], &cause) == 0 && instance_running(&in) != 0) {
			stopped++;
			if ((r = stop_one(names[i], 1)) != 0)
				rc = r;
		} else
			(void)stop_one(names[i], 1);	/* stale files: cleaned */
		free(cause);
		cause = NULL;
		free(names[i]);
	}
	free(names);
	if (stopped == 0)
		printf("no tunnel running\n");
	return rc;
}

const struct cmd_entry cmd_stop_entry = {
	.name = "stop",
	.usage = "stop NAME | --all",
	.summary = "stop a running tunnel gracefully and wait for it to exit",
	.help =
	    "  NAME           the tunnel to stop: a profile name, or the id given to --id (as\n"
	    "                 ID or s_ID). A known tunnel not running: says so, exit 0; a name\n"
	    "                 that is no tunnel: exit 3, naming those that run\n"
	    "  -a, --all      every running tunnel of this user\n"
	    "\n"
	    "exit status: 0 stopped or not running, 3 no such tunnel, 75 did not exit within 15 s,\n"
	    "  77 not ours.\n",
	.exec = cmd_stop_exec,
};
