/* paths.c: the home directory, ~ expanded, and whether a file can be read. */
#include <sys/types.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cause.h"
#include "paths.h"

int
paths_readable(const char *path)
{
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	(void)close(fd);
	return 0;
}

const char *
paths_fd_hint(int err)
{
	return err == EMFILE || err == ENFILE ? " (raise the open-files limit, ulimit -n)" : "";
}

int
paths_errno_is_shortage(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOMEM || err == ENOBUFS;
}

const char *
paths_home(void)
{
	const char	*home = getenv("HOME");
	struct passwd	*pw;

	if (home != NULL && home[0] != '\0')
		return home;
	if ((pw = getpwuid(getuid())) != NULL && pw->pw_dir != NULL && pw->pw_dir[0] != '\0')
		return pw->pw_dir;
	return "/";
}

char *
paths_expand(const char *in, char *buf, size_t len)
{
	const char	*home = paths_home();
	int		 n;

	/* "/" as home: "~/x" is "/x", not "//x". */
	if (strcmp(home, "/") == 0)
		home = "";
	if (strcmp(in, "~") == 0)
		n = snprintf(buf, len, "%s", home[0] ? home : "/");
	else if (strncmp(in, "~/", 2) == 0)
		n = snprintf(buf, len, "%s/%s", home, in + 2);
	else if (strncmp(in, "%d/", 3) == 0)
		n = snprintf(buf, len, "%s/.ssh/%s", home, in + 3);
	else
		n = snprintf(buf, len, "%s", in);
	if (n < 0 || (size_t)n >= len)
		return NULL;
	return buf;
}

char *
paths_absolute(const char *in, char *buf, size_t len)
{
	char	cwd[PATH_MAX];
	int	n;

	if (in[0] == '/' || in[0] == '\0')
		n = snprintf(buf, len, "%s", in);
	else if (getcwd(cwd, sizeof cwd) == NULL)
		return NULL;
	else
		n = snprintf(buf, len, "%s%s%s", cwd, strcmp(cwd, "/") == 0 ? "" : "/", in);
	if (n < 0 || (size_t)n >= len)
		return NULL;
	return buf;
}

int
paths_check_private(const char *what, const char *path, const struct stat *st, char **cause)
{
	if (!S_ISREG(st->st_mode))
		return 0;
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		cause_set(cause, "%s %s has mode %04o: writable by %s, refusing it (fix: chmod go-w "
		    "%s)", what, path, (unsigned int)(st->st_mode & 07777),
		    (st->st_mode & S_IWOTH) != 0 ? "everyone" : "group", path);
		return -1;
	}
	if (st->st_uid != getuid() && st->st_uid != 0) {
		cause_set(cause, "%s %s belongs to uid %u, not to you (uid %u): refusing it (fix: "
		    "chown %u %s)", what, path, (unsigned int)st->st_uid, (unsigned int)getuid(),
		    (unsigned int)getuid(), path);
		return -1;
	}
	return 0;
}
