/*
 * verify.h: readiness of a tunnel, checked end to end through its session.
 *
 * A verification waits for a READY session, probes every forward (a
 * channel to its remote end, and GET on its health path if it has one),
 * and reports once: 0, or the exit code and reason of the first forward
 * failing. A session lost meanwhile is waited out and the next one probed.
 * The tunnel (supervisor.c) owns the list and tells it what its session
 * does; everything the verification does runs from its own events, outside
 * those calls.
 */
#ifndef CONNECT_VERIFY_H
#define CONNECT_VERIFY_H

#include <sys/queue.h>

#include <event2/event.h>

#include "profile.h"

struct session;
struct supervisor;	/* the tunnel watched: opaque here, handed back to callbacks */
struct verify;
TAILQ_HEAD(verify_list, verify);

/* What a verification sees of its tunnel; the pointers must outlive every verification. */
struct verify_tunnel {
	struct supervisor	*sup;
	struct event_base	*base;
	const struct profile	*p;
	/* The current session, NULL between attempts. */
	struct session		*(*session)(struct supervisor *);
	/* Stopping or stopped? Then *code is its exit code (0: a requested stop) and *why its error. */
	int			 (*stopped)(struct supervisor *, int *code, const char **why);
	/* The failure being retried ("" if none): why there is no session yet. */
	const char		*(*waiting)(struct supervisor *);
};

/* Probe failing forwards again every second until they pass or the time is up. */
#define VERIFY_RETRY	0x1

/* The verdict, from a fresh event: it may start another verification or stop the tunnel. */
typedef void (*verify_done_fn)(struct supervisor *, int exit_code, const char *reason, void *arg);
/* VERIFY_RETRY: a round failed, another follows; why: the first failing forward's reason. */
typedef void (*verify_progress_fn)(struct supervisor *, const char *why, void *arg);

/*
 * Start a verification in list l (see supervisor_verify() for the verdicts).
 * Returns 0, or -1 on memory exhaustion (done will not be called).
 */
int	verify_start(struct verify_list *l, const struct verify_tunnel *t, int timeout_ms,
	    int flags, verify_done_fn done, void *arg);

/* Be told of each failed round (the last started verification of l; NULL: not). */
void	verify_set_progress(struct verify_list *l, verify_progress_fn fn);

/* A session became READY, or (stopping) the tunnel is stopping: every one looks again. */
void	verify_kick_all(struct verify_list *l, int stopping);

/* After each libssh pass of sess: probes on it move; finished ones free idle probes. */
void	verify_pumped(struct verify_list *l, struct session *sess);

/* sess died: its probes lose their channels; the next READY session is probed afresh. */
void	verify_session_dead(struct verify_list *l, struct session *sess);

/* The tunnel goes away: free every verification; nothing is reported any more. */
void	verify_free_all(struct verify_list *l);

#endif
