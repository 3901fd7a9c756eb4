/*
 * unit-profile.c: the profile tables (profile.c): defaults, the example, good
 * and bad files with their file:line messages, long lines, validation, files
 * and modes, finding a profile by name or by an ssh config Host; paths_expand.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fwdspec.h"
#include "paths.h"
#include "profile.h"
#include "inih-abi.h"
#include "unit.h"

/* Why a long-line case is skipped: a key line must fit the library's own buffer then. */
#define INIH_UPSTREAM	"libinih without Debian's run-time options: a key line fits its 200-byte buffer"

static void
test_defaults(void)
{
	struct profile			*p = new_profile();
	const struct forward_spec	*w = find_fwd(p, "web"), *a = find_fwd(p, "api");
	const struct forward_spec	*f = find_fwd(p, "files");

	UNIT_CHECK("defaults: three forwards", p->nforwards == 3 && w && a && f, "got %zu",
	    p->nforwards);
	UNIT_CHECK("defaults: web", w && w->local_port == 8080 && w->remote_port == 8080 &&
	    strcmp(w->bind_addr, "127.0.0.1") == 0 && strcmp(w->remote_host, "0.0.0.0") == 0 &&
	    w->health_path[0] == '\0', "bad web");
	UNIT_CHECK("defaults: api health", a && a->local_port == 8008 &&
	    strcmp(a->health_path, "/debug.ping") == 0, "bad api");
	UNIT_CHECK("defaults: files", f && f->local_port == 8081 && f->remote_port == 8081,
	    "bad files");
	UNIT_CHECK("defaults: web origin", w && strcmp(w->origin, "built-in default (set "
	    "local_port in a [forward web] section of the profile)") == 0, "got '%s'",
	    w ? w->origin : "");
	UNIT_CHECK("defaults: timers", p->keepalive_interval_ms == 5000 &&
	    p->keepalive_count == 3 && p->connect_timeout_ms == 10000 &&
	    p->handshake_timeout_ms == 10000 && p->auth_timeout_ms == 10000 &&
	    p->backoff_initial_ms == 250 && p->backoff_max_ms == 30000 &&
	    p->stable_ms == 30000 && p->max_tries == 0 && p->hold_max == 64 &&
	    p->hold_timeout_ms == 30000, "bad timers");
	UNIT_CHECK("defaults: ssh", p->use_agent == 1 && p->hostkey_policy ==
	    HOSTKEY_ACCEPT_NEW && p->host[0] == '\0' && p->port == 0 &&
	    p->identity[0] == '\0' && p->known_hosts[0] == '\0' && p->ciphers[0] == '\0',
	    "bad ssh defaults");
	free(p);
}

/* The profile of the brief, comments included. */
static const char example_ini[] =
    "; my-studio.ini\n"						/* 1 */
    "[studio]\n"
    "id = 01hxyz-AB_9            ; Studio id -> user s_<id>\n"
    "; user = s_01hxyz...      ; explicit SSH user (wins over id)\n"
    "host = ssh.lightning.ai   ; default; may also be a Host alias\n"	/* 5 */
    "port = 22\n"
    "identity = ~/.ssh/lightning_rsa\n"
    "agent = yes               ; yes/no: try ssh-agent keys first\n"
    "known_hosts = ~/.ssh/known_hosts\n"
    "host_key_policy = strict   ; accept-new | strict\n"		/* 10 */
    "ciphers = aes128-gcm@openssh.com,chacha20-poly1305@openssh.com\n"
    "default_forwards = yes\n"
    "\n"
    "[forward api]             ; a default forward can be changed by name...\n"
    "local_port = 18008\n"						/* 15 */
    "bind = 127.0.0.1\n"
    "remote_host = localhost\n"
    "remote_port = 8008\n"
    "health = /debug.ping      ; HTTP readiness path\n"
    "\n"								/* 20 */
    "[forward tensorboard]     ; ...or a new one added\n"
    "local_port = 6006\n"
    "remote_port = 6006        ; remote_port defaults to local_port\n"
    "\n"
    "[keepalive]\n"							/* 25 */
    "interval = 5s             ; durations: 5, 5s, 250ms, 2m\n"
    "count = 3\n"
    "\n"
    "[reconnect]\n"
    "connect_timeout = 10s\n"					/* 30 */
    "handshake_timeout = 9\n"
    "auth_timeout = 2m\n"
    "backoff_initial = 250ms\n"
    "backoff_max = 30s\n"
    "stable = 30s\n"							/* 35 */
    "max_tries = 0             ; 0 = forever\n"
    "hold_max = 64\n"
    "hold_timeout = 30s\n";

static void
test_load_example(void)
{
	struct profile			*p = new_profile();
	const struct forward_spec	*a, *t, *w;
	char				*cause = NULL, ubuf[PROFILE_STR_MAX];
	int				 rc;

	rc = profile_load_string(p, example_ini, "my-studio.ini", &cause);
	expect_ok("example: loads", rc, &cause);
	UNIT_CHECK("example: id", strcmp(p->studio_id, "01hxyz-AB_9") == 0, "got '%s'",
	    p->studio_id);
	UNIT_CHECK("example: user from id", strcmp(profile_user(p, ubuf, sizeof ubuf),
	    "s_01hxyz-AB_9") == 0, "got '%s'", ubuf);
	UNIT_CHECK("example: inline comment stripped", strcmp(p->host, "ssh.lightning.ai") == 0,
	    "got '%s'", p->host);
	UNIT_CHECK("example: studio keys", p->port == 22 && p->use_agent == 1 &&
	    strcmp(p->identity, "~/.ssh/lightning_rsa") == 0 &&
	    strcmp(p->known_hosts, "~/.ssh/known_hosts") == 0 &&
	    p->hostkey_policy == HOSTKEY_STRICT &&
	    strcmp(p->ciphers, "aes128-gcm@openssh.com,chacha20-poly1305@openssh.com") == 0,
	    "bad studio keys");
	UNIT_CHECK("example: path", strcmp(p->path, "my-studio.ini") == 0, "got '%s'", p->path);
	UNIT_CHECK("example: four forwards", p->nforwards == 4, "got %zu", p->nforwards);
	a = find_fwd(p, "api");
	UNIT_CHECK("example: api changed", a && a->local_port == 18008 && a->remote_port == 8008 &&
	    strcmp(a->health_path, "/debug.ping") == 0, "bad api");
	UNIT_CHECK("example: api origin", a && strcmp(a->origin,
	    "my-studio.ini:15 (key local_port in [forward api])") == 0, "got '%s'",
	    a ? a->origin : "");
	t = find_fwd(p, "tensorboard");
	UNIT_CHECK("example: tensorboard", t && t->local_port == 6006 && t->remote_port == 6006 &&
	    strcmp(t->bind_addr, "127.0.0.1") == 0 && strcmp(t->remote_host, "localhost") == 0 &&
	    t->health_path[0] == '\0', "bad tensorboard");
	UNIT_CHECK("example: tensorboard origin", t && strcmp(t->origin,
	    "my-studio.ini:22 (key local_port in [forward tensorboard])") == 0, "got '%s'",
	    t ? t->origin : "");
	w = find_fwd(p, "web");
	UNIT_CHECK("example: web origin names the file", w && strcmp(w->origin, "built-in default "
	    "(set local_port in a [forward web] section of my-studio.ini)") == 0, "got '%s'",
	    w ? w->origin : "");
	UNIT_CHECK("example: durations", p->keepalive_interval_ms == 5000 &&
	    p->keepalive_count == 3 && p->connect_timeout_ms == 10000 &&
	    p->handshake_timeout_ms == 9000 && p->auth_timeout_ms == 120000 &&
	    p->backoff_initial_ms == 250 && p->backoff_max_ms == 30000 && p->stable_ms == 30000 &&
	    p->max_tries == 0 && p->hold_max == 64 && p->hold_timeout_ms == 30000,
	    "bad durations");
	cause = NULL;
	expect_ok("example: validates", profile_validate(p, &cause), &cause);
	free(p);
}

/* Small good files: each checks one rule of the format. */
static void
test_load_good(void)
{
	struct profile			*p;
	const struct forward_spec	*f;
	char				*cause, longline[1100];
	int				 rc;

#define LOAD(text) do {							\
	p = new_profile();						\
	cause = NULL;							\
	rc = profile_load_string(p, (text), "t.ini", &cause);		\
} while (0)

	LOAD("[studio]\ndefault_forwards = no\n[forward api]\nhealth = none\n");
	expect_ok("default_forwards = no keeps a named default", rc, &cause);
	UNIT_CHECK("default_forwards = no: only api", p->nforwards == 1 &&
	    strcmp(p->forwards[0].name, "api") == 0 && p->forwards[0].health_path[0] == '\0' &&
	    p->forwards[0].local_port == 8008, "got %zu forwards", p->nforwards);
	UNIT_CHECK("inherited local_port: origin is the header", strcmp(p->forwards[0].origin,
	    "t.ini:3 ([forward api] keeps the built-in local_port 8008; set it there)") == 0,
	    "got '%s'", p->forwards[0].origin);
	free(p);

	LOAD("[forward tb]\nlocal_port = 6006\n[studio]\ndefault_forwards = no\n");
	expect_ok("default_forwards after the forwards", rc, &cause);
	UNIT_CHECK("default_forwards = no: only tb", p->nforwards == 1 &&
	    strcmp(p->forwards[0].name, "tb") == 0 && p->forwards[0].remote_port == 6006,
	    "got %zu forwards", p->nforwards);
	free(p);

	LOAD("[studio]\n  id = abc\n\tport = 2222\n    [keepalive]\n  count = 5\n");
	expect_ok("indented keys are keys of their own", rc, &cause);
	UNIT_CHECK("indented keys: values", strcmp(p->studio_id, "abc") == 0 && p->port == 2222 &&
	    p->keepalive_count == 5, "id '%s' port %d count %d", p->studio_id, p->port,
	    p->keepalive_count);
	free(p);

	LOAD("[forward a]\nlocal_port = 1\nbind = *\n[forward b]\nlocal_port = 2\n"
	    "bind = localhost\nremote_host = [::1]\n[forward c]\nlocal_port = 3\nbind = [::1]\n"
	    "remote_port = 33\n");
	expect_ok("bind forms", rc, &cause);
	f = find_fwd(p, "a");
	UNIT_CHECK("bind = * is 0.0.0.0", f && strcmp(f->bind_addr, "0.0.0.0") == 0, "bad a");
	f = find_fwd(p, "b");
	UNIT_CHECK("bind = localhost is 127.0.0.1, remote [::1] is ::1", f &&
	    strcmp(f->bind_addr, "127.0.0.1") == 0 && strcmp(f->remote_host, "::1") == 0, "bad b");
	f = find_fwd(p, "c");
	UNIT_CHECK("bind = [::1], remote_port", f && strcmp(f->bind_addr, "::1") == 0 &&
	    f->remote_port == 33 && f->local_port == 3, "bad c");
	free(p);

	LOAD("[forward api]\nhealth = \"\"\n[forward web]\nhealth = /ready ; comment\n");
	expect_ok("health forms", rc, &cause);
	UNIT_CHECK("health = \"\" disables", find_fwd(p, "api")->health_path[0] == '\0', "bad api");
	UNIT_CHECK("health path kept clean", strcmp(find_fwd(p, "web")->health_path, "/ready") == 0,
	    "got '%s'", find_fwd(p, "web")->health_path);
	free(p);

	LOAD("[keepalive]\ninterval = 250ms\n[reconnect]\nstable = 2m\nconnect_timeout = 7\n"
	    "hold_max = 0\nmax_tries = 12\n");
	expect_ok("duration units", rc, &cause);
	UNIT_CHECK("duration values", p->keepalive_interval_ms == 250 && p->stable_ms == 120000 &&
	    p->connect_timeout_ms == 7000 && p->hold_max == 0 && p->max_tries == 12,
	    "got %d %d %d %d %d", p->keepalive_interval_ms, p->stable_ms, p->connect_timeout_ms,
	    p->hold_max, p->max_tries);
	free(p);

	LOAD("\xEF\xBB\xBF[studio]\r\nID = abc\r\nagent = off\r\nport: 2200\r\n# done\r\n");
	expect_ok("BOM, CRLF, ':' and key case", rc, &cause);
	UNIT_CHECK("BOM, CRLF, ':' and key case: values", strcmp(p->studio_id, "abc") == 0 &&
	    p->use_agent == 0 && p->port == 2200, "id '%s' agent %d port %d", p->studio_id,
	    p->use_agent, p->port);
	free(p);

	LOAD("[studio]\nhost = alias\nhost_key_policy = accept-new\nidentity =\n");
	expect_ok("empty value unsets", rc, &cause);
	UNIT_CHECK("empty value unsets: values", strcmp(p->host, "alias") == 0 &&
	    p->identity[0] == '\0' && p->hostkey_policy == HOSTKEY_ACCEPT_NEW, "bad values");
	free(p);

	LOAD("[studio]\nidentity = \"~/.ssh/my key\"   ; quoted\nid = \"abc\"\n");
	expect_ok("quoted values", rc, &cause);
	UNIT_CHECK("quoted values: quotes dropped", strcmp(p->identity, "~/.ssh/my key") == 0 &&
	    strcmp(p->studio_id, "abc") == 0, "identity '%s' id '%s'", p->identity, p->studio_id);
	free(p);

	LOAD("");
	expect_ok("empty file", rc, &cause);
	UNIT_CHECK("empty file keeps the defaults", p->nforwards == 3, "got %zu", p->nforwards);
	free(p);

	memset(longline, 'x', sizeof longline);
	longline[0] = ';';
	snprintf(longline + 1024, sizeof longline - 1024, "\n[studio]\nid = a\n");
	LOAD(longline);
	expect_ok("a line of exactly 1024 bytes", rc, &cause);
	free(p);
#undef LOAD
}

/* Bad inputs: the exact message, with the line inih would have hidden. */
static void
test_load_bad(void)
{
	static const struct {
		const char	*name, *text, *want;
	} t[] = {
		{ "unknown key", "[studio]\nidd = x\n",
		  "t.ini:2: unknown key 'idd' in [studio] (valid keys: id, user, host, port, "
		  "identity, agent, known_hosts, host_key_policy, ciphers, default_forwards)" },
		{ "unknown key in forward", "[forward api]\nlocalport = 1\n",
		  "t.ini:2: unknown key 'localport' in [forward api] (valid keys: local_port, bind, "
		  "remote_host, remote_port, health)" },
		{ "unknown key in keepalive", "[keepalive]\ninterval = 5\ncount = 3\nretries = 3\n",
		  "t.ini:4: unknown key 'retries' in [keepalive] (valid keys: interval, count)" },
		{ "unknown key in reconnect", "[reconnect]\nbackoff = 1s\n",
		  "t.ini:2: unknown key 'backoff' in [reconnect] (valid keys: connect_timeout, "
		  "handshake_timeout, auth_timeout, backoff_initial, backoff_max, stable, max_tries, "
		  "hold_max, hold_timeout)" },
		{ "key of another section", "[forward api]\nport = 22\n",
		  "t.ini:2: unknown key 'port' in [forward api] (valid keys: local_port, bind, "
		  "remote_host, remote_port, health); it belongs in [studio]" },
		{ "forward key in studio", "[studio]\nlocal_port = 22\n",
		  "t.ini:2: unknown key 'local_port' in [studio] (valid keys: id, user, host, port, "
		  "identity, agent, known_hosts, host_key_policy, ciphers, default_forwards); it "
		  "belongs in [forward NAME]" },
		{ "control character in a path", "[studio]\nid = x\nidentity = /k\033[2J\n",
		  "t.ini:3: identity: control character 0x1b in the path" },
		{ "tab in known_hosts", "[studio]\nid = x\nknown_hosts = /a\tb\n",
		  "t.ini:3: known_hosts: control character 0x09 in the path" },
		{ "key outside a section", "id = x\n",
		  "t.ini:1: key 'id' is outside any section (put it under [studio], "
		  "[forward NAME], [keepalive] or [reconnect])" },
		{ "unknown section", "; c\n[studo]\nid = x\n",
		  "t.ini:2: unknown section [studo]: expected [studio], [forward NAME], "
		  "[keepalive] or [reconnect]" },
		{ "unknown empty section", "[studio]\nid = a\n[ssh]\n",
		  "t.ini:3: unknown section [ssh]: expected [studio], [forward NAME], "
		  "[keepalive] or [reconnect]" },
		{ "section with a stray name", "[studio main]\n",
		  "t.ini:1: unknown section [studio main]: expected [studio], [forward NAME], "
		  "[keepalive] or [reconnect]" },
		{ "forward without a name", "[forward]\nlocal_port = 1\n",
		  "t.ini:1: [forward] needs a name, as in [forward tensorboard]" },
		{ "bad forward name", "[forward a/b]\n",
		  "t.ini:1: bad forward name 'a/b': use letters, digits, '.', '_' and '-' "
		  "(at most 63)" },
		{ "header without ]", "[studio\n",
		  "t.ini:1: section header without ']': '[studio'" },
		{ "text after ]", "[studio] x\n",
		  "t.ini:1: unexpected text after ']': 'x'" },
		{ "port 0", "[studio]\nport = 0\n",
		  "t.ini:2: port: expected a port number 1..65535, got '0'" },
		{ "port 65536", "[studio]\nport = 65536\n",
		  "t.ini:2: port: expected a port number 1..65535, got '65536'" },
		{ "port not numeric", "[studio]\nport = ssh\n",
		  "t.ini:2: port: expected a port number 1..65535, got 'ssh'" },
		{ "port empty", "[studio]\nport =\n",
		  "t.ini:2: port: expected a port number 1..65535, got ''" },
		{ "local_port negative", "[forward x]\nlocal_port = -5\n",
		  "t.ini:2: local_port: expected a port number 1..65535, got '-5'" },
		{ "remote_port junk", "[forward api]\nremote_port = 80a\n",
		  "t.ini:2: remote_port: expected a port number 1..65535, got '80a'" },
		{ "duration unit", "[keepalive]\ninterval = 5x\n",
		  "t.ini:2: interval: expected a duration > 0 such as 5, 5s, 250ms or 2m "
		  "(at most 24h), got '5x'" },
		{ "duration zero", "[reconnect]\nstable = 0s\n",
		  "t.ini:2: stable: expected a duration > 0 such as 5, 5s, 250ms or 2m "
		  "(at most 24h), got '0s'" },
		{ "duration fraction", "[reconnect]\nhold_timeout = 1.5s\n",
		  "t.ini:2: hold_timeout: expected a duration > 0 such as 5, 5s, 250ms or 2m "
		  "(at most 24h), got '1.5s'" },
		{ "duration huge", "[reconnect]\nbackoff_max = 99999999999m\n",
		  "t.ini:2: backoff_max: expected a duration > 0 such as 5, 5s, 250ms or 2m "
		  "(at most 24h), got '99999999999m'" },
		{ "duration spaced unit", "[reconnect]\nauth_timeout = 5 s\n",
		  "t.ini:2: auth_timeout: expected a duration > 0 such as 5, 5s, 250ms or 2m "
		  "(at most 24h), got '5 s'" },
		{ "bad yes/no", "[studio]\nagent = maybe\n",
		  "t.ini:2: agent: expected yes or no, got 'maybe'" },
		{ "bad default_forwards", "[studio]\ndefault_forwards = none\n",
		  "t.ini:2: default_forwards: expected yes or no, got 'none'" },
		{ "bad host_key_policy", "[studio]\nhost_key_policy = no\n",
		  "t.ini:2: host_key_policy: expected accept-new or strict (a changed key is always "
		  "refused), got 'no'" },
		{ "key set twice", "[studio]\nid = a\n\nid = b\n",
		  "t.ini:4: id set twice in [studio], first at line 2" },
		{ "key set twice in a forward", "[forward api]\nlocal_port = 1\nLocal_Port = 2\n",
		  "t.ini:3: local_port set twice in [forward api], first at line 2" },
		{ "section twice", "[studio]\nid = a\n[keepalive]\n[studio]\nport = 2\n",
		  "t.ini:4: section [studio] appears twice, first at line 1" },
		{ "forward section twice", "[forward x]\nlocal_port = 1\n[forward x]\n",
		  "t.ini:3: section [forward x] appears twice, first at line 1" },
		{ "new forward without local_port", "[forward tb]\nremote_port = 6006\n[studio]\n",
		  "t.ini:1: [forward tb] needs local_port (it is a new forward; the built-in ones "
		  "are web, api and files)" },
		{ "new forward without local_port at the end", "[studio]\n[forward tb]\n",
		  "t.ini:2: [forward tb] needs local_port (it is a new forward; the built-in ones "
		  "are web, api and files)" },
		{ "indented continuation", "[studio]\nciphers = aes128-ctr,\n    aes256-ctr\n",
		  "t.ini:3: expected 'key = value', '[section]' or a comment, got 'aes256-ctr' "
		  "(an indented line does not continue the previous value)" },
		{ "line without =", "[studio]\nid abc\n",
		  "t.ini:2: expected 'key = value', '[section]' or a comment, got 'id abc'" },
		{ "line starting with =", "[studio]\n= abc\n",
		  "t.ini:2: expected 'key = value', '[section]' or a comment, got '= abc'" },
		{ "'=' only inside a comment", "[studio]\nid ; = abc\n",
		  "t.ini:2: expected 'key = value', '[section]' or a comment, got 'id ; = abc'" },
		{ "inline # comment", "[studio]\nport = 22 # ssh\n",
		  "t.ini:2: port: '#' starts a comment only at the start of a line; put ' ;' before "
		  "a comment after a value" },
		{ "count 0", "[keepalive]\ncount = 0\n",
		  "t.ini:2: count: expected a whole number 1..100, got '0'" },
		{ "hold_max negative", "[reconnect]\nhold_max = -1\n",
		  "t.ini:2: hold_max: expected a whole number 0..100000, got '-1'" },
		{ "max_tries words", "[reconnect]\nmax_tries = forever\n",
		  "t.ini:2: max_tries: expected a whole number 0..1000000, got 'forever'" },
		{ "bad id", "[studio]\nid = a b\n",
		  "t.ini:2: id: expected the Studio id (letters, digits, '_' and '-', at most 128, "
		  "as ID, s_ID or s_ID@ssh.lightning.ai), got 'a b'" },
		{ "id with a slash", "[studio]\nid = ../x\n",
		  "t.ini:2: id: expected the Studio id (letters, digits, '_' and '-', at most 128, "
		  "as ID, s_ID or s_ID@ssh.lightning.ai), got '../x'" },
		{ "user with a space", "[studio]\nuser = s_a b\n",
		  "t.ini:2: user: expected one word without spaces, not starting with '-', "
		  "got 's_a b'" },
		{ "host as an option", "[studio]\nhost = -oProxyCommand=x\n",
		  "t.ini:2: host: expected one word without spaces, not starting with '-', "
		  "got '-oProxyCommand=x'" },
		{ "ciphers with spaces", "[studio]\nciphers = aes128-ctr, aes256-ctr\n",
		  "t.ini:2: ciphers: expected a comma-separated list of cipher names without spaces, "
		  "got 'aes128-ctr, aes256-ctr'" },
		{ "bind host name", "[forward api]\nbind = example.com\n",
		  "t.ini:2: bind: expected an IP address, 'localhost' or '*', got 'example.com'" },
		{ "bind empty", "[forward api]\nbind =\n",
		  "t.ini:2: bind: expected an IP address, 'localhost' or '*', got ''" },
		{ "remote_host empty", "[forward api]\nremote_host =\n",
		  "t.ini:2: remote_host: expected a host name or address, got ''" },
		{ "remote_host bracket inside", "[forward api]\nremote_host = [[]\n",
		  "t.ini:2: remote_host: expected a host name or address, got '[[]'" },
		{ "remote_host as an option", "[forward api]\nremote_host = -oX\n",
		  "t.ini:2: remote_host: expected a host name or address, got '-oX'" },
		{ "health without /", "[forward api]\nhealth = debug.ping\n",
		  "t.ini:2: health: expected an HTTP path starting with '/', or none, "
		  "got 'debug.ping'" },
		{ "backoff_initial over backoff_max", "[reconnect]\nbackoff_initial = 1m\n",
		  "t.ini:2: backoff_initial (60000ms) is longer than backoff_max (30000ms)" },
	};
	struct profile	*p;
	char		*cause;
	size_t		 i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		p = new_profile();
		cause = NULL;
		expect_error(t[i].name, profile_load_string(p, t[i].text, "t.ini", &cause), &cause,
		    t[i].want);
		free(p);
	}
}

/* Lines inih would split or truncate: the limit, and line numbers after long lines. */
static void
test_load_long(void)
{
	struct profile	*p;
	char		*text, *cause, want[128];
	size_t		 n;
	int		 rc;

	/* 300 bytes: over Debian inih's 200, under ours; the error two lines on must say line 3. */
	text = calloc(1, 4096);
	memset(text, 'x', 300);
	text[0] = ';';
	strcat(text, "\n[studio]\nport = x\n");
	p = new_profile();
	cause = NULL;
	expect_error("line number after a 300-byte line", profile_load_string(p, text, "t.ini",
	    &cause), &cause, "t.ini:3: port: expected a port number 1..65535, got 'x'");
	free(p);

	/* A long value on line 2 does not shift the next key's line either. */
	snprintf(text, 4096, "[studio]\nidentity = /%0600d\nid = a\nid = b\n", 0);
	p = new_profile();
	cause = NULL;
	rc = profile_load_string(p, text, "t.ini", &cause);
	if (!CONNECT_INIH_GLOBALS)
		printf("SKIP: line number after a 600-byte value: %s\n", INIH_UPSTREAM);
	else
		expect_error("line number after a 600-byte value", rc, &cause,
		    "t.ini:4: id set twice in [studio], first at line 3");
	free(cause);
	free(p);

	/* 1025 bytes: refused, not split. */
	memset(text, 0, 4096);
	strcpy(text, "[studio]\nidentity = /");
	n = strlen(text);
	memset(text + n, 'k', 1025 - (n - strlen("[studio]\n")));
	strcat(text, "\nid = a\n");
	p = new_profile();
	cause = NULL;
	snprintf(want, sizeof want, "t.ini:2: line longer than 1024 bytes");
	expect_error("line over 1024 bytes", profile_load_string(p, text, "t.ini", &cause), &cause,
	    want);
	free(p);

	/* A 3000-byte comment line: still refused at its own line. */
	memset(text, 0, 4096);
	strcpy(text, "[studio]\nid = a\n;");
	memset(text + strlen(text), 'c', 3000);
	p = new_profile();
	cause = NULL;
	expect_error("3000-byte comment", profile_load_string(p, text, "t.ini", &cause), &cause,
	    "t.ini:3: line longer than 1024 bytes");
	free(p);

	/* A host longer than its field: refused, not cut. */
	memset(text, 0, 4096);
	strcpy(text, "[studio]\nhost = ");
	memset(text + strlen(text), 'h', 300);
	p = new_profile();
	cause = NULL;
	rc = profile_load_string(p, text, "t.ini", &cause);
	if (!CONNECT_INIH_GLOBALS)
		printf("SKIP: host over 255 bytes: %s\n", INIH_UPSTREAM);
	else
		expect_error("host over 255 bytes", rc, &cause,
		    "t.ini:2: host: value longer than 255 bytes");
	free(cause);
	free(p);
	free(text);
}

static void
test_validate(void)
{
	struct profile	*p;
	char		*cause;
	int		 rc;

	p = new_profile();
	cause = NULL;
	profile_load_string(p, "[studio]\nport = 22\n", "t.ini", &cause);
	free(cause);
	cause = NULL;
	expect_error("validate: no id names the file", profile_validate(p, &cause), &cause,
	    "t.ini: no Studio id: set id = STUDIO_ID (or user = s_STUDIO_ID) in its [studio] "
	    "section, or give --id");
	free(p);

	p = new_profile();
	cause = NULL;
	expect_error("validate: no id, no file", profile_validate(p, &cause), &cause,
	    "no Studio id: give --id STUDIO_ID or a profile name");
	snprintf(p->user, sizeof p->user, "s_abc");
	cause = NULL;
	expect_ok("validate: user alone is enough", profile_validate(p, &cause), &cause);
	p->user[0] = '\0';
	p->from_ssh_config = 1;
	cause = NULL;
	expect_ok("validate: ssh config needs no id", profile_validate(p, &cause), &cause);
	p->from_ssh_config = 0;
	snprintf(p->studio_id, sizeof p->studio_id, "a/b");
	cause = NULL;
	expect_error("validate: bad id", profile_validate(p, &cause), &cause,
	    "bad Studio id 'a/b': expected letters, digits, '_' and '-' (at most 128)");
	snprintf(p->studio_id, sizeof p->studio_id, "01abc");
	cause = NULL;
	expect_ok("validate: good id", profile_validate(p, &cause), &cause);

	cause = NULL;
	rc = profile_add_forward(p, "8008:localhost:9000", &cause);
	expect_ok("add -L 8008", rc, &cause);
	UNIT_CHECK("add -L appends", p->nforwards == 4 && strcmp(p->forwards[3].name, "L8008") == 0,
	    "got %zu", p->nforwards);
	cause = NULL;
	expect_error("validate: -L on a built-in port", profile_validate(p, &cause), &cause,
	    "local port 8008 is taken twice: forward api on 127.0.0.1 (built-in default (set "
	    "local_port in a [forward api] section of the profile)) and forward L8008 on "
	    "127.0.0.1 (command line -L 8008:localhost:9000); change one of them");
	p->nforwards = 3;

	cause = NULL;
	profile_add_forward(p, "127.0.0.2:8081:localhost:1", &cause);
	cause = NULL;
	expect_ok("validate: same port, other address", profile_validate(p, &cause), &cause);
	cause = NULL;
	profile_add_forward(p, "*:8081:localhost:1", &cause);
	cause = NULL;
	expect_error("validate: wildcard bind collides", profile_validate(p, &cause), &cause,
	    "local port 8081 is taken twice: forward files on 127.0.0.1 (built-in default (set "
	    "local_port in a [forward files] section of the profile)) and forward L8081 on "
	    "0.0.0.0 (command line -L *:8081:localhost:1); change one of them");
	p->nforwards = 3;
	cause = NULL;
	profile_add_forward(p, "[::]:8080:localhost:1", &cause);
	cause = NULL;
	rc = profile_validate(p, &cause);
	UNIT_CHECK("validate: :: collides", rc == -1 && cause != NULL &&
	    strstr(cause, "forward L8080 on :: (command line -L [::]:8080:localhost:1)") != NULL,
	    "got '%s'", cause != NULL ? cause : "");
	free(cause);
	p->nforwards = 3;
	cause = NULL;
	expect_error("add -L bad spec", profile_add_forward(p, "x:y", &cause), &cause,
	    "-L x:y: missing parts: expected [bind_address:]port:host:hostport");
	while (p->nforwards < PROFILE_MAX_FORWARDS) {
		char	spec[64];

		snprintf(spec, sizeof spec, "%zu:localhost:1", 10000 + p->nforwards);
		cause = NULL;
		if (profile_add_forward(p, spec, &cause) != 0)
			break;
	}
	cause = NULL;
	expect_error("add -L: too many", profile_add_forward(p, "9999:localhost:1", &cause), &cause,
	    "-L 9999:localhost:1: too many forwards (at most 64)");
	free(p);

	p = new_profile();
	cause = NULL;
	rc = profile_load_string(p, "[studio]\nid = abc\n\n[forward tb]\nlocal_port = 8080\n",
	    "t.ini", &cause);
	expect_ok("file forward on 8080 loads", rc, &cause);
	cause = NULL;
	expect_error("validate: file forward vs built-in", profile_validate(p, &cause), &cause,
	    "local port 8080 is taken twice: forward web on 127.0.0.1 (built-in default (set "
	    "local_port in a [forward web] section of t.ini)) and forward tb on 127.0.0.1 "
	    "(t.ini:5 (key local_port in [forward tb])); change one of them");
	free(p);

	p = new_profile();
	cause = NULL;
	rc = profile_load_string(p, "[studio]\nid = abc\n[forward web]\nlocal_port = 9000\n"
	    "[forward x]\nlocal_port = 9000\nbind = 0.0.0.0\n", "t.ini", &cause);
	cause = NULL;
	expect_error("validate: two file forwards", profile_validate(p, &cause), &cause,
	    "local port 9000 is taken twice: forward web on 127.0.0.1 (t.ini:4 (key local_port "
	    "in [forward web])) and forward x on 0.0.0.0 (t.ini:6 (key local_port in "
	    "[forward x])); change one of them");
	free(p);

	p = new_profile();
	cause = NULL;
	profile_load_string(p, "[studio]\nid = abc\ndefault_forwards = no\n", "t.ini", &cause);
	free(cause);
	cause = NULL;
	expect_error("validate: no forwards", profile_validate(p, &cause), &cause,
	    "t.ini: no forwards: add a [forward NAME] section, set default_forwards = yes, or "
	    "give -L");
	cause = NULL;
	profile_add_forward(p, "9000:localhost:9000", &cause);
	cause = NULL;
	expect_ok("validate: -L alone is enough", profile_validate(p, &cause), &cause);
	free(p);
}

static void
test_user_home(void)
{
	struct profile	*p = new_profile();
	char		 buf[PATH_MAX];

	UNIT_CHECK("user: none", strcmp(profile_user(p, buf, sizeof buf), "") == 0, "got '%s'",
	    buf);
	snprintf(p->studio_id, sizeof p->studio_id, "abc");
	UNIT_CHECK("user: from id", strcmp(profile_user(p, buf, sizeof buf), "s_abc") == 0,
	    "got '%s'", buf);
	snprintf(p->user, sizeof p->user, "bob");
	UNIT_CHECK("user: explicit wins", strcmp(profile_user(p, buf, sizeof buf), "bob") == 0,
	    "wrong user");
	free(p);

	setenv("HOME", "/h/me", 1);
	UNIT_CHECK("expand ~/x", paths_expand("~/x", buf, sizeof buf) != NULL &&
	    strcmp(buf, "/h/me/x") == 0, "got '%s'", buf);
	UNIT_CHECK("expand ~", paths_expand("~", buf, sizeof buf) != NULL &&
	    strcmp(buf, "/h/me") == 0, "got '%s'", buf);
	UNIT_CHECK("expand /abs", paths_expand("/abs", buf, sizeof buf) != NULL &&
	    strcmp(buf, "/abs") == 0, "got '%s'", buf);
	UNIT_CHECK("expand ~user untouched", paths_expand("~bob/x", buf, sizeof buf) !=
	    NULL && strcmp(buf, "~bob/x") == 0, "got '%s'", buf);
	UNIT_CHECK("expand: too small", paths_expand("~/x", buf, 5) == NULL, "not NULL");
	UNIT_CHECK("expand %d/x (libssh's ~/.ssh)", paths_expand("%d/k", buf, sizeof buf) != NULL &&
	    strcmp(buf, "/h/me/.ssh/k") == 0, "got '%s'", buf);
	/* HOME unset or empty: the password database, as for a daemon started bare. */
	{
		struct passwd	*pw = getpwuid(getuid());
		const char	*want = pw != NULL && pw->pw_dir[0] ? pw->pw_dir : "/";

		unsetenv("HOME");
		UNIT_CHECK("home: HOME unset is the passwd entry's", strcmp(paths_home(), want) == 0,
		    "got '%s', want '%s'", paths_home(), want);
		setenv("HOME", "", 1);
		UNIT_CHECK("home: HOME empty is the passwd entry's", strcmp(paths_home(), want) == 0,
		    "got '%s', want '%s'", paths_home(), want);
		setenv("HOME", "/", 1);
		UNIT_CHECK("expand with home /: ~/x is /x", paths_expand("~/x", buf, sizeof buf) !=
		    NULL && strcmp(buf, "/x") == 0, "got '%s'", buf);
		setenv("HOME", "/h/me", 1);
	}
}

static void
test_files(void)
{
	static const struct {
		unsigned	 mode;
		const char	*by, *file;	/* file: one tests/unit.c's cleanup removes */
	} writable[] = { { 0666, "everyone", "ww.ini" }, { 0620, "group", "gw.ini" } };
	struct profile	*p;
	char		 path[PATH_MAX + 64], want[PATH_MAX * 3], name[64], *cause;
	const char	*example;
	size_t		 i;
	int		 rc;

	p = new_profile();
	snprintf(path, sizeof path, "%s/nope.ini", unit_tmpdir);
	cause = NULL;
	snprintf(want, sizeof want, "cannot open profile %s: No such file or directory", path);
	expect_error("file: missing", profile_load_file(p, path, &cause), &cause, want);
	free(p);

	/* World- and group-writable alike, as OpenSSH refuses such a config file. */
	for (i = 0; i < sizeof writable / sizeof writable[0]; i++) {
		p = new_profile();
		snprintf(path, sizeof path, "%s/%s", unit_tmpdir, writable[i].file);
		write_file(path, "[studio]\nid = abc\n", writable[i].mode);
		cause = NULL;
		snprintf(want, sizeof want, "profile %s has mode %04o: writable by %s, refusing it "
		    "(fix: chmod go-w %s)", path, writable[i].mode, writable[i].by, path);
		snprintf(name, sizeof name, "file: writable by %s", writable[i].by);
		expect_error(name, profile_load_file(p, path, &cause), &cause, want);
		free(p);
	}

	p = new_profile();
	cause = NULL;
	snprintf(want, sizeof want, "profile %s is not a regular file", unit_tmpdir);
	expect_error("file: a directory", profile_load_file(p, unit_tmpdir, &cause), &cause, want);
	free(p);

	p = new_profile();
	snprintf(path, sizeof path, "%s/noread.ini", unit_tmpdir);
	write_file(path, "[studio]\nid = abc\n", 0);
	cause = NULL;
	if (geteuid() == 0) {
		printf("SKIP: file: unreadable: running as root\n");
		free(p);
	} else {
		snprintf(want, sizeof want, "cannot open profile %s: Permission denied", path);
		expect_error("file: unreadable", profile_load_file(p, path, &cause), &cause, want);
		free(p);
	}

	p = new_profile();
	snprintf(path, sizeof path, "%s/good.ini", unit_tmpdir);
	write_file(path, example_ini, 0600);
	cause = NULL;
	rc = profile_load_file(p, path, &cause);
	expect_ok("file: the example profile", rc, &cause);
	snprintf(want, sizeof want, "%s:22 (key local_port in [forward tensorboard])", path);
	UNIT_CHECK("file: origin has the path and line", find_fwd(p, "tensorboard") != NULL &&
	    strcmp(find_fwd(p, "tensorboard")->origin, want) == 0, "got '%s'",
	    find_fwd(p, "tensorboard") ? find_fwd(p, "tensorboard")->origin : "");
	UNIT_CHECK("file: path", strcmp(p->path, path) == 0, "got '%s'", p->path);
	free(p);

	p = new_profile();
	snprintf(path, sizeof path, "%s/bad.ini", unit_tmpdir);
	write_file(path, "[studio]\n; a comment\n\nid = abc\n\n[keepalive]\ninterval = soon\n",
	    0644);
	cause = NULL;
	snprintf(want, sizeof want, "%s:7: interval: expected a duration > 0 such as 5, 5s, 250ms "
	    "or 2m (at most 24h), got 'soon'", path);
	expect_error("file: error at its line", profile_load_file(p, path, &cause), &cause, want);
	free(p);

	/* The shipped example must load as-is and change nothing. */
	example = getenv("UNIT_EXAMPLE_INI");
	if (example == NULL)
		example = access("conf/example.ini", R_OK) == 0 ? "conf/example.ini" :
		    "../conf/example.ini";
	if (access(example, R_OK) != 0) {
		printf("SKIP: conf/example.ini loads: not found from %s\n", getcwd(path,
		    sizeof path) ? path : "here");
		return;
	}
	p = new_profile();
	cause = NULL;
	rc = profile_load_file(p, example, &cause);
	expect_ok("conf/example.ini loads", rc, &cause);
	UNIT_CHECK("conf/example.ini keeps every default", p->nforwards == 3 &&
	    p->studio_id[0] == '\0' && p->host[0] == '\0' && p->port == 0 &&
	    p->use_agent == 1 && p->keepalive_interval_ms == 5000 && p->hold_max == 64 &&
	    p->backoff_initial_ms == 250 && find_fwd(p, "api") != NULL &&
	    strcmp(find_fwd(p, "api")->health_path, "/debug.ping") == 0, "a default changed");
	free(p);
}

/* Lightning's generated block, and a catch-all that must not make every name a profile. */
static const char ssh_config[] =
    "Host my-studio\n"
    "  User s_abc\n"
    "  Hostname ssh.lightning.ai\n"
    "  IdentityFile ~/.ssh/lightning_rsa\n"
    "  IdentitiesOnly yes\n"
    "  ServerAliveInterval 15\n"
    "  ServerAliveCountMax 4\n"
    "  StrictHostKeyChecking no\n"
    "  UserKnownHostsFile /dev/null\n"
    "\n"
    "Host portonly\n"
    "  Port 2222\n"
    "\n"
    "Host *\n"
    "  User everyone\n"
    "  ServerAliveInterval 30\n";

static void
test_find(void)
{
	struct profile	*p;
	char		 home[PATH_MAX], xdg[PATH_MAX], cfg[PATH_MAX], dir[PATH_MAX],
			 path[PATH_MAX + 64], want[PATH_MAX * 3], *cause;
	int		 rc;

	snprintf(home, sizeof home, "%s/home", unit_tmpdir);
	snprintf(xdg, sizeof xdg, "%s/xdg", unit_tmpdir);
	snprintf(cfg, sizeof cfg, "%s/ssh_config", unit_tmpdir);
	mkdir(home, 0700);
	mkdir(xdg, 0700);
	snprintf(dir, sizeof dir, "%s/xdg/connect", unit_tmpdir);
	mkdir(dir, 0700);
	write_file(cfg, ssh_config, 0600);
	setenv("HOME", home, 1);
	setenv("CONNECT_SSH_CONFIG", cfg, 1);

	unsetenv("XDG_CONFIG_HOME");
	profile_path("x", path, sizeof path);
	snprintf(want, sizeof want, "%s/.config/connect/x.ini", home);
	UNIT_CHECK("path: HOME", strcmp(path, want) == 0, "got '%s'", path);
	setenv("XDG_CONFIG_HOME", "relative", 1);
	profile_path("x", path, sizeof path);
	UNIT_CHECK("path: relative XDG ignored", strcmp(path, want) == 0, "got '%s'", path);
	setenv("XDG_CONFIG_HOME", xdg, 1);
	profile_path("x", path, sizeof path);
	snprintf(want, sizeof want, "%s/connect/x.ini", xdg);
	UNIT_CHECK("path: XDG", strcmp(path, want) == 0, "got '%s'", path);

	/* An ini file wins. */
	snprintf(path, sizeof path, "%s/connect/lab.ini", xdg);
	write_file(path, "[studio]\nid = lab01\n", 0600);
	p = new_profile();
	cause = NULL;
	rc = profile_find(p, "lab", &cause);
	expect_ok("find: ini file", rc, &cause);
	UNIT_CHECK("find: ini file fields", strcmp(p->name, "lab") == 0 &&
	    strcmp(p->path, path) == 0 && strcmp(p->studio_id, "lab01") == 0 &&
	    p->from_ssh_config == 0, "name '%s' path '%s'", p->name, p->path);
	free(p);

	/* No file: the Host block. */
	p = new_profile();
	cause = NULL;
	rc = profile_find(p, "my-studio", &cause);
	expect_ok("find: ssh config Host block", rc, &cause);
	UNIT_CHECK("find: ssh config profile", strcmp(p->name, "my-studio") == 0 &&
	    strcmp(p->host, "my-studio") == 0 && p->from_ssh_config == 1 && p->path[0] == '\0' &&
	    p->nforwards == 3 && p->studio_id[0] == '\0', "host '%s' from %d path '%s'", p->host,
	    p->from_ssh_config, p->path);
	snprintf(want, sizeof want, "built-in default (set local_port in a [forward web] section "
	    "of %s/connect/my-studio.ini)", xdg);
	UNIT_CHECK("find: ssh config origin names the ini to create", strcmp(p->forwards[0].origin,
	    want) == 0, "got '%s'", p->forwards[0].origin);
	cause = NULL;
	expect_ok("find: ssh config profile validates", profile_validate(p, &cause), &cause);
	free(p);

	p = new_profile();
	cause = NULL;
	expect_ok("find: a Host block setting only Port", profile_find(p, "portonly", &cause),
	    &cause);
	free(p);

	/* Neither: "Host *" with a User does not count. */
	p = new_profile();
	cause = NULL;
	snprintf(want, sizeof want, "no profile 'other': %s/connect/other.ini does not exist and "
	    "%s has no 'Host other' block (create one with: connect init other --id STUDIO_ID)",
	    xdg, cfg);
	expect_error("find: nothing", profile_find(p, "other", &cause), &cause, want);
	free(p);

	unsetenv("CONNECT_SSH_CONFIG");
	unsetenv("XDG_CONFIG_HOME");
	p = new_profile();
	cause = NULL;
	rc = profile_find(p, "connect-unit-no-such-profile", &cause);
	/* The file by its real path: the one $HOME names, which is the one read. */
	snprintf(want, sizeof want, "/.config/connect/connect-unit-no-such-profile.ini does not "
	    "exist and %s/.ssh/config has no 'Host connect-unit-no-such-profile' block",
	    paths_home());
	UNIT_CHECK("find: message names $HOME/.ssh/config", rc == -1 && cause != NULL &&
	    strstr(cause, want) != NULL, "got '%s'", cause != NULL ? cause : "");
	free(cause);
	free(p);
	setenv("CONNECT_SSH_CONFIG", cfg, 1);
	setenv("XDG_CONFIG_HOME", xdg, 1);

	/* A world-writable profile is refused on the way. */
	snprintf(path, sizeof path, "%s/connect/open.ini", xdg);
	write_file(path, "[studio]\nid = abc\n", 0646);
	p = new_profile();
	cause = NULL;
	snprintf(want, sizeof want, "profile %s has mode 0646: writable by everyone, refusing it "
	    "(fix: chmod go-w %s)", path, path);
	expect_error("find: world-writable", profile_find(p, "open", &cause), &cause, want);
	free(p);
	unlink(path);

	/* Names that are not file names. */
	p = new_profile();
	cause = NULL;
	expect_error("find: name with a slash", profile_find(p, "../etc/x", &cause), &cause,
	    "bad profile name '../etc/x': use letters, digits, '.', '_' and '-' (at most 128)");
	cause = NULL;
	expect_error("find: empty name", profile_find(p, "", &cause), &cause,
	    "bad profile name '': use letters, digits, '.', '_' and '-' (at most 128)");
	cause = NULL;
	expect_error("find: name with a space", profile_find(p, "my studio", &cause), &cause,
	    "bad profile name 'my studio': use letters, digits, '.', '_' and '-' (at most 128)");
	free(p);

	snprintf(path, sizeof path, "%s/connect/lab.ini", xdg);
	unlink(path);
	unlink(cfg);
	rmdir(dir);
	rmdir(xdg);
	rmdir(home);
}

/* The Studio id as Lightning shows it, in every form a user pastes. */
static void
test_studio_id(void)
{
	static const struct {
		const char	*in, *want;	/* want NULL: refused */
	} cases[] = {
		{ "01kem22xtq9zcsd56hsvk42nfv", "01kem22xtq9zcsd56hsvk42nfv" },
		{ "s_01kem22xtq9zcsd56hsvk42nfv", "01kem22xtq9zcsd56hsvk42nfv" },
		{ "s_01kem22xtq9zcsd56hsvk42nfv@ssh.lightning.ai", "01kem22xtq9zcsd56hsvk42nfv" },
		{ "s_01kem@SSH.Lightning.AI", "01kem" },
		{ "ssh s_01kem@ssh.lightning.ai", "01kem" },
		{ "  s_01kem  ", "01kem" },
		{ "01kem@ssh.lightning.ai", "01kem" },
		{ "demo", "demo" },
		{ "s_x@example.com", NULL },
		{ "s_x@ssh.lightning.ai.evil", NULL },
		{ "s_", NULL },
		{ "a/b", NULL },
		{ "x y", NULL },
		{ "", NULL },
		{ "s_@ssh.lightning.ai", NULL },
	};
	char	out[160], name[128];
	size_t	i;
	int	rc;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		rc = profile_studio_id(cases[i].in, out, sizeof out);
		snprintf(name, sizeof name, "profile_studio_id '%s'", cases[i].in);
		if (cases[i].want == NULL)
			UNIT_CHECK(name, rc == -1, "accepted as '%s'", out);
		else
			UNIT_CHECK(name, rc == 0 && strcmp(out, cases[i].want) == 0,
			    "rc %d, got '%s', want '%s'", rc, rc == 0 ? out : "", cases[i].want);
	}
}

void
unit_profile(void)
{
	test_studio_id();
	test_defaults();
	test_load_example();
	test_load_good();
	test_load_bad();
	test_load_long();
	test_validate();
	test_user_home();
	test_files();
	test_find();
}
