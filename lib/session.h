/* session.h: one SSH session on one TCP connection, driven from the libevent loop. */
#ifndef CONNECT_SESSION_H
#define CONNECT_SESSION_H

#include <limits.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/dns.h>
#include <libssh/libssh.h>

#include "profile.h"

/*
 * Where and how to connect, resolved once per run from the profile and
 * ~/.ssh/config (by libssh's own parser), so that every reconnect uses
 * exactly the same settings and libssh never re-reads the config.
 */
struct session_target {
	char	alias[PROFILE_STR_MAX];		/* what the user named (profile host) */
	char	hostname[PROFILE_STR_MAX];	/* after HostName */
	int	port;
	char	user[PROFILE_STR_MAX];
	char	identity[PATH_MAX];		/* expanded path; may not exist if the agent is used */
	int	use_agent;
	char	known_hosts[PATH_MAX];		/* expanded path */
	enum hostkey_policy hostkey_policy;
	char	ciphers[PROFILE_STR_MAX * 2];
	int	connect_timeout_ms, handshake_timeout_ms, auth_timeout_ms;
	int	keepalive_interval_ms, keepalive_count;
	int	hostkey_readonly;	/* accept-new accepts but never writes known_hosts (check) */
};

/* Fill *t from the profile and the ssh config. Returns 0, or -1 with *cause (malloc'd). */
int	session_target_resolve(const struct profile *p, struct session_target *t, char **cause);

enum session_state {
	SESSION_NEW = 0,
	SESSION_RESOLVING,	/* DNS lookup of the host */
	SESSION_CONNECTING,	/* non-blocking TCP connect, one address after another */
	SESSION_HANDSHAKE,	/* SSH banner and key exchange */
	SESSION_AUTH,		/* host key checked; authenticating */
	SESSION_READY,		/* channels may be opened */
	SESSION_DEAD		/* failed or closed; see session_failure() */
};

/* Why a session died: the supervisor decides from this whether and when to retry. */
enum session_failure {
	SFAIL_NONE = 0,
	SFAIL_RESOLVE,		/* name did not resolve */
	SFAIL_CONNECT,		/* TCP refused/unreachable/timed out: cost the server nothing */
	SFAIL_HANDSHAKE,	/* banner or key exchange failed or timed out */
	SFAIL_HOSTKEY_CHANGED,	/* never retried */
	SFAIL_HOSTKEY_UNKNOWN,	/* strict policy and no known_hosts entry */
	SFAIL_AUTH,		/* every identity refused */
	SFAIL_LOST,		/* an established session closed or errored */
	SFAIL_KEEPALIVE,	/* the peer went silent */
	SFAIL_LOCAL,		/* a local setting a person must fix (a cipher list libssh refuses) */
	SFAIL_RESOURCE,		/* out of fds or memory right now: passes, retried like a refused port */
	SFAIL_HOSTKEY_UNREADABLE /* known_hosts exists but cannot be read: retried, never "unknown" */
};

/* Does this failure need a person (a key, a host key, a setting)? Else it is retried. */
int	session_failure_fatal(enum session_failure f);
/* Did it cost the server nothing (no answer, refused port, local shortage)? Retried within 1 s. */
int	session_failure_cheap(enum session_failure f);
/*
 * The exit status (sysexits.h) for a run that ends on this failure: 76 host
 * key, 77 auth, 70 local error, 71 out of fds or memory, 66 known_hosts
 * unreadable, 69 anything the network did.
 */
int	session_failure_exit_code(enum session_failure f);


/*
 * The TCP timers under a session for keepalive interval_ms x count (SSH's
 * own detection stays the rule; these catch a link dead with data in
 * flight): keepalive idle and interval in s, probe count, and
 * TCP_USER_TIMEOUT = interval x (count + 1) in ms, each within the kernel's
 * bounds (the product in 64 bits: 360m x 101 overflows an int).
 */
struct session_tcp_timers {
	int	idle_s, intvl_s, cnt;
	int	user_timeout_ms;	/* 0: not set */
};
void	session_tcp_timers(int interval_ms, int count, struct session_tcp_timers *tt);

/* Credentials, owned by the caller and kept across sessions. */
struct session_auth {
	ssh_key	privkey;	/* NULL: no usable key file */
	ssh_key	pubkey;
	char	desc[PATH_MAX + 320];	/* "~/.ssh/id (ED25519 SHA256:...)" for messages */
};

struct session;

struct session_callbacks {
	/* Every transition; DEAD is the last call. Called from inside the loop: do not free the session here. */
	void	(*state_changed)(struct session *, enum session_state, void *arg);
	/* After each libssh pass while READY: channels retry opens, re-check windows, drain buffers. */
	void	(*pumped)(struct session *, void *arg);
};

/*
 * 1 when the libssh in use fixes each channel's receive window at 2 MiB:
 * a system libssh 0.11 or later (0.11 dropped the growth on read, and has no
 * call to set it), not the tuned one of make static / make tuned
 * (libssh/patches/). One connection then downloads at most 2 MiB per round
 * trip. 0 otherwise.
 */
int	session_libssh_window_capped(void);

/*
 * The resolver sessions use (libssh's getaddrinfo would block the loop):
 * the system's name servers, or none (numeric hosts and /etc/hosts still
 * work) when resolv.conf cannot be read. Returns it, or NULL (memory).
 */
struct evdns_base *session_dns_new(struct event_base *base);

/* A new, idle session. Returns NULL on memory exhaustion. The pointers must outlive it. */
struct session *session_new(struct event_base *base, struct evdns_base *dns,
	    const struct session_target *t, const struct session_auth *auth,
	    const struct session_callbacks *cb, void *arg);

/* Start resolving and connecting. Returns 0, or -1 (state DEAD is reported first). */
int	session_start(struct session *s);

/* Disconnect politely (if READY) and free everything; never call from the session's own callbacks. */
void	session_free(struct session *s);

enum session_state session_state(const struct session *s);
enum session_failure session_failure(const struct session *s);
const char *session_state_name(enum session_state);
/* One line: why it died (empty while alive). */
const char *session_error(const struct session *s);
/* "127.0.0.1:2222" once connected. */
const char *session_peer(const struct session *s);
/* The addresses the host name resolved to, "1.2.3.4, ::1" (empty before). */
const char *session_addresses(const struct session *s);
/* The server's host key, "ssh-ed25519 SHA256:..." (empty before the handshake). */
const char *session_hostkey(const struct session *s);
/* What authenticated: "a key from ssh-agent" or the identity's description (empty before). */
const char *session_auth_used(const struct session *s);


/* The libssh handle for channel calls (valid while not DEAD). */
ssh_session session_ssh(struct session *s);

/* Is libssh's output buffer non-empty? Writers pause while it is. */
int	session_output_pending(const struct session *s);

/* Ask for a libssh pass soon (after a channel write or when a local socket drained). */
void	session_kick(struct session *s);

/*
 * Send a keepalive now and declare the session dead if nothing at all is
 * received within deadline_ms (the wall clock jumped: we slept; or the
 * network changed under us). Only while READY.
 */
void	session_probe(struct session *s, int deadline_ms);

/* Bytes read from / written to the SSH socket so far. */
uint64_t session_bytes_in(const struct session *s);
uint64_t session_bytes_out(const struct session *s);

#endif
