/* log.c: timestamps, levels, one line per message, libssh and libevent routed in. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <libssh/callbacks.h>
#include <libssh/libssh.h>

#include "log.h"

static FILE		*log_out;
static int		 log_out_owned;		/* log_out is our file: close it on reopen */
static char		 log_path[PATH_MAX];
static int		 log_syslog;
static enum log_level	 log_level = LOGL_INFO;
static char		 log_ident[32] = "connect";

static const char *const log_names[] = { "error", "warn", "info", "debug", "trace" };

void
log_open(const char *ident, enum log_level level, FILE *out)
{
	if (ident != NULL)
		snprintf(log_ident, sizeof log_ident, "%s", ident);
	log_out = out;
	log_set_level(level);
}

int
log_to_file(const char *path)
{
	FILE	*f;
	int	 fd;

	if (strlen(path) >= sizeof log_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* 0600: a log names hosts, users and key fingerprints (never keys or passphrases). */
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return -1;
	if ((f = fdopen(fd, "a")) == NULL) {
		close(fd);
		return -1;
	}
	if (log_out_owned && log_out != NULL)
		fclose(log_out);
	log_out = f;
	log_out_owned = 1;
	log_syslog = 0;
	if (log_path != path)
		snprintf(log_path, sizeof log_path, "%s", path);
	return 0;
}

int
log_reopen(void)
{
	if (!log_out_owned || log_path[0] == '\0')
		return 0;
	return log_to_file(log_path);
}

void
log_to_syslog(void)
{
	openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_USER);
	log_syslog = 1;
}

/* libssh's verbosity follows ours one step behind: its PROTOCOL level is only useful at -vv. */
void
log_set_level(enum log_level level)
{
	int	ssh_level;

	if (level > LOGL_TRACE + 1)
		level = LOGL_TRACE + 1;
	log_level = level;
	if (level <= LOGL_INFO)
		ssh_level = SSH_LOG_NOLOG;
	else if (level == LOGL_DEBUG)
		ssh_level = SSH_LOG_WARNING;
	else if (level == LOGL_TRACE)
		ssh_level = SSH_LOG_PROTOCOL;
	else
		ssh_level = SSH_LOG_PACKET;
	ssh_set_log_level(ssh_level);
}

enum log_level
log_get_level(void)
{
	return log_level > LOGL_TRACE ? LOGL_TRACE : log_level;
}

int
log_enabled(enum log_level level)
{
	return level <= log_level;
}

/* The attribute lets clang's -Wformat-nonliteral see fmt is checked at each log_*() call. */
static void	log_vwrite(enum log_level level, const char *func, const char *fmt, va_list ap)
		    __attribute__((format(printf, 3, 0)));

static void
log_vwrite(enum log_level level, const char *func, const char *fmt, va_list ap)
{
	FILE		*f = log_out != NULL ? log_out : stderr;
	struct timeval	 tv;
	struct tm	 tm;
	char		 ts[32], msg[2048];
	size_t		 n;

	if (!log_enabled(level))
		return;
	if (log_syslog) {
		static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG, LOG_DEBUG };

		vsnprintf(msg, sizeof msg, fmt, ap);
		syslog(prio[level], "%s: %s", log_names[level], msg);
		return;
	}
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", &tm);
	vsnprintf(msg, sizeof msg, fmt, ap);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	/* Function names help developers, not users: only from -v on. */
	if (log_level >= LOGL_DEBUG && func != NULL)
		fprintf(f, "%s.%03d %s[%ld] %s: %s: %s\n", ts, (int)(tv.tv_usec / 1000),
		    log_ident, (long)getpid(), log_names[level], func, msg);
	else
		fprintf(f, "%s.%03d %s: %s: %s\n", ts, (int)(tv.tv_usec / 1000),
		    log_ident, log_names[level], msg);
	fflush(f);
}

void
log_write(enum log_level level, const char *func, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(level, func, fmt, ap);
	va_end(ap);
}

/* libssh: its WARNING is our debug (it warns about things we handle), the rest is trace. */
static void
log_from_libssh(int priority, const char *function, const char *buffer, void *userdata)
{
	(void)userdata;
	log_write(priority <= SSH_LOG_WARNING ? LOGL_DEBUG : LOGL_TRACE,
	    function, "libssh: %s", buffer);
}

static void
log_from_libevent(int severity, const char *msg)
{
	enum log_level	level;

	switch (severity) {
	case EVENT_LOG_ERR:
		level = LOGL_ERROR;
		break;
	case EVENT_LOG_WARN:
		level = LOGL_WARN;
		break;
	case EVENT_LOG_MSG:
		level = LOGL_DEBUG;
		break;
	default:
		level = LOGL_TRACE;
		break;
	}
	log_write(level, NULL, "libevent: %s", msg);
}

void
log_route_libraries(void)
{
	ssh_set_log_callback(log_from_libssh);
	ssh_set_log_userdata(NULL);
	event_set_log_callback(log_from_libevent);
}
