/*
 * dial.h: a TCP connection to host:port, resolved and dialled from the
 * event loop (libssh would block in getaddrinfo and try one address).
 *
 * The name is resolved with evdns; each address is tried in turn. A SYN lost
 * while the path was down is sent again by the kernel only after 1, 3, 7 s:
 * after an outage, a connect started just before the path came back would
 * wait seconds for nothing. So while a connect is unanswered, another socket
 * dials the same address every DIAL_REDIAL_MS, at most DIAL_MAX at once
 * (with their own retransmissions, some SYN leaves every second of the
 * connect deadline). The first to connect is used and the others closed:
 * the server sees at most a few bare TCP handshakes. The deadline is the
 * caller's.
 */
#ifndef CONNECT_DIAL_H
#define CONNECT_DIAL_H

#include <netinet/in.h>
#include <arpa/inet.h>

#include <event2/dns.h>
#include <event2/event.h>

#define DIAL_MAX	4
#define DIAL_REDIAL_MS	1000

struct dial;

enum dial_event {
	DIAL_RESOLVED,		/* the name resolved (dial_addresses); dialling the first */
	DIAL_CONNECTED,		/* a socket connected: dial_take_fd() */
	DIAL_FAILED		/* dial_failure() says which, dial_error() why */
};

enum dial_failure {
	DIAL_OK = 0,
	DIAL_NO_NAME,		/* the name did not resolve */
	DIAL_NO_ROUTE,		/* every address refused, unreachable, or no socket */
	DIAL_NO_MEMORY
};

/*
 * Called from the loop (or from dial_start() itself: numeric hosts and
 * /etc/hosts resolve at once). The callee may dial_stop(), not dial_free().
 */
typedef void (*dial_fn)(struct dial *, enum dial_event, void *arg);

/* Start resolving host. Returns the dial, or NULL on memory exhaustion (fn not called). */
struct dial *dial_start(struct event_base *base, struct evdns_base *dns, const char *host,
	    int port, dial_fn fn, void *arg);

/* After DIAL_CONNECTED: the connected, non-blocking socket, now the caller's. */
int	dial_take_fd(struct dial *d);

/* "1.2.3.4:22", "[::1]:22": the address being dialled, or connected. */
const char *dial_peer(const struct dial *d);
/* "1.2.3.4, ::1": what the name resolved to (empty before). */
const char *dial_addresses(const struct dial *d);
enum dial_failure dial_failure(const struct dial *d);
/* Why it failed, one line ("127.0.0.1:22: Connection refused"). */
const char *dial_error(const struct dial *d);

/* Stop: cancel the lookup, close every socket not taken. Safe in its own callback. */
void	dial_stop(struct dial *d);
/* Stop and free; never from its own callback. */
void	dial_free(struct dial *d);

#endif
