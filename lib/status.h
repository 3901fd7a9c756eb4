/* status.h: a running tunnel's state as `connect status` prints it: a table or JSON. */
#ifndef CONNECT_STATUS_H
#define CONNECT_STATUS_H

#include <sys/types.h>

#include <event2/buffer.h>

#include "supervisor.h"

/*
 * Append the status of instance `name` (process pid) to out: readable lines
 * (the first one starts with the name), or one JSON object with the keys
 * name, pid, state, uptime_s, session_age_s (null without a session),
 * reconnects, attempt, last_error, last_error_age_s (null without an error),
 * login ("user@host:port"), profile, log and forwards: [{name, local, remote,
 * open, total, bytes_up, bytes_down, failures, last_error}].
 */
/* Where a tunnel's settings come from and where it logs ("" when not known). */
struct status_where {
	const char	*profile;	/* the profile file, or "" (--id, ssh config Host) */
	const char	*log;		/* the log file, "syslog", or "stderr" */
};

void	status_format(struct evbuffer *out, const char *name, pid_t pid,
	    const struct supervisor_info *in, const struct status_where *where, int json);

/* A tunnel that does not run, as JSON: {"name":NAME,"state":"stopped"}. */
void	status_format_stopped(struct evbuffer *out, const char *name);

/* One that is starting (locked, no control socket yet): {"name":NAME,"state":"starting","pid":N}. */
void	status_format_starting(struct evbuffer *out, const char *name, pid_t pid);

/* "2h03m", "12m04s", "41s" into buf. Returns buf. */
char	*status_duration(double s, char *buf, size_t len);

/* "33.0 MB", "20 kB", "512 B" into buf. Returns buf. */
char	*status_bytes(unsigned long long n, char *buf, size_t len);

#endif
