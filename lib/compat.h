/* compat.h: the platform-specific bits, each with a portable fallback. */
#ifndef CONNECT_COMPAT_H
#define CONNECT_COMPAT_H

#include <sys/types.h>
#include <sys/socket.h>

/*
 * macOS has no MSG_NOSIGNAL. Nothing is lost without it: connect ignores
 * SIGPIPE (main.c, for every command), and compat_nosigpipe() covers the
 * control client's socket where the library is used on its own.
 */
#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL	0
#endif

/*
 * The static build (make static, -DCONNECT_STATIC) on glibc: name lookups
 * (passwd, hosts, services, protocols) use only what libc itself holds, the
 * files in /etc and DNS, never a module named in /etc/nsswitch.conf. Such a
 * module is the host's shared library, built for the host's glibc: loaded
 * into a static program it can crash it (libnss_systemd does, on a uid that
 * /etc/passwd lacks). Elsewhere this does nothing. Call it before any lookup.
 */
void	compat_static_nss(void);

/*
 * Tune the SSH socket: TCP_NODELAY, SO_KEEPALIVE with idle/interval/count
 * (where the platform has them), and on Linux TCP_USER_TIMEOUT so that
 * unacknowledged data also ends the connection after user_timeout_ms.
 * Best effort: returns 0, or -1 if TCP_NODELAY itself failed.
 */
int	compat_tune_ssh_socket(int fd, int keepalive_idle_s, int keepalive_intvl_s,
	    int keepalive_cnt, int user_timeout_ms);

/*
 * A write to a vanished peer on fd is EPIPE, never SIGPIPE, where the
 * platform marks sockets so (BSD, macOS: SO_NOSIGPIPE); elsewhere send()
 * with MSG_NOSIGNAL does the same per call. Best effort.
 */
void	compat_nosigpipe(int fd);

/*
 * Who listens where sa (an AF_INET or AF_INET6 address and port) would be
 * bound: the same address, or a wildcard covering it ([::] covers IPv4
 * too)? Linux: the listening socket's inode in /proc/net/tcp{,6}, then the
 * process holding it in /proc/PID/fd (only processes we may look at: our
 * own, or all as root). Writes "pid N (name)" into buf. Returns 1 if found,
 * 0 if the system does not say (another user's process, or no /proc: macOS).
 */
int	compat_port_holder(const struct sockaddr *sa, char *buf, size_t len);

/* Would listeners on a and b (addresses with ports, either family) collide, by the same rule? */
int	compat_addr_conflict(const struct sockaddr *a, const struct sockaddr *b);

/* Does this CPU have AES instructions? (decides the default cipher order) */
int	compat_cpu_has_aes(void);

/* Acknowledge at once what arrives next (Linux TCP_QUICKACK, which does not stick); elsewhere nothing. */
void	compat_quickack(int fd);

/* Allocator settings for bulk transfer (glibc: heap trim and mmap thresholds); elsewhere nothing. */
void	compat_tune_malloc(void);

/* Is pid running? A zombie counts as gone (on Linux, from /proc; elsewhere kill(pid, 0)). */
int	compat_pid_alive(pid_t pid);

/* The uid of the peer of a connected unix socket. Returns 0, or -1 with errno. */
int	compat_peer_uid(int fd, uid_t *uid);

/*
 * Network-change watch: a socket that becomes readable when links,
 * addresses or routes change (Linux NETLINK_ROUTE; BSD/macOS PF_ROUTE).
 * Returns the fd (non-blocking, close-on-exec), or -1 where unsupported.
 */
int	compat_netwatch_open(void);

/* Read what is queued. Returns 1 if a change worth reconnecting for was seen, 0 if not, -1 on error. */
int	compat_netwatch_read(int fd);

/*
 * The descriptors open now from lowfd up, ascending (Linux: /proc/self/fd;
 * macOS: /dev/fd; elsewhere, or without /proc: fcntl on each number up to
 * the open-files limit, at most 65536). Returns the count with the list
 * malloc'd in *fds (NULL when 0; the caller frees it), or -1 (out of memory).
 */
int	compat_open_fds(int lowfd, int **fds);

#endif
