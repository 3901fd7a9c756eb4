/* compat.c: Linux-only socket and CPU calls with portable fallbacks (macOS, BSD). */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#endif
#if defined(__GLIBC__) && defined(CONNECT_STATIC)
#include <nss.h>
#endif
#if defined(__linux__)
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#if defined(__aarch64__)
#include <sys/auxv.h>
#include <asm/hwcap.h>
#endif
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__)
#include <net/route.h>
#define COMPAT_PF_ROUTE 1
#endif

#include "compat.h"

void
compat_static_nss(void)
{
#if defined(__GLIBC__) && defined(CONNECT_STATIC)
	/* "files" and "dns" are part of libc itself since glibc 2.34: nothing to dlopen(). */
	(void)__nss_configure_lookup("passwd", "files");
	(void)__nss_configure_lookup("group", "files");
	(void)__nss_configure_lookup("hosts", "files dns");
	(void)__nss_configure_lookup("services", "files");
	(void)__nss_configure_lookup("protocols", "files");
#endif
}

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

void
compat_nosigpipe(int fd)
{
#if defined(SO_NOSIGPIPE)
	int	one = 1;

	(void)setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#else
	(void)fd;
#endif
}

/* An address as IPv6 bytes (IPv4 as ::ffff:a.b.c.d), so that both families compare alike. */
static void
compat_addr16(const struct sockaddr *sa, unsigned char out[16], int *port)
{
	memset(out, 0, 16);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in	*sin = (const struct sockaddr_in *)(const void *)sa;

		out[10] = out[11] = 0xff;
		memcpy(out + 12, &sin->sin_addr, 4);
		*port = ntohs(sin->sin_port);
	} else {
		const struct sockaddr_in6	*sin6 = (const struct sockaddr_in6 *)(const void *)sa;

		memcpy(out, &sin6->sin6_addr, 16);
		*port = ntohs(sin6->sin6_port);
	}
}

/*
 * Does a listener on address l keep address t (same port) from being bound?
 * The same address; either one a wildcard of its family; [::] also covers
 * IPv4 (dual stack, Linux's default: /proc does not say IPV6_V6ONLY).
 */
static int
compat_addr_covers(const unsigned char l[16], const unsigned char t[16])
{
	static const unsigned char	any6[16], any4[16] = { [10] = 0xff, [11] = 0xff };

	return memcmp(l, t, 16) == 0 || memcmp(l, any6, 16) == 0 || memcmp(t, any6, 16) == 0 ||
	    (memcmp(l, any4, 16) == 0 && memcmp(t, any4, 12) == 0) ||
	    (memcmp(t, any4, 16) == 0 && memcmp(l, any4, 12) == 0);
}

#if defined(__linux__)
/*
 * The inode of the socket listening (state 0A) in /proc/net/FILE on an
 * address that covers want (port included), or 0.
 */
static unsigned long
compat_listen_inode(const char *file, const unsigned char want[16], int port)
{
	FILE		*f;
	char		 line[512], local[128], word[9];
	unsigned char	 addr[16];
	unsigned int	 lport, st;
	unsigned long	 inode, found = 0;
	size_t		 len, i;
	uint32_t	 w;

	if ((f = fopen(file, "re")) == NULL)
		return 0;
	while (found == 0 && fgets(line, sizeof line, f) != NULL) {
		/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
		if (sscanf(line, " %*d: %127[0-9A-Fa-f]:%x %*s %x %*s %*s %*s %*u %*u %lu",
		    local, &lport, &st, &inode) != 4 || (int)lport != port || st != 0x0A)
			continue;
		/* The kernel prints each 32-bit word of the address as it sits in memory. */
		if ((len = strlen(local)) != 8 && len != 32)
			continue;
		memset(addr, 0, sizeof addr);
		if (len == 8)
			addr[10] = addr[11] = 0xff;
		for (i = 0; i < len / 8; i++) {
			memcpy(word, local + 8 * i, 8);
			word[8] = '\0';
			w = (uint32_t)strtoul(word, NULL, 16);
			memcpy(addr + (len == 8 ? 12 : 4 * i), &w, 4);
		}
		if (compat_addr_covers(addr, want))
			found = inode;
	}
	fclose(f);
	return found;
}
#endif

int
compat_port_holder(const struct sockaddr *sa, char *buf, size_t len)
{
#if defined(__linux__)
	DIR		*proc, *fds;
	struct dirent	*p, *fd;
	char		 path[600], link[128], want[64], comm[64];
	unsigned char	 addr[16];
	unsigned long	 inode;
	ssize_t		 n;
	FILE		*f;
	int		 found = 0, port;

	compat_addr16(sa, addr, &port);
	if ((inode = compat_listen_inode("/proc/net/tcp", addr, port)) == 0 &&
	    (inode = compat_listen_inode("/proc/net/tcp6", addr, port)) == 0)
		return 0;
	snprintf(want, sizeof want, "socket:[%lu]", inode);
	if ((proc = opendir("/proc")) == NULL)
		return 0;
	while (!found && (p = readdir(proc)) != NULL) {
		if (p->d_name[0] < '0' || p->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/fd", p->d_name);
		if ((fds = opendir(path)) == NULL)
			continue;	/* not ours to look at */
		while (!found && (fd = readdir(fds)) != NULL) {
			snprintf(path, sizeof path, "/proc/%s/fd/%s", p->d_name, fd->d_name);
			if ((n = readlink(path, link, sizeof link - 1)) <= 0)
				continue;
			link[n] = '\0';
			found = strcmp(link, want) == 0;
		}
		closedir(fds);
		if (!found)
			continue;
		snprintf(comm, sizeof comm, "?");
		snprintf(path, sizeof path, "/proc/%s/comm", p->d_name);
		if ((f = fopen(path, "re")) != NULL) {
			if (fgets(comm, sizeof comm, f) != NULL)
				comm[strcspn(comm, "\n")] = '\0';
			fclose(f);
		}
		snprintf(buf, len, "pid %s (%s)", p->d_name, comm);
	}
	closedir(proc);
	return found;
#else
	(void)sa;
	(void)buf;
	(void)len;
	return 0;
#endif
}

int
compat_addr_conflict(const struct sockaddr *a, const struct sockaddr *b)
{
	unsigned char	x[16], y[16];
	int		px, py;

	compat_addr16(a, x, &px);
	compat_addr16(b, y, &py);
	return px == py && compat_addr_covers(x, y);
}

int
compat_cpu_has_aes(void)
{
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
	unsigned int	eax, ebx, ecx, edx;

	/*
	 * CPUID leaf 1, ECX bit 25: AES-NI. Not __builtin_cpu_supports(): it needs
	 * __cpu_model from the compiler's runtime library, which zig cc (the macOS
	 * cross build) does not link.
	 */
	if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0)
		return 0;
	return (ecx & bit_AES) != 0;
#elif defined(__aarch64__) && defined(__APPLE__)
	return 1;	/* every Apple arm64 CPU has the AES extension */
#elif defined(__aarch64__) && defined(__linux__) && defined(HWCAP_AES)
	/* The ARMv8 Crypto Extension (Graviton, Ampere, most phones; not the Raspberry Pi 4). */
	return (getauxval(AT_HWCAP) & HWCAP_AES) != 0;
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

void
compat_quickack(int fd)
{
#if defined(TCP_QUICKACK)
	int	one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
#else
	(void)fd;	/* BSD and macOS have no such switch: their delayed ACK stays */
#endif
}

void
compat_tune_malloc(void)
{
#if defined(__GLIBC__)
	/*
	 * glibc gives the top of the heap back (brk) once 128 KiB are free
	 * there, and a download allocates and frees libssh's packet buffers
	 * at that boundary thousands of times a second: each trim costs a TLB
	 * flush and the next growth page faults (21% of a download's time in
	 * perf). Keep up to 4 MiB (RSS may stay that much above its low
	 * point); fixed thresholds also stop glibc's own adaptation.
	 * Measured: loopback download +40 %.
	 */
	(void)mallopt(M_TRIM_THRESHOLD, 4 * 1024 * 1024);
	(void)mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
#endif
}

int
compat_pid_alive(pid_t pid)
{
#if defined(__linux__)
	char	path[64], buf[512], *p;
	FILE	*f;
	size_t	 n;

	/* A zombie is gone for us (its parent may never reap it: PID 1 in some containers). */
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) != NULL) {
		n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = '\0';
		if ((p = strrchr(buf, ')')) != NULL && p[1] == ' ')
			return p[2] != 'Z' && p[2] != 'X';
		return 1;
	}
#endif
	return kill(pid, 0) == 0 || errno == EPERM;
}

int
compat_netwatch_open(void)
{
	int	fd = -1;
#if defined(__linux__)
	struct sockaddr_nl	sa;

	if ((fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE)) == -1)
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.nl_family = AF_NETLINK;
	sa.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE |
	    RTMGRP_IPV6_ROUTE;
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == -1) {
		close(fd);
		return -1;
	}
#elif defined(COMPAT_PF_ROUTE)
	if ((fd = socket(PF_ROUTE, SOCK_RAW, AF_UNSPEC)) == -1)
		return -1;
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
#endif
	return fd;
}

int
compat_netwatch_read(int fd)
{
	char	buf[8192];
	ssize_t	n;
	int	changed = 0;

	for (;;) {
		n = recv(fd, buf, sizeof buf, 0);
		if (n == -1)
			return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ?
			    changed : -1;
		if (n == 0)
			return changed;
#if defined(__linux__)
		{
			struct nlmsghdr	*nh;
			int		 len = (int)n;

			/* NLMSG_OK spelled out: glibc's compares nlmsg_len (u32) with an int,
			 * which clang's -Wsign-compare refuses. */
			for (nh = (struct nlmsghdr *)buf; len >= (int)sizeof *nh &&
			    nh->nlmsg_len >= sizeof *nh && nh->nlmsg_len <= (unsigned)len;
			    nh = NLMSG_NEXT(nh, len)) {
				switch (nh->nlmsg_type) {
				case RTM_NEWLINK:
				case RTM_DELLINK:
				case RTM_NEWADDR:
				case RTM_DELADDR:
				case RTM_NEWROUTE:
				case RTM_DELROUTE:
					changed = 1;
					break;
				default:
					break;
				}
			}
		}
#else
		changed = 1;	/* PF_ROUTE: every message is a routing change */
#endif
	}
}

/* Add fd to the list (ascending when called in order). Returns 0 or -1 (out of memory). */
static int
compat_fds_add(int **fds, int *n, int fd)
{
	int	*nv;

	if ((nv = realloc(*fds, (size_t)(*n + 1) * sizeof **fds)) == NULL)
		return -1;
	*fds = nv;
	(*fds)[(*n)++] = fd;
	return 0;
}

static int
compat_int_cmp(const void *a, const void *b)
{
	int	x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

int
compat_open_fds(int lowfd, int **fds)
{
	struct rlimit	 rl;
	long		 max, fd;
	int		 n = 0;
#if defined(__linux__) || defined(__APPLE__)
	DIR		*d;
	struct dirent	*de;
	char		*end;

	/* The list of what is open, not a probe of every possible number (limits of 1M exist). */
#if defined(__linux__)
	d = opendir("/proc/self/fd");
#else
	d = opendir("/dev/fd");
#endif
	if (d != NULL) {
		*fds = NULL;
		while ((de = readdir(d)) != NULL) {
			fd = strtol(de->d_name, &end, 10);
			if (*end != '\0' || end == de->d_name || fd < lowfd || fd == dirfd(d))
				continue;
			if (compat_fds_add(fds, &n, (int)fd) != 0) {
				closedir(d);
				free(*fds);
				*fds = NULL;
				return -1;
			}
		}
		closedir(d);
		if (n > 1)
			qsort(*fds, (size_t)n, sizeof **fds, compat_int_cmp);
		return n;
	}
#endif
	/* Portable: ask each number up to the limit (capped: an "unlimited" limit is no list). */
	max = sysconf(_SC_OPEN_MAX);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    (max <= 0 || (rlim_t)max < rl.rlim_cur))
		max = (long)rl.rlim_cur;
	if (max <= 0 || max > 65536)
		max = 65536;
	*fds = NULL;
	for (fd = lowfd; fd < max; fd++) {
		if (fcntl((int)fd, F_GETFD) == -1)
			continue;
		if (compat_fds_add(fds, &n, (int)fd) != 0) {
			free(*fds);
			*fds = NULL;
			return -1;
		}
	}
	return n;
}
