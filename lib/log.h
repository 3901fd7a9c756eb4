/* log.h: the one log module: levels, timestamps, and libssh/libevent routed in. */
#ifndef CONNECT_LOG_H
#define CONNECT_LOG_H

#include <stdio.h>

enum log_level {
	LOGL_ERROR = 0,
	LOGL_WARN,
	LOGL_INFO,	/* default: state changes a user cares about */
	LOGL_DEBUG,	/* -v: every transition, every channel */
	LOGL_TRACE,	/* -vv: libssh protocol messages; -vvv: libssh packets */
};

/* Send log lines to `out` (stderr when NULL) at `level` and above; tags lines with `ident`. */
void	log_open(const char *ident, enum log_level level, FILE *out);

/*
 * Write to the file at path instead (appended, created 0600), reopened by
 * log_reopen() (SIGHUP, logrotate). Returns 0, or -1 with errno (the
 * previous destination stays).
 */
int	log_to_file(const char *path);

/*
 * Open the log file again by its path (logrotate moved it). Returns 0, -1
 * with errno (the old file stays in use), or 1 when the log is no file of
 * ours (stderr, syslog): nothing was done.
 */
int	log_reopen(void);

/* Write what the repeat guard still holds and close a log file of ours (at exit). */
void	log_close(void);

/* Send lines to syslog (facility LOG_USER, tagged with the ident) instead. */
void	log_to_syslog(void);

/* Raise or lower the threshold; also sets the libssh and libevent log levels to match. */
void	log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Route libssh's and libevent's own messages into this module. Call once, before any session. */
void	log_route_libraries(void);

/* Is a message at this level written? (to skip building costly ones) */
int	log_enabled(enum log_level level);

/*
 * One line: made printable (vis_str: control bytes escaped), and a line equal
 * to the one before within a second counted instead of written, its count
 * following as "(repeated N times)". Keeps errno.
 */
void	log_write(enum log_level level, const char *func, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * A line that recurs per event (a refused channel, a held connection), with
 * text that differs each time (a channel number, a count) but the same
 * meaning, named by key (e.g. "refused web (2) Connect failed"): written
 * once, then at most once per LOG_KEY_QUIET_S for that key and level, with
 * how many like it were not written. Byte-equal repeats (log_write) miss
 * these: a client retrying against a stopped service would fill the log.
 */
void	log_write_key(enum log_level level, const char *func, const char *key, const char *fmt,
	    ...) __attribute__((format(printf, 4, 5)));
#define LOG_KEY_QUIET_S	60

#define log_error(...)	log_write(LOGL_ERROR, __func__, __VA_ARGS__)
#define log_warn(...)	log_write(LOGL_WARN, __func__, __VA_ARGS__)
#define log_info(...)	log_write(LOGL_INFO, __func__, __VA_ARGS__)
#define log_debug(...)	log_write(LOGL_DEBUG, __func__, __VA_ARGS__)
#define log_trace(...)	log_write(LOGL_TRACE, __func__, __VA_ARGS__)
#define log_warn_key(key, ...)	log_write_key(LOGL_WARN, __func__, key, __VA_ARGS__)
#define log_info_key(key, ...)	log_write_key(LOGL_INFO, __func__, key, __VA_ARGS__)

#endif
