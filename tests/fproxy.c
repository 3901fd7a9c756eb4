/*
 * fproxy.c: a fault-injecting TCP proxy for the tests (loopback only).
 *
 *   fproxy LISTEN_PORT TARGET_PORT [--delay-ms N] [--lag-ms N] [--pidfile F]
 *
 * Listens on 127.0.0.1:LISTEN_PORT and relays to 127.0.0.1:TARGET_PORT.
 * Signals inject faults into every connection at once:
 *   SIGUSR1  freeze: stop moving bytes and stop accepting, sockets stay open
 *            (a silent blackhole, as when a network path dies);
 *   SIGUSR2  thaw: move bytes again;
 *   SIGHUP   reset: close every connection with an RST;
 *   SIGWINCH swap the delay with --lag-ms (default 0): a latency spike on, then off.
 * --delay-ms holds each chunk N ms before passing it on, in both directions
 * (a WAN-like round trip of 2N ms without netem), without limiting bandwidth.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/queue.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#define FP_HIGH	(4 * 1024 * 1024)	/* per-direction bytes in flight inside the proxy */

struct chunk {
	TAILQ_ENTRY(chunk)	 entry;
	struct timespec		 due;
	struct evbuffer		*data;
};
TAILQ_HEAD(chunk_list, chunk);

struct side;
struct pair {
	TAILQ_ENTRY(pair)	 entry;
	struct bufferevent	*bev[2];	/* 0: client, 1: upstream */
	struct chunk_list	 q[2];		/* q[i]: read from bev[i], due for bev[!i] */
	size_t			 qlen[2];
	struct event		*ev_delay[2];
	int			 eof[2];
	int			 shut[2];	/* EOF of side i passed on to side !i */
};
TAILQ_HEAD(pair_list, pair);

static struct event_base	*base;
static struct evconnlistener	*lev;
static struct pair_list		 pairs = TAILQ_HEAD_INITIALIZER(pairs);
static int			 target_port, delay_ms, lag_ms, frozen;

static void	pair_flush(struct pair *, int);

/* Pass side i's EOF on once everything it sent has left the proxy. */
static void
maybe_shut(struct pair *p, int i)
{
	if (p->eof[i] && !p->shut[i] && p->qlen[i] == 0 &&
	    evbuffer_get_length(bufferevent_get_output(p->bev[!i])) == 0) {
		shutdown(bufferevent_getfd(p->bev[!i]), SHUT_WR);
		p->shut[i] = 1;
	}
}

static void
pair_free(struct pair *p)
{
	struct chunk	*c;
	int		 i;

	TAILQ_REMOVE(&pairs, p, entry);
	for (i = 0; i < 2; i++) {
		if (p->bev[i] != NULL)
			bufferevent_free(p->bev[i]);
		while ((c = TAILQ_FIRST(&p->q[i])) != NULL) {
			TAILQ_REMOVE(&p->q[i], c, entry);
			evbuffer_free(c->data);
			free(c);
		}
		event_free(p->ev_delay[i]);
	}
	free(p);
}

/* An abortive close (RST): SO_LINGER 0. */
static void
rst(struct bufferevent *bev)
{
	struct linger	l = { 1, 0 };

	if (bev != NULL)
		setsockopt(bufferevent_getfd(bev), SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

static int
ts_due(const struct timespec *due)
{
	struct timespec	now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > due->tv_sec || (now.tv_sec == due->tv_sec && now.tv_nsec >= due->tv_nsec);
}

/* Done when both sides sent EOF and every queued byte went out. */
static void
pair_check(struct pair *p)
{
	int	i;

	for (i = 0; i < 2; i++)
		if (!p->shut[i])
			return;
	pair_free(p);
}

/* Move due chunks from q[i] to the other side's output; re-arm the delay timer. */
static void
pair_flush(struct pair *p, int i)
{
	struct chunk	*c;
	struct timespec	 now;
	struct timeval	 tv;
	long		 ns;

	if (frozen)
		return;
	while ((c = TAILQ_FIRST(&p->q[i])) != NULL) {
		if (!ts_due(&c->due)) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			ns = (c->due.tv_sec - now.tv_sec) * 1000000000L + (c->due.tv_nsec - now.tv_nsec);
			tv.tv_sec = ns / 1000000000L;
			tv.tv_usec = (ns % 1000000000L) / 1000 + 1;
			evtimer_add(p->ev_delay[i], &tv);
			return;
		}
		TAILQ_REMOVE(&p->q[i], c, entry);
		p->qlen[i] -= evbuffer_get_length(c->data);
		evbuffer_add_buffer(bufferevent_get_output(p->bev[!i]), c->data);
		evbuffer_free(c->data);
		free(c);
	}
	maybe_shut(p, i);
	if (p->qlen[i] < FP_HIGH && !p->eof[i])
		bufferevent_enable(p->bev[i], EV_READ);
}

static void
delay_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pair	*p = arg;

	(void)fd;
	(void)what;
	pair_flush(p, 0);
	pair_flush(p, 1);
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct pair	*p = arg;
	int		 i = bev == p->bev[1];
	struct chunk	*c;
	struct evbuffer	*in = bufferevent_get_input(bev);
	size_t		 n = evbuffer_get_length(in);

	if (frozen || n == 0)
		return;
	if (delay_ms == 0 && TAILQ_EMPTY(&p->q[i])) {
		evbuffer_add_buffer(bufferevent_get_output(p->bev[!i]), in);
	} else {
		if ((c = calloc(1, sizeof *c)) == NULL || (c->data = evbuffer_new()) == NULL)
			abort();
		clock_gettime(CLOCK_MONOTONIC, &c->due);
		c->due.tv_nsec += (long)delay_ms * 1000000L;
		c->due.tv_sec += c->due.tv_nsec / 1000000000L;
		c->due.tv_nsec %= 1000000000L;
		evbuffer_add_buffer(c->data, in);
		TAILQ_INSERT_TAIL(&p->q[i], c, entry);
		p->qlen[i] += n;
		if (p->qlen[i] >= FP_HIGH)
			bufferevent_disable(bev, EV_READ);
		pair_flush(p, i);
	}
	/* Backpressure: stop reading while the other side has plenty queued. */
	if (evbuffer_get_length(bufferevent_get_output(p->bev[!i])) >= FP_HIGH)
		bufferevent_disable(bev, EV_READ);
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
	struct pair	*p = arg;
	int		 i = bev == p->bev[1];

	if (frozen)
		return;
	if (!p->eof[!i] && p->qlen[!i] < FP_HIGH)
		bufferevent_enable(p->bev[!i], EV_READ);
	maybe_shut(p, !i);
	pair_check(p);
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct pair	*p = arg;
	int		 i = bev == p->bev[1];

	if (what & BEV_EVENT_CONNECTED)
		return;
	if (what & BEV_EVENT_EOF) {
		read_cb(bev, p);	/* anything left */
		p->eof[i] = 1;
		maybe_shut(p, i);
		pair_check(p);
		return;
	}
	/* An error on one side: reset the other, as a dying path would. */
	rst(p->bev[!i]);
	pair_free(p);
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
	struct pair		*p;
	struct sockaddr_in	 sin;
	int			 i, one = 1;

	(void)l;
	(void)sa;
	(void)salen;
	(void)arg;
	if ((p = calloc(1, sizeof *p)) == NULL)
		abort();
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	p->bev[0] = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	p->bev[1] = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	for (i = 0; i < 2; i++) {
		TAILQ_INIT(&p->q[i]);
		p->ev_delay[i] = evtimer_new(base, delay_cb, p);
		bufferevent_setcb(p->bev[i], read_cb, write_cb, event_cb, p);
		bufferevent_setwatermark(p->bev[i], EV_READ, 0, FP_HIGH);
		bufferevent_set_max_single_read(p->bev[i], 1 << 20);
		bufferevent_set_max_single_write(p->bev[i], 1 << 20);
	}
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)target_port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	TAILQ_INSERT_TAIL(&pairs, p, entry);
	if (bufferevent_socket_connect(p->bev[1], (struct sockaddr *)&sin, sizeof sin) != 0) {
		rst(p->bev[0]);
		pair_free(p);
		return;
	}
	setsockopt(bufferevent_getfd(p->bev[1]), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (!frozen) {
		bufferevent_enable(p->bev[0], EV_READ | EV_WRITE);
		bufferevent_enable(p->bev[1], EV_READ | EV_WRITE);
	}
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct pair	*p, *next;
	int		 i;

	(void)what;
	(void)arg;
	switch (sig) {
	case SIGUSR1:
		frozen = 1;
		evconnlistener_disable(lev);
		TAILQ_FOREACH(p, &pairs, entry) {
			bufferevent_disable(p->bev[0], EV_READ | EV_WRITE);
			bufferevent_disable(p->bev[1], EV_READ | EV_WRITE);
		}
		fprintf(stderr, "fproxy: frozen\n");
		break;
	case SIGUSR2:
		frozen = 0;
		evconnlistener_enable(lev);
		for (p = TAILQ_FIRST(&pairs); p != NULL; p = next) {
			next = TAILQ_NEXT(p, entry);
			bufferevent_enable(p->bev[0], EV_READ | EV_WRITE);
			bufferevent_enable(p->bev[1], EV_READ | EV_WRITE);
			pair_flush(p, 0);
			pair_flush(p, 1);
		}
		fprintf(stderr, "fproxy: thawed\n");
		break;
	case SIGHUP:
		while ((p = TAILQ_FIRST(&pairs)) != NULL) {
			rst(p->bev[0]);
			rst(p->bev[1]);
			pair_free(p);
		}
		fprintf(stderr, "fproxy: reset all\n");
		break;
	case SIGWINCH:
		i = delay_ms;
		delay_ms = lag_ms;
		lag_ms = i;
		fprintf(stderr, "fproxy: delay %d ms\n", delay_ms);
		break;
	default:
		event_base_loopexit(base, NULL);
	}
}

int
main(int argc, char **argv)
{
	struct sockaddr_in	 sin;
	const char		*pidfile = NULL;
	int			 i, port, sigs[] = { SIGUSR1, SIGUSR2, SIGHUP, SIGWINCH, SIGTERM, SIGINT };
	FILE			*f;

	if (argc < 3) {
		fprintf(stderr, "usage: fproxy LISTEN_PORT TARGET_PORT [--delay-ms N] [--lag-ms N] [--pidfile F]\n");
		return 64;
	}
	port = atoi(argv[1]);
	target_port = atoi(argv[2]);
	for (i = 3; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--delay-ms") == 0)
			delay_ms = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--lag-ms") == 0)
			lag_ms = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--pidfile") == 0)
			pidfile = argv[i + 1];
	}
	signal(SIGPIPE, SIG_IGN);
	base = event_base_new();
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lev = evconnlistener_new_bind(base, accept_cb, NULL, LEV_OPT_CLOSE_ON_FREE |
	    LEV_OPT_REUSEABLE, 128, (struct sockaddr *)&sin, sizeof sin);
	if (lev == NULL) {
		fprintf(stderr, "fproxy: cannot listen on 127.0.0.1:%d: %s\n", port, strerror(errno));
		return 1;
	}
	for (i = 0; i < (int)(sizeof sigs / sizeof sigs[0]); i++)
		evsignal_add(evsignal_new(base, sigs[i], signal_cb, NULL), NULL);
	if (pidfile != NULL && (f = fopen(pidfile, "w")) != NULL) {
		fprintf(f, "%ld\n", (long)getpid());
		fclose(f);
	}
	event_base_dispatch(base);
	return 0;
}
