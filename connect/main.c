/* main.c: global options and the subcommand table; every exit() of the program is here. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cmd.h"
#include "compat.h"
#include <libssh/libssh.h>

#include "log.h"

static const struct cmd_entry *const cmd_table[] = {
	&cmd_up_entry,
	&cmd_status_entry,
	&cmd_stop_entry,
	&cmd_list_entry,
	&cmd_init_entry,
	&cmd_check_entry,
	&cmd_env_entry,
	&cmd_share_entry,
};

static const struct cmd_entry *
cmd_lookup(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof cmd_table / sizeof cmd_table[0]; i++) {
		if (strcmp(name, cmd_table[i]->name) == 0)
			return cmd_table[i];
	}
	return NULL;
}

static void
cmd_help(FILE *f, const struct cmd_entry *cmd)
{
	fprintf(f, "usage: connect %s\n%s.\n%s%s", cmd->usage, cmd->summary,
	    cmd->help != NULL ? "\n" : "", cmd->help != NULL ? cmd->help : "");
}

static void
usage(FILE *f)
{
	size_t	i;

	fprintf(f,
	    "usage: connect [-v...] [-d [--wait SECS] [--log FILE | --syslog]] [-F file] [--id ID]\n"
	    "               [-l user] [-p port] [-i identity] [-c ciphers]\n"
	    "               [-L [bind:]port:host:hostport]... [NAME]\n"
	    "       connect COMMAND [ARGS]   (connect help COMMAND, connect COMMAND --help)\n"
	    "\n"
	    "Keeps SSH port forwards to a lightning.ai Studio alive over one SSH session.\n"
	    "NAME is a profile ($XDG_CONFIG_HOME/connect/NAME.ini) or a Host in ~/.ssh/config.\n"
	    "Without a profile, --id ID forwards 8080, 8008 and 8081 to s_ID@ssh.lightning.ai.\n"
	    "\n"
	    "options:\n"
	    "  -F FILE        use this profile file\n"
	    "  --id ID        Studio id (user s_ID)\n"
	    "  -l USER        SSH user (wins over --id)\n"
	    "  -p PORT        SSH port\n"
	    "  -i FILE        identity (private key) file\n"
	    "  -c CIPHERS     cipher list, as ssh -c\n"
	    "  -L SPEC        an extra forward, as ssh -L ([bind:]port:host:hostport)\n"
	    "  -v             more log detail (-vv, -vvv: libssh's own messages)\n"
	    "  -d, --background  verify every forward end to end, then run in the background\n"
	    "  --wait SECS    with -d: how long to wait for readiness (default 60)\n"
	    "  --log FILE     log here (background default: the runtime directory's NAME.log)\n"
	    "  --syslog       log to syslog instead\n"
	    "  -h, --help     this help;  -V, --version  the version\n"
	    "\ncommands:\n");
	for (i = 0; i < sizeof cmd_table / sizeof cmd_table[0]; i++)
		fprintf(f, "  %-30s %s\n", cmd_table[i]->usage, cmd_table[i]->summary);
	fprintf(f, "  %-30s %s\n", "help COMMAND", "that command's options");
	fprintf(f, "\nexit status: 0 ok, 64 usage, 66 known_hosts unreadable, 69 gave up or a remote\n"
	    "  port/health check failing, 71 out of fds, 73 port busy, 75 not ready within --wait,\n"
	    "  76 host key, 77 auth or key file, 78 profile error; status NAME: 3 when not running.\n"
	    "  See connect(1).\n");
}

/*
 * The global options, from argv[optind] on; stops at the first non-option
 * (the command word or NAME). Returns -1 to go on, or an exit status
 * (--help, --version, a bad option).
 */
static int
parse_globals(int argc, char **argv, struct cmd_opts *o)
{
	static const struct option longopts[] = {
		{ "id", required_argument, NULL, 'I' },
		{ "background", no_argument, NULL, 'd' },
		{ "wait", required_argument, NULL, 'W' },
		{ "log", required_argument, NULL, 'O' },
		{ "syslog", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int	 ch;
	char	*end;

	while ((ch = getopt_long(argc, argv, "+F:I:l:p:i:c:L:vdhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'F':
			o->profile_file = optarg;
			break;
		case 'I':
			o->studio_id = optarg;
			break;
		case 'l':
			o->user = optarg;
			break;
		case 'p':
			o->port = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || o->port < 1 || o->port > 65535) {
				fprintf(stderr, "connect: -p %s: expected a port 1-65535\n", optarg);
				return EX_USAGE;
			}
			break;
		case 'i':
			o->identity = optarg;
			break;
		case 'c':
			o->ciphers = optarg;
			break;
		case 'L':
			if (o->nforwards == CMD_MAX_L) {
				fprintf(stderr, "connect: at most %d -L options\n", CMD_MAX_L);
				return EX_USAGE;
			}
			o->forwards[o->nforwards++] = optarg;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'd':
			o->background = 1;
			break;
		case 'W':
			o->wait_s = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || o->wait_s < 1 || o->wait_s > 86400) {
				fprintf(stderr, "connect: --wait %s: expected seconds, 1-86400\n",
				    optarg);
				return EX_USAGE;
			}
			break;
		case 'O':
			o->log_file = optarg;
			break;
		case 'S':
			o->use_syslog = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("connect %s (libssh %s%s%s)\n", CONNECT_VERSION, ssh_version(0),
#if defined(CONNECT_LIBSSH_TUNED)
			    ", tuned",
#else
			    "",
#endif
#if defined(CONNECT_STATIC)
			    ", static"
#else
			    ""
#endif
			    );
			return 0;
		default:	/* getopt said which option: one line more, not the whole help */
			fprintf(stderr, "connect: see connect --help\n");
			return EX_USAGE;
		}
	}
	return -1;
}

int
main(int argc, char **argv)
{
	struct cmd_opts		 o;
	const struct cmd_entry	*cmd = &cmd_up_entry;
	int			 rc;
	size_t			 i;

	compat_static_nss();	/* before anything looks up a user or a host */
	memset(&o, 0, sizeof o);
	o.wait_s = 60;
	if ((rc = parse_globals(argc, argv, &o)) != -1)
		return rc;
	o.argc = argc - optind;
	o.argv = argv + optind;
	if (o.argc > 0 && strcmp(o.argv[0], "help") == 0) {
		if (o.argc < 2 || strcmp(o.argv[1], "help") == 0) {
			usage(stdout);
			return 0;
		}
		if ((cmd = cmd_lookup(o.argv[1])) == NULL) {
			fprintf(stderr, "connect: no command '%s' (try connect --help)\n", o.argv[1]);
			return EX_USAGE;
		}
		cmd_help(stdout, cmd);
		return 0;
	}
	if (o.argc > 0 && cmd_lookup(o.argv[0]) != NULL) {
		cmd = cmd_lookup(o.argv[0]);
		o.argc--;
		o.argv++;
	}
	for (i = 0; i < (size_t)o.argc; i++) {
		if (cmd_is_flag(o.argv[i], "--help", 'h')) {
			cmd_help(stdout, cmd);
			return 0;
		}
	}
	/* Global options may follow a command that takes them: connect check -F f NAME. */
	if (cmd->globals && o.argc > 0) {
#if defined(__GLIBC__)
		optind = 0;	/* glibc: start afresh */
#else
		optreset = 1;	/* BSD, macOS */
		optind = 1;
#endif
		if ((rc = parse_globals(o.argc + 1, o.argv - 1, &o)) != -1)
			return rc;
		o.argv += optind - 1;
		o.argc -= optind - 1;
	}
	if (o.log_file != NULL && o.use_syslog) {
		fprintf(stderr, "connect: --log and --syslog: choose one\n");
		return EX_USAGE;
	}
	/* Every command talks to sockets (status, stop and list to an instance that may be stopping). */
	signal(SIGPIPE, SIG_IGN);
	log_open("connect", LOGL_INFO + o.verbose, stderr);
	rc = cmd->exec(&o);
	log_close();	/* the count of a burst of repeated lines, if one is pending */
	exit(rc);
}
