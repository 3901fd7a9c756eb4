/*
 * unit-pressure.c: tables for what must hold under pressure and hostile
 * input: text from outside made printable (vis.c) and valid JSON
 * (status.c), the log's repeat guard
 * (log.c), the TCP timers of a long keepalive (session.c), a control client
 * whose instance vanished (control.c), and a start racing a reader's shared
 * lock on a stale pid file (instance.c).
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compat.h"
#include "control.h"
#include "instance.h"
#include "log.h"
#include "session.h"
#include "status.h"
#include "unit.h"
#include "vis.h"

/* Escaped: control bytes, C1, broken UTF-8; kept: ASCII and real UTF-8. */
static void
test_vis(void)
{
	static const struct {
		const char	*in, *want;
	} cases[] = {
		{ "plain text: 127.0.0.1:22", "plain text: 127.0.0.1:22" },
		{ "SSH-1.5-\033]0;owned-title\007\033[2J\033[31mFAKE PROMPT$ ",
		    "SSH-1.5-\\x1b]0;owned-title\\x07\\x1b[2J\\x1b[31mFAKE PROMPT$ " },
		{ "line\nbreak\r", "line\\x0abreak\\x0d" },
		{ "tab\there", "tab here" },
		{ "del\177", "del\\x7f" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91" },
		{ "c1 csi \xc2\x9b" "31m", "c1 csi \\xc2\\x9b31m" },	/* U+009B: a terminal's CSI */
		{ "raw csi \x9b" "2J", "raw csi \\x9b2J" },
		{ "overlong \xc0\xaf", "overlong \\xc0\\xaf" },
		{ "surrogate \xed\xa0\x80", "surrogate \\xed\\xa0\\x80" },
		{ "cut \xe2\x82", "cut \\xe2\\x82" },
		{ "", "" },
	};
	char	out[256], name[64], small[8];
	size_t	i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(name, sizeof name, "vis_str case %zu", i);
		vis_str(out, sizeof out, cases[i].in);
		UNIT_CHECK(name, strcmp(out, cases[i].want) == 0, "got \"%s\", want \"%s\"", out,
		    cases[i].want);
		snprintf(name, sizeof name, "vis_needed case %zu", i);
		UNIT_CHECK(name, vis_needed(cases[i].in) == (strcmp(cases[i].in,
		    cases[i].want) != 0), "said %d", vis_needed(cases[i].in));
	}
	/* Cut at a whole escape: never half of "\x1b" (which a terminal would not act on anyway). */
	vis_str(small, sizeof small, "ab\033\033");
	UNIT_CHECK("vis_str cuts at a whole escape", strcmp(small, "ab\\x1b") == 0, "got \"%s\"",
	    small);
}

/* Is s valid UTF-8 without a raw control byte (C0, DEL, C1)? What a strict JSON parser takes. */
static int
json_clean(const char *s)
{
	unsigned int	cp;
	size_t		n;

	while (*s != '\0') {
		if ((unsigned char)*s < 0x80) {
			if ((unsigned char)*s < 0x20 || *s == 0x7f)
				return 0;
			s++;
		} else if ((n = vis_utf8_decode(s, &cp)) == 0 || cp <= 0x9f)
			return 0;
		else
			s += n;
	}
	return 1;
}

/* status --json: every string from outside (names, paths, errors, the login) valid UTF-8. */
static void
test_status_json(void)
{
	struct supervisor_info	 in;
	struct status_where	 where = { "/p/bad\xff\xfe.ini", "/run/bad\xff\xfe.log" };
	struct evbuffer		*b = evbuffer_new();
	char			 out[2048];
	size_t			 n;

	memset(&in, 0, sizeof in);
	in.state_name = "ready";
	in.session_age_s = -1;
	in.last_error = "banner SSH-1.5-\033]0;x\007 \xc2\x9b \xc0\xaf caf\xc3\xa9 \xe2\x82";
	in.user = "s_\xff";
	in.host = "h\"q\\";
	in.port = 22;
	status_format(b, "bad\xff\xfe", 1, &in, &where, 1);
	n = evbuffer_get_length(b);
	if (n >= sizeof out)
		n = sizeof out - 1;
	evbuffer_remove(b, out, n);
	out[n] = '\0';
	UNIT_CHECK("status --json is valid UTF-8, no raw control", json_clean(out), "got %s", out);
	UNIT_CHECK("status --json: U+FFFD for each bad byte of a name",
	    strstr(out, "\"name\":\"bad\\ufffd\\ufffd\"") != NULL, "got %s", out);
	UNIT_CHECK("status --json: the profile and log paths too",
	    strstr(out, "\"profile\":\"/p/bad\\ufffd\\ufffd.ini\"") != NULL &&
	    strstr(out, "\"log\":\"/run/bad\\ufffd\\ufffd.log\"") != NULL, "got %s", out);
	UNIT_CHECK("status --json: controls as \\u00XX (C1 too), UTF-8 kept, cut sequence U+FFFD",
	    strstr(out, "SSH-1.5-\\u001b]0;x\\u0007 \\u009b \\ufffd\\ufffd caf\xc3\xa9 "
	    "\\ufffd\\ufffd\"") != NULL, "got %s", out);
	UNIT_CHECK("status --json: the login escaped",
	    strstr(out, "\"login\":\"s_\\ufffd@h\\\"q\\\\:22\"") != NULL, "got %s", out);
	evbuffer_drain(b, evbuffer_get_length(b));
	status_format_stopped(b, "x\xf5\x80");
	n = evbuffer_remove(b, out, sizeof out - 1);
	out[n > 0 ? n : 0] = '\0';
	UNIT_CHECK("status --json of a stopped name", strcmp(out,
	    "{\"name\":\"x\\ufffd\\ufffd\",\"state\":\"stopped\"}") == 0, "got %s", out);
	evbuffer_free(b);
}

/* Read the whole file at path into buf (NUL-terminated). Returns the length, or -1. */
static long
slurp(const char *path, char *buf, size_t len)
{
	FILE	*f;
	size_t	 n;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return (long)n;
}

static int
count_lines(const char *s)
{
	int	n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/* Log at info level to dir/name (its path in path, PATH_MAX). Returns 0, or -1 (a FAIL said). */
static int
log_to_test_file(char *path, const char *dir, const char *name)
{
	snprintf(path, PATH_MAX, "%s/%s", dir, name);
	log_open("unit", LOGL_INFO, NULL);
	if (log_to_file(path) != 0) {
		UNIT_FAIL("log_to_file", "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* A loop logging one line forever writes it once and counts the rest. */
static void
test_log_repeats(const char *dir)
{
	char	path[PATH_MAX], buf[16384];
	int	i;

	if (log_to_test_file(path, dir, "repeats.log") != 0)
		return;
	for (i = 0; i < 100000; i++)
		log_warn("control socket: accept failed: %s", strerror(EMFILE));
	log_info("something else");
	log_info("a \033]0;title\007 from a server");
	log_close();
	if (slurp(path, buf, sizeof buf) < 0) {
		UNIT_FAIL("log: read back", "%s: %s", path, strerror(errno));
		return;
	}
	UNIT_CHECK("log: 100000 equal lines in a burst are written as 2", count_lines(buf) == 4,
	    "%d lines:\n%s", count_lines(buf), buf);
	UNIT_CHECK("log: the burst's count is written", strstr(buf,
	    "accept failed: Too many open files (repeated 99999 times)") != NULL, "log:\n%s", buf);
	UNIT_CHECK("log: the next line follows the count", strstr(buf, "info: something else") !=
	    NULL && strstr(buf, "repeated") < strstr(buf, "something else"), "log:\n%s", buf);
	UNIT_CHECK("log: server text is escaped", strstr(buf, "a \\x1b]0;title\\x07 from") != NULL &&
	    strchr(buf, '\033') == NULL && strchr(buf, '\007') == NULL, "log:\n%s", buf);

	/* Equal lines further apart than a burst are events: each is written. */
	unlink(path);
	log_to_file(path);
	log_info("reconnected");
	usleep(1100 * 1000);
	log_info("reconnected");
	log_info("reconnected");	/* within the burst: counted */
	log_close();
	slurp(path, buf, sizeof buf);
	UNIT_CHECK("log: equal lines a second apart are both written, a quick third counted",
	    count_lines(buf) == 3 && strstr(buf, "reconnected (repeated 1 time)") != NULL,
	    "log:\n%s", buf);
	unlink(path);
	log_open("unit", LOGL_INFO, NULL);
}

/*
 * Lines that mean the same but differ in bytes (libssh's channel number): a
 * keyed line is written once a LOG_KEY_QUIET_S, the rest counted; other keys
 * and the line guard go on as before.
 */
static void
test_log_keyed(const char *dir)
{
	char	path[PATH_MAX], buf[16384];
	int	i;

	if (log_to_test_file(path, dir, "keyed.log") != 0)
		return;
	for (i = 0; i < 1000; i++) {
		log_warn_key("refused web (2) Connect failed", "forward web: channel refused: "
		    "channel %d error (2) Connect failed", 40 + i);
		if (i % 100 == 0)
			log_warn_key("refused api (2) Connect failed", "forward api: channel refused: "
			    "channel %d error (2) Connect failed", 7 + i);
	}
	log_info("something else");
	log_close();
	slurp(path, buf, sizeof buf);
	UNIT_CHECK("log: 1000 refusals of one meaning, 10 of another: one line each, then at "
	    "close the last of each with its count", count_lines(buf) == 5 &&
	    strstr(buf, "channel 40 error") != NULL && strstr(buf, "channel 7 error") != NULL &&
	    strstr(buf, "channel 1039 error (2) Connect failed (998 more like it") != NULL &&
	    strstr(buf, "channel 907 error (2) Connect failed (8 more like it") != NULL,
	    "%d lines:\n%s", count_lines(buf), buf);
	UNIT_CHECK("log: a keyed line's held-back count comes after the lines written meanwhile",
	    strstr(buf, "something else") != NULL &&
	    strstr(buf, "something else") < strstr(buf, "more like it"), "log:\n%s", buf);
	unlink(path);
	log_open("unit", LOGL_INFO, NULL);
}

/* interval x (count + 1) in 64 bits, then capped; each timer within the kernel's bounds. */
static void
test_tcp_timers(void)
{
	static const struct {
		int	interval_ms, count;
		int	idle_s, cnt, user_timeout_ms;
	} cases[] = {
		{ 5000, 3, 5, 3, 20000 },
		{ 1500, 2, 2, 2, 4500 },
		{ 360 * 60 * 1000, 100, 21600, 100, INT_MAX },	/* 2.18e9: past INT_MAX */
		{ 86400000, 100, 32767, 100, INT_MAX },		/* the longest interval a profile takes */
		{ 86400000, 1, 32767, 1, 172800000 },
		{ 0, 3, 30, 3, 0 },				/* keepalive off */
	};
	struct session_tcp_timers	tt;
	char				name[96];
	size_t				i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		session_tcp_timers(cases[i].interval_ms, cases[i].count, &tt);
		snprintf(name, sizeof name, "session_tcp_timers %d ms x %d", cases[i].interval_ms,
		    cases[i].count);
		UNIT_CHECK(name, tt.idle_s == cases[i].idle_s && tt.intvl_s == cases[i].idle_s &&
		    tt.cnt == cases[i].cnt && tt.user_timeout_ms == cases[i].user_timeout_ms,
		    "got idle %d intvl %d cnt %d user_timeout %d", tt.idle_s, tt.intvl_s, tt.cnt,
		    tt.user_timeout_ms);
	}
}

/* A request to an instance that closed before reading is an error, not a SIGPIPE death. */
static void
test_control_sigpipe(void)
{
	struct sigaction	old, dfl;
	int			sv[2], rc, err;

	memset(&dfl, 0, sizeof dfl);
	dfl.sa_handler = SIG_DFL;
	sigaction(SIGPIPE, &dfl, &old);		/* as a program that never heard of SIGPIPE */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) {
		UNIT_FAIL("control_send_request: socketpair", "%s", strerror(errno));
		sigaction(SIGPIPE, &old, NULL);
		return;
	}
	close(sv[1]);				/* the instance went away */
	rc = control_send_request(sv[0], "status");
	err = errno;
	close(sv[0]);
	sigaction(SIGPIPE, &old, NULL);
	UNIT_CHECK("control_send_request to a closed peer: -1 with EPIPE, no signal",
	    rc == -1 && err == EPIPE, "rc %d errno %s", rc, strerror(err));
}

/*
 * A stale pid file (its pid another process's) while status or list holds
 * the shared lock for a moment: a start must wait the moment out and take
 * the lock, not report "already running".
 */
static void
test_instance_reader(const char *dir)
{
	struct instance	 in, held;
	char		 runtime[PATH_MAX], *cause = NULL;
	pid_t		 holder = 0, reader;
	int		 fd, rc, pfd[2], status;
	char		 c;

	snprintf(runtime, sizeof runtime, "%s/xdg", dir);
	setenv("XDG_RUNTIME_DIR", runtime, 1);
	mkdir(runtime, 0700);
	if (instance_init(&in, "stale", &cause) != 0) {
		UNIT_FAIL("instance_init", "%s", cause != NULL ? cause : "?");
		free(cause);
		return;
	}
	if ((fd = open(in.pid_path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    write(fd, "1\n", 2) != 2) {
		UNIT_FAIL("instance: stale pid file", "%s: %s", in.pid_path, strerror(errno));
		return;
	}
	close(fd);
	if (pipe(pfd) != 0 || (reader = fork()) == -1) {
		UNIT_FAIL("instance: fork", "%s", strerror(errno));
		return;
	}
	if (reader == 0) {	/* status: a shared lock for 150 ms */
		close(pfd[0]);
		fd = open(in.pid_path, O_RDONLY);
		if (fd == -1 || flock(fd, LOCK_SH) != 0)
			_exit(1);
		(void)write(pfd[1], "x", 1);
		usleep(150 * 1000);
		_exit(0);
	}
	close(pfd[1]);
	(void)read(pfd[0], &c, 1);	/* the reader holds its lock now */
	close(pfd[0]);
	rc = instance_claim(&in, &holder, &cause);
	waitpid(reader, &status, 0);
	UNIT_CHECK("instance_claim: a reader's shared lock on a stale pid file is waited out",
	    rc == 0, "rc %d, holder %ld, %s", rc, (long)holder, cause != NULL ? cause : "");
	free(cause);
	cause = NULL;
	/* And a real holder (an exclusive lock) is still reported at once, with its pid. */
	if (rc == 0) {
		instance_write_pid(&in, getpid(), NULL);
		memcpy(&held, &in, sizeof held);
		held.pid_fd = -1;
		rc = instance_claim(&held, &holder, &cause);
		UNIT_CHECK("instance_claim: a running instance is reported", rc == 1 &&
		    holder == getpid(), "rc %d holder %ld", rc, (long)holder);
		free(cause);
		instance_release(&in);
	}
	unsetenv("XDG_RUNTIME_DIR");
	rmdir(in.dir);
	rmdir(runtime);
}

/* The pid file of a claimed instance names it from the claim on, and stays whole and locked. */
static void
test_instance_pid_whole(const char *dir)
{
	struct instance	 in, other;
	char		 runtime[PATH_MAX], buf[32], want[32], *cause = NULL;
	pid_t		 holder = 0;
	int		 fd, rc;
	ssize_t		 n;
	DIR		*d;
	struct dirent	*de;
	int		 extra = 0;

	snprintf(runtime, sizeof runtime, "%s/xdg2", dir);
	setenv("XDG_RUNTIME_DIR", runtime, 1);
	mkdir(runtime, 0700);
	if (instance_init(&in, "whole", &cause) != 0 || instance_claim(&in, &holder, &cause) != 0) {
		UNIT_FAIL("instance_claim", "%s", cause != NULL ? cause : "?");
		free(cause);
		return;
	}
	snprintf(want, sizeof want, "%ld\n", (long)getpid());
	n = -1;
	if ((fd = open(in.pid_path, O_RDONLY)) != -1) {
		n = read(fd, buf, sizeof buf - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = '\0';
	UNIT_CHECK("instance_claim: the pid file names us from the claim on", strcmp(buf, want) == 0,
	    "read '%s'", buf);
	UNIT_CHECK("instance_running: a claimed instance's pid", instance_running(&in) == getpid(),
	    "got %ld", (long)instance_running(&in));
	/* The daemon's pid replaces it whole, and the lock is held throughout. */
	rc = instance_write_pid(&in, 424242, &cause);
	memcpy(&other, &in, sizeof other);
	other.pid_fd = -1;
	UNIT_CHECK("instance_write_pid: the new pid, still locked", rc == 0 &&
	    instance_running(&in) == 424242 && instance_claim(&other, &holder, &cause) == 1 &&
	    holder == 424242, "rc %d, running %ld, holder %ld, %s", rc,
	    (long)instance_running(&in), (long)holder, cause != NULL ? cause : "");
	free(cause);
	cause = NULL;
	/* No temporary file left next to it. */
	if ((d = opendir(in.dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
			    strcmp(de->d_name, "whole.pid") != 0)
				extra++;
		}
		closedir(d);
	}
	UNIT_CHECK("instance: no temporary pid file left", extra == 0, "%d other files", extra);
	instance_release(&in);
	UNIT_CHECK("instance_release: the pid file is gone", access(in.pid_path, F_OK) == -1,
	    "%s still there", in.pid_path);
	unsetenv("XDG_RUNTIME_DIR");
	rmdir(in.dir);
	rmdir(runtime);
}

/* compat_open_fds lists what is open (a pipe's two ends) and not what was closed. */
static void
test_open_fds(void)
{
	int	p[2], *fds = NULL, n, i, seen0 = 0, seen1 = 0, low = 1;

	if (pipe(p) != 0) {
		UNIT_FAIL("compat_open_fds: pipe", "%s", strerror(errno));
		return;
	}
	close(p[1]);
	n = compat_open_fds(3, &fds);
	for (i = 0; i < n; i++) {
		seen0 += fds[i] == p[0];
		seen1 += fds[i] == p[1];
		if (fds[i] < 3 || (i > 0 && fds[i] <= fds[i - 1]))
			low = 0;
	}
	UNIT_CHECK("compat_open_fds: the open end listed once, the closed one not, >= 3, ascending",
	    n > 0 && seen0 == 1 && seen1 == 0 && low, "n %d, read end %d, write end %d", n, seen0,
	    seen1);
	free(fds);
	close(p[0]);
}

void
unit_pressure(const char *dir)
{
	test_vis();
	test_status_json();
	test_log_repeats(dir);
	test_log_keyed(dir);
	test_tcp_timers();
	test_control_sigpipe();
	test_instance_reader(dir);
	test_instance_pid_whole(dir);
	test_open_fds();
}
