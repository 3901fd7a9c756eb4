/*
 * cmd.h: the subcommand table (tmux-style): each cmd-*.c exports one
 * cmd_entry; cmd.c holds what they share.
 */
#ifndef CONNECT_CMD_H
#define CONNECT_CMD_H

#include "profile.h"

#define CONNECT_VERSION "0.1.0"
#define CMD_MAX_L	32

/* Global options, parsed once by main.c. */
struct cmd_opts {
	int		 verbose;		/* -v count */
	const char	*profile_file;		/* -F */
	const char	*studio_id;		/* --id */
	const char	*user;			/* -l */
	const char	*identity;		/* -i */
	const char	*ciphers;		/* -c */
	int		 port;			/* -p, 0 = unset */
	const char	*forwards[CMD_MAX_L];	/* -L, in order */
	int		 nforwards;
	int		 background;		/* -d */
	int		 wait_s;		/* --wait, default 60 */
	const char	*log_file;		/* --log */
	int		 use_syslog;		/* --syslog */
	int		 argc;			/* what follows the options */
	char	       **argv;
};

struct cmd_entry {
	const char	*name;
	const char	*usage;
	const char	*summary;
	const char	*help;				/* `connect NAME --help`: options, exit codes */
	int		 globals;			/* the global options may follow the command */
	int		(*exec)(struct cmd_opts *);	/* returns the exit status (sysexits.h) */
};

extern const struct cmd_entry cmd_up_entry;
extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_stop_entry;
extern const struct cmd_entry cmd_list_entry;
extern const struct cmd_entry cmd_init_entry;

/* `status NAME` of an instance that is not running (as systemctl status). */
#define CMD_EXIT_NOT_RUNNING	3
extern const struct cmd_entry cmd_check_entry;
extern const struct cmd_entry cmd_env_entry;
extern const struct cmd_entry cmd_share_entry;

/* Build the profile from -F / NAME / --id and the command-line overrides; prints errors. Returns 0 or an exit code. */
int	cmd_load_profile(struct cmd_opts *o, const char *name, struct profile *p);
/* The same, silent: returns 0, or EX_USAGE / EX_CONFIG with *cause (malloc'd, may stay NULL). */
int	cmd_build_profile(struct cmd_opts *o, const char *name, struct profile *p, char **cause);

/*
 * Is argument i of a subcommand's argv the option `name` (long, "--json")
 * or `shortopt` ('-j', 0 for none)? For the few flags subcommands take.
 */
int	cmd_is_flag(const char *arg, const char *name, char shortopt);

struct instance;

#define CMD_STATE_MAX	64
/*
 * The state word of a running instance ("ready", "reconnecting"...), asked
 * over its control socket ("state"). Returns 0, or -1 if it does not answer.
 */
int	cmd_instance_state(const struct instance *in, char state[CMD_STATE_MAX]);

/* The ClearML forwards: built-in name, what people call it, the variable ClearML clients read. */
#define CMD_CLEARML_N	3
struct cmd_clearml {
	const char	*forward, *label, *var;
};
extern const struct cmd_clearml cmd_clearml[CMD_CLEARML_N];

/* The local port of the forward named name in p, or 0 when it has none. */
int	cmd_forward_port(const struct profile *p, const char *name);

/*
 * "web UI http://localhost:8080, API http://localhost:8008, files
 * http://localhost:8081" for the profile's ClearML forwards, into buf.
 * Returns how many it names (0: none of web, api, files).
 */
int	cmd_urls(const struct profile *p, char *buf, size_t len);

/*
 * The instance NAME means: NAME itself when it has runtime files, else the
 * Studio id inside it (s_ID, s_ID@ssh.lightning.ai: a tunnel started with
 * --id answers to its id) when that one has. Returns name or buf.
 */
const char *cmd_instance_name(const char *name, char *buf, size_t len);

/*
 * The arguments of a command taking at most one NAME and one flag (status
 * --json, stop --all): sets *flag_set and *name. Returns 0, or EX_USAGE
 * after saying what was unexpected.
 */
int	cmd_name_and_flag(const struct cmd_opts *o, const char *cmd, const char *flag,
	    char shortopt, int *flag_set, const char **name);

#endif
