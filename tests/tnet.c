/*
 * tnet.c: the test network tool. Servers and clients whose verdicts the end-to-end tests rely on.
 *
 *   tnet serve [--http PORT:NAME]... [--echo PORT]... [--blast PORT:BYTES]... [--sink PORT]...
 *              [--stall PORT]... [--banner PORT:TEXT]... [--pidfile FILE]
 *   tnet echo HOST PORT --bytes N [--conns C] [--seed S] [--chunk K] [--timeout SECS]
 *   tnet read HOST PORT --bytes N [--seed S] [--pause-after K --pause-ms M] [--timeout SECS]
 *   tnet hold HOST PORT --secs S [--conns C]
 *   tnet send HOST PORT --bytes N [--seed S] [--timeout SECS]
 *   tnet abort HOST PORT [--bytes N] [--pause-ms M] [--reset 1]
 *   tnet probe HOST PORT [--wait SECS]
 *   tnet freeport [N]
 *   tnet gen --bytes N [--seed S]
 *
 * The byte stream. Every payload is the deterministic stream of a seed S: a 64-bit xorshift64*
 * generator (x ^= x >> 12; x ^= x << 25; x ^= x >> 27; out = x * 0x2545F4914F6CDD1D) whose state
 * starts as splitmix64(S) (0 is replaced by 1); each 64-bit output gives 8 bytes, least significant
 * first. So byte i of the stream of S is byte i % 8 of output i / 8. `tnet gen` writes it to stdout,
 * `GET /bytes?n=N&seed=S` serves it, `--blast` sends the stream of seed 1, and `tnet echo` sends the
 * stream of seed S + i on connection i (default S = 1).
 *
 * Sizes accept a suffix k, m or g (KiB, MiB, GiB): --bytes 64m is 67108864 bytes.
 *
 * Everything is non-blocking on one libevent loop. Servers listen on 127.0.0.1 only. Each server
 * connection holds at most about 1 MiB of pending output: a slow reader slows the sender down
 * (TCP backpressure), it does not grow memory.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/util.h>

#define SRV_HIGH	(1024 * 1024)	/* most output a server connection queues */
#define SRV_LOW		(256 * 1024)	/* refill / resume reading below this */
#define GEN_CHUNK	(64 * 1024)	/* bytes generated at a time */
#define IO_MAX		(256 * 1024)	/* largest single read / write on a socket */
#define MAX_LISTEN	64
#define MAX_FAIL_LINES	20

static const char *usage_text =
    "usage:\n"
    "  tnet serve [--http PORT:NAME]... [--echo PORT]... [--blast PORT:BYTES]... [--sink PORT]...\n"
    "             [--stall PORT]... [--banner PORT:TEXT]... [--pidfile FILE]\n"
    "      servers on 127.0.0.1 until SIGTERM/SIGINT (then exit 0). --http: GET / -> \"service NAME\",\n"
    "      GET /debug.ping -> ClearML-like JSON, GET /bytes?n=N&seed=S -> N stream bytes, GET\n"
    "      /status/NNN -> HTTP status NNN (100-599), any other path -> 404. --echo: echo,\n"
    "      half-close passed on. --blast: send BYTES of the seed-1 stream, then close. --sink: read\n"
    "      until EOF, answer the byte count in decimal, close; each sink connection logs\n"
    "      \"sink: accepted\" and \"sink: closed after N bytes\" to stderr. --stall: listen, never accept, the\n"
    "      queue full: a connect there hangs. --banner: send TEXT (escapes \\e \\a \\r \\n \\\\\n"
    "      \\xNN) and close, as a hostile SSH server's banner. The pidfile is written once all\n"
    "      listen.\n"
    "  tnet echo HOST PORT --bytes N [--conns C] [--seed S] [--chunk K] [--timeout SECS]\n"
    "      C connections at once (default 1); each sends N bytes of stream S+i (default S 1) in\n"
    "      writes of at most K bytes (default 64k), half-closes, and checks the echo byte for byte.\n"
    "  tnet read HOST PORT --bytes N [--seed S] [--pause-after K --pause-ms M] [--timeout SECS]\n"
    "      read and check N bytes of stream S (default 1, as --blast sends) then EOF; optionally stop\n"
    "      reading for M ms after K bytes (a slow reader).\n"
    "  tnet hold HOST PORT --secs S [--conns C]\n"
    "      open C connections (default 1), print \"connected\", keep them idle S seconds.\n"
    "  tnet send HOST PORT --bytes N [--seed S] [--timeout SECS]\n"
    "      send N bytes of stream S (default 1), half-close, copy the reply to stdout until EOF\n"
    "      (a --sink answers the count it received).\n"
    "  tnet abort HOST PORT [--bytes N] [--pause-ms M] [--reset 1]\n"
    "      a client that gives up: connect, send N bytes (default 0), wait M ms, close without\n"
    "      reading (with --reset 1: SO_LINGER 0, a reset). Exit 0 once closed.\n"
    "  tnet probe HOST PORT [--wait SECS]\n"
    "      exit 0 once a TCP connect succeeds (retrying for up to SECS, default 0), else 1.\n"
    "  tnet freeport [N]\n"
    "      print N (default 1) distinct free TCP ports of 127.0.0.1, one a line.\n"
    "  tnet gen --bytes N [--seed S]\n"
    "      write N bytes of stream S (default 1) to stdout.\n"
    "  tnet unix PATH REQUEST\n"
    "      send REQUEST and a newline on the unix stream socket PATH, copy the reply to stdout\n"
    "      until EOF (a control-socket client of our own: no uid of its own to check).\n"
    "  tnet dgram PATH --secs S\n"
    "      bind a unix datagram socket at PATH (as systemd's NOTIFY_SOCKET) and print each\n"
    "      datagram received, then a line \"--\", for S seconds.\n"
    "sizes take a k, m or g suffix (KiB, MiB, GiB); --timeout defaults to 120 s; exit 0 means ok.\n";

/* ---------------------------------------------------------------- helpers */

static void usage(void) __attribute__((noreturn));

static void
usage(void)
{
	fputs(usage_text, stderr);
	exit(2);
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *fmt, ...)
{
	va_list ap;

	fputs("tnet: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* A size: decimal digits with an optional k/m/g suffix (powers of 1024). Dies when malformed. */
static uint64_t
parse_size(const char *what, const char *s)
{
	char		*end;
	unsigned long long v;
	uint64_t	 mul = 1;

	errno = 0;
	if (*s < '0' || *s > '9')
		die("%s: expected a number, got '%s'", what, s);
	v = strtoull(s, &end, 10);
	if (errno != 0)
		die("%s: '%s' is out of range", what, s);
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K':
		mul = 1024;
		end++;
		break;
	case 'm': case 'M':
		mul = 1024 * 1024;
		end++;
		break;
	case 'g': case 'G':
		mul = 1024 * 1024 * 1024;
		end++;
		break;
	default:
		break;
	}
	if (*end != '\0')
		die("%s: expected a number with an optional k/m/g suffix, got '%s'", what, s);
	if (v > UINT64_MAX / mul)
		die("%s: '%s' is out of range", what, s);
	return (uint64_t)v * mul;
}

static int
parse_port(const char *what, const char *s)
{
	uint64_t v = parse_size(what, s);

	if (v > 65535)
		die("%s: port %s out of range", what, s);
	return (int)v;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Let many connections be open at once: raise the soft descriptor limit to the hard one. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static struct event_base *
new_base(void)
{
	struct event_base *base;

	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	if ((base = event_base_new()) == NULL)
		die("event_base_new failed");
	return base;
}

/* Resolve HOST PORT (numeric or a name such as localhost) into *ss. */
static socklen_t
resolve(const char *host, const char *port, struct sockaddr_storage *ss)
{
	struct evutil_addrinfo	 hints, *res = NULL;
	socklen_t		 len;
	int			 rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = EVUTIL_AI_ADDRCONFIG;
	(void)parse_port("PORT", port);
	if ((rc = evutil_getaddrinfo(host, port, &hints, &res)) != 0 || res == NULL)
		die("%s: %s", host, evutil_gai_strerror(rc));
	len = (socklen_t)res->ai_addrlen;
	memcpy(ss, res->ai_addr, len);
	evutil_freeaddrinfo(res);
	return len;
}

/* Name the socket error behind a failure in words the tests can grep. */
static const char *
err_words(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return "connection refused";
	case ECONNRESET:
		return "reset by peer";
	case EPIPE:
		return "broken pipe (peer closed)";
	case ETIMEDOUT:
		return "timed out";
	case 0:
		return "unknown error";
	default:
		return strerror(err);
	}
}

/* The pending error of a socket (SO_ERROR), else errno. */
static int
sock_error(evutil_socket_t fd)
{
	int		e = 0;
	socklen_t	len = sizeof e;
	int		saved = EVUTIL_SOCKET_ERROR();

	if (fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) == 0 && e != 0)
		return e;
	return saved;
}

/* ---------------------------------------------------------------- the stream */

struct stream {
	uint64_t	x;	/* xorshift64* state */
	uint64_t	word;	/* current output, consumed from the low byte */
	unsigned	left;	/* bytes of word not yet consumed */
};

static void
stream_init(struct stream *g, uint64_t seed)
{
	uint64_t z = seed + 0x9E3779B97F4A7C15ULL;	/* splitmix64 */

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	z ^= z >> 31;
	g->x = z != 0 ? z : 1;
	g->word = 0;
	g->left = 0;
}

static uint64_t
stream_next(struct stream *g)
{
	g->x ^= g->x >> 12;
	g->x ^= g->x << 25;
	g->x ^= g->x >> 27;
	return g->x * 0x2545F4914F6CDD1DULL;
}

static void
stream_fill(struct stream *g, unsigned char *p, size_t n)
{
	uint64_t w;

	while (n > 0 && g->left > 0) {
		*p++ = (unsigned char)g->word;
		g->word >>= 8;
		g->left--;
		n--;
	}
	while (n >= 8) {
		w = stream_next(g);
		p[0] = (unsigned char)w;
		p[1] = (unsigned char)(w >> 8);
		p[2] = (unsigned char)(w >> 16);
		p[3] = (unsigned char)(w >> 24);
		p[4] = (unsigned char)(w >> 32);
		p[5] = (unsigned char)(w >> 40);
		p[6] = (unsigned char)(w >> 48);
		p[7] = (unsigned char)(w >> 56);
		p += 8;
		n -= 8;
	}
	if (n > 0) {
		g->word = stream_next(g);
		g->left = 8;
		while (n > 0) {
			*p++ = (unsigned char)g->word;
			g->word >>= 8;
			g->left--;
			n--;
		}
	}
}

/* Append n stream bytes to an evbuffer without an extra copy. */
static int
stream_add(struct stream *g, struct evbuffer *buf, size_t n)
{
	struct evbuffer_iovec v;

	if (evbuffer_reserve_space(buf, (ev_ssize_t)n, &v, 1) < 1 || v.iov_len < n)
		return -1;
	stream_fill(g, v.iov_base, n);
	v.iov_len = n;
	return evbuffer_commit_space(buf, &v, 1);
}

/*
 * Check the bytes waiting in `in` against the stream, consuming them. *pos counts the bytes
 * checked so far, `limit` is how many are expected in total. Returns 0 when all matched, else -1
 * with `why` filled ("mismatch at offset X" or "more than N bytes").
 */
static int
stream_check(struct stream *g, struct evbuffer *in, uint64_t *pos, uint64_t limit, char *why,
    size_t whylen)
{
	static unsigned char	got[GEN_CHUNK], want[GEN_CHUNK];
	size_t			n, i;

	while ((n = evbuffer_get_length(in)) > 0) {
		if (*pos >= limit) {
			snprintf(why, whylen, "received more than the %" PRIu64 " bytes expected", limit);
			return -1;
		}
		if (n > sizeof got)
			n = sizeof got;
		if (n > limit - *pos)
			n = (size_t)(limit - *pos);
		if (evbuffer_remove(in, got, n) != (int)n) {
			snprintf(why, whylen, "evbuffer_remove failed");
			return -1;
		}
		stream_fill(g, want, n);
		if (memcmp(got, want, n) != 0) {
			for (i = 0; got[i] == want[i]; i++)
				;
			snprintf(why, whylen, "mismatch at offset %" PRIu64 " (got 0x%02x, expected 0x%02x)",
			    *pos + i, got[i], want[i]);
			return -1;
		}
		*pos += n;
	}
	return 0;
}

/* ---------------------------------------------------------------- serve */

enum skind { S_ECHO, S_BLAST, S_SINK };

struct sconn {
	enum skind	 kind;
	struct bufferevent *bev;
	struct stream	 g;		/* blast */
	uint64_t	 left;		/* blast: bytes still to generate */
	uint64_t	 count;		/* sink: bytes read */
	int		 eof;		/* the client half-closed */
	int		 wdone;		/* we shut our write side down */
};

struct slistener {
	enum skind	 kind;
	uint64_t	 bytes;		/* blast size */
	char		*text;		/* --banner: sent instead of the stream */
	size_t		 textlen;
};

static unsigned long	serve_conns;

static void
sconn_free(struct sconn *c)
{
	/* What the remote end received, for tests of what a tunnel delivers. */
	if (c->kind == S_SINK)
		fprintf(stderr, "sink: closed after %" PRIu64 " bytes\n", c->count);
	bufferevent_free(c->bev);
	free(c);
}

/* All our output is in the kernel: send FIN. */
static void
sconn_shut(struct sconn *c)
{
	if (!c->wdone) {
		c->wdone = 1;
		(void)shutdown(bufferevent_getfd(c->bev), SHUT_WR);
	}
}

static void
blast_refill(struct sconn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t		 n;

	while (c->left > 0 && evbuffer_get_length(out) < SRV_HIGH) {
		n = c->left < GEN_CHUNK ? (size_t)c->left : GEN_CHUNK;
		if (stream_add(&c->g, out, n) != 0)
			break;
		c->left -= n;
	}
	if (c->left == 0)	/* from now on, be told when everything is flushed */
		bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
}

static void
sconn_read(struct bufferevent *bev, void *arg)
{
	struct sconn	*c = arg;
	struct evbuffer	*in = bufferevent_get_input(bev), *out = bufferevent_get_output(bev);

	switch (c->kind) {
	case S_ECHO:
		evbuffer_add_buffer(out, in);
		if (evbuffer_get_length(out) >= SRV_HIGH)
			bufferevent_disable(bev, EV_READ);	/* resumed by sconn_write */
		break;
	case S_SINK:
		c->count += evbuffer_get_length(in);
		/* FALLTHROUGH */
	case S_BLAST:
		evbuffer_drain(in, evbuffer_get_length(in));
		break;
	}
}

static void
sconn_write(struct bufferevent *bev, void *arg)
{
	struct sconn	*c = arg;
	size_t		 pending = evbuffer_get_length(bufferevent_get_output(bev));

	switch (c->kind) {
	case S_ECHO:
		if (c->eof) {
			if (pending == 0) {
				sconn_shut(c);
				sconn_free(c);
			}
		} else if (pending < SRV_HIGH) {
			bufferevent_enable(bev, EV_READ);
		}
		break;
	case S_BLAST:
		if (c->left > 0)
			blast_refill(c);
		else if (pending == 0) {
			sconn_shut(c);
			if (c->eof)
				sconn_free(c);
			/* else wait for the client's EOF (closing now could reset unread data) */
		}
		break;
	case S_SINK:
		if (c->eof && pending == 0) {
			sconn_shut(c);
			sconn_free(c);
		}
		break;
	}
}

static void
sconn_event(struct bufferevent *bev, short what, void *arg)
{
	struct sconn	*c = arg;
	size_t		 pending = evbuffer_get_length(bufferevent_get_output(bev));

	if (!(what & BEV_EVENT_EOF) || (what & BEV_EVENT_ERROR) || !(what & BEV_EVENT_READING)) {
		sconn_free(c);		/* reset, write error: nothing more to do */
		return;
	}
	c->eof = 1;
	switch (c->kind) {
	case S_ECHO:
		if (pending == 0) {
			sconn_shut(c);
			sconn_free(c);
		} else {
			bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
		}
		break;
	case S_BLAST:
		if (c->wdone)
			sconn_free(c);
		/* else keep sending: a half-closed client may still read */
		break;
	case S_SINK:
		evbuffer_add_printf(bufferevent_get_output(bev), "%" PRIu64 "\n", c->count);
		bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
		bufferevent_enable(bev, EV_WRITE);
		break;
	}
}

static void
serve_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa, int salen,
    void *arg)
{
	struct slistener	*l = arg;
	struct sconn		*c;

	(void)sa;
	(void)salen;
	serve_conns++;
	if ((c = calloc(1, sizeof *c)) == NULL) {
		evutil_closesocket(fd);
		return;
	}
	c->kind = l->kind;
	if (c->kind == S_SINK)
		fprintf(stderr, "sink: accepted\n");
	c->bev = bufferevent_socket_new(evconnlistener_get_base(lev), fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		evutil_closesocket(fd);
		free(c);
		return;
	}
	bufferevent_set_max_single_read(c->bev, IO_MAX);
	bufferevent_set_max_single_write(c->bev, IO_MAX);
	bufferevent_setcb(c->bev, sconn_read, sconn_write, sconn_event, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, SRV_LOW, 0);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (c->kind == S_BLAST && l->text != NULL) {
		evbuffer_add(bufferevent_get_output(c->bev), l->text, l->textlen);
	} else if (c->kind == S_BLAST) {
		stream_init(&c->g, 1);
		c->left = l->bytes;
		blast_refill(c);
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
			sconn_shut(c);	/* --blast PORT:0 */
	}
}

static void
serve_accept_resume(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	evconnlistener_enable(arg);
}

static void
serve_accept_error(struct evconnlistener *lev, void *arg)
{
	int		err = EVUTIL_SOCKET_ERROR();
	struct timeval	tv = { 0, 100000 };

	(void)arg;
	fprintf(stderr, "tnet serve: accept: %s\n", strerror(err));
	/* out of descriptors: do not spin, pause accepting for 100 ms */
	evconnlistener_disable(lev);
	event_base_once(evconnlistener_get_base(lev), -1, EV_TIMEOUT, serve_accept_resume, lev, &tv);
}

/* A listener on 127.0.0.1:port; dies when the port cannot be bound. */
static struct evconnlistener *
listen_on(struct event_base *base, int port, evconnlistener_cb cb, void *arg)
{
	struct sockaddr_in	 sin;
	struct evconnlistener	*lev;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lev = evconnlistener_new_bind(base, cb, arg,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, 1024,
	    (struct sockaddr *)&sin, sizeof sin);
	if (lev == NULL)
		die("serve: cannot listen on 127.0.0.1:%d: %s", port, strerror(errno));
	return lev;
}

/*
 * --stall: a listener that never accepts, its accept queue filled at once by
 * connections of its own (backlog 1 holds two). The kernel then drops every
 * further SYN, so a connect to it hangs, as to a blackholed address: on
 * loopback, a peer that never answers.
 */
static void
stall_on(int port)
{
	struct sockaddr_in	sin;
	int			fd, c, i, one = 1;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof sin) == -1 || listen(fd, 1) == -1)
		die("serve: cannot listen on 127.0.0.1:%d: %s", port, strerror(errno));
	for (i = 0; i < 2; i++) {	/* kept open (and never accepted) until we exit */
		if ((c = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
		    connect(c, (struct sockaddr *)&sin, sizeof sin) == -1)
			die("serve: --stall %d: cannot fill the queue: %s", port, strerror(errno));
	}
}

/* --- HTTP */

/* A /bytes reply in progress: generated in GEN_CHUNK*4 pieces, each once the previous one is sent. */
struct bytes_job {
	struct evhttp_request	*req;
	struct stream		 g;
	uint64_t		 left;
};

static void
bytes_closed(struct evhttp_connection *evcon, void *arg)
{
	struct bytes_job *job = arg;

	(void)evcon;
	/* The client went away mid-reply. libevent detached the request from the connection
	 * (which it is freeing); ending the reply frees the request. */
	if (evhttp_request_get_connection(job->req) == NULL)
		evhttp_send_reply_end(job->req);
	free(job);
}

static void
bytes_more(struct evhttp_connection *evcon, void *arg)
{
	struct bytes_job	*job = arg;
	struct evbuffer		*b;
	size_t			 n;

	if (job->left == 0) {
		evhttp_connection_set_closecb(evcon, NULL, NULL);
		evhttp_send_reply_end(job->req);
		free(job);
		return;
	}
	if ((b = evbuffer_new()) == NULL)
		die("out of memory");
	n = job->left < 4 * GEN_CHUNK ? (size_t)job->left : 4 * GEN_CHUNK;
	if (stream_add(&job->g, b, n) != 0)
		die("out of memory");
	job->left -= n;
	evhttp_send_reply_chunk_with_cb(job->req, b, bytes_more, job);
	evbuffer_free(b);
}

static void
http_reply(struct evhttp_request *req, int code, const char *type, const char *body)
{
	struct evbuffer *b = evbuffer_new();

	if (b == NULL)
		die("out of memory");
	evbuffer_add(b, body, strlen(body));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
	evhttp_send_reply(req, code, code == 200 ? "OK" : code == 404 ? "Not Found" : "Status", b);
	evbuffer_free(b);
}

static void
http_bytes(struct evhttp_request *req, const char *query)
{
	struct evkeyvalq	 q;
	const char		*v;
	uint64_t		 n = 0, seed = 1;
	char			 len[32];
	struct bytes_job	*job;
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);

	if (query != NULL && evhttp_parse_query_str(query, &q) == 0) {	/* initialises q */
		if ((v = evhttp_find_header(&q, "n")) != NULL)
			n = strtoull(v, NULL, 10);
		if ((v = evhttp_find_header(&q, "seed")) != NULL)
			seed = strtoull(v, NULL, 10);
		evhttp_clear_headers(&q);
	}
	snprintf(len, sizeof len, "%" PRIu64, n);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    "application/octet-stream");
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Length", len);
	if (n == 0 || evhttp_request_get_command(req) == EVHTTP_REQ_HEAD || evcon == NULL) {
		evhttp_send_reply(req, 200, "OK", NULL);
		return;
	}
	if ((job = calloc(1, sizeof *job)) == NULL)
		die("out of memory");
	job->req = req;
	job->left = n;
	stream_init(&job->g, seed);
	evhttp_connection_set_closecb(evcon, bytes_closed, job);
	evhttp_send_reply_start(req, 200, "OK");
	bytes_more(evcon, job);
}

static void
http_handle(struct evhttp_request *req, void *arg)
{
	const char		*name = arg;
	const char		*uri = evhttp_request_get_uri(req);
	struct evhttp_uri	*u;
	const char		*path;
	char			 body[256];
	int			 code;

	if (uri == NULL || (u = evhttp_uri_parse(uri)) == NULL) {
		evhttp_send_error(req, 400, NULL);
		return;
	}
	path = evhttp_uri_get_path(u);
	if (path == NULL || path[0] == '\0' || strcmp(path, "/") == 0) {
		snprintf(body, sizeof body, "service %s\n", name);
		http_reply(req, 200, "text/plain", body);
	} else if (strcmp(path, "/debug.ping") == 0) {
		http_reply(req, 200, "application/json", "{\"meta\":{\"result_code\":200},\"data\":{}}");
	} else if (strcmp(path, "/bytes") == 0) {
		http_bytes(req, evhttp_uri_get_query(u));
	} else if (strncmp(path, "/status/", 8) == 0 && (code = atoi(path + 8)) >= 100 &&
	    code <= 599) {
		snprintf(body, sizeof body, "status %d from service %s\n", code, name);
		http_reply(req, code, "text/plain", body);
	} else {
		snprintf(body, sizeof body, "no such path on service %s\n", name);
		http_reply(req, 404, "text/plain", body);
	}
	evhttp_uri_free(u);
}

static void
serve_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopbreak(arg);
}

/* Decode \e \a \r \n \\ and \xNN in place. Returns the length (the text may hold NULs). */
static size_t
unescape(char *s)
{
	char		*start = s, *out = s;
	unsigned int	 v;

	while (*s != '\0') {
		if (*s != '\\' || s[1] == '\0') {
			*out++ = *s++;
			continue;
		}
		s++;
		switch (*s) {
		case 'e': *out++ = '\033'; s++; break;
		case 'a': *out++ = '\007'; s++; break;
		case 'r': *out++ = '\r'; s++; break;
		case 'n': *out++ = '\n'; s++; break;
		case 'x':
			if (sscanf(s + 1, "%2x", &v) == 1) {
				*out++ = (char)v;
				s += 3;
				break;
			}
			/* FALLTHROUGH */
		default: *out++ = *s++; break;
		}
	}
	return (size_t)(out - start);
}

static int
cmd_serve(int argc, char **argv)
{
	struct event_base	*base = new_base();
	struct slistener	 ls[MAX_LISTEN];
	struct event		*ev_term, *ev_int;
	const char		*pidfile = NULL;
	char			*colon, *spec;
	int			 i, nl = 0, nh = 0, port;
	FILE			*f;

	for (i = 0; i < argc; i += 2) {
		if (i + 1 >= argc)
			usage();
		if (nl >= MAX_LISTEN || nh >= MAX_LISTEN)
			die("serve: too many listeners");
		if ((spec = strdup(argv[i + 1])) == NULL)	/* argv stays intact for ps */
			die("out of memory");
		if (strcmp(argv[i], "--http") == 0) {
			struct evhttp *h;

			if ((colon = strchr(spec, ':')) == NULL || colon[1] == '\0')
				die("serve: --http expects PORT:NAME, got '%s'", spec);
			*colon = '\0';
			port = parse_port("--http", spec);
			if ((h = evhttp_new(base)) == NULL)
				die("evhttp_new failed");
			evhttp_set_allowed_methods(h, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST);
			evhttp_set_gencb(h, http_handle, colon + 1);
			if (evhttp_bind_listener(h, listen_on(base, port, NULL, NULL)) == NULL)
				die("serve: evhttp_bind_listener failed");
			nh++;
		} else if (strcmp(argv[i], "--echo") == 0 || strcmp(argv[i], "--sink") == 0) {
			ls[nl].kind = argv[i][2] == 'e' ? S_ECHO : S_SINK;
			ls[nl].bytes = 0;
			port = parse_port(argv[i], spec);
			evconnlistener_set_error_cb(listen_on(base, port, serve_accept, &ls[nl]),
			    serve_accept_error);
			nl++;
		} else if (strcmp(argv[i], "--blast") == 0) {
			if ((colon = strchr(spec, ':')) == NULL)
				die("serve: --blast expects PORT:BYTES, got '%s'", spec);
			*colon = '\0';
			ls[nl].kind = S_BLAST;
			ls[nl].bytes = parse_size("--blast", colon + 1);
			port = parse_port("--blast", spec);
			evconnlistener_set_error_cb(listen_on(base, port, serve_accept, &ls[nl]),
			    serve_accept_error);
			nl++;
		} else if (strcmp(argv[i], "--banner") == 0) {
			if ((colon = strchr(spec, ':')) == NULL)
				die("serve: --banner expects PORT:TEXT, got '%s'", spec);
			*colon = '\0';
			ls[nl].kind = S_BLAST;	/* sends, then closes once the client has it */
			ls[nl].bytes = 0;
			ls[nl].text = colon + 1;
			ls[nl].textlen = unescape(colon + 1);
			port = parse_port("--banner", spec);
			evconnlistener_set_error_cb(listen_on(base, port, serve_accept, &ls[nl]),
			    serve_accept_error);
			nl++;
		} else if (strcmp(argv[i], "--stall") == 0) {
			stall_on(parse_port("--stall", spec));
			nh++;
		} else if (strcmp(argv[i], "--pidfile") == 0) {
			pidfile = spec;
		} else {
			usage();
		}
	}
	if (nl + nh == 0)
		usage();
	ev_term = evsignal_new(base, SIGTERM, serve_signal, base);
	ev_int = evsignal_new(base, SIGINT, serve_signal, base);
	if (ev_term == NULL || ev_int == NULL || evsignal_add(ev_term, NULL) != 0 ||
	    evsignal_add(ev_int, NULL) != 0)
		die("serve: cannot catch signals");
	if (pidfile != NULL) {
		char tmp[4096];

		/* written whole then renamed: a reader never sees an empty file */
		snprintf(tmp, sizeof tmp, "%s.tmp", pidfile);
		if ((f = fopen(tmp, "w")) == NULL)
			die("serve: %s: %s", tmp, strerror(errno));
		fprintf(f, "%ld\n", (long)getpid());
		if (fclose(f) != 0 || rename(tmp, pidfile) != 0)
			die("serve: %s: %s", pidfile, strerror(errno));
	}
	event_base_dispatch(base);
	if (pidfile != NULL)
		(void)unlink(pidfile);
	fprintf(stderr, "tnet serve: stopped after %lu connections\n", serve_conns);
	return 0;
}

/* ---------------------------------------------------------------- clients: common options */

struct copts {
	const char	*host, *port;
	uint64_t	 bytes;
	int		 have_bytes;
	uint64_t	 conns;
	uint64_t	 seed;
	uint64_t	 chunk;
	uint64_t	 pause_after;
	uint64_t	 pause_ms;
	int		 have_pause;
	double		 timeout;
	double		 secs;
	int		 have_secs;
	double		 wait;
};

static void
parse_copts(struct copts *o, int argc, char **argv, int npos)
{
	int i;

	memset(o, 0, sizeof *o);
	o->conns = 1;
	o->seed = 1;
	o->chunk = 64 * 1024;
	o->timeout = 120;
	if (argc < npos)
		usage();
	if (npos == 2) {
		o->host = argv[0];
		o->port = argv[1];
	}
	for (i = npos; i < argc; i += 2) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (v == NULL)
			usage();
		if (strcmp(k, "--bytes") == 0) {
			o->bytes = parse_size(k, v);
			o->have_bytes = 1;
		} else if (strcmp(k, "--conns") == 0) {
			o->conns = parse_size(k, v);
		} else if (strcmp(k, "--seed") == 0) {
			o->seed = parse_size(k, v);
		} else if (strcmp(k, "--chunk") == 0) {
			o->chunk = parse_size(k, v);
		} else if (strcmp(k, "--pause-after") == 0) {
			o->pause_after = parse_size(k, v);
			o->have_pause |= 1;
		} else if (strcmp(k, "--pause-ms") == 0) {
			o->pause_ms = parse_size(k, v);
			o->have_pause |= 2;
		} else if (strcmp(k, "--timeout") == 0) {
			o->timeout = (double)parse_size(k, v);
		} else if (strcmp(k, "--secs") == 0) {
			o->secs = (double)parse_size(k, v);
			o->have_secs = 1;
		} else if (strcmp(k, "--wait") == 0) {
			o->wait = (double)parse_size(k, v);
		} else {
			usage();
		}
	}
	if (o->conns < 1 || o->conns > 100000)
		die("--conns: expected 1..100000");
	if (o->chunk < 1 || o->chunk > 16 * 1024 * 1024)
		die("--chunk: expected 1..16m");
}

static struct bufferevent *
client_connect(struct event_base *base, const struct sockaddr_storage *ss, socklen_t len,
    bufferevent_data_cb rd, bufferevent_data_cb wr, bufferevent_event_cb ev, void *arg,
    int *err)
{
	struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);

	*err = 0;
	if (bev == NULL)
		die("bufferevent_socket_new failed");
	bufferevent_setcb(bev, rd, wr, ev, arg);
	bufferevent_set_max_single_read(bev, IO_MAX);
	if (bufferevent_socket_connect(bev, (const struct sockaddr *)ss, (int)len) != 0) {
		*err = errno != 0 ? errno : ECONNREFUSED;
		bufferevent_free(bev);
		return NULL;
	}
	return bev;
}

static void
loop_deadline(evutil_socket_t fd, short what, void *arg)
{
	int *timed_out = arg;

	(void)fd;
	(void)what;
	*timed_out = 1;
}

/* ---------------------------------------------------------------- echo */

struct econn {
	struct echo_run		*run;
	unsigned		 idx;
	struct bufferevent	*bev;
	struct stream		 tx, rx;
	uint64_t		 sent, rcvd;
	int			 connected, wdone, done, failed;
	char			 why[200];
};

struct echo_run {
	struct event_base	*base;
	struct econn		*c;
	uint64_t		 n, chunk, seed;
	unsigned		 nconns, nsettled, nfinished, nfailed;
	int			 started, timed_out;
};

static void
econn_finish(struct econn *c, int ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
econn_finish(struct econn *c, int ok, const char *fmt, ...)
{
	va_list ap;

	if (c->done)
		return;
	c->done = 1;
	if (!ok) {
		c->failed = 1;
		c->run->nfailed++;
		va_start(ap, fmt);
		vsnprintf(c->why, sizeof c->why, fmt, ap);
		va_end(ap);
	}
	if (c->bev != NULL) {
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	if (++c->run->nfinished == c->run->nconns)
		event_base_loopbreak(c->run->base);
}

/* Queue the next write (at most one chunk in the output buffer), or half-close when all is sent. */
static void
econn_send(struct econn *c)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);
	size_t		 n;

	if (c->wdone || evbuffer_get_length(out) > 0)
		return;
	if (c->sent == c->run->n) {
		c->wdone = 1;
		if (shutdown(bufferevent_getfd(c->bev), SHUT_WR) != 0)
			econn_finish(c, 0, "shutdown(SHUT_WR): %s", strerror(errno));
		return;
	}
	n = c->run->n - c->sent < c->run->chunk ? (size_t)(c->run->n - c->sent) : (size_t)c->run->chunk;
	if (stream_add(&c->tx, out, n) != 0)
		die("out of memory");
	c->sent += n;
}

static void
echo_start_all(struct echo_run *r)
{
	unsigned i;

	r->started = 1;
	for (i = 0; i < r->nconns; i++)
		if (!r->c[i].done && r->c[i].connected)
			econn_send(&r->c[i]);
}

static void
echo_settled(struct echo_run *r)
{
	if (++r->nsettled == r->nconns && !r->started)
		echo_start_all(r);
}

static void
econn_read(struct bufferevent *bev, void *arg)
{
	struct econn	*c = arg;
	char		 why[160];

	if (stream_check(&c->rx, bufferevent_get_input(bev), &c->rcvd, c->run->n, why, sizeof why) != 0)
		econn_finish(c, 0, "%s", why);
}

static void
econn_write(struct bufferevent *bev, void *arg)
{
	(void)bev;
	econn_send(arg);
}

static void
econn_event(struct bufferevent *bev, short what, void *arg)
{
	struct econn	*c = arg;
	int		 err;

	if (what & BEV_EVENT_CONNECTED) {
		c->connected = 1;
		bufferevent_enable(bev, EV_READ | EV_WRITE);
		if (c->run->started)
			econn_send(c);
		else
			echo_settled(c->run);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		err = sock_error(bufferevent_getfd(bev));
		if (!c->connected) {
			econn_finish(c, 0, "connect: %s", err_words(err));
			if (!c->run->started)
				echo_settled(c->run);
		} else {
			econn_finish(c, 0, "%s while %s: sent %" PRIu64 "/%" PRIu64 ", received %" PRIu64
			    " bytes back", err_words(err), what & BEV_EVENT_READING ? "reading" : "writing",
			    c->sent, c->run->n, c->rcvd);
		}
		return;
	}
	if (what & BEV_EVENT_EOF) {
		/* consume what was read before EOF (the read callback has normally done it) */
		econn_read(bev, c);
		if (c->done)
			return;
		if (c->rcvd == c->run->n && c->wdone)
			econn_finish(c, 1, NULL);
		else if (!c->wdone)
			econn_finish(c, 0, "peer closed early: EOF after %" PRIu64 " bytes echoed, while "
			    "sending (%" PRIu64 "/%" PRIu64 " sent)", c->rcvd, c->sent, c->run->n);
		else
			econn_finish(c, 0, "short read: EOF after %" PRIu64 " of %" PRIu64 " bytes",
			    c->rcvd, c->run->n);
	}
}

static int
cmd_echo(int argc, char **argv)
{
	struct copts		 o;
	struct echo_run		 r;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	struct event		*deadline;
	struct timeval		 tv;
	unsigned		 i, shown = 0;
	double			 t0, dt;
	int			 err;

	parse_copts(&o, argc, argv, 2);
	if (!o.have_bytes)
		die("echo: --bytes N is required");
	sslen = resolve(o.host, o.port, &ss);
	memset(&r, 0, sizeof r);
	r.base = new_base();
	r.n = o.bytes;
	r.chunk = o.chunk;
	r.seed = o.seed;
	r.nconns = (unsigned)o.conns;
	if ((r.c = calloc(r.nconns, sizeof *r.c)) == NULL)
		die("out of memory");
	t0 = now_s();
	tv.tv_sec = (time_t)o.timeout;
	tv.tv_usec = 0;
	deadline = evtimer_new(r.base, loop_deadline, &r.timed_out);
	evtimer_add(deadline, &tv);
	for (i = 0; i < r.nconns; i++) {
		struct econn *c = &r.c[i];

		c->run = &r;
		c->idx = i;
		stream_init(&c->tx, o.seed + i);
		stream_init(&c->rx, o.seed + i);
		c->bev = client_connect(r.base, &ss, sslen, econn_read, econn_write, econn_event, c, &err);
		if (c->bev == NULL) {
			econn_finish(c, 0, "connect: %s", err_words(err));
			echo_settled(&r);
		} else {
			bufferevent_set_max_single_write(c->bev, (size_t)o.chunk);
		}
	}
	/* All connections are opened before any sends: they are all open at once. */
	while (r.nfinished < r.nconns && !r.timed_out)
		if (event_base_loop(r.base, EVLOOP_ONCE) != 0)
			break;
	dt = now_s() - t0;
	if (r.timed_out) {
		for (i = 0; i < r.nconns; i++) {
			struct econn *c = &r.c[i];

			if (!c->done)
				econn_finish(c, 0, "timeout after %.0f s: %s, sent %" PRIu64 "/%" PRIu64
				    ", received %" PRIu64 " back", o.timeout,
				    c->connected ? "connected" : "still connecting", c->sent, r.n, c->rcvd);
		}
	}
	if (r.nfailed == 0) {
		printf("ok %u/%u conns, %" PRIu64 " bytes each way, %.2f s\n", r.nconns, r.nconns,
		    r.n * r.nconns, dt);
		return 0;
	}
	for (i = 0; i < r.nconns; i++) {
		if (!r.c[i].failed)
			continue;
		if (shown++ < MAX_FAIL_LINES)
			printf("conn %u (seed %" PRIu64 "): %s\n", i, o.seed + i, r.c[i].why);
	}
	if (shown > MAX_FAIL_LINES)
		printf("... and %u more failed conns\n", shown - MAX_FAIL_LINES);
	printf("failed %u/%u conns (%u ok), %" PRIu64 " bytes each per conn, %.2f s\n", r.nfailed,
	    r.nconns, r.nconns - r.nfailed, r.n, dt);
	return 1;
}

/* ---------------------------------------------------------------- read */

struct read_run {
	struct event_base	*base;
	struct bufferevent	*bev;
	struct event		*resume;
	struct stream		 g;
	uint64_t		 n, rcvd, pause_after, pause_ms;
	int			 have_pause, paused, connected, done, ok, timed_out;
	char			 why[200];
};

static void
read_finish(struct read_run *r, int ok, const char *why)
{
	if (r->done)
		return;
	r->done = 1;
	r->ok = ok;
	if (why != NULL)
		snprintf(r->why, sizeof r->why, "%s", why);
	event_base_loopbreak(r->base);
}

static void
read_resume(evutil_socket_t fd, short what, void *arg)
{
	struct read_run *r = arg;

	(void)fd;
	(void)what;
	bufferevent_enable(r->bev, EV_READ);
}

static void
read_data(struct bufferevent *bev, void *arg)
{
	struct read_run	*r = arg;
	char		 why[160];

	if (stream_check(&r->g, bufferevent_get_input(bev), &r->rcvd, r->n, why, sizeof why) != 0) {
		read_finish(r, 0, why);
		return;
	}
	if (r->have_pause && !r->paused && r->rcvd >= r->pause_after) {
		struct timeval tv;

		r->paused = 1;
		bufferevent_disable(bev, EV_READ);	/* the kernel buffers fill: TCP backpressure */
		tv.tv_sec = (time_t)(r->pause_ms / 1000);
		tv.tv_usec = (suseconds_t)((r->pause_ms % 1000) * 1000);
		evtimer_add(r->resume, &tv);
	}
}

static void
read_event(struct bufferevent *bev, short what, void *arg)
{
	struct read_run	*r = arg;
	char		 why[200];

	if (what & BEV_EVENT_CONNECTED) {
		r->connected = 1;
		bufferevent_enable(bev, EV_READ);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		snprintf(why, sizeof why, "%s%s after %" PRIu64 " of %" PRIu64 " bytes",
		    r->connected ? "" : "connect: ", err_words(sock_error(bufferevent_getfd(bev))),
		    r->rcvd, r->n);
		read_finish(r, 0, why);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		read_data(bev, r);
		if (r->done)
			return;
		if (r->rcvd == r->n) {
			read_finish(r, 1, NULL);
		} else {
			snprintf(why, sizeof why, "short read: EOF after %" PRIu64 " of %" PRIu64 " bytes",
			    r->rcvd, r->n);
			read_finish(r, 0, why);
		}
	}
}

static int
cmd_read(int argc, char **argv)
{
	struct copts		 o;
	struct read_run		 r;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	struct event		*deadline;
	struct timeval		 tv;
	double			 t0, dt;
	int			 err;

	parse_copts(&o, argc, argv, 2);
	if (!o.have_bytes)
		die("read: --bytes N is required");
	if (o.have_pause != 0 && o.have_pause != 3)
		die("read: --pause-after and --pause-ms go together");
	sslen = resolve(o.host, o.port, &ss);
	memset(&r, 0, sizeof r);
	r.base = new_base();
	r.n = o.bytes;
	r.have_pause = o.have_pause != 0;
	r.pause_after = o.pause_after;
	r.pause_ms = o.pause_ms;
	stream_init(&r.g, o.seed);
	r.resume = evtimer_new(r.base, read_resume, &r);
	tv.tv_sec = (time_t)o.timeout;
	tv.tv_usec = 0;
	deadline = evtimer_new(r.base, loop_deadline, &r.timed_out);
	evtimer_add(deadline, &tv);
	t0 = now_s();
	r.bev = client_connect(r.base, &ss, sslen, read_data, NULL, read_event, &r, &err);
	if (r.bev == NULL) {
		printf("read: connect: %s\n", err_words(err));
		return 1;
	}
	while (!r.done && !r.timed_out)
		if (event_base_loop(r.base, EVLOOP_ONCE) != 0)
			break;
	dt = now_s() - t0;
	if (!r.done)
		snprintf(r.why, sizeof r.why, "timeout after %.0f s: %s, %" PRIu64 " of %" PRIu64
		    " bytes read", o.timeout, r.connected ? "connected" : "still connecting", r.rcvd, r.n);
	if (r.done && r.ok) {
		printf("ok %" PRIu64 " bytes, %.2f s\n", r.n, dt);
		return 0;
	}
	printf("read: %s\n", r.why);
	return 1;
}

/* ---------------------------------------------------------------- hold */

struct hold_run {
	struct event_base	*base;
	unsigned		 n, connected, failed;
	int			 closed;
	char			 why[200];
};

static void
hold_event(struct bufferevent *bev, short what, void *arg)
{
	struct hold_run *h = arg;

	if (what & BEV_EVENT_CONNECTED) {
		bufferevent_enable(bev, EV_READ);
		if (++h->connected == h->n) {
			printf("connected\n");
			fflush(stdout);
		}
		return;
	}
	if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF)) {
		if (h->why[0] == '\0')
			snprintf(h->why, sizeof h->why, "%s",
			    what & BEV_EVENT_EOF ? "closed by peer" :
			    err_words(sock_error(bufferevent_getfd(bev))));
		h->failed++;
		event_base_loopbreak(h->base);
	}
}

static void
hold_read(struct bufferevent *bev, void *arg)
{
	(void)arg;
	evbuffer_drain(bufferevent_get_input(bev), evbuffer_get_length(bufferevent_get_input(bev)));
}

static int
cmd_hold(int argc, char **argv)
{
	struct copts		 o;
	struct hold_run		 h;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	struct event		*deadline;
	struct timeval		 tv;
	int			 err, done = 0;
	unsigned		 i;

	parse_copts(&o, argc, argv, 2);
	if (!o.have_secs)
		die("hold: --secs S is required");
	sslen = resolve(o.host, o.port, &ss);
	memset(&h, 0, sizeof h);
	h.base = new_base();
	h.n = (unsigned)o.conns;
	for (i = 0; i < h.n; i++) {
		if (client_connect(h.base, &ss, sslen, hold_read, NULL, hold_event, &h, &err) == NULL) {
			printf("hold: connect: %s\n", err_words(err));
			return 1;
		}
	}
	tv.tv_sec = (time_t)o.secs;
	tv.tv_usec = 0;
	deadline = evtimer_new(h.base, loop_deadline, &done);
	evtimer_add(deadline, &tv);
	while (!done && h.failed == 0)
		if (event_base_loop(h.base, EVLOOP_ONCE) != 0)
			break;
	if (h.failed > 0) {
		printf("hold: %s (%u of %u connected)\n", h.why, h.connected, h.n);
		return 1;
	}
	if (h.connected < h.n) {
		printf("hold: only %u of %u connected after %.0f s\n", h.connected, h.n, o.secs);
		return 1;
	}
	return 0;	/* exiting closes every connection */
}

/* ---------------------------------------------------------------- send */

struct send_run {
	struct event_base	*base;
	struct stream		 g;
	uint64_t		 n, sent;
	int			 connected, wdone, done, ok, timed_out;
	char			 why[200];
};

static void
send_finish(struct send_run *s, int ok, const char *why)
{
	if (s->done)
		return;
	s->done = 1;
	s->ok = ok;
	if (why != NULL)
		snprintf(s->why, sizeof s->why, "%s", why);
}

static void
send_more(struct bufferevent *bev, void *arg)
{
	struct send_run	*s = arg;
	struct evbuffer	*out = bufferevent_get_output(bev);
	size_t		 n;

	if (s->wdone || evbuffer_get_length(out) > 0)
		return;
	if (s->sent == s->n) {
		s->wdone = 1;
		(void)shutdown(bufferevent_getfd(bev), SHUT_WR);
		return;
	}
	n = s->n - s->sent < GEN_CHUNK ? (size_t)(s->n - s->sent) : GEN_CHUNK;
	if (stream_add(&s->g, out, n) != 0)
		die("out of memory");
	s->sent += n;
}

static void
send_reply(struct bufferevent *bev, void *arg)
{
	struct evbuffer *in = bufferevent_get_input(bev);

	(void)arg;
	if (evbuffer_write(in, STDOUT_FILENO) < 0 && errno != EAGAIN)
		die("send: stdout: %s", strerror(errno));
}

static void
send_event(struct bufferevent *bev, short what, void *arg)
{
	struct send_run	*s = arg;
	char		 why[200];

	if (what & BEV_EVENT_CONNECTED) {
		s->connected = 1;
		bufferevent_enable(bev, EV_READ | EV_WRITE);
		send_more(bev, s);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		snprintf(why, sizeof why, "%s%s after sending %" PRIu64 " of %" PRIu64 " bytes",
		    s->connected ? "" : "connect: ", err_words(sock_error(bufferevent_getfd(bev))),
		    s->sent, s->n);
		send_finish(s, 0, why);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		while (evbuffer_get_length(bufferevent_get_input(bev)) > 0)
			send_reply(bev, s);
		if (s->wdone) {
			send_finish(s, 1, NULL);
		} else {
			snprintf(why, sizeof why, "peer closed early: EOF after sending %" PRIu64 " of %"
			    PRIu64 " bytes", s->sent, s->n);
			send_finish(s, 0, why);
		}
	}
}

static int
cmd_send(int argc, char **argv)
{
	struct copts		 o;
	struct send_run		 s;
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	struct bufferevent	*bev;
	struct event		*deadline;
	struct timeval		 tv;
	int			 err;

	parse_copts(&o, argc, argv, 2);
	if (!o.have_bytes)
		die("send: --bytes N is required");
	sslen = resolve(o.host, o.port, &ss);
	memset(&s, 0, sizeof s);
	s.base = new_base();
	s.n = o.bytes;
	stream_init(&s.g, o.seed);
	tv.tv_sec = (time_t)o.timeout;
	tv.tv_usec = 0;
	deadline = evtimer_new(s.base, loop_deadline, &s.timed_out);
	evtimer_add(deadline, &tv);
	bev = client_connect(s.base, &ss, sslen, send_reply, send_more, send_event, &s, &err);
	if (bev == NULL) {
		fprintf(stderr, "send: connect: %s\n", err_words(err));
		return 1;
	}
	while (!s.done && !s.timed_out)
		if (event_base_loop(s.base, EVLOOP_ONCE) != 0)
			break;
	if (!s.done)
		snprintf(s.why, sizeof s.why, "timeout after %.0f s: sent %" PRIu64 " of %" PRIu64
		    " bytes%s", o.timeout, s.sent, s.n, s.wdone ? ", no EOF back" : "");
	if (s.done && s.ok)
		return 0;
	fprintf(stderr, "send: %s\n", s.why);
	return 1;
}

/*
 * abort: a client that gives up, plain blocking calls. It sends its bytes, waits and closes
 * without reading anything: what a timed-out HTTP client does. --reset 1 closes with SO_LINGER
 * 0, a reset instead of a FIN.
 */
static int
cmd_abort(int argc, char **argv)
{
	struct copts		 o;
	struct sockaddr_storage	 ss;
	struct stream		 g;
	struct evbuffer		*buf;
	struct linger		 lg = { 1, 0 };
	socklen_t		 sslen;
	uint64_t		 left;
	int			 fd, reset = 0, i, n = argc;

	for (i = 2; i + 1 < argc; i += 2)	/* --reset is ours; the rest are the common options */
		if (strcmp(argv[i], "--reset") == 0) {
			reset = atoi(argv[i + 1]);
			n = i;
			break;
		}
	parse_copts(&o, n, argv, 2);
	sslen = resolve(o.host, o.port, &ss);
	if ((fd = socket(ss.ss_family, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&ss, sslen) == -1) {
		fprintf(stderr, "abort: connect: %s\n", strerror(errno));
		return 1;
	}
	stream_init(&g, o.seed);
	if ((buf = evbuffer_new()) == NULL)
		die("out of memory");
	for (left = o.bytes; left > 0;) {
		size_t	k = left < GEN_CHUNK ? (size_t)left : GEN_CHUNK;

		if (stream_add(&g, buf, k) != 0)
			die("out of memory");
		while (evbuffer_get_length(buf) > 0)
			if (evbuffer_write(buf, fd) < 0) {
				fprintf(stderr, "abort: send: %s\n", strerror(errno));
				return 1;
			}
		left -= k;
	}
	evbuffer_free(buf);
	if (o.pause_ms > 0)
		usleep((useconds_t)(o.pause_ms * 1000));
	if (reset && setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) != 0)
		die("SO_LINGER: %s", strerror(errno));
	close(fd);
	return 0;
}

/* ---------------------------------------------------------------- probe, freeport, gen */

/* One non-blocking connect with a 1 s limit. Returns 0 or an errno. */
static int
probe_once(const struct sockaddr_storage *ss, socklen_t len)
{
	int		fd, err = 0;
	socklen_t	elen = sizeof err;
	struct pollfd	pfd;

	if ((fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return errno;
	if (connect(fd, (const struct sockaddr *)ss, len) != 0) {
		if (errno != EINPROGRESS) {
			err = errno;
		} else {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, 1000) != 1)
				err = ETIMEDOUT;
			else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0)
				err = errno;
		}
	}
	close(fd);
	return err;
}

static int
cmd_probe(int argc, char **argv)
{
	struct copts		o;
	struct sockaddr_storage	ss;
	socklen_t		sslen;
	double			end;
	int			err;
	struct timespec		ts = { 0, 50 * 1000 * 1000 };

	parse_copts(&o, argc, argv, 2);
	sslen = resolve(o.host, o.port, &ss);
	end = now_s() + o.wait;
	for (;;) {
		if ((err = probe_once(&ss, sslen)) == 0)
			return 0;
		if (now_s() >= end)
			break;
		nanosleep(&ts, NULL);
	}
	if (o.wait > 0)
		fprintf(stderr, "tnet probe: %s:%s: %s (waited %.0f s)\n", o.host, o.port,
		    err_words(err), o.wait);
	return 1;
}

/*
 * Free ports. Each candidate is bound (without SO_REUSEADDR, so a port with connections in
 * TIME_WAIT is skipped too) and kept bound until all are chosen, so they are distinct. Candidates
 * are drawn at random below the kernel's ephemeral range, so that outgoing connections made
 * meanwhile by the tests cannot take a port before its server binds it; port 0 is the fallback.
 */
static int
cmd_freeport(int argc, char **argv)
{
	unsigned long	n = 1, i, tries;
	int		*fds, lo = 32768, hi = 60999, port;
	FILE		*f;
	struct sockaddr_in sin;
	socklen_t	len;

	if (argc > 1)
		usage();
	if (argc == 1)
		n = (unsigned long)parse_size("freeport", argv[0]);
	if (n < 1 || n > 1000)
		die("freeport: N must be 1..1000");
	if ((f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) != NULL) {
		if (fscanf(f, "%d %d", &lo, &hi) != 2)
			lo = 32768;
		fclose(f);
	}
	if ((fds = calloc(n, sizeof *fds)) == NULL)
		die("out of memory");
	srandom((unsigned)(getpid() ^ (unsigned)time(NULL) ^ (unsigned)(now_s() * 1e6)));
	for (i = 0; i < n; i++) {
		for (tries = 0; ; tries++) {
			memset(&sin, 0, sizeof sin);
			sin.sin_family = AF_INET;
			sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			if (lo - 10000 > 1024 && tries < 200)
				port = 10000 + (int)(random() % (lo - 10000));
			else
				port = 0;
			sin.sin_port = htons((uint16_t)port);
			if ((fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
				die("socket: %s", strerror(errno));
			if (bind(fds[i], (struct sockaddr *)&sin, sizeof sin) == 0)
				break;
			close(fds[i]);
			if (port == 0)
				die("freeport: bind 127.0.0.1:0: %s", strerror(errno));
		}
		len = sizeof sin;
		if (getsockname(fds[i], (struct sockaddr *)&sin, &len) != 0)
			die("getsockname: %s", strerror(errno));
		printf("%d\n", ntohs(sin.sin_port));
	}
	for (i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
	return 0;
}

static int
unix_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof *sun);
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun->sun_path) {
		fprintf(stderr, "tnet: %s: path too long\n", path);
		return -1;
	}
	memcpy(sun->sun_path, path, strlen(path) + 1);
	return 0;
}

static int
cmd_unix(int argc, char **argv)
{
	struct sockaddr_un	sun;
	char			buf[4096];
	ssize_t			n;
	int			fd;

	if (argc != 2)
		usage();
	if (unix_addr(argv[0], &sun) != 0 || (fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return 1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		fprintf(stderr, "tnet: connect %s: %s\n", argv[0], strerror(errno));
		return 1;
	}
	if (write(fd, argv[1], strlen(argv[1])) == -1 || write(fd, "\n", 1) == -1) {
		fprintf(stderr, "tnet: write: %s\n", strerror(errno));
		return 1;
	}
	while ((n = read(fd, buf, sizeof buf)) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	close(fd);
	return 0;
}

static int
cmd_dgram(int argc, char **argv)
{
	struct sockaddr_un	sun;
	struct pollfd		pfd;
	char			buf[4096];
	ssize_t			n;
	time_t			end;
	int			fd;

	if (argc != 3 || strcmp(argv[1], "--secs") != 0)
		usage();
	end = time(NULL) + atoi(argv[2]);
	if (unix_addr(argv[0], &sun) != 0 || (fd = socket(AF_UNIX, SOCK_DGRAM, 0)) == -1)
		return 1;
	unlink(argv[0]);
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		fprintf(stderr, "tnet: bind %s: %s\n", argv[0], strerror(errno));
		return 1;
	}
	while (time(NULL) < end) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		if ((n = recv(fd, buf, sizeof buf, 0)) > 0)
			printf("%.*s\n--\n", (int)n, buf);
	}
	close(fd);
	unlink(argv[0]);
	return 0;
}

static int
cmd_gen(int argc, char **argv)
{
	struct copts	o;
	struct stream	g;
	static unsigned char buf[GEN_CHUNK];
	size_t		n, off;
	ssize_t		w;

	parse_copts(&o, argc, argv, 0);
	if (!o.have_bytes)
		die("gen: --bytes N is required");
	stream_init(&g, o.seed);
	while (o.bytes > 0) {
		n = o.bytes < sizeof buf ? (size_t)o.bytes : sizeof buf;
		stream_fill(&g, buf, n);
		for (off = 0; off < n; off += (size_t)w) {
			if ((w = write(STDOUT_FILENO, buf + off, n - off)) < 0) {
				if (errno == EINTR) {
					w = 0;
					continue;
				}
				die("gen: write: %s", strerror(errno));
			}
		}
		o.bytes -= n;
	}
	return 0;
}

/* ---------------------------------------------------------------- main */

int
main(int argc, char **argv)
{
	static const struct {
		const char	*name;
		int		(*fn)(int, char **);
	} cmds[] = {
		{ "serve", cmd_serve },
		{ "echo", cmd_echo },
		{ "read", cmd_read },
		{ "hold", cmd_hold },
		{ "send", cmd_send },
		{ "abort", cmd_abort },
		{ "probe", cmd_probe },
		{ "freeport", cmd_freeport },
		{ "gen", cmd_gen },
		{ "unix", cmd_unix },
		{ "dgram", cmd_dgram },
	};
	size_t i;

	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 2, argv + 2);
	usage();
}
