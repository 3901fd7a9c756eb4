/*
 * cmd-up.c: `connect [NAME]`: run the tunnel in the foreground until Ctrl-C
 * or SIGTERM, or with -d verify it end to end and leave it running in the
 * background. Either way the instance registers in the runtime directory
 * (locked pid file, control socket) so that status and stop find it.
 */
#include <sys/types.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "cmd.h"
#include <libssh/libssh.h>

#include "cause.h"
#include "compat.h"
#include "control.h"
#include "instance.h"
#include "log.h"
#include "notify.h"
#include "paths.h"
#include "status.h"
#include "supervisor.h"

/* One run of the tunnel: what the foreground and the background daemon share. */
struct up {
	struct cmd_opts		*o;
	struct profile		*p;
	struct event_base	*base;
	struct supervisor	*sup;
	struct instance		 inst;
	struct control		*ctl;
	struct event		*ev_sig[3];	/* INT, TERM, HUP */
	int			 ready_fd;	/* -d: pipe to the waiting parent, -1 once told */
	int			 ready;		/* the verification has reported */
	int			 said_urls;	/* the URLs were logged (foreground) */
	int			 hup_ends;	/* SIGHUP is the terminal hanging up: stop */
	int			*inherited;	/* -d: the caller's fds (>= 3), closed in the daemon */
	int			 ninherited;
	char			 log_abs[PATH_MAX];	/* --log made absolute (the daemon is in /) */
};

/*
 * Before the event loop takes the signals over: a signal that ends us while
 * we start (connect stop, Ctrl-C at the passphrase prompt) must leave the
 * terminal as it was (libssh's prompt turns echo off and restores it only on
 * return) and no pid file naming a dead process. Only async-signal-safe
 * calls in the handler; the state it needs is set up before it is installed.
 */
static struct termios		up_tty;
static volatile sig_atomic_t	up_tty_saved;
static char			up_pid_path[PATH_MAX];
static char			up_sig_msg[300];
static size_t			up_sig_msg_len;
static volatile pid_t		up_child;	/* -d parent: the daemon, until it reported */

static void
up_startup_signal(int sig)
{
	int	err = errno;

	if (up_tty_saved)
		(void)tcsetattr(STDIN_FILENO, TCSANOW, &up_tty);
	if (up_pid_path[0] != '\0')
		(void)unlink(up_pid_path);	/* ours: we hold its lock */
	if (up_sig_msg_len > 0)
		(void)write(STDERR_FILENO, up_sig_msg, up_sig_msg_len);
	signal(sig, SIG_DFL);
	errno = err;
	raise(sig);	/* the exit status says which signal, as the default would */
}

/*
 * Was SIGHUP ignored when we started (nohup)? Asked once, before any handler
 * of ours replaces that disposition: start-up's and the loop's both do.
 */
static int
up_hup_ignored_at_start(void)
{
	static int	checked, ignored;
	struct sigaction sa;

	if (!checked) {
		ignored = sigaction(SIGHUP, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN;
		checked = 1;
	}
	return ignored;
}

/* Install up_startup_signal for INT, TERM and HUP (the pid file is ours from now on). */
static void
up_startup_signals(struct up *u)
{
	struct sigaction	sa;
	int			n;

	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &up_tty) == 0)
		up_tty_saved = 1;
	snprintf(up_pid_path, sizeof up_pid_path, "%s", u->inst.pid_path);
	n = snprintf(up_sig_msg, sizeof up_sig_msg, "%sconnect: %s: stopped while starting\n",
	    up_tty_saved ? "\n" : "", u->p->name);
	up_sig_msg_len = n > 0 && (size_t)n < sizeof up_sig_msg ? (size_t)n : 0;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = up_startup_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (!up_hup_ignored_at_start())	/* under nohup a hangup stops nothing */
		sigaction(SIGHUP, &sa, NULL);
}

/*
 * -d parent while the daemon starts: the pid file may still name us (the
 * daemon replaces it first thing), so connect stop may signal us, and Ctrl-C
 * comes to us: either way the daemon must stop, not come up with nobody
 * waiting for it. We then wait for its verdict ("stopped before ready").
 */
static void
up_forward_signal(int sig)
{
	int	err = errno;

	(void)sig;
	if (up_child > 0)
		(void)kill(up_child, SIGTERM);
	errno = err;
}

static void
up_signal(evutil_socket_t sig, short what, void *arg)
{
	struct up	*u = arg;

	(void)what;
	if (sig == SIGHUP && !u->hup_ends) {
		switch (log_reopen()) {
		case 0:
			log_info("log reopened (SIGHUP)");
			break;
		case 1:
			/* Someone's kill -HUP (not a hangup: see up_run): there is nothing to do. */
			log_debug("SIGHUP: logging to %s, no log file to reopen; going on",
			    u->o->use_syslog ? "syslog" : "stderr");
			break;
		default:
			log_warn("cannot reopen the log file: %s", strerror(errno));
			break;
		}
		return;
	}
	if (notify_enabled())
		notify_send("STOPPING=1");
	supervisor_shutdown(u->sup, sig == SIGINT ? "interrupted" : sig == SIGHUP ?
	    "hangup (SIGHUP: the terminal closed)" : "terminated");
}

/* -d: tell the waiting parent "CODE reason" once; it exits with CODE. */
static void
up_tell_parent(struct up *u, int code, const char *reason)
{
	char	line[1400];
	int	n;

	if (u->ready_fd == -1)
		return;
	n = snprintf(line, sizeof line, "%d %s\n", code, reason);
	if (n > (int)sizeof line - 1)
		n = (int)sizeof line - 1;
	(void)write(u->ready_fd, line, (size_t)n);
	close(u->ready_fd);
	u->ready_fd = -1;
}

/* -d: a readiness round failed; tell the waiting parent ("~ why"), which shows it on a terminal. */
static void
up_progress(struct supervisor *sup, const char *why, void *arg)
{
	struct up	*u = arg;
	char		 line[1400];
	int		 n;

	(void)sup;
	if (u->ready_fd == -1)
		return;
	n = snprintf(line, sizeof line, "~ %s\n", why);
	if (n > (int)sizeof line - 1)
		n = (int)sizeof line - 1;
	(void)write(u->ready_fd, line, (size_t)n);
}

/*
 * The verification's verdict: every forward's remote end accepts a channel
 * and every health path answers 200 (code 0), or why not.
 */
static void
up_verified(struct supervisor *sup, int code, const char *reason, void *arg)
{
	struct up	*u = arg;
	char		 msg[1400];

	(void)sup;
	if (u->ready)
		return;
	if (code != 0 && u->o->background) {
		/* -d gives up with the reason and leaves nothing running. */
		up_tell_parent(u, code, reason);
		supervisor_shutdown(u->sup, reason);
		return;
	}
	u->ready = 1;
	if (code != 0) {
		/* The foreground keeps the tunnel: it is up, a service behind it is not (yet). */
		log_warn("not every forward is ready after %d s: %s", u->o->wait_s, reason);
		if (notify_enabled()) {
			snprintf(msg, sizeof msg, "READY=1\nSTATUS=degraded: %s", reason);
			notify_send(msg);
		}
		return;
	}
	log_info("ready: every forward answers");
	/* From now on the tunnel outlives refusals: they are retried at the cap, shown in status. */
	if (u->o->background)
		supervisor_set_persistent(u->sup, 1);
	up_tell_parent(u, 0, "ready");
	if (notify_enabled()) {
		snprintf(msg, sizeof msg, "READY=1\nSTATUS=ready: %zu forwards", u->p->nforwards);
		notify_send(msg);
	}
}

/* Systemd's status line follows the tunnel's state once it has been ready. */
static void
up_state(struct supervisor *sup, enum supervisor_state st, void *arg)
{
	struct up		*u = arg;
	struct supervisor_info	 in;
	char			 msg[1400];

	(void)sup;
	/* The first session up: say where to go (foreground; -d's parent prints them). */
	if (st == SUP_READY && !u->said_urls && !u->o->background) {
		char	urls[512];

		u->said_urls = 1;
		if (cmd_urls(u->p, urls, sizeof urls) > 0)
			log_info("open %s", urls);
	}
	if (!notify_enabled() || !u->ready)
		return;
	supervisor_info(u->sup, &in);
	snprintf(msg, sizeof msg, "STATUS=%s%s%s", in.state_name,
	    in.last_error[0] && st != SUP_READY ? ": " : "", st != SUP_READY ? in.last_error : "");
	notify_send(msg);
}

/* The control socket's requests. */
static int
up_control(enum control_request req, struct evbuffer *reply, void *arg)
{
	struct up		*u = arg;
	struct supervisor_info	 in;
	struct status_where	 where;

	switch (req) {
	case CTL_REQ_STATUS:
	case CTL_REQ_STATUS_JSON:
		supervisor_info(u->sup, &in);
		where.profile = u->p->path;
		where.log = u->o->use_syslog ? "syslog" : u->o->log_file != NULL ? u->o->log_file :
		    u->o->background ? u->inst.log_path : "stderr (foreground)";
		status_format(reply, u->p->name, getpid(), &in, &where, req == CTL_REQ_STATUS_JSON);
		evbuffer_add(reply, "\n", 1);
		return 0;
	case CTL_REQ_STATE:
		evbuffer_add_printf(reply, "%s\n", supervisor_state_name(supervisor_state(u->sup)));
		return 0;
	case CTL_REQ_STOP:
		evbuffer_add_printf(reply, "stopping %ld\n", (long)getpid());
		return 1;	/* up_control_after, once the reply is out */
	case CTL_REQ_INVALID:
		break;
	}
	evbuffer_add_printf(reply, "error unknown request\n");
	return 0;
}

static void
up_control_after(void *arg)
{
	struct up	*u = arg;

	if (notify_enabled())
		notify_send("STOPPING=1");
	supervisor_shutdown(u->sup, "stop requested (connect stop)");
}

/* Signals, control socket, start. Returns 0 or an exit code (with a message printed or logged). */
static int
up_run(struct up *u)
{
	static const int	 sigs[3] = { SIGINT, SIGTERM, SIGHUP };
	char			*cause = NULL;
	int			 i;

	/*
	 * SIGHUP means two things. To a daemon, or to a run logging to a file, it
	 * is logrotate's "reopen your log" (sshd and syslogd give it a meaning of
	 * their own, as there is no terminal to hang up). To a foreground run
	 * logging to its terminal it is that terminal hanging up (the window
	 * closed, the login's ssh dropped): ssh -L and tmux's client end then,
	 * and so does this, as on SIGTERM, rather than hold the ports unseen
	 * with a dead stderr. As ssh does, not when SIGHUP was ignored at start
	 * (nohup). Without a terminal (the journal, a pipe) a SIGHUP is someone's
	 * kill -HUP: nothing to reopen, a debug line; ending there would stop a
	 * systemd unit that Restart=on-failure does not bring back.
	 */
	if (!u->o->background && u->o->log_file == NULL && !u->o->use_syslog &&
	    isatty(STDERR_FILENO))
		u->hup_ends = !up_hup_ignored_at_start();
	for (i = 0; i < 3; i++) {
		u->ev_sig[i] = evsignal_new(u->base, sigs[i], up_signal, u);
		if (u->ev_sig[i] != NULL)
			evsignal_add(u->ev_sig[i], NULL);
	}
	if ((u->ctl = control_listen(u->base, u->inst.sock_path, up_control, up_control_after, u,
	    &cause)) == NULL) {
		log_error("%s", cause);
		up_tell_parent(u, EX_CANTCREAT, cause);
		free(cause);
		return EX_CANTCREAT;
	}
	supervisor_set_state_cb(u->sup, up_state, u);
	supervisor_start(u->sup);
	/*
	 * -d and systemd wait for readiness; a plain foreground run does not
	 * open probe connections to every remote service. Services still
	 * starting on the Studio are probed again each second until --wait.
	 */
	if ((u->o->background || notify_enabled()) &&
	    supervisor_verify(u->sup, u->o->wait_s * 1000, SUP_VERIFY_RETRY, up_verified, u) != 0) {
		up_tell_parent(u, EX_OSERR, "out of memory");
		return EX_OSERR;
	}
	if (u->o->background)
		supervisor_verify_progress(u->sup, up_progress);
	event_base_dispatch(u->base);
	if (!u->ready)
		up_tell_parent(u, supervisor_exit_code(u->sup) ? supervisor_exit_code(u->sup) :
		    EX_SOFTWARE, supervisor_error(u->sup)[0] ? supervisor_error(u->sup) :
		    "stopped before it was ready");
	return supervisor_exit_code(u->sup);
}

static void
up_free(struct up *u)
{
	int	i;

	for (i = 0; i < 3; i++) {
		if (u->ev_sig[i] != NULL)
			event_free(u->ev_sig[i]);
	}
	control_free(u->ctl);
	supervisor_free(u->sup);
	if (u->base != NULL)
		event_base_free(u->base);
}

/*
 * -d while an instance of NAME runs: fine if it is ready (entrypoints call
 * -d again and again); else wait for it up to --wait.
 */
static int
up_already_running(struct cmd_opts *o, struct instance *in, pid_t pid)
{
	struct timespec	t0, now;
	char		state[CMD_STATE_MAX] = "starting";

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if ((pid = instance_running(in)) == 0) {
			fprintf(stderr, "connect: %s: the running instance went away; start it again\n",
			    in->name);
			return EX_TEMPFAIL;
		}
		if (cmd_instance_state(in, state) == 0 && strcmp(state, "ready") == 0) {
			printf("%s: already running (pid %ld)\n", in->name, (long)pid);
			return 0;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec >= o->wait_s)
			break;
		usleep(200000);
	}
	fprintf(stderr, "connect: %s: already running (pid %ld) but not ready within %d s (%s); "
	    "see connect status %s\n", in->name, (long)pid, o->wait_s, state, in->name);
	return EX_TEMPFAIL;
}

/* -d parent: wait for the daemon's verdict and exit with it. */
static int
up_parent_wait(struct up *u, pid_t child, int fd)
{
	struct pollfd	pfd;
	char		line[1400];
	size_t		len = 0;
	ssize_t		n;
	int		code, off = 0, status, waited, tty = isatty(STDERR_FILENO);
	long		left_ms = (long)(u->o->wait_s + 30) * 1000;
	char		last[1400] = "";

	/*
	 * The daemon keeps its own --wait deadline; ours is only a backstop.
	 * "~ why" lines are rounds that failed (a service still starting):
	 * shown on a terminal, each new reason once; the verdict ends it.
	 */
	for (;;) {
		char	*nl;

		while ((nl = memchr(line, '\n', len)) != NULL && len >= 2 && line[0] == '~') {
			*nl = '\0';
			if (tty && strcmp(line + 2, last) != 0) {
				fprintf(stderr, "connect: %s: not ready yet: %s (still trying, up to "
				    "%d s)\n", u->p->name, line + 2, u->o->wait_s);
				snprintf(last, sizeof last, "%s", line + 2);
			}
			len -= (size_t)(nl + 1 - line);
			memmove(line, nl + 1, len);
		}
		if (memchr(line, '\n', len) != NULL || len >= sizeof line - 1)
			break;
		pfd.fd = fd;
		pfd.events = POLLIN;
		if ((n = poll(&pfd, 1, (int)left_ms)) == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if ((n = read(fd, line + len, sizeof line - 1 - len)) <= 0)
			break;
		len += (size_t)n;
	}
	line[len] = '\0';
	close(fd);
	if (len > 0 && sscanf(line, "%d %n", &code, &off) == 1 && off > 0) {
		line[strcspn(line, "\n")] = '\0';
		if (code == 0) {
			char	urls[512];

			printf("%s: ready (pid %ld); log: %s\n", u->p->name, (long)child,
			    u->o->use_syslog ? "syslog" : u->o->log_file ? u->o->log_file :
			    u->inst.log_path);
			if (cmd_urls(u->p, urls, sizeof urls) > 0)
				printf("open %s\n", urls);
			return 0;
		}
		fprintf(stderr, "connect: %s: %s\n", u->p->name, line + off);
	}
	/* Not ready: it is stopping; make sure nothing is left running. */
	for (waited = 0; waited < 100; waited++) {
		if (waitpid(child, &status, WNOHANG) == child)
			break;
		usleep(100000);
	}
	if (waited == 100) {
		kill(child, SIGKILL);
		waitpid(child, &status, 0);
	}
	if (len == 0 || off == 0) {
		/* No verdict: a signal (connect stop while it started?) or a crash ended it. */
		if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL) {
			code = EX_TEMPFAIL;
			fprintf(stderr, "connect: %s: stopped before it was ready (signal %d%s)\n",
			    u->p->name, WTERMSIG(status), WTERMSIG(status) == SIGTERM ?
			    ": connect stop?" : "");
		} else {
			code = EX_SOFTWARE;
			fprintf(stderr, "connect: %s: the background process ended without a word "
			    "(see %s)\n", u->p->name, u->o->log_file ? u->o->log_file :
			    u->inst.log_path);
		}
	} else if (waited < 100 && WIFEXITED(status))
		return code;	/* it exited by itself, its files removed */
	/* It could not clean up after itself: its files have no lock holder now. */
	{
		pid_t	holder;
		char	*cause = NULL;

		if (instance_claim(&u->inst, &holder, &cause) == 0)
			instance_release(&u->inst);
		free(cause);
	}
	return code;
}

/* -d child: detach from the terminal and the parent's session, log to the file. */
static int
up_daemonize(struct up *u)
{
	const char	*logp = u->o->log_file ? u->o->log_file : u->inst.log_path;
	char		 reason[PATH_MAX + 64];
	int		 fd;

	char		*cause = NULL;
	int		 i;

	if (setsid() == -1 || event_reinit(u->base) != 0) {
		up_tell_parent(u, EX_OSERR, "cannot detach (setsid/event_reinit)");
		return EX_OSERR;
	}
	up_tty_saved = 0;	/* the terminal is the parent's to restore */
	/* First: until now the pid file names the parent (which passes a stop on to us). */
	if (instance_write_pid(&u->inst, getpid(), &cause) != 0) {
		snprintf(reason, sizeof reason, "%s", cause != NULL ? cause :
		    "cannot write the pid file");
		free(cause);
		up_tell_parent(u, EX_CANTCREAT, reason);
		return EX_CANTCREAT;
	}
	if (u->o->use_syslog)
		log_to_syslog();
	else if (log_to_file(logp) != 0) {
		snprintf(reason, sizeof reason, "cannot open the log %s: %s", logp, strerror(errno));
		up_tell_parent(u, EX_CANTCREAT, reason);
		return EX_CANTCREAT;
	}
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	/*
	 * Let go of what the caller gave us: a pipe's write end held here keeps
	 * its reader from ever seeing EOF (`connect -d x 3>&1 | cat` would never
	 * return), and the launch directory could never be unmounted. These
	 * numbers were open when we started and we never closed them, so none
	 * of them is one of ours.
	 */
	for (i = 0; i < u->ninherited; i++)
		(void)close(u->inherited[i]);
	if (chdir("/") == -1)
		log_warn("cannot change to /: %s", strerror(errno));
	log_info("started in the background (pid %ld)", (long)getpid());
	return 0;
}

static int
cmd_up_exec(struct cmd_opts *o)
{
	struct up	 u;
	struct profile	*p;
	char		*cause = NULL;
	pid_t		 holder, child;
	sigset_t	 block, saved;
	int		 rc, pfd[2];

	memset(&u, 0, sizeof u);
	u.o = o;
	u.ready_fd = -1;
	u.inst.pid_fd = -1;	/* not ours: instance_release at out must not close fd 0 */
	if (o->argc > 1) {
		fprintf(stderr, "connect: one profile at a time (got '%s' and '%s')\n", o->argv[0],
		    o->argv[1]);
		return EX_USAGE;
	}
	if ((p = u.p = calloc(1, sizeof *p)) == NULL)
		return EX_OSERR;
	/* What we inherited, before we open anything (profile, lock, listeners) of our own. */
	if (o->background && (u.ninherited = compat_open_fds(STDERR_FILENO + 1, &u.inherited)) < 0) {
		fprintf(stderr, "connect: out of memory\n");
		rc = EX_OSERR;
		goto out;
	}
	if ((rc = cmd_load_profile(o, o->argc > 0 ? o->argv[0] : NULL, p)) != 0)
		goto out;
	if (instance_init(&u.inst, p->name, &cause) != 0) {
		fprintf(stderr, "connect: %s\n", cause);
		rc = EX_CANTCREAT;
		goto out;
	}
	if ((rc = instance_claim(&u.inst, &holder, &cause)) != 0) {
		if (rc == -1) {
			fprintf(stderr, "connect: %s\n", cause);
			rc = EX_CANTCREAT;
		} else if (o->background)
			rc = up_already_running(o, &u.inst, holder);
		else {
			fprintf(stderr, "connect: %s: already running (pid %ld): connect stop %s first, "
			    "or connect status %s\n", p->name, (long)holder, p->name, p->name);
			rc = EX_CANTCREAT;
		}
		goto out;
	}
	up_startup_signals(&u);
	/* A relative --log must name the same file after the daemon's chdir("/") and on SIGHUP. */
	if (o->log_file != NULL) {
		if (paths_absolute(o->log_file, u.log_abs, sizeof u.log_abs) == NULL) {
			fprintf(stderr, "connect: --log %s: path too long, or the current directory "
			    "cannot be named\n", o->log_file);
			rc = EX_CANTCREAT;
			goto out;
		}
		o->log_file = u.log_abs;
	}
	/* status shows the profile's path: the daemon's cwd is no help to a reader of a relative one. */
	if (p->path[0] != '\0' && p->path[0] != '/') {
		char	abs[PATH_MAX];

		if (paths_absolute(p->path, abs, sizeof abs) != NULL)
			snprintf(p->path, sizeof p->path, "%s", abs);
	}
	compat_tune_malloc();
	log_route_libraries();
	if (o->log_file != NULL && !o->background && log_to_file(o->log_file) != 0) {
		fprintf(stderr, "connect: cannot open the log %s: %s\n", o->log_file,
		    strerror(errno));
		rc = EX_CANTCREAT;
		goto out;
	}
	if (o->use_syslog && !o->background)
		log_to_syslog();
	if ((u.base = event_base_new()) == NULL || (u.sup = supervisor_new(u.base, p)) == NULL) {
		fprintf(stderr, "connect: out of memory\n");
		rc = EX_OSERR;
		goto out;
	}
	/* Load the key (a passphrase is asked here, on the terminal) and bind, before any fork. */
	if ((rc = supervisor_prepare(u.sup, &cause)) != 0 ||
	    (rc = supervisor_bind(u.sup, &cause)) != 0) {
		fprintf(stderr, "connect: %s\n", cause != NULL ? cause : "cannot start");
		goto out;
	}
	if (!o->background) {
		rc = up_run(&u);	/* the pid file has named us since the claim */
		goto out;
	}
	/* A stop or Ctrl-C between the fork and the parent's handler would lose the daemon. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &saved);
	if (pipe(pfd) == -1 || (child = fork()) == -1) {
		fprintf(stderr, "connect: cannot start the background process: %s\n",
		    strerror(errno));
		sigprocmask(SIG_SETMASK, &saved, NULL);
		rc = EX_OSERR;
		goto out;
	}
	if (child > 0) {
		struct sigaction	sa;

		up_child = child;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = up_forward_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		signal(SIGHUP, SIG_DFL);	/* as before: a closed terminal does not stop the daemon */
		sigprocmask(SIG_SETMASK, &saved, NULL);
		close(pfd[1]);
		instance_forget(&u.inst);	/* the child holds the lock now (flock is shared) */
		rc = up_parent_wait(&u, child, pfd[0]);
		goto out;
	}
	/* The daemon: the start-up handler (it removes our pid file) until the event loop's. */
	sigprocmask(SIG_SETMASK, &saved, NULL);
	close(pfd[0]);
	u.ready_fd = pfd[1];
	if ((rc = up_daemonize(&u)) == 0)
		rc = up_run(&u);
out:
	instance_release(&u.inst);	/* a no-op where we do not hold the lock */
	up_free(&u);
	free(cause);
	free(p);
	free(u.inherited);
	ssh_finalize();
	return rc;
}

const struct cmd_entry cmd_up_entry = {
	.name = "up",
	.usage = "[up] [-d [--wait SECS]] NAME",
	.summary = "run the tunnel (the default command): in the foreground, or verified and in "
	    "the background with -d",
	.help =
	    "The global options (connect --help) apply: -F, --id, -l, -p, -i, -c, -L, -v.\n"
	    "  -d, --background  connect, bind, verify that every forward's remote end accepts a\n"
	    "                 channel and that health paths answer 200, then leave the tunnel\n"
	    "                 running in the background and exit 0; -d again is a no-op\n"
	    "  --wait SECS    with -d: give up after SECS (default 60) and leave nothing running\n"
	    "  --log FILE     log to FILE (background default: RUNTIME/NAME.log); SIGHUP reopens it\n"
	    "  --syslog       log to syslog\n"
	    "\n"
	    "Runtime files: $XDG_RUNTIME_DIR/connect/ (else /tmp/connect-$UID/): NAME.pid, NAME.sock,\n"
	    "NAME.log. Under systemd (NOTIFY_SOCKET set) READY=1 is sent once the tunnel is ready.\n"
	    "\n"
	    "exit status: 0 stopped (or -d: ready), 64 usage, 66 known_hosts unreadable, 69 gave up /\n"
	    "  remote port not listening / health failing, 71 out of fds, 73 port busy or already\n"
	    "  running, 75 not ready within --wait, 76 host key, 77 auth or key file, 78 profile error.\n",
	.globals = 1,
	.exec = cmd_up_exec,
};
