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
#include "vis.h"

static FILE		*log_out;
static int		 log_out_owned;		/* log_out is our file: close it on reopen */
static char		 log_path[PATH_MAX];
static int		 log_syslog;
static enum log_level	 log_level = LOGL_INFO;
static char		 log_ident[32] = "connect";

static const char *const log_names[] = { "error", "warn", "info", "debug", "trace" };

/*
 * The repeat guard: a line equal to the one before (same level, same text)
 * within LOG_BURST_MS of it is counted, not written; the count goes out as
 * "TEXT (repeated N times)" when another line comes, at log_close(), or every
 * LOG_REPEAT_FLUSH_S while the burst lasts. A loop that fails in a tight
 * circle then writes one line every LOG_REPEAT_FLUSH_S, not a disk's worth.
 * Lines further apart than LOG_BURST_MS are each written: events, not a loop.
 */
#define LOG_BURST_MS		1000
#define LOG_REPEAT_FLUSH_S	10

static struct {
	enum log_level	 level;
	char		 func[64];
	char		 msg[2048];
	unsigned long	 count;		/* repeats not written yet */
	double		 last_seen;	/* monotonic seconds */
	double		 last_written;
} log_rep;

/*
 * The keyed guard (log_write_key): a few keys at a time, the least recently
 * written one replaced. Each holds the last line not written and how many
 * there were, said with the next line of that key or at log_close().
 */
#define LOG_KEYS	16

static struct log_key {
	enum log_level	 level;
	char		 key[160];
	char		 func[64];
	char		 last[1024];	/* the last line not written */
	unsigned long	 count;		/* lines not written since last_written */
	double		 last_written;
} log_keys[LOG_KEYS];

static void	log_emit(enum log_level level, const char *func, const char *msg);
static void	log_flush_repeats(void);
static void	log_flush_keys(void);

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
	log_flush_repeats();	/* into the old destination, where the first copy went */
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
	/* stderr, a stream given to log_open, or syslog (which a file opened before gave way to). */
	if (log_syslog || !log_out_owned || log_path[0] == '\0')
		return 1;
	return log_to_file(log_path);
}

void
log_close(void)
{
	log_flush_repeats();
	log_flush_keys();
	if (log_out_owned && log_out != NULL)
		fclose(log_out);
	log_out = NULL;
	log_out_owned = 0;
}

void
log_to_syslog(void)
{
	log_flush_repeats();
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

static double
log_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Write one finished, printable line to the destination. */
static void
log_emit(enum log_level level, const char *func, const char *msg)
{
	FILE		*f = log_out != NULL ? log_out : stderr;
	struct timeval	 tv;
	struct tm	 tm;
	char		 ts[32];

	if (log_syslog) {
		static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG, LOG_DEBUG };

		syslog(prio[level], "%s: %s", log_names[level], msg);
		return;
	}
	gettimeofday(&tv, NULL);
	localtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", &tm);
	/* Function names help developers, not users: only from -v on. */
	if (log_level >= LOGL_DEBUG && func != NULL && func[0] != '\0')
		fprintf(f, "%s.%03d %s[%ld] %s: %s: %s\n", ts, (int)(tv.tv_usec / 1000),
		    log_ident, (long)getpid(), log_names[level], func, msg);
	else
		fprintf(f, "%s.%03d %s: %s: %s\n", ts, (int)(tv.tv_usec / 1000),
		    log_ident, log_names[level], msg);
	fflush(f);
}

/* Write the count of a burst's repeats, if any. */
static void
log_flush_repeats(void)
{
	char	line[sizeof log_rep.msg + 48];

	if (log_rep.count == 0)
		return;
	snprintf(line, sizeof line, "%s (repeated %lu time%s)", log_rep.msg, log_rep.count,
	    log_rep.count == 1 ? "" : "s");
	log_rep.count = 0;
	log_rep.last_written = log_now();
	log_emit(log_rep.level, log_rep.func, line);
}

/* The attribute lets clang's -Wformat-nonliteral see fmt is checked at each log_*() call. */
static void	log_vwrite(enum log_level level, const char *func, const char *fmt, va_list ap)
		    __attribute__((format(printf, 3, 0)));

static void
log_vwrite(enum log_level level, const char *func, const char *fmt, va_list ap)
{
	char	 raw[2048], safe[sizeof log_rep.msg];
	char	*msg = raw;
	size_t	 n;
	double	 now;
	int	 saved = errno;	/* callers log, then look at errno */

	if (!log_enabled(level))
		return;
	vsnprintf(raw, sizeof raw, fmt, ap);
	n = strlen(raw);
	while (n > 0 && raw[n - 1] == '\n')
		raw[--n] = '\0';
	/* Server text (banners, disconnect messages) rides in libssh's errors: never raw. */
	if (vis_needed(raw))
		msg = vis_str(safe, sizeof safe, raw);
	if (func == NULL)
		func = "";
	now = log_now();
	if (level == log_rep.level && strcmp(msg, log_rep.msg) == 0 &&
	    strcmp(func, log_rep.func) == 0 && (now - log_rep.last_seen) * 1000 < LOG_BURST_MS) {
		log_rep.count++;
		log_rep.last_seen = now;
		if (now - log_rep.last_written >= LOG_REPEAT_FLUSH_S)
			log_flush_repeats();
		errno = saved;
		return;
	}
	log_flush_repeats();
	log_rep.level = level;
	snprintf(log_rep.func, sizeof log_rep.func, "%s", func);
	snprintf(log_rep.msg, sizeof log_rep.msg, "%s", msg);
	log_rep.last_seen = log_rep.last_written = now;
	log_emit(level, func, msg);
	errno = saved;
}

void
log_write(enum log_level level, const char *func, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(level, func, fmt, ap);
	va_end(ap);
}

/* " (N more like it in the last S s)": what a key's guard held back. */
static void
log_key_note(char *dst, size_t len, unsigned long count, double secs)
{
	snprintf(dst, len, " (%lu more like it in the last %.0f s)", count, secs);
}

/* At exit: each key's last line held back, with its count. */
static void
log_flush_keys(void)
{
	char	line[sizeof log_keys[0].last + 64];
	double	now = log_now();
	size_t	i, n;

	for (i = 0; i < LOG_KEYS; i++) {
		struct log_key	*k = &log_keys[i];

		if (k->count == 0)
			continue;
		n = (size_t)snprintf(line, sizeof line, "%s", k->last);
		if (n < sizeof line && k->count > 1)
			log_key_note(line + n, sizeof line - n, k->count - 1, now - k->last_written);
		k->count = 0;
		log_emit(k->level, k->func, line);
	}
}

void
log_write_key(enum log_level level, const char *func, const char *key, const char *fmt, ...)
{
	struct log_key	*k = NULL, *oldest = &log_keys[0];
	char		 raw[sizeof log_keys[0].last], safe[sizeof raw];
	char		 line[sizeof raw + 64];
	const char	*msg = raw;
	va_list		 ap;
	double		 now;
	size_t		 i, n;
	int		 saved = errno;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	if (vis_needed(raw))
		msg = vis_str(safe, sizeof safe, raw);
	if (func == NULL)
		func = "";
	now = log_now();
	for (i = 0; i < LOG_KEYS && k == NULL; i++) {
		if (log_keys[i].key[0] != '\0' && log_keys[i].level == level &&
		    strncmp(log_keys[i].key, key, sizeof log_keys[i].key - 1) == 0)
			k = &log_keys[i];
		else if (log_keys[i].last_written < oldest->last_written)
			oldest = &log_keys[i];
	}
	if (k != NULL && now - k->last_written < LOG_KEY_QUIET_S) {
		k->count++;
		snprintf(k->last, sizeof k->last, "%s", msg);
		snprintf(k->func, sizeof k->func, "%s", func);
		errno = saved;
		return;
	}
	if (k == NULL) {	/* a new key: it takes the slot written longest ago */
		k = oldest;
		if (k->count > 0)
			log_flush_keys();	/* rare: more than LOG_KEYS keys recurring at once */
		memset(k, 0, sizeof *k);
		k->level = level;
		snprintf(k->key, sizeof k->key, "%s", key);
	}
	n = (size_t)snprintf(line, sizeof line, "%s", msg);
	if (n < sizeof line && k->count > 0)
		log_key_note(line + n, sizeof line - n, k->count, now - k->last_written);
	log_flush_repeats();	/* in order: what the line guard held comes first */
	k->count = 0;
	k->last_written = now;
	log_emit(level, func, line);
	errno = saved;
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
