/* cmd-list.c: `connect list`: the profiles found and which tunnels are running. */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cmd.h"
#include "instance.h"
#include "profile.h"
#include "sshconfig.h"

struct list_row {
	char	name[256];
	int	has_profile;	/* 1: NAME.ini; 2: a Host of ~/.ssh/config pointing at Lightning */
};

static int
list_cmp(const void *a, const void *b)
{
	return strcmp(((const struct list_row *)a)->name, ((const struct list_row *)b)->name);
}

/* Add name unless present. Returns 0 or -1 (memory). */
static int
list_add(struct list_row **rows, int *n, const char *name, int profile)
{
	struct list_row	*nr;
	int		 i;

	for (i = 0; i < *n; i++) {
		if (strcmp((*rows)[i].name, name) == 0) {
			(*rows)[i].has_profile |= profile;
			return 0;
		}
	}
	if ((nr = realloc(*rows, (size_t)(*n + 1) * sizeof **rows)) == NULL)
		return -1;
	*rows = nr;
	snprintf(nr[*n].name, sizeof nr[*n].name, "%s", name);
	nr[*n].has_profile = profile;
	(*n)++;
	return 0;
}

struct list_add_ctx {
	struct list_row	**rows;
	int		 *n;
};

static void
list_add_alias(const char *alias, void *arg)
{
	struct list_add_ctx	*ctx = arg;

	(void)list_add(ctx->rows, ctx->n, alias, 2);
}

static int
cmd_list_exec(struct cmd_opts *o)
{
	struct list_row	*rows = NULL;
	struct instance	 in;
	struct dirent	*de;
	DIR		*d;
	char		 dir[PATH_MAX], path[PATH_MAX + 300], state[CMD_STATE_MAX + 32];
	char		 word[CMD_STATE_MAX];
	char		**names = NULL, *cause = NULL;
	char		*slash;
	size_t		 len;
	pid_t		 pid;
	int		 n = 0, ni, i, names_only;
	struct list_add_ctx ctx;

	if (o->argc > 1 || (o->argc == 1 && strcmp(o->argv[0], "--names") != 0)) {
		fprintf(stderr, "connect: list takes no arguments (--names: the names alone)\n");
		return EX_USAGE;
	}
	names_only = o->argc == 1;
	/* The profile directory is where NAME.ini would be. */
	profile_path("x", dir, sizeof dir);
	if ((slash = strrchr(dir, '/')) != NULL)
		*slash = '\0';
	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			len = strlen(de->d_name);
			if (len > 4 && de->d_name[0] != '.' &&
			    strcmp(de->d_name + len - 4, ".ini") == 0) {
				de->d_name[len - 4] = '\0';
				if (list_add(&rows, &n, de->d_name, 1) != 0)
					break;
			}
		}
		closedir(d);
	}
	/* lightning ssh configure's Host blocks: `connect ALIAS` works with them as they are. */
	ctx.rows = &rows;
	ctx.n = &n;
	(void)sshconfig_lightning_hosts(list_add_alias, &ctx);
	if ((ni = instance_list(&names, &cause)) < 0) {
		fprintf(stderr, "connect: %s\n", cause);
		free(cause);
		ni = 0;
	}
	for (i = 0; i < ni; i++) {
		(void)list_add(&rows, &n, names[i], 0);
		free(names[i]);
	}
	free(names);
	if (n == 0) {
		printf("no profiles in %s and no tunnel running (create one: connect init NAME "
		    "--id STUDIO_ID)\n", dir);
		return 0;
	}
	qsort(rows, (size_t)n, sizeof *rows, list_cmp);
	if (names_only) {	/* for completions: one name a line */
		for (i = 0; i < n; i++)
			printf("%s\n", rows[i].name);
		free(rows);
		return 0;
	}
	printf("%-24s %-26s %s\n", "NAME", "STATE", "PROFILE");
	for (i = 0; i < n; i++) {
		snprintf(state, sizeof state, "stopped");
		if (instance_init(&in, rows[i].name, &cause) == 0 &&
		    (pid = instance_running(&in)) != 0) {
			snprintf(state, sizeof state, "running");
			if (cmd_instance_state(&in, word) == 0)
				snprintf(state, sizeof state, "%s (pid %ld)", word, (long)pid);
			else if (pid > 0 && access(in.sock_path, F_OK) == -1)
				snprintf(state, sizeof state, "starting (pid %ld)", (long)pid);
		}
		free(cause);
		cause = NULL;
		if (rows[i].has_profile & 1)
			snprintf(path, sizeof path, "%s/%s.ini", dir, rows[i].name);
		else if (rows[i].has_profile & 2)
			snprintf(path, sizeof path, "Host %s in ~/.ssh/config", rows[i].name);
		else
			snprintf(path, sizeof path, "-");
		printf("%-24s %-26s %s\n", rows[i].name, state, path);
	}
	free(rows);
	return 0;
}

const struct cmd_entry cmd_list_entry = {
	.name = "list",
	.usage = "list [--names]",
	.summary = "the profiles found and which tunnels are running",
	.help =
	    "Profiles: $XDG_CONFIG_HOME/connect/*.ini (default ~/.config/connect), the Host blocks\n"
	    "of ~/.ssh/config that point at ssh.lightning.ai (lightning ssh configure writes them),\n"
	    "and running tunnels without a profile file (--id, -F elsewhere).\n"
	    "  --names        the names alone, one a line (for shell completion)\n",
	.exec = cmd_list_exec,
};
