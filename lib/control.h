/*
 * control.h: the control socket of a running instance (NAME.sock).
 *
 * A client connects, writes one request line ("status", "status --json",
 * "stop", ...), and reads the reply until the instance closes the
 * connection. Only the instance's own uid is served: the socket is 0600 in
 * a 0700 directory, and the peer's uid is checked on every connection as
 * well (compat_peer_uid) in case either was opened up.
 */
#ifndef CONNECT_CONTROL_H
#define CONNECT_CONTROL_H

#include <event2/buffer.h>
#include <event2/event.h>

#define CONTROL_REQUEST_MAX	256
#define CONTROL_REPLY_MAX	(1024 * 1024)

struct control;

/* The requests an instance understands. */
enum control_request {
	CTL_REQ_INVALID = 0,	/* anything else: answered "error unknown request" */
	CTL_REQ_STATUS,		/* "status" */
	CTL_REQ_STATUS_JSON,	/* "status --json" */
	CTL_REQ_STATE,		/* "state": the state word alone ("ready\n"), for scripts and -d */
	CTL_REQ_STOP		/* "stop" */
};

/*
 * Parse one request line of len bytes (its LF removed; one trailing CR is
 * allowed). Longer than CONTROL_REQUEST_MAX, a NUL byte, or any other text
 * is CTL_REQ_INVALID. Returns the request.
 */
enum control_request control_parse(const char *line, size_t len);

/* The request's words ("status --json"), or "(invalid)": what the log shows instead of raw bytes. */
const char *control_request_name(enum control_request req);

/*
 * Answer one request: append the reply to `reply`. Return 0, or 1 to have
 * `after` run (from a fresh event, once the reply is written and the
 * connection closed): how "stop" replies before the loop ends.
 */
typedef int (*control_handler_fn)(enum control_request req, struct evbuffer *reply, void *arg);
typedef void (*control_after_fn)(void *arg);

/*
 * Listen on path (an existing file there is removed first: the caller holds
 * the instance lock, so it is stale). Returns the control, or NULL with *cause.
 */
struct control *control_listen(struct event_base *base, const char *path,
	    control_handler_fn handler, control_after_fn after, void *arg, char **cause);

/* Close the socket and every open control connection; unlinks nothing. */
void	control_free(struct control *c);

/*
 * Send one request line on a connected control socket, never raising
 * SIGPIPE (a peer that closed is -1 with errno EPIPE). Returns 0 or -1.
 */
int	control_send_request(int fd, const char *request);

/*
 * Client side, blocking: send request to the instance at path and read its
 * reply (NUL-terminated, malloc'd in *reply). Returns 0, or -1 with *cause
 * (no instance listening, refused, timed out after timeout_ms).
 */
int	control_call(const char *path, const char *request, int timeout_ms, char **reply,
	    char **cause);

#endif
