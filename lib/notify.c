/* notify.c: sd_notify without libsystemd. */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "notify.h"

int
notify_enabled(void)
{
	const char	*e = getenv("NOTIFY_SOCKET");

	return e != NULL && (e[0] == '/' || e[0] == '@');
}

int
notify_send(const char *msg)
{
	const char		*e = getenv("NOTIFY_SOCKET");
	struct sockaddr_un	 sun;
	socklen_t		 salen;
	size_t			 len;
	ssize_t			 n;
	int			 fd;

	if (!notify_enabled())
		return -1;
	len = strlen(e);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (len >= sizeof sun.sun_path)
		return -1;
	memcpy(sun.sun_path, e, len);
	if (e[0] == '@')
		sun.sun_path[0] = '\0';	/* Linux abstract namespace */
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM, 0)) == -1)
		return -1;
	n = sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&sun, salen);
	close(fd);
	return n == (ssize_t)strlen(msg) ? 0 : -1;
}
