/* compat.c: Linux-only socket and CPU calls with portable fallbacks (macOS, BSD). */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <unistd.h>

#include "compat.h"

int
compat_tune_ssh_socket(int fd, int idle_s, int intvl_s, int cnt, int user_timeout_ms)
{
	int	one = 1, rc = 0;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == -1)
		rc = -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
#if defined(TCP_KEEPIDLE)
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_s, sizeof idle_s);
#elif defined(TCP_KEEPALIVE)	/* macOS spells the idle time this way */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPALIVE, &idle_s, sizeof idle_s);
#endif
#if defined(TCP_KEEPINTVL)
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl_s, sizeof intvl_s);
#endif
#if defined(TCP_KEEPCNT)
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
#endif
#if defined(TCP_USER_TIMEOUT)
	/* Linux: without it a link that dies with data in flight waits out ~15 min of retransmissions. */
	if (user_timeout_ms > 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms,
		    sizeof user_timeout_ms);
#else
	(void)user_timeout_ms;
#endif
	return rc;
}

int
compat_cpu_has_aes(void)
{
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
	__builtin_cpu_init();
	return __builtin_cpu_supports("aes");
#elif defined(__aarch64__) && defined(__APPLE__)
	return 1;	/* every Apple arm64 CPU has the AES extension */
#else
	return 0;
#endif
}

int
compat_peer_uid(int fd, uid_t *uid)
{
#if defined(SO_PEERCRED) && defined(__linux__)
	struct ucred	cred;
	socklen_t	len = sizeof cred;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1)
		return -1;
	*uid = cred.uid;
	return 0;
#else
	gid_t	gid;

	return getpeereid(fd, uid, &gid);
#endif
}
