/* paths.c: can a file be read, and is a failure a shortage or a fault. */
#include <errno.h>
#include <fcntl.h>
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

int
paths_errno_is_shortage(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOMEM || err == ENOBUFS;
}
