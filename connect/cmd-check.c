/*
 * cmd-check.c: `connect check NAME`: walk the chain from the profile to each
 * forward's service and stop at the first broken link, with a fix hint.
 *
 * profile -> key -> known_hosts are checked here without any network; dns ->
 * tcp -> handshake -> auth are the steps of one real session (session.c's
 * state machine, the same code as the tunnel), each printed as the session
 * reaches the next state, a failure mapped to the step the session was in;
 * then every forward is probed through it (probe.c). Nothing local is bound
 * (check works while the tunnel itself runs) and known_hosts is not written.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <event2/dns.h>
#include <event2/event.h>
#include <libssh/libssh.h>

#include "clock.h"
#include "cmd.h"
#include "identity.h"
#include "instance.h"
#include "forward.h"
#include "compat.h"
#include "knownhosts.h"
#include "log.h"
#include "paths.h"
#include "probe.h"
#include "session.h"

struct check {
	const struct profile	*p;
	struct session_target	 t;
	struct session_auth	 auth;
	int			 known;		/* known_hosts has an entry for the target */
	struct event_base	*base;
	struct evdns_base	*dns;
	struct session		*sess;
	struct session_callbacks scb;
	enum session_state	 last;		/* the state before DEAD: which step failed */
	struct timespec		 t_connect;
	struct probe		*probe[PROFILE_MAX_FORWARDS];
	size_t			 probes_left;
	int			 rc;
};


/* "step         ok    what": the same columns for every step. */
static void
step_ok(const char *step, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
step_ok(const char *step, const char *fmt, ...)
{
	va_list	ap;

	printf("%-12s ok    ", step);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* The failing step, its fix on the next line; returns code. */
static int
step_fail(int code, const char *step, const char *fix, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int
step_fail(int code, const char *step, const char *fix, const char *fmt, ...)
{
	va_list	ap;

	printf("%-12s FAIL  ", step);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n%-12s fix: %s\n", "", fix);
	fflush(stdout);
	return code;
}

/*
 * Each forward's local port: free, or held by this very tunnel (check runs
 * beside it); else the tunnel would fail with 73, so say so now and name the
 * holder where the system lets us see it. Returns 0 or EX_CANTCREAT.
 */
static int
check_ports(const struct profile *p)
{
	const struct forward_spec	*fs;
	struct instance			 in;
	char				 holder[128], step[FWDSPEC_NAME_MAX + 16];
	char				 fix[FWDSPEC_ORIGIN_MAX + 64];
	char				*cause = NULL;
	pid_t				 mine = 0;
	size_t				 i;
	int				 err, busy = 0;

	if (instance_init(&in, p->name, &cause) == 0)
		mine = instance_running(&in);
	free(cause);
	for (i = 0; i < p->nforwards; i++) {
		fs = &p->forwards[i];
		snprintf(step, sizeof step, "port %s", fs->name);
		if ((err = forward_port_free(fs)) == 0) {
			step_ok(step, "%s:%d is free", fs->bind_addr, fs->local_port);
			continue;
		}
		if (err == EADDRINUSE && mine > 0) {
			step_ok(step, "%s:%d: held by this tunnel, running (pid %ld)", fs->bind_addr,
			    fs->local_port, (long)mine);
			continue;
		}
		if (!forward_port_holder(fs, holder, sizeof holder))
			snprintf(holder, sizeof holder, "a program this user may not look at");
		snprintf(fix, sizeof fix, "stop what listens there, or change the port: %s",
		    fs->origin);
		busy = step_fail(EX_CANTCREAT, step, fix, "%s:%d is %s%s", fs->bind_addr,
		    fs->local_port, err == EADDRINUSE ? "in use by " : "not bindable: ",
		    err == EADDRINUSE ? holder : strerror(err));
		break;
	}
	return busy;
}

/* profile, key, known_hosts, local ports: no network. Returns 0 or the exit code. */
static int
check_local(struct check *c, struct cmd_opts *o, const char *name, struct profile *p)
{
	char	*cause = NULL, path[PATH_MAX], hname[PROFILE_STR_MAX + 16], keys[1024];
	char	 fix[2 * PATH_MAX + 2 * PROFILE_STR_MAX];
	const char *bad;
	int	 rc, agent, n, err;

	if ((rc = cmd_build_profile(o, name, p, &cause)) != 0) {
		if (rc == EX_USAGE) {
			fprintf(stderr, "connect: %s\n", cause != NULL ? cause : "bad command line");
			free(cause);
			return rc;
		}
		if (o->profile_file == NULL && name != NULL &&
		    profile_path(name, path, sizeof path) < (int)sizeof path &&
		    access(path, F_OK) == -1) {
			snprintf(fix, sizeof fix, "create it: connect init %s --id STUDIO_ID (or add "
			    "a 'Host %s' block to ~/.ssh/config)", name, name);
			step_fail(rc, "profile", fix, "%s", cause != NULL ? cause : "not found");
		} else
			step_fail(rc, "profile", "edit the profile where the message says (every "
			    "key is described in example.ini)", "%s", cause != NULL ? cause :
			    "bad profile");
		free(cause);
		return rc;
	}
	if (session_target_resolve(p, &c->t, &cause) != 0) {
		rc = step_fail(EX_CONFIG, "profile", "set id (or user) in [studio] of the profile",
		    "%s", cause != NULL ? cause : "no SSH target");
		free(cause);
		return rc;
	}
	c->t.hostkey_readonly = 1;	/* check records nothing; the tunnel does on first connect */
	step_ok("profile", "%s (%s@%s port %d, %zu forward%s)", p->path[0] ? p->path :
	    p->from_ssh_config ? "Host block of ~/.ssh/config" : "command line", c->t.user,
	    c->t.hostname, c->t.port, p->nforwards, p->nforwards == 1 ? "" : "s");

	agent = c->t.use_agent && getenv("SSH_AUTH_SOCK") != NULL &&
	    getenv("SSH_AUTH_SOCK")[0] != '\0';
	if ((rc = identity_load(c->t.identity, agent, isatty(STDIN_FILENO), &c->auth,
	    &cause)) != 0) {
		step_fail(rc, "key", "the key is identity = in [studio] of the profile (or "
		    "IdentityFile in ~/.ssh/config); 'lightning ssh configure' writes "
		    "~/.ssh/lightning_rsa, 'lightning studio ssh' ~/.lightning/lightning_rsa", "%s", cause != NULL ? cause : "unusable identity");
		free(cause);
		return rc;
	}
	step_ok("key", "%s", c->auth.desc);

	knownhosts_name(c->t.hostname, c->t.port, hname, sizeof hname);
	if ((n = knownhosts_recorded(c->t.known_hosts, hname, keys, sizeof keys, &bad)) == -1) {
		err = errno;
		return step_fail(paths_errno_is_shortage(err) ? EX_OSERR : EX_NOINPUT,
		    "known_hosts", paths_errno_is_shortage(err) ? "raise the open-files limit "
		    "(ulimit -n)" : "make it readable (or set known_hosts = in [studio] to a file "
		    "you can read)", "cannot read %s: %s: the host key cannot be checked", bad,
		    strerror(err));
	}
	c->known = n > 0;
	if (c->known)
		step_ok("known_hosts", "%s %s", hname, keys);
	else if (c->t.hostkey_policy == HOSTKEY_STRICT) {
		snprintf(fix, sizeof fix, "record the key once you trust its fingerprint: "
		    "ssh-keyscan -p %d %s >> %s (or set host_key_policy = accept-new in [studio])",
		    c->t.port, c->t.hostname, c->t.known_hosts);
		return step_fail(EX_PROTOCOL, "known_hosts", fix, "%s: unknown in %s, and "
		    "host_key_policy is strict", hname, c->t.known_hosts);
	} else
		step_ok("known_hosts", "%s unknown: will be recorded on first connect (accept-new)",
		    hname);
	return check_ports(p);
}

/* The session died before every forward was probed: name the step it was in. */
static void
check_session_failed(struct check *c)
{
	enum session_failure	 f = session_failure(c->sess);
	const char		*why = session_error(c->sess), *step, *fix;
	int			 code = session_failure_exit_code(f);

	switch (c->last) {
	case SESSION_NEW:
	case SESSION_RESOLVING:
		step = "dns";
		fix = "check the host name (host = in [studio], or HostName in ~/.ssh/config) "
		    "and that this machine can resolve names";
		break;
	case SESSION_CONNECTING:
		step = "tcp";
		fix = "is the SSH server reachable on that port? (port = in [studio]; a "
		    "firewall, VPN or proxy in the way? connect_timeout in [reconnect])";
		break;
	case SESSION_HANDSHAKE:
		step = "handshake";
		fix = f == SFAIL_HOSTKEY_CHANGED ? "if the Studio's key really changed, remove the "
		    "old entry as shown, then run check again" : f == SFAIL_HOSTKEY_UNKNOWN ?
		    "record the key (ssh-keyscan) or set host_key_policy = accept-new" :
		    "is that port an SSH server? (if it refuses our ciphers: ciphers = in [studio])";
		break;
	case SESSION_AUTH:
		step = "auth";
		fix = f == SFAIL_AUTH ? "is this key's .pub registered with the Studio (lightning.ai "
		    "settings, or 'lightning ssh configure')? is the user (id / user in [studio]) "
		    "right?" : "the server stopped answering during authentication: try again";
		break;
	default:
		return;		/* lost while probing: the probes report it */
	}
	c->rc = step_fail(code, step, fix, "%s", why);
}

static void
check_probe_done(struct probe *p, void *arg)
{
	struct check	*c = arg;

	(void)p;
	if (--c->probes_left == 0)
		event_base_loopexit(c->base, NULL);
}

static void
check_start_probes(struct check *c)
{
	size_t	i;

	c->probes_left = c->p->nforwards + 1;	/* + 1: a probe may end inside probe_start */
	for (i = 0; i < c->p->nforwards; i++) {
		c->probe[i] = probe_start(c->base, c->sess, &c->p->forwards[i],
		    c->t.connect_timeout_ms, check_probe_done, c);
		if (c->probe[i] == NULL) {
			c->rc = EX_OSERR;
			fprintf(stderr, "connect: out of memory\n");
			event_base_loopexit(c->base, NULL);
			return;
		}
	}
	check_probe_done(NULL, c);
}

static void
check_session_state(struct session *sess, enum session_state st, void *arg)
{
	struct check	*c = arg;

	switch (st) {
	case SESSION_CONNECTING:
		step_ok("dns", "%s -> %s", c->t.hostname, session_addresses(sess));
		clock_mark(&c->t_connect);
		break;
	case SESSION_HANDSHAKE:
		step_ok("tcp", "%s in %.0f ms", session_peer(sess), clock_since_s(&c->t_connect) * 1000);
		break;
	case SESSION_AUTH:
		if (c->known)
			step_ok("handshake", "host key matches known_hosts (%s)",
			    session_hostkey(sess));
		else
			step_ok("handshake", "host key %s is new: accepted, not recorded by check",
			    session_hostkey(sess));
		break;
	case SESSION_READY:
		step_ok("auth", "%s with %s", c->t.user, session_auth_used(sess));
		check_start_probes(c);
		break;
	case SESSION_DEAD:
		probe_session_lost_all(c->probe, c->p->nforwards, NULL);	/* channels die with it */
		check_session_failed(c);
		event_base_loopexit(c->base, NULL);
		return;
	default:
		break;
	}
	c->last = st;
}

static void
check_session_pumped(struct session *sess, void *arg)
{
	struct check	*c = arg;

	probe_pump_all(c->probe, c->p->nforwards, sess);
}

/* In profile order, up to the first failure. */
static void
check_report_forwards(struct check *c)
{
	const struct forward_spec	*fs;
	struct probe			*pr;
	char				 step[FWDSPEC_NAME_MAX + 16], fix[FWDSPEC_HOST_MAX + 320];
	size_t				 i;

	for (i = 0; i < c->p->nforwards && c->rc == 0; i++) {
		if ((pr = c->probe[i]) == NULL)
			return;
		fs = &c->p->forwards[i];
		snprintf(step, sizeof step, "forward %s", fs->name);
		switch (probe_result(pr)) {
		case PROBE_OK:
			step_ok(step, "%s", probe_message(pr));
			continue;
		case PROBE_REFUSED:
			snprintf(fix, sizeof fix, "is the service running on the Studio, listening "
			    "on %s port %d? (for ClearML: docker ps there); or correct remote_host / "
			    "remote_port in [forward %s]", fs->remote_host, fs->remote_port, fs->name);
			break;
		case PROBE_HTTP_STATUS:
		case PROBE_BAD_REPLY:
			snprintf(fix, sizeof fix, "the port answers but the service is not healthy: "
			    "look at its logs on the Studio (for ClearML: docker ps, docker logs); "
			    "health = in [forward %s] sets or disables this check", fs->name);
			break;
		case PROBE_TIMEOUT:
			snprintf(fix, sizeof fix, "the service is slow or stuck (still starting?): "
			    "run check again; the limit is connect_timeout in [reconnect]");
			break;
		default:
			snprintf(fix, sizeof fix, "the SSH session dropped during the check: run it "
			    "again");
			break;
		}
		c->rc = step_fail(probe_exit_code(pr), step, fix, "%s", probe_message(pr));
	}
}

static int
check_remote(struct check *c)
{
	size_t	i;

	c->scb.state_changed = check_session_state;
	c->scb.pumped = check_session_pumped;
	if ((c->base = event_base_new()) == NULL) {
		fprintf(stderr, "connect: out of memory\n");
		return EX_OSERR;
	}
	c->dns = session_dns_new(c->base);	/* the tunnel's resolver, the tunnel's way */
	if (c->dns == NULL || (c->sess = session_new(c->base, c->dns, &c->t, &c->auth, &c->scb,
	    c)) == NULL) {
		fprintf(stderr, "connect: out of memory\n");
		c->rc = EX_OSERR;
	} else {
		(void)session_start(c->sess);	/* a failure arrives through the state callback */
		event_base_dispatch(c->base);
		check_report_forwards(c);
	}
	/* Probes first: their channels belong to the session. */
	for (i = 0; i < c->p->nforwards; i++)
		probe_free(c->probe[i]);
	session_free(c->sess);
	if (c->dns != NULL)
		evdns_base_free(c->dns, 0);
	event_base_free(c->base);
	return c->rc;
}

static int
cmd_check_exec(struct cmd_opts *o)
{
	struct check	 c;
	struct profile	*p;
	const char	*name = NULL;
	int		 i, rc;

	/* Our only option is --help (getopt is main.c's, and resetting it is not portable). */
	for (i = 0; i < o->argc; i++) {
		if (o->argv[i][0] == '-' || name != NULL) {
			fprintf(stderr, "connect: check: unexpected '%s' (global options go before "
			    "'check'; one profile at a time; connect check --help)\n", o->argv[i]);
			return EX_USAGE;
		}
		name = o->argv[i];
	}
	/* The step lines are the output; -v brings the log back, as for the tunnel. */
	log_set_level(o->verbose > 0 ? (enum log_level)(LOGL_INFO + o->verbose) : LOGL_WARN);
	log_route_libraries();
	if ((p = calloc(1, sizeof *p)) == NULL)
		return EX_OSERR;
	memset(&c, 0, sizeof c);
	c.p = p;
	if ((rc = check_local(&c, o, name, p)) == 0)
		rc = check_remote(&c);
	ssh_key_free(c.auth.privkey);
	ssh_key_free(c.auth.pubkey);
	free(p);
	ssh_finalize();
	return rc;
}

const struct cmd_entry cmd_check_entry = {
	.name = "check",
	.usage = "check NAME",
	.summary = "check every link from profile to services; stop at the first broken one",
	.help =
	    "Checks each link from the profile to the services on the Studio, one line per step,\n"
	    "and stops at the first broken one with a hint: profile, key, known_hosts, each local\n"
	    "port (free, or this tunnel's; else who holds it), dns, tcp, handshake, auth, then\n"
	    "each forward: its remote port must accept a channel and its\n"
	    "health path (if any) answer HTTP 200 within connect_timeout. Binds no local port (the\n"
	    "tunnel may be running) and writes no file (a new host key is not recorded).\n"
	    "The global options (-F, --id, -l, -p, -i, -c, -L, -v) apply.\n"
	    "\n"
	    "exit status: 0 every step passed; otherwise that of the failing step: 78 profile,\n"
	    "  77 key or auth, 76 host key, 66 known_hosts unreadable, 71 out of fds, 73 a local\n"
	    "  port in use, 69 dns, tcp, handshake, remote port or health, 75 a service did not\n"
	    "  answer in time.\n",
	.globals = 1,
	.exec = cmd_check_exec,
};
