/*
 * unit-fwdspec.c: the -L spec tables (fwdspec.c): every good form, every bad
 * input and its message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwdspec.h"
#include "unit.h"

static void
test_ports(void)
{
	static const struct {
		const char	*in;
		int		 want;
	} t[] = {
		{ "1", 1 }, { "22", 22 }, { "65535", 65535 }, { "0080", 80 },
		{ "0", -1 }, { "65536", -1 }, { "", -1 }, { "-1", -1 }, { "+1", -1 },
		{ " 80", -1 }, { "80 ", -1 }, { "8o", -1 }, { "99999999999999999999", -1 },
	};
	char	name[64];
	size_t	i;
	int	got;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		snprintf(name, sizeof name, "port '%s'", t[i].in);
		got = fwdspec_parse_port(t[i].in);
		UNIT_CHECK(name, got == t[i].want, "got %d, want %d", got, t[i].want);
	}
}

static void
test_spec_good(void)
{
	static const struct {
		const char	*spec, *bind;
		int		 lport;
		const char	*host;
		int		 rport;
	} t[] = {
		{ "9000:localhost:80",		"127.0.0.1",	9000, "localhost",	80 },
		{ "0.0.0.0:9000:db:5432",	"0.0.0.0",	9000, "db",		5432 },
		{ "*:9000:db:5432",		"0.0.0.0",	9000, "db",		5432 },
		{ ":9000:db:5432",		"0.0.0.0",	9000, "db",		5432 },
		{ "localhost:9000:db:5432",	"127.0.0.1",	9000, "db",		5432 },
		{ "127.0.0.2:9001:10.0.0.1:80",	"127.0.0.2",	9001, "10.0.0.1",	80 },
		{ "[::1]:9000:[::1]:80",	"::1",		9000, "::1",		80 },
		{ "[::]:9000:host:80",		"::",		9000, "host",		80 },
		{ "[0:0::1]:9000:host:80",	"::1",		9000, "host",		80 },
		{ "9000:[fe80::1]:80",		"127.0.0.1",	9000, "fe80::1",	80 },
	};
	struct forward_spec	 fs;
	char			 name[128], want[128], *cause;
	size_t			 i;
	int			 rc;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		cause = NULL;
		snprintf(name, sizeof name, "-L %s", t[i].spec);
		rc = fwdspec_parse(&fs, t[i].spec, &cause);
		UNIT_CHECK(name, rc == 0 && strcmp(fs.bind_addr, t[i].bind) == 0 &&
		    fs.local_port == t[i].lport && strcmp(fs.remote_host, t[i].host) == 0 &&
		    fs.remote_port == t[i].rport && fs.health_path[0] == '\0',
		    "rc %d (%s): %s %d %s %d", rc, cause != NULL ? cause : "", fs.bind_addr,
		    fs.local_port, fs.remote_host, fs.remote_port);
		free(cause);
	}

	fwdspec_parse(&fs, "9000:localhost:80", NULL);
	UNIT_CHECK("-L name", strcmp(fs.name, "L9000") == 0, "got '%s'", fs.name);
	UNIT_CHECK("-L origin", strcmp(fs.origin, "command line -L 9000:localhost:80") == 0,
	    "got '%s'", fs.origin);
	fwdspec_describe(&fs, want, sizeof want);
	UNIT_CHECK("describe v4", strcmp(want, "127.0.0.1:9000 -> localhost:80") == 0, "got '%s'",
	    want);
	fwdspec_parse(&fs, "[::1]:9000:[::1]:80", NULL);
	fwdspec_describe(&fs, want, sizeof want);
	UNIT_CHECK("describe v6", strcmp(want, "[::1]:9000 -> [::1]:80") == 0, "got '%s'", want);
	rc = fwdspec_describe(&fs, want, 4);
	UNIT_CHECK("describe reports truncation", rc == (int)strlen("[::1]:9000 -> [::1]:80"),
	    "got %d", rc);
}

static void
test_spec_bad(void)
{
	static const struct {
		const char	*spec, *want;
	} t[] = {
		{ "9000:/tmp/sock", "-L 9000:/tmp/sock: unix-socket forwards are not supported "
		    "(expected [bind_address:]port:host:hostport)" },
		{ "/tmp/a.sock:host:80", "-L /tmp/a.sock:host:80: unix-socket forwards are not "
		    "supported (expected [bind_address:]port:host:hostport)" },
		{ "9000", "-L 9000: missing parts: expected [bind_address:]port:host:hostport" },
		{ "9000:host", "-L 9000:host: missing parts: expected "
		    "[bind_address:]port:host:hostport" },
		{ "", "-L : missing parts: expected [bind_address:]port:host:hostport" },
		{ "1:2:3:4:5", "-L 1:2:3:4:5: too many ':'-separated parts (write an IPv6 address in "
		    "brackets, e.g. [::1]): expected [bind_address:]port:host:hostport" },
		{ "::1:9000:h:80", "-L ::1:9000:h:80: too many ':'-separated parts (write an IPv6 "
		    "address in brackets, e.g. [::1]): expected [bind_address:]port:host:hostport" },
		{ "0:host:80", "-L 0:host:80: bad port '0': expected a number 1..65535" },
		{ "abc:host:80", "-L abc:host:80: bad port 'abc': expected a number 1..65535" },
		{ "9000:host:0", "-L 9000:host:0: bad hostport '0': expected a number 1..65535" },
		{ "9000:host:", "-L 9000:host:: bad hostport '': expected a number 1..65535" },
		{ "9000:host:70000", "-L 9000:host:70000: bad hostport '70000': expected a number "
		    "1..65535" },
		{ "9000::80", "-L 9000::80: missing host: expected [bind_address:]port:host:hostport" },
		{ "9000:[]:80", "-L 9000:[]:80: missing host: expected "
		    "[bind_address:]port:host:hostport" },
		{ "example.com:9000:h:80", "-L example.com:9000:h:80: bad bind address "
		    "'example.com': expected an IP address, 'localhost' or '*'" },
		{ "[::1:9000:h:80", "-L [::1:9000:h:80: '[' without a matching ']': expected "
		    "[bind_address:]port:host:hostport" },
		{ "[::1]x:9000:h:80", "-L [::1]x:9000:h:80: expected ':' after ']': expected "
		    "[bind_address:]port:host:hostport" },
		/* found by make fuzz: a bracket inside the brackets was taken as the host */
		{ "[::1]:8:[[]:1", "-L [::1]:8:[[]:1: bad host '[[]': expected a host name or "
		    "address" },
		{ "9000:-oProxy:80", "-L 9000:-oProxy:80: bad host '-oProxy': expected a host name "
		    "or address" },
		{ "9000:a b:80", "-L 9000:a b:80: bad host 'a b': expected a host name or address" },
	};
	struct forward_spec	 fs;
	char			 name[128], *cause;
	size_t			 i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		cause = NULL;
		snprintf(name, sizeof name, "bad -L '%s'", t[i].spec);
		expect_error(name, fwdspec_parse(&fs, t[i].spec, &cause), &cause, t[i].want);
	}
}

void
unit_fwdspec(void)
{
	test_ports();
	test_spec_good();
	test_spec_bad();
}
