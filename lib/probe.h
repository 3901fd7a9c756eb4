/* probe.h: one end-to-end check of one forward through a READY session. */
#ifndef CONNECT_PROBE_H
#define CONNECT_PROBE_H

#include <event2/event.h>

#include "fwdspec.h"

struct probe;
struct session;

/*
 * A probe opens a direct-tcpip channel to the forward's remote host:port
 * (the SSH server connects there, as it does for every forwarded client);
 * for a forward with a health path it then sends
 * "GET <path> HTTP/1.0" and reads the status line; then it closes the
 * channel. Nothing local is bound or connected.
 */
enum probe_state {
	PROBE_OPENING = 0,	/* channel open requested, no answer yet */
	PROBE_SENDING,		/* channel open: writing the GET request */
	PROBE_READING,		/* request written: waiting for the status line */
	PROBE_DONE		/* result known; channel closed (or closed once its open resolves) */
};

enum probe_result {
	PROBE_PENDING = 0,
	PROBE_OK,		/* channel accepted (and, with a health path, HTTP 200) */
	PROBE_REFUSED,		/* the server refused the channel: remote port not listening? */
	PROBE_HTTP_STATUS,	/* the health path answered another status: probe_http_status() */
	PROBE_BAD_REPLY,	/* closed before a status line, or the reply is not HTTP */
	PROBE_TIMEOUT,		/* no answer within the probe's time */
	PROBE_SESSION_LOST	/* the session died (or could not make a channel) meanwhile */
};

/* Told once, when the result is known (state DONE). Do not free the probe here. */
typedef void (*probe_done_fn)(struct probe *, void *arg);

/*
 * Start probing forward fs through session s, which must be READY. fs and s
 * must outlive the probe (or see probe_session_lost()). fn is called once,
 * possibly before probe_start returns (the session cannot make a channel).
 * Returns NULL only on memory exhaustion (fn not called).
 */
struct probe *probe_start(struct event_base *base, struct session *s,
	    const struct forward_spec *fs, int timeout_ms, probe_done_fn fn, void *arg);

/* After each pump of its session: retry the open, write the request, read the reply. */
void	probe_step(struct probe *p);

/*
 * After a pump of sess: probe_step() each of probes[0..n) (NULL entries
 * skipped) that runs on sess and is not idle, while sess lives (a step can
 * end it). The tunnel's readiness and `connect check` step theirs so.
 */
void	probe_pump_all(struct probe *const *probes, size_t n, struct session *sess);

/* probe_session_lost() for each of probes[0..n) on sess (NULL: on any session). */
void	probe_session_lost_all(struct probe *const *probes, size_t n, struct session *sess);

/*
 * The session died: its channels are gone with it. Forgets the channel and,
 * if the result was still pending, ends with PROBE_SESSION_LOST (fn runs).
 * Call before the session is freed.
 */
void	probe_session_lost(struct probe *p);

/*
 * May it be freed? A probe that ended (timeout) while its channel open was
 * still unanswered must wait for the answer, to close the channel: freeing a
 * channel still opening leaks it on the server. Keep calling probe_step()
 * until this is true, or until the session dies.
 */
int	probe_idle(const struct probe *p);

/* Close and free; only when idle or after probe_session_lost(), never from a callback. */
void	probe_free(struct probe *p);

enum probe_state probe_state(const struct probe *p);
enum probe_result probe_result(const struct probe *p);
/* The HTTP status read (0 if none). */
int	probe_http_status(const struct probe *p);
/*
 * One line, starting with the remote end: "127.0.0.1:8008 accepts a
 * channel; GET /debug.ping answered 200", "127.0.0.1:8008 refused the
 * channel (remote port not listening?): <libssh's text>",
 * "127.0.0.1:8008: GET /debug.ping answered 502", ... Empty while pending.
 */
const char *probe_message(const struct probe *p);
/* The sysexits code of the result: 0, EX_UNAVAILABLE, or EX_TEMPFAIL for a timeout. */
int	probe_exit_code(const struct probe *p);
const struct forward_spec *probe_forward(const struct probe *p);
struct session *probe_session(const struct probe *p);
const char *probe_state_name(enum probe_state);
const char *probe_result_name(enum probe_result);

#endif
