/* fwdspec.h: one local forward as configured (never the live state). */
#ifndef CONNECT_FWDSPEC_H
#define CONNECT_FWDSPEC_H

#include <limits.h>
#include <stddef.h>

#define FWDSPEC_HOST_MAX	256
#define FWDSPEC_NAME_MAX	64
#define FWDSPEC_ORIGIN_MAX	(PATH_MAX + 64)

/*
 * A forward: listen on bind_addr:local_port, and carry each accepted
 * connection to remote_host:remote_port as seen from the SSH server.
 * Built by the profile loader and by fwdspec_parse(); immutable afterwards.
 */
struct forward_spec {
	char	name[FWDSPEC_NAME_MAX];		/* "web", "api", "files", a [forward NAME], or "L9000" */
	char	bind_addr[FWDSPEC_HOST_MAX];	/* default "127.0.0.1" */
	int	local_port;			/* 1..65535 */
	char	remote_host[FWDSPEC_HOST_MAX];	/* default "localhost" */
	int	remote_port;			/* 1..65535 */
	char	health_path[FWDSPEC_HOST_MAX];	/* HTTP readiness path, "" for none */
	/* Where the user changes it: "FILE:LINE (key local_port in [forward api])",
	 * "FILE:LINE ([forward web] keeps the built-in local_port 8080; set it there)",
	 * "command line -L 9000:localhost:9000" or
	 * "built-in default (set local_port in a [forward web] section of PATH)". */
	char	origin[FWDSPEC_ORIGIN_MAX];
};

/*
 * Parse an OpenSSH -L spec: [bind_address:]port:host:hostport, where an
 * address may be bracketed ([::1]) and "*" or an empty bind_address means
 * all interfaces ("0.0.0.0"). "localhost" as bind address means 127.0.0.1.
 * Fills *fs (name "L<port>", origin "command line -L <spec>", empty health).
 * Returns 0, or -1 with *cause set to a malloc'd one-line message
 * (caller frees) naming the spec and what was expected.
 */
int	fwdspec_parse(struct forward_spec *fs, const char *spec, char **cause);

/* Parse a port number 1..65535. Returns the port, or -1. */
int	fwdspec_parse_port(const char *s);

/*
 * Normalise a listen address into buf: "*" or "" -> "0.0.0.0", "localhost"
 * -> "127.0.0.1", an IPv4/IPv6 literal (brackets allowed) -> its canonical
 * form. Other host names are refused. Returns 0, or -1.
 */
int	fwdspec_parse_bind(const char *s, char *buf, size_t len);

/*
 * A remote host as sshd will resolve it: a name or an address, brackets
 * around an IPv6 literal dropped. Letters, digits and ". - _ : %" only: a
 * bracket, a blank or a control character is a typo, not a host. Returns 0
 * with the host in buf, or -1.
 */
int	fwdspec_parse_host(const char *s, char *buf, size_t len);

/* Format "bind:port -> host:hostport" into buf (never truncates silently: returns snprintf's result). */
int	fwdspec_describe(const struct forward_spec *fs, char *buf, size_t len);

#endif
