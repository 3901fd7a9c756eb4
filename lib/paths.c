/* paths.c: the home directory, ~ expanded, and whether a file can be read. */
#include <sys/types.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
