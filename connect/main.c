/* main.c: global options and the subcommand table; every exit() of the program is here. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cmd.h"
#include <libssh/libssh.h>

#include "log.h"

static const struct cmd_entry *const cmd_table[] = {
	&cmd_up_entry,
	&cmd_check_entry,
};

static void
usage(FILE *f)
{
	size_t	i;

	fprintf(f,
	    "usage: connect [-v...] [-F file] [--id ID] [-l user] [-p port] [-i identity]\n"
	    "               [-c ciphers] [-L [bind:]port:host:hostport]... [NAME]\n"
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
	    "  -h, --help     this help;  -V, --version  the version\n"
	    "\ncommands:\n");
	for (i = 0; i < sizeof cmd_table / sizeof cmd_table[0]; i++)
		fprintf(f, "  %-8s %s\n", cmd_table[i]->usage, cmd_table[i]->summary);
	fprintf(f, "\nexit status: 0 stopped cleanly, 64 usage, 69 gave up, 76 host key, 77 auth or "
	    "key file,\n  73 port busy, 78 profile error.\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "id", required_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct cmd_opts		 o;
	const struct cmd_entry	*cmd = &cmd_up_entry;
	int			 ch;
	size_t			 i;
	char			*end;

	memset(&o, 0, sizeof o);
	while ((ch = getopt_long(argc, argv, "+F:I:l:p:i:c:L:vhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'F':
			o.profile_file = optarg;
			break;
		case 'I':
			o.studio_id = optarg;
			break;
		case 'l':
			o.user = optarg;
			break;
		case 'p':
			o.port = (int)strtol(optarg, &end, 10);
			if (*end != '\0' || o.port < 1 || o.port > 65535) {
				fprintf(stderr, "connect: -p %s: expected a port 1-65535\n", optarg);
				return EX_USAGE;
			}
			break;
		case 'i':
			o.identity = optarg;
			break;
		case 'c':
			o.ciphers = optarg;
			break;
		case 'L':
			if (o.nforwards == CMD_MAX_L) {
				fprintf(stderr, "connect: at most %d -L options\n", CMD_MAX_L);
				return EX_USAGE;
			}
			o.forwards[o.nforwards++] = optarg;
			break;
		case 'v':
			o.verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("connect %s (libssh %s)\n", CONNECT_VERSION, ssh_version(0));
			return 0;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	o.argc = argc - optind;
	o.argv = argv + optind;
	if (o.argc > 0) {
		for (i = 0; i < sizeof cmd_table / sizeof cmd_table[0]; i++) {
			if (strcmp(o.argv[0], cmd_table[i]->name) == 0) {
				cmd = cmd_table[i];
				o.argc--;
				o.argv++;
				break;
			}
		}
	}
	log_open("connect", LOGL_INFO + o.verbose, stderr);
	exit(cmd->exec(&o));
}
