/*
 * fwdspec.c: one configured forward: parsing OpenSSH -L specs, ports and
 * bind addresses, and describing a forward in messages.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cause.h"
#include "fwdspec.h"

#define FWDSPEC_SYNTAX	"expected [bind_address:]port:host:hostport"
#define FWDSPEC_SPEC_MAX 1024


/* Digits only (no sign, no spaces), 1..65535: anything else is a typo, not a port. */
int
fwdspec_parse_port(const char *s)
{
	long	v = 0;

	if (s == NULL || *s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > 65535)
			return -1;
	}
	return v >= 1 ? (int)v : -1;
}

/*
 * Normalise a listen address: "*" or "" is every IPv4 interface, "localhost"
 * is 127.0.0.1, brackets are dropped, and a literal is rewritten in its
 * canonical form so that duplicate checks compare like with like. Names
 * other than localhost are refused: what they resolve to can change.
 */
int
fwdspec_parse_bind(const char *s, char *buf, size_t len)
{
	char		 tmp[FWDSPEC_HOST_MAX];
	unsigned char	 addr[sizeof(struct in6_addr)];
	size_t		 n = strlen(s);

	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n >= sizeof tmp)
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';

	if (n == 0 || strcmp(tmp, "*") == 0)
		return snprintf(buf, len, "0.0.0.0") < (int)len ? 0 : -1;
	if (strcmp(tmp, "localhost") == 0)
		return snprintf(buf, len, "127.0.0.1") < (int)len ? 0 : -1;
	if (inet_pton(AF_INET, tmp, addr) == 1)
		return inet_ntop(AF_INET, addr, buf, (socklen_t)len) != NULL ? 0 : -1;
	if (inet_pton(AF_INET6, tmp, addr) == 1)
		return inet_ntop(AF_INET6, addr, buf, (socklen_t)len) != NULL ? 0 : -1;
	return -1;
}

int
fwdspec_parse_host(const char *s, char *buf, size_t len)
{
	size_t	n = strlen(s), i;

	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= len || s[0] == '-')
		return -1;
	for (i = 0; i < n; i++) {
		if (!isalnum((unsigned char)s[i]) && strchr(".-_:%", s[i]) == NULL)
			return -1;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	return 0;
}

/*
 * Cut a spec into at most four ':'-separated fields; a field may be a
 * bracketed address ([::1]) holding colons. Returns the number of fields,
 * or -1 with *why set.
 */
static int
fwdspec_split(const char *spec, char fields[4][FWDSPEC_HOST_MAX], const char **why)
{
	const char	*p = spec, *end;
	size_t		 n;
	int		 nf = 0;

	for (;;) {
		if (nf == 4) {
			*why = "too many ':'-separated parts (write an IPv6 address in brackets, "
			    "e.g. [::1])";
			return -1;
		}
		if (*p == '[') {
			if ((end = strchr(p, ']')) == NULL) {
				*why = "'[' without a matching ']'";
				return -1;
			}
			end++;
			if (*end != ':' && *end != '\0') {
				*why = "expected ':' after ']'";
				return -1;
			}
		} else
			end = p + strcspn(p, ":");
		if ((n = (size_t)(end - p)) >= FWDSPEC_HOST_MAX) {
			*why = "a part is too long";
			return -1;
		}
		memcpy(fields[nf], p, n);
		fields[nf][n] = '\0';
		nf++;
		if (*end == '\0')
			return nf;
		p = end + 1;
	}
}

/* Parse -L like OpenSSH, minus the unix-socket forms (this tool forwards TCP only). */
int
fwdspec_parse(struct forward_spec *fs, const char *spec, char **cause)
{
	char		 f[4][FWDSPEC_HOST_MAX];
	const char	*why = NULL, *bind, *host, *lport, *rport;
	int		 nf, i;

	memset(fs, 0, sizeof *fs);
	if (strlen(spec) > FWDSPEC_SPEC_MAX) {
		cause_set(cause, "-L spec is longer than %d bytes", FWDSPEC_SPEC_MAX);
		return -1;
	}
	if (strchr(spec, '/') != NULL) {
		cause_set(cause, "-L %s: unix-socket forwards are not supported (%s)", spec,
		    FWDSPEC_SYNTAX);
		return -1;
	}
	if ((nf = fwdspec_split(spec, f, &why)) == -1) {
		cause_set(cause, "-L %s: %s: %s", spec, why, FWDSPEC_SYNTAX);
		return -1;
	}
	if (nf < 3) {
		cause_set(cause, "-L %s: missing parts: %s", spec, FWDSPEC_SYNTAX);
		return -1;
	}
	i = 0;
	bind = nf == 4 ? f[i++] : "127.0.0.1";	/* OpenSSH's default without GatewayPorts */
	lport = f[i++];
	host = f[i++];
	rport = f[i];

	if (fwdspec_parse_bind(bind, fs->bind_addr, sizeof fs->bind_addr) != 0) {
		cause_set(cause, "-L %s: bad bind address '%s': expected an IP address, "
		    "'localhost' or '*'", spec, bind);
		return -1;
	}
	if ((fs->local_port = fwdspec_parse_port(lport)) == -1) {
		cause_set(cause, "-L %s: bad port '%s': expected a number 1..65535", spec, lport);
		return -1;
	}
	if (host[0] == '\0' || strcmp(host, "[]") == 0) {
		cause_set(cause, "-L %s: missing host: %s", spec, FWDSPEC_SYNTAX);
		return -1;
	}
	if (fwdspec_parse_host(host, fs->remote_host, sizeof fs->remote_host) != 0) {
		cause_set(cause, "-L %s: bad host '%s': expected a host name or address", spec,
		    host);
		return -1;
	}
	if ((fs->remote_port = fwdspec_parse_port(rport)) == -1) {
		cause_set(cause, "-L %s: bad hostport '%s': expected a number 1..65535", spec,
		    rport);
		return -1;
	}
	snprintf(fs->name, sizeof fs->name, "L%d", fs->local_port);
	snprintf(fs->origin, sizeof fs->origin, "command line -L %s", spec);
	fs->health_path[0] = '\0';
	return 0;
}

/* Brackets around IPv6 addresses keep "host:port" readable. */
int
fwdspec_describe(const struct forward_spec *fs, char *buf, size_t len)
{
	int	b6 = strchr(fs->bind_addr, ':') != NULL;
	int	r6 = strchr(fs->remote_host, ':') != NULL;

	return snprintf(buf, len, "%s%s%s:%d -> %s%s%s:%d", b6 ? "[" : "", fs->bind_addr,
	    b6 ? "]" : "", fs->local_port, r6 ? "[" : "", fs->remote_host, r6 ? "]" : "",
	    fs->remote_port);
}
